"""
The elbow method: choosing the number of colours K
==================================================

The tutorial picks K with the elbow method: run K-Means for K = 1..10, plot
the within-cluster sum of squares (WCSS) against K and take the "knee", the
K after which adding a cluster no longer helps much. More clusters always
lower the WCSS, so the smallest WCSS is no answer.

:class:`~skseg.model_selection.ElbowKSelector` does this on a batch of
images: it fits a palette for every K (the colours are counted once and
shared by all K, so the whole curve costs little more than one fit), locates
the knee, and keeps a :class:`~skseg.KMeansColorSegmenter` fitted with the
chosen K as ``best_estimator_``.
"""

# %%
# A photo with a clear knee
# -------------------------
# A stained tissue sample: background, brown (DAB) and blue (hematoxylin)
# stains. The curve falls steeply up to K = 3 and slowly after it.
import warnings

import matplotlib.pyplot as plt
import numpy as np

from skseg import KMeansColorSegmenter
from skseg.datasets import load_sample_image
from skseg.model_selection import ElbowKSelector

tissue = load_sample_image("immunohistochemistry")[None]  # a batch of one image
selector = ElbowKSelector(random_state=0).fit(tissue)
print(f"chosen K = {selector.n_clusters_}")
print("WCSS per pixel:", (selector.scores_ / tissue[0, ..., 0].size).round(1))

fig, axes = plt.subplots(1, 3, figsize=(13, 4), layout="constrained")
selector.plot(ax=axes[0])
axes[1].imshow(tissue[0])
axes[1].set_title("original")
axes[2].imshow(selector.transform(tissue)[0])
axes[2].set_title(f"segmented with the chosen K = {selector.n_clusters_}")
for ax in axes[1:]:
    ax.set_axis_off()
plt.show()

# %%
# Why the knee is located on log-log axes
# ---------------------------------------
# The WCSS of data made of k colour groups falls fast until K = k, then
# slowly: extra clusters only split noise. On the raw curve the first few K
# dominate, so the eye, and kneedle on the raw values, see the bend too early
# when k is 5 or more. Below, an image of 6 flat colour bands plus noise:
# kneedle on its raw WCSS answers 4 (``benchmarks/bench_elbow.py`` measures
# this on many such images). On log-log axes a curve without a characteristic
# K (a power law, as for noise) is a straight line, and k groups bend it at k,
# wherever k lies in the range: here at 6, which is what
# :class:`~skseg.model_selection.ElbowKSelector` answers. A knee is accepted
# when the curve falls at least 1.5 times faster (in log-log slope) before it
# than after it.
rng = np.random.default_rng(0)
colours = np.array(
    [
        [230, 40, 40],
        [40, 200, 60],
        [30, 60, 220],
        [240, 230, 60],
        [150, 60, 200],
        [90, 200, 220],
    ]
)
bands = colours[np.arange(96) * 6 // 96][None].repeat(64, axis=0)
six = np.clip(bands + rng.normal(0, 10, bands.shape), 0, 255).astype(np.uint8)
six_selector = ElbowKSelector(random_state=0).fit(six[None])

fig, axes = plt.subplots(1, 3, figsize=(13, 3.8), layout="constrained")
axes[0].imshow(six)
axes[0].set_title("6 colour bands + noise")
axes[0].set_axis_off()
six_selector.plot(ax=axes[1])
axes[1].set_title("raw WCSS (the tutorial's plot)")
six_selector.plot(ax=axes[2])
axes[2].set_xscale("log")
axes[2].set_yscale("log")
axes[2].set_xticks(six_selector.k_values_, labels=six_selector.k_values_)
axes[2].set_title(f"log-log: knee at K = {six_selector.n_clusters_}")
plt.show()

# %%
# A photo without a clear knee
# ----------------------------
# Real photos often have no clear knee: their colours form a continuum, and
# the WCSS falls steadily. The selector then says so with a warning and falls
# back to a documented choice, the smallest K whose WCSS is at most 10% of the
# total sum of squares (90% of the colour variance explained).
# ``selection_`` and ``knee_found_`` record it, and the plot's title says
# it; :ref:`sphx_glr_auto_examples_plot_elbow_on_photos.py` shows it on five
# photos.
astronaut = load_sample_image("astronaut")[None]
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    photo_selector = ElbowKSelector(random_state=0).fit(astronaut)
for w in caught:
    print("warning:", w.message)
# the fallback is recorded on the selector, and the plot's title says it
print(
    f"selection_={photo_selector.selection_!r}, "
    f"knee_found_={photo_selector.knee_found_}"
)
explained = 1 - photo_selector.inertias_ / photo_selector.inertias_[0]
for k, fraction in zip(photo_selector.k_values_, explained):
    print(f"K = {k:2d}: {fraction:6.1%} of the colour variance explained")

# %%
# Every palette of the curve is kept in ``palettes_``, so the tutorial's
# segmentations for K = 3, 5 and 7 need no new clustering: each palette is
# used as the (already converged) start of a segmenter.
fig, axes = plt.subplots(1, 4, figsize=(14, 3.8), layout="constrained")
photo_selector.plot(ax=axes[0])
for ax, k in zip(axes[1:], (3, 5, 7)):
    palette = photo_selector.palettes_[list(photo_selector.k_values_).index(k)]
    segmenter = KMeansColorSegmenter(k, init=palette, n_init=1)
    ax.imshow(segmenter.fit_transform(astronaut)[0])
    chosen = " (chosen)" if k == photo_selector.n_clusters_ else ""
    ax.set_title(f"K = {k}{chosen}")
    ax.set_axis_off()
plt.show()

# %%
# Other criteria
# --------------
# ``metric="silhouette"`` (on a seeded sample of 10 000 pixels) and
# ``metric="calinski_harabasz"`` (exact over all pixels) pick the K that
# separates the colour clusters best instead of a knee; both are undefined for
# K = 1.
fig, axes = plt.subplots(1, 2, figsize=(10, 3.8), layout="constrained")
for ax, metric in zip(axes, ("silhouette", "calinski_harabasz")):
    ElbowKSelector(metric=metric, random_state=0).fit(tissue).plot(ax=ax)
plt.show()
