"""SLIC superpixels as a scikit-learn transformer."""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.parallel import Parallel, delayed
from sklearn.utils.validation import _check_feature_names_in

from ._batch import check_batch
from ._glue import (
    ImageOutputMixin,
    channel_names_in,
    dask_aware,
    stateless_plan,
)
from ._parallel import n_workers
from ._regions import connect_superpixels, region_ids
from ._slic import grid_seeds, run_slic, seed_positions

__all__ = ["SuperpixelSegmenter"]

#: columns of output="features", one row per image
FEATURES = (
    "n_superpixels",
    "mean_size",
    "max_size",
    "boundary_fraction",
    "contrast",
    "spread",
)


class SuperpixelSegmenter(ImageOutputMixin, TransformerMixin, BaseEstimator):
    """SLIC superpixels of a batch of images: k-means over colour and position.

    Colour K-Means groups pixels by colour only, so a photo comes out in
    thousands of specks. SLIC [1]_ clusters pixels by colour *and* position:
    about ``n_segments`` compact regions ("superpixels") of similar colour
    that follow the image's edges. The transformer is stateless and
    segments every image of the batch on its own, as
    :func:`skimage.segmentation.slic` does for one image, with the same
    parameters.

    Parameters
    ----------
    n_segments : int, default=100
        Approximate number of superpixels per image: the seeds are placed on
        the grid :func:`skimage.segmentation.slic` uses for this number.

    compactness : float, default=10.0
        Balance of colour and position: the distance of a pixel to a centre
        is ``|colour - c|^2 + (compactness / S)^2 |position - p|^2``, with
        ``S`` the grid step in pixels and colours in the units of ``space``
        (Lab: L in 0-100). Higher values give more square superpixels.
        Same meaning as in :func:`skimage.segmentation.slic`.

    max_num_iter : int, default=10
        Maximum number of k-means rounds (fewer when a round moves no
        centre).

    space : {'lab'} or None, default='lab'
        Space in which colours are compared. ``'lab'``: RGB images are
        converted to CIE Lab (as :func:`skimage.color.rgb2lab`, float RGB
        in [0, 1]), grayscale images to their lightness L. ``None``: the
        channels are used as they are, in their own units, e.g. the output
        of a :class:`~skseg.ColorSpaceTransformer` earlier in a pipeline
        (any number of channels).

    enforce_connectivity : bool, default=True
        Make every superpixel one 4-connected region: pieces of a
        superpixel cut off from it, and superpixels smaller than
        ``min_size_factor`` times the mean superpixel size, are merged into
        the neighbouring region of closest mean colour.

    min_size_factor : float, default=0.5
        Minimum superpixel size, as a fraction of ``height * width /
        n_seeds`` (used with ``enforce_connectivity``).

    output : {'labels', 'quantized', 'features'}, default='labels'
        What :meth:`transform` returns:

        - ``'labels'``: superpixel ids of every pixel (int32, from 0, in
          raster order of each superpixel's first pixel), one map per image
          without channel axis, as :meth:`predict`;
        - ``'quantized'``: every pixel replaced by the mean colour of its
          superpixel, in the input's layout, channels and dtype;
        - ``'features'``: array of shape (n_images, 6), a fixed-width
          image-level feature vector for downstream classifiers: number of
          superpixels, mean and largest superpixel size (fractions of the
          image), fraction of pixels on a superpixel boundary, mean colour
          contrast across boundaries and mean colour spread inside the
          superpixels (root mean squared distance to the superpixel mean;
          both in the units of ``space``).

    image_shape : tuple of int, default=None
        ``(height, width)`` or ``(height, width, n_channels)`` of the images
        when ``X`` is 2-D (one flattened image per row). With ``None``, each
        row of a 2-D ``X`` is a single-channel image of ``1 x n_features``
        pixels.

    n_jobs : int, default=None
        Number of workers over which the images are split
        (:class:`joblib.Parallel`, threads by default). ``None`` means 1
        unless in a :func:`joblib.parallel_config` context; ``-1`` means all
        processors. The output does not depend on it.

    Attributes
    ----------
    n_channels_in_ : int
        Number of channels of the images seen by :meth:`fit` (names the
        channels of ``output='quantized'``).

    n_features_in_ : int
        Number of features per row, only when fitted on 2-D (flattened)
        input.

    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of the features, only when fitted on a 2-D input with string
        column names (e.g. a pandas DataFrame).

    See Also
    --------
    skimage.segmentation.slic : The function this transformer follows.
    KMeansColorSegmenter : Colour-only K-Means, with ``min_region_size`` to
        merge its small regions.

    Notes
    -----
    Steps, on every image:

    1. colours: the image in Lab (``space='lab'``), float32;
    2. seeds: the grid of :func:`skimage.segmentation.slic` for
       ``n_segments`` (step ``S``), each seed moved to the point of lowest
       colour gradient of its 3x3 neighbourhood (as in the SLIC paper);
    3. k-means rounds: each centre scans the ``2S x 2S`` window around it
       and takes the pixels that are closer to it than to any centre seen
       so far; then each centre moves to the mean colour and position of
       its pixels; until no centre moves or after ``max_num_iter`` rounds;
    4. connectivity (``enforce_connectivity``): every 4-connected piece of
       a superpixel is a region; regions smaller than the minimum size are
       merged, smallest first, into the neighbouring region of closest mean
       colour.

    A ``dask.array.Array`` batch is segmented lazily, block by block of
    whole images (each image on its own), as in memory.

    Differences with :func:`skimage.segmentation.slic`: images are not
    stretched to their own [min, max] range (integer images are read in the
    range of their dtype, as everywhere in skseg), seeds avoid edges, the
    window is the paper's ``2S x 2S`` rather than ``4S x 4S``, and small
    regions join the neighbour of closest colour rather than the first
    neighbour met. Labels start at 0.

    References
    ----------
    .. [1] R. Achanta, A. Shaji, K. Smith, A. Lucchi, P. Fua and S.
       Süsstrunk, "SLIC superpixels compared to state-of-the-art superpixel
       methods", IEEE Transactions on Pattern Analysis and Machine
       Intelligence, 34(11), 2274-2282, 2012.
       https://doi.org/10.1109/TPAMI.2012.120

    Examples
    --------
    >>> import numpy as np
    >>> from skseg import SuperpixelSegmenter
    >>> X = np.zeros((1, 40, 40, 3), dtype=np.uint8)
    >>> X[0, :, 20:] = [200, 30, 30]     # a red right half
    >>> sp = SuperpixelSegmenter(n_segments=4)
    >>> labels = sp.fit_transform(X)
    >>> labels.shape, labels.dtype, int(labels.max()) + 1
    ((1, 40, 40), dtype('int32'), 4)
    >>> bool((labels[0, :, :20, None] != labels[0, :, None, 20:]).all())
    True
    >>> sp.set_params(output="features").transform(X).shape
    (1, 6)
    """

    _parameter_constraints: dict = {
        "n_segments": [Interval(Integral, 1, None, closed="left")],
        "compactness": [Interval(Real, 0, None, closed="neither")],
        "max_num_iter": [Interval(Integral, 1, None, closed="left")],
        "space": [StrOptions({"lab"}), None],
        "enforce_connectivity": ["boolean"],
        "min_size_factor": [Interval(Real, 0, 1, closed="both")],
        "output": [StrOptions({"labels", "quantized", "features"})],
        "image_shape": [tuple, list, None],
        "n_jobs": [Integral, None],
    }

    def __init__(
        self,
        n_segments=100,
        *,
        compactness=10.0,
        max_num_iter=10,
        space="lab",
        enforce_connectivity=True,
        min_size_factor=0.5,
        output="labels",
        image_shape=None,
        n_jobs=None,
    ):
        self.n_segments = n_segments
        self.compactness = compactness
        self.max_num_iter = max_num_iter
        self.space = space
        self.enforce_connectivity = enforce_connectivity
        self.min_size_factor = min_size_factor
        self.output = output
        self.image_shape = image_shape
        self.n_jobs = n_jobs

    @_fit_context(prefer_skip_nested_validation=True)
    @dask_aware
    def fit(self, X, y=None):
        """Check the parameters and the batch; nothing is learned.

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
        self : SuperpixelSegmenter
            The transformer.
        """
        self._prepare(X, reset=True)
        return self

    @_fit_context(prefer_skip_nested_validation=True)
    @dask_aware
    def fit_transform(self, X, y=None):
        """Superpixels of the images of ``X`` (``fit`` does nothing else).

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
        return self._apply(self._prepare(X, reset=True), self.output)

    @dask_aware
    def transform(self, X):
        """Superpixels of every image of ``X``.

        Parameters
        ----------
        X : array-like or list of array-like
            Batch of images, as in :meth:`fit`, of any size.

        Returns
        -------
        X_out : ndarray or list of ndarray
            Depends on ``output``: image-valued outputs keep the input's
            layout (4-D/3-D in, 3-D label maps or 4-D/3-D colours out; 2-D
            in, 2-D out; list in, list out); ``'features'`` is always
            ``(n_images, 6)``.
        """
        self._validate_params()
        return self._apply(self._prepare(X, reset=False), self.output)

    @dask_aware
    def predict(self, X):
        """Superpixel ids of every pixel of ``X``, whatever ``output`` is.

        For the scorers of :mod:`skseg.metrics` (e.g. against ground-truth
        masks in a :class:`~sklearn.model_selection.GridSearchCV`).

        Parameters
        ----------
        X : array-like or list of array-like
            Batch of images, as in :meth:`fit`.

        Returns
        -------
        labels : ndarray of int32 or list of ndarray
            ``(n_images, height, width)`` for 3-D/4-D input, ``(n_images,
            n_pixels)`` for 2-D input, a list of ``(height, width)`` maps for
            a list.
        """
        self._validate_params()
        return self._apply(self._prepare(X, reset=False), "labels")

    # ------------------------------------------------------------------

    def _prepare(self, X, *, reset):
        batch = check_batch(
            X, image_shape=self.image_shape, estimator=self, reset=reset
        )
        c = batch.n_channels
        if reset:
            self.n_channels_in_ = int(c)
        if self.space == "lab":
            if c not in (1, 3):
                raise ValueError(
                    f"space='lab' needs grayscale (1 channel) or RGB (3 channels) "
                    f"images; X has {c} channels. Drop an alpha channel with "
                    "X[..., :3], or pass space=None to compare the channels as "
                    "they are."
                )
            if c == 3 and batch.dtype.kind == "f":
                lo, hi = batch.value_range or _value_range(batch)
                if lo < 0.0 or hi > 1.0:
                    raise ValueError(
                        f"space='lab' expects float RGB images in [0, 1], but X "
                        f"({batch.dtype}) has values in [{lo:.6g}, {hi:.6g}]. "
                        "Scale 0-255 images with X / 255 (or pass them as uint8), "
                        "or pass space=None to compare the values as they are."
                    )
        return batch

    def _params(self):
        return (
            self.n_segments,
            float(self.compactness),
            self.max_num_iter,
            self.space,
            self.enforce_connectivity,
            float(self.min_size_factor),
        )

    def _apply(self, batch, output):
        params = self._params()
        n = batch.n_images
        workers = n_workers(self.n_jobs)
        if output == "features":
            out = None
        elif output == "labels":
            out = np.empty(batch.n_pixels, np.int32)
        else:
            out = np.empty((batch.n_pixels, batch.n_channels), _mean_dtype(batch.dtype))
        offsets = np.concatenate([[0], np.cumsum(batch.pixel_counts())])
        if workers == 1 or n == 1:
            results = []
            for i in range(n):
                dst = None if out is None else out[offsets[i] : offsets[i + 1]]
                results.append(
                    _segment_image(batch.image(i), batch.boolean, params, output, dst)
                )
        else:
            results = Parallel(n_jobs=self.n_jobs, prefer="threads")(
                delayed(_segment_image)(
                    batch.image(i), batch.boolean, params, output, None
                )
                for i in range(n)
            )
            if out is not None:
                for i, res in enumerate(results):
                    out[offsets[i] : offsets[i + 1]] = res
        if output == "features":
            return np.asarray(results, dtype=np.float64).reshape(n, len(FEATURES))
        return batch.rebuild(out)

    # ------------------------------------------------------------------
    # scikit-learn API

    def __sklearn_is_fitted__(self):
        return True

    def get_feature_names_out(self, input_features=None):
        """Names of the output features.

        ``'features'``: the six columns (``n_superpixels``, ``mean_size``,
        ``max_size``, ``boundary_fraction``, ``contrast``, ``spread``).
        Image outputs fitted on flattened (2-D) images, the columns of the
        2-D output: ``'labels'`` gives ``label0, ...`` (one per pixel),
        ``'quantized'`` keeps the input feature names. Image outputs fitted
        on image-shaped input (or not fitted: the transformer is stateless)
        are images, not columns: the names are those of the channels of one
        output pixel (``label``; ``'quantized'``: the input channels).

        Parameters
        ----------
        input_features : array-like of str or None, default=None
            Input feature names, checked against ``feature_names_in_``.

        Returns
        -------
        feature_names_out : ndarray of str objects
        """
        if self.output == "features":
            return np.asarray(FEATURES, dtype=object)
        if not hasattr(self, "n_features_in_"):
            if self.output == "labels":
                if input_features is not None:
                    channel_names_in(self, input_features)
                return np.asarray(["label"], dtype=object)
            if input_features is None and not hasattr(self, "n_channels_in_"):
                raise ValueError(
                    "SuperpixelSegmenter has not seen any images: fit it or pass "
                    "input_features."
                )
            return channel_names_in(self, input_features)
        names = _check_feature_names_in(self, input_features)
        if self.output == "quantized":
            return names
        shape = self.image_shape
        n_channels = shape[2] if shape is not None and len(shape) == 3 else 1
        n_pixels = self.n_features_in_ // n_channels
        return np.asarray([f"label{p}" for p in range(n_pixels)], dtype=object)

    def __skseg_plan__(self, method, image):
        """What the dask adapter runs for ``method`` on a dask array.

        The protocol of :mod:`skseg._glue`: ``fit`` only checks (``image`` is
        a batch of one image with the array's shape and dtype); ``transform``
        and ``predict`` map the in-memory method over blocks of whole images
        (each image is segmented on its own).
        """

        def meta(func, tiny):  # the output's dtype and trailing shape, on 8x8
            return func(np.zeros((1, 8, 8) + tiny.shape[3:], tiny.dtype))

        mapped = ("transform", "predict")
        return stateless_plan(self, method, image, self._prepare, mapped, meta)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.requires_fit = False
        tags.transformer_tags.preserves_dtype = {
            "quantized": ["float64", "float32"],
            "features": ["float64"],
        }.get(self.output, [])
        return tags


# ----------------------------------------------------------------------
# workers


def _value_range(batch):
    if batch.array is not None:
        return float(batch.array.min()), float(batch.array.max())
    return (
        min(float(im.min()) for im in batch.images),
        max(float(im.max()) for im in batch.images),
    )


def _mean_dtype(dtype):
    return dtype if dtype.kind in "iuf" else np.dtype(np.float64)


def _unit_values(image, boolean):
    """Values in [0, 1] units (integers by their dtype's maximum), float64."""
    if boolean:
        return image.astype(np.float64)
    if image.dtype.kind in "iu":
        return image / np.float64(np.iinfo(image.dtype).max)
    return image.astype(np.float64, copy=False)


def _gray_lightness(image, boolean):
    """CIE L of a grayscale image (that of rgb2lab on the gray RGB image)."""
    v = _unit_values(image[..., 0], boolean)
    high = ((np.maximum(v, 0.04045) + 0.055) / 1.055) ** 2.4
    lin = np.where(v > 0.04045, high, v / 12.92)
    f = np.where(lin > 0.008856, np.cbrt(lin), 7.787 * lin + 16.0 / 116.0)
    return (116.0 * f - 16.0).astype(np.float32)[None]


# rows of an image converted to Lab at a time (then split into planes)
_CHUNK_PIXELS = 1 << 16


def features_of(image, space, boolean=False):
    """The float32 feature planes (n_features, height, width) SLIC clusters.

    RGB images are converted to Lab a band of rows at a time, each band
    written into the planes, so that no second image-sized array is made.
    """
    from ._colorconv import SPACES, from_rgb

    h, w, c = image.shape
    if space is None:
        return np.ascontiguousarray(np.moveaxis(image, -1, 0), dtype=np.float32)
    if c == 1:
        return _gray_lightness(image, boolean)
    planes = np.empty((3, h, w), np.float32)
    rows = max(1, _CHUNK_PIXELS // w)
    buf = np.empty((rows * w, 3), np.float32)
    maxval = 1 if boolean else None
    for y0 in range(0, h, rows):
        y1 = min(h, y0 + rows)
        px = np.ascontiguousarray(image[y0:y1]).reshape(-1, c)
        if px.dtype.kind in "iu" and px.dtype not in (np.uint8, np.uint16):
            px = _unit_values(px, False)  # other integers: floats in [0, 1]
            mv = None
        else:
            mv = maxval
        out = buf[: px.shape[0]]
        from_rgb(px, SPACES["lab"], out, maxval=mv)
        planes[:, y0:y1].reshape(3, -1)[...] = out.T
    return planes


def superpixel_ids(feats, params, out=None):
    """SLIC on one feature image; superpixel ids (h, w) int32 and their number."""
    n_segments, compactness, max_iter, _, connect, min_factor = params
    h, w = feats.shape[1:]
    ys, xs, step = grid_seeds(h, w, n_segments)
    seeds = seed_positions(feats, ys, xs)
    labels = np.empty((h, w), np.int32)
    run_slic(feats, seeds, step, compactness, max_iter, labels)
    out = np.empty((h, w), np.int32) if out is None else out.reshape(h, w)
    if connect:
        min_size = int(min_factor * h * w / seeds.shape[0])
        n = connect_superpixels(labels, feats, min_size, out)
    else:
        _, first, inverse = np.unique(labels, return_index=True, return_inverse=True)
        ids, n = region_ids(first[inverse.ravel()])
        out[...] = ids.reshape(h, w)
    return out, n


def _segment_image(image, boolean, params, output, dst):
    h, w, c = image.shape
    feats = features_of(image, params[3], boolean)
    ids_dst = dst if output == "labels" else None
    ids, n = superpixel_ids(feats, params, ids_dst)
    if output == "labels":
        return ids.reshape(-1)
    flat_ids = ids.reshape(-1)
    counts = np.bincount(flat_ids, minlength=n).astype(np.float64)
    if output == "quantized":
        px = image.reshape(h * w, c)
        means = np.empty((n, c), np.float64)
        for ch in range(c):
            means[:, ch] = np.bincount(flat_ids, weights=px[:, ch], minlength=n)
        means /= counts[:, None]
        dtype = _mean_dtype(image.dtype)
        if dtype.kind in "iu":
            info = np.iinfo(dtype)
            means = np.clip(np.rint(means), info.min, info.max)
        colors = means.astype(dtype)
        res = np.empty((h * w, c), dtype) if dst is None else dst
        np.take(colors, flat_ids, axis=0, out=res)
        return res
    return _features_row(feats, ids, n, counts)


def _features_row(feats, ids, n, counts):
    c, h, w = feats.shape
    flat = feats.reshape(c, h * w).T.astype(np.float64)
    flat_ids = ids.reshape(-1)
    means = np.empty((n, c), np.float64)
    for ch in range(c):
        means[:, ch] = np.bincount(flat_ids, weights=flat[:, ch], minlength=n)
    means /= counts[:, None]
    spread = float(np.sqrt(((flat - means[flat_ids]) ** 2).sum(axis=1).mean()))
    boundary = np.zeros((h, w), bool)
    pairs = []
    for a, b in ((ids[:, :-1], ids[:, 1:]), (ids[:-1, :], ids[1:, :])):
        cut = a != b
        pairs.append((a[cut], b[cut]))
    cut_x = ids[:, :-1] != ids[:, 1:]
    cut_y = ids[:-1, :] != ids[1:, :]
    boundary[:, :-1] |= cut_x
    boundary[:, 1:] |= cut_x
    boundary[:-1, :] |= cut_y
    boundary[1:, :] |= cut_y
    a = np.concatenate([p[0] for p in pairs])
    b = np.concatenate([p[1] for p in pairs])
    contrast = (
        float(np.sqrt(((means[a] - means[b]) ** 2).sum(axis=1)).mean())
        if a.size
        else 0.0
    )
    size = h * w
    return [
        float(n),
        float(counts.mean() / size),
        float(counts.max() / size),
        float(boundary.mean()),
        contrast,
        spread,
    ]
