"""Interleaved A/B timings of skseg's hot paths in two source trees.

    python tools/ab_timings.py OLD_TREE NEW_TREE [--rounds 3]

Each round runs every case once per tree, alternating which tree goes first,
each in a fresh process with warm kernel caches (a first call is made and
not timed); the best time per case and tree is kept and the ratio
new / old printed. Covers what the benchmarks time: fit and transform of
small and large palettes, the float path, per-image fits, the elbow curve,
Canny (scikit-image and tutorial settings), colour conversions, and a fit,
a partial_fit loop and a dask fit on a collection of 16 photos.
"""

import argparse
import json
import os
import subprocess
import sys

CASE_CODE = r"""
import json, sys, time, warnings
import numpy as np
from skimage import data, transform
from skseg import (CannyEdgeExtractor, ColorSpaceTransformer, ElbowKSelector,
                   KMeansColorSegmenter)
warnings.simplefilter("ignore")
photo = transform.resize(data.astronaut(), (1024, 1024)) * 255
photo = photo.astype(np.uint8)[None]
hsv = ColorSpaceTransformer("hsv").fit_transform(photo).astype(np.float32)
small = photo[:, ::4, ::4]

def best(func, repeat=3):
    func()
    times = []
    for _ in range(repeat):
        t = time.perf_counter(); func(); times.append(time.perf_counter() - t)
    return min(times)

cases = {}
for k in (3, 8, 32, 64):
    seg = KMeansColorSegmenter(k, random_state=0)
    cases[f"fit K={k}"] = best(lambda: seg.fit(photo))
    cases[f"transform K={k}"] = best(lambda: seg.transform(photo))
cases["float path fit K=8"] = best(
    lambda: KMeansColorSegmenter(8, random_state=0).fit(hsv))
cases["per_image K=8 (8 images)"] = best(
    lambda: KMeansColorSegmenter(8, per_image=True, random_state=0).fit_transform(
        np.repeat(small, 8, axis=0)))
cases["elbow K=1..10"] = best(lambda: ElbowKSelector(random_state=0).fit(photo))
cases["canny defaults"] = best(lambda: CannyEdgeExtractor().fit_transform(photo))
cases["canny tutorial"] = best(lambda: CannyEdgeExtractor(
    sigma=0, gradient="l1", low_threshold=150, high_threshold=200).fit_transform(photo))
cases["lab"] = best(lambda: ColorSpaceTransformer("lab").fit_transform(photo))
# what bench_collection and bench_dask time: a fit on a collection, a loop of
# partial_fit over it (the palette read at the end), a fit on a dask array
names = ["astronaut", "coffee", "chelsea", "rocket", "immunohistochemistry",
         "hubble_deep_field", "retina", "cat"]
photos = np.stack([
    (transform.resize(getattr(data, n)()[..., :3], (384, 384)) * 255).astype(np.uint8)
    for n in names for _ in (0, 1)])
cases["collection fit K=8 (16 photos)"] = best(
    lambda: KMeansColorSegmenter(8, random_state=0).fit(photos))

def loop():
    seg = KMeansColorSegmenter(8, random_state=0)
    for chunk in np.array_split(photos, 8):
        seg.partial_fit(chunk)
    return seg.cluster_centers_

cases["partial_fit K=8 (8 chunks)"] = best(loop)
try:
    import dask, dask.array as da
    lazy = da.from_array(photos, chunks=(4, -1, -1, -1))
    with dask.config.set(scheduler="threads"):
        cases["dask fit K=8 (threads)"] = best(
            lambda: KMeansColorSegmenter(8, random_state=0).fit(lazy))
except ImportError:
    pass
print(json.dumps(cases))
"""


def run(tree):
    # cwd=tree: ``python -c`` puts the working folder first on sys.path, so
    # run from elsewhere both trees would import the caller's folder's skseg
    # (an editable install's, say) instead of PYTHONPATH's
    env = dict(os.environ, PYTHONPATH=tree)
    check = (
        "import os, skseg\n"
        f"assert os.path.realpath(skseg.__file__).startswith({tree!r}), "
        "skseg.__file__\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", check + CASE_CODE],
        env=env, cwd=tree, capture_output=True, text=True,
    )  # fmt: skip
    if out.returncode:
        raise SystemExit(out.stderr)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("old")
    parser.add_argument("new")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    best = {args.old: {}, args.new: {}}
    args.old, args.new = os.path.realpath(args.old), os.path.realpath(args.new)
    run(args.old), run(args.new)  # fill both trees' kernel caches
    for r in range(args.rounds):
        order = (args.old, args.new) if r % 2 == 0 else (args.new, args.old)
        for tree in order:
            for case, t in run(tree).items():
                best[tree][case] = min(t, best[tree].get(case, t))
    print(f"{'case':28} {'old s':>8} {'new s':>8} {'new/old':>8}")
    worst = 0.0
    for case, old in best[args.old].items():
        new = best[args.new][case]
        worst = max(worst, new / old)
        print(f"{case:28} {old:8.4f} {new:8.4f} {new / old:8.3f}")
    print(f"slowest ratio: {worst:.3f}")


if __name__ == "__main__":
    main()
