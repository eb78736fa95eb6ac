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
from .coresets import CORESET_MIN_COLORS, RunningGrid, nested_levels
from .distances import _abs_tol
from .strategy import (
    REFIT_SHARE,
    Palette,
    _sorted,
    cluster_stats,
    few_exact_iterations,
    refit_on_coresets,
)
from .tables import TableAccumulator

__all__ = ["GROWTH", "Stream"]

#: Re-seed when the pixels seen have grown this many times since the last.
GROWTH = 4
#: Between re-seeds, a chunk served this much worse per pixel than the
#: pixels of the last re-seed refits the palette on the coresets.
DRIFT = 1.05


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
        self.grid = None  # RunningGrid of every table seen
        self.seeded_pixels = 0
        self.centers = None  # the current palette

    @property
    def n_pixels(self):
        return self.tables.n_pixels

    def add(self, table):
        """Add a chunk's table to the tables seen (and to the running grid)."""
        self.tables.add(table)
        if table.n_channels > 8:
            return
        if self.grid is not None and self.grid.holds(table):
            self.grid.add(table)
        else:  # the first table, or colours outside the box: bin them all
            self.grid = RunningGrid(self.tables.stack)

    def levels(self, tol):
        """Coarse and fine coresets of every pixel seen, or None."""
        if self.grid is not None:
            return self.grid.levels(tol, self.n_clusters)
        table = self.total()
        colors = table.colors.astype(np.float64)
        weights = table.counts.astype(np.float64)
        return nested_levels(colors, weights, tol, self.n_clusters)

    def total(self):
        """The table of every pixel seen (merged now if need be)."""
        return self.tables.total()

    def due(self):
        """Whether the palette is fitted anew as :meth:`fit` fits it: on the
        first chunk, and on every chunk while the table of every pixel seen
        is small (the palette is then exactly :meth:`fit`'s)."""
        if self.centers is None:
            return True
        return sum(t.n_colors for t in self.tables.stack) < CORESET_MIN_COLORS

    def seeded(self, centers, inertia):
        """The palette fitted on :meth:`total` at this point, and its WCSS."""
        self.centers = np.array(centers, dtype=np.float64)
        self.seeded_pixels = self.n_pixels
        self.seeded_wcss = inertia / max(self.n_pixels, 1)  # per pixel

    def step(self, table, options, rng):
        """A chunk ``table`` (already added) when :meth:`due` is False.

        - The pixels seen have grown :data:`GROWTH`-fold since the last
          re-seed: ``n_init`` restarts and the current palette compete on
          the coresets of every pixel seen
          (:func:`~.strategy.refit_on_coresets`), then a few Lloyd
          iterations on the merged table give the palette and its exact
          WCSS;
        - otherwise a chunk the palette serves about as well as the pixels of
          the last re-seed (WCSS per pixel at most :data:`DRIFT` times
          theirs) leaves it as it is: work in the size of the chunk's table;
        - a chunk it serves worse (a new scene) refits on the coresets as a
          re-seed does, with a third of the restarts and no pass over the
          table.

        Returns ``(palette, inertia)``: the palette (None when it is left as
        it is) and its exact WCSS if computed (else None: see
        :meth:`wcss`); ``(False, None)`` when the table is too small for
        coresets.
        """
        grown = self.n_pixels >= GROWTH * self.seeded_pixels
        if not grown:
            chunk = self.wcss(self.centers, table) / max(table.n_pixels, 1)
            if chunk <= DRIFT * self.seeded_wcss:
                return None, None
        options = dict(options)
        tol = options.pop("tol")
        levels = self.levels(tol)
        if levels is None:
            return False, None
        share = 1 if grown else REFIT_SHARE
        palette = refit_on_coresets(
            levels, self.n_clusters, self.centers, share=share, rng=rng, **options
        )
        if not grown:  # its WCSS is computed when asked for (see wcss)
            self.centers = np.array(palette.centers)
            return palette, None
        # a re-seed: a few Lloyd iterations on the merged table, and the
        # exact WCSS the next chunks are compared with
        table = self.total()
        colors = table.colors.astype(np.float64)
        weights = table.counts.astype(np.float64)
        tol_abs = _abs_tol(colors, tol)
        centers, inertia, n_iter = few_exact_iterations(
            colors, weights, palette.centers, options["max_iter"], tol_abs
        )
        palette = _sorted(Palette(np.asarray(centers), float(inertia), int(n_iter)))
        self.seeded(palette.centers, palette.inertia)
        return palette, palette.inertia

    def wcss(self, centers, table=None):
        """Exact WCSS of ``centers`` over every pixel seen (one table pass),
        or over ``table``."""
        table = self.total() if table is None else table
        weight, sums, squares = cluster_stats(table, centers, n_cpus())
        norms = np.einsum("ij,ij->i", centers, centers)
        wcss = squares - 2 * np.einsum("ij,ij->i", centers, sums) + weight * norms
        return float(max(wcss.sum(), 0.0))
