"""Dask adapter: ``dask.array.Array`` batches for every estimator.

A method decorated with :func:`skseg._glue.dask_aware` and called with a dask
array comes here (through the hook ``skseg/__init__`` registers); this module
is imported only then, so ``import skseg`` and in-memory use never import
dask. It imports no estimator: each estimator hands it a plan
(``__skseg_plan__``, the protocol of :mod:`skseg._glue`) and this
module runs it.

A dask batch has shape ``(n_images, height, width[, n_channels])`` and is
chunked along the image axis; blocks split across height, width or channels
are rechunked into whole images first (fits do not need it: colour tables
of any pixels add up).

- Fits (``KMeansColorSegmenter.fit``, ``partial_fit``,
  ``ElbowKSelector.fit``) count a colour table per block where the block
  lives (on the workers of a ``dask.distributed`` cluster) and merge the
  tables in a tree reduction (:data:`SPLIT_EVERY` tables per merge). The
  merged table is the table the in-memory fit counts (colours sorted,
  counts added). Pixels never travel.

  ``fit`` fits the palette once, by the in-memory code, on the worker that
  holds the merged table; the client receives the fitted estimator, and
  the table stays on the cluster (:class:`RemoteTable`) until
  ``partial_fit`` continues from it: the client never holds the table nor
  the float64 copies the fit makes of it. The palette is the in-memory one for the same
  ``random_state``, bit for bit when the number of OpenMP threads is the
  same (dask workers run one; scikit-learn's Lloyd iterations, used where
  the table's colours times K exceed 2**22, sum in an order that depends
  on it), within 1e-9 otherwise. ``partial_fit`` merges the chunk's table into the
  running table in the client, and ``ElbowKSelector`` fits its curve in
  the client, identical to the in-memory curve.
- A ``fit`` on float images of at least 2**20 pixels makes passes over the
  blocks instead (:class:`~skseg._glue.PixelPlan`): the grid coreset of the
  pixels and the Lloyd steps of the in-memory float path, each pass adding
  up per-block accumulators in the same tree. The palette is the in-memory
  one.
- Transforms (``transform``, ``predict``, ``fit_transform``, Canny, colour
  conversions) are lazy: ``map_blocks`` of the in-memory method over the
  blocks, with a copy of the estimator that carries no colour table. Image
  outputs keep the input's blocks; ``output='histogram'`` gives
  ``(n_images, n_clusters)`` chunked along images.
- ``score`` reduces ``(sum of squared errors, n_pixels)`` per block.
"""

from __future__ import annotations

import functools
import sys
import warnings

import dask
import numpy as np

from ._batch import user_stacklevel
from ._glue import MapPlan, PixelPlan, ProbePlan, ReducePlan, TablePlan

__all__ = ["call", "SPLIT_EVERY"]

#: Tables (or partial sums) merged by one task of the tree reduction.
SPLIT_EVERY = 8


def call(estimator, method, X, *args, **kwargs):
    """Run ``estimator.method(X, ...)`` for a dask array ``X``."""
    if method == "fit_transform":
        fit = call(estimator, "fit", X, *args, **kwargs)
        return call(fit, "transform", X)
    X = _check_shape(X)
    plan_of = getattr(estimator, "__skseg_plan__", None)
    plan = None if plan_of is None else plan_of(method, probe(X))
    if isinstance(plan, ProbePlan):
        return plan.run()
    if isinstance(plan, PixelPlan):
        return _run_pixel_plan(plan, X)
    if isinstance(plan, TablePlan):
        return _run_table_plan(plan, X)
    if isinstance(plan, MapPlan):
        return _lazy(whole_images(X), plan)
    if isinstance(plan, ReducePlan):
        return _reduce(whole_images(X), plan)
    raise TypeError(
        f"{type(estimator).__name__}.{method} does not take dask arrays; call "
        "X.compute() first if it fits in memory."
    )


# ----------------------------------------------------------------------
# shapes and blocks


def _check_shape(X):
    """Refuse what is not a dask batch of images; return X."""
    if X.ndim not in (3, 4):
        raise ValueError(
            "A dask array batch must have shape (n_images, height, width) or "
            f"(n_images, height, width, n_channels); got {X.ndim}-D shape "
            f"{X.shape}. Flattened (2-D) images are not supported as dask "
            "arrays: reshape them to images first."
        )
    if any(np.isnan(s) for s in X.shape[1:]):
        raise ValueError(
            f"The images of a dask array batch must have a known size; got "
            f"shape {X.shape}. Call X.compute_chunk_sizes() first."
        )
    if X.shape[0] == 0:
        raise ValueError(
            f"Found an empty batch: X has shape {X.shape} (0 images); at least "
            "one image is required."
        )
    return X


def whole_images(X):
    """``X`` with every block made of whole images (rechunked if needed)."""
    X = _check_shape(X)
    if any(len(c) > 1 for c in X.chunks[1:]):
        X = X.rechunk(dict.fromkeys(range(1, X.ndim), -1))
    return X


def pixel_blocks(X):
    """``X`` with every block holding whole pixels (all channels)."""
    X = _check_shape(X)
    if X.ndim == 4 and len(X.chunks[3]) > 1:
        X = X.rechunk({3: -1})
    return X


def probe(X):
    """One image of ``X``'s shape and dtype, without memory (zero strides).

    What the in-memory contract checks on it (number of channels, dtype,
    the single-image rule, ...) holds for every image of ``X``.
    """
    return np.broadcast_to(np.zeros((), X.dtype), (1,) + tuple(X.shape[1:]))


# ----------------------------------------------------------------------
# fits: colour tables counted per block, merged in a tree


def _tree(parts, merge):
    """Delayed ``merge`` of ``parts``, :data:`SPLIT_EVERY` at a time, to one."""
    while len(parts) > 1:
        parts = [
            dask.delayed(merge, pure=True)(*parts[i : i + SPLIT_EVERY])
            for i in range(0, len(parts), SPLIT_EVERY)
        ]
    return parts[0]


def _block_table(count, block):
    # Any block of pixels (whole images or not), as a 4-D batch.
    if block.ndim == 3:
        block = block[..., None]
    return count(np.ascontiguousarray(block))


def color_table(X, plan):
    """Delayed colour table of all pixels of ``X``, reduced over its blocks."""
    tables = [
        dask.delayed(_block_table, pure=True)(plan.count, block)
        for block in pixel_blocks(X).to_delayed().ravel()
    ]
    return _tree(tables, plan.merge)


def _fit_recording_warnings(fit, table):
    # Runs on a worker: the fit, and its warnings as (message, category).
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fitted = fit(table)
    return fitted, [(str(w.message), w.category) for w in caught]


class RemoteTable:
    """The merged colour table of a fit, left on the cluster.

    A ``distributed`` future: the client does not hold the table (tens of MB
    for a large collection) until ``partial_fit`` continues from it. Pickled
    (or deep-copied), it becomes the table itself, so a saved estimator does
    not depend on the cluster.
    """

    def __init__(self, future):
        self.future = future

    def fetch(self):
        return self.future.result()

    def __reduce__(self):
        return (_same, (self.fetch(),))


def _same(table):
    return table


def _distributed_client():
    """The ``distributed`` client dask computes with now, or None."""
    if "distributed" not in sys.modules:
        return None
    from dask.base import get_scheduler

    scheduler = get_scheduler()
    client = getattr(scheduler, "__self__", None)
    return client if type(client).__name__ == "Client" else None


def _run_table_plan(plan, X):
    """Reduce the colour table of ``X`` and fit on it as ``plan`` says.

    Without ``plan.adopt`` the merged table comes to the client, which fits.
    With it, the fit runs on the worker that holds the merged table (the
    client never holds the float64 copies a fit makes of it), its warnings
    are issued again here, and the table stays on the cluster (a
    :class:`RemoteTable`) when a ``distributed`` client computes.
    """
    table = color_table(X, plan)
    if plan.adopt is None:
        (table,) = dask.compute(table)
        return plan.fit(table)
    fit = dask.delayed(_fit_recording_warnings, pure=True)(plan.fit, table)
    client = _distributed_client()
    if client is None:
        (fitted, messages), table = dask.compute(fit, table)
    else:
        fit, table = client.compute([fit, table])
        fitted, messages = fit.result()
        table = RemoteTable(table)
    for message, category in messages:
        warnings.warn(message, category, stacklevel=user_stacklevel())
    return plan.adopt(fitted, table)


def _block_pass(kernel, init, block):
    # Runs where the block is: one accumulator for the block's pixels.
    n_channels = block.shape[3] if block.ndim == 4 else 1
    acc = init()
    kernel(np.ascontiguousarray(block).reshape(-1, n_channels), acc)
    return acc


def _combine_all(combine, *parts):
    return functools.reduce(combine, parts)


def _run_pixel_plan(plan, X):
    """Fit by passes over the pixels of ``X``'s blocks, as ``plan`` says.

    Each pass is one ``dask.compute``: the accumulators of the blocks are
    combined in a tree where the blocks are, so only accumulators (a grid
    of cell sums, or a few cluster sums) travel, never pixels. A fit makes
    a few passes (tens when Lloyd steps are many); ``X.persist()`` first
    spares recomputing its blocks for each.
    """
    X = pixel_blocks(X)
    blocks = X.to_delayed().ravel()

    def passes(kernel, init, combine):
        parts = [
            dask.delayed(_block_pass, pure=True)(kernel, init, block)
            for block in blocks
        ]
        merge = functools.partial(_combine_all, combine)
        (acc,) = dask.compute(_tree(parts, merge))
        return acc

    n_pixels = int(np.prod(X.shape[:3]))
    fitted = plan.fit(passes, n_pixels)
    return _run_table_plan(plan.table, X) if fitted is None else fitted


# ----------------------------------------------------------------------
# transforms: map_blocks of the in-memory method


def _apply_block(block, apply):
    return apply(block)


def _lazy(X, plan):
    """``plan.func`` mapped over the blocks of ``X`` (whole images).

    The output's dtype and trailing shape come from ``plan.meta`` on a
    1x1-pixel image; ``plan.k_out`` overrides the number of trailing
    channels or features.
    """
    tiny = np.zeros((1, 1, 1) + tuple(X.shape[3:]), X.dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sample = np.asarray(plan.meta(tiny))
    k_out = plan.k_out
    kwargs = {"apply": plan.func, "dtype": sample.dtype}
    if sample.ndim == 2:  # one feature vector per image
        k = sample.shape[1] if k_out is None else k_out
        kwargs["chunks"] = (X.chunks[0], (k,))
        kwargs["drop_axis"] = list(range(2, X.ndim))
        kwargs["meta"] = np.empty((0, 0), sample.dtype)
    else:  # images: (n, h, w) or (n, h, w, k)
        tail = sample.shape[3:]
        if tail and k_out is not None:
            tail = (k_out,)
        kwargs["chunks"] = X.chunks[:3] + tuple((t,) for t in tail)
        if X.ndim == 4 and not tail:
            kwargs["drop_axis"] = 3
        elif X.ndim == 3 and tail:
            kwargs["new_axis"] = 3
        kwargs["meta"] = np.empty((0,) * (3 + len(tail)), sample.dtype)
    return X.map_blocks(_apply_block, **kwargs)


def _add_sums(*parts):
    return tuple(sum(values) for values in zip(*parts))


def _reduce(X, plan):
    """``plan.func`` over every block, its sums added in a tree, finished."""
    parts = [
        dask.delayed(plan.func, pure=True)(block) for block in X.to_delayed().ravel()
    ]
    (sums,) = dask.compute(_tree(parts, _add_sums))
    return plan.finish(*sums)
