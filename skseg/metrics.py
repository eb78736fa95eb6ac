"""Scorers for choosing K with :class:`~sklearn.model_selection.GridSearchCV`.

:class:`~skseg.KMeansColorSegmenter` has a ``score`` method (minus the mean
squared distance of a pixel to its palette colour), but it always prefers
the largest K offered: more colours always fit better. The scorers here make
a grid search over ``n_clusters`` meaningful. Each is a callable
``scorer(estimator, X, y)`` that ``GridSearchCV(scoring=...)`` accepts:

- :func:`adjusted_rand_scorer` (supervised): agreement of the predicted label
  maps with ground-truth masks passed as ``y``;
- :func:`boundary_recall_scorer` and
  :func:`neg_undersegmentation_error_scorer` (supervised, for superpixels
  and regions): how many ground-truth boundaries the label maps find, and
  how little their regions leak across ground-truth regions;
- :func:`calinski_harabasz_scorer` and :func:`silhouette_scorer`
  (unsupervised): how well separated the colour clusters are, which peaks at
  the number of colour groups instead of growing with K.

The estimator scored is a segmenter (:class:`~skseg.KMeansColorSegmenter`,
:class:`~skseg.model_selection.ElbowKSelector`) or a
:class:`~sklearn.pipeline.Pipeline` ending in one (e.g. a colour-space
conversion followed by the segmenter); the unsupervised scorers measure the
clusters in the space the segmenter sees.
"""

from __future__ import annotations

import numpy as np
from sklearn.metrics import adjusted_rand_score

from ._batch import check_batch
from ._scores import (
    SILHOUETTE_SAMPLE_SIZE,
    weighted_silhouettes,
)

__all__ = [
    "adjusted_rand_scorer",
    "boundary_recall",
    "boundary_recall_scorer",
    "calinski_harabasz_scorer",
    "make_label_map_scorer",
    "neg_undersegmentation_error_scorer",
    "silhouette_scorer",
    "undersegmentation_error",
]


def _per_image(labels):
    """Label maps of a batch as a list of flat arrays, one per image."""
    if isinstance(labels, list):
        return [np.ravel(lab) for lab in labels]
    labels = np.asarray(labels)
    return [np.ravel(lab) for lab in labels]


def make_label_map_scorer(score_func, **kwargs):
    """Make a scorer comparing predicted label maps with ground-truth masks.

    The scorer calls ``estimator.predict(X)`` (one label map per image) and
    returns the mean over the images of ``score_func(y[i], labels[i],
    **kwargs)``, each image's maps flattened. Label maps are compared image
    by image, so a mask's label ids need not match the segmenter's cluster
    ids, nor be the same across images.

    Parameters
    ----------
    score_func : callable
        ``score_func(labels_true, labels_pred, **kwargs) -> float``, higher
        is better, e.g. :func:`sklearn.metrics.adjusted_rand_score` or
        :func:`sklearn.metrics.normalized_mutual_info_score`.
    **kwargs
        Passed to ``score_func``.

    Returns
    -------
    scorer : callable
        ``scorer(estimator, X, y) -> float``, for the ``scoring`` parameter
        of :class:`~sklearn.model_selection.GridSearchCV` and
        :func:`~sklearn.model_selection.cross_val_score`.

    See Also
    --------
    adjusted_rand_scorer : This scorer with the adjusted Rand index.

    Examples
    --------
    >>> from sklearn.metrics import normalized_mutual_info_score
    >>> from skseg.metrics import make_label_map_scorer
    >>> nmi_scorer = make_label_map_scorer(normalized_mutual_info_score)
    """

    def scorer(estimator, X, y):
        if y is None:
            raise ValueError(
                "This scorer compares label maps with ground-truth masks: pass "
                "the masks as y (e.g. GridSearchCV(...).fit(X, masks))."
            )
        pred = _per_image(estimator.predict(X))
        true = y if isinstance(y, list) else np.asarray(y)
        if len(true) != len(pred):
            raise ValueError(
                f"y has {len(true)} masks, but X has {len(pred)} images; pass one "
                "ground-truth mask per image."
            )
        scores = []
        for i, (p, t) in enumerate(zip(pred, true)):
            t = np.ravel(t)
            if t.size != p.size:
                raise ValueError(
                    f"Image {i}: the predicted label map has {p.size} pixels but "
                    f"its mask y[{i}] has {t.size}; masks must have the shape of "
                    "the label maps (n_images, height, width), or (n_images, "
                    "n_pixels) for flattened images."
                )
            scores.append(score_func(t, p, **kwargs))
        return float(np.mean(scores))

    scorer.__name__ = f"{getattr(score_func, '__name__', 'label_map')}_scorer"
    scorer.__doc__ = (
        f"Mean over images of {scorer.__name__[:-7]} between label maps and masks."
    )
    return scorer


_ari = make_label_map_scorer(adjusted_rand_score)


def adjusted_rand_scorer(estimator, X, y):
    """Mean adjusted Rand index of the predicted label maps against masks.

    A supervised scorer for choosing K with
    :class:`~sklearn.model_selection.GridSearchCV` when ground-truth
    segmentations are known: ``y`` holds one mask per image, with the layout
    of the estimator's label maps, ``(n_images, height, width)`` (or
    ``(n_images, n_pixels)`` for flattened images, or a list of ``(height,
    width)`` masks). ``GridSearchCV`` splits ``y`` by images along with
    ``X``.

    The adjusted Rand index (:func:`sklearn.metrics.adjusted_rand_score`) is
    1 for label maps equal to the masks up to a renaming of the labels, about
    0 for random ones. It is computed per image and averaged, so mask ids
    need not match cluster ids. Too few clusters merge regions, too many
    split them: both lower it.

    Parameters
    ----------
    estimator : estimator
        Fitted segmenter, or pipeline ending in one, whose ``predict`` returns
        label maps.
    X : array-like or list of array-like
        Batch of images.
    y : array-like of shape (n_images, ...) or list of array-like
        Ground-truth masks, one per image.

    Returns
    -------
    score : float
        Mean over the images of the adjusted Rand index.

    See Also
    --------
    make_label_map_scorer : The same with another label-map comparison.
    calinski_harabasz_scorer : An unsupervised scorer.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.model_selection import GridSearchCV
    >>> from skseg import KMeansColorSegmenter
    >>> from skseg.metrics import adjusted_rand_scorer
    >>> rng = np.random.default_rng(0)
    >>> colours = np.array([[230, 40, 40], [40, 200, 60], [30, 60, 220]])
    >>> masks = rng.integers(0, 3, (6, 1, 4)).repeat(8, axis=1).repeat(8, axis=2)
    >>> X = np.clip(colours[masks] + rng.normal(0, 10, masks.shape + (3,)), 0, 255)
    >>> search = GridSearchCV(
    ...     KMeansColorSegmenter(random_state=0),
    ...     {"n_clusters": [2, 3, 4, 5]},
    ...     scoring=adjusted_rand_scorer,
    ...     cv=3,
    ... ).fit(X.astype(np.uint8), masks)
    >>> search.best_params_
    {'n_clusters': 3}
    """
    return _ari(estimator, X, y)


# ----------------------------------------------------------------------
# unsupervised


def _segmenter_and_input(estimator, X):
    # The segmenter (last step of a pipeline, best_estimator_ of a selector)
    # and X as the segmenter sees it.
    from sklearn.pipeline import Pipeline

    if isinstance(estimator, Pipeline):
        Xt = estimator[:-1].transform(X) if len(estimator) > 1 else X
        final = estimator[-1]
    else:
        Xt, final = X, estimator
    final = getattr(final, "best_estimator_", final)
    if not hasattr(final, "cluster_centers_"):
        raise TypeError(
            f"{type(final).__name__} is not a fitted colour segmenter: the "
            "unsupervised scorers need an estimator (or a pipeline ending in one) "
            "with cluster_centers_, such as KMeansColorSegmenter."
        )
    return final, Xt


def _pixels_and_labels(estimator, X):
    final, Xt = _segmenter_and_input(estimator, X)
    batch = check_batch(Xt, image_shape=getattr(final, "image_shape", None))
    labels = np.concatenate(_per_image(final.predict(Xt)))
    if labels.size != batch.n_pixels:
        raise ValueError(
            f"The segmenter returned {labels.size} labels for {batch.n_pixels} pixels."
        )
    return batch, labels.astype(np.int64)


def calinski_harabasz_scorer(estimator, X, y=None):
    """Calinski-Harabasz index of the colour clusters of the pixels of ``X``.

    An unsupervised scorer for choosing K with
    :class:`~sklearn.model_selection.GridSearchCV`: the ratio of the
    between-cluster to the within-cluster dispersion of the pixels' colours,
    each divided by its degrees of freedom (:math:`K - 1` and :math:`N - K`
    for :math:`N` pixels). Splitting a colour group into two lowers it, so it
    peaks at the number of colour groups rather than growing with K (unlike
    the estimator's own ``score``, minus the WCSS per pixel). It is computed
    exactly over all the pixels of ``X``, with the clusters of the fitted
    palette (the label maps of ``predict``).

    Parameters
    ----------
    estimator : estimator
        Fitted segmenter, or pipeline ending in one.
    X : array-like or list of array-like
        Batch of images (held-out images in a grid search).
    y : None
        Ignored.

    Returns
    -------
    score : float
        As :func:`sklearn.metrics.calinski_harabasz_score` over the pixels;
        NaN when the pixels fall in fewer than two clusters (K = 1), ``+inf``
        when every pixel has exactly its cluster's colour.

    See Also
    --------
    silhouette_scorer : Another unsupervised scorer.
    skseg.model_selection.ElbowKSelector : ``metric="calinski_harabasz"`` picks
        K by this index.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.model_selection import GridSearchCV
    >>> from skseg import KMeansColorSegmenter
    >>> from skseg.metrics import calinski_harabasz_scorer
    >>> rng = np.random.default_rng(0)
    >>> colours = np.array([[230, 40, 40], [40, 200, 60], [30, 60, 220]])
    >>> masks = rng.integers(0, 3, (6, 1, 4)).repeat(8, axis=1).repeat(8, axis=2)
    >>> X = np.clip(colours[masks] + rng.normal(0, 10, masks.shape + (3,)), 0, 255)
    >>> search = GridSearchCV(
    ...     KMeansColorSegmenter(random_state=0),
    ...     {"n_clusters": [2, 3, 4, 5]},
    ...     scoring=calinski_harabasz_scorer,
    ...     cv=3,
    ... ).fit(X.astype(np.uint8))
    >>> search.best_params_
    {'n_clusters': 3}
    """
    batch, labels = _pixels_and_labels(estimator, X)
    k = int(labels.max()) + 1
    c = batch.n_channels
    n_k = np.zeros(k)
    sums = np.zeros((k, c))
    chunks = list(_label_chunks(batch, labels))
    for px, lab in chunks:
        n_k += np.bincount(lab, minlength=k)
        for f in range(c):
            sums[:, f] += np.bincount(lab, weights=px[:, f], minlength=k)
    n_labels = int((n_k > 0).sum())
    n = n_k.sum()
    if n_labels < 2 or n_labels >= n:
        return float("nan")
    means = np.divide(
        sums, n_k[:, None], out=np.zeros_like(sums), where=n_k[:, None] > 0
    )
    mean = sums.sum(axis=0) / n
    between = float(n_k @ ((means - mean) ** 2).sum(axis=1))
    within = 0.0
    for px, lab in chunks:
        diff = px.astype(np.float64) - means[lab]
        within += float(np.einsum("ij,ij->", diff, diff))
    if within == 0.0:
        return float("inf")
    return between * (n - n_labels) / (within * (n_labels - 1.0))


def _label_chunks(batch, labels):
    start = 0
    for _, _, px in batch.chunks(batch.n_images):
        stop = start + px.shape[0]
        yield px, labels[start:stop]
        start = stop


def silhouette_scorer(estimator, X, y=None):
    """Mean silhouette coefficient of a sample of the pixels of ``X``.

    An unsupervised scorer for choosing K with
    :class:`~sklearn.model_selection.GridSearchCV`: for each pixel, how much
    closer (in colour) it is to its own cluster than to the next one, from -1
    to 1. It peaks at the number of well-separated colour groups rather than
    growing with K. The silhouette is quadratic in the number of pixels, so
    it is computed on 10 000 pixels drawn with a fixed seed (the same pixels
    for every candidate K of a search); images with fewer pixels are scored
    on all of them.

    Parameters
    ----------
    estimator : estimator
        Fitted segmenter, or pipeline ending in one.
    X : array-like or list of array-like
        Batch of images (held-out images in a grid search).
    y : None
        Ignored.

    Returns
    -------
    score : float
        As :func:`sklearn.metrics.silhouette_score` on the sampled pixels;
        NaN when they fall in fewer than two clusters (K = 1).

    See Also
    --------
    calinski_harabasz_scorer : Exact over all pixels and faster.

    Examples
    --------
    >>> import numpy as np
    >>> from skseg import KMeansColorSegmenter
    >>> from skseg.metrics import silhouette_scorer
    >>> rng = np.random.default_rng(0)
    >>> colours = np.array([[230, 40, 40], [40, 200, 60], [30, 60, 220]])
    >>> masks = rng.integers(0, 3, (2, 16, 16))
    >>> X = np.clip(colours[masks] + rng.normal(0, 10, masks.shape + (3,)), 0, 255)
    >>> scores = {
    ...     k: silhouette_scorer(KMeansColorSegmenter(k, random_state=0).fit(X), X)
    ...     for k in (2, 3, 4)
    ... }
    >>> max(scores, key=scores.get)
    3
    """
    batch, labels = _pixels_and_labels(estimator, X)
    n = labels.size
    rng = np.random.RandomState(0)
    if n > SILHOUETTE_SAMPLE_SIZE:
        keep = np.sort(rng.choice(n, SILHOUETTE_SAMPLE_SIZE, replace=False))
    else:
        keep = np.arange(n)
    parts, start = [], 0
    for px, _ in _label_chunks(batch, labels):
        stop = start + px.shape[0]
        sel = keep[(keep >= start) & (keep < stop)] - start
        parts.append(px[sel].astype(np.float64))
        start = stop
    sample = np.concatenate(parts)
    lab = labels[keep]
    # Repeated (colour, label) pairs become one weighted point.
    rows = np.column_stack([sample, lab])
    uniq, mult = np.unique(rows, axis=0, return_counts=True)
    _, lab_u = np.unique(uniq[:, -1].astype(np.int64), return_inverse=True)
    return float(weighted_silhouettes(uniq[:, :-1], mult, [lab_u.ravel()])[0])


# ----------------------------------------------------------------------
# superpixel / region quality against masks


def _boundaries(labels):
    """Pixels with a 4-neighbour of another label (both sides of a border)."""
    labels = np.asarray(labels)
    out = np.zeros(labels.shape, bool)
    cut = labels[:, 1:] != labels[:, :-1]
    out[:, 1:] |= cut
    out[:, :-1] |= cut
    cut = labels[1:, :] != labels[:-1, :]
    out[1:, :] |= cut
    out[:-1, :] |= cut
    return out


def _check_maps(labels_true, labels_pred):
    t, p = np.asarray(labels_true), np.asarray(labels_pred)
    if t.ndim != 2 or t.shape != p.shape:
        raise ValueError(
            "labels_true and labels_pred must be 2-D label maps of the same "
            f"shape; got shapes {t.shape} and {p.shape}."
        )
    return t, p


def boundary_recall(labels_true, labels_pred, *, tolerance=2):
    """Fraction of the ground-truth boundary pixels found by a segmentation.

    A boundary pixel is one with a 4-neighbour of another label; a
    ground-truth boundary pixel is found when a boundary pixel of
    ``labels_pred`` lies within ``tolerance`` pixels of it (Chebyshev
    distance), the usual measure of superpixel boundary adherence [1]_.
    Higher is better; more segments never lower it, so compare
    segmentations with the same number of segments, or together with
    :func:`undersegmentation_error`.

    Parameters
    ----------
    labels_true : array-like of shape (height, width)
        Ground-truth mask of one image.
    labels_pred : array-like of shape (height, width)
        Label map of the same image.
    tolerance : int, default=2
        Distance in pixels within which a boundary counts as found.

    Returns
    -------
    recall : float
        In [0, 1]; 1.0 when the mask has no boundary.

    References
    ----------
    .. [1] D. Martin, C. Fowlkes and J. Malik, "Learning to detect natural
       image boundaries using local brightness, color, and texture cues",
       IEEE TPAMI 26(5), 530-549, 2004.

    Examples
    --------
    >>> import numpy as np
    >>> from skseg.metrics import boundary_recall
    >>> truth = np.repeat([[0, 0, 1, 1]], 4, axis=0)
    >>> boundary_recall(truth, np.zeros((4, 4), int))
    0.0
    >>> boundary_recall(truth, truth)
    1.0
    """
    from scipy import ndimage

    t, p = _check_maps(labels_true, labels_pred)
    gt = _boundaries(t)
    n = int(gt.sum())
    if n == 0:
        return 1.0
    found = _boundaries(p)
    if tolerance > 0:
        found = ndimage.maximum_filter(found.view(np.uint8), size=2 * tolerance + 1)
    return float((gt & (found > 0)).sum() / n)


def undersegmentation_error(labels_true, labels_pred):
    """Share of pixels by which predicted regions leak across true regions.

    The corrected undersegmentation error of Neubert and Protzel [1]_: for
    every predicted region ``S`` and every ground-truth region ``G`` it
    overlaps, the smaller of ``|S & G|`` and ``|S - G|`` is counted, and the
    sum is divided by the number of pixels. 0 when every predicted region
    lies inside one true region; lower is better.

    Parameters
    ----------
    labels_true : array-like of shape (height, width)
        Ground-truth mask of one image.
    labels_pred : array-like of shape (height, width)
        Label map of the same image.

    Returns
    -------
    error : float
        In [0, 1].

    References
    ----------
    .. [1] P. Neubert and P. Protzel, "Superpixel benchmark and comparison",
       Forum Bildverarbeitung, 2012.

    Examples
    --------
    >>> import numpy as np
    >>> from skseg.metrics import undersegmentation_error
    >>> truth = np.repeat([[0, 0, 1, 1]], 4, axis=0)
    >>> undersegmentation_error(truth, truth)
    0.0
    >>> undersegmentation_error(truth, np.zeros((4, 4), int))
    1.0
    """
    t, p = _check_maps(labels_true, labels_pred)
    _, t = np.unique(t.ravel(), return_inverse=True)
    _, p = np.unique(p.ravel(), return_inverse=True)
    n_true = int(t.max()) + 1
    pairs, overlap = np.unique(
        p.astype(np.int64) * n_true + t.ravel(), return_counts=True
    )
    sizes = np.bincount(p.ravel())
    outside = sizes[pairs // n_true] - overlap
    return float(np.minimum(overlap, outside).sum() / t.size)


def _map_pairs(estimator, X, y):
    """(mask, label map) of every image, both 2-D."""
    if y is None:
        raise ValueError(
            "This scorer compares label maps with ground-truth masks: pass "
            "the masks as y (e.g. GridSearchCV(...).fit(X, masks))."
        )
    pred = estimator.predict(X)
    pred = list(pred) if isinstance(pred, list) else list(np.asarray(pred))
    true = list(y) if isinstance(y, list) else list(np.asarray(y))
    if len(true) != len(pred):
        raise ValueError(
            f"y has {len(true)} masks, but X has {len(pred)} images; pass one "
            "ground-truth mask per image."
        )
    shape = getattr(estimator, "image_shape", None)
    if shape is None and hasattr(estimator, "steps"):
        shape = getattr(estimator[-1], "image_shape", None)
    for i, (t, p) in enumerate(zip(true, pred)):
        t, p = np.asarray(t), np.asarray(p)
        if p.ndim == 1:  # flattened images: unflatten with image_shape
            if shape is None:
                raise ValueError(
                    "The label maps are flattened (2-D X): give the estimator "
                    "image_shape=(height, width) so that boundaries can be found."
                )
            p = p.reshape(shape[:2])
        if t.size != p.size:
            raise ValueError(
                f"Image {i}: the predicted label map has {p.size} pixels but "
                f"its mask y[{i}] has {t.size}; masks must have the shape of "
                "the label maps."
            )
        yield t.reshape(p.shape), p


def boundary_recall_scorer(estimator, X, y):
    """Mean boundary recall of the predicted label maps against masks.

    A supervised scorer for :class:`~sklearn.model_selection.GridSearchCV`
    over superpixel or region parameters (``n_segments``, ``compactness``,
    ``min_region_size``): ``y`` holds one ground-truth mask per image, with
    the layout of the estimator's label maps. See :func:`boundary_recall`
    (tolerance 2 pixels). Boundary recall alone prefers more segments:
    combine it with :func:`neg_undersegmentation_error_scorer` in a
    multi-metric search, or search at a fixed number of segments.

    Parameters
    ----------
    estimator : estimator
        Fitted segmenter, or pipeline ending in one, whose ``predict``
        returns label maps (:class:`~skseg.SuperpixelSegmenter`,
        :class:`~skseg.KMeansColorSegmenter`).
    X : array-like or list of array-like
        Batch of images.
    y : array-like of shape (n_images, height, width) or list of array-like
        Ground-truth masks, one per image.

    Returns
    -------
    score : float
        Mean over the images of the boundary recall.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.model_selection import GridSearchCV
    >>> from skseg import SuperpixelSegmenter
    >>> from skseg.metrics import boundary_recall_scorer
    >>> masks = np.zeros((4, 32, 32), int)
    >>> masks[:, :, 16:] = 1
    >>> X = np.where(masks[..., None] == 1, [200, 40, 40], [40, 40, 200])
    >>> search = GridSearchCV(
    ...     SuperpixelSegmenter(), {"n_segments": [1, 4]},
    ...     scoring=boundary_recall_scorer, cv=2,
    ... ).fit(X.astype(np.uint8), masks)
    >>> search.best_params_, float(search.best_score_)
    ({'n_segments': 4}, 1.0)
    """
    return float(
        np.mean([boundary_recall(t, p) for t, p in _map_pairs(estimator, X, y)])
    )


def neg_undersegmentation_error_scorer(estimator, X, y):
    """Minus the mean undersegmentation error of the label maps against masks.

    A supervised scorer (greater is better, as scikit-learn's ``neg_``
    scorers) for :class:`~sklearn.model_selection.GridSearchCV`: see
    :func:`undersegmentation_error`. Fewer, larger segments leak more, so
    it prefers more segments; pair it with a measure that does not.

    Parameters
    ----------
    estimator : estimator
        Fitted segmenter, or pipeline ending in one, whose ``predict``
        returns label maps.
    X : array-like or list of array-like
        Batch of images.
    y : array-like of shape (n_images, height, width) or list of array-like
        Ground-truth masks, one per image.

    Returns
    -------
    score : float
        Minus the mean over the images of the undersegmentation error.

    Examples
    --------
    >>> import numpy as np
    >>> from skseg import KMeansColorSegmenter
    >>> from skseg.metrics import neg_undersegmentation_error_scorer
    >>> masks = np.zeros((2, 16, 16), int)
    >>> masks[:, 8:] = 1
    >>> X = np.where(masks[..., None] == 1, [200, 40, 40], [40, 40, 200])
    >>> km = KMeansColorSegmenter(2, random_state=0).fit(X)
    >>> neg_undersegmentation_error_scorer(km, X, masks)
    -0.0
    """
    return -float(
        np.mean([undersegmentation_error(t, p) for t, p in _map_pairs(estimator, X, y)])
    )
