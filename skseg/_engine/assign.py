"""Assignment: the nearest palette colour of every pixel.

Compiled loops over pixels (numba, cached on disk) that read the pixels in
their own dtype (no float64 copy of a uint8 photo) and write into arrays the
caller allocates, so a whole batch is labelled with one output array.

uint8 RGB pixels go through their distinct colours
(:func:`assign_labels_rgb8`) for palettes of more than
``LOOKUP_SCORE_MIN_CLUSTERS`` colours, and of 2 or more when pixels x
colours is large enough (:func:`through_table`; the caller decides). A
photo of 4 Mpx has about 0.5 M distinct colours. Labelling every pixel
against K centres costs ``n_pixels x K`` distances; labelling every
distinct colour once and looking each pixel's label up costs two passes
over the pixels whatever K is. A distinct colour is compared only with the
centres that can be the nearest to some colour of its cell of the RGB cube
(:func:`cell_candidates`:
16**3 cells of 16**3 colours; a centre is a candidate unless even its
nearest point of the cell is farther than some other centre's farthest),
a handful at K = 256. The distinct colours come from a presence bitmap of
the 2**24 colours (2 MiB). A large run labelled without the sum of squared
distances by at most 256 colours looks each pixel's label up in a label
per colour of the cube (16 MiB, only the present colours written and
read; for a transform of the photo fitted, the fitted colours' labels,
kept for the next call with the same palette: LABEL_TABLES_KEPT);
otherwise the lookup goes through the rank of a colour among the
present ones (a prefix count per 64-bit word plus a popcount) and a label
per present colour.

The labels are bitwise those of the direct scan
(:func:`assign_labels`: nearest centre, ties to the lowest index).
"""

from __future__ import annotations

import collections
import threading
import weakref

import numpy as np

from .._jit import njit
from .._parallel import fault_in, run_in_threads
from .distances import guess_thresholds, nearest_center, nearest_guessed
from .tables import THREAD_MIN_PIXELS, _bitmap_index, _popcount64, presence_bitmap

__all__ = [
    "CELL_BITS",
    "assign_labels",
    "assign_labels_rgb8",
    "cell_candidates",
    "center_distances",
    "gather_colors",
    "through_table",
]


@njit(cache=True, nogil=True)
def _nearest(px, centers, labels, thr):
    # Labels of the pixels, each pixel's guess the label before it
    # (nearest_guessed, thr from guess_thresholds); returns the sum of their
    # squared distances, added in pixel order.
    total = 0.0
    arg = 0
    for i in range(px.shape[0]):
        arg, best = nearest_guessed(px, i, centers, thr, arg)
        labels[i] = arg
        total += best
    return total


@njit(cache=True, nogil=True)
def _nearest_scan(px, centers, labels):
    # _nearest without the guess: a full scan of the centres per pixel
    # (nearest_center). The same labels and sum, bit for bit; for runs of
    # fewer than GUESS_MIN_PIXELS pixels.
    total = 0.0
    for i in range(px.shape[0]):
        arg, best = nearest_center(px, i, centers)
        labels[i] = arg
        total += best
    return total


#: Runs from which the labels try each pixel's guess first (_nearest);
#: smaller runs take the plain scan (_nearest_scan). The guess more than
#: halves the labels' time on a photo (the 12 Mpx float photo at K = 8, one
#: thread: 0.13-0.16 against 0.30-0.49 s), but its kernel compiles 0.1-0.15 s
#: longer with an empty cache, and on a 512x512 photo at K = 3 it saves
#: 0.25 ms a call (2.07 against 2.32 ms): a first call on a small image
#: would pay for hundreds of calls' savings.
GUESS_MIN_PIXELS = 1 << 20


@njit(cache=True, nogil=True)
def _distances(px, centers, out):
    n, c = px.shape
    k = centers.shape[0]
    for i in range(n):
        for j in range(k):
            d = 0.0
            for f in range(c):
                t = px[i, f] - centers[j, f]
                d += t * t
            out[i, j] = np.sqrt(d)


@njit(cache=True, nogil=True)
def _gather(colors, labels, out):
    n, c = out.shape
    for i in range(n):
        for f in range(c):
            out[i, f] = colors[labels[i], f]


def gather_colors(colors, labels, out):
    """Write ``colors[labels]`` into ``out`` without temporaries."""
    _gather(colors, labels, out)


def assign_labels(px, centers, labels, n_threads=1, with_sse=True):
    """Write the index of the nearest centre of every pixel into ``labels``.

    Parameters
    ----------
    px : ndarray of shape (n_pixels, n_channels)
        Pixels in their own dtype.
    centers : ndarray of shape (n_clusters, n_channels), float64
        Palette.
    labels : ndarray of shape (n_pixels,), int32
        Output.
    n_threads : int, default=1
        Threads for runs of ``LOOKUP_PIECE`` pixels, when ``with_sse`` is
        False (the sum is then not needed, and its order of addition would
        depend on the runs). The labels do not depend on it.
    with_sse : bool, default=True
        Whether to return the sum of squared distances.

    Returns
    -------
    sse : float or None
        Sum over the pixels of the squared distance to their nearest centre
        (None unless ``with_sse``).
    """
    n = px.shape[0]
    if n < GUESS_MIN_PIXELS:
        sse = _nearest_scan(px, centers, labels)
        return sse if with_sse else None
    if with_sse or n_threads <= 1 or n <= LOOKUP_PIECE:
        sse = _nearest(px, centers, labels, guess_thresholds(centers))
        return sse if with_sse else None
    centers = np.ascontiguousarray(centers, dtype=np.float64)
    thr = guess_thresholds(centers)
    fault_in(labels)  # fresh output pages touched by one thread first

    def piece(a):
        b = min(a + LOOKUP_PIECE, n)
        _nearest(px[a:b], centers, labels[a:b], thr)

    run_in_threads(piece, [(a,) for a in range(0, n, LOOKUP_PIECE)], n_threads)
    return None


def center_distances(px, centers, out):
    """Write the Euclidean distance of every pixel to every centre into ``out``."""
    _distances(px, centers, out)


#: Palettes with more colours than this are applied through the table
#: (labels, quantized colours, histograms). On the 2048x2048 astronaut,
#: 2 cores, the quantized output took 40-53 ms through the table at K = 8,
#: 16 and 32 against 55-57 ms by the direct scan at K = 3 (``python
#: benchmarks/bench_kmeans.py --only-octree``); by the direct scan K = 8 and
#: 16 took 108 and 203 ms. Predict at K = 256 took 49 ms (section 4).
#: Lowered from 3 once the table's presence bitmap ran on the fit's threads
#: and the quantized output stopped writing labels: K = 2 and 3 took 12.0
#: and 12.1 ms through the table against 15.6 and 18.3 ms by the direct
#: scan (2048x2048 astronaut, transform, best of 9, one process).
LOOKUP_MIN_CLUSTERS = 1

#: ... and, for palettes of up to :data:`LOOKUP_SCORE_MIN_CLUSTERS` colours,
#: when pixels x colours is at least this (or LOOKUP_BY_CODE_MIN_WORK): the
#: table has a fixed cost (a 2 MiB presence bitmap, a 4 MiB index) that a
#: small image's direct scan does not pay. Measured (transform, quantized,
#: 2 cores, best of 9 calls, one process, direct scan against the table):
#: the 1024x1024 astronaut at
#: K = 2 5.8 and 6.5 ms, K = 3 7.3 and 6.6, K = 4 8.9 and 6.6, K = 8 15.1
#: and 6.8; 512x512 at K = 4 2.2 and 2.8, K = 8 3.8 and 3.0; 1448x1448 at
#: K = 2 8.0 and 7.2. (Was 2**23, measured before the bitmap ran on threads:
#: 1024x1024 at K = 4 16 ms direct, 15-24 ms through the table.) A first
#: K = 2-3 call on such an image compiles the table's two kernels instead
#: of the direct scan's (measured +0.08 s of compilation).
LOOKUP_MIN_WORK = 1 << 22

#: ... or this, for runs that look labels up by colour code (see
#: BY_CODE_MIN_PIXELS). Measured (quantized, 2 cores, best of 15, by code
#: against the direct scan): 724x724 at K = 2 5.0 and 3.9 ms, K = 3 4.9
#: and 5.1, K = 4 5.0 and 6.3; 1024x1024 at K = 2 6.7 and 7.8, K = 3 6.9
#: and 10.2 ms.
LOOKUP_BY_CODE_MIN_WORK = 1 << 21

#: The sum of squared distances (``score``) goes through the table above
#: this many colours only: up to it, the direct scan's sum, whose order of
#: addition the table's would change.
LOOKUP_SCORE_MIN_CLUSTERS = 16

#: Cells of the RGB cube for :func:`cell_candidates`: 2**CELL_BITS per
#: channel.
CELL_BITS = 4


#: Distinct colours per thread task when labelling them.
LABEL_PIECE = 1 << 16


#: Runs of at least this many pixels, labelled without the sum of squared
#: distances by a palette of at most 256 colours, look each pixel's label
#: up in a label per colour of the cube (a 16 MiB uint8 array indexed by
#: the colour itself; only the present colours are written and read): one
#: load per pixel instead of a bitmap word, a popcount and a label by rank,
#: two dependent loads. On the 2048x2048 astronaut (K = 16, one thread)
#: the lookup pass took 7.2 ms against 21.0 ms; quantized output on 2
#: threads, best of 15 (K = 8 and 64): 7.3 and 9.2 against 11.8 and
#: 13.4 ms at 1024x1024, 3.9 and 5.5 ms against 5.1 and 6.8 ms at 512x512.
#: From 1 Mpx only: the 16 MiB are then at most two thirds of a float64
#: copy of the run's pixels (at 512x512 they would be 2.7 copies).
BY_CODE_MIN_PIXELS = 1 << 20


#: label_of_code's mark of a colour not labelled (_assign_known): the
#: largest value of its dtype, uint8 for palettes of at most 255 colours
#: (labels 0 to 254), else uint16 (a 32 MiB table).
UNLABELLED = 255


def _known_label_dtype(n_clusters):
    # dtype of _assign_known's label per colour of the cube: room for every
    # label and the mark of a colour not labelled (its largest value)
    return np.uint8 if n_clusters <= UNLABELLED else np.uint16


#: Label tables of _assign_known kept for the last few (palette, known
#: colours) pairs: a fitted photo transformed, then predicted (or
#: transformed again) labels its known colours once. A table is 16 MiB
#: (32 MiB from 256 colours); one whose known colours are gone (their
#: estimator deleted or refitted) is dropped at the next call.
LABEL_TABLES_KEPT = 2

_label_tables = collections.OrderedDict()
_label_tables_lock = threading.Lock()


#: Pixels per piece of the lookup: fixed, so that the sum of squared
#: distances is added in the same order whatever the number of threads.
LOOKUP_PIECE = 1 << 20


def through_table(n_pixels, n_clusters, with_sse):
    """Whether a run of uint8 RGB pixels is labelled through its colours.

    By :func:`assign_labels_rgb8` rather than the direct scan of
    :func:`assign_labels`: for palettes of more than
    ``LOOKUP_SCORE_MIN_CLUSTERS`` colours; for smaller ones of more than
    ``LOOKUP_MIN_CLUSTERS`` without the sum of squared distances, when the
    direct scan's work (pixels x colours) exceeds the table's fixed cost.
    """
    if n_clusters > LOOKUP_SCORE_MIN_CLUSTERS:
        return True
    if with_sse or n_clusters <= LOOKUP_MIN_CLUSTERS:
        return False
    by_code = _by_code(n_pixels, n_clusters, with_sse)
    min_work = LOOKUP_BY_CODE_MIN_WORK if by_code else LOOKUP_MIN_WORK
    return n_pixels * n_clusters >= min_work


def _by_code(n_pixels, n_clusters, with_sse):
    # Whether assign_labels_rgb8 looks a run's labels up by colour code (see
    # BY_CODE_MIN_PIXELS) rather than by colour rank.
    return not with_sse and n_pixels >= BY_CODE_MIN_PIXELS and n_clusters <= 256


#: Palettes whose cell candidates _palette_candidates keeps.
CANDIDATES_KEPT = 8

_candidates = collections.OrderedDict()
_candidates_lock = threading.Lock()


def _palette_candidates(centers, n_threads):
    """:func:`cell_candidates` of ``centers``, kept for the last few palettes.

    A fitted palette segments image after image (a folder, a video, the
    blocks of a dask array): its candidates (1.3-1.8 ms at K = 16) are
    computed once. Keyed by the centres' bytes; the arrays are shared
    (the kernels only read them; read-only flags would make numba compile
    them again for read-only arrays).
    """
    key = centers.tobytes()
    with _candidates_lock:
        found = _candidates.get(key)
        if found is not None:
            _candidates.move_to_end(key)
            return found
    found = cell_candidates(centers, n_threads=n_threads)
    with _candidates_lock:
        _candidates[key] = found
        while len(_candidates) > CANDIDATES_KEPT:
            _candidates.popitem(last=False)
    return found


def cell_candidates(centers, bits=CELL_BITS, n_threads=1):
    """The centres that can be nearest to a colour of each cell of the cube.

    The RGB cube is cut into ``2**bits`` slices per channel. For a cell and a
    centre, ``near`` is the squared distance from the centre to the cell's
    nearest colour and ``far`` to its farthest; a centre whose ``near``
    exceeds the smallest ``far`` of the cell (with a margin for rounding)
    is farther than that centre from every colour of the cell, so never the
    nearest, nor tied with it.

    Parameters
    ----------
    centers : ndarray of shape (n_clusters, 3), float64
    bits : int
    n_threads : int, default=1
        Threads for the slabs of cells (NumPy releases the GIL); the result
        does not depend on it.

    Returns
    -------
    starts : ndarray of shape (2**(3 * bits) + 1,), int64
        Candidates of cell ``(r >> s) << 2 bits | (g >> s) << bits | b >> s``
        (``s = 8 - bits``) are ``items[starts[cell]:starts[cell + 1]]``.
    items : ndarray of int32
        Centre indices, increasing within a cell.
    """
    n = 1 << bits
    side = 256 >> bits
    lo = np.arange(n, dtype=np.float64)[:, None] * side  # (n, 1)
    hi = lo + (side - 1)
    c = np.asarray(centers, dtype=np.float64)
    # per channel (n slices, k centres): squared distance to the slice's
    # nearest and farthest value
    near = [
        np.maximum(np.maximum(lo - c[:, f], c[:, f] - hi), 0.0) ** 2 for f in range(3)
    ]
    far = [
        np.maximum(np.abs(c[:, f] - lo), np.abs(c[:, f] - hi)) ** 2 for f in range(3)
    ]
    starts = np.zeros(n**3 + 1, np.int64)
    items = [None] * n

    def slab(r):  # a slab of n x n cells (g, b) at a time: bounded memory
        slab_near = near[0][r] + near[1][:, None, :] + near[2][None, :, :]
        slab_far = far[0][r] + far[1][:, None, :] + far[2][None, :, :]
        bound = slab_far.reshape(n * n, -1).min(axis=1)
        keep = slab_near.reshape(n * n, -1) <= bound[:, None] * (1.0 + 1e-9) + 1e-6
        starts[r * n * n + 1 : (r + 1) * n * n + 1] = keep.sum(axis=1)
        items[r] = np.nonzero(keep)[1].astype(np.int32)

    run_in_threads(slab, [(r,) for r in range(n)], n_threads)
    np.cumsum(starts, out=starts)
    return starts, np.concatenate(items)


@njit(cache=True, nogil=True)
def _label_codes(codes, centers, starts, items, shift, labels, d2, by_code):
    # Nearest centre of every colour code (r << 16 | g << 8 | b) among its
    # cell's candidates, in increasing index order: the first minimum, as
    # the direct scan's (the same differences and sum order); with
    # d2.shape[0] > 0 also the squared distance. The label goes to
    # labels[code] if by_code (a label per colour of the cube), else to
    # labels[i].
    score = d2.shape[0] > 0
    bits = 8 - shift
    for i in range(codes.shape[0]):
        code = codes[i]
        r = (code >> 16) & 255
        g = (code >> 8) & 255
        b = code & 255
        cell = (((r >> shift) << bits | (g >> shift)) << bits) | (b >> shift)
        best = np.inf
        arg = 0
        for p in range(starts[cell], starts[cell + 1]):
            j = items[p]
            t0 = r - centers[j, 0]
            t1 = g - centers[j, 1]
            t2 = b - centers[j, 2]
            d = t0 * t0 + t1 * t1 + t2 * t2
            if d < best:
                best = d
                arg = j
        if by_code:
            labels[code] = arg
        else:
            labels[i] = arg
        if score:
            d2[i] = best


@njit(cache=True, nogil=True)
def _lookup_by_code(px, label_of_code, labels, colors, out, unlabelled):
    # Label of every pixel from the label of its colour (unless labels is
    # empty); with out.shape[0] > 0 also its palette colour (colors[label]).
    # Stops at the first pixel whose colour's label is ``unlabelled`` and
    # returns its index (-1: none; -1 as ``unlabelled`` never stops).
    keep = labels.shape[0] > 0
    write = out.shape[0] > 0
    for i in range(px.shape[0]):
        code = (np.int64(px[i, 0]) << 16) | (np.int64(px[i, 1]) << 8) | px[i, 2]
        a = label_of_code[code]
        if a == unlabelled:
            return i
        if keep:
            labels[i] = a
        if write:
            out[i, 0] = colors[a, 0]
            out[i, 1] = colors[a, 1]
            out[i, 2] = colors[a, 2]
    return -1


@njit(cache=True, nogil=True)
def _lookup(px, index, label_of_rank, d2_of_rank, labels, colors, out):
    # Label of every pixel through its colour's rank (unless labels is
    # empty); with out.shape[0] > 0 also its palette colour (colors[label],
    # the quantized output), and with d2_of_rank.shape[0] > 0 the sum of
    # the squared distances, in the same pass. index[w] = (presence bits of
    # word w, colours below it).
    total = 0.0
    keep = labels.shape[0] > 0
    write = out.shape[0] > 0
    score = d2_of_rank.shape[0] > 0
    for i in range(px.shape[0]):
        code = (np.int64(px[i, 0]) << 16) | (np.int64(px[i, 1]) << 8) | px[i, 2]
        w = code >> 6
        word = index[w, 0]
        below = word & ((np.uint64(1) << np.uint64(code & 63)) - np.uint64(1))
        r = np.int64(index[w, 1]) + np.int64(_popcount64(below))
        a = label_of_rank[r]
        if keep:
            labels[i] = a
        if score:
            total += d2_of_rank[r]
        if write:
            out[i, 0] = colors[a, 0]
            out[i, 1] = colors[a, 1]
            out[i, 2] = colors[a, 2]
    return total


def assign_labels_rgb8(
    px, centers, labels, colors=None, out=None, n_threads=1, with_sse=True,
    known=None,
):  # fmt: skip
    """As :func:`assign_labels` for uint8 pixels of 3 channels.

    Parameters
    ----------
    px : ndarray of shape (n_pixels, 3), uint8
    centers : ndarray of shape (n_clusters, 3), float64
    labels : ndarray of shape (n_pixels,), int32, or None
        Output. None (with ``out``): the quantized colours alone, no labels
        written (a 4 Mpx photo's labels are 16 MB).
    colors : ndarray of shape (n_clusters, 3), uint8, optional
        With ``out``: the palette's colours, written for every pixel into
        ``out`` (shape ``(n_pixels, 3)``, uint8) in the same pass.
    out : ndarray, optional
    n_threads : int, default=1
        Threads for labelling the distinct colours and for the lookup;
        the result does not depend on it.
    with_sse : bool, default=True
        Whether to return the sum of squared distances.
    known : ndarray of uint32, optional
        Sorted codes ``r << 16 | g << 8 | b`` of colours the pixels likely
        have (the fitted table's, for a transform of the data fitted): a
        large run looked up by colour code labels these instead of making
        the run's presence bitmap, if a sample of its pixels has only such
        colours and they are not many more than the pixels; a pixel of
        another colour (the lookup stops there) sends the run the usual
        way. The result does not depend on it.

    Returns
    -------
    sse : float or None
        Sum over the pixels of the squared distance to their nearest centre
        (None unless ``with_sse``).
    """
    centers = np.ascontiguousarray(centers, dtype=np.float64)
    n = px.shape[0]
    by_code = _by_code(n, len(centers), with_sse)
    if out is None:
        colors = np.zeros((1, 3), np.uint8)
        out = np.empty((0, 3), np.uint8)
    if labels is None:
        labels = np.empty(0, np.int32)
    if (
        by_code
        and known is not None
        and _assign_known(px, centers, labels, colors, out, n_threads, known)
    ):
        return None
    # The presence bitmap and colour ranks of the palette engine's counting
    # (the bitmap on the threads, as the counting makes it, for a large run).
    bits = presence_bitmap([px], n_threads if n >= THREAD_MIN_PIXELS else 1)
    prefix, codes = _bitmap_index(bits)
    n_colors = codes.shape[0]
    # Each distinct colour labelled once among its cell's candidates: into
    # label_of[code] (a label per colour of the cube) for a large run
    # without the sum, else into label_of[r] (and d2_of_rank[r]) for the
    # colour of rank r.
    if by_code:
        del bits, prefix
        label_of = np.empty(1 << 24, np.uint8)  # only present colours are read
    else:
        label_of = np.empty(n_colors, np.int32)
    d2_of_rank = np.empty(n_colors if with_sse else 0)
    starts, items = _palette_candidates(centers, n_threads)
    shift = 8 - CELL_BITS

    def label(a, part):
        b = a + part.shape[0]
        _label_codes(
            part, centers, starts, items, shift,
            label_of if by_code else label_of[a:b],
            d2_of_rank[a:b] if with_sse else d2_of_rank,
            by_code,
        )  # fmt: skip

    parts = [(a, codes[a : a + LABEL_PIECE]) for a in range(0, n_colors, LABEL_PIECE)]
    run_in_threads(label, parts, n_threads)
    del codes, parts
    if by_code:
        _lookup_pieces(px, label_of, labels, colors, out, n_threads, -1)
        return None
    starts = list(range(0, n, LOOKUP_PIECE))
    if n_threads > 1 and len(starts) > 1:
        # fresh output pages touched by one thread first (see fault_in)
        if labels.shape[0]:
            fault_in(labels)
        if out.shape[0]:
            fault_in(out)
    index = np.empty((bits.shape[0], 2), np.uint64)
    index[:, 0] = bits
    index[:, 1] = prefix
    del bits, prefix
    sse = np.zeros(len(starts))

    def piece(p):
        a = starts[p]
        b = min(a + LOOKUP_PIECE, n)
        sse[p] = _lookup(
            px[a:b],
            index,
            label_of,
            d2_of_rank,
            labels[a:b] if labels.shape[0] else labels,
            colors,
            out[a:b] if out.shape[0] else out,
        )

    run_in_threads(piece, [(p,) for p in range(len(starts))], n_threads)
    return float(sse.sum()) if with_sse else None


#: Pixels of a run whose colours _assign_known looks up in the known codes
#: before labelling them.
KNOWN_SAMPLE = 1024


def _assign_known(px, centers, labels, colors, out, n_threads, known):
    # assign_labels_rgb8 by colour code through the known colours, labelled
    # into a label per colour of the cube marked elsewhere (see UNLABELLED),
    # kept for the next call with this palette and these colours: no
    # presence bitmap of the run. False (nothing written that the usual way
    # does not overwrite) when they do not hold every colour of the run.
    n = px.shape[0]
    if not 0 < known.shape[0] <= n // 2:
        return False
    sample = px[np.linspace(0, n - 1, min(n, KNOWN_SAMPLE)).astype(np.int64)]
    sample = sample.astype(np.uint32)  # known's dtype: no copy to compare
    sample = (sample[:, 0] << 16) | (sample[:, 1] << 8) | sample[:, 2]
    for part in (sample[:32], sample[32:]):  # other photos fail in the first
        where = np.minimum(np.searchsorted(known, part), known.shape[0] - 1)
        if not (known[where] == part).all():
            return False
    label_of = _known_label_table(centers, known, n_threads)
    unlabelled = np.iinfo(label_of.dtype).max
    return _lookup_pieces(px, label_of, labels, colors, out, n_threads, unlabelled)


def _known_label_table(centers, known, n_threads):
    # The label of each known colour in a label per colour of the cube,
    # marked with its dtype's largest value elsewhere; kept for the last
    # LABEL_TABLES_KEPT (palette, known) pairs (see there), keyed by the
    # centres' bytes and the known array itself (held weakly). The tables
    # are shared: the lookups only read them.
    key = (centers.tobytes(), id(known))
    with _label_tables_lock:
        for old in [k for k, (ref, _) in _label_tables.items() if ref() is None]:
            del _label_tables[old]  # known colours gone: their id may recur
        found = _label_tables.get(key)
        if found is not None and found[0]() is known:
            _label_tables.move_to_end(key)
            return found[1]
    dtype = _known_label_dtype(len(centers))
    label_of = np.full(1 << 24, np.iinfo(dtype).max, dtype)
    starts, items = _palette_candidates(centers, n_threads)
    shift = 8 - CELL_BITS

    def label(part):
        _label_codes(part, centers, starts, items, shift, label_of, _NO_D2, True)

    pieces = range(0, known.shape[0], LABEL_PIECE)
    run_in_threads(label, [(known[a : a + LABEL_PIECE],) for a in pieces], n_threads)
    with _label_tables_lock:
        _label_tables[key] = (weakref.ref(known), label_of)
        _label_tables.move_to_end(key)
        while len(_label_tables) > LABEL_TABLES_KEPT:
            _label_tables.popitem(last=False)
    return label_of


def _lookup_pieces(px, label_of, labels, colors, out, n_threads, unlabelled):
    # _lookup_by_code over runs of LOOKUP_PIECE pixels on the threads; False
    # if a run met a colour labelled ``unlabelled``.
    n = px.shape[0]
    cuts = list(range(0, n, LOOKUP_PIECE)) + [n]
    if n_threads > 1 and len(cuts) > 2:
        # fresh output pages touched by one thread first (see fault_in)
        if labels.shape[0]:
            fault_in(labels)
        if out.shape[0]:
            fault_in(out)
    missed = np.empty(len(cuts) - 1, np.int64)

    def piece(p):
        a, b = cuts[p], cuts[p + 1]
        missed[p] = _lookup_by_code(
            px[a:b], label_of, labels[a:b] if labels.shape[0] else labels,
            colors, out[a:b] if out.shape[0] else out, unlabelled,
        )  # fmt: skip

    run_in_threads(piece, [(p,) for p in range(len(cuts) - 1)], n_threads)
    return bool((missed < 0).all())


_NO_D2 = np.empty(0)
