"""Benchmark skseg.ElbowKSelector against a scikit-learn loop + kneed.

What it measures, in one run:

1. The tutorial's elbow method, K = 1..10, on a 2048x2048 photo
   (``skimage.data.astronaut()`` upscaled bilinearly: ~0.5 M distinct colours,
   like a real photo):

   - skseg: ``ElbowKSelector(random_state=0).fit(X[None])`` (counts the
     colours, fits a palette for every K, locates the knee, fits
     ``best_estimator_``), timed whole. numba is warmed up on a small image
     first. The median of ``--repeat`` runs is used; one run with ``n_jobs=2``
     is reported for information.
   - reference: ``sklearn.cluster.KMeans(n_clusters=K, n_init=1,
     random_state=0).fit(pixels)`` for K = 1..10 on all pixels as float64, then
     ``kneed.KneeLocator(K, WCSS, curve="convex", direction="decreasing")``,
     one run, timed whole (pixel conversion included).

   Every WCSS on both curves is recomputed the same way, in float64, from the
   centres each method returns (each pixel on its nearest centre, over all
   pixels), and skseg's own ``inertias_`` are checked against it. Acceptance:
   skseg >= 25x faster, every WCSS of skseg's curve <= 1.01 x the reference's,
   skseg's curve non-increasing.

2. Knee accuracy on synthetic images of k flat colour bands plus Gaussian
   noise (sd 10 on the 0-255 scale), k = 2..7, ``--seeds`` seeds: colours drawn
   uniformly in the RGB cube with pairwise distances >= 60, equal vertical
   bands, 128x128 pixels, uint8. For each image: skseg's ``n_clusters_``;
   the reference (sklearn loop + kneed on its raw WCSS); and kneed on skseg's
   own curve (to separate the knee rule from the curve). Acceptance: skseg
   answers k on every image.

Test photos are cached as .npy files in ``benchmarks/_data/`` (gitignored).

Run from the repository root (the working-tree skseg is benchmarked)::

    python benchmarks/bench_elbow.py                  # everything, ~1 min
    python benchmarks/bench_elbow.py --seeds 10 --json results/elbow.json
    python benchmarks/bench_elbow.py --no-photo       # knee table only
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import warnings
from pathlib import Path

import numpy as np
from _common import (
    astronaut_path,
    environment,
    finish,
    fmt_ratio,
    fmt_sci,
    fmt_seconds,
    format_environment,
    format_table,
    format_verdict,
    load_astronaut,
    n_distinct_colors,
    nearest_center_wcss,
    section,
    time_call,
    verdict,
)

PHOTO_SHAPE = (2048, 2048)
K_VALUES = list(range(1, 11))
MIN_SPEEDUP = 25.0
MAX_WCSS_RATIO = 1.01
BAND_KS = range(2, 8)
BAND_SHAPE = (128, 128)
BAND_NOISE_SD = 10.0
BAND_MIN_DIST = 60.0


# ------------------------------------------------------------------------ data
def band_image(k: int, seed: int, shape=BAND_SHAPE) -> np.ndarray:
    """k flat vertical colour bands + Gaussian noise, (h, w, 3) uint8."""
    rng = np.random.default_rng(seed)
    while True:
        colours = rng.uniform(0, 255, (k, 3))
        d = np.sqrt(((colours[:, None] - colours[None]) ** 2).sum(-1))
        if k == 1 or d[np.triu_indices(k, 1)].min() >= BAND_MIN_DIST:
            break
    h, w = shape
    img = colours[np.arange(w) * k // w][None].repeat(h, axis=0)
    img = img + rng.normal(0, BAND_NOISE_SD, img.shape)
    return np.clip(np.rint(img), 0, 255).astype(np.uint8)


# --------------------------------------------------------------------- methods
def run_skseg(img: np.ndarray, n_jobs=None):
    from skseg.model_selection import ElbowKSelector

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", UserWarning)
        sel = ElbowKSelector(random_state=0, n_jobs=n_jobs).fit(img[None])
    return sel, [str(w.message) for w in caught]


def run_reference(img: np.ndarray, ks=K_VALUES):
    """sklearn KMeans(n_init=1) for every K on all pixels, then kneed."""
    import kneed
    from sklearn.cluster import KMeans

    pixels = img.reshape(-1, img.shape[-1]).astype(np.float64)
    centers, inertias = [], []
    for k in ks:
        km = KMeans(n_clusters=k, n_init=1, random_state=0).fit(pixels)
        centers.append(km.cluster_centers_)
        inertias.append(float(km.inertia_))
    knee = kneed.KneeLocator(
        list(ks), inertias, curve="convex", direction="decreasing"
    ).knee
    return {"centers": centers, "inertias": inertias, "knee": knee}


def kneed_knee(ks, wcss):
    import kneed

    return kneed.KneeLocator(
        list(ks), list(wcss), curve="convex", direction="decreasing"
    ).knee


# -------------------------------------------------------------------- sections
def photo_section(repeat: int) -> dict:
    h, w = PHOTO_SHAPE
    print(section(f"1. Elbow curve K = 1..10 on the {w}x{h} astronaut"))
    img = load_astronaut(*PHOTO_SHAPE)
    print(
        f"  {h * w:,} pixels, {n_distinct_colors(img):,} distinct colours; "
        f"skseg = median of {repeat} ElbowKSelector.fit runs"
    )
    times, (sel, msgs) = time_call(lambda: run_skseg(img), repeat)
    t_skseg = statistics.median(times)
    (t_par,), (sel_par, _) = time_call(lambda: run_skseg(img, n_jobs=2))
    print(f"  skseg: {fmt_seconds(t_skseg)} s (runs {[round(t, 3) for t in times]})")
    print(f"  skseg n_jobs=2: {fmt_seconds(t_par)} s", flush=True)
    (t_ref,), ref = time_call(lambda: run_reference(img))
    print(f"  reference (sklearn loop + kneed): {fmt_seconds(t_ref)} s", flush=True)

    ks = [int(k) for k in sel.k_values_]
    ours = [nearest_center_wcss(img, c) for c in sel.palettes_]
    theirs = [nearest_center_wcss(img, c) for c in ref["centers"]]
    rows, ratios = [], []
    for k, w_ours, w_self, w_ref, w_skl in zip(
        ks, ours, sel.inertias_, theirs, ref["inertias"]
    ):
        r = w_ours / w_ref
        ratios.append(r)
        rows.append(
            [
                k,
                fmt_sci(w_ours),
                fmt_sci(w_ref),
                fmt_ratio(r, 5),
                fmt_ratio(w_self / w_ours, 7),
                fmt_ratio(w_skl / w_ref, 7),
            ]
        )
    print("\n  WCSS over all pixels (float64, nearest centre, from each method's")
    print("  centres); ratio < 1 means skseg is better\n")
    headers = ["K", "skseg", "reference", "skseg/ref", "inertias_/W", "skl inertia_/W"]
    print(format_table(headers, rows))

    speedup = t_ref / t_skseg
    knee_ref = ref["knee"]
    print(
        f"\n  chosen K: skseg {sel.n_clusters_}"
        f"{' (with warning)' if msgs else ''}, reference kneed {knee_ref}, "
        f"kneed on skseg's curve {kneed_knee(ks, ours)}"
    )
    for m in msgs:
        print(f"  skseg warning: {m}")
    monotone = bool(np.all(np.diff(ours) <= 0))
    checks = [
        verdict(
            f"2048x2048 K=1..10 speed >= {MIN_SPEEDUP:g}x the sklearn loop + kneed",
            speedup >= MIN_SPEEDUP,
            f"{speedup:.1f}x ({fmt_seconds(t_ref)} s vs {t_skseg:.3f} s)",
        ),
        verdict(
            f"every WCSS on the curve <= {MAX_WCSS_RATIO} x the reference's",
            max(ratios) <= MAX_WCSS_RATIO,
            f"max ratio {max(ratios):.5f} (K={ks[int(np.argmax(ratios))]}), min "
            f"{min(ratios):.5f}",
        ),
        verdict(
            "skseg's curve is non-increasing in K",
            monotone,
            "recomputed WCSS " + ("non-increasing" if monotone else "increases"),
        ),
        {
            "check": "n_jobs=2 (information)",
            "status": "INFO",
            "detail": f"{fmt_seconds(t_par)} s, same K: "
            f"{sel_par.n_clusters_ == sel.n_clusters_}",
        },
    ]
    print()
    for c in checks:
        print(format_verdict(c))
    return {
        "seconds_skseg": times,
        "seconds_skseg_n_jobs_2": t_par,
        "seconds_reference": t_ref,
        "k_values": ks,
        "wcss_skseg": ours,
        "wcss_reference": theirs,
        "chosen_skseg": sel.n_clusters_,
        "chosen_reference": knee_ref,
        "warnings": msgs,
        "checks": checks,
    }


def bands_section(seeds: int) -> dict:
    h, w = BAND_SHAPE
    print(
        section(
            f"2. Knee accuracy: k colour bands + noise sd {BAND_NOISE_SD:g}, "
            f"{w}x{h}, {seeds} seeds"
        )
    )
    rows, results = [], {}
    ok_ours = ok_ref = ok_kneed_ours = total = 0
    t_ours = t_ref = 0.0
    for k in BAND_KS:
        ours, refs, kneed_ours = [], [], []
        for seed in range(seeds):
            img = band_image(k, seed)
            t0 = time.perf_counter()
            sel, _ = run_skseg(img)
            t_ours += time.perf_counter() - t0
            t0 = time.perf_counter()
            ref = run_reference(img)
            t_ref += time.perf_counter() - t0
            ours.append(int(sel.n_clusters_))
            refs.append(ref["knee"])
            kneed_ours.append(kneed_knee(sel.k_values_, sel.inertias_))
        results[k] = {"skseg": ours, "reference": refs, "kneed_on_skseg": kneed_ours}
        ok_ours += sum(v == k for v in ours)
        ok_ref += sum(v == k for v in refs)
        ok_kneed_ours += sum(v == k for v in kneed_ours)
        total += seeds
        rows.append(
            [
                k,
                f"{sum(v == k for v in ours)}/{seeds}",
                " ".join(map(str, ours)),
                f"{sum(v == k for v in refs)}/{seeds}",
                " ".join(map(str, refs)),
                " ".join(map(str, kneed_ours)),
            ]
        )
        print(f"  k={k} done", flush=True)
    print()
    headers = [
        "k",
        "skseg",
        "skseg answers",
        "sklearn+kneed",
        "sklearn+kneed answers",
        "kneed on skseg curve",
    ]
    print(format_table(headers, rows, left=(0, 2, 4, 5)))
    print(f"\n  total time: skseg {t_ours:.1f} s, sklearn loop + kneed {t_ref:.1f} s")
    checks = [
        verdict(
            f"bands k=2..7 x {seeds} seeds: skseg n_clusters_ == k every time",
            ok_ours == total,
            f"{ok_ours}/{total}",
        ),
        {
            "check": "reference sklearn loop + kneed on the raw WCSS (information)",
            "status": "INFO",
            "detail": f"{ok_ref}/{total} right; kneed on skseg's own curve "
            f"{ok_kneed_ours}/{total}",
        },
    ]
    print()
    for c in checks:
        print(format_verdict(c))
    return {"results": results, "checks": checks}


# ------------------------------------------------------------------------ main
def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "--repeat", type=int, default=3, help="skseg timing runs (median; default 3)"
    )
    p.add_argument(
        "--seeds", type=int, default=5, help="seeds per k in the band table (5)"
    )
    p.add_argument("--no-photo", action="store_true", help="skip the 2048x2048 section")
    p.add_argument("--json", metavar="PATH", help="also write results as JSON")
    return p


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    env = environment(["numpy", "sklearn", "kneed", "skseg", "numba", "skimage"])
    import skseg

    print("ElbowKSelector benchmark")
    print(format_environment(env))
    print(f"skseg from {Path(skseg.__file__).parent}")
    if not args.no_photo:
        astronaut_path(*PHOTO_SHAPE)  # build the cache outside any timing
    # numba warm-up (JIT compile or cache load), outside the timings
    run_skseg(band_image(3, 0, (32, 32)))
    run_skseg(load_astronaut(512, 512)[::4, ::4])

    report = {"environment": env, "argv": sys.argv[1:]}
    if not args.no_photo:
        report["photo"] = photo_section(args.repeat)
    report["bands"] = bands_section(args.seeds)
    checks = [
        c for part in ("photo", "bands") for c in report.get(part, {}).get("checks", [])
    ]
    return finish(report, checks, args.json)


if __name__ == "__main__":
    sys.exit(main())
