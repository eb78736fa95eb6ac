"""Every route to a palette gives the same palette (issue 16).

In memory (``fit``), ``partial_fit`` over any chunking, ``fit`` on a
``dask.array`` on a LocalCluster and ``skseg segment FOLDER`` count the same
colour tables, add them with one accumulator and fit them with one strategy:
their palettes' WCSS agree within 0.5 %, for uint8 images and for float
images (HSV, with more than 2**20 pixels so that the in-memory fit takes the
float grid path).
"""

import contextlib
import io
import re

import numpy as np
import pytest
from skimage import data, transform

from skseg import ColorSpaceTransformer, KMeansColorSegmenter
from skseg.cli import main
from skseg.datasets import save_image

da = pytest.importorskip("dask.array")
distributed = pytest.importorskip("dask.distributed")

SCENES = ["astronaut", "coffee", "chelsea", "rocket", "immunohistochemistry"]
K = 8


@pytest.fixture(scope="module")
def client():
    with (
        distributed.LocalCluster(
            n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        yield client


def scenes(size):
    """One photo per scene, resized to ``size``: a scene-sorted collection."""
    return np.stack(
        [
            transform.resize(getattr(data, name)()[..., :3], size, preserve_range=True)
            .round()
            .astype(np.uint8)
            for name in SCENES
        ]
    )


def cli_wcss(folder, tmp_path, *options):
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        status = main(
            ["segment", str(folder), "-k", str(K), "--random-state", "0"]
            + ["--output", str(tmp_path / "out"), *options]
        )
    assert status == 0
    (per_pixel,) = re.findall(r"WCSS per pixel: ([0-9.e+]+)", out.getvalue())
    return float(per_pixel)


@pytest.mark.parametrize("kind", ["uint8", "float"])
def test_every_route_gives_the_same_palette(kind, client, tmp_path):
    size = (96, 128) if kind == "uint8" else (480, 480)  # 5 x 480**2 > 2**20
    photos = scenes(size)
    folder = tmp_path / "photos"
    folder.mkdir()
    for name, photo in zip(SCENES, photos):
        save_image(folder / f"{name}.png", photo)
    X = (
        photos
        if kind == "uint8"
        else ColorSpaceTransformer("hsv").fit_transform(photos)
    )
    n_pixels = X.shape[0] * X.shape[1] * X.shape[2]

    wcss = {"fit": KMeansColorSegmenter(K, random_state=0).fit(X).inertia_}
    # partial_fit: scene by scene, in both orders, and in uneven chunks
    for name, chunks in [
        ("scene by scene", [X[i : i + 1] for i in range(len(X))]),
        ("reversed", [X[i : i + 1] for i in reversed(range(len(X)))]),
        ("uneven", [X[:1], X[1:4], X[4:]]),
    ]:
        seg = KMeansColorSegmenter(K, random_state=0)
        for chunk in chunks:
            seg.partial_fit(chunk)
        true = -seg.score(X) * n_pixels
        assert seg.inertia_ == pytest.approx(true, rel=1e-3)  # never a bound
        wcss[f"partial_fit {name}"] = true
    dask_seg = KMeansColorSegmenter(K, random_state=0).fit(
        da.from_array(X, chunks=(2, -1, -1, -1))
    )
    wcss["dask"] = dask_seg.inertia_
    options = () if kind == "uint8" else ("--space", "hsv")
    wcss["cli"] = cli_wcss(folder, tmp_path, *options) * n_pixels

    values = np.array(list(wcss.values()))
    assert values.max() / values.min() <= 1.005, wcss


@pytest.mark.parametrize("chunks", [(2, -1, -1, -1), (1, 240, 240, -1)])
def test_float_dask_fit_takes_the_in_memory_pixel_path(chunks, client):
    # A float array of 2**20+ pixels: the grid coreset of its pixels and the
    # Lloyd passes, made over the blocks on the cluster, as in memory (not
    # exact k-means on a table of its distinct colours).
    X = ColorSpaceTransformer("hsv").fit_transform(scenes((480, 480)))
    assert X.shape[0] * X.shape[1] * X.shape[2] >= 2**20
    here = KMeansColorSegmenter(K, random_state=0).fit(X)
    there = KMeansColorSegmenter(K, random_state=0).fit(da.from_array(X, chunks=chunks))
    np.testing.assert_allclose(there.cluster_centers_, here.cluster_centers_, atol=1e-9)
    assert there.inertia_ == pytest.approx(here.inertia_, rel=1e-9)
    # the fitted table is the grid coreset of the pixels, as in memory
    np.testing.assert_allclose(
        there._color_table.colors, here._color_table.colors, rtol=1e-9, atol=1e-12
    )
    np.testing.assert_array_equal(there._color_table.counts, here._color_table.counts)


def test_partial_fit_refits_when_the_palette_is_read():
    # Beyond 40,000 colours partial_fit leaves the refit for the next read of
    # the palette: reads are idempotent, every way of reading (attributes,
    # predict, pickling, a copy) sees the refitted palette, and a loop that
    # reads after every chunk ends within 1 % of the loop that reads once.
    import copy
    import pickle

    X = scenes((192, 256))
    n_pixels = X.shape[0] * X.shape[1] * X.shape[2]
    fit = KMeansColorSegmenter(K, random_state=0).fit(X)

    def loop(read_each):
        seg = KMeansColorSegmenter(K, random_state=0)
        for i in range(len(X)):
            seg.partial_fit(X[i : i + 1])
            if read_each:
                seg.inertia_
        return seg

    once = loop(False)
    assert "_pending" in once.__dict__  # the refit is left for the read
    pickled = pickle.loads(pickle.dumps(once))  # settles before pickling
    assert "_pending" not in once.__dict__
    centers = once.cluster_centers_
    np.testing.assert_array_equal(once.cluster_centers_, centers)  # idempotent
    np.testing.assert_array_equal(pickled.cluster_centers_, centers)
    assert pickled.inertia_ == once.inertia_
    np.testing.assert_array_equal(copy.deepcopy(once).cluster_centers_, centers)

    # predict on a segmenter with a refit pending sees the refitted palette
    pending = loop(False)
    labels = pending.predict(X)
    np.testing.assert_array_equal(pending.cluster_centers_, centers)
    np.testing.assert_array_equal(labels, once.predict(X))

    each = loop(True)
    for seg in (once, each):
        true = -seg.score(X) * n_pixels
        assert seg.inertia_ == pytest.approx(true, rel=1e-6)
        assert true <= 1.01 * fit.inertia_


def test_a_read_during_the_pending_refit_waits_for_it(monkeypatch):
    # Two threads read a segmenter whose refit partial_fit left pending: the
    # one that comes while the other refits waits and sees the new palette,
    # never the palette from before the last chunks.
    import threading

    from skseg._engine.stream import Stream

    X = scenes((192, 256))
    seg = KMeansColorSegmenter(K, random_state=0)
    for i in range(len(X)):
        seg.partial_fit(X[i : i + 1])
    assert "_pending" in seg.__dict__
    step = Stream.step
    inside, go_on = threading.Event(), threading.Event()

    def slow_step(self, *args, **kwargs):
        inside.set()
        go_on.wait(10)
        return step(self, *args, **kwargs)

    monkeypatch.setattr(Stream, "step", slow_step)
    seen = {}
    first = threading.Thread(target=lambda: seen.update(a=seg.cluster_centers_))
    first.start()
    assert inside.wait(10)
    second = threading.Thread(target=lambda: seen.update(b=seg.predict(X[:1])))
    second.start()
    second.join(0.3)  # it must be waiting for the refit
    go_on.set()
    first.join(10)
    second.join(10)
    np.testing.assert_array_equal(seg.predict(X[:1]), seen["b"])
    np.testing.assert_array_equal(seg.cluster_centers_, seen["a"])
