"""
Canny edge detection
====================

The second half of the tutorial: Canny's detector (noise reduction,
gradient, non-maximum suppression, double threshold, hysteresis), called as
``edges = cv2.Canny(img, 150, 200)`` and shown next to the original photo.

:class:`~skseg.edges.CannyEdgeExtractor` does this on a *batch* of images
(the first axis is images) and returns boolean edge maps in the same layout.
It has two flavours:

- ``gradient="l1"`` is OpenCV's: ``CannyEdgeExtractor(sigma=0,
  low_threshold=150, high_threshold=200, gradient="l1")`` is the tutorial's
  ``cv2.Canny(gray, 150, 200)``, pixel for pixel;
- ``gradient="l2"`` (the default) is scikit-image's: with the same ``sigma``
  and thresholds it gives the edges of :func:`skimage.feature.canny`, pixel
  for pixel. Its defaults (``sigma=1``, thresholds at 10% and 20% of the
  dtype's maximum) smooth first, so the photo's texture does not turn into
  edges.

Thresholds are on the gradient magnitude of the image in its own units, so
the tutorial's 150 and 200 carry over to a uint8 photo unchanged.
"""

# %%
# The tutorial's figure: original and edges
# -----------------------------------------
# The sample images ship with scikit-image and scikit-learn: nothing is
# downloaded. Colour photos are reduced to their luminance inside the
# transformer (as :func:`skimage.color.rgb2gray`); here the 8-bit gray
# image is made explicitly, because that is what ``cv2.Canny`` takes.
import matplotlib.pyplot as plt
import numpy as np
from skimage import feature
from skimage.color import rgb2gray
from skimage.util import img_as_ubyte
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import cross_val_score
from sklearn.pipeline import FeatureUnion, make_pipeline

from skseg import KMeansColorSegmenter
from skseg.datasets import load_sample_image
from skseg.edges import CannyEdgeExtractor
from skseg.plotting import plot_edges

photo = load_sample_image("astronaut")
gray = img_as_ubyte(rgb2gray(photo))  # (512, 512) uint8

cv2_like = CannyEdgeExtractor(
    sigma=0, low_threshold=150, high_threshold=200, gradient="l1"
)
edges = cv2_like.fit_transform(gray[None])[0]  # a batch of one image

fig, (ax0, ax1) = plt.subplots(1, 2, figsize=(10, 5), layout="constrained")
ax0.imshow(photo)
ax0.set_title("Original Image")
ax1.imshow(edges, cmap="gray")
ax1.set_title("Edge Image: cv2.Canny(gray, 150, 200)")
for ax in (ax0, ax1):
    ax.set_xticks([])
    ax.set_yticks([])
plt.show()

# %%
# If OpenCV is installed, the maps can be compared directly: they are the
# same.
try:
    import cv2
except ImportError:
    print("OpenCV is not installed; skipping the comparison with cv2.Canny")
else:
    reference = cv2.Canny(gray, 150, 200) > 0
    print(f"identical to cv2.Canny: {np.array_equal(edges, reference)}")

# %%
# :func:`~skseg.plotting.plot_edges` draws an edge map over its image, which
# shows what the edges follow (here scikit-image's defaults, ``sigma=1``, on
# a crop of the face).
crop = photo[30:230, 140:340]
fig, ax = plt.subplots(figsize=(5, 5))
plot_edges(crop, CannyEdgeExtractor().fit_transform(crop[None])[0], ax=ax)
ax.set_title("CannyEdgeExtractor() over the photo")
plt.show()

# %%
# Smoothing first: scikit-image's defaults
# ----------------------------------------
# Without smoothing, every strong texture is an edge. The default
# ``CannyEdgeExtractor()`` smooths with ``sigma=1`` and applies thresholds at
# 10% and 20% of the dtype's maximum (25.5 and 51 for uint8): the result is
# :func:`skimage.feature.canny` on the luminance. Larger ``sigma`` keeps only
# the outlines. Colour photos go in as they are; two photos of different
# sizes make a list (a ragged batch), and the edge maps come back as a list.
batch = [photo, load_sample_image("chelsea")]
results = {
    "sigma=1 (default)": CannyEdgeExtractor().fit_transform(batch),
    "sigma=3": CannyEdgeExtractor(sigma=3).fit_transform(batch),
    "l1, sigma=0, 150/200": cv2_like.fit_transform(batch),
}

fig, axes = plt.subplots(2, 4, figsize=(14, 7), layout="constrained")
for row, image in zip(axes, batch):
    row[0].imshow(image)
    row[0].set_title("original")
for col, (title, maps) in enumerate(results.items(), start=1):
    for row, edge_map in zip(axes, maps):
        row[col].imshow(edge_map, cmap="gray")
        row[col].set_title(title)
for ax in axes.flat:
    ax.set_axis_off()
fig.suptitle("CannyEdgeExtractor on a list of two colour photos")
plt.show()

# %%
# The defaults give scikit-image's edges exactly:
same = [
    np.array_equal(edge_map, feature.canny(rgb2gray(image)))
    for image, edge_map in zip(batch, results["sigma=1 (default)"])
]
print(f"identical to skimage.feature.canny(rgb2gray(image)): {same}")

# %%
# Edges as features
# -----------------
# On flattened images (``image_shape`` says how to unflatten each row) the
# edge maps are rows of booleans, one per pixel, so they join other
# image-level features in a :class:`~sklearn.pipeline.FeatureUnion`. Here
# the 8x8 digits: their edge maps and a 4-colour histogram of a shared
# palette feed a logistic regression.
X, y = load_digits(return_X_y=True)
features = FeatureUnion(
    [
        # the digits are floats in 0..16: thresholds in their units (10% and
        # 20% of 16; the defaults are meant for floats in [0, 1])
        (
            "edges",
            CannyEdgeExtractor(
                low_threshold=1.6, high_threshold=3.2, image_shape=(8, 8)
            ),
        ),
        (
            "hist",
            KMeansColorSegmenter(
                4, output="histogram", image_shape=(8, 8), random_state=0
            ),
        ),
    ]
)
model = make_pipeline(features, LogisticRegression(max_iter=2000))
scores = cross_val_score(model, X, y, cv=3)
print(f"digits, edges + colour histogram: accuracy {scores.mean():.2f}")
