"""Behaviour of KMeansColorSegmenter: quality, outputs, determinism, API."""

import pickle
import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from skimage import data, transform
from sklearn.cluster import KMeans
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import FeatureUnion, Pipeline

from skseg import KMeansColorSegmenter


@pytest.fixture(scope="module")
def astronaut():
    from skimage import data

    return data.astronaut()


@pytest.fixture(scope="module")
def small_photos(astronaut):
    # Three 96x96 crops of a real photo (many distinct colours).
    return np.stack(
        [astronaut[:96, :96], astronaut[200:296, 200:296], astronaut[-96:, -96:]]
    )


def _wcss(pixels, colors):
    diff = pixels.reshape(-1, pixels.shape[-1]).astype(np.float64) - colors.reshape(
        -1, pixels.shape[-1]
    )
    return float((diff**2).sum())


@pytest.mark.parametrize("k", [3, 5, 7])
def test_astronaut_quantized_has_k_colours_and_wcss_of_kmeans(astronaut, k):
    # Acceptance: exactly K colours, WCSS within 1% of KMeans(n_init=10) on
    # all pixels.
    X = astronaut[None]
    q = KMeansColorSegmenter(k, output="quantized", random_state=0).fit_transform(X)
    assert q.shape == X.shape and q.dtype == np.uint8
    assert len(np.unique(q.reshape(-1, 3), axis=0)) == k
    ref = KMeans(k, n_init=10, random_state=0).fit(
        astronaut.reshape(-1, 3).astype(float)
    )
    assert _wcss(X, q) <= 1.01 * ref.inertia_


def test_inertia_is_the_wcss_over_all_pixels(small_photos):
    seg = KMeansColorSegmenter(4, random_state=0).fit(small_photos)
    labels = seg.predict(small_photos)
    assert_allclose(seg.inertia_, _wcss(small_photos, seg.cluster_centers_[labels]))
    assert_allclose(seg.score(small_photos), -seg.inertia_ / labels.size)


def test_large_table_path_matches_kmeans_on_pixels():
    # > 40k distinct colours: restarts on coresets, exact refinement. The WCSS
    # must match k-means over every pixel.
    rng = np.random.default_rng(0)
    centers = rng.integers(0, 256, (6, 3))
    X = np.clip(
        centers[rng.integers(0, 6, 200_000)] + rng.normal(0, 18, (200_000, 3)), 0, 255
    )
    X = X.astype(np.uint8).reshape(1, 400, 500, 3)
    seg = KMeansColorSegmenter(6, random_state=0).fit(X)
    assert seg._color_table.n_colors > 40_000
    ref = KMeans(6, n_init=10, random_state=0).fit(X.reshape(-1, 3).astype(float))
    assert seg.inertia_ <= 1.002 * ref.inertia_


def test_shared_palette_means_same_label_same_colour(small_photos):
    seg = KMeansColorSegmenter(5, random_state=0).fit(small_photos)
    labels = seg.predict(small_photos)
    q = seg.transform(small_photos)
    for k in range(5):
        colours = np.unique(q[labels == k], axis=0)
        assert len(colours) == 1
        assert_array_equal(colours[0], np.rint(seg.cluster_centers_[k]))


def test_centres_are_sorted_by_brightness(small_photos):
    centers = KMeansColorSegmenter(6, random_state=0).fit(small_photos).cluster_centers_
    brightness = centers.mean(axis=1)
    assert np.all(np.diff(brightness) >= 0)


def test_outputs(small_photos):
    seg = KMeansColorSegmenter(4, random_state=0).fit(small_photos)
    labels = seg.predict(small_photos)
    assert labels.dtype == np.int32 and labels.shape == small_photos.shape[:3]
    assert labels.min() >= 0 and labels.max() < 4

    dist = seg.set_params(output="distances").transform(small_photos)
    assert dist.shape == small_photos.shape[:3] + (4,)
    px = small_photos.reshape(-1, 3).astype(float)
    expected = np.sqrt(((px[:, None, :] - seg.cluster_centers_[None]) ** 2).sum(-1))
    assert_allclose(dist.reshape(-1, 4), expected)
    assert_array_equal(dist.argmin(axis=-1), labels)

    hist = seg.set_params(output="histogram").transform(small_photos)
    assert hist.shape == (3, 4)
    assert_allclose(hist.sum(axis=1), 1.0)
    for i in range(3):
        assert_allclose(
            hist[i], np.bincount(labels[i].ravel(), minlength=4) / labels[i].size
        )

    assert_array_equal(seg.set_params(output="labels").transform(small_photos), labels)


def test_fit_transform_equals_fit_then_transform(small_photos):
    for output in ("quantized", "labels", "distances", "histogram"):
        a = KMeansColorSegmenter(3, output=output, random_state=0).fit_transform(
            small_photos
        )
        b = KMeansColorSegmenter(3, output=output, random_state=0).fit(small_photos)
        assert_array_equal(a, b.transform(small_photos))


@pytest.mark.parametrize("dtype", [np.uint8, np.float32, np.float64])
def test_same_random_state_same_output_for_every_n_jobs(small_photos, dtype):
    X = small_photos.astype(dtype) / (255 if dtype != np.uint8 else 1)
    X = X.astype(dtype)
    results = []
    for n_jobs in (1, 2, 1, None, -1):
        seg = KMeansColorSegmenter(5, random_state=42, n_jobs=n_jobs).fit(X)
        results.append((seg.cluster_centers_, seg.transform(X), seg.predict(X)))
    for centers, q, labels in results[1:]:
        assert_array_equal(centers, results[0][0])
        assert_array_equal(q, results[0][1])
        assert_array_equal(labels, results[0][2])


def test_per_image_output_does_not_depend_on_n_jobs_or_batch(small_photos):
    seg = KMeansColorSegmenter(3, per_image=True, random_state=0)
    full = seg.fit_transform(small_photos)
    par = KMeansColorSegmenter(3, per_image=True, random_state=0, n_jobs=2).fit(
        small_photos
    )
    assert_array_equal(par.transform(small_photos), full)
    # Each image's palette depends on that image only.
    alone = seg.transform(small_photos[1:2])
    assert_array_equal(alone[0], full[1])


def test_per_image_is_the_tutorial_per_image_clustering(small_photos):
    seg = KMeansColorSegmenter(3, per_image=True, random_state=0).fit(small_photos)
    q = seg.transform(small_photos)
    for i, img in enumerate(small_photos):
        own = KMeansColorSegmenter(3, random_state=0).fit(img[None])
        # Same palette as fitting that image alone (seeds differ, optimum does not).
        assert_allclose(
            _wcss(img, q[i]), _wcss(img, own.transform(img[None])[0]), rtol=0.01
        )
        assert len(np.unique(q[i].reshape(-1, 3), axis=0)) == 3
    hist = seg.set_params(output="histogram").transform(small_photos)
    assert hist.shape == (3, 3)
    assert seg.score(small_photos) > KMeansColorSegmenter(3, random_state=0).fit(
        small_photos
    ).score(small_photos)


def test_fit_does_not_depend_on_image_order(small_photos):
    a = KMeansColorSegmenter(4, random_state=0).fit(small_photos)
    b = KMeansColorSegmenter(4, random_state=0).fit(small_photos[::-1])
    assert_array_equal(a.cluster_centers_, b.cluster_centers_)


def test_partial_fit_over_chunks_equals_fit_on_all(small_photos):
    full = KMeansColorSegmenter(4, random_state=0).fit(small_photos)
    inc = KMeansColorSegmenter(4, random_state=0)
    for chunk in (small_photos[:1], small_photos[1:2], small_photos[2:]):
        inc.partial_fit(chunk)
    assert_array_equal(inc.cluster_centers_, full.cluster_centers_)
    assert_allclose(inc.inertia_, full.inertia_)
    # A ragged list chunk merges too.
    ragged = KMeansColorSegmenter(4, random_state=0)
    ragged.partial_fit([small_photos[0], small_photos[1, :50]])
    ragged.partial_fit([small_photos[1, 50:], small_photos[2]])
    assert_array_equal(ragged.cluster_centers_, full.cluster_centers_)


def test_partial_fit_after_fit_continues(small_photos):
    seg = KMeansColorSegmenter(4, random_state=0).fit(small_photos[:2])
    seg.partial_fit(small_photos[2:])
    full = KMeansColorSegmenter(4, random_state=0).fit(small_photos)
    assert_array_equal(seg.cluster_centers_, full.cluster_centers_)


def test_fewer_distinct_colours_than_k_warns_and_sets_n_clusters_():
    X = np.zeros((2, 8, 8, 3), np.uint8)
    X[:, :4] = [255, 0, 0]
    X[1, :, :2] = [0, 0, 255]
    with pytest.warns(
        UserWarning,
        match=r"n_clusters=5 is larger than the number of distinct colours in X \(3\)",
    ):
        seg = KMeansColorSegmenter(5, random_state=0).fit(X)
    assert seg.n_clusters_ == 3
    assert seg.cluster_centers_.shape == (3, 3)
    assert len(np.unique(seg.cluster_centers_, axis=0)) == 3
    assert seg.inertia_ == 0.0
    hist = seg.set_params(output="histogram").transform(X)
    assert hist.shape == (2, 3)
    assert_array_equal(seg.set_params(output="quantized").transform(X), X)
    assert len(seg.set_params(output="histogram").get_feature_names_out()) == 3


def test_explicit_init_is_used(small_photos):
    # Fractional start colours: no pixel is equidistant to two of them.
    init = np.array([[10.3, 20.1, 30.7], [130.2, 120.9, 110.4], [240.6, 230.2, 250.1]])
    seg = KMeansColorSegmenter(3, init=init, max_iter=1, random_state=0).fit(
        small_photos
    )
    assert seg.n_iter_ == 1
    manual = KMeans(3, init=init.astype(float), n_init=1, max_iter=1).fit(
        small_photos.reshape(-1, 3).astype(float)
    )
    # Lloyd's first step from the same start: same centres (sorted by brightness).
    order = np.argsort(manual.cluster_centers_.mean(axis=1))
    assert_allclose(seg.cluster_centers_, manual.cluster_centers_[order])


def test_random_init_works(small_photos):
    seg = KMeansColorSegmenter(4, init="random", random_state=0).fit(small_photos)
    ref = KMeansColorSegmenter(4, random_state=0).fit(small_photos)
    assert seg.inertia_ <= 1.05 * ref.inertia_


def test_get_feature_names_out():
    rng = np.random.default_rng(0)
    X = rng.random((5, 12))
    seg = KMeansColorSegmenter(3, output="histogram", random_state=0).fit(X)
    assert_array_equal(
        seg.get_feature_names_out(),
        ["kmeanscolorsegmenter0", "kmeanscolorsegmenter1", "kmeanscolorsegmenter2"],
    )
    seg.set_params(output="quantized")
    assert_array_equal(seg.get_feature_names_out(), [f"x{i}" for i in range(12)])
    seg = KMeansColorSegmenter(
        2, output="labels", image_shape=(2, 2, 3), random_state=0
    )
    seg.fit(X)
    assert_array_equal(
        seg.get_feature_names_out(), ["label0", "label1", "label2", "label3"]
    )
    seg.set_params(output="distances")
    names = seg.get_feature_names_out()
    assert len(names) == seg.transform(X).shape[1] == 8
    assert names[1] == "pixel0_distance1"
    # fitted on images, image outputs are named by the channels of one pixel
    img = KMeansColorSegmenter(2, random_state=0).fit(rng.random((2, 4, 4, 3)))
    assert_array_equal(
        img.get_feature_names_out(), ["channel0", "channel1", "channel2"]
    )
    assert_array_equal(img.get_feature_names_out(["h", "s", "v"]), ["h", "s", "v"])
    with pytest.raises(ValueError, match=r"fitted on images with 3 channel\(s\)"):
        img.get_feature_names_out(["h", "s"])
    img.set_params(output="labels")
    assert_array_equal(img.get_feature_names_out(), ["label"])
    img.set_params(output="distances")
    assert_array_equal(img.get_feature_names_out(), ["distance0", "distance1"])
    img.set_params(output="histogram")
    assert_array_equal(
        img.get_feature_names_out(["h", "s", "v"]),
        ["kmeanscolorsegmenter0", "kmeanscolorsegmenter1"],
    )


@pytest.mark.parametrize("k, side", [(3, 512), (3, 1024), (32, 1024)])
def test_integer_images_are_not_copied_to_float64(k, side):
    # 512x512 at K = 3: the direct scan; otherwise through the table of
    # distinct colours, whose working arrays scale with the colours (and a
    # label per colour of the cube for a run of 1 Mpx), never a float copy
    # of the pixels.
    import tracemalloc

    from skseg._engine.assign import BY_CODE_MIN_PIXELS, through_table
    from skseg._engine.tables import count_colors

    X = (transform.resize(data.astronaut(), (side, side)) * 255).astype(np.uint8)
    X = X[None]
    n = side * side
    n_colors = count_colors([X.reshape(-1, 3)], X.dtype, 3).n_colors
    seg = KMeansColorSegmenter(k, random_state=0).fit(X)
    seg.transform(X), seg.score(X)  # compile
    float_copy = X.size * 8
    tracemalloc.start()
    q = seg.transform(X)
    labels = seg.predict(X)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.reset_peak()
    seg.score(X)
    _, score_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert q.dtype == np.uint8
    outputs = q.nbytes + labels.nbytes  # uint8 output and int32 labels
    by_code = 2**24 if n >= BY_CODE_MIN_PIXELS else 0  # the label per colour
    # the table's arrays: a few the size of the distinct colours and the
    # 2**24-colour index (8 MiB), whatever the number of pixels
    table = 48 * n_colors + 8 * 2**20
    if not through_table(n, k, with_sse=False):
        assert peak < 0.5 * float_copy, peak  # a fraction of one float64 copy
    else:
        assert peak < outputs + table + by_code, (peak, n_colors)
    if through_table(n, k, with_sse=True):  # by colour rank, and labels
        assert score_peak < labels.nbytes + table, (score_peak, n_colors)
    del labels


def test_pickle_roundtrip(small_photos):
    seg = KMeansColorSegmenter(3, random_state=0).fit(small_photos)
    clone = pickle.loads(pickle.dumps(seg))
    assert_array_equal(clone.transform(small_photos), seg.transform(small_photos))


def test_float_images_in_unit_range(small_photos):
    Xf = small_photos.astype(np.float32) / 255
    a = KMeansColorSegmenter(4, random_state=0).fit(Xf)
    b = KMeansColorSegmenter(4, random_state=0).fit(small_photos)
    assert a.transform(Xf).dtype == np.float32
    assert_allclose(a.cluster_centers_ * 255, b.cluster_centers_, rtol=1e-4, atol=1e-3)


def test_histogram_pipeline_feeds_a_classifier():
    # Three classes of scenes that differ in how much sky, grass and sand
    # they show; the histogram of a shared palette tells them apart.
    rng = np.random.default_rng(0)
    palette = np.array([[90, 150, 230], [60, 160, 60], [220, 200, 150]])
    X, y = [], []
    for i in range(60):
        label = i % 3
        share = np.full(3, 0.2)
        share[label] = 0.6
        px = palette[rng.choice(3, 16 * 16, p=share)] + rng.normal(0, 12, (256, 3))
        X.append(np.clip(px, 0, 255).reshape(16, 16, 3))
        y.append(label)
    X, y = np.asarray(X, np.uint8), np.asarray(y)
    pipe = Pipeline(
        [
            ("seg", KMeansColorSegmenter(3, output="histogram", random_state=0)),
            ("clf", LogisticRegression(max_iter=1000)),
        ]
    )
    scores = cross_val_score(pipe, X, y, cv=3)
    assert scores.mean() > 0.9


def test_in_grid_search_and_feature_union():
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    X, y = X[:240], y[:240]
    union = FeatureUnion(
        [
            (
                "hist",
                KMeansColorSegmenter(
                    3, output="histogram", image_shape=(8, 8), random_state=0
                ),
            ),
            (
                "labels",
                KMeansColorSegmenter(
                    2, output="labels", image_shape=(8, 8), random_state=0
                ),
            ),
        ]
    )
    Z = union.fit_transform(X)
    assert Z.shape == (240, 3 + 64)
    pipe = Pipeline(
        [
            (
                "seg",
                KMeansColorSegmenter(
                    output="labels", image_shape=(8, 8), random_state=0
                ),
            ),
            ("clf", LogisticRegression(max_iter=500)),
        ]
    )
    search = GridSearchCV(pipe, {"seg__n_clusters": [2, 3]}, cv=3).fit(X, y)
    assert search.best_params_["seg__n_clusters"] in (2, 3)
    assert search.best_score_ > 0.5


def test_transform_warns_nothing_on_normal_input(small_photos):
    seg = KMeansColorSegmenter(3, random_state=0).fit(small_photos)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        seg.transform(small_photos)
        seg.predict(list(small_photos))


@pytest.mark.parametrize("per_image", [False, True])
def test_any_joblib_backend_gives_the_same_output(small_photos, per_image):
    # Workers return their results, so process-based backends (and Dask's)
    # give what threads give.
    from joblib import parallel_config

    seg = KMeansColorSegmenter(3, per_image=per_image, random_state=0).fit(small_photos)
    expected = seg.transform(small_photos)
    seg.set_params(n_jobs=2)
    with parallel_config(backend="loky"):
        assert_array_equal(seg.transform(small_photos), expected)
    with parallel_config(backend="threading"):
        assert_array_equal(seg.transform(list(small_photos)), list(expected))


@pytest.fixture(scope="module")
def many_colour_chunks():
    # 12 chunks of a noisy 6-colour scene: > 40k distinct colours in all,
    # so partial_fit takes its warm-started path.
    rng = np.random.default_rng(0)
    centers = rng.integers(30, 226, (6, 3))
    px = centers[rng.integers(0, 6, 12 * 20_000)] + rng.normal(0, 14, (240_000, 3))
    X = np.clip(px, 0, 255).astype(np.uint8).reshape(12, 100, 200, 3)
    return X


def test_partial_fit_warm_start_stays_within_wcss_of_fit(many_colour_chunks):
    X = many_colour_chunks
    full = KMeansColorSegmenter(6, random_state=0).fit(X)
    inc = KMeansColorSegmenter(6, random_state=0)
    inertias = []
    for chunk in X:
        inc.partial_fit(chunk[None])
        inertias.append(inc.inertia_)
    assert inc._color_table.n_colors >= 40_000
    # the running table is the whole table
    merged = inc._color_table
    assert_array_equal(merged.colors, full._color_table.colors)
    assert_array_equal(merged.counts, full._color_table.counts)
    # the WCSS of the returned centres over every pixel: within 0.1% of fit's
    labels = inc.predict(X)
    exact = _wcss(X, inc.cluster_centers_[labels])
    assert exact <= 1.001 * full.inertia_
    # inertia_ is that WCSS, never a bound
    assert_allclose(inc.inertia_, exact, rtol=1e-9)


def test_partial_fit_exact_pass_gives_exact_inertia(many_colour_chunks):
    X = many_colour_chunks
    inc = KMeansColorSegmenter(6, random_state=0)
    inc.partial_fit(X[:3])  # first call: a fit of its own
    inc.partial_fit(X[3:12])  # pixels x4: an exact pass on the merged table
    labels = inc.predict(X)
    assert_allclose(inc.inertia_, _wcss(X, inc.cluster_centers_[labels]), rtol=1e-9)


def test_partial_fit_refits_when_n_clusters_changes_and_fit_resets(
    many_colour_chunks,
):
    X = many_colour_chunks
    inc = KMeansColorSegmenter(6, random_state=0)
    inc.partial_fit(X[:2])
    inc.partial_fit(X[2:4])
    inc.set_params(n_clusters=4).partial_fit(X[4:6])
    assert inc.cluster_centers_.shape == (4, 3)
    assert_array_equal(
        inc.cluster_centers_,
        KMeansColorSegmenter(4, random_state=0).fit(X[:6]).cluster_centers_,
    )
    inc.fit(X[:1])  # fit starts over: no stream left from partial_fit
    assert inc._stream is None
    assert_array_equal(
        inc.cluster_centers_,
        KMeansColorSegmenter(4, random_state=0).fit(X[:1]).cluster_centers_,
    )
