"""Palette engine: distinct-colour tables and weighted k-means over them.

K-means over the pixels of a photo only ever sees its *distinct* colours, each
as often as it occurs. Clustering the table of distinct colours with their
counts as sample weights therefore has exactly the objective of k-means over
all pixels (the within-cluster sum of squares, WCSS), at a fraction of the
cost: a 4 Mpx photo has about 0.5 M distinct colours, and uint8 colours are
counted in one pass over the pixels with a direct-address table.

Tables are additive: the tables of two shards of a collection merge into the
table of the whole collection (:func:`merge_tables`), which is what
``partial_fit`` and fitting on data spread over many workers rely on.

Restarts (k-means++ seeding and weighted Lloyd iterations, compiled with
numba) run on the table itself when it is small. For large tables they run on
a coreset: the colours are binned on a regular grid and each occupied cell is
replaced by the weighted mean of its colours, weighted by its pixel count. The
WCSS over pixels equals the WCSS of the cell means plus the (constant) spread
inside the cells, as long as no cell is split between clusters, so the coreset
ranks restarts almost exactly as the full table would. The best restarts are
refined on a finer grid, and the best of those by Lloyd iterations on the
exact table (compiled; :class:`sklearn.cluster.KMeans` with ``sample_weight``
= pixel counts when colours x K exceeds ``OWN_EXACT_MAX_WORK``), so the
returned centres are a k-means fixed point of the objective over all pixels
and ``inertia`` is its exact WCSS. On tables of at least ``BLOCK_MIN_COLORS``
colours the compiled Lloyd scans blocks of colours at a time
(:func:`skseg._engine.distances.nearest_block`), after its first pass only
the colours whose bounds (Hamerly's) do not settle their label, and its
exact iterations are split between the fit's threads (:func:`lloyd_threads`,
which after the first pass updates the cluster sums by the colours that
changed label); the result is bitwise the same as one thread's
point-at-a-time scan.

Above ``LARGE_K`` (16) colours :func:`fit_palette` takes the path of
:func:`fit_large_k`: fewer restarts above 64 colours, and an exact
refinement that stops when an iteration gains less than ``EXACT_STALL`` of
the WCSS (``inertia`` is still the exact WCSS of the returned centres;
measured 0.4-0.8 % above the WCSS of the fixed point reached before, on a
2048x2048 photo at K = 64 and 256). Up to ``LLOYD_MAX_K`` (32) colours its
coreset runs are the compiled Lloyd of small palettes (and so are the exact
iterations on a table of fewer than ``BLOCK_MIN_COLORS`` colours); above it,
and on the exact iterations of large tables, Lloyd iterations with
Hamerly's bounds (and local ones) from :mod:`skseg._engine.hamerly`, in
threads.

:func:`fit_palette_path` fits palettes for many K at once (the curve of the
elbow method): the table and its coresets are built once, every K is also
started from the palette of the previous K plus one colour, and the WCSS
never increases with K.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.cluster import KMeans
from sklearn.utils import check_random_state

from .._jit import njit
from .._parallel import n_workers, run_in_threads
from .coresets import (
    CORESET_MIN_COLORS,
    FINE_CELLS,
    _coreset_levels,
    nested_levels,
    table_grid_sums,
)
from .distances import _abs_tol, nearest_center
from .hamerly import hamerly
from .lloyd import (
    BLOCK_MIN_COLORS,
    _grow,
    _lloyd,
    _one_cluster,
    _start_makers,
    _starts,
    lloyd,
    lloyd_threads,
    use_blocks,
)

__all__ = ["Palette", "fit_palette", "fit_palette_path", "cluster_stats"]


# Restarts (the best on the coarse coreset) refined on the fine coreset.
N_REFINE = 5


# fit_palette_path runs n_init restarts for every K: coresets pay off from
# smaller tables there (the exact refinement keeps the WCSS exact).
PATH_CORESET_MIN_COLORS = 10_000


# fit_palette_path's exact refinement: at most this many Lloyd iterations
# from the fine coreset's solution (measured: within 0.1 % of the fixed
# points' WCSS), or until the WCSS gains less than PATH_STALL of itself for
# more than LARGE_K colours.
PATH_EXACT_ITER = 2


PATH_STALL = 1e-3


# fit_palette_path refines fewer of the best coarse restarts on the fine
# coreset (the warm start from the previous K competes there too).
PATH_N_REFINE = 2


#: Above this many clusters fit_palette takes the bounded path below.
LARGE_K = 16
#: fit_palette refines on the exact table with the compiled Lloyd while
#: colours x K is at most this (scikit-learn's KMeans above it). Measured
#: on 2 cores (fit, best of 3): the 2048x2048 astronaut (0.5 M colours)
#: K=3 170 -> 85 ms, K=8 191 -> 117 ms, K=16 274 ms with scikit-learn
#: against 286 ms compiled; the coffee photo K=16 246 -> 87 ms. Same
#: WCSS to 6 digits. Raised from 2**22 when the compiled scan became
#: blocked (distances.nearest_block): the astronaut's K=16 fit (best of 5)
#: 156 ms through scikit-learn, 98 ms compiled, WCSS the same to 6 digits.
OWN_EXACT_MAX_WORK = 2**24


#: fit_large_k runs the compiled Lloyd of small palettes on the coresets up
#: to this many clusters, and on the exact table too when it is small (then
#: a first fit compiles no Hamerly kernel: 2.4-3.1 s). Measured at K = 32,
#: 2 cores, best of 5 (the coreset runs of the 2048x2048 astronaut): 5 k
#: points 0.9 against 2.5 ms with Hamerly's, 29 k points 3.7 against 4.1 ms;
#: the exact iterations over its 0.5 M colours took 48-55 ms on 2 threads
#: against Hamerly's 31 ms, so a large table keeps Hamerly's.
LLOYD_MAX_K = 32


#: Up to this many clusters every restart is run (see n_large_restarts).
LARGE_RESTART_K = 64


#: Restarts refined on the fine coreset (the best on the coarse one).
LARGE_N_REFINE = 3
#: refit_on_coresets runs this share of n_init restarts (the current palette
#: competes with them).
REFIT_SHARE = 3
#: refit_on_coresets refines this many of its best coarse runs on the fine level.
REFIT_N_REFINE = 1
#: ... after at most this many Lloyd iterations on the coarse one.
REFIT_COARSE_ITER = 20


#: The exact refinement stops when an iteration gains less than this
#: fraction of the WCSS (measured: 0.3-0.7 % above the fixed point).
EXACT_STALL = 3e-4


def n_large_restarts(k, n_init):
    """Restarts run at ``k`` clusters: ``n_init`` up to 64, then fewer.

    A restart costs about ``k**2`` (``k`` seeds, each Lloyd iteration over
    ``k`` centres, on a coreset of at least ``8 * k`` colours), so above
    ``LARGE_RESTART_K`` clusters the number of restarts is scaled down by
    ``(LARGE_RESTART_K / k) ** 2``: the WCSS of k-means++ restarts with
    hundreds of clusters differs by less than their refinement changes it.
    """
    scale = (LARGE_RESTART_K / int(k)) ** 2
    return max(1, min(int(n_init), int(np.ceil(int(n_init) * scale))))


@dataclass
class Palette:
    """Result of :func:`fit_palette`."""

    centers: np.ndarray
    inertia: float
    n_iter: int


def _sorted(palette):
    c = palette.centers
    order = np.lexsort(np.vstack([c.T[::-1], c.mean(axis=1)[None]]))
    return Palette(np.ascontiguousarray(c[order]), palette.inertia, palette.n_iter)


def fit_palette(
    table,
    n_clusters,
    *,
    init="k-means++",
    n_init=10,
    max_iter=300,
    tol=1e-4,
    random_state=None,
    n_threads=1,
    warm=None,
):
    """Weighted k-means over a colour table.

    Parameters
    ----------
    table : ColorTable
        Distinct colours and their pixel counts.
    n_clusters : int
        Number of colours of the palette. Must not exceed ``table.n_colors``.
    init : {'k-means++', 'random'} or ndarray of shape (n_clusters, n_channels)
        Initialisation, as in :class:`sklearn.cluster.KMeans`.
    n_init : int
        Number of restarts; the one with the lowest WCSS is kept.
    max_iter, tol : int, float
        Lloyd stopping rules, as in :class:`sklearn.cluster.KMeans`.
    random_state : int, RandomState instance or None
        Seeds the restarts.
    n_threads : int, default=1
        Threads for the restarts (and, for palettes of more than ``LARGE_K``
        colours, the Lloyd iterations of
        :func:`skseg._engine.strategy.fit_large_k`); the palette does not
        depend on it.
    warm : ndarray of shape (n_clusters, n_channels), optional
        One more candidate besides the restarts (``partial_fit``'s current
        palette): refined on the exact table from there, kept if its WCSS
        is lower.

    Returns
    -------
    palette : Palette
        Centres sorted by brightness (mean over channels, then
        lexicographically), the exact WCSS over all pixels, and the number
        of Lloyd iterations of the returned solution.
    """
    if warm is not None and isinstance(init, str) and int(n_clusters) > LARGE_K:
        options = {"max_iter": max_iter, "tol": tol, "n_threads": n_threads}
        best = fit_palette(
            table,
            n_clusters,
            init=init,
            n_init=n_init,
            random_state=random_state,
            **options,
        )
        other = fit_palette(table, n_clusters, init=warm, n_init=1, **options)
        return other if other.inertia < best.inertia else best
    colors = table.colors.astype(np.float64)
    weights = table.counts.astype(np.float64)
    k = int(n_clusters)
    if k > table.n_colors:
        raise ValueError(
            f"n_clusters={k} is larger than the number of distinct "
            f"colours ({table.n_colors})."
        )
    if k == table.n_colors:
        return _sorted(Palette(colors.copy(), 0.0, 0))
    rng = check_random_state(random_state)
    # the table's range and variance (the grids' box and the exact
    # tolerance), by numpy over a transposed copy: a first fit compiles no
    # statistics kernel (0.2 s). The variance (2.3 ms for half a million
    # colours) is taken on another thread while the coresets are made.
    by_channel = np.ascontiguousarray(table.colors.T)  # uint8 if the image is
    lo = by_channel.min(axis=1).astype(np.float64)
    hi = by_channel.max(axis=1).astype(np.float64)

    def exact_tolerance():
        return float(tol * np.mean(by_channel.var(axis=1, dtype=np.float64)))

    if isinstance(init, str) and k > LARGE_K:
        # Many colours: fit_large_k (fewer restarts above 64 colours, Hamerly's
        # bounds above LLOYD_MAX_K and on the exact iterations of large tables).
        def starts(X, w):
            return _start_makers(X, w, k, init, n_large_restarts(k, n_init), rng)

        tol_exact, levels = _beside(
            exact_tolerance,
            lambda: nested_levels(
                colors, weights, tol, k, mid=k > LARGE_RESTART_K, box=(lo, hi)
            ),
            n_threads if table.n_colors >= CORESET_MIN_COLORS else 1,
        )
        best, inertia, n_iter = fit_large_k(
            colors, weights, k, starts, levels, max_iter, tol_exact, n_threads
        )
        return _sorted(Palette(best, float(inertia), int(n_iter)))
    # the fine grid's sums first, on the threads (table_grid_sums), then the
    # rest of the coresets beside the variance
    large = table.n_colors >= CORESET_MIN_COLORS and colors.shape[1] <= 8
    fine = (
        table_grid_sums(colors, weights, FINE_CELLS, (lo, hi), n_threads)
        if large
        else None
    )
    tol_exact, levels = _beside(
        exact_tolerance,
        lambda: _coreset_levels(
            colors, weights, tol, k, CORESET_MIN_COLORS, (lo, hi), fine
        ),
        n_threads if large else 1,
    )
    # Small tables run Lloyd on the exact weighted colours themselves.
    exact = None if levels is not None else (colors, weights, tol_exact)
    if isinstance(init, str):
        extra = () if warm is None or levels is None else (warm,)
        best, inertia, n_iter = _best_restart(
            k, init, n_init, rng, max_iter, exact, levels, extra=extra,
            n_threads=n_threads, n_colors=table.n_colors,
        )  # fmt: skip
    else:
        best = np.asarray(init, dtype=np.float64)
        if exact is not None:
            blocks = use_blocks(exact[0], table.n_colors)
            best, inertia, n_iter = lloyd(*exact[:2], best, max_iter, exact[2], blocks)
    if exact is not None:
        return _sorted(Palette(best, float(inertia), int(n_iter)))
    # Exact refinement on the weighted table: a k-means fixed point of the
    # objective over all pixels, and its WCSS. The compiled Lloyd unless the
    # table times K is large, where scikit-learn's is faster; on the fit's
    # threads for a large table of integer colours (bitwise the same result).
    if colors.shape[0] * k <= OWN_EXACT_MAX_WORK:
        n = colors.shape[0]
        blocks = use_blocks(colors, n)
        if n_threads > 1 and blocks and table.colors.dtype.kind in "ui":
            threads = min(int(n_threads), n // (BLOCK_MIN_COLORS // 2))
            exact = lloyd_threads(colors, weights, best, max_iter, tol_exact, threads)
        else:
            exact = lloyd(colors, weights, best, max_iter, tol_exact, blocks)
        best, inertia, n_iter = exact
        return _sorted(Palette(best, float(inertia), int(n_iter)))
    km = KMeans(k, init=best, n_init=1, max_iter=max_iter, tol=tol, copy_x=False).fit(
        colors, sample_weight=weights
    )
    return _sorted(Palette(km.cluster_centers_, float(km.inertia_), int(km.n_iter_)))


@njit(cache=True, nogil=True)
def _cluster_stats(colors, counts, centers, weight, sums, squares):
    # Add every colour (in its own dtype) to its nearest centre: pixel count,
    # colour sum and sum of squared norms per cluster, in one pass.
    n, c = colors.shape
    for i in range(n):
        arg = nearest_center(colors, i, centers)[0]
        w = counts[i]
        norm = 0.0
        for f in range(c):
            x = float(colors[i, f])
            sums[arg, f] += w * x
            norm += x * x
        weight[arg] += w
        squares[arg] += w * norm


def cluster_stats(table, centers, n_threads=1):
    """Per-cluster statistics of ``table`` assigned to its nearest ``centers``.

    ``n_threads`` threads each take a run of the table's rows (the kernel
    releases the GIL); their sums are added in run order.

    Returns
    -------
    weight : ndarray of shape (n_clusters,)
        Pixels of each cluster.
    sums : ndarray of shape (n_clusters, n_channels)
        Sum of the colours of its pixels.
    squares : ndarray of shape (n_clusters,)
        Sum of the squared norms of the colours of its pixels. The WCSS of
        the assignment with centres ``sums / weight`` is
        ``sum(squares - |sums|**2 / weight)``.
    """
    k, c = centers.shape
    centers = np.ascontiguousarray(centers, dtype=np.float64)
    n_runs = max(1, min(int(n_threads), table.n_colors // 100_000))
    bounds = np.linspace(0, table.n_colors, n_runs + 1).round().astype(int)
    parts = [(np.zeros(k), np.zeros((k, c)), np.zeros(k)) for _ in range(n_runs)]

    def run(i):
        a, b = bounds[i], bounds[i + 1]
        _cluster_stats(table.colors[a:b], table.counts[a:b], centers, *parts[i])

    run_in_threads(run, [(i,) for i in range(n_runs)], n_runs)
    weight, sums, squares = parts[0]
    for w, s, q in parts[1:]:
        weight, sums, squares = weight + w, sums + s, squares + q
    return weight, sums, squares


def _best_restart(
    k,
    init,
    n_init,
    rng,
    max_iter,
    exact,
    levels,
    n_refine=N_REFINE,
    extra=(),
    n_threads=1,
    n_colors=0,
):
    """Best of ``n_init`` restarts: (centres, WCSS, n_iter) on its level.

    Without coresets (``levels`` None) the restarts run on the ``exact``
    table; otherwise on the coarse coreset, and the best ``N_REFINE`` of them
    are refined on the fine one. The restarts (seeding and Lloyd) and the
    refinements share ``n_threads`` threads; every random number is drawn
    beforehand, so the result does not depend on it. ``n_colors``: the
    table's, for the scan of :func:`_lloyd` (:func:`use_blocks`).
    """
    if levels is None:
        X, w, tol_abs = exact
        makers = _start_makers(X, w, k, init, n_init, rng)
        runs = _in_threads(
            lambda make: lloyd(
                X, w, make(), max_iter, tol_abs, use_blocks(X, n_colors)
            ),
            makers,
            n_threads,
        )
        return min(runs, key=lambda r: r[1])
    (Xc, wc, tc), (Xf, wf, tf) = levels
    makers = _start_makers(Xc, wc, k, init, n_init, rng)
    runs = _in_threads(
        lambda make: lloyd(Xc, wc, make(), max_iter, tc, use_blocks(Xc, n_colors)),
        makers,
        n_threads,
    )
    runs.sort(key=lambda r: r[1])
    # ``extra`` starts (partial_fit's current palette) compete here too
    starts = [r[0] for r in runs[:n_refine]] + [np.asarray(c, float) for c in extra]
    refined = _in_threads(
        lambda c: lloyd(Xf, wf, c, max_iter, tf, use_blocks(Xf, n_colors)),
        starts,
        n_threads,
    )
    return min(refined, key=lambda r: r[1])


def fit_large_k(colors, weights, k, starts, levels, max_iter, tol_exact, n_threads=1):
    """Fit many colours: the best start, refined level by level.

    The best of the ``starts`` on the coarse coreset is refined on the fine
    one and then on the exact table.

    Parameters
    ----------
    colors, weights : ndarray
        The exact table (float64).
    k : int
    starts : callable
        ``starts(X, w)`` returns a list of callables, each making the
        initial centres of one restart (the random draws already made, so
        that the restarts can run in any order).
    levels : tuple or None
        ``((Xc, wc, tol_c), (Xf, wf, tol_f))`` grid coresets (and a third,
        finer one: :func:`nested_levels` with ``mid``), or None to run the
        restarts on the exact table itself (then to convergence).
    max_iter : int
    tol_exact : float
        Absolute tolerance on the exact table.
    n_threads : int, default=1
        Threads for the restarts, the refinements and the exact iterations.
        The result does not depend on it.

    Up to ``LLOYD_MAX_K`` colours the runs on the coresets are the compiled
    Lloyd of small palettes (:func:`_lloyd`), and so are the exact
    iterations on a table of fewer than ``BLOCK_MIN_COLORS`` colours (to
    convergence); otherwise Hamerly's bounded iterations. Both are Lloyd's
    iterations; the work differs.

    Returns
    -------
    centers, inertia, n_iter
        Exact WCSS over the table for the returned centres.
    """
    few = k <= LLOYD_MAX_K

    def best_of(X, w, inits, tol, **options):
        # Lloyd from every init (in threads when there are several), sorted
        # by WCSS, ties in the order of the inits.
        def one(init):
            init = init() if callable(init) else init
            if few:
                blocks = use_blocks(X, colors.shape[0])
                return lloyd(X, w, init, max_iter, tol, blocks)
            return hamerly(X, w, init, max_iter, tol, **options)

        runs = _in_threads(one, inits, n_threads)
        order = sorted(range(len(runs)), key=lambda i: runs[i][1])
        return [runs[i] for i in order]

    if levels is None:
        best = best_of(colors, weights, starts(colors, weights), tol_exact)[0]
        return best[0], best[1], best[2]
    (Xc, wc, tc), (Xf, wf, tf) = levels[:2]
    runs = best_of(Xc, wc, starts(Xc, wc), tc)
    n_refine = n_large_restarts(k, LARGE_N_REFINE)
    start = best_of(Xf, wf, [r[0] for r in runs[:n_refine]], tf)[0][0]
    if len(levels) > 2:  # the grid between the fine coreset and the table
        Xm, wm, tm = levels[2]
        start = hamerly(
            Xm, wm, start, max_iter, tm, stall=EXACT_STALL, n_threads=n_threads
        )[0]
    if few and colors.shape[0] < BLOCK_MIN_COLORS:
        exact = _lloyd(colors, weights, start, max_iter, tol_exact)
    else:
        exact = hamerly(
            colors,
            weights,
            start,
            max_iter,
            tol_exact,
            stall=EXACT_STALL,
            n_threads=n_threads,
        )
    return exact[0], exact[1], exact[2]


def fit_palette_path(
    table,
    k_values,
    *,
    init="k-means++",
    n_init=10,
    max_iter=300,
    tol=1e-4,
    random_state=None,
    n_jobs=None,
):
    """Weighted k-means over one colour table for several numbers of colours.

    The curve of the elbow method at little more than the cost of one fit:
    the table's float copy, its coresets and the tolerance are computed once,
    and each K is run with ``n_init`` restarts (each K with its own seed, so
    the result does not depend on ``n_jobs``) plus a warm start from the
    palette of the previous K with one colour added where the WCSS is worst
    served. The exact WCSS is then guaranteed never to increase with K.

    Parameters
    ----------
    table : ColorTable
        Distinct colours and their pixel counts.
    k_values : sequence of int
        Distinct numbers of colours, each between 1 and ``table.n_colors``.
    init : {'k-means++', 'random'}
        Initialisation of the restarts.
    n_init : int
        Restarts per K.
    max_iter, tol : int, float
        Lloyd stopping rules, as in :class:`sklearn.cluster.KMeans`.
    random_state : int, RandomState instance or None
        Seeds the restarts (one seed per K, drawn in increasing K).
    n_jobs : int or None
        Threads over which the values of K are spread (the compiled loops
        release the GIL).

    Returns
    -------
    palettes : list of Palette
        One per value of ``k_values``, in the same order, each with the
        exact WCSS over all pixels of its centres as ``inertia``; ``inertia``
        is non-increasing in K. Small tables (below
        ``PATH_CORESET_MIN_COLORS``) are fitted to a k-means fixed point;
        large ones get ``PATH_EXACT_ITER`` Lloyd iterations on the exact
        table after the coresets (measured within 0.1 % of the fixed
        point's WCSS on a 2048x2048 photo).

    Notes
    -----
    For tables of at least ``PATH_CORESET_MIN_COLORS`` colours the restarts
    run on the coarse grid coreset and the best ``PATH_N_REFINE`` of them are
    refined on the fine one, as in :func:`fit_palette`; the warm start
    competes on the fine coreset. The
    final refinement on the exact table uses the compiled weighted Lloyd
    (the algorithm of :class:`sklearn.cluster.KMeans` with ``sample_weight``
    and the same tolerance, checked against it in the tests). It has no
    per-call overhead (scikit-learn's validation and threadpool set-up cost
    tens of ms per K) and releases the GIL, so values of K can run in
    threads; per Lloyd iteration it is as fast as scikit-learn's for small
    K and slower for large K, where scikit-learn uses both cores. If a K
    still ends above the previous K's WCSS, it is restarted from
    the previous palette plus its worst-served colour on the exact table,
    which is strictly better.
    """
    ks = [int(k) for k in k_values]
    if len(set(ks)) != len(ks) or not ks:
        raise ValueError(f"k_values must be distinct and non-empty, got {ks}.")
    if min(ks) < 1 or max(ks) > table.n_colors:
        raise ValueError(
            f"k_values must be between 1 and the number of distinct colours "
            f"({table.n_colors}), got {ks}."
        )
    if not isinstance(init, str):
        raise ValueError("fit_palette_path needs init='k-means++' or 'random'.")
    order = sorted(range(len(ks)), key=lambda i: ks[i])
    ascending = [ks[i] for i in order]
    colors = table.colors.astype(np.float64)
    weights = table.counts.astype(np.float64)
    rng = check_random_state(random_state)
    seeds = rng.randint(np.iinfo(np.int32).max, size=len(ascending))
    exact_level = (colors, weights, _abs_tol(colors, tol))

    # Restart level: coresets for large tables (as in fit_palette), the
    # exact table otherwise. One level for the whole path.
    levels = nested_levels(colors, weights, tol, ascending[-1], PATH_CORESET_MIN_COLORS)
    # Where warm starts compete: the fine coreset, or the exact table.
    X_mid, w_mid, tol_mid = levels[1] if levels is not None else exact_level

    def restarts(k, seed):
        if k == table.n_colors:
            return colors.copy(), 0.0, 0
        if k == 1:
            center, inertia = _one_cluster(X_mid, w_mid)
            return center, inertia, 1
        rng = np.random.RandomState(seed)
        return _best_restart(
            k, init, n_init, rng, max_iter, exact_level, levels, PATH_N_REFINE
        )

    mid = _map(restarts, list(zip(ascending, seeds)), n_jobs)

    # Warm starts: K from the best palette of the previous K plus new
    # colours where the WCSS is worst served, kept where it does better.
    for i in range(1, len(ascending)):
        k = ascending[i]
        if k == table.n_colors:
            continue
        start = _grow(X_mid, w_mid, mid[i - 1][0], k)
        warm = _lloyd(X_mid, w_mid, start, max_iter, tol_mid)
        if warm[1] < mid[i][1]:
            mid[i] = warm

    # Exact refinement on the weighted table: a k-means fixed point of the
    # objective over all pixels, and its exact WCSS.
    def exact(run, k):
        if levels is None or k == table.n_colors:
            return run
        if k == 1:
            return _one_cluster(colors, weights) + (1,)
        return few_exact_iterations(colors, weights, run[0], max_iter, exact_level[2])

    final = _map(exact, list(zip(mid, ascending)), n_jobs)

    # Monotone curve: a K above the previous K's WCSS restarts from the
    # previous palette plus its worst-served colour (strictly better).
    for i in range(1, len(ascending)):
        if final[i][1] > final[i - 1][1]:
            start = _grow(colors, weights, final[i - 1][0], ascending[i])
            final[i] = _lloyd(colors, weights, start, max_iter, exact_level[2])

    palettes = [None] * len(ks)
    for pos, (centers, inertia, n_iter) in zip(order, final):
        palettes[pos] = _sorted(Palette(centers, float(inertia), int(n_iter)))
    return palettes


def few_exact_iterations(colors, weights, centers, max_iter, tol_abs):
    """From a coreset's solution to near the fixed point of the exact table.

    A few Lloyd iterations on the exact (float64) table: ``PATH_EXACT_ITER``
    (measured within 0.1 % of the fixed point's WCSS), or for more than
    ``LARGE_K`` colours Hamerly's iterations until one gains less than
    ``PATH_STALL``. Returns ``(centers, inertia, n_iter)``, ``inertia`` the
    exact WCSS of ``centers`` over the table.
    """
    if centers.shape[0] > LARGE_K:
        return hamerly(colors, weights, centers, max_iter, tol_abs, stall=PATH_STALL)[
            :3
        ]
    return _lloyd(colors, weights, centers, min(max_iter, PATH_EXACT_ITER), tol_abs)


def _map(func, args, n_jobs):
    if len(args) == 1 or n_workers(n_jobs) == 1:
        return [func(*a) for a in args]
    from sklearn.utils.parallel import Parallel, delayed

    return Parallel(n_jobs=n_jobs, prefer="threads")(delayed(func)(*a) for a in args)


def _beside(first, second, n_threads):
    """``(first(), second())``, the two calls on two threads if there are.

    ``second`` is dealt first (the calling thread takes it).
    """
    done_second, done_first = _in_threads(
        lambda call: call(), [second, first], min(int(n_threads), 2)
    )
    return done_first, done_second


def _in_threads(func, items, n_threads):
    """Return ``[func(item) for item in items]``, computed in threads.

    The calls share ``n_threads`` threads (compiled kernels that release the
    GIL); the results are in the items' order.
    """
    out = [None] * len(items)

    def one(i):
        out[i] = func(items[i])

    run_in_threads(one, [(i,) for i in range(len(items))], n_threads)
    return out


def refit_on_coresets(
    levels, n_clusters, warm, *, init, n_init, max_iter, rng, share=1, n_threads=1
):
    """Restarts and a warm start on coresets, no exact pass.

    ``partial_fit`` after its first chunk: ``n_init / share`` restarts
    (rounded up) and Lloyd from the current palette ``warm`` compete on the
    coarse level of ``levels`` (``(coarse, fine)`` as :func:`nested_levels`
    gives them, for the table of every pixel seen); the best is refined on
    the fine one. For more than :data:`LARGE_K` clusters the runs use
    Hamerly's bounds and as many of them are refined as
    :func:`fit_large_k` refines. Work in the size of the coresets, not of
    the table. The runs share ``n_threads`` threads; the result does not
    depend on it (every random draw is made first).
    """
    n_restarts = max(1, -(-int(n_init) // share))
    (Xc, wc, tc), (Xf, wf, tf) = levels
    starts = list(_starts(Xc, wc, n_clusters, init, n_restarts, rng))
    starts.append(np.asarray(warm, dtype=np.float64))
    coarse_iter = min(max_iter, REFIT_COARSE_ITER)
    n_refine = REFIT_N_REFINE
    if int(n_clusters) > LARGE_K:
        # many colours: Hamerly's bounds and as many refined as fit_large_k
        def iterate(X, w, start, n_iter, tol):
            return hamerly(X, w, start, n_iter, tol)[:3]

        n_refine = n_large_restarts(n_clusters, LARGE_N_REFINE)
    else:
        iterate = _lloyd
    runs = _in_threads(
        lambda start: iterate(Xc, wc, start, coarse_iter, tc), starts, n_threads
    )
    # the best REFIT_N_REFINE of them refined on the fine coreset
    best = sorted(runs, key=lambda r: r[1])[:n_refine]
    refined = _in_threads(
        lambda run: iterate(Xf, wf, run[0], max_iter, tf), best, n_threads
    )
    centers, _, n_iter = min(refined, key=lambda r: r[1])
    return _sorted(Palette(np.asarray(centers), None, int(n_iter)))
