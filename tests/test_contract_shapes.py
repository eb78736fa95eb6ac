"""Shapes that look like something else are never read silently (issue 17).

Three readings the batch contract cannot know from the shape alone:

- a 2-D array given to a spatial step (Canny) without ``image_shape``: one
  grayscale image (``X[None]``) or flattened images (``image_shape=``), not
  strips one pixel high;
- a 2-D array of 3 or 4 columns: scikit-learn's pixel table, not images of
  3 or 4 pixels;
- a 4-D array with 3 or 4 entries on axis 1 and a large last axis: a
  channels-first batch.

Each is refused with the fix, above thresholds that leave scikit-learn's
``check_estimator`` data (at most 300 rows, 10 columns, always 2-D) alone;
``image_shape`` always says "read it as I say". The first tests are the
inputs of the issue; the property tests cover every shape around the rules.
"""

import re

import numpy as np
import pytest
from skimage import data

from skseg import (
    CannyEdgeExtractor,
    ColorSpaceTransformer,
    ElbowKSelector,
    KMeansColorSegmenter,
)
from skseg._batch import (
    _MAX_COLOUR_CHANNELS,
    PIXEL_TABLE_MIN_ROWS,
    SPATIAL_MIN_WIDTH,
    check_batch,
)

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

SETTINGS = settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)

# ---------------------------------------------------------------------------
# the inputs of issue 17 (each read silently wrong before)


def test_one_grayscale_image_given_to_canny_is_refused_with_the_fix():
    camera = data.camera()
    with pytest.raises(ValueError, match=re.escape("Pass X[None]")) as info:
        CannyEdgeExtractor().fit_transform(camera)
    assert "image_shape=(height, width)" in str(info.value)
    assert "(512, 512)" in str(info.value)
    # the fix it names works: ~10% edge pixels, not an all-zero map
    assert 0.05 < CannyEdgeExtractor().fit_transform(camera[None]).mean() < 0.2


def test_flattened_rows_given_to_canny_need_image_shape():
    from sklearn.datasets import load_digits

    digits = load_digits().data  # (1797, 64): rows of 8x8 images
    with pytest.raises(ValueError, match=r"image_shape=\(height"):
        CannyEdgeExtractor().fit_transform(digits)
    edges = CannyEdgeExtractor(image_shape=(8, 8)).fit_transform(digits[:20] / 16)
    assert edges.shape == (20, 64) and edges.any()


@pytest.mark.parametrize("n_channels", [3, 4])
@pytest.mark.parametrize(
    "make",
    [
        lambda: KMeansColorSegmenter(3, random_state=0),
        lambda: ElbowKSelector(k_values=[2, 3], random_state=0),
        lambda: ColorSpaceTransformer("lab"),
        lambda: CannyEdgeExtractor(),
    ],
    ids=["kmeans", "elbow", "color", "canny"],
)
def test_pixel_table_is_refused_with_how_to_pass_it(make, n_channels):
    photo = data.astronaut()[:64, :64]
    if n_channels == 4:
        photo = np.dstack([photo, np.full(photo.shape[:2], 255, np.uint8)])
    table = photo.reshape(-1, n_channels)
    with pytest.raises(ValueError, match="pixel table") as info:
        make().fit(table)
    message = str(info.value)
    assert "image[None]" in message and "X[None, None]" in message
    assert f"image_shape=(1, {n_channels})" in message


def test_pixel_table_fix_gives_a_colour_palette():
    table = data.astronaut().reshape(-1, 3)
    seg = KMeansColorSegmenter(3, random_state=0).fit(table[None, None])
    assert seg.cluster_centers_.shape == (3, 3)  # was (3, 1) before issue 17
    same = KMeansColorSegmenter(3, random_state=0).fit(data.astronaut()[None])
    np.testing.assert_allclose(
        np.sort(seg.cluster_centers_, axis=0), np.sort(same.cluster_centers_, axis=0)
    )


def test_channels_first_batch_is_refused_with_moveaxis():
    X = np.moveaxis(data.astronaut()[None], -1, 1)  # (1, 3, 512, 512)
    for est in (KMeansColorSegmenter(3), CannyEdgeExtractor(), ColorSpaceTransformer()):
        with pytest.raises(ValueError, match=re.escape("np.moveaxis(X, 1, -1)")):
            est.fit(X)
    seg = KMeansColorSegmenter(3, random_state=0).fit(np.moveaxis(X, 1, -1))
    assert seg.cluster_centers_.shape == (3, 3)


def test_channels_first_image_in_a_list_is_refused():
    image = np.moveaxis(data.astronaut(), -1, 0)  # (3, 512, 512)
    with pytest.raises(ValueError, match=r"image 1 .*np\.moveaxis\(image, 0, -1\)"):
        KMeansColorSegmenter(3).fit([data.astronaut(), image])


def test_image_shape_says_read_it_as_given():
    rng = np.random.default_rng(0)
    rows = rng.integers(0, 255, (2000, 3)).astype(np.uint8)
    seg = KMeansColorSegmenter(2, random_state=0, image_shape=(1, 3)).fit(rows)
    assert seg.cluster_centers_.shape == (2, 1)
    tall = rng.random((2, 3, 5, 8))  # images 3 pixels high with 8 channels
    seg = KMeansColorSegmenter(2, random_state=0, image_shape=(3, 5, 8)).fit(tall)
    assert seg.cluster_centers_.shape == (2, 8)


def test_the_rule_is_written_in_common_mistakes():
    from pathlib import Path

    page = Path(__file__).parents[1] / "docs" / "common_mistakes.rst"
    if not page.exists():
        pytest.skip("docs not shipped")
    text = page.read_text()
    for needle in (str(PIXEL_TABLE_MIN_ROWS), str(SPATIAL_MIN_WIDTH), "moveaxis"):
        assert needle in text


# ---------------------------------------------------------------------------
# property tests: exactly the shapes the rules name are refused


def _read(X, **kwargs):
    try:
        return check_batch(X, **kwargs), None
    except ValueError as exc:
        return None, str(exc)


@SETTINGS
@given(
    n=st.integers(1, 3000),
    m=st.integers(1, 40),
    spatial=st.booleans(),
    dtype=st.sampled_from(["uint8", "float32", "float64"]),
)
def test_property_2d(n, m, spatial, dtype):
    X = np.zeros((n, m), dtype)
    batch, error = _read(X, spatial=spatial)
    pixel_table = m in (3, 4) and n >= PIXEL_TABLE_MIN_ROWS
    strips = spatial and m >= SPATIAL_MIN_WIDTH
    if pixel_table:
        assert error is not None and "pixel table" in error
    elif strips:
        assert error is not None and f"image_shape=(1, {m})" in error
    else:
        assert error is None
        assert batch.layout == "2d" and batch.n_images == n
        assert batch.array.shape == (n, 1, m, 1)
    # image_shape always settles it: rows are read as it says
    batch, error = _read(X, image_shape=(1, m), spatial=spatial)
    assert error is None and batch.array.shape == (n, 1, m, 1)


@SETTINGS
@given(
    n=st.integers(1, 300),
    m=st.integers(1, 10),
    spatial=st.booleans(),
)
def test_property_check_estimator_shapes_are_read_as_rows(n, m, spatial):
    # every 2-D shape scikit-learn's check_estimator feeds: rows of images
    batch, error = _read(np.ones((n, m)), spatial=spatial)
    assert error is None and batch.n_images == n


@SETTINGS
@given(
    n=st.integers(1, 3),
    a=st.integers(1, 6),
    b=st.integers(1, 9),
    c=st.integers(1, 12),
)
def test_property_channels_first(n, a, b, c):
    X = np.zeros((n, a, b, c), np.uint8)
    batch, error = _read(X)
    if a in (3, 4) and c > _MAX_COLOUR_CHANNELS:
        assert error is not None and "np.moveaxis(X, 1, -1)" in error
        assert f"shape {(n, b, c, a)}" in error
        # the fix it gives is accepted, and so is image_shape
        fixed, error = _read(np.moveaxis(X, 1, -1))
        assert error is None and fixed.n_channels == a
        batch, error = _read(X, image_shape=(a, b, c))
        assert error is None and batch.n_channels == c
    else:
        assert error is None and batch.array.shape == (n, a, b, c)


@SETTINGS
@given(
    a=st.integers(1, 6),
    b=st.integers(1, 9),
    c=st.integers(1, 12),
)
def test_property_channels_first_in_lists(a, b, c):
    image = np.zeros((a, b, c), np.uint8)
    batch, error = _read([image])
    if a in (3, 4) and c > _MAX_COLOUR_CHANNELS:
        assert error is not None and "np.moveaxis(image, 0, -1)" in error
    else:
        assert error is None and batch.images[0].shape == (a, b, c)


@SETTINGS
@given(
    n_pixels=st.integers(PIXEL_TABLE_MIN_ROWS, 5000),
    c=st.sampled_from([3, 4]),
)
def test_property_pixel_table_and_its_fix(n_pixels, c):
    table = np.arange(n_pixels * c, dtype=np.uint32).reshape(n_pixels, c)
    table = (table % 251).astype(np.uint8)
    batch, error = _read(table)
    assert error is not None and "X[None, None]" in error
    batch, error = _read(table[None, None])
    assert error is None
    assert batch.n_channels == c and batch.n_pixels == n_pixels
    np.testing.assert_array_equal(batch.image_pixels(0), table)
