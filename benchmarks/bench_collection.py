"""Throughput of ``skseg segment`` on a folder of photos, against OpenCV.

Writes a folder of 600 JPEG photos of 512x384 (crops, flips and colour
jitter of the bundled sample photos, see ``_collection.py``; cached in
``benchmarks/_data/collection_600``) and measures, in the same run:

- ``skseg segment FOLDER --n-clusters 8 --output OUT`` (one shared palette,
  streamed: colours counted per file, palette fitted once, files segmented
  and written), and ``--per-image`` (a palette per photo, as the tutorial);
- a plain loop of the tutorial's OpenCV code on the same files:
  ``cv2.imread``, ``cv2.kmeans(Z, 8, None, (EPS + MAX_ITER, 10, 1.0), 10,
  KMEANS_PP_CENTERS)``, ``centers[labels].reshape(img.shape)``,
  ``cv2.imwrite``. It takes seconds per photo, so it runs on the first
  ``--opencv-subset`` files and its rate is extrapolated to the folder
  (stated in the output);
- a ``partial_fit`` loop over 20 chunks of the photos against one ``fit`` on
  all of them (best of ``--repeat`` interleaved runs each; the machine is
  shared), with the photos in three orders: as listed (mixed chunks),
  sorted by scene, and sorted by brightness (issue 16).

Each command runs in its own process, timed from outside (wall clock,
start-up included) with its peak resident memory from ``/usr/bin/time -v``
(or ``getrusage(RUSAGE_CHILDREN)`` of a wrapper process when that is
missing).

Acceptance (issue 12): 600 results written, peak memory < 500 MB, >= 10x the
images/s of the OpenCV loop. Issue 16: in every order, the partial_fit loop
<= 1.5x one fit, its WCSS within 1% of fit's, and its ``inertia_`` the true
WCSS of its palette (within 0.1%).

Run: ``python benchmarks/bench_collection.py [--jobs 2] [--json out.json]``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from _common import (  # noqa: I001 - benchmarks/ is on sys.path
    DATA_DIR,
    REPO_ROOT,
    environment,
    finish,
    format_environment,
    format_table,
    section,
    verdict,
)

N_PHOTOS = 600
HEIGHT, WIDTH = 384, 512
K = 8

OPENCV_LOOP = r"""
import sys
from pathlib import Path
import cv2
import numpy as np

src, dst, n = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3])
dst.mkdir(parents=True, exist_ok=True)
criteria = (cv2.TERM_CRITERIA_EPS + cv2.TERM_CRITERIA_MAX_ITER, 10, 1.0)
for path in sorted(src.glob("*.jpg"))[:n]:
    img = cv2.imread(str(path))
    Z = img.reshape((-1, 3)).astype(np.float32)
    _, labels, centers = cv2.kmeans(
        Z, 8, None, criteria, 10, cv2.KMEANS_PP_CENTERS
    )
    res = np.uint8(centers)[labels.flatten()].reshape(img.shape)
    cv2.imwrite(str(dst / (path.stem + "_k8.png")), res)
"""

PEAK_WRAPPER = r"""
import resource, subprocess, sys
code = subprocess.run(sys.argv[1:]).returncode
print("PEAK_KB", resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
sys.exit(code)
"""


def write_collection(folder: Path) -> Path:
    """The 600 JPEG photos (written once, then reused)."""
    done = folder / ".complete"
    if done.exists() and len(list(folder.glob("*.jpg"))) == N_PHOTOS:
        return folder
    from _collection import make_photo
    from PIL import Image

    folder.mkdir(parents=True, exist_ok=True)
    for i in range(N_PHOTOS):
        photo = make_photo(i, HEIGHT, WIDTH, seed=12)
        Image.fromarray(photo).save(folder / f"photo{i:04d}.jpg", quality=90)
    done.write_text("")
    return folder


def timed(
    cmd: list[str], env: dict
) -> tuple[float, float, subprocess.CompletedProcess]:
    """Wall seconds, peak RSS in MB, and the result of running ``cmd``."""
    if Path("/usr/bin/time").exists():
        full = ["/usr/bin/time", "-v", *cmd]
    else:
        full = [sys.executable, "-c", PEAK_WRAPPER, *cmd]
    t0 = time.perf_counter()
    proc = subprocess.run(full, capture_output=True, text=True, env=env)
    seconds = time.perf_counter() - t0
    peak = float("nan")
    for line in proc.stderr.splitlines() + proc.stdout.splitlines():
        if "Maximum resident set size" in line:
            peak = int(line.split()[-1]) * 1024 / 1e6
        elif line.startswith("PEAK_KB"):
            peak = int(line.split()[1]) * 1024 / 1e6
    if proc.returncode != 0:
        raise RuntimeError(f"{cmd} failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    return seconds, peak, proc


#: Orders of the photos fed to partial_fit (issue 16): as listed (the
#: collection cycles through its 6 source photos, so every chunk is mixed),
#: sorted by source photo (a folder sorted by scene: each chunk shows one or
#: two scenes), and sorted by mean brightness (a day fading into night).
ORDERS = ("as listed", "scene-sorted", "by brightness")
#: As listed, with ``inertia_`` read after every chunk (a loop that reports
#: its progress refits the palette at every chunk): its cost is shown, not
#: checked against the 1.5x line, which is about the loop of partial_fit calls.
READ_EACH = "as listed, inertia_ read after each chunk"


def order_photos(X, order):
    """The photos of ``X`` in ``order`` (one of :data:`ORDERS`)."""
    if order == "scene-sorted":
        from _collection import SOURCES

        scene = np.arange(len(X)) % len(SOURCES)
        return X[np.argsort(scene, kind="stable")]
    if order == "by brightness":
        return X[np.argsort(X.reshape(len(X), -1).mean(axis=1), kind="stable")]
    return X


def partial_fit_section(folder: Path, n_photos: int, repeat: int) -> dict:
    """One fit on ``n_photos`` photos against partial_fit over 20 chunks,
    the photos fed in each of :data:`ORDERS`."""
    from skseg import KMeansColorSegmenter
    from skseg.datasets import list_image_files, load_images

    paths = list_image_files(folder)[:n_photos]
    X = np.stack(load_images(paths))
    n_pixels = X.shape[0] * X.shape[1] * X.shape[2]
    KMeansColorSegmenter(K, random_state=0).fit(X[:2])  # compile, warm up
    for chunk in np.array_split(X[:40], 20):
        KMeansColorSegmenter(K, random_state=0).partial_fit(chunk)
    fit_times = []
    loops = {order: {"loop_times": []} for order in ORDERS + (READ_EACH,)}
    for _ in range(repeat):
        # interleaved: one fit, then one loop per order
        t0 = time.perf_counter()
        full = KMeansColorSegmenter(K, random_state=0).fit(X)
        fit_times.append(time.perf_counter() - t0)
        for order, loop in loops.items():
            read_each = order == READ_EACH
            chunks = np.array_split(order_photos(X, order), 20)
            t0 = time.perf_counter()
            inc = KMeansColorSegmenter(K, random_state=0)
            for chunk in chunks:
                inc.partial_fit(chunk)
                if read_each:  # as a loop that reports its progress
                    inc.inertia_
            # the palette is refitted when read: its reading is in the loop
            inc.cluster_centers_
            loop["loop_times"].append(time.perf_counter() - t0)
            # WCSS of the loop's centres over every pixel (not its inertia_)
            loop["wcss_loop"] = float(-inc.score(X) * n_pixels)
            loop["inertia_loop"] = float(inc.inertia_)
    for loop in loops.values():
        loop["loop_s"] = min(loop["loop_times"])
    return {
        "n_photos": n_photos,
        "n_colors": int(full._color_table.n_colors),
        "fit_s": min(fit_times),
        "fit_times": fit_times,
        "wcss_fit": float(full.inertia_),
        "loops": loops,
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=2, help="skseg --jobs")
    parser.add_argument(
        "--opencv-subset",
        type=int,
        default=20,
        help="files the OpenCV loop runs on (its rate is extrapolated)",
    )
    parser.add_argument("--partial-photos", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--skip-partial", action="store_true")
    parser.add_argument(
        "--only-partial", action="store_true", help="only the partial_fit section"
    )
    parser.add_argument(
        "--only-quality",
        action="store_true",
        help="only the partial_fit quality sweep (K = 3 ... 64, ordered chunks)",
    )
    parser.add_argument("--json", default=None)
    args = parser.parse_args(argv)

    info = environment(["numpy", "sklearn", "skimage", "numba", "cv2", "PIL"])
    print(format_environment(info))
    folder = write_collection(DATA_DIR / f"collection_{N_PHOTOS}")
    mpx = HEIGHT * WIDTH / 1e6
    print(f"\nfolder: {folder} ({N_PHOTOS} JPEG photos of {WIDTH}x{HEIGHT})")

    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(REPO_ROOT), env.get("PYTHONPATH", "")) if p
    )
    skseg_cmd = [sys.executable, "-m", "skseg", "segment", str(folder)]
    # a first run compiles and caches the kernels: not what is measured
    subprocess.run(
        [*skseg_cmd[:4], "--sample", "astronaut", "-o", tempfile.mkdtemp()],
        env=env,
        capture_output=True,
    )

    rows, report = [], {"environment": info}
    if args.only_quality:
        return finish(report, quality_checks(report), args.json)
    if args.only_partial:
        return partial_only(folder, args, report)
    work = Path(tempfile.mkdtemp(prefix="skseg-bench-collection-"))
    try:
        runs = {}
        for label, extra in (
            ("skseg segment (shared palette)", []),
            ("skseg segment --per-image", ["--per-image"]),
        ):
            out = work / label.split()[-1].strip("()-")
            cmd = [*skseg_cmd, "--n-clusters", str(K), "--output", str(out)]
            cmd += ["--jobs", str(args.jobs), "--quiet", *extra]
            seconds, peak, _ = timed(cmd, env)
            written = len(list(out.glob("*.png")))
            runs[label] = {"s": seconds, "peak_mb": peak, "written": written}
            rows.append(
                [
                    label,
                    N_PHOTOS,
                    written,
                    f"{seconds:.1f}",
                    f"{N_PHOTOS / seconds:.2f}",
                    f"{N_PHOTOS * mpx / seconds:.2f}",
                    f"{peak:.0f}",
                ]
            )
        n_cv = min(args.opencv_subset, N_PHOTOS)
        out = work / "opencv"
        seconds, peak, _ = timed(
            [sys.executable, "-c", OPENCV_LOOP, str(folder), str(out), str(n_cv)], env
        )
        written = len(list(out.glob("*.png")))
        cv_rate = n_cv / seconds
        runs["opencv"] = {"s": seconds, "peak_mb": peak, "written": written, "n": n_cv}
        rows.append(
            [
                f"OpenCV loop (first {n_cv} files, extrapolated)",
                n_cv,
                written,
                f"{seconds:.1f} ({N_PHOTOS / cv_rate:.0f} for {N_PHOTOS})",
                f"{cv_rate:.3f}",
                f"{cv_rate * mpx:.3f}",
                f"{peak:.0f}",
            ]
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)

    print(section("Throughput (wall clock of each command, start-up included)"))
    print(
        format_table(
            ["method", "images", "written", "seconds", "images/s", "Mpx/s", "peak MB"],
            rows,
        )
    )
    shared = runs["skseg segment (shared palette)"]
    per_image = runs["skseg segment --per-image"]
    for name, r in (("shared palette", shared), ("--per-image", per_image)):
        ratio = (N_PHOTOS / r["s"]) / cv_rate
        print(f"  skseg {name}: {ratio:.1f}x the OpenCV loop's images/s")
    report["runs"] = runs

    checks = [
        verdict(
            "600 results written (shared palette)",
            shared["written"] == N_PHOTOS,
            f"{shared['written']} files",
        ),
        verdict(
            "peak memory < 500 MB (shared palette)",
            shared["peak_mb"] < 500,
            f"{shared['peak_mb']:.0f} MB",
        ),
        verdict(
            ">= 10x the OpenCV loop's images/s (shared palette)",
            (N_PHOTOS / shared["s"]) / cv_rate >= 10,
            f"{(N_PHOTOS / shared['s']) / cv_rate:.1f}x (OpenCV rate from "
            f"{runs['opencv']['n']} files)",
        ),
        verdict(
            "--per-image: 600 results, peak < 500 MB",
            per_image["written"] == N_PHOTOS and per_image["peak_mb"] < 500,
            f"{per_image['written']} files, {per_image['peak_mb']:.0f} MB, "
            f"{(N_PHOTOS / per_image['s']) / cv_rate:.1f}x OpenCV",
        ),
    ]

    if not args.skip_partial:
        checks += partial_checks(folder, args, report)
    return finish(report, checks, args.json)


def partial_only(folder, args, report):
    return finish(report, partial_checks(folder, args, report), args.json)


def partial_checks(folder, args, report):
    pf = partial_fit_section(folder, args.partial_photos, args.repeat)
    report["partial_fit"] = pf
    print(section("partial_fit over 20 chunks against one fit"))
    print(
        f"  {pf['n_photos']} photos, {pf['n_colors']} distinct colours; best "
        f"of {args.repeat}: fit {pf['fit_s']:.2f} s (all runs: "
        + ", ".join(f"{t:.2f}" for t in pf["fit_times"])
        + ")"
    )
    rows, checks = [], []
    for order, loop in pf["loops"].items():
        ratio = loop["loop_s"] / pf["fit_s"]
        excess = loop["wcss_loop"] / pf["wcss_fit"] - 1
        bound = loop["inertia_loop"] / loop["wcss_loop"] - 1
        rows.append(
            [
                order,
                f"{loop['loop_s']:.2f}",
                ", ".join(f"{t:.2f}" for t in loop["loop_times"]),
                f"{ratio:.2f}x",
                f"{excess:+.3%}",
                f"{bound:+.4%}",
            ]
        )
        if order != READ_EACH:
            checks.append(
                verdict(f"{order}: loop <= 1.5x one fit", ratio <= 1.5, f"{ratio:.2f}x")
            )
        checks += [
            verdict(
                f"{order}: WCSS within 1% of fit's", excess <= 0.01, f"{excess:+.3%}"
            ),
            verdict(
                f"{order}: inertia_ the true WCSS (within 0.1%)",
                abs(bound) <= 0.001,
                f"{bound:+.4%}",
            ),
        ]
    print(
        format_table(
            ["order", "loop s", "all runs", "loop / fit", "WCSS - fit's", "inertia_"],
            rows,
        )
    )
    return checks + quality_checks(report)


QUALITY_K = (3, 8, 16, 32, 64)
QUALITY_SCENES = (
    "astronaut",
    "coffee",
    "chelsea",
    "rocket",
    "immunohistochemistry",
    "hubble_deep_field",
    "retina",
    "china",
    "flower",
)


def quality_cases():
    """Chunk sequences of issue 16 part 3, each as (name, X, chunks).

    - the 16 tiles of 128x128 of the astronaut in row order, 4 chunks of 4;
    - nine different photos resized to 256x256, one photo per chunk (a
      scene-sorted folder).
    """
    from skimage import transform

    from skseg.datasets import load_sample_image

    astro = load_sample_image("astronaut")
    tiles = (
        astro.reshape(4, 128, 4, 128, 3)
        .transpose(0, 2, 1, 3, 4)
        .reshape(16, 128, 128, 3)
    )
    photos = np.stack(
        [
            transform.resize(
                load_sample_image(name)[..., :3], (256, 256), preserve_range=True
            )
            .round()
            .astype(np.uint8)
            for name in QUALITY_SCENES
        ]
    )
    return [
        ("astronaut tiles, row order", tiles, np.split(tiles, 4)),
        ("one photo per chunk", photos, [p[None] for p in photos]),
    ]


def quality_checks(report):
    """partial_fit against fit at K = 3 ... 64 on the ordered cases."""
    from skseg import KMeansColorSegmenter

    print(section("partial_fit against fit, K = 3 ... 64, ordered chunks"))
    rows, checks, results = [], [], []
    for name, X, chunks in quality_cases():
        n_pixels = X.shape[0] * X.shape[1] * X.shape[2]
        for k in QUALITY_K:
            fit = KMeansColorSegmenter(k, random_state=0).fit(X).inertia_
            # the palette read at the end only, and after every chunk (a loop
            # that reports progress: the palette is refitted at each read)
            for reads in ("at the end", "every chunk"):
                inc = KMeansColorSegmenter(k, random_state=0)
                for chunk in chunks:
                    inc.partial_fit(chunk)
                    if reads == "every chunk":
                        inc.inertia_
                true = float(-inc.score(X) * n_pixels)
                excess = true / fit - 1
                bound = inc.inertia_ / true - 1
                results.append(
                    {
                        "case": name,
                        "k": k,
                        "palette read": reads,
                        "wcss_fit": fit,
                        "wcss_loop": true,
                        "inertia_loop": float(inc.inertia_),
                    }
                )
                rows.append([name, str(k), reads, f"{excess:+.3%}", f"{bound:+.4%}"])
                case = f"{name}, K={k}, read {reads}"
                checks += [
                    verdict(
                        f"{case}: WCSS within 1% of fit's",
                        excess <= 0.01,
                        f"{excess:+.3%}",
                    ),
                    verdict(
                        f"{case}: inertia_ the true WCSS (within 0.1%)",
                        abs(bound) <= 0.001,
                        f"{bound:+.4%}",
                    ),
                ]
    report["partial_fit_quality"] = results
    headers = ["chunks", "K", "palette read", "WCSS - fit's", "inertia_"]
    print(format_table(headers, rows))
    return checks


if __name__ == "__main__":
    sys.exit(main())
