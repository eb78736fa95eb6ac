"""Large palettes (Hamerly Lloyd, table lookup) and the float coreset path."""

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.cluster import KMeans

import skseg.segmentation as segmentation
from skseg import KMeansColorSegmenter
from skseg._engine.assign import assign_labels, assign_labels_rgb8
from skseg._engine.hamerly import hamerly
from skseg._engine.lloyd import _lloyd
from skseg._engine.strategy import LARGE_K, fit_palette, n_large_restarts
from skseg._engine.tables import count_colors


def _brute_wcss(px, centers):
    px = px.reshape(-1, px.shape[-1]).astype(np.float64)
    d2 = ((px[:, None, :] - centers[None, :, :]) ** 2).sum(axis=2)
    return float(d2.min(axis=1).sum())


def _photo_like(n, seed=0):
    # Smooth colour gradients plus noise: many distinct, clustered colours.
    rng = np.random.default_rng(seed)
    t = rng.random(n)
    base = np.stack([255 * t, 128 + 100 * np.sin(6 * t), 255 * (1 - t) ** 2], 1)
    return np.clip(base + rng.normal(0, 12, (n, 3)), 0, 255).astype(np.uint8)


def test_hamerly_is_lloyd():
    # Same iterations as the plain weighted Lloyd: same centres and WCSS.
    rng = np.random.default_rng(1)
    X = rng.normal(size=(3000, 3)) * [30, 10, 5]
    w = rng.integers(1, 20, 3000).astype(np.float64)
    init = X[rng.choice(3000, 40, replace=False)]
    ref = _lloyd(X, w, init, 300, 1e-6)
    got = hamerly(X, w, init, 300, 1e-6)
    assert got[2] == ref[2]
    assert_allclose(got[0], ref[0], rtol=1e-10, atol=1e-10)
    assert got[1] == pytest.approx(ref[1], rel=1e-10)
    # labels are the nearest centres of the returned palette
    d2 = ((X[:, None] - got[0][None]) ** 2).sum(2)
    assert_array_equal(got[3], d2.argmin(1))


@pytest.mark.parametrize("k", [2, 3, 7, 100])
@pytest.mark.parametrize("c", [1, 3, 4])
def test_hamerly_matches_lloyd_for_any_k_and_channels(k, c):
    # The bounds (second-centre, others, local) never skip a point whose
    # nearest centre changed: same iterations as plain Lloyd.
    rng = np.random.default_rng(10 * k + c)
    X = rng.normal(size=(5000, c)) * rng.uniform(1, 30, c)
    w = rng.integers(1, 9, 5000).astype(np.float64)
    init = X[rng.choice(5000, k, replace=False)]
    ref = _lloyd(X, w, init, 300, 0.0)
    got = hamerly(X, w, init, 300, 0.0)
    assert got[2] == ref[2]
    assert_allclose(got[0], ref[0], rtol=1e-9, atol=1e-9)
    d2 = ((X[:, None] - got[0][None]) ** 2).sum(2)
    assert_array_equal(got[3], d2.argmin(1))


def test_hamerly_empty_cluster_moves_to_worst_served_point():
    # Two centres start on the same side: one ends up empty at the first
    # step and is moved, as _lloyd does.
    X = np.array([[0.0], [1.0], [10.0], [11.0], [30.0]])
    w = np.ones(5)
    init = np.array([[0.5], [100.0], [101.0]])
    ref = _lloyd(X, w, init, 100, 0.0)
    got = hamerly(X, w, init, 100, 0.0)
    assert_allclose(np.sort(got[0].ravel()), np.sort(ref[0].ravel()))
    assert got[1] == pytest.approx(ref[1])


@pytest.mark.parametrize("k", [2, 17, 64, 256])
def test_cell_candidates_label_as_the_full_scan_bitwise(k):
    # every colour on a cell's faces and corners, random colours, and
    # centres placed to tie: duplicates, and centres mirrored about a cell
    # face (equidistant from the colours on it)
    from skseg._engine.assign import CELL_BITS, _label_codes, cell_candidates

    rng = np.random.default_rng(k)
    edges = np.array([0, 15, 16, 31, 32, 127, 128, 240, 255])
    grid = np.stack(np.meshgrid(edges, edges, edges, indexing="ij"), -1).reshape(-1, 3)
    colors = np.unique(np.vstack([grid, rng.integers(0, 256, (20000, 3))]), axis=0)
    centers = rng.integers(0, 256, (k, 3)).astype(np.float64)
    centers[-1] = centers[0]  # a duplicate centre: ties go to the lower index
    if k > 2:
        centers[1] = [15.5 - 3.0, 100.0, 100.0]
        centers[2] = [15.5 + 3.0, 100.0, 100.0]
    centers[k // 2] += 0.5
    codes = (colors[:, 0] << 16) | (colors[:, 1] << 8) | colors[:, 2]
    starts, items = cell_candidates(centers)
    labels, d2 = np.empty(len(codes), np.int32), np.empty(len(codes))
    shift = 8 - CELL_BITS
    _label_codes(
        codes.astype(np.uint32), centers, starts, items, shift, labels, d2, False
    )
    ref = np.empty(len(colors), np.int32)
    assign_labels(colors.astype(np.uint8), centers, ref)
    assert_array_equal(labels, ref)
    diff = colors - centers[ref]
    assert_array_equal(d2, (diff.astype(np.float64) ** 2).sum(1))
    # a cell's candidates are few, and never empty
    assert (np.diff(starts) >= 1).all()
    if k == 256:
        assert np.diff(starts).mean() < 40
    # the slabs of cells on threads: the same lists
    for got, want in zip(cell_candidates(centers, n_threads=3), (starts, items)):
        assert_array_equal(got, want)


def test_lookup_labels_equal_direct_assignment_bitwise():
    px = _photo_like(200_000)
    rng = np.random.default_rng(3)
    centers = px[rng.choice(len(px), 100, replace=False)].astype(np.float64) + 0.25
    got = np.empty(len(px), np.int32)
    ref = np.empty(len(px), np.int32)
    sse_got = assign_labels_rgb8(px, centers, got)
    sse_ref = assign_labels(px, centers, ref)
    assert_array_equal(got, ref)
    assert sse_got == pytest.approx(sse_ref, rel=1e-12)


@pytest.mark.parametrize("k", [2, 3, 4, 8, 16])
def test_small_palette_lookup_equals_direct_assignment_bitwise(k):
    # K <= 16 through the table (labels and quantized output; the SSE too
    # when asked): the direct scan's labels, ties (a duplicated centre)
    # included
    px = _photo_like(200_000, seed=k)
    rng = np.random.default_rng(k)
    centers = px[rng.choice(len(px), k, replace=False)].astype(np.float64) + 0.25
    centers[-1] = centers[0]
    colors = np.clip(np.rint(centers), 0, 255).astype(np.uint8)
    got, out = np.empty(len(px), np.int32), np.empty_like(px)
    ref = np.empty(len(px), np.int32)
    assert assign_labels_rgb8(px, centers, got, colors, out, with_sse=False) is None
    assign_labels(px, centers, ref)
    assert_array_equal(got, ref)
    assert_array_equal(out, colors[ref])
    assert not (got == k - 1).any()
    sse = assign_labels_rgb8(px, centers, got)
    assert sse == pytest.approx(assign_labels(px, centers, ref), rel=1e-12)
    # the quantized colours alone (no labels written), on 1 and 2 threads
    for n_threads in (1, 2):
        alone = np.zeros_like(px)
        assign_labels_rgb8(px, centers, None, colors, alone, n_threads, False)
        assert_array_equal(alone, colors[ref])


@pytest.mark.parametrize("min_region_size", [None, 4])
def test_quantized_output_through_the_table_in_runs_is_the_labels_colours(
    min_region_size,
):
    # transform(output="quantized") writes no labels through the table
    # unless region merging needs them; split in runs of images (n_jobs=2)
    # or not, it is the palette's colours at predict's labels
    from skseg._engine.assign import LOOKUP_MIN_WORK

    assert 1024 * 768 * 16 >= LOOKUP_MIN_WORK  # each image through the table
    X = _photo_like(2 * 1024 * 768, seed=7).reshape(2, 1024, 768, 3)
    seg = KMeansColorSegmenter(16, random_state=0, min_region_size=min_region_size)
    seg.fit(X)
    colors = np.rint(seg.cluster_centers_).astype(np.uint8)
    for n_jobs in (None, 2):
        seg.set_params(n_jobs=n_jobs)
        labels = seg.predict(X)
        assert_array_equal(seg.transform(X), colors[labels])
        assert_array_equal(seg.transform(list(X)), list(colors[labels]))


def test_small_palette_transforms_through_the_table_match_score(monkeypatch):
    # transform/predict take the table at K = 8 (pixels x K above
    # LOOKUP_MIN_WORK), score the direct scan: the labels and the WCSS agree
    from skseg._engine.assign import LOOKUP_MIN_WORK

    assert 1024 * 1024 * 8 >= LOOKUP_MIN_WORK
    X = _photo_like(1024 * 1024, seed=5).reshape(1, 1024, 1024, 3)
    seg = KMeansColorSegmenter(8, random_state=0).fit(X)
    calls = []
    real = segmentation.assign_labels_rgb8

    def spy(*args, **kwargs):
        calls.append(kwargs.get("with_sse"))
        return real(*args, **kwargs)

    monkeypatch.setattr(segmentation, "assign_labels_rgb8", spy)
    labels = seg.predict(X).reshape(-1)
    ref = np.empty(labels.size, np.int32)
    sse = assign_labels(X.reshape(-1, 3), seg.cluster_centers_, ref)
    assert_array_equal(labels, ref)
    quantized = seg.transform(X).reshape(-1, 3)
    assert_array_equal(quantized, np.rint(seg.cluster_centers_[ref]).astype(np.uint8))
    assert -seg.score(X) * labels.size == pytest.approx(sse, rel=1e-12)
    assert calls == [False, False]  # predict and transform; not score
    # a small image keeps the direct scan (the table's fixed cost)
    seg.predict(X[:, :64, :64])
    assert calls == [False, False]


def test_segmenter_large_k_predict_and_inertia_exact():
    px = _photo_like(120_000, seed=4)
    X = px.reshape(1, 300, 400, 3)
    seg = KMeansColorSegmenter(n_clusters=48, random_state=0).fit(X)
    assert seg.n_clusters_ == 48
    # inertia_ is the exact WCSS over all pixels of the returned palette
    assert seg.inertia_ == pytest.approx(_brute_wcss(px, seg.cluster_centers_), 1e-10)
    labels = seg.predict(X).reshape(-1)
    ref = np.empty(len(px), np.int32)
    assign_labels(px, seg.cluster_centers_, ref)
    assert_array_equal(labels, ref)
    assert seg.score(X) == pytest.approx(-seg.inertia_ / len(px), rel=1e-9)


def test_large_k_close_to_sklearn_weighted_on_the_table():
    # Tables above CORESET_MIN_COLORS go through coresets; the result stays
    # within 1% of scikit-learn's weighted k-means (n_init=3) on the table.
    px = _photo_like(400_000, seed=5)
    table = count_colors([px], px.dtype, 3)
    assert table.n_colors > 40_000
    k = 40
    palette = fit_palette(table, k, random_state=0)
    colors = table.colors.astype(np.float64)
    km = KMeans(k, n_init=3, random_state=0).fit(colors, sample_weight=table.counts)
    assert palette.inertia <= 1.01 * km.inertia_
    assert palette.inertia == pytest.approx(_brute_wcss(px, palette.centers), 1e-9)


def test_small_table_large_k_matches_sklearn():
    px = _photo_like(20_000, seed=6)
    table = count_colors([px], px.dtype, 3)
    k = LARGE_K + 8
    palette = fit_palette(table, k, random_state=0, n_init=10)
    colors = table.colors.astype(np.float64)
    km = KMeans(k, n_init=10, random_state=0).fit(colors, sample_weight=table.counts)
    assert palette.inertia <= 1.01 * km.inertia_


def test_n_large_restarts():
    assert n_large_restarts(17, 10) == 10
    assert n_large_restarts(64, 10) == 10
    assert n_large_restarts(128, 10) == 3
    assert n_large_restarts(256, 10) == 1
    assert n_large_restarts(256, 1) == 1


# --------------------------------------------------------------------------
# float images


@pytest.fixture
def small_float_threshold(monkeypatch):
    monkeypatch.setattr(segmentation, "FLOAT_MIN_PIXELS", 10_000)


def test_float_path_inertia_exact_and_error_bound(small_float_threshold):
    rng = np.random.default_rng(7)
    X = rng.random((2, 120, 150, 3), dtype=np.float32)
    X[0, :60] *= 0.3
    seg = KMeansColorSegmenter(n_clusters=6, random_state=0).fit(X)
    px = X.reshape(-1, 3)
    assert seg.inertia_ == pytest.approx(_brute_wcss(px, seg.cluster_centers_), 1e-9)
    km = KMeans(6, n_init=3, random_state=0).fit(px.astype(np.float64))
    assert seg.inertia_ <= 1.01 * km.inertia_
    # the fitted table is the coreset: pixel counts add up
    assert seg._color_table.counts.sum() == px.shape[0]
    labels = seg.predict(X)
    assert labels.shape == X.shape[:3]


def test_float_path_does_not_depend_on_threads(small_float_threshold, monkeypatch):
    # the passes with small accumulators cut a run into pieces of
    # PASS_PIECE pixels on the fit's threads, combined in piece order: 1 and
    # 3 threads give the same palette and WCSS, bitwise, and the WCSS is the
    # one over all pixels
    from skseg._engine import floatpath

    monkeypatch.setattr(floatpath, "PASS_PIECE", 8 * 512)
    assert floatpath.PASS_PIECE % floatpath.SUBSAMPLE == 0
    rng = np.random.default_rng(10)
    X = rng.random((1, 150, 160, 3), dtype=np.float32)
    X[0, :70] *= 0.4
    # the grid pass too: several pieces, shared out by pixels then by cells
    monkeypatch.setattr(floatpath, "GRID_PIECE", 5000)
    fits = []
    for n_threads in (1, 3):
        monkeypatch.setattr(segmentation, "fit_threads", lambda n=n_threads: n)
        monkeypatch.setattr(floatpath, "fit_threads", lambda n=n_threads: n)
        fits.append(KMeansColorSegmenter(n_clusters=5, random_state=0).fit(X))
    assert_array_equal(fits[0].cluster_centers_, fits[1].cluster_centers_)
    assert fits[0].inertia_ == fits[1].inertia_
    assert_array_equal(fits[0]._color_table.colors, fits[1]._color_table.colors)
    assert_array_equal(fits[0]._color_table.counts, fits[1]._color_table.counts)
    px = X.reshape(-1, 3)
    wcss = _brute_wcss(px, fits[0].cluster_centers_)
    assert fits[0].inertia_ == pytest.approx(wcss, 1e-9)


@pytest.mark.parametrize("n_threads", [1, 2, 3])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_grid_pass_adds_each_cell_in_pixel_order(monkeypatch, n_threads, dtype):
    # counts and sums of every cell bit for bit those of adding the pixels
    # one by one in pixel order (np.add.at), whatever the threads and pieces
    from skseg._engine import floatpath

    monkeypatch.setattr(floatpath, "GRID_PIECE", 4000)
    monkeypatch.setattr(floatpath, "fit_threads", lambda: n_threads)
    rng = np.random.default_rng(11)
    px = rng.random((13_001, 3)).astype(dtype)
    px[:5000] *= 0.2  # a dense corner, and empty cells
    per_axis = 16
    lo = px.min(0).astype(np.float64)
    scale = per_axis / (px.max(0) - lo)
    acc = floatpath._grid_init(per_axis**3, 3)
    floatpath._grid_kernel(lo, scale, per_axis, px, acc)
    idx = np.clip(((px - lo) * scale).astype(np.int64), 0, per_axis - 1)
    cells = (idx[:, 0] * per_axis + idx[:, 1]) * per_axis + idx[:, 2]
    wsum, sums = np.zeros(per_axis**3), np.zeros((per_axis**3, 3))
    np.add.at(wsum, cells, 1.0)
    for f in range(3):
        np.add.at(sums[:, f], cells, px[:, f].astype(np.float64))
    assert_array_equal(acc[0], wsum)
    assert_array_equal(acc[1], sums)


def test_float_path_same_result_for_list_and_strided_input(small_float_threshold):
    rng = np.random.default_rng(8)
    X = rng.random((2, 100, 120, 3))
    a = KMeansColorSegmenter(n_clusters=4, random_state=0).fit(X)
    b = KMeansColorSegmenter(n_clusters=4, random_state=0).fit(list(X))
    c = KMeansColorSegmenter(n_clusters=4, random_state=0).fit(np.asfortranarray(X))
    assert_allclose(a.cluster_centers_, b.cluster_centers_)
    assert_allclose(a.cluster_centers_, c.cluster_centers_)
    assert a.inertia_ == pytest.approx(b.inertia_)


def test_float_path_few_colours_falls_back_to_the_table(small_float_threshold):
    X = np.zeros((1, 200, 100, 3), np.float32)
    X[:, 100:] = [0.2, 0.4, 0.6]
    with pytest.warns(UserWarning, match="larger than the number of distinct"):
        seg = KMeansColorSegmenter(n_clusters=3, random_state=0).fit(X)
    assert seg.n_clusters_ == 2
    assert seg.inertia_ == 0.0


def test_partial_fit_after_a_float_path_fit(small_float_threshold):
    # The float path keeps its coreset as the colour table: later chunks
    # merge into it.
    rng = np.random.default_rng(9)
    X = rng.random((1, 120, 100, 3), dtype=np.float32)
    seg = KMeansColorSegmenter(n_clusters=3, random_state=0).fit(X)
    seg.partial_fit(X[:, :10])
    assert seg._color_table.counts.sum() == 120 * 100 + 10 * 100
    assert seg.cluster_centers_.shape == (3, 3)


def test_large_k_fit_does_not_depend_on_threads():
    # Restarts, refinements and the exact iterations in threads: the same
    # palette and WCSS, bitwise (integer colours and counts add up exactly).
    from skseg._engine.hamerly import THREAD_MIN_POINTS

    rng = np.random.default_rng(5)
    px = rng.integers(0, 256, (600_000, 3), dtype=np.uint8)
    table = count_colors([px], np.uint8, 3)
    assert table.n_colors >= 2 * THREAD_MIN_POINTS  # the threaded exact path
    one = fit_palette(table, 24, n_init=3, random_state=0, n_threads=1)
    two = fit_palette(table, 24, n_init=3, random_state=0, n_threads=2)
    assert_array_equal(one.centers, two.centers)
    assert one.inertia == two.inertia
    assert one.inertia == pytest.approx(_brute_wcss(px, one.centers), rel=1e-9)


@pytest.mark.parametrize(
    "k, n_pixels", [(8, 800), (8, 80_000), (8, 480_000), (16, 480_000)]
)
def test_small_k_fit_does_not_depend_on_threads(k, n_pixels):
    # Restarts and refinements in threads, on the exact table (few colours)
    # or on coresets: the same palette and WCSS, bitwise. On the tables of
    # more than BLOCK_MIN_COLORS colours the scan is the blocked one, and
    # the exact iterations on two threads are lloyd_threads' (one thread:
    # _lloyd's).
    from skseg._engine.coresets import CORESET_MIN_COLORS
    from skseg._engine.lloyd import BLOCK_MIN_COLORS

    px = _photo_like(n_pixels, seed=k)
    table = count_colors([px], np.uint8, 3)
    assert (table.n_colors >= CORESET_MIN_COLORS) == (n_pixels > 1000)
    assert (table.n_colors >= BLOCK_MIN_COLORS) == (n_pixels > 100_000)
    one = fit_palette(table, k, random_state=0, n_threads=1)
    two = fit_palette(table, k, random_state=0, n_threads=2)
    assert_array_equal(one.centers, two.centers)
    assert one.inertia == two.inertia


def test_column_stats_equal_numpy():
    from skseg._engine.distances import column_stats

    rng = np.random.default_rng(6)
    for n in (1000, 200_000):  # numpy below _STATS_MIN_ROWS, the kernel above
        X = rng.normal(size=(n, 3)) * [30, 10, 5] + 100
        lo, hi, var = column_stats(X)
        assert_array_equal(lo, X.min(axis=0))
        assert_array_equal(hi, X.max(axis=0))
        assert_allclose(var, X.var(axis=0), rtol=1e-12)


def test_fit_threads_follows_sklearn_and_stays_single_in_workers():
    import threading

    from threadpoolctl import threadpool_limits

    from skseg._parallel import fit_threads

    assert fit_threads() >= 1
    with threadpool_limits(1):
        assert fit_threads() == 1
    seen = []
    worker = threading.Thread(target=lambda: seen.append(fit_threads()))
    worker.start()
    worker.join()
    assert seen == [1]


@pytest.mark.parametrize("k", [3, 16, 256, 257])
def test_label_per_colour_of_the_cube_is_the_direct_scan_bitwise(k, monkeypatch):
    # A large run without the SSE looks labels up by colour code (a label
    # per colour of the cube) for K <= 256, by rank above: both are the
    # direct scan's labels, ties (a duplicated centre) included, on 1 and 2
    # threads, labels and quantized colours together or alone.
    from skseg._engine import assign
    from skseg._engine.assign import BY_CODE_MIN_PIXELS, LOOKUP_PIECE

    px = _photo_like(max(BY_CODE_MIN_PIXELS, LOOKUP_PIECE) + 300_000, seed=k)
    rng = np.random.default_rng(k)
    centers = px[rng.choice(len(px), k, replace=False)].astype(np.float64) + 0.25
    centers[-1] = centers[0]
    colors = rng.integers(0, 256, (k, 3)).astype(np.uint8)
    ref = np.empty(len(px), np.int32)
    assign_labels(px, centers, ref)
    calls = []
    real = assign._lookup_by_code
    monkeypatch.setattr(
        assign, "_lookup_by_code", lambda *a: calls.append(1) or real(*a)
    )
    for n_threads in (1, 2):
        labels, out = np.empty(len(px), np.int32), np.empty_like(px)
        assign_labels_rgb8(px, centers, labels, colors, out, n_threads, False)
        assert_array_equal(labels, ref)
        assert_array_equal(out, colors[ref])
        alone = np.empty_like(px)
        assign_labels_rgb8(px, centers, None, colors, alone, n_threads, False)
        assert_array_equal(alone, colors[ref])
        only = np.empty(len(px), np.int32)
        assign_labels_rgb8(px, centers, only, n_threads=n_threads, with_sse=False)
        assert_array_equal(only, ref)
    assert not (ref == k - 1).any()
    assert bool(calls) == (k <= 256)


def test_which_runs_go_through_the_table():
    from skseg._engine.assign import (
        BY_CODE_MIN_PIXELS,
        LOOKUP_BY_CODE_MIN_WORK,
        LOOKUP_MIN_WORK,
        through_table,
    )

    assert LOOKUP_BY_CODE_MIN_WORK < LOOKUP_MIN_WORK
    big = max(BY_CODE_MIN_PIXELS, LOOKUP_BY_CODE_MIN_WORK // 2)
    assert through_table(big, 2, False)  # by code: the lower threshold
    assert not through_table(big - 1, 2, False)
    small = BY_CODE_MIN_PIXELS - 1
    k = LOOKUP_BY_CODE_MIN_WORK // small + 1  # over the lower threshold only
    assert k <= 16 and small * k < LOOKUP_MIN_WORK
    assert not through_table(small, k, False)
    assert through_table(small, 17, True)  # large palettes: always, sum too
    assert not through_table(1 << 24, 16, True)  # the direct scan's sum
    assert not through_table(1 << 24, 1, False)


def test_cell_candidates_are_kept_for_the_last_palettes(monkeypatch):
    # a palette's candidates are computed once for the images it segments,
    # again for another palette, and only the last CANDIDATES_KEPT are kept
    from skseg._engine import assign

    calls = []
    real = assign.cell_candidates
    monkeypatch.setattr(
        assign, "cell_candidates", lambda *a, **k: calls.append(1) or real(*a, **k)
    )
    monkeypatch.setattr(assign, "_candidates", type(assign._candidates)())
    px = _photo_like(50_000, seed=2)
    rng = np.random.default_rng(2)
    palettes = [rng.uniform(0, 255, (20, 3)) for _ in range(assign.CANDIDATES_KEPT + 1)]
    ref = np.empty(len(px), np.int32)
    for centers in palettes:
        assign_labels(px, centers, ref)
        for _ in range(2):
            got = np.empty(len(px), np.int32)
            assign_labels_rgb8(px, centers, got, with_sse=False)
            assert_array_equal(got, ref)
    assert len(calls) == len(palettes)
    assert len(assign._candidates) == assign.CANDIDATES_KEPT
    assign_labels_rgb8(px, palettes[0], ref, with_sse=False)  # dropped first
    assert len(calls) == len(palettes) + 1


@pytest.mark.parametrize("k", [12, 255, 256])
def test_known_colours_label_as_the_direct_scan_or_step_aside(monkeypatch, k):
    # A run looked up through known colours (the fitted table's) is the
    # direct scan's; a run with a colour they lack (away from the sampled
    # pixels, in its last lookup piece) or with far more known colours than
    # pixels goes the usual way, with the same result. From 256 colours the
    # label per colour is uint16: label 255 is not taken for "unlabelled".
    from skseg._engine import assign
    from skseg._engine.assign import BY_CODE_MIN_PIXELS, KNOWN_SAMPLE, LOOKUP_PIECE

    n = max(BY_CODE_MIN_PIXELS, LOOKUP_PIECE) + 300_000
    px = _photo_like(n, seed=11) // 4 * 4  # fewer colours than n // 2
    wide = px.astype(np.int64)
    known = np.unique((wide[:, 0] << 16) | (wide[:, 1] << 8) | wide[:, 2])
    rng = np.random.default_rng(11)
    centers = px[rng.choice(n, k, replace=False)].astype(np.float64) + 0.25
    colors = rng.integers(0, 256, (k, 3)).astype(np.uint8)
    results = []
    real = assign._assign_known
    monkeypatch.setattr(
        assign, "_assign_known", lambda *a: results.append(real(*a)) or results[-1]
    )
    stranger = px.copy()
    sampled = set(np.linspace(0, n - 1, KNOWN_SAMPLE).astype(np.int64).tolist())
    spots = [i for i in range(n - 1000, n) if i not in sampled][:5]
    stranger[spots] = [1, 255, 1]  # not among the photo's colours
    assert not np.isin(0x01FF01, known) and len(known) <= n // 2
    for image, hint, used in (
        (px, known, True),
        (stranger, known, False),
        (px, np.arange(n // 2 + 1, dtype=np.int64) * 31, False),
    ):
        ref = np.empty(n, np.int32)
        assign_labels(image, centers, ref)
        assert ref.max() == k - 1 or image is not px  # label 255 of 256 taken
        for n_threads in (1, 2):
            results.clear()
            labels, out = np.empty(n, np.int32), np.empty_like(image)
            assign_labels_rgb8(
                image, centers, labels, colors, out, n_threads, False, known=hint
            )
            assert_array_equal(labels, ref)
            assert_array_equal(out, colors[ref])
            assert results == [used]


def test_known_colour_labels_are_kept_per_palette_and_colours(monkeypatch):
    # The label per colour of the known colours is made once for a palette
    # and those colours, reused while both stay, remade for another palette,
    # for other known colours (even equal ones) or once the oldest of more
    # than LABEL_TABLES_KEPT pairs is dropped, and dropped when its known
    # colours are gone; the labels are the direct scan's every time.
    import gc

    from skseg._engine import assign
    from skseg._engine.assign import BY_CODE_MIN_PIXELS, LABEL_TABLES_KEPT

    n = BY_CODE_MIN_PIXELS + 1000
    px = _photo_like(n, seed=5) // 4 * 4
    wide = px.astype(np.int64)
    known = np.unique((wide[:, 0] << 16) | (wide[:, 1] << 8) | wide[:, 2])
    known = known.astype(np.uint32)
    rng = np.random.default_rng(5)
    palettes = [
        px[rng.choice(n, 8, replace=False)].astype(np.float64) + 0.25
        for _ in range(LABEL_TABLES_KEPT + 1)
    ]
    made = []
    real = assign._label_codes
    monkeypatch.setattr(
        assign, "_label_codes", lambda *a: made.append(a[0].shape[0]) or real(*a)
    )
    monkeypatch.setattr(assign, "_label_tables", type(assign._label_tables)())

    def labels_of(centers, hint):
        labels = np.empty(n, np.int32)
        assign_labels_rgb8(px, centers, labels, n_threads=2, with_sse=False, known=hint)
        ref = np.empty(n, np.int32)
        assign_labels(px, centers, ref)
        assert_array_equal(labels, ref)
        return sum(made)

    assert labels_of(palettes[0], known) == len(known)
    assert labels_of(palettes[0], known) == len(known)  # kept
    assert labels_of(palettes[0].copy(), known) == len(known)  # same bytes
    assert labels_of(palettes[0], known.copy()) == 2 * len(known)  # other array
    made.clear()
    for centers in palettes[1:]:  # the first pair is the oldest: dropped
        labels_of(centers, known)
    assert sum(made) == LABEL_TABLES_KEPT * len(known)
    assert labels_of(palettes[-1], known) == LABEL_TABLES_KEPT * len(known)
    assert labels_of(palettes[0], known) == (LABEL_TABLES_KEPT + 1) * len(known)
    assert len(assign._label_tables) == LABEL_TABLES_KEPT
    other = known.copy()
    del known
    gc.collect()
    labels_of(palettes[0], other)  # drops the tables of the deleted colours
    assert len(assign._label_tables) == 1


def test_transform_of_the_fitted_photo_looks_up_its_table(monkeypatch):
    # transform and predict of the data fitted look labels up through the
    # fitted table's colours (no presence bitmap of their own); an
    # unpickled copy holds no codes and goes the usual way: same outputs
    import pickle

    from skseg._engine import assign

    X = (_photo_like(1100 * 1000, seed=3) // 4 * 4).reshape(1, 1100, 1000, 3)
    seg = KMeansColorSegmenter(8, random_state=0).fit(X)
    results = []
    real = assign._assign_known
    monkeypatch.setattr(
        assign, "_assign_known", lambda *a: results.append(real(*a)) or results[-1]
    )
    q, labels = seg.transform(X), seg.predict(X)
    assert results == [True, True]
    ref = np.empty(X[0].size // 3, np.int32)
    assign_labels(X.reshape(-1, 3), seg.cluster_centers_, ref)
    assert_array_equal(labels.reshape(-1), ref)
    assert_array_equal(q.reshape(-1, 3), np.rint(seg.cluster_centers_[ref]))
    clone = pickle.loads(pickle.dumps(seg))
    assert getattr(clone.__dict__.get("_table"), "codes", None) is None
    assert_array_equal(clone.transform(X), q)
    assert results == [True, True]


def test_lookup_writes_quantized_colours_and_ignores_threads():
    # More than one lookup piece: labels, colours and the SSE do not depend
    # on the thread count; the colours are those of the labels.
    from skseg._engine.assign import LOOKUP_PIECE

    px = _photo_like(LOOKUP_PIECE + 300_000, seed=7)
    rng = np.random.default_rng(8)
    centers = px[rng.choice(len(px), 40, replace=False)].astype(np.float64) + 0.25
    colors = np.clip(np.rint(centers), 0, 255).astype(np.uint8)
    results = []
    for n_threads in (1, 2):
        labels = np.empty(len(px), np.int32)
        out = np.empty_like(px)
        sse = assign_labels_rgb8(px, centers, labels, colors, out, n_threads)
        results.append((labels, out, sse))
    ref = np.empty(len(px), np.int32)
    assign_labels(px, centers, ref)
    for labels, out, sse in results:
        assert_array_equal(labels, ref)
        assert_array_equal(out, colors[ref])
    assert results[0][2] == results[1][2]
