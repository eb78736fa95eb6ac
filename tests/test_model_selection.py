"""ElbowKSelector and the knee rule: acceptance data, curve, warnings, API."""

import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.base import clone

from skseg import KMeansColorSegmenter
from skseg._engine.lloyd import _grow
from skseg._engine.strategy import fit_palette, fit_palette_path
from skseg._engine.tables import count_colors
from skseg.model_selection import ElbowKSelector, locate_knee


def band_image(k, seed, shape=(64, 64), sd=10.0, min_dist=60.0):
    """k flat vertical colour bands + Gaussian noise, (h, w, 3) uint8.

    The acceptance data: k colours drawn uniformly in the RGB cube with
    pairwise distances >= min_dist, noise sd 10 on the 0-255 scale.
    """
    rng = np.random.default_rng(seed)
    while True:
        colours = rng.uniform(0, 255, (k, 3))
        d = np.sqrt(((colours[:, None] - colours[None]) ** 2).sum(-1))
        if k == 1 or d[np.triu_indices(k, 1)].min() >= min_dist:
            break
    h, w = shape
    img = colours[np.arange(w) * k // w][None].repeat(h, axis=0)
    img = img + rng.normal(0, sd, img.shape)
    return np.clip(np.rint(img), 0, 255).astype(np.uint8)


def _wcss(pixels, centers):
    px = pixels.reshape(-1, centers.shape[1]).astype(np.float64)
    d2 = ((px[:, None, :] - centers[None]) ** 2).sum(-1)
    return float(d2.min(axis=1).sum())


@pytest.fixture(scope="module")
def photo():
    from skimage import data

    # 40k+ distinct colours: the coreset path of the engine.
    return data.astronaut()[100:356, 100:356]


# ----------------------------------------------------------------------
# acceptance: k colour bands + noise


@pytest.mark.parametrize("k", range(2, 8))
def test_band_images_knee_is_the_number_of_bands(k):
    # Acceptance: n_clusters_ == k on every image, k = 2..7, several seeds,
    # with no warning. (kneed on the raw WCSS answers 4 for k = 5, 6, 7.)
    for seed in range(5):
        X = band_image(k, seed)[None]
        with warnings.catch_warnings():
            warnings.simplefilter("error", UserWarning)
            selector = ElbowKSelector(random_state=seed).fit(X)
        assert selector.n_clusters_ == k, (k, seed, selector.inertias_)


@pytest.mark.parametrize("metric", ["silhouette", "calinski_harabasz"])
def test_separation_indices_find_the_bands(metric):
    X = band_image(4, 0)[None]
    selector = ElbowKSelector(metric=metric, random_state=0).fit(X)
    assert selector.n_clusters_ == 4
    # Undefined for K = 1: NaN there, never chosen.
    assert np.isnan(selector.scores_[0])
    assert np.all(np.isfinite(selector.scores_[1:]))
    assert selector.scores_[3] == np.nanmax(selector.scores_)
    assert_array_equal(selector.k_values_, np.arange(1, 11))


# ----------------------------------------------------------------------
# the curve


@pytest.mark.filterwarnings("ignore:No knee:UserWarning")
def test_curve_is_exact_monotone_and_default_range(photo):
    X = photo[None]
    selector = ElbowKSelector(random_state=0).fit(X)
    assert_array_equal(selector.k_values_, np.arange(1, 11))
    assert_array_equal(selector.scores_, selector.inertias_)
    assert np.all(np.diff(selector.inertias_) < 0)
    # Every value is the exact WCSS over all pixels of the palette of that K.
    for k, centers, w in zip(
        selector.k_values_, selector.palettes_, selector.inertias_
    ):
        assert centers.shape == (k, 3)
        assert_allclose(w, _wcss(photo, centers), rtol=1e-9)
    best = selector.best_estimator_
    assert best.n_clusters == selector.n_clusters_
    assert best.inertia_ == selector.inertias_[selector.best_index_]
    assert_array_equal(best.cluster_centers_, selector.palettes_[selector.best_index_])


def test_curve_matches_single_fits(photo):
    # The shared coresets and warm starts lose nothing against fitting each K
    # on its own with the same number of restarts.
    table = count_colors([photo.reshape(-1, 3)], np.uint8, 3)
    path = fit_palette_path(table, range(2, 9), random_state=0)
    for k, pal in zip(range(2, 9), path):
        single = fit_palette(table, k, random_state=0)
        assert pal.inertia <= 1.002 * single.inertia


def test_curve_is_monotone_even_with_poor_restarts():
    # One random restart per K: fitted one K at a time the curve goes up
    # somewhere; the path never does (warm starts + the final repair).
    rng = np.random.default_rng(0)
    centres = rng.uniform(0, 255, (12, 3))
    px = np.clip(
        centres[rng.integers(0, 12, 6000)] + rng.normal(0, 6, (6000, 3)), 0, 255
    )
    table = count_colors([px.astype(np.uint8)], np.uint8, 3)
    ks = list(range(1, 16))
    rises = 0
    for seed in range(5):
        single = [
            fit_palette(table, k, init="random", n_init=1, random_state=seed).inertia
            for k in ks
        ]
        rises += int(np.any(np.diff(single) > 0))
        path = fit_palette_path(table, ks, init="random", n_init=1, random_state=seed)
        assert np.all(np.diff([p.inertia for p in path]) < 0)
    assert rises > 0  # the test data do provoke non-monotone single fits


def test_grow_adds_the_worst_served_point_and_lowers_the_wcss():
    X = np.array([[0.0], [1.0], [10.0], [30.0]])
    w = np.array([1.0, 1.0, 20.0, 1.0])
    start = np.array([[0.5]])
    # w * d^2 from 0.5: 0.25, 0.25, 20 * 90.25, 1 * 870.25 -> the point at 10;
    # then 30 (d^2 = 400 to its nearest centre, 10).
    grown = _grow(X, w, start, 3)
    assert_allclose(grown, [[0.5], [10.0], [30.0]])

    def wcss(c):
        return float(w @ ((X - c.T) ** 2).min(axis=1))

    assert wcss(grown[:2]) < wcss(start) and wcss(grown) < wcss(grown[:2])


def test_path_order_and_n_jobs_do_not_change_results():
    X = band_image(5, 3)[None]
    a = ElbowKSelector(random_state=0).fit(X)
    b = ElbowKSelector(random_state=0, n_jobs=2).fit(X)
    assert_array_equal(a.inertias_, b.inertias_)
    assert a.n_clusters_ == b.n_clusters_
    # k_values in any order: scores_ follow that order.
    c = ElbowKSelector([8, 2, 5, 3], random_state=0).fit(X)
    assert_array_equal(c.k_values_, [8, 2, 5, 3])
    assert c.n_clusters_ == 5 and c.best_index_ == 2
    assert np.all(c.inertias_[[1, 3, 2, 0]][:-1] > c.inertias_[[1, 3, 2, 0]][1:])


# ----------------------------------------------------------------------
# the knee rule: no knee, edges, degenerate curves


def test_locate_knee_on_a_clear_knee():
    wcss = [1000, 420, 160, 40, 38, 36, 34.5, 33, 32, 31]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert locate_knee(range(1, 11), wcss) == 4
        # Scale free: units do not matter.
        assert locate_knee(range(1, 11), np.multiply(wcss, 1e9)) == 4


def test_no_knee_on_uniform_noise_warns_and_falls_back():
    # Documented fallback: the smallest K explaining 90% of the variance, or
    # the largest K if none does (uniform noise: none).
    rng = np.random.default_rng(0)
    X = rng.integers(0, 256, (1, 64, 64, 3)).astype(np.uint8)
    with pytest.warns(
        UserWarning, match="No knee in the WCSS curve over k_values=1..10"
    ):
        selector = ElbowKSelector(random_state=0).fit(X)
    explained = 1 - selector.inertias_ / selector.inertias_[0]
    assert explained.max() < 0.9
    assert selector.n_clusters_ == 10


def test_no_knee_fallback_is_the_smallest_k_explaining_90_percent():
    # A power law has no knee on log-log axes: W = K**-2 explains 90% of the
    # variance from K = 4 on.
    ks = np.arange(1, 11)
    with pytest.warns(UserWarning, match="No knee.*at most 10% of the total.*K=4"):
        assert locate_knee(ks, ks**-2.0) == 4


def test_knee_at_the_smallest_k_of_the_range():
    # 4 bands tried from K = 4: no bend inside the range; the fallback
    # returns the smallest K, which explains > 90% of the variance.
    X = band_image(4, 0)[None]
    with pytest.warns(UserWarning, match="No knee"):
        selector = ElbowKSelector(range(4, 11), random_state=0).fit(X)
    assert selector.n_clusters_ == 4


def test_straight_line_is_still_falling_at_the_upper_edge():
    with pytest.warns(UserWarning, match="still falling steeply at the largest K"):
        assert locate_knee(range(1, 11), 100 - 9.0 * np.arange(10)) == 10


def test_knee_beyond_the_range_returns_the_largest_k():
    # 12 bands, K = 1..10: every K still merges bands.
    X = band_image(12, 0, shape=(48, 96))[None]
    with pytest.warns(UserWarning, match="knee may lie beyond the range"):
        selector = ElbowKSelector(random_state=0).fit(X)
    assert selector.n_clusters_ == 10


def test_knee_cannot_be_located_with_two_values():
    with pytest.warns(UserWarning, match="A knee needs at least 3 values of K"):
        assert locate_knee([2, 3], [50.0, 40.0], total_ss=100.0) == 3
    with pytest.warns(UserWarning, match="A knee needs at least 3 values of K"):
        assert locate_knee([2, 3], [5.0, 4.0], total_ss=100.0) == 2


def test_single_k_and_exact_fits_need_no_knee():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert locate_knee([5], [10.0]) == 5
        assert locate_knee([1, 2, 3, 4], [9.0, 3.0, 0.0, 0.0]) == 3


@pytest.mark.parametrize(
    "ks, wcss, match",
    [
        ([1, 2], [1.0], "same non-zero length"),
        ([], [], "same non-zero length"),
        ([2, 1, 3], [3.0, 2.0, 1.0], "must be increasing"),
        ([1, 2, 3], [3.0, np.nan, 1.0], "finite and non-negative"),
        ([1, 2, 3], [3.0, -1.0, 1.0], "finite and non-negative"),
    ],
)
def test_locate_knee_validation(ks, wcss, match):
    with pytest.raises(ValueError, match=match):
        locate_knee(ks, wcss)


# ----------------------------------------------------------------------
# parameters and data edge cases


@pytest.mark.parametrize(
    "k_values, match",
    [
        ([0, 2, 3], "must be positive"),
        ([-1, 2], "must be positive"),
        ([], "non-empty 1-D"),
        ([[1, 2], [3, 4]], "non-empty 1-D"),
        ([2, 3, 3], "must be distinct"),
        ([1.5, 2], "must contain integers"),
        (["a", "b"], "must contain integers"),
    ],
)
def test_k_values_validation(k_values, match):
    X = band_image(3, 0)[None]
    with pytest.raises(ValueError, match=match):
        ElbowKSelector(k_values).fit(X)


def test_float_integral_k_values_are_accepted():
    X = band_image(3, 0)[None]
    selector = ElbowKSelector(np.array([1.0, 2.0, 3.0, 4.0]), random_state=0).fit(X)
    assert selector.k_values_.dtype.kind == "i"
    assert selector.n_clusters_ == 3


def test_metric_and_segmenter_validation():
    X = band_image(3, 0)[None]
    with pytest.raises(ValueError, match="'metric' parameter"):
        ElbowKSelector(metric="gap").fit(X)
    from sklearn.cluster import KMeans

    with pytest.raises(ValueError, match="'segmenter' parameter"):
        ElbowKSelector(segmenter=KMeans()).fit(X)
    with pytest.raises(ValueError, match="'n_init' parameter"):
        ElbowKSelector(segmenter=KMeansColorSegmenter(n_init=0)).fit(X)
    init = np.zeros((3, 3))
    with pytest.raises(ValueError, match="init must be 'k-means\\+\\+' or 'random'"):
        ElbowKSelector(segmenter=KMeansColorSegmenter(3, init=init)).fit(X)


def test_k_above_the_number_of_colours_is_clipped_with_a_warning():
    colours = np.array([[200, 30, 30], [20, 40, 180], [30, 200, 40]], np.uint8)
    X = colours[np.arange(30) % 3].reshape(1, 5, 6, 3)
    with pytest.warns(UserWarning, match="above the number of distinct colours in X"):
        selector = ElbowKSelector(random_state=0).fit(X)
    assert_array_equal(selector.k_values_, [1, 2, 3])
    assert selector.n_clusters_ == 3  # WCSS 0: an exact fit, no knee needed
    assert selector.inertias_[-1] == 0
    with pytest.warns(UserWarning, match="replaced by 3: trying K in \\[3\\]"):
        selector = ElbowKSelector([5, 6], random_state=0).fit(X)
    assert_array_equal(selector.k_values_, [3])


def test_segmenter_template_is_cloned_not_mutated():
    template = KMeansColorSegmenter(3, output="labels", n_init=4)
    params = template.get_params()
    X = band_image(4, 1)[None]
    selector = ElbowKSelector(segmenter=template, random_state=0).fit(X)
    assert template.get_params() == params
    assert not hasattr(template, "cluster_centers_")
    best = selector.best_estimator_
    assert best is not template
    assert best.get_params() == {**params, "n_clusters": 4, "random_state": 0}


def test_transform_predict_score_delegate():
    X = band_image(4, 2)[None]
    template = KMeansColorSegmenter(output="labels")
    selector = ElbowKSelector(segmenter=template, random_state=0).fit(X)
    best = selector.best_estimator_
    assert_array_equal(selector.transform(X), best.transform(X))
    assert_array_equal(selector.predict(X), best.predict(X))
    assert selector.transform(X).shape == (1, 64, 64)
    assert selector.score(X) == best.score(X)
    assert_array_equal(selector.fit_transform(X), best.transform(X))
    histogram = clone(selector).set_params(
        segmenter=KMeansColorSegmenter(output="histogram")
    )
    assert histogram.fit(X).transform(X).shape == (1, 4)
    assert_array_equal(
        histogram.get_feature_names_out(),
        [f"kmeanscolorsegmenter{i}" for i in range(4)],
    )


@pytest.mark.filterwarnings("ignore:No knee:UserWarning")
def test_flattened_and_ragged_input():
    from sklearn.datasets import load_digits

    X = load_digits().data[:200]
    seg = KMeansColorSegmenter(image_shape=(8, 8))
    selector = ElbowKSelector(segmenter=seg, random_state=0).fit(X)
    assert selector.n_features_in_ == 64
    assert selector.transform(X).shape == X.shape
    images = [band_image(3, 0, (20, 30)), band_image(3, 0, (24, 16))]
    selector = ElbowKSelector(random_state=0).fit(images)
    assert selector.n_clusters_ == 3
    assert not hasattr(selector, "n_features_in_")
    out = selector.transform(images)
    assert isinstance(out, list) and out[1].shape == (24, 16, 3)


@pytest.mark.filterwarnings("ignore:No knee:UserWarning")
def test_same_random_state_same_result(photo):
    a = ElbowKSelector(random_state=7, metric="silhouette").fit(photo[None])
    b = ElbowKSelector(random_state=7, metric="silhouette").fit(photo[None])
    assert_array_equal(a.scores_, b.scores_)
    assert_array_equal(a.inertias_, b.inertias_)


# ----------------------------------------------------------------------
# plot


def test_plot_draws_the_curve_and_marks_the_choice():
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    X = band_image(4, 0)[None]
    selector = ElbowKSelector(random_state=0).fit(X)
    fig, ax = plt.subplots()
    try:
        out = selector.plot(ax=ax)
        assert out is ax
        labels = [line.get_label() for line in ax.get_lines()]
        assert "K = 4" in labels
        curve = ax.get_lines()[0]
        assert_array_equal(curve.get_xdata(), np.arange(1, 11))
        assert_allclose(curve.get_ydata(), selector.inertias_)
        # the dashed vertical line at the chosen K
        assert any(
            np.all(np.asarray(line.get_xdata()) == 4) for line in ax.get_lines()[1:]
        )
        assert "K = 4" in ax.get_title()
        # NaN scores (K = 1 for the silhouette) are left out.
        sil = ElbowKSelector(metric="silhouette", random_state=0).fit(X)
        plt.figure()
        ax2 = sil.plot()  # the current Axes
        assert ax2 is plt.gca() and ax2 is not ax
        assert_array_equal(ax2.get_lines()[0].get_xdata(), np.arange(2, 11))
    finally:
        plt.close("all")


def test_plot_before_fit_raises():
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        ElbowKSelector().plot()
