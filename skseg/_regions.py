"""Connected regions of label maps: labelling, small-region merging, region ids.

Shared by :class:`~skseg.SuperpixelSegmenter` (SLIC's connectivity step) and
:class:`~skseg.KMeansColorSegmenter` (``min_region_size``, ``output=
"regions"``). Regions are 4-connected (a pixel touches the pixels above,
below, left and right of it), as in SLIC's connectivity step.

Steps (:func:`merge_small_regions`):

1. :func:`components`: breadth-first flood fill from every pixel not yet
   reached, in raster order. The queue of the fill is one array of all
   pixels: the pixels of region ``r`` end up at ``order[starts[r]:
   starts[r + 1]]``, so the same array lists every region's pixels and no
   other index is built. Region ids are in raster order of their first
   pixel.
2. :func:`merge_regions`: regions smaller than ``min_size``, smallest first,
   are merged into the neighbouring region whose colour is the closest to
   theirs (ties: the first met). A region's neighbours are found by
   scanning its own pixels, which are few since it is small; merged regions
   are kept in a union-find forest whose roots are the surviving regions.
   With ``update_colors`` a surviving region's colour becomes the mean of
   the merged colours, weighted by size (SLIC: colours are region means);
   without, it keeps its own (k-means: colours are palette entries, and the
   merged pixels take the surviving region's label).

The kernels are compiled once each, for int32 label maps and float64
colours, whatever the images' dtype.
"""

from __future__ import annotations

import numpy as np
from numba import types

from ._jit import njit, subroutine

__all__ = [
    "components",
    "component_means",
    "merge_regions",
    "merge_small_regions",
    "region_ids",
]

_JIT = {"cache": True, "nogil": True, "error_model": "numpy"}


@subroutine(types.int64)
def _root(parent, r):
    while parent[r] != r:
        parent[r] = parent[parent[r]]
        r = parent[r]
    return r


_NO_FEATURES = np.empty((0, 1, 1), np.float32)


def components(labels, comp, order, feats=None):
    """4-connected regions of equal labels; return ``starts`` (n_regions + 1).

    With ``feats`` (float32 feature planes, shape (n_features, height,
    width)), also return the mean feature vector of every region.

    ``comp`` (same shape as ``labels``, int32) receives each pixel's region
    id, ``order`` (flat, int32) the pixels grouped by region: those of region
    ``r`` are ``order[starts[r]:starts[r + 1]]`` (flat indices, raster
    order). Region ids are in raster order of the regions' first pixels.

    Runs of equal labels along each row are the units: a run joins the runs
    of the previous row it overlaps with the same label (union-find whose
    root is the first run in raster order), then every run writes its
    region id and its pixel indices.
    """
    h, w = labels.shape
    n_runs = h + int(np.count_nonzero(labels[:, 1:] != labels[:, :-1]))
    runs = np.empty((4, n_runs), np.int32)  # x0, x1, label, region id
    links = np.empty((3, max(n_runs, h) + 1), np.int64)  # parent, starts, fill
    row_first = np.empty(h + 1, np.int64)
    planes = _NO_FEATURES if feats is None else feats
    sums = np.zeros((n_runs + 1, planes.shape[0]), np.float64)
    n = _components(labels, comp, order, runs, links, row_first, planes, sums)
    starts = links[1, : n + 1].copy()
    if feats is None:
        return starts
    means = sums[:n] / (starts[1:] - starts[:-1])[:, None]
    return starts, means


@njit(**_JIT)
def _components(labels, comp, order, runs, links, row_first, feats, sums):
    h, w = labels.shape
    rx0, rx1, rlab, rid = runs[0], runs[1], runs[2], runs[3]
    parent, starts, fill = links[0], links[1], links[2]
    n = 0
    for y in range(h):
        row_first[y] = n
        lrow = labels[y]
        x = 0
        while x < w:
            lab = lrow[x]
            x1 = x + 1
            while x1 < w and lrow[x1] == lab:
                x1 += 1
            rx0[n], rx1[n], rlab[n], parent[n] = x, x1, lab, n
            n += 1
            x = x1
        if y == 0:
            continue
        i, j = row_first[y - 1], row_first[y]
        while i < row_first[y] and j < n:
            if rlab[i] == rlab[j]:  # runs of a row tile it: they overlap
                a, b = _root(parent, i), _root(parent, j)
                if a < b:
                    parent[b] = a
                elif b < a:
                    parent[a] = b
            if rx1[i] < rx1[j]:
                i += 1
            elif rx1[j] < rx1[i]:
                j += 1
            else:
                i += 1
                j += 1
    row_first[h] = n
    # region ids in raster order of first run; sizes; then pixels
    n_comp = 0
    for r in range(n):
        root = _root(parent, r)
        if root == r:
            rid[r] = n_comp
            n_comp += 1
        else:
            rid[r] = rid[root]
    for c in range(n_comp + 1):
        starts[c] = 0
    for r in range(n):
        starts[rid[r] + 1] += rx1[r] - rx0[r]
    for c in range(n_comp):
        starts[c + 1] += starts[c]
        fill[c] = starts[c]
    n_feats = feats.shape[0]
    for y in range(h):
        crow = comp[y]
        base = y * w
        for r in range(row_first[y], row_first[y + 1]):
            c = rid[r]
            at = fill[c]
            for x in range(rx0[r], rx1[r]):
                crow[x] = c
                order[at] = base + x
                at += 1
            fill[c] = at
            for ch in range(n_feats):
                acc = 0.0
                for x in range(rx0[r], rx1[r]):
                    acc += feats[ch, y, x]
                sums[c, ch] += acc
    return n_comp


def component_means(feats, comp, n):
    """Mean feature vector of every region, shape (n_regions, n_features).

    ``feats`` has one plane per feature, shape (n_features, height, width);
    ``comp`` is the region id of every pixel.
    """
    ids = comp.ravel()
    counts = np.bincount(ids, minlength=n).astype(np.float64)
    out = np.empty((n, feats.shape[0]), np.float64)
    for ch in range(feats.shape[0]):
        out[:, ch] = np.bincount(ids, weights=feats[ch].ravel(), minlength=n)
    out /= counts[:, None]
    return out


def pixel_means(pixels, comp, n):
    """Mean colour of every region, shape (n_regions, n_channels).

    ``pixels`` has shape (n_pixels, n_channels), ``comp`` the region id of
    every pixel.
    """
    ids = comp.ravel()
    counts = np.bincount(ids, minlength=n).astype(np.float64)
    out = np.empty((n, pixels.shape[1]), np.float64)
    for ch in range(pixels.shape[1]):
        out[:, ch] = np.bincount(ids, weights=pixels[:, ch], minlength=n)
    out /= counts[:, None]
    return out


@subroutine(types.int64)
def _find(parent, r):
    root = r
    while parent[root] != root:
        root = parent[root]
    while parent[r] != root:  # path compression
        nxt = parent[r]
        parent[r] = root
        r = nxt
    return root


@subroutine(types.none)
def _offer(q, r, parent, colors, targets, best):
    """Offer the region of pixel ``q`` as a neighbour of region ``r``.

    ``best`` holds the best neighbour so far: id, squared colour distance
    (ties: the first found, scanning the region's pixels in raster order).
    """
    s = _find(parent, q)
    if s == r:
        return
    d = 0.0
    for ch in range(colors.shape[1]):
        e = targets[s, ch] - colors[r, ch]
        d += e * e
    if d < best[1]:
        best[0], best[1] = s, d


def merge_regions(comp, order, starts, colors, targets, min_size, update_targets):
    """Merge regions smaller than ``min_size``; return each region's root.

    A small region goes to the neighbour whose target colour is the closest
    to its own colour (ties: the first met in raster order).

    Parameters
    ----------
    comp : int32 array of shape (height, width)
        Region id of every pixel (from :func:`components`).
    order, starts : arrays
        Pixels grouped by region (from :func:`components`).
    colors : float64 array of shape (n_regions, n_features)
        Colour of every region (the mean of its pixels); a surviving
        region's becomes the size-weighted mean of the merged ones.
    targets : float64 array of shape (n_regions, n_features)
        The colour a region offers its small neighbours: its palette colour
        (k-means), or ``colors`` itself (SLIC).
    min_size : int
        Regions with fewer pixels are merged.
    update_targets : bool
        Whether a surviving region's target becomes its merged colour.

    Returns
    -------
    root : int64 array of shape (n_regions,)
        The surviving region each region was merged into (itself if it
        survived).
    """
    n = starts.shape[0] - 1
    size = np.diff(starts)
    small = np.flatnonzero(size < min_size)
    by_size = small[np.argsort(size[small], kind="stable")]  # smallest first
    ids = np.arange(n)
    work = np.stack([ids, size, np.full(n, -1), ids, ids])  # see _merge
    _merge(comp.reshape(-1), comp.shape[1], order, starts, colors, targets,
           min_size, update_targets, work, by_size, np.empty(2))  # fmt: skip
    return work[4]


@njit(**_JIT)
def _merge(cflat, w, order, starts, colors, targets, min_size, update_targets, work,
           by_size, found):  # fmt: skip
    h = cflat.shape[0] // w
    n = starts.shape[0] - 1
    c = colors.shape[1]
    # union-find parents, sizes, member lists (root -> ... -> last), roots
    parent, size, nxt, last, root = work[0], work[1], work[2], work[3], work[4]
    n_small = by_size.shape[0]
    for i in range(n_small):
        r0 = by_size[i]
        r = _find(parent, r0)
        if size[r] >= min_size:
            continue
        found[0], found[1] = -1.0, np.inf
        m = r
        while m >= 0:
            for j in range(starts[m], starts[m + 1]):
                p = order[j]
                y = p // w
                x = p - y * w
                if x > 0:
                    _offer(cflat[p - 1], r, parent, colors, targets, found)
                if x + 1 < w:
                    _offer(cflat[p + 1], r, parent, colors, targets, found)
                if y > 0:
                    _offer(cflat[p - w], r, parent, colors, targets, found)
                if y + 1 < h:
                    _offer(cflat[p + w], r, parent, colors, targets, found)
            m = nxt[m]
        best_id = np.int64(found[0])
        if best_id < 0:
            continue  # the whole image is one region
        best = best_id
        total = size[best] + size[r]
        for ch in range(c):
            colors[best, ch] = (
                colors[best, ch] * size[best] + colors[r, ch] * size[r]
            ) / total
            if update_targets:
                targets[best, ch] = colors[best, ch]
        parent[r] = best
        size[best] += size[r]
        nxt[last[best]] = r
        last[best] = last[r]
    for r in range(n):
        root[r] = _find(parent, r)


def region_ids(root):
    """Consecutive ids of the surviving regions, in raster order of first pixel.

    ``root`` maps every region to its surviving region; region ids are in
    raster order of their first pixel, so the first appearance of each root
    among them is too.
    """
    roots, first = np.unique(root, return_index=True)
    rank = np.empty(roots.shape[0], np.int64)
    rank[np.argsort(first, kind="stable")] = np.arange(roots.shape[0])
    ids = np.empty(root.shape[0] if root.size else 0, np.int32)
    lookup = np.full(int(root.max()) + 1 if root.size else 0, -1, np.int64)
    lookup[roots] = rank
    ids[:] = lookup[root]
    return ids, int(roots.shape[0])


def merge_small_regions(
    labels, colors, min_size, pixels=None, *, comp=None, order=None
):
    """Merge the regions of ``labels`` smaller than ``min_size`` (k-means).

    A small region takes the label of the neighbouring region whose palette
    colour is the closest to the mean colour of its pixels (to its own
    palette colour without ``pixels``).

    Parameters
    ----------
    labels : int32 array of shape (height, width)
        Palette index of every pixel; rewritten in place: the pixels of a
        merged region take the label of the region they were merged into.
    colors : array of shape (n_labels, n_channels)
        Palette: the colour of each label.
    min_size : int or None
        Regions with fewer pixels are merged; None merges nothing.
    pixels : ndarray of shape (height * width, n_channels), optional
        The image's pixels.
    comp, order : int32 arrays, optional
        Work arrays of ``labels.size`` elements.

    Returns
    -------
    comp : int32 array of shape (height, width)
        Connected-region id of every pixel of the final label map, in raster
        order of first pixel.
    n_regions : int
        Number of connected regions of the final label map.
    """
    h, w = labels.shape
    comp = np.empty((h, w), np.int32) if comp is None else comp
    order = np.empty(h * w, np.int32) if order is None else order
    starts = components(labels, comp, order)
    if min_size is not None and min_size > 1 and starts.shape[0] > 2:
        first = order[starts[:-1]]
        comp_labels = labels.ravel()[first]
        palette = np.ascontiguousarray(colors, dtype=np.float64)
        targets = palette[comp_labels]
        if pixels is None:
            own = targets.copy()
        else:
            own = pixel_means(pixels, comp, starts.shape[0] - 1)
        root = merge_regions(comp, order, starts, own, targets, int(min_size), False)
        moved = root != np.arange(root.shape[0])
        if moved.any():
            new = comp_labels[root].astype(np.int32)
            labels[...] = new[comp]
            # merging can join regions of one label through a merged one
            starts = components(labels, comp, order)
    return comp, starts.shape[0] - 1


def connect_superpixels(labels, feats, min_size, out):
    """SLIC's connectivity step: connected superpixels, small ones merged.

    Every 4-connected piece of a superpixel is a region; regions smaller
    than ``min_size`` are merged into the neighbour of closest mean colour
    (``feats``). Writes consecutive superpixel ids (raster order) to
    ``out`` and returns their number.
    """
    h, w = labels.shape
    order = np.empty(h * w, np.int32)
    starts, colors = components(labels, out, order, feats)
    root = merge_regions(
        out, order, starts, colors, colors, int(max(min_size, 1)), True
    )
    del order
    ids, n = region_ids(root)
    out[...] = ids[out]
    return n


def merge_palette_regions(
    batch, offsets, palettes, labels, min_size, output, out, sse, quantized_colors=None
):
    """``min_region_size`` and ``output='regions'`` of a k-means segmentation.

    Parameters
    ----------
    batch : ImageBatch
        The segmented images.
    offsets : ndarray of int
        Start of every image in ``labels`` (and one past the last).
    palettes : list of ndarray
        The palette of every image (the shared one repeated, or each image's
        own with ``per_image=True``).
    labels : int32 ndarray of shape (n_pixels_total,)
        Labels of every pixel; small regions are merged in place.
    min_size : int or None
        Regions with fewer pixels take the label of their neighbour of
        closest palette colour.
    output : str or None
        The estimator's output: ``'quantized'`` colours and ``'histogram'``
        fractions in ``out`` are brought up to date with the merged labels;
        ``'regions'`` returns region ids instead of labels.
    out : ndarray or None
        The output computed from the labels before merging.
    sse : float
        Sum of squared distances of the pixels to their palette colour,
        before merging.
    quantized_colors : callable, optional
        ``quantized_colors(palette)``: the palette in the dtype of ``out``.

    Returns
    -------
    labels : int32 ndarray
        Merged labels, or region ids for ``output='regions'``.
    out : ndarray or None
    sse : float
        The sum of squared distances after merging.
    """
    regions = np.empty_like(labels) if output == "regions" else None
    for i in range(batch.n_images):
        h, w = batch.image(i).shape[:2]
        start, stop = int(offsets[i]), int(offsets[i + 1])
        lab = labels[start:stop].reshape(h, w)
        old = lab.copy() if min_size is not None else None
        comp, _ = merge_small_regions(lab, palettes[i], min_size, batch.image_pixels(i))
        if regions is not None:
            regions[start:stop] = comp.ravel()
        if old is None:
            continue
        changed = np.flatnonzero(old.ravel() != lab.ravel())
        if not changed.size:
            continue
        palette = np.asarray(palettes[i], dtype=np.float64)
        new_lab = lab.ravel()[changed]
        px = batch.image_pixels(i)[changed].astype(np.float64)
        sse += float(
            ((px - palette[new_lab]) ** 2).sum()
            - ((px - palette[old.ravel()[changed]]) ** 2).sum()
        )
        if output == "quantized":
            out[start + changed] = quantized_colors(palette)[new_lab]
        elif output == "histogram":
            k = out.shape[1]
            out[i] = np.bincount(lab.ravel(), minlength=k)[:k] / (stop - start)
    return (labels if regions is None else regions), out, max(sse, 0.0)
