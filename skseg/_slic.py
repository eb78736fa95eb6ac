"""SLIC engine: k-means over colour and position, on one image at a time.

The kernels work on a float32 feature image, one plane per feature
``(n_features, height, width)``
(Lab colours by default, computed by :mod:`skseg._colorconv`), which the
estimator in :mod:`skseg.superpixels` prepares. Steps:

1. seeds on a regular grid of step ``S`` (the grid of
   :func:`skimage.segmentation.slic`, :func:`skimage.util.regular_grid`),
   each moved to the position of lowest colour gradient in its 3x3
   neighbourhood, as in the SLIC paper, so that no seed starts on an edge or
   a noisy pixel (:func:`seed_positions`);
2. ``max_num_iter`` rounds of: assignment, where each centre scans the
   ``2S x 2S`` window around it (the paper's window; scikit-image scans
   ``4S x 4S``, four times the work for the same result) and takes the
   pixels whose distance ``|colour - c|^2 + (compactness / S)^2 |position -
   p|^2`` to it is the lowest so far; update, every centre becomes the mean
   colour and position of its pixels. A round that moves no centre ends the
   loop (:func:`slic_iterate`).

The assignment loop over a window row is branch-free (selects, no
conditional stores) and computed in float32, so that LLVM vectorises it.

Connectivity, small-region merging and relabelling live in
:mod:`skseg._regions`, shared with :class:`~skseg.KMeansColorSegmenter`.
Every kernel is compiled by numba with ``cache=True`` and ``nogil=True`` for
one set of argument types only (float32 features, int32 labels): a first
call compiles each once, whatever the input dtype.
"""

from __future__ import annotations

import numpy as np
from numba import types

from ._jit import njit, subroutine

__all__ = [
    "grid_seeds",
    "run_slic",
    "seed_positions",
    "slic_iterate",
    "slic_round",
]

# full-resolution rounds at the end of a run; the rounds before them run on
# the image reduced 2x2 (a quarter of the pixels), from images of this many
# pixels on
FINE_ROUNDS = 3
COARSE_MIN_PIXELS = 1 << 16

_JIT = {"cache": True, "nogil": True, "error_model": "numpy"}


def grid_seeds(height, width, n_segments):
    """Rows, columns and step of the seed grid of ``n_segments`` seeds.

    The grid of :func:`skimage.segmentation.slic` (from
    :func:`skimage.util.regular_grid`), so that both start from the same
    number of seeds; ``step`` is the larger of the two grid steps.
    """
    from skimage.util import regular_grid

    _, rows, cols = regular_grid((1, height, width), n_segments)
    ys = np.arange(height)[rows]
    xs = np.arange(width)[cols]
    steps = [s.step if s.step is not None else 1 for s in (rows, cols)]
    return ys, xs, max(int(max(steps)), 1)


def seed_positions(feats, ys, xs):
    """Seeds at the grid points, moved to their 3x3 point of lowest gradient.

    ``feats`` is the float32 feature image, one plane per feature. The
    gradient at ``(y, x)`` is ``|f(y+1, x) - f(y-1, x)|^2 + |f(y, x+1) -
    f(y, x-1)|^2`` (clamped at the border); ties go to the first point in
    raster order. Returns ``(n_seeds, 2)`` int64 positions, row-major over
    the grid.
    """
    c, h, w = feats.shape
    gy, gx = np.meshgrid(ys, xs, indexing="ij")
    gy, gx = gy.ravel(), gx.ravel()
    offsets = np.array([(dy, dx) for dy in (-1, 0, 1) for dx in (-1, 0, 1)])
    cy = np.clip(gy[:, None] + offsets[:, 0], 0, h - 1)  # (n_seeds, 9)
    cx = np.clip(gx[:, None] + offsets[:, 1], 0, w - 1)
    grad = np.zeros(cy.shape)
    for ch in range(c):
        plane = feats[ch]
        dy = plane[np.minimum(cy + 1, h - 1), cx] - plane[np.maximum(cy - 1, 0), cx]
        dx = plane[cy, np.minimum(cx + 1, w - 1)] - plane[cy, np.maximum(cx - 1, 0)]
        grad += dy.astype(np.float64) ** 2 + dx.astype(np.float64) ** 2
    best = np.argmin(grad, axis=1)
    rows = np.arange(gy.shape[0])
    return np.stack([cy[rows, best], cx[rows, best]], axis=1).astype(np.int64)


@subroutine(types.none)
def _scan_row(feats, y, cy, cx, ck, kk, wt, x0, x1, dxw, best, lab):
    """Offer row ``y``, columns ``x0:x1``, to centre ``kk``.

    ``best`` and ``lab`` are the row's best distances and labels so far
    (row buffers, in L1 cache); ``dxw`` the centre's weighted squared column
    offsets over its window.
    """
    c = feats.shape[0]
    n = x1 - x0
    dy = np.float32(y - cy)
    base = wt * dy * dy
    if c == 3:  # Lab: one fused, vectorised pass
        c0 = np.float32(ck[0])
        c1 = np.float32(ck[1])
        c2 = np.float32(ck[2])
        p0 = feats[0, y, x0:x1]
        p1 = feats[1, y, x0:x1]
        p2 = feats[2, y, x0:x1]
        brow = best[x0:x1]
        lrow = lab[x0:x1]
        for j in range(n):
            e0 = p0[j] - c0
            e1 = p1[j] - c1
            e2 = p2[j] - c2
            d = base + dxw[j] + e0 * e0 + e1 * e1 + e2 * e2
            closer = d < brow[j]
            lrow[j] = kk if closer else lrow[j]
            brow[j] = d if closer else brow[j]
        return
    # other numbers of features: one scalar pass (gray images, space=None)
    for j in range(n):
        d = base + dxw[j]
        for ch in range(c):
            e = feats[ch, y, x0 + j] - np.float32(ck[ch])
            d += e * e
        if d < best[x0 + j]:
            best[x0 + j] = d
            lab[x0 + j] = kk


@njit(**_JIT)
def slic_round(
    feats, pos, col, win, by_top, dxw, weight, labels, sums, counts, best, active
):
    """One SLIC round: label every pixel, add it to its centre's sums.

    The image is swept once, row by row: a row is offered to every centre
    whose window crosses it (row buffers of the best distance and label, in
    L1 cache; no image-sized distance array), and once it is labelled its
    pixels are added to their centres' sums (runs of one label summed
    first). Pixels no window reached are left at -1 and counted (the
    return value).

    Parameters
    ----------
    feats : float32 array of shape (n_features, height, width)
        The feature image, one plane per feature (colours in the units
        ``compactness`` refers to).
    pos : float64 array of shape (n_centres, 2)
        Centre positions (row, column).
    col : float64 array of shape (n_centres, n_features)
        Centre colours.
    win : int64 array of shape (n_centres, 4)
        Window of every centre: first row, last row + 1, first column, last
        column + 1.
    by_top : int64 array of shape (n_centres,)
        The centres by first row of their window.
    dxw : float32 array of shape (n_centres, >= window width)
        ``weight * (column - centre column) ** 2`` over each window's columns.
    weight : float
        ``(compactness / S) ** 2``, the weight of squared pixel distances.
    labels : int32 array of shape (height, width)
        Output: index of each pixel's centre.
    sums : float64 array of shape (n_centres, n_features + 2)
        Output (zeroed by the caller): sums of row, column and features of
        each centre's pixels.
    counts : int64 array of shape (n_centres,)
        Output (zeroed by the caller): number of pixels of each centre.
    best : float32 array of shape (width,)
        Row buffer.
    active : int64 array of shape (n_centres,)
        Work array.
    """
    c, h, w = feats.shape
    k_total = pos.shape[0]
    wt = np.float32(weight)
    n_active = 0
    nxt = 0
    unreached = 0
    for y in range(h):
        # centres whose window crosses row y
        while nxt < k_total and win[by_top[nxt], 0] <= y:
            active[n_active] = by_top[nxt]
            n_active += 1
            nxt += 1
        kept = 0
        for i in range(n_active):
            if win[active[i], 1] > y:
                active[kept] = active[i]
                kept += 1
        n_active = kept
        lab = labels[y]
        for x in range(w):
            best[x] = np.inf
            lab[x] = -1
        for i in range(n_active):
            k = active[i]
            _scan_row(
                feats, y, pos[k, 0], pos[k, 1], col[k], np.int32(k), wt,
                win[k, 2], win[k, 3], dxw[k], best, lab,
            )  # fmt: skip
        x = 0
        while x < w:
            k = lab[x]
            x1 = x + 1
            while x1 < w and lab[x1] == k:
                x1 += 1
            n = x1 - x
            if k < 0:  # no window reached these pixels (see slic_iterate)
                unreached += n
                x = x1
                continue
            counts[k] += n
            sums[k, 0] += y * n
            sums[k, 1] += (x + x1 - 1) * n / 2.0
            for ch in range(c):
                plane = feats[ch, y]
                acc = np.float32(0.0)
                for j in range(x, x1):
                    acc += plane[j]
                sums[k, 2 + ch] += acc
            x = x1
    return unreached


def _label_unreached(feats, pos, col, weight, labels, sums, counts):
    """Pixels no window reached (-1): the nearest of all centres.

    Rare (centres that drifted apart leave a gap between their windows), so
    done here rather than compiled: every such pixel against every centre.
    """
    ys, xs = np.nonzero(labels < 0)
    for start in range(0, ys.shape[0], 4096):
        y, x = ys[start : start + 4096], xs[start : start + 4096]
        f = feats[:, y, x].T.astype(np.float64)  # (n, n_features)
        d = weight * ((y[:, None] - pos[:, 0]) ** 2 + (x[:, None] - pos[:, 1]) ** 2)
        d += ((f[:, None, :] - col[None, :, :]) ** 2).sum(axis=2)
        k = np.argmin(d, axis=1)
        labels[y, x] = k
        np.add.at(counts, k, 1)
        np.add.at(sums, (k, 0), y)
        np.add.at(sums, (k, 1), x)
        for ch in range(f.shape[1]):
            np.add.at(sums, (k, 2 + ch), f[:, ch])


def slic_iterate(feats, pos, col, step, weight, max_iter, labels):
    """SLIC's k-means rounds; label every pixel, return the rounds run.

    Each round (:func:`slic_round`) labels every pixel with the closest
    centre among those whose ``2S x 2S`` window covers it; then every centre
    moves to the mean colour and position of its pixels. A round that moves
    no centre ends the loop. ``pos`` and ``col`` (float64 centre positions
    and colours) are updated in place.
    """
    c, h, w = feats.shape
    k = pos.shape[0]
    sums = np.empty((k, c + 2))
    counts = np.empty(k, np.int64)
    best = np.empty(w, np.float32)
    active = np.empty(k, np.int64)
    cols = np.arange(2 * step + 2)
    rounds = 0
    for rounds in range(1, max_iter + 1):
        win = np.empty((k, 4), np.int64)
        for axis, size in ((0, h), (1, w)):
            win[:, 2 * axis] = np.clip(np.floor(pos[:, axis] - step), 0, size)
            win[:, 2 * axis + 1] = np.clip(np.floor(pos[:, axis] + step) + 1, 0, size)
        dx = (win[:, 2, None] + cols - pos[:, 1, None]).astype(np.float32)
        dxw = np.float32(weight) * dx * dx
        by_top = np.argsort(win[:, 0], kind="stable")
        sums[:] = 0.0
        counts[:] = 0
        unreached = slic_round(
            feats, pos, col, win, by_top, dxw, weight, labels, sums, counts, best,
            active,
        )  # fmt: skip
        if unreached:
            _label_unreached(feats, pos, col, weight, labels, sums, counts)
        filled = counts > 0
        means = sums[filled] / counts[filled, None]
        shift = ((means[:, :2] - pos[filled]) ** 2).sum()
        shift += ((means[:, 2:] - col[filled]) ** 2).sum()
        pos[filled] = means[:, :2]
        col[filled] = means[:, 2:]
        if shift == 0.0:
            break
    return rounds


def _halve(feats):
    """2x2 block means of the feature planes (an odd last row/column dropped)."""
    c, h, w = feats.shape
    h2, w2 = h // 2, w // 2
    out = np.empty((c, h2, w2), np.float32)
    for ch in range(c):
        p = feats[ch, : 2 * h2, : 2 * w2]
        out[ch] = p[0::2, 0::2]
        out[ch] += p[1::2, 0::2]
        out[ch] += p[0::2, 1::2]
        out[ch] += p[1::2, 1::2]
        out[ch] *= np.float32(0.25)
    return out


def run_slic(feats, seeds, step, compactness, max_iter, labels):
    """SLIC on the feature planes from ``seeds``: fill ``labels``.

    With at least :data:`COARSE_MIN_PIXELS` pixels and more than
    :data:`FINE_ROUNDS` rounds, the first ``max_iter - FINE_ROUNDS`` rounds
    run on the image reduced 2x2 (block means: a quarter of the pixels, and
    a quarter of the noise variance), where positions, the grid step and the
    spatial weight are halved accordingly; the centres they find start the
    last rounds at full resolution, which place the boundaries pixel by
    pixel.
    """
    c, h, w = feats.shape
    pos = seeds.astype(np.float64)
    col = np.ascontiguousarray(feats[:, seeds[:, 0], seeds[:, 1]].T, np.float64)
    fine = max_iter
    if max_iter > FINE_ROUNDS and h * w >= COARSE_MIN_PIXELS and min(h, w) >= 8:
        fine = FINE_ROUNDS
        small = _halve(feats)
        half_step = max(1, (step + 1) // 2)
        pos_s = (pos - 0.5) / 2.0
        lab_s = np.empty(small.shape[1:], np.int32)
        weight_s = (compactness / (step / 2.0)) ** 2
        slic_iterate(small, pos_s, col, half_step, weight_s, max_iter - fine, lab_s)
        del small, lab_s
        pos = np.ascontiguousarray(pos_s * 2.0 + 0.5)
    weight = (compactness / step) ** 2
    return slic_iterate(feats, pos, col, step, weight, fine, labels)
