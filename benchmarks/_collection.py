"""Synthetic photo collections made from the bundled sample photos.

Crops, flips and brightness/contrast/colour jitter of the colour photos that
ship with scikit-image and scikit-learn: every photo is different, has the
colour statistics of a real photo, and nothing is downloaded. Used by
``bench_collection.py`` (a folder of JPEG files), ``bench_dask.py`` (a lazily
generated dask array) and the partial_fit benchmark.
"""

from __future__ import annotations

import functools

import numpy as np

SOURCES = ("astronaut", "coffee", "rocket", "china", "flower", "chelsea")


@functools.lru_cache(maxsize=1)
def _sources():
    from skseg.datasets import load_sample_image

    return [load_sample_image(name) for name in SOURCES]


def make_photo(index, height, width, seed=0):
    """Photo number ``index`` of a collection: an (height, width, 3) uint8 array.

    A random crop (resized up first when the source is too small), an
    optional horizontal flip, and a per-channel gain and offset.
    """
    rng = np.random.default_rng((seed, index))
    sources = _sources()
    src = sources[index % len(sources)]
    h, w = src.shape[:2]
    if h < height or w < width:
        scale = max(height / h, width / w)
        rows = np.minimum(
            (np.arange(int(np.ceil(h * scale))) / scale).astype(int), h - 1
        )
        cols = np.minimum(
            (np.arange(int(np.ceil(w * scale))) / scale).astype(int), w - 1
        )
        src = src[rows][:, cols]
        h, w = src.shape[:2]
    top = rng.integers(0, h - height + 1)
    left = rng.integers(0, w - width + 1)
    crop = src[top : top + height, left : left + width]
    if rng.random() < 0.5:
        crop = crop[:, ::-1]
    gain = rng.uniform(0.8, 1.2, size=3).astype(np.float32)
    offset = rng.uniform(-20, 20, size=3).astype(np.float32)
    out = crop.astype(np.float32) * gain + offset
    return np.clip(out, 0, 255).round().astype(np.uint8)


def make_photos(start, stop, height, width, seed=0):
    """Photos ``start .. stop - 1`` as one (n, height, width, 3) uint8 array."""
    return np.stack([make_photo(i, height, width, seed) for i in range(start, stop)])
