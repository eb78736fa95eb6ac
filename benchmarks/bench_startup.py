"""Benchmark the first call of each estimator in a fresh process (issue 9).

A new install, a CI run, a fresh container, a notebook on a new machine and
every new Dask worker start with an empty numba cache: their first call of an
estimator compiles the kernels it uses. This script measures that first call,
on a 512x512 RGB photo (``skimage.data.astronaut()``), each case in its own
fresh process:

- ``empty cache``: ``NUMBA_CACHE_DIR`` pointed at a new, empty folder (the
  compile cost itself);
- ``warm cache``: a fresh process reusing the folder the empty-cache run
  filled (the cost of loading the machine code from disk);
- ``after warmup``: a fresh process whose cache folder was filled by
  ``skseg warmup`` alone (what a container image or a cluster worker built
  with the warm-up command meets).

The time is that of the first call only: imports (``import skseg``, the
estimator and scikit-learn modules, the photo) are done before the clock
starts and reported apart. Each cell is the best of ``--repeat`` runs (a
shared machine adds noise, never removes it). The import time of ``skseg``
(alone, and with its four estimators, which import scikit-learn and numba) is
printed next to ``import sklearn.cluster`` measured in the same run, each in a
fresh process.

Acceptance (issue 9): every first call <= 3.0 s with an empty cache and
<= 0.6 s with a warm cache; after ``skseg warmup``, every first call is warm
(<= 0.6 s).

Run from the repository root (the working-tree skseg is benchmarked)::

    python benchmarks/bench_startup.py               # ~2 min
    python benchmarks/bench_startup.py --repeat 3 --json results/startup.json
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time

from _common import (
    REPO_ROOT,
    astronaut_path,
    child_report,
    environment,
    finish,
    fmt_seconds,
    format_environment,
    format_table,
    run_child,
    section,
    verdict,
)

COLD_LIMIT = 3.0
WARM_LIMIT = 0.6

#: (key, label) of every case, in the order of the issue's table
CASES = (
    ("kmeans", "KMeansColorSegmenter(3).fit_transform"),
    ("kmeans32", "KMeansColorSegmenter(32).fit_transform (a large palette)"),
    ("canny", "CannyEdgeExtractor() (defaults, RGB input)"),
    ("canny_l1", 'CannyEdgeExtractor(gradient="l1", sigma=0, 150, 200)'),
    ("canny_gray8", "the same on the uint8 luminance (cv2.Canny(gray, 150, 200))"),
    ("lab", 'ColorSpaceTransformer("lab").fit_transform'),
    ("hsv_pipe", 'ColorSpaceTransformer("hsv", "cossin") -> segmenter'),
    ("elbow", "ElbowKSelector().fit"),
    ("superpixels", "SuperpixelSegmenter().fit_transform (issue 19)"),
)


def _case_call(key, X):
    """The first call of case ``key`` on the batch ``X``, as a callable."""
    import numpy as np
    from sklearn.pipeline import make_pipeline

    from skseg import (
        CannyEdgeExtractor,
        ColorSpaceTransformer,
        ElbowKSelector,
        KMeansColorSegmenter,
        SuperpixelSegmenter,
    )

    # the tutorial's grayscale uint8 image (rgb2gray's weights, rounded)
    gray8 = np.round(X @ np.array([0.2125, 0.7154, 0.0721])).astype(np.uint8)
    calls = {
        "kmeans": lambda: KMeansColorSegmenter(3, random_state=0).fit_transform(X),
        "kmeans32": lambda: KMeansColorSegmenter(32, random_state=0).fit_transform(X),
        "canny": lambda: CannyEdgeExtractor().fit_transform(X),
        "canny_l1": lambda: CannyEdgeExtractor(
            sigma=0, low_threshold=150, high_threshold=200, gradient="l1"
        ).fit_transform(X),
        "canny_gray8": lambda: CannyEdgeExtractor(
            sigma=0, low_threshold=150, high_threshold=200, gradient="l1"
        ).fit_transform(gray8),
        "lab": lambda: ColorSpaceTransformer("lab").fit_transform(X),
        "hsv_pipe": lambda: make_pipeline(
            ColorSpaceTransformer("hsv", hue_encoding="cossin"),
            KMeansColorSegmenter(3, random_state=0),
        ).fit_transform(X),
        "elbow": lambda: ElbowKSelector(random_state=0).fit(X),
        "superpixels": lambda: SuperpixelSegmenter().fit_transform(X),
    }
    return calls[key]


def child_case(key, image_path):
    """In a fresh process: import, then time the first call of ``key``."""
    import warnings

    t0 = time.perf_counter()
    import numpy as np

    import skseg  # noqa: F401

    call = _case_call(key, np.load(image_path)[None])
    t_import = time.perf_counter() - t0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the elbow's "no knee" warning
        t0 = time.perf_counter()
        call()
        first = time.perf_counter() - t0
    child_report({"case": key, "first": first, "import": t_import})


#: statements whose import time is measured, each in a fresh process
IMPORTS = {
    "import skseg": "import skseg",
    "import skseg + its 4 estimators": (
        "from skseg import (CannyEdgeExtractor, ColorSpaceTransformer, "
        "ElbowKSelector, KMeansColorSegmenter)"
    ),
    "import sklearn.cluster": "import sklearn.cluster",
}


def child_import(label):
    """In a fresh process: the time of one of the :data:`IMPORTS`."""
    t0 = time.perf_counter()
    exec(IMPORTS[label])
    child_report({"label": label, "import": time.perf_counter() - t0})


def run_case(key, cache_dir, image_path):
    return run_child(
        __file__,
        ["--_child", key, "--_image", str(image_path)],
        env={"NUMBA_CACHE_DIR": str(cache_dir)},
    )


def warmup(cache_dir):
    """``skseg warmup`` (as ``python -m skseg warmup``) into ``cache_dir``."""
    import os

    env = {**os.environ, "NUMBA_CACHE_DIR": str(cache_dir)}
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(REPO_ROOT), env.get("PYTHONPATH", "")) if p
    )
    t0 = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "skseg", "warmup"],
        check=True,
        env=env,
        capture_output=True,
    )
    return time.perf_counter() - t0


def main(argv=None):
    args = build_parser().parse_args(argv)
    if args._child:
        child_case(args._child, args._image)
        return 0
    if args._import:
        child_import(args._import)
        return 0

    info = environment(["numpy", "numba", "sklearn", "skimage"])
    print(section("Environment"))
    print(format_environment(info))
    image = astronaut_path(512, 512)
    keys = [k for k, _ in CASES if args.cases is None or k in args.cases]
    cold = {k: [] for k in keys}
    warm = {k: [] for k in keys}
    after = {k: [] for k in keys}
    warmup_times = []
    imports = {label: [] for label in IMPORTS}
    with tempfile.TemporaryDirectory(prefix="skseg-startup-") as root:
        for r in range(args.repeat):
            for key in keys:
                folder = tempfile.mkdtemp(dir=root)
                cold[key].append(run_case(key, folder, image)["first"])
                warm[key].append(run_case(key, folder, image)["first"])
            if not args.no_warmup:
                folder = tempfile.mkdtemp(dir=root)
                warmup_times.append(warmup(folder))
                for key in keys:
                    after[key].append(run_case(key, folder, image)["first"])
            for label in imports:
                rep = run_child(__file__, ["--_import", label])
                imports[label].append(rep["import"])
            print(f"  run {r + 1}/{args.repeat} done", flush=True)

    print(section("First call in a fresh process, 512x512 RGB photo (seconds)"))
    print(
        f"best of {args.repeat} runs; imports excluded; limits: empty cache"
        f" <= {COLD_LIMIT} s, warm <= {WARM_LIMIT} s"
    )
    headers = ["first call", "empty cache", "warm cache"]
    if not args.no_warmup:
        headers.append("after warmup")
    rows = []
    checks = []
    for key, label in CASES:
        if key not in keys:
            continue
        row = [label, fmt_seconds(min(cold[key])), fmt_seconds(min(warm[key]))]
        if not args.no_warmup:
            row.append(fmt_seconds(min(after[key])))
        rows.append(row)
        checks.append(
            verdict(
                f"{key}: empty cache <= {COLD_LIMIT} s",
                min(cold[key]) <= COLD_LIMIT,
                f"{min(cold[key]):.3f} s",
            )
        )
        checks.append(
            verdict(
                f"{key}: warm cache <= {WARM_LIMIT} s",
                min(warm[key]) <= WARM_LIMIT,
                f"{min(warm[key]):.3f} s",
            )
        )
        if not args.no_warmup:
            checks.append(
                verdict(
                    f"{key}: after skseg warmup <= {WARM_LIMIT} s",
                    min(after[key]) <= WARM_LIMIT,
                    f"{min(after[key]):.3f} s",
                )
            )
    print(format_table(headers, rows))
    if warmup_times:
        print(f"\n  skseg warmup itself: {min(warmup_times):.1f} s (best of runs)")

    print(section("Import time in a fresh process (seconds, best of runs)"))
    print(
        format_table(
            ["import", "seconds"],
            [[label, fmt_seconds(min(t))] for label, t in imports.items()],
        )
    )
    report = {
        "environment": info,
        "cold": cold,
        "warm": warm,
        "after_warmup": after,
        "warmup": warmup_times,
        "imports": imports,
    }
    return finish(report, checks, args.json)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--repeat", type=int, default=2, help="runs per cell (2)")
    p.add_argument(
        "--cases",
        type=lambda s: s.split(","),
        help="comma-separated subset of: " + ", ".join(k for k, _ in CASES),
    )
    p.add_argument(
        "--no-warmup", action="store_true", help="skip the 'after warmup' column"
    )
    p.add_argument("--json", metavar="PATH", help="also write results as JSON")
    p.add_argument("--_child", help=argparse.SUPPRESS)
    p.add_argument("--_image", help=argparse.SUPPRESS)
    p.add_argument("--_import", help=argparse.SUPPRESS)
    return p


if __name__ == "__main__":
    sys.exit(main())
