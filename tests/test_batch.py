"""Tests of the image-batch contract (skseg._batch), directly and through
KMeansColorSegmenter: validation errors, layouts of the outputs, dtypes, and
that the caller's data is never modified."""

import threading
import time
import warnings
from pathlib import Path

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from scipy import sparse

from skseg import (
    CannyEdgeExtractor,
    ColorSpaceTransformer,
    ElbowKSelector,
    KMeansColorSegmenter,
)
from skseg._batch import check_batch, check_image_shape
from skseg._parallel import fault_in, run_in_threads

N, H, W = 3, 6, 5
K = 3
OUTPUTS = ["quantized", "labels", "distances", "histogram"]
METHODS = ["fit", "partial_fit", "fit_transform", "transform", "predict", "score"]


def _rgb(n=N, h=H, w=W, c=3, seed=0, dtype=np.uint8):
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, size=(n, h, w, c)).astype(dtype)


def _gray(n=N, h=H, w=W + 2, seed=0, dtype=np.uint8):
    # Width 7: a (n, h, 3 or 4) gray batch is refused as a single colour image.
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, size=(n, h, w)).astype(dtype)


def _ragged(gray=False, seed=0):
    rng = np.random.default_rng(seed)
    tail = () if gray else (3,)
    sizes = [(6, 5), (4, 7), (3, 3)]
    return [rng.integers(0, 256, size=s + tail).astype(np.uint8) for s in sizes]


def _with(a, index, value):
    a = np.array(a, dtype=np.float64)
    a[index] = value
    return a


def _seg(**params):
    params = {"n_clusters": K, "random_state": 0, "n_init": 2, **params}
    return KMeansColorSegmenter(**params)


def _call(est, method, X):
    """Call ``method`` on ``X``, fitting on ``X`` first when it needs a fit."""
    if method in ("transform", "predict", "score"):
        est.fit(X)
    return getattr(est, method)(X)


def _copy(X):
    return [np.array(x, copy=True) for x in X] if isinstance(X, list) else X.copy()


def _assert_same(a, b):
    if isinstance(a, list):
        assert isinstance(b, list) and len(a) == len(b)
        for x, y in zip(a, b):
            assert_array_equal(x, y)
    else:
        assert_array_equal(a, b)


# --- invalid batches --------------------------------------------------------

_NAN_OR_INF = r"Input X contains NaN or infinity"
_EMPTY = r"Found an empty batch"
_ZERO_PIXELS = r"Found 0-pixel images.*at least one pixel and one channel"
_ZERO_PIXEL = r"Found a 0-pixel image: image 1 has shape .*at least one pixel"
_CHANNELS = r"All images of a list must have the same number of channels"

# Batches rejected by check_batch with the same error whether an estimator is
# given or not (everything but plain 2-D arrays, which sklearn validates).
BAD_BATCHES = [
    pytest.param(_with(_rgb(), (0, 1, 1, 0), np.nan), ValueError, _NAN_OR_INF,
                 id="nan-4d"),
    pytest.param(_with(_rgb(), (2, 0, 0, 2), np.inf), ValueError, _NAN_OR_INF,
                 id="inf-4d"),
    pytest.param(_with(_gray(), (1, 2, 3), np.nan), ValueError, _NAN_OR_INF,
                 id="nan-3d"),
    pytest.param(_with(_gray(), (0, 0, 0), -np.inf), ValueError, _NAN_OR_INF,
                 id="-inf-3d"),
    pytest.param(
        _with(_rgb(), (0, 1, 1, 0), np.nan).astype(np.float32), ValueError,
        _NAN_OR_INF, id="nan-4d-float32",
    ),
    pytest.param(
        [_rgb()[0].astype(float), _with(_rgb()[1], (2, 2, 1), np.nan)],
        ValueError, r"Input image 1 contains NaN or infinity", id="nan-in-list",
    ),
    pytest.param(
        [_with(_gray()[0], (0, 0), np.inf), _gray()[1].astype(float)],
        ValueError, r"Input image 0 contains NaN or infinity", id="inf-in-list",
    ),
    pytest.param(np.zeros((0, 4, 4, 3)), ValueError, _EMPTY + r".*0 images",
                 id="empty-4d"),
    pytest.param(np.zeros((0, 4, 4)), ValueError, _EMPTY + r".*0 images",
                 id="empty-3d"),
    pytest.param(
        [], ValueError, r"empty", id="empty-list",
    ),
    pytest.param(np.zeros((2, 0, 4, 3)), ValueError, _ZERO_PIXELS, id="h0-4d"),
    pytest.param(np.zeros((2, 4, 0, 3)), ValueError, _ZERO_PIXELS, id="w0-4d"),
    pytest.param(np.zeros((2, 0, 4)), ValueError, _ZERO_PIXELS, id="h0-3d"),
    pytest.param(np.zeros((2, 4, 0)), ValueError, _ZERO_PIXELS, id="w0-3d"),
    pytest.param(np.zeros((2, 4, 4, 0)), ValueError, _ZERO_PIXELS,
                 id="0-channels-4d"),
    pytest.param([np.zeros((4, 4, 3)), np.zeros((0, 4, 3))], ValueError,
                 _ZERO_PIXEL, id="h0-in-list"),
    pytest.param([np.zeros((4, 4)), np.zeros((4, 0))], ValueError, _ZERO_PIXEL,
                 id="w0-gray-in-list"),
    pytest.param([np.zeros((4, 4, 1)), np.zeros((4, 4, 0))], ValueError,
                 r"image 1 has shape \(4, 4, 0\).*one channel",
                 id="0-channels-in-list"),
    pytest.param(np.zeros(5), ValueError, r"got a 1-D array.*Reshape your data",
                 id="1d"),
    pytest.param([1.0, 2.0, 3.0], ValueError, r"1-D array.*Reshape your data",
                 id="1d-list"),
    pytest.param(np.float64(3.0), ValueError, r"0-D array.*Reshape your data",
                 id="0d"),
    pytest.param(3, ValueError, r"0-D array.*Reshape your data", id="scalar"),
    pytest.param(np.zeros((1, 2, 4, 4, 3)), ValueError,
                 r"at most 4 dimensions.*5-D array", id="5d"),
    pytest.param(np.full((2, 4, 4, 3), "a", dtype=object), TypeError,
                 r"dtype object; images must be numeric", id="object-4d"),
    pytest.param(np.full((2, 4, 4), "ab"), TypeError,
                 r"dtype <U2; images must be numeric", id="str-3d"),
    pytest.param(np.ones((2, 4, 4, 3), complex), ValueError,
                 r"Complex data not supported", id="complex-4d"),
    pytest.param(np.ones((2, 4, 4), np.complex64), ValueError,
                 r"Complex data not supported", id="complex-3d"),
    pytest.param(sparse.csr_matrix(np.eye(4)), TypeError,
                 r"Sparse data was passed for X.*toarray", id="sparse-csr"),
    pytest.param(sparse.csr_array(np.eye(4)), TypeError,
                 r"Sparse data was passed for X", id="sparse-csr-array"),
    pytest.param([sparse.csr_matrix(np.eye(4))], TypeError,
                 r"Sparse data was passed as image 0", id="sparse-in-list"),
    pytest.param([np.zeros((4, 4)), np.zeros((4, 4, 3))], ValueError,
                 _CHANNELS, id="list-2d-and-3d"),
    pytest.param([np.zeros((4, 4)), np.zeros((4, 4, 1))], ValueError,
                 _CHANNELS, id="list-2d-and-3d-1-channel"),
    pytest.param([np.zeros((4, 4, 3)), np.zeros((5, 4, 4))], ValueError,
                 _CHANNELS + r".*\(5, 4, 4\)", id="list-3-and-4-channels"),
    pytest.param([np.zeros((4, 4, 3)), np.zeros((1, 4, 4, 3))], ValueError,
                 r"must be 2-D \(height, width\) or 3-D.*image 1 has shape "
                 r"\(1, 4, 4, 3\)", id="list-4d-item"),
    pytest.param(
        [np.zeros((4, 4, 3)), np.zeros(4)], ValueError, r"image 1",
        id="list-1d-item",
    ),
    pytest.param(
        [np.zeros((4, 4)), 3.0], ValueError, r"image 1", id="list-0d-item",
    ),
    pytest.param([np.zeros((4, 4)), np.full((4, 4), "a", dtype=object)],
                 TypeError, r"image 1 has dtype object; images must be numeric",
                 id="object-in-list"),
    pytest.param([np.zeros((4, 4)), np.ones((4, 4), complex)], ValueError,
                 r"Complex data not supported: image 1", id="complex-in-list"),
]  # fmt: skip


@pytest.mark.parametrize("X, error, match", BAD_BATCHES)
def test_check_batch_rejects(X, error, match):
    with pytest.raises(error, match=match):
        check_batch(X)


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("X, error, match", BAD_BATCHES)
def test_estimator_rejects(X, error, match, method):
    est = _seg()
    if method in ("transform", "predict", "score"):
        est.fit(_rgb())
    with warnings.catch_warnings():
        # A few bad shapes also look like a single colour image.
        warnings.simplefilter("ignore", UserWarning)
        with pytest.raises(error, match=match):
            getattr(est, method)(X)


# 2-D arrays: check_batch checks them itself, or hands them to scikit-learn's
# validate_data when given an estimator (whose messages are scikit-learn's).
BAD_FLAT = [
    pytest.param(_with(np.ones((3, 4)), (1, 2), np.nan),
                 ValueError, r"Input X contains NaN or infinity",
                 ValueError, r"Input X contains NaN", id="nan-2d"),
    pytest.param(_with(np.ones((3, 4)), (0, 0), np.inf),
                 ValueError, r"Input X contains NaN or infinity",
                 ValueError, r"Input X contains infinity", id="inf-2d"),
    pytest.param(_with(np.ones((3, 4)), (2, 3), -np.inf).astype(np.float32),
                 ValueError, r"Input X contains NaN or infinity",
                 ValueError, r"Input X contains infinity", id="-inf-2d-float32"),
    pytest.param(np.zeros((0, 4)),
                 ValueError, r"Found an empty batch of shape \(0, 4\)",
                 ValueError, r"Found array with 0 sample\(s\)", id="0-images-2d"),
    pytest.param(np.zeros((3, 0)),
                 ValueError, r"Found an empty batch of shape \(3, 0\)",
                 ValueError, r"Found array with 0 feature\(s\)", id="0-pixels-2d"),
    pytest.param(np.full((2, 4), "a", dtype=object),
                 TypeError, r"dtype object; images must be numeric",
                 ValueError, r"could not convert string to float", id="object-2d"),
    pytest.param(np.full((2, 4), "a"),
                 TypeError, r"dtype <U1; images must be numeric",
                 ValueError, r"not compatible with arrays of bytes/strings",
                 id="str-2d"),
    pytest.param(np.ones((2, 4), complex),
                 ValueError, r"Complex data not supported",
                 ValueError, r"Complex data not supported", id="complex-2d"),
]  # fmt: skip


@pytest.mark.parametrize("X, error, match, _e, _m", BAD_FLAT)
def test_check_batch_rejects_flat(X, error, match, _e, _m):
    with pytest.raises(error, match=match):
        check_batch(X)


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("X, _e, _m, error, match", BAD_FLAT)
def test_estimator_rejects_flat(X, _e, _m, error, match, method):
    est = _seg()
    if method in ("transform", "predict", "score"):
        est.fit(np.ones((2, 4)) * np.arange(4))
    with pytest.raises(error, match=match):
        getattr(est, method)(X)


# --- image_shape ------------------------------------------------------------

BAD_IMAGE_SHAPES = [(0, 5), (3,), (4, 4, 3, 1), "abc", (2.5, 4), (True, 3),
                    (-1, 4), (4, None), 12]  # fmt: skip


@pytest.mark.parametrize("image_shape", BAD_IMAGE_SHAPES, ids=repr)
def test_malformed_image_shape(image_shape):
    match = r"image_shape must be None, \(height, width\) or \(height, width, "
    with pytest.raises(ValueError, match=match):
        check_image_shape(image_shape)
    for X in (np.zeros((2, 12)), _rgb()):
        with pytest.raises(ValueError, match=match):
            check_batch(X, image_shape=image_shape)


@pytest.mark.parametrize("image_shape", BAD_IMAGE_SHAPES, ids=repr)
@pytest.mark.parametrize("method", ["fit", "partial_fit", "fit_transform"])
def test_estimator_malformed_image_shape(image_shape, method):
    # Non-sequences are caught by the parameter validation (whose error is an
    # InvalidParameterError, a ValueError), the rest by check_image_shape.
    with pytest.raises(ValueError, match=r"image_shape"):
        getattr(_seg(image_shape=image_shape), method)(np.zeros((2, 12)))


def test_valid_image_shapes():
    assert check_image_shape(None) is None
    assert check_image_shape([4, 5]) == (4, 5)
    assert check_image_shape((np.int64(4), 5, 3)) == (4, 5, 3)


@pytest.mark.parametrize(
    "X, image_shape, match",
    [
        (np.zeros((2, 48)), (4, 4, 2), r"image_shape=\(4, 4, 2\) needs 32 "
         r"features per row, but X has 48 features \(shape \(2, 48\)\)"),
        (np.zeros((2, 48)), (5, 5), r"needs 25 features per row, but X has 48"),
        (np.zeros((2, 48)), (4, 4), r"needs 16 features per row, but X has 48"),
        (np.zeros((2, 4, 5)), (5, 4), r"image_shape=\(5, 4\) does not match the "
         r"images in X, which have shape \(4, 5\)"),
        (np.zeros((2, 4, 5)), (4, 5, 3), r"does not match the images in X"),
        (np.zeros((2, 4, 5, 3)), (4, 5, 1), r"does not match the images in X, "
         r"which have shape \(4, 5, 3\)"),
        (np.zeros((2, 4, 5, 3)), (5, 4), r"does not match the images in X"),
        ([np.zeros((4, 5, 3)), np.zeros((4, 6, 3))], (4, 5),
         r"image_shape=\(4, 5\) does not match image 1, which has shape "
         r"\(4, 6, 3\)"),
        ([np.zeros((4, 5)), np.zeros((4, 5))], (4, 5, 3),
         r"does not match image 0, which has shape \(4, 5\)"),
    ],
)  # fmt: skip
def test_image_shape_disagrees_with_x(X, image_shape, match):
    with pytest.raises(ValueError, match=match):
        check_batch(X, image_shape=image_shape)
    for method in METHODS[:3]:
        with pytest.raises(ValueError, match=match):
            getattr(_seg(image_shape=image_shape), method)(X)


def test_image_shape_agrees_with_image_arrays():
    # A redundant image_shape is accepted for 3-D, 4-D and list input.
    assert check_batch(np.zeros((2, 4, 5)), image_shape=(4, 5)).layout == "3d"
    assert check_batch(np.zeros((2, 4, 5)), image_shape=(4, 5, 1)).gray
    batch = check_batch(np.zeros((2, 4, 5, 3)), image_shape=(4, 5, 3))
    assert (batch.layout, batch.n_channels) == ("4d", 3)
    assert check_batch(np.zeros((2, 4, 5, 3)), image_shape=(4, 5)).n_channels == 3
    batch = check_batch([np.zeros((4, 5, 2))] * 2, image_shape=(4, 5))
    assert (batch.layout, batch.n_channels) == ("list", 2)


# --- consistency between fit and later calls --------------------------------


@pytest.mark.parametrize(
    "X, n_channels",
    [
        (_gray(), 1),
        (_rgb(c=4), 4),
        (_rgb(c=1), 1),
        (np.zeros((2, 6)), 1),
        (_ragged(gray=True), 1),
        ([np.zeros((4, 4, 2))], 2),
    ],
    ids=["gray-3d", "rgba-4d", "1-channel-4d", "rows-2d", "gray-list", "2-ch-list"],
)
@pytest.mark.parametrize("method", ["transform", "predict", "score", "partial_fit"])
def test_channels_must_match_fit(X, n_channels, method):
    est = _seg().fit(_rgb())
    match = (
        rf"X has {n_channels} channel\(s\), but KMeansColorSegmenter was fitted "
        r"on images with 3 channel\(s\)\."
    )
    with pytest.raises(ValueError, match=match):
        getattr(est, method)(X)


@pytest.mark.parametrize("first", ["fit", "partial_fit"])
def test_partial_fit_channels_must_match(first):
    est = getattr(_seg(), first)(_rgb())
    with pytest.raises(ValueError, match=r"X has 4 channel\(s\), but .* 3 channel"):
        est.partial_fit(_rgb(c=4))
    with pytest.raises(ValueError, match=r"X has 1 channel\(s\), but .* 3 channel"):
        est.partial_fit(_gray())


def test_refit_resets_channels():
    est = _seg().fit(_rgb())
    assert est.fit(_gray()).n_channels_in_ == 1
    assert est.transform(_gray(seed=1)).shape == _gray().shape
    assert est.fit_transform(_rgb(c=4)).shape == _rgb(c=4).shape
    assert est.n_channels_in_ == 4


def test_transform_accepts_other_sizes_and_layouts():
    # The palette is per channel: any image size, any layout with 3 channels.
    est = _seg().fit(_rgb())
    assert est.transform(_rgb(n=1, h=9, w=2)).shape == (1, 9, 2, 3)
    assert [x.shape for x in est.transform(_ragged())] == [x.shape for x in _ragged()]


@pytest.mark.parametrize("method", ["transform", "predict", "score", "partial_fit"])
def test_n_features_must_match_fit_on_flat_input(method):
    rng = np.random.default_rng(0)
    est = _seg().fit(rng.integers(0, 256, size=(5, 4)).astype(np.uint8))
    assert est.n_features_in_ == 4
    match = r"X has 3 features, but KMeansColorSegmenter is expecting 4 features "
    with pytest.raises(ValueError, match=match):
        getattr(est, method)(rng.integers(0, 256, size=(5, 3)).astype(np.uint8))


def test_n_features_in_only_for_flat_input():
    est = _seg().fit(_rgb().reshape(N, -1))
    assert est.n_features_in_ == H * W * 3
    est.fit(_rgb())
    assert not hasattr(est, "n_features_in_")


# --- init and per_image -----------------------------------------------------


@pytest.mark.parametrize(
    "init, match",
    [
        (np.zeros((2, 3)), r"init has shape \(2, 3\), but n_clusters=3 and the "
         r"images have 3 channel\(s\): expected shape \(3, 3\)"),
        (np.zeros((3, 1)), r"init has shape \(3, 1\).*expected shape \(3, 3\)"),
        (np.zeros((3, 3, 1)), r"init has shape \(3, 3, 1\)"),
        (np.zeros(3), r"init has shape \(3,\)"),
        (_with(np.eye(3) * 100, (1, 2), np.nan), r"init contains NaN or infinity"),
        (_with(np.eye(3) * 100, (0, 0), np.inf), r"init contains NaN or infinity"),
    ],
)  # fmt: skip
@pytest.mark.parametrize("per_image", [False, True])
@pytest.mark.parametrize("method", ["fit", "partial_fit", "fit_transform"])
def test_bad_init(init, match, per_image, method):
    est = _seg(init=init, per_image=per_image)
    with pytest.raises(ValueError, match=match):
        getattr(est, method)(_rgb())


def test_init_with_more_centres_than_colours():
    X = np.zeros((2, 4, 4, 3), np.uint8)
    X[:, :2] = 200
    est = _seg(init=np.eye(3) * 100)
    with pytest.warns(UserWarning, match=r"n_clusters=3 is larger than the number"):
        with pytest.raises(
            ValueError, match=r"init gives 3 centres but X has only 2 distinct"
        ):
            est.fit(X)


def test_good_init_array():
    init = np.array([[0, 0, 0], [128, 128, 128], [255, 255, 255]])
    est = _seg(init=init).fit(_rgb())
    assert est.cluster_centers_.shape == (3, 3)


def _batch_with_flat_image():
    X = _rgb()
    X[1] = [10, 20, 30]  # image 1 has a single colour
    return X


@pytest.mark.parametrize("method", ["transform", "fit_transform"])
def test_per_image_distances_needs_k_colours_in_every_image(method):
    X = _batch_with_flat_image()
    est = _seg(per_image=True, output="distances")
    if method == "transform":
        est.fit(X)
    match = (
        r"per_image=True with output='distances' needs n_clusters=3 distinct "
        r"colours in every image; image\(s\) \[1\] have fewer"
    )
    with pytest.raises(ValueError, match=match):
        getattr(est, method)(X)


@pytest.mark.parametrize("output", ["quantized", "labels", "histogram"])
def test_per_image_with_few_colours_warns(output):
    X = _batch_with_flat_image()
    est = _seg(per_image=True, output=output).fit(X)
    with pytest.warns(UserWarning, match=r"1 image\(s\) have fewer than n_cl"):
        out = est.transform(X)
    if output == "histogram":
        assert_allclose(out[1], [1, 0, 0])
    elif output == "quantized":
        assert_array_equal(out[1], X[1])


def test_k_larger_than_colours_warns():
    X = np.zeros((2, 4, 4, 3), np.uint8)
    X[:, :2] = 200
    with pytest.warns(UserWarning, match=r"n_clusters=3 is larger .* \(2\)"):
        est = _seg(output="histogram").fit(X)
    assert est.n_clusters_ == 2
    assert est.transform(X).shape == (2, 2)


# --- a single image passed as a batch ---------------------------------------

ESTIMATOR_FACTORIES = {
    "KMeansColorSegmenter": lambda: _seg(),
    "CannyEdgeExtractor": lambda: CannyEdgeExtractor(),
    "ColorSpaceTransformer": lambda: ColorSpaceTransformer("hsv"),
    "ElbowKSelector": lambda: ElbowKSelector(k_values=[1, 2, 3], random_state=0),
}


@pytest.mark.parametrize("c", [3, 4])
def test_single_colour_image_is_refused(c):
    image = _rgb(n=1, h=64, w=48, c=c)[0]
    with pytest.raises(ValueError, match=r"Pass X\[None\] \(shape \(1, 64, 48, "):
        check_batch(image)
    with pytest.raises(ValueError, match=rf"X\[\.\.\., None\] \(shape \(64, 48, {c}, "):
        check_batch(image)


@pytest.mark.parametrize(
    "name, method",
    [
        (name, method)
        for name in sorted(ESTIMATOR_FACTORIES)
        for method in ("fit", "fit_transform", "partial_fit", "transform", "predict")
        if hasattr(ESTIMATOR_FACTORIES[name](), method)
    ],
)
def test_every_estimator_refuses_a_single_colour_image(name, method):
    est = ESTIMATOR_FACTORIES[name]()
    image = _rgb(n=1, h=20, w=16)[0]
    if method in ("transform", "predict") and name != "CannyEdgeExtractor":
        est.fit(image[None])
    with pytest.raises(ValueError, match=r"X\[None\].*X\[\.\.\., None\]"):
        getattr(est, method)(image)


@pytest.mark.parametrize("shape", [(2, 5, 3), (7, 7, 4), (1, 1, 3)])
def test_thin_gray_images_need_an_explicit_channel_axis(shape):
    # Gray images 3 or 4 pixels wide are refused too (the rule has no
    # exceptions); X[..., None] is the batch they are.
    X = np.random.default_rng(0).integers(0, 256, size=shape).astype(np.uint8)
    with pytest.raises(ValueError, match=r"X\[\.\.\., None\]"):
        _seg(n_clusters=1).fit(X)
    labels = _seg(n_clusters=1).fit(X[..., None]).predict(X[..., None])
    assert labels.shape == shape


@pytest.mark.parametrize(
    "shape", [(5, 64, 64), (64, 64, 5), (3, 64, 2), (64, 4, 7), (2, 2, 2, 3)]
)
@pytest.mark.parametrize("name", sorted(ESTIMATOR_FACTORIES))
def test_gray_batch_works_without_warnings(shape, name):
    X = np.random.default_rng(0).integers(0, 256, size=shape).astype(np.uint8)
    if name == "ColorSpaceTransformer":
        est = ColorSpaceTransformer("gray" if len(shape) == 3 else "hsv")
    else:
        est = ESTIMATOR_FACTORIES[name]()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        # random pixels have no elbow: ElbowKSelector says so, rightly
        warnings.filterwarnings("ignore", message="No knee", category=UserWarning)
        check_batch(X)
        out = est.fit(X).transform(X)
    assert out.shape[:3] == shape[:3]


# --- things that are not arrays ---------------------------------------------


@pytest.mark.parametrize(
    "X",
    [
        "photo.png",
        Path("photo.png"),
        ["a.png", "b.png"],
        (Path("a.png"), "b.jpg"),
    ],
    ids=["str", "path", "list-of-str", "tuple-of-paths"],
)
@pytest.mark.parametrize("name", sorted(ESTIMATOR_FACTORIES))
def test_paths_point_at_load_images(X, name):
    with pytest.raises(TypeError, match=r"skseg\.datasets\.load_images\(paths\)"):
        ESTIMATOR_FACTORIES[name]().fit(X)


def test_lone_pil_image_is_refused_with_the_fix():
    Image = pytest.importorskip("PIL.Image")
    img = Image.fromarray(_rgb(n=1, h=10, w=12)[0])
    for name, factory in ESTIMATOR_FACTORIES.items():
        with pytest.raises(
            TypeError,
            match=r"single PIL image \(12x10, mode 'RGB'\).*"
            r"np\.asarray\(img\)\[None\]",
        ):
            factory().fit(img)


def test_list_of_pil_images_is_a_batch():
    Image = pytest.importorskip("PIL.Image")
    arrays = _ragged()
    images = [Image.fromarray(a) for a in arrays]
    batch = check_batch(images)
    assert (batch.layout, batch.n_images, batch.n_channels) == ("list", 3, 3)
    expected = _seg().fit(arrays).predict(arrays)
    got = _seg().fit(images).predict(images)
    for a, b in zip(expected, got):
        assert_array_equal(a, b)
    gray = [Image.fromarray(a[..., 0]) for a in arrays]
    assert check_batch(gray).gray


@pytest.mark.parametrize("mode", ["P", "CMYK", "YCbCr"])
def test_pil_images_whose_values_are_not_colours_are_refused(mode):
    Image = pytest.importorskip("PIL.Image")
    rgb = Image.fromarray(_rgb(n=1, h=6, w=5)[0])
    images = [rgb, rgb.convert(mode)]
    with pytest.raises(ValueError, match=rf"image 1 is a PIL image in mode '{mode}'"):
        _seg().fit(images)
    _seg().fit([im.convert("RGB") for im in images])  # the fix works


# --- layouts ----------------------------------------------------------------


def _expected_shapes(X, layout, output, k=K):
    """Expected output shape (or list of shapes) of ``output`` for ``X``."""
    if output == "histogram":
        return (len(X), k)
    if layout == "list":
        shapes = [x.shape[:2] for x in X]
        tail = {
            "quantized": lambda s, x: x.shape,
            "labels": lambda s, x: s,
            "distances": lambda s, x: s + (k,),
        }[output]
        return [tail(s, x) for s, x in zip(shapes, X)]
    n, h, w = X.shape[:3]
    return {
        "quantized": X.shape,
        "labels": (n, h, w),
        "distances": (n, h, w, k),
    }[output]


@pytest.mark.parametrize("output", OUTPUTS)
@pytest.mark.parametrize(
    "X, layout",
    [(_rgb(), "4d"), (_gray(), "3d"), (_ragged(), "list"),
     (_ragged(gray=True), "list")],
    ids=["rgb-4d", "gray-3d", "rgb-list", "gray-list"],
)  # fmt: skip
def test_output_layout(X, layout, output):
    est = _seg(output=output)
    out = est.fit_transform(X)
    expected = _expected_shapes(X, layout, output)
    if isinstance(expected, list):
        assert isinstance(out, list)
        assert [o.shape for o in out] == expected
    else:
        assert isinstance(out, np.ndarray)
        assert out.shape == expected
    _assert_same(est.transform(X), out)
    labels = est.predict(X)
    for lab, x in zip(labels, X):
        assert lab.dtype == np.int32
        assert lab.shape == x.shape[:2]


@pytest.mark.parametrize("output", OUTPUTS)
@pytest.mark.parametrize("image_shape", [(H, W, 3), (H, W), None])
def test_flat_layout(image_shape, output):
    X = _rgb().reshape(N, -1) if image_shape != (H, W) else _gray(w=W).reshape(N, -1)
    n_features = X.shape[1]
    n_pixels = H * W if image_shape is not None else n_features
    est = _seg(output=output, image_shape=image_shape)
    out = est.fit_transform(X)
    width = {
        "quantized": n_features,
        "labels": n_pixels,
        "distances": n_pixels * K,
        "histogram": K,
    }[output]
    assert out.shape == (N, width)
    assert est.predict(X).shape == (N, n_pixels)
    assert est.predict(X).dtype == np.int32
    assert est.n_features_in_ == n_features


def _as_4d(X2d, image_shape):
    if image_shape is None:
        return X2d.reshape(X2d.shape[0], 1, -1)
    return X2d.reshape((X2d.shape[0],) + image_shape)


@pytest.mark.parametrize("output", OUTPUTS)
@pytest.mark.parametrize("image_shape", [(H, W, 3), (H, W), None])
def test_flat_path_matches_image_path(image_shape, output):
    X = _rgb().reshape(N, -1) if image_shape != (H, W) else _gray(w=W).reshape(N, -1)
    images = _as_4d(X, image_shape)
    flat = _seg(output=output, image_shape=image_shape)
    shaped = _seg(output=output)
    out_flat = flat.fit_transform(X)
    out_shaped = shaped.fit_transform(images)
    assert_array_equal(flat.cluster_centers_, shaped.cluster_centers_)
    assert flat.inertia_ == pytest.approx(shaped.inertia_)
    assert_allclose(out_flat, out_shaped.reshape(N, -1))
    assert_array_equal(flat.predict(X), shaped.predict(images).reshape(N, -1))
    assert flat.score(X) == pytest.approx(shaped.score(images))


@pytest.mark.parametrize("output", OUTPUTS)
@pytest.mark.parametrize("per_image", [False, True])
def test_list_path_matches_array_path(output, per_image):
    X = _rgb()
    est_array = _seg(output=output, per_image=per_image)
    est_list = _seg(output=output, per_image=per_image)
    out_array = est_array.fit_transform(X)
    out_list = est_list.fit_transform(list(X))
    assert_array_equal(est_list.cluster_centers_, est_array.cluster_centers_)
    if output == "histogram":
        assert_allclose(out_list, out_array)
    else:
        assert isinstance(out_list, list)
        assert_allclose(np.stack(out_list), out_array)
    assert est_list.score(list(X)) == pytest.approx(est_array.score(X))


@pytest.mark.parametrize("output", OUTPUTS)
def test_ragged_images_are_segmented_independently(output):
    # With a shared palette, image i of a ragged list is segmented as the
    # one-image batch image[None].
    X = _ragged()
    est = _seg(output=output).fit(X)
    out = est.transform(X)
    for i, image in enumerate(X):
        single = est.transform(image[None])
        assert_allclose(out[i], single[0])


def test_histogram_rows_are_fractions():
    X = _ragged()
    hist = _seg(output="histogram").fit_transform(X)
    assert hist.dtype == np.float64
    assert_allclose(hist.sum(axis=1), 1.0)
    labels = _seg().fit(X).predict(X)
    for row, lab in zip(hist, labels):
        assert_allclose(row, np.bincount(lab.ravel(), minlength=K) / lab.size)


@pytest.mark.parametrize("X", [_gray(), _ragged(gray=True)], ids=["3d", "list"])
def test_distances_keep_k_axis_with_one_cluster(X):
    out = _seg(n_clusters=1, output="distances").fit_transform(X)
    for o, x in zip(out, X):
        assert o.shape == x.shape + (1,)


# --- the caller's data ------------------------------------------------------


def _layouts():
    return {
        "4d": (_rgb(), {}),
        "3d": (_gray(), {}),
        "2d": (_rgb().reshape(N, -1), {"image_shape": (H, W, 3)}),
        "2d-none": (_gray(w=W).reshape(N, -1), {}),
        "list": (_ragged(), {}),
        "4d-bool": (_rgb() > 127, {}),
        "4d-float32": (_rgb(dtype=np.float32) / 255, {}),
    }


# Every method, every output and per_image: (method, constructor parameters).
CALLS = (
    [(m, {}) for m in ("fit", "partial_fit", "predict", "score")]
    + [(m, {"per_image": True}) for m in ("predict", "score")]
    + [(m, {"output": o}) for m in ("transform", "fit_transform") for o in OUTPUTS]
    + [("transform", {"output": o, "per_image": True}) for o in OUTPUTS]
)
CALL_IDS = ["-".join([m, *map(str, p.values())]) for m, p in CALLS]


@pytest.mark.parametrize("method, params", CALLS, ids=CALL_IDS)
@pytest.mark.parametrize("layout", list(_layouts()))
def test_input_not_modified(layout, method, params):
    X, layout_params = _layouts()[layout]
    before = _copy(X)
    _call(_seg(**params, **layout_params), method, X)
    _assert_same(X, before)


@pytest.mark.parametrize("method, params", CALLS, ids=CALL_IDS)
@pytest.mark.parametrize("layout", list(_layouts()))
def test_read_only_input(layout, method, params):
    X, layout_params = _layouts()[layout]
    expected = _call(_seg(**params, **layout_params), method, _copy(X))
    for x in X if isinstance(X, list) else [X]:
        x.setflags(write=False)
    result = _call(_seg(**params, **layout_params), method, X)
    if method in ("fit", "partial_fit"):
        assert_array_equal(result.cluster_centers_, expected.cluster_centers_)
    else:
        _assert_same(result, expected)


def _strided_cases():
    rgb = _rgb(n=4, h=8, w=10)  # every other column of a gray batch: 5 wide
    flat = rgb.reshape(4, -1)
    return {
        "channels-reversed": (rgb[..., ::-1], {}),
        "every-other-image": (rgb[::2], {}),
        "every-other-row": (rgb[:, ::2], {}),
        "every-other-column-gray": (rgb[:, :, ::2, 0], {}),
        "fortran-4d": (np.asfortranarray(rgb), {}),
        "transposed-images": (rgb.transpose(0, 2, 1, 3), {}),
        "flat-every-other-feature": (flat[:, ::2], {}),
        "flat-every-other-row": (flat[::2], {"image_shape": (8, 10, 3)}),
        "flat-fortran": (np.asfortranarray(flat), {"image_shape": (8, 10, 3)}),
        "list-of-views": (
            [rgb[0, ::2], rgb[1, :, ::-1], rgb[2].transpose(1, 0, 2)],
            {},
        ),
    }


@pytest.mark.parametrize("per_image", [False, True])
@pytest.mark.parametrize("output", OUTPUTS)
@pytest.mark.parametrize("case", list(_strided_cases()))
def test_non_contiguous_input(case, output, per_image):
    X, params = _strided_cases()[case]
    if isinstance(X, list):
        assert not all(x.flags.c_contiguous for x in X)
        contiguous = [np.ascontiguousarray(x) for x in X]
    else:
        assert not X.flags.c_contiguous
        contiguous = np.ascontiguousarray(X)
    strided = _seg(output=output, per_image=per_image, **params)
    reference = _seg(output=output, per_image=per_image, **params)
    _assert_same(strided.fit_transform(X), reference.fit_transform(contiguous))
    assert_array_equal(strided.cluster_centers_, reference.cluster_centers_)
    _assert_same(strided.predict(X), reference.predict(contiguous))
    assert strided.score(X) == reference.score(contiguous)


# --- dtypes -----------------------------------------------------------------


@pytest.mark.parametrize(
    "dtype, high",
    [(np.uint8, 256), (np.uint16, 65536), (np.int64, 256), (np.int16, 256),
     (np.float32, 1), (np.float64, 1)],
)  # fmt: skip
@pytest.mark.parametrize("layout", ["4d", "3d", "2d", "list"])
def test_output_dtypes(dtype, high, layout):
    rng = np.random.default_rng(0)
    images = (rng.random((N, H, W, 3)) * high).astype(dtype)
    X, params = {
        "4d": (images, {}),
        "3d": (images[..., 0], {}),
        "2d": (images.reshape(N, -1), {"image_shape": (H, W, 3)}),
        "list": (list(images), {}),
    }[layout]
    est = _seg(**params)
    quantized = est.fit_transform(X)
    labels = est.predict(X)
    distances = est.set_params(output="distances").transform(X)
    histogram = est.set_params(output="histogram").transform(X)
    float_dtype = np.float32 if dtype == np.float32 else np.float64
    for q, lab, d in zip(quantized, labels, distances):
        assert q.dtype == dtype
        assert lab.dtype == np.int32
        assert d.dtype == float_dtype
    assert histogram.dtype == np.float64
    # Quantized colours are the (rounded) palette colours.
    centers = est.cluster_centers_
    if np.dtype(dtype).kind in "iu":
        centers = np.rint(centers)
    pixels = np.concatenate([np.reshape(q, (-1, est.n_channels_in_)) for q in X])
    q_pixels = np.concatenate(
        [np.reshape(q, (-1, est.n_channels_in_)) for q in quantized]
    )
    lab = np.concatenate([np.ravel(x) for x in labels])
    assert_allclose(q_pixels, centers[lab].astype(dtype), rtol=1e-6)
    assert pixels.shape == q_pixels.shape


@pytest.mark.parametrize("layout", ["4d", "3d", "2d", "list"])
def test_bool_images_are_0_1(layout):
    rng = np.random.default_rng(0)
    images = rng.random((N, H, W, 3)) > 0.5
    X, params = {
        "4d": (images, {}),
        "3d": (images[..., 0], {}),
        "2d": (images.reshape(N, -1), {"image_shape": (H, W, 3)}),
        "list": (list(images), {}),
    }[layout]
    n_clusters = 2
    est = _seg(n_clusters=n_clusters, **params)
    quantized = est.fit_transform(X)
    assert est.cluster_centers_.min() >= 0 and est.cluster_centers_.max() <= 1
    reference = _seg(n_clusters=n_clusters, **params)
    as_uint8 = (
        [x.astype(np.uint8) for x in X] if isinstance(X, list) else X.astype(np.uint8)
    )
    expected = reference.fit_transform(as_uint8)
    assert_array_equal(est.cluster_centers_, reference.cluster_centers_)
    _assert_same(quantized, expected)
    for q in quantized:
        assert q.dtype == np.uint8
        assert set(np.unique(q)) <= {0, 1}


def test_float16_is_computed_in_float32():
    X = _rgb(dtype=np.float16) / np.float16(255)
    out = _seg().fit_transform(X)
    assert out.dtype == np.float32


@pytest.mark.skipif(
    np.dtype(np.longdouble).itemsize == 8, reason="long double is float64 here"
)
def test_long_double_images():
    X = _rgb().astype(np.longdouble) / 255
    out = _seg().fit_transform(X)
    assert out.shape == X.shape
    assert out.dtype.kind == "f"


def test_uint64_extreme_values_are_not_wrapped():
    X = np.array([2**64 - 1, 0], dtype=np.uint64).reshape(1, 2, 1, 1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        out = _seg(n_clusters=2).fit_transform(X)
    assert out.dtype == np.uint64
    assert out[0, 0, 0, 0] > 2**63 and out[0, 1, 0, 0] == 0


def test_list_of_mixed_dtypes_uses_common_dtype():
    X = [_rgb()[0], _rgb()[1].astype(np.float64) / 255]
    batch = check_batch(X)
    assert batch.dtype == np.float64
    out = _seg().fit_transform(X)
    assert [o.dtype for o in out] == [np.float64, np.float64]


def test_value_range_of_float_batches():
    # The finiteness check computes min and max of float images; the batch
    # keeps them so that estimators do not read the data again for them.
    X = _rgb().astype(np.float32) / 255
    X[0, 0, 0, 0], X[1, 2, 3, 1] = -0.25, 1.5
    assert check_batch(X).value_range == (-0.25, 1.5)
    flat = X.reshape(N, -1).astype(np.float64)
    assert check_batch(flat, image_shape=(H, W, 3)).value_range == (-0.25, 1.5)
    assert check_batch(list(X)).value_range == (-0.25, 1.5)
    # not computed for integers, nor when a list mixes integer images in
    assert check_batch(_rgb()).value_range is None
    assert check_batch([_rgb()[0], X[1]]).value_range is None


def test_check_batch_returns_views():
    X = _rgb()
    assert np.shares_memory(check_batch(X).array, X)
    flat = X.reshape(N, -1)
    assert np.shares_memory(check_batch(flat, image_shape=(H, W, 3)).array, X)
    gray = _gray()
    assert np.shares_memory(check_batch(gray).array, gray)
    mask = X > 127
    batch = check_batch(mask)
    assert batch.dtype == np.uint8 and np.shares_memory(batch.array, mask)


@pytest.mark.parametrize(
    "X, layout, n_channels, gray",
    [
        (_rgb(), "4d", 3, False),
        (_rgb(c=1), "4d", 1, False),
        (_gray(), "3d", 1, True),
        (np.zeros((2, 6)), "2d", 1, True),
        (_ragged(), "list", 3, False),
        (_ragged(gray=True), "list", 1, True),
        (tuple(_ragged()), "list", 3, False),
    ],
    ids=["4d", "4d-1ch", "3d", "2d", "list", "gray-list", "tuple"],
)
def test_check_batch_layouts(X, layout, n_channels, gray):
    batch = check_batch(X)
    assert (batch.layout, batch.n_channels, batch.gray) == (layout, n_channels, gray)
    assert batch.n_images == len(X)
    if layout == "2d":
        assert batch.array.shape == (len(X), 1, np.shape(X)[1], 1)
    pixels = [batch.image(i).shape[0] * batch.image(i).shape[1] for i in range(len(X))]
    assert_array_equal(batch.pixel_counts(), pixels)
    assert batch.n_pixels == sum(pixels) == sum(np.size(x) for x in X) // n_channels


def test_one_channel_4d_keeps_channel_axis():
    X = _rgb(c=1)
    est = _seg(output="quantized")
    assert est.fit_transform(X).shape == X.shape
    assert est.set_params(output="labels").transform(X).shape == X.shape[:3]


# --- pandas -----------------------------------------------------------------


def test_dataframe_input():
    pd = pytest.importorskip("pandas")
    X = _rgb().reshape(N, -1)
    columns = [f"px{i}" for i in range(X.shape[1])]
    df = pd.DataFrame(X, columns=columns)
    est = _seg(image_shape=(H, W, 3))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = est.fit_transform(df)
        assert_array_equal(est.transform(df), out)
    assert_array_equal(est.feature_names_in_, columns)
    assert est.n_features_in_ == X.shape[1]
    assert_array_equal(out, _seg(image_shape=(H, W, 3)).fit_transform(X))
    assert_array_equal(est.get_feature_names_out(), columns)
    assert est.predict(df).shape == (N, H * W)
    # Refitting on images forgets the feature names.
    est.fit(_rgb())
    assert not hasattr(est, "feature_names_in_")


# --- threads ----------------------------------------------------------------


@pytest.mark.parametrize("n_threads", [1, 2, 3])
@pytest.mark.parametrize("n_tasks", [0, 1, 2, 7])
def test_run_in_threads_runs_every_task_once(n_threads, n_tasks):
    calls, lock = [], threading.Lock()

    def task(i, name):
        time.sleep(0.001)
        with lock:
            calls.append((i, name, threading.current_thread().name))

    run_in_threads(task, ((i, f"t{i}") for i in range(n_tasks)), n_threads)
    assert sorted(c[:2] for c in calls) == [(i, f"t{i}") for i in range(n_tasks)]
    assert len({c[2] for c in calls}) <= n_threads


def test_run_in_threads_nested_in_its_own_tasks_does_not_deadlock():
    # Every pool thread runs an outer task that itself runs inner tasks: the
    # inner calls run on their own thread instead of waiting for the pool.
    done, lock = [], threading.Lock()

    def inner(i, j):
        with lock:
            done.append((i, j))

    def outer(i):
        time.sleep(0.01)  # let the pool's threads all take an outer task
        run_in_threads(inner, [(i, j) for j in range(3)], 3)

    finished = threading.Event()

    def run():
        run_in_threads(outer, [(i,) for i in range(6)], 3)
        finished.set()

    threading.Thread(target=run, daemon=True).start()
    assert finished.wait(30), "nested run_in_threads deadlocked"
    assert sorted(done) == [(i, j) for i in range(6) for j in range(3)]


def test_run_in_threads_raises_after_every_thread_is_done():
    finished = []

    def task(i):
        if i == 0:
            raise ValueError("task 0 failed")
        time.sleep(0.05)
        finished.append(i)

    with pytest.raises(ValueError, match="task 0 failed"):
        run_in_threads(task, [(i,) for i in range(4)], 2)
    # whichever thread took task 0 stopped there; the other ran to the end
    # before the error was raised
    n_done = len(finished)
    time.sleep(0.2)
    assert len(finished) == n_done >= 1


def test_fault_in_touches_one_byte_per_page():
    a = np.full((5000, 3), -1, np.int32)  # 60000 bytes of 0xff: 15 pages
    fault_in(a)
    flat = a.reshape(-1).view(np.uint8)
    assert np.count_nonzero(flat[::4096]) == 0
    assert np.count_nonzero(flat) == flat.size - 15  # nothing else written


@pytest.mark.parametrize("n_threads", [1, 2])
@pytest.mark.parametrize("bad", [None, np.nan, np.inf, -np.inf])
def test_large_float_batches_are_checked_as_small_ones(monkeypatch, n_threads, bad):
    # at MIN_MAX_PAIR_SIZE values and more the minimum and maximum are found
    # on two threads at once: the same range, the same errors
    from skseg import _batch

    monkeypatch.setattr(_batch, "fit_threads", lambda: n_threads)
    rng = np.random.default_rng(3)
    X = rng.normal(size=(1, 1024, 1024 + 3)).astype(np.float32)
    assert X.size >= _batch.MIN_MAX_PAIR_SIZE
    if bad is None:
        batch = check_batch(X)
        assert batch.value_range == (float(X.min()), float(X.max()))
        return
    X[0, -1, -1] = bad
    with pytest.raises(ValueError, match=_NAN_OR_INF):
        check_batch(X)
