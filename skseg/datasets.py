"""Sample images and image file I/O.

Every sample image ships with scikit-image or scikit-learn, so nothing is
downloaded. The heavy imports happen inside the functions: importing this
module is cheap.
"""

import os
import warnings
from pathlib import Path

import numpy as np

__all__ = ["load_images", "load_sample_image", "sample_image_names", "save_image"]

# name -> (library, loader name). Only images bundled with the installed
# packages are listed, so no call ever triggers a download.
_SAMPLES = {
    # colour photographs, (h, w, 3) uint8
    "astronaut": ("skimage", "astronaut"),
    "chelsea": ("skimage", "chelsea"),
    "coffee": ("skimage", "coffee"),
    "colorwheel": ("skimage", "colorwheel"),
    "hubble_deep_field": ("skimage", "hubble_deep_field"),
    "immunohistochemistry": ("skimage", "immunohistochemistry"),
    "retina": ("skimage", "retina"),
    "rocket": ("skimage", "rocket"),
    "china": ("sklearn", "china.jpg"),
    "flower": ("sklearn", "flower.jpg"),
    # grayscale, (h, w) uint8
    "camera": ("skimage", "camera"),
    "coins": ("skimage", "coins"),
    "moon": ("skimage", "moon"),
    "page": ("skimage", "page"),
    "text": ("skimage", "text"),
}

_WRITE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".tif", ".tiff")


def sample_image_names():
    """Names accepted by :func:`load_sample_image`.

    Returns
    -------
    names : tuple of str
        Sorted names of the bundled sample images.

    See Also
    --------
    load_sample_image : Load one of these images.

    Examples
    --------
    >>> from skseg.datasets import sample_image_names
    >>> "astronaut" in sample_image_names()
    True
    >>> sample_image_names()[:3]
    ('astronaut', 'camera', 'chelsea')
    """
    return tuple(sorted(_SAMPLES))


def load_sample_image(name="astronaut"):
    """Load a sample image bundled with scikit-image or scikit-learn.

    Nothing is downloaded: every image ships with the installed packages.

    Parameters
    ----------
    name : str, default='astronaut'
        One of :func:`sample_image_names`. Colour photographs come from
        :mod:`skimage.data` (``'astronaut'``, ``'chelsea'``, ``'coffee'``,
        ``'rocket'``, ...) and from
        :func:`sklearn.datasets.load_sample_images` (``'china'``,
        ``'flower'``); ``'camera'``, ``'coins'``, ``'moon'``, ``'page'`` and
        ``'text'`` are grayscale.

    Returns
    -------
    image : ndarray of shape (height, width, 3) or (height, width), dtype uint8
        A new, writeable array: RGB for colour images, 2-D for grayscale
        ones. It is a single image; pass ``image[None]`` to an estimator,
        which expects a batch.

    Raises
    ------
    ValueError
        If `name` is not a known sample; the message lists the valid names.

    See Also
    --------
    sample_image_names : The valid names.
    load_images : Read your own image files.

    Examples
    --------
    >>> from skseg.datasets import load_sample_image
    >>> img = load_sample_image("astronaut")
    >>> img.shape, img.dtype
    ((512, 512, 3), dtype('uint8'))
    >>> load_sample_image("camera").shape
    (512, 512)
    >>> load_sample_image("china").shape
    (427, 640, 3)
    """
    key = name.lower() if isinstance(name, str) else name
    if key not in _SAMPLES:
        raise ValueError(
            f"Unknown sample image {name!r}; valid names are: "
            f"{', '.join(sample_image_names())}."
        )
    library, loader = _SAMPLES[key]
    if library == "skimage":
        import skimage.data

        image = getattr(skimage.data, loader)()
    else:
        from sklearn.datasets import load_sample_image as _sklearn_sample

        image = _sklearn_sample(loader)
    return np.array(image, dtype=np.uint8, order="C", copy=True)


def load_images(paths):
    """Read image files into a list of arrays.

    Each file keeps its own size, channels and bit depth; the list can be
    passed as a ragged batch, or stacked with :func:`numpy.stack` when all
    shapes agree.

    Parameters
    ----------
    paths : iterable of str or os.PathLike, or a single str or os.PathLike
        Image files (PNG, JPEG, TIFF, BMP, GIF, ... anything
        :func:`skimage.io.imread` reads). A single path gives a list of one.

    Returns
    -------
    images : list of ndarray
        One array per path, in order: ``(h, w)`` for grayscale files,
        ``(h, w, 3)`` for RGB and ``(h, w, 4)`` for files with an alpha
        channel. The file's dtype is kept (uint8, uint16 for 16-bit PNG or
        TIFF, float32 for float TIFF), with these conversions:

        - palette images become RGB (or RGBA when the palette has alpha);
        - gray + alpha images become RGBA (gray repeated in R, G and B), so
          an alpha channel always means four channels;
        - CMYK images (some JPEGs) become RGB;
        - 1-bit (bilevel) images become uint8 with values 0 and 255;
        - the alpha channel is kept, not dropped: take ``image[..., :3]``
          if it should not take part in the segmentation.

    Raises
    ------
    FileNotFoundError
        If a file does not exist.
    ValueError
        If a path is a directory, a file cannot be decoded as an image, or
        it holds several frames (animated GIF, multipage TIFF).

    See Also
    --------
    save_image : Write an image file.
    load_sample_image : Bundled sample images.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from skseg.datasets import load_images, load_sample_image, save_image
    >>> folder = Path(tempfile.mkdtemp())
    >>> _ = save_image(folder / "astronaut.png", load_sample_image("astronaut"))
    >>> _ = save_image(folder / "camera.png", load_sample_image("camera"))
    >>> images = load_images([folder / "astronaut.png", folder / "camera.png"])
    >>> [img.shape for img in images]
    [(512, 512, 3), (512, 512)]
    """
    if isinstance(paths, str | os.PathLike):
        paths = [paths]
    return [_read_image(path) for path in paths]


def _read_image(path):
    """Read one image file; see :func:`load_images` for the conversions."""
    if not isinstance(path, str | os.PathLike):
        raise TypeError(
            f"Image paths must be str or os.PathLike, got {type(path).__name__}: "
            f"{path!r}."
        )
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"No such image file: '{path}'.")
    if path.is_dir():
        raise ValueError(f"'{path}' is a directory, not an image file.")

    mode, n_frames = _pil_header(path)
    if n_frames > 1:
        raise ValueError(
            f"'{path}' holds {n_frames} frames (animated or multipage image); "
            "skseg reads single images. Extract the frames first."
        )
    if mode == "CMYK":
        image = _pil_read(path, "RGB")
    else:
        import skimage.io

        try:
            with warnings.catch_warnings():
                # imageio probes its legacy plugins (DICOM, ...) on files Pillow
                # does not know, and they emit DeprecationWarnings meant for
                # imageio's own callers.
                warnings.simplefilter("ignore", DeprecationWarning)
                image = skimage.io.imread(path)
        except Exception as exc:  # imageio raises bare OSError and others
            lines = str(exc).strip().splitlines()
            if mode is None or not lines:
                detail = "unknown or corrupt image format"
            else:
                detail = lines[0].rstrip(".")
            raise ValueError(f"Cannot read '{path}' as an image: {detail}.") from exc
    image = np.asarray(image)

    # A single-frame GIF or TIFF may come back with a leading frame axis.
    if image.ndim == 4 and image.shape[0] == 1:
        image = image[0]
    if image.ndim == 3 and image.shape[-1] == 1:
        image = image[..., 0]
    if image.ndim == 3 and image.shape[-1] == 2:  # gray + alpha -> RGBA
        gray, alpha = image[..., :1], image[..., 1:]
        image = np.concatenate([gray, gray, gray, alpha], axis=-1)
    if image.dtype == bool:
        image = image.astype(np.uint8) * np.uint8(255)
    if image.ndim not in (2, 3) or (image.ndim == 3 and image.shape[-1] not in (3, 4)):
        raise ValueError(
            f"'{path}' decoded to an array of shape {image.shape}; expected "
            "(h, w), (h, w, 3) or (h, w, 4)."
        )
    if image.size == 0:
        raise ValueError(f"'{path}' has no pixels (shape {image.shape}).")
    return image


def _pil_header(path):
    """Return (mode, n_frames) from the file header, or (None, 1) if PIL
    cannot identify the file (another imageio backend may still read it)."""
    try:
        from PIL import Image, UnidentifiedImageError
    except ImportError:  # pragma: no cover - Pillow comes with imageio
        return None, 1
    try:
        with Image.open(path) as im:
            return im.mode, getattr(im, "n_frames", 1)
    except (UnidentifiedImageError, OSError, ValueError):
        return None, 1


def _pil_read(path, mode):
    from PIL import Image

    with Image.open(path) as im:
        return np.asarray(im.convert(mode))


def save_image(path, image):
    """Write one image to a PNG, JPEG or TIFF file.

    Parent directories are created. The format follows the file extension.

    Parameters
    ----------
    path : str or os.PathLike
        Output file; the extension must be one of ``.png``, ``.jpg``,
        ``.jpeg``, ``.tif``, ``.tiff``.
    image : ndarray of shape (h, w), (h, w, 3) or (h, w, 4)
        A single image (not a batch): uint8; uint16 (16 bits kept in TIFF
        files and grayscale PNG files, scaled to 8 bits for colour PNG and
        JPEG files, which Pillow writes with 8 bits only); bool (written as
        0 and 255);
        or float with values in [0, 1] (scaled to uint8). Other dtypes, such
        as integer label maps, must be converted by the caller, e.g. with
        :func:`skimage.color.label2rgb`.

    Returns
    -------
    path : pathlib.Path
        The file written.

    Raises
    ------
    ValueError
        If the extension is not supported, the image is not a single 2-D or
        3-D image with 1, 3 or 4 channels, a float image has values outside
        [0, 1] or non-finite values, or a JPEG is asked for an image with
        an alpha channel.
    TypeError
        If the dtype is not one listed above.

    See Also
    --------
    load_images : Read image files.

    Notes
    -----
    JPEG is lossy: a colour-quantized image saved as JPEG no longer has
    exactly K colours. Use PNG to keep them.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> import numpy as np
    >>> from skseg.datasets import load_images, save_image
    >>> out = Path(tempfile.mkdtemp()) / "results" / "ramp.png"
    >>> ramp = np.linspace(0, 1, 64).reshape(8, 8)
    >>> save_image(out, ramp).name
    'ramp.png'
    >>> load_images([out])[0].dtype
    dtype('uint8')
    """
    path = Path(path)
    ext = path.suffix.lower()
    if ext not in _WRITE_EXTENSIONS:
        raise ValueError(
            f"Cannot save '{path}': unsupported extension {path.suffix!r}; use one "
            f"of {', '.join(_WRITE_EXTENSIONS)}."
        )
    image = np.asarray(image)
    if image.ndim == 3 and image.shape[-1] == 1:
        image = image[..., 0]
    if image.ndim not in (2, 3) or (image.ndim == 3 and image.shape[-1] not in (3, 4)):
        hint = ""
        if image.ndim == 4 or (image.ndim == 3 and image.shape[-1] not in (3, 4)):
            hint = " It looks like a batch: save the images one at a time."
        raise ValueError(
            f"save_image writes a single image of shape (h, w), (h, w, 3) or "
            f"(h, w, 4); got shape {image.shape}.{hint}"
        )
    if image.size == 0:
        raise ValueError(f"Cannot save an image with no pixels (shape {image.shape}).")

    from skimage.util import img_as_ubyte

    if image.dtype == bool:
        image = image.astype(np.uint8) * np.uint8(255)
    elif image.dtype.kind == "f":
        if not np.all(np.isfinite(image)):
            raise ValueError("Cannot save a float image with NaN or infinite values.")
        lo, hi = float(image.min()), float(image.max())
        if lo < 0 or hi > 1:
            raise ValueError(
                f"Float images must have values in [0, 1]; got min={lo:g}, "
                f"max={hi:g}. Rescale them, or convert to uint8 first."
            )
        image = img_as_ubyte(image)
    elif image.dtype == np.uint16:
        # Pillow writes 16-bit grayscale PNG but only 8-bit colour PNG/JPEG.
        if ext in (".jpg", ".jpeg") or (ext == ".png" and image.ndim == 3):
            image = img_as_ubyte(image)
    elif image.dtype != np.uint8:
        raise TypeError(
            f"save_image accepts uint8, uint16, bool or float images in [0, 1]; "
            f"got dtype {image.dtype}. Convert label maps to colours first, e.g. "
            "with skimage.color.label2rgb."
        )
    if ext in (".jpg", ".jpeg") and image.ndim == 3 and image.shape[-1] == 4:
        raise ValueError(
            f"JPEG has no alpha channel; cannot save an RGBA image to '{path}'. "
            "Use .png, or drop the alpha channel with image[..., :3]."
        )

    import skimage.io

    path.parent.mkdir(parents=True, exist_ok=True)
    skimage.io.imsave(path, image, check_contrast=False)
    return path
