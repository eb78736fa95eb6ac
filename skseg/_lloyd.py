"""Bounded Lloyd iterations for many clusters, and nearest-centre search over tables.

Weighted Lloyd iterations cost ``n_points x K`` distances each; at K = 64-256
on a table of half a million colours that is most of a fit. Hamerly's
algorithm [1]_ keeps, for every point, an upper bound on the distance to its
centre and a lower bound on the distance to every other centre; when the
upper bound is below the larger of the lower bound and half the distance
from its centre to the nearest other centre, the point cannot change
cluster and no distance is computed. The bounds follow the centres' shifts,
so after the first few iterations almost every point is skipped. The
iterations are exactly Lloyd's (same assignments, the centre sums
recomputed in the points' order, the same stopping rules and empty-cluster
rule as :func:`skseg._palette._lloyd`): only the work differs.

:func:`nearest_pruned` labels the distinct colours of a table against a fixed
palette: each colour starts from the label of the colour before it in the
table (neighbours in lexicographic order are usually close), and the other
centres are visited in order of their distance from that one, stopping where
the triangle inequality rules out every remaining centre. The labels are
those of a full scan (ties to the lowest index).

Every kernel here is compiled for one signature (float64 points, float64
weights and centres), on first use only.

References
----------
.. [1] G. Hamerly, "Making k-means even faster", SIAM International
   Conference on Data Mining, 2010, pp. 130-140.
"""

from __future__ import annotations

import numpy as np

from ._jit import njit

__all__ = ["hamerly", "nearest_pruned"]


@njit(cache=True, nogil=True, inline="always")
def _sq_dist(A, i, B, j):
    # Squared distance between rows A[i] and B[j] (indices, not row views:
    # less for numba to compile). The one distance of the palette kernels.
    d = 0.0
    for f in range(A.shape[1]):
        t = A[i, f] - B[j, f]
        d += t * t
    return d


@njit(cache=True, nogil=True)
def _pruned_scan(X, i, C, order, gaps, g):
    # Nearest centre of point i (first minimum: ties to the lowest index),
    # its squared distance and the distance to the second nearest, visiting
    # the centres in order of their distance from centre g: by the triangle
    # inequality |x - c_j| >= gaps[g, r] - |x - c_g|, so the scan stops once
    # that exceeds the second best distance (a relative margin covers
    # rounding).
    k = C.shape[0]
    dg2 = _sq_dist(X, i, C, g)
    dg = np.sqrt(dg2)
    best = dg2
    arg = g
    second = np.inf
    for r in range(1, k):
        if gaps[g, r] - dg > np.sqrt(second) * (1.0 + 1e-12) + 1e-12:
            break
        j = order[g, r]
        d = _sq_dist(X, i, C, j)
        if d < best or (d == best and j < arg):
            second = best
            best = d
            arg = j
        elif d < second:
            second = d
    return arg, best, np.sqrt(second)


@njit(cache=True, nogil=True)
def _assign(X, C, order, gaps, s, labels, upper, lower):
    # One bounded assignment step (Hamerly); returns the number of points
    # whose label changed. labels[i] < 0 marks a point without bounds.
    changed = 0
    g = 0
    for i in range(X.shape[0]):
        a = labels[i]
        if a >= 0:
            m = max(s[a], lower[i])
            if upper[i] <= m:
                continue
            upper[i] = np.sqrt(_sq_dist(X, i, C, a))
            if upper[i] <= m:
                continue
            g = a
        arg, best, second = _pruned_scan(X, i, C, order, gaps, g)
        upper[i] = np.sqrt(best)
        lower[i] = second
        g = arg
        if arg != a:
            labels[i] = arg
            changed += 1
    return changed


@njit(cache=True, nogil=True)
def _weighted_sums(X, w, labels, C, sums, wsum):
    # Cluster sums in the points' order; returns the exact WCSS of the
    # assignment against the centres C.
    k, c = sums.shape
    for j in range(k):
        wsum[j] = 0.0
        for f in range(c):
            sums[j, f] = 0.0
    wcss = 0.0
    for i in range(X.shape[0]):
        a = labels[i]
        wsum[a] += w[i]
        for f in range(c):
            sums[a, f] += w[i] * X[i, f]
        wcss += w[i] * _sq_dist(X, i, C, a)
    return wcss


@njit(cache=True, nogil=True)
def _loosen(labels, upper, lower, shift, top1, top2, arg1):
    # Bounds follow the centres: the own centre moved by shift[a], any other
    # by at most the largest shift (the second largest for the points of the
    # centre that moved most).
    for i in range(labels.shape[0]):
        a = labels[i]
        upper[i] += shift[a]
        lower[i] -= top2 if a == arg1 else top1


def _geometry(C):
    """Centres sorted by distance from each centre, the distances, half gaps."""
    diff = C[:, None, :] - C[None, :, :]
    gaps = np.sqrt(np.einsum("ijk,ijk->ij", diff, diff))
    k = C.shape[0]
    np.fill_diagonal(gaps, -1.0)  # each centre first in its own order
    order = np.argsort(gaps, axis=1, kind="stable")
    sorted_gaps = np.take_along_axis(gaps, order, axis=1)
    sorted_gaps[:, 0] = 0.0
    s = 0.5 * (sorted_gaps[:, 1] if k > 1 else np.full(k, np.inf))
    return order, np.ascontiguousarray(sorted_gaps), s


@njit(cache=True, nogil=True)
def _regeometry(C, order, gaps, s):
    # _geometry after the centres moved a little: the previous order is
    # nearly sorted, so an insertion sort of each row is nearly linear.
    k = C.shape[0]
    for j in range(k):
        for r in range(k):
            gaps[j, r] = np.sqrt(_sq_dist(C, j, C, order[j, r]))
        gaps[j, 0] = 0.0
        for r in range(2, k):
            g = gaps[j, r]
            o = order[j, r]
            q = r - 1
            while q >= 1 and gaps[j, q] > g:
                gaps[j, q + 1] = gaps[j, q]
                order[j, q + 1] = order[j, q]
                q -= 1
            gaps[j, q + 1] = g
            order[j, q + 1] = o
        s[j] = 0.5 * gaps[j, 1] if k > 1 else np.inf


def hamerly(X, w, init, max_iter, tol, *, stall=0.0):
    """Weighted Lloyd iterations with Hamerly's bounds.

    Parameters
    ----------
    X : ndarray of shape (n_points, n_channels), float64
    w : ndarray of shape (n_points,), float64
        Weights (pixel counts).
    init : ndarray of shape (n_clusters, n_channels), float64
    max_iter : int
    tol : float
        Absolute tolerance on the total squared centre shift (as
        :func:`skseg._palette._lloyd`: it also stops when no label changes).
    stall : float, default=0.0
        Also stop when an iteration lowers the WCSS by less than this
        fraction of it; the centres returned are then those of the last
        assignment (its WCSS is exact for them), not a fixed point.

    Returns
    -------
    centers, inertia, n_iter, labels
        The centres, their exact weighted WCSS, the number of iterations and
        the label of every point (its nearest centre, ties to the lowest
        index).
    """
    X = np.ascontiguousarray(X, dtype=np.float64)
    w = np.ascontiguousarray(w, dtype=np.float64)
    C = np.array(init, dtype=np.float64, order="C")
    n = X.shape[0]
    k, c = C.shape
    labels = np.full(n, -1, np.int64)
    upper = np.full(n, np.inf)
    lower = np.zeros(n)
    sums = np.empty((k, c))
    wsum = np.empty(k)
    previous = np.inf
    n_iter = 0
    order, gaps, s = _geometry(C)
    for it in range(int(max_iter)):
        n_iter = it + 1
        if it > 0:
            _regeometry(C, order, gaps, s)
        changed = _assign(X, C, order, gaps, s, labels, upper, lower)
        wcss = _weighted_sums(X, w, labels, C, sums, wsum)
        if (changed == 0 and it > 0) or previous - wcss < stall * wcss:
            return C, wcss, n_iter, labels
        previous = wcss
        new = C.copy()
        full = wsum > 0
        new[full] = sums[full] / wsum[full, None]
        if not full.all():
            # As _lloyd: an empty cluster moves to the point that is worst
            # served (largest w * D^2), each to a different point.
            d2 = w * np.einsum("ij,ij->i", X - C[labels], X - C[labels])
            for j in np.flatnonzero(~full):
                far = int(np.argmax(d2))
                d2[far] = 0.0
                new[j] = X[far]
        shift2 = np.einsum("ij,ij->i", new - C, new - C)
        C = new
        shift = np.sqrt(shift2)
        top = np.argsort(shift)[::-1]
        top1 = shift[top[0]]
        top2 = shift[top[1]] if k > 1 else 0.0
        _loosen(labels, upper, lower, shift, top1, top2, int(top[0]))
        if shift2.sum() <= tol:
            break
    _regeometry(C, order, gaps, s)
    _assign(X, C, order, gaps, s, labels, upper, lower)
    wcss = _weighted_sums(X, w, labels, C, sums, wsum)
    return C, wcss, n_iter, labels


@njit(cache=True, nogil=True)
def _nearest_pruned(X, C, order, gaps, labels, best_d2):
    # order[g] = centres sorted by their distance from centre g (g first),
    # gaps[g, r] = that distance. Labels and squared distances of a full
    # scan, with ties to the lowest index.
    n = X.shape[0]
    k = C.shape[0]
    g = 0
    for i in range(n):
        dg2 = _sq_dist(X, i, C, g)
        dg = np.sqrt(dg2)
        best = dg2
        arg = g
        for r in range(1, k):
            # |x - c_j| >= gaps[g, r] - dg: stop once that exceeds the best
            # distance (a relative margin covers rounding; ties are kept).
            if gaps[g, r] - dg > np.sqrt(best) * (1.0 + 1e-12) + 1e-12:
                break
            j = order[g, r]
            d = _sq_dist(X, i, C, j)
            if d < best or (d == best and j < arg):
                best = d
                arg = j
        labels[i] = arg
        best_d2[i] = best
        g = arg


def nearest_pruned(X, centers):
    """Nearest centre of every row of ``X``, as a full scan finds it.

    Parameters
    ----------
    X : ndarray of shape (n_points, n_channels), float64
        Points, best in an order where consecutive points are close (the
        lexicographic order of a colour table).
    centers : ndarray of shape (n_clusters, n_channels), float64

    Returns
    -------
    labels : ndarray of shape (n_points,), int32
        Index of the nearest centre (the lowest among equally near ones).
    d2 : ndarray of shape (n_points,), float64
        Squared distance to it.
    """
    X = np.ascontiguousarray(X, dtype=np.float64)
    C = np.ascontiguousarray(centers, dtype=np.float64)
    order, gaps, _ = _geometry(C)
    labels = np.empty(X.shape[0], np.int32)
    d2 = np.empty(X.shape[0])
    _nearest_pruned(X, C, order, gaps, labels, d2)
    return labels, d2


# --------------------------------------------------------------------------
# Palettes of many colours

#: Above this many clusters fit_palette takes the bounded path below.
LARGE_K = 16
#: Up to this many clusters every restart is run (see n_large_restarts).
LARGE_RESTART_K = 64
#: Restarts refined on the fine coreset (the best on the coarse one).
N_REFINE = 3
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


def nested_levels(colors, weights, tol, k, min_colors=None):
    """Fine and coarse grid coresets of a large table, the coarse from the fine.

    As :func:`skseg._palette._coreset_levels` (same grids: 64 and 32 bins per
    axis for 3 channels over the table's bounding box), but the coarse cells
    are made from the fine cells' means, a pass over the fine coreset rather
    than over the table: with nested grids every fine cell lies inside one
    coarse cell, so the coarse coreset is the same. None for a table too
    small (fewer than ``min_colors``, default ``CORESET_MIN_COLORS``, or
    too few occupied coarse cells) for coresets.
    """
    from ._palette import (
        COARSE_CELLS,
        CORESET_MIN_COLORS,
        FINE_CELLS,
        _abs_tol,
        _grid_accumulate,
    )

    n, c = colors.shape
    if min_colors is None:
        min_colors = CORESET_MIN_COLORS
    if n < min_colors or c > 8:
        return None
    lo = colors.min(axis=0)
    span = colors.max(axis=0) - lo
    span[span == 0] = 1.0
    grids = []
    X, w = colors, weights
    for cells in (FINE_CELLS, COARSE_CELLS):
        per_axis = max(2, int(round(cells ** (1.0 / c))))
        wsum = np.zeros(per_axis**c)
        sums = np.zeros((per_axis**c, c))
        _grid_accumulate(X, w, lo, per_axis / span, per_axis, wsum, sums)
        occupied = np.flatnonzero(wsum)
        w = wsum[occupied]
        X = sums[occupied] / w[:, None]
        grids.append((X, w, _abs_tol(X, tol)))
    if grids[1][0].shape[0] < 8 * k:
        return None
    return grids[1], grids[0]


def fit_large_k(colors, weights, k, starts, levels, max_iter, tol_exact):
    """Best of the ``starts`` on the coarse coreset, refined on the fine one and
    then on the exact table.

    Parameters
    ----------
    colors, weights : ndarray
        The exact table (float64).
    k : int
    starts : callable
        ``starts(X, w)`` yields initial centres for the restart level.
    levels : tuple or None
        ``((Xc, wc, tol_c), (Xf, wf, tol_f))`` grid coresets, or None to run
        the restarts on the exact table itself (then to convergence).
    max_iter : int
    tol_exact : float
        Absolute tolerance on the exact table.

    Returns
    -------
    centers, inertia, n_iter
        Exact WCSS over the table for the returned centres.
    """
    if levels is None:
        runs = [
            hamerly(colors, weights, s, max_iter, tol_exact)
            for s in starts(colors, weights)
        ]
        best = min(runs, key=lambda r: r[1])
        return best[0], best[1], best[2]
    (Xc, wc, tc), (Xf, wf, tf) = levels
    runs = [hamerly(Xc, wc, s, max_iter, tc) for s in starts(Xc, wc)]
    runs.sort(key=lambda r: r[1])
    n_refine = n_large_restarts(k, N_REFINE)
    refined = [hamerly(Xf, wf, r[0], max_iter, tf) for r in runs[:n_refine]]
    fine = min(refined, key=lambda r: r[1])
    exact = hamerly(colors, weights, fine[0], max_iter, tol_exact, stall=EXACT_STALL)
    return exact[0], exact[1], exact[2]
