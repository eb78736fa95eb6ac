"""Client memory of a fit on a dask array spread over a LocalCluster.

4,000 photos of 256x256 (786 MB of uint8 pixels) are generated lazily, one
block of photos per task, on a ``dask.distributed.LocalCluster`` of 2
worker processes (crops, flips and colour jitter of the bundled sample
photos, see ``_collection.py``). ``KMeansColorSegmenter(8).fit(X)`` counts a
colour table per block on the workers and merges the tables in a tree; the
palette is fitted once on the worker holding the merged table, and only the
fitted estimator reaches this process (the client).

Measured in the same run:

- the client's peak resident memory (``VmHWM`` of this process) over the
  whole run (cluster start, a warm-up fit, the fit), and the fit's wall time;
- the peer: the same photos gathered into the client (``X.compute()``) and
  fitted in memory, in a child process (what a fit on a dask array did
  before the adapter: it converted the array with ``np.asarray``);
- that both give the same ``cluster_centers_``.

Acceptance (issue 12): client peak < 400 MB.

Run: ``python benchmarks/bench_dask.py [--photos 4000] [--json out.json]``.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np
from _common import (  # noqa: I001 - benchmarks/ is on sys.path
    BENCH_DIR,
    REPO_ROOT,
    child_report,
    environment,
    finish,
    format_environment,
    format_table,
    peak_rss_mb,
    run_child,
    section,
    verdict,
)

SIZE = 256
PER_BLOCK = 100


def lazy_photos(n_photos):
    """A dask array of ``n_photos`` generated photos, ``PER_BLOCK`` per block."""
    import dask.array as da

    def generate(block_info=None):
        from _collection import make_photos

        (start, stop), *_ = block_info[None]["array-location"]
        return make_photos(start, stop, SIZE, SIZE, seed=4)

    sizes = [PER_BLOCK] * (n_photos // PER_BLOCK)
    if n_photos % PER_BLOCK:
        sizes.append(n_photos % PER_BLOCK)
    chunks = (tuple(sizes), (SIZE,), (SIZE,), (3,))
    return da.map_blocks(generate, dtype=np.uint8, chunks=chunks)


def _cluster():
    from dask.distributed import Client, LocalCluster

    cluster = LocalCluster(
        n_workers=2,
        processes=True,
        threads_per_worker=1,
        dashboard_address=None,
        memory_limit="4GB",
    )
    return cluster, Client(cluster)


def gathered_child(n_photos):
    """Child: gather every pixel into this process, then fit in memory."""
    import dask

    from skseg import KMeansColorSegmenter

    with dask.config.set(scheduler="threads", num_workers=2):
        X = lazy_photos(n_photos).compute()
    t0 = time.perf_counter()
    seg = KMeansColorSegmenter(8, random_state=0).fit(X)
    child_report(
        {
            "fit_s": time.perf_counter() - t0,
            "peak_mb": peak_rss_mb(),
            "centers": seg.cluster_centers_.tolist(),
        }
    )


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--photos", type=int, default=4000)
    parser.add_argument("--skip-gathered", action="store_true")
    parser.add_argument("--child-gathered", type=int, default=None)
    parser.add_argument("--json", default=None)
    args = parser.parse_args(argv)
    # the workers import _collection and the working tree's skseg
    os.environ["PYTHONPATH"] = os.pathsep.join(
        p
        for p in (str(BENCH_DIR), str(REPO_ROOT), os.environ.get("PYTHONPATH", ""))
        if p
    )
    if args.child_gathered:
        gathered_child(args.child_gathered)
        return 0

    info = environment(["numpy", "sklearn", "numba", "dask", "distributed"])
    print(format_environment(info))
    n = args.photos
    print(
        f"\n{n} photos of {SIZE}x{SIZE}x3 uint8: {n * SIZE * SIZE * 3 / 1e6:.0f} MB "
        f"of pixels, {PER_BLOCK} photos per block"
    )

    from skseg import KMeansColorSegmenter

    cluster, client = _cluster()
    try:
        X = lazy_photos(n)
        # warm the workers (imports, compiled kernels) on a few blocks
        KMeansColorSegmenter(8, random_state=0).fit(X[: 2 * PER_BLOCK])
        before = peak_rss_mb()
        t0 = time.perf_counter()
        seg = KMeansColorSegmenter(8, random_state=0).fit(X)
        fit_s = time.perf_counter() - t0
        peak = peak_rss_mb()
        # the merged table stayed on a worker: ask its size there
        n_colors, table_bytes = client.submit(
            lambda t: (t.n_colors, t.colors.nbytes + t.counts.nbytes),
            seg._color_table.future,
        ).result()
        table_mb = table_bytes / 1e6
    finally:
        client.close()
        cluster.close()

    rows = [
        [
            "dask fit on the cluster (client)",
            f"{fit_s:.1f}",
            f"{peak:.0f}",
            f"{before:.0f}",
        ]
    ]
    report = {
        "environment": info,
        "photos": n,
        "fit_s": fit_s,
        "client_peak_mb": peak,
        "client_peak_before_fit_mb": before,
        "n_colors": n_colors,
        "table_mb": table_mb,
    }
    same = None
    if not args.skip_gathered:
        # one OpenMP thread, as on the dask workers where the palette is
        # fitted: scikit-learn's Lloyd sums depend on the thread count
        child = run_child(
            __file__,
            ["--child-gathered", str(n)],
            env={"OMP_NUM_THREADS": "1"},
            timeout=3600,
        )
        rows.append(
            [
                "gather X.compute(), fit in memory",
                f"{child['fit_s']:.1f} (fit only)",
                f"{child['peak_mb']:.0f}",
                "-",
            ]
        )
        same = bool(np.array_equal(np.array(child["centers"]), seg.cluster_centers_))
        report["gathered"] = child
    print(section("Client process"))
    print(
        format_table(["method", "seconds", "peak MB", "peak MB before the fit"], rows)
    )
    print(
        f"  merged colour table: {n_colors} colours, {table_mb:.0f} MB, left on "
        "the worker that fitted the palette (the client receives the fitted "
        "estimator)"
    )
    if same is not None:
        print(f"  same cluster_centers_ as the in-memory fit: {same}")
    checks = [
        verdict("client peak memory < 400 MB", peak < 400, f"{peak:.0f} MB"),
    ]
    if same is not None:
        checks.append(
            verdict("palette identical to the in-memory fit", same, str(same))
        )
    return finish(report, checks, args.json)


if __name__ == "__main__":
    sys.exit(main())
