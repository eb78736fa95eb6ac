"""Labels of uint8 RGB pixels through their distinct colours.

A photo of 4 Mpx has about 0.5 M distinct colours. Labelling every pixel
against K centres costs ``n_pixels x K`` distances; labelling every distinct
colour once (:func:`skseg._lloyd.nearest_pruned`, which visits only the
centres near the previous colour's) and looking each pixel's label up costs
two passes over the pixels whatever K is. The lookup goes through a presence
bitmap of the 2**24 colours (2 MiB) and the rank of a colour among the
present ones (a prefix count per 64-bit word plus a popcount), so no
2**24-entry label array is made.

The labels are bitwise those of the direct scan (:func:`skseg._assign.assign_labels`:
nearest centre, ties to the lowest index).
"""

from __future__ import annotations

import numpy as np

from ._jit import njit
from ._lloyd import nearest_pruned

__all__ = ["LOOKUP_MIN_CLUSTERS", "assign_labels_rgb8"]

#: Palettes with more colours than this are applied through the table
#: (below it the direct scan is as fast and is kept as it was).
LOOKUP_MIN_CLUSTERS = 16


@njit(cache=True, nogil=True)
def _popcount(x):
    x = x - ((x >> np.uint64(1)) & np.uint64(0x5555555555555555))
    x = (x & np.uint64(0x3333333333333333)) + (
        (x >> np.uint64(2)) & np.uint64(0x3333333333333333)
    )
    x = (x + (x >> np.uint64(4))) & np.uint64(0x0F0F0F0F0F0F0F0F)
    return (x * np.uint64(0x0101010101010101)) >> np.uint64(56)


@njit(cache=True, nogil=True)
def _mark(px, bits):
    for i in range(px.shape[0]):
        code = (np.int64(px[i, 0]) << 16) | (np.int64(px[i, 1]) << 8) | px[i, 2]
        bits[code >> 6] |= np.uint64(1) << np.uint64(code & 63)


@njit(cache=True, nogil=True)
def _present(bits):
    # Prefix counts per word and the present colours in code order.
    prefix = np.empty(bits.shape[0], np.int64)
    total = 0
    for w in range(bits.shape[0]):
        prefix[w] = total
        total += _popcount(bits[w])
    colors = np.empty((total, 3))
    r = 0
    for w in range(bits.shape[0]):
        word = bits[w]
        b = 0
        while word:
            if word & np.uint64(1):
                code = w * 64 + b
                colors[r, 0] = code >> 16
                colors[r, 1] = (code >> 8) & 255
                colors[r, 2] = code & 255
                r += 1
            word >>= np.uint64(1)
            b += 1
    return prefix, colors


@njit(cache=True, nogil=True)
def _lookup(px, bits, prefix, table_labels, table_d2, labels):
    total = 0.0
    for i in range(px.shape[0]):
        code = (np.int64(px[i, 0]) << 16) | (np.int64(px[i, 1]) << 8) | px[i, 2]
        w = code >> 6
        below = bits[w] & ((np.uint64(1) << np.uint64(code & 63)) - np.uint64(1))
        r = prefix[w] + np.int64(_popcount(below))
        labels[i] = table_labels[r]
        total += table_d2[r]
    return total


def assign_labels_rgb8(px, centers, labels):
    """As :func:`skseg._assign.assign_labels` for uint8 pixels of 3 channels.

    Parameters
    ----------
    px : ndarray of shape (n_pixels, 3), uint8
    centers : ndarray of shape (n_clusters, 3), float64
    labels : ndarray of shape (n_pixels,), int32
        Output.

    Returns
    -------
    sse : float
        Sum over the pixels of the squared distance to their nearest centre.
    """
    bits = np.zeros(2**18, np.uint64)
    _mark(px, bits)
    prefix, colors = _present(bits)
    table_labels, table_d2 = nearest_pruned(colors, centers)
    return _lookup(px, bits, prefix, table_labels, table_d2, labels)
