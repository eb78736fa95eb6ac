"""K-Means colour segmentation as a scikit-learn transformer."""

from __future__ import annotations

import copy
import functools
import threading
import warnings
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.parallel import Parallel, delayed
from sklearn.utils.validation import _check_feature_names_in, check_is_fitted

from ._batch import check_batch, user_stacklevel
from ._engine.assign import (
    assign_labels,
    assign_labels_rgb8,
    center_distances,
    gather_colors,
    through_table,
)
from ._engine.coresets import CORESET_MIN_COLORS
from ._engine.floatpath import FLOAT_MIN_PIXELS, chunk_passes, fit_float_palette
from ._engine.strategy import Palette, _sorted, fit_palette
from ._engine.stream import Stream
from ._engine.tables import (
    _Reiterable,
    add_tables,
    count_batch,
    count_block,
    count_colors,
)
from ._glue import (
    ImageOutputMixin,
    MapPlan,
    PixelPlan,
    ReducePlan,
    TablePlan,
    channel_names_in,
    dask_aware,
)
from ._parallel import fit_threads, n_workers, release_free_memory

__all__ = ["KMeansColorSegmenter"]

_OUTPUTS = ("labels", "quantized", "distances", "histogram", "regions")
# Batches from this many pixels on hand the fit's freed memory back at once.
# Measured (fit K=8 then predict, peak RSS): 12 Mpx 372 -> 363 MB with it;
# 4 Mpx 312 -> 309 MB, while the pages handed back were faulted in again by
# the next call: fit + transform of a 4 Mpx photo after Pillow's quantize
# took 5-10 ms longer (K=3, 8, 16, best of 5, 3 processes each way).
_LARGE_BATCH = 2**23


#: Held while a refit left pending by partial_fit runs (see
#: KMeansColorSegmenter._settle).
_SETTLING = threading.Lock()


def _palette_attribute(name, doc):
    # A fitted attribute that partial_fit may leave pending: read, it
    # settles the refit first (KMeansColorSegmenter._settled).
    def get(self):
        return self._settled(name)

    def set(self, value):
        self.__dict__[name] = value

    return property(get, set, doc=doc)


class KMeansColorSegmenter(ImageOutputMixin, TransformerMixin, BaseEstimator):
    """Segment images by clustering their colours with K-Means.

    The tutorial workflow ``cv2.kmeans(pixels, K, ..., KMEANS_PP_CENTERS)``
    followed by ``centers[labels].reshape(image.shape)``, as a transformer
    over a batch of images. ``fit`` learns one palette of ``n_clusters``
    colours shared by all images of the batch (pixels pooled), so label ``k``
    means the same colour in every image; ``per_image=True`` gives each image
    its own palette at transform time, as the tutorial does.

    The clustering is exact weighted k-means over the *distinct* colours of
    the batch (each weighted by its pixel count), which has the same objective
    as k-means over all pixels at a fraction of the cost.

    Parameters
    ----------
    n_clusters : int, default=8
        Number of colours of the palette (the tutorial's ``K``).

    output : {'quantized', 'labels', 'distances', 'histogram', 'regions'}, \
            default='quantized'
        What :meth:`transform` returns:

        - ``'quantized'``: every pixel replaced by its cluster colour (the
          tutorial's segmented image), same layout, channels and dtype as the
          input (integer images get rounded colours);
        - ``'labels'``: the integer label map of every image (no channel
          axis), as :meth:`predict`;
        - ``'distances'``: per pixel, the Euclidean distance to every colour of
          the palette (``n_clusters_`` channels), for per-pixel classifiers;
        - ``'histogram'``: array of shape (n_images, `n_clusters_`), the fraction
          of each image's pixels in each cluster, a fixed-width image-level
          feature vector for downstream classifiers;
        - ``'regions'``: the connected-component ids of every image (int32,
          from 0 in raster order of each region's first pixel; a region is a
          4-connected set of pixels of one palette colour), no channel axis,
          for region-level work.

    per_image : bool, default=False
        If True, :meth:`transform`, :meth:`predict` and :meth:`score` cluster
        each image on its own (same ``random_state`` for every image, so an
        image's result does not depend on the rest of the batch). ``fit``
        still learns the shared palette.

    init : {'k-means++', 'random'} or array-like of shape \
            (n_clusters, n_channels), default='k-means++'
        Initialisation of every restart, as in :class:`sklearn.cluster.KMeans`.
        An array gives the starting palette (one run, ``n_init`` is ignored).

    n_init : int, default=10
        Number of restarts (the tutorial's ``attempts=10``); the palette with
        the lowest within-cluster sum of squares is kept.

    max_iter : int, default=300
        Maximum number of Lloyd iterations of a restart.

    tol : float, default=1e-4
        Relative tolerance on the centre shift to declare convergence, as in
        :class:`sklearn.cluster.KMeans`.

    random_state : int, RandomState instance or None, default=None
        Seeds the restarts. Pass an int for results that are identical on
        every run and for every ``n_jobs``.

    image_shape : tuple of int, default=None
        ``(height, width)`` or ``(height, width, n_channels)`` of the images
        when ``X`` is 2-D (one flattened image per row). With ``None``, each
        row of a 2-D ``X`` is a single-channel image of ``1 x n_features``
        pixels.

    n_jobs : int, default=None
        Number of threads over which the images are split at transform time
        (and the per-image fits with ``per_image=True``). ``None`` means 1
        unless in a :func:`joblib.parallel_config` context; ``-1`` means all
        processors. The output does not depend on it. Fitting a palette
        uses threads of its own (counting the colours of a large image, its
        restarts, and the Lloyd iterations over a large table or of more
        than 16 colours), whatever ``n_jobs``; so does labelling a large
        image at transform time: as many as
        :class:`sklearn.cluster.KMeans` would (one per core;
        ``OMP_NUM_THREADS`` or :func:`threadpoolctl.threadpool_limits`
        lower it), and the palette does not depend on them either.

    min_region_size : int, default=None
        After labelling, connected regions (4-connected pixels of one
        palette colour) with fewer pixels take the label of the neighbouring
        region whose palette colour is the closest to the mean colour of
        their pixels, smallest regions first: K-Means' speckle becomes
        regions. Applies to :meth:`transform`, :meth:`predict` and
        :meth:`score` (every output but ``'distances'``, which stays the
        distance to every palette colour); ``fit`` and ``inertia_`` are
        unchanged. ``None`` keeps every region. The merged pixels are
        further from their colour, so the WCSS rises: on the astronaut at
        K = 8, ``min_region_size=64`` leaves 244 of 7038 regions for 1.49
        times the WCSS (16: 557 regions, 1.23 times).

    Attributes
    ----------
    cluster_centers_ : ndarray of shape (`n_clusters_`, n_channels)
        The palette, in the units of the input (0-255 for uint8 images),
        sorted by brightness (mean over channels).

    inertia_ : float
        Within-cluster sum of squares (WCSS) of the fitted batch: sum over
        all its pixels of the squared distance to their palette colour.

    n_iter_ : int
        Lloyd iterations of the kept solution (0 when every distinct colour
        is its own cluster).

    n_clusters_ : int
        Number of palette colours actually fitted: ``n_clusters``, or the
        number of distinct colours of the batch when that is smaller (a
        ``UserWarning`` says so; no duplicate centres are made up).

    n_channels_in_ : int
        Number of channels of the images seen during :meth:`fit`.

    n_features_in_ : int
        Number of features per row, only when fitted on 2-D (flattened) input.

    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of the features, only when fitted on a 2-D input with string
        column names (e.g. a pandas DataFrame).

    See Also
    --------
    sklearn.cluster.KMeans : K-Means on rows of a feature matrix.

    Notes
    -----
    Steps of :meth:`fit`:

    1. count the distinct colours of the batch and how many pixels have each
       (one pass over the pixels; uint8 colours are counted in a
       direct-address table);
    2. run ``n_init`` k-means++ restarts on the weighted colours (for large
       tables on a grid coreset of them), keep the best restarts and refine
       them with Lloyd iterations on the exact weighted table (compiled, or
       :class:`sklearn.cluster.KMeans` with ``sample_weight`` for tables of
       millions of colour-clusters);
    3. keep the palette with the lowest WCSS, which is the WCSS over all
       pixels.

    With more than 32 colours the restarts and Lloyd iterations use
    Hamerly's bounds (from 17 colours, the exact iterations over tables of
    more than 2**17 colours too). At transform time uint8 RGB images are labelled
    through their distinct colours (each colour once, against the few
    centres that can be nearest in its cell of the RGB cube) for palettes
    of more than 16 colours, and of 2 to 16 on large images (pixels x
    colours of at least 2**22), so a 256-colour palette costs about what a
    3-colour one does.

    Float batches of at least ``2**20`` pixels (e.g. after
    :class:`~skseg.ColorSpaceTransformer`) are fitted on a grid coreset of
    the pixels and refined by Lloyd passes over all pixels: memory stays
    bounded, ``inertia_`` is still the exact WCSS, and the fitted colour
    table is that coreset. A float dask array takes the same path, its
    passes made over the blocks where they are.

    Colour tables add up, so :meth:`partial_fit` over chunks of a collection
    sees the colour table that :meth:`fit` sees on the whole collection (it
    warm-starts from the current palette rather than restarting, see its
    Notes), and a ``dask.array.Array`` batch is fitted from per-block tables
    merged on a cluster: only tables travel, never pixels.

    References
    ----------
    .. [1] D. Arthur and S. Vassilvitskii, "k-means++: the advantages of
       careful seeding", SODA 2007.

    Examples
    --------
    >>> import numpy as np
    >>> from skseg import KMeansColorSegmenter
    >>> rng = np.random.default_rng(0)
    >>> red, blue = np.array([200, 30, 30]), np.array([20, 40, 180])
    >>> X = np.where(rng.random((2, 16, 16, 1)) < 0.5, red, blue).astype(np.uint8)
    >>> seg = KMeansColorSegmenter(n_clusters=2, random_state=0).fit(X)
    >>> seg.cluster_centers_
    array([[ 20.,  40., 180.],
           [200.,  30.,  30.]])
    >>> seg.transform(X).shape, seg.transform(X).dtype
    ((2, 16, 16, 3), dtype('uint8'))
    >>> seg.predict(X).shape
    (2, 16, 16)
    >>> seg.set_params(output="histogram").transform(X).round(2)
    array([[0.55, 0.45],
           [0.56, 0.44]])
    """

    _parameter_constraints: dict = {
        "n_clusters": [Interval(Integral, 1, None, closed="left")],
        "output": [StrOptions(set(_OUTPUTS))],
        "per_image": ["boolean"],
        "init": [StrOptions({"k-means++", "random"}), "array-like"],
        "n_init": [Interval(Integral, 1, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "random_state": ["random_state"],
        "image_shape": [tuple, list, None],
        "n_jobs": [Integral, None],
        "min_region_size": [Interval(Integral, 1, None, closed="left"), None],
    }

    def __init__(
        self,
        n_clusters=8,
        *,
        output="quantized",
        per_image=False,
        init="k-means++",
        n_init=10,
        max_iter=300,
        tol=1e-4,
        random_state=None,
        image_shape=None,
        n_jobs=None,
        min_region_size=None,
    ):
        self.n_clusters = n_clusters
        self.output = output
        self.per_image = per_image
        self.init = init
        self.n_init = n_init
        self.max_iter = max_iter
        self.tol = tol
        self.random_state = random_state
        self.image_shape = image_shape
        self.n_jobs = n_jobs
        self.min_region_size = min_region_size

    # ------------------------------------------------------------------
    # fitting

    @_fit_context(prefer_skip_nested_validation=True)
    @dask_aware
    def fit(self, X, y=None):
        """Learn a palette shared by all images of ``X``.

        Parameters
        ----------
        X : array-like or list of array-like
            Batch of images, first axis images: ``(n_images, height, width,
            n_channels)``, ``(n_images, height, width)``, ``(n_images,
            n_features)`` (see ``image_shape``), or a list of images of
            different sizes.
        y : None
            Ignored.

        Returns
        -------
        self : KMeansColorSegmenter
            Fitted estimator.
        """
        batch = self._check_batch(X, reset=True)
        self._fit_batch(batch)
        return self

    @_fit_context(prefer_skip_nested_validation=True)
    @dask_aware
    def partial_fit(self, X, y=None):
        """Add a chunk of images to the fit.

        The distinct-colour table of the chunk is merged into the table of
        every chunk seen so far, and the palette is updated on the merged
        table (see the Notes). Memory grows with the number of distinct
        colours, not with the number of pixels.

        Parameters
        ----------
        X : array-like or list of array-like
            A chunk of images, as in :meth:`fit`.
        y : None
            Ignored.

        Returns
        -------
        self : KMeansColorSegmenter
            Fitted estimator.

        Notes
        -----
        Every chunk's colour table goes into one accumulator (the one
        :meth:`fit` on a dask array and ``skseg segment FOLDER`` use), so the
        table of every pixel seen is always the table :meth:`fit` would
        count on all chunks at once; and into a grid coreset of every pixel
        seen, binned once per chunk. While the table has fewer than 40,000
        colours, every call refits it as :meth:`fit` does: the palette is
        identical to :meth:`fit`'s (same ``random_state``). Beyond that,
        the palette is refitted on the coresets when it is next read
        (``cluster_centers_``, ``inertia_``, ``n_iter_``, ``transform``,
        ``predict``, ``score``, pickling), once for all the chunks added
        since, so chunks sorted by date or scene do not keep it in the
        optimum of the first chunks:

        1. whenever the pixels seen have grown 4-fold since the last
           re-seed, ``n_init`` restarts and the current palette compete on
           the coarse coreset, the best are refined on the fine one, and a
           few Lloyd iterations on the merged table follow (a loop that
           reads the palette only at its end makes one such refit);
        2. otherwise a third of the restarts and the current palette
           compete the same way; the Lloyd iterations on the merged table
           follow once the chunks added since the last ones hold four times
           as many colours as the table.

        A loop that reads the palette between chunks (to report progress)
        refits at each read, and the palettes it reads steer the later
        refits (they are warm starts): it costs more and its palette may
        differ slightly from that of the same loop without reads (within
        1 % of :meth:`fit`'s WCSS either way).

        ``inertia_`` is always the exact WCSS of ``cluster_centers_`` over
        every pixel seen, never a bound: when the refit did not compute it,
        one pass over the merged table made when ``inertia_`` is first read.
        On 300 photos in 20 chunks (mixed, sorted by scene, sorted by
        brightness) the palette's WCSS is within 0.01 % of :meth:`fit`'s,
        and a loop costs 1.19-1.31 times one :meth:`fit` (2.87 times when it
        reads ``inertia_`` after every chunk;
        ``python benchmarks/bench_collection.py --only-partial --repeat 3``,
        which also checks K = 3 ... 64
        on the astronaut's tiles in row order and on one photo per chunk:
        within 1 %); ``tests/test_routes.py`` checks that scene-by-scene,
        reversed and uneven chunkings end within 0.5 % of :meth:`fit`'s
        WCSS. A change of ``n_clusters`` between
        calls refits from scratch.
        """
        first = not self._has_table()
        batch = self._check_batch(X, reset=first)
        self._partial_fit_table(count_batch(batch), batch, first=first)
        return self

    def _fit_counted(self, table, image, *, partial=False):
        """Fit on a colour table counted elsewhere, as fit or partial_fit.

        For tables reduced from the blocks of a dask array or counted file
        by file by the command line. ``image``, a batch of one image with
        the channels and dtype of the counted images, is checked as ``X``
        would be.
        """
        first = not partial or not self._has_table()
        counted = Counted(self._check_batch(image, reset=first), table.n_pixels)
        if partial:
            self._partial_fit_table(table, counted, first=first)
        else:
            self._fit_table(table, counted)
        return self

    def _partial_fit_table(self, table, batch, *, first):
        # The colour table of a new chunk (of ``batch``, checked with
        # ``reset=first``) into the running fit; shared with the dask adapter.
        old = None if first else self.__dict__.get("_stream")
        stream = old
        if stream is None or stream.n_clusters != self.n_clusters:
            stream = Stream(self.n_clusters)
            if not first:  # continue from the tables seen (fit, dask fit, or
                # partial_fit for another n_clusters)
                previous = self.__dict__.get("_table") if old is None else old.total()
                if hasattr(previous, "fetch"):  # left on a dask cluster
                    previous = previous.fetch()
                stream.add(previous)
                if self.n_clusters_ == self.n_clusters:
                    stream.seeded(self.cluster_centers_)
        stream.add(table)
        if stream.due():
            merged = stream.total()
            # the current palette competes with the restarts (not while the
            # table is small: then the palette is exactly fit's)
            large = merged.n_colors >= CORESET_MIN_COLORS
            warm = stream.centers if large else None
            self._fit_table(merged, batch, warm=warm)
            if self.n_clusters_ == self.n_clusters:
                stream.seeded(self.cluster_centers_)
            self._stream = stream
            self.__dict__.pop("_pending", None)
        else:
            # the palette follows when it is next read (_settle): a loop of
            # calls that reads it only at the end refits once
            options = {"init": self.init, "n_init": self.n_init}
            options.update(max_iter=self.max_iter, tol=self.tol)
            shape = Counted(batch, batch.n_pixels)
            self.__dict__["_pending"] = (stream, options, self.random_state, shape)
            self._stream = stream
        if batch.n_pixels >= _LARGE_BATCH:
            release_free_memory()

    def _settle(self):
        # The refit partial_fit left for the first read of the palette (see
        # partial_fit's Notes). Reads made between chunks steer the next
        # refits (their palette is the warm start), as eager refits would.
        # One thread refits; a read from another thread meanwhile waits for
        # it: "_pending" goes only once the new palette is in place
        # (_set_palette removes it last), and nothing below reads a palette
        # attribute before that.
        if self.__dict__.get("_pending") is None:
            return
        with _SETTLING:
            pending = self.__dict__.get("_pending")
            if pending is None:  # another thread has refitted meanwhile
                return
            stream, options, random_state, batch = pending
            rng = check_random_state(random_state)
            palette, inertia = stream.step(options, rng)
            if palette is False:  # too few coarse cells for coresets: refit
                self._fit_table(stream.total(), batch, warm=stream.centers)
                stream.seeded(self.__dict__["cluster_centers_"])
                self._stream = stream
                return
            palette.inertia = inertia  # exact, or None: computed when read
            self._set_palette(palette, None, batch, stream=stream)

    def __getstate__(self):
        self._settle()  # a pickle or a copy holds the palette, not a promise
        return super().__getstate__()

    # The colour table of every pixel fitted (merged from partial_fit's
    # chunks when asked for), and the WCSS of the palette over them: after
    # a partial_fit that did not re-seed, one pass over that table made on
    # first read.

    def _has_table(self):
        # fitted on some table (without merging partial_fit's chunks)
        return self.__dict__.get("_stream") is not None or "_table" in self.__dict__

    @property
    def _color_table(self):
        stream = self.__dict__.get("_stream")
        if stream is not None:
            return stream.total()
        try:
            return self.__dict__["_table"]
        except KeyError:
            raise AttributeError("_color_table") from None

    @_color_table.setter
    def _color_table(self, table):
        self.__dict__["_table"] = table

    def _settled(self, name):
        # A fitted attribute of the palette, after any refit left pending.
        self._settle()
        try:
            return self.__dict__[name]
        except KeyError:
            raise AttributeError(
                f"'{type(self).__name__}' object has no attribute '{name}'"
            ) from None

    cluster_centers_ = _palette_attribute(
        "cluster_centers_", "Palette colours, one row per cluster."
    )
    n_iter_ = _palette_attribute("n_iter_", "Lloyd iterations of the palette kept.")

    @property
    def inertia_(self):
        """Exact WCSS of ``cluster_centers_`` over every pixel fitted."""
        self._settle()
        inertia = self.__dict__.get("_inertia")
        if inertia is None:
            stream = self.__dict__.get("_stream")
            if stream is None or "cluster_centers_" not in self.__dict__:
                raise AttributeError(
                    f"'{type(self).__name__}' object has no attribute 'inertia_'"
                )
            inertia = stream.wcss(self.__dict__["cluster_centers_"])
            self.__dict__["_inertia"] = inertia
        return inertia

    @inertia_.setter
    def inertia_(self, value):
        self.__dict__["_inertia"] = value

    @_fit_context(prefer_skip_nested_validation=True)
    @dask_aware
    def fit_transform(self, X, y=None):
        """Fit the palette on ``X`` and transform ``X``.

        Parameters
        ----------
        X : array-like or list of array-like
            Batch of images, as in :meth:`fit`.
        y : None
            Ignored.

        Returns
        -------
        X_out : ndarray or list of ndarray
            As :meth:`transform`.
        """
        batch = self._check_batch(X, reset=True)
        self._fit_batch(batch)
        return self._apply(batch, self.output)[0]

    def _check_batch(self, X, *, reset):
        batch = check_batch(
            X, image_shape=self.image_shape, estimator=self, reset=reset
        )
        if not reset and batch.n_channels != self.n_channels_in_:
            raise ValueError(
                f"X has {batch.n_channels} channel(s), but {type(self).__name__} "
                f"was fitted on images with {self.n_channels_in_} channel(s)."
            )
        return batch

    def _fit_batch(self, batch):
        # Large float batches: grid coreset of the pixels (_floatpath), not a
        # table of their (nearly all distinct) colours.
        if self._by_pixels(batch.dtype, batch.n_pixels):
            whole = batch.array is not None and batch.array.flags.c_contiguous
            n_chunks = 1 if whole else batch.n_images
            chunks = _Reiterable(lambda: (px for _, _, px in batch.chunks(n_chunks)))
            if self._fit_pixels(chunk_passes(chunks, fit_threads()), batch):
                release_free_memory()
                return
        self._fit_table(count_batch(batch), batch)

    def _by_pixels(self, dtype, n_pixels):
        # Whether a fit takes the float path (a grid coreset of the pixels).
        return (
            np.dtype(dtype).kind == "f"
            and n_pixels >= FLOAT_MIN_PIXELS
            and isinstance(self.init, str)
        )

    def _fit_pixels(self, passes, batch):
        # Fit by passes over the pixels (the float path); False when the
        # pixels fill fewer grid cells than n_clusters (fit on their table).
        centers, inertia, n_iter, table = fit_float_palette(
            passes,
            batch.n_channels,
            self.n_clusters,
            init=self.init,
            n_init=self.n_init,
            max_iter=self.max_iter,
            tol=self.tol,
            rng=check_random_state(self.random_state),
            n_threads=fit_threads(),
        )
        if centers is None:
            return False
        palette = _sorted(Palette(centers, float(inertia), n_iter))
        self._set_palette(palette, table, batch)
        return True

    def _check_init(self, n_channels):
        if isinstance(self.init, str):
            return self.init
        init = np.asarray(self.init, dtype=np.float64)
        if init.shape != (self.n_clusters, n_channels):
            raise ValueError(
                f"init has shape {init.shape}, but n_clusters={self.n_clusters} "
                f"and the images have {n_channels} channel(s): expected shape "
                f"{(self.n_clusters, n_channels)}."
            )
        if not np.isfinite(init).all():
            raise ValueError("init contains NaN or infinity.")
        return init

    def _fit_table(self, table, batch, warm=None):
        init = self._check_init(table.n_channels)
        k = self._effective_k(table, "X")
        if k < self.n_clusters and not isinstance(init, str):
            raise ValueError(
                f"init gives {self.n_clusters} centres but X has only {k} "
                "distinct colours."
            )
        palette = fit_palette(
            table,
            k,
            init=init,
            n_init=self.n_init,
            max_iter=self.max_iter,
            tol=self.tol,
            random_state=self.random_state,
            n_threads=fit_threads(),
            warm=warm if k == self.n_clusters else None,
        )
        self._set_palette(palette, table, batch)
        if batch.n_pixels >= _LARGE_BATCH:
            release_free_memory()

    def _set_palette(self, palette, table, batch, stream=None):
        # Fitted state from a palette of ``table`` (the colours of ``batch``),
        # computed here or by a caller that fits many K at once
        # (ElbowKSelector); ``batch`` must have been checked by
        # ``self._check_batch(X, reset=True)``.
        k = palette.centers.shape[0]
        self.cluster_centers_ = palette.centers
        self.inertia_ = palette.inertia
        self.n_iter_ = int(palette.n_iter)
        self.n_clusters_ = int(k)
        self.n_channels_in_ = int(batch.n_channels)
        self.__dict__["_table"] = table
        self._stream = stream  # partial_fit's running state, if any
        self._fit_dtype = batch.dtype
        self.__dict__.pop("_pending", None)  # last: see _settle

    def _effective_k(self, table, what):
        k = min(self.n_clusters, table.n_colors)
        if k < self.n_clusters:
            warnings.warn(
                f"n_clusters={self.n_clusters} is larger than the number of "
                f"distinct colours in {what} ({table.n_colors}); using "
                f"{table.n_colors} clusters, one per colour.",
                UserWarning,
                stacklevel=user_stacklevel(),
            )
        return k

    # ------------------------------------------------------------------
    # using the palette

    @dask_aware
    def transform(self, X):
        """Segment every image of ``X`` with the fitted palette.

        Parameters
        ----------
        X : array-like or list of array-like
            Batch of images with the channels seen in :meth:`fit`, of any
            size.

        Returns
        -------
        X_out : ndarray or list of ndarray
            Depends on ``output``: image-valued outputs keep the input's
            layout (4-D/3-D in, 4-D/3-D out; 2-D in, 2-D out; list in, list
            out); ``'histogram'`` is always ``(n_images, n_clusters_)``.
        """
        check_is_fitted(self)
        self._validate_params()
        batch = self._check_batch(X, reset=False)
        return self._apply(batch, self.output)[0]

    @dask_aware
    def predict(self, X):
        """Label map of every image of ``X``: index of each pixel's colour.

        Parameters
        ----------
        X : array-like or list of array-like
            Batch of images, as in :meth:`transform`.

        Returns
        -------
        labels : ndarray of int32 or list of ndarray
            ``(n_images, height, width)`` for 3-D/4-D input, ``(n_images,
            n_pixels)`` for 2-D input, a list of ``(height, width)`` maps for
            a list.
        """
        check_is_fitted(self)
        self._validate_params()
        batch = self._check_batch(X, reset=False)
        return self._apply(batch, "labels")[0]

    @dask_aware
    def score(self, X, y=None):
        """Minus the mean squared distance of a pixel to its palette colour.

        Higher is better. Being a mean over pixels, it compares batches of
        different sizes. With ``per_image=True`` each image is scored
        against its own palette, as :meth:`transform` segments it.

        Parameters
        ----------
        X : array-like or list of array-like
            Batch of images, as in :meth:`transform`.
        y : None
            Ignored.

        Returns
        -------
        score : float
        """
        check_is_fitted(self)
        self._validate_params()
        batch = self._check_batch(X, reset=False)
        return -self._apply(batch, None)[1] / batch.n_pixels

    def __skseg_plan__(self, method, image):
        """What the dask adapter runs for ``method`` on a dask array.

        The protocol of :mod:`skseg._glue`: ``image`` is a batch of one image
        with the array's shape and dtype, checked here as the in-memory
        method would check the batch. Fits reduce colour tables over the
        blocks (``fit`` fits where the merged table is and leaves the table
        on the cluster); transforms map the in-memory method over blocks of
        whole images with a copy of the estimator that carries no table;
        ``score`` adds up squared errors and pixel counts.
        """
        if method == "fit":
            batch = self._check_batch(image, reset=True)
            fit = functools.partial(_fit_copy, copy.copy(self), image)
            plan = TablePlan(count_block, add_tables, fit, adopt=self._adopt)
            if not self._by_pixels(batch.dtype, FLOAT_MIN_PIXELS):
                return plan

            def fit_pixels(passes, n_pixels):
                # a large float array: the grid coreset of its pixels, as in
                # memory (None: too few grid cells, fit on its table)
                if not self._by_pixels(batch.dtype, n_pixels):
                    return None
                return self if self._fit_pixels(passes, batch) else None

            return PixelPlan(fit_pixels, plan)
        if method == "partial_fit":
            self._check_batch(image, reset=not self._has_table())

            def fit(table):
                return self._fit_counted(table, image, partial=True)

            return TablePlan(count_block, add_tables, fit)
        if method not in ("transform", "predict", "score"):
            return None
        check_is_fitted(self)
        self._validate_params()
        self._check_batch(image, reset=False)
        light = _without_table(self)
        if method == "score":
            func = functools.partial(_block_sse, light)
            return ReducePlan(func, lambda sse, n_pixels: -sse / n_pixels)
        meta = copy.copy(light).set_params(per_image=False)
        k_out = None
        if method == "transform" and self.output in ("distances", "histogram"):
            k_out = self._n_out_clusters()  # n_clusters with per_image=True
        return MapPlan(getattr(light, method), getattr(meta, method), k_out)

    def _adopt(self, fitted, table):
        # The state of a copy fitted elsewhere (a dask worker), and the table
        # it was fitted on (or a handle to it on the cluster).
        self.__dict__.update(fitted.__dict__)
        self._color_table = table
        self._stream = None
        return self

    def _n_out_clusters(self):
        return self.n_clusters if self.per_image else self.n_clusters_

    def _apply(self, batch, output):
        """Segment ``batch``; return (result in caller's layout, total SSE).

        The batch is cut into runs of images (one run unless ``n_jobs`` asks
        for more, one image per run with ``per_image=True``). Each run is
        segmented by a worker that returns its own arrays, so any joblib
        backend works (threads, processes, a Dask cluster); the results are
        written into one output array per batch.
        """
        k_out = self._n_out_clusters()
        offsets = np.concatenate([[0], np.cumsum(batch.pixel_counts())])
        total = int(offsets[-1])
        regions = self.min_region_size is not None or output == "regions"
        spec = _OutputSpec(
            output, k_out, batch.dtype, keep_labels=output != "quantized" or regions
        )
        if self.per_image:
            seed = check_random_state(self.random_state).randint(np.iinfo(np.int32).max)
            params = {
                name: getattr(self, name)
                for name in ("n_clusters", "n_init", "max_iter", "tol")
            }
            params["init"] = self._check_init(batch.n_channels)
            runs = [(i, i + 1, batch.image_pixels(i)) for i in range(batch.n_images)]
            results = self._run(_segment_own_palette, runs, offsets, spec, params, seed)
        else:
            workers = n_workers(self.n_jobs)
            runs = list(batch.chunks(1 if workers == 1 else 4 * workers))
            centers = self.cluster_centers_
            # one run: the fitted table's colours are a hint for the lookup
            # (the data fitted, transformed: no presence bitmap of its own)
            table = self.__dict__.get("_table") if len(runs) == 1 else None
            known = getattr(table, "codes", None)
            segment = functools.partial(_segment_with_palette, known=known)
            results = self._run(segment, runs, offsets, spec, centers)
        if len(results) == 1 and len(runs[0][2]) == total:
            labels, out = results[0].labels, results[0].out
        else:
            labels = np.empty(total, np.int32) if spec.keep_labels else None
            out = spec.allocate(total, batch.n_channels, batch.n_images)
            for (start, stop, _), res in zip(runs, results):
                if labels is not None:
                    labels[offsets[start] : offsets[stop]] = res.labels
                if output == "histogram":
                    out[start:stop] = res.out
                elif out is not None:
                    out[offsets[start] : offsets[stop]] = res.out
        sse = float(sum(res.sse for res in results))
        short = [start for (start, _, _), res in zip(runs, results) if res.short]
        if short:
            self._warn_short(short, batch, output)
        if regions:
            labels, out, sse = self._merge_regions(
                batch, offsets, runs, results, labels, out, sse, output
            )
        if output is None:
            return None, sse
        if output in ("labels", "regions"):
            return batch.rebuild(labels), sse
        if output == "histogram":
            return out, sse
        return batch.rebuild(out, keep_channels=output == "distances"), sse

    def _merge_regions(self, batch, offsets, runs, results, labels, out, sse, output):
        # min_region_size and output="regions" (skseg._regions)
        from ._regions import merge_palette_regions

        if self.per_image:  # one run per image, with its own palette
            palettes = [res.centers for res in results]
        else:
            palettes = [self.cluster_centers_] * batch.n_images
        return merge_palette_regions(
            batch, offsets, palettes, labels, self.min_region_size, output, out,
            sse, quantized_colors=lambda c: _quantize_colors(c, out.dtype),
        )  # fmt: skip

    def _run(self, func, runs, offsets, *args):
        counts = [np.diff(offsets[start : stop + 1]) for start, stop, _ in runs]
        if len(runs) == 1 or n_workers(self.n_jobs) == 1:
            return [func(px, c, *args) for (_, _, px), c in zip(runs, counts)]
        return Parallel(n_jobs=self.n_jobs, prefer="threads")(
            delayed(func)(px, c, *args) for (_, _, px), c in zip(runs, counts)
        )

    def _warn_short(self, short, batch, output):
        if output == "distances":
            raise ValueError(
                f"per_image=True with output='distances' needs n_clusters="
                f"{self.n_clusters} distinct colours in every image; image(s) "
                f"{short[:10]} have fewer."
            )
        warnings.warn(
            f"{len(short)} image(s) have fewer than n_clusters={self.n_clusters} "
            f"distinct colours (first: image {short[0]}); each of them gets one "
            "cluster per colour.",
            UserWarning,
            stacklevel=user_stacklevel(),
        )

    # ------------------------------------------------------------------
    # scikit-learn API

    def get_feature_names_out(self, input_features=None):
        """Names of the output features.

        ``'histogram'``: one name per cluster (``kmeanscolorsegmenter0``,
        ...), the columns of the 2-D output whatever the input's layout.
        Image outputs fitted on flattened (2-D) input, the columns of the
        2-D output: ``'quantized'`` keeps the input feature names,
        ``'labels'`` gives ``label0, ...`` (one per pixel), ``'distances'``
        gives ``pixel0_distance0, ...``. Image outputs fitted on
        image-shaped input are images, not columns: the names are those of
        the channels of one output pixel (``'quantized'``: the input
        channels, ``input_features`` or ``channel0, ...``; ``'labels'``:
        ``label``; ``'distances'``: ``distance0, ...``), which is what the
        next step of a :class:`~sklearn.pipeline.Pipeline` receives.

        Parameters
        ----------
        input_features : array-like of str or None, default=None
            Input feature names, checked against ``feature_names_in_``.

        Returns
        -------
        feature_names_out : ndarray of str objects
        """
        check_is_fitted(self)
        prefix = type(self).__name__.lower()
        k = self._n_out_clusters()
        if self.output == "histogram":
            return np.asarray([f"{prefix}{i}" for i in range(k)], dtype=object)
        if not hasattr(self, "n_features_in_"):
            channels = channel_names_in(self, input_features)
            if self.output == "quantized":
                return channels
            if self.output in ("labels", "regions"):
                return np.asarray([self.output[:-1]], dtype=object)
            return np.asarray([f"distance{j}" for j in range(k)], dtype=object)
        names = _check_feature_names_in(self, input_features)
        if self.output == "quantized":
            return names
        n_pixels = self.n_features_in_ // self.n_channels_in_
        if self.output in ("labels", "regions"):
            name = self.output[:-1]
            return np.asarray([f"{name}{p}" for p in range(n_pixels)], dtype=object)
        return np.asarray(
            [f"pixel{p}_distance{j}" for p in range(n_pixels) for j in range(k)],
            dtype=object,
        )

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = {
            "quantized": ["float64", "float32"],
            "distances": ["float64", "float32"],
            "histogram": ["float64"],
        }.get(self.output, [])
        return tags


# ----------------------------------------------------------------------
# workers (one call per run of images; each returns its own arrays)


def _float_dtype(dtype):
    return dtype if dtype in (np.float32, np.float64) else np.dtype(np.float64)


def _quantized_dtype(dtype):
    return dtype if dtype.kind in "iuf" else np.dtype(np.float64)


def _quantize_colors(centers, dtype):
    if dtype.kind in "iu":
        info = np.iinfo(dtype)
        # float(2**64 - 1) rounds up to 2**64, which would wrap around when
        # cast: clip to the largest float inside the dtype's range.
        lo, hi = float(info.min), float(info.max)
        if int(hi) > info.max:
            hi = np.nextafter(hi, 0.0)
        if int(lo) < info.min:
            lo = np.nextafter(lo, 0.0)
        return np.clip(np.rint(centers), lo, hi).astype(dtype)
    return centers.astype(dtype)


class Counted:
    """What a fit needs of a batch whose colours were counted elsewhere."""

    def __init__(self, batch, n_pixels):
        self.n_channels = batch.n_channels
        self.dtype = batch.dtype
        self.gray = batch.gray
        self.n_pixels = int(n_pixels)


def _without_table(est):
    """A copy of a fitted segmenter without its colour table (sent to workers)."""
    est._settle()
    light = copy.copy(est)
    for attr in ("_table", "_stream"):
        light.__dict__.pop(attr, None)
    return light


def _fit_copy(est, image, table):
    # Runs where the merged table is: fit, then drop the table (the client
    # keeps a handle to it) so only the palette travels back.
    est._fit_counted(table, image)
    return _without_table(est)


def _block_sse(est, block):
    batch = est._check_batch(block, reset=False)
    return est._apply(batch, None)[1], batch.n_pixels


class _OutputSpec:
    """What a worker computes: output kind, number of clusters, dtypes.

    ``keep_labels``: whether the labels are needed besides a quantized
    output (region merging reads them); otherwise a run through the
    colour table does not write them.
    """

    def __init__(self, output, k_out, dtype, keep_labels=True):
        self.output, self.k_out, self.dtype = output, k_out, dtype
        self.keep_labels = keep_labels

    def allocate(self, n_pixels, n_channels, n_images):
        if self.output == "quantized":
            return np.empty((n_pixels, n_channels), _quantized_dtype(self.dtype))
        if self.output == "distances":
            return np.empty((n_pixels, self.k_out), _float_dtype(self.dtype))
        if self.output == "histogram":
            return np.zeros((n_images, self.k_out), np.float64)
        return None


class _RunResult:
    def __init__(self, sse, labels, out, short=False, centers=None):
        self.sse, self.labels, self.out, self.short = sse, labels, out, short
        self.centers = centers  # the palette the run was segmented with


def _segment_with_palette(px, pixel_counts, spec, centers, short=False, known=None):
    """Segment a run of images (pixels ``px``) with the palette ``centers``.

    ``known``: sorted codes of colours the run likely has (uint8 RGB), see
    :func:`assign_labels_rgb8`.
    """
    labels = np.empty(px.shape[0], np.int32)
    out = spec.allocate(px.shape[0], px.shape[1], len(pixel_counts))
    # uint8 RGB through the distinct colours (each labelled once, then
    # looked up per pixel) unless the palette or the image is small; the sum
    # of squared distances, which only score reads (output None), through
    # them for large palettes only. Otherwise the run's sse stays 0.0.
    k = len(centers)
    with_sse = spec.output is None
    lookup = (
        px.dtype == np.uint8
        and px.shape[1] == 3
        and through_table(px.shape[0], k, with_sse)
    )
    if lookup and spec.output == "quantized":
        # the labels (when asked for) and the quantized colours in one pass
        colors = _quantize_colors(centers, out.dtype)
        labels = labels if spec.keep_labels else None
        assign_labels_rgb8(
            px, centers, labels, colors, out, fit_threads(), with_sse=False,
            known=known,
        )  # fmt: skip
        return _RunResult(0.0, labels, out, short, centers)
    if lookup:
        sse = assign_labels_rgb8(
            px, centers, labels, n_threads=fit_threads(), with_sse=with_sse,
            known=known,
        )  # fmt: skip
        sse = sse if with_sse else 0.0
    else:
        sse = assign_labels(
            px, centers, labels, n_threads=fit_threads(), with_sse=with_sse
        )
        sse = sse if with_sse else 0.0
    if spec.output == "quantized":
        gather_colors(_quantize_colors(centers, out.dtype), labels, out)
    elif spec.output == "distances":
        center_distances(px, centers, out[:, : centers.shape[0]])
    elif spec.output == "histogram":
        k = centers.shape[0]
        start = 0
        for i, n in enumerate(pixel_counts):
            out[i, :k] = np.bincount(labels[start : start + n], minlength=k) / n
            start += n
    return _RunResult(sse, labels, out, short, centers)


def _segment_own_palette(px, pixel_counts, spec, params, seed):
    """Fit a palette on one image (pixels ``px``) and segment it with it."""
    table = count_colors([px], px.dtype, px.shape[1], n_pixels=px.shape[0])
    k = min(params["n_clusters"], table.n_colors)
    init = params["init"]
    if k < params["n_clusters"] and not isinstance(init, str):
        raise ValueError(
            f"init gives {params['n_clusters']} centres but an image has only "
            f"{k} distinct colours."
        )
    palette = fit_palette(
        table,
        k,
        init=init,
        n_init=params["n_init"],
        max_iter=params["max_iter"],
        tol=params["tol"],
        random_state=seed,
    )
    short = k < params["n_clusters"]
    return _segment_with_palette(px, pixel_counts, spec, palette.centers, short)
