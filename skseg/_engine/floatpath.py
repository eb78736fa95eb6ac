"""Palettes of float images in bounded memory: a grid coreset of the pixels.

Float colours (after a colour-space step) are about as many as the pixels,
so a table of distinct colours is as large as the image and hashing it costs
several times the image's memory. Instead the pixels are binned once on a
fine regular grid over their bounding box (64 bins per axis for 3 channels,
8 MB of sums whatever the image size), and each occupied cell becomes its
weighted mean colour. The k-means restarts run on that coreset (and a coarser
one made from it) exactly as :func:`skseg._engine.strategy.fit_palette` runs them on
the grid coresets of a large colour table; the best solution is then refined
by Lloyd iterations over every ``SUBSAMPLE``-th pixel (streamed in chunks,
nothing stored per pixel) until an iteration lowers their WCSS by less than
``STALL`` of it, and one last pass over *all* pixels computes the exact WCSS
of the palette returned. Memory is the sums of the grid (and 2 MB of cell
indices while it is filled) plus the caller's pixels; time is three passes
over the pixels plus a few over the subsample.

Measured error (``benchmarks/bench_kmeans.py``, section 5, K=8): on a 12 Mpx
photo in HSV cos/sin the WCSS is 0.1 % *below* that of exact weighted k-means
(``n_init=10``) over its distinct float colours (ratio 0.99893), and on 12 Mpx
of uniform float32 noise 0.004 % below ``sklearn.cluster.KMeans(n_init=3)``
over all pixels (ratio 0.99996).
"""

from __future__ import annotations

from functools import partial

import numpy as np

from .._jit import njit
from .._parallel import fit_threads, run_in_threads
from .coresets import COARSE_CELLS, FINE_CELLS, _grid_coreset
from .distances import _abs_tol, guess_thresholds, nearest_guessed
from .strategy import _best_restart
from .tables import ColorTable

__all__ = ["FLOAT_MIN_PIXELS", "chunk_passes", "fit_float_palette"]


#: Float batches with at least this many pixels take the coreset path.
FLOAT_MIN_PIXELS = 2**20


#: Lloyd passes over the pixels stop when one gains less than this fraction.
STALL = 1e-4


#: At most this many Lloyd steps over the subsample.
MAX_PASSES = 30


#: The Lloyd steps over the pixels use every SUBSAMPLE-th pixel.
SUBSAMPLE = 8


@njit(cache=True, nogil=True)
def _bounds(px, lo, hi):
    n, c = px.shape
    for i in range(n):
        for f in range(c):
            v = px[i, f]
            if v < lo[f]:
                lo[f] = v
            if v > hi[f]:
                hi[f] = v


@njit(cache=True, nogil=True)
def _grid_cells(px, lo, scale, per_axis, cells):
    # The grid cell of every pixel (cells: int64, one per pixel).
    n, c = px.shape
    for i in range(n):
        cell = 0
        for f in range(c):
            idx = int((px[i, f] - lo[f]) * scale[f])
            cell = cell * per_axis + min(max(idx, 0), per_axis - 1)
        cells[i] = cell


@njit(cache=True, nogil=True)
def _grid_add(px, cells, wsum, sums, first, stop):
    # Adds each pixel whose cell is in [first, stop) to that cell's count
    # and colour sums, in pixel order.
    n, c = px.shape
    for i in range(n):
        cell = cells[i]
        if cell >= first and cell < stop:
            wsum[cell] += 1.0
            for f in range(c):
                sums[cell, f] += px[i, f]


@njit(cache=True, nogil=True)
def _lloyd_pass(px, C, sums, wsum, step, thr):
    # Nearest centre of every step-th pixel (first minimum; each pixel's
    # guess the label of the one before it, nearest_guessed; thr from
    # guess_thresholds): adds the pixel to that centre's sums (unless sums
    # and wsum have no rows: the WCSS only, a third faster); returns their
    # WCSS against C.
    n, c = px.shape
    keep = wsum.shape[0] > 0
    total = 0.0
    arg = 0
    for i in range(0, n, step):
        arg, best = nearest_guessed(px, i, C, thr, arg)
        total += best
        if keep:
            wsum[arg] += 1.0
            for f in range(c):
                sums[arg, f] += px[i, f]
    return total


# ----------------------------------------------------------------------
# Passes over the pixels. The fit only asks for passes: ``passes(kernel,
# init, combine)`` runs ``kernel(pixels, acc)`` over every run of pixels
# (arrays of shape (n, n_channels)) and returns the accumulated ``acc``.
# In memory (:func:`chunk_passes`) one ``acc = init()`` takes every run in
# turn (a large run in pieces with their own, combined in order, when the
# accumulator is small); the dask adapter gives each block its own and adds
# them up with ``combine(a, b)`` where the blocks are. The kernels and
# accumulators below are module-level so that they pickle.


#: Pixels per piece of an in-memory pass whose accumulator is small (a
#: multiple of SUBSAMPLE, so that the subsample is the same pixels).
PASS_PIECE = 1 << 20


#: Passes whose accumulator takes at most this many bytes (the bounds, the
#: cluster sums of the Lloyd steps; not the grid's 8 MB of cell sums) cut
#: a large run of pixels into pieces of PASS_PIECE pixels.
PIECE_MAX_BYTES = 1 << 16


def chunk_passes(chunks, n_threads=1):
    """``passes`` over a re-iterable of pixel arrays, in memory, in order.

    A pass with a small accumulator (bounds, cluster sums) cuts a run of
    more than ``PASS_PIECE`` pixels into pieces of ``PASS_PIECE`` pixels,
    each with its own accumulator, on ``n_threads`` threads (the kernels
    release the GIL), and combines them in piece order: the pieces do not
    depend on ``n_threads``, so neither does the result. A pass with a large
    one (the grid) takes each run whole: its kernel shares the run out over
    the fit's threads itself, cell by cell (:func:`_grid_kernel`).
    """

    def passes(kernel, init, combine):
        acc = init()
        small = sum(np.asarray(a).nbytes for a in acc) <= PIECE_MAX_BYTES
        for px in chunks:
            n = px.shape[0]
            if not small or n <= PASS_PIECE:
                kernel(px, acc)
                continue
            starts = range(0, n, PASS_PIECE)
            parts = [init() for _ in starts]

            def piece(p, a):
                kernel(px[a : a + PASS_PIECE], parts[p])

            run_in_threads(piece, list(enumerate(starts)), n_threads)
            for part in parts:
                acc = combine(acc, part)
        return acc

    return passes


def _add(a, b):
    return tuple(x + y for x, y in zip(a, b))


def _bounds_init(n_channels):
    return np.full(n_channels, np.inf), np.full(n_channels, -np.inf)


def _bounds_kernel(px, acc):
    _bounds(px, acc[0], acc[1])


def _bounds_combine(a, b):
    return np.minimum(a[0], b[0]), np.maximum(a[1], b[1])


def _grid_init(n_cells, n_channels):
    return np.zeros(n_cells), np.zeros((n_cells, n_channels))


#: Pixels per piece of the grid pass: their cells are found first (2 MB of
#: int64), then added up.
GRID_PIECE = 1 << 18


def _grid_kernel(lo, scale, per_axis, px, acc):
    """Adds the pixels to the grid's counts and sums, on ``fit_threads()``.

    Piece by piece: the threads first find the cells of the piece's pixels
    (each a share of the pixels), then add them up (each a share of the
    cells, every pixel of its cells in pixel order). So every cell gets its
    pixels in the same order whatever the threads, and the sums are the
    same bit for bit. Kept apart from the cells, the short loop of additions
    keeps several misses of the 8 MB grid in flight: on noise, where each
    pixel falls in a random cell, it waits on memory. Against one loop doing
    both on one thread (a scratch script, 12 Mpx, medians of 7 interleaved):
    noise 1.22 s on one thread and 0.77 s on two against 1.49 s; the float
    photo (HSV cos/sin) 0.13 and 0.15 s against 0.16 s.
    """
    wsum, sums = acc
    n = px.shape[0]
    n_threads = fit_threads() if n > GRID_PIECE // 4 else 1
    by_cell = _shares(wsum.shape[0], n_threads)
    cells = np.empty(min(GRID_PIECE, n), np.int64)
    for a in range(0, n, GRID_PIECE):
        piece = px[a : a + GRID_PIECE]
        m = piece.shape[0]

        def find(b, e):
            _grid_cells(piece[b:e], lo, scale, per_axis, cells[b:e])

        def add(first, stop):
            _grid_add(piece, cells[:m], wsum, sums, first, stop)

        # (one thread: run_in_threads makes the calls in this thread)
        run_in_threads(find, _shares(m, n_threads), n_threads)
        run_in_threads(add, by_cell, n_threads)


def _shares(n, parts):
    """``parts`` consecutive ranges ``(start, stop)`` covering ``range(n)``."""
    return [(n * t // parts, n * (t + 1) // parts) for t in range(parts)]


def _lloyd_init(k, n_channels):
    return np.zeros((k, n_channels)), np.zeros(k), np.zeros(1)


def _wcss_init(k, n_channels):
    # no rows of sums: _lloyd_pass adds the squared distances only
    return np.zeros((0, n_channels)), np.zeros(0), np.zeros(1)


def _lloyd_kernel(C, step, thr, px, acc):
    acc[2][0] += _lloyd_pass(px, C, acc[0], acc[1], step, thr)


def _grid_table(passes, n_channels, cells):
    """Grid coreset of the pixels: (cell means, pixel counts)."""
    lo, hi = passes(_bounds_kernel, partial(_bounds_init, n_channels), _bounds_combine)
    per_axis = max(2, int(round(cells ** (1.0 / n_channels))))
    span = hi - lo
    span[span == 0] = 1.0
    scale = per_axis / span
    wsum, sums = passes(
        partial(_grid_kernel, lo, scale, per_axis),
        partial(_grid_init, per_axis**n_channels, n_channels),
        _add,
    )
    occupied = np.flatnonzero(wsum)
    w = wsum[occupied]
    return sums[occupied] / w[:, None], w


def _lloyd_sums(passes, C, step, with_sums=True):
    """Cluster sums, counts and WCSS of every ``step``-th pixel against C.

    Without ``with_sums``, the WCSS only (the sums and counts have no rows).
    """
    init = _lloyd_init if with_sums else _wcss_init
    sums, wsum, total = passes(
        partial(_lloyd_kernel, C, step, guess_thresholds(C)),
        partial(init, *C.shape),
        _add,
    )
    return sums, wsum, float(total[0])


def fit_float_palette(
    passes, n_channels, k, *, init, n_init, max_iter, tol, rng, n_threads=1
):
    """Weighted k-means of float pixels through a grid coreset.

    Parameters
    ----------
    passes : callable
        ``passes(kernel, init, combine)``: a pass over the pixels, arrays of
        shape (n, n_channels), float32 or float64 (:func:`chunk_passes` in
        memory; the dask adapter passes over the blocks of an array).
    n_channels, k : int
    init : {'k-means++', 'random'}
    n_init, max_iter, tol, rng
        As :func:`skseg._engine.strategy.fit_palette` (``rng`` a RandomState).
    n_threads : int, default=1
        Threads of the restarts on the coresets (the result does not depend
        on it; the passes have their own).

    Returns
    -------
    centers : ndarray of shape (k, n_channels)
    inertia : float
        Exact WCSS of ``centers`` over all pixels.
    n_iter : int
        Lloyd iterations of the kept solution (coreset and pixel passes).
    table : ColorTable
        The fine coreset (cell means and pixel counts), kept as the fitted
        colour table.
    """
    fine, fine_w = _grid_table(passes, n_channels, FINE_CELLS)
    table = ColorTable(fine, fine_w.astype(np.int64))
    if fine.shape[0] <= k:
        return None, None, None, table
    coarse, coarse_w = _grid_coreset(fine, fine_w, COARSE_CELLS)
    if coarse.shape[0] < 8 * k:
        coarse, coarse_w = fine, fine_w
    levels = (
        (coarse, coarse_w, _abs_tol(coarse, tol)),
        (fine, fine_w, _abs_tol(fine, tol)),
    )
    C, _, n_iter = _best_restart(
        k, init, n_init, rng, max_iter, None, levels, n_threads=n_threads
    )
    C = np.ascontiguousarray(C, dtype=np.float64)
    previous = np.inf
    # Lloyd steps over every SUBSAMPLE-th pixel until they stall, then one
    # pass over all pixels for the exact WCSS of the palette returned.
    for _ in range(MAX_PASSES):
        sums, wsum, wcss = _lloyd_sums(passes, C, SUBSAMPLE)
        if previous - wcss < STALL * wcss:
            break
        n_iter += 1
        previous = wcss
        full = wsum > 0
        C = C.copy()
        C[full] = sums[full] / wsum[full, None]
    wcss = _lloyd_sums(passes, C, 1, with_sums=False)[2]
    return C, wcss, int(n_iter), table
