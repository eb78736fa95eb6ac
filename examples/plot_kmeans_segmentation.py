"""
K-Means colour segmentation
===========================

The classic tutorial: look at the pixels of a photo as points in RGB colour
space, cluster them with K-Means (k-means++ initialisation, 10 restarts) and
replace every pixel by the colour of its cluster, for K = 3, 5 and 7.

:class:`~skseg.KMeansColorSegmenter` does this on a *batch* of images (the
first axis is images), so a single image is passed as ``image[None]``. With
``output="quantized"`` (the default) it returns the segmented images in the
same layout and dtype as the input.

The second part shows what a batch adds: ``fit`` learns one palette shared by
all the images, so cluster ``k`` is the same colour in every image, while
``per_image=True`` gives each image its own palette, as the tutorial does.
"""

# %%
# Segment a photo with K = 3, 5 and 7
# -----------------------------------
# The sample images ship with scikit-image and scikit-learn: nothing is
# downloaded.
import matplotlib.pyplot as plt
import numpy as np

from skseg import KMeansColorSegmenter
from skseg.datasets import load_sample_image

images = {
    "astronaut": load_sample_image("astronaut"),
    "china": load_sample_image("china"),
}
k_values = (3, 5, 7)

fig, axes = plt.subplots(2, 4, figsize=(12, 6), layout="constrained")
for row, (name, image) in zip(axes, images.items()):
    row[0].imshow(image)
    row[0].set_title(f"{name}: original")
    for ax, k in zip(row[1:], k_values):
        segmenter = KMeansColorSegmenter(n_clusters=k, random_state=0)
        segmented = segmenter.fit_transform(image[None])[0]
        ax.imshow(segmented)
        ax.set_title(f"K = {k}")
for ax in axes.flat:
    ax.set_axis_off()
fig.suptitle("K-Means colour segmentation")
plt.show()

# %%
# The fitted palette is ``cluster_centers_`` (one RGB colour per cluster,
# sorted by brightness) and ``inertia_`` is the within-cluster sum of squares
# (WCSS) over all pixels, the quantity the elbow method plots against K.
# :meth:`~skseg.KMeansColorSegmenter.score` is minus the WCSS per pixel.
astronaut = images["astronaut"][None]
segmenter = KMeansColorSegmenter(n_clusters=3, random_state=0).fit(astronaut)
print("palette:\n", segmenter.cluster_centers_.round(1))
print(f"WCSS per pixel: {-segmenter.score(astronaut):.1f}")

# %%
# One palette for a batch, or one palette per image
# -------------------------------------------------
# ``china`` and ``flower`` have the same size, so they stack into one batch of
# shape (2, 427, 640, 3). Fitted on the batch, the segmenter learns a single
# palette of K colours from the pixels of both images: label ``k`` means the
# same colour in each of them, which makes label maps and colour histograms
# comparable across images. With ``per_image=True`` each image is clustered on
# its own: every image gets its best K colours, but label ``k`` means a
# different colour in each image.
batch = np.stack([load_sample_image("china"), load_sample_image("flower")])
k = 4

shared = KMeansColorSegmenter(n_clusters=k, random_state=0)
shared_images = shared.fit_transform(batch)
own = KMeansColorSegmenter(n_clusters=k, per_image=True, random_state=0)
own_images = own.fit_transform(batch)


def palette_of(image):
    """The distinct colours of a quantized image, darkest first."""
    colours = np.unique(image.reshape(-1, image.shape[-1]), axis=0)
    return colours[np.argsort(colours.sum(axis=1), kind="stable")]


def show_palette(ax, colours, title, numbered=False):
    """Draw colours as a strip of swatches, optionally numbered by label."""
    ax.imshow(np.asarray(colours, dtype=np.uint8)[None], aspect="auto")
    ax.set_title(title)
    if numbered:
        for label, colour in enumerate(colours):
            ink = "black" if np.mean(colour) > 128 else "white"
            ax.text(label, 0, str(label), color=ink, ha="center", va="center")


fig, axes = plt.subplot_mosaic(
    [
        ["china", "flower", "shared", "shared"],
        ["china_own", "flower_own", "china_pal", "flower_pal"],
    ],
    figsize=(12, 5),
    layout="constrained",
    width_ratios=[3, 3, 1, 1],
)
for name, image, own_image in zip(["china", "flower"], shared_images, own_images):
    axes[name].imshow(image)
    axes[name].set_title(f"{name}: shared palette")
    axes[f"{name}_own"].imshow(own_image)
    axes[f"{name}_own"].set_title(f"{name}: per_image=True")
    show_palette(axes[f"{name}_pal"], palette_of(own_image), f"{name}'s\npalette")
show_palette(
    axes["shared"],
    np.rint(shared.cluster_centers_),
    "shared palette\n(label = colour)",
    numbered=True,
)
for ax in axes.values():
    ax.set_axis_off()
fig.suptitle(f"K = {k}: one palette for the batch (top) or one per image (bottom)")
plt.show()

# %%
# With the shared palette the two images draw on the same ``k`` colours,
# ``shared.cluster_centers_``, and the label maps agree: a pixel labelled 0 is
# the darkest palette colour in either image.
labels = shared.set_params(output="labels").transform(batch)
print("shared palette:\n", shared.cluster_centers_.round(1))
for name, label_map in zip(["china", "flower"], labels):
    fractions = np.bincount(label_map.ravel(), minlength=k) / label_map.size
    print(f"{name}: fraction of pixels per cluster {fractions.round(2)}")
