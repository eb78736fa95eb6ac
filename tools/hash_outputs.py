"""Hash the outputs of every estimator on fixed inputs, one line per case.

A refactor is proven by running this before and after and diffing the two
files: centres, labels, inertias, all segmenter outputs, the float path,
``partial_fit``, elbow ``scores_``, Canny edge maps and colour conversions.

    python tools/hash_outputs.py > before.txt
    ... change ...
    python tools/hash_outputs.py > after.txt && diff before.txt after.txt
"""

import hashlib
import sys
import warnings

import numpy as np
from skimage import data, transform

from skseg import (
    CannyEdgeExtractor,
    ColorSpaceTransformer,
    ElbowKSelector,
    KMeansColorSegmenter,
)


def h(*arrays):
    m = hashlib.sha256()
    for a in arrays:
        a = np.ascontiguousarray(np.asarray(a))
        m.update(str(a.dtype).encode() + str(a.shape).encode())
        m.update(a.tobytes())
    return m.hexdigest()[:16]


def out(name, *arrays):
    print(f"{name}: {h(*arrays)}")
    sys.stdout.flush()


def main():
    warnings.simplefilter("ignore")
    astro = data.astronaut()[None]
    coffee = data.coffee()[None]
    both = [data.astronaut(), data.coffee()]
    big = (transform.resize(data.astronaut(), (1024, 1024)) * 255).astype(np.uint8)[
        None
    ]
    f32 = ColorSpaceTransformer("hsv").fit_transform(big).astype(np.float32)
    gray = data.camera()[None]
    for k in (3, 8, 32, 64):
        for name, X in (("astro", astro), ("coffee", coffee), ("list", both)):
            seg = KMeansColorSegmenter(k, random_state=0, output="labels").fit(X)
            out(f"fit {name} k={k} centres/inertia", seg.cluster_centers_, seg.inertia_)
            for o in ("labels", "quantized", "distances", "histogram"):
                y = seg.set_params(output=o).transform(X)
                y = (
                    np.concatenate([np.ravel(a) for a in y])
                    if isinstance(y, list)
                    else y
                )
                out(f"  {name} k={k} {o}", y)
        seg = KMeansColorSegmenter(k, random_state=1, output="labels").fit(f32)
        out(f"float path k={k}", seg.cluster_centers_, seg.inertia_, seg.transform(f32))
        seg = KMeansColorSegmenter(k, random_state=0).fit(gray)
        out(f"gray k={k}", seg.cluster_centers_, seg.inertia_)
        seg = KMeansColorSegmenter(k, random_state=0, per_image=True, output="labels")
        out(
            f"per_image k={k}",
            seg.fit_transform(np.concatenate([astro[:, :400], coffee[:, :, :512]])),
        )
        seg = KMeansColorSegmenter(k, random_state=0)
        for i in range(4):
            seg.partial_fit(astro[:, 128 * i : 128 * (i + 1)])
        out(f"partial_fit k={k}", seg.cluster_centers_, seg.inertia_)
    # a table of more than 2**17 colours (the blocked scan, threaded exact
    # iterations, Hamerly's on the exact table for 17-32 colours)
    n_big = len(np.unique(big.reshape(-1, 3), axis=0))
    print(f"big astro: {n_big} colours")
    for k in (3, 8, 16, 32):
        seg = KMeansColorSegmenter(k, random_state=0, output="labels").fit(big)
        out(f"fit big k={k}", seg.cluster_centers_, seg.inertia_, seg.transform(big))
    for metric in ("distortion", "silhouette", "calinski_harabasz"):
        el = ElbowKSelector(metric=metric, random_state=0).fit(astro)
        out(f"elbow {metric}", np.asarray(el.scores_), el.n_clusters_)
    el = ElbowKSelector(random_state=0).fit(f32)
    out("elbow float", np.asarray(el.scores_), el.n_clusters_)
    for params in (
        {},
        {"sigma": 0.0, "gradient": "l1", "low_threshold": 150, "high_threshold": 200},
        {
            "sigma": 2.0,
            "use_quantiles": True,
            "low_threshold": 0.5,
            "high_threshold": 0.9,
        },
    ):
        for name, X in (("astro", astro), ("gray", gray)):
            out(f"canny {name} {params}", CannyEdgeExtractor(**params).fit_transform(X))
    for space in ("hsv", "lab", "luv", "xyz", "ycbcr", "yuv", "gray"):
        ct = ColorSpaceTransformer(space)
        y = ct.fit_transform(astro)
        out(f"color {space}", y)
        if space != "gray":
            out(f"color {space} inverse", ct.inverse_transform(y))


if __name__ == "__main__":
    main()
