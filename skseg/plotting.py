"""Plotting helpers (matplotlib, the optional ``plot`` extra).

matplotlib is imported inside the functions only, so importing skseg never
needs it.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "plot_edges",
    "plot_elbow_curve",
    "plot_pixels_3d",
    "plot_segmentation_grid",
]

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


# Titles and legend labels of the chosen K, by how it was chosen
# (ElbowKSelector.selection_).
_SELECTION_TITLES = {
    "knee": "knee at K = {k}",
    "no_knee": "no knee, fallback K = {k}",
    "too_few": "too few K for a knee, fallback K = {k}",
    "upper_edge": "no knee in range, largest K = {k}",
    "exact": "K = {k} (WCSS 0)",
    "single": "K = {k} (only K tried)",
    "best_score": "best at K = {k}",
    "undefined": "undefined, smallest K = {k}",
}
_FALLBACKS = ("no_knee", "too_few", "upper_edge", "undefined")


def plot_elbow_curve(
    k_values,
    scores,
    *,
    best_k=None,
    metric="distortion",
    ax=None,
    selection=None,
    fallback_level=None,
):
    """Plot a score against the number of clusters K and mark the chosen K.

    The elbow plot of the tutorial: WCSS (or a cluster-separation index)
    against K, points joined in increasing K, the chosen K marked by a
    vertical dashed line and a red point, labelled ``"K = <best_k>"`` in the
    legend. When K was not a knee (``selection`` names a fallback), the
    title says so, the chosen point is drawn hollow and labelled as a
    fallback, and the fallback's level is drawn.

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
    selection : str, default=None
        How ``best_k`` was chosen, as
        ``ElbowKSelector.selection_``:
        ``'knee'``, a fallback (``'no_knee'``, ``'too_few'``,
        ``'upper_edge'``, ``'undefined'``), ``'exact'``, ``'single'`` or
        ``'best_score'``. Shown in the title; ``None`` gives the plain
        title ``"Elbow method: K = <best_k>"``.
    fallback_level : float, default=None
        The score below which the fallback rule takes the smallest K, drawn
        as a dotted horizontal line.

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
    >>> ax = plot_elbow_curve(
    ...     [1, 2, 3, 4, 5], [100, 60, 35, 20, 9], best_k=5,
    ...     selection="no_knee", fallback_level=10.0,
    ... )
    >>> ax.get_title()
    'Elbow method: no knee, fallback K = 5'
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
    fallback = selection in _FALLBACKS
    if fallback_level is not None:
        ax.axhline(
            fallback_level,
            color="0.4",
            linestyle=":",
            linewidth=1,
            label="fallback: 10% of total SS",
        )
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
                markerfacecolor="none" if fallback else "C3",
                markeredgewidth=2,
                label=f"K = {best_k}" + (" (fallback)" if fallback else ""),
            )
    ax.set_xlabel("number of clusters K")
    ax.set_ylabel(_YLABELS.get(metric, metric))
    ax.set_xticks(ks)
    title = "Elbow method" if metric == "distortion" else f"{name} against K"
    if best_k is not None:
        what = _SELECTION_TITLES.get(selection, "K = {k}")
        title += ": " + what.format(k=best_k)
    ax.set_title(title)
    ax.legend()
    return ax


# ----------------------------------------------------------------------
# the tutorial's figures


def _one_image(image, what="image"):
    image = np.asarray(image)
    if image.ndim == 4:
        raise ValueError(
            f"{what} must be one image (height, width[, channels]), got a batch "
            f"of shape {image.shape}; pass one of its images, e.g. X[0]."
        )
    if image.ndim not in (2, 3) or image.size == 0:
        raise ValueError(
            f"{what} must be one image of shape (height, width) or (height, "
            f"width, channels), got shape {image.shape}."
        )
    if image.dtype.kind not in "biuf":
        raise TypeError(f"{what} must be numeric, got dtype {image.dtype}.")
    return image


def _displayable(image):
    """``image`` as floats in [0, 1] (integers divided by their dtype's max)."""
    if image.dtype == np.bool_:
        return image.astype(np.float64)
    if image.dtype.kind in "iu":
        return image / float(np.iinfo(image.dtype).max)
    return np.clip(image, 0.0, 1.0)


def plot_pixels_3d(
    image,
    labels=None,
    *,
    ax=None,
    max_points=5000,
    random_state=0,
    colors=None,
    axis_labels=("R", "G", "B"),
):
    """Plot the pixels of an image as points in its 3-D colour space.

    The tutorial's first figure: every pixel is a point whose coordinates are
    its three channel values, coloured by its own colour, or by its cluster
    when ``labels`` is given. A random subset of at most ``max_points``
    pixels is drawn, chosen with ``random_state``.

    Parameters
    ----------
    image : array-like of shape (height, width, 3)
        One image (not a batch) with three channels: RGB, or the output of a
        colour-space conversion (then pass the RGB image as ``colors``).
    labels : array-like of int of shape (height, width), default=None
        Cluster of every pixel (e.g. ``KMeansColorSegmenter.predict``); the
        points are then coloured by cluster (``tab10`` colours).
    ax : matplotlib Axes3D, default=None
        Where to draw, created with ``projection="3d"``; ``None`` makes a new
        figure.
    max_points : int, default=5000
        Largest number of points drawn.
    random_state : int, RandomState instance or None, default=0
        Chooses the pixels drawn.
    colors : array-like of shape (height, width, 3), default=None
        RGB image whose colours the points get (when ``labels`` is None);
        ``None`` uses ``image`` itself. Integer images are divided by their
        dtype's maximum, floats are clipped to [0, 1].
    axis_labels : tuple of 3 str, default=('R', 'G', 'B')
        Names of the three axes.

    Returns
    -------
    ax : matplotlib Axes3D
        The Axes; its only collection holds the points.

    See Also
    --------
    plot_segmentation_grid : The segmented image for several K.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from skseg.datasets import load_sample_image
    >>> from skseg.plotting import plot_pixels_3d
    >>> ax = plot_pixels_3d(load_sample_image("astronaut"), max_points=1000)
    >>> len(ax.collections[0].get_offsets())
    1000
    """
    from sklearn.utils import check_random_state

    plt = _require_matplotlib()
    image = _one_image(image)
    if image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(
            f"plot_pixels_3d needs an image with 3 channels, got shape {image.shape}."
        )
    if not (isinstance(max_points, int | np.integer) and max_points > 0):
        raise ValueError(f"max_points must be a positive int, got {max_points!r}.")
    h, w = image.shape[:2]
    points = image.reshape(-1, 3)
    n = points.shape[0]
    rng = check_random_state(random_state)
    keep = np.sort(rng.choice(n, max_points, replace=False)) if n > max_points else None
    if keep is not None:
        points = points[keep]
    if labels is not None:
        labels = np.asarray(labels)
        if labels.shape != (h, w):
            raise ValueError(
                f"labels must have the image's shape {(h, w)}, got {labels.shape}."
            )
        labels = labels.reshape(-1) if keep is None else labels.reshape(-1)[keep]
        cmap = plt.get_cmap("tab10")
        point_colors = cmap(labels % cmap.N)
    else:
        source = image if colors is None else _one_image(colors, "colors")
        if source.shape != (h, w, 3):
            raise ValueError(
                f"colors must be an RGB image of shape {(h, w, 3)}, got {source.shape}."
            )
        point_colors = _displayable(source).reshape(-1, 3)
        if keep is not None:
            point_colors = point_colors[keep]
    if ax is None:
        ax = plt.figure().add_subplot(projection="3d")
    elif getattr(ax, "name", None) != "3d":
        raise ValueError(
            "ax must be a 3-D Axes, e.g. fig.add_subplot(projection='3d')."
        )
    pts = points.astype(np.float64)
    ax.scatter(pts[:, 0], pts[:, 1], pts[:, 2], c=point_colors, s=2, depthshade=False)
    ax.set_xlabel(axis_labels[0])
    ax.set_ylabel(axis_labels[1])
    ax.set_zlabel(axis_labels[2])
    shown = n if keep is None else max_points
    ax.set_title(f"{shown} of {n} pixels")
    return ax


def plot_segmentation_grid(
    image, k_values=(3, 5, 7), *, segmenter=None, random_state=0, figsize=None
):
    """Show an image next to its K-Means colour segmentation for several K.

    The tutorial's figure: the original, then the segmented image
    (``output="quantized"``: every pixel replaced by its cluster colour) for
    each K in ``k_values``, each titled with K and its WCSS per pixel.

    Parameters
    ----------
    image : array-like of shape (height, width) or (height, width, channels)
        One image (not a batch).
    k_values : sequence of int, default=(3, 5, 7)
        Numbers of colours, one panel each.
    segmenter : KMeansColorSegmenter, default=None
        Template (cloned, never modified) whose ``n_clusters`` is set to each
        K and ``output`` to ``'quantized'``; ``None`` means
        ``KMeansColorSegmenter(random_state=random_state)``.
    random_state : int, RandomState instance or None, default=0
        Seed of the default segmenter.
    figsize : tuple of float, default=None
        Figure size in inches; ``None`` gives 3 inches per panel.

    Returns
    -------
    fig : matplotlib Figure
        One row of ``1 + len(k_values)`` Axes: the original, then one per K,
        in order.

    See Also
    --------
    skseg.KMeansColorSegmenter : The segmenter drawn.
    plot_elbow_curve : Choosing K.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from skseg.datasets import load_sample_image
    >>> from skseg.plotting import plot_segmentation_grid
    >>> image = load_sample_image("astronaut")[::8, ::8]
    >>> fig = plot_segmentation_grid(image, k_values=(2, 4))
    >>> [ax.get_title().split(" (")[0] for ax in fig.axes]
    ['original', 'K = 2', 'K = 4']
    """
    from sklearn.base import clone

    from .segmentation import KMeansColorSegmenter

    plt = _require_matplotlib()
    image = _one_image(image)
    k_values = [int(k) for k in k_values]
    if not k_values:
        raise ValueError("k_values must contain at least one K.")
    template = (
        KMeansColorSegmenter(random_state=random_state)
        if segmenter is None
        else clone(segmenter)
    )
    n_panels = 1 + len(k_values)
    if figsize is None:
        figsize = (3.0 * n_panels, 3.0 * image.shape[0] / image.shape[1] + 0.6)
    fig, axes = plt.subplots(1, n_panels, figsize=figsize, squeeze=False)
    axes = axes[0]
    gray = image.ndim == 2 or image.shape[2] == 1
    show = {"cmap": "gray", "vmin": 0, "vmax": 1} if gray else {}

    def draw(ax, im, title):
        im = _displayable(im)
        ax.imshow(im[..., 0] if im.ndim == 3 and gray else im, **show)
        ax.set_title(title)
        ax.set_axis_off()

    draw(axes[0], image, "original")
    batch = image[None] if image.ndim == 3 else image[None, ..., None]
    for ax, k in zip(axes[1:], k_values):
        seg = clone(template).set_params(n_clusters=k, output="quantized")
        segmented = seg.fit_transform(batch)[0]
        n_pixels = image.shape[0] * image.shape[1]
        draw(ax, segmented, f"K = {k} (WCSS/pixel {seg.inertia_ / n_pixels:.4g})")
    fig.tight_layout()
    return fig


# Overlay colours plot_edges chooses from (RGB in [0, 1]).
_OVERLAY_COLOURS = {
    "red": (1.0, 0.0, 0.0),
    "lime": (0.0, 1.0, 0.0),
    "blue": (0.0, 0.3, 1.0),
    "cyan": (0.0, 1.0, 1.0),
    "magenta": (1.0, 0.0, 1.0),
    "yellow": (1.0, 1.0, 0.0),
}


def _overlay_colour(shown, edges):
    """The colour of :data:`_OVERLAY_COLOURS` farthest from the image at the edges.

    ``shown`` is the image in [0, 1] (gray or RGB); the distance is the mean
    RGB distance to (a sample of) the pixels under the edges, or to every
    pixel when there is no edge.
    """
    rgb = shown if shown.ndim == 3 else shown[..., None].repeat(3, axis=2)
    under = rgb[edges] if edges.any() else rgb.reshape(-1, 3)
    if under.shape[0] > 20000:
        under = under[:: under.shape[0] // 20000 + 1]
    under = under.astype(np.float64)
    best = max(
        _OVERLAY_COLOURS.values(),
        key=lambda c: np.linalg.norm(under - np.asarray(c), axis=1).mean(),
    )
    return best


def plot_edges(image, edges, *, ax=None, color=None, alpha=1.0):
    """Draw an edge map over its image.

    Parameters
    ----------
    image : array-like of shape (height, width) or (height, width, 3)
        One image (not a batch): grayscale or RGB.
    edges : array-like of bool of shape (height, width)
        Its edge map (e.g. one image of ``CannyEdgeExtractor().transform``).
    ax : matplotlib Axes, default=None
        Where to draw; ``None`` uses the current Axes (``plt.gca()``).
    color : color, default=None
        Colour of the edge pixels (any matplotlib colour). ``None`` picks
        the one that stands out most on this image: among red, lime, blue,
        cyan, magenta and yellow, the farthest (mean RGB distance) from the
        image's colours under the edges (red edges vanish on a red flower,
        lime ones on grass). Give a colour to use the same one on every
        image of a figure.
    alpha : float, default=1.0
        Opacity of the edge pixels.

    Returns
    -------
    ax : matplotlib Axes
        The Axes, with two images: ``image``, then the edges as an RGBA
        layer that is transparent off the edges.

    See Also
    --------
    skseg.CannyEdgeExtractor : Edge maps of a batch of images.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import numpy as np
    >>> from skseg import CannyEdgeExtractor
    >>> from skseg.plotting import plot_edges
    >>> image = np.zeros((16, 16), np.uint8)
    >>> image[4:12, 4:12] = 200
    >>> edges = CannyEdgeExtractor().fit_transform(image[None])[0]
    >>> ax = plot_edges(image, edges)
    >>> len(ax.get_images())
    2
    >>> red = np.zeros((16, 16, 3))
    >>> red[..., 0] = 1.0
    >>> ax = plot_edges(red, edges)  # red edges would not show: another colour
    >>> ax.get_images()[-1].get_array()[edges][0, :3].tolist()
    [0.0, 1.0, 1.0]
    """
    from matplotlib.colors import to_rgba

    plt = _require_matplotlib()
    image = _one_image(image)
    edges = np.asarray(edges)
    if edges.shape != image.shape[:2]:
        raise ValueError(
            f"edges must have the image's height and width {image.shape[:2]}, "
            f"got shape {edges.shape}."
        )
    if ax is None:
        ax = plt.gca()
    shown = _displayable(image)
    if shown.ndim == 3 and shown.shape[2] == 1:
        shown = shown[..., 0]
    if shown.ndim == 2:
        ax.imshow(shown, cmap="gray", vmin=0, vmax=1)
    else:
        ax.imshow(shown)
    edges = edges.astype(bool)
    if color is None:
        color = _overlay_colour(shown, edges)
    layer = np.zeros(edges.shape + (4,))
    layer[edges] = to_rgba(color, alpha)
    ax.imshow(layer)
    ax.set_axis_off()
    return ax
