"""Colour tables: distinct colours and their pixel counts.

K-means over the pixels of a photo only ever sees its *distinct* colours,
each as often as it occurs, so every route of a fit (in memory,
``partial_fit``, the blocks of a dask array, the files of a folder) first
counts a :class:`ColorTable`. uint8 colours are counted in one pass with a
direct-address table or a presence bitmap of the 2**24 RGB colours; other
dtypes by hashing.

Tables add up: the tables of two shards merge into the table of their union
(:func:`merge_tables`), whatever the split and the order. Every route adds
its tables with one accumulator, :class:`TableAccumulator`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .._batch import check_batch
from .._jit import njit
from .._parallel import fit_threads, release_free_memory, run_in_threads

__all__ = [
    "ColorTable",
    "TableAccumulator",
    "count_batch",
    "count_block",
    "count_colors",
    "merge_tables",
]


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
    codes : ndarray of shape (n_colors,), dtype uint32, or None
        For a table of uint8 RGB pixels counted by :func:`count_colors`,
        the colours' codes ``r << 16 | g << 8 | b`` (increasing), which a
        transform of the pixels counted looks up
        (:func:`skseg._engine.assign.assign_labels_rgb8`'s ``known``). Not
        pickled.
    """

    colors: np.ndarray
    counts: np.ndarray
    codes: np.ndarray | None = field(default=None, repr=False, compare=False)

    def __getstate__(self):
        state = dict(self.__dict__)
        state["codes"] = None
        return state

    @property
    def n_colors(self):
        return self.colors.shape[0]

    @property
    def n_channels(self):
        return self.colors.shape[1]

    @property
    def n_pixels(self):
        return int(self.counts.sum())


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
def _bitmap_pass(bits, prefix, codes):
    # With an empty ``codes``: prefix[w] = number of colours whose code is
    # below 64 * w, and the number of colours returned; else the codes of
    # the present colours in increasing order written into ``codes``. (The
    # arrays come from the caller: an np.empty of uint32 in here is one
    # more function for numba to compile, 0.15-0.2 s on a first call.)
    if codes.shape[0] == 0:
        total = 0
        for w in range(bits.shape[0]):
            prefix[w] = total
            total += _popcount64(bits[w])
        return total
    r = 0
    for w in range(bits.shape[0]):
        word = bits[w]
        while word:
            # the lowest set bit: its index is the popcount of the bits below
            low = word & (~word + np.uint64(1))
            codes[r] = w * 64 + np.int64(_popcount64(low - np.uint64(1)))
            r += 1
            word ^= low
    return r


def _bitmap_index(bits):
    """Prefix counts and codes of the colours present in a presence bitmap.

    ``prefix[w]``: number of colours whose code is below ``64 * w`` (below
    2**24: uint32, half the cache lines of the counting pass's random
    reads); ``codes``: the codes of the present colours in increasing order
    (uint32: half the memory of a fitted table's codes).
    """
    prefix = np.empty(bits.shape[0], np.uint32)
    codes = np.empty(_bitmap_pass(bits, prefix, _NO_CODES), np.uint32)
    if codes.shape[0]:
        _bitmap_pass(bits, prefix, codes)
    return prefix, codes


_NO_CODES = np.empty(0, np.uint32)


@njit(cache=True, nogil=True)
def _count_codes_u16(px, counts):
    n = px.shape[0]
    for i in range(n):
        counts[px[i, 0]] += 1


@njit(cache=True, nogil=True)
def _hash_unique_rows(rows, weights, slots, first, total):
    # Distinct rows of a (n, n_bytes) uint8 array by open addressing on a
    # FNV-1a hash of the bytes (slots: a power of two of them); writes the
    # index of the first occurrence of each distinct row into first and the
    # summed weights into total (entry m set when row m is found), and
    # returns the number of distinct rows.
    # (Loops, not np.full or slice copies, and arrays from the caller: less
    # for numba to compile.)
    n, nb = rows.shape
    mask = slots.shape[0] - 1
    for s in range(slots.shape[0]):
        slots[s] = -1
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
    return m


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
    first, counts = np.empty(n, np.int32), np.empty(n, np.int64)
    slots = np.empty(capacity, np.int32)
    m = _hash_unique_rows(rows, weights.astype(np.int64), slots, first, counts)
    del slots
    first, counts = first[:m], counts[:m].copy()
    colors = px[first]
    order = np.lexsort(colors.T[::-1])
    return colors[order], counts[order]


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
        if n_pixels is None:
            n_pixels = sum(px.shape[0] for px in pixel_chunks)
    small = n_pixels is not None and n_pixels < 2**32
    count_dtype = np.uint32 if small else np.int64
    if dtype == np.uint8 and n_channels == 3:
        # Two passes: a presence bitmap of the 2**24 colours, then counts
        # indexed by each colour's rank among the present ones. Memory is
        # 2 MiB plus the table, not a 2**24-entry counter array.
        # A large chunk is split between threads, each with its own bitmap
        # and counts, added up after (integers: the same table on any number
        # of threads). Below 2**32 pixels the counts are 32-bit: 2 MiB
        # instead of 4 for half a million colours, which the pass updates
        # at random (counting pass of the 2048x2048 astronaut on 2 threads,
        # with 32-bit prefix counts: 7.9-9.9 -> 6.1-7.5 ms).
        n_threads = fit_threads() if n_pixels and n_pixels >= THREAD_MIN_PIXELS else 1
        bits = presence_bitmap(pixel_chunks, n_threads)
        prefix, codes = _bitmap_index(bits)
        counts = _rgb8_passes(
            pixel_chunks, bits, prefix, lambda: np.zeros(codes.shape[0], count_dtype),
            n_threads,
        )  # fmt: skip
        total = counts[0].astype(np.int64)
        for other in counts[1:]:
            total += other
        return ColorTable(_rgb8_colors(codes), total, codes)
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


#: Pixels from which count_colors splits a uint8 RGB count between threads.
THREAD_MIN_PIXELS = 1 << 20


def presence_bitmap(pixel_chunks, n_threads=1):
    """The presence bitmap of the colours of uint8 RGB pixel arrays.

    Bit ``code & 63`` of word ``code >> 6`` (2**18 words, 2 MiB) is set for
    every colour ``code = r << 16 | g << 8 | b`` that occurs. Each chunk is
    split between ``n_threads`` threads, each with its own bitmap, and the
    bitmaps are or-ed after: the same bitmap on any number of threads.
    """
    no_ranks = np.empty(0, np.uint32)  # the counting pass's types: one kernel
    bits = _rgb8_passes(
        pixel_chunks, None, no_ranks, lambda: np.zeros(2**18, np.uint64), n_threads
    )
    for other in bits[1:]:
        bits[0] |= other
    return bits[0]


#: Stripes of rows per thread in the passes of count_colors and
#: presence_bitmap, dealt out to the threads as they come free (each into
#: its own bitmap or counts): the halves of the 2048x2048 astronaut took
#: 2.7 ms apart to count, and a thread can be slower than the other on
#: the same work (5.6 against 7.6 ms, stripes dealt in turn).
STRIPES_PER_THREAD = 8


def _rgb8_passes(pixel_chunks, bits, prefix, make, n_threads):
    """One pass of :func:`_pass_rgb8` over every chunk, split between threads.

    The bitmap pass (``prefix`` empty) fills one bitmap per thread; the
    counting pass reads the merged bitmap ``bits`` and fills one counts
    array per thread. Each thread's array is made by ``make()`` on that
    thread, at its first stripe (zeroed in its own core's cache: the
    bitmap pass of the 2048x2048 astronaut on 2 threads took 2.9 against
    3.9 ms with bitmaps zeroed by the calling thread). Each chunk is cut
    into ``STRIPES_PER_THREAD`` stripes of rows per thread, taken by the
    threads as they come free. Returns the arrays of the threads that ran.
    """
    count = prefix.shape[0] > 0
    n_stripes = n_threads * STRIPES_PER_THREAD if n_threads > 1 else 1
    own = [None] * n_threads
    for px in pixel_chunks:
        cuts = np.linspace(0, px.shape[0], n_stripes + 1).astype(np.int64)

        def run(slot, r):
            if own[slot] is None:
                own[slot] = make()
            part = px[cuts[r] : cuts[r + 1]]
            if count:
                _pass_rgb8(part, bits, prefix, own[slot], True)
            else:
                _pass_rgb8(part, own[slot], prefix, prefix, False)

        run_in_threads(run, [(r,) for r in range(n_stripes)], n_threads, slots=True)
    made = [a for a in own if a is not None]
    return made if made else [make()]


def _rgb8_colors(codes):
    """The (n, 3) uint8 colours of uint32 codes ``r << 16 | g << 8 | b``.

    Each channel copied from its byte of the codes (shifting and masking
    made int64 temporaries: 0.7 against 0.4 ms for half a million colours).
    """
    by_byte = np.ascontiguousarray(codes, dtype=np.uint32).view(np.uint8)
    by_byte = by_byte.reshape(-1, 4)
    low = [2, 1, 0] if np.little_endian else [1, 2, 3]
    colors = np.empty((by_byte.shape[0], 3), np.uint8)
    for f in range(3):
        colors[:, f] = by_byte[:, low[f]]
    return colors


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
        no_ranks = np.empty(0, np.uint32)
        for t in tables:
            _pass_rgb8(np.ascontiguousarray(t.colors), bits, no_ranks, no_ranks, False)
        prefix, codes = _bitmap_index(bits)
        total = codes.shape[0]
        counts = np.zeros(total, np.int64)
        for t in tables:
            _add_ranked_rgb8(
                np.ascontiguousarray(t.colors), t.counts, bits, prefix, counts
            )
        return ColorTable(_rgb8_colors(codes), counts)
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


def count_block(block):
    """Count the colour table of an array of images, checked as a batch.

    For images counted somewhere else (a dask block on a worker, a file of
    the command line); the contract's checks (dtype, finite values) run
    first.
    """
    return count_batch(check_batch(block))


class TableAccumulator:
    """Colour tables of a stream of shards, added up as they come.

    The one accumulator of every route: ``partial_fit``, the command line's
    file-by-file counting and the merges of the dask tree reduction add
    their tables here. It keeps the table of the shards merged so far and
    the tables added since; once those hold more colours than the merged
    one, all are merged in one pass (:func:`merge_tables` unites any number
    of tables at once). The merged table doubles between merges, so each
    colour takes part in a logarithmic number of merges, there are few
    merges, and memory stays within about twice the table of the union
    whatever the number of shards. :meth:`total` merges what is pending into
    the table of every pixel added (the table :func:`count_colors` counts
    from all the pixels at once) and keeps it as the only entry.

    Attributes
    ----------
    stack : list of ColorTable
        The merged table first, then the tables added since.
    n_pixels : int
        Pixels of every table added.
    """

    def __init__(self, tables=()):
        self.stack = []
        self.n_pixels = 0
        for table in tables:
            self.add(table)

    def add(self, table):
        """Add the table of one more shard."""
        self.n_pixels += table.n_pixels
        self.stack.append(table)
        pending = sum(t.n_colors for t in self.stack[1:])
        if pending > self.stack[0].n_colors:
            self.stack = [merge_tables(self.stack)]

    def total(self):
        """The table of every pixel added so far."""
        if len(self.stack) > 1:
            self.stack = [merge_tables(self.stack)]
            # the merges' temporaries, freed, go back to the system
            release_free_memory()
        return self.stack[0]


def add_tables(*tables):
    """Add ``tables`` up into the table of their union.

    One merge of the dask tree reduction, through :class:`TableAccumulator`.
    """
    return TableAccumulator(tables).total()
