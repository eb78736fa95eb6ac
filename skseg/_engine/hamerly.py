"""Bounded Lloyd iterations for many clusters, and nearest-centre search over tables.

Weighted Lloyd iterations cost ``n_points x K`` distances each; at K = 64-256
on a table of half a million colours that is most of a fit. Hamerly's
algorithm [1]_ keeps, for every point, an upper bound on the distance to its
centre and a lower bound on the distance to every other centre; when the
upper bound is below the larger of the lower bound and half the distance
from its centre to the nearest other centre, the point cannot change
cluster and no distance is computed. The bounds follow the centres' shifts.
Hamerly's lower bound drops by the largest shift of any centre, which with
hundreds of centres that move unevenly rescans a quarter of the points at
every iteration. :func:`_assign` therefore keeps two lower bounds, one to
the point's second nearest centre (the one it is usually contested with,
which drops only by that centre's own shift) and one to all the others
(farther: the third nearest distance), and where the latter fails it tries
a local bound (only the centres near the point's own count with their full
shift, the others with their distance from it minus their shift:
:func:`_drift`). The bounds are stored against running sums of the shifts,
so a point they settle is read and not written. The cluster sums follow
the points that change cluster. The iterations are exactly Lloyd's (same
assignments, the same stopping rules and empty-cluster rule as
:func:`skseg._engine.lloyd._lloyd`; the sums agree to rounding, bitwise for
integer colours and counts): only the work differs.

Runs over many points split each assignment step over threads
(:func:`_iterate_threads`), each thread keeping the sums of its own points;
the restarts and refinements of :func:`fit_large_k` run in threads too, with
every random draw made beforehand. The result does not depend on the number
of threads (:func:`skseg._parallel.fit_threads` chooses it).

Every kernel here is compiled for one signature (float64 points, float64
weights and centres), on first use only; the helpers marked
:func:`skseg._jit.subroutine` are compiled only into the kernels that call
them.

References
----------
.. [1] G. Hamerly, "Making k-means even faster", SIAM International
   Conference on Data Mining, 2010, pp. 130-140.
"""

from __future__ import annotations

import numpy as np
from numba import types

from .._jit import njit, subroutine
from .._parallel import run_in_threads
from .distances import _sq_dist, _sq_dist_rgb

__all__ = ["hamerly"]


#: Fewest points per thread of a threaded Lloyd run: below that a thread's
#: share of an iteration costs less than handing it over.
THREAD_MIN_POINTS = 1 << 16


def _scan_result(*args):
    """Return type of :func:`_pruned_scan`."""
    i8, f8 = types.int64, types.float64
    return types.Tuple((i8, f8, i8, f8, f8))


@subroutine(_scan_result)
def _pruned_scan(X, i, C, order, gaps, g):
    # Nearest centre of point i (first minimum: ties to the lowest index)
    # and its squared distance, the second nearest and its distance, and
    # the distance to the third nearest, visiting the centres in order of
    # their distance from centre g: by the triangle inequality
    # |x - c_j| >= gaps[g, r] - |x - c_g|, so the scan stops once that
    # exceeds the third best distance (a relative margin covers rounding).
    # The stopping gap is updated only when the third best changes.
    k = C.shape[0]
    dg2 = _sq_dist_rgb(X, i, C, g)
    dg = np.sqrt(dg2)
    best = dg2
    arg = g
    second = np.inf
    arg2 = g
    third = np.inf
    stop = np.inf
    for r in range(1, k):
        if gaps[g, r] > stop:
            break
        j = order[g, r]
        d = _sq_dist_rgb(X, i, C, j)
        if d < best or (d == best and j < arg):
            third = second
            second = best
            arg2 = arg
            best = d
            arg = j
        elif d < second:
            third = second
            second = d
            arg2 = j
        elif d < third:
            third = d
        else:
            continue
        stop = dg + np.sqrt(third) * (1.0 + 1e-12) + 1e-12
    return arg, best, arg2, np.sqrt(second), np.sqrt(third)


@subroutine(types.none)
def _drift(order, gaps, shift, near, far):
    # After the centres moved by shift (distances), with order/gaps the
    # geometry of the centres before the move: near[a, r] = the largest
    # shift of the centres order[a, 1..r], far[a, r] = the smallest of
    # gaps[a, r'] - shift[order[a, r']] over r' >= r (far[a, k] = inf).
    k = order.shape[0]
    for a in range(k):
        top = 0.0
        near[a, 0] = 0.0
        for r in range(1, k):
            t = shift[order[a, r]]
            if t > top:
                top = t
            near[a, r] = top
        low = np.inf
        far[a, k] = np.inf
        for r in range(k - 1, 0, -1):
            t = gaps[a, r] - shift[order[a, r]]
            if t < low:
                low = t
            far[a, r] = low
        far[a, 0] = far[a, 1] if k > 1 else np.inf


@subroutine(types.int64)
def _assign(
    X,
    w,
    C,
    order,
    gaps,
    s,
    labels,
    upper,
    lower,
    second,
    shift,
    cum,
    old_gaps,
    near,
    far,
    sums,
    wsum,
    count,
    track,
):
    # One bounded assignment step; returns the number of points whose label
    # changed. labels[i] < 0 marks a point without bounds. With track, the
    # cluster sums follow the points that change cluster.
    #
    # Bounds of point i in cluster a, against the current centres:
    #   u  = upper[i] + cum[a]       >= |x - c_a|
    #   lb = lower[i, 0] - cum[b]    <= |x - c_b|, b = second[i], its second
    #                                   nearest centre when last scanned
    #   lr = lower[i, 1] - cum[k]    <= |x - c_j| for every other centre j
    # cum[j] adds up the shifts of centre j, cum[k] the largest shift of
    # every step: the bounds follow the centres without being written, so
    # a point they settle costs a read of its label and bounds, nothing
    # more (writing every bound at every step was most of a step's time on
    # half a million colours). Keeping b apart (the centre a point is
    # usually contested with) settles most points; where the bound to the
    # others does not, a local one is tried: a centre j with
    # |c_j - c_a| >= lr + u (before the last step) was at least
    # |c_j - c_a| - u from the point, so only the shifts of the centres
    # nearer to c_a than that count in full (near), the others by their own
    # gap minus shift (far).
    n = X.shape[0]
    k = C.shape[0]
    changed = 0
    g = 0
    for i in range(n):
        a = labels[i]
        if a >= 0:
            b = second[i]
            u = upper[i] + cum[a]
            lb = lower[i, 0] - cum[b]
            lr = lower[i, 1] - cum[k]
            low = lb if lb < lr else lr
            m = s[a] if s[a] > low else low
            if u <= m:
                continue
            if lr < u and k > 3:
                # the bounds before the last step
                u_old = u - shift[a]
                lr_old = lr + shift[k]
                reach = lr_old + u_old
                left = 1
                right = k
                while left < right:  # first r with old_gaps[a, r] >= reach
                    mid = (left + right) >> 1
                    if old_gaps[a, mid] < reach:
                        left = mid + 1
                    else:
                        right = mid
                local = lr_old - near[a, left - 1]
                t = far[a, left] - u_old
                if t < local:
                    local = t
                if local > lr:
                    lr = local
                    lower[i, 1] = lr + cum[k]
                    low = lb if lb < lr else lr
                    m = s[a] if s[a] > low else low
                    if u <= m:
                        continue
            u = np.sqrt(_sq_dist_rgb(X, i, C, a))
            upper[i] = u - cum[a]
            if u <= m:
                continue
            g = a
        arg, best, arg2, d2nd, d3rd = _pruned_scan(X, i, C, order, gaps, g)
        upper[i] = np.sqrt(best) - cum[arg]
        second[i] = arg2
        lower[i, 0] = d2nd + cum[arg2]
        lower[i, 1] = d3rd + cum[k]
        g = arg
        if arg != a:
            labels[i] = arg
            changed += 1
            if not track:
                continue
            if a >= 0:
                count[a] -= 1
                wsum[a] -= w[i]
                for f in range(X.shape[1]):
                    sums[a, f] -= w[i] * X[i, f]
                if count[a] == 0:  # no rounding residue in an empty sum
                    wsum[a] = 0.0
                    for f in range(X.shape[1]):
                        sums[a, f] = 0.0
            count[arg] += 1
            wsum[arg] += w[i]
            for f in range(X.shape[1]):
                sums[arg, f] += w[i] * X[i, f]
    return changed


@njit(cache=True, nogil=True)
def _assign_blocks(
    X,
    w,
    C,
    order,
    gaps,
    s,
    labels,
    upper,
    lower,
    second,
    shift,
    cum,
    old_gaps,
    near,
    far,
    sums,
    wsum,
    count,
    track,
    cuts,
    first,
    step,
):
    # _assign over the blocks first, first + step, ... of the points
    # (block b = rows cuts[b]:cuts[b + 1]): one thread's share of a threaded
    # iteration, in one call (handing the GIL over per block made threads
    # wait up to Python's switch interval).
    changed = 0
    for b in range(first, cuts.shape[0] - 1, step):
        lo = cuts[b]
        hi = cuts[b + 1]
        changed += _assign(
            X[lo:hi],
            w[lo:hi],
            C,
            order,
            gaps,
            s,
            labels[lo:hi],
            upper[lo:hi],
            lower[lo:hi],
            second[lo:hi],
            shift,
            cum,
            old_gaps,
            near,
            far,
            sums,
            wsum,
            count,
            track,
        )
    return changed


@njit(cache=True, nogil=True)
def _centroid_wcss(norm2, sums, wsum, count):
    # WCSS of an assignment with every centre at its centroid, from the
    # cluster sums and norm2 = sum of w |x|^2 (for the stall rule).
    wcss = norm2
    for j in range(sums.shape[0]):
        if count[j] > 0:
            q = 0.0
            for f in range(sums.shape[1]):
                q += sums[j, f] * sums[j, f]
            wcss -= q / wsum[j]
    return wcss


@subroutine(types.float64)
def _update(
    X,
    w,
    C,
    labels,
    upper,
    sums,
    wsum,
    count,
    shift,
    cum,
    order,
    gaps,
    old_gaps,
    near,
    far,
):
    # Update step: every centre to its centroid; an empty cluster moves to
    # the point that is worst served (largest w * D^2 against the centres of
    # this assignment), each to a different point, as skseg._engine.lloyd._lloyd.
    # Sets shift[:k] (the distance each centre moved) and shift[k] (the
    # largest), adds them to cum, and makes the drift tables of _assign;
    # returns the total squared shift.
    n, c = X.shape
    k = C.shape[0]
    emptied = False
    total = 0.0
    for j in range(k):
        if count[j] > 0:
            d = 0.0
            for f in range(c):
                t = sums[j, f] / wsum[j] - C[j, f]
                d += t * t
            shift[j] = d
            continue
        if not emptied:
            emptied = True
            for i in range(n):
                upper[i] = w[i] * _sq_dist(X, i, C, labels[i])
        far_i = 0
        worst = -np.inf
        for i in range(n):
            if upper[i] > worst:
                worst = upper[i]
                far_i = i
        upper[far_i] = 0.0
        d = 0.0
        for f in range(c):
            t = X[far_i, f] - C[j, f]
            d += t * t
            sums[j, f] = X[far_i, f]  # C[j] = X[far_i] below (count 0)
        shift[j] = d
    if emptied:  # upper held w * D^2: the upper bounds are unknown again
        for i in range(n):
            upper[i] = np.inf
    for j in range(k):
        for f in range(c):
            C[j, f] = sums[j, f] / wsum[j] if count[j] > 0 else sums[j, f]
            if count[j] == 0:
                sums[j, f] = 0.0
        total += shift[j]
        shift[j] = np.sqrt(shift[j])
    top = 0.0
    for j in range(k):
        if shift[j] > top:
            top = shift[j]
        cum[j] += shift[j]
    shift[k] = top
    cum[k] += top
    # geometry of the centres before this move, for the local bounds
    for j in range(k):
        for r in range(k):
            old_gaps[j, r] = gaps[j, r]
    _drift(order, gaps, shift, near, far)
    return total


@njit(cache=True, nogil=True)
def _iterate(
    X,
    w,
    C,
    order,
    gaps,
    s,
    max_iter,
    tol,
    stall,
    labels,
    upper,
    lower,
    second,
    sums,
    wsum,
    count,
    shift,
    cum,
    old_gaps,
    near,
    far,
):
    # Lloyd iterations with bounds on one thread, in place on C (k, c) and
    # labels; returns the number of iterations. The cluster sums follow the
    # points that change cluster (no pass over the points to recompute them).
    n, c = X.shape
    k = C.shape[0]
    norm2 = 0.0  # sum of w |x|^2, for _centroid_wcss
    for i in range(n):
        for f in range(c):
            norm2 += w[i] * X[i, f] * X[i, f]
    for j in range(k):
        wsum[j] = 0.0
        count[j] = 0
        for f in range(c):
            sums[j, f] = 0.0
    previous = np.inf
    n_iter = 0
    for it in range(max_iter):
        n_iter = it + 1
        if it > 0:
            _regeometry(C, order, gaps, s)
        changed = _assign(
            X,
            w,
            C,
            order,
            gaps,
            s,
            labels,
            upper,
            lower,
            second,
            shift,
            cum,
            old_gaps,
            near,
            far,
            sums,
            wsum,
            count,
            True,
        )
        if changed == 0 and it > 0:
            return n_iter
        stop = False
        if stall > 0.0:
            wcss = _centroid_wcss(norm2, sums, wsum, count)
            stop = previous - wcss < stall * wcss
            previous = wcss
        total = _update(
            X,
            w,
            C,
            labels,
            upper,
            sums,
            wsum,
            count,
            shift,
            cum,
            order,
            gaps,
            old_gaps,
            near,
            far,
        )
        if total <= tol or stop:
            break
    # Labels for the centres of the last update (their nearest centres)
    _regeometry(C, order, gaps, s)
    _assign(
        X,
        w,
        C,
        order,
        gaps,
        s,
        labels,
        upper,
        lower,
        second,
        shift,
        cum,
        old_gaps,
        near,
        far,
        sums,
        wsum,
        count,
        False,
    )
    return n_iter


@njit(cache=True, nogil=True)
def _update_step(
    X,
    w,
    C,
    labels,
    upper,
    sums,
    wsum,
    count,
    shift,
    cum,
    order,
    gaps,
    old_gaps,
    near,
    far,
):
    # _regeometry and _update for the threaded driver (they are compiled
    # into their callers only).
    return _update(
        X,
        w,
        C,
        labels,
        upper,
        sums,
        wsum,
        count,
        shift,
        cum,
        order,
        gaps,
        old_gaps,
        near,
        far,
    )


@njit(cache=True, nogil=True)
def _regeometry_step(C, order, gaps, s):
    _regeometry(C, order, gaps, s)


def _iterate_threads(
    X,
    w,
    C,
    order,
    gaps,
    s,
    max_iter,
    tol,
    stall,
    labels,
    upper,
    lower,
    second,
    n_threads,
    tables,
):
    # _iterate with the assignment steps split over n_threads threads (the
    # kernels release the GIL): each thread keeps the cluster sums of its own
    # points, added up for the update step, which one thread does.
    n, c = X.shape
    k = C.shape[0]
    # Each thread takes every n_threads-th block of points: the work of an
    # iteration gathers where clusters meet, so equal halves would leave one
    # thread waiting for the other.
    n_blocks = max(n_threads, min(8 * n_threads, n // (THREAD_MIN_POINTS // 4)))
    cuts = np.linspace(0, n, n_blocks + 1).astype(np.int64)
    m = n_threads
    part_sums = np.zeros((m, k, c))
    part_wsum = np.zeros((m, k))
    part_count = np.zeros((m, k), np.int64)
    changed = np.zeros(m, np.int64)
    shift, cum, old_gaps, near, far = tables

    def step(p, track):
        changed[p] = _assign_blocks(
            X,
            w,
            C,
            order,
            gaps,
            s,
            labels,
            upper,
            lower,
            second,
            shift,
            cum,
            old_gaps,
            near,
            far,
            part_sums[p],
            part_wsum[p],
            part_count[p],
            track,
            cuts,
            p,
            m,
        )

    # sum of w |x|^2 in numpy's own loop: a BLAS product (w @ ...) left
    # OpenBLAS's threads spinning, and the two assignment threads then ran
    # at half speed (K=256, 509k colours: 125 ms on two threads against
    # 130 ms on one; 72 ms without the BLAS call)
    norm2 = float(np.einsum("i,ij,ij->", w, X, X)) if stall > 0.0 else 0.0
    previous = np.inf
    n_iter = 0
    for it in range(max_iter):
        n_iter = it + 1
        if it > 0:
            _regeometry_step(C, order, gaps, s)
        run_in_threads(step, [(p, True) for p in range(m)], n_threads)
        if changed.sum() == 0 and it > 0:
            return n_iter
        sums = part_sums.sum(axis=0)
        wsum = part_wsum.sum(axis=0)
        count = part_count.sum(axis=0)
        stop = False
        if stall > 0.0:
            wcss = _centroid_wcss(norm2, sums, wsum, count)
            stop = previous - wcss < stall * wcss
            previous = wcss
        total = _update_step(
            X,
            w,
            C,
            labels,
            upper,
            sums,
            wsum,
            count,
            shift,
            cum,
            order,
            gaps,
            old_gaps,
            near,
            far,
        )
        if total <= tol or stop:
            break
    _regeometry_step(C, order, gaps, s)
    run_in_threads(step, [(p, False) for p in range(m)], n_threads)
    return n_iter


@njit(cache=True, nogil=True)
def _wcss(X, w, labels, C):
    # Exact weighted WCSS of an assignment.
    total = 0.0
    for i in range(X.shape[0]):
        total += w[i] * _sq_dist(X, i, C, labels[i])
    return total


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


@subroutine(types.none)
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


def hamerly(X, w, init, max_iter, tol, *, stall=0.0, n_threads=1):
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
        :func:`skseg._engine.lloyd._lloyd`: it also stops when no label changes).
    stall : float, default=0.0
        Also stop when an iteration lowers the WCSS (of the assignment, with
        every centre at its centroid) by less than this fraction of it; the
        centres are then moved once more and the points labelled against
        them, so the result is not a fixed point but its WCSS is exact.
    n_threads : int, default=1
        Threads for the assignment steps of a run over at least
        ``2 * THREAD_MIN_POINTS`` points. The result does not depend on it
        beyond the order in which cluster sums are added (bitwise the same
        for integer colours and counts).

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
    lower = np.zeros((n, 2))
    second = np.zeros(n, np.int64)
    order, gaps, s = _geometry(C)
    tables = (
        np.zeros(k + 1),  # shift: of each centre at the last step, the largest
        np.zeros(k + 1),  # cum: shifts added up, the largest added up
        np.empty((k, k)),  # old_gaps
        np.empty((k, k)),  # near
        np.empty((k, k + 1)),  # far
    )
    args = (X, w, C, order, gaps, s, int(max_iter), float(tol), float(stall))
    if n_threads > 1 and n >= THREAD_MIN_POINTS * 2:
        n_threads = min(int(n_threads), n // THREAD_MIN_POINTS)
        n_iter = _iterate_threads(
            *args, labels, upper, lower, second, n_threads, tables
        )
    else:
        sums = np.empty((k, c))
        n_iter = _iterate(
            *args,
            labels,
            upper,
            lower,
            second,
            sums,
            np.empty(k),
            np.empty(k, np.int64),
            *tables,
        )
    return C, _wcss(X, w, labels, C), n_iter, labels
