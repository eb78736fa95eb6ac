"""The tutorial's figures as plotting helpers (skseg.plotting), on Agg."""

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from skseg import CannyEdgeExtractor, KMeansColorSegmenter
from skseg.datasets import load_sample_image

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from skseg.plotting import (  # noqa: E402
    plot_edges,
    plot_pixels_3d,
    plot_segmentation_grid,
)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def small():
    return load_sample_image("astronaut")[::16, ::16]  # (32, 32, 3) uint8


# --- plot_pixels_3d ----------------------------------------------------------


def _face_colors(ax):
    """RGBA of the drawn points, as a sorted multiset of rows.

    mplot3d sorts the points by depth when it draws them (and reports one
    colour less before the first draw), so colours are compared as sets.
    """
    ax.figure.canvas.draw()
    faces = np.asarray(ax.collections[0].get_facecolors())
    return _sorted_rows(faces)


def _sorted_rows(a):
    a = np.asarray(a, dtype=np.float64)
    return a[np.lexsort(a.T[::-1])]


def test_pixels_3d_draws_every_pixel_in_its_own_colour(small):
    ax = plot_pixels_3d(small, max_points=10_000)
    assert ax.name == "3d"
    (points,) = ax.collections
    xyz = np.column_stack(points._offsets3d)
    assert xyz.shape == (32 * 32, 3)
    assert_array_equal(xyz, small.reshape(-1, 3))  # coordinates are the channels
    assert_allclose(_face_colors(ax)[:, :3], _sorted_rows(small.reshape(-1, 3) / 255))
    assert [ax.get_xlabel(), ax.get_ylabel(), ax.get_zlabel()] == ["R", "G", "B"]


def test_pixels_3d_subsamples_with_a_seed(small):
    a = np.column_stack(plot_pixels_3d(small, max_points=100).collections[0]._offsets3d)
    b = np.column_stack(plot_pixels_3d(small, max_points=100).collections[0]._offsets3d)
    c = plot_pixels_3d(small, max_points=100, random_state=1).collections[0]
    assert a.shape == (100, 3)
    assert_array_equal(a, b)
    assert not np.array_equal(a, np.column_stack(c._offsets3d))
    # the drawn points are pixels of the image
    pixels = {tuple(p) for p in small.reshape(-1, 3)}
    assert all(tuple(p) in pixels for p in a.astype(np.uint8))


def test_pixels_3d_colours_by_cluster(small):
    seg = KMeansColorSegmenter(3, random_state=0).fit(small[None])
    labels = seg.predict(small[None])[0]
    ax = plot_pixels_3d(small, labels, max_points=10_000)
    faces = _face_colors(ax)
    tab10 = plt.get_cmap("tab10")
    assert_allclose(faces, _sorted_rows(tab10(labels.reshape(-1))))
    assert len({tuple(f) for f in faces}) == 3


def test_pixels_3d_after_a_colour_conversion_keeps_the_rgb_colours(small):
    from skseg import ColorSpaceTransformer

    hsv = ColorSpaceTransformer("hsv").fit_transform(small[None])[0]
    ax = plot_pixels_3d(hsv, colors=small, axis_labels=("H", "S", "V"))
    xyz = np.column_stack(ax.collections[0]._offsets3d)
    assert xyz.max() <= 1.0
    assert_allclose(_face_colors(ax)[:, :3], _sorted_rows(small.reshape(-1, 3) / 255))
    assert ax.get_zlabel() == "V"


def test_pixels_3d_draws_on_a_given_axes(small):
    fig = plt.figure()
    ax = fig.add_subplot(projection="3d")
    assert plot_pixels_3d(small, ax=ax) is ax
    with pytest.raises(ValueError, match=r"ax must be a 3-D Axes"):
        plot_pixels_3d(small, ax=fig.add_subplot(2, 2, 1))


@pytest.mark.parametrize(
    "image, kwargs, error, match",
    [
        (np.zeros((2, 4, 4, 3)), {}, ValueError, r"one image.*X\[0\]"),
        (np.zeros((4, 4)), {}, ValueError, r"3 channels, got shape \(4, 4\)"),
        (np.zeros((4, 4, 4)), {}, ValueError, r"3 channels"),
        (np.zeros((4, 4, 3)), {"labels": np.zeros((4, 5))}, ValueError, "labels"),
        (np.zeros((4, 4, 3)), {"colors": np.zeros((4, 4))}, ValueError, "colors"),
        (np.zeros((4, 4, 3)), {"max_points": 0}, ValueError, "max_points"),
        (np.full((4, 4, 3), "a"), {}, TypeError, "numeric"),
    ],
)
def test_pixels_3d_errors(image, kwargs, error, match):
    with pytest.raises(error, match=match):
        plot_pixels_3d(image, **kwargs)


# --- plot_segmentation_grid --------------------------------------------------


def test_segmentation_grid_shows_the_original_and_each_k(small):
    fig = plot_segmentation_grid(small, k_values=(2, 4))
    assert len(fig.axes) == 3
    titles = [ax.get_title() for ax in fig.axes]
    assert titles[0] == "original"
    assert titles[1].startswith("K = 2 (WCSS/pixel ")
    assert titles[2].startswith("K = 4 (WCSS/pixel ")
    assert_allclose(fig.axes[0].get_images()[0].get_array(), small / 255)
    for ax, k in zip(fig.axes[1:], (2, 4)):
        expected = KMeansColorSegmenter(k, random_state=0).fit_transform(small[None])
        shown = np.asarray(ax.get_images()[0].get_array())
        assert_allclose(shown, expected[0] / 255)
        assert len(np.unique(shown.reshape(-1, 3), axis=0)) == k


def test_segmentation_grid_uses_a_template_without_changing_it(small):
    template = KMeansColorSegmenter(n_clusters=9, output="labels", n_init=1)
    fig = plot_segmentation_grid(small, k_values=[3], segmenter=template)
    assert template.get_params()["n_clusters"] == 9
    assert not hasattr(template, "cluster_centers_")
    assert fig.axes[1].get_images()[0].get_array().shape == small.shape


def test_segmentation_grid_on_a_gray_image():
    camera = load_sample_image("camera")[::16, ::16]
    fig = plot_segmentation_grid(camera, k_values=(2,))
    image = fig.axes[1].get_images()[0]
    assert image.get_array().shape == camera.shape
    assert image.get_cmap().name == "gray"
    assert len(np.unique(image.get_array())) == 2


def test_segmentation_grid_errors(small):
    with pytest.raises(ValueError, match="at least one K"):
        plot_segmentation_grid(small, k_values=())
    with pytest.raises(ValueError, match=r"one image.*X\[0\]"):
        plot_segmentation_grid(small[None])


# --- plot_edges --------------------------------------------------------------


@pytest.mark.parametrize("gray", [False, True])
def test_edges_are_drawn_over_the_image(small, gray):
    image = small[..., 0] if gray else small
    edges = CannyEdgeExtractor().fit_transform(image[None])[0]
    assert edges.any() and not edges.all()
    ax = plot_edges(image, edges, color="lime", alpha=0.5)
    base, layer = ax.get_images()
    assert_allclose(base.get_array(), image / 255)
    rgba = np.asarray(layer.get_array())
    assert_array_equal(rgba[..., 3] > 0, edges)  # opaque exactly on the edges
    assert_allclose(rgba[edges], [[0, 1, 0, 0.5]] * int(edges.sum()))


def test_edges_use_the_current_axes_and_check_shapes(small):
    fig, ax = plt.subplots()
    edges = np.zeros(small.shape[:2], bool)
    assert plot_edges(small, edges) is ax
    with pytest.raises(ValueError, match=r"height and width \(32, 32\)"):
        plot_edges(small, edges[:, :5])


def test_figures_render(small, tmp_path):
    # The three helpers draw something that saves to PNG.
    fig = plt.figure(figsize=(9, 3))
    plot_pixels_3d(small, ax=fig.add_subplot(1, 3, 1, projection="3d"))
    edges = CannyEdgeExtractor().fit_transform(small[None])[0]
    plot_edges(small, edges, ax=fig.add_subplot(1, 3, 2))
    fig.savefig(tmp_path / "a.png")
    plot_segmentation_grid(small, k_values=(3,)).savefig(tmp_path / "b.png")
    assert (tmp_path / "a.png").stat().st_size > 1000
    assert (tmp_path / "b.png").stat().st_size > 1000
