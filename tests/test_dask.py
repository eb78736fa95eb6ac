"""Dask arrays as batches, on a LocalCluster of 2 worker processes.

Every estimator gives on a ``dask.array.Array`` what it gives in memory:
fits from colour tables reduced over the blocks (identical palettes),
transforms as lazy dask arrays with the input's blocks.
"""

import subprocess
import sys
import warnings

import dask
import dask.array as da
import numpy as np
import pytest
from dask.distributed import Client, LocalCluster
from numpy.testing import assert_allclose, assert_array_equal

from skseg import (
    CannyEdgeExtractor,
    ColorSpaceTransformer,
    ElbowKSelector,
    KMeansColorSegmenter,
)
from skseg.datasets import load_sample_image


@pytest.fixture(scope="module")
def client():
    with (
        LocalCluster(
            n_workers=2,
            processes=True,
            threads_per_worker=1,
            dashboard_address=None,
        ) as cluster,
        Client(cluster) as client,
    ):
        yield client


@pytest.fixture(scope="module")
def photos():
    """Twelve different 40x56 crops of two sample photos, uint8 RGB."""
    sources = [load_sample_image("astronaut"), load_sample_image("coffee")]
    crops = [
        sources[i % 2][17 * i : 17 * i + 40, 23 * i : 23 * i + 56] for i in range(12)
    ]
    return np.stack(crops)


def _lazy(a, X):
    # a lazy result, blocks aligned with the input's images
    assert isinstance(a, da.Array)
    assert a.chunks[0] == X.chunks[0]
    return a.compute()


def test_import_skseg_and_in_memory_use_never_import_dask():
    code = (
        "import sys, numpy as np, skseg\n"
        "from skseg import KMeansColorSegmenter, CannyEdgeExtractor\n"
        "X = np.random.default_rng(0).integers(0, 255, (2, 8, 8, 3), np.uint8)\n"
        "KMeansColorSegmenter(2, random_state=0).fit(X).transform(X)\n"
        "CannyEdgeExtractor().transform(X)\n"
        "print([m for m in sys.modules if m.split('.')[0] in ('dask', 'distributed')])"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]"


def test_fit_counts_tables_on_the_workers(client, photos):
    from dask.distributed import get_task_stream

    X = da.from_array(photos, chunks=(3, -1, -1, -1))
    with get_task_stream(client) as stream:
        KMeansColorSegmenter(4, random_state=0).fit(X)
    names = [
        task["key"][0] if isinstance(task["key"], tuple) else task["key"]
        for task in stream.data
    ]
    assert sum(name.startswith("_block_table") for name in names) == 4
    assert any(name.startswith("add_tables") for name in names)
    assert {task["worker"] for task in stream.data} <= set(
        client.scheduler_info()["workers"]
    )


@pytest.mark.parametrize(
    "chunks", [(3, -1, -1, -1), (5, -1, -1, -1), (4, 15, 20, -1), (6, -1, -1, 2)]
)
def test_fit_gives_the_in_memory_palette(client, photos, chunks):
    X = da.from_array(photos, chunks=chunks)
    mem = KMeansColorSegmenter(5, random_state=0).fit(photos)
    dist = KMeansColorSegmenter(5, random_state=0).fit(X)
    assert_array_equal(dist.cluster_centers_, mem.cluster_centers_)
    assert dist.inertia_ == mem.inertia_
    assert dist.n_channels_in_ == 3 and not hasattr(dist, "n_features_in_")
    # the reduced table is the in-memory one, colour for colour
    table = dist._color_table.fetch()
    assert_array_equal(table.colors, mem._color_table.colors)
    assert_array_equal(table.counts, mem._color_table.counts)


@pytest.mark.parametrize("kind", ["gray", "float32", "bool"])
def test_fit_other_dtypes_and_grayscale(client, photos, kind):
    if kind == "gray":
        images = photos[..., 1]
    elif kind == "float32":
        images = (photos[:4, :20, :20] / 255).astype(np.float32)
    else:
        images = photos[..., 0] > 100
    X = da.from_array(images, chunks=(3,) + (-1,) * (images.ndim - 1))
    mem = KMeansColorSegmenter(2, random_state=0).fit(images)
    dist = KMeansColorSegmenter(2, random_state=0).fit(X)
    assert_array_equal(dist.cluster_centers_, mem.cluster_centers_)
    assert_array_equal(_lazy(dist.transform(X), X), mem.transform(images))


@pytest.mark.parametrize("output", ["quantized", "labels", "distances", "histogram"])
@pytest.mark.parametrize("per_image", [False, True])
def test_transform_is_lazy_and_equals_in_memory(client, photos, output, per_image):
    X = da.from_array(photos, chunks=(5, -1, -1, -1))
    params = {"output": output, "per_image": per_image, "random_state": 0}
    mem = KMeansColorSegmenter(4, **params).fit(photos)
    dist = KMeansColorSegmenter(4, **params).fit(X)
    lazy = dist.transform(X)
    expected = mem.transform(photos)
    assert lazy.shape == expected.shape and lazy.dtype == expected.dtype
    if output == "histogram":
        assert lazy.chunks == (X.chunks[0], (4,))
    assert_array_equal(_lazy(lazy, X), expected)
    assert_array_equal(_lazy(dist.predict(X), X), mem.predict(photos))
    assert_allclose(dist.score(X), mem.score(photos), rtol=1e-12)


def test_fit_transform_and_grayscale_batches(client, photos):
    gray = photos[..., 0]
    X = da.from_array(gray, chunks=(4, -1, -1))
    mem = KMeansColorSegmenter(3, output="distances", random_state=0)
    expected = mem.fit_transform(gray)
    lazy = KMeansColorSegmenter(3, output="distances", random_state=0).fit_transform(X)
    assert lazy.shape == expected.shape == gray.shape + (3,)
    assert_array_equal(_lazy(lazy, X), expected)


def test_spatially_chunked_input_is_rechunked_into_whole_images(client, photos):
    X = da.from_array(photos, chunks=(4, 20, 28, 3))
    seg = KMeansColorSegmenter(4, random_state=0).fit(photos)
    lazy = seg.transform(X)
    assert lazy.chunks[1:] == ((40,), (56,), (3,))
    assert_array_equal(lazy.compute(), seg.transform(photos))


def test_partial_fit_over_dask_chunks(client, photos):
    mem = KMeansColorSegmenter(4, random_state=0)
    dist = KMeansColorSegmenter(4, random_state=0)
    for start in (0, 5):
        mem.partial_fit(photos[start : start + 5])
        dist.partial_fit(
            da.from_array(photos[start : start + 5], chunks=(2, -1, -1, -1))
        )
    assert_array_equal(dist.cluster_centers_, mem.cluster_centers_)
    with pytest.raises(ValueError, match="X has 1 channel"):
        dist.partial_fit(da.from_array(photos[..., 0], chunks=(2, -1, -1)))


@pytest.mark.parametrize("metric", ["distortion", "silhouette", "calinski_harabasz"])
def test_elbow_gives_the_in_memory_curve(client, photos, metric):
    X = da.from_array(photos, chunks=(4, -1, -1, -1))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # no knee on tiny crops
        mem = ElbowKSelector(k_values=range(1, 7), metric=metric, random_state=0)
        mem.fit(photos)
        dist = ElbowKSelector(k_values=range(1, 7), metric=metric, random_state=0)
        dist.fit(X)
    assert_array_equal(dist.scores_, mem.scores_)
    assert dist.n_clusters_ == mem.n_clusters_
    assert_array_equal(
        dist.best_estimator_.cluster_centers_, mem.best_estimator_.cluster_centers_
    )
    assert_array_equal(_lazy(dist.predict(X), X), mem.predict(photos))


@pytest.mark.parametrize("gray", [False, True])
def test_canny_is_lazy_and_identical(client, photos, gray):
    images = photos[..., 0] if gray else photos
    X = da.from_array(images, chunks=(5,) + (-1,) * (images.ndim - 1))
    canny = CannyEdgeExtractor(sigma=1.5, low_threshold=20, high_threshold=40)
    lazy = canny.fit_transform(X)
    assert lazy.dtype == bool and lazy.shape == photos.shape[:3]
    assert_array_equal(_lazy(lazy, X), canny.transform(images))


@pytest.mark.parametrize("space", ["hsv", "lab", "gray"])
def test_color_conversion_is_lazy_and_identical(client, photos, space):
    X = da.from_array(photos, chunks=(5, -1, -1, -1))
    conv = ColorSpaceTransformer(space).fit(X)
    lazy = conv.transform(X)
    expected = conv.transform(photos)
    assert lazy.dtype == expected.dtype and lazy.shape == expected.shape
    assert_array_equal(_lazy(lazy, X), expected)
    back = conv.inverse_transform(lazy)
    assert_array_equal(_lazy(back, X), conv.inverse_transform(expected))


def test_errors_are_raised_before_computing(client, photos):
    X = da.from_array(photos, chunks=(4, -1, -1, -1))
    with pytest.raises(ValueError, match="must have shape .*got 2-D"):
        KMeansColorSegmenter(2).fit(X.reshape(12, -1))
    seg = KMeansColorSegmenter(3, random_state=0).fit(X)
    with pytest.raises(ValueError, match="X has 4 channel"):
        seg.transform(da.concatenate([X, X[..., :1]], axis=3))
    with pytest.raises(ValueError, match="needs grayscale .* or RGB"):
        CannyEdgeExtractor().transform(da.concatenate([X, X[..., :1]], axis=3))
    with pytest.raises(ValueError, match="empty batch"):
        KMeansColorSegmenter(2).fit(X[:0])


def test_bad_pixels_are_reported_from_the_workers(client, photos):
    bad = (photos / 255.0).copy()
    bad[7, 3, 3, 0] = np.nan
    with pytest.raises(ValueError, match="NaN or infinity"):
        KMeansColorSegmenter(2).fit(da.from_array(bad, chunks=(4, -1, -1, -1)))


def test_dask_array_where_none_is_taken_is_refused(client, photos):
    # A method without a dask path never gathers the pixels silently.
    from skseg.metrics import calinski_harabasz_scorer

    X = da.from_array(photos, chunks=(4, -1, -1, -1))
    seg = KMeansColorSegmenter(2, random_state=0).fit(photos)
    with pytest.raises(TypeError, match=r"call X.compute\(\) first"):
        calinski_harabasz_scorer(seg, X)


def test_graph_holds_no_client_side_pixels(photos):
    # The fit's graph is built from the blocks: computing it with the
    # synchronous scheduler touches each block once and returns a table.
    from skseg import _dask

    calls = []

    def block(i):
        calls.append(i)
        return photos[3 * i : 3 * i + 3]

    X = da.concatenate(
        [
            da.from_delayed(dask.delayed(block)(i), (3, 40, 56, 3), np.uint8)
            for i in range(4)
        ]
    )
    from skseg._engine.tables import add_tables, count_block
    from skseg._glue import TablePlan

    plan = TablePlan(count_block, add_tables, None)
    with dask.config.set(scheduler="sync"):
        (table,) = dask.compute(_dask.color_table(X, plan))
    assert sorted(calls) == [0, 1, 2, 3]
    assert table.n_pixels == photos.shape[0] * 40 * 56


def test_warnings_of_the_fit_on_a_worker_reach_the_caller(client):
    two = np.zeros((4, 8, 8, 3), np.uint8)
    two[:, :4] = (200, 10, 10)
    X = da.from_array(two, chunks=(2, -1, -1, -1))
    with pytest.warns(UserWarning, match=r"n_clusters=3 is larger than the number"):
        seg = KMeansColorSegmenter(3, random_state=0).fit(X)
    assert seg.n_clusters_ == 2
    # the table stays on the cluster until partial_fit continues from it
    assert seg._color_table.fetch().n_colors == 2
    with pytest.warns(UserWarning, match="n_clusters=3 is larger"):
        seg.partial_fit(X)
    assert seg._color_table.counts.sum() == 2 * two[..., 0].size


def test_a_fitted_estimator_pickles_without_the_cluster(client, photos):
    import pickle

    X = da.from_array(photos, chunks=(4, -1, -1, -1))
    seg = KMeansColorSegmenter(3, random_state=0).fit(X)
    copy = pickle.loads(pickle.dumps(seg))
    assert_array_equal(copy._color_table.colors, seg._color_table.fetch().colors)
    assert_array_equal(copy.predict(photos), seg.predict(photos))
