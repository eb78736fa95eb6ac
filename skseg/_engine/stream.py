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
- **between re-seeds** (:meth:`Stream.step`): a chunk the palette serves
  as well as the pixels it was fitted on leaves it as it is (work in the
  size of the chunk's table); a chunk it serves worse (the next scene)
  makes ``n_init`` restarts and the current palette compete on the grid
  coresets of the merged table, with no exact refinement, so new colours
  get centres of their own at once, not only at the next re-seed.

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
#: Between re-seeds, a chunk served this much worse per pixel than the
#: pixels of the last re-seed refits the palette on the coresets.
DRIFT = 1.5


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

    def seeded(self, centers, inertia):
        """The palette fitted on :meth:`total` at this point, and its WCSS."""
        self.centers = np.array(centers, dtype=np.float64)
        self.seeded_pixels = self.n_pixels
        self.seeded_wcss = inertia / max(self.n_pixels, 1)  # per pixel

    def step(self, table, options, rng):
        """Between re-seeds: the chunk ``table`` (already added) against the
        current palette.

        A chunk the palette serves about as well as the pixels it was fitted
        on (WCSS per pixel at most :data:`DRIFT` times theirs) leaves it as
        it is: work in the size of the chunk's table. A chunk it serves
        worse (a new scene) makes restarts and the current palette compete
        on the coresets of the merged table
        (:func:`~.strategy.refit_on_coresets`). Returns the palette
        (``inertia`` None: see :meth:`wcss`), or None for the palette as it
        is, or ``False`` when the table is too small for coresets.
        """
        chunk = self.wcss(self.centers, table) / max(table.n_pixels, 1)
        if chunk <= DRIFT * self.seeded_wcss:
            return None
        palette = refit_on_coresets(
            self.total(), self.n_clusters, self.centers, rng=rng, **options
        )
        if palette is None:
            return False
        self.centers = np.array(palette.centers)
        return palette

    def wcss(self, centers, table=None):
        """Exact WCSS of ``centers`` over every pixel seen (one table pass),
        or over ``table``."""
        table = self.total() if table is None else table
        weight, sums, squares = cluster_stats(table, centers, n_cpus())
        norms = np.einsum("ij,ij->i", centers, centers)
        wcss = squares - 2 * np.einsum("ij,ij->i", centers, sums) + weight * norms
        return float(max(wcss.sum(), 0.0))
