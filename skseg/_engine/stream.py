"""Streaming: the running state of ``partial_fit`` over chunks of a collection.

Every chunk's colour table goes into one :class:`~.tables.TableAccumulator`
(the accumulator of every route), so the table of all pixels seen is always
at hand, exactly the table :meth:`fit` would count. The palette follows the
chunks in two ways:

- **re-seeding** (:meth:`Stream.due`): whenever the pixels seen have grown
  :data:`GROWTH`-fold since the last re-seed (and on every call while the
  table of all pixels seen is small), the merged table is fitted by the fit
  strategy itself (:func:`~.strategy.fit_palette`: ``n_init`` restarts on
  its coresets, exact refinement), with the current palette as one more
  candidate. The re-seeds form a geometric series: together they cost
  about ``GROWTH / (GROWTH - 1)`` times one fit of the final table, and
  chunks sorted by date or scene cannot trap the palette in the optimum of
  the first chunks;
- **between re-seeds** (:meth:`Stream.step`): ``n_init`` restarts and the
  current palette compete on the grid coresets of the merged table, with no
  exact refinement: a pass to bin the table plus work in the size of the
  coresets. A chunk of new colours (the next scene) gets centres of its own
  at once, not only at the next re-seed.

The WCSS of the current centres over every pixel seen (:meth:`Stream.wcss`)
is exact: one pass over the merged table, made when it is asked for.
"""

from __future__ import annotations

import numpy as np

from .._parallel import n_cpus
from .coresets import CORESET_MIN_COLORS
from .strategy import cluster_stats, refit_on_coresets
from .tables import TableAccumulator

__all__ = ["GROWTH", "Stream"]

#: Re-seed when the pixels seen have grown this many times since the last.
GROWTH = 4


class Stream:
    """Running state of a ``partial_fit`` loop.

    Parameters
    ----------
    n_clusters : int
        Number of colours of the palette it follows.
    """

    def __init__(self, n_clusters):
        self.n_clusters = n_clusters
        self.tables = TableAccumulator()
        self.seeded_pixels = 0
        self.centers = None  # the current palette

    @property
    def n_pixels(self):
        return self.tables.n_pixels

    def add(self, table):
        """Add a chunk's table to the tables seen."""
        self.tables.add(table)

    def total(self):
        """The table of every pixel seen (merged now if need be)."""
        return self.tables.total()

    def due(self):
        """Whether the palette is to be fitted anew on the merged table."""
        if self.centers is None:
            return True
        small = sum(t.n_colors for t in self.tables.stack) < CORESET_MIN_COLORS
        return small or self.n_pixels >= GROWTH * self.seeded_pixels

    def seeded(self, centers):
        """The palette fitted on :meth:`total` at this point: new sums."""
        self.centers = np.array(centers, dtype=np.float64)
        self.seeded_pixels = self.n_pixels

    def step(self, options, rng):
        """Between re-seeds: restarts and the current palette compete on the
        coresets of the merged table (:func:`~.strategy.refit_on_coresets`).

        Returns the palette (``inertia`` None: see :meth:`wcss`).
        """
        palette = refit_on_coresets(
            self.total(), self.n_clusters, self.centers, rng=rng, **options
        )
        if palette is not None:
            self.centers = np.array(palette.centers)
        return palette

    def wcss(self, centers):
        """Exact WCSS of ``centers`` over every pixel seen (one table pass)."""
        weight, sums, squares = cluster_stats(self.total(), centers, n_cpus())
        norms = np.einsum("ij,ij->i", centers, centers)
        wcss = squares - 2 * np.einsum("ij,ij->i", centers, sums) + weight * norms
        return float(max(wcss.sum(), 0.0))
