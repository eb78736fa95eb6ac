"""Assignment: the nearest palette colour of every pixel.

Compiled loops over pixels (numba, cached on disk) that read the pixels in
their own dtype (no float64 copy of a uint8 photo) and write into arrays the
caller allocates, so a whole batch is labelled with one output array.

uint8 RGB pixels against more than 3 centres go through their distinct
colours (:func:`assign_labels_rgb8`). A photo of 4 Mpx has about 0.5 M
distinct colours. Labelling every pixel against K centres costs
``n_pixels x K`` distances; labelling every distinct colour once (by the
direct scan's kernel for up to 16 centres, by
:func:`skseg._engine.hamerly.nearest_pruned`, which visits only the
centres near the previous colour's, above) and looking each pixel's label
up costs two passes over the pixels whatever K is. The lookup goes through a presence
bitmap of the 2**24 colours (2 MiB) and the rank of a colour among the
present ones (a prefix count per 64-bit word plus a popcount), so no
2**24-entry label array is made.

The labels are bitwise those of the direct scan
(:func:`assign_labels`: nearest centre, ties to the lowest index).
"""

from __future__ import annotations

import numpy as np

from .._jit import njit
from .._parallel import fault_in, run_in_threads
from .distances import nearest_center
from .hamerly import nearest_pruned
from .tables import _bitmap_index, _pass_rgb8, _popcount64

__all__ = [
    "LOOKUP_MIN_CLUSTERS",
    "LOOKUP_MIN_WORK",
    "LOOKUP_PRUNED_CLUSTERS",
    "assign_labels",
    "assign_labels_rgb8",
    "center_distances",
    "gather_colors",
]


@njit(cache=True, nogil=True)
def _nearest(px, centers, labels):
    total = 0.0
    for i in range(px.shape[0]):
        arg, best = nearest_center(px, i, centers)
        labels[i] = arg
        total += best
    return total


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


def assign_labels(px, centers, labels):
    """Write the index of the nearest centre of every pixel into ``labels``.

    Parameters
    ----------
    px : ndarray of shape (n_pixels, n_channels)
        Pixels in their own dtype.
    centers : ndarray of shape (n_clusters, n_channels), float64
        Palette.
    labels : ndarray of shape (n_pixels,), int32
        Output.

    Returns
    -------
    sse : float
        Sum over the pixels of the squared distance to their nearest centre.
    """
    return _nearest(px, centers, labels)


def center_distances(px, centers, out):
    """Write the Euclidean distance of every pixel to every centre into ``out``."""
    _distances(px, centers, out)


#: Palettes with more colours than this are applied through the table
#: when the sum of squared distances is not asked for (labels, quantized
#: colours, histograms). The distinct colours are then labelled by the
#: direct scan's own kernel (:func:`assign_labels` on uint8 rows) up to
#: :data:`LOOKUP_PRUNED_CLUSTERS` colours, by
#: :func:`~skseg._engine.hamerly.nearest_pruned` above. On a 2048x2048
#: photo, 2 cores, the quantized output took 44-56 ms through the table at
#: K = 4 to 64 (75 ms at K = 256), and 46, 93 and 194 ms by the direct scan
#: at K = 3, 8 and 16.
LOOKUP_MIN_CLUSTERS = 3

#: ... and, for palettes of up to :data:`LOOKUP_PRUNED_CLUSTERS` colours,
#: when pixels x colours is at least this: the table has a fixed cost (a
#: 2 MiB presence bitmap, a 4 MiB index) that a small image's direct scan
#: does not pay. Measured (transform, 2 cores, best of 7, fresh
#: processes): the 1024x1024 astronaut at K = 4 took 16 ms by the direct
#: scan and 15-24 ms through the table, at K = 8 28 and 18 ms, K = 16 51 and
#: 24 ms; 2048x2048 at K = 4 64 and 41 ms; 512x512 at K = 16 13.0 and 9.6 ms.
LOOKUP_MIN_WORK = 1 << 23

#: Palettes with more colours than this are applied through the table
#: also when the sum of squared distances is asked for (``score``): the
#: table then carries every distinct colour's squared distance, which only
#: ``nearest_pruned`` gives.
LOOKUP_PRUNED_CLUSTERS = 16


#: Distinct colours labelled per call of nearest_pruned (bounded memory).
LOOKUP_COLORS = 1 << 16


#: Pixels per piece of the lookup: fixed, so that the sum of squared
#: distances is added in the same order whatever the number of threads.
LOOKUP_PIECE = 1 << 20


@njit(cache=True, nogil=True)
def _lookup(px, index, label_of_rank, d2_of_rank, labels, colors, out):
    # Label of every pixel through its colour's rank; with out.shape[0] > 0
    # also its palette colour (colors[label], the quantized output), and
    # with d2_of_rank.shape[0] > 0 the sum of the squared distances, in the
    # same pass. index[w] = (presence bits of word w, colours below it).
    total = 0.0
    write = out.shape[0] > 0
    score = d2_of_rank.shape[0] > 0
    for i in range(px.shape[0]):
        code = (np.int64(px[i, 0]) << 16) | (np.int64(px[i, 1]) << 8) | px[i, 2]
        w = code >> 6
        word = index[w, 0]
        below = word & ((np.uint64(1) << np.uint64(code & 63)) - np.uint64(1))
        r = np.int64(index[w, 1]) + np.int64(_popcount64(below))
        a = label_of_rank[r]
        labels[i] = a
        if score:
            total += d2_of_rank[r]
        if write:
            out[i, 0] = colors[a, 0]
            out[i, 1] = colors[a, 1]
            out[i, 2] = colors[a, 2]
    return total


def assign_labels_rgb8(
    px, centers, labels, colors=None, out=None, n_threads=1, with_sse=True
):
    """As :func:`assign_labels` for uint8 pixels of 3 channels.

    Parameters
    ----------
    px : ndarray of shape (n_pixels, 3), uint8
    centers : ndarray of shape (n_clusters, 3), float64
    labels : ndarray of shape (n_pixels,), int32
        Output.
    colors : ndarray of shape (n_clusters, 3), uint8, optional
        With ``out``: the palette's colours, written for every pixel into
        ``out`` (shape ``(n_pixels, 3)``, uint8) in the same pass.
    out : ndarray, optional
    n_threads : int, default=1
        Threads for labelling the distinct colours and for the lookup;
        the result does not depend on it.
    with_sse : bool, default=True
        Whether to return the sum of squared distances; it needs more than
        :data:`LOOKUP_PRUNED_CLUSTERS` centres.

    Returns
    -------
    sse : float or None
        Sum over the pixels of the squared distance to their nearest centre
        (None unless ``with_sse``).
    """
    pruned = len(centers) > LOOKUP_PRUNED_CLUSTERS
    if with_sse and not pruned:
        raise ValueError(
            f"the table carries squared distances for more than "
            f"{LOOKUP_PRUNED_CLUSTERS} centres only"
        )
    # The presence bitmap and colour ranks of the palette engine's counting.
    bits = np.zeros(2**18, np.uint64)
    no_ranks = np.empty(0, np.int64)
    _pass_rgb8(px, bits, no_ranks, no_ranks, False)
    prefix, codes = _bitmap_index(bits)
    # Each distinct colour labelled once, LOOKUP_COLORS at a time (the
    # copy of the colours as rows never exists whole): label_of_rank[r]
    # (and d2_of_rank[r]) of the colour of rank r.
    n_colors = codes.shape[0]
    label_of_rank = np.empty(n_colors, np.int32)
    d2_of_rank = np.empty(n_colors if with_sse else 0)
    table = np.empty(
        (min(n_colors, LOOKUP_COLORS), 3), np.float64 if pruned else np.uint8
    )
    for a in range(0, n_colors, LOOKUP_COLORS):
        part = codes[a : a + LOOKUP_COLORS]
        b = a + part.shape[0]
        rows = table[: part.shape[0]]
        rows[:, 0] = part >> 16
        rows[:, 1] = (part >> 8) & 255
        rows[:, 2] = part & 255
        if pruned:
            labels_part, d2_part = nearest_pruned(rows, centers, n_threads=n_threads)
            label_of_rank[a:b] = labels_part
            if with_sse:
                d2_of_rank[a:b] = d2_part
        else:
            # the direct scan's kernel, on uint8 rows: its labels, bitwise
            _nearest(rows, centers, label_of_rank[a:b])
    del codes, table
    index = np.empty((bits.shape[0], 2), np.uint64)
    index[:, 0] = bits
    index[:, 1] = prefix
    del bits, prefix
    if out is None:
        colors = np.zeros((1, 3), np.uint8)
        out = np.empty((0, 3), np.uint8)
    n = px.shape[0]
    starts = list(range(0, n, LOOKUP_PIECE))
    sse = np.zeros(len(starts))

    def piece(p):
        a = starts[p]
        b = min(a + LOOKUP_PIECE, n)
        sse[p] = _lookup(
            px[a:b],
            index,
            label_of_rank,
            d2_of_rank,
            labels[a:b],
            colors,
            out[a:b] if out.shape[0] else out,
        )

    if n_threads > 1 and len(starts) > 1:
        # fresh output pages touched by one thread first (see fault_in)
        fault_in(labels)
        if out.shape[0]:
            fault_in(out)
    run_in_threads(piece, [(p,) for p in range(len(starts))], n_threads)
    return float(sse.sum()) if with_sse else None
