"""ColorSpaceTransformer: agreement with skimage.color, round trips, dtypes,
layouts, errors, the hue encoding, and the HSV -> K-Means pipeline."""

import multiprocessing
import warnings

import numpy as np
import pytest
import skimage.color as skc
import skimage.util
from numpy.testing import assert_allclose, assert_array_equal
from skimage import data
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline

from skseg import KMeansColorSegmenter, _colorconv
from skseg.color import ColorSpaceTransformer

PHOTOS = ("astronaut", "coffee", "chelsea", "rocket")
SPACES = ("rgb", "hsv", "lab", "luv", "xyz", "ycbcr", "yuv", "gray")
INVERTIBLE = tuple(s for s in SPACES if s != "gray")

REFERENCE = {
    "rgb": skimage.util.img_as_float64,
    "hsv": skc.rgb2hsv,
    "lab": skc.rgb2lab,
    "luv": skc.rgb2luv,
    "xyz": skc.rgb2xyz,
    "ycbcr": skc.rgb2ycbcr,
    "yuv": skc.rgb2yuv,
    "gray": skc.rgb2gray,
}
# Largest absolute difference allowed against skimage for uint8 photos (our
# float32 output against skimage's float64): 1e-4 for HSV and 1e-3 for Lab are
# the acceptance criteria; the others are a few float32 ulps of their range.
ATOL = {
    "rgb": 1e-6,
    "hsv": 1e-4,
    "lab": 1e-3,
    "luv": 1e-3,
    "xyz": 1e-6,
    "ycbcr": 1e-4,
    "yuv": 1e-6,
    "gray": 1e-6,
}


@pytest.fixture(scope="module")
def photos():
    return {name: getattr(data, name)() for name in PHOTOS}


@pytest.fixture(scope="module")
def crops(photos):
    # Two 48x64 crops of a real photo: a batch with many distinct colours.
    a = photos["astronaut"]
    return np.stack([a[100:148, 150:214], a[300:348, 200:264]])


def _grid_colors(levels=64):
    # levels**3 colours spanning the RGB cube, corners and ties included.
    v = np.round(np.linspace(0, 255, levels)).astype(np.uint8)
    r, g, b = np.meshgrid(v, v, v, indexing="ij")
    return np.stack([r, g, b], axis=-1).reshape(levels, levels * levels, 3)


# ----------------------------------------------------------------------------
# Agreement with skimage.color


def test_constants_are_skimages():
    from skimage.color import colorconv

    assert_array_equal(_colorconv.XYZ_FROM_RGB, colorconv.xyz_from_rgb)
    assert_array_equal(_colorconv.YUV_FROM_RGB, colorconv.yuv_from_rgb)
    assert_array_equal(_colorconv.YCBCR_FROM_RGB, colorconv.ycbcr_from_rgb)
    assert_array_equal(_colorconv.GRAY_FROM_RGB, colorconv.gray_from_rgb[0])
    white = skc.xyz_tristimulus_values(illuminant="D65", observer="2")
    assert_array_equal(_colorconv.WHITE_D65, white)


@pytest.mark.parametrize("space", SPACES)
@pytest.mark.parametrize("name", PHOTOS)
def test_uint8_photos_match_skimage(photos, name, space):
    img = photos[name]
    out = ColorSpaceTransformer(space).fit_transform(img[None])[0]
    expected = REFERENCE[space](img)
    assert out.dtype == np.float32 and out.shape == expected.shape
    assert_allclose(out, expected, rtol=0, atol=ATOL[space])


@pytest.mark.parametrize("space", SPACES)
def test_float64_matches_skimage_to_float64_precision(space):
    # The table-seeded cube root and sRGB power are exact to a few ulps.
    img = _grid_colors(32).astype(np.float64) / 255
    out = ColorSpaceTransformer(space).fit_transform(img[None])[0]
    assert out.dtype == np.float64
    assert_allclose(out, REFERENCE[space](img), rtol=0, atol=1e-11)


@pytest.mark.parametrize("space", SPACES)
def test_float32_kernels_are_within_their_documented_precision(space):
    # Every space computes float32 output in float32 (the class notes say
    # within 2e-4 for Lab on 8-bit images): against the float64 kernels on
    # the same colours, within 2e-6 of each space's range.
    img = _grid_colors(64)
    est = ColorSpaceTransformer(space)
    out32 = est.fit_transform(img[None])[0]
    out64 = est.fit_transform(img[None] / 255.0)[0]
    assert out32.dtype == np.float32 and out64.dtype == np.float64
    scale = np.abs(out64).max()  # 100 for L, ~1 for xyz
    err = np.abs(out32 - out64).max()
    assert err <= 2e-6 * scale, err


@pytest.mark.parametrize("space", SPACES)
def test_whole_rgb_grid_matches_skimage(space):
    # 262144 colours: black, white, primaries, greys and every kind of tie
    # between channels (the HSV hue branches).
    img = _grid_colors(64)
    out = ColorSpaceTransformer(space).fit_transform(img[None])[0]
    assert_allclose(out, REFERENCE[space](img), rtol=0, atol=ATOL[space])


@pytest.mark.parametrize("n_pixels", [1, 511, 512, 513, 1500])
@pytest.mark.parametrize("space", ["lab", "luv", "xyz"])
def test_pixel_counts_around_the_block_size(photos, space, n_pixels):
    # The kernels work in blocks of 512 pixels; partial blocks are exact too.
    img = photos["coffee"].reshape(-1, 3)[:n_pixels].reshape(1, n_pixels, 3)
    for X in (img, img / 255.0):
        out = ColorSpaceTransformer(space).fit_transform(X[None])[0]
        assert_allclose(out, REFERENCE[space](X), rtol=0, atol=ATOL[space])


@pytest.mark.parametrize(
    "dtype, scale",
    [
        (np.uint16, 257),  # 0-65535: x * 257 / 65535 == x / 255
        (np.int16, None),  # 0-32767, non-negative
        (np.int32, None),
        (np.float32, 1 / 255),
        (np.float64, 1 / 255),
        (np.float16, 1 / 255),
    ],
)
@pytest.mark.parametrize("space", ["hsv", "lab", "ycbcr"])
def test_input_dtypes_are_read_by_their_range(crops, dtype, scale, space):
    X = crops.astype(np.float64)
    if scale is None:  # full range of the dtype, as skimage's img_as_float
        X = np.round(X / 255 * np.iinfo(dtype).max)
        ref_input = X / np.iinfo(dtype).max
    else:
        X = X * scale
        ref_input = X.astype(dtype).astype(np.float64)
        if dtype == np.uint16:
            ref_input = ref_input / 65535
    X = X.astype(dtype)
    out = ColorSpaceTransformer(space).fit_transform(X)
    expected_dtype = np.float64 if dtype == np.float64 else np.float32
    assert out.dtype == expected_dtype
    assert_allclose(out, REFERENCE[space](ref_input), rtol=0, atol=ATOL[space])


def test_boolean_images_are_zero_or_full_intensity():
    X = np.zeros((1, 4, 5, 3), bool)
    X[0, :2] = True  # white top half
    out = ColorSpaceTransformer("hsv").fit_transform(X)
    assert_array_equal(out[0, :2, :, 2], 1.0)
    assert_array_equal(out[0, 2:, :, 2], 0.0)
    gray = ColorSpaceTransformer("gray").fit_transform(list(X))
    assert_allclose(gray[0][:2], 1.0)


# ----------------------------------------------------------------------------
# Round trips


@pytest.mark.parametrize(
    "space, encoding", [(s, None) for s in INVERTIBLE] + [("hsv", "cossin")]
)
def test_inverse_transform_round_trip(photos, space, encoding):
    img = photos["coffee"][None]
    est = ColorSpaceTransformer(space, hue_encoding=encoding)
    back = est.inverse_transform(est.fit_transform(img))
    assert back.dtype == np.float32 and back.shape == img.shape
    # Acceptance: within 1/255; measured ~1e-6 (skimage's Lab thresholds are
    # not exactly continuous, the rest is float32 rounding).
    assert np.abs(back * 255 - img).max() < 1e-3
    # float64 in, float64 out, nearly exact
    x = img / 255.0
    back = est.inverse_transform(est.transform(x))
    assert back.dtype == np.float64
    assert_allclose(back, x, rtol=0, atol=2e-6 if space == "lab" else 1e-9)


@pytest.mark.parametrize("space", INVERTIBLE)
def test_inverse_matches_skimage(crops, space):
    inverse = {
        "rgb": lambda x: x,
        "hsv": skc.hsv2rgb,
        "lab": skc.lab2rgb,
        "luv": skc.luv2rgb,
        "xyz": skc.xyz2rgb,
        "ycbcr": skc.ycbcr2rgb,
        "yuv": skc.yuv2rgb,
    }[space]
    values = REFERENCE[space](crops)
    values = values + np.random.default_rng(0).normal(0, 1e-3, values.shape)
    if space == "hsv":
        # skimage.color.hsv2rgb wraps negative hues wrongly (through uint8);
        # ours takes the hue modulo 1 (tested below).
        values[..., 0] %= 1.0
    out = ColorSpaceTransformer(space).inverse_transform(values)
    assert_allclose(out, np.clip(inverse(values), 0, 1), rtol=0, atol=1e-9)


def test_hue_is_taken_modulo_one():
    hsv = np.array([[[[0.1, 0.8, 0.9], [1.1, 0.8, 0.9], [-0.9, 0.8, 0.9]]]])
    rgb = ColorSpaceTransformer("hsv").inverse_transform(hsv)[0, 0]
    assert_allclose(rgb[1], rgb[0], atol=1e-12)
    assert_allclose(rgb[2], rgb[0], atol=1e-12)


def test_out_of_gamut_inverse_is_clipped_to_unit_range():
    lab = np.array([[[[50.0, 120.0, -120.0], [100.0, 0.0, 0.0], [0.0, -90.0, 90.0]]]])
    rgb = ColorSpaceTransformer("lab").inverse_transform(lab)
    assert rgb.min() >= 0 and rgb.max() <= 1
    assert_allclose(rgb[0, 0, 1], 1.0, atol=1e-3)  # L=100 is white


def test_gray_drops_the_channel_axis_and_inverts_to_three_equal_channels(crops):
    est = ColorSpaceTransformer("gray")
    gray = est.fit_transform(crops)
    assert gray.shape == crops.shape[:3] and gray.dtype == np.float32
    rgb = est.inverse_transform(gray)
    assert rgb.shape == crops.shape
    assert_array_equal(rgb[..., 0], gray)
    assert_array_equal(rgb[..., 2], gray)
    # a grayscale batch is returned rescaled to [0, 1]
    assert_allclose(est.fit_transform(crops[..., 0]), crops[..., 0] / 255, atol=1e-7)


# ----------------------------------------------------------------------------
# Layouts (the image-batch contract)


@pytest.mark.parametrize("space", ["hsv", "lab", "gray"])
def test_layouts_give_the_same_values(crops, space):
    est = ColorSpaceTransformer(space)
    ref = est.fit_transform(crops)
    # list of images -> list of images
    out = est.fit_transform(list(crops))
    assert isinstance(out, list) and len(out) == 2
    for a, b in zip(out, ref):
        assert_array_equal(a, b)
    # flattened rows with image_shape -> flattened rows
    n, h, w, _ = crops.shape
    flat = est.set_params(image_shape=(h, w, 3)).fit_transform(crops.reshape(n, -1))
    assert_array_equal(flat, ref.reshape(n, -1))
    back = est.inverse_transform(flat)
    assert back.shape == (n, h * w * 3)
    # a strided batch is read image by image, same values
    assert_array_equal(
        est.set_params(image_shape=None).fit_transform(crops[:, ::2, ::3]),
        ref[:, ::2, ::3],
    )


def test_ragged_list_keeps_each_image_size(photos):
    images = [photos["coffee"][:40, :60], photos["chelsea"][:30, :20]]
    out = ColorSpaceTransformer("lab").fit_transform(images)
    assert [o.shape for o in out] == [(40, 60, 3), (30, 20, 3)]
    for o, im in zip(out, images):
        assert_allclose(o, skc.rgb2lab(im), atol=1e-3)
    back = ColorSpaceTransformer("lab").inverse_transform(out)
    assert [b.shape for b in back] == [(40, 60, 3), (30, 20, 3)]


@pytest.mark.parametrize(
    "space, encoding, backend",
    [
        ("lab", None, "threading"),
        ("hsv", "cossin", "threading"),
        ("hsv", "cossin", "loky"),
    ],
)
def test_n_jobs_and_backend_do_not_change_the_output(photos, space, encoding, backend):
    # Workers return their pieces, so process-based backends work too (and
    # the hue encoding survives pickling into a worker process).
    from joblib import parallel_config

    img = photos["astronaut"][None]  # 2**18 pixels: split in pieces
    est = ColorSpaceTransformer(space, hue_encoding=encoding)
    expected = est.fit_transform(img)
    inverse = est.inverse_transform(expected)
    with parallel_config(backend=backend):
        est.set_params(n_jobs=2)
        assert_array_equal(est.fit_transform(img), expected)
        assert_array_equal(est.inverse_transform(expected), inverse)


@pytest.mark.parametrize("n_jobs", [2, 3, 5])
def test_threads_share_every_piece_of_a_ragged_batch(photos, n_jobs):
    # More pieces than threads (three images, each split in row ranges): the
    # calling thread and the pool's threads take pieces until none is left.
    a = photos["astronaut"]
    images = [a, a[:300, :400], photos["coffee"]]
    est = ColorSpaceTransformer("lab")
    expected = est.fit_transform(images)
    got = est.set_params(n_jobs=n_jobs).fit_transform(images)
    for g, e in zip(got, expected):
        assert_array_equal(g, e)


def _lab_in_child(img, conn):
    conn.send(ColorSpaceTransformer("lab", n_jobs=2).fit_transform(img))
    conn.close()


@pytest.mark.skipif(
    "fork" not in multiprocessing.get_all_start_methods(), reason="no fork"
)
def test_thread_pool_works_in_a_forked_child(photos):
    # The pool is kept between calls; a child forked after the parent used it
    # has a copy without threads and must make its own instead of hanging. (A
    # plain, non-daemon Process: joblib runs daemon pool workers on 1 thread.)
    img = photos["astronaut"][None]
    expected = ColorSpaceTransformer("lab", n_jobs=2).fit_transform(img)
    ctx = multiprocessing.get_context("fork")
    receive, send = ctx.Pipe(duplex=False)
    with warnings.catch_warnings():
        # Python 3.12+ warns that forking a multi-threaded process may
        # deadlock: that is the situation tested.
        warnings.simplefilter("ignore", DeprecationWarning)
        child = ctx.Process(target=_lab_in_child, args=(img, send))
        child.start()
    try:
        assert receive.poll(120), "the forked child did not finish its transform"
        got = receive.recv()
    finally:
        child.kill()
        child.join()
    assert_array_equal(got, expected)


@pytest.mark.parametrize(
    "method", ["fit", "fit_transform", "transform", "inverse_transform"]
)
@pytest.mark.parametrize("layout", ["4d", "list", "2d"])
def test_inputs_are_never_modified(crops, method, layout):
    n, h, w, _ = crops.shape
    shape = (h, w, 3) if layout == "2d" else None
    X = crops.astype(np.float32) / 255
    if method == "inverse_transform":
        X = ColorSpaceTransformer("lab").fit_transform(X)  # Lab values
    X = {"4d": X, "list": list(X), "2d": X.reshape(n, -1)}[layout]
    X_orig = [x.copy() for x in X] if layout == "list" else X.copy()
    getattr(ColorSpaceTransformer("lab", image_shape=shape), method)(X)
    assert_array_equal(np.asarray(X), np.asarray(X_orig))


def test_get_feature_names_out():
    X = np.random.default_rng(0).integers(0, 256, (3, 2 * 2 * 3), dtype=np.uint8)
    est = ColorSpaceTransformer("hsv", image_shape=(2, 2, 3)).fit(X)
    names = est.get_feature_names_out()
    assert names.dtype == object and len(names) == est.transform(X).shape[1]
    assert list(names[:4]) == ["pixel0_h", "pixel0_s", "pixel0_v", "pixel1_h"]
    cossin = est.set_params(hue_encoding="cossin").get_feature_names_out()
    assert list(cossin[:3]) == ["pixel0_s_cos_h", "pixel0_s_sin_h", "pixel0_v"]
    gray = ColorSpaceTransformer("gray", image_shape=(2, 2, 3)).fit(X)
    assert list(gray.get_feature_names_out()) == [f"pixel{p}_gray" for p in range(4)]
    # fitted on images (or not at all), the names of an output pixel's channels
    images = ColorSpaceTransformer().fit(X.reshape(3, 2, 2, 3))
    assert list(images.get_feature_names_out()) == ["h", "s", "v"]
    assert list(ColorSpaceTransformer("lab").get_feature_names_out()) == [
        "l",
        "a",
        "b",
    ]
    assert list(images.get_feature_names_out(["r", "g", "b"])) == ["h", "s", "v"]
    with pytest.raises(ValueError, match=r"fitted on images with 3 channel\(s\)"):
        images.get_feature_names_out(["r", "g"])


# ----------------------------------------------------------------------------
# Errors


@pytest.mark.parametrize(
    "X, match",
    [
        (np.zeros((2, 5, 6, 1), np.uint8), r"3 channels \(RGB\), but X has 1"),
        (np.zeros((2, 5, 6), np.uint8), "Grayscale images have no colour"),
        (np.zeros((2, 30), np.uint8), r"pass image_shape=\(height, width, 3\)"),
        (np.zeros((2, 5, 6, 4), np.uint8), r"alpha channel first, e.g. X\[..., :3\]"),
        ([np.zeros((5, 6, 2), np.uint8)], "but X has 2 channel"),
    ],
)
def test_three_channel_spaces_reject_other_channel_counts(X, match):
    for method in ("fit", "fit_transform", "transform"):
        with pytest.raises(ValueError, match=match):
            getattr(ColorSpaceTransformer("lab"), method)(X)


def test_single_image_without_batch_axis_is_refused(photos):
    with pytest.raises(ValueError, match=r"single colour image.*Pass X\[None\]"):
        ColorSpaceTransformer("hsv").fit_transform(photos["coffee"])


def test_gray_accepts_one_or_three_channels_only():
    with pytest.raises(ValueError, match=r"needs images with 1 or 3 channels"):
        ColorSpaceTransformer("gray").fit(np.zeros((1, 4, 4, 2)))


def test_out_of_range_floats_raise_with_the_range_found(crops):
    with pytest.raises(
        ValueError, match=r"in \[0, 1\], but X \(float32\) has values in \[\d"
    ):
        ColorSpaceTransformer("hsv").fit_transform(crops.astype(np.float32))
    X = crops / 255.0
    X[0, 0, 0, 0] = -0.5
    with pytest.raises(ValueError, match=r"Negative values in data .* \[-0.5, "):
        ColorSpaceTransformer("lab").transform(X)
    with pytest.raises(ValueError, match="Negative values in data"):
        ColorSpaceTransformer("lab").fit(-crops.astype(np.int16))
    # exactly 0 and 1 are fine
    ColorSpaceTransformer("lab").fit_transform(np.array([[[[0.0, 1.0, 1.0]]]]))
    # a list of a uint8 and a float image is read as float: 0-255 is out of range
    mixed = [crops[0], crops[1] / 255.0]
    with pytest.raises(ValueError, match=r"in \[0, 1\], but X \(float64\) has"):
        ColorSpaceTransformer("lab").fit_transform(mixed)
    ragged = [crops[0] / 255.0, crops[1, :10] / 255.0 * 2]
    hi = ragged[1].max()
    with pytest.raises(ValueError, match=rf"has values in \[0, {hi:.6g}\]"):
        ColorSpaceTransformer("lab").fit_transform(ragged)


def test_clip_true_clips_instead_of_raising(crops):
    X = crops / 255.0
    X[0, 0, 0] = [1.2, -0.1, 0.5]  # e.g. the overshoot of a bicubic resize
    out = ColorSpaceTransformer("lab", clip=True).fit_transform(X)
    assert X[0, 0, 0, 0] == 1.2  # the input is not modified
    expected = ColorSpaceTransformer("lab").fit_transform(np.clip(X, 0, 1))
    assert_array_equal(out, expected)
    ints = np.array([[[[-5, 300, 10]]]], np.int16)
    assert_array_equal(
        ColorSpaceTransformer("hsv", clip=True).fit_transform(ints),
        ColorSpaceTransformer("hsv").fit_transform(np.maximum(ints, 0)),
    )


def test_nan_and_bad_parameters_raise():
    X = np.full((1, 2, 2, 3), 0.5)
    X[0, 0, 0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        ColorSpaceTransformer().fit(X)
    with pytest.raises(ValueError, match="space"):
        ColorSpaceTransformer("cmyk").fit(np.zeros((1, 2, 2, 3)))
    with pytest.raises(ValueError, match="space='lab' has no hue"):
        ColorSpaceTransformer("lab", hue_encoding="cossin").fit(np.zeros((1, 2, 2, 3)))
    with pytest.raises(ValueError, match=r"inverse_transform .* takes images with 3"):
        ColorSpaceTransformer("lab").inverse_transform(np.zeros((1, 2, 2, 4)))


def test_transform_needs_no_fit():
    X = np.zeros((1, 2, 2, 3), np.uint8)
    assert ColorSpaceTransformer("lab").transform(X).shape == (1, 2, 2, 3)
    assert ColorSpaceTransformer("lab").inverse_transform(X.astype(float)).shape == (
        1,
        2,
        2,
        3,
    )


# ----------------------------------------------------------------------------
# Hue encoding and the tutorial pipeline


def _hue_image(hues, size=16, seed=0):
    """One image per row block: a region per hue, saturation/value jittered."""
    rng = np.random.default_rng(seed)
    blocks = []
    for h in hues:
        hh = np.full((size, size), h)
        s = rng.uniform(0.7, 1.0, (size, size))
        v = rng.uniform(0.6, 1.0, (size, size))
        blocks.append(skc.hsv2rgb(np.stack([hh, s, v], -1)))
    return (np.concatenate(blocks, axis=0) * 255).round().astype(np.uint8)


def test_hue_encoding_keeps_reds_together():
    # Reds at hue 0.01 and 0.99 (both red to the eye), green, blue.
    hues = [0.01, 0.99, 0.33, 0.66]
    img = _hue_image(hues)[None]

    def labels(encoding):
        pipe = Pipeline(
            [
                ("hsv", ColorSpaceTransformer("hsv", hue_encoding=encoding)),
                ("seg", KMeansColorSegmenter(3, output="labels", random_state=0)),
            ]
        )
        lab = pipe.fit_transform(img)[0].reshape(len(hues), -1)
        # every region is one cluster
        assert all(len(np.unique(row)) == 1 for row in lab)
        return lab[:, 0]

    plain = labels(None)
    assert plain[0] != plain[1]  # h = 0.01 and 0.99 are far apart on [0, 1)
    encoded = labels("cossin")
    assert encoded[0] == encoded[1]  # ... and close on the circle
    assert len(set(encoded)) == 3


def test_cossin_is_the_hsv_cylinder(crops):
    hsv = ColorSpaceTransformer("hsv").fit_transform(crops).astype(np.float64)
    enc = ColorSpaceTransformer("hsv", hue_encoding="cossin").fit_transform(crops)
    h, s, v = hsv[..., 0], hsv[..., 1], hsv[..., 2]
    expected = np.stack([s * np.cos(2 * np.pi * h), s * np.sin(2 * np.pi * h), v], -1)
    assert_allclose(enc, expected, rtol=0, atol=1e-6)


def _pipeline(image_shape=None, k=3):
    return Pipeline(
        [
            ("hsv", ColorSpaceTransformer("hsv", image_shape=image_shape)),
            (
                "seg",
                KMeansColorSegmenter(
                    k,
                    output="labels",
                    n_init=2,
                    random_state=0,
                    image_shape=image_shape,
                ),
            ),
        ]
    )


def test_hsv_pipeline_on_every_layout(crops, photos):
    n, h, w, _ = crops.shape
    labels = _pipeline().fit_transform(crops)
    assert labels.shape == (n, h, w)
    # the same images as a list, and as flattened rows: the same labels
    as_list = _pipeline().fit_transform(list(crops))
    assert isinstance(as_list, list)
    assert_array_equal(np.stack(as_list), labels)
    rows = _pipeline(image_shape=(h, w, 3)).fit_transform(crops.reshape(n, -1))
    assert_array_equal(rows, labels.reshape(n, -1))
    # a ragged list
    ragged = [photos["coffee"][:40, :60], photos["chelsea"][:30, :20]]
    out = _pipeline().fit(ragged).transform(ragged)
    assert [o.shape for o in out] == [(40, 60), (30, 20)]
    assert set(np.unique(np.concatenate([o.ravel() for o in out]))) <= {0, 1, 2}


def _red_cyan_dataset(n=24, size=8, seed=0):
    # Class 0: red objects, hue just above 0 or just below 1; class 1: cyan
    # objects. Saturation and brightness vary a lot inside every image.
    rng = np.random.default_rng(seed)
    X = []
    for i in range(n):
        if i % 2 == 0:
            low = rng.random((size, size)) < 0.5
            h = np.where(
                low,
                rng.uniform(0.0, 0.04, (size, size)),
                rng.uniform(0.96, 1.0, (size, size)),
            )
        else:
            h = rng.uniform(0.46, 0.54, (size, size))
        s = rng.uniform(0.5, 1.0, (size, size))
        v = rng.uniform(0.15, 1.0, (size, size))
        X.append(skc.hsv2rgb(np.stack([h, s, v], -1)))
    return (np.stack(X) * 255).round().astype(np.uint8), np.arange(n) % 2


def test_grid_search_picks_the_hue_encoding():
    # Colour histograms (K=2 palette) feed a classifier. In plain HSV the two
    # kinds of red fall in different clusters, so the histogram mixes reds
    # with cyan; with the hue encoding one cluster is "red", the other "cyan".
    X, y = _red_cyan_dataset()
    pipe = Pipeline(
        [
            ("color", ColorSpaceTransformer("hsv")),
            (
                "seg",
                KMeansColorSegmenter(2, output="histogram", n_init=2, random_state=0),
            ),
            ("clf", LogisticRegression()),
        ]
    )
    search = GridSearchCV(pipe, {"color__hue_encoding": [None, "cossin"]}, cv=3)
    search.fit(X, y)
    scores = dict(
        zip(
            [p["color__hue_encoding"] for p in search.cv_results_["params"]],
            search.cv_results_["mean_test_score"],
        )
    )
    assert search.best_params_ == {"color__hue_encoding": "cossin"}
    assert scores["cossin"] == 1.0
    assert scores[None] < 0.9
