"""Assignment engine: nearest palette colour for every pixel.

Compiled loops over pixels (numba, cached on disk) that read the pixels in
their own dtype (no float64 copy of a uint8 photo) and write into arrays the
caller allocates, so a whole batch is labelled with one output array.
"""

from __future__ import annotations

import numpy as np

from ._jit import njit
from ._lloyd import nearest_centre

__all__ = ["assign_labels", "center_distances", "gather_colors"]


@njit(cache=True, nogil=True)
def _nearest(px, centers, labels):
    total = 0.0
    for i in range(px.shape[0]):
        arg, best = nearest_centre(px, i, centers)
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
