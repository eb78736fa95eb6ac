"""The palette engine: colour counting, table merging, weighted k-means."""

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.cluster import KMeans

from skseg._engine.coresets import _grid_coreset
from skseg._engine.lloyd import _kmeanspp, _lloyd
from skseg._engine.strategy import fit_palette
from skseg._engine.tables import ColorTable, count_colors, merge_tables


def _reference_table(px):
    colors, counts = np.unique(px, axis=0, return_counts=True)
    return colors, counts


@pytest.mark.parametrize(
    "dtype, channels, n_pixels",
    [
        (np.uint8, 3, 2_000_000),  # direct-address table
        (np.uint8, 3, 5_000),  # hashing (table would be much larger than data)
        (np.uint8, 1, 5_000),
        (np.uint16, 1, 5_000),
        (np.uint16, 3, 5_000),
        (np.int64, 2, 5_000),
        (np.float32, 3, 5_000),
        (np.float64, 4, 5_000),
    ],
)
def test_count_colors_is_exact(dtype, channels, n_pixels):
    rng = np.random.default_rng(0)
    if np.dtype(dtype).kind == "f":
        px = (rng.integers(0, 40, (n_pixels, channels)) / 7).astype(dtype)
    else:
        px = rng.integers(0, 40, (n_pixels, channels)).astype(dtype)
    table = count_colors(
        [px[: n_pixels // 3], px[n_pixels // 3 :]], px.dtype, channels, n_pixels
    )
    colors, counts = _reference_table(px)
    assert_array_equal(table.colors, colors)
    assert_array_equal(table.counts, counts)
    assert table.counts.sum() == n_pixels


def test_negative_zero_is_one_colour():
    px = np.array([[0.0], [-0.0], [1.0]])
    table = count_colors([px], px.dtype, 1)
    assert table.n_colors == 2
    assert_array_equal(table.counts, [2, 1])


def test_merge_tables_is_additive_and_order_free():
    rng = np.random.default_rng(1)
    px = rng.integers(0, 30, (3000, 3)).astype(np.uint8)
    parts = [count_colors([p], p.dtype, 3) for p in np.array_split(px, 4)]
    whole = count_colors([px], px.dtype, 3)
    merged = merge_tables(parts)
    assert_array_equal(merged.colors, whole.colors)
    assert_array_equal(merged.counts, whole.counts)
    merged_rev = merge_tables(parts[::-1])
    assert_array_equal(merged_rev.colors, whole.colors)


def test_kmeanspp_picks_distinct_points():
    rng = np.random.default_rng(0)
    X = rng.random((500, 3))
    w = rng.integers(1, 5, 500).astype(float)
    c = _kmeanspp(X, w, 20, 0.3, rng.random((19, 4)))
    assert len(np.unique(c, axis=0)) == 20
    assert all((X == row).all(axis=1).any() for row in c)


def test_lloyd_matches_sklearn_from_the_same_start():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(2000, 3)) + rng.integers(0, 4, (2000, 1)) * 3
    w = rng.integers(1, 10, 2000).astype(float)
    init = X[:4].copy()
    centers, inertia, _ = _lloyd(X, w, init, 300, 0.0)
    km = KMeans(4, init=init, n_init=1, tol=0, max_iter=300).fit(X, sample_weight=w)
    assert_allclose(centers, km.cluster_centers_, rtol=1e-10)
    assert_allclose(inertia, km.inertia_, rtol=1e-10)


def test_lloyd_relocates_empty_clusters():
    X = np.array([[0.0], [1.0], [10.0], [11.0]])
    w = np.ones(4)
    init = np.array([[0.5], [100.0]])  # second centre attracts nothing
    centers, inertia, _ = _lloyd(X, w, init, 100, 0.0)
    assert_allclose(np.sort(centers[:, 0]), [0.5, 10.5])
    assert_allclose(inertia, 1.0)


def test_weighted_table_has_the_objective_of_all_pixels():
    rng = np.random.default_rng(0)
    px = rng.integers(0, 12, (20_000, 3)).astype(np.uint8)
    table = count_colors([px], px.dtype, 3)
    pal = fit_palette(table, 5, random_state=0)
    d2 = ((px[:, None, :].astype(float) - pal.centers[None]) ** 2).sum(-1).min(1)
    assert_allclose(pal.inertia, d2.sum())


def test_coreset_preserves_weight_and_mean():
    rng = np.random.default_rng(0)
    X = rng.random((10_000, 3)) * 255
    w = rng.integers(1, 9, 10_000).astype(float)
    means, cw = _grid_coreset(X, w, 4096)
    assert means.shape[0] <= 4096
    assert_allclose(cw.sum(), w.sum())
    assert_allclose((means * cw[:, None]).sum(0), (X * w[:, None]).sum(0))


def test_fit_palette_k_equal_to_colours_is_exact():
    table = ColorTable(
        np.array([[0, 0, 0], [9, 9, 9], [3, 3, 3]], np.uint8), np.array([2, 1, 5])
    )
    pal = fit_palette(table, 3, random_state=0)
    assert pal.inertia == 0.0
    assert_array_equal(pal.centers, [[0, 0, 0], [3, 3, 3], [9, 9, 9]])


def test_fit_palette_rejects_k_above_colours():
    table = ColorTable(np.array([[0], [1]], np.uint8), np.array([1, 1]))
    with pytest.raises(
        ValueError, match="n_clusters=3 is larger than the number of distinct colours"
    ):
        fit_palette(table, 3)


@pytest.mark.parametrize(
    "dtype, channels",
    [(np.uint8, 3), (np.uint8, 1), (np.uint16, 1), (np.float32, 3), (np.int32, 2)],
)
def test_merge_of_sorted_tables_equals_counting_everything(dtype, channels):
    # The two-pointer merge (tables of one dtype) gives the table of the
    # union, as counting all pixels at once does; -0.0 and 0.0 are one colour.
    rng = np.random.default_rng(3)
    px = rng.integers(0, 12, (5000, channels)).astype(dtype)
    if dtype == np.float32:
        px[::7] *= -1  # -0.0 among the zeros
    parts = [count_colors([p], p.dtype, channels) for p in np.array_split(px, 7)]
    whole = count_colors([px], px.dtype, channels)
    for order in (parts, parts[::-1], parts[3:] + parts[:3]):
        merged = merge_tables(order)
        assert merged.colors.dtype == whole.colors.dtype
        assert_array_equal(merged.colors, whole.colors)
        assert_array_equal(merged.counts, whole.counts)
    mixed = merge_tables(
        [parts[0], count_colors([px[:10].astype(np.float64)], np.float64, channels)]
    )
    assert mixed.colors.dtype == np.float64


def test_cluster_stats_are_the_sums_of_the_nearest_center_assignment():
    from skseg._engine.strategy import cluster_stats

    rng = np.random.default_rng(0)
    px = rng.integers(0, 256, (20000, 3)).astype(np.uint8)
    table = count_colors([px], px.dtype, 3)
    centers = fit_palette(table, 4, random_state=0).centers + 5.0
    weight, sums, squares = cluster_stats(table, centers)
    x = px.astype(np.float64)
    labels = ((x[:, None] - centers[None]) ** 2).sum(-1).argmin(1)
    for k in range(4):
        assert weight[k] == (labels == k).sum()
        assert_allclose(sums[k], x[labels == k].sum(0))
        assert_allclose(squares[k], (x[labels == k] ** 2).sum())


def _scan_reference(X, C):
    # One point at a time, one centre at a time: _sq_dist's arithmetic and
    # the first minimum (the scan the blocked one replaced).
    labels = np.empty(len(X), np.int64)
    d2 = np.empty(len(X))
    for i in range(len(X)):
        best, arg = np.inf, 0
        for j in range(len(C)):
            d = 0.0
            for f in range(X.shape[1]):
                t = float(X[i, f]) - C[j, f]
                d += t * t
            if d < best:
                best, arg = d, j
        labels[i], d2[i] = arg, best
    return labels, d2


@pytest.mark.parametrize("k", [1, 3, 8, 13, 40])
def test_blocked_scan_is_the_point_by_point_scan_bitwise(k):
    # nearest_block (through _lloyd_range): labels with ties to the lowest
    # index and squared distances bit for bit, over a number of points that
    # is not a multiple of the block, with duplicated and mirrored centres;
    # and _lloyd with the blocks gives what it gives without them
    from skseg._engine.lloyd import FULL, _lloyd_range, use_blocks

    rng = np.random.default_rng(k)
    X = rng.integers(0, 256, (1000 + 37, 3)).astype(np.float64) / 7
    w = rng.integers(1, 9, len(X)).astype(np.float64)
    C = rng.uniform(0, 40, (k, 3))
    if k > 2:
        C[2] = C[0]  # a duplicate: never chosen over centre 0
        C[1] = 2 * X[5] - C[0]  # centres 0 and 1 equidistant from point 5
    labels = np.full(len(X), -1, np.int64)
    d2 = np.empty(len(X))
    sums, wsum = np.zeros((k, 3)), np.zeros(k)
    gap, drift = np.empty(len(X)), np.zeros(k + 1)
    changed = _lloyd_range(X, w, C, labels, d2, gap, drift, sums, wsum, 0, len(X), FULL)
    ref_labels, ref_d2 = _scan_reference(X, C)
    assert changed == len(X)
    assert_array_equal(labels, ref_labels)
    assert_array_equal(d2, ref_d2)
    assert_array_equal(wsum, np.bincount(ref_labels, weights=w, minlength=k))
    assert use_blocks(X, 1 << 20) and not use_blocks(X, 10)
    for tol in (0.0, 1e-3):
        ref = _lloyd(X, w, C, 20, tol)
        got = _lloyd(X, w, C, 20, tol, True)
        assert_array_equal(got[0], ref[0])
        assert got[1:] == ref[1:]


@pytest.mark.parametrize("channels", [1, 3, 4, 5, 8])
@pytest.mark.parametrize("dtype", [np.uint8, np.float32, np.float64])
@pytest.mark.parametrize("k", [1, 3, 8, 13])
def test_pixel_scans_are_the_point_by_point_scan_bitwise(channels, dtype, k):
    # nearest_guessed (the labels of large runs, _nearest, and the float
    # path's Lloyd pass) and the plain scan of small runs (assign_labels
    # below GUESS_MIN_PIXELS): labels with ties to the lowest index, and the
    # sum of squared distances added in pixel order, bit for bit, for any
    # number of channels, dtypes and steps
    from skseg._engine.assign import _nearest, assign_labels
    from skseg._engine.distances import guess_thresholds
    from skseg._engine.floatpath import _lloyd_pass

    rng = np.random.default_rng(100 * k + channels)
    n = 1000 + 37
    if dtype == np.uint8:
        X = rng.integers(0, 256, (n, channels)).astype(dtype)
    else:
        # multiples of 1/64: the equidistant centres below are exact
        X = (np.round(rng.normal(0, 30, (n, channels)) * 64) / 64).astype(dtype)
    C = rng.uniform(-40, 255, (k, channels))
    if k > 2:
        C[0] = X[5] + 0.5
        C[2] = C[0]  # a duplicate: never chosen over centre 0
        C[1] = 2 * X[5].astype(np.float64) - C[0]  # 0 and 1 equidistant from 5
    ref_labels, ref_d2 = _scan_reference(X, C)
    thr = guess_thresholds(C)
    for scan in (assign_labels, lambda X, C, out: _nearest(X, C, out, thr)):
        labels = np.empty(n, np.int32)
        sse = scan(X, C, labels)
        assert_array_equal(labels, ref_labels)
        assert sse == sum(ref_d2.tolist())  # in pixel order
    if k > 2:
        assert ref_labels[5] == 0
    for step in (1, 3, 8):
        rows = np.arange(0, n, step)
        sums, wsum = np.zeros((k, channels)), np.zeros(k)
        total = _lloyd_pass(X, C, sums, wsum, step, thr)
        assert total == sum(ref_d2[rows].tolist())
        # no rows of sums: the WCSS only, the same sum
        empty = np.zeros((0, channels)), np.zeros(0)
        assert _lloyd_pass(X, C, *empty, step, thr) == total
        assert_array_equal(wsum, np.bincount(ref_labels[rows], minlength=k))
        ref_sums = np.zeros((k, channels))
        for i in rows:  # in pixel order, as the pass adds them
            ref_sums[ref_labels[i]] += X[i]
        assert_array_equal(sums, ref_sums)


@pytest.mark.parametrize("channels", [1, 3, 4, 6])
def test_pixel_scan_guesses_are_exact(channels):
    # Runs of pixels near one centre (each pixel takes its guess, the label
    # before it), pixels on the guess threshold and pixels equidistant from
    # two centres after pixels of the higher one: labels (ties to the lowest
    # index) and squared distances as the point-by-point scan's
    from skseg._engine.assign import _nearest
    from skseg._engine.distances import guess_thresholds
    from skseg._engine.floatpath import _lloyd_pass

    rng = np.random.default_rng(channels)
    C = rng.integers(-20, 20, (5, channels)).astype(np.float64) * 2  # even
    C[4] = C[3]  # a duplicate: its threshold is 0, centre 3 is chosen
    runs = []
    for j in rng.integers(0, 5, 30):
        runs.append(C[j] + rng.normal(0, 0.5, (200, channels)))
    mid = (C[0] + C[1]) / 2  # exactly equidistant from centres 0 and 1
    near_1 = C[1] + rng.normal(0, 0.1, (200, channels))
    near_1[130::7] = mid  # blocks guessed as 1 holding equidistant points
    edge = np.linalg.norm(C[0] - C[2]) / 2
    on_edge = C[2] + (C[0] - C[2]) / np.linalg.norm(C[0] - C[2]) * edge * (
        1 - rng.uniform(0, 2e-6, (64, 1))
    )  # on and just inside centre 2's threshold
    X = np.concatenate(runs + [near_1, on_edge, C[2] + np.zeros((70, channels))])
    ref_labels, ref_d2 = _scan_reference(X, C)
    assert (ref_labels[len(X) - 334 :][130:200:7] == 0).all()
    thr = guess_thresholds(C)
    labels = np.empty(len(X), np.int32)
    sse = _nearest(X, C, labels, thr)
    assert_array_equal(labels, ref_labels)
    assert sse == sum(ref_d2.tolist())
    for step in (1, 2):
        total = _lloyd_pass(X, C, np.zeros((0, channels)), np.zeros(0), step, thr)
        assert total == sum(ref_d2[::step].tolist())


@pytest.mark.parametrize("n_threads", [2, 3])
@pytest.mark.parametrize("k", [3, 8, 16])
def test_threaded_lloyd_is_lloyd_bitwise_on_integer_tables(n_threads, k):
    # an integer table with pixel counts (sums exact in any order), one
    # centre that starts empty, both stopping rules
    from skseg._engine.lloyd import lloyd_threads

    rng = np.random.default_rng(k)
    colors = np.unique(rng.integers(0, 256, (60_000, 3)), axis=0).astype(np.float64)
    weights = rng.integers(1, 500, len(colors)).astype(np.float64)
    init = colors[rng.choice(len(colors), k, replace=False)].copy()
    init[-1] = [400.0, 400.0, 400.0]
    for tol in (0.0, 5.0):
        ref = _lloyd(colors, weights, init, 30, tol)
        got = lloyd_threads(colors, weights, init, 30, tol, n_threads)
        assert_array_equal(got[0], ref[0])
        assert got[1] == ref[1]
        assert got[2] == ref[2]


def test_bounded_pass_gaps_are_the_distance_margins():
    # the FULL pass of the blocked Lloyd: labels and distances of a full
    # scan, and per point the margin sqrt(second) - sqrt(best) its bounds
    # start from
    from skseg._engine.lloyd import FULL, _lloyd_range

    rng = np.random.default_rng(3)
    X = rng.integers(0, 256, (777, 3)).astype(np.float64)
    w = np.ones(len(X))
    C = rng.uniform(0, 255, (9, 3))
    C[4] = C[1]  # a tie: a margin of 0
    labels, d2, gap = np.full(len(X), -1, np.int64), np.empty(len(X)), np.empty(len(X))
    sums, wsum = np.zeros((9, 3)), np.zeros(9)
    _lloyd_range(X, w, C, labels, d2, gap, np.zeros(10), sums, wsum, 0, len(X), FULL)
    ref_labels, ref_d2 = _scan_reference(X, C)
    assert_array_equal(labels, ref_labels)
    assert_array_equal(d2, ref_d2)
    d = np.sort(((X[:, None] - C[None]) ** 2).sum(-1), axis=1)
    assert_allclose(gap, np.sqrt(d[:, 1]) - np.sqrt(d[:, 0]), atol=1e-9)
    assert (gap[labels == 1] == 0).all() and (labels != 4).all()
    assert_array_equal(wsum, np.bincount(ref_labels, minlength=9))


def test_blocked_lloyd_compiles_its_pass_once():
    # _lloyd's blocked iterations and lloyd_threads call _lloyd_range with
    # the same argument types (no literal start or mode): one compilation
    from skseg._engine.lloyd import _lloyd_range, lloyd_threads

    rng = np.random.default_rng(1)
    X = np.unique(rng.integers(0, 256, (3000, 3)), axis=0).astype(np.float64)
    w = np.ones(len(X))
    _lloyd(X, w, X[:5].copy(), 5, 0.0, True)
    lloyd_threads(X, w, X[:5].copy(), 5, 0.0, 2)
    assert len(_lloyd_range.signatures) == 1


def test_rgb8_passes_compile_one_kernel():
    # The counting pass, the presence bitmap (of counting, transform and
    # table merges) share one compiled signature of _pass_rgb8: 32-bit
    # prefix counts and counts (a fresh process: what earlier tests
    # compiled does not count)
    import subprocess
    import sys

    code = (
        "import numpy as np\n"
        "from skseg import KMeansColorSegmenter\n"
        "from skseg._engine.tables import _pass_rgb8, count_colors\n"
        "rng = np.random.default_rng(0)\n"
        "X = rng.integers(0, 256, (2, 1024, 512, 3)).astype(np.uint8)\n"
        "seg = KMeansColorSegmenter(20, n_init=1, random_state=0)\n"
        "seg.fit(X).transform(X)\n"
        "seg.partial_fit(X[:1]).partial_fit(X[1:])\n"
        "count_colors([X.reshape(-1, 3)], X.dtype, 3)\n"
        "print(len(_pass_rgb8.signatures))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert out.stdout.split()[-1] == "1", out.stdout


def _blobs_and_strays(seed):
    # a few tight blobs and stray colours, integer weights, 8-13 centres
    # drawn in the box: cases where a cluster empties after the first pass
    # and the worst-served point is picked by distances to moved centres
    rng = np.random.default_rng(seed)
    blobs = [
        rng.integers(0, 60, 3) + rng.integers(-3, 4, (rng.integers(5, 40), 3))
        for _ in range(2 + seed % 4)
    ]
    strays = rng.integers(0, 60, (rng.integers(1, 10), 3))
    X = np.unique(np.vstack(blobs + [strays]), axis=0).astype(np.float64)
    w = rng.integers(1, 20, len(X)).astype(np.float64)
    return X, w, rng.uniform(0, 60, (8 + seed % 6, 3))


@pytest.mark.parametrize("seed", [1109, 2253, 2821])
def test_bounded_lloyd_with_a_cluster_emptied_later_is_lloyd_bitwise(seed):
    # a cluster emptied after the first pass takes the point worst served
    # by every distance of that pass, also those the bounds did not
    # rescan: with bounds (blocked scan, threads) as without. (Found by
    # search: with the bounded passes' stale distances instead, these
    # seeds' palettes differ.)
    from skseg._engine.lloyd import lloyd_threads

    X, w, C = _blobs_and_strays(seed)
    ref = _lloyd(X, w, C, 60, 0.0)
    for got in (_lloyd(X, w, C, 60, 0.0, True), lloyd_threads(X, w, C, 60, 0.0, 2)):
        assert_array_equal(got[0], ref[0])
        assert got[1:] == ref[1:]


def test_small_runs_take_the_plain_scan(monkeypatch):
    # the route of assign_labels: the guessed kernel (slower to compile)
    # only from GUESS_MIN_PIXELS pixels, the plain scan below
    from skseg._engine import assign

    def refuse(*args):
        raise AssertionError("wrong kernel for this run")

    centers = np.array([[0.0, 0.0, 0.0], [255.0, 255.0, 255.0]])
    n = assign.GUESS_MIN_PIXELS
    px = np.zeros((n, 3), np.uint8)
    labels = np.empty(n, np.int32)
    monkeypatch.setattr(assign, "_nearest", refuse)
    assert assign.assign_labels(px[: n - 1], centers, labels[: n - 1]) == 0.0
    monkeypatch.undo()
    monkeypatch.setattr(assign, "_nearest_scan", refuse)
    assert assign.assign_labels(px, centers, labels) == 0.0
    assert not labels.any()


def test_threaded_direct_assignment_labels_as_one_thread():
    # and a run this large tries the guesses (_nearest), bit for bit the
    # plain scan of smaller runs (_nearest_scan)
    from skseg._engine.assign import (
        GUESS_MIN_PIXELS,
        LOOKUP_PIECE,
        _nearest_scan,
        assign_labels,
    )

    rng = np.random.default_rng(0)
    n = max(2 * LOOKUP_PIECE, GUESS_MIN_PIXELS) + 1234
    # runs of a colour, as in a photo: most guesses are taken
    px = np.repeat(rng.integers(0, 256, (n // 16 + 1, 3)), 16, axis=0)[:n]
    px = px.astype(np.uint8)
    centers = rng.uniform(0, 255, (5, 3))
    one = np.empty(len(px), np.int32)
    sse = assign_labels(px, centers, one)
    plain = np.empty(len(px), np.int32)
    assert _nearest_scan(px, centers, plain) == sse
    assert_array_equal(one, plain)
    two = np.empty(len(px), np.int32)
    assert assign_labels(px, centers, two, n_threads=2, with_sse=False) is None
    assert_array_equal(two, one)
    assert sse == assign_labels(px, centers, two, n_threads=2)  # with_sse: one pass


@pytest.mark.parametrize("kind", ["uint8", "float", "one_bin"])
def test_grid_sums_on_two_threads_are_one_pass_bitwise(kind):
    # the table cut at a change of first-axis bin: no cell in both halves,
    # each cell's colours added in order, the sums of one pass bit for bit
    from skseg._engine.coresets import (
        FINE_CELLS,
        SPLIT_MIN_COLORS,
        _bin_change,
        _per_axis,
        table_grid_sums,
    )

    rng = np.random.default_rng(7)
    n = 3 * SPLIT_MIN_COLORS
    if kind == "uint8":
        px = rng.integers(0, 256, (4 * n, 3)).astype(np.uint8)
        table = count_colors([px], px.dtype, 3)
        colors = table.colors.astype(np.float64)
        weights = table.counts.astype(np.float64)
    else:
        colors = rng.uniform(0, 1, (n, 3))
        if kind == "one_bin":
            colors[:, 0] = 0.5  # nowhere to cut: one pass
        colors = colors[np.lexsort(colors.T[::-1])]
        weights = rng.uniform(0.5, 2.0, n)
    box = colors.min(axis=0), colors.max(axis=0)
    one = table_grid_sums(colors, weights, FINE_CELLS, box)
    two = table_grid_sums(colors, weights, FINE_CELLS, box, n_threads=2)
    assert_array_equal(two[0], one[0])
    assert_array_equal(two[1], one[1])
    per_axis = _per_axis(FINE_CELLS, 3)
    span = np.where(box[1] > box[0], box[1] - box[0], 1.0)
    cut = _bin_change(colors[:, 0], box[0][0], per_axis / span[0], per_axis)
    if kind == "one_bin":
        assert cut == 0
    else:
        first_bin = np.minimum(
            ((colors[:, 0] - box[0][0]) * (per_axis / span[0])).astype(int),
            per_axis - 1,
        )
        assert 0 < cut < len(colors) and first_bin[cut - 1] < first_bin[cut]


def test_coarse_coreset_from_the_fine_one_is_the_table_grid_bitwise():
    # integer colours and counts: the coarse grid made from the fine cells'
    # sums is exactly the coarse grid over the table; float colours: the
    # same cells and weights, means equal to rounding
    from skseg._engine.coresets import COARSE_CELLS, _coreset_levels

    rng = np.random.default_rng(0)
    colors = np.unique(rng.integers(0, 256, (120_000, 3)), axis=0).astype(np.float64)
    weights = rng.integers(1, 300, len(colors)).astype(np.float64)
    for X in (colors, colors * 0.37 + 1.0):
        (coarse, coarse_w, _), _ = _coreset_levels(X, weights, 1e-4, 8, 40_000)
        ref, ref_w = _grid_coreset(X, weights, COARSE_CELLS)
        assert_array_equal(coarse_w, ref_w)
        if X is colors:
            assert_array_equal(coarse, ref)
        else:
            assert_allclose(coarse, ref, rtol=1e-13)
