"""Seeding and weighted Lloyd iterations (k-means++ and restarts).

k-means++ seeding over weighted points (a colour table or a coreset), with
every random draw made up front (:func:`_start_makers`) so that restarts
give the same result in any order or thread, and the weighted Lloyd
iterations of :class:`sklearn.cluster.KMeans` (same stopping rules, same
empty-cluster rule) compiled without per-call overhead.
"""

from __future__ import annotations

import functools

import numpy as np

from .._jit import njit
from .._parallel import fault_in, run_in_threads
from .distances import (
    BLOCK,
    _sq_dist,
    block_buffers,
    nearest_block,
    nearest_center,
)

__all__ = []


@njit(cache=True, nogil=True)
def _kmeanspp(X, w, k, u_first, u_trials):
    # Greedy weighted k-means++ (Arthur & Vassilvitskii 2007): each new centre
    # is the best of n_trials candidates drawn with probability w * D^2.
    # Plain loops rather than array expressions (np.cumsum(w * closest),
    # row assignments): those bring numba's broadcasting and error-message
    # machinery, which took 3 of the 5 s of a first `skseg segment` to compile.
    n, c = X.shape
    centers = np.empty((k, c))
    cum = np.empty(n)
    acc = 0.0
    for i in range(n):
        acc += w[i]
        cum[i] = acc
    first = _draw(cum, u_first, n)
    for f in range(c):
        centers[0, f] = X[first, f]
    closest = np.empty(n)
    for i in range(n):
        closest[i] = _sq_dist(X, i, centers, 0)
    n_trials = u_trials.shape[1]
    for s in range(1, k):
        acc = 0.0
        for i in range(n):
            acc += w[i] * closest[i]
            cum[i] = acc
        best_pot = np.inf
        best_idx = 0
        for t in range(n_trials):
            idx = _draw(cum, u_trials[s - 1, t], n)
            pot = 0.0
            for i in range(n):
                d = _sq_dist(X, i, X, idx)
                pot += w[i] * (d if d < closest[i] else closest[i])
            if pot < best_pot:
                best_pot = pot
                best_idx = idx
        for f in range(c):
            centers[s, f] = X[best_idx, f]
        for i in range(n):
            d = _sq_dist(X, i, centers, s)
            if d < closest[i]:
                closest[i] = d
    return centers


@njit(cache=True, nogil=True, inline="always")
def _draw(cum, u, n):
    # The point drawn by u in [0, 1) with probability proportional to the
    # increments of cum (running sums): the first i with cum[i] >= u * total.
    # (No min builtin in the kernels: each is one more compile.)
    i = _search_left(cum, u * cum[-1])
    return i if i < n - 1 else n - 1


@njit(cache=True, nogil=True, inline="always")
def _search_left(a, v):
    # np.searchsorted(a, v) (side='left') for an ascending, NaN-free a.
    lo, hi = 0, a.shape[0]
    while lo < hi:
        mid = (lo + hi) >> 1
        if a[mid] < v:
            lo = mid + 1
        else:
            hi = mid
    return lo


@njit(cache=True, nogil=True)
def _lloyd(X, w, init, max_iter, tol, blocks=None):
    # Weighted Lloyd iterations; stops when the total squared centre shift is
    # <= tol (absolute) or the labels no longer change. An empty cluster is
    # moved to the point that is worst served. Returns centres, WCSS, n_iter.
    #
    # The nearest centres are found a point at a time (nearest_center), or,
    # with blocks=True (use_blocks; 3 channels only), by the passes of
    # _lloyd_range (blocks of points at a time; after the first pass only
    # the points whose bounds do not settle their label): 2-4x faster at
    # K = 8-32, bitwise the same result, but slower to compile (with
    # _lloyd_range 1.6-1.7 s against 0.5-0.6 s for the point-at-a-time
    # variant, empty cache). The
    # two are compiled separately (numba drops the branch on a None argument
    # before typing), so a fit that never passes blocks never compiles the
    # blocked scan.
    n, c = X.shape
    k = init.shape[0]
    # Plain loops rather than init.copy(), np.full, sums[:] = 0.0: those
    # compile numba's broadcasting machinery (slower first call).
    centers = np.empty((k, c))
    for j in range(k):
        for f in range(c):
            centers[j, f] = init[j, f]
    labels = np.empty(n, np.int64)
    for i in range(n):
        labels[i] = -1
    d2 = np.empty(n)
    sums = np.empty((k, c))
    wsum = np.empty(k)
    # The blocked passes' bounds (_lloyd_range): each point's gap, and how
    # far each centre moved in the last update (the most, last). Their
    # bookkeeping sits in branches on blocks, which numba drops from the
    # point-at-a-time variant (it compiled 0.57 -> 0.76 s with them).
    # The passes start at point 0, typed int64 as lloyd_threads passes it
    # (a literal 0, or a literal mode, made numba compile _lloyd_range a
    # second time: 0.4 s).
    first = n - n
    gap = np.empty(n if blocks is not None else 0)
    drift = np.empty(k + 1 if blocks is not None else 0)
    if blocks is not None:
        for j in range(k + 1):
            drift[j] = 0.0
    n_iter = 0
    settled = False  # d2 holds the distances to the returned centres
    for it in range(max_iter):
        n_iter = it + 1
        for j in range(k):
            wsum[j] = 0.0
            for f in range(c):
                sums[j, f] = 0.0
        changed = False
        if blocks is None:
            for i in range(n):
                arg, best = nearest_center(X, i, centers)
                if labels[i] != arg:
                    changed = True
                    labels[i] = arg
                d2[i] = best
                wsum[arg] += w[i]
                for f in range(c):
                    sums[arg, f] += w[i] * X[i, f]
        if blocks is not None:
            mode = FULL if it == 0 else BOUNDED
            n_changed = _lloyd_range(
                X, w, centers, labels, d2, gap, drift, sums, wsum, first, n, mode
            )
            changed = n_changed > 0
        if not changed and it > 0:
            settled = True
            break
        if blocks is not None and it > 0:
            for j in range(k):
                if not wsum[j] > 0:
                    # an empty cluster takes the worst-served point: every
                    # distance of this pass, not only those it scanned
                    for i in range(n):
                        d2[i] = _sq_dist(X, i, centers, labels[i])
                    break
        shift = 0.0
        for j in range(k):
            moved = 0.0
            if wsum[j] > 0:
                for f in range(c):
                    new = sums[j, f] / wsum[j]
                    t = new - centers[j, f]
                    shift += t * t
                    moved += t * t
                    centers[j, f] = new
            else:
                far = _argmax_product(w, d2)
                d2[far] = 0.0
                for f in range(c):
                    t = X[far, f] - centers[j, f]
                    shift += t * t
                    moved += t * t
                    centers[j, f] = X[far, f]
            if blocks is not None:
                drift[j] = np.sqrt(moved)
        if blocks is not None:
            top = 0.0
            for j in range(k):
                if drift[j] > top:
                    top = drift[j]
            drift[k] = top
        if shift <= tol:
            break
    inertia = 0.0
    if blocks is not None:
        # the distances to the final centres, summed below (sums: scratch);
        # after a pass that kept every label the centres did not move
        if settled:
            for j in range(k + 1):
                drift[j] = 0.0
        mode = first + FINAL  # int64, not a literal (see first)
        _lloyd_range(X, w, centers, labels, d2, gap, drift, sums, wsum, first, n, mode)
        settled = True
    if settled:
        # the last pass kept every label, so the centres did not move: its
        # distances are the final ones (the same sum, term by term)
        for i in range(n):
            inertia += w[i] * d2[i]
        return centers, inertia, n_iter
    for i in range(n):
        inertia += w[i] * nearest_center(X, i, centers)[1]
    return centers, inertia, n_iter


#: Fewest distinct colours from which fit_palette runs the blocked scan of
#: _lloyd (and splits its exact iterations between threads): on smaller
#: tables it saves a few ms a fit, not the ~0.3 s it takes to compile.
BLOCK_MIN_COLORS = 1 << 17


def lloyd(X, w, init, max_iter, tol, blocks=False):
    """:func:`_lloyd`, with the blocked scan when ``blocks`` is true.

    ``blocks`` is left out of the call when false: one compiled signature
    of the point-at-a-time kernel, whatever the caller passes.
    """
    if not blocks:
        return _lloyd(X, w, init, max_iter, tol)
    return _lloyd(X, w, init, max_iter, tol, True)


def use_blocks(X, n_colors):
    """Whether :func:`lloyd` scans blocks of colours in a fit over ``n_colors``.

    True when the table has at least ``BLOCK_MIN_COLORS`` colours of 3
    channels; otherwise the point-at-a-time scan.
    """
    return X.shape[1] == 3 and n_colors >= BLOCK_MIN_COLORS


#: Modes of _lloyd_range. FULL: every point scanned (the first pass), sums
#: added in point order; BOUNDED: only the points whose bounds do not settle
#: their label scanned, sums in point order; FINAL: as BOUNDED, and every
#: point's distance to its centre. For integer points and weights (exact
#: sums in any order): DELTA, as BOUNDED but the sums get only the changes
#: (a point that changed label subtracted from its old cluster, added to its
#: new); DISTANCES, as FINAL without sums.
FULL, BOUNDED, FINAL, DELTA, DISTANCES = 0, 1, 2, 3, 4


#: A point keeps its label without a scan while its gap (see _lloyd_range)
#: is above this: the rounding errors of the distances are ~1e-10 of it.
GAP_SLACK = 1e-6


#: Points whose bounds _lloyd_range tests before scanning those that need it.
CHUNK = 4096


@njit(cache=True, nogil=True)
def _lloyd_range(X, w, centers, labels, d2, gap, drift, sums, wsum, lo, hi, mode):
    # One assignment pass of _lloyd over the points [lo, hi) (3 channels):
    # their labels, and their weighted sums added to sums and wsum in point
    # order, as _lloyd adds them (DELTA: see the modes above). Returns the
    # number of labels that changed.
    #
    # Hamerly's bounds (2010), kept as one number per point: gap[i] is a
    # lower bound of (distance to the nearest other centre) - (distance to
    # its own centre), exact after a scan. A centre that moved by drift[j]
    # (drift[k]: the most any moved) shrinks it by at most drift[label] +
    # drift[k]; while it stays above GAP_SLACK the label cannot change and
    # the point is not scanned. Per chunk of CHUNK points the bounds are
    # tested first, and the points that need a scan are scanned together,
    # BLOCK at a time (nearest_block, vectorised; one copy of it in the
    # kernel for every mode: each copy cost ~0.3 s of compilation). The
    # labels, and the distances the scans, FINAL and DISTANCES write to d2,
    # are those of a full scan bit for bit, so the result is _lloyd's
    # without bounds. BOUNDED and DELTA write d2 for the points they scan
    # only.
    #
    # The sums of a run of points with one label are kept in registers (read
    # from sums at its start, written back at its end): the same additions
    # in the same order as adding into sums point by point, without a
    # store and a load per addition (neighbouring colours of a table mostly
    # share a label: 0.5 against 1.2 ms for the sums of a 0.5 M-colour
    # table, one thread).
    k = centers.shape[0]
    xb, best, second, arg, rows = block_buffers()
    todo = np.empty(CHUNK, np.int64)
    top = drift[k]
    changed = 0
    cur = -1
    sw = 0.0
    s0 = 0.0
    s1 = 0.0
    s2 = 0.0
    for c0 in range(lo, hi, CHUNK):
        c1 = c0 + CHUNK if c0 + CHUNK <= hi else hi
        n_todo = 0
        if mode == FULL:
            for i in range(c0, c1):
                todo[n_todo] = i
                n_todo += 1
        else:  # the points whose bounds do not settle their label
            for i in range(c0, c1):
                g = gap[i] - (drift[labels[i]] + top)
                gap[i] = g
                todo[n_todo] = i  # kept if it needs a scan (no branch)
                n_todo += 1 if g <= GAP_SLACK else 0
        for t0 in range(0, n_todo, BLOCK):
            m = BLOCK if t0 + BLOCK <= n_todo else n_todo - t0
            for p in range(m):
                rows[p] = todo[t0 + p]
            nearest_block(X, rows, m, centers, xb, best, second, arg)
            for p in range(BLOCK):  # BLOCK long: vectorised
                second[p] = np.sqrt(second[p]) - np.sqrt(best[p])
            for p in range(m):
                i = rows[p]
                a = arg[p]
                old = labels[i]
                if old != a:
                    changed += 1
                    labels[i] = a
                    if mode == DELTA:
                        wi = w[i]
                        wsum[old] -= wi
                        wsum[a] += wi
                        for f in range(3):
                            sums[old, f] -= wi * X[i, f]
                            sums[a, f] += wi * X[i, f]
                d2[i] = best[p]
                gap[i] = second[p]
        if mode == FINAL or mode == DISTANCES:
            for i in range(c0, c1):
                d2[i] = _sq_dist(X, i, centers, labels[i])
        if mode >= DELTA:
            continue
        for i in range(c0, c1):
            a = labels[i]
            if a != cur:
                if cur >= 0:
                    wsum[cur] = sw
                    sums[cur, 0] = s0
                    sums[cur, 1] = s1
                    sums[cur, 2] = s2
                cur = a
                sw = wsum[a]
                s0 = sums[a, 0]
                s1 = sums[a, 1]
                s2 = sums[a, 2]
            wi = w[i]
            sw += wi
            s0 += wi * X[i, 0]
            s1 += wi * X[i, 1]
            s2 += wi * X[i, 2]
    if cur >= 0:
        wsum[cur] = sw
        sums[cur, 0] = s0
        sums[cur, 1] = s1
        sums[cur, 2] = s2
    return changed


#: Runs of points per thread in each pass of lloyd_threads.
PIECES_PER_THREAD = 4


def lloyd_threads(X, w, init, max_iter, tol, n_threads):
    """:func:`_lloyd` with each assignment pass split between threads.

    For points and weights with integer values (a table of integer colours
    and their pixel counts): cluster sums are then exact integers in any
    order, so the threads' sums add up to those of one thread, and after
    the first pass the sums are updated by the changes of labels alone
    (``DELTA``); the result (centres, WCSS, iterations) is bitwise that of
    :func:`_lloyd`. The centre update and the stopping rules are
    ``_lloyd``'s, in the same order of floating-point operations; the WCSS
    is added up point by point in order (``np.cumsum``), as ``_lloyd`` adds
    it.
    """
    n, c = X.shape
    k = init.shape[0]
    centers = np.array(init, dtype=np.float64, order="C")
    labels = np.full(n, -1, np.int64)
    d2 = np.empty(n)
    gap = np.empty(n)
    fault_in(d2)  # fresh pages first touched by one thread (see fault_in)
    fault_in(gap)
    drift = np.zeros(k + 1)
    # PIECES_PER_THREAD runs of points per thread, taken as threads come
    # free, each thread adding into its own sums (a thread can be slower
    # than the other on the same work)
    n_pieces = n_threads * PIECES_PER_THREAD
    cuts = np.linspace(0, n, n_pieces + 1).astype(np.int64)
    part_sums = np.empty((n_threads, k, c))
    part_wsum = np.empty((n_threads, k))
    changed = np.zeros(n_pieces, np.int64)

    def run(slot, piece, mode):
        changed[piece] = _lloyd_range(
            X, w, centers, labels, d2, gap, drift, part_sums[slot],
            part_wsum[slot], cuts[piece], cuts[piece + 1], mode,
        )  # fmt: skip

    def assign(mode):
        part_sums[...] = 0.0
        part_wsum[...] = 0.0
        pieces = [(p, mode) for p in range(n_pieces)]
        run_in_threads(run, pieces, n_threads, slots=True)
        return int(changed.sum())

    n_iter = 0
    settled = False
    sums = np.zeros((k, c))
    wsum = np.zeros(k)
    for it in range(max_iter):
        n_iter = it + 1
        n_changed = assign(FULL if it == 0 else DELTA)
        if n_changed == 0 and it > 0:
            settled = True
            break
        sums += part_sums.sum(axis=0)  # integers: exact in any order
        wsum += part_wsum.sum(axis=0)
        if it > 0 and not (wsum > 0).all():
            # an empty cluster takes the worst-served point: every distance
            # of this pass (drift 0: the same centres, the same labels)
            drift[:] = 0.0
            assign(DISTANCES)
        shift = 0.0
        for j in range(k):  # _lloyd's update, operation by operation
            moved = 0.0
            if wsum[j] > 0:
                for f in range(c):
                    new = sums[j, f] / wsum[j]
                    t = new - centers[j, f]
                    shift += t * t
                    moved += t * t
                    centers[j, f] = new
            else:
                wd = w * d2
                far = int(np.argmax(wd))  # the first maximum, as _argmax_product
                d2[far] = 0.0
                for f in range(c):
                    t = X[far, f] - centers[j, f]
                    shift += t * t
                    moved += t * t
                    centers[j, f] = X[far, f]
            drift[j] = np.sqrt(moved)
        drift[k] = drift[:k].max()
        if shift <= tol:
            break
    if settled:  # the last pass kept every label: the centres did not move
        drift[:] = 0.0
    assign(DISTANCES)  # the distances to the final centres
    # the WCSS added up point by point in order, as _lloyd adds it
    wd = np.multiply(w, d2, out=d2)
    inertia = float(np.cumsum(wd, out=wd)[-1]) if n else 0.0
    return centers, inertia, n_iter


@njit(cache=True, nogil=True, inline="always")
def _argmax_product(a, b):
    # np.argmax(a * b) (the first maximum) without the temporary, nor the
    # array-expression code numba would compile for it.
    far = 0
    top = -np.inf
    for i in range(a.shape[0]):
        v = a[i] * b[i]
        if v > top:
            top = v
            far = i
    return far


def _starts(X, w, k, init, n_init, rng):
    """Initial centres of ``n_init`` restarts, drawn from ``rng`` in order."""
    for make in _start_makers(X, w, k, init, n_init, rng):
        yield make()


def _start_makers(X, w, k, init, n_init, rng):
    """``n_init`` callables making the initial centres of one restart each.

    Every random number is drawn here, in the order :func:`_starts` draws
    them, so the restarts are the same whatever order (or thread) they
    are made in.
    """
    n_trials = 2 + int(np.log(k))
    makers = []
    for _ in range(n_init):
        if init == "k-means++":
            u = rng.uniform(), rng.uniform(size=(k - 1, n_trials))
            makers.append(functools.partial(_kmeanspp, X, w, k, *u))
        else:
            idx = rng.choice(X.shape[0], k, replace=False, p=w / w.sum())
            makers.append(functools.partial(np.take, X, idx, axis=0))
    return makers


@njit(cache=True, nogil=True)
def _grow(X, w, centers, k):
    # Add centres one at a time at the point that contributes most to the
    # WCSS (largest w * D^2), until there are k. Each new centre lowers the
    # WCSS by at least that contribution, so the result is strictly better
    # than ``centers`` unless every point already sits on a centre.
    # Plain loops: np.argmax(w * d2) and row assignments compiled numba's
    # array-expression machinery (6 s of a first ElbowKSelector().fit).
    n, c = X.shape
    m = centers.shape[0]
    out = np.empty((k, c))
    for j in range(m):
        for f in range(c):
            out[j, f] = centers[j, f]
    d2 = np.empty(n)
    for i in range(n):
        best = np.inf
        for j in range(m):
            best = min(best, _sq_dist(X, i, out, j))
        d2[i] = best
    for s in range(m, k):
        far = _argmax_product(w, d2)
        for f in range(c):
            out[s, f] = X[far, f]
        for i in range(n):
            d2[i] = min(d2[i], _sq_dist(X, i, out, s))
    return out


def _one_cluster(colors, weights):
    mean = (weights @ colors) / weights.sum()
    diff = colors - mean
    return mean[None, :], float(weights @ np.einsum("ij,ij->i", diff, diff))
