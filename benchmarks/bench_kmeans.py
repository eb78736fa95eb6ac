"""Benchmark skseg.KMeansColorSegmenter against the tutorial's cv2.kmeans and sklearn.

What it measures, in one run:

1. Speed and quality on a 2048x2048 photo (``skimage.data.astronaut()`` upscaled
   bilinearly: ~0.5 M distinct colours, like a real photo), for K = 3, 8, 16:

   - skseg: ``KMeansColorSegmenter(n_clusters=K, random_state=0).fit(X[None])``
     then ``predict`` (labels for every pixel), timed together. numba is warmed
     up on an 8x8 image first; the cold first call is reported separately. The
     median of ``--repeat`` runs is used.
   - OpenCV, the tutorial's call exactly: ``cv2.kmeans(pixels_float32, K, None,
     (EPS + MAX_ITER, 10, 1.0), 10, KMEANS_PP_CENTERS)``, one run (only the call
     is timed, not the float32 conversion).
   - ``sklearn.cluster.KMeans(n_clusters=K, n_init=10, random_state=0)`` on all
     pixels as float64, one run (only ``fit`` is timed; it yields the labels).

   Every method's WCSS is recomputed the same way, in float64, from the centres it
   returns (each pixel on its nearest centre, over all pixels). The values the
   methods report themselves (``inertia_``, cv2's compactness) are checked
   against it. Acceptance at K=8: skseg >= 20x faster than cv2.kmeans, skseg
   WCSS <= cv2 WCSS, skseg WCSS <= 1.005 x sklearn's.

2. The tutorial's K = 3, 5, 7 on the 512x512 astronaut: ``output="quantized"``
   must have exactly K distinct colours and WCSS within 1% of sklearn
   ``KMeans(n_init=10)`` on all pixels.

3. Peak resident memory of the whole process, labels for every pixel of a 12 Mpx
   photo (4000x3000, same bilinear astronaut) at K=8, each method in a fresh
   child process that imports only what it needs. Acceptance: skseg < 400 MB
   (numba cache warm, as filled by the earlier sections); ``skseg-cold`` repeats
   it with an empty numba cache (first use after install: JIT compile), reported
   as INFO.
   Peak RSS is ``VmHWM`` from ``/proc/self/status``: a child's ``ru_maxrss``
   inherits the parent's peak on Linux, so it is only printed for reference.

4. Large K on the 2048x2048 photo, K = 64 and 256: skseg ``fit`` + ``transform``
   (quantized output) against Pillow's ``Image.quantize`` median cut
   (``method=0``) and fast octree (``method=2``), ``dither=NONE``, runs
   interleaved, medians of ``--repeat``. Acceptance: time <= 0.6x median cut's
   at K=64 and <= 1.0x at K=256; WCSS <= 0.5x median cut's and <= 1.01x the
   WCSS of skseg at commit 1c0f439 (``TODAY_WCSS``); ``predict`` labels equal
   the nearest centre of every pixel; ``predict`` at K=256 costs <= 2x K=8's.

6. Small K on the 2048x2048 photo against Pillow's fast octree (issue 18),
   K = 3, 8, 16, 32: skseg ``fit`` + ``transform`` (quantized) against
   ``Image.quantize(K, method=2)`` (fast octree) and median cut, runs
   interleaved, best of ``--repeat``; ``transform`` alone at each K, timed
   after the fits in ``--repeat`` rounds that each transform with every K's
   palette in turn (a slow stretch of a shared machine then slows every K's
   round, not all of one K's), best of the rounds.
   Acceptance: K = 3, 8, 16 fit + transform <= 3x the octree's time, WCSS
   <= 1.002x skseg's at commit 9788bc4 (``TODAY_SMALL_WCSS``); K = 32 WCSS
   unchanged (within 0.1%); transform at any K <= 1.3x the K=3 transform.

5. Float images, 12 Mpx, K=8, fit + predict, each in a fresh process: the photo
   as uint8 (time reference), the photo as ColorSpaceTransformer('hsv',
   hue_encoding='cossin') hands it on (float32), uniform float32 noise, and as
   references ``KMeans(n_init=3)`` on the noise and the exact distinct-colour
   table path on the float photo. Acceptance: float photo peak < 500 MB and
   time <= 2x the uint8 photo's; noise peak < 700 MB, time <= 4x, WCSS <=
   1.01x ``KMeans(n_init=3)``'s; ``inertia_`` equal to the WCSS over all
   pixels. ``--float-methods`` picks the jobs (noise-sklearn takes minutes).

Test photos are cached as .npy files in ``benchmarks/_data/`` (gitignored).

Run from the repository root (the working-tree skseg is benchmarked)::

    python benchmarks/bench_kmeans.py                 # everything, ~10-20 min
    python benchmarks/bench_kmeans.py --quick         # sklearn only at K=8, no
                                                      # sklearn memory child
    python benchmarks/bench_kmeans.py --json results/kmeans.json
    python benchmarks/bench_kmeans.py --ks 8 --sklearn-ks none --mem-methods none
    # only the large-K section, or only the float section:
    python benchmarks/bench_kmeans.py --ks none --small-ks none --mem-methods none \
        --float-methods none
    python benchmarks/bench_kmeans.py --ks none --small-ks none --mem-methods none \
        --large-ks none --float-methods uint8-photo,float-photo,float-noise

MB means 10**6 bytes throughout.
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
    current_rss_mb,
    environment,
    finish,
    fmt_ratio,
    fmt_sci,
    fmt_seconds,
    format_environment,
    format_table,
    format_verdict,
    labels_sse,
    load_astronaut,
    n_distinct_colors,
    nearest_center_wcss,
    peak_rss_mb,
    ru_maxrss_mb,
    run_child,
    section,
    time_call,
    verdict,
)

SPEED_SHAPE = (2048, 2048)
SMALL_SHAPE = (512, 512)
MEMORY_SHAPE = (3000, 4000)  # 12 Mpx, landscape 4000x3000
MEMORY_K = 8
ACCEPT_K = 8
MIN_SPEEDUP_VS_CV2 = 20.0
MAX_WCSS_RATIO_VS_SKLEARN = 1.005
SMALL_MAX_WCSS_RATIO = 1.01
MAX_PEAK_RSS_MB = 400.0
LARGE_KS = (64, 256)
# WCSS of skseg at commit 1c0f439 (before the large-K path) on the 2048x2048
# photo, fit with random_state=0 (scratch run of that commit's code).
TODAY_WCSS = {64: 3.45071402e8, 256: 1.13704370e8}
LARGE_K_TIME_RATIO = {64: 0.6, 256: 1.0}
LARGE_K_MAX_WCSS_VS_MEDIAN_CUT = 0.5
LARGE_K_MAX_WCSS_VS_TODAY = 1.01
MAX_PREDICT_RATIO_VS_K8 = 2.0
#: Section 6: skseg's WCSS at commit 9788bc4 on the 2048x2048 photo
#: (KMeansColorSegmenter(K, random_state=0), measured with that commit's code)
OCTREE_KS = (3, 8, 16, 32)
TODAY_SMALL_WCSS = {
    3: 11600281822.980333,
    8: 3260899956.604106,
    16: 1405315476.3453493,
    32: 671970508.5852149,
}
OCTREE_TIME_RATIO = 3.0
SMALL_K_MAX_WCSS_VS_TODAY = {3: 1.002, 8: 1.002, 16: 1.002, 32: 1.001}
MAX_TRANSFORM_RATIO_VS_K3 = 1.3
FLOAT_METHODS = (
    "uint8-photo",
    "float-photo",
    "float-noise",
    "noise-sklearn",
    "float-photo-table",
)
FLOAT_DESCRIPTIONS = {
    "uint8-photo": "the photo as uint8 (reference for time)",
    "float-photo": "the photo in HSV cos/sin, float32",
    "float-photo-table": "same, exact distinct-colour table path (reference)",
    "float-noise": "uniform float32 noise",
    "noise-sklearn": "KMeans(n_init=3, random_state=0) on the noise, float64",
}
FLOAT_PHOTO_MAX_PEAK_MB = 500.0
FLOAT_PHOTO_MAX_TIME_RATIO = 2.0
FLOAT_NOISE_MAX_PEAK_MB = 700.0
FLOAT_NOISE_MAX_TIME_RATIO = 4.0
FLOAT_NOISE_MAX_WCSS_RATIO = 1.01
MEMORY_METHODS = ("baseline", "skseg", "skseg-cold", "cv2", "sklearn")
MEMORY_DESCRIPTIONS = {
    "baseline": "import skseg + np.load the photo, nothing else",
    "skseg": "KMeansColorSegmenter fit + predict (uint8 in)",
    "skseg-cold": "same, empty numba cache (first use: JIT compile)",
    "cv2": "tutorial cv2.kmeans on float32 pixels",
    "sklearn": "KMeans(n_init=10).fit on float64 pixels",
}


# ------------------------------------------------------------------------ methods
def skseg_cold_start() -> dict:
    """Import skseg and time its first calls on an 8x8 image (JIT warm-up)."""
    t0 = time.perf_counter()
    from skseg import KMeansColorSegmenter

    t_import = time.perf_counter() - t0
    tiny = np.random.default_rng(0).integers(0, 256, (1, 8, 8, 3), dtype=np.uint8)

    def job():
        seg = KMeansColorSegmenter(n_clusters=3, random_state=0).fit(tiny)
        return seg.predict(tiny)

    (t_first, t_second), _ = time_call(job, repeat=2)
    return {"import_s": t_import, "first_call_s": t_first, "second_call_s": t_second}


def run_skseg(img: np.ndarray, k: int, repeat: int) -> dict:
    """fit + predict: a shared palette and a label for every pixel."""
    from skseg import KMeansColorSegmenter

    X = img[None]

    def job():
        seg = KMeansColorSegmenter(n_clusters=k, random_state=0).fit(X)
        return seg, seg.predict(X)

    times, (seg, labels) = time_call(job, repeat)
    assert labels.shape == X.shape[:3], labels.shape
    wcss, nearest = nearest_center_wcss(img, seg.cluster_centers_, return_labels=True)
    return {
        "seconds": statistics.median(times),
        "times": times,
        "wcss": wcss,
        "inertia_": float(seg.inertia_),
        "predict_is_nearest": float(np.mean(labels.reshape(-1) == nearest)),
        "centers": np.asarray(seg.cluster_centers_).tolist(),
    }


def run_cv2(img: np.ndarray, k: int) -> dict:
    """The tutorial's call, verbatim (cv2's RNG seeded for reproducibility)."""
    import cv2

    cv2.setRNGSeed(0)
    pixels = img.reshape(-1, 3).astype(np.float32)
    criteria = (cv2.TERM_CRITERIA_EPS + cv2.TERM_CRITERIA_MAX_ITER, 10, 1.0)
    t0 = time.perf_counter()
    compactness, labels, centers = cv2.kmeans(
        pixels, k, None, criteria, 10, cv2.KMEANS_PP_CENTERS
    )
    seconds = time.perf_counter() - t0
    return {
        "seconds": seconds,
        "wcss": nearest_center_wcss(img, centers),
        "compactness": float(compactness),
        "labels_sse": labels_sse(img, labels, centers),
        "centers": centers.astype(np.float64).tolist(),
    }


def run_sklearn(img: np.ndarray, k: int) -> dict:
    from sklearn.cluster import KMeans

    pixels = img.reshape(-1, 3).astype(np.float64)
    t0 = time.perf_counter()
    km = KMeans(n_clusters=k, n_init=10, random_state=0).fit(pixels)
    seconds = time.perf_counter() - t0
    return {
        "seconds": seconds,
        "wcss": nearest_center_wcss(img, km.cluster_centers_),
        "inertia_": float(km.inertia_),
        "n_iter_": int(km.n_iter_),
        "centers": km.cluster_centers_.tolist(),
    }


def run_skseg_quantized(img: np.ndarray, k: int) -> dict:
    from skseg import KMeansColorSegmenter

    X = img[None]
    seg = KMeansColorSegmenter(n_clusters=k, output="quantized", random_state=0)
    (seconds,), q = time_call(lambda: seg.fit_transform(X))
    assert q.shape == X.shape and q.dtype == X.dtype, (q.shape, q.dtype)
    return {
        "seconds": seconds,
        "n_colors": n_distinct_colors(q),
        "wcss": nearest_center_wcss(img, seg.cluster_centers_),
        "inertia_": float(seg.inertia_),
    }


# ----------------------------------------------------------------------- sections
def speed_section(ks, sklearn_ks, repeat, cold) -> dict:
    print(section("1. Speed and WCSS, astronaut upscaled to 2048x2048"))
    img = load_astronaut(*SPEED_SHAPE)
    n_px = img.shape[0] * img.shape[1]
    print(f"  {n_px:,} pixels, {n_distinct_colors(img):,} distinct colours")
    print(
        f"  skseg cold start (not in the timings below): import "
        f"{cold['import_s']:.2f} s;\n  first fit+predict on 8x8 (JIT compile or "
        f"cache load) {cold['first_call_s']:.2f} s, second "
        f"{cold['second_call_s'] * 1e3:.1f} ms"
    )
    results = {}
    for k in ks:
        row = {"skseg": run_skseg(img, k, repeat), "cv2": run_cv2(img, k)}
        if k in sklearn_ks:
            row["sklearn"] = run_sklearn(img, k)
        results[k] = row
        done = ", ".join(f"{m} {fmt_seconds(r['seconds'])} s" for m, r in row.items())
        print(f"  K={k}: {done}", flush=True)

    def get(row, method, key):
        return row[method][key] if method in row else None

    def ratio(a, b):
        return None if a is None or b is None else a / b

    print(f"\n  time (s); skseg = median of {repeat} fit+predict runs\n")
    rows = []
    for k, row in results.items():
        t_sk, t_cv, t_skl = (
            get(row, m, "seconds") for m in ("skseg", "cv2", "sklearn")
        )
        rows.append(
            [
                k,
                fmt_seconds(t_sk),
                fmt_seconds(min(row["skseg"]["times"])),
                fmt_seconds(t_cv),
                fmt_seconds(t_skl),
                fmt_ratio(ratio(t_cv, t_sk), 1) + "x",
                (fmt_ratio(ratio(t_skl, t_sk), 1) + "x") if t_skl else "-",
            ]
        )
    headers = ["K", "skseg", "skseg min", "cv2", "sklearn", "cv2/skseg", "skl/skseg"]
    print(format_table(headers, rows))

    print("\n  WCSS (float64, nearest centre over all pixels, from each method's")
    print("  centres); ratio < 1 means skseg is better\n")
    rows = []
    for k, row in results.items():
        w_sk, w_cv, w_skl = (get(row, m, "wcss") for m in ("skseg", "cv2", "sklearn"))
        rows.append(
            [
                k,
                fmt_sci(w_sk),
                fmt_sci(w_cv),
                fmt_sci(w_skl),
                fmt_ratio(ratio(w_sk, w_cv), 5),
                fmt_ratio(ratio(w_sk, w_skl), 5),
            ]
        )
    headers = ["K", "skseg", "cv2", "sklearn", "skseg/cv2", "skseg/skl"]
    print(format_table(headers, rows))

    print("\n  self-reported vs recomputed WCSS (ratios; 1.00000 = consistent)")
    print("  W = WCSS as above; SSE = cv2's own labels against its own centres\n")
    rows = []
    for k, row in results.items():
        sk, cv = row["skseg"], row["cv2"]
        skl = row.get("sklearn")
        rows.append(
            [
                k,
                fmt_ratio(sk["inertia_"] / sk["wcss"], 5),
                f"{100 * sk['predict_is_nearest']:.3f}%",
                fmt_ratio(cv["compactness"] / cv["labels_sse"], 5),
                fmt_ratio(cv["labels_sse"] / cv["wcss"], 5),
                fmt_ratio(skl["inertia_"] / skl["wcss"], 5) if skl else "-",
            ]
        )
    headers = [
        "K",
        "skseg inertia_/W",
        "skseg predict=nearest",
        "cv2 compactness/SSE",
        "cv2 SSE/W",
        "skl inertia_/W",
    ]
    print(format_table(headers, rows))
    print(
        "  (cv2 returns the labels of its last assignment step, made before its\n"
        "   final centre update, so SSE >= W; the WCSS table uses W, the number\n"
        "   most favourable to cv2.)"
    )

    checks = []
    row = results.get(ACCEPT_K)
    if row is None:
        checks.append(verdict(f"K={ACCEPT_K} speed/WCSS", None, "K=8 not run"))
    else:
        sk, cv = row["skseg"], row["cv2"]
        speedup = cv["seconds"] / sk["seconds"]
        checks.append(
            verdict(
                f"K={ACCEPT_K} speed vs cv2.kmeans >= {MIN_SPEEDUP_VS_CV2:g}x",
                speedup >= MIN_SPEEDUP_VS_CV2,
                f"{speedup:.1f}x ({fmt_seconds(cv['seconds'])} s vs "
                f"{sk['seconds']:.3f} s)",
            )
        )
        checks.append(
            verdict(
                f"K={ACCEPT_K} skseg WCSS <= cv2 WCSS",
                sk["wcss"] <= cv["wcss"],
                f"ratio {sk['wcss'] / cv['wcss']:.5f}",
            )
        )
        skl = row.get("sklearn")
        checks.append(
            verdict(
                f"K={ACCEPT_K} skseg WCSS <= {MAX_WCSS_RATIO_VS_SKLEARN} x sklearn",
                None
                if skl is None
                else sk["wcss"] / skl["wcss"] <= MAX_WCSS_RATIO_VS_SKLEARN,
                "sklearn not run at K=8"
                if skl is None
                else f"ratio {sk['wcss'] / skl['wcss']:.5f}",
            )
        )
    print()
    for check in checks:
        print(format_verdict(check))
    return {"cold_start": cold, "results": results, "checks": checks}


def small_section(ks) -> dict:
    print(section("2. Tutorial K values on the 512x512 astronaut (quantized output)"))
    img = load_astronaut(*SMALL_SHAPE)
    results, rows, checks = {}, [], []
    for k in ks:
        sk = run_skseg_quantized(img, k)
        skl = run_sklearn(img, k)
        r = sk["wcss"] / skl["wcss"]
        ok = sk["n_colors"] == k and r <= SMALL_MAX_WCSS_RATIO
        results[k] = {"skseg": sk, "sklearn": skl}
        rows.append(
            [
                k,
                fmt_seconds(sk["seconds"]),
                fmt_seconds(skl["seconds"]),
                sk["n_colors"],
                fmt_sci(sk["wcss"]),
                fmt_sci(skl["wcss"]),
                fmt_ratio(r, 5),
            ]
        )
        checks.append(
            verdict(
                f"K={k} quantized has K colours, WCSS <= {SMALL_MAX_WCSS_RATIO} x "
                "sklearn",
                ok,
                f"{sk['n_colors']} colours, ratio {r:.5f}",
            )
        )
    headers = [
        "K",
        "skseg s",
        "sklearn s",
        "colours",
        "WCSS skseg",
        "WCSS sklearn",
        "skseg/skl",
    ]
    print(format_table(headers, rows))
    print("  (skseg s = fit_transform with output='quantized'; sklearn s = fit)\n")
    for check in checks:
        print(format_verdict(check))
    return {"results": results, "checks": checks}


def memory_section(methods) -> dict:
    h, w = MEMORY_SHAPE
    print(
        section(
            f"3. Peak memory, labels for every pixel of a {w}x{h} photo "
            f"({h * w / 1e6:.0f} Mpx), K={MEMORY_K}"
        )
    )
    path = astronaut_path(h, w)
    print("  each method in a fresh process; peak RSS = VmHWM of that process;")
    print("  'skseg' uses the numba cache this run has filled, 'skseg-cold' none\n")
    results, rows = {}, []
    for method in methods:
        args = ["--_memchild", method, "--_image", str(path), "--_k", str(MEMORY_K)]
        with tempfile.TemporaryDirectory(prefix="skseg-numba-") as cache_dir:
            env = {"NUMBA_CACHE_DIR": cache_dir} if method == "skseg-cold" else None
            res = run_child(Path(__file__).resolve(), args, env=env)
        results[method] = res
        rows.append(
            [
                method,
                f"{res['rss_after_load_mb']:.0f}",
                f"{res['peak_rss_mb']:.0f}",
                f"{res['ru_maxrss_mb']:.0f}",
                fmt_seconds(res["seconds"]),
                res["labels_dtype"],
                MEMORY_DESCRIPTIONS[method],
            ]
        )
        print(f"  {method}: peak {res['peak_rss_mb']:.0f} MB", flush=True)
    print()
    headers = ["method", "RSS loaded", "peak RSS", "ru_maxrss", "job s", "labels"]
    headers.append("job")
    print(format_table(headers, rows, left=(0, 5, 6)))
    print(
        "  (MB; 'RSS loaded' = after imports + np.load, before the job;\n"
        "   ru_maxrss may include the parent's peak, see module docstring)"
    )
    checks = []
    if "skseg" in results:
        peak = results["skseg"]["peak_rss_mb"]
        checks.append(
            verdict(
                f"12 Mpx K={MEMORY_K} skseg peak RSS < {MAX_PEAK_RSS_MB:g} MB",
                peak < MAX_PEAK_RSS_MB,
                f"{peak:.0f} MB",
            )
        )
    else:
        checks.append(verdict("12 Mpx skseg peak RSS", None, "skseg not measured"))
    if "skseg-cold" in results:
        peak = results["skseg-cold"]["peak_rss_mb"]
        over = "over" if peak >= MAX_PEAK_RSS_MB else "under"
        checks.append(
            {
                "check": f"12 Mpx K={MEMORY_K} skseg peak RSS on first use "
                "(empty numba cache, JIT compile)",
                "status": "INFO",
                "detail": f"{peak:.0f} MB, {over} the {MAX_PEAK_RSS_MB:g} MB target",
            }
        )
    print()
    for check in checks:
        print(format_verdict(check))
    return {"shape": MEMORY_SHAPE, "k": MEMORY_K, "results": results, "checks": checks}


# ------------------------------------------------------------- large K (Pillow)
def pillow_quantize(img: np.ndarray, k: int, method: int, evaluate=True) -> dict:
    """Pillow's Image.quantize (no dithering): its time and the WCSS of its palette."""
    from PIL import Image

    pil = Image.fromarray(img)
    (seconds,), q = time_call(
        lambda: pil.quantize(k, method=method, dither=Image.Dither.NONE)
    )
    res = {"seconds": seconds}
    if evaluate:
        palette = np.array(q.getpalette()[: 3 * k], dtype=np.float64).reshape(-1, 3)
        res["wcss"] = nearest_center_wcss(img, palette, chunk=1 << 13)
    return res


def run_skseg_fit_transform(img: np.ndarray, k: int, repeat: int, evaluate=True):
    """fit + transform (output='quantized', the default), and predict alone."""
    from skseg import KMeansColorSegmenter

    X = img[None]

    def job():
        seg = KMeansColorSegmenter(n_clusters=k, random_state=0).fit(X)
        return seg, seg.transform(X)

    times, (seg, q) = time_call(job, repeat)
    assert q.shape == X.shape and q.dtype == X.dtype, (q.shape, q.dtype)
    t_predict, labels = time_call(lambda: seg.predict(X), repeat)
    res = {
        "seconds": statistics.median(times),
        "times": times,
        "predict_seconds": statistics.median(t_predict),
        "inertia_": float(seg.inertia_),
    }
    if evaluate:
        wcss, nearest = nearest_center_wcss(
            img, seg.cluster_centers_, chunk=1 << 13, return_labels=True
        )
        res["wcss"] = wcss
        res["predict_is_nearest"] = bool(np.array_equal(labels.reshape(-1), nearest))
    return res


def large_k_section(ks, repeat) -> dict:
    from threadpoolctl import threadpool_limits

    from skseg._parallel import fit_threads

    print(section("4. Large K on the 2048x2048 photo: skseg vs Pillow quantize"))
    img = load_astronaut(*SPEED_SHAPE)
    print(
        "  skseg = KMeansColorSegmenter(K, random_state=0) fit + transform\n"
        "  (quantized output), with its default threads (those of sklearn's\n"
        f"  KMeans: {fit_threads()} here) and again on one thread (INFO lines);\n"
        "  Pillow = Image.quantize(K, method, dither=NONE), single-threaded,\n"
        f"  0 = median cut, 2 = fast octree; medians of {repeat} runs each\n"
    )
    results, rows, checks = {}, [], []
    predict_8 = run_skseg_fit_transform(img, 8, repeat, evaluate=False)
    for k in ks:
        # Runs interleaved (skseg, median cut, octree, skseg, ...) so that
        # the load of a shared machine falls on all three alike.
        runs = {"skseg": [], "median_cut": [], "octree": [], "skseg_1t": []}
        for r in range(repeat):
            last = r == repeat - 1  # WCSS from the last run only
            runs["skseg"].append(run_skseg_fit_transform(img, k, 1, last))
            runs["median_cut"].append(pillow_quantize(img, k, 0, last))
            runs["octree"].append(pillow_quantize(img, k, 2, last))
            # the same fit on one thread (Pillow's quantize is single-threaded)
            with threadpool_limits(1):
                runs["skseg_1t"].append(run_skseg_fit_transform(img, k, 1, False))
        row = {}
        for name, rs in runs.items():
            row[name] = dict(rs[-1])
            row[name]["times"] = [r["seconds"] for r in rs]
            row[name]["seconds"] = statistics.median(row[name]["times"])
            if name == "skseg":
                row[name]["predict_seconds"] = statistics.median(
                    r["predict_seconds"] for r in rs
                )
        results[k] = row
        sk, mc, oc = row["skseg"], row["median_cut"], row["octree"]
        one = row.pop("skseg_1t")
        today = TODAY_WCSS.get(k)
        rows.append(
            [
                k,
                fmt_seconds(sk["seconds"]),
                fmt_seconds(mc["seconds"]),
                fmt_seconds(oc["seconds"]),
                fmt_ratio(sk["seconds"] / mc["seconds"], 3),
                fmt_sci(sk["wcss"]),
                fmt_sci(mc["wcss"]),
                fmt_sci(oc["wcss"]),
                fmt_ratio(sk["wcss"] / mc["wcss"], 3),
                fmt_ratio(sk["wcss"] / today, 4) if today else "-",
            ]
        )
        print(f"  K={k} done", flush=True)
        limit = LARGE_K_TIME_RATIO.get(k)
        if limit is not None:
            r = sk["seconds"] / mc["seconds"]
            checks.append(
                verdict(
                    f"K={k} fit+transform <= {limit:g} x Pillow median cut's time",
                    r <= limit,
                    f"{r:.3f}x ({sk['seconds']:.3f} s vs {mc['seconds']:.3f} s)",
                )
            )
        checks.append(
            {
                "check": f"K={k} fit+transform on one thread (threadpoolctl "
                "limit 1; default: the threads of sklearn's KMeans, "
                f"{fit_threads()} here)",
                "status": "INFO",
                "detail": f"{one['seconds'] / mc['seconds']:.3f}x median cut "
                f"({one['seconds']:.3f} s)",
            }
        )
        r = sk["wcss"] / mc["wcss"]
        checks.append(
            verdict(
                f"K={k} WCSS <= {LARGE_K_MAX_WCSS_VS_MEDIAN_CUT:g} x median cut's",
                r <= LARGE_K_MAX_WCSS_VS_MEDIAN_CUT,
                f"ratio {r:.4f}",
            )
        )
        if today:
            r = sk["wcss"] / today
            checks.append(
                verdict(
                    f"K={k} WCSS <= {LARGE_K_MAX_WCSS_VS_TODAY:g} x skseg 1c0f439's",
                    r <= LARGE_K_MAX_WCSS_VS_TODAY,
                    f"ratio {r:.5f} ({sk['wcss']:.6e} vs {today:.6e})",
                )
            )
        checks.append(
            verdict(
                f"K={k} predict labels == nearest centre for every pixel",
                sk["predict_is_nearest"],
                "identical" if sk["predict_is_nearest"] else "differ",
            )
        )
    headers = [
        "K",
        "skseg s",
        "median cut s",
        "octree s",
        "skseg/mc",
        "WCSS skseg",
        "WCSS median cut",
        "WCSS octree",
        "skseg/mc",
        "skseg/1c0f439",
    ]
    print(format_table(headers, rows))
    print(
        "  (skseg/1c0f439: WCSS against skseg before this change, measured once\n"
        "   with the code of commit 1c0f439 on this photo: TODAY_WCSS)\n"
    )
    rows = [[8, fmt_seconds(predict_8["predict_seconds"]), "1.00"]]
    for k in ks:
        t = results[k]["skseg"]["predict_seconds"]
        rows.append([k, fmt_seconds(t), fmt_ratio(t / predict_8["predict_seconds"], 2)])
    print(format_table(["K", "predict s", "/ K=8"], rows))
    if ks:
        k = max(ks)
        r = results[k]["skseg"]["predict_seconds"] / predict_8["predict_seconds"]
        checks.append(
            verdict(
                f"K={k} predict costs about what K=8 costs (<= "
                f"{MAX_PREDICT_RATIO_VS_K8:g}x)",
                r <= MAX_PREDICT_RATIO_VS_K8,
                f"{r:.2f}x",
            )
        )
    print()
    for check in checks:
        print(format_verdict(check))
    return {"results": results, "predict_k8": predict_8, "checks": checks}


# ------------------------------------------------------- small K (Pillow octree)
def octree_section(ks, repeat) -> dict:
    from skseg import KMeansColorSegmenter

    print(section("6. Small K on the 2048x2048 photo: skseg vs Pillow's octree"))
    img = load_astronaut(*SPEED_SHAPE)
    X = img[None]
    print(
        "  skseg = KMeansColorSegmenter(K, random_state=0) fit + transform\n"
        "  (quantized output); Pillow = Image.quantize(K, method, dither=NONE),\n"
        f"  2 = fast octree, 0 = median cut; runs interleaved, best of {repeat}\n"
    )
    results, rows, checks, fitted = {}, [], [], {}
    for k in ks:
        runs = {"skseg": [], "octree": [], "median_cut": []}
        for r in range(repeat):
            t0 = time.perf_counter()
            seg = KMeansColorSegmenter(k, random_state=0).fit(X)
            seg.transform(X)
            runs["skseg"].append(time.perf_counter() - t0)
            last = r == repeat - 1
            runs["octree"].append(pillow_quantize(img, k, 2, last))
            runs["median_cut"].append(pillow_quantize(img, k, 0, last))
        fitted[k] = seg
        wcss = nearest_center_wcss(img, seg.cluster_centers_, chunk=1 << 13)
        row = {
            "skseg_s": min(runs["skseg"]),
            "octree_s": min(r["seconds"] for r in runs["octree"]),
            "median_cut_s": min(r["seconds"] for r in runs["median_cut"]),
            "wcss": wcss,
            "octree_wcss": runs["octree"][-1]["wcss"],
            "median_cut_wcss": runs["median_cut"][-1]["wcss"],
        }
        results[k] = row
    # transform alone: rounds of every K in turn, best of the rounds
    transforms = {k: [] for k in ks}
    for _ in range(repeat):
        for k in ks:
            t0 = time.perf_counter()
            fitted[k].transform(X)
            transforms[k].append(time.perf_counter() - t0)
    for k in ks:
        row = results[k]
        row["transform_s"] = min(transforms[k])
        wcss = row["wcss"]
        ratio = row["skseg_s"] / row["octree_s"]
        today = wcss / TODAY_SMALL_WCSS[k]
        rows.append(
            [
                k,
                fmt_seconds(row["skseg_s"]),
                fmt_seconds(row["transform_s"]),
                fmt_seconds(row["octree_s"]),
                fmt_seconds(row["median_cut_s"]),
                fmt_ratio(ratio, 2),
                fmt_sci(wcss),
                fmt_sci(row["octree_wcss"]),
                fmt_sci(row["median_cut_wcss"]),
                fmt_ratio(today, 5),
            ]
        )
        if k in (3, 8, 16):
            checks.append(
                verdict(
                    f"K={k} fit+transform <= {OCTREE_TIME_RATIO:g}x Pillow octree's",
                    ratio <= OCTREE_TIME_RATIO,
                    f"{ratio:.2f}x ({row['skseg_s'] * 1e3:.0f} ms vs "
                    f"{row['octree_s'] * 1e3:.0f} ms)",
                )
            )
        limit = SMALL_K_MAX_WCSS_VS_TODAY[k]
        checks.append(
            verdict(
                f"K={k} WCSS <= {limit:g}x skseg 9788bc4's",
                today <= limit,
                f"{today:.6f}",
            )
        )
    headers = ["K", "skseg s", "transform s", "octree s", "median cut s",
               "skseg/octree", "WCSS skseg", "WCSS octree", "WCSS median cut",
               "skseg/9788bc4"]  # fmt: skip
    print(format_table(headers, rows))
    base = results[min(ks)]["transform_s"]
    worst = max(r["transform_s"] for r in results.values()) / base
    checks.append(
        verdict(
            f"transform at any K <= {MAX_TRANSFORM_RATIO_VS_K3:g}x the K={min(ks)} "
            "transform",
            worst <= MAX_TRANSFORM_RATIO_VS_K3,
            ", ".join(
                f"K={k} {r['transform_s'] / base:.2f}x" for k, r in results.items()
            ),
        )
    )
    print()
    for check in checks:
        print(format_verdict(check))
    return {"results": results, "checks": checks}


# -------------------------------------------------------------- float images
def float_photo_path(h: int, w: int) -> Path:
    """The 12 Mpx photo as ColorSpaceTransformer('hsv', 'cossin') hands it on."""
    path = astronaut_path(h, w).with_name(f"astronaut_hsvcossin_{h}x{w}_f32.npy")
    if not path.exists():
        from skseg import ColorSpaceTransformer

        img = np.load(astronaut_path(h, w))
        hsv = ColorSpaceTransformer("hsv", hue_encoding="cossin").fit_transform(
            img[None]
        )[0]
        np.save(path, np.ascontiguousarray(hsv, dtype=np.float32))
    return path


def float_section(methods) -> dict:
    h, w = MEMORY_SHAPE
    print(
        section(
            f"5. Float images, {w}x{h} ({h * w / 1e6:.0f} Mpx), K={MEMORY_K}, "
            "fit + predict"
        )
    )
    print(
        "  each in a fresh process (numba cache warm); peak RSS = VmHWM;\n"
        "  float photo = ColorSpaceTransformer('hsv', hue_encoding='cossin') of\n"
        "  the uint8 photo (float32); noise = uniform float32, every pixel\n"
        "  distinct; WCSS recomputed over all pixels from the centres\n"
    )
    paths = {
        "uint8-photo": astronaut_path(h, w),
        "float-photo": float_photo_path(h, w),
        "float-photo-table": float_photo_path(h, w),
        "float-noise": None,
        "noise-sklearn": None,
    }
    results, rows = {}, []
    for method in methods:
        args = ["--_memchild", method, "--_k", str(MEMORY_K)]
        if paths[method] is not None:
            args += ["--_image", str(paths[method])]
        res = run_child(Path(__file__).resolve(), args)
        results[method] = res
        rows.append(
            [
                method,
                f"{res['rss_after_load_mb']:.0f}",
                f"{res['peak_rss_mb']:.0f}",
                fmt_seconds(res["seconds"]),
                fmt_sci(res.get("wcss")),
                FLOAT_DESCRIPTIONS[method],
            ]
        )
        print(f"  {method}: {res['seconds']:.2f} s, peak {res['peak_rss_mb']:.0f} MB")
    print()
    headers = ["method", "RSS loaded", "peak RSS", "job s", "WCSS", "job"]
    print(format_table(headers, rows, left=(0, 5)))
    checks = []
    u8 = results.get("uint8-photo")
    for name, max_peak, max_ratio in (
        ("float-photo", FLOAT_PHOTO_MAX_PEAK_MB, FLOAT_PHOTO_MAX_TIME_RATIO),
        ("float-noise", FLOAT_NOISE_MAX_PEAK_MB, FLOAT_NOISE_MAX_TIME_RATIO),
    ):
        res = results.get(name)
        if res is None:
            continue
        checks.append(
            verdict(
                f"{name} peak RSS < {max_peak:g} MB",
                res["peak_rss_mb"] < max_peak,
                f"{res['peak_rss_mb']:.0f} MB",
            )
        )
        if u8 is not None:
            r = res["seconds"] / u8["seconds"]
            checks.append(
                verdict(
                    f"{name} time <= {max_ratio:g} x the uint8 photo's",
                    r <= max_ratio,
                    f"{r:.2f}x ({res['seconds']:.2f} s vs {u8['seconds']:.2f} s)",
                )
            )
        checks.append(
            verdict(
                f"{name} inertia_ is the exact WCSS over all pixels",
                abs(res["inertia_"] / res["wcss"] - 1) < 1e-9,
                f"inertia_/WCSS = {res['inertia_'] / res['wcss']:.12f}",
            )
        )
    if "float-noise" in results and "noise-sklearn" in results:
        r = results["float-noise"]["wcss"] / results["noise-sklearn"]["wcss"]
        checks.append(
            verdict(
                f"float-noise WCSS <= {FLOAT_NOISE_MAX_WCSS_RATIO} x "
                "KMeans(n_init=3) on all pixels",
                r <= FLOAT_NOISE_MAX_WCSS_RATIO,
                f"ratio {r:.5f}",
            )
        )
    if "float-photo" in results and "float-photo-table" in results:
        r = results["float-photo"]["wcss"] / results["float-photo-table"]["wcss"]
        checks.append(
            {
                "check": "float-photo coreset path WCSS / exact weighted k-means "
                "over its distinct colours (information: the path's error)",
                "status": "INFO",
                "detail": f"ratio {r:.5f}",
            }
        )
    print()
    for check in checks:
        print(format_verdict(check))
    return {"results": results, "checks": checks}


# ------------------------------------------------------------------ memory child
def memory_child(method: str, image_path: str, k: int) -> None:
    """Run one method on the photo and report this process's peak memory."""
    if method in ("baseline", "skseg", "skseg-cold"):
        from skseg import KMeansColorSegmenter
    elif method == "cv2":
        import cv2
    elif method == "sklearn":
        from sklearn.cluster import KMeans
    else:
        raise SystemExit(f"unknown method {method!r}")

    img = np.load(image_path)
    rss_loaded = current_rss_mb()
    t0 = time.perf_counter()
    n_labels, labels_dtype = 0, "-"
    if method in ("skseg", "skseg-cold"):
        seg = KMeansColorSegmenter(n_clusters=k, random_state=0).fit(img[None])
        labels = seg.predict(img[None])
        n_labels, labels_dtype = labels.size, labels.dtype.name
    elif method == "cv2":
        cv2.setRNGSeed(0)
        pixels = img.reshape(-1, 3).astype(np.float32)
        criteria = (cv2.TERM_CRITERIA_EPS + cv2.TERM_CRITERIA_MAX_ITER, 10, 1.0)
        _, labels, _ = cv2.kmeans(pixels, k, None, criteria, 10, cv2.KMEANS_PP_CENTERS)
        n_labels, labels_dtype = labels.size, labels.dtype.name
    elif method == "sklearn":
        pixels = img.reshape(-1, 3).astype(np.float64)
        labels = KMeans(n_clusters=k, n_init=10, random_state=0).fit(pixels).labels_
        n_labels, labels_dtype = labels.size, labels.dtype.name
    seconds = time.perf_counter() - t0
    if method != "baseline" and n_labels != img.shape[0] * img.shape[1]:
        raise SystemExit(f"{method}: {n_labels} labels for {img.shape[:2]} pixels")
    child_report(
        {
            "method": method,
            "rss_after_load_mb": rss_loaded,
            "peak_rss_mb": peak_rss_mb(),
            "ru_maxrss_mb": ru_maxrss_mb(),
            "seconds": seconds,
            "n_labels": n_labels,
            "labels_dtype": labels_dtype,
        }
    )


def float_child(method: str, image_path: str | None, k: int) -> None:
    """One float-section job in this fresh process; reports time, peak, WCSS."""
    if method == "noise-sklearn":
        from sklearn.cluster import KMeans
    else:
        from skseg import KMeansColorSegmenter

    if image_path:
        img = np.load(image_path)
    else:
        h, w = MEMORY_SHAPE
        img = np.random.default_rng(0).random((h, w, 3), dtype=np.float32)
    rss_loaded = current_rss_mb()
    X = img[None]
    t0 = time.perf_counter()
    if method == "noise-sklearn":
        pixels = img.reshape(-1, 3).astype(np.float64)
        km = KMeans(n_clusters=k, n_init=3, random_state=0).fit(pixels)
        centers, inertia = km.cluster_centers_, float(km.inertia_)
        del pixels, km
    elif method == "float-photo-table":
        # The exact path: distinct-colour table, weighted k-means over it.
        from skseg._engine.strategy import fit_palette
        from skseg._engine.tables import count_colors

        px = img.reshape(-1, 3)
        table = count_colors([px], px.dtype, 3, n_pixels=px.shape[0])
        palette = fit_palette(table, k, random_state=0)
        centers, inertia = palette.centers, palette.inertia
    else:
        seg = KMeansColorSegmenter(n_clusters=k, random_state=0).fit(X)
        labels = seg.predict(X)
        assert labels.shape == X.shape[:3], labels.shape
        centers, inertia = seg.cluster_centers_, float(seg.inertia_)
    seconds = time.perf_counter() - t0
    peak = peak_rss_mb()
    child_report(
        {
            "method": method,
            "rss_after_load_mb": rss_loaded,
            "peak_rss_mb": peak,
            "seconds": seconds,
            "inertia_": inertia,
            "wcss": nearest_center_wcss(img, centers),
            "centers": np.asarray(centers).tolist(),
        }
    )


# --------------------------------------------------------------------------- main
def parse_ks(text: str) -> list[int]:
    text = text.strip().lower()
    if text in ("", "none"):
        return []
    return [int(v) for v in text.split(",")]


def parse_methods(text: str) -> list[str]:
    text = text.strip().lower()
    if text in ("", "none"):
        return []
    methods = [m.strip() for m in text.split(",")]
    unknown = set(methods) - set(MEMORY_METHODS)
    if unknown:
        raise argparse.ArgumentTypeError(f"unknown method(s): {sorted(unknown)}")
    return methods


def parse_float_methods(text: str) -> list[str]:
    text = text.strip().lower()
    if text in ("", "none"):
        return []
    methods = [m.strip() for m in text.split(",")]
    unknown = set(methods) - set(FLOAT_METHODS)
    if unknown:
        raise argparse.ArgumentTypeError(f"unknown method(s): {sorted(unknown)}")
    return methods


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "--ks",
        type=parse_ks,
        default=[3, 8, 16],
        help="K values for the 2048x2048 speed section (default 3,8,16)",
    )
    p.add_argument(
        "--sklearn-ks",
        type=parse_ks,
        default=None,
        help="K values at which to run sklearn KMeans on 2048x2048 "
        "(default: all --ks; 'none' to skip; 10-30 s per K)",
    )
    p.add_argument(
        "--small-ks",
        type=parse_ks,
        default=[3, 5, 7],
        help="K values for the 512x512 quantized section (default 3,5,7; 'none')",
    )
    p.add_argument(
        "--mem-methods",
        type=parse_methods,
        default=None,
        help=f"comma list from {','.join(MEMORY_METHODS)} (default: all; 'none')",
    )
    p.add_argument(
        "--repeat",
        type=int,
        default=None,
        help="skseg timing runs, median reported (default 3, 1 with --quick)",
    )
    p.add_argument(
        "--quick",
        action="store_true",
        help="sklearn only at K=8 in section 1, no sklearn memory child, --repeat 1",
    )
    p.add_argument(
        "--large-ks",
        type=parse_ks,
        default=list(LARGE_KS),
        help="K values for the Pillow section (default 64,256; 'none')",
    )
    p.add_argument(
        "--float-methods",
        type=parse_float_methods,
        default=None,
        help=f"comma list from {','.join(FLOAT_METHODS)} (default: all; 'none'; "
        "noise-sklearn takes minutes, float-photo-table ~1 GB)",
    )
    p.add_argument(
        "--octree-ks",
        type=parse_ks,
        default=list(OCTREE_KS),
        help="K values for the Pillow octree section (default 3,8,16,32; 'none')",
    )
    p.add_argument(
        "--only-octree", action="store_true", help="only the Pillow octree section"
    )
    p.add_argument("--json", metavar="PATH", help="also write results as JSON")
    # private: one memory measurement in a fresh process
    p.add_argument("--_memchild", help=argparse.SUPPRESS)
    p.add_argument("--_image", help=argparse.SUPPRESS)
    p.add_argument("--_k", type=int, default=MEMORY_K, help=argparse.SUPPRESS)
    return p


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    if args._memchild in FLOAT_METHODS:
        float_child(args._memchild, args._image, args._k)
        return 0
    if args._memchild:
        memory_child(args._memchild, args._image, args._k)
        return 0

    repeat = args.repeat or (1 if args.quick else 3)
    sklearn_ks = args.sklearn_ks
    if sklearn_ks is None:
        sklearn_ks = [ACCEPT_K] if args.quick else list(args.ks)
    mem_methods = args.mem_methods
    if mem_methods is None:
        mem_methods = [m for m in MEMORY_METHODS if not (args.quick and m == "sklearn")]

    cold = skseg_cold_start()  # first, so the import is really cold
    env = environment(["numpy", "sklearn", "cv2", "skseg", "numba", "skimage"])
    import skseg

    print("KMeansColorSegmenter benchmark")
    print(format_environment(env))
    print(f"skseg from {Path(skseg.__file__).parent}")
    try:
        import cv2

        print(f"cv2 threads: {cv2.getNumThreads()}")
    except ImportError:
        pass

    for shape in (SPEED_SHAPE, SMALL_SHAPE):
        astronaut_path(*shape)  # build the caches once, outside any timing
    if mem_methods:
        astronaut_path(*MEMORY_SHAPE)

    report = {"environment": env, "argv": sys.argv[1:]}
    if args.only_octree:
        report["octree"] = octree_section(args.octree_ks, repeat)
        return finish(report, report["octree"]["checks"], args.json)
    report["speed"] = speed_section(args.ks, sklearn_ks, repeat, cold)
    if args.small_ks:
        report["small"] = small_section(args.small_ks)
    if mem_methods:
        report["memory"] = memory_section(mem_methods)
    if args.large_ks:
        report["large_k"] = large_k_section(args.large_ks, repeat)
    float_methods = args.float_methods
    if float_methods is None:
        float_methods = list(FLOAT_METHODS)
    if float_methods:
        report["float"] = float_section(float_methods)
    if args.octree_ks:
        report["octree"] = octree_section(args.octree_ks, repeat)

    checks = [
        c
        for part in ("speed", "small", "memory", "large_k", "float", "octree")
        for c in report.get(part, {}).get("checks", [])
    ]
    return finish(report, checks, args.json)


if __name__ == "__main__":
    sys.exit(main())
