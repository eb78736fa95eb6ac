"""Sample images and image file I/O.

Every sample image ships with scikit-image or scikit-learn, so nothing is
downloaded. The heavy imports happen inside the functions: importing this
module is cheap.
"""

import os
import warnings
from pathlib import Path

import numpy as np

__all__ = [
    "iter_image_batches",
    "list_image_files",
    "load_images",
    "load_sample_image",
    "read_images_dask",
    "sample_image_names",
    "save_image",
]

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

_WRITE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp")
# Files a folder is searched for (case-insensitive).
_READ_EXTENSIONS = (
    *_WRITE_EXTENSIONS,
    ".gif",
    ".webp",
    ".ppm",
    ".pgm",
    ".pbm",
    ".pnm",
    ".jp2",
)
_GLOB_CHARS = frozenset("*?[")


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


def list_image_files(sources):
    """Image files named by paths, folders and glob patterns, in order.

    Parameters
    ----------
    sources : str, os.PathLike, or iterable of them
        Each is a file (kept as given, whether or not it exists: reading it
        reports the problem), a folder (its image files, by extension,
        sorted by name; not recursive, hidden files left out), or a glob
        pattern such as ``'photos/*.jpg'`` or ``'shoots/**/*.png'``
        (matches sorted by name).

    Returns
    -------
    paths : list of pathlib.Path
        The files, sources in the order given.

    Raises
    ------
    ValueError
        If a folder holds no image file or a pattern matches none.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from skseg.datasets import list_image_files, load_sample_image, save_image
    >>> folder = Path(tempfile.mkdtemp())
    >>> for name in ("b.png", "a.jpg", "notes.txt"):
    ...     _ = (folder / name).write_bytes(b"")
    >>> [p.name for p in list_image_files(folder)]
    ['a.jpg', 'b.png']
    >>> [p.name for p in list_image_files(str(folder / "*.png"))]
    ['b.png']
    """
    if isinstance(sources, str | os.PathLike):
        sources = [sources]
    paths = []
    for source in sources:
        if not isinstance(source, str | os.PathLike):
            raise TypeError(
                f"Image paths must be str or os.PathLike, got "
                f"{type(source).__name__}: {source!r}."
            )
        text = os.fspath(source)
        path = Path(text)
        if path.is_dir():
            found = sorted(
                p
                for p in path.iterdir()
                if p.suffix.lower() in _READ_EXTENSIONS
                and not p.name.startswith(".")
                and p.is_file()
            )
            if not found:
                raise ValueError(
                    f"'{path}' holds no image file (looked for "
                    f"{', '.join(_READ_EXTENSIONS)})."
                )
            paths.extend(found)
        elif _GLOB_CHARS.intersection(text) and not path.exists():
            import glob

            found = sorted(
                Path(p) for p in glob.glob(text, recursive=True) if Path(p).is_file()
            )
            if not found:
                raise ValueError(f"No file matches the pattern '{text}'.")
            paths.extend(found)
        else:
            paths.append(path)
    return paths


_ERRORS = ("raise", "warn", "skip")
_ALPHA = ("drop", "keep")


def _check_reader_options(errors, alpha):
    if errors not in _ERRORS:
        raise ValueError(f"errors must be 'raise', 'warn' or 'skip', got {errors!r}.")
    if alpha not in _ALPHA:
        raise ValueError(f"alpha must be 'drop' or 'keep', got {alpha!r}.")


def _read_for_batch(path, alpha):
    """One image as the readers of collections return it (alpha dropped)."""
    image = _read_image(path)
    if alpha == "drop" and image.ndim == 3 and image.shape[-1] == 4:
        image = np.ascontiguousarray(image[..., :3])
    return image


def _channels(image):
    if image.ndim == 2:
        return "grayscale"
    return {3: "RGB", 4: "RGBA"}.get(image.shape[-1], f"{image.shape[-1]} channels")


class _Skipped:
    """Files left out of a collection, reported once at the end."""

    def __init__(self, errors, n_files):
        self.errors, self.n_files, self.items = errors, n_files, []

    def add(self, path, exc):
        """Record (or raise, with errors='raise') the failure of ``path``."""
        if self.errors == "raise":
            raise exc
        message = str(exc)
        if str(path) not in message:  # every report names its file
            message = f"'{path}': {message}"
        self.items.append(message)
        if self.errors == "warn":
            warnings.warn(f"Skipped {path}: {exc}", UserWarning, stacklevel=3)

    def report(self, stacklevel=3):
        if self.errors != "skip" or not self.items:
            return
        n = len(self.items)
        warnings.warn(
            f"Skipped {n} of {self.n_files} file{'' if self.n_files == 1 else 's'} "
            f"that could not be read as part of this collection: "
            + "; ".join(self.items),
            UserWarning,
            stacklevel=stacklevel,
        )


def iter_image_batches(sources, batch_size=32, *, errors="raise", alpha="drop"):
    """Read the images of files, folders or globs lazily, in batches.

    Only one batch is in memory at a time, so a collection of any size can
    be fed to :meth:`KMeansColorSegmenter.partial_fit` (or transformed)
    batch by batch. Images are read as the ``skseg`` command reads them:
    RGB and RGBA files together make one colour collection (the alpha
    channel is dropped, so it is not clustered), and every image must have
    the channels of the first one (grayscale or colour).

    Parameters
    ----------
    sources : str, os.PathLike, or iterable of them
        Files, folders and glob patterns, as :func:`list_image_files` reads
        them.
    batch_size : int, default=32
        Number of images per batch (the last batch may be smaller).
    errors : {'raise', 'warn', 'skip'}, default='raise'
        What a file that cannot be read (or whose channels differ from the
        first image's) does: raise an error naming it; give a
        ``UserWarning`` naming it and be left out of its batch; or be left
        out silently, all such files being reported in one ``UserWarning``
        at the end of the iteration.
    alpha : {'drop', 'keep'}, default='drop'
        ``'drop'`` returns RGBA files as their RGB channels, as the
        ``skseg`` command clusters them (it also leaves fully transparent
        pixels out of the palette, which a batch of images cannot express:
        mask them yourself if they matter). ``'keep'`` returns the four
        channels, as :func:`load_images` does.

    Yields
    ------
    images : list of ndarray
        Up to ``batch_size`` images, read as :func:`load_images` reads them
        (alpha aside): a batch (a ragged list) every estimator accepts.
        Stack it with :func:`numpy.stack` when the images share a shape.

    Raises
    ------
    ValueError, OSError
        With ``errors='raise'``, for the first file that cannot be read or
        whose channels differ from the first image's; the message names
        the file.

    See Also
    --------
    read_images_dask : The same images as one lazy dask array.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> import numpy as np
    >>> from skseg import KMeansColorSegmenter
    >>> from skseg.datasets import iter_image_batches, load_sample_image, save_image
    >>> folder = Path(tempfile.mkdtemp())
    >>> photo = load_sample_image("astronaut")
    >>> for i in range(4):
    ...     _ = save_image(folder / f"crop{i}.png", photo[100 * i : 100 * i + 64, :64])
    >>> opaque = np.full((64, 64, 1), 255, np.uint8)
    >>> _ = save_image(folder / "rgba.png", np.dstack([photo[:64, 64:128], opaque]))
    >>> seg = KMeansColorSegmenter(n_clusters=4, random_state=0)
    >>> for batch in iter_image_batches(folder, batch_size=2):
    ...     seg = seg.partial_fit(batch)
    >>> seg.cluster_centers_.shape
    (4, 3)
    >>> [len(batch) for batch in iter_image_batches(folder, batch_size=2)]
    [2, 2, 1]
    """
    if not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}.")
    _check_reader_options(errors, alpha)
    paths = list_image_files(sources)
    skipped = _Skipped(errors, len(paths))
    batch, first = [], None
    for path in paths:
        try:
            image = _read_for_batch(path, alpha)
            if first is None:
                first = (path, _channels(image))
            elif _channels(image) != first[1]:
                raise ValueError(
                    f"'{path}' is {_channels(image)}, but the first image "
                    f"('{first[0]}') is {first[1]}; one collection holds "
                    "images of one kind: read the others separately."
                )
        except (OSError, ValueError) as exc:
            skipped.add(path, exc)
            continue
        batch.append(image)
        if len(batch) == batch_size:
            yield batch
            batch = []
    if batch:
        yield batch
    skipped.report()


def read_images_dask(sources, *, chunk_size=32, errors="raise", alpha="drop"):
    """The images of files, folders or globs as one lazy dask array.

    Nothing but the first image is read now; each block of ``chunk_size``
    images is read where (and when) it is computed, e.g. on the workers of a
    ``dask.distributed`` cluster. Needs ``dask`` (``pip install
    'skseg[dask]'``). Images are read as the ``skseg`` command reads them:
    RGB and RGBA files together make one colour collection (alpha dropped).

    Parameters
    ----------
    sources : str, os.PathLike, or iterable of them
        Files, folders and glob patterns, as :func:`list_image_files` reads
        them. Every image must have the shape and dtype of the first one
        (alpha aside).
    chunk_size : int, default=32
        Images per block (the blocks are chunked along the image axis only).
    errors : {'raise', 'warn', 'skip'}, default='raise'
        ``'raise'``: a file that cannot be read, or of another shape or
        dtype, raises an error naming it when its block is computed.
        ``'warn'`` and ``'skip'``: the header of every file is read now
        (not its pixels), and the files that cannot be identified as
        images, or whose size or kind (grayscale, colour, bit depth)
        differs from the first readable image's, are left out: one
        ``UserWarning`` each (``'warn'``) or one for all of them
        (``'skip'``). A file whose header is fine but whose pixels cannot
        be decoded still raises, naming it, when its block is computed.
    alpha : {'drop', 'keep'}, default='drop'
        As in :func:`iter_image_batches`.

    Returns
    -------
    images : dask.array.Array of shape (n_images, height, width[, n_channels])
        A batch every skseg estimator accepts.

    See Also
    --------
    iter_image_batches : The same images, batch by batch, in memory.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from skseg import KMeansColorSegmenter
    >>> from skseg.datasets import load_sample_image, read_images_dask, save_image
    >>> folder = Path(tempfile.mkdtemp())
    >>> photo = load_sample_image("astronaut")
    >>> for i in range(5):
    ...     _ = save_image(folder / f"crop{i}.png", photo[100 * i : 100 * i + 64, :64])
    >>> X = read_images_dask(folder, chunk_size=2)
    >>> X.shape, X.chunks[0]
    ((5, 64, 64, 3), (2, 2, 1))
    >>> seg = KMeansColorSegmenter(n_clusters=4, random_state=0).fit(X)
    >>> labels = seg.predict(X)  # lazy, one block per chunk of images
    >>> labels.shape, labels.chunks[0], labels.compute().dtype
    ((5, 64, 64), (2, 2, 1), dtype('int32'))
    """
    if not isinstance(chunk_size, int) or chunk_size < 1:
        raise ValueError(f"chunk_size must be a positive integer, got {chunk_size!r}.")
    _check_reader_options(errors, alpha)
    import dask
    import dask.array as da

    paths = list_image_files(sources)
    skipped = _Skipped(errors, len(paths))
    first = None
    for path in paths:  # the first readable image sets the shape and dtype
        try:
            first = (path, _read_for_batch(path, alpha))
            break
        except (OSError, ValueError) as exc:
            skipped.add(path, exc)
    if first is None:
        skipped.report(stacklevel=2)
        raise ValueError(
            f"None of the {len(paths)} files could be read as an image "
            "(see the warning above)."
        )
    shape, dtype = first[1].shape, first[1].dtype
    if errors != "raise":
        kind = _header_kind(first[0], alpha)
        kept = [first[0]]
        for path in paths[paths.index(first[0]) + 1 :]:
            try:
                other = _header_kind(path, alpha)
                if other != kind:
                    raise ValueError(
                        f"'{path}' is {_describe_kind(other)}, but the first "
                        f"image ('{first[0]}') is {_describe_kind(kind)}; "
                        "read_images_dask needs images of one size and kind."
                    )
            except (OSError, ValueError) as exc:
                skipped.add(path, exc)
                continue
            kept.append(path)
        paths = kept
    else:
        paths = paths[paths.index(first[0]) :]
    skipped.report(stacklevel=2)
    blocks = []
    for start in range(0, len(paths), chunk_size):
        chunk = tuple(str(p) for p in paths[start : start + chunk_size])
        block = dask.delayed(_read_block, pure=True)(chunk, shape, dtype, alpha)
        blocks.append(da.from_delayed(block, (len(chunk),) + shape, dtype=dtype))
    return da.concatenate(blocks)


def _header_kind(path, alpha):
    """(width, height, kind) of an image file from its header alone.

    ``kind`` groups the PIL modes that :func:`_read_for_batch` turns into
    arrays of one number of channels and dtype.
    """
    from PIL import Image, UnidentifiedImageError

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"No such image file: '{path}'.")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(path) as im:
                size, mode = im.size, im.mode
                n_frames = getattr(im, "n_frames", 1)
                transparent = "transparency" in im.info
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise ValueError(f"Cannot read '{path}' as an image: {exc}") from None
    except Image.DecompressionBombError as exc:
        raise ValueError(f"'{path}' is refused without decoding it: {exc}") from None
    if n_frames > 1:
        raise ValueError(
            f"'{path}' holds {n_frames} frames; skseg reads single images."
        )
    if mode in ("1", "L"):
        kind = "gray8"
    elif mode.startswith("I;16"):
        kind = "gray16"
    elif mode in ("I", "F"):
        kind = f"gray-{mode}"
    elif mode in ("RGBA", "RGBa", "LA", "La", "PA") or (mode == "P" and transparent):
        kind = "rgb8" if alpha == "drop" else "rgba8"
    else:
        kind = "rgb8"
    return size, kind


def _describe_kind(header):
    (width, height), kind = header
    names = {
        "gray8": "8-bit grayscale",
        "gray16": "16-bit grayscale",
        "rgb8": "8-bit colour",
        "rgba8": "8-bit colour with alpha",
    }
    return f"{width}x{height} {names.get(kind, kind)}"


def _read_block(paths, shape, dtype, alpha="drop"):
    out = np.empty((len(paths),) + tuple(shape), dtype)
    for i, path in enumerate(paths):
        image = _read_for_batch(path, alpha)
        if image.shape != tuple(shape) or image.dtype != dtype:
            raise ValueError(
                f"'{path}' has shape {image.shape} and dtype {image.dtype}, but "
                f"the first image has shape {tuple(shape)} and dtype {dtype}; "
                "read_images_dask needs images of one size (use "
                "iter_image_batches for mixed sizes)."
            )
        out[i] = image
    return out


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
    """Return (mode, n_frames) from the file header.

    (None, 1) if PIL cannot identify the file (another imageio backend may
    still read it).
    """
    try:
        from PIL import Image, UnidentifiedImageError
    except ImportError:  # pragma: no cover - Pillow comes with imageio
        return None, 1
    try:
        with warnings.catch_warnings():
            # Images between Pillow's MAX_IMAGE_PIXELS and twice that are
            # read (with a warning meant for servers); beyond, it refuses.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(path) as im:
                return im.mode, getattr(im, "n_frames", 1)
    except Image.DecompressionBombError as exc:
        # Only the header has been read: a small file declaring a huge image.
        raise ValueError(
            f"'{path}' is refused without decoding it: {str(exc).rstrip('.')} "
            "(raise PIL.Image.MAX_IMAGE_PIXELS if the file is trusted)."
        ) from None
    except (UnidentifiedImageError, OSError, ValueError):
        return None, 1


def _pil_read(path, mode):
    from PIL import Image

    with Image.open(path) as im:
        return np.asarray(im.convert(mode))


def save_image(path, image):
    """Write one image to a PNG, JPEG, TIFF or BMP file.

    Parent directories are created. The format follows the file extension.

    Parameters
    ----------
    path : str or os.PathLike
        Output file; the extension must be one of ``.png``, ``.jpg``,
        ``.jpeg``, ``.tif``, ``.tiff``, ``.bmp``.
    image : ndarray of shape (h, w), (h, w, 3) or (h, w, 4)
        A single image (not a batch): uint8; uint16 (16 bits kept in TIFF
        files and grayscale PNG files, scaled to 8 bits for colour PNG,
        JPEG and BMP files, which Pillow writes with 8 bits only); bool (written as
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
        if ext in (".jpg", ".jpeg", ".bmp") or (ext == ".png" and image.ndim == 3):
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
