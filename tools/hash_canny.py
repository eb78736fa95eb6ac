"""Hash the edge maps of CannyEdgeExtractor over a grid of cases, one line each.

A change to the Canny engine or to the estimator's transform path is proven
output-neutral by running this before and after and diffing the two files:

    python tools/hash_canny.py > before.txt
    ... change ...
    python tools/hash_canny.py > after.txt && diff before.txt after.txt

The grid: several photos of ``skimage.data`` (grayscale and RGB), as uint8,
uint16, float32, float64 and bool; sigma 0, 1 and 2; the ``"l1"`` and
default gradients; default, given and quantile thresholds; ``n_jobs`` 1 and
2 (row bands and image runs); odd sizes, tiny images, flattened rows and
ragged lists. ``--quick`` drops the largest inputs.
"""

import hashlib
import itertools
import sys
import warnings

import numpy as np
from skimage import color, data, transform

from skseg import CannyEdgeExtractor


def h(a):
    m = hashlib.sha256()
    arrays = a if isinstance(a, list) else [a]
    for x in arrays:
        x = np.ascontiguousarray(np.asarray(x))
        m.update(str(x.dtype).encode() + str(x.shape).encode())
        m.update(x.tobytes())
    return m.hexdigest()[:16]


def out(name, y):
    n_edges = sum(int(np.count_nonzero(x)) for x in (y if isinstance(y, list) else [y]))
    print(f"{name}: {h(y)} ({n_edges} edge pixels)")
    sys.stdout.flush()


def images(quick):
    """{name: batch} of the inputs."""
    camera = data.camera()  # 512x512 uint8 gray
    coins = data.coins()  # 303x384 uint8 gray
    astro = data.astronaut()  # 512x512x3 uint8
    coffee = data.coffee()  # 400x600x3 uint8
    odd = camera[:301, :257]
    rng = np.random.default_rng(0)
    noise = rng.integers(0, 256, (37, 53), dtype=np.uint8)
    batch = {
        "camera u8": camera[None],
        "coins u8": coins[None],
        "odd u8": odd[None],
        "noise u8": noise[None],
        "astro rgb u8": astro[None],
        "coffee rgb u8": coffee[None],
        "camera u16": (camera.astype(np.uint16) * 257)[None],
        "camera f64": (camera / 255.0)[None],
        "camera f32": (camera / np.float32(255.0)).astype(np.float32)[None],
        "camera f64 0..255": camera.astype(np.float64)[None],
        "astro rgb f32": (astro / np.float32(255)).astype(np.float32)[None],
        "coins bool": (coins > 100)[None],
        "checker bool": data.checkerboard()[None] > 127,
        "tiny 1x1": np.array([[[7]]], np.uint8),
        "tiny 2x2": np.array([[[0, 255], [255, 0]]], np.uint8),
        "tiny 3x5": rng.integers(0, 256, (1, 3, 5), dtype=np.uint8),
        "tiny 5x6 f64": rng.random((1, 5, 6)),
        "noise i16": rng.integers(-3000, 3000, (1, 41, 67)).astype(np.int16),
        "strip 1x70": rng.integers(0, 256, (1, 1, 70), dtype=np.uint8),
        "column 70x1": rng.integers(0, 256, (1, 70, 1), dtype=np.uint8),
        "const u8": np.full((1, 20, 30), 9, np.uint8),
        "batch 5 u8": np.stack([camera[i * 80 : i * 80 + 150, :333] for i in range(5)]),
        "batch 3 rgb": np.stack(
            [astro[:200, :300], astro[200:400, 100:400], coffee[:200, :300]]
        ),
        "list ragged": [camera, coins, odd, noise],
        "flat 2d": ("flat", coins[:64, :64].reshape(1, -1), (64, 64)),
    }
    if not quick:
        big = (transform.resize(camera, (1031, 1537)) * 255).astype(np.uint8)
        batch["big odd u8"] = big[None]
        batch["big gray f64"] = color.rgb2gray(transform.resize(astro, (777, 1024)))[
            None
        ]
    return batch


PARAMS = [
    {},
    {"sigma": 0, "gradient": "l1", "low_threshold": 150, "high_threshold": 200},
    {"sigma": 0, "gradient": "l1"},
    {"sigma": 0, "gradient": "l1", "low_threshold": 10, "high_threshold": 40},
    {"sigma": 0, "gradient": "l1", "low_threshold": 0, "high_threshold": 0},
    {"sigma": 0, "gradient": "l1", "low_threshold": 99.5, "high_threshold": 200.25},
    {"sigma": 0, "gradient": "l1", "low_threshold": 1019, "high_threshold": 1020},
    {"sigma": 0, "gradient": "l1", "low_threshold": 200, "high_threshold": 200},
    {"sigma": 0, "gradient": "l1", "low_threshold": 1500, "high_threshold": 2000},
    {"sigma": 0, "gradient": "l1", "use_quantiles": True},
    {"sigma": 0, "gradient": "l1", "use_quantiles": True, "low_threshold": 0.5,
     "high_threshold": 0.9},
    {"sigma": 1, "gradient": "l1", "low_threshold": 50, "high_threshold": 100},
    {"sigma": 2, "gradient": "l1"},
    {"sigma": 0},
    {"sigma": 2},
    {"sigma": 1, "low_threshold": 20, "high_threshold": 60},
    {"use_quantiles": True},
    {"sigma": 2, "use_quantiles": True, "low_threshold": 0.7, "high_threshold": 0.95},
]  # fmt: skip


def main():
    warnings.simplefilter("ignore")
    quick = "--quick" in sys.argv
    for (name, X), params, n_jobs in itertools.product(
        images(quick).items(), PARAMS, (1, 2)
    ):
        image_shape = None
        if isinstance(X, tuple):
            _, X, image_shape = X
        est = CannyEdgeExtractor(**params, image_shape=image_shape, n_jobs=n_jobs)
        label = f"{name} {params} n_jobs={n_jobs}"
        try:
            y = est.fit_transform(X)
        except ValueError as exc:
            print(f"{label}: ValueError {str(exc)[:60]}")
            continue
        out(label, y)
        if name == "camera u8" and n_jobs == 1:
            # transform after fit, and a non-contiguous view of the same image
            out(label + " transform", est.transform(X))
            view = np.asfortranarray(X[0])[None]
            out(label + " fortran", est.transform(view))


if __name__ == "__main__":
    main()
