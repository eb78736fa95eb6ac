"""Dask adapter: ``dask.array.Array`` batches for every estimator.

The image-batch contract (:func:`skseg._batch.dask_aware`) sends a method
called with a dask array here; this module is imported only then, so
``import skseg`` and in-memory use never import dask.

A dask batch has shape ``(n_images, height, width[, n_channels])`` and is
chunked along the image axis; blocks split across height, width or channels
are rechunked into whole images first (fits do not need it: colour tables
of any pixels add up).

- Fits (``KMeansColorSegmenter.fit``, ``partial_fit``,
  ``ElbowKSelector.fit``) count a colour table per block where the block
  lives (on the workers of a ``dask.distributed`` cluster) and merge the
  tables in a tree reduction (:data:`SPLIT_EVERY` tables per merge). The
  merged table is the table the in-memory fit counts (colours sorted,
  counts added). Pixels never travel.

  ``fit`` fits the palette once, by the in-memory code, on the worker that
  holds the merged table; the client receives the fitted estimator, and
  the table stays on the cluster (:class:`RemoteTable`) until
  ``partial_fit`` continues from it: the client never holds the table nor
  the float64 copies the fit makes of it. The palette is the in-memory one for the same
  ``random_state``, bit for bit when the number of OpenMP threads is the
  same (dask workers run one; scikit-learn's Lloyd iterations, used on
  tables of over 40,000 colours, sum in an order that depends on it, within
  1e-9 otherwise). ``partial_fit`` merges the chunk's table into the
  running table in the client, and ``ElbowKSelector`` fits its curve in
  the client, identical to the in-memory curve.
- Transforms (``transform``, ``predict``, ``fit_transform``, Canny, colour
  conversions) are lazy: ``map_blocks`` of the in-memory method over the
  blocks, with a copy of the estimator that carries no colour table. Image
  outputs keep the input's blocks; ``output='histogram'`` gives
  ``(n_images, n_clusters)`` chunked along images.
- ``score`` reduces ``(sum of squared errors, n_pixels)`` per block.
"""

from __future__ import annotations

import copy
import sys
import warnings

import dask
import numpy as np

from ._batch import check_batch
from ._palette import count_batch, merge_tables

__all__ = ["call", "SPLIT_EVERY"]

#: Tables merged by one task of the tree reduction.
SPLIT_EVERY = 8


def call(estimator, method, X, *args, **kwargs):
    """Run ``estimator.method(X, ...)`` for a dask array ``X``."""
    from .color import ColorSpaceTransformer
    from .edges import CannyEdgeExtractor
    from .model_selection import ElbowKSelector
    from .segmentation import KMeansColorSegmenter

    handlers = {
        KMeansColorSegmenter: {
            "fit": _segmenter_fit,
            "partial_fit": _segmenter_partial_fit,
            "fit_transform": _segmenter_fit_transform,
            "transform": _segmenter_transform,
            "predict": _segmenter_predict,
            "score": _segmenter_score,
        },
        ElbowKSelector: {"fit": _elbow_fit},
        CannyEdgeExtractor: {
            "fit": _stateless_fit,
            "fit_transform": _stateless_fit_transform,
            "transform": _stateless_transform,
        },
        ColorSpaceTransformer: {
            "fit": _stateless_fit,
            "fit_transform": _stateless_fit_transform,
            "transform": _stateless_transform,
            "inverse_transform": _color_inverse,
        },
    }
    for cls, methods in handlers.items():
        if isinstance(estimator, cls) and method in methods:
            return methods[method](estimator, X, *args, **kwargs)
    raise TypeError(
        f"{type(estimator).__name__}.{method} does not take dask arrays; call "
        "X.compute() first if it fits in memory."
    )


# ----------------------------------------------------------------------
# shapes and blocks


def _check_shape(X):
    """Refuse what is not a dask batch of images; return X."""
    if X.ndim not in (3, 4):
        raise ValueError(
            "A dask array batch must have shape (n_images, height, width) or "
            f"(n_images, height, width, n_channels); got {X.ndim}-D shape "
            f"{X.shape}. Flattened (2-D) images are not supported as dask "
            "arrays: reshape them to images first."
        )
    if any(np.isnan(s) for s in X.shape[1:]):
        raise ValueError(
            f"The images of a dask array batch must have a known size; got "
            f"shape {X.shape}. Call X.compute_chunk_sizes() first."
        )
    if X.shape[0] == 0:
        raise ValueError(
            f"Found an empty batch: X has shape {X.shape} (0 images); at least "
            "one image is required."
        )
    return X


def whole_images(X):
    """``X`` with every block made of whole images (rechunked if needed)."""
    X = _check_shape(X)
    if any(len(c) > 1 for c in X.chunks[1:]):
        X = X.rechunk(dict.fromkeys(range(1, X.ndim), -1))
    return X


def pixel_blocks(X):
    """``X`` with every block holding whole pixels (all channels)."""
    X = _check_shape(X)
    if X.ndim == 4 and len(X.chunks[3]) > 1:
        X = X.rechunk({3: -1})
    return X


def probe(X):
    """One image of ``X``'s shape and dtype, without memory (zero strides).

    What the in-memory contract checks on it (number of channels, dtype,
    the single-image rule, ...) holds for every image of ``X``.
    """
    return np.broadcast_to(np.zeros((), X.dtype), (1,) + tuple(X.shape[1:]))


# ----------------------------------------------------------------------
# fits: colour tables counted per block, merged in a tree


def _block_table(block):
    # Any block of pixels (whole images or not): as a 4-D batch, so that the
    # contract's checks (dtype, finite values) run on the worker.
    if block.ndim == 3:
        block = block[..., None]
    return count_batch(check_batch(np.ascontiguousarray(block)))


def _merge(*tables):
    return merge_tables(tables)


def color_table(X, *, compute=True):
    """The colour table of all pixels of ``X``, reduced over its blocks.

    Each block's table is counted where the block is; tables are merged
    :data:`SPLIT_EVERY` at a time until one is left. With ``compute=False``
    the last merge is returned as a ``dask.delayed`` object.
    """
    tables = [
        dask.delayed(_block_table, pure=True)(block)
        for block in pixel_blocks(X).to_delayed().ravel()
    ]
    while len(tables) > 1:
        tables = [
            dask.delayed(_merge, pure=True)(*tables[i : i + SPLIT_EVERY])
            for i in range(0, len(tables), SPLIT_EVERY)
        ]
    if not compute:
        return tables[0]
    (table,) = dask.compute(tables[0])
    return table


def _fit_where_the_table_is(est, table, image):
    # Runs on a worker: the palette fitted on the merged table there, so the
    # client receives the fitted estimator (a few centres), and the table
    # once, but never holds the float64 copies the fit makes of it.
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        est._fit_counted(table, image)
    holder = getattr(est, "best_estimator_", est)
    holder.__dict__.pop("_color_table", None)
    holder.__dict__.pop("_stream", None)
    return est, [(str(w.message), w.category) for w in caught]


class RemoteTable:
    """The merged colour table of a fit, left on the cluster.

    A ``distributed`` future: the client does not hold the table (tens of MB
    for a large collection) until ``partial_fit`` continues from it. Pickled
    (or deep-copied), it becomes the table itself, so a saved estimator does
    not depend on the cluster.
    """

    def __init__(self, future):
        self.future = future

    def fetch(self):
        return self.future.result()

    def __reduce__(self):
        return (_same, (self.fetch(),))


def _same(table):
    return table


def _distributed_client():
    """The ``distributed`` client dask computes with now, or None."""
    if "distributed" not in sys.modules:
        return None
    from dask.base import get_scheduler

    scheduler = get_scheduler()
    client = getattr(scheduler, "__self__", None)
    return client if type(client).__name__ == "Client" else None


def _fit_on_cluster(est, X, image):
    """``est._fit_counted`` on the reduced table of ``X``, run on a worker.

    Copies the fitted state into ``est`` and re-issues the fit's warnings
    here. The table stays on the cluster (a :class:`RemoteTable`) when a
    ``distributed`` client computes; otherwise it comes back.
    """
    from ._batch import user_stacklevel

    table = color_table(X, compute=False)
    light = copy.copy(est)
    fit = dask.delayed(_fit_where_the_table_is, pure=True)(light, table, image)
    client = _distributed_client()
    if client is None:
        (fitted, messages), table = dask.compute(fit, table)
    else:
        fit, table = client.compute([fit, table])
        fitted, messages = fit.result()
        table = RemoteTable(table)
    est.__dict__.update(fitted.__dict__)
    holder = getattr(est, "best_estimator_", est)
    holder._color_table = table
    holder._stream = None
    for message, category in messages:
        warnings.warn(message, category, stacklevel=user_stacklevel())
    return est


def _segmenter_fit(est, X, y=None):
    X = _check_shape(X)
    image = probe(X)
    est._check_batch(image, reset=True)  # refuse before computing
    return _fit_on_cluster(est, X, image)


def _segmenter_partial_fit(est, X, y=None):
    # The running table is here, in the client: the chunk's table is reduced
    # on the cluster and merged into it here.
    X = _check_shape(X)
    image = probe(X)
    est._check_batch(image, reset=not hasattr(est, "_color_table"))
    return est._fit_counted(color_table(X), image, partial=True)


def _segmenter_fit_transform(est, X, y=None):
    _segmenter_fit(est, X)
    return _segmenter_transform(est, X)


def _elbow_fit(est, X, y=None):
    X = _check_shape(X)
    image = probe(X)
    est._template()._check_batch(image, reset=True)  # refuse before computing
    est._check_k_values()
    # The curve is fitted here, in the client: its scores use BLAS sums whose
    # last bits depend on the thread count, and workers run one thread.
    return est._fit_counted(color_table(X), image)


# ----------------------------------------------------------------------
# transforms: map_blocks of the in-memory method


def _light(est):
    """A copy of a fitted segmenter without its colour table (sent to workers)."""
    light = copy.copy(est)
    for attr in ("_color_table", "_stream"):
        light.__dict__.pop(attr, None)
    return light


def _apply_block(block, est, method):
    return getattr(est, method)(block)


def _lazy(X, est, method, meta_est=None, k_out=None):
    """``est.method`` mapped over the blocks of ``X`` (whole images).

    The output's dtype and trailing shape come from calling the method on a
    1x1-pixel image (on ``meta_est`` if given); ``k_out`` overrides the
    number of trailing channels or features.
    """
    tiny = np.zeros((1, 1, 1) + tuple(X.shape[3:]), X.dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sample = np.asarray(getattr(meta_est or est, method)(tiny))
    kwargs = {"est": est, "method": method, "dtype": sample.dtype}
    if sample.ndim == 2:  # one feature vector per image
        k = sample.shape[1] if k_out is None else k_out
        kwargs["chunks"] = (X.chunks[0], (k,))
        kwargs["drop_axis"] = list(range(2, X.ndim))
        kwargs["meta"] = np.empty((0, 0), sample.dtype)
    else:  # images: (n, h, w) or (n, h, w, k)
        tail = sample.shape[3:]
        if tail and k_out is not None:
            tail = (k_out,)
        kwargs["chunks"] = X.chunks[:3] + tuple((t,) for t in tail)
        if X.ndim == 4 and not tail:
            kwargs["drop_axis"] = 3
        elif X.ndim == 3 and tail:
            kwargs["new_axis"] = 3
        kwargs["meta"] = np.empty((0,) * (3 + len(tail)), sample.dtype)
    return X.map_blocks(_apply_block, **kwargs)


def _segmenter_lazy(est, X, method):
    from sklearn.utils.validation import check_is_fitted

    check_is_fitted(est)
    est._validate_params()
    X = whole_images(X)
    est._check_batch(probe(X), reset=False)
    light = _light(est)
    meta_est = copy.copy(light).set_params(per_image=False)
    k_out = None
    if method == "transform" and est.output in ("distances", "histogram"):
        k_out = est._n_out_clusters()  # n_clusters with per_image=True
    return _lazy(X, light, method, meta_est, k_out)


def _segmenter_transform(est, X):
    return _segmenter_lazy(est, X, "transform")


def _segmenter_predict(est, X):
    return _segmenter_lazy(est, X, "predict")


def _block_sse(block, est):
    batch = est._check_batch(block, reset=False)
    return est._apply(batch, None)[1], batch.n_pixels


def _add_pairs(*pairs):
    return sum(p[0] for p in pairs), sum(p[1] for p in pairs)


def _segmenter_score(est, X, y=None):
    from sklearn.utils.validation import check_is_fitted

    check_is_fitted(est)
    est._validate_params()
    X = whole_images(X)
    est._check_batch(probe(X), reset=False)
    light = _light(est)
    parts = [
        dask.delayed(_block_sse, pure=True)(block, light)
        for block in X.to_delayed().ravel()
    ]
    while len(parts) > 1:
        parts = [
            dask.delayed(_add_pairs, pure=True)(*parts[i : i + SPLIT_EVERY])
            for i in range(0, len(parts), SPLIT_EVERY)
        ]
    ((sse, n_pixels),) = dask.compute(parts[0])
    return -sse / n_pixels


def _check_stateless(est, X, *, reset):
    est._validate_params()
    image = probe(X)
    if hasattr(est, "_prepare"):  # CannyEdgeExtractor
        est._prepare(image, reset=reset)
    else:  # ColorSpaceTransformer
        est._check_rgb(image, reset=reset)


def _stateless_fit(est, X, y=None):
    _check_stateless(est, _check_shape(X), reset=True)
    return est


def _stateless_transform(est, X):
    X = whole_images(X)
    _check_stateless(est, X, reset=False)
    return _lazy(X, est, "transform")


def _stateless_fit_transform(est, X, y=None):
    _stateless_fit(est, X)
    return _stateless_transform(est, X)


def _color_inverse(est, X):
    est._validate_params()
    X = whole_images(X)
    return _lazy(X, est, "inverse_transform")
