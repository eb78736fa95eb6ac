"""Property tests of the image-batch contract (hypothesis).

Random shapes, dtypes, memory layouts and non-finite values go through
every estimator. Each call either returns a valid output in the caller's
layout or raises a ValueError / TypeError; any other exception (IndexError,
ZeroDivisionError, a numba error, ...) fails. The examples are derandomized
so that CI runs the same ones every time.
"""

import warnings

import numpy as np
import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from skseg import (  # noqa: E402
    CannyEdgeExtractor,
    ColorSpaceTransformer,
    ElbowKSelector,
    KMeansColorSegmenter,
)
from skseg._batch import check_batch  # noqa: E402

SETTINGS = settings(
    max_examples=80,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# dtypes the estimators take, and some they must refuse cleanly
GOOD_DTYPES = ["uint8", "uint16", "int16", "float32", "float64", "bool"]
BAD_DTYPES = ["complex64", "object", "<U2"]


@st.composite
def arrays(draw, ndim=None, allow_bad=True, allow_nonfinite=True):
    """A random array: shape, dtype, layout, maybe NaN/inf."""
    # mostly 2-D to 4-D batches of small images; sometimes 0-sized axes
    if ndim is None:
        ndim = draw(st.sampled_from([2, 3, 4, 4, 3, 2, 0, 1, 5]))
    size = st.sampled_from([5, 1, 2, 3, 4, 6, 7, 0])
    shape = tuple(draw(st.lists(size, min_size=ndim, max_size=ndim)))
    pool = GOOD_DTYPES + (BAD_DTYPES if allow_bad else [])
    dtype = np.dtype(draw(st.sampled_from(pool)))
    seed = draw(st.integers(0, 2**16))
    rng = np.random.default_rng(seed)
    if dtype.kind == "f":
        a = rng.random(shape).astype(dtype)
        if allow_nonfinite and a.size and draw(st.integers(0, 3)) == 3:
            flat = a.reshape(-1)
            flat[draw(st.integers(0, a.size - 1))] = draw(
                st.sampled_from([np.nan, np.inf, -np.inf])
            )
    elif dtype.kind in "iu":
        a = rng.integers(0, 200, size=shape).astype(dtype)
    elif dtype.kind == "b":
        a = rng.random(shape) < 0.5
    elif dtype.kind == "c":
        a = (rng.random(shape) + 1j).astype(dtype)
    else:
        a = np.full(shape, "a", dtype=dtype)
    layout = draw(st.sampled_from(["c", "f", "strided", "readonly"]))
    if layout == "f":
        a = np.asfortranarray(a)
    elif layout == "strided" and a.ndim >= 1:
        a = np.repeat(a, 2, axis=-1)[..., ::2]
    elif layout == "readonly":
        a.setflags(write=False)
    return a


@st.composite
def batches(draw):
    """A random X: an array, a list of arrays, or something else entirely."""
    kind = draw(st.sampled_from(["array", "array", "list", "other"]))
    if kind == "array":
        return draw(arrays())
    if kind == "list":
        n = draw(st.integers(0, 3))
        channels = draw(st.sampled_from([None, 1, 3, 4]))
        items = []
        for _ in range(n):
            if draw(st.booleans()):  # a well-formed image of this list's channels
                ndim = 2 if channels is None else 3
                a = draw(arrays(ndim=ndim, allow_bad=False))
                if channels is not None and a.shape[-1:] != (channels,):
                    a = np.zeros(a.shape[:2] + (channels,), a.dtype)
                items.append(a)
            else:
                items.append(draw(arrays()))
        return items
    return draw(
        st.sampled_from(
            [None, 3, 2.5, "photo.png", b"bytes", {"a": 1}, [[1, 2], [3]], (), [()]]
        )
    )


def _estimators():
    return [
        KMeansColorSegmenter(2, n_init=1, random_state=0, output="quantized"),
        KMeansColorSegmenter(2, n_init=1, random_state=0, output="labels"),
        KMeansColorSegmenter(2, n_init=1, random_state=0, output="distances"),
        KMeansColorSegmenter(2, n_init=1, random_state=0, output="histogram"),
        KMeansColorSegmenter(2, n_init=1, random_state=0, per_image=True),
        CannyEdgeExtractor(),
        CannyEdgeExtractor(gradient="l1", sigma=0, use_quantiles=True),
        ColorSpaceTransformer("hsv", clip=True),
        ColorSpaceTransformer("gray", clip=True),
        ElbowKSelector(k_values=[1, 2], random_state=0),
    ]


def _out_channels(est, c):
    """Channels of an image-valued output for c input channels (None: no axis)."""
    if isinstance(est, ElbowKSelector):
        est = KMeansColorSegmenter()  # transform delegates to a segmenter
    if isinstance(est, KMeansColorSegmenter):
        return {"quantized": c, "labels": None, "distances": "k"}[est.output]
    if isinstance(est, CannyEdgeExtractor):
        return None
    return None if est.space == "gray" else 3


def _check_output(est, X, out):
    """``out`` is in the caller's layout (see the contract in _batch.py)."""
    batch = check_batch(X)  # X was accepted by the estimator, so it is valid
    if getattr(est, "output", None) == "histogram":
        assert isinstance(out, np.ndarray)
        assert out.shape[0] == batch.n_images and out.ndim == 2
        np.testing.assert_allclose(out.sum(axis=1), 1.0)
        return
    channels = _out_channels(est, batch.n_channels)
    if channels == "k":  # distances keep their k channels, even a single one
        channels = est.n_clusters_ if not est.per_image else est.n_clusters
    elif channels == 1 and batch.gray:  # gray images come back gray
        channels = None
    tail = () if channels is None else (channels,)
    if batch.layout == "list":
        assert isinstance(out, list) and len(out) == batch.n_images
        for image, o in zip(batch.images, out):
            assert o.shape == image.shape[:2] + tail
        return
    n, h, w = batch.array.shape[:3]
    assert isinstance(out, np.ndarray)
    if batch.layout == "2d":
        assert out.shape == (n, h * w * int(np.prod(tail)))
    else:
        assert out.shape == (n, h, w) + tail
    if out.dtype.kind == "f":
        assert np.isfinite(out).all()


def _call(est, X):
    """fit_transform on X, then transform on X; ValueError/TypeError allowed."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        try:
            out = est.fit_transform(X)
        except (ValueError, TypeError) as exc:
            assert str(exc), "an error without a message"
            return None
        again = est.transform(X)
    return out, again


@SETTINGS
@given(X=batches(), index=st.integers(0, len(_estimators()) - 1))
def test_any_input_gives_a_valid_output_or_a_clear_error(X, index):
    est = _estimators()[index]
    result = _call(est, X)
    if result is None:
        return
    out, again = result
    _check_output(est, X, out)
    _check_output(est, X, again)


@SETTINGS
@given(X=arrays(allow_bad=False, allow_nonfinite=False))
def test_check_batch_on_clean_arrays_is_valid_or_explains(X):
    try:
        batch = check_batch(X)
    except (ValueError, TypeError) as exc:
        assert str(exc)
        return
    assert batch.n_images >= 1 and batch.n_pixels >= 1
    assert batch.n_channels >= 1
    # the batch is a view of the caller's data: same values, image by image
    for i in range(batch.n_images):
        assert batch.image(i).ndim == 3


@SETTINGS
@given(
    X=arrays(ndim=4, allow_bad=False, allow_nonfinite=False),
    flat=st.booleans(),
)
def test_segmenter_keeps_the_layout_of_good_batches(X, flat):
    # Well-formed batches (no 0-sized axis, 1 or 3 channels) always work.
    n, h, w, c = X.shape
    if min(n, h, w) == 0 or c not in (1, 3):
        return
    seg = KMeansColorSegmenter(2, n_init=1, random_state=0, output="labels")
    data = X.reshape(n, -1) if flat else X
    params = {"image_shape": (h, w, c)} if flat else {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # fewer than 2 colours
        labels = seg.set_params(**params).fit_transform(data)
    assert labels.shape == ((n, h * w) if flat else (n, h, w))
    assert labels.min() >= 0 and labels.max() < seg.n_clusters_
