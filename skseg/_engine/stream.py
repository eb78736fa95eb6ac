"""Streaming: the running state of ``partial_fit`` over chunks of a collection."""

from __future__ import annotations

import numpy as np

from .._parallel import n_cpus
from .coresets import FINE_CELLS, _grid_coreset
from .distances import _abs_tol
from .lloyd import _lloyd
from .strategy import Palette, _sorted, cluster_stats
from .tables import merge_tables

__all__ = ["Stream"]


# partial_fit runs exact Lloyd iterations on the merged table whenever the
# pixels seen have grown by this factor since the last exact pass.
_EXACT_GROWTH = 4


class Stream:
    """Running state of a ``partial_fit`` loop over chunks of a large table.

    Keeps, per cluster, the pixel count ``W``, the colour sum ``S`` and the
    sum of squared norms ``Q`` of every pixel seen, under the assignment of
    each colour to its nearest centre when it was added. A new chunk's
    colours are assigned to the current centres and added (work in the size
    of the chunk's table, not of the whole table); the centres become
    ``S / W`` and the WCSS of that assignment is ``sum(Q - |S|^2 / W)``.
    Whenever the number of pixels has doubled since the last exact pass, the
    pending tables are merged and Lloyd iterations run on the exact merged
    table from the current centres, which resets the statistics: the exact
    passes cost a geometric series, about two passes over the final table.
    """

    def __init__(self, n_clusters, table):
        self.n_clusters = n_clusters
        self.table = table
        self.pending = []
        self.exact_pixels = table.n_pixels
        self.pixels = table.n_pixels

    def merged(self):
        if self.pending:
            # the large running table last: merge_tables merges neighbours
            # pairwise, so the chunks' tables are merged among themselves
            # first and the running table takes part in one or two merges
            self.table = merge_tables([*self.pending, self.table])
            self.pending = []
        return self.table

    def _stats(self, table, centers):
        return cluster_stats(table, centers, n_cpus())

    def restat(self, centers):
        """Exact statistics of the merged table under ``centers``."""
        self.W, self.S, self.Q = self._stats(self.merged(), centers)
        self.fallback = np.array(centers, dtype=np.float64)
        self.exact_pixels = self.pixels

    def add(self, table):
        """Add a chunk's table: its colours go to the nearest current centre."""
        centers = self.centers()
        w, s, q = self._stats(table, centers)
        self.W, self.S, self.Q = self.W + w, self.S + s, self.Q + q
        self.fallback = centers
        self.pending.append(table)
        self.pixels += table.n_pixels

    def centers(self):
        out = self.fallback.copy()
        filled = self.W > 0
        out[filled] = self.S[filled] / self.W[filled, None]
        return out

    def due(self):
        return self.pixels >= _EXACT_GROWTH * self.exact_pixels

    def refine(self, max_iter, tol):
        """Lloyd iterations on the merged table from the current centres.

        Most of the way on the fine grid coreset of the merged table (as
        :func:`fit_palette` refines its best restarts), whose iterations
        cost a fraction of a pass over the table; then on the exact table,
        one :func:`cluster_stats` pass per iteration (in the table's own
        dtype, no float64 copy; usually one or two), until the squared
        centre shift is at most ``tol`` times the mean variance of the
        colours, as in :class:`sklearn.cluster.KMeans`. A last pass at the
        final centres gives their exact WCSS and resets the statistics.
        """
        table = self.merged()
        colors = table.colors
        centers = self.centers()
        if colors.shape[1] <= 8:
            fine, fine_w = _grid_coreset(
                colors.astype(np.float64), table.counts.astype(np.float64), FINE_CELLS
            )
            centers = _lloyd(fine, fine_w, centers, max_iter, _abs_tol(fine, tol))[0]
        var = [np.var(colors[:, f], dtype=np.float64) for f in range(colors.shape[1])]
        tol_abs = tol * float(np.mean(var))
        n_iter = 0
        for n_iter in range(1, max_iter + 1):
            weight, sums, _ = self._stats(table, centers)
            filled = weight > 0
            new = centers.copy()
            new[filled] = sums[filled] / weight[filled, None]
            shift = float(((new - centers) ** 2).sum())
            centers = new
            if shift <= tol_abs:
                break
        self.restat(centers)
        norms = np.einsum("ij,ij->i", centers, centers)
        wcss = self.Q - 2 * np.einsum("ij,ij->i", centers, self.S) + self.W * norms
        return _sorted(Palette(centers, float(max(wcss.sum(), 0.0)), int(n_iter)))

    def palette(self):
        """The centres ``S / W`` and the WCSS of the assignment they were made of."""
        centers = self.centers()
        filled = self.W > 0
        wcss = (
            self.Q[filled]
            - np.einsum("ij,ij->i", self.S, self.S)[filled] / (self.W[filled])
        )
        return _sorted(Palette(centers, float(max(wcss.sum(), 0.0)), 1))
