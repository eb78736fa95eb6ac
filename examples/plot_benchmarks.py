"""
Benchmarks: skseg against its peers, measured when this page was built
======================================================================

A small version of the scripts in ``benchmarks/`` of the repository, run
when the documentation is built, so the numbers below come from the machine
that built this page, in one run: every peer is timed in the same process,
right after skseg, and only the ratios mean something across machines.

- Times are the best of several calls (the least disturbed by other work on
  the machine); numba's compiled kernels are warmed up first, so the
  first-call compile time is not included (``skseg warmup`` pays it ahead
  of time).
- The images are the 512x512 photos bundled with scikit-image, smaller than
  the 2048x2048 and 12 Mpx photos of ``benchmarks/bench_*.py``, which also
  check the acceptance targets and memory; run those for the full tables,
  e.g. ``python benchmarks/bench_kmeans.py`` (the OpenCV and kneed peers
  come with the ``bench`` extra).
- OpenCV rows appear only where ``cv2`` is installed.
"""

# %%
# Timing helper
# -------------
import time

import matplotlib.pyplot as plt
import numpy as np
from skimage import color, feature
from sklearn.cluster import KMeans

from skseg import CannyEdgeExtractor, ColorSpaceTransformer, KMeansColorSegmenter
from skseg.datasets import load_sample_image

try:
    import cv2
except ImportError:  # the bench extra is not installed
    cv2 = None


def timed(func, repeat=5):
    """Best wall time of ``repeat`` calls of ``func`` (seconds), and its result."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        result = func()
        times.append(time.perf_counter() - start)
    return min(times), result


def best_time(func, repeat=5):
    """Best wall time of ``repeat`` calls of ``func``, in seconds."""
    return timed(func, repeat)[0]


def print_table(title, rows, reference):
    """Print (method, seconds, extra) rows with each speed-up over ``reference``."""
    ref = {name: t for name, t, _ in rows}[reference]
    print(f"{title}; speed-up over {reference}")
    print(f"  {'method':<40} {'time':>11} {'speed-up':>9}  note")
    for name, t, note in rows:
        print(f"  {name:<40} {t * 1e3:>8.1f} ms {ref / t:>8.1f}x  {note}")
    print()


astronaut = load_sample_image("astronaut")  # (512, 512, 3) uint8
camera = load_sample_image("camera")  # (512, 512) uint8

# %%
# K-Means colour segmentation
# ---------------------------
# The tutorial's step: a palette of K = 8 colours and the label of every
# pixel. WCSS is recomputed the same way for every method, in float64 over
# all pixels, so the quality column compares like with like.
#
# First the astronaut photo at 128x128 (16 384 pixels), small enough for
# scikit-learn's KMeans with 10 restarts on all pixels (it takes seconds
# from 256x256 on). At this size nearly every pixel has a colour of its own,
# which leaves skseg's distinct-colour counting little to save.
k = 8
KMeansColorSegmenter(2, random_state=0).fit(astronaut[None, :8, :8])  # compile


def kmeans_methods(image, with_sklearn):
    """{name: (function returning the centres, number of timed calls)}."""
    pixels = image.reshape(-1, 3).astype(np.float64)

    def skseg_kmeans():
        seg = KMeansColorSegmenter(k, random_state=0).fit(image[None])
        seg.predict(image[None])
        return seg.cluster_centers_

    methods = {"skseg KMeansColorSegmenter(n_init=10)": (skseg_kmeans, 3)}
    if with_sklearn:
        methods["sklearn KMeans(n_init=10), all pixels"] = (
            lambda: KMeans(k, n_init=10, random_state=0).fit(pixels).cluster_centers_,
            1,
        )
    if cv2 is not None:
        criteria = (cv2.TERM_CRITERIA_EPS + cv2.TERM_CRITERIA_MAX_ITER, 10, 1.0)
        samples = pixels.astype(np.float32)

        def cv2_kmeans():
            _, _, centers = cv2.kmeans(
                samples, k, None, criteria, 10, cv2.KMEANS_PP_CENTERS
            )
            return centers.astype(np.float64)

        methods["cv2.kmeans (the tutorial's call)"] = (cv2_kmeans, 1)
    return methods


def kmeans_rows(image, methods, reference):
    pixels = image.reshape(-1, 3).astype(np.float64)

    def wcss(centers):
        # |x - c|^2 = |x|^2 - 2 x.c + |c|^2, nearest centre per pixel
        d = (pixels**2).sum(1)[:, None] - 2 * pixels @ centers.T + (centers**2).sum(1)
        return np.maximum(d.min(1), 0).sum()

    rows, wcss_of = [], {}
    for name, (func, repeat) in methods.items():
        t, centers = timed(func, repeat)
        wcss_of[name] = wcss(centers)
        rows.append((name, t))
    return [
        (name, t, f"WCSS {wcss_of[name] / wcss_of[reference]:.4f} x the reference's")
        for name, t in rows
    ]


small = astronaut[::4, ::4]
reference = "sklearn KMeans(n_init=10), all pixels"
rows = kmeans_rows(small, kmeans_methods(small, with_sklearn=True), reference)
print_table("K-Means, K = 8, 128x128 photo", rows, reference)
timings = {"K-Means 128x128": rows}

# %%
# Then the whole 512x512 photo (262 144 pixels, 113 382 distinct
# colours) against the tutorial's ``cv2.kmeans`` call, where OpenCV is
# installed.
if cv2 is not None:
    reference = "cv2.kmeans (the tutorial's call)"
    methods = kmeans_methods(astronaut, with_sklearn=False)
    rows = kmeans_rows(astronaut, methods, reference)
    print_table("K-Means, K = 8, 512x512 photo", rows, reference)
    timings["K-Means 512x512"] = rows
else:
    print("OpenCV is not installed: no 512x512 K-Means table.")

# %%
# Canny edges
# -----------
# The camera photo with scikit-image's defaults (``sigma=1``; skseg gives the
# same edge map, pixel for pixel), and the tutorial's ``cv2.Canny(gray, 150,
# 200)`` with its skseg port ``gradient="l1", sigma=0``.
canny = CannyEdgeExtractor()
port = CannyEdgeExtractor(sigma=0, low_threshold=150, high_threshold=200, gradient="l1")
batch = camera[None]
canny.transform(batch[:, :16, :16])  # compile
port.transform(batch[:, :16, :16])
same = np.array_equal(canny.transform(batch)[0], feature.canny(camera))
rows = [
    ("skseg CannyEdgeExtractor()", best_time(lambda: canny.transform(batch)), ""),
    ("skimage.feature.canny", best_time(lambda: feature.canny(camera)), ""),
    (
        "skseg port (gradient='l1', sigma=0)",
        best_time(lambda: port.transform(batch)),
        "",
    ),
]
if cv2 is not None:
    rows.append(
        (
            "cv2.Canny(gray, 150, 200)",
            best_time(lambda: cv2.Canny(camera, 150, 200)),
            "",
        )
    )
print(f"skseg's edge map identical to skimage's: {same}")
print_table("Canny, 512x512 gray photo", rows, "skimage.feature.canny")
timings["Canny"] = rows

# %%
# Colour conversions
# ------------------
# RGB to HSV and to Lab on the astronaut photo (uint8 in, float32 out for
# skseg, float64 for scikit-image, which skseg matches to float32 precision).
rows = []
for space, sk_func in (("hsv", color.rgb2hsv), ("lab", color.rgb2lab)):
    conv = ColorSpaceTransformer(space)
    conv.transform(astronaut[None, :8, :8])  # compile
    diff = np.abs(conv.transform(astronaut[None])[0] - sk_func(astronaut)).max()
    rows.append(
        (
            f"skseg ColorSpaceTransformer({space!r})",
            best_time(lambda: conv.transform(astronaut[None])),
            f"max |difference| {diff:.1e}",
        )
    )
    rows.append(
        (f"skimage.color.rgb2{space}", best_time(lambda: sk_func(astronaut)), "")
    )
print_table("RGB to HSV, 512x512 photo", rows[:2], "skimage.color.rgb2hsv")
print_table("RGB to Lab, 512x512 photo", rows[2:], "skimage.color.rgb2lab")
timings["HSV"] = rows[:2]
timings["Lab"] = rows[2:]

# %%
# Speed-ups at a glance
# ---------------------
# Each bar is a method's speed relative to the reference of its section
# (scikit-learn, scikit-image, or OpenCV for the 512x512 K-Means; above 1:
# faster), on a log scale.
references = {
    "K-Means 128x128": "sklearn KMeans(n_init=10), all pixels",
    "K-Means 512x512": "cv2.kmeans (the tutorial's call)",
    "Canny": "skimage.feature.canny",
    "HSV": "skimage.color.rgb2hsv",
    "Lab": "skimage.color.rgb2lab",
}
labels, speedups = [], []
for section, rows in timings.items():
    ref = {name: t for name, t, _ in rows}[references[section]]
    for name, t, _ in rows:
        if name != references[section]:
            labels.append(f"{section}: {name}")
            speedups.append(ref / t)

fig, ax = plt.subplots(figsize=(10, 0.45 * len(labels) + 1.2))
y = np.arange(len(labels))[::-1]
ax.barh(y, speedups, color=["C0" if "skseg" in s else "C7" for s in labels])
ax.set_yticks(y, labels)
ax.set_xscale("log")
ax.set_xlim(0.5, 3 * max(speedups))
ax.axvline(1, color="k", linewidth=0.8)
ax.set_xlabel("speed relative to the section's reference (x)")
for yi, s in zip(y, speedups):
    ax.annotate(
        f"{s:.1f}x", (s, yi), xytext=(3, 0), textcoords="offset points", va="center"
    )
ax.set_title("Speed-ups measured when this page was built")
fig.tight_layout()
plt.show()
