"""Plotting helpers (matplotlib, the optional ``plot`` extra).

matplotlib is imported inside the functions only, so importing skseg never
needs it.
"""

from __future__ import annotations

import numpy as np

__all__ = ["plot_elbow_curve"]

_YLABELS = {
    "distortion": "WCSS (within-cluster sum of squares)",
    "silhouette": "mean silhouette coefficient",
    "calinski_harabasz": "Calinski-Harabasz index",
}
_NAMES = {
    "distortion": "WCSS",
    "silhouette": "silhouette",
    "calinski_harabasz": "Calinski-Harabasz",
}


def _require_matplotlib():
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            "Plotting needs matplotlib: pip install 'skseg[plot]' (or pip install "
            "matplotlib)."
        ) from exc
    return plt


def plot_elbow_curve(k_values, scores, *, best_k=None, metric="distortion", ax=None):
    """Plot a score against the number of clusters K and mark the chosen K.

    The elbow plot of the tutorial: WCSS (or a cluster-separation index)
    against K, points joined in increasing K, the chosen K marked by a
    vertical dashed line and a red point, labelled ``"K = <best_k>"`` in the
    legend.

    Parameters
    ----------
    k_values : array-like of int
        Numbers of clusters.
    scores : array-like of float
        Score at each K (NaN values are left out).
    best_k : int, default=None
        The chosen K, marked if given.
    metric : {'distortion', 'silhouette', 'calinski_harabasz'} or str, \
            default='distortion'
        Names the y axis.
    ax : matplotlib Axes, default=None
        Where to draw; ``None`` uses the current Axes (``plt.gca()``).

    Returns
    -------
    ax : matplotlib Axes

    See Also
    --------
    skseg.model_selection.ElbowKSelector.plot : This plot for a fitted selector.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from skseg.plotting import plot_elbow_curve
    >>> ax = plot_elbow_curve([1, 2, 3, 4, 5], [100, 40, 10, 8, 7], best_k=3)
    >>> ax.get_xlabel()
    'number of clusters K'
    """
    plt = _require_matplotlib()
    if ax is None:
        ax = plt.gca()
    ks = np.asarray(k_values)
    ys = np.asarray(scores, dtype=np.float64)
    order = np.argsort(ks)
    ks, ys = ks[order], ys[order]
    keep = ~np.isnan(ys)
    name = _NAMES.get(metric, metric)
    ax.plot(ks[keep], ys[keep], "o-", color="C0", label=name)
    if best_k is not None:
        ax.axvline(best_k, color="C3", linestyle="--", linewidth=1)
        at = np.flatnonzero(ks == best_k)
        if at.size and keep[at[0]]:
            ax.plot(
                [best_k],
                [ys[at[0]]],
                "o",
                color="C3",
                markersize=10,
                label=f"K = {best_k}",
            )
    ax.set_xlabel("number of clusters K")
    ax.set_ylabel(_YLABELS.get(metric, metric))
    ax.set_xticks(ks)
    title = "Elbow method" if metric == "distortion" else f"{name} against K"
    if best_k is not None:
        title += f": K = {best_k}"
    ax.set_title(title)
    ax.legend()
    return ax
