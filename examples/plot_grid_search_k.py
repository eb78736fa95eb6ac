"""
Choosing K by cross-validation
==============================

:class:`~skseg.KMeansColorSegmenter` is a scikit-learn estimator, so its
number of colours ``n_clusters`` can be chosen with
:class:`~sklearn.model_selection.GridSearchCV`, over images: each fold fits
the palette on some images and scores it on the others. What matters is the
score:

1. with ground-truth masks, :func:`~skseg.metrics.adjusted_rand_scorer`
   compares the label maps with the masks;
2. without them, :func:`~skseg.metrics.calinski_harabasz_scorer` or
   :func:`~skseg.metrics.silhouette_scorer` measure how well separated the
   colour clusters are (the segmenter's own ``score``, minus the squared
   colour error, always prefers the largest K);
3. when the segmentation feeds a classifier, the classifier's accuracy in a
   :class:`~sklearn.pipeline.Pipeline` chooses K.
"""

# %%
# Synthetic images with known segmentations
# -----------------------------------------
# Twelve 48x48 images made of four flat colour bands (random order and
# widths) plus Gaussian noise, and their masks (the band of every pixel).
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline
from sklearn.svm import SVC

from skseg import KMeansColorSegmenter
from skseg.metrics import (
    adjusted_rand_scorer,
    calinski_harabasz_scorer,
    silhouette_scorer,
)

rng = np.random.default_rng(0)
colours = np.array([[220, 40, 50], [40, 190, 70], [40, 60, 210], [235, 225, 70]])
n_images, size = 12, 48
masks = np.empty((n_images, size, size), dtype=int)
for i in range(n_images):
    cuts = np.sort(rng.choice(np.arange(6, size - 5), 3, replace=False))
    band = np.searchsorted(cuts, np.arange(size), side="right")
    masks[i] = rng.permutation(4)[band][None, :]
noisy = colours[masks] + rng.normal(0, 12, masks.shape + (3,))
X = np.clip(noisy, 0, 255).astype(np.uint8)

fig, axes = plt.subplots(2, 6, figsize=(12, 4.4), layout="constrained")
for i, ax in enumerate(axes[0]):
    ax.imshow(X[i])
    ax.set_title(f"image {i}")
for i, ax in enumerate(axes[1]):
    ax.imshow(masks[i], cmap="tab10", vmin=0, vmax=9)
    ax.set_title(f"mask {i}")
for ax in axes.flat:
    ax.set_axis_off()
plt.show()

# %%
# Grid search with the ground truth
# ---------------------------------
# The masks are passed as ``y``: an array whose first axis is images, so
# ``GridSearchCV`` splits it with ``X``. The adjusted Rand index is computed
# per image and averaged, so the mask ids need not match the cluster ids.
# Too few clusters merge bands, too many split them: both lower the score.
k_grid = list(range(2, 9))
segmenter = KMeansColorSegmenter(random_state=0)
supervised = GridSearchCV(
    segmenter, {"n_clusters": k_grid}, scoring=adjusted_rand_scorer, cv=4
).fit(X, masks)
print("adjusted Rand index:", supervised.best_params_)

# %%
# Grid search without ground truth
# --------------------------------
# The Calinski-Harabasz index (exact over all pixels of the held-out images)
# and the silhouette (on 10 000 pixels drawn with a fixed seed) peak at the
# number of colour groups. The segmenter's own ``score`` does not: more
# colours always fit the pixels better.
searches = {"adjusted Rand index (masks)": supervised}
for name, scoring in [
    ("Calinski-Harabasz", calinski_harabasz_scorer),
    ("silhouette", silhouette_scorer),
    ("segmenter.score (-WCSS/pixel)", None),
]:
    searches[name] = GridSearchCV(
        segmenter, {"n_clusters": k_grid}, scoring=scoring, cv=4
    ).fit(X)
    print(f"{name}: {searches[name].best_params_}")

fig, axes = plt.subplots(1, 4, figsize=(14, 3.4), layout="constrained")
for ax, (name, search) in zip(axes, searches.items()):
    mean = search.cv_results_["mean_test_score"]
    std = search.cv_results_["std_test_score"]
    ax.errorbar(k_grid, mean, yerr=std, fmt="o-", capsize=3)
    best = search.best_params_["n_clusters"]
    ax.axvline(best, color="C3", linestyle="--")
    ax.set_title(f"{name}\nbest K = {best}")
    ax.set_xlabel("n_clusters")
axes[0].set_ylabel("cross-validated score")
plt.show()

# %%
# Through a downstream classifier
# -------------------------------
# The 8x8 handwritten digits of :func:`sklearn.datasets.load_digits` are
# flattened grey images, 16 grey levels. A segmenter with ``image_shape=(8,
# 8)`` and ``output="labels"`` turns each image into its label map (labels
# are ordered by brightness), and a support vector classifier reads the label
# maps. The grid search chooses K by the pipeline's cross-validated accuracy.
digits_X, digits_y = load_digits(return_X_y=True)
pipe = Pipeline(
    [
        (
            "seg",
            KMeansColorSegmenter(output="labels", image_shape=(8, 8), random_state=0),
        ),
        ("clf", SVC()),
    ]
)
digit_grid = [2, 3, 4, 6, 8]
digits_search = GridSearchCV(pipe, {"seg__n_clusters": digit_grid}, cv=5).fit(
    digits_X, digits_y
)
best_k = digits_search.best_params_["seg__n_clusters"]
print(
    f"digits: best K = {best_k}, cross-validated accuracy "
    f"{digits_search.best_score_:.3f}"
)

fig, axes = plt.subplots(
    1, 2, figsize=(11, 3.4), layout="constrained", width_ratios=[1, 1.6]
)
axes[0].plot(digit_grid, digits_search.cv_results_["mean_test_score"], "o-")
axes[0].axvline(best_k, color="C3", linestyle="--")
axes[0].set_xlabel("n_clusters")
axes[0].set_ylabel("cross-validated accuracy")
axes[0].set_title(f"SVC on label maps: best K = {best_k}")
seg = digits_search.best_estimator_.named_steps["seg"]
maps = seg.transform(digits_X[:5]).reshape(-1, 8, 8)
gap = np.full((1, 8), np.nan)  # drawn blank
strip = np.concatenate(
    [
        np.concatenate(
            [digits_X[i].reshape(8, 8) / 16 * (best_k - 1), gap, maps[i]], axis=0
        )
        for i in range(5)
    ],
    axis=1,
)
axes[1].imshow(strip, cmap="gray_r")
axes[1].set_title(f"digits (top) and their label maps with K = {best_k} (bottom)")
axes[1].set_axis_off()
plt.show()
