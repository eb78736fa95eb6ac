"""Shared helpers for the skseg benchmarks.

Nothing here imports skseg or any optional peer (OpenCV, kneed) at module level,
so a memory-measurement child process can import this module and still load only
what the method under test needs.

Helpers:

- test photos (the astronaut, bilinearly resized, cached as ``.npy`` files under
  ``benchmarks/_data/`` so child processes can ``np.load`` them);
- WCSS recomputed the same way for every method (float64, nearest centre over all
  pixels, chunked);
- peak resident memory of the current process;
- subprocess children that report one JSON line;
- environment header, fixed-column tables, PASS/FAIL lines, JSON output.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

BENCH_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCH_DIR.parent
DATA_DIR = BENCH_DIR / "_data"

#: environment variable naming another checkout whose skseg a child process
#: imports instead (``bench_startup.py --against``)
ROOT_VARIABLE = "SKSEG_BENCH_ROOT"

# Every benchmark imports this module first: benchmark the working tree's
# skseg, whether or not a copy is installed (or the checkout a parent named).
if os.environ.get(ROOT_VARIABLE):
    sys.path.insert(0, os.environ[ROOT_VARIABLE])
elif str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

#: marker prefixing the single JSON line a child process prints on stdout
CHILD_MARKER = "@@BENCH_CHILD@@ "


# --------------------------------------------------------------------------- data
def astronaut_path(height: int, width: int) -> Path:
    """Path of the cached astronaut photo resized to ``(height, width, 3)`` uint8.

    The photo is ``skimage.data.astronaut()`` (512x512x3) resized with bilinear
    interpolation (``order=1``) and rounded back to uint8. Bilinear upscaling
    blends neighbouring pixels and so creates many distinct colours (about 0.5 M
    at 2048x2048), as a real photo has; nearest-neighbour upscaling would keep
    the ~100 k colours of the original and flatter engines that work on distinct
    colours.
    """
    path = DATA_DIR / f"astronaut_{height}x{width}.npy"
    if path.exists():
        return path
    from skimage import data
    from skimage.transform import resize

    img = data.astronaut()
    if (height, width) != img.shape[:2]:
        img = resize(img, (height, width), order=1)  # float64 in [0, 1]
        img = (img * 255).round().astype(np.uint8)
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.stem}.{os.getpid()}.tmp.npy")
    np.save(tmp, np.ascontiguousarray(img, dtype=np.uint8))
    os.replace(tmp, path)  # atomic: a concurrent reader never sees half a file
    return path


def load_astronaut(height: int, width: int) -> np.ndarray:
    """The cached astronaut photo, shape ``(height, width, 3)``, uint8."""
    return np.load(astronaut_path(height, width))


def n_distinct_colors(img: np.ndarray) -> int:
    """Number of distinct RGB colours of a uint8 ``(..., 3)`` image."""
    px = img.reshape(-1, 3).astype(np.uint32)
    codes = (px[:, 0] << 16) | (px[:, 1] << 8) | px[:, 2]
    return int(np.unique(codes).size)


# --------------------------------------------------------------------------- WCSS
def nearest_center_wcss(
    pixels: np.ndarray,
    centers: np.ndarray,
    *,
    chunk: int = 1 << 16,
    return_labels: bool = False,
):
    """WCSS of ``pixels`` against ``centers``, each pixel on its nearest centre.

    Computed in float64 with explicit differences (no ``|x|^2 - 2xc + |c|^2``
    cancellation), ``chunk`` pixels at a time so memory stays small. This is the
    reference every method's WCSS is measured with: it depends only on the
    centres a method returns, not on how (or whether) it reports its own
    inertia.

    Returns the WCSS (float), and the nearest-centre labels if asked.
    """
    pixels = pixels.reshape(-1, pixels.shape[-1])
    centers = np.asarray(centers, dtype=np.float64)
    total = 0.0
    labels = np.empty(len(pixels), dtype=np.intp) if return_labels else None
    for start in range(0, len(pixels), chunk):
        block = pixels[start : start + chunk].astype(np.float64)
        d2 = ((block[:, None, :] - centers[None, :, :]) ** 2).sum(axis=2)
        nearest = d2.argmin(axis=1)
        total += float(d2[np.arange(len(block)), nearest].sum())
        if return_labels:
            labels[start : start + len(block)] = nearest
    return (total, labels) if return_labels else total


def labels_sse(
    pixels: np.ndarray, labels: np.ndarray, centers: np.ndarray, chunk: int = 1 << 18
) -> float:
    """Sum of squared distances of each pixel to the centre of its given label."""
    pixels = pixels.reshape(-1, pixels.shape[-1])
    labels = np.asarray(labels).reshape(-1)
    centers = np.asarray(centers, dtype=np.float64)
    total = 0.0
    for start in range(0, len(pixels), chunk):
        block = pixels[start : start + chunk].astype(np.float64)
        diff = block - centers[labels[start : start + chunk]]
        total += float(np.einsum("ij,ij->", diff, diff))
    return total


# ------------------------------------------------------------------------ memory
def peak_rss_mb() -> float:
    """Peak resident memory of this process, in MB (10**6 bytes).

    Reads ``VmHWM`` from ``/proc/self/status`` (Linux). ``ru_maxrss`` is *not*
    used when ``VmHWM`` is available: on Linux the child of ``subprocess.run``
    inherits the parent's high-water mark through fork/vfork + exec, so a child
    started by a big parent reports the parent's peak. ``VmHWM`` belongs to the
    child's own address space and starts from zero at exec.
    """
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024 / 1e6
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 1e6


def current_rss_mb() -> float:
    """Current resident memory of this process, in MB (10**6 bytes)."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024 / 1e6
    except OSError:
        pass
    return float("nan")


def ru_maxrss_mb() -> float:
    """``getrusage(RUSAGE_SELF).ru_maxrss`` in MB (KiB on Linux), for reference."""
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 1e6


# ---------------------------------------------------------------------- children
def child_report(payload: dict) -> None:
    """Print the one JSON line a child process reports to its parent."""
    print(CHILD_MARKER + json.dumps(payload), flush=True)


def child_payload(stdout: str) -> dict | None:
    """The dict a child passed to :func:`child_report`, from its stdout."""
    for line in reversed(stdout.splitlines()):
        if line.startswith(CHILD_MARKER):
            return json.loads(line[len(CHILD_MARKER) :])
    return None


def run_child(
    script: str | Path,
    args: Sequence[str],
    *,
    env: dict | None = None,
    timeout: float | None = None,
):
    """Run ``python script *args`` in a fresh process and parse its report.

    ``env`` adds to (or overrides) this process's environment. Returns the dict
    the child passed to :func:`child_report`; raises ``RuntimeError`` with the
    child's stderr if it failed or reported nothing.
    """
    env = {**os.environ, **(env or {})}
    # the child must import the working-tree skseg, as the parent does
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(REPO_ROOT), env.get("PYTHONPATH", "")) if p
    )
    proc = subprocess.run(
        [sys.executable, str(script), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
    )
    payload = child_payload(proc.stdout)
    if payload is not None:
        return payload
    raise RuntimeError(
        f"child {list(args)} failed (exit {proc.returncode}):\n"
        f"{proc.stderr.strip()[-3000:]}"
    )


# ---------------------------------------------------------------------- timing
def time_call(fn: Callable[[], object], repeat: int = 1):
    """Call ``fn`` ``repeat`` times; return (list of seconds, last result)."""
    times, result = [], None
    for _ in range(max(1, repeat)):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return times, result


# ------------------------------------------------------------------- environment
def _version(module_name: str) -> str:
    try:
        module = __import__(module_name)
    except Exception as exc:
        return f"not importable ({type(exc).__name__})"
    return str(getattr(module, "__version__", "unknown"))


def environment(modules: Sequence[str]) -> dict:
    """Versions of ``modules`` and the facts that change benchmark numbers."""
    info = {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "machine": platform.machine(),
        "cpu_count": os.cpu_count(),
    }
    if hasattr(os, "sched_getaffinity"):
        info["cpus_usable"] = len(os.sched_getaffinity(0))
    if hasattr(os, "getloadavg"):
        info["loadavg"] = os.getloadavg()
    info["versions"] = {name: _version(name) for name in modules}
    info["env"] = {
        var: os.environ[var]
        for var in (
            "OPENBLAS_CORETYPE",
            "OMP_NUM_THREADS",
            "OPENBLAS_NUM_THREADS",
            "MKL_NUM_THREADS",
            "NUMBA_NUM_THREADS",
        )
        if var in os.environ
    }
    return info


def format_environment(info: dict) -> str:
    lines = [
        f"python {info['python']} on {info['platform']}",
        f"cpu_count={info['cpu_count']}"
        + (f", usable={info['cpus_usable']}" if "cpus_usable" in info else "")
        + (
            ", load average {:.2f} {:.2f} {:.2f} (1/5/15 min; timings assume an"
            " idle machine)".format(*info["loadavg"])
            if "loadavg" in info
            else ""
        ),
        "versions: "
        + ", ".join(f"{name} {ver}" for name, ver in info["versions"].items()),
    ]
    coretype = info["env"].get("OPENBLAS_CORETYPE")
    lines.append(
        f"OPENBLAS_CORETYPE={coretype} (set: OpenBLAS kernels forced to this core)"
        if coretype
        else "OPENBLAS_CORETYPE not set"
    )
    others = {k: v for k, v in info["env"].items() if k != "OPENBLAS_CORETYPE"}
    if others:
        lines.append("threads: " + ", ".join(f"{k}={v}" for k, v in others.items()))
    return "\n".join(lines)


# ----------------------------------------------------------------------- output
def format_table(
    headers: Sequence[str],
    rows: Sequence[Sequence[object]],
    *,
    left: Sequence[int] = (0,),
    indent: str = "  ",
) -> str:
    """Plain-text table with fixed columns; columns in ``left`` are left-aligned."""
    cells = [[str(h) for h in headers]]
    cells += [["" if c is None else str(c) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]

    def fmt(row):
        parts = [
            cell.ljust(width) if i in left else cell.rjust(width)
            for i, (cell, width) in enumerate(zip(row, widths))
        ]
        return indent + "  ".join(parts).rstrip()

    rule = indent + "  ".join("-" * w for w in widths)
    return "\n".join([fmt(cells[0]), rule, *(fmt(r) for r in cells[1:])])


def section(title: str) -> str:
    return f"\n{title}\n{'=' * len(title)}"


def fmt_seconds(t: float | None) -> str:
    if t is None:
        return "-"
    return f"{t:.3f}" if t < 10 else f"{t:.1f}"


def fmt_ratio(r: float | None, digits: int = 4) -> str:
    return "-" if r is None or not np.isfinite(r) else f"{r:.{digits}f}"


def fmt_sci(v: float | None) -> str:
    return "-" if v is None else f"{v:.6e}"


def verdict(name: str, ok: bool | None, detail: str) -> dict:
    """An acceptance check; ``ok=None`` means it could not be evaluated (SKIP)."""
    status = "SKIP" if ok is None else ("PASS" if ok else "FAIL")
    return {"check": name, "status": status, "detail": detail}


def format_verdict(v: dict) -> str:
    return f"  {v['status']:4}  {v['check']}: {v['detail']}"


def write_json(path: str | Path, obj: dict) -> None:
    path = Path(path)
    if path.parent != Path(""):
        path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj, indent=2, default=_json_default) + "\n")


def _json_default(obj):
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")


def finish(report: dict, checks: list[dict], json_path: str | None) -> int:
    """Print the acceptance summary, write the JSON report; the exit code."""
    report["checks"] = checks
    print(section("Acceptance summary"))
    if hasattr(os, "getloadavg"):
        load = "{:.2f} {:.2f} {:.2f}".format(*os.getloadavg())
        print(f"  load average at the end: {load} (1/5/15 min)")
    for check in checks:
        print(format_verdict(check))
    if json_path:
        write_json(json_path, report)
        print(f"\nJSON written to {json_path}")
    return 1 if any(c["status"] == "FAIL" for c in checks) else 0
