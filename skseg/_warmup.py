"""Compile every kernel ahead of time (``skseg warmup``).

skseg's loops are compiled by numba on first use and cached on disk
(``cache=True``): a fresh process with a filled cache loads machine code
instead of compiling it. :func:`warmup` fills the cache by running every
estimator, on synthetic images (small ones of every kind, and a photo-sized
one for the colour segmenter), with the input types and options whose
kernels differ (numba compiles one variant per argument type), so that a
container image or a cluster worker built after ``skseg warmup`` starts warm.
"""

from __future__ import annotations

import os
import time
import warnings

import numpy as np

__all__ = ["cache_location", "warmup"]

# Modules whose kernels are compiled (and counted).
_KERNEL_MODULES = (
    "_canny",
    "_colorconv",
    "_engine.assign",
    "_engine.coresets",
    "_engine.distances",
    "_engine.floatpath",
    "_engine.hamerly",
    "_engine.lloyd",
    "_engine.strategy",
    "_engine.tables",
    "_regions",
    "_scores",
    "_slic",
)


def _dispatchers():
    import importlib

    from numba.core.registry import CPUDispatcher

    found = []
    for name in _KERNEL_MODULES:
        module = importlib.import_module(f"skseg.{name}")
        for value in vars(module).values():
            if isinstance(value, CPUDispatcher):
                found.append(value)
    return found


def cache_location():
    """The folder where numba caches skseg's kernels.

    Returns
    -------
    path : str or None
        The folder numba reads and writes the machine code of skseg's
        kernels in (``NUMBA_CACHE_DIR`` if it is set, else the package's
        ``__pycache__`` if it is writable, else a per-user folder such as
        ``~/.cache/numba``), or None if numba found no writable place (the
        kernels are then compiled in every new process).
    """
    for dispatcher in _dispatchers():
        cache = getattr(dispatcher, "_cache", None)
        path = getattr(cache, "_cache_path", None)
        if path:
            return str(path)
    return None


def _images(rng):
    """Small synthetic batches: every input type the estimators read.

    The colour batch has about 60 k distinct colours, so the palette engine
    takes its coreset path as it does on a photo.
    """
    rgb8 = rng.randint(0, 256, size=(2, 160, 160, 3)).astype(np.uint8)
    gray8 = rgb8[..., 1].copy()
    return {
        "uint8 RGB": rgb8,
        "uint8 gray": gray8,
        "uint16 RGB": rgb8.astype(np.uint16) * 257,
        "uint16 gray": gray8.astype(np.uint16) * 257,
        "float32 RGB": (rgb8 / 255).astype(np.float32),
        "float32 gray": (gray8 / 255).astype(np.float32),
        "float64 RGB": rgb8 / 255.0,
        "float64 gray": gray8 / 255.0,
        "bool gray": gray8 > 127,
    }


def _runs(images):
    """(short name, estimator name, input kind, callable) of every warm-up call."""
    from skseg._colorconv import SPACES
    from skseg.color import ColorSpaceTransformer
    from skseg.edges import CannyEdgeExtractor
    from skseg.model_selection import ElbowKSelector
    from skseg.segmentation import KMeansColorSegmenter
    from skseg.superpixels import SuperpixelSegmenter

    runs = []
    for kind, X in images.items():

        def segment(X=X):
            km = KMeansColorSegmenter(3, n_init=2, random_state=0).fit(X)
            for output in ("labels", "quantized", "distances", "histogram"):
                km.set_params(output=output).transform(X)
            KMeansColorSegmenter(3, n_init=1, per_image=True).fit_transform(X)
            # partial_fit's table merges and running cluster sums (also what
            # the dask adapter and the skseg commands on folders use)
            stream = KMeansColorSegmenter(3, n_init=1, random_state=0)
            for _ in range(5):  # 4-fold growth: one exact merged pass
                stream.partial_fit(X)

        runs.append(("segment", "KMeansColorSegmenter", kind, segment))
    if "uint8 RGB" in images:

        def large_palette(rng=np.random.RandomState(2)):
            # K > 16: Hamerly's Lloyd and the distinct-colour label lookups, on
            # a table large enough for the threaded iterations and the
            # column-statistics kernel (> 2**17 colours)
            X = rng.randint(0, 256, size=(1, 512, 512, 3)).astype(np.uint8)
            km = KMeansColorSegmenter(32, n_init=1, random_state=0)
            km.fit_transform(X)
            km.predict(X)
            km.score(X)  # the lookup by colour rank, with the sum

        runs.append(
            ("segment", "KMeansColorSegmenter", "uint8 RGB K=32", large_palette)
        )

        def photo(rng=np.random.RandomState(3)):
            # a photo-sized image (BY_CODE_MIN_PIXELS) with a photo's few
            # colours: labels looked up by colour code, through the fitted
            # colours (a uint8 label per colour, uint16 from 256 colours),
            # and the large-K fit's nested coreset levels
            side = 1024
            ramp = np.arange(side) // 5  # up to 204: no uint8 wrap below
            X = np.empty((1, side, side, 3), np.uint8)
            X[0, ..., 0] = ramp[:, None]
            X[0, ..., 1] = ramp[None, :]
            X[0, ..., 2] = (ramp[:, None] + ramp[None, :]) // 2
            X[0] += rng.randint(0, 3, size=X.shape[1:]).astype(np.uint8)
            for k in (3, 256):
                km = KMeansColorSegmenter(k, n_init=1, random_state=0)
                km.fit_transform(X)
                km.predict(X)

        runs.append(("segment", "KMeansColorSegmenter", "uint8 RGB photo", photo))
    if "float32 RGB" in images:

        def float_path(rng=np.random.RandomState(1)):
            # float batches from 2**20 pixels: the grid-coreset path, and
            # labels that try each pixel's guess (GUESS_MIN_PIXELS)
            X = rng.random_sample((1, 1024, 1024, 3)).astype(np.float32)
            KMeansColorSegmenter(3, n_init=1, random_state=0).fit(X).predict(X)

        runs.append(("segment", "KMeansColorSegmenter", "float32 2**20 px", float_path))
    for kind, X in images.items():

        def edges(X=X):
            for sigma, gradient in ((1.0, "l2"), (0.0, "l1"), (1.0, "l1")):
                for n_jobs in (1, 2):
                    CannyEdgeExtractor(
                        sigma=sigma, gradient=gradient, n_jobs=n_jobs
                    ).fit_transform(X)
                CannyEdgeExtractor(
                    sigma=sigma, gradient=gradient, use_quantiles=True
                ).fit_transform(X)

        runs.append(("edges", "CannyEdgeExtractor", kind, edges))
    for kind, X in images.items():
        spaces = sorted(SPACES) if kind.endswith("RGB") else ["gray"]
        Xc = X if kind.endswith("RGB") else X[..., None]

        def convert(X=Xc, spaces=spaces):
            for space in spaces:
                encodings = (None, "cossin") if space == "hsv" else (None,)
                for encoding in encodings:
                    t = ColorSpaceTransformer(space, hue_encoding=encoding)
                    t.inverse_transform(t.fit_transform(X))

        runs.append(("color", "ColorSpaceTransformer", kind, convert))
    for kind, X in images.items():

        def superpixels(X=X):
            # SLIC (its full-resolution and 2x2-reduced rounds share one
            # kernel), connectivity, and KMeansColorSegmenter's small-region
            # merging (the same region kernels)
            big = np.repeat(np.repeat(X, 2, axis=1), 2, axis=2)[:1]
            for output in ("labels", "quantized", "features"):
                SuperpixelSegmenter(50, output=output).fit_transform(X)
            SuperpixelSegmenter(50).fit_transform(big)
            SuperpixelSegmenter(20, space=None).fit_transform(X[:1, :40, :40])
            KMeansColorSegmenter(
                3, n_init=1, random_state=0, min_region_size=16, output="regions"
            ).fit_transform(X[:1])

        runs.append(("superpixels", "SuperpixelSegmenter", kind, superpixels))
    for kind in ("uint8 RGB", "float32 RGB"):
        X = images.get(kind)
        if X is None:
            continue

        def elbow(X=X):
            for metric in ("distortion", "silhouette", "calinski_harabasz"):
                ElbowKSelector(k_values=(1, 2, 3), metric=metric, random_state=0).fit(X)

        runs.append(("elbow", "ElbowKSelector", kind, elbow))
    return runs


def warmup(log=None, *, only=None, dtypes=None):
    """Compile every kernel of skseg for the input types the estimators use.

    Runs each estimator on small synthetic images of every supported kind
    (uint8, uint16, float32, float64 and boolean; colour and grayscale), and
    the colour segmenter also on larger ones whose runs take other kernels
    (a 1 Mpx uint8 image with a photo's few colours, at K = 3 and 256), with
    the options that select different kernels (Canny's two gradients, with
    and without smoothing, quantile thresholds, row bands in threads; every
    colour space both ways; superpixels and region merging; every elbow
    metric). numba writes the machine
    code to its cache, so that later processes load it instead of compiling.

    Parameters
    ----------
    log : callable, optional
        Called with one line of progress per estimator and input kind.
    only : sequence of {'segment', 'edges', 'color', 'superpixels', 'elbow'}, \
            optional
        Compile only the kernels of these estimators (default: all five).
    dtypes : sequence of {'uint8', 'uint16', 'float32', 'float64', 'bool'}, optional
        Compile only for images of these dtypes (default: all).

    Returns
    -------
    report : dict
        ``"seconds"`` (time taken), ``"kernels"`` (number of compiled
        kernel variants now in memory, compiled or loaded) and ``"cache"``
        (the cache folder, see :func:`cache_location`).
    """
    log = log or (lambda line: None)
    t0 = time.perf_counter()
    images = {
        kind: X
        for kind, X in _images(np.random.RandomState(0)).items()
        if dtypes is None or kind.split()[0] in dtypes
    }
    runs = [run for run in _runs(images) if only is None or run[0] in only]
    with warnings.catch_warnings():
        # Random colours have no knee, and a few warm-up K are degenerate.
        warnings.simplefilter("ignore")
        for _, name, kind, call in runs:
            t = time.perf_counter()
            call()
            log(f"{name:<22} {kind:<13} {time.perf_counter() - t:6.1f} s")
    n_kernels = sum(len(d.overloads) for d in _dispatchers())
    return {
        "seconds": time.perf_counter() - t0,
        "kernels": n_kernels,
        "cache": cache_location(),
    }


def cache_writable(path):
    """Whether numba can write in ``path`` (it exists or can be created)."""
    if path is None:
        return False
    probe = path
    while not os.path.exists(probe):
        parent = os.path.dirname(probe)
        if parent == probe:
            return False
        probe = parent
    return os.access(probe, os.W_OK)
