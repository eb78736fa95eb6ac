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
refined on a finer grid, and the best of those by
:class:`sklearn.cluster.KMeans` (``sample_weight`` = pixel counts) on the exact
table, so the returned centres are a k-means fixed point of the objective over
all pixels and ``inertia`` is its exact WCSS.

Above ``LARGE_K`` (16) colours :func:`fit_palette` takes the path of
:mod:`skseg._lloyd`: fewer restarts above 64 colours, Lloyd iterations with
Hamerly's bounds (and local ones) on every level, in threads, and an exact
refinement that stops when an iteration gains less than ``EXACT_STALL`` of
the WCSS (``inertia`` is still the exact WCSS of the returned centres;
measured 0.4-0.8 % above the WCSS of the fixed point reached before, on a
2048x2048 photo at K = 64 and 256).

:func:`fit_palette_path` fits palettes for many K at once (the curve of the
elbow method): the table and its coresets are built once, every K is also
started from the palette of the previous K plus one colour, and the WCSS
never increases with K.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
from sklearn.cluster import KMeans
from sklearn.utils import check_random_state

from ._batch import n_workers
from ._jit import njit
from ._lloyd import (
    LARGE_K,
    LARGE_RESTART_K,
    _sq_dist,
    fit_large_k,
    hamerly,
    n_large_restarts,
    nearest_centre,
    nested_levels,
)

__all__ = [
    "ColorTable",
    "count_colors",
    "merge_tables",
    "count_batch",
    "fit_palette",
    "fit_palette_path",
    "cluster_stats",
]

# Tables with more distinct colours than this are clustered through coresets.
CORESET_MIN_COLORS = 40_000
# Grid cells aimed for by the coarse coreset (restarts) and the fine one
# (refinement of the best restarts); 32 and 64 bins per axis for RGB.
COARSE_CELLS = 2**15
FINE_CELLS = 2**18
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


@dataclass
class ColorTable:
    """Distinct colours of a batch and how many pixels have each.

    Attributes
    ----------
    colors : ndarray of shape (n_colors, n_channels)
        Distinct colours in lexicographic order, in the images' dtype when
        it is an integer dtype, else float64.
    counts : ndarray of shape (n_colors,), dtype int64
        Number of pixels of each colour.
    """

    colors: np.ndarray
    counts: np.ndarray

    @property
    def n_colors(self):
        return self.colors.shape[0]

    @property
    def n_channels(self):
        return self.colors.shape[1]

    @property
    def n_pixels(self):
        return int(self.counts.sum())


# --------------------------------------------------------------------------
# Counting distinct colours


@njit(cache=True, nogil=True)
def _count_codes_u8(px, counts):
    # Direct-address count of uint8 colours with up to 3 channels: the colour
    # (c0, c1, c2) has code c0 * 65536 + c1 * 256 + c2 (lexicographic order).
    n, c = px.shape
    for i in range(n):
        code = 0
        for j in range(c):
            code = code * 256 + px[i, j]
        counts[code] += 1


@njit(cache=True, nogil=True)
def _pass_rgb8(px, bits, prefix, counts, count):
    # Presence bitmap of 24-bit RGB codes (2 MiB for all 16.7 M colours) when
    # not ``count``; else counts[rank of the colour among the present ones]
    # += 1. One kernel for both passes: one compilation.
    for i in range(px.shape[0]):
        code = (np.int64(px[i, 0]) << 16) | (np.int64(px[i, 1]) << 8) | px[i, 2]
        w = code >> 6
        if count:
            below = bits[w] & ((np.uint64(1) << np.uint64(code & 63)) - np.uint64(1))
            counts[prefix[w] + _popcount64(below)] += 1
        else:
            bits[w] |= np.uint64(1) << np.uint64(code & 63)


@njit(cache=True, nogil=True)
def _add_ranked_rgb8(px, weights, bits, prefix, counts):
    # counts[rank of the colour among the present ones] += its weight (the
    # weighted second pass, for merging tables; compiled only when merging).
    for i in range(px.shape[0]):
        code = (np.int64(px[i, 0]) << 16) | (np.int64(px[i, 1]) << 8) | px[i, 2]
        w = code >> 6
        below = bits[w] & ((np.uint64(1) << np.uint64(code & 63)) - np.uint64(1))
        counts[prefix[w] + _popcount64(below)] += weights[i]


@njit(cache=True, nogil=True, inline="always")
def _popcount64(x):
    x = x - ((x >> np.uint64(1)) & np.uint64(0x5555555555555555))
    x = (x & np.uint64(0x3333333333333333)) + (
        (x >> np.uint64(2)) & np.uint64(0x3333333333333333)
    )
    x = (x + (x >> np.uint64(4))) & np.uint64(0x0F0F0F0F0F0F0F0F)
    return (x * np.uint64(0x0101010101010101)) >> np.uint64(56)


@njit(cache=True, nogil=True)
def _bitmap_index(bits):
    # prefix[w] = number of colours whose code is below 64 * w, and the codes
    # of the present colours in increasing order.
    prefix = np.empty(bits.shape[0], np.int64)
    total = 0
    for w in range(bits.shape[0]):
        prefix[w] = total
        total += _popcount64(bits[w])
    codes = np.empty(total, np.int64)
    r = 0
    for w in range(bits.shape[0]):
        word = bits[w]
        b = 0
        while word:
            if word & np.uint64(1):
                codes[r] = w * 64 + b
                r += 1
            word >>= np.uint64(1)
            b += 1
    return prefix, codes


@njit(cache=True, nogil=True)
def _count_codes_u16(px, counts):
    n = px.shape[0]
    for i in range(n):
        counts[px[i, 0]] += 1


@njit(cache=True, nogil=True)
def _hash_unique_rows(rows, weights, capacity):
    # Distinct rows of a (n, n_bytes) uint8 array by open addressing on a
    # FNV-1a hash of the bytes; returns the index of the first occurrence of
    # each distinct row and the summed weights.
    # (Loops, not np.full or slice copies: less for numba to compile.)
    n, nb = rows.shape
    mask = capacity - 1
    slots = np.empty(capacity, np.int32)
    for s in range(capacity):
        slots[s] = -1
    first = np.empty(n, np.int32)
    total = np.empty(n, np.int64)  # entry m is set when colour m is found
    m = 0
    for i in range(n):
        h = np.uint64(14695981039346656037)
        for b in range(nb):
            h = (h ^ np.uint64(rows[i, b])) * np.uint64(1099511628211)
        s = np.int64(h & np.uint64(mask))
        while True:
            u = slots[s]
            if u == -1:
                slots[s] = m
                first[m] = i
                total[m] = weights[i]
                m += 1
                break
            j = first[u]
            same = True
            for b in range(nb):
                if rows[i, b] != rows[j, b]:
                    same = False
                    break
            if same:
                total[u] += weights[i]
                break
            s = (s + 1) & mask
    return first, total, m


def _unique_rows(px, weights=None):
    """Distinct rows of ``px`` (any numeric dtype) and their summed weights."""
    n = px.shape[0]
    px = np.ascontiguousarray(px)
    if px.dtype.kind == "f":
        px = px + 0.0  # -0.0 and 0.0 are one colour
    rows = px.view(np.uint8).reshape(n, -1)
    if weights is None:
        weights = np.ones(n, np.int64)
    capacity = 1 << max(4, int(2 * n - 1).bit_length())
    if n >= 2**31:
        raise ValueError(f"Too many pixels in one chunk to count ({n}); split it.")
    first, counts, m = _hash_unique_rows(rows, weights.astype(np.int64), capacity)
    first, counts = first[:m], counts[:m].copy()
    colors = px[first]
    order = np.lexsort(colors.T[::-1])
    return colors[order], counts[order]


_MALLOC_TRIM = []


def release_free_memory():
    """Give memory freed by a large fit back to the operating system.

    Fitting a large batch allocates and frees tens of MB of temporaries that
    glibc keeps in the process heap; handing them back keeps the peak of a
    following ``predict`` on a large photo ~20 MB lower. A no-op where the C
    library has no ``malloc_trim`` (non-glibc systems).
    """
    if not _MALLOC_TRIM:
        try:
            import ctypes

            _MALLOC_TRIM.append(ctypes.CDLL("libc.so.6").malloc_trim)
        except (OSError, AttributeError):
            _MALLOC_TRIM.append(None)
    if _MALLOC_TRIM[0] is not None:
        _MALLOC_TRIM[0](0)


def _table_dtype(dtype):
    # Colours are kept exactly, in the images' own dtype where it is compact.
    return dtype if dtype.kind in "biu" or dtype == np.float32 else np.dtype(np.float64)


def count_batch(batch):
    """The colour table of a validated :class:`~skseg._batch.ImageBatch`.

    One run over a contiguous batch (a view of the caller's pixels); image
    by image otherwise, so that a strided batch is never copied whole.
    """
    whole = batch.array is not None and batch.array.flags.c_contiguous
    n_chunks = 1 if whole else batch.n_images
    return count_colors(
        lambda: (px for _, _, px in batch.chunks(n_chunks)),
        batch.dtype,
        batch.n_channels,
        n_pixels=batch.n_pixels,
    )


def count_colors(chunks, dtype, n_channels, n_pixels=None):
    """Count the distinct colours of a stream of pixel arrays.

    Parameters
    ----------
    chunks : sequence of ndarray, or callable returning an iterable of them
        The pixels, arrays of shape (n_pixels, n_channels), in any number of
        chunks (images or runs of images). The chunks may be read twice; a
        callable makes them anew for each pass (so that copies of strided
        images exist one at a time).
    dtype : numpy dtype
        dtype of the pixels.
    n_channels : int
        Number of channels.
    n_pixels : int, optional
        Total number of pixels, if known: below 2**32 the direct-address
        counters are 32-bit.

    Returns
    -------
    table : ColorTable
    """
    dtype = np.dtype(dtype)
    if callable(chunks):
        pixel_chunks = _Reiterable(chunks)
    else:
        pixel_chunks = list(chunks)
    small = n_pixels is not None and n_pixels < 2**32
    count_dtype = np.uint32 if small else np.int64
    if dtype == np.uint8 and n_channels == 3:
        # Two passes: a presence bitmap of the 2**24 colours, then counts
        # indexed by each colour's rank among the present ones. Memory is
        # 2 MiB plus the table, not a 2**24-entry counter array.
        bits = np.zeros(2**18, np.uint64)
        no_ranks = np.empty(0, np.int64)
        for px in pixel_chunks:
            _pass_rgb8(px, bits, no_ranks, no_ranks, False)
        prefix, codes = _bitmap_index(bits)
        total = codes.shape[0]
        counts = np.zeros(total, np.int64)
        for px in pixel_chunks:
            _pass_rgb8(px, bits, prefix, counts, True)
        colors = np.empty((total, 3), np.uint8)
        colors[:, 0] = codes >> 16
        colors[:, 1] = (codes >> 8) & 255
        colors[:, 2] = codes & 255
        return ColorTable(colors, counts)
    if dtype == np.uint8 and n_channels <= 2:
        counts = np.zeros(256**n_channels, count_dtype)
        for px in pixel_chunks:
            _count_codes_u8(px, counts)
        return _table_from_codes(counts, n_channels, 256, dtype)
    if dtype == np.uint16 and n_channels == 1:
        counts = np.zeros(65536, count_dtype)
        for px in pixel_chunks:
            _count_codes_u16(px, counts)
        return _table_from_codes(counts, 1, 65536, dtype)
    tables = [ColorTable(*_unique_rows(px)) for px in pixel_chunks]
    if len(tables) == 1:
        table = tables[0]
        return ColorTable(table.colors.astype(_table_dtype(dtype)), table.counts)
    return merge_tables(tables)


class _Reiterable:
    def __init__(self, make):
        self.make = make

    def __iter__(self):
        return iter(self.make())


def _table_from_codes(counts, n_channels, base, dtype):
    codes = np.flatnonzero(counts)
    weights = counts[codes]
    colors = np.empty((codes.size, n_channels), dtype)
    rest = codes
    for j in range(n_channels - 1, -1, -1):
        colors[:, j] = rest % base
        rest = rest // base
    return ColorTable(colors, weights.astype(np.int64))


def merge_tables(tables):
    """Merge colour tables of shards into the table of their union.

    Counts of colours present in several tables add up, so the result does not
    depend on how the pixels were split (nor on the order of the tables): it
    is the table that counting all the pixels at once gives.
    """
    tables = list(tables)
    if len(tables) > 1 and all(
        t.colors.dtype == np.uint8 and t.n_channels == 3 for t in tables
    ):
        # 8-bit RGB: the union through a presence bitmap of the 2**24
        # colours, as count_colors counts them (one pass per table, no
        # pairwise rounds): 5-8x faster than the two-pointer merges when a
        # running table meets a dozen chunks' tables.
        bits = np.zeros(2**18, np.uint64)
        no_ranks = np.empty(0, np.int64)
        for t in tables:
            _pass_rgb8(np.ascontiguousarray(t.colors), bits, no_ranks, no_ranks, False)
        prefix, codes = _bitmap_index(bits)
        total = codes.shape[0]
        counts = np.zeros(total, np.int64)
        for t in tables:
            _add_ranked_rgb8(
                np.ascontiguousarray(t.colors), t.counts, bits, prefix, counts
            )
        colors = np.empty((total, 3), np.uint8)
        colors[:, 0] = codes >> 16
        colors[:, 1] = (codes >> 8) & 255
        colors[:, 2] = codes & 255
        return ColorTable(colors, counts)
    if len({t.colors.dtype for t in tables}) == 1:
        # Tables are sorted: merge them pairwise with two pointers, linear in
        # their sizes (partial_fit merges a chunk's table into the running
        # one on every call; hashing and re-sorting the union took 4x longer).
        while len(tables) > 1:
            pairs = zip(tables[0::2], tables[1::2])
            merged = [
                ColorTable(*_merge_sorted(a.colors, a.counts, b.colors, b.counts))
                for a, b in pairs
            ]
            tables = merged + tables[len(merged) * 2 :]
        (table,) = tables
        return ColorTable(
            table.colors.astype(_table_dtype(table.colors.dtype), copy=False),
            table.counts,
        )
    dtype = np.result_type(*[t.colors.dtype for t in tables])
    dtype = _table_dtype(dtype)
    colors = np.concatenate([t.colors.astype(dtype) for t in tables])
    counts = np.concatenate([t.counts for t in tables])
    colors, counts = _unique_rows(colors, counts)
    return ColorTable(colors, counts)


@njit(cache=True, nogil=True, inline="always")
def _compare_rows(a, i, b, j):
    # -1, 0 or 1 as row a[i] comes before, equals or comes after row b[j]
    # in lexicographic order.
    for f in range(a.shape[1]):
        if a[i, f] != b[j, f]:
            return -1 if a[i, f] < b[j, f] else 1
    return 0


@njit(cache=True, nogil=True)
def _merge_sorted(a, count_a, b, count_b):
    # Union of two tables of distinct colours in lexicographic order: one
    # pass with two pointers, counts of colours in both added.
    n, m, c = a.shape[0], b.shape[0], a.shape[1]
    # first pass: the size of the union (the output is allocated exactly)
    i = 0
    j = 0
    r = 0
    while i < n and j < m:
        order = _compare_rows(a, i, b, j)
        if order <= 0:
            i += 1
        if order >= 0:
            j += 1
        r += 1
    out = np.empty((r + (n - i) + (m - j), c), a.dtype)
    counts = np.empty(out.shape[0], np.int64)
    i = 0
    j = 0
    r = 0
    while i < n or j < m:
        if i == n:
            order = 1
        elif j == m:
            order = -1
        else:
            order = _compare_rows(a, i, b, j)
        if order <= 0:
            for f in range(c):
                out[r, f] = a[i, f]
            counts[r] = count_a[i]
            i += 1
            if order == 0:
                counts[r] += count_b[j]
                j += 1
        else:
            for f in range(c):
                out[r, f] = b[j, f]
            counts[r] = count_b[j]
            j += 1
        r += 1
    return out, counts


# --------------------------------------------------------------------------
# Weighted k-means over a colour table


@dataclass
class Palette:
    """Result of :func:`fit_palette`."""

    centers: np.ndarray
    inertia: float
    n_iter: int


def _grid_coreset(colors, weights, cells):
    """Grid coreset: weighted mean colour and total weight of every occupied cell."""
    n, c = colors.shape
    per_axis = max(2, int(round(cells ** (1.0 / c))))
    lo = colors.min(axis=0)
    span = colors.max(axis=0) - lo
    span[span == 0] = 1.0
    wsum = np.zeros(per_axis**c)
    sums = np.zeros((per_axis**c, c))
    _grid_accumulate(colors, weights, lo, per_axis / span, per_axis, wsum, sums)
    occupied = np.flatnonzero(wsum)
    w = wsum[occupied]
    return sums[occupied] / w[:, None], w


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
    first = min(_search_left(cum, u_first * cum[-1]), n - 1)
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
            idx = min(_search_left(cum, u_trials[s - 1, t] * cum[-1]), n - 1)
            pot = 0.0
            for i in range(n):
                pot += w[i] * min(closest[i], _sq_dist(X, i, X, idx))
            if pot < best_pot:
                best_pot = pot
                best_idx = idx
        for f in range(c):
            centers[s, f] = X[best_idx, f]
        for i in range(n):
            closest[i] = min(closest[i], _sq_dist(X, i, centers, s))
    return centers


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
def _lloyd(X, w, init, max_iter, tol):
    # Weighted Lloyd iterations; stops when the total squared centre shift is
    # <= tol (absolute) or the labels no longer change. An empty cluster is
    # moved to the point that is worst served. Returns centres, WCSS, n_iter.
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
    n_iter = 0
    for it in range(max_iter):
        n_iter = it + 1
        for j in range(k):
            wsum[j] = 0.0
            for f in range(c):
                sums[j, f] = 0.0
        changed = False
        for i in range(n):
            arg, best = nearest_centre(X, i, centers)
            if labels[i] != arg:
                changed = True
                labels[i] = arg
            d2[i] = best
            wsum[arg] += w[i]
            for f in range(c):
                sums[arg, f] += w[i] * X[i, f]
        if not changed and it > 0:
            break
        shift = 0.0
        for j in range(k):
            if wsum[j] > 0:
                for f in range(c):
                    new = sums[j, f] / wsum[j]
                    t = new - centers[j, f]
                    shift += t * t
                    centers[j, f] = new
            else:
                far = _argmax_product(w, d2)
                d2[far] = 0.0
                for f in range(c):
                    t = X[far, f] - centers[j, f]
                    shift += t * t
                    centers[j, f] = X[far, f]
        if shift <= tol:
            break
    inertia = 0.0
    for i in range(n):
        best = np.inf
        for j in range(k):
            best = min(best, _sq_dist(X, i, centers, j))
        inertia += w[i] * best
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


def _abs_tol(X, tol):
    # scikit-learn's convention: tol is relative to the mean feature variance.
    return float(tol * np.mean(column_stats(X)[2]))


#: Rows from which column_stats uses its kernel rather than numpy.
_STATS_MIN_ROWS = 1 << 16


def column_stats(X):
    """Minimum, maximum and variance of every column of a float64 ``X``.

    numpy's reductions along the first axis of a ``(n, 3)`` array stride
    over it: on a table of half a million colours ``min``, ``max`` and
    ``var`` took 12, 12 and 15 ms; the kernel reads it once for the range
    and once for the variance (two passes, as numpy: the mean first).
    """
    if X.shape[0] < _STATS_MIN_ROWS:
        return X.min(axis=0), X.max(axis=0), np.var(X, axis=0)
    c = X.shape[1]
    out = np.empty((4, c))
    _column_stats(np.ascontiguousarray(X, dtype=np.float64), out)
    return out[0], out[1], out[3]


@njit(cache=True, nogil=True)
def _column_stats(X, out):
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
    for i in range(n):
        for f in range(c):
            t = X[i, f] - out[2, f]
            out[3, f] += t * t
    for f in range(c):
        out[3, f] /= n


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
        Threads for palettes of more than ``LARGE_K`` colours (restarts and
        Lloyd iterations, :func:`skseg._lloyd.fit_large_k`); the palette does
        not depend on it.

    Returns
    -------
    palette : Palette
        Centres sorted by brightness (mean over channels, then
        lexicographically), the exact WCSS over all pixels, and the number
        of Lloyd iterations of the returned solution.
    """
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
    if isinstance(init, str) and k > LARGE_K:
        # Many colours: fewer restarts, Lloyd with Hamerly's bounds (_lloyd).
        def starts(X, w):
            return _start_makers(X, w, k, init, n_large_restarts(k, n_init), rng)

        levels = nested_levels(colors, weights, tol, k, mid=k > LARGE_RESTART_K)
        best, inertia, n_iter = fit_large_k(
            colors,
            weights,
            k,
            starts,
            levels,
            max_iter,
            _abs_tol(colors, tol),
            n_threads=n_threads,
        )
        return _sorted(Palette(best, float(inertia), int(n_iter)))
    levels = _coreset_levels(colors, weights, tol, k, CORESET_MIN_COLORS)
    # Small tables run Lloyd on the exact weighted colours themselves.
    exact = None if levels is not None else (colors, weights, _abs_tol(colors, tol))
    if isinstance(init, str):
        best, inertia, n_iter = _best_restart(
            k, init, n_init, rng, max_iter, exact, levels
        )
    else:
        best = np.asarray(init, dtype=np.float64)
        if exact is not None:
            best, inertia, n_iter = _lloyd(*exact[:2], best, max_iter, exact[2])
    if exact is not None:
        return _sorted(Palette(best, float(inertia), int(n_iter)))
    # Exact refinement on the weighted table with scikit-learn's Lloyd: a
    # k-means fixed point of the objective over all pixels, and its WCSS.
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
        arg = nearest_centre(colors, i, centers)[0]
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
    from ._batch import run_in_threads

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


def _coreset_levels(colors, weights, tol, k_max, min_colors):
    """Coarse and fine grid coresets of a large table, or None for a small one.

    Each level is ``(points, weights, absolute tolerance)``. A table is small
    when it has fewer than ``min_colors`` colours, more than 8 channels, or
    too few occupied coarse cells for ``k_max`` clusters.
    """
    if colors.shape[0] < min_colors or colors.shape[1] > 8:
        return None
    coarse, coarse_w = _grid_coreset(colors, weights, COARSE_CELLS)
    if coarse.shape[0] < 8 * k_max:
        return None
    fine, fine_w = _grid_coreset(colors, weights, FINE_CELLS)
    return (
        (coarse, coarse_w, _abs_tol(coarse, tol)),
        (fine, fine_w, _abs_tol(fine, tol)),
    )


def _best_restart(k, init, n_init, rng, max_iter, exact, levels, n_refine=N_REFINE):
    """Best of ``n_init`` restarts: (centres, WCSS, n_iter) on its level.

    Without coresets (``levels`` None) the restarts run on the ``exact``
    table; otherwise on the coarse coreset, and the best ``N_REFINE`` of them
    are refined on the fine one.
    """
    if levels is None:
        X, w, tol_abs = exact
        runs = [
            _lloyd(X, w, s, max_iter, tol_abs)
            for s in _starts(X, w, k, init, n_init, rng)
        ]
        return min(runs, key=lambda r: r[1])
    (Xc, wc, tc), (Xf, wf, tf) = levels
    runs = [
        _lloyd(Xc, wc, s, max_iter, tc) for s in _starts(Xc, wc, k, init, n_init, rng)
    ]
    runs.sort(key=lambda r: r[1])
    refined = [_lloyd(Xf, wf, r[0], max_iter, tf) for r in runs[:n_refine]]
    return min(refined, key=lambda r: r[1])


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


def _sorted(palette):
    c = palette.centers
    order = np.lexsort(np.vstack([c.T[::-1], c.mean(axis=1)[None]]))
    return Palette(np.ascontiguousarray(c[order]), palette.inertia, palette.n_iter)


# --------------------------------------------------------------------------
# Palettes for many K at once (the elbow curve)


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
        # A few Lloyd iterations: the fine coreset's solution is already
        # close to the fixed point (Hamerly's bounds for many colours).
        if k > LARGE_K:
            return hamerly(
                colors, weights, run[0], max_iter, exact_level[2], stall=PATH_STALL
            )[:3]
        return _lloyd(
            colors, weights, run[0], min(max_iter, PATH_EXACT_ITER), exact_level[2]
        )

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


def _map(func, args, n_jobs):
    if len(args) == 1 or n_workers(n_jobs) == 1:
        return [func(*a) for a in args]
    from sklearn.utils.parallel import Parallel, delayed

    return Parallel(n_jobs=n_jobs, prefer="threads")(delayed(func)(*a) for a in args)
