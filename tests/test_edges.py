"""Behaviour of CannyEdgeExtractor: scikit-image/OpenCV parity, contract, API."""

import warnings

import numpy as np
import pytest
from numpy.testing import assert_array_equal
from scipy import ndimage as ndi
from skimage import color, data, feature
from skimage.util import img_as_ubyte
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion, Pipeline

from skseg.edges import CannyEdgeExtractor

PHOTOS = ("astronaut", "coffee", "chelsea", "rocket")
GRAY = ("camera", "coins", "moon")


@pytest.fixture(scope="module")
def photos():
    return {name: getattr(data, name)() for name in PHOTOS}


@pytest.fixture(scope="module")
def grays():
    return {name: getattr(data, name)() for name in GRAY}


def _edges(image, **params):
    """Edge map of a single image with CannyEdgeExtractor (batch of one)."""
    if image.ndim == 2 and image.shape[1] in (3, 4):
        # (1, h, 3 or 4) would be refused as one colour image
        return CannyEdgeExtractor(**params).fit_transform([image])[0]
    return CannyEdgeExtractor(**params).fit_transform(image[None])[0]


def _f1_within_one_pixel(a, b):
    """F1 of two edge maps, an edge matching when the other has one within 1 px."""
    grow = np.ones((3, 3), bool)
    precision = (a & ndi.binary_dilation(b, grow)).sum() / max(a.sum(), 1)
    recall = (b & ndi.binary_dilation(a, grow)).sum() / max(b.sum(), 1)
    return 2 * precision * recall / max(precision + recall, 1e-12)


# ---------------------------------------------------------------------------
# acceptance: identical to skimage.feature.canny


SKIMAGE_PARAMS = [
    {},  # sigma=1, thresholds 10% and 20% of the dtype's maximum
    {"sigma": 2.0, "low_threshold": 10, "high_threshold": 40},
    {"sigma": 0.0},
    {"sigma": 1.5, "low_threshold": 0.5, "high_threshold": 0.9, "use_quantiles": True},
]


@pytest.mark.parametrize("params", SKIMAGE_PARAMS)
@pytest.mark.parametrize("name", GRAY)
def test_uint8_and_float_images_identical_to_skimage(grays, name, params):
    image = grays[name]
    assert_array_equal(_edges(image, **params), feature.canny(image, **params))
    # the same photo as float64 and float32 in [0, 1]: thresholds in its units
    as_float = dict(params)
    if "low_threshold" in params and not params.get("use_quantiles"):
        as_float["low_threshold"] = params["low_threshold"] / 255
        as_float["high_threshold"] = params["high_threshold"] / 255
    for dtype in (np.float64, np.float32):
        x = (image / 255).astype(dtype)
        expected = feature.canny(x, **as_float)
        assert_array_equal(_edges(x, **as_float), expected)


@pytest.mark.parametrize("name", PHOTOS)
def test_rgb_input_via_luminance_agrees_with_skimage(photos, name):
    # Acceptance: >= 99.9% identical pixels (here: identical, unless numpy's
    # rgb2gray rounds differently on this platform).
    image = photos[name]
    gray = color.rgb2gray(image)  # float in [0, 1]
    for params, sk_params in [
        ({}, {}),
        (
            {"sigma": 2.0, "low_threshold": 0.05 * 255, "high_threshold": 0.15 * 255},
            {"sigma": 2.0, "low_threshold": 0.05, "high_threshold": 0.15},
        ),
    ]:
        ours = _edges(image, **params)  # uint8 RGB: thresholds in 0-255 units
        assert (ours == feature.canny(gray, **sk_params)).mean() >= 0.999
        ours = _edges(image / 255, **sk_params)  # float RGB
        assert (ours == feature.canny(gray, **sk_params)).mean() >= 0.999


def test_random_shapes_and_sigmas_identical_to_skimage():
    # Tiny images, images smaller than the filter, odd sizes, every dtype path.
    rng = np.random.default_rng(0)
    for _ in range(60):
        h, w = rng.integers(1, 12, 2)
        sigma = float(rng.choice([0, 0.3, 1, 2.5, 6]))
        for x in (
            rng.integers(0, 256, (h, w)).astype(np.uint8),
            rng.random((h, w)),
            rng.random((h, w)).astype(np.float32),
            (rng.integers(-(2**15), 2**15, (h, w))).astype(np.int16),
        ):
            assert_array_equal(_edges(x, sigma=sigma), feature.canny(x, sigma=sigma))


def test_boolean_images_are_read_as_0_and_1_like_skimage():
    horse = data.horse()
    assert horse.dtype == bool
    assert_array_equal(_edges(horse), feature.canny(horse))


# ---------------------------------------------------------------------------
# acceptance: the tutorial's cv2.Canny(gray, 150, 200)


@pytest.mark.parametrize("name", PHOTOS)
def test_l1_reproduces_the_tutorials_cv2_canny(photos, name):
    cv2 = pytest.importorskip("cv2")
    gray = img_as_ubyte(color.rgb2gray(photos[name]))
    expected = cv2.Canny(gray, 150, 200) > 0
    ours = _edges(gray, sigma=0, low_threshold=150, high_threshold=200, gradient="l1")
    assert _f1_within_one_pixel(ours, expected) >= 0.98
    assert (ours == expected).mean() >= 0.999


def test_l1_reproduces_cv2_canny_on_tiny_images_and_borders():
    cv2 = pytest.importorskip("cv2")
    rng = np.random.default_rng(0)
    for shape in [(1, 1), (1, 7), (6, 1), (2, 3), (3, 3), (5, 9)]:
        for _ in range(20):
            x = rng.integers(0, 256, shape).astype(np.uint8)
            ours = _edges(
                x, sigma=0, low_threshold=50, high_threshold=150, gradient="l1"
            )
            assert_array_equal(ours, cv2.Canny(x, 50, 150) > 0)


# ---------------------------------------------------------------------------
# thresholds, scales, degenerate images


def test_thresholds_are_in_the_image_units():
    # A uint8 image with thresholds t gives the edges of the same image as
    # 0..255 floats with thresholds t (both gradients), and of the image in
    # [0, 1] with thresholds t / 255 (scikit-image's scale).
    camera = data.camera()
    for gradient in ("l2", "l1"):
        on_uint8 = _edges(
            camera, low_threshold=30, high_threshold=80, gradient=gradient
        )
        on_floats = _edges(
            camera.astype(np.float64),
            low_threshold=30,
            high_threshold=80,
            gradient=gradient,
        )
        assert (on_uint8 == on_floats).mean() >= 0.999
    assert_array_equal(
        _edges(camera, low_threshold=30, high_threshold=80),
        _edges(camera / 255, low_threshold=30 / 255, high_threshold=80 / 255),
    )


def test_defaults_are_10_and_20_percent_of_the_dtype_maximum():
    camera = data.camera()
    assert_array_equal(
        _edges(camera), _edges(camera, low_threshold=25.5, high_threshold=51)
    )
    assert_array_equal(
        _edges(camera, gradient="l1"),
        _edges(camera, gradient="l1", low_threshold=25.5, high_threshold=51),
    )
    x = camera / 255
    assert_array_equal(_edges(x), _edges(x, low_threshold=0.1, high_threshold=0.2))


@pytest.mark.parametrize("gradient", ["l2", "l1"])
@pytest.mark.parametrize("sigma", [0.0, 1.0])
def test_constant_image_has_no_edges(gradient, sigma):
    for X in (
        np.full((2, 30, 40), 200, np.uint8),
        np.full((1, 30, 40), 0.7),
        np.full((1, 30, 40, 3), 90, np.uint8),
    ):
        edges = CannyEdgeExtractor(sigma, gradient=gradient).fit_transform(X)
        assert edges.dtype == bool and not edges.any()
    # even with zero thresholds
    edges = CannyEdgeExtractor(
        sigma, low_threshold=0, high_threshold=0, gradient=gradient
    ).fit_transform(np.full((1, 9, 9), 3.0))
    assert not edges.any()


@pytest.mark.parametrize("gradient", ["l2", "l1"])
def test_tiny_images_and_images_smaller_than_the_filter(gradient):
    rng = np.random.default_rng(0)
    for shape in [(1, 1), (2, 3), (1, 50), (50, 1), (4, 4)]:
        # a channel axis: (3, h, 3 or 4) would be refused as one colour image
        X = rng.integers(0, 256, (3,) + shape + (1,)).astype(np.uint8)
        edges = CannyEdgeExtractor(sigma=3.0, gradient=gradient).fit_transform(X)
        assert edges.shape == X.shape[:3] and edges.dtype == bool
    # scikit-image never marks the 1-pixel border: a 2-row image has no edges
    x = np.zeros((2, 10))
    x[:, 5:] = 1
    assert not _edges(x, sigma=0).any()
    assert _edges(x, sigma=0, gradient="l1").any()


def test_flat_rows_as_strips_need_image_shape():
    # Issue 17: rows of 16+ pixels without image_shape are refused (they
    # would be strips 1 pixel high, whose edge maps are all False);
    # image_shape=(1, n) still reads them as strips.
    rng = np.random.default_rng(0)
    X = rng.random((5, 30))
    with pytest.raises(ValueError, match=r"image_shape=\(1, 30\)"):
        CannyEdgeExtractor().fit_transform(X)
    edges = CannyEdgeExtractor(image_shape=(1, 30)).fit_transform(X)
    assert edges.shape == X.shape and edges.dtype == bool
    assert_array_equal(edges[0], feature.canny(X[:1]).ravel())
    assert not edges.any()
    # narrower rows (scikit-learn's check_estimator data) are still read
    assert CannyEdgeExtractor().fit_transform(X[:, :10]).shape == (5, 10)


# ---------------------------------------------------------------------------
# errors


@pytest.mark.parametrize(
    "params, message",
    [
        ({"sigma": -1.0}, "sigma"),
        ({"sigma": float("nan")}, "sigma"),
        ({"sigma": float("inf")}, r"'sigma' parameter .* range \[0.0, inf\)"),
        ({"low_threshold": 0.5, "high_threshold": 0.2}, "must not be greater than"),
        ({"high_threshold": 0.05}, r"low_threshold=0\.1 and high_threshold=0\.05"),
        ({"low_threshold": -0.1}, "low_threshold"),
        ({"use_quantiles": True, "high_threshold": 1.5}, r"\[0, 1\]"),
        (
            {"use_quantiles": True, "low_threshold": 0.9, "high_threshold": 0.5},
            "greater",
        ),
        ({"gradient": "sobel"}, "gradient"),
        ({"image_shape": (3, 0)}, "image_shape"),
    ],
)
def test_bad_parameters_raise_clear_errors(params, message):
    X = np.random.default_rng(0).random((2, 8, 8))
    with pytest.raises(ValueError, match=message):
        CannyEdgeExtractor(**params).fit(X)
    with pytest.raises(ValueError, match=message):
        CannyEdgeExtractor(**params).transform(X)


def test_bad_images_raise_clear_errors():
    X = np.zeros((1, 8, 8))
    X[0, 3, 3] = np.nan
    with pytest.raises(ValueError, match="NaN or infinity"):
        CannyEdgeExtractor().fit_transform(X)
    X[0, 3, 3] = np.inf
    with pytest.raises(ValueError, match="NaN or infinity"):
        CannyEdgeExtractor().transform(X)
    for c in (2, 4):
        with pytest.raises(ValueError, match=f"RGB .3 channels.*{c} channels"):
            CannyEdgeExtractor().fit_transform(np.zeros((1, 8, 8, c), np.uint8))
    with pytest.raises(ValueError, match="image_shape"):
        CannyEdgeExtractor(image_shape=(8, 8)).fit_transform(np.zeros((2, 63)))
    with pytest.raises(ValueError, match="2-D, 3-D or 4-D"):
        CannyEdgeExtractor().fit_transform(np.zeros(10))


def test_64_bit_integer_images():
    # Accepted while exact in float64 (scikit-learn feeds int64 features);
    # beyond 2**53 a clear error.
    camera = data.camera()[:64, :64]
    for dtype in (np.int64, np.uint64):
        x = camera.astype(dtype)
        assert_array_equal(
            _edges(x, low_threshold=30, high_threshold=80),
            _edges(camera, low_threshold=30, high_threshold=80),
        )
        big = x.copy()
        big[0, 0] = 2**53 + 2
        with pytest.raises(ValueError, match=r"64-bit integer images .*2\*\*53"):
            _edges(big, low_threshold=30, high_threshold=80)
    # the defaults (10% / 20% of the int64 maximum) cannot find edges in
    # 0-255 values: say so
    with pytest.warns(UserWarning, match="no pixel can be an edge"):
        assert not _edges(camera.astype(np.int64)).any()


# ---------------------------------------------------------------------------
# contract: layouts, inputs, parallelism


def test_output_layouts():
    rng = np.random.default_rng(0)
    rgb = rng.integers(0, 256, (3, 20, 30, 3)).astype(np.uint8)
    assert CannyEdgeExtractor().fit_transform(rgb).shape == (3, 20, 30)
    gray = rng.random((3, 20, 30))
    assert CannyEdgeExtractor().fit_transform(gray).shape == (3, 20, 30)
    flat = CannyEdgeExtractor(image_shape=(20, 30, 3)).fit_transform(rgb.reshape(3, -1))
    assert flat.shape == (3, 600) and flat.dtype == bool
    assert_array_equal(flat, CannyEdgeExtractor().fit_transform(rgb).reshape(3, -1))
    ragged = [rgb[0], rgb[1, :10], rgb[2, :, :7]]
    out = CannyEdgeExtractor().fit_transform(ragged)
    assert isinstance(out, list) and [e.shape for e in out] == [
        (20, 30),
        (10, 30),
        (20, 7),
    ]
    for image, edges in zip(ragged, out):
        assert_array_equal(edges, _edges(image))


def test_inputs_are_not_modified_and_read_only_inputs_work():
    rng = np.random.default_rng(0)
    for X in (
        rng.integers(0, 256, (2, 40, 50, 3)).astype(np.uint8),
        rng.random((2, 40, 50)),
        rng.random((2, 40, 50)).astype(np.float32),
    ):
        before = X.copy()
        expected = CannyEdgeExtractor().fit_transform(X)
        assert_array_equal(X, before)
        X.setflags(write=False)
        assert_array_equal(CannyEdgeExtractor().fit_transform(X), expected)
        strided = np.repeat(before, 2, axis=2)[:, :, ::2]  # non-contiguous view
        assert_array_equal(CannyEdgeExtractor().fit_transform(strided), expected)


@pytest.mark.parametrize("gradient", ["l2", "l1"])
def test_n_jobs_gives_the_same_output(gradient):
    # One image: row bands in threads, joined across band borders; many
    # images: split image by image.
    astronaut = data.astronaut()
    params = {"gradient": gradient, "low_threshold": 10, "high_threshold": 40}
    one = CannyEdgeExtractor(n_jobs=1, **params).fit_transform(astronaut[None])
    for n_jobs in (2, 3, -1):
        assert_array_equal(
            CannyEdgeExtractor(n_jobs=n_jobs, **params).fit_transform(astronaut[None]),
            one,
        )
    crops = np.stack([astronaut[i : i + 64, i : i + 64] for i in range(0, 400, 50)])
    expected = CannyEdgeExtractor(n_jobs=1, **params).fit_transform(crops)
    assert_array_equal(
        CannyEdgeExtractor(n_jobs=2, **params).fit_transform(crops), expected
    )
    from joblib import parallel_config

    with parallel_config(backend="loky"):
        got = CannyEdgeExtractor(n_jobs=2, **params).fit_transform(list(crops))
    assert_array_equal(got, list(expected))


@pytest.mark.parametrize("sigma", [0.0, 1.0])
def test_bands_join_edges_across_their_borders(sigma, monkeypatch):
    # the tutorial's integer kernel (sigma=0, uint8, l1) and the float one:
    # 1, 2 and 3 bands give the same edges, and the joining is needed for
    # it (without it the banded edges differ: the test can fail)
    from skseg import _canny

    gray = img_as_ubyte(color.rgb2gray(data.astronaut()))[None]
    params = {"sigma": sigma, "low_threshold": 20, "high_threshold": 120}
    params["gradient"] = "l1"
    one = CannyEdgeExtractor(n_jobs=1, **params).fit_transform(gray)
    for n_jobs in (2, 3):
        got = CannyEdgeExtractor(n_jobs=n_jobs, **params).fit_transform(gray)
        assert_array_equal(got, one)
    monkeypatch.setattr(_canny, "join_bands", lambda *args: None)
    unjoined = CannyEdgeExtractor(n_jobs=3, **params).fit_transform(gray)
    assert (unjoined != one).any() and not (unjoined & ~one).any()


@pytest.mark.parametrize(
    "params",
    [
        {"sigma": 0.0, "gradient": "l1", "low_threshold": 20, "high_threshold": 120},
        {"sigma": 1.0, "gradient": "l1", "low_threshold": 20, "high_threshold": 120},
        {"sigma": 1.0, "low_threshold": 0.05, "high_threshold": 0.2},
    ],
    ids=["u8-kernel", "opencv-smoothed", "scikit-image"],
)
@pytest.mark.parametrize("n_jobs", [1, 3])
def test_a_band_resumes_where_its_stack_ran_out(params, n_jobs, monkeypatch):
    # the band kernels stop where the hysteresis stack could run out of room
    # and run_band calls them again from that row with a larger stack: the
    # edges are those of a stack large enough from the start, and the test
    # sees the kernel called again (it can fail both ways)
    from skseg import _canny

    gray = img_as_ubyte(color.rgb2gray(data.astronaut()))[None]
    starts = []
    real = _canny.run_band

    def counting(kernel, r0, r1, cand, stack):
        def kernel_seen(start, n_cand, stack):
            starts.append(start)
            return kernel(start, n_cand, stack)

        real(kernel_seen, r0, r1, cand, stack)

    monkeypatch.setattr(_canny, "run_band", counting)
    n_bands = len(_canny.band_bounds(gray.shape[1], n_jobs)) - 1
    monkeypatch.setattr(_canny, "FIRST_STACK_SHARE", 1)  # every pixel
    roomy = CannyEdgeExtractor(n_jobs=n_jobs, **params).fit_transform(gray)
    # one call per band, plus the joining call of several bands
    assert len(starts) == n_bands + (n_bands > 1)
    starts.clear()
    monkeypatch.setattr(_canny, "FIRST_STACK_SHARE", 10**9)  # a row
    tight = CannyEdgeExtractor(n_jobs=n_jobs, **params).fit_transform(gray)
    assert len(starts) > n_bands + 3  # the stack doubles: a few resumes per band
    assert_array_equal(tight, roomy)
    assert roomy.sum() > 1000


@pytest.mark.parametrize("gradient", ["l2", "l1"])
def test_default_n_jobs_bands_large_images_on_the_fit_threads(gradient, monkeypatch):
    # n_jobs=None: an image of at least BAND_MIN_PIXELS pixels is cut into
    # bands on fit_threads() threads (3 here), a smaller one is not; a
    # ragged batch mixes both; the edges are n_jobs=1's
    import skseg.edges as edges_module

    bands = []
    real = edges_module.canny_image

    def spy(image, params, **kwargs):
        bands.append(kwargs["n_bands"])
        return real(image, params, **kwargs)

    monkeypatch.setattr(edges_module, "fit_threads", lambda: 3)
    monkeypatch.setattr(edges_module, "canny_image", spy)
    astronaut = data.astronaut()
    assert astronaut.shape[0] * astronaut.shape[1] >= edges_module.BAND_MIN_PIXELS
    params = {"gradient": gradient, "low_threshold": 10, "high_threshold": 40}
    images = [astronaut, astronaut[:100, :200]]
    expected = CannyEdgeExtractor(n_jobs=1, **params).fit_transform(images)
    bands.clear()
    got = CannyEdgeExtractor(**params).fit_transform(images)
    assert bands == [3, 1]
    for a, b in zip(got, expected):
        assert_array_equal(a, b)


def test_quantile_thresholds_with_bands_match_skimage():
    camera = data.camera()
    expected = feature.canny(
        camera, low_threshold=0.8, high_threshold=0.95, use_quantiles=True
    )
    for n_jobs in (1, 2):
        got = _edges(
            camera,
            low_threshold=0.8,
            high_threshold=0.95,
            use_quantiles=True,
            n_jobs=n_jobs,
        )
        assert_array_equal(got, expected)


# ---------------------------------------------------------------------------
# scikit-learn API


def test_passes_check_estimator():
    from sklearn.utils.estimator_checks import check_estimator

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        results = check_estimator(CannyEdgeExtractor(), on_fail=None)
    failed = [
        (r["check_name"], r["exception"])
        for r in results
        if r["status"] not in ("passed", "skipped")
    ]
    assert not failed
    assert sum(r["status"] == "passed" for r in results) >= 40


def test_stateless_transform_without_fit():
    X = np.random.default_rng(0).random((2, 12, 12))
    assert_array_equal(
        CannyEdgeExtractor().transform(X), CannyEdgeExtractor().fit_transform(X)
    )


def test_feature_union_with_histogram_feeds_a_classifier():
    from sklearn.datasets import load_digits

    from skseg import KMeansColorSegmenter

    X, y = load_digits(return_X_y=True)
    X, y = X[:600], y[:600]
    union = FeatureUnion(
        [
            # the digits are floats in 0..16: thresholds in their units (10% and
            # 20% of 16; the defaults are meant for floats in [0, 1])
            (
                "edges",
                CannyEdgeExtractor(
                    low_threshold=1.6, high_threshold=3.2, image_shape=(8, 8)
                ),
            ),
            (
                "hist",
                KMeansColorSegmenter(
                    4, output="histogram", image_shape=(8, 8), random_state=0
                ),
            ),
        ]
    )
    Z = union.fit_transform(X)
    assert Z.shape == (600, 64 + 4)
    pipe = Pipeline([("features", union), ("clf", LogisticRegression(max_iter=2000))])
    pipe.fit(X[:400], y[:400])
    assert pipe.score(X[400:], y[400:]) > 0.5  # 10 classes: chance is 0.1


def test_get_feature_names_out():
    X = np.random.default_rng(0).random((3, 12))
    est = CannyEdgeExtractor(image_shape=(2, 2, 3)).fit(X)
    assert list(est.get_feature_names_out()) == [
        f"cannyedgeextractor{p}" for p in range(4)
    ]
    # fitted on images, the output is edge maps: the name of an output pixel
    images = CannyEdgeExtractor().fit(X.reshape(3, 2, 2, 3))
    assert list(images.get_feature_names_out()) == ["edge"]
    assert list(images.get_feature_names_out(["r", "g", "b"])) == ["edge"]
    with pytest.raises(ValueError, match="input_features has shape"):
        images.get_feature_names_out([["r", "g", "b"]])


def test_kernels_are_cached_on_disk_and_release_the_gil():
    from numba.core.dispatcher import Dispatcher

    from skseg import _canny

    kernels = [v for v in vars(_canny).values() if isinstance(v, Dispatcher)]
    # the entry points; helpers are compiled inside them (_canny._subroutine)
    assert {k.py_func.__name__ for k in kernels} == {
        "_convert",
        "canny_band",
        "canny_band_u8",
    }
    for kernel in kernels:
        assert type(kernel._cache).__name__ == "FunctionCache", kernel
        assert kernel.targetoptions.get("nogil"), kernel


# ---------------------------------------------------------------------------
# float images outside [0, 1] with thresholds meant for [0, 1]


def test_float_0_255_with_default_thresholds_warns_with_the_range(photos):
    image = photos["astronaut"]
    as_floats = image.astype(np.float64)[None]
    with pytest.warns(
        UserWarning,
        match=r"X \(float64\) has values in \[0, 255\], but the default "
        r"low_threshold=0\.1 and high_threshold=0\.2 are meant for float images "
        r"in \[0, 1\].*X / 255.*low_threshold and high_threshold in the images' "
        r"units",
    ) as record:
        edges = CannyEdgeExtractor().fit_transform(as_floats)
    assert record[0].filename == __file__
    # what the warning is about: more edges than the same image as uint8
    on_uint8 = CannyEdgeExtractor().fit_transform(image[None])
    assert edges.mean() > 1.5 * on_uint8.mean()


@pytest.mark.parametrize(
    "X",
    [
        np.linspace(0, 255, 64, dtype=np.float32).reshape(1, 8, 8),
        [np.linspace(-1, 1, 64).reshape(8, 8)],
        np.linspace(0, 2, 64).reshape(8, 8),  # rows under 16 pixels: strips
    ],
    ids=["3d-float32", "list-negative", "2d"],
)
def test_every_layout_warns_outside_unit_range(X):
    with pytest.warns(UserWarning, match=r"has values in \[.*meant for float"):
        CannyEdgeExtractor().fit(X)
    with pytest.warns(UserWarning, match=r"has values in \[.*meant for float"):
        CannyEdgeExtractor().transform(X)


def test_one_default_threshold_is_named_alone():
    X = np.linspace(0, 255, 64).reshape(1, 8, 8)
    with pytest.warns(UserWarning, match=r"default high_threshold=0\.2 is meant"):
        CannyEdgeExtractor(low_threshold=0.05).fit(X)
    with pytest.warns(UserWarning, match=r"default low_threshold=0\.1 is meant"):
        CannyEdgeExtractor(high_threshold=50).fit(X)


@pytest.mark.parametrize(
    "params, X",
    [
        ({}, np.linspace(0, 1, 64).reshape(1, 8, 8)),  # floats in [0, 1]
        ({"low_threshold": 25, "high_threshold": 50}, 255 * np.ones((1, 8, 8))),
        ({"use_quantiles": True}, np.linspace(0, 255, 64).reshape(1, 8, 8)),
        ({"use_quantiles": True, "high_threshold": 0.9}, 255 * np.ones((1, 8, 8))),
        ({}, np.full((1, 8, 8), 255, np.uint8)),  # integer images: dtype units
    ],
    ids=["unit-floats", "explicit", "quantiles", "quantile-low", "uint8"],
)
def test_no_range_warning_when_thresholds_fit_the_units(params, X):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        CannyEdgeExtractor(**params).fit_transform(X)
