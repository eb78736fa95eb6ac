"""Clustering scores over weighted colours: Calinski-Harabasz and silhouette.

Both take colours with weights (pixel counts), so a colour table scores all
the pixels of a batch at the cost of its distinct colours:

- :func:`weighted_calinski_harabasz` is exact over all pixels (one pass);
- :func:`weighted_silhouettes` is quadratic in the number of points, so it is
  run on a seeded sample of pixels (:func:`sample_pixels`) whose repeated
  colours are merged into weights. Several labelings of the same points (one
  per K of an elbow curve) are scored in one pass over the pairs.

Both follow :mod:`sklearn.metrics` (``calinski_harabasz_score``,
``silhouette_score``) on the expanded pixels, with two documented
differences: they return NaN where scikit-learn raises (fewer than two
clusters), and the Calinski-Harabasz index of a perfect clustering (zero
within-cluster dispersion) is ``+inf`` rather than 1.
"""

from __future__ import annotations

import numpy as np

from ._jit import njit

__all__ = ["sample_pixels", "weighted_calinski_harabasz", "weighted_silhouettes"]

#: Pixels drawn to compute a silhouette score.
SILHOUETTE_SAMPLE_SIZE = 10_000


def sample_pixels(colors, counts, n_samples, rng):
    """A seeded sample of the pixels of a colour table, as weighted colours.

    Tables with at most ``n_samples`` distinct colours are returned whole
    (every pixel, exactly); otherwise ``n_samples`` pixels are drawn
    uniformly (with replacement) and their repeated colours merged.

    Returns
    -------
    colors : ndarray of shape (m, n_channels), float64
    weights : ndarray of shape (m,), float64
        Number of sampled pixels of each colour.
    """
    colors = np.asarray(colors)
    counts = np.asarray(counts, dtype=np.float64)
    if colors.shape[0] <= n_samples:
        return colors.astype(np.float64), counts
    cum = np.cumsum(counts)
    idx = np.searchsorted(cum, rng.uniform(0.0, cum[-1], n_samples), side="right")
    idx, mult = np.unique(np.minimum(idx, colors.shape[0] - 1), return_counts=True)
    return colors[idx].astype(np.float64), mult.astype(np.float64)


def weighted_calinski_harabasz(X, w, labels):
    """Calinski-Harabasz index of weighted points (weights = multiplicities).

    Returns NaN with fewer than two non-empty clusters, ``+inf`` when every
    point sits on its cluster mean.
    """
    X = np.asarray(X, dtype=np.float64)
    w = np.asarray(w, dtype=np.float64)
    labels = np.asarray(labels)
    k = int(labels.max()) + 1
    n_k = np.bincount(labels, weights=w, minlength=k)
    present = n_k > 0
    n_labels = int(present.sum())
    n = w.sum()
    if n_labels < 2 or n_labels >= n:
        return float("nan")
    sums = np.stack(
        [
            np.bincount(labels, weights=w * X[:, f], minlength=k)
            for f in range(X.shape[1])
        ],
        axis=1,
    )
    means = np.zeros_like(sums)
    means[present] = sums[present] / n_k[present, None]
    mean = (w @ X) / n
    between = float(n_k @ ((means - mean) ** 2).sum(axis=1))
    diff = X - means[labels]
    within = float(w @ np.einsum("ij,ij->i", diff, diff))
    if within == 0.0:
        return float("inf") if between > 0 else float("nan")
    return between * (n - n_labels) / (within * (n_labels - 1.0))


@njit(cache=True, nogil=True)
def _silhouette_sums(X, w, L, offsets, S):
    # S[i, offsets[t] + c] += sum of w[j] * d(i, j) over the points j with
    # label c in labeling t (d(i, i) = 0: a point's copies add nothing).
    m, c = X.shape
    T = L.shape[0]
    for i in range(m):
        for j in range(i + 1, m):
            d = 0.0
            for f in range(c):
                t = X[i, f] - X[j, f]
                d += t * t
            d = np.sqrt(d)
            wi = w[i] * d
            wj = w[j] * d
            for t in range(T):
                S[i, offsets[t] + L[t, j]] += wj
                S[j, offsets[t] + L[t, i]] += wi


def weighted_silhouettes(X, w, label_sets):
    """Mean silhouette coefficient of weighted points for several labelings.

    Parameters
    ----------
    X : ndarray of shape (m, n_features)
        Distinct points.
    w : ndarray of shape (m,)
        Multiplicity of each point (each copy is a sample).
    label_sets : sequence of ndarray of shape (m,)
        Labelings of the points (non-negative ints).

    Returns
    -------
    scores : ndarray of shape (len(label_sets),)
        The mean silhouette over all (weighted) samples, as
        :func:`sklearn.metrics.silhouette_score` on the expanded samples;
        NaN for a labeling with fewer than two clusters or with every sample
        in its own cluster.
    """
    X = np.ascontiguousarray(X, dtype=np.float64)
    w = np.ascontiguousarray(w, dtype=np.float64)
    label_sets = [np.asarray(lab, dtype=np.int64) for lab in label_sets]
    ks = np.array([int(lab.max()) + 1 for lab in label_sets], np.int64)
    offsets = np.concatenate([[0], np.cumsum(ks)]).astype(np.int64)
    L = np.ascontiguousarray(np.stack(label_sets))
    S = np.zeros((X.shape[0], int(offsets[-1])))
    _silhouette_sums(X, w, L, offsets, S)
    n = w.sum()
    scores = np.full(len(label_sets), np.nan)
    for t, lab in enumerate(label_sets):
        k = int(ks[t])
        n_k = np.bincount(lab, weights=w, minlength=k)
        n_labels = int((n_k > 0).sum())
        if n_labels < 2 or n_labels >= n:
            continue
        sums = S[:, offsets[t] : offsets[t + 1]]
        own = n_k[lab]
        rows = np.arange(lab.size)
        with np.errstate(divide="ignore", invalid="ignore"):
            a = np.where(own > 1, sums[rows, lab] / (own - 1), 0.0)
            other = np.where(n_k > 0, sums / n_k, np.inf)
        other[rows, lab] = np.inf
        b = other.min(axis=1)
        denom = np.maximum(a, b)
        with np.errstate(divide="ignore", invalid="ignore"):
            s = np.where(denom > 0, (b - a) / denom, 0.0)
        s[own <= 1] = 0.0  # scikit-learn: singleton clusters score 0
        scores[t] = float(w @ s) / n
    return scores
