"""
The random-initialisation trap, and how k-means++ and restarts avoid it
=======================================================================

K-Means only improves the centres it starts from, so a bad start ends in a
bad local minimum: several centres share one group of colours while another
large group has to make do with one. Starting from K pixels drawn at random
(``init="random"``) falls into that trap often; k-means++ (the tutorial's
``KMEANS_PP_CENTERS``, skseg's default) spreads its starting centres out,
and restarts (``n_init``, the tutorial's ``attempts=10``) keep the best of
several runs.

This example fits the same photo with 60 different seeds, one run each,
and compares the within-cluster sum of squares (WCSS) the two
initialisations reach.
"""

# %%
# WCSS over 60 seeds
# ------------------
# ``n_init=1``: one run per seed, so the spread of the WCSS is the spread of
# the local minima each initialisation lands in. The WCSS is shown relative
# to the best one found by any run.
import matplotlib.pyplot as plt
import numpy as np

from skseg import KMeansColorSegmenter
from skseg.datasets import load_sample_image

image = load_sample_image("flower")[::2, ::2]  # (214, 320, 3) uint8
X = image[None]
k = 4
seeds = range(60)


def wcss(init, n_init, seed):
    seg = KMeansColorSegmenter(k, init=init, n_init=n_init, random_state=seed)
    return seg.fit(X).inertia_


runs = {
    init: np.array([wcss(init, 1, seed) for seed in seeds])
    for init in ("random", "k-means++")
}
best = min(r.min() for r in runs.values())

fig, ax = plt.subplots(figsize=(7, 3.5))
rng = np.random.default_rng(0)
for row, (init, values) in enumerate(runs.items()):
    jitter = rng.uniform(-0.15, 0.15, len(values))
    ax.scatter(values / best, row + jitter, s=14, alpha=0.7, label=init)
ax.set_yticks([0, 1], list(runs))
ax.set_xlabel("WCSS relative to the best run")
ax.set_title(f"K = {k}, one run per seed ({len(seeds)} seeds)")
fig.tight_layout()
plt.show()

for init, values in runs.items():
    trapped = np.mean(values > 1.01 * best)
    print(
        f"init={init!r:12}: median {np.median(values) / best:.3f} x best, "
        f"worst {values.max() / best:.3f} x best, "
        f"{trapped:.0%} of the seeds more than 1% above the best"
    )

# %%
# What the trap looks like
# ------------------------
# The segmented photo of the median run of each initialisation. The trapped
# random run spends three of its four colours on the flower (light orange,
# orange, dark red) and paints the whole teal background, most of the
# photo, in one colour; the k-means++ run gives the flower two colours and
# splits the background into its dark and light leaves, at a WCSS about 30%
# lower.
fig, axes = plt.subplots(1, 3, figsize=(12, 3.2))
axes[0].imshow(image)
axes[0].set_title("original")
for ax, (init, values) in zip(axes[1:], runs.items()):
    seed = int(np.argsort(values)[len(values) // 2])  # the median run
    seg = KMeansColorSegmenter(k, init=init, n_init=1, random_state=seed)
    ax.imshow(seg.fit_transform(X)[0])
    ax.set_title(f"init={init!r}, seed {seed}: {seg.inertia_ / best:.3f} x best")
for ax in axes:
    ax.set_axis_off()
fig.tight_layout()
plt.show()

# %%
# Restarts
# --------
# With the default ``n_init=10`` every fit keeps the best of ten runs; the
# chance that all ten are trapped is small, whatever the initialisation.
for init in ("random", "k-means++"):
    values = np.array([wcss(init, 10, seed) for seed in range(15)])
    print(
        f"init={init!r:12}, n_init=10: worst of 15 seeds "
        f"{values.max() / best:.3f} x best"
    )
