"""Connected regions: KMeansColorSegmenter(min_region_size=...), output='regions'."""

import numpy as np
import pytest
from skimage.measure import label as sk_label
from sklearn.model_selection import GridSearchCV

from skseg import KMeansColorSegmenter
from skseg._regions import components, merge_small_regions
from skseg.metrics import adjusted_rand_scorer


def speckled(seed=0, h=48, w=48, p=0.03):
    """Two colour halves with isolated specks of the other colour; the mask."""
    rng = np.random.default_rng(seed)
    mask = np.zeros((h, w), int)
    mask[:, w // 2 :] = 1
    lab = np.where(rng.random((h, w)) < p, 1 - mask, mask)
    colors = np.array([[200, 40, 40], [40, 40, 200]])
    img = colors[lab] + rng.normal(0, 5, (h, w, 3))
    return np.clip(img, 0, 255).round().astype(np.uint8), mask


@pytest.mark.parametrize("seed", range(5))
def test_components_match_skimage_label(seed):
    rng = np.random.default_rng(seed)
    lab = rng.integers(0, 3, rng.integers(1, 40, size=2)).astype(np.int32)
    comp = np.empty_like(lab)
    order = np.empty(lab.size, np.int32)
    starts = components(lab, comp, order)
    np.testing.assert_array_equal(
        comp, sk_label(lab + 1, connectivity=1, background=0) - 1
    )
    for r in range(starts.shape[0] - 1):
        assert (comp.ravel()[order[starts[r] : starts[r + 1]]] == r).all()


def test_merging_leaves_no_small_region():
    rng = np.random.default_rng(1)
    lab = rng.integers(0, 4, (60, 70)).astype(np.int32)
    palette = rng.random((4, 3)) * 255
    comp, n = merge_small_regions(lab, palette, 20)
    sizes = np.bincount(comp.ravel())
    assert n == sizes.size and sizes.min() >= 20
    np.testing.assert_array_equal(
        comp, sk_label(lab + 1, connectivity=1, background=0) - 1
    )


def test_one_region_image_is_left_alone():
    lab = np.zeros((5, 5), np.int32)
    comp, n = merge_small_regions(lab, np.zeros((1, 3)), 100)
    assert n == 1 and (lab == 0).all()


def test_specks_take_the_surrounding_label():
    X, mask = speckled()
    km = KMeansColorSegmenter(2, random_state=0).fit(X[None])
    before = km.predict(X[None])[0]
    assert km.set_params(output="regions").transform(X[None]).max() > 50
    km.set_params(min_region_size=10, output="labels")
    after = km.transform(X[None])[0]
    # the two halves, but for specks on the border between them
    truth = np.where(mask == 0, after[0, 0], after[0, -1])
    assert after[0, 0] != after[0, -1]
    assert np.mean(after == truth) > 0.99
    regions = km.set_params(output="regions").transform(X[None])[0]
    assert regions.max() + 1 == 2
    # only specks changed: pixels whose label was already right stay
    assert ((before == after) | (after == truth)).all()


def test_default_is_unchanged():
    X, _ = speckled(2)
    a = KMeansColorSegmenter(2, random_state=0).fit(X[None])
    b = KMeansColorSegmenter(2, random_state=0, min_region_size=None).fit(X[None])
    np.testing.assert_array_equal(a.transform(X[None]), b.transform(X[None]))
    assert a.score(X[None]) == b.score(X[None])


def test_outputs_and_score_follow_the_merged_labels():
    X, _ = speckled(3)
    Xb = np.stack([X, X[::-1]])
    km = KMeansColorSegmenter(2, random_state=0, min_region_size=10).fit(Xb)
    lab = km.predict(Xb)
    q = km.set_params(output="quantized").transform(Xb)
    centres = np.rint(km.cluster_centers_).astype(np.uint8)
    np.testing.assert_array_equal(q, centres[lab])
    hist = km.set_params(output="histogram").transform(Xb)
    np.testing.assert_allclose(hist[1], np.bincount(lab[1].ravel()) / lab[1].size)
    sse = ((Xb - km.cluster_centers_[lab]) ** 2).sum()
    assert -km.score(Xb) * lab.size == pytest.approx(sse)
    # regions as 2-D rows and ragged lists
    km.set_params(output="regions", image_shape=X.shape)
    flat = km.fit(Xb.reshape(2, -1)).transform(Xb.reshape(2, -1))
    assert flat.shape == (2, X.shape[0] * X.shape[1])
    ragged = km.set_params(image_shape=None).fit(list(Xb)).transform([X, X[:20]])
    assert [r.shape for r in ragged] == [X.shape[:2], (20, X.shape[1])]


def test_per_image_palettes():
    X, _ = speckled(4)
    km = KMeansColorSegmenter(
        2, random_state=0, per_image=True, min_region_size=10, output="regions"
    ).fit(X[None])
    assert km.transform(np.stack([X, X])).max() == 1


def test_grid_search_over_min_region_size():
    pairs = [speckled(s) for s in range(4)]
    X = np.stack([p[0] for p in pairs])
    masks = np.stack([p[1] for p in pairs])
    search = GridSearchCV(
        KMeansColorSegmenter(2, random_state=0),
        {"min_region_size": [None, 16]},
        scoring=adjusted_rand_scorer,
        cv=2,
    ).fit(X, masks)
    assert search.best_params_ == {"min_region_size": 16}
    assert search.best_score_ > 0.95


def test_min_region_size_validation():
    with pytest.raises(ValueError, match="min_region_size"):
        KMeansColorSegmenter(2, min_region_size=0).fit(np.zeros((1, 4, 4, 3)))


def test_dask_batches_are_segmented_image_by_image():
    da = pytest.importorskip("dask.array")
    X, _ = speckled(5)
    Xb = np.stack([X, X[::-1], X[:, ::-1]])
    km = KMeansColorSegmenter(2, random_state=0, min_region_size=10)
    ref = km.fit(Xb)
    lazy = da.from_array(Xb, chunks=(1,) + Xb.shape[1:])
    for output in ("regions", "labels", "quantized"):
        km.set_params(output=output)
        np.testing.assert_array_equal(km.transform(lazy).compute(), km.transform(Xb))
    assert ref is km
