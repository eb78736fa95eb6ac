"""Scorers for choosing K by cross-validation, and the weighted scores."""

import numpy as np
import pytest
from numpy.testing import assert_allclose
from sklearn.datasets import load_digits
from sklearn.metrics import calinski_harabasz_score, silhouette_score
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer
from sklearn.svm import SVC

from skseg import KMeansColorSegmenter
from skseg._scores import (
    sample_pixels,
    weighted_calinski_harabasz,
    weighted_silhouettes,
)
from skseg.metrics import (
    adjusted_rand_scorer,
    calinski_harabasz_scorer,
    make_label_map_scorer,
    silhouette_scorer,
)
from skseg.model_selection import ElbowKSelector

COLOURS = np.array(
    [[220, 40, 50], [40, 190, 70], [40, 60, 210], [235, 225, 70]], dtype=float
)


def band_batch(n_images=6, shape=(32, 32), seed=0, colours=COLOURS, sd=10.0):
    """Images of 4 colour bands in random order and widths, and their masks."""
    rng = np.random.default_rng(seed)
    h, w = shape
    k = len(colours)
    masks = np.empty((n_images, h, w), np.int64)
    for i in range(n_images):
        cuts = np.sort(rng.choice(np.arange(4, w - 3), k - 1, replace=False))
        band = np.searchsorted(cuts, np.arange(w), side="right")
        masks[i] = rng.permutation(k)[band][None, :]
    X = colours[masks] + rng.normal(0, sd, masks.shape + (3,))
    return np.clip(np.rint(X), 0, 255).astype(np.uint8), masks


# ----------------------------------------------------------------------
# acceptance: grid search over n_clusters


def test_grid_search_with_ground_truth_picks_the_true_k():
    X, masks = band_batch()
    search = GridSearchCV(
        KMeansColorSegmenter(random_state=0),
        {"n_clusters": list(range(2, 9))},
        scoring=adjusted_rand_scorer,
        cv=3,
    ).fit(X, masks)
    assert search.best_params_ == {"n_clusters": 4}
    assert search.best_score_ > 0.99


@pytest.mark.parametrize("scorer", [calinski_harabasz_scorer, silhouette_scorer])
def test_unsupervised_grid_search_does_not_pick_the_largest_k(scorer):
    X, _ = band_batch()
    grid = list(range(2, 9))
    search = GridSearchCV(
        KMeansColorSegmenter(random_state=0),
        {"n_clusters": grid},
        scoring=scorer,
        cv=3,
    ).fit(X)
    assert search.best_params_["n_clusters"] != max(grid)
    assert search.best_params_ == {"n_clusters": 4}
    # The segmenter's own score does prefer the largest K: the reason these
    # scorers exist.
    naive = GridSearchCV(
        KMeansColorSegmenter(random_state=0), {"n_clusters": grid}, cv=3
    ).fit(X)
    assert naive.best_params_ == {"n_clusters": max(grid)}


def test_digits_pipeline_grid_search_over_k():
    # Acceptance: a segmenter feeding a classifier, K chosen by the
    # cross-validated accuracy of the pipeline.
    X, y = load_digits(return_X_y=True)
    pipe = Pipeline(
        [
            (
                "seg",
                KMeansColorSegmenter(
                    output="labels", image_shape=(8, 8), random_state=0
                ),
            ),
            ("clf", SVC()),
        ]
    )
    search = GridSearchCV(pipe, {"seg__n_clusters": [2, 3, 4]}, cv=3).fit(X, y)
    assert search.best_score_ > 0.85
    assert search.best_params_["seg__n_clusters"] > 2


# ----------------------------------------------------------------------
# scorer behaviour


def test_adjusted_rand_is_per_image_and_label_permutation_free():
    X, masks = band_batch(n_images=3)
    seg = KMeansColorSegmenter(4, random_state=0).fit(X)
    assert adjusted_rand_scorer(seg, X, masks) == pytest.approx(1.0)
    # Mask ids renamed differently in every image: same score.
    renamed = np.stack([(m + i) % 4 for i, m in enumerate(masks)])
    assert adjusted_rand_scorer(seg, X, renamed) == pytest.approx(1.0)
    # Lists of masks, and flattened images with (n_images, n_pixels) masks.
    assert adjusted_rand_scorer(seg, X, list(masks)) == pytest.approx(1.0)
    flat = X.reshape(3, -1)
    seg_flat = KMeansColorSegmenter(4, image_shape=(32, 32, 3), random_state=0)
    seg_flat.fit(flat)
    assert adjusted_rand_scorer(seg_flat, flat, masks.reshape(3, -1)) == (
        pytest.approx(1.0)
    )
    too_few = KMeansColorSegmenter(2, random_state=0).fit(X)
    assert adjusted_rand_scorer(too_few, X, masks) < 0.9


def test_label_map_scorer_errors():
    X, masks = band_batch(n_images=2)
    seg = KMeansColorSegmenter(4, random_state=0).fit(X)
    with pytest.raises(ValueError, match="pass the masks as y"):
        adjusted_rand_scorer(seg, X, None)
    with pytest.raises(ValueError, match="y has 1 masks, but X has 2 images"):
        adjusted_rand_scorer(seg, X, masks[:1])
    with pytest.raises(ValueError, match="Image 0: the predicted label map has 1024"):
        adjusted_rand_scorer(seg, X, masks[:, :16])


def test_make_label_map_scorer():
    from sklearn.metrics import normalized_mutual_info_score

    X, masks = band_batch(n_images=2)
    seg = KMeansColorSegmenter(4, random_state=0).fit(X)
    nmi = make_label_map_scorer(normalized_mutual_info_score)
    assert nmi.__name__ == "normalized_mutual_info_score_scorer"
    assert nmi(seg, X, masks) == pytest.approx(1.0)


def test_unsupervised_scorers_match_sklearn_on_all_pixels():
    X, _ = band_batch(n_images=2, shape=(24, 24))
    seg = KMeansColorSegmenter(3, random_state=0).fit(X)
    px = X.reshape(-1, 3).astype(float)
    labels = seg.predict(X).ravel()
    assert calinski_harabasz_scorer(seg, X) == pytest.approx(
        calinski_harabasz_score(px, labels)
    )
    # 1152 pixels <= the sample size: the silhouette is exact.
    assert silhouette_scorer(seg, X) == pytest.approx(silhouette_score(px, labels))


def test_unsupervised_scorers_through_pipelines_and_selectors():
    X, _ = band_batch(n_images=2)
    seg = KMeansColorSegmenter(4, random_state=0)
    scaled = Pipeline(
        [("scale", FunctionTransformer(lambda Z: Z / 255.0)), ("seg", seg)]
    ).fit(X)
    direct = clone_fit(seg, X / 255.0)
    assert calinski_harabasz_scorer(scaled, X) == pytest.approx(
        calinski_harabasz_scorer(direct, X / 255.0)
    )
    selector = ElbowKSelector([2, 3, 4, 5], random_state=0).fit(X)
    assert silhouette_scorer(selector, X) == pytest.approx(
        silhouette_scorer(selector.best_estimator_, X)
    )
    with pytest.raises(TypeError, match="not a fitted colour segmenter"):
        calinski_harabasz_scorer(Pipeline([("f", FunctionTransformer())]).fit(X), X)


def clone_fit(est, X):
    from sklearn.base import clone

    return clone(est).fit(X)


def test_unsupervised_scores_are_nan_for_one_cluster():
    X, _ = band_batch(n_images=2)
    one = KMeansColorSegmenter(1).fit(X)
    assert np.isnan(calinski_harabasz_scorer(one, X))
    assert np.isnan(silhouette_scorer(one, X))


def test_silhouette_scorer_samples_large_batches_reproducibly():
    X, _ = band_batch(n_images=12, shape=(40, 40))  # 19 200 pixels > 10 000
    seg = KMeansColorSegmenter(4, random_state=0).fit(X)
    s = silhouette_scorer(seg, X)
    assert s == silhouette_scorer(seg, X)
    exact = silhouette_score(X.reshape(-1, 3).astype(float), seg.predict(X).ravel())
    assert abs(s - exact) < 0.02


# ----------------------------------------------------------------------
# weighted scores (the engine behind both the scorers and ElbowKSelector)


def test_weighted_scores_equal_sklearn_on_expanded_points():
    rng = np.random.default_rng(0)
    px = rng.integers(0, 6, (700, 2)).astype(float)
    colours, inverse, counts = np.unique(
        px, axis=0, return_inverse=True, return_counts=True
    )
    inverse = inverse.ravel()
    labelings = [
        (colours[:, 0] > 2).astype(int),
        ((colours[:, 0] + colours[:, 1]) % 3).astype(int),
        (colours[:, 0] * 7 + colours[:, 1]).astype(int) % 5,
    ]
    sil = weighted_silhouettes(colours, counts, labelings)
    for lab, s in zip(labelings, sil):
        assert_allclose(s, silhouette_score(px, lab[inverse]), rtol=1e-10)
        assert_allclose(
            weighted_calinski_harabasz(colours, counts, lab),
            calinski_harabasz_score(px, lab[inverse]),
            rtol=1e-10,
        )


def test_weighted_scores_degenerate_labelings():
    X = np.array([[0.0], [1.0], [5.0]])
    w = np.array([2.0, 1.0, 3.0])
    one = np.zeros(3, int)
    assert np.isnan(weighted_silhouettes(X, w, [one])[0])
    assert np.isnan(weighted_calinski_harabasz(X, w, one))
    # Every colour its own cluster: no within-cluster dispersion.
    assert weighted_calinski_harabasz(X, w, np.arange(3)) == np.inf


def test_sample_pixels_is_exact_for_small_tables_and_weighted_otherwise():
    rng = np.random.RandomState(0)
    colors = np.arange(10, dtype=np.uint8)[:, None]
    counts = np.arange(1, 11)
    X, w = sample_pixels(colors, counts, 100, rng)
    assert_allclose(w, counts)
    X, w = sample_pixels(colors, counts, 5, np.random.RandomState(0))
    assert w.sum() == 5 and X.shape[0] == w.size
    # Pixels are drawn uniformly: a colour with 99% of them dominates.
    skewed = np.ones(10, np.int64)
    skewed[3] = 1000
    X, w = sample_pixels(colors, skewed, 9, np.random.RandomState(0))
    assert w[X[:, 0] == 3].sum() >= 8
