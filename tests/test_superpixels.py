"""SuperpixelSegmenter: SLIC superpixels over batches of images."""

import numpy as np
import pytest
from skimage.measure import label as sk_label
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline

from skseg import ColorSpaceTransformer, SuperpixelSegmenter
from skseg.metrics import (
    adjusted_rand_scorer,
    boundary_recall,
    boundary_recall_scorer,
    neg_undersegmentation_error_scorer,
    undersegmentation_error,
)


def voronoi(seed, h=96, w=96, n_cells=12, sigma=10.0):
    """Random Voronoi cells of random colours plus Gaussian noise; the mask."""
    rng = np.random.default_rng(seed)
    pts = rng.uniform(0, [h, w], (n_cells, 2))
    yy, xx = np.mgrid[:h, :w]
    mask = ((yy[..., None] - pts[:, 0]) ** 2 + (xx[..., None] - pts[:, 1]) ** 2).argmin(
        -1
    )
    colors = rng.integers(0, 256, (n_cells, 3))
    img = colors[mask] + rng.normal(0, sigma, (h, w, 3))
    return np.clip(img, 0, 255).round().astype(np.uint8), mask


@pytest.fixture(scope="module")
def batch():
    images, masks = zip(*(voronoi(s) for s in range(4)))
    return np.stack(images), np.stack(masks)


def _connected(lab):
    # every superpixel id is one 4-connected region
    n = lab.max() + 1
    return sk_label(lab + 1, connectivity=1, background=0).max() == n


def test_labels_are_connected_consecutive_superpixels(batch):
    X, _ = batch
    out = SuperpixelSegmenter(n_segments=30).fit_transform(X)
    assert out.shape == X.shape[:3] and out.dtype == np.int32
    for lab in out:
        n = lab.max() + 1
        assert set(np.unique(lab)) == set(range(n))
        assert 15 <= n <= 45
        assert _connected(lab)
        # ids in raster order of first pixel
        _, first = np.unique(lab.ravel(), return_index=True)
        assert (np.diff(first) > 0).all()


def test_layouts_follow_the_batch_contract(batch):
    X, _ = batch
    sp = SuperpixelSegmenter(n_segments=20)
    ref = sp.fit_transform(X)
    ragged = sp.fit_transform([X[0], X[1, :50]])
    assert isinstance(ragged, list)
    np.testing.assert_array_equal(ragged[0], ref[0])
    assert ragged[1].shape == (50, 96)
    flat = SuperpixelSegmenter(n_segments=20, image_shape=(96, 96, 3))
    np.testing.assert_array_equal(
        flat.fit_transform(X.reshape(4, -1)), ref.reshape(4, -1)
    )
    gray = sp.fit_transform(X[..., 0])
    assert gray.shape == X.shape[:3]


def test_n_jobs_does_not_change_the_result(batch):
    X, _ = batch
    a = SuperpixelSegmenter(n_segments=25).fit_transform(X)
    b = SuperpixelSegmenter(n_segments=25, n_jobs=2).fit_transform(X)
    np.testing.assert_array_equal(a, b)


def test_quantized_is_the_mean_colour_of_each_superpixel(batch):
    X, _ = batch
    sp = SuperpixelSegmenter(n_segments=20)
    lab = sp.predict(X)
    q = sp.set_params(output="quantized").transform(X)
    assert q.shape == X.shape and q.dtype == X.dtype
    for k in (0, 3, int(lab[1].max())):
        sel = lab[1] == k
        mean = X[1][sel].mean(axis=0)
        np.testing.assert_array_equal(q[1][sel][0], np.rint(mean).astype(np.uint8))
    qf = sp.fit_transform(X / 255.0)
    assert qf.dtype == np.float64


def test_features_output_is_fixed_width(batch):
    X, _ = batch
    sp = SuperpixelSegmenter(n_segments=20, output="features")
    F = sp.fit_transform([X[0], X[1, :40, :70]])
    assert F.shape == (2, 6)
    names = sp.get_feature_names_out()
    assert list(names) == [
        "n_superpixels",
        "mean_size",
        "max_size",
        "boundary_fraction",
        "contrast",
        "spread",
    ]
    lab = SuperpixelSegmenter(n_segments=20).fit_transform(X[:1])[0]
    assert F[0, 0] == lab.max() + 1
    assert F[0, 1] == pytest.approx(1 / F[0, 0])
    pd = pytest.importorskip("pandas")
    df = sp.set_output(transform="pandas").fit_transform(X)
    assert isinstance(df, pd.DataFrame) and list(df.columns) == list(names)


def test_compactness_makes_square_superpixels():
    # a flat image: superpixels are the grid cells whatever the compactness
    X = np.full((1, 64, 64, 3), 128, np.uint8)
    lab = SuperpixelSegmenter(n_segments=16).fit_transform(X)[0]
    assert lab.max() + 1 == 16
    sizes = np.bincount(lab.ravel())
    assert sizes.min() == sizes.max() == 256


def test_pipeline_after_a_colour_space_step(batch):
    X, _ = batch
    pipe = make_pipeline(
        ColorSpaceTransformer("lab"), SuperpixelSegmenter(n_segments=20, space=None)
    )
    a = pipe.fit_transform(X)
    b = SuperpixelSegmenter(n_segments=20).fit_transform(X)
    # the same Lab values (float32 both ways), the same superpixels
    assert np.mean(a == b) > 0.99


def test_beats_skimage_slic_on_noisy_voronoi_cells():
    from skimage.segmentation import slic

    for sigma in (10, 25):
        img, mask = voronoi(7, h=128, w=128, n_cells=16, sigma=sigma)
        ours = SuperpixelSegmenter(n_segments=64).fit_transform(img[None])[0]
        theirs = slic(img, n_segments=64, compactness=10)
        assert boundary_recall(mask, ours) >= boundary_recall(mask, theirs)
        assert undersegmentation_error(mask, ours) <= undersegmentation_error(
            mask, theirs
        )


def test_grid_search_against_masks(batch):
    X, masks = batch
    search = GridSearchCV(
        SuperpixelSegmenter(),
        {"n_segments": [2, 40], "compactness": [5.0, 20.0]},
        scoring={
            "br": boundary_recall_scorer,
            "ue": neg_undersegmentation_error_scorer,
            "ari": adjusted_rand_scorer,
        },
        refit="ue",
        cv=2,
    ).fit(X, masks)
    assert search.best_params_["n_segments"] == 40
    res = search.cv_results_
    assert np.all(np.asarray(res["mean_test_br"]) <= 1.0)
    assert np.all(np.asarray(res["mean_test_ue"]) <= 0.0)


@pytest.mark.parametrize(
    "params, X, message",
    [
        ({}, np.zeros((1, 8, 8, 4), np.uint8), "space='lab' needs grayscale"),
        ({}, np.full((1, 8, 8, 3), 2.0), r"float RGB images in \[0, 1\]"),
        ({"n_segments": 0}, np.zeros((1, 8, 8, 3), np.uint8), "n_segments"),
        ({"compactness": 0}, np.zeros((1, 8, 8, 3), np.uint8), "compactness"),
    ],
)
def test_errors(params, X, message):
    with pytest.raises(ValueError, match=message):
        SuperpixelSegmenter(**params).fit_transform(X)


def test_space_none_takes_any_number_of_channels():
    rng = np.random.default_rng(0)
    X = rng.random((2, 20, 30, 5)).astype(np.float32)
    lab = SuperpixelSegmenter(n_segments=6, space=None).fit_transform(X)
    assert lab.shape == (2, 20, 30)
    assert all(_connected(im) for im in lab)


def test_integer_and_boolean_images():
    img, _ = voronoi(3, h=40, w=40, n_cells=4)
    sp = SuperpixelSegmenter(n_segments=9)
    a = sp.fit_transform(img[None])
    b = sp.fit_transform(img[None].astype(np.uint16) * 257)
    assert np.mean(a == b) > 0.99
    mask = np.zeros((1, 40, 40), bool)
    mask[0, :, 20:] = True
    lab = sp.fit_transform(mask)[0]
    assert not np.intersect1d(lab[:, :20], lab[:, 20:]).size


@pytest.mark.parametrize("output", ["labels", "quantized", "features"])
def test_dask_arrays_are_segmented_lazily_per_image(batch, output):
    # each block of whole images is segmented as in memory; nothing is
    # computed before .compute()
    da = pytest.importorskip("dask.array")
    X, _ = batch
    sp = SuperpixelSegmenter(n_segments=9, output=output)
    expected = sp.fit_transform(X)
    lazy = sp.fit_transform(da.from_array(X, chunks=(1,) + X.shape[1:]))
    assert isinstance(lazy, da.Array)
    assert lazy.chunks[0] == (1,) * X.shape[0]
    np.testing.assert_array_equal(lazy.compute(), expected)
    np.testing.assert_array_equal(
        sp.predict(da.from_array(X, chunks=(2,) + X.shape[1:])).compute(),
        sp.predict(X),
    )


def test_feature_names_of_image_outputs(batch):
    X, _ = batch
    sp = SuperpixelSegmenter(n_segments=9).fit(X)
    assert list(sp.get_feature_names_out()) == ["label"]
    sp.set_params(output="quantized")
    assert list(sp.get_feature_names_out()) == ["channel0", "channel1", "channel2"]
    assert list(sp.get_feature_names_out(["r", "g", "b"])) == ["r", "g", "b"]


def test_pixels_no_window_reaches_take_the_nearest_centre():
    from skseg._slic import slic_iterate

    # two centres whose 3x3 windows leave most of the image unreached
    rng = np.random.default_rng(0)
    feats = rng.random((3, 20, 30)).astype(np.float32)
    feats[:, :, 15:] += 5
    pos = np.array([[10.0, 5.0], [10.0, 25.0]])
    col = np.array([[0.5] * 3, [5.5] * 3])
    labels = np.empty((20, 30), np.int32)
    slic_iterate(feats, pos, col, 1, 0.01, 1, labels)
    assert (labels[:, :15] == 0).all() and (labels[:, 15:] == 1).all()
    # the centres moved to the means of all their pixels
    np.testing.assert_allclose(pos, [[9.5, 7.0], [9.5, 22.0]])
    np.testing.assert_allclose(col[0], feats[:, :, :15].reshape(3, -1).mean(1), 1e-5)
