"""skseg: classic image segmentation as scikit-learn estimators.

K-Means colour segmentation over batches of images, as transformers that
compose in :class:`~sklearn.pipeline.Pipeline`,
:class:`~sklearn.pipeline.FeatureUnion` and
:class:`~sklearn.model_selection.GridSearchCV`.

The first axis of every input is images: ``(n_images, height, width,
n_channels)``, ``(n_images, height, width)``, flattened ``(n_images,
n_features)`` rows, or a list of images of different sizes.
"""

from .segmentation import KMeansColorSegmenter

__version__ = "0.1.0"

__all__ = ["KMeansColorSegmenter", "__version__"]
