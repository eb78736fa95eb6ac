"""The image-batch contract: validation of a batch of images and rebuilding outputs.

Every public estimator takes a batch ``X`` whose first axis is images:

====================================  ==============================================
``X``                                 meaning
====================================  ==============================================
4-D ``(n_images, h, w, n_channels)``  colour / multichannel images, channels last
3-D ``(n_images, h, w)``              grayscale images
2-D ``(n_images, n_features)``        flattened images; ``image_shape`` says how to
                                      unflatten, ``None`` reads each row as one
                                      single-channel image of ``1 x n_features``
list of arrays                        images of different sizes (ragged)
====================================  ==============================================

A single image is not a batch: a 3-D array whose last axis has 3 or 4 entries
is refused (``X[None]`` is one colour image, ``X[..., None]`` a batch of
grayscale images 3 or 4 pixels wide), and so are a lone PIL image and file
paths (read them with :func:`skseg.datasets.load_images`); a list of PIL images
is a batch.

Shapes that look like something else are refused rather than read silently
(each rule steps aside when ``image_shape`` says how to read ``X``):

- a 2-D array of 3 or 4 columns and at least :data:`PIXEL_TABLE_MIN_ROWS`
  rows is scikit-learn's pixel table (``image.reshape(-1, 3)``), not images of
  3 or 4 pixels;
- a 2-D array of at least :data:`SPATIAL_MIN_WIDTH` columns given to a
  spatial step (Canny edges) would be read as images one
  pixel high: one grayscale image (``X[None]``) or flattened images
  (``image_shape=(h, w)``) are meant;
- a 4-D array with 3 or 4 entries on axis 1 and more than 4 on its last axis
  is a channels-first batch (``np.moveaxis(X, 1, -1)``); so is a 3-D image of
  a list with 3 or 4 entries on its first axis and more than 4 on its last.

The thresholds sit above every shape scikit-learn's ``check_estimator``
feeds (at most 300 rows and 10 columns), so its checks still pass.

This module is the only place that reshapes images. Estimators call
:func:`check_batch` to get an :class:`ImageBatch` (a view of the caller's data,
never a modified copy) and hand per-pixel results back to
:meth:`ImageBatch.rebuild`, which returns them in the caller's layout.
"""

from __future__ import annotations

import numbers
import os
import sys
from dataclasses import dataclass

import numpy as np
from scipy import sparse
from sklearn.utils.validation import validate_data

from ._glue import is_dask_array
from ._parallel import fit_threads, run_in_threads

__all__ = ["ImageBatch", "check_batch", "check_image_shape"]

#: A 2-D array of 3 or 4 columns with at least this many rows (the pixels of a
#: 32 x 32 image) is read as a pixel table and refused without image_shape.
PIXEL_TABLE_MIN_ROWS = 1024
#: A 2-D array of at least this many columns is refused by spatial steps
#: without image_shape (rows would be images one pixel high).
SPATIAL_MIN_WIDTH = 16
#: Channels-first: 3 or 4 entries on the channel-like axis, and more than
#: this many on the last axis (no colour image has more than 4 channels).
_MAX_COLOUR_CHANNELS = 4

_RESHAPE_HINT = (
    "Reshape your data: a batch of images has the images on its first axis, "
    "e.g. X[None] for a single (height, width, channels) image or "
    "X.reshape(1, -1) for a single flattened image."
)


@dataclass(frozen=True)
class ImageBatch:
    """A validated batch of images.

    Attributes
    ----------
    layout : {'4d', '3d', '2d', 'list'}
        The caller's layout, used to rebuild outputs.
    array : ndarray of shape (n_images, height, width, n_channels) or None
        The images as one array (a view of the caller's data when possible);
        ``None`` for ragged lists.
    images : list of ndarray of shape (height, width, n_channels) or None
        The images of a ragged list; ``None`` otherwise.
    n_channels : int
        Number of channels of every image.
    gray : bool
        True when the caller's images have no channel axis (3-D batches,
        lists of 2-D images, and 2-D rows without a channel in
        ``image_shape``). Single-channel image outputs then come back without
        a channel axis.
    boolean : bool
        True when the caller's images are boolean; they are then seen as a
        0/1 uint8 view, and full intensity is 1, not 255.
    value_range : tuple of float or None
        ``(min, max)`` of the values, when the finiteness check of float
        images computed them (so that no estimator reads the data again for
        them); ``None`` otherwise.
    """

    layout: str
    array: np.ndarray | None
    images: list | None
    n_channels: int
    gray: bool
    boolean: bool = False
    value_range: tuple | None = None

    @property
    def n_images(self):
        return self.array.shape[0] if self.array is not None else len(self.images)

    @property
    def dtype(self):
        return self.array.dtype if self.array is not None else self.images[0].dtype

    @property
    def n_pixels(self):
        """Total number of pixels in the batch."""
        if self.array is not None:
            return int(np.prod(self.array.shape[:3]))
        return int(sum(im.shape[0] * im.shape[1] for im in self.images))

    def image(self, i):
        """Image ``i`` as an array of shape (height, width, n_channels)."""
        return self.array[i] if self.array is not None else self.images[i]

    def image_pixels(self, i):
        """Pixels of image ``i`` as an array of shape (n_pixels, n_channels)."""
        return self.image(i).reshape(-1, self.n_channels)

    def chunks(self, n_chunks):
        """Split the batch into at most ``n_chunks`` contiguous runs of images.

        Yields ``(start, stop, pixels)`` where ``pixels`` has shape
        (n_pixels_in_chunk, n_channels). For array batches a run of images is
        one reshape (a view when the caller's array is contiguous).
        """
        n = self.n_images
        n_chunks = max(1, min(int(n_chunks), n))
        bounds = np.linspace(0, n, n_chunks + 1).round().astype(int)
        for start, stop in zip(bounds[:-1], bounds[1:]):
            if stop <= start:
                continue
            if self.array is not None:
                yield start, stop, self.array[start:stop].reshape(-1, self.n_channels)
            else:
                for i in range(start, stop):
                    yield i, i + 1, self.image_pixels(i)

    def pixel_counts(self):
        """Number of pixels of every image, shape (n_images,)."""
        if self.array is not None:
            h, w = self.array.shape[1:3]
            return np.full(self.array.shape[0], h * w, dtype=np.int64)
        return np.array([im.shape[0] * im.shape[1] for im in self.images], np.int64)

    def rebuild(self, flat, *, keep_channels=False):
        """Return per-pixel results in the caller's layout.

        Parameters
        ----------
        flat : ndarray of shape (n_pixels_total,) or (n_pixels_total, k)
            Results for every pixel of the batch, images one after the other
            in batch order. 1-D results (label maps) come back without a
            channel axis; 2-D results keep their ``k`` channels, except that a
            single channel is dropped when the caller's images had none
            (a grayscale image comes back grayscale).
        keep_channels : bool, default=False
            Keep the channel axis even when it is single and the caller's
            images had none (for outputs whose channels are not colours,
            such as distances to ``k`` centres).

        Returns
        -------
        out : ndarray or list of ndarray
            4-D/3-D batches give one array ``(n_images, h, w[, k])``, 2-D input
            gives ``(n_images, n_pixels * k)``, ragged lists give a list.
        """
        channels = flat.shape[1] if flat.ndim == 2 else None
        if channels == 1 and self.gray and not keep_channels:
            flat = flat[:, 0]
            channels = None
        tail = () if channels is None else (channels,)
        if self.layout == "list":
            out, offset = [], 0
            for im in self.images:
                h, w = im.shape[:2]
                out.append(flat[offset : offset + h * w].reshape((h, w) + tail))
                offset += h * w
            return out
        n, h, w = self.array.shape[:3]
        if self.layout == "2d":
            return flat.reshape(n, -1)
        return flat.reshape((n, h, w) + tail)


def check_image_shape(image_shape):
    """Validate the ``image_shape`` parameter; return it as a tuple or None."""
    if image_shape is None:
        return None
    shape = tuple(image_shape) if isinstance(image_shape, (tuple, list)) else None
    if (
        shape is None
        or len(shape) not in (2, 3)
        or not all(
            isinstance(s, numbers.Integral) and not isinstance(s, bool) and s > 0
            for s in shape
        )
    ):
        raise ValueError(
            "image_shape must be None, (height, width) or (height, width, "
            f"n_channels) with positive integers; got image_shape={image_shape!r}."
        )
    return tuple(int(s) for s in shape)


def _check_dtype(dtype, what="X"):
    if dtype.kind == "c":
        raise ValueError(
            f"Complex data not supported: {what} has dtype {dtype}; images must be "
            "real-valued."
        )
    if dtype.kind not in "biuf":
        raise TypeError(
            f"{what} has dtype {dtype}; images must be numeric (bool, integer or "
            "float). Convert object or string arrays with np.asarray(X, dtype=float)."
        )


#: Float arrays of at least this many values have their minimum and maximum
#: found at the same time on two threads (NumPy's reductions release the
#: GIL): on a 2048x2048 float64 image, 3.0 against 4.8 ms (a scratch script,
#: medians of 50), a sixth of a Canny transform there.
MIN_MAX_PAIR_SIZE = 1 << 20


def _min_max(a):
    """``(a.min(), a.max())``, the two at once when ``a`` is large."""
    if a.size < MIN_MAX_PAIR_SIZE:
        return a.min(), a.max()
    found = [None, None]

    def extreme(i):
        found[i] = a.min() if i == 0 else a.max()

    # (one thread: run_in_threads makes both calls in this thread)
    run_in_threads(extreme, [(0,), (1,)], fit_threads())
    return found[0], found[1]


def _check_finite(a, what="X"):
    """Raise on NaN or infinity; return (min, max) of float data, else None."""
    if a.dtype.kind != "f" or not a.size:
        return None
    # min/max propagate NaN and expose inf without a temporary mask.
    lo, hi = _min_max(a)
    if not (np.isfinite(lo) and np.isfinite(hi)):
        raise ValueError(
            f"Input {what} contains NaN or infinity; images must be finite."
        )
    return float(lo), float(hi)


def _as_image_dtype(a):
    # bool images are 0/1 uint8 images (same item size: a view, not a copy).
    if a.dtype == np.bool_:
        return a.view(np.uint8)
    if a.dtype == np.float16:
        return a.astype(np.float32)
    if a.dtype.kind == "f" and a.dtype.itemsize > 8:
        return a.astype(np.float64)  # long double: the kernels work in float64
    return a


def _is_pil_image(x):
    # PIL is never imported here: an object can only be a PIL image if the
    # caller has imported PIL.Image already.
    pil = sys.modules.get("PIL.Image")
    return pil is not None and isinstance(x, pil.Image)


# PIL modes whose arrays are not intensities or RGB colours.
_PIL_MODES_TO_CONVERT = {
    "P": "colours but palette indices",
    "PA": "colours but palette indices",
    "CMYK": "RGB colours but CMYK inks",
    "YCbCr": "RGB colours but YCbCr",
    "LAB": "RGB colours but Lab",
    "HSV": "RGB colours but HSV",
}


def _is_path(x):
    return isinstance(x, (str, bytes, os.PathLike))


def _refuse_non_arrays(X):
    """Raise for the things that are not a batch of images but look close."""
    if _is_path(X) or (
        isinstance(X, (list, tuple)) and len(X) and all(_is_path(x) for x in X)
    ):
        what = (
            f"a path ({type(X).__name__})"
            if _is_path(X)
            else f"a {type(X).__name__} of paths"
        )
        raise TypeError(
            f"X is {what}: skseg estimators take images, not file names. Read "
            "the files first with skseg.datasets.load_images(paths), which "
            "returns a list of arrays (a ragged batch)."
        )
    if _is_pil_image(X):
        raise TypeError(
            f"X is a single PIL image ({X.width}x{X.height}, mode {X.mode!r}), "
            "but the first axis of X must be images. Pass np.asarray(img)[None] "
            "for a batch of one image, or a list of PIL images [img, ...]."
        )


def _looks_like_image_list(X):
    # A list with at least one 2-D or 3-D item is a list of images; its other
    # items are then checked (and reported) image by image.
    if not isinstance(X, (list, tuple)) or len(X) == 0:
        return False
    return any(_is_pil_image(x) or np.ndim(x) >= 2 for x in X)


def user_stacklevel():
    """Stack level of the first frame outside skseg and scikit-learn's wrappers.

    Warnings raised deep inside the package then point at the caller's line.
    """
    import os
    import sys

    here = os.path.dirname(os.path.abspath(__file__))
    wrappers = (
        os.path.join("sklearn", "base.py"),
        os.path.join("sklearn", "utils", "_set_output.py"),
    )
    frame, level = sys._getframe(1), 1
    while frame is not None:
        fname = os.path.abspath(frame.f_code.co_filename)
        if not (fname.startswith(here) or fname.endswith(wrappers)):
            return level
        frame, level = frame.f_back, level + 1
    return level


def check_batch(X, *, image_shape=None, estimator=None, reset=True, spatial=False):
    """Validate a batch of images and return an :class:`ImageBatch`.

    Parameters
    ----------
    X : array-like or list of array-like
        The batch, first axis images (see the module docstring).
    image_shape : tuple of int, optional
        ``(height, width)`` or ``(height, width, n_channels)`` of every image
        when ``X`` is 2-D (flattened images). For 3-D/4-D input it must agree
        with the images' shape if given.
    estimator : estimator, optional
        For 2-D input, :func:`sklearn.utils.validation.validate_data` is run
        on ``estimator`` (sets or checks ``n_features_in_`` and
        ``feature_names_in_``).
    reset : bool, default=True
        Whether this is a fit (set ``n_features_in_``) or a later call
        (check it). A fit on image-shaped (not 2-D) input removes the
        ``n_features_in_`` and ``feature_names_in_`` of an earlier fit.
    spatial : bool, default=False
        Whether the caller works on neighbouring pixels (Canny edges).
        A 2-D array of :data:`SPATIAL_MIN_WIDTH` columns or more
        without ``image_shape`` is then refused: its rows would be images
        one pixel high.

    Returns
    -------
    batch : ImageBatch
    """
    batch = _check_any(X, image_shape, estimator, reset, spatial)
    if estimator is not None and reset and batch.layout != "2d":
        for attr in ("n_features_in_", "feature_names_in_"):
            if hasattr(estimator, attr):
                delattr(estimator, attr)
    return batch


def _check_any(X, image_shape, estimator, reset, spatial=False):
    image_shape = check_image_shape(image_shape)
    if is_dask_array(X):
        # Reached only where no dask_aware method took X: never gather a
        # collection's pixels into this process behind the caller's back.
        raise TypeError(
            "A dask array was passed where skseg needs images in memory; "
            "call X.compute() first if it fits in memory."
        )
    _refuse_non_arrays(X)
    if sparse.issparse(X):
        raise TypeError(
            "Sparse data was passed for X, but skseg estimators need dense "
            "images. Use X.toarray() to convert to a dense numpy array."
        )
    if isinstance(X, (list, tuple)) and len(X) == 0:
        raise ValueError(
            f"Found an empty batch: X is an empty {type(X).__name__}; at least "
            "one image is required."
        )
    if _looks_like_image_list(X):
        return _check_list(X, image_shape)
    ndim = getattr(X, "ndim", None)
    if ndim is None and hasattr(X, "columns") and len(getattr(X, "shape", ())) == 2:
        # a DataFrame without ndim (polars): validate_data reads its column
        # names, as it does a pandas DataFrame's
        ndim = 2
    if ndim is None:
        X = np.asarray(X)
        ndim = X.ndim
    if ndim == 2:
        return _check_flat(X, image_shape, estimator, reset, spatial)
    X = np.asarray(X)
    if X.ndim in (3, 4):
        return _check_array(X, image_shape)
    if X.ndim < 2:
        raise ValueError(
            f"Expected a batch of images (2-D, 3-D or 4-D array, or a list of "
            f"images), got a {X.ndim}-D array of shape {X.shape}. {_RESHAPE_HINT}"
        )
    raise ValueError(
        f"Expected a batch of images with at most 4 dimensions (n_images, height, "
        f"width, n_channels), got a {X.ndim}-D array of shape {X.shape}."
    )


def _pixel_table_message(shape):
    n, c = shape
    return (
        f"X has shape {shape}: {n} rows of {c} columns look like a pixel table "
        f"(one row per pixel, as image.reshape(-1, {c}) gives), but the rows of "
        f"a 2-D X are images, so X would be read as {n} grayscale images of "
        f"1 x {c} pixels. Pass the image itself, image[None] (shape (1, height, "
        f"width, {c})), or the pixel table as one image 1 pixel high, "
        f"X[None, None] (shape {(1, 1, n, c)}). If the rows really are images "
        f"of {c} pixels, say so with image_shape=(1, {c})."
    )


def _spatial_message(shape, estimator):
    n, m = shape
    who = type(estimator).__name__ if estimator is not None else "This step"
    return (
        f"{who} works on neighbouring pixels, but X is a 2-D array of shape "
        f"{shape} given without image_shape, which would read each row as an "
        f"image 1 pixel high and {m} pixels wide. Pass X[None] (shape "
        f"{(1, n, m)}) if X is one grayscale image, or image_shape=(height, "
        "width) (or (height, width, n_channels)) if its rows are flattened "
        f"images; image_shape=(1, {m}) if they really are strips 1 pixel high."
    )


def _unread_column_names(X):
    """Column names of a DataFrame that scikit-learn's validation does not read.

    scikit-learn reads pandas column names, and polars ones only from
    version 1.8 on (through narwhals); before, a polars DataFrame lost its
    names. Returns them (strings only, as scikit-learn) when scikit-learn
    would lose them, else None.
    """
    if not hasattr(X, "columns") or hasattr(X, "iloc"):  # not a frame / pandas
        return None
    from sklearn.utils.validation import _get_feature_names

    try:
        if _get_feature_names(X) is not None:
            return None
    except TypeError:  # mixed column types: scikit-learn's own error follows
        return None
    names = list(X.columns)
    if names and all(isinstance(name, str) for name in names):
        return np.asarray(names, dtype=object)
    return None


def _validate_named(estimator, X, reset):
    """``validate_data`` that keeps polars column names as pandas ones."""
    names = _unread_column_names(X)
    kwargs = {
        "dtype": "numeric",
        "ensure_all_finite": True,
        "ensure_min_samples": 1,
        "ensure_min_features": 1,
    }
    if names is None:
        return validate_data(estimator, X, reset=reset, **kwargs)
    X = np.asarray(X)
    if reset:
        X = validate_data(estimator, X, reset=True, **kwargs)
        estimator.feature_names_in_ = names
        return X
    fitted = getattr(estimator, "feature_names_in_", None)
    if fitted is not None and not np.array_equal(fitted, names):
        raise ValueError(
            "The feature names should match those that were passed during fit; "
            f"fit saw {list(fitted)[:5]}..., X has {list(names)[:5]}...."
        )
    # the names agree: validate the array without scikit-learn's warning
    # that it has none
    if fitted is not None:
        del estimator.feature_names_in_
    try:
        return validate_data(estimator, X, reset=False, **kwargs)
    finally:
        if fitted is not None:
            estimator.feature_names_in_ = fitted


def _check_flat(X, image_shape, estimator, reset, spatial=False):
    shape = getattr(X, "shape", None)
    if image_shape is None and shape is not None and len(shape) == 2:
        # refused before validate_data: the error is about the shape
        n, m = (int(v) for v in shape)
        if m in (3, 4) and n >= PIXEL_TABLE_MIN_ROWS:
            raise ValueError(_pixel_table_message((n, m)))
        if spatial and m >= SPATIAL_MIN_WIDTH:
            raise ValueError(_spatial_message((n, m), estimator))
    if estimator is not None:
        X = _validate_named(estimator, X, reset)
        value_range = None
    else:
        X = np.asarray(X)
        _check_dtype(X.dtype)
        value_range = _check_finite(X)
    _check_dtype(X.dtype)
    boolean = X.dtype == np.bool_
    X = _as_image_dtype(X)
    n, n_features = X.shape
    if n == 0 or n_features == 0:
        raise ValueError(
            f"Found an empty batch of shape {X.shape}; at least one image with "
            "at least one pixel is required."
        )
    if image_shape is None:
        shape, gray = (1, n_features, 1), True
    else:
        shape = image_shape if len(image_shape) == 3 else image_shape + (1,)
        gray = len(image_shape) == 2
        if int(np.prod(shape)) != n_features:
            raise ValueError(
                f"image_shape={image_shape} needs {int(np.prod(shape))} features "
                f"per row, but X has {n_features} features (shape {X.shape})."
            )
    return ImageBatch(
        "2d", X.reshape((n,) + shape), None, shape[2], gray, boolean, value_range
    )


def _single_image_message(shape):
    return (
        f"X has shape {shape}: a 3-D array whose last axis has {shape[-1]} "
        "entries looks like a single colour image, but the first axis of X must "
        "be images. Pass X[None] (shape "
        f"{(1,) + tuple(shape)}) for one colour image, or X[..., None] (shape "
        f"{tuple(shape) + (1,)}) for a batch of {shape[0]} grayscale images that "
        f"really are {shape[-1]} pixels wide."
    )


def _channels_first_message(shape, what="X", axis=1):
    lead = shape[:axis]
    c, rest = shape[axis], tuple(shape[axis + 1 :])
    fixed = lead + rest + (c,)
    call = f"np.moveaxis({'X' if what == 'X' else 'image'}, {axis}, -1)"
    return (
        f"{what} has shape {tuple(shape)}: axis {axis} has {c} entries and the "
        f"last axis {shape[-1]}, which looks like channels first (channels, "
        "height, width), but skseg reads images channels last (height, width, "
        f"channels). Pass {call} (shape {fixed}). If these really are images "
        f"{c} pixels high with {shape[-1]} channels, say so with "
        f"image_shape={(c,) + rest}."
    )


def _looks_channels_first(shape, axis, image_shape):
    return (
        image_shape is None
        and shape[axis] in (3, 4)
        and shape[-1] > _MAX_COLOUR_CHANNELS
    )


def _check_array(X, image_shape):
    _check_dtype(X.dtype)
    if X.ndim == 4 and _looks_channels_first(X.shape, 1, image_shape):
        raise ValueError(_channels_first_message(X.shape))
    if X.shape[0] == 0:
        raise ValueError(
            f"Found an empty batch: X has shape {X.shape} (0 images); at least "
            "one image is required."
        )
    if X.ndim == 3:
        if X.shape[-1] in (3, 4) and X.shape[1] > 0:
            raise ValueError(_single_image_message(X.shape))
        arr, gray = X[..., None], True
    else:
        arr, gray = X, False
    n, h, w, c = arr.shape
    if h == 0 or w == 0 or c == 0:
        raise ValueError(
            f"Found 0-pixel images: X has shape {X.shape}; every image needs at "
            "least one pixel and one channel."
        )
    if image_shape is not None and tuple(image_shape) not in (
        (h, w),
        (h, w, c),
    ):
        raise ValueError(
            f"image_shape={image_shape} does not match the images in X, which "
            f"have shape {X.shape[1:]}."
        )
    value_range = _check_finite(arr)
    layout = "3d" if gray else "4d"
    boolean = arr.dtype == np.bool_
    return ImageBatch(layout, _as_image_dtype(arr), None, c, gray, boolean, value_range)


def _check_list(X, image_shape):
    images, ndims, channels, booleans, ranges = [], set(), set(), set(), []
    for i, im in enumerate(X):
        if sparse.issparse(im):
            raise TypeError(
                f"Sparse data was passed as image {i}; skseg estimators need "
                "dense images."
            )
        what = f"image {i}"
        if _is_pil_image(im) and im.mode in _PIL_MODES_TO_CONVERT:
            raise ValueError(
                f"{what} is a PIL image in mode {im.mode!r}, whose values are "
                f"not {_PIL_MODES_TO_CONVERT[im.mode]}; convert it first, e.g. "
                "img.convert('RGB') (skseg.datasets.load_images does this for "
                "files)."
            )
        im = np.asarray(im)
        _check_dtype(im.dtype, what)
        if im.ndim not in (2, 3):
            raise ValueError(
                f"Each image of a list must be 2-D (height, width) or 3-D "
                f"(height, width, n_channels); {what} has shape {im.shape}."
            )
        ndim = im.ndim  # read once: np.ndim(X[i]) converts a PIL image again
        if ndim == 3 and _looks_channels_first(im.shape, 0, image_shape):
            raise ValueError(_channels_first_message(im.shape, what, axis=0))
        if ndim == 2:
            im = im[..., None]
        h, w, c = im.shape
        if h == 0 or w == 0 or c == 0:
            raise ValueError(
                f"Found a 0-pixel image: {what} has shape {im.shape}; every image "
                "needs at least one pixel and one channel."
            )
        if image_shape is not None and tuple(image_shape) not in ((h, w), (h, w, c)):
            raise ValueError(
                f"image_shape={image_shape} does not match {what}, which has "
                f"shape {im.shape[:ndim]}."
            )
        ranges.append(_check_finite(im, what))
        ndims.add(ndim)
        channels.add(c)
        booleans.add(im.dtype == np.bool_)
        images.append(_as_image_dtype(im))
    if len(ndims) > 1 or len(channels) > 1:
        shapes = [np.shape(x) for x in X]  # an error path: conversions are fine
        raise ValueError(
            "All images of a list must have the same number of channels; got "
            f"images of shapes {shapes}."
        )
    dtypes = {im.dtype for im in images}
    if len(dtypes) > 1:
        common = np.result_type(*dtypes)
        images = [im.astype(common, copy=False) for im in images]
    boolean = booleans == {True}
    value_range = None
    if all(r is not None for r in ranges):  # float images only
        value_range = (min(r[0] for r in ranges), max(r[1] for r in ranges))
    return ImageBatch(
        "list", None, images, channels.pop(), ndims.pop() == 2, boolean, value_range
    )


# ----------------------------------------------------------------------
# set_output: 2-D outputs become DataFrames, image-shaped outputs pass through
