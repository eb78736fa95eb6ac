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

``--against DIR`` compares each first call, empty cache, with that of the
skseg of another checkout ``DIR`` (for example a ``git worktree`` of an older
commit; issue 18: no first call slower than 72270d2's). Each round runs every
case once on each tree, in fresh processes, the order alternating; the table
gives the medians and the paired differences. On a shared machine two fresh
processes compiling the same code differ by tenths of a second, so with
``--instructions`` the script also counts, under valgrind (cachegrind, no cache
simulation), the instructions each first call executes: the same code gives the
same count to about 0.1 %, whatever else the machine does. The count of a first
call is that of a child process making it minus the median of three making
only the imports; the verdict (this tree's count <= DIR's, 0.5 % allowed for the
count's own spread) needs valgrind on the PATH, and takes about 3 minutes of
CPU per case and tree (run on all cores).

Run from the repository root (the working-tree skseg is benchmarked)::

    python benchmarks/bench_startup.py               # ~2 min
    python benchmarks/bench_startup.py --repeat 3 --json results/startup.json
    git worktree add /tmp/skseg-ref 72270d2
    python benchmarks/bench_startup.py --against /tmp/skseg-ref --instructions
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from _common import (
    REPO_ROOT,
    ROOT_VARIABLE,
    astronaut_path,
    child_payload,
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


def child_case(key, image_path, call_it=True):
    """In a fresh process: import, then time the first call of ``key``.

    ``call_it=False``: the imports only (the base of an instruction count).
    """
    import warnings

    t0 = time.perf_counter()
    import numpy as np

    import skseg

    call = _case_call(key, np.load(image_path)[None])
    t_import = time.perf_counter() - t0
    first = 0.0
    if call_it:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the elbow's "no knee" warning
            t0 = time.perf_counter()
            call()
            first = time.perf_counter() - t0
    report = {"case": key, "first": first, "import": t_import}
    child_report({**report, "skseg": str(Path(skseg.__file__).parent.parent)})


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


def run_case(key, cache_dir, image_path, root=None):
    """The report of ``key``'s first call in a fresh process.

    ``root``: the checkout whose skseg the child imports (default: this one).
    """
    env = {"NUMBA_CACHE_DIR": str(cache_dir)}
    if root is not None:
        env[ROOT_VARIABLE] = str(root)
    args = ["--_child", key, "--_image", str(image_path)]
    report = run_child(__file__, args, env=env)
    _check_root(report, root)
    return report


def _check_root(report, root):
    """Raise if the child imported skseg from elsewhere than ``root``."""
    expected = Path(root or REPO_ROOT).resolve()
    if report is None:
        raise RuntimeError("the child reported nothing")
    if Path(report["skseg"]).resolve() != expected:
        raise RuntimeError(
            f"the child imported skseg from {report['skseg']}, not from {expected}"
        )


_IREFS = re.compile(r"I\s+refs:\s+([\d,]+)")


def count_instructions(key, image_path, root=None, call_it=True):
    """Instructions a fresh process executes: imports and, if ``call_it``, the
    first call of ``key`` with an empty cache (valgrind's cachegrind)."""
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(REPO_ROOT), env.get("PYTHONPATH", "")) if p
    )
    env.pop(ROOT_VARIABLE, None)
    if root is not None:
        env[ROOT_VARIABLE] = str(root)
    args = ["--_child", key, "--_image", str(image_path)]
    if not call_it:
        args.append("--_imports_only")
    with tempfile.TemporaryDirectory(prefix="skseg-startup-count-") as cache:
        env["NUMBA_CACHE_DIR"] = cache
        command = ["valgrind", "--tool=cachegrind", "--cache-sim=no"]
        command += ["--cachegrind-out-file=/dev/null", sys.executable, __file__]
        proc = subprocess.run(
            command + args, capture_output=True, text=True, env=env
        )  # fmt: skip
    found = _IREFS.search(proc.stderr)
    if proc.returncode or not found:
        raise RuntimeError(f"valgrind {args} failed:\n{proc.stderr[-3000:]}")
    _check_root(child_payload(proc.stdout), root)
    return int(found.group(1).replace(",", ""))


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
        child_case(args._child, args._image, call_it=not args._imports_only)
        return 0
    if args._import:
        child_import(args._import)
        return 0

    info = environment(["numpy", "numba", "sklearn", "skimage"])
    print(section("Environment"))
    print(format_environment(info))
    image = astronaut_path(512, 512)
    keys = [k for k, _ in CASES if args.cases is None or k in args.cases]
    if args.against:
        return compare(args, keys, image, info)
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


def compare(args, keys, image, info):
    """First calls, empty cache, against the skseg of ``args.against``."""
    other = Path(args.against).resolve()
    if not (other / "skseg" / "__init__.py").is_file():
        raise SystemExit(f"--against {other}: no skseg package there")
    times = {key: {"this": [], "other": []} for key in keys}
    with tempfile.TemporaryDirectory(prefix="skseg-startup-") as root:
        for r in range(args.repeat):
            for i, key in enumerate(keys):
                order = [("this", None), ("other", other)]
                if (r + i) % 2:
                    order.reverse()
                for name, tree in order:
                    folder = tempfile.mkdtemp(dir=root)
                    report = run_case(key, folder, image, tree)
                    times[key][name].append(report["first"])
            print(f"  round {r + 1}/{args.repeat} done", flush=True)

    print(section(f"First call, empty cache: this tree against {other}"))
    print(
        f"seconds; {args.repeat} rounds, each case once per tree per round in"
        " fresh processes (order alternating); paired difference = this tree"
        " minus the other in the same round"
    )
    rows = []
    for key, label in CASES:
        if key not in keys:
            continue
        this, that = times[key]["this"], times[key]["other"]
        diffs = [a - b for a, b in zip(this, that)]
        rows.append([
            label,
            fmt_seconds(statistics.median(this)),
            fmt_seconds(statistics.median(that)),
            f"{statistics.median(diffs):+.3f}",
            f"{sum(d > 0 for d in diffs)}/{len(diffs)}",
        ])  # fmt: skip
    headers = ["first call", "this (median)", "other (median)", "paired diff"]
    print(format_table([*headers, "this slower in"], rows))
    report = {"environment": info, "against": str(other), "times": times}
    checks = []
    if args.instructions:
        checks = _compare_instructions(keys, image, other, report)
    return finish(report, checks, args.json)


#: the spread allowed to an instruction count (same code, another process)
COUNT_SPREAD = 0.005

#: processes making only the imports, per tree: their median is the base
#: subtracted (one process's count of the imports varies by ~0.04 G, 0.8 % of
#: the smallest first call)
BASE_RUNS = 3


def _compare_instructions(keys, image, other, report):
    """Instruction counts of every first call on both trees; the verdicts."""
    if shutil.which("valgrind") is None:
        return [verdict("instruction counts", None, "valgrind is not on the PATH")]
    jobs = [(key, tree, True) for key in keys for tree in (None, other)]
    bases = [keys[i % len(keys)] for i in range(BASE_RUNS)]
    jobs += [(key, tree, False) for key in bases for tree in (None, other)]
    print(f"\n  counting instructions: {len(jobs)} runs under valgrind", flush=True)
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        found = pool.map(lambda job: count_instructions(job[0], image, *job[1:]), jobs)
        counts = list(zip(jobs, found))
    calls = {(key, tree): n for (key, tree, call_it), n in counts if call_it}
    base, spread = {}, {}
    for tree in (None, other):
        runs = [n for (_, t, call_it), n in counts if t == tree and not call_it]
        base[tree], spread[tree] = statistics.median(runs), max(runs) - min(runs)
    print(section("Instructions executed by each first call (valgrind), empty cache"))
    print(
        "billions of instructions of a fresh process making the first call,"
        f" minus the median of {BASE_RUNS} making only the imports (this tree:"
        f" {base[None] / 1e9:.3f}, spread {spread[None] / 1e9:.3f}; other:"
        f" {base[other] / 1e9:.3f}, spread {spread[other] / 1e9:.3f})"
    )
    rows, checks, table = [], [], {}
    for key, label in CASES:
        if key not in keys:
            continue
        this = calls[(key, None)] - base[None]
        that = calls[(key, other)] - base[other]
        table[key] = {"this": this, "other": that}
        ratio = f"{this / that:.4f}"
        rows.append([label, f"{this / 1e9:.3f}", f"{that / 1e9:.3f}", ratio])
        checks.append(
            verdict(
                f"{key}: first call executes no more instructions than {other.name}'s"
                f" (+{COUNT_SPREAD:.1%} spread)",
                this <= that * (1 + COUNT_SPREAD),
                f"{this / that:.4f}x ({this / 1e9:.3f} against {that / 1e9:.3f} G)",
            )
        )
    print(format_table(["first call", "this", "other", "this / other"], rows))
    report["instructions"] = {
        "imports": {"this": base[None], "other": base[other]},
        "imports_spread": {"this": spread[None], "other": spread[other]},
    }
    report["instructions"]["first_call"] = table
    return checks


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
    p.add_argument(
        "--against",
        metavar="DIR",
        help="compare the empty-cache first calls with the skseg of checkout DIR",
    )
    p.add_argument(
        "--instructions",
        action="store_true",
        help="with --against: also count each first call's instructions (valgrind)",
    )
    p.add_argument("--json", metavar="PATH", help="also write results as JSON")
    p.add_argument("--_imports_only", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--_child", help=argparse.SUPPRESS)
    p.add_argument("--_image", help=argparse.SUPPRESS)
    p.add_argument("--_import", help=argparse.SUPPRESS)
    return p


if __name__ == "__main__":
    sys.exit(main())
