"""Distance and statistics primitives of the palette engine.

The one squared distance of the palette kernels (:func:`_sq_dist`, and its
3-channel form for the large-palette scans), the nearest-centre scans the
kernels compile into themselves (:func:`nearest_center`, a point at a time;
:func:`nearest_guessed`, a pixel at a time with the previous pixel's label
tried first, for the labels and Lloyd passes over pixels;
:func:`nearest_block`, a block of colours at a time, for the Lloyd
iterations over large tables), and the column statistics of a table
(bounds and variance: the tolerance of Lloyd's stopping rule, the boxes of
the grid coresets).
"""

from __future__ import annotations

import numpy as np
from numba import types

from .._jit import njit, subroutine

__all__ = [
    "BLOCK",
    "block_buffers",
    "column_stats",
    "nearest_block",
    "guess_thresholds",
    "nearest_center",
    "nearest_guessed",
]


@njit(cache=True, nogil=True, inline="always")
def _sq_dist(A, i, B, j):
    # Squared distance between rows A[i] and B[j] (indices, not row views:
    # less for numba to compile). The one distance of the palette kernels.
    d = 0.0
    for f in range(A.shape[1]):
        t = A[i, f] - B[j, f]
        d += t * t
    return d


def _index_and_distance(*args):
    """Return type of :func:`nearest_center`."""
    return types.Tuple((types.int64, types.float64))


@subroutine(_index_and_distance)
def nearest_center(X, i, C):
    # Nearest centre of row i of X by a full scan of C (first minimum: ties
    # to the lowest index) and its squared distance; X in its own dtype.
    # Compiled into each kernel that calls it.
    best = np.inf
    arg = 0
    for j in range(C.shape[0]):
        d = _sq_dist(X, i, C, j)
        if d < best:
            best = d
            arg = j
    return arg, best


#: Points scanned together by :func:`nearest_block`.
BLOCK = 64


@njit(cache=True, nogil=True, inline="always")
def block_buffers():
    # Work arrays of nearest_block: (xb, best, second, arg, rows).
    return (
        np.empty((3, BLOCK)),
        np.empty(BLOCK),
        np.empty(BLOCK),
        np.empty(BLOCK, np.int64),
        np.empty(BLOCK, np.int64),
    )


@subroutine(types.none)
def nearest_block(X, rows, m, C, xb, best, second, arg):
    # Nearest centre of the m <= BLOCK rows rows[0], ..., rows[m - 1] of X
    # (in X's own dtype) by a full scan of C (first minimum: ties to the
    # lowest index): arg[p] and its squared distance best[p] for row
    # rows[p], and second[p] the squared distance to the nearest of the
    # other centres (a tie gives second[p] == best[p]). Work arrays from
    # block_buffers. Compiled into each kernel that calls it, once (a
    # subroutine: called per block, its call costs nothing).
    #
    # Every squared distance is _sq_dist's bit for bit (x - c per channel,
    # squares added in channel order). For 3 channels the loop runs over the
    # block of points, transposed into xb, for one centre at a time, always
    # BLOCK points long (a short block padded with its first point): the
    # compiler vectorises it without a remainder loop, 2-4x faster at
    # K = 8-32 than a point at a time. 3 channels only (colour tables).
    k = C.shape[0]
    x0 = xb[0]
    x1 = xb[1]
    x2 = xb[2]
    for p in range(BLOCK):
        i = rows[p] if p < m else rows[0]
        x0[p] = np.float64(X[i, 0])
        x1[p] = np.float64(X[i, 1])
        x2[p] = np.float64(X[i, 2])
        best[p] = np.inf
        second[p] = np.inf
        arg[p] = 0
    for j in range(k):
        c0 = C[j, 0]
        c1 = C[j, 1]
        c2 = C[j, 2]
        for p in range(BLOCK):
            t0 = x0[p] - c0
            t1 = x1[p] - c1
            t2 = x2[p] - c2
            d = t0 * t0 + t1 * t1 + t2 * t2
            b = best[p]
            # the second: min(second, max(best, d)), as selects
            high = d if d > b else b
            s = second[p]
            second[p] = high if high < s else s
            better = d < b
            best[p] = d if better else b
            arg[p] = j if better else arg[p]


#: A pixel's guess (the label of the pixel before it) is taken when the
#: pixel is nearer to it than this fraction of half the distance to the
#: guess's nearest other centre (squared: (1 - GUESS_MARGIN) * d2 / 4).
#: The margin is far above the rounding of the squared distances (a few
#: units in the 16th digit): every other centre is then farther in exact
#: arithmetic by a factor 1 + 2e-6, and so in floating point too.
GUESS_MARGIN = 1e-6


def guess_thresholds(C):
    """Every centre's guess threshold for :func:`nearest_guessed`.

    ``thr[a]``: ``(1 - GUESS_MARGIN) / 4`` of the squared distance from
    centre ``a`` to its nearest other centre (inf for a single centre, 0
    for a duplicated one: never taken). numpy: nothing to compile.
    """
    C = np.asarray(C, dtype=np.float64)
    d2 = ((C[:, None, :] - C[None, :, :]) ** 2).sum(axis=2)
    np.fill_diagonal(d2, np.inf)
    return 0.25 * (1.0 - GUESS_MARGIN) * d2.min(axis=1)


@subroutine(_index_and_distance)
def nearest_guessed(X, i, C, thr, guess):
    # nearest_center(X, i, C), the guess tried first: a pixel nearer to
    # centre ``guess`` than thr[guess] is strictly nearer to it than to any
    # other centre, and its squared distance is _sq_dist's, so the result is
    # the full scan's. Neighbouring pixels mostly share their nearest
    # centre: on a photo at K = 8 one distance instead of 8 for most pixels.
    # The scan is nearest_center's, written out (called from here, it made
    # each kernel compile 0.1-0.2 s longer).
    d = _sq_dist(X, i, C, guess)
    if d < thr[guess]:
        return guess, d
    best = np.inf
    arg = 0
    for j in range(C.shape[0]):
        d = _sq_dist(X, i, C, j)
        if d < best:
            best = d
            arg = j
    return arg, best


@njit(cache=True, nogil=True, inline="always")
def _sq_dist_rgb(A, i, B, j):
    # _sq_dist with the loop written out for 3 channels (colour tables), for
    # the scans of the large-palette kernels: ~5 % of a K = 64-256 fit.
    # The other kernels keep the loop, which compiles faster.
    if A.shape[1] == 3:
        t0 = A[i, 0] - B[j, 0]
        t1 = A[i, 1] - B[j, 1]
        t2 = A[i, 2] - B[j, 2]
        return t0 * t0 + t1 * t1 + t2 * t2
    return _sq_dist(A, i, B, j)


#: Rows from which column_stats uses its kernel rather than numpy.
_STATS_MIN_ROWS = 1 << 16


def column_stats(X, variance=True):
    """Minimum, maximum and variance of every column of a float64 ``X``.

    numpy's reductions along the first axis of a ``(n, 3)`` array stride
    over it: on a table of half a million colours ``min``, ``max`` and
    ``var`` took 12, 12 and 15 ms; the kernel reads it once for the range
    and once for the variance (two passes, as numpy: the mean first).
    With ``variance=False`` only the range (one pass); the variance is None.
    """
    if X.shape[0] < _STATS_MIN_ROWS:
        return X.min(axis=0), X.max(axis=0), np.var(X, axis=0) if variance else None
    c = X.shape[1]
    out = np.empty((4, c))
    _column_stats(np.ascontiguousarray(X, dtype=np.float64), out, variance)
    return out[0], out[1], out[3] if variance else None


@njit(cache=True, nogil=True)
def _column_stats(X, out, variance):
    # out rows: minimum, maximum, mean, variance of each column.
    n, c = X.shape
    for f in range(c):
        out[0, f] = np.inf
        out[1, f] = -np.inf
        out[2, f] = 0.0
        out[3, f] = 0.0
    for i in range(n):
        for f in range(c):
            v = X[i, f]
            if v < out[0, f]:
                out[0, f] = v
            if v > out[1, f]:
                out[1, f] = v
            out[2, f] += v
    for f in range(c):
        out[2, f] /= n
    if not variance:
        return
    for i in range(n):
        for f in range(c):
            t = X[i, f] - out[2, f]
            out[3, f] += t * t
    for f in range(c):
        out[3, f] /= n


def _abs_tol(X, tol):
    # scikit-learn's convention: tol is relative to the mean feature variance.
    # column_stats' variance (the same numbers), without the range it would
    # also compute: 1.2 of the 1.9 ms it took on a fine coreset of 29 k rows.
    if X.shape[0] < _STATS_MIN_ROWS:
        return float(tol * np.mean(np.var(X, axis=0)))
    return float(tol * np.mean(column_stats(X)[2]))
