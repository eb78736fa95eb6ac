"""Grid coresets of a colour table.

The colours are binned on a regular grid over their bounding box and each
occupied cell is replaced by the weighted mean of its colours, weighted by
its pixel count. The WCSS over pixels equals the WCSS of the cell means
plus the (constant) spread inside the cells as long as no cell is split
between clusters, so a coreset ranks k-means restarts almost exactly as the
full table would, at a fraction of the cost.

:func:`nested_levels` builds the levels a fit runs on (coarse, fine and,
for many colours, a grid between the fine one and the table), each coarser
level from the one below it.
"""

from __future__ import annotations

import bisect

import numpy as np

from .._jit import njit
from .._parallel import run_in_threads
from .distances import _abs_tol, column_stats

__all__ = ["CORESET_MIN_COLORS", "nested_levels"]

#: Tables with more distinct colours than this are clustered through coresets.
CORESET_MIN_COLORS = 40_000


# Grid cells aimed for by the coarse coreset (restarts) and the fine one
# (refinement of the best restarts); 32 and 64 bins per axis for RGB.
COARSE_CELLS = 2**15


FINE_CELLS = 2**18


#: Cells of the grid between the fine coreset and the table, for palettes of
#: more than LARGE_RESTART_K colours (128 bins per axis for 3 channels: on
#: a 2048x2048 photo 141 k cells for 509 k colours). The fine grid's cells
#: are as wide as the clusters of such palettes are apart, so the exact
#: iterations started from it are many; from this grid they are few.
MID_CELLS = 2**21


def _per_axis(cells, c):
    """Bins per axis of a grid of about ``cells`` cells over ``c`` channels."""
    return max(2, int(round(cells ** (1.0 / c))))


def _grid_coreset(colors, weights, cells, box=None, raw=False, dense=None):
    """Grid coreset: weighted mean colour and total weight of every occupied cell.

    ``box``: ``(lo, hi)``, the colours' bounding box if known. With ``raw``,
    also the occupied cells' numbers and their weighted colour sums.
    ``dense``: the grid's ``(wsum, sums)`` over every cell if already made
    (:func:`table_grid_sums`).
    """
    n, c = colors.shape
    if dense is None:
        dense = table_grid_sums(colors, weights, cells, box)
    wsum, sums = dense
    occupied = np.flatnonzero(wsum)
    w = wsum[occupied]
    sums = sums[occupied]
    if raw:
        return sums / w[:, None], w, occupied, sums
    return sums / w[:, None], w


#: Colours from which table_grid_sums splits its pass between threads.
SPLIT_MIN_COLORS = 1 << 16


def table_grid_sums(colors, weights, cells, box=None, n_threads=1):
    """Weight and weighted colour sum of every cell of a grid (dense arrays).

    The grid of about ``cells`` cells over ``box`` (``(lo, hi)``, the
    colours' bounding box; computed if None), as :func:`_grid_coreset`
    bins. With ``n_threads`` > 1 and a large table, whose colours are
    sorted (by the first channel first, as tables are), the colours are cut
    in two at a change of first-axis bin near the middle and the halves are
    binned on two threads: no cell has colours in both, and each cell's
    colours are added in order by one thread, so the sums are those of one
    pass bit for bit. Returns ``(wsum, sums)``.
    """
    n, c = colors.shape
    per_axis = _per_axis(cells, c)
    lo, hi, _ = column_stats(colors, variance=False) if box is None else (*box, None)
    span = hi - lo
    span[span == 0] = 1.0
    scale = per_axis / span
    wsum = np.zeros(per_axis**c)
    sums = np.zeros((per_axis**c, c))
    split = n_threads > 1 and n >= SPLIT_MIN_COLORS
    cut = _bin_change(colors[:, 0], lo[0], scale[0], per_axis) if split else 0
    if not 0 < cut < n:
        _grid_accumulate(colors, weights, lo, scale, per_axis, wsum, sums)
        return wsum, sums
    parts = [(0, cut), (cut, n)]

    def run(a, b):
        _grid_accumulate(colors[a:b], weights[a:b], lo, scale, per_axis, wsum, sums)

    run_in_threads(run, parts, 2)
    return wsum, sums


def _bin_change(first, lo, scale, per_axis, tries=64):
    """An index near the middle of the sorted ``first`` where its bin changes.

    The first index whose bin (as _grid_accumulate computes it) is above
    that of the value before the middle; 0 if there is none, or if the
    bisection on the bin's upper edge misses by more than ``tries`` places.
    """
    n = first.shape[0]

    def bin_of(x):
        return min(int((x - lo) * scale), per_axis - 1)

    if n < 2:
        return 0
    here = bin_of(first[n // 2 - 1])
    if here >= per_axis - 1:
        return 0
    i = bisect.bisect_left(first, lo + (here + 1) / scale)
    for _ in range(tries):  # the edge's rounding: a few places either way
        if i > 0 and bin_of(first[i - 1]) > here:
            i -= 1
        elif i < n and bin_of(first[i]) <= here:
            i += 1
        else:
            return i if i < n else 0
    return 0


def _halved_grid(occupied, sums, w, per_axis, c):
    """The grid of half as many bins per axis, from a grid's occupied cells.

    ``occupied`` are cell numbers of a grid of ``per_axis`` (even) bins per
    axis over a box, ``sums`` and ``w`` their weighted colour sums and
    weights. Each of its cells lies inside one cell of the grid of
    ``per_axis // 2`` bins over the same box (a colour's bin on the coarse
    grid is its bin on the fine one halved, exactly: the scales differ by a
    factor of two), so the coarse cells' sums are sums of fine cells' sums.
    Returns the coarse grid coreset ``(means, weights)``. For integer colours
    and weights the sums are exact integers: the coreset is bitwise that of
    :func:`_grid_coreset` over the table itself.
    """
    half = per_axis // 2
    rest = occupied
    coarse = np.zeros_like(occupied)
    place = 1
    for _ in range(c):  # last channel first: the cell number's lowest digit
        coarse += ((rest % per_axis) // 2) * place
        rest = rest // per_axis
        place *= half
    wsum = np.bincount(coarse, weights=w, minlength=half**c)
    kept = np.flatnonzero(wsum)
    wc = wsum[kept]
    means = np.empty((kept.shape[0], c))
    for f in range(c):
        means[:, f] = np.bincount(coarse, weights=sums[:, f], minlength=half**c)[kept]
    return means / wc[:, None], wc


@njit(cache=True, nogil=True)
def _grid_accumulate(colors, weights, lo, scale, per_axis, wsum, sums):
    n, c = colors.shape
    for i in range(n):
        cell = 0
        for j in range(c):
            idx = int((colors[i, j] - lo[j]) * scale[j])
            cell = cell * per_axis + min(idx, per_axis - 1)
        wsum[cell] += weights[i]
        for j in range(c):
            sums[cell, j] += weights[i] * colors[i, j]


@njit(cache=True, nogil=True)
def _grid_slots(colors, lo, scale, per_axis, slot, cell_of):
    # The grid cell of every colour (as _grid_accumulate
    # bins it), numbered in order of first appearance: slot[cell] is the
    # number of a cell (-1 if empty), cell_of[i] that of colour i. Returns
    # the number of occupied cells.
    n, c = colors.shape
    m = 0
    for i in range(n):
        cell = 0
        for j in range(c):
            idx = int((colors[i, j] - lo[j]) * scale[j])
            if idx > per_axis - 1:
                idx = per_axis - 1
            cell = cell * per_axis + idx
        if slot[cell] < 0:
            slot[cell] = m
            m += 1
        cell_of[i] = slot[cell]
    return m


@njit(cache=True, nogil=True)
def _slot_accumulate(colors, weights, cell_of, wsum, sums):
    # Weight and weighted colour sum of every numbered cell.
    n, c = colors.shape
    for i in range(n):
        a = cell_of[i]
        wsum[a] += weights[i]
        for j in range(c):
            sums[a, j] += weights[i] * colors[i, j]


def nested_levels(colors, weights, tol, k, min_colors=None, mid=False, box=None):
    """Fine and coarse grid coresets of a large table, the coarse from the fine.

    As :func:`_coreset_levels` (same grids: 64 and 32 bins per
    axis for 3 channels over the table's bounding box), but the coarse cells
    are made from the fine cells' means, a pass over the fine coreset rather
    than over the table: with nested grids every fine cell lies inside one
    coarse cell, so the coarse coreset is the same. None for a table too
    small (fewer than ``min_colors``, default ``CORESET_MIN_COLORS``, or
    too few occupied coarse cells) for coresets.

    With ``mid``, a third grid of ``MID_CELLS`` cells (128 bins per axis)
    comes first, made from the table, and the fine one from it; the levels
    are then ``(coarse, fine, mid)``. ``box``: the colours' ``(lo, hi)`` if
    known.
    """
    n, c = colors.shape
    if min_colors is None:
        min_colors = CORESET_MIN_COLORS
    if n < min_colors or c > 8:
        return None
    lo, hi = column_stats(colors, variance=False)[:2] if box is None else box
    span = hi - lo
    span[span == 0] = 1.0
    grids = []
    X, w = colors, weights
    for cells in ((MID_CELLS,) if mid else ()) + (FINE_CELLS, COARSE_CELLS):
        per_axis = _per_axis(cells, c)
        if cells == MID_CELLS:
            # 2**21 cells: sums over occupied cells only (dense sums were
            # 64 MB, page-faulted in at every fit)
            slot = np.full(per_axis**c, -1, np.int32)
            cell_of = np.empty(X.shape[0], np.int32)
            m = _grid_slots(X, lo, per_axis / span, per_axis, slot, cell_of)
            del slot
            wsum = np.zeros(m)
            sums = np.zeros((m, c))
            _slot_accumulate(X, w, cell_of, wsum, sums)
            w = wsum
            X = sums / w[:, None]
        else:
            X, w = _grid_coreset(X, w, cells, (lo, hi))
        grids.append((X, w, _abs_tol(X, tol)))
    if grids[-1][0].shape[0] < 8 * k:
        return None
    return tuple(grids[::-1])


def _coreset_levels(colors, weights, tol, k_max, min_colors, box=None, fine=None):
    """Coarse and fine grid coresets of a large table, or None for a small one.

    Each level is ``(points, weights, absolute tolerance)``. A table is small
    when it has fewer than ``min_colors`` colours, more than 8 channels, or
    too few occupied coarse cells for ``k_max`` clusters. ``box``: the
    colours' ``(lo, hi)`` if known. ``fine``: the fine grid's dense sums
    (:func:`table_grid_sums` with ``FINE_CELLS``) if already made.
    """
    if colors.shape[0] < min_colors or colors.shape[1] > 8:
        return None
    if box is None:  # one pass for both grids
        box = column_stats(colors, variance=False)[:2]
    c = colors.shape[1]
    fine_bins, coarse_bins = _per_axis(FINE_CELLS, c), _per_axis(COARSE_CELLS, c)
    fine, fine_w, occupied, sums = _grid_coreset(
        colors, weights, FINE_CELLS, box, raw=True, dense=fine
    )
    if fine_bins == 2 * coarse_bins:  # nested grids (3 channels): one pass
        coarse, coarse_w = _halved_grid(occupied, sums, fine_w, fine_bins, c)
    else:
        coarse, coarse_w = _grid_coreset(colors, weights, COARSE_CELLS, box)
    del occupied, sums
    if coarse.shape[0] < 8 * k_max:
        return None
    return (
        (coarse, coarse_w, _abs_tol(coarse, tol)),
        (fine, fine_w, _abs_tol(fine, tol)),
    )


def _float_table(table):
    # float64 colours and weights of a table, and its bounding box
    colors = table.colors.astype(np.float64)
    lo, hi, _ = column_stats(colors, variance=False)
    return colors, table.counts.astype(np.float64), lo, hi


class RunningGrid:
    """The fine grid coreset of a stream of colour tables.

    A grid over a box that holds every colour seen (the bounding box of the
    tables, as :func:`nested_levels` grids one table), kept between chunks:
    ``partial_fit`` bins each chunk's table once, in the size of that
    table, and gets the coresets of every pixel seen without a pass over
    the merged table. A chunk with colours outside the box makes the box
    grow, and the tables seen are binned again on the new grid.
    """

    def __init__(self, tables):
        tables = [_float_table(t) for t in tables]
        self.lo = np.min([t[2] for t in tables], axis=0)
        self.hi = np.max([t[3] for t in tables], axis=0)
        c = self.lo.shape[0]
        self.span = np.where(self.hi - self.lo == 0, 1.0, self.hi - self.lo)
        self.per_axis = max(2, int(round(FINE_CELLS ** (1.0 / c))))
        self.wsum = np.zeros(self.per_axis**c)
        self.sums = np.zeros((self.per_axis**c, c))
        for colors, weights, _, _ in tables:
            self._bin(colors, weights)

    def add(self, table):
        """Bin one more table.

        Returns False (nothing binned) if its colours leave the grid's box.
        """
        colors, weights, lo, hi = _float_table(table)
        if np.any(lo < self.lo) or np.any(hi > self.hi):
            return False
        self._bin(colors, weights)
        return True

    def _bin(self, colors, weights):
        scale = self.per_axis / self.span
        _grid_accumulate(
            colors, weights, self.lo, scale, self.per_axis, self.wsum, self.sums
        )

    def levels(self, tol, k):
        """Return the ``(coarse, fine)`` levels, as :func:`nested_levels` does.

        None when the coarse one has fewer than ``8 * k`` cells.
        """
        occupied = np.flatnonzero(self.wsum)
        w = self.wsum[occupied]
        fine = self.sums[occupied] / w[:, None]
        coarse, wc = _grid_coreset(fine, w, COARSE_CELLS, (self.lo, self.hi))
        if coarse.shape[0] < 8 * k:
            return None
        return (coarse, wc, _abs_tol(coarse, tol)), (fine, w, _abs_tol(fine, tol))
