"""Colour-space conversion as a stateless scikit-learn transformer."""

from __future__ import annotations

from numbers import Integral

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context
from sklearn.utils._param_validation import StrOptions
from sklearn.utils.parallel import Parallel, delayed
from sklearn.utils.validation import _check_feature_names_in

from ._batch import check_batch
from ._colorconv import HSV_COSSIN, SPACES, from_rgb, to_rgb, value_range
from ._glue import (
    ImageOutputMixin,
    MapPlan,
    channel_names_in,
    dask_aware,
    stateless_plan,
)
from ._parallel import fault_in, n_workers, run_in_threads

__all__ = ["ColorSpaceTransformer"]

# Pixels per piece of work when n_jobs splits images into row ranges.
_MIN_PIECE = 1 << 16


class ColorSpaceTransformer(ImageOutputMixin, TransformerMixin, BaseEstimator):
    """Convert RGB images to another colour space (HSV, Lab, ...) and back.

    A stateless transformer over a batch of images, so that a colour space is
    one step of a :class:`~sklearn.pipeline.Pipeline`, e.g. the tutorial's
    "convert to HSV, then cluster"::

        Pipeline([("hsv", ColorSpaceTransformer("hsv")),
                  ("seg", KMeansColorSegmenter(3))])

    The conversions match :mod:`skimage.color` (``rgb2hsv``, ``rgb2lab``,
    ...) numerically and are compiled: integer images are converted through
    tables of their channel values, and the costly functions run in
    vectorised loops (see Notes for timings).

    Parameters
    ----------
    space : {'hsv', 'rgb', 'lab', 'luv', 'xyz', 'ycbcr', 'yuv', 'gray'}, \
            default='hsv'
        Colour space of the output. Units of each space are listed in the
        Notes. ``'gray'`` gives one channel (luminance), every other space
        three.

    hue_encoding : {'cossin'} or None, default=None
        Only for ``space='hsv'``. Hue is an angle: with ``None`` it is the
        number ``h`` in [0, 1), so reds just above 0 and just below 1 are
        far apart for k-means. ``'cossin'`` replaces ``(h, s, v)`` by
        ``(s * cos(2 pi h), s * sin(2 pi h), v)``: the HSV cylinder in
        Cartesian coordinates, where all reds are close and greys (``s = 0``,
        hue undefined) sit on the axis. :meth:`inverse_transform` undoes it.

    clip : bool, default=False
        What to do with float values outside [0, 1] and negative integers.
        ``False`` raises a ``ValueError`` that names the range found (the
        usual cause is a 0-255 image cast to float). ``True`` clips them to
        the valid range first, e.g. for the small overshoots of a bicubic
        resize.

    image_shape : tuple of int, default=None
        ``(height, width, 3)`` of the images when ``X`` is 2-D (one flattened
        RGB image per row, channels last; ``(height, width)`` for 1-channel
        images with ``space='gray'``). With ``None``, each row of a 2-D
        ``X`` is a single-channel image of ``1 x n_features`` pixels, which
        only ``space='gray'`` accepts. For :meth:`inverse_transform` the
        channel count is that of the space (1 for ``'gray'``).

    n_jobs : int, default=None
        Number of threads over which the pixels are split. ``None`` means 1
        unless in a :func:`joblib.parallel_config` context; ``-1`` means all
        processors. The output does not depend on it.

    Attributes
    ----------
    n_channels_in_ : int
        Number of channels of the images seen during :meth:`fit`.

    n_features_in_ : int
        Number of features per row, only when fitted on 2-D (flattened) input.

    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of the features, only when fitted on a 2-D input with string
        column names (e.g. a pandas DataFrame).

    See Also
    --------
    skimage.color.convert_colorspace : The reference conversions.
    skseg.KMeansColorSegmenter : Cluster the converted colours.

    Notes
    -----
    **Input.** RGB images, channels last (sRGB, as from a camera or a PNG).
    Integer images are read by their dtype's range (uint8: 0-255, uint16:
    0-65535, other integers up to ``np.iinfo(dtype).max``; booleans are 0/1),
    float images must lie in [0, 1]. Float values outside [0, 1] (e.g. a
    0-255 image cast to float) and negative integers raise a ``ValueError``
    naming the range found, unless ``clip=True``: they are never silently
    turned into garbage. Every space but ``'gray'`` needs 3 channels;
    ``'gray'`` also takes 1-channel images, which it returns rescaled to
    [0, 1].

    **Output dtype.** float32 input gives float32, float64 gives float64;
    every other dtype (integers, booleans, float16) gives float32, whose 24-bit
    mantissa holds 8- and 16-bit images exactly; ``inverse_transform`` keeps
    float32 as float32 too. Values are computed in the output's float type
    (float32 runs twice the SIMD lanes of float64); float32 results are
    within a few float32 ulps of each space's range: Lab within 2e-4 of
    :func:`skimage.color.rgb2lab` on 8-bit photos (4e-6 in float64). Pass
    float64 images for float64 precision. Layouts follow the image-batch
    contract: 4-D in, 4-D out; 2-D in, 2-D out; a list in, a list out. ``'gray'``
    drops the channel axis (3-D out for 4-D in), as
    :func:`skimage.color.rgb2gray` does.

    **Spaces** (``r, g, b`` in [0, 1]; ``R, G, B`` the linear-light values
    ``((c + 0.055) / 1.055) ** 2.4``, or ``c / 12.92`` for ``c <= 0.04045``;
    illuminant D65, 2-degree observer):

    - ``'rgb'``: ``(r, g, b)`` in [0, 1];
    - ``'hsv'``: hue ``h`` in [0, 1) (fraction of a turn: 0 red, 1/3 green,
      2/3 blue), saturation ``s = (max - min) / max`` and value
      ``v = max(r, g, b)``, both in [0, 1]; ``h = s = 0`` for greys;
    - ``'xyz'``: CIE XYZ, ``M @ (R, G, B)`` with the sRGB matrix ``M``;
      ``Y`` in [0, 1], ``X`` up to 0.9505, ``Z`` up to 1.089;
    - ``'lab'``: CIE L*a*b*, ``L`` in [0, 100], ``a`` about [-86, 98] and
      ``b`` about [-108, 94] for sRGB colours;
    - ``'luv'``: CIE L*u*v*, ``L`` in [0, 100], ``u`` about [-83, 175],
      ``v`` about [-134, 107];
    - ``'ycbcr'``: ITU-R BT.601 on the 8-bit video scale, ``Y`` in [16, 235],
      ``Cb`` and ``Cr`` in [16, 240] (as floats);
    - ``'yuv'``: ``Y = 0.299 r + 0.587 g + 0.114 b`` in [0, 1], ``U`` in
      [-0.436, 0.436], ``V`` in [-0.615, 0.615];
    - ``'gray'``: ``0.2125 r + 0.7154 g + 0.0721 b`` in [0, 1] (weights of
      :func:`skimage.color.rgb2gray`, on the gamma-encoded values).

    **Inverse.** :meth:`inverse_transform` takes values in those units and
    returns RGB in [0, 1] (float32, or float64 for float64 input), clipped to
    [0, 1] where a value falls outside the sRGB gamut (as
    :func:`skimage.color.lab2rgb` does). ``'gray'`` is not invertible: its
    inverse repeats the luminance in the three channels
    (:func:`skimage.color.gray2rgb`).

    **Speed.** Integer images are read through a table of the dtype's
    channel values (the sRGB decoding is computed once per value, not per
    pixel). Cube roots, the sRGB power of float images and the sine/cosine
    of the hue encoding are branch-free polynomial seeds refined by Newton
    steps, accurate to a few float64 ulps, in loops that vectorise. On a
    2048x2048 uint8 photo, one thread: HSV in 16 ms (``rgb2hsv``: 0.6-1 s),
    Lab in 21 ms (``rgb2lab``: 0.2-0.5 s); ``benchmarks/bench_color.py``
    measures it. ``n_jobs`` splits the pixels over threads.

    References
    ----------
    .. [1] IEC 61966-2-1:1999, "Default RGB colour space - sRGB".
    .. [2] CIE 15:2004, "Colorimetry" (CIE XYZ, L*a*b*, L*u*v*).
    .. [3] ITU-R BT.601-7, "Studio encoding parameters of digital
       television" (Y'CbCr).
    .. [4] A. R. Smith, "Color gamut transform pairs", SIGGRAPH 1978 (HSV).

    Examples
    --------
    >>> import numpy as np
    >>> from skseg.color import ColorSpaceTransformer
    >>> X = np.array([[[[255, 0, 0], [0, 255, 0]],
    ...                [[0, 0, 255], [255, 255, 255]]]], dtype=np.uint8)
    >>> hsv = ColorSpaceTransformer("hsv").fit_transform(X)
    >>> hsv.shape, hsv.dtype
    ((1, 2, 2, 3), dtype('float32'))
    >>> hsv[0].reshape(-1, 3)  # red, green, blue, white
    array([[0.        , 1.        , 1.        ],
           [0.33333334, 1.        , 1.        ],
           [0.6666667 , 1.        , 1.        ],
           [0.        , 0.        , 1.        ]], dtype=float32)
    >>> lab = ColorSpaceTransformer("lab")
    >>> lab.fit_transform(X)[0, 0, 0].round(3)  # red: L, a, b
    array([53.241, 80.092, 67.203], dtype=float32)
    >>> lab.fit_transform(X / 255.0)[0, 0, 0]  # float64 in: float64 precision
    array([53.24058794, 80.09230823, 67.20275104])
    >>> bool(np.abs(lab.inverse_transform(lab.transform(X)) * 255 - X).max() < 1e-3)
    True

    The tutorial's "HSV, then K-Means" as a pipeline:

    >>> from sklearn.pipeline import make_pipeline
    >>> from skseg import KMeansColorSegmenter
    >>> pipe = make_pipeline(
    ...     ColorSpaceTransformer("hsv", hue_encoding="cossin"),
    ...     KMeansColorSegmenter(n_clusters=2, output="labels", random_state=0),
    ... )
    >>> reds = np.array([[[[250, 10, 20], [250, 20, 10]],
    ...                   [[20, 40, 200], [10, 50, 210]]]], dtype=np.uint8)
    >>> pipe.fit_transform(reds)  # both reds in one cluster
    array([[[1, 1],
            [0, 0]]], dtype=int32)
    """

    _parameter_constraints: dict = {
        "space": [StrOptions(set(SPACES))],
        "hue_encoding": [StrOptions({"cossin"}), None],
        "clip": ["boolean"],
        "image_shape": [tuple, list, None],
        "n_jobs": [Integral, None],
    }

    def __init__(
        self,
        space="hsv",
        *,
        hue_encoding=None,
        clip=False,
        image_shape=None,
        n_jobs=None,
    ):
        self.space = space
        self.hue_encoding = hue_encoding
        self.clip = clip
        self.image_shape = image_shape
        self.n_jobs = n_jobs

    # ------------------------------------------------------------------
    # scikit-learn API

    @_fit_context(prefer_skip_nested_validation=True)
    @dask_aware
    def fit(self, X, y=None):
        """Check the parameters and the images; nothing is learned.

        Parameters
        ----------
        X : array-like or list of array-like
            Batch of RGB images, first axis images: ``(n_images, height,
            width, 3)``, ``(n_images, n_features)`` with ``image_shape``, or
            a list of images of different sizes (see the Notes for the input
            scale).
        y : None
            Ignored.

        Returns
        -------
        self : ColorSpaceTransformer
            The transformer.
        """
        self._check_rgb(X, reset=True)
        return self

    @_fit_context(prefer_skip_nested_validation=True)
    @dask_aware
    def fit_transform(self, X, y=None):
        """Convert ``X`` (fitting does nothing but check it).

        Parameters
        ----------
        X : array-like or list of array-like
            Batch of RGB images, as in :meth:`fit`.
        y : None
            Ignored.

        Returns
        -------
        X_out : ndarray or list of ndarray
            As :meth:`transform`.
        """
        return self._from_rgb(*self._check_rgb(X, reset=True))

    @dask_aware
    def transform(self, X):
        """Convert a batch of RGB images to ``space``.

        Parameters
        ----------
        X : array-like or list of array-like
            Batch of RGB images, as in :meth:`fit`.

        Returns
        -------
        X_out : ndarray or list of ndarray
            The images in ``space``, float32 (float64 for float64 input), in
            the layout of ``X``: ``(n_images, height, width, 3)`` for 4-D
            input (``(n_images, height, width)`` for ``'gray'``), ``(n_images,
            n_pixels * 3)`` for 2-D input (``n_pixels`` for ``'gray'``), a
            list for a list.
        """
        self._validate_params()
        return self._from_rgb(*self._check_rgb(X, reset=False))

    @dask_aware
    def inverse_transform(self, X):
        """Convert images in ``space`` back to RGB in [0, 1].

        Parameters
        ----------
        X : array-like or list of array-like
            Batch of images in the units of ``space`` (the output of
            :meth:`transform`): 3 channels, or 1 for ``'gray'`` (3-D
            batches and 2-D rows with ``image_shape=None`` are single-channel
            images).

        Returns
        -------
        X_rgb : ndarray or list of ndarray
            RGB images in [0, 1], float32 (float64 for float64 input), 3
            channels, in the layout of ``X``. Multiply by 255 and round for
            uint8 images.
        """
        self._validate_params()
        space = self._space()
        k = space.n_channels
        shape = self.image_shape
        if shape is not None:
            shape = tuple(shape)[:2] + ((k,) if k > 1 else ())
        batch = check_batch(X, image_shape=shape)
        if batch.n_channels != k:
            raise ValueError(
                f"inverse_transform of {self._describe()} takes images with {k} "
                f"channel(s) ({', '.join(space.channels)}), but X has "
                f"{batch.n_channels}."
            )
        out_dtype = _out_dtype(batch.dtype)
        flat = self._run(batch, _inverse_piece, space, out_dtype, 3)
        return batch.rebuild(flat)

    def get_feature_names_out(self, input_features=None):
        """Names of the output features.

        Fitted on flattened (2-D) images, the columns of the 2-D output:
        ``pixel0_h, pixel0_s, pixel0_v, pixel1_h, ...`` (channels of the
        space, e.g. ``l, a, b`` for Lab); for ``'gray'`` on 1-channel images
        the input names are kept. Fitted on image-shaped input (or not
        fitted: the transformer is stateless), the output is images, not
        columns, and the names are those of the channels of one output pixel
        (``h, s, v``), which is what the next step of a
        :class:`~sklearn.pipeline.Pipeline` receives as its input features.

        Parameters
        ----------
        input_features : array-like of str or None, default=None
            Input feature names, checked against ``feature_names_in_``.

        Returns
        -------
        feature_names_out : ndarray of str objects
        """
        space = self._space()
        if not hasattr(self, "n_features_in_"):
            if input_features is not None:
                channel_names_in(self, input_features)
            return np.asarray(space.channels, dtype=object)
        names = _check_feature_names_in(self, input_features)
        if space.n_channels == 1 and self.n_channels_in_ == 1:
            return names
        n_pixels = self.n_features_in_ // self.n_channels_in_
        return np.asarray(
            [f"pixel{p}_{ch}" for p in range(n_pixels) for ch in space.channels],
            dtype=object,
        )

    def __sklearn_is_fitted__(self):
        return True

    def __skseg_plan__(self, method, image):
        """What the dask adapter runs for ``method`` on a dask array.

        The protocol of :mod:`skseg._glue`: ``fit`` only checks (``image``
        is a batch of one image with the array's shape and dtype);
        ``transform`` maps the in-memory method over blocks of whole images.
        """
        if method == "inverse_transform":  # the input is in ``space``
            self._validate_params()
            return MapPlan(self.inverse_transform)
        return stateless_plan(self, method, image, self._check_rgb)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.requires_fit = False
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        # RGB intensities: negative values raise, unless clipped.
        tags.input_tags.positive_only = not self.clip
        return tags

    # ------------------------------------------------------------------
    # internals

    def _space(self):
        if self.hue_encoding is not None and self.space != "hsv":
            raise ValueError(
                f"hue_encoding={self.hue_encoding!r} encodes the hue of "
                f"space='hsv'; space={self.space!r} has no hue. Use "
                "hue_encoding=None."
            )
        return HSV_COSSIN if self.hue_encoding == "cossin" else SPACES[self.space]

    def _describe(self):
        enc = (
            "" if self.hue_encoding is None else f", hue_encoding={self.hue_encoding!r}"
        )
        return f"{type(self).__name__}(space={self.space!r}{enc})"

    def _check_rgb(self, X, *, reset):
        """Validate a batch of RGB images: (batch, space, full scale)."""
        space = self._space()
        fitted_2d = hasattr(self, "n_features_in_")
        batch = check_batch(
            X,
            image_shape=self.image_shape,
            estimator=self if reset or fitted_2d else None,
            reset=reset,
        )
        if reset:
            self.n_channels_in_ = int(batch.n_channels)
        dtype = batch.dtype
        if batch.boolean:
            maxval = 1
        elif dtype.kind in "iu":
            maxval = int(np.iinfo(dtype).max)
        else:
            maxval = None
        clip = dtype.kind in "if" and self._check_range(batch)
        c = batch.n_channels
        if c != 3 and not (c == 1 and space.name == "gray"):
            raise ValueError(self._channel_message(batch))
        return batch, space, maxval, clip

    def _channel_message(self, batch):
        c = batch.n_channels
        need = "1 or 3 channels" if self.space == "gray" else "3 channels (RGB)"
        msg = f"{self._describe()} needs images with {need}, but X has {c} channel(s)."
        if batch.layout == "2d" and self.image_shape is None:
            msg += (
                " A 2-D X is read as single-channel images of 1 x n_features "
                "pixels; for flattened RGB images pass image_shape=(height, "
                "width, 3)."
            )
        elif c == 4:
            msg += " Drop the alpha channel first, e.g. X[..., :3]."
        elif c == 1:
            msg += (
                " Grayscale images have no colour: repeat them in 3 channels "
                "(np.repeat(X[..., None], 3, axis=-1)) or use space='gray'."
            )
        return msg

    def _check_range(self, batch):
        """Whether values must be clipped; raise if they may not be."""
        if batch.value_range is not None:  # computed by the batch contract
            lo, hi = batch.value_range
        else:
            lo, hi = np.inf, -np.inf
            for px in _pixel_runs(batch):
                a, b = value_range(px)
                lo, hi = min(lo, a), max(hi, b)
        too_high = batch.dtype.kind == "f" and hi > 1.0
        if self.clip:
            return lo < 0 or too_high
        if lo < 0:
            raise ValueError(
                f"Negative values in data passed to {self._describe()}: RGB "
                f"images are non-negative, but X ({batch.dtype}) has values in "
                f"[{lo:.6g}, {hi:.6g}]. Float images must lie in [0, 1], "
                "integer images in [0, max of their dtype]; clip=True clips "
                "them."
            )
        if too_high:
            raise ValueError(
                f"{self._describe()} expects float RGB images in [0, 1], but X "
                f"({batch.dtype}) has values in [{lo:.6g}, {hi:.6g}]. Scale "
                "0-255 images with X / 255 (or pass them as uint8); clip=True "
                "clips values outside [0, 1]."
            )
        return False

    def _from_rgb(self, batch, space, maxval, clip):
        flat = self._run(
            batch,
            _forward_piece,
            space,
            _out_dtype(batch.dtype),
            space.n_channels,
            maxval,
            clip,
        )
        if space.n_channels == 1:
            flat = flat[:, 0]  # gray images come back without a channel axis
        return batch.rebuild(flat)

    def _run(self, batch, func, space, out_dtype, k, *args):
        """Apply ``func`` to every pixel of ``batch``; return (n_pixels, k)."""
        out = np.empty((batch.n_pixels, k), out_dtype)
        runs = _pixel_runs(batch)
        workers = n_workers(self.n_jobs)
        if workers == 1:
            offset = 0
            for px in runs:
                n = px.shape[0]
                func(px, space, out[offset : offset + n], *args)
                offset += n
            return out
        pieces, offset = [], 0
        for px in runs:
            n = px.shape[0]
            bounds = np.linspace(0, n, min(workers, max(1, n // _MIN_PIECE)) + 1)
            bounds = bounds.round().astype(int)
            for a, b in zip(bounds[:-1], bounds[1:]):
                pieces.append((offset + a, px[a:b]))
            offset += n
        if _threads_share_memory():
            # Threads write their pieces straight into the output (the kernels
            # release the GIL). Through joblib, n_jobs=2 was no faster than
            # one thread on a 4 Mpx Lab conversion (22.5 vs 21.3 ms); with
            # run_in_threads it takes 8.5 ms. The output's pages are faulted
            # in first (concurrent first touches made n_jobs=-1 up to 4x
            # slower than one thread).
            fault_in(out)

            def piece(start, px):
                func(px, space, out[start : start + px.shape[0]], *args)

            run_in_threads(piece, pieces, workers)
            return out
        parallel = Parallel(n_jobs=self.n_jobs, prefer="threads")
        # Other backends (processes, a Dask cluster) return their pieces.
        results = parallel(
            delayed(_piece_result)(func, px, space, out_dtype, k, *args)
            for _, px in pieces
        )
        for (start, px), res in zip(pieces, results):
            out[start : start + px.shape[0]] = res
        return out


# ----------------------------------------------------------------------
# workers


def _pixel_runs(batch):
    """Pixels of ``batch`` as (n_pixels, n_channels) arrays, images in order.

    One run over a contiguous batch (a view); image by image otherwise, so
    that a strided batch is never copied whole.
    """
    whole = batch.array is not None and batch.array.flags.c_contiguous
    return [px for _, _, px in batch.chunks(1 if whole else batch.n_images)]


def _threads_share_memory():
    """Whether the active joblib backend (threads preferred) is threading."""
    from joblib.parallel import ThreadingBackend, get_active_backend

    return isinstance(get_active_backend(prefer="threads")[0], ThreadingBackend)


def _out_dtype(dtype):
    return np.dtype(np.float64) if dtype == np.float64 else np.dtype(np.float32)


def _forward_piece(px, space, out, maxval, clip):
    if clip:  # only when some values are out of range: a clipped copy
        px = np.clip(px, 0, 1 if px.dtype.kind == "f" else None)
    if px.dtype.kind in "iu" and px.dtype not in (np.uint8, np.uint16):
        px = px / np.float64(maxval)  # other integers: no table, read as floats
        maxval = None
    from_rgb(px, space, out, maxval=maxval)


def _inverse_piece(src, space, out):
    if src.dtype.kind != "f":
        src = src.astype(np.float64)
    to_rgb(src, space, out)


def _piece_result(func, px, space, out_dtype, k, *args):
    out = np.empty((px.shape[0], k), out_dtype)
    func(px, space, out, *args)
    return out
