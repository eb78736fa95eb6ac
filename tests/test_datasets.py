"""Tests for skseg.datasets: bundled samples and image file I/O."""

import numpy as np
import pytest
from PIL import Image

from skseg.datasets import (
    load_images,
    load_sample_image,
    sample_image_names,
    save_image,
)

GRAY_SAMPLES = {"camera", "coins", "moon", "page", "text"}


@pytest.fixture
def rgb():
    rng = np.random.default_rng(0)
    return rng.integers(0, 256, size=(12, 17, 3), dtype=np.uint8)


# --- sample images ---------------------------------------------------------


def test_sample_image_names_sorted_tuple():
    names = sample_image_names()
    assert isinstance(names, tuple)
    assert list(names) == sorted(names)
    assert {"astronaut", "coffee", "chelsea", "rocket", "camera"} <= set(names)
    assert {"china", "flower"} <= set(names)


@pytest.mark.parametrize("name", sample_image_names())
def test_load_sample_image_shapes(name):
    image = load_sample_image(name)
    assert image.dtype == np.uint8
    if name in GRAY_SAMPLES:
        assert image.ndim == 2
    else:
        assert image.ndim == 3 and image.shape[-1] == 3
    assert image.flags.writeable and image.flags.c_contiguous


def test_load_sample_image_default_is_astronaut():
    assert load_sample_image().shape == (512, 512, 3)
    np.testing.assert_array_equal(load_sample_image(), load_sample_image("astronaut"))


def test_load_sample_image_sklearn_images():
    assert load_sample_image("china").shape == (427, 640, 3)
    assert load_sample_image("flower").shape == (427, 640, 3)


def test_load_sample_image_returns_a_new_array():
    a = load_sample_image("camera")
    a[:] = 0
    assert load_sample_image("camera").any()


def test_load_sample_image_case_insensitive():
    assert load_sample_image("Camera").shape == (512, 512)


@pytest.mark.parametrize("name", ["lena", "", "astronaut.png"])
def test_load_sample_image_unknown_name_lists_valid_names(name):
    with pytest.raises(ValueError, match=r"Unknown sample image .*astronaut, camera"):
        load_sample_image(name)


# --- save_image / load_images round trips ----------------------------------


def test_save_and_load_roundtrip_rgb(tmp_path, rgb):
    path = save_image(tmp_path / "a" / "b" / "img.png", rgb)
    assert path == tmp_path / "a" / "b" / "img.png"
    assert path.is_file()
    (back,) = load_images([path])
    np.testing.assert_array_equal(back, rgb)


def test_save_and_load_roundtrip_gray_and_rgba(tmp_path, rgb):
    gray = rgb[..., 0]
    rgba = np.dstack([rgb, np.full(rgb.shape[:2], 200, np.uint8)])
    save_image(tmp_path / "gray.png", gray)
    save_image(tmp_path / "rgba.png", rgba)
    gray_back, rgba_back = load_images([tmp_path / "gray.png", tmp_path / "rgba.png"])
    np.testing.assert_array_equal(gray_back, gray)
    np.testing.assert_array_equal(rgba_back, rgba)  # alpha is kept


def test_load_images_accepts_str_and_single_path(tmp_path, rgb):
    save_image(tmp_path / "img.png", rgb)
    assert len(load_images(str(tmp_path / "img.png"))) == 1
    assert len(load_images(tmp_path / "img.png")) == 1
    assert len(load_images((str(tmp_path / "img.png"),) * 2)) == 2
    assert load_images([]) == []


def test_save_image_uint16_png_keeps_16_bits(tmp_path):
    image = (np.arange(64, dtype=np.uint16) * 1000).reshape(8, 8)
    save_image(tmp_path / "deep.png", image)
    (back,) = load_images([tmp_path / "deep.png"])
    assert back.dtype == np.uint16
    np.testing.assert_array_equal(back, image)


@pytest.mark.parametrize(
    "name, expected_dtype",
    [("deep.tif", np.uint16), ("deep.png", np.uint8), ("deep.jpg", np.uint8)],
)
def test_save_image_uint16_colour(tmp_path, rgb, name, expected_dtype):
    image = rgb.astype(np.uint16) * 257
    save_image(tmp_path / name, image)
    (back,) = load_images([tmp_path / name])
    assert back.dtype == expected_dtype
    assert back.shape == rgb.shape
    if not name.endswith(".jpg"):
        np.testing.assert_array_equal(back, image if name.endswith(".tif") else rgb)


def test_save_image_float_scaled_to_uint8(tmp_path):
    image = np.linspace(0, 1, 64).reshape(8, 8)
    save_image(tmp_path / "ramp.png", image)
    (back,) = load_images([tmp_path / "ramp.png"])
    assert back.dtype == np.uint8
    assert back[0, 0] == 0 and back[-1, -1] == 255


def test_save_image_bool(tmp_path):
    image = np.zeros((5, 6), dtype=bool)
    image[2:, 3:] = True
    save_image(tmp_path / "mask.png", image)
    (back,) = load_images([tmp_path / "mask.png"])
    np.testing.assert_array_equal(back, image.astype(np.uint8) * 255)


def test_save_image_jpeg(tmp_path, rgb):
    save_image(tmp_path / "img.jpg", rgb)
    (back,) = load_images([tmp_path / "img.jpg"])
    assert back.shape == rgb.shape and back.dtype == np.uint8


def test_save_image_single_channel_axis_dropped(tmp_path, rgb):
    save_image(tmp_path / "g.png", rgb[..., :1])
    assert load_images([tmp_path / "g.png"])[0].shape == rgb.shape[:2]


# --- load_images conversions -----------------------------------------------


def test_load_palette_image_as_rgb(tmp_path, rgb):
    Image.fromarray(rgb).convert("P").save(tmp_path / "p.png")
    (image,) = load_images([tmp_path / "p.png"])
    assert image.shape == rgb.shape and image.dtype == np.uint8


def test_load_gray_alpha_as_rgba(tmp_path, rgb):
    Image.fromarray(rgb).convert("LA").save(tmp_path / "la.png")
    (image,) = load_images([tmp_path / "la.png"])
    assert image.shape == rgb.shape[:2] + (4,)
    np.testing.assert_array_equal(image[..., 0], image[..., 1])
    np.testing.assert_array_equal(image[..., 0], image[..., 2])
    assert (image[..., 3] == 255).all()


def test_load_bilevel_as_uint8(tmp_path, rgb):
    Image.fromarray(rgb).convert("1").save(tmp_path / "b.png")
    (image,) = load_images([tmp_path / "b.png"])
    assert image.dtype == np.uint8
    assert set(np.unique(image)) <= {0, 255}


def test_load_cmyk_jpeg_as_rgb(tmp_path, rgb):
    Image.fromarray(rgb).convert("CMYK").save(tmp_path / "cmyk.jpg")
    (image,) = load_images([tmp_path / "cmyk.jpg"])
    assert image.shape == rgb.shape


def test_load_single_frame_gif(tmp_path, rgb):
    Image.fromarray(rgb).save(tmp_path / "one.gif")
    (image,) = load_images([tmp_path / "one.gif"])
    assert image.shape == rgb.shape


# --- load_images errors ----------------------------------------------------


def test_load_images_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"No such image file: '.*nope\.png'"):
        load_images([tmp_path / "nope.png"])


def test_load_images_directory(tmp_path):
    with pytest.raises(ValueError, match="is a directory, not an image file"):
        load_images([tmp_path])


@pytest.mark.parametrize("content", [b"", b"hello, not an image"])
def test_load_images_not_an_image(tmp_path, content):
    path = tmp_path / "fake.png"
    path.write_bytes(content)
    with pytest.raises(ValueError, match=r"Cannot read '.*fake\.png' as an image"):
        load_images([path])


def test_load_images_animated_gif(tmp_path, rgb):
    frames = [Image.fromarray(rgb), Image.fromarray(255 - rgb)]
    frames[0].save(tmp_path / "anim.gif", save_all=True, append_images=frames[1:])
    with pytest.raises(ValueError, match="holds 2 frames"):
        load_images([tmp_path / "anim.gif"])


def test_load_images_bad_path_type():
    with pytest.raises(TypeError, match="Image paths must be str or os.PathLike"):
        load_images([3])


# --- save_image errors -----------------------------------------------------


def test_save_image_bad_extension(tmp_path, rgb):
    with pytest.raises(ValueError, match=r"unsupported extension '\.gif'; use one of"):
        save_image(tmp_path / "img.gif", rgb)
    with pytest.raises(ValueError, match="unsupported extension ''"):
        save_image(tmp_path / "img", rgb)


def test_save_image_batch_rejected(tmp_path, rgb):
    with pytest.raises(ValueError, match=r"single image .* It looks like a batch"):
        save_image(tmp_path / "img.png", np.stack([rgb, rgb]))
    with pytest.raises(ValueError, match="got shape"):
        save_image(tmp_path / "img.png", rgb[0, 0])


def test_save_image_empty(tmp_path):
    with pytest.raises(ValueError, match="no pixels"):
        save_image(tmp_path / "img.png", np.zeros((0, 5), np.uint8))


@pytest.mark.parametrize("bad", [-0.5, 1.5])
def test_save_image_float_out_of_range(tmp_path, bad):
    image = np.zeros((4, 4))
    image[0, 0] = bad
    with pytest.raises(ValueError, match=r"values in \[0, 1\]; got min="):
        save_image(tmp_path / "img.png", image)


def test_save_image_float_nan(tmp_path):
    image = np.zeros((4, 4))
    image[1, 1] = np.nan
    with pytest.raises(ValueError, match="NaN or infinite"):
        save_image(tmp_path / "img.png", image)


def test_save_image_label_map_rejected(tmp_path):
    labels = np.arange(16, dtype=np.int64).reshape(4, 4)
    with pytest.raises(TypeError, match="got dtype int64.*label2rgb"):
        save_image(tmp_path / "labels.png", labels)


def test_save_image_jpeg_rgba_rejected(tmp_path, rgb):
    rgba = np.dstack([rgb, rgb[..., 0]])
    with pytest.raises(ValueError, match="JPEG has no alpha channel"):
        save_image(tmp_path / "img.jpg", rgba)
    assert not (tmp_path / "img.jpg").exists()


# --- folders, globs and lazy readers ----------------------------------------


@pytest.fixture
def folder(tmp_path, rgb):
    for i in range(5):
        save_image(tmp_path / "imgs" / f"im{i}.png", np.roll(rgb, i, axis=0))
    (tmp_path / "imgs" / "README.txt").write_text("")
    (tmp_path / "imgs" / ".hidden.png").write_bytes(b"")
    (tmp_path / "imgs" / "sub").mkdir()
    save_image(tmp_path / "imgs" / "sub" / "deep.png", rgb)
    return tmp_path / "imgs"


def test_list_image_files(folder):
    from skseg.datasets import list_image_files

    names = [p.name for p in list_image_files(folder)]
    assert names == [f"im{i}.png" for i in range(5)]  # not recursive
    assert [p.name for p in list_image_files(str(folder / "**" / "*.png"))] == [
        *(f"im{i}.png" for i in range(5)),
        "deep.png",
    ]
    # a file is kept as given, even if missing: reading it reports that
    mixed = list_image_files([folder / "im3.png", str(folder / "im[01].png")])
    assert [p.name for p in mixed] == ["im3.png", "im0.png", "im1.png"]
    (folder / "none").mkdir()
    with pytest.raises(ValueError, match=r"'.*none' holds no image file"):
        list_image_files(folder / "none")
    with pytest.raises(ValueError, match=r"No file matches the pattern"):
        list_image_files(str(folder / "*.jpg"))
    with pytest.raises(TypeError, match="must be str or os.PathLike, got int"):
        list_image_files([folder, 3])


def test_iter_image_batches(folder, rgb):
    from skseg import KMeansColorSegmenter
    from skseg.datasets import iter_image_batches

    batches = list(iter_image_batches(folder, batch_size=2))
    assert [len(b) for b in batches] == [2, 2, 1]
    np.testing.assert_array_equal(batches[0][0], rgb)
    # partial_fit over the batches sees the table fit sees on all images
    stacked = np.stack([im for b in batches for im in b])
    inc = KMeansColorSegmenter(3, random_state=0)
    for batch in iter_image_batches(folder, batch_size=2):
        inc.partial_fit(batch)
    full = KMeansColorSegmenter(3, random_state=0).fit(stacked)
    np.testing.assert_array_equal(inc.cluster_centers_, full.cluster_centers_)


def test_iter_image_batches_errors(folder):
    from skseg.datasets import iter_image_batches

    (folder / "im9.png").write_text("broken")
    with pytest.raises(ValueError, match=r"Cannot read '.*im9\.png'"):
        list(iter_image_batches(folder))
    with pytest.warns(UserWarning, match=r"Skipped .*im9\.png: Cannot read"):
        batches = list(iter_image_batches(folder, batch_size=4, errors="warn"))
    assert [len(b) for b in batches] == [4, 1]
    with pytest.raises(ValueError, match="batch_size must be a positive integer"):
        next(iter_image_batches(folder, batch_size=0))
    with pytest.raises(ValueError, match="errors must be 'raise', 'warn' or 'skip'"):
        next(iter_image_batches(folder, errors="ignore"))


def test_read_images_dask(folder, rgb):
    from skseg.datasets import read_images_dask

    X = read_images_dask(folder, chunk_size=3)
    assert X.shape == (5,) + rgb.shape and X.dtype == np.uint8
    assert X.chunks[0] == (3, 2)
    np.testing.assert_array_equal(X[1].compute(), np.roll(rgb, 1, axis=0))
    save_image(folder / "im5.png", rgb[:5])
    X = read_images_dask(folder, chunk_size=3)
    with pytest.raises(ValueError, match=r"'.*im5\.png' has shape \(5, 17, 3\)"):
        X.compute()


def test_decompression_bomb_refused_without_decoding(tmp_path):
    import struct
    import zlib

    # A header declaring 30000 x 30000 pixels and a few bytes of pixel data.
    def chunk(kind, data):
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", 30000, 30000, 8, 2, 0, 0, 0)
    path = tmp_path / "bomb.png"
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 90001))
        + chunk(b"IEND", b"")
    )
    with pytest.raises(ValueError, match=r"'.*bomb\.png' is refused without decoding"):
        load_images(path)
    # Pillow's limit is the user's to raise
    limit = Image.MAX_IMAGE_PIXELS
    try:
        Image.MAX_IMAGE_PIXELS = 10
        with pytest.raises(ValueError, match="exceeds limit of 20 pixels"):
            load_images(_small_png(tmp_path))
    finally:
        Image.MAX_IMAGE_PIXELS = limit


def _small_png(tmp_path):
    path = tmp_path / "small.png"
    save_image(path, np.zeros((5, 6), np.uint8))
    return path


def test_save_image_bmp(tmp_path, rgb):
    path = save_image(tmp_path / "x.bmp", rgb)
    assert path.read_bytes()[:2] == b"BM"
    np.testing.assert_array_equal(load_images(path)[0], rgb)
    wide = (rgb.astype(np.uint16) * 257)[..., 0]
    (back,) = load_images(save_image(tmp_path / "y.bmp", wide))
    np.testing.assert_array_equal(back, rgb[..., 0])  # 16 bits scaled to 8
