"""
Pixels as points in colour space, before and after HSV
======================================================

The tutorial's first figures: every pixel of a photo is a point in 3-D
colour space, and K-Means colour segmentation groups those points into K
clusters. :func:`~skseg.plotting.plot_pixels_3d` draws the points (a seeded
random subset of them), :func:`~skseg.plotting.plot_segmentation_grid` the
segmented photo for several K.

Converting the photo to HSV moves the points: hue, saturation and value
separate the orange petals from the teal leaves better than the correlated
R, G and B, which rise and fall together with the light. With
``hue_encoding="cossin"`` the hue is an angle around the value axis (the HSV
cylinder in Cartesian coordinates), so reds near hue 0 and reds near hue 1
are neighbours.
"""

# %%
# The pixels in RGB and in HSV
# ----------------------------
# The same 3000 pixels, drawn in their own colours: on the left at their RGB
# coordinates, on the right at their HSV coordinates ``(s cos 2 pi h,
# s sin 2 pi h, v)``.
import matplotlib.pyplot as plt
from sklearn.pipeline import Pipeline

from skseg import ColorSpaceTransformer, KMeansColorSegmenter
from skseg.datasets import load_sample_image
from skseg.plotting import plot_pixels_3d, plot_segmentation_grid

image = load_sample_image("flower")  # (427, 640, 3) uint8, from scikit-learn
hsv = ColorSpaceTransformer("hsv", hue_encoding="cossin")
image_hsv = hsv.fit_transform(image[None])[0]  # a batch of one image, and back

fig = plt.figure(figsize=(11, 5))
ax = plot_pixels_3d(
    image, ax=fig.add_subplot(1, 2, 1, projection="3d"), max_points=3000
)
ax.set_title("RGB")
ax = plot_pixels_3d(
    image_hsv,
    ax=fig.add_subplot(1, 2, 2, projection="3d"),
    max_points=3000,
    colors=image,
    axis_labels=("s cos(2 pi h)", "s sin(2 pi h)", "v"),
)
ax.set_title("HSV, hue as an angle")
fig.tight_layout()
plt.show()

# %%
# The clusters K-Means finds in each space
# ----------------------------------------
# Coloured by cluster (``labels``), the points show where each space cuts:
# in RGB the four clusters are slices of brightness (dark and light leaves,
# dark and light petals), in HSV the oranges of the petals stay together and
# the clusters follow hue and saturation.
k = 4
rgb_labels = KMeansColorSegmenter(k, output="labels", random_state=0).fit_transform(
    image[None]
)[0]
hsv_pipe = Pipeline(
    [
        ("hsv", ColorSpaceTransformer("hsv", hue_encoding="cossin")),
        ("seg", KMeansColorSegmenter(k, output="labels", random_state=0)),
    ]
)
hsv_labels = hsv_pipe.fit_transform(image[None])[0]

fig = plt.figure(figsize=(11, 5))
ax = plot_pixels_3d(
    image, rgb_labels, ax=fig.add_subplot(1, 2, 1, projection="3d"), max_points=3000
)
ax.set_title(f"K = {k} in RGB")
ax = plot_pixels_3d(
    image_hsv,
    hsv_labels,
    ax=fig.add_subplot(1, 2, 2, projection="3d"),
    max_points=3000,
    axis_labels=("s cos(2 pi h)", "s sin(2 pi h)", "v"),
)
ax.set_title(f"K = {k} in HSV")
fig.tight_layout()
plt.show()

# %%
# The segmented photo for K = 3, 5 and 7
# --------------------------------------
# The tutorial's grid, in RGB: each pixel replaced by the colour of its
# cluster. The titles give the within-cluster sum of squares per pixel.
fig = plot_segmentation_grid(image, k_values=(3, 5, 7), figsize=(12, 2.8))
plt.show()

# %%
# ... and in HSV, converted back to RGB for display by the colour step's
# :meth:`~skseg.ColorSpaceTransformer.inverse_transform`. From K = 5 on, the
# darker orange at the heart of each petal gets a colour of its own.
fig, axes = plt.subplots(1, 3, figsize=(12, 3.2))
for ax, k in zip(axes, (3, 5, 7)):
    segmented = KMeansColorSegmenter(k, random_state=0).fit_transform(image_hsv[None])
    ax.imshow(hsv.inverse_transform(segmented)[0])
    ax.set_title(f"K = {k}, clustered in HSV")
    ax.set_axis_off()
fig.tight_layout()
plt.show()
