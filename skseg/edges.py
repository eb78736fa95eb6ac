"""Canny edge detection as a scikit-learn transformer."""

from __future__ import annotations

import math
import warnings
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.parallel import Parallel, delayed
from sklearn.utils.validation import _check_feature_names_in, check_is_fitted

from ._batch import check_batch, user_stacklevel
from ._canny import CannyParams, canny_image, image_scale
from ._glue import (
    ImageOutputMixin,
    channel_names_in,
    dask_aware,
    stateless_plan,
)
from ._parallel import fit_threads, n_workers, run_in_threads

__all__ = ["CannyEdgeExtractor"]

# 64-bit integers beyond this magnitude are not exact in float64.
_EXACT_INT = 2**53


class CannyEdgeExtractor(ImageOutputMixin, TransformerMixin, BaseEstimator):
    """Canny edge maps of a batch of images.

    The tutorial's ``cv2.Canny(gray, 150, 200)`` as a stateless transformer
    over a batch of images: every image becomes a boolean edge map of the
    same height and width. With ``gradient="l2"`` (the default) the result
    is the one of :func:`skimage.feature.canny` with the same ``sigma`` and
    thresholds, pixel for pixel; ``gradient="l1"`` reproduces OpenCV's
    ``cv2.Canny``, so ``CannyEdgeExtractor(sigma=0, low_threshold=150,
    high_threshold=200, gradient="l1")`` is the tutorial's call.

    Colour images (3 channels) are first reduced to their luminance as
    :func:`skimage.color.rgb2gray` computes it (``0.2125 R + 0.7154 G +
    0.0721 B``).

    Parameters
    ----------
    sigma : float, default=1.0
        Standard deviation of the Gaussian smoothing (noise reduction), in
        pixels; 0 disables it (OpenCV's ``cv2.Canny`` does not smooth).

    low_threshold : float, default=None
        Lower hysteresis threshold on the gradient magnitude: weaker pixels
        are never edges, pixels between both thresholds are edges when they
        connect to a strong one. The magnitude is that of the 3x3 Sobel
        operator (``[1, 2, 1]`` by ``[-1, 0, 1]``, unnormalised) applied to
        the smoothed image **in the image's own units**: the values of an
        integer image as they are (0-255 for uint8, so OpenCV's thresholds
        carry over), the values of a float image as given. The luminance of
        an integer colour image is in the units of its dtype too. ``None``
        means 10% of the dtype's maximum (25.5 for uint8, 6553.5 for uint16,
        0.1 for floats, which scikit-image expects in [0, 1]) — the defaults
        of :func:`skimage.feature.canny`. A float image with values outside
        [0, 1] and a default threshold gets a ``UserWarning`` that names the
        range found (a 0..255 float photo would show about twice the edges
        of the same photo as uint8): scale it to [0, 1], or give both
        thresholds in its units.

    high_threshold : float, default=None
        Upper threshold, on the same scale: pixels at least this strong
        start edges. ``None`` means 20% of the dtype's maximum (51 for
        uint8, 0.2 for floats). Must not be lower than ``low_threshold``.

    use_quantiles : bool, default=False
        If True, the thresholds are quantiles in [0, 1] of the gradient
        magnitudes of each image (``None`` meaning 0.1 and 0.2), as in
        :func:`skimage.feature.canny`.

    gradient : {'l2', 'l1'}, default='l2'
        How the edge strength and direction are computed:

        - ``'l2'``: scikit-image's Canny. Euclidean magnitude
          ``sqrt(gx**2 + gy**2)``, non-maximum suppression with bilinear
          interpolation along the gradient, a pixel is weak/strong when its
          magnitude is ``>=`` the threshold, the 1-pixel image border is
          never an edge (the smoothing pads with zeros and renormalises).
        - ``'l1'``: OpenCV's Canny (its default ``L2gradient=False``).
          ``|gx| + |gy|``, suppression along the direction rounded to 0,
          45, 90 or 135 degrees, thresholds strict (``>``), pixels on the
          image border included. Without smoothing (``sigma=0``) it gives
          ``cv2.Canny(image, low_threshold, high_threshold)`` on 8-bit
          images exactly; with ``sigma > 0`` the smoothing reflects the
          image at its border, as ``cv2.GaussianBlur`` does by default.

    image_shape : tuple of int, default=None
        ``(height, width)`` or ``(height, width, n_channels)`` of the images
        when ``X`` is 2-D (one flattened image per row). With ``None``, each
        row of a 2-D ``X`` is a single-channel image of ``1 x n_features``
        pixels (too thin for any edge with ``gradient='l2'``).

    n_jobs : int, default=None
        Number of threads. A batch with at least ``n_jobs`` images is split
        over workers image by image (:class:`joblib.Parallel`, so any joblib
        backend works); otherwise each image is cut into bands of rows
        processed by threads. ``-1`` means all processors. ``None`` means
        one worker unless in a :func:`joblib.parallel_config` context, and
        an image of at least 512 x 512 pixels is then cut into bands on a
        thread per core (as scikit-learn's ``KMeans`` and ``cv2.Canny`` use
        them by default; ``OMP_NUM_THREADS`` or :mod:`threadpoolctl` lower
        it), unless the call runs in a worker thread already (one thread).
        ``n_jobs=1``: one thread. The output does not depend on it.

    Attributes
    ----------
    n_features_in_ : int
        Number of features per row, only when fitted on 2-D (flattened)
        input.

    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of the features, only when fitted on a 2-D input with string
        column names (e.g. a pandas DataFrame).

    See Also
    --------
    skimage.feature.canny : The Canny detector this transformer reproduces.
    KMeansColorSegmenter : Colour segmentation of the same batches.

    Notes
    -----
    The five steps of Canny's detector, on every image:

    1. noise reduction: Gaussian smoothing of standard deviation ``sigma``
       (separable, truncated at 4 sigma; with ``'l2'`` zero padding
       corrected by the smoothed mask so that the border keeps its
       brightness, as scikit-image);
    2. gradient: 3x3 Sobel derivatives ``gx``, ``gy`` and their magnitude;
    3. non-maximum suppression: a pixel stays a candidate only if its
       magnitude is a maximum across the edge, along the gradient direction;
    4. double threshold: candidates at least ``high_threshold`` strong are
       strong edges, those above ``low_threshold`` weak ones;
    5. edge tracking by hysteresis: weak candidates are kept when they are
       8-connected, through candidates, to a strong one.

    Images are read as :func:`skimage.feature.canny` reads them: integer
    images are converted with :func:`skimage.util.img_as_float` and the
    thresholds divided by the dtype's maximum (so they stay in the image's
    units), float images are used as given, boolean images as 0 and 1.
    64-bit integer images are accepted when their values are exact in
    float64 (``|x| <= 2**53``); larger values raise a ``ValueError``. A
    constant image has no edges, whatever the thresholds (scikit-image can
    report the rounding noise of its smoothing as edges on constant images
    of large values with zero or quantile thresholds).

    The kernels (numba, cached on disk) stream every image row by row with
    the arithmetic of scikit-image and SciPy in the same order, which is
    why the edge maps are identical, at about the speed of OpenCV.

    References
    ----------
    .. [1] J. Canny, "A computational approach to edge detection", IEEE
       Transactions on Pattern Analysis and Machine Intelligence, 8(6),
       679-698, 1986. https://doi.org/10.1109/TPAMI.1986.4767851

    Examples
    --------
    >>> import numpy as np
    >>> from skseg.edges import CannyEdgeExtractor
    >>> X = np.zeros((1, 8, 8), dtype=np.uint8)  # one 8x8 grayscale image
    >>> X[0, 2:6, 2:6] = 200                     # a bright square
    >>> edges = CannyEdgeExtractor().fit_transform(X)
    >>> edges.shape, edges.dtype
    ((1, 8, 8), dtype('bool'))
    >>> edges[0].astype(int)
    array([[0, 0, 0, 0, 0, 0, 0, 0],
           [0, 0, 0, 0, 0, 0, 0, 0],
           [0, 0, 1, 1, 1, 1, 0, 0],
           [0, 0, 1, 0, 0, 1, 0, 0],
           [0, 0, 1, 0, 0, 1, 0, 0],
           [0, 0, 1, 1, 1, 1, 0, 0],
           [0, 0, 0, 0, 0, 0, 0, 0],
           [0, 0, 0, 0, 0, 0, 0, 0]])

    The tutorial's OpenCV call, on flattened 8x8 images (rows of ``X``), as
    features for a classifier:

    >>> cv_like = CannyEdgeExtractor(
    ...     sigma=0, low_threshold=150, high_threshold=200, gradient="l1",
    ...     image_shape=(8, 8))
    >>> cv_like.fit_transform(X.reshape(1, -1)).shape
    (1, 64)
    """

    _parameter_constraints: dict = {
        "sigma": [Interval(Real, 0, None, closed="left")],
        "low_threshold": [Interval(Real, 0, None, closed="left"), None],
        "high_threshold": [Interval(Real, 0, None, closed="left"), None],
        "use_quantiles": ["boolean"],
        "gradient": [StrOptions({"l2", "l1"})],
        "image_shape": [tuple, list, None],
        "n_jobs": [Integral, None],
    }

    def __init__(
        self,
        sigma=1.0,
        *,
        low_threshold=None,
        high_threshold=None,
        use_quantiles=False,
        gradient="l2",
        image_shape=None,
        n_jobs=None,
    ):
        self.sigma = sigma
        self.low_threshold = low_threshold
        self.high_threshold = high_threshold
        self.use_quantiles = use_quantiles
        self.gradient = gradient
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
            different sizes. Grayscale or RGB.
        y : None
            Ignored.

        Returns
        -------
        self : CannyEdgeExtractor
            The transformer.
        """
        self._prepare(X, reset=True)
        return self

    @_fit_context(prefer_skip_nested_validation=True)
    @dask_aware
    def fit_transform(self, X, y=None):
        """Edge maps of the images of ``X`` (``fit`` does nothing else).

        Parameters
        ----------
        X : array-like or list of array-like
            Batch of images, as in :meth:`fit`.
        y : None
            Ignored.

        Returns
        -------
        edges : ndarray of bool or list of ndarray of bool
            As :meth:`transform`.
        """
        return self._edges(*self._prepare(X, reset=True))

    @dask_aware
    def transform(self, X):
        """Edge maps of the images of ``X``.

        Parameters
        ----------
        X : array-like or list of array-like
            Batch of images, as in :meth:`fit`, of any size.

        Returns
        -------
        edges : ndarray of bool or list of ndarray of bool
            One boolean map per image, True on edges, in the caller's
            layout: ``(n_images, height, width)`` for 3-D and 4-D input
            (colour images lose their channel axis), ``(n_images,
            height * width)`` for 2-D input, a list of ``(height, width)``
            maps for a list.
        """
        check_is_fitted(self)
        self._validate_params()
        return self._edges(*self._prepare(X, reset=False))

    # ------------------------------------------------------------------
    # validation

    def _prepare(self, X, *, reset):
        batch = check_batch(
            X,
            image_shape=self.image_shape,
            estimator=self,
            reset=reset,
            spatial=True,
        )
        if batch.n_channels not in (1, 3):
            raise ValueError(
                f"{type(self).__name__} needs grayscale (1 channel) or RGB (3 "
                f"channels) images; X has {batch.n_channels} channels. Drop an "
                "alpha channel with X[..., :3] (or blend it with "
                "skimage.color.rgba2rgb) first."
            )
        from_bool = batch.boolean
        params = CannyParams(
            self.sigma,
            self.low_threshold,
            self.high_threshold,
            self.use_quantiles,
            self.gradient,
        )
        self._check_thresholds(batch, from_bool)
        return batch, params, from_bool

    def _check_thresholds(self, batch, from_bool):
        low, high = self.low_threshold, self.high_threshold
        if self.use_quantiles:
            for name, value in (("low_threshold", low), ("high_threshold", high)):
                if value is not None and not 0.0 <= value <= 1.0:
                    raise ValueError(
                        f"With use_quantiles=True the thresholds are quantiles "
                        f"and must be in [0, 1]; got {name}={value!r}."
                    )
            low = 0.1 if low is None else low
            high = 0.2 if high is None else high
            what = "quantile"
        else:
            unit = _dtype_unit(batch.dtype, from_bool)
            defaults = low is None and high is None
            low = 0.1 * unit if low is None else low
            high = 0.2 * unit if high is None else high
            what = f"threshold for {batch.dtype} images"
            if defaults:
                self._warn_unreachable(batch, low)
            if batch.dtype.kind == "f" and (
                self.low_threshold is None or self.high_threshold is None
            ):
                self._warn_float_range(batch)
        if low > high:
            raise ValueError(
                f"low_threshold must not be greater than high_threshold; got "
                f"low_threshold={low!r} and high_threshold={high!r} ({what}; "
                "None means 10% and 20% of the dtype's maximum)."
            )
        if batch.dtype.kind in "iu" and batch.dtype.itemsize == 8:
            lo, hi = _value_range(batch)
            if lo < -_EXACT_INT or hi > _EXACT_INT:
                raise ValueError(
                    f"64-bit integer images are supported only with values "
                    f"within +-2**53 (exact in float64); X ({batch.dtype}) has "
                    f"values in [{lo}, {hi}]. Convert it to a smaller integer "
                    "dtype or to float first."
                )

    def _warn_float_range(self, batch):
        # A default threshold is 10% or 20% of a [0, 1] float image's range:
        # on floats in 0..255 it finds about twice the edges it would on the
        # same image in [0, 1]. The range is the one the batch contract
        # computed for its finiteness check (no second pass over the data).
        lo, hi = batch.value_range or _value_range(batch)
        if lo >= 0.0 and hi <= 1.0:
            return
        defaults = [
            f"{name}={value}"
            for name, value, given in (
                ("low_threshold", 0.1, self.low_threshold),
                ("high_threshold", 0.2, self.high_threshold),
            )
            if given is None
        ]
        verb = "is" if len(defaults) == 1 else "are"
        warnings.warn(
            f"X ({batch.dtype}) has values in [{lo:.6g}, {hi:.6g}], but the "
            f"default {' and '.join(defaults)} {verb} meant for float images in "
            "[0, 1]: on other ranges the edges found are not the intended "
            "ones (more of them for 0..255 floats). Scale the images to "
            "[0, 1] (e.g. X / 255, or pass them as uint8), or give "
            "low_threshold and high_threshold in the images' units (or "
            "use_quantiles=True).",
            UserWarning,
            stacklevel=user_stacklevel(),
        )

    def _warn_unreachable(self, batch, low):
        # The defaults are 10%/20% of the dtype's range: for 32- and 64-bit
        # integer images holding ordinary values no magnitude can reach them.
        if batch.dtype.kind not in "iu" or batch.dtype.itemsize < 4:
            return
        lo, hi = _value_range(batch)
        # |Sobel| <= 4 * (max - min) per axis, so magnitude <= 4 * sqrt(2) * span
        if 4.0 * math.sqrt(2.0) * (float(hi) - float(lo)) < low:
            warnings.warn(
                f"X has dtype {batch.dtype} with values in [{lo}, {hi}], but the "
                f"default thresholds are 10% and 20% of the {batch.dtype} maximum "
                f"({low:.3g} and {2 * low:.3g}): no pixel can be an edge. Pass "
                "low_threshold/high_threshold in the image's units, use "
                "use_quantiles=True, or convert the images to uint8, uint16 or "
                "float.",
                UserWarning,
                stacklevel=user_stacklevel(),
            )

    # ------------------------------------------------------------------
    # computing

    def _edges(self, batch, params, from_bool):
        workers = n_workers(self.n_jobs)
        if workers > 1 and batch.n_images >= workers:
            runs = _runs(batch.n_images, 4 * workers)
            results = Parallel(n_jobs=self.n_jobs, prefer="threads")(
                delayed(_edges_of_run)(
                    [batch.image(i) for i in range(start, stop)], params, from_bool
                )
                for start, stop in runs
            )
            flat = np.concatenate(results)
        else:
            # Fewer images than workers: each image is split into row bands.
            # n_jobs=None outside a joblib context: the bands of a large image
            # go to the threads the palette engine uses (fit_threads, as
            # OpenMP counts them: scikit-learn's KMeans and cv2.Canny use the
            # machine's cores by default too); one thread in a worker thread.
            min_pixels = 0
            if self.n_jobs is None and workers == 1:
                workers, min_pixels = fit_threads(), BAND_MIN_PIXELS
            flat = _edges_of_run(
                [batch.image(i) for i in range(batch.n_images)],
                params,
                from_bool,
                n_bands=workers,
                run_bands=_thread_runner(workers) if workers > 1 else None,
                min_band_pixels=min_pixels,
            )
        return batch.rebuild(flat)

    # ------------------------------------------------------------------
    # scikit-learn API

    def __sklearn_is_fitted__(self):
        return True

    def get_feature_names_out(self, input_features=None):
        """Names of the output features.

        Fitted on flattened (2-D) images, the columns of the 2-D output, one
        per pixel: ``cannyedgeextractor0``, ``cannyedgeextractor1``, ...
        Fitted on image-shaped input (or not fitted: the transformer is
        stateless), the output is edge maps, not columns, and the name is
        that of the one channel of an output pixel, ``edge``, which is what
        the next step of a :class:`~sklearn.pipeline.Pipeline` receives.

        Parameters
        ----------
        input_features : array-like of str or None, default=None
            Input feature names, checked against ``feature_names_in_``.

        Returns
        -------
        feature_names_out : ndarray of str objects
        """
        if not hasattr(self, "n_features_in_"):
            if input_features is not None:
                channel_names_in(self, input_features)
            return np.asarray(["edge"], dtype=object)
        _check_feature_names_in(self, input_features)
        shape = self.image_shape
        n_channels = shape[2] if shape is not None and len(shape) == 3 else 1
        prefix = type(self).__name__.lower()
        n_pixels = self.n_features_in_ // n_channels
        return np.asarray([f"{prefix}{p}" for p in range(n_pixels)], dtype=object)

    def __skseg_plan__(self, method, image):
        """What the dask adapter runs for ``method`` on a dask array.

        The protocol of :mod:`skseg._glue`: ``fit`` only checks (``image``
        is a batch of one image with the array's shape and dtype);
        ``transform`` maps the in-memory method over blocks of whole images.
        """
        return stateless_plan(self, method, image, self._prepare)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.requires_fit = False
        tags.transformer_tags.preserves_dtype = []  # edge maps are boolean
        return tags


# ----------------------------------------------------------------------
# helpers


def _runs(n, n_runs):
    bounds = np.linspace(0, n, min(n, n_runs) + 1).round().astype(int)
    return [(a, b) for a, b in zip(bounds[:-1], bounds[1:]) if b > a]


#: With ``n_jobs=None``, images of at least this many pixels are cut into
#: row bands on :func:`~skseg._parallel.fit_threads` threads (smaller ones
#: on one thread: the bands' start-up costs more than it saves there).
BAND_MIN_PIXELS = 1 << 18


def _edges_of_run(
    images, params, from_bool, n_bands=1, run_bands=None, min_band_pixels=0
):
    """Edges of a run of images, one flat boolean array (returned to the caller).

    Images of fewer than ``min_band_pixels`` pixels are not cut into bands.
    """
    flat = np.empty(sum(im.shape[0] * im.shape[1] for im in images), np.bool_)
    start = 0
    for image in images:
        stop = start + image.shape[0] * image.shape[1]
        out = flat[start:stop].reshape(image.shape[:2])
        banded = image.shape[0] * image.shape[1] >= min_band_pixels
        canny_image(
            image,
            params,
            from_bool=from_bool,
            out=out,
            n_bands=n_bands if banded else 1,
            run_bands=run_bands if banded else None,
        )
        start = stop
    return flat


def _thread_runner(workers):
    def run_bands(func, bounds):
        run_in_threads(func, zip(bounds[:-1], bounds[1:]), workers)

    return run_bands


def _dtype_unit(dtype, from_bool):
    """The dtype's maximum (the 100% of the default thresholds)."""
    return image_scale(dtype, l1=True, from_bool=from_bool)[4]


def _value_range(batch):
    if batch.array is not None:
        return batch.array.min(), batch.array.max()
    return (
        min(im.min() for im in batch.images),
        max(im.max() for im in batch.images),
    )
