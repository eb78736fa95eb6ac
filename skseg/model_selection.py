"""Choosing the number of colours K: the elbow method, done right and fast."""

from __future__ import annotations

import warnings
from numbers import Integral

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context, clone
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import StrOptions
from sklearn.utils.validation import check_is_fitted

from ._batch import check_batch, user_stacklevel
from ._engine.assign import assign_labels
from ._engine.strategy import fit_palette_path
from ._engine.tables import add_tables, count_batch, count_block
from ._glue import ImageOutputMixin, TablePlan, dask_aware
from ._scores import (
    SILHOUETTE_SAMPLE_SIZE,
    sample_pixels,
    weighted_calinski_harabasz,
    weighted_silhouettes,
)
from .segmentation import KMeansColorSegmenter

__all__ = ["ElbowKSelector", "locate_knee"]

#: A knee must have the curve fall this many times faster before it than
#: after it (mean slopes of log WCSS against log K).
MIN_SLOPE_RATIO = 1.5
#: With no knee inside the range, the curve is "still falling steeply at the
#: largest K" when its last step is this many times steeper than the chord.
EDGE_SLOPE_RATIO = 2.0
#: Fallback without a knee: the smallest K explaining this fraction of the
#: total sum of squares.
EXPLAINED = 0.9

_METRICS = ("distortion", "silhouette", "calinski_harabasz")


# ----------------------------------------------------------------------
# knee location


def _knee(k_values, wcss, total_ss=None):
    """Knee of a WCSS curve; returns (index, status, (candidate, slope ratio)).

    ``status`` is 'single', 'exact', 'knee', 'upper_edge', 'no_knee' or
    'too_few'; ``candidate`` is the index of kneedle's candidate knee and
    ``slope ratio`` how many times faster the curve falls before it than
    after it (log-log), both None when not computed. ``k_values`` are
    increasing.
    """
    ks = np.asarray(k_values, dtype=np.float64)
    W = np.asarray(wcss, dtype=np.float64)
    n = ks.size
    if n == 1:
        return 0, "single", None
    T = float(total_ss) if total_ss is not None else float(W[0])
    zero = np.flatnonzero(W <= 0.0)
    if zero.size:
        return int(zero[0]), "exact", None
    bend = None
    if n >= 3:
        x = np.log(ks)
        y = np.log(W)
        span_x, span_y = x[-1] - x[0], y[0] - y[-1]
        if span_y > 0:
            xn = (x - x[0]) / span_x
            yn = (y - y[-1]) / span_y
            diff = (1.0 - xn) - yn  # height of the chord above the curve
            i = 1 + int(np.argmax(diff[1:-1]))
            left = (y[0] - y[i]) / (x[i] - x[0])
            right = (y[i] - y[-1]) / (x[-1] - x[i])
            bend = (i, left / right if right > 0 else np.inf)
            if diff[i] > 0 and bend[1] >= MIN_SLOPE_RATIO:
                return i, "knee", bend
            last = (y[-2] - y[-1]) / (x[-1] - x[-2])
            if last >= EDGE_SLOPE_RATIO * span_y / span_x:
                return n - 1, "upper_edge", bend
    explained = np.flatnonzero(W <= (1.0 - EXPLAINED) * T)
    index = int(explained[0]) if explained.size else n - 1
    return index, ("no_knee" if n >= 3 else "too_few"), bend


def _knee_message(status, k_values, k, bend):
    ks = [int(v) for v in k_values]
    if len(ks) > 2 and ks == list(range(ks[0], ks[-1] + 1)):
        span = f"k_values={ks[0]}..{ks[-1]}"
    else:
        span = f"k_values={ks}"
    if status == "upper_edge":
        return (
            f"The WCSS curve is still falling steeply at the largest K ({k}) of "
            f"{span}: its knee may lie beyond the range. Returning K={k}; try "
            "larger k_values."
        )
    fallback = (
        f"the smallest K whose WCSS is at most {1 - EXPLAINED:.0%} of the total "
        f"sum of squares, or the largest K if none is: K={k}"
    )
    if status == "too_few":
        return f"A knee needs at least 3 values of K, got {span}. Returning {fallback}."
    detail = ""
    if bend is not None:
        detail = (
            f" (at its most bent point, K={ks[bend[0]]}, it falls {bend[1]:.2f} "
            f"times faster before than after on log-log axes; a knee needs "
            f"{MIN_SLOPE_RATIO})"
        )
    return f"No knee in the WCSS curve over {span}{detail}. Returning {fallback}."


def locate_knee(k_values, wcss, *, total_ss=None):
    """Locate the knee of an elbow curve: WCSS against the number of clusters.

    Kneedle [1]_ on log-log axes (log WCSS against log K), with a test of
    how sharp the knee is. See the Notes for the rule and its fallbacks.

    Parameters
    ----------
    k_values : array-like of int
        Increasing numbers of clusters.
    wcss : array-like of float
        Within-cluster sum of squares at each K, non-increasing.
    total_ss : float, default=None
        Total sum of squares of the data (the WCSS at K = 1), for the
        fallback. ``None`` uses ``wcss[0]``.

    Returns
    -------
    k : int
        The chosen number of clusters.

    Warns
    -----
    UserWarning
        When there is no knee, or when the curve is still falling steeply at
        the largest K (the knee may lie beyond the range).

    See Also
    --------
    ElbowKSelector : Computes the curve on a batch of images and uses this
        rule.

    Notes
    -----
    The WCSS of data made of :math:`k` colour groups falls fast until
    :math:`K = k`, then slowly, as each extra cluster only splits noise.
    Kneedle on the raw curve, whose values are dominated by the first few K,
    finds the bend too early once there are 5 or more groups (it answers 3
    to 5 for 6 or 7 colour bands; see ``benchmarks/bench_elbow.py``).
    On log-log axes the curve is scale free: a power law (no characteristic
    number of clusters, as for noise) is a straight line, and a group
    structure is a bend at its number of groups, wherever it lies in the
    range. The rule:

    1. a single K is returned as is; if the WCSS is 0 at some K (every
       colour on a centre), the first such K is returned;
    2. with at least 3 values of K, both axes are scaled to [0, 1] and the
       candidate knee is the K furthest below the chord joining the ends of
       the curve (kneedle's difference curve);
    3. it is accepted when the curve falls at least ``MIN_SLOPE_RATIO`` (1.5)
       times faster before it than after it (mean log-log slopes from the
       first K to the knee and from the knee to the last K);
    4. otherwise, if the last step is at least ``EDGE_SLOPE_RATIO`` (2) times
       steeper than the chord, the curve is still falling at the top of the
       range: the largest K is returned, with a warning to try larger K (a
       knee at the first or last K cannot be seen from inside the range);
    5. otherwise there is no knee (noise, a smooth photo, a knee at the
       smallest K of the range): a warning, and the fallback is the smallest
       K whose WCSS is at most 10% of the total sum of squares (90% of the
       colour variance explained), or the largest K if none is. A knee at
       the smallest K (e.g. 4 colour groups and K = 4..10) is found this way:
       no bend inside the range, and that K already explains 90%.

    References
    ----------
    .. [1] V. Satopaa, J. Albrecht, D. Irwin and B. Raghavan, "Finding a
       'Kneedle' in a haystack: detecting knee points in system behavior",
       31st International Conference on Distributed Computing Systems
       Workshops, 2011, pp. 166-171.

    Examples
    --------
    >>> from skseg.model_selection import locate_knee
    >>> wcss = [1000, 420, 160, 40, 38, 36, 34.5, 33, 32, 31]
    >>> locate_knee(range(1, 11), wcss)
    4
    """
    ks = np.asarray(k_values)
    W = np.asarray(wcss, dtype=np.float64)
    if ks.ndim != 1 or ks.shape != W.shape or ks.size == 0:
        raise ValueError(
            f"k_values and wcss must be 1-D of the same non-zero length, got "
            f"shapes {ks.shape} and {W.shape}."
        )
    if np.any(np.diff(ks) <= 0):
        raise ValueError(f"k_values must be increasing, got {ks.tolist()}.")
    if not np.all(np.isfinite(W)) or np.any(W < 0):
        raise ValueError("wcss must be finite and non-negative.")
    index, status, bend = _knee(ks, W, total_ss)
    k = int(ks[index])
    if status in ("upper_edge", "no_knee", "too_few"):
        warnings.warn(_knee_message(status, ks, k, bend), UserWarning, stacklevel=2)
    return k


# ----------------------------------------------------------------------
# the estimator


class ElbowKSelector(ImageOutputMixin, TransformerMixin, BaseEstimator):
    """Choose the number of colours K of a K-Means colour segmentation.

    The tutorial's elbow method as a transformer: ``fit`` computes the
    within-cluster sum of squares (WCSS) of the best palette for every K in
    ``k_values`` (K = 1..10 by default) and takes the knee of the curve, or
    maximises a cluster-separation index. The result is a
    :class:`~skseg.KMeansColorSegmenter` with ``n_clusters`` set to the
    chosen K, fitted (``best_estimator_``), to which ``transform``,
    ``predict`` and ``score`` delegate.

    Every K reuses one count of the distinct colours of the batch and its
    coresets, so the whole curve costs little more than one fit.

    Parameters
    ----------
    k_values : array-like of int, default=None
        Candidate numbers of colours, distinct positive integers. ``None``
        means K = 1..10, as in the tutorial. Values above the number of
        distinct colours of the batch are replaced by that number (with a
        ``UserWarning``).

    metric : {'distortion', 'silhouette', 'calinski_harabasz'}, \
            default='distortion'
        How K is chosen:

        - ``'distortion'``: the knee of the WCSS curve over all pixels (the
          elbow method; see Notes);
        - ``'silhouette'``: the largest mean silhouette coefficient, on a
          seeded sample of 10 000 pixels (all pixels of smaller batches);
        - ``'calinski_harabasz'``: the largest Calinski-Harabasz index,
          exact over all pixels.

        Both indices are undefined for K = 1 (score NaN, never chosen).

    segmenter : KMeansColorSegmenter, default=None
        Template of the segmentation (``output``, ``per_image``, ``init``,
        ``n_init``, ``max_iter``, ``tol``, ``image_shape``, ...); it is
        cloned, never modified. ``None`` means ``KMeansColorSegmenter()``.
        Its ``init`` must be ``'k-means++'`` or ``'random'``.

    random_state : int, RandomState instance or None, default=None
        Seeds the restarts of every K and the silhouette's pixel sample.
        Also the ``random_state`` of ``best_estimator_`` when the template
        has none.

    n_jobs : int, default=None
        Number of threads over which the values of K are fitted. ``None``
        means 1 unless in a :func:`joblib.parallel_config` context. The
        result does not depend on it.

    Attributes
    ----------
    k_values_ : ndarray of shape (n_k,)
        The values of K tried, in the order of ``k_values`` (after
        clipping to the number of distinct colours).

    scores_ : ndarray of shape (n_k,)
        One score per value of ``k_values_``: the WCSS for ``'distortion'``,
        the index for the others (NaN at K = 1).

    inertias_ : ndarray of shape (n_k,)
        WCSS over all pixels of the palette of each K, whatever the metric.
        Non-increasing in K.

    palettes_ : list of ndarray of shape (k, n_channels)
        The palette (cluster centres, sorted by brightness) fitted for each
        value of ``k_values_``: segmentations for other K without refitting,
        e.g. ``KMeansColorSegmenter(k, init=palettes_[i], n_init=1)``.

    n_clusters_ : int
        The chosen K.

    selection_ : str
        How ``n_clusters_`` was chosen. For ``metric='distortion'``:
        ``'knee'`` (the knee of the curve), or, without a knee, one of the
        fallbacks ``'no_knee'`` (the smallest K whose WCSS is at most 10% of
        the total sum of squares, or the largest K if none is),
        ``'too_few'`` (the same rule, fewer than 3 values of K) and
        ``'upper_edge'`` (the largest K: the curve still falls steeply
        there); ``'exact'`` (the first K whose WCSS is 0) and ``'single'``
        (one K tried). For the other metrics: ``'best_score'``, or
        ``'undefined'`` when the index is undefined for every K.

    knee_found_ : bool
        Whether ``n_clusters_`` is the knee of the WCSS curve
        (``selection_ == 'knee'``). False when the knee rule fell back to
        another rule, and for the metrics other than ``'distortion'``.

    selection_reason_ : str
        One sentence saying what rule chose ``n_clusters_`` and why (for a
        fallback, the text of the ``UserWarning``); :meth:`plot` shows it
        and ``skseg elbow`` prints it.

    fallback_level_ : float or None
        The WCSS below which the ``'no_knee'``/``'too_few'`` fallback takes
        the smallest K (10% of the total sum of squares), ``None`` for the
        other selections. :meth:`plot` draws it.

    best_index_ : int
        Index of ``n_clusters_`` in ``k_values_``.

    best_estimator_ : KMeansColorSegmenter
        Clone of the template with ``n_clusters=n_clusters_``, holding the
        palette of the curve at that K (``best_estimator_.inertia_`` is
        ``inertias_[best_index_]``).

    n_features_in_ : int
        Number of features per row, only when fitted on 2-D (flattened)
        input.

    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of the features, only when fitted on a 2-D input with string
        column names.

    See Also
    --------
    KMeansColorSegmenter : The segmentation whose K is chosen.
    locate_knee : The knee rule, on any WCSS curve.
    skseg.metrics.calinski_harabasz_scorer : Choose K by cross-validation.

    Notes
    -----
    **The curve.** For each K, ``n_init`` k-means++ restarts (as the
    template's) run on a coreset of the distinct colours, the best are
    refined on a finer one, and K is also started from the palette of the
    previous K plus a colour where the WCSS is worst served; the better
    palette is refined to a k-means fixed point on the exact weighted colour
    table, so every value of ``inertias_`` is the exact WCSS over all pixels.
    Should a K still end above the previous K, it is restarted from the
    previous palette plus its worst-served colour, which is strictly better:
    the curve never increases.

    **The knee** (``metric='distortion'``) is located by
    :func:`locate_knee`: kneedle [1]_ on log WCSS against log K, accepted
    when the curve falls at least 1.5 times faster before the knee than
    after. On log-log axes a curve with no characteristic K (a power law,
    as for noise) is straight, while k colour groups bend it at k wherever k
    lies in the range; kneedle on the raw WCSS, dominated by the first few
    K, answers too early. Without a knee a ``UserWarning`` is raised and the
    smallest K explaining 90% of the colour variance is returned (the
    largest K if none does); when the curve is still falling steeply at the
    largest K, the largest K is returned with a warning. A single K (or the
    first K whose WCSS is 0) is returned without a warning. Whichever rule
    chose K is recorded in ``selection_`` (``knee_found_`` is False for every
    fallback) and said in ``selection_reason_`` and in the title of
    :meth:`plot`.

    References
    ----------
    .. [1] V. Satopaa, J. Albrecht, D. Irwin and B. Raghavan, "Finding a
       'Kneedle' in a haystack: detecting knee points in system behavior",
       31st International Conference on Distributed Computing Systems
       Workshops, 2011, pp. 166-171.

    Examples
    --------
    >>> import numpy as np
    >>> from skseg.model_selection import ElbowKSelector
    >>> rng = np.random.default_rng(0)
    >>> colours = np.array(
    ...     [[230, 40, 40], [40, 200, 60], [30, 60, 220], [240, 230, 60]]
    ... )
    >>> bands = colours[np.arange(64) * 4 // 64]            # 4 vertical bands
    >>> noisy = bands + rng.normal(0, 10, (64, 64, 3))
    >>> X = np.clip(noisy, 0, 255).astype(np.uint8)[None]  # a batch of one image
    >>> selector = ElbowKSelector(random_state=0).fit(X)
    >>> selector.n_clusters_
    4
    >>> selector.k_values_
    array([ 1,  2,  3,  4,  5,  6,  7,  8,  9, 10])
    >>> bool(np.all(np.diff(selector.scores_) < 0))  # the WCSS falls with K
    True
    >>> selector.transform(X).shape
    (1, 64, 64, 3)
    >>> selector.best_estimator_.cluster_centers_.round()
    array([[ 39., 200.,  60.],
           [229.,  39.,  39.],
           [ 30.,  59., 220.],
           [239., 230.,  60.]])
    """

    _parameter_constraints: dict = {
        "k_values": ["array-like", None],
        "metric": [StrOptions(set(_METRICS))],
        "segmenter": [KMeansColorSegmenter, None],
        "random_state": ["random_state"],
        "n_jobs": [Integral, None],
    }

    def __init__(
        self,
        k_values=None,
        *,
        metric="distortion",
        segmenter=None,
        random_state=None,
        n_jobs=None,
    ):
        self.k_values = k_values
        self.metric = metric
        self.segmenter = segmenter
        self.random_state = random_state
        self.n_jobs = n_jobs

    # ------------------------------------------------------------------
    # validation

    def _template(self):
        template = (
            KMeansColorSegmenter() if self.segmenter is None else clone(self.segmenter)
        )
        template._validate_params()
        if not isinstance(template.init, str):
            raise ValueError(
                "The segmenter's init must be 'k-means++' or 'random' to try "
                "several K; an array of initial centres fixes K."
            )
        return template

    def _check_k_values(self):
        if self.k_values is None:
            return list(range(1, 11))
        ks = np.asarray(self.k_values)
        if ks.ndim != 1 or ks.size == 0:
            raise ValueError(
                "k_values must be a non-empty 1-D sequence of positive integers, "
                f"got {self.k_values!r}."
            )
        if (
            ks.dtype.kind == "f"
            and np.all(np.isfinite(ks))
            and np.all(ks == ks.round())
        ):
            ks = ks.astype(np.int64)
        if ks.dtype.kind not in "iu":
            raise ValueError(f"k_values must contain integers, got {self.k_values!r}.")
        if np.any(ks < 1):
            raise ValueError(f"k_values must be positive, got {ks.tolist()}.")
        if np.unique(ks).size != ks.size:
            raise ValueError(f"k_values must be distinct, got {ks.tolist()}.")
        return [int(k) for k in ks]

    # ------------------------------------------------------------------
    # fitting

    @_fit_context(prefer_skip_nested_validation=False)
    @dask_aware
    def fit(self, X, y=None):
        """Fit a palette for every K and choose K.

        Parameters
        ----------
        X : array-like or list of array-like
            Batch of images, first axis images: ``(n_images, height, width,
            n_channels)``, ``(n_images, height, width)``, ``(n_images,
            n_features)`` (see the segmenter's ``image_shape``), or a list of
            images of different sizes.
        y : None
            Ignored.

        Returns
        -------
        self : ElbowKSelector
            Fitted selector.
        """
        template = self._template()
        self._check_k_values()  # parameters before data
        batch = check_batch(
            X, image_shape=template.image_shape, estimator=self, reset=True
        )
        self._fit_table(count_batch(batch), batch, X)
        return self

    def __skseg_plan__(self, method, image):
        """What the dask adapter runs for ``method`` on a dask array.

        The protocol of :mod:`skseg._glue`: ``fit`` reduces the colour table
        over the blocks and fits the curve here, in the client (its scores
        use BLAS sums whose last bits depend on the thread count, and
        workers run one thread), identical to the in-memory curve.
        """
        if method != "fit":
            return None
        self._template()._check_batch(image, reset=True)  # refuse before computing
        self._check_k_values()

        def fit(table):
            return self._fit_counted(table, image)

        return TablePlan(count_block, add_tables, fit)

    def _fit_counted(self, table, image):
        # Fit on a colour table counted elsewhere (dask blocks, files);
        # ``image``: a batch of one image like the counted ones.
        from .segmentation import Counted

        template = self._template()
        self._check_k_values()
        batch = check_batch(
            image, image_shape=template.image_shape, estimator=self, reset=True
        )
        self._fit_table(table, Counted(batch, table.n_pixels), image)
        return self

    def _fit_table(self, table, batch, X):
        # The palettes of every K from the colour table of ``batch`` (the
        # checked ``X``); shared with the dask adapter, whose ``X`` stands in
        # for the images' shape.
        template = self._template()
        ks = self._clip(self._check_k_values(), table.n_colors)

        rng = check_random_state(self.random_state)
        path_seed, sample_seed = rng.randint(np.iinfo(np.int32).max, size=2)
        palettes = fit_palette_path(
            table,
            ks,
            init=template.init,
            n_init=template.n_init,
            max_iter=template.max_iter,
            tol=template.tol,
            random_state=path_seed,
            n_jobs=self.n_jobs,
        )
        inertias = np.array([p.inertia for p in palettes])
        if self.metric == "distortion":
            scores = inertias
        elif self.metric == "calinski_harabasz":
            scores = np.array([self._ch(table, p.centers) for p in palettes])
        else:
            scores = self._silhouettes(table, palettes, sample_seed)
        best, selection, reason, level = self._choose(ks, inertias, scores, table)

        self.k_values_ = np.asarray(ks)
        self.scores_ = scores
        self.inertias_ = inertias
        self.palettes_ = [p.centers for p in palettes]
        self.best_index_ = int(best)
        self.n_clusters_ = int(ks[best])
        self.selection_ = selection
        self.knee_found_ = selection == "knee"
        self.selection_reason_ = reason
        self.fallback_level_ = level
        estimator = clone(template).set_params(n_clusters=self.n_clusters_)
        if estimator.random_state is None:
            estimator.set_params(random_state=self.random_state)
        estimator._check_batch(X, reset=True)
        estimator._set_palette(palettes[best], table, batch)
        self.best_estimator_ = estimator

    def _clip(self, ks, n_colors):
        if max(ks) <= n_colors:
            return ks
        clipped = list(dict.fromkeys(min(k, n_colors) for k in ks))
        warnings.warn(
            f"k_values has values above the number of distinct colours in X "
            f"({n_colors}); they are replaced by {n_colors}: trying K in "
            f"{clipped}.",
            UserWarning,
            stacklevel=user_stacklevel(),
        )
        return clipped

    @staticmethod
    def _labels(colors, centers):
        labels = np.empty(colors.shape[0], np.int32)
        assign_labels(np.ascontiguousarray(colors), centers, labels)
        return labels

    def _ch(self, table, centers):
        if centers.shape[0] < 2:
            return np.nan
        labels = self._labels(table.colors, centers)
        return weighted_calinski_harabasz(table.colors, table.counts, labels)

    def _silhouettes(self, table, palettes, seed):
        X, w = sample_pixels(
            table.colors,
            table.counts,
            SILHOUETTE_SAMPLE_SIZE,
            np.random.RandomState(seed),
        )
        scores = np.full(len(palettes), np.nan)
        todo = [i for i, p in enumerate(palettes) if p.centers.shape[0] >= 2]
        if todo:
            labels = [self._labels(X, palettes[i].centers) for i in todo]
            scores[todo] = weighted_silhouettes(X, w, labels)
        return scores

    def _choose(self, ks, inertias, scores, table):
        """(index, selection_, selection_reason_, fallback_level_)."""
        order = np.argsort(ks)
        sorted_ks = np.asarray(ks)[order]
        if self.metric == "distortion":
            total_ss = _total_ss(table)
            index, status, bend = _knee(sorted_ks, inertias[order], total_ss)
            k = int(sorted_ks[index])
            level = None
            if status in ("upper_edge", "no_knee", "too_few"):
                reason = _knee_message(status, sorted_ks, k, bend)
                warnings.warn(reason, UserWarning, stacklevel=user_stacklevel())
                if status != "upper_edge":
                    level = (1.0 - EXPLAINED) * total_ss
            elif status == "knee":
                reason = (
                    f"Knee of the WCSS curve at K={k}: it falls {bend[1]:.2f} "
                    "times faster before than after on log-log axes (a knee "
                    f"needs {MIN_SLOPE_RATIO})."
                )
            elif status == "exact":
                reason = f"K={k} is the first K whose WCSS is 0."
            else:
                reason = f"K={k} is the only K tried."
            return int(order[index]), status, reason, level
        valid = [i for i in order if not np.isnan(scores[i])]
        if not valid:
            reason = (
                f"The {self.metric} index is undefined for every K in "
                f"{list(ks)} (it needs at least two clusters); returning the "
                f"smallest K ({min(ks)})."
            )
            if len(ks) > 1:
                warnings.warn(reason, UserWarning, stacklevel=user_stacklevel())
            return int(order[0]), "undefined", reason, None
        # The largest score; ties go to the smallest K.
        best = int(max(valid, key=lambda i: (scores[i], -ks[i])))
        reason = (
            f"K={int(ks[best])} has the largest {self.metric} index "
            f"({scores[best]:.4g})."
        )
        return best, "best_score", reason, None

    # ------------------------------------------------------------------
    # delegation

    def transform(self, X):
        """Segment ``X`` with ``best_estimator_``.

        Parameters
        ----------
        X : array-like or list of array-like
            Batch of images with the channels seen in :meth:`fit`.

        Returns
        -------
        X_out : ndarray or list of ndarray
            As :meth:`KMeansColorSegmenter.transform` with the chosen K.
        """
        check_is_fitted(self)
        return self.best_estimator_.transform(X)

    def predict(self, X):
        """Label maps of ``X`` with ``best_estimator_``.

        Parameters
        ----------
        X : array-like or list of array-like
            Batch of images with the channels seen in :meth:`fit`.

        Returns
        -------
        labels : ndarray of int32 or list of ndarray
            As :meth:`KMeansColorSegmenter.predict` with the chosen K.
        """
        check_is_fitted(self)
        return self.best_estimator_.predict(X)

    def score(self, X, y=None):
        """Score of ``best_estimator_``: minus the mean squared colour error.

        Parameters
        ----------
        X : array-like or list of array-like
            Batch of images with the channels seen in :meth:`fit`.
        y : None
            Ignored.

        Returns
        -------
        score : float
        """
        check_is_fitted(self)
        return self.best_estimator_.score(X)

    def get_feature_names_out(self, input_features=None):
        """Names of the output features of ``best_estimator_``.

        Parameters
        ----------
        input_features : array-like of str or None, default=None
            Input feature names, checked against ``feature_names_in_``.

        Returns
        -------
        feature_names_out : ndarray of str objects
        """
        check_is_fitted(self)
        return self.best_estimator_.get_feature_names_out(input_features)

    def plot(self, ax=None):
        """Plot the curve of scores against K and mark the chosen K.

        Needs matplotlib (the ``plot`` extra).

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Where to draw; ``None`` uses the current Axes.

        Returns
        -------
        ax : matplotlib Axes

        Notes
        -----
        The title says how K was chosen (``selection_``): "knee at K = 4",
        or, when the knee rule fell back, "no knee" and the fallback rule,
        whose level (10% of the total sum of squares) is drawn as a
        horizontal line.
        """
        check_is_fitted(self)
        from .plotting import plot_elbow_curve

        return plot_elbow_curve(
            self.k_values_,
            self.scores_,
            best_k=self.n_clusters_,
            metric=self.metric,
            ax=ax,
            selection=getattr(self, "selection_", None),
            fallback_level=getattr(self, "fallback_level_", None),
        )

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        template = (
            self.segmenter
            if isinstance(self.segmenter, KMeansColorSegmenter)
            else KMeansColorSegmenter()
        )
        tags.transformer_tags.preserves_dtype = list(
            template.__sklearn_tags__().transformer_tags.preserves_dtype
        )
        return tags


def _total_ss(table):
    colors = table.colors.astype(np.float64)
    w = table.counts.astype(np.float64)
    mean = (w @ colors) / w.sum()
    diff = colors - mean
    return float(w @ np.einsum("ij,ij->i", diff, diff))
