"""
Regions, not speckle: small-region merging and superpixels
==========================================================

Colour K-Means groups pixels by colour only: on a photo, K = 8 colours come
out as thousands of tiny connected fragments. Two remedies, both
transformers over batches of images:

- ``KMeansColorSegmenter(min_region_size=...)``: after labelling, every
  connected region (4-connected pixels of one palette colour) smaller than
  the size takes the label of its neighbouring region of closest palette
  colour; ``output="regions"`` gives the connected-region ids;
- :class:`~skseg.SuperpixelSegmenter`: SLIC, k-means over colour (Lab) *and*
  position, which returns about ``n_segments`` compact regions that follow
  the edges of the image.

Both give label maps that :mod:`skseg.metrics` can score against
ground-truth masks in a :class:`~sklearn.model_selection.GridSearchCV`.
"""

# %%
# The tutorial photo at K = 8, with and without ``min_region_size``
# -----------------------------------------------------------------
import matplotlib.pyplot as plt
import numpy as np
from skimage.segmentation import find_boundaries

from skseg import KMeansColorSegmenter, SuperpixelSegmenter
from skseg.datasets import load_sample_image

image = load_sample_image("astronaut")
X = image[None]  # a batch of one image

km = KMeansColorSegmenter(8, random_state=0).fit(X)
results = {}
for size in (None, 64):
    km.set_params(min_region_size=size)
    quantized = km.set_params(output="quantized").transform(X)[0]
    regions = km.set_params(output="regions").transform(X)[0]
    results[size] = (quantized, regions, -km.score(X))
    print(
        f"min_region_size={size}: {regions.max() + 1} connected regions, "
        f"WCSS per pixel {-km.score(X):.0f}"
    )

# %%
# Superpixels of the same photo, and their mean colours
# -----------------------------------------------------
sp = SuperpixelSegmenter(n_segments=200, compactness=10)
labels = sp.fit_transform(X)[0]
means = sp.set_params(output="quantized").transform(X)[0]
print(f"SuperpixelSegmenter(200): {labels.max() + 1} superpixels")

fig, axes = plt.subplots(2, 3, figsize=(12, 8.4), layout="constrained")
panels = [
    (image, "original"),
    (results[None][0], f"K = 8: {results[None][1].max() + 1} regions"),
    (results[64][0], f"K = 8, min_region_size=64: {results[64][1].max() + 1} regions"),
]
for ax, (img, title) in zip(axes[0], panels):
    ax.imshow(img)
    ax.set_title(title)
outlined = image.copy()
outlined[find_boundaries(labels)] = (255, 255, 0)
# region borders of the face: grey without merging, red with it
detail = (slice(40, 240), slice(140, 340))
borders = np.full(image.shape, 255, np.uint8)
borders[find_boundaries(results[None][1])] = (170, 170, 170)
borders[find_boundaries(results[64][1])] = (220, 0, 0)
panels = [
    (outlined, f"superpixels: {labels.max() + 1}"),
    (means, "superpixels, mean colours"),
    (borders[detail], "region borders: grey K = 8, red merged (detail)"),
]
for ax, (img, title) in zip(axes[1], panels):
    ax.imshow(img)
    ax.set_title(title)
for ax in axes.flat:
    ax.set_axis_off()
fig.suptitle("Regions, not speckle")
plt.show()

# %%
# Choosing the parameters against ground-truth masks
# --------------------------------------------------
# Generated images with known regions (random Voronoi cells of random
# colours plus noise) and a grid search scored by the undersegmentation
# error and the boundary recall of :mod:`skseg.metrics`.
from sklearn.model_selection import GridSearchCV  # noqa: E402

from skseg.metrics import (  # noqa: E402
    boundary_recall_scorer,
    neg_undersegmentation_error_scorer,
)

rng = np.random.default_rng(0)


def voronoi(h=128, w=128, n_cells=12, sigma=15):
    pts = rng.uniform(0, [h, w], (n_cells, 2))
    yy, xx = np.mgrid[:h, :w]
    mask = ((yy[..., None] - pts[:, 0]) ** 2 + (xx[..., None] - pts[:, 1]) ** 2).argmin(
        -1
    )
    img = rng.integers(0, 256, (n_cells, 3))[mask] + rng.normal(0, sigma, (h, w, 3))
    return np.clip(img, 0, 255).astype(np.uint8), mask


images, masks = map(np.stack, zip(*(voronoi() for _ in range(6))))
search = GridSearchCV(
    SuperpixelSegmenter(),
    {"n_segments": [10, 40, 160], "compactness": [5.0, 20.0]},
    scoring={"ue": neg_undersegmentation_error_scorer, "br": boundary_recall_scorer},
    refit="ue",
    cv=3,
).fit(images, masks)
print("best:", search.best_params_)
for params, ue, br in zip(
    search.cv_results_["params"],
    search.cv_results_["mean_test_ue"],
    search.cv_results_["mean_test_br"],
):
    print(f"  {params}: undersegmentation error {-ue:.3f}, boundary recall {br:.3f}")
