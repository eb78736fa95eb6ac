"""Streaming: the running state of ``partial_fit`` over chunks of a collection.

Every chunk's colour table goes into one :class:`~.tables.TableAccumulator`
(the accumulator of every route), so the table of all pixels seen, exactly
the table :meth:`fit` would count, is at hand; and into a
:class:`~.coresets.RunningGrid`, the fine grid coreset of every pixel seen,
binned once per chunk. The palette follows the chunks; beyond the first, it
is refitted when it is next read (``KMeansColorSegmenter`` calls
:meth:`Stream.step` then), once for any number of chunks added since:

- while the table of every pixel seen is small (and on the first chunk),
  every chunk is fitted as :meth:`fit` does (:func:`~.strategy.fit_palette`);
- **re-seeds**: whenever the pixels seen have grown :data:`GROWTH`-fold,
  ``n_init`` restarts and the current palette compete on the coresets of
  every pixel seen, and a few Lloyd iterations on the merged table give the
  palette and its exact WCSS. The re-seeds form a geometric series; a loop
  that reads the palette only at its end makes one;
- **between re-seeds**, a third of the restarts and the current palette
  compete on a small grid coreset, the best refined on the fine one: work
  in the size of the coresets, not of the table. A chunk of new colours
  (the next scene) gets centres of its own at once, so chunks sorted by
  date or scene do not keep the palette in the optimum of the first
  chunks. For more than 16 colours these runs use Hamerly's bounds and
  refine as many candidates as :meth:`fit` does.

The WCSS of the current centres over every pixel seen (:meth:`Stream.wcss`)
is exact: one pass over the merged table, made when it is asked for.
"""

from __future__ import annotations

import numpy as np

from .._parallel import fit_threads, n_cpus
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
#: Between re-seeds, the coreset refit is followed by Lloyd iterations on the
#: merged table once the colours of the chunks added since the last such pass
#: reach this many times the colours held: passes over the table then cost at
#: most 1 / EXACT_SHARE of the chunks' own tables. (Measured on 300 photos in
#: 20 chunks: 1.0 cost about 0.4 s more of a 4.7 s loop, for no better palette.)
EXACT_SHARE = 4.0


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
        self.colors_since_exact = 0
        self.centers = None  # the current palette

    @property
    def n_pixels(self):
        return self.tables.n_pixels

    def add(self, table):
        """Add a chunk's table to the tables seen (and to the running grid)."""
        self.tables.add(table)
        self.colors_since_exact += table.n_colors
        if table.n_channels > 8:
            return
        if self.grid is None or not self.grid.add(table):
            # the first table, or colours outside the box: bin them all
            self.grid = RunningGrid(self.tables.stack)

    def total(self):
        """The table of every pixel seen (merged now if need be)."""
        return self.tables.total()

    def levels(self, tol):
        """Coarse and fine coresets of every pixel seen, or None."""
        if self.grid is not None:
            return self.grid.levels(tol, self.n_clusters)
        table = self.total()
        colors = table.colors.astype(np.float64)
        weights = table.counts.astype(np.float64)
        return nested_levels(colors, weights, tol, self.n_clusters)

    def due(self):
        """Whether the palette is fitted anew as :meth:`fit` fits it.

        On the first chunk, and on every chunk while the table of every
        pixel seen is small (the palette is then exactly :meth:`fit`'s).
        """
        if self.centers is None:
            return True
        return sum(t.n_colors for t in self.tables.stack) < CORESET_MIN_COLORS

    def seeded(self, centers):
        """Record the palette fitted on :meth:`total` at this point."""
        self.centers = np.array(centers, dtype=np.float64)
        self.seeded_pixels = self.n_pixels

    def step(self, options, rng):
        """Refit the palette on every pixel seen, when :meth:`due` is False.

        Called once for any number of chunks added since the last call
        (``partial_fit`` refits when the palette is next read).

        - The pixels seen have grown :data:`GROWTH`-fold since the last
          re-seed: ``n_init`` restarts and the current palette compete on
          the coresets of every pixel seen
          (:func:`~.strategy.refit_on_coresets`), then a few Lloyd
          iterations on the merged table give the palette and its exact
          WCSS;
        - otherwise a third of the restarts and the current palette compete
          on the same coresets, the best refined on the fine one: a chunk
          of new colours (the next scene) gets centres of its own at once.
          Work in the size of the coresets; once the chunks added since the
          last pass over the merged table hold :data:`EXACT_SHARE` times its
          colours, a few Lloyd iterations on it too (and the exact WCSS).

        Returns ``(palette, inertia)``: the new palette and its exact WCSS
        if computed (else None: see :meth:`wcss`); ``(False, None)`` when
        the table is too small for coresets.
        """
        grown = self.n_pixels >= GROWTH * self.seeded_pixels
        options = dict(options)
        tol = options.pop("tol")
        levels = self.levels(tol)
        if levels is None:
            return False, None
        share = 1 if grown else REFIT_SHARE
        palette = refit_on_coresets(
            levels,
            self.n_clusters,
            self.centers,
            share=share,
            rng=rng,
            n_threads=fit_threads(),
            **options,
        )
        held = sum(t.n_colors for t in self.tables.stack)
        if not grown and self.colors_since_exact < EXACT_SHARE * held:
            # its WCSS is computed when asked for (see wcss)
            self.centers = np.array(palette.centers)
            return palette, None
        # a few Lloyd iterations on the merged table, and the exact WCSS
        self.colors_since_exact = 0
        table = self.total()
        colors = table.colors.astype(np.float64)
        weights = table.counts.astype(np.float64)
        tol_abs = _abs_tol(colors, tol)
        centers, inertia, n_iter = few_exact_iterations(
            colors, weights, palette.centers, options["max_iter"], tol_abs
        )
        palette = _sorted(Palette(np.asarray(centers), float(inertia), int(n_iter)))
        if grown:
            self.seeded(palette.centers)
        self.centers = np.array(palette.centers)
        return palette, palette.inertia

    def wcss(self, centers, table=None):
        """Exact WCSS of ``centers`` over every pixel seen.

        One pass over the merged table (or over ``table`` if given).
        """
        table = self.total() if table is None else table
        weight, sums, squares = cluster_stats(table, centers, n_cpus())
        norms = np.einsum("ij,ij->i", centers, centers)
        wcss = squares - 2 * np.einsum("ij,ij->i", centers, sums) + weight * norms
        return float(max(wcss.sum(), 0.0))
