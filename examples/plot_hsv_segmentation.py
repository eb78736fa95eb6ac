"""
Segmenting in HSV: colour spaces as pipeline steps
==================================================

The tutorial converts the photo from RGB to HSV before clustering, because
hue, saturation and value separate objects better than the correlated R, G
and B. With :class:`~skseg.color.ColorSpaceTransformer` that conversion is a
step of a :class:`~sklearn.pipeline.Pipeline`::

    Pipeline([("hsv", ColorSpaceTransformer("hsv")),
              ("seg", KMeansColorSegmenter(n_clusters=4))])

Hue is an angle, though: as a number in [0, 1) a red can be 0.02 or 0.98,
and k-means, which measures straight-line distances, puts those two reds
far apart and averages them into a cyan (0.5). Greys have no hue at all
(``h = 0`` by convention, next to the reds). ``hue_encoding="cossin"``
replaces ``(h, s, v)`` by ``(s cos 2 pi h, s sin 2 pi h, v)``, the HSV
cylinder in Cartesian coordinates: all reds are neighbours and greys sit on
the axis. This example shows what that changes on a real photo.
"""

# %%
# RGB, HSV and HSV with the hue encoding
# --------------------------------------
# Each pipeline clusters the colours of the astronaut photo in its own space.
# The segmented image (``output="quantized"``, every pixel replaced by its
# cluster centre) is in that space too: the colour step's
# :meth:`~skseg.color.ColorSpaceTransformer.inverse_transform` brings it back
# to RGB for display.
import matplotlib.pyplot as plt
import numpy as np
from sklearn.pipeline import Pipeline

from skseg import KMeansColorSegmenter
from skseg.color import ColorSpaceTransformer
from skseg.datasets import load_sample_image

image = load_sample_image("astronaut")
X = image[None]  # a batch of one image
k = 4

variants = {
    "RGB": ColorSpaceTransformer("rgb"),
    "HSV": ColorSpaceTransformer("hsv"),
    "HSV, hue_encoding='cossin'": ColorSpaceTransformer("hsv", hue_encoding="cossin"),
}


def segment(color_step, k):
    """Fit the tutorial pipeline; return it and its segmented image in RGB."""
    pipe = Pipeline(
        [("color", color_step), ("seg", KMeansColorSegmenter(k, random_state=0))]
    )
    segmented = pipe.fit_transform(X)
    return pipe, pipe["color"].inverse_transform(segmented)[0]


fig, axes = plt.subplots(
    2,
    4,
    figsize=(13, 4.6),
    layout="constrained",
    gridspec_kw={"height_ratios": [6, 1]},
)
axes[0, 0].imshow(image)
axes[0, 0].set_title("original")
axes[1, 0].set_axis_off()
for col, (name, step) in enumerate(variants.items(), start=1):
    pipe, rgb = segment(step, k)
    error = np.abs(rgb * 255 - image).mean()
    axes[0, col].imshow(rgb)
    axes[0, col].set_title(f"{name}\nmean |error| {error:.0f} / 255")
    # the palette: cluster centres, converted back to RGB
    palette = pipe["color"].inverse_transform(pipe["seg"].cluster_centers_[None, None])
    axes[1, col].imshow(palette[0], aspect="auto")
for ax in axes.flat:
    ax.set_xticks([])
    ax.set_yticks([])
fig.suptitle(f"K-Means with K = {k} in three colour spaces (palette below)")
plt.show()

# %%
# In plain HSV, parts of the wall come out lavender and the red stripes of
# the flag purple. A hue near 1 is far from a hue near 0, so the stripes
# (hue about 0.98) cannot join the other reds (the suit, about 0.05): they
# share a cluster with the blues of the flag and with greyish pixels whose
# hue happens to be high, and the hue of that cluster's centre is their
# mean, 0.86, a purple found nowhere in the photo. With the hue encoding the
# palette is made of colours of the photo again, as in RGB: grey wall,
# orange suit, dark red for the stripes and the hair.
#
# Where the reds are
# ------------------
# The hue channel of the photo, on a colour map that is *not* cyclic: the
# suit is orange-red just above 0 (dark), the flag stripes and the shadows in
# the lower left are red just below 1 (yellow). Plotted against hue, the
# reds are at the two ends of the axis; in the encoded plane
# ``(s cos 2 pi h, s sin 2 pi h)`` they are one group, and the greys of the
# wall and the suit gather at the centre.
hsv = ColorSpaceTransformer("hsv").fit_transform(X)[0]
encoded = ColorSpaceTransformer("hsv", hue_encoding="cossin").fit_transform(X)[0]
rng = np.random.default_rng(0)
sample = rng.choice(image.shape[0] * image.shape[1], 6000, replace=False)
colours = image.reshape(-1, 3)[sample] / 255
h, s = hsv.reshape(-1, 3)[sample, 0], hsv.reshape(-1, 3)[sample, 1]
a, b = encoded.reshape(-1, 3)[sample, 0], encoded.reshape(-1, 3)[sample, 1]

fig, axes = plt.subplots(1, 3, figsize=(13, 4.2), layout="constrained")
shown = axes[0].imshow(hsv[..., 0], cmap="viridis", vmin=0, vmax=1)
fig.colorbar(shown, ax=axes[0], label="hue h")
axes[0].set_title("hue channel")
axes[0].set_axis_off()
axes[1].scatter(h, s, c=colours, s=4)
axes[1].set(xlabel="hue h", ylabel="saturation s", title="plain HSV: (h, s)")
axes[2].scatter(a, b, c=colours, s=4)
axes[2].set(
    xlabel="s cos(2 pi h)",
    ylabel="s sin(2 pi h)",
    title="hue_encoding='cossin'",
    aspect="equal",
)
fig.suptitle("6000 pixels of the photo, drawn in their own colour")
plt.show()

# %%
# How good is the palette?
# ------------------------
# The mean absolute difference between the segmented image (back in RGB) and
# the photo, for several K. The hue encoding removes most of plain HSV's
# error; the remaining gap to RGB is the price of clustering by hue and
# saturation rather than by brightness, which is the point of HSV.
print(f"{'K':>3}" + "".join(f"{name:>30}" for name in variants))
for k in (3, 5, 8):
    row = [
        np.abs(segment(step, k)[1] * 255 - image).mean() for step in variants.values()
    ]
    print(f"{k:>3}" + "".join(f"{err:>30.1f}" for err in row))

# %%
# The conversion is a step like any other, so it can be searched over: for
# instance ``GridSearchCV(pipe, {"color__space": ["rgb", "lab"],
# "color__hue_encoding": ...})`` with a downstream classifier on
# ``output="histogram"`` features.
