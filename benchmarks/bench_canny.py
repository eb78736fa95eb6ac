"""Benchmark skseg's CannyEdgeExtractor against skimage.feature.canny and cv2.Canny.

What it measures, in one run, on a 2048x2048 photo (``skimage.data.astronaut()``
upscaled bilinearly, as the other benchmarks):

1. Speed. The photo's luminance ``gray = skimage.color.rgb2gray(photo)``
   (float64 in [0, 1]) and its 8-bit version ``gray8 = img_as_ubyte(gray)``:

   - skimage: ``skimage.feature.canny(gray)`` (sigma=1, thresholds 0.1/0.2);
   - skseg, the same parameters: ``CannyEdgeExtractor().transform(gray[None])``
     (the public path: validation, allocation, edges), at the default
     ``n_jobs`` (None: the row bands of a large image on the threads of
     ``skseg._parallel.fit_threads``, one per core as OpenMP counts them,
     since issue 18's stop 25; one thread before) and with ``n_jobs=-1``
     (row bands on every processor);
   - cv2, the tutorial's call: ``cv2.Canny(gray8, 150, 200)`` alone (OpenCV
     uses ``cv2.getNumThreads()`` threads; its 0/255 map is compared with
     skseg's boolean one outside the timing);
   - skseg, the tutorial's call ported: ``CannyEdgeExtractor(sigma=0,
     low_threshold=150, high_threshold=200, gradient="l1")`` on ``gray8``, at
     the default ``n_jobs`` and with ``n_jobs=-1``;
   - INFO: skseg on the RGB uint8 photo itself (luminance inside).

   Every method runs ``--repeat`` times, interleaved round by round (so a
   burst of load from other processes hits all of them), after a warm-up call
   (numba cache load). Ratios use the *fastest* run of each (the least
   disturbed, as ``timeit`` recommends); medians are printed too.

2. Agreement on the same photo: skseg vs skimage (% identical pixels, same
   parameters, on ``gray`` and on the RGB photo via luminance), and the ported
   call vs ``cv2.Canny`` (F1 with edges matched within one pixel, and %
   identical pixels).

3. Cold start: ``import skseg`` and the first transform of a small image in a
   fresh process, with the numba cache this run has filled (the second process
   loads machine code from disk) and, with ``--cold``, with an empty cache (JIT
   compile, ~1 min).

Acceptance (issues 3 and 18): at the default ``n_jobs``, skseg with
skimage's parameters >= 20x faster than skimage, and the ported tutorial call
within 2x of cv2.Canny (both measured in this run); the skimage-parameter run
against cv2 (issue 3, within 3x) is checked as well, see below; >= 99.9%
identical pixels to skimage; F1 >= 0.98 against cv2.Canny.

Note on "within 3x of cv2.Canny": the tutorial's call does no smoothing and
works in 16-bit integers; skimage's parameters add a Gaussian (sigma=1) and
Euclidean magnitudes in float64, which skseg computes operation by operation
as scikit-image does (that is what makes the maps identical). Both
comparisons are printed and checked.

Test photos are cached as .npy files in ``benchmarks/_data/`` (gitignored).

Run from the repository root (the working-tree skseg is benchmarked)::

    python benchmarks/bench_canny.py                  # ~20 s
    python benchmarks/bench_canny.py --repeat 15 --json results/canny.json
    python benchmarks/bench_canny.py --cold           # + empty-cache child
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from _common import (
    astronaut_path,
    child_report,
    environment,
    finish,
    fmt_ratio,
    format_environment,
    format_table,
    format_verdict,
    load_astronaut,
    run_child,
    section,
    verdict,
)

SPEED_SHAPE = (2048, 2048)
CV2_LOW, CV2_HIGH = 150, 200  # the tutorial's cv2.Canny(img, 150, 200)
MIN_SPEEDUP_VS_SKIMAGE = 20.0  # issue 18, default n_jobs
MAX_PORT_RATIO_VS_CV2 = 2.0  # issue 18: the tutorial call, default n_jobs
MAX_RATIO_VS_CV2 = 3.0  # issue 3: skimage's parameters against cv2's call
MIN_IDENTICAL = 0.999
MIN_F1 = 0.98


# ------------------------------------------------------------------------ helpers
def f1_within_one_pixel(a: np.ndarray, b: np.ndarray) -> float:
    """F1 of two edge maps; an edge matches if the other map has one within 1 px."""
    from scipy import ndimage as ndi

    grow = np.ones((3, 3), bool)
    precision = (a & ndi.binary_dilation(b, grow)).sum() / max(a.sum(), 1)
    recall = (b & ndi.binary_dilation(a, grow)).sum() / max(b.sum(), 1)
    return float(2 * precision * recall / max(precision + recall, 1e-12))


def interleaved(methods: dict, repeat: int, ref_repeat: dict) -> dict:
    """Time every method ``repeat`` times (fewer for slow references), rounds
    interleaved; return {name: {"times": [...], "result": last result}}."""
    out = {name: {"times": [], "result": None} for name in methods}
    for round_ in range(repeat):
        for name, fn in methods.items():
            if round_ >= ref_repeat.get(name, repeat):
                continue
            t0 = time.perf_counter()
            result = fn()
            out[name]["times"].append(time.perf_counter() - t0)
            out[name]["result"] = result
    for res in out.values():
        res["min"] = min(res["times"])
        res["median"] = statistics.median(res["times"])
    return out


def ms(t: float) -> str:
    return f"{1e3 * t:.1f}"


# ----------------------------------------------------------------------- sections
def speed_section(repeat: int, ref_repeat: int) -> dict:
    import cv2
    from skimage import color, feature
    from skimage.util import img_as_ubyte

    from skseg.edges import CannyEdgeExtractor

    h, w = SPEED_SHAPE
    print(section(f"1. Speed, astronaut upscaled to {w}x{h} ({h * w / 1e6:.1f} Mpx)"))
    photo = load_astronaut(*SPEED_SHAPE)
    gray = color.rgb2gray(photo)
    gray8 = img_as_ubyte(gray)
    X, X8, Xrgb = gray[None], gray8[None], photo[None]

    l2 = CannyEdgeExtractor()
    l2_par = CannyEdgeExtractor(n_jobs=-1)
    port = {
        "sigma": 0,
        "low_threshold": CV2_LOW,
        "high_threshold": CV2_HIGH,
        "gradient": "l1",
    }
    l1 = CannyEdgeExtractor(**port)
    l1_par = CannyEdgeExtractor(n_jobs=-1, **port)
    methods = {
        "skimage": lambda: feature.canny(gray),
        "skseg": lambda: l2.transform(X)[0],
        "skseg n_jobs=-1": lambda: l2_par.transform(X)[0],
        "cv2.Canny": lambda: cv2.Canny(gray8, CV2_LOW, CV2_HIGH),
        "skseg port": lambda: l1.transform(X8)[0],
        "skseg port n_jobs=-1": lambda: l1_par.transform(X8)[0],
        "skseg RGB": lambda: l2.transform(Xrgb)[0],
    }
    descriptions = {
        "skimage": "skimage.feature.canny(gray) (sigma=1, 0.1/0.2)",
        "skseg": "CannyEdgeExtractor().transform(gray[None]), same parameters, "
        "default n_jobs",
        "skseg n_jobs=-1": "same, row bands in threads",
        "cv2.Canny": f"cv2.Canny(gray8, {CV2_LOW}, {CV2_HIGH}) (tutorial)",
        "skseg port": "CannyEdgeExtractor(sigma=0, 150, 200, 'l1') on gray8, "
        "default n_jobs",
        "skseg port n_jobs=-1": "same, row bands in threads",
        "skseg RGB": "CannyEdgeExtractor().transform(photo[None]) (INFO)",
    }
    t0 = time.perf_counter()
    for name, fn in methods.items():  # warm-up: numba cache load, allocations
        if name != "skimage":
            fn()
    warm = time.perf_counter() - t0
    res = interleaved(methods, repeat, {"skimage": ref_repeat})
    print(f"  warm-up of the skseg calls (numba cache load or compile): {warm:.2f} s")
    print(
        f"  {repeat} interleaved runs ({ref_repeat} for skimage); cv2 threads: "
        f"{cv2.getNumThreads()}\n"
    )
    t_ref = res["skimage"]["min"]
    rows = [
        [
            name,
            ms(r["min"]),
            ms(r["median"]),
            fmt_ratio(t_ref / r["min"], 1) + "x",
            fmt_ratio(r["min"] / res["cv2.Canny"]["min"], 2) + "x",
            descriptions[name],
        ]
        for name, r in res.items()
    ]
    headers = ["method", "min ms", "median ms", "skimage/it", "it/cv2", "call"]
    print(format_table(headers, rows, left=(0, 5)))

    # agreement
    sk_map = res["skimage"]["result"]
    cv_map = res["cv2.Canny"]["result"] > 0
    identical_gray = float(np.mean(res["skseg"]["result"] == sk_map))
    identical_par = float(np.mean(res["skseg n_jobs=-1"]["result"] == sk_map))
    identical_rgb = float(np.mean(res["skseg RGB"]["result"] == sk_map))
    f1_port = f1_within_one_pixel(res["skseg port"]["result"], cv_map)
    identical_port = float(np.mean(res["skseg port"]["result"] == cv_map))
    same_par_port = bool(
        np.array_equal(
            res["skseg port"]["result"], res["skseg port n_jobs=-1"]["result"]
        )
    )
    print(section("2. Agreement on the same photo"))
    rows = [
        ["skseg vs skimage, gray float64", f"{100 * identical_gray:.4f}%", "-"],
        ["skseg n_jobs=-1 vs skimage", f"{100 * identical_par:.4f}%", "-"],
        ["skseg RGB vs skimage on rgb2gray", f"{100 * identical_rgb:.4f}%", "-"],
        ["skseg port vs cv2.Canny", f"{100 * identical_port:.4f}%", f"{f1_port:.4f}"],
    ]
    print(format_table(["comparison", "identical", "F1 (1 px)"], rows))
    print(
        f"  edge pixels: skimage {int(sk_map.sum()):,}, cv2 {int(cv_map.sum()):,}; "
        f"port n_jobs=1 == n_jobs=-1: {same_par_port}"
    )

    best_l2 = min(res["skseg"]["min"], res["skseg n_jobs=-1"]["min"])
    t_port = res["skseg port"]["min"]
    t_cv = res["cv2.Canny"]["min"]
    speedup = t_ref / res["skseg"]["min"]
    speedup_par = t_ref / res["skseg n_jobs=-1"]["min"]
    port_par = res["skseg port n_jobs=-1"]["min"]
    print(
        f"\n  default n_jobs: tutorial call / cv2.Canny = {t_port / t_cv:.2f}x "
        f"({ms(t_port)} ms vs {ms(t_cv)} ms; n_jobs=-1: {port_par / t_cv:.2f}x); "
        f"skimage / skseg = {speedup:.1f}x ({ms(t_ref)} ms vs "
        f"{ms(res['skseg']['min'])} ms; n_jobs=-1: {speedup_par:.1f}x)"
    )
    checks = [
        verdict(
            f"skseg >= {MIN_SPEEDUP_VS_SKIMAGE:g}x faster than skimage.feature.canny "
            "(same parameters, default n_jobs)",
            speedup >= MIN_SPEEDUP_VS_SKIMAGE,
            f"{speedup:.1f}x ({ms(t_ref)} ms vs {ms(res['skseg']['min'])} ms; "
            f"n_jobs=-1: {speedup_par:.1f}x)",
        ),
        verdict(
            f"tutorial call: skseg port within {MAX_PORT_RATIO_VS_CV2:g}x of "
            "cv2.Canny (default n_jobs)",
            t_port <= MAX_PORT_RATIO_VS_CV2 * t_cv,
            f"{t_port / t_cv:.2f}x ({ms(t_port)} ms vs {ms(t_cv)} ms; n_jobs=-1: "
            f"{port_par / t_cv:.2f}x)",
        ),
        verdict(
            f"skimage parameters: skseg within {MAX_RATIO_VS_CV2:g}x of cv2.Canny",
            best_l2 <= MAX_RATIO_VS_CV2 * t_cv,
            f"{best_l2 / t_cv:.2f}x ({ms(best_l2)} ms vs {ms(t_cv)} ms; skseg "
            "smooths in float64, cv2's call does not smooth)",
        ),
        verdict(
            f"skseg vs skimage >= {100 * MIN_IDENTICAL:g}% identical pixels",
            min(identical_gray, identical_par, identical_rgb) >= MIN_IDENTICAL,
            f"gray {100 * identical_gray:.4f}%, RGB {100 * identical_rgb:.4f}%",
        ),
        verdict(
            f"skseg port vs cv2.Canny F1 (1 px) >= {MIN_F1}",
            f1_port >= MIN_F1,
            f"F1 {f1_port:.4f}, {100 * identical_port:.4f}% identical",
        ),
    ]
    print()
    for check in checks:
        print(format_verdict(check))
    timings = {
        name: {"min_s": r["min"], "median_s": r["median"], "times_s": r["times"]}
        for name, r in res.items()
    }
    agreement = {
        "identical_gray": identical_gray,
        "identical_n_jobs": identical_par,
        "identical_rgb": identical_rgb,
        "identical_port_cv2": identical_port,
        "f1_port_cv2": f1_port,
    }
    return {"timings": timings, "agreement": agreement, "checks": checks}


def cold_section(with_empty_cache: bool) -> dict:
    print(section("3. Cold start in a fresh process (import + first 64x64 transform)"))
    path = astronaut_path(512, 512)
    runs = {"cache filled by this run": None}
    if with_empty_cache:
        runs["empty numba cache (JIT compile)"] = "empty"
    results, rows = {}, []
    for label, cache in runs.items():
        args = ["--_coldchild", "--_image", str(path)]
        if cache == "empty":
            with tempfile.TemporaryDirectory(prefix="skseg-numba-") as cache_dir:
                res = run_child(__file__, args, env={"NUMBA_CACHE_DIR": cache_dir})
        else:
            res = run_child(__file__, args)
        results[label] = res
        rows.append(
            [
                label,
                f"{res['import_s']:.2f}",
                f"{res['first_s']:.2f}",
                ms(res["second_s"]),
            ]
        )
    print(format_table(["numba cache", "import s", "first s", "second ms"], rows))
    print("  (first = first transform of a 64x64 uint8 RGB crop, l2 and l1 paths)")
    return {"results": results}


def cold_child(image_path: str) -> None:
    t0 = time.perf_counter()
    from skseg.edges import CannyEdgeExtractor

    t_import = time.perf_counter() - t0
    crop = np.load(image_path)[:64, :64][None]

    def job():
        CannyEdgeExtractor().transform(crop)
        CannyEdgeExtractor(sigma=0, gradient="l1").transform(crop[..., 0])

    t0 = time.perf_counter()
    job()
    t_first = time.perf_counter() - t0
    t0 = time.perf_counter()
    job()
    t_second = time.perf_counter() - t0
    child_report({"import_s": t_import, "first_s": t_first, "second_s": t_second})


# --------------------------------------------------------------------------- main
def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--repeat", type=int, default=15, help="runs per method (15)")
    p.add_argument(
        "--ref-repeat", type=int, default=3, help="runs of skimage.feature.canny (3)"
    )
    p.add_argument(
        "--cold", action="store_true", help="also a child with an empty numba cache"
    )
    p.add_argument("--json", metavar="PATH", help="also write results as JSON")
    p.add_argument("--_coldchild", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--_image", help=argparse.SUPPRESS)
    return p


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    if args._coldchild:
        cold_child(args._image)
        return 0
    astronaut_path(*SPEED_SHAPE)  # build the caches once, outside any timing
    astronaut_path(512, 512)
    env = environment(["numpy", "scipy", "skimage", "cv2", "numba", "sklearn", "skseg"])
    print("CannyEdgeExtractor benchmark")
    print(format_environment(env))
    import skseg

    print(f"skseg from {Path(skseg.__file__).parent}")
    report = {"environment": env, "argv": sys.argv[1:]}
    report["speed"] = speed_section(args.repeat, args.ref_repeat)
    report["cold_start"] = cold_section(args.cold)
    checks = report["speed"]["checks"]
    return finish(report, checks, args.json)


if __name__ == "__main__":
    sys.exit(main())
