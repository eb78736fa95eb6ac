"""skseg: classic image segmentation as scikit-learn estimators.

K-Means colour segmentation over batches of images, as transformers that
compose in :class:`~sklearn.pipeline.Pipeline`,
:class:`~sklearn.pipeline.FeatureUnion` and
:class:`~sklearn.model_selection.GridSearchCV`.

The first axis of every input is images: ``(n_images, height, width,
n_channels)``, ``(n_images, height, width)``, flattened ``(n_images,
n_features)`` rows, or a list of images of different sizes.
"""

import importlib

from . import _glue

__version__ = "0.1.0"

# Public estimators and the module that defines each. They are imported on
# first access (PEP 562), so that ``import skseg`` and ``skseg --help`` do not
# pay for importing scikit-learn and numba.
_ESTIMATORS = {
    "KMeansColorSegmenter": "segmentation",
    "ElbowKSelector": "model_selection",
    "ColorSpaceTransformer": "color",
    "CannyEdgeExtractor": "edges",
    "SuperpixelSegmenter": "superpixels",
}

__all__ = [*_ESTIMATORS, "__version__"]


def _dask_adapter(estimator, method, X, *args, **kwargs):
    # The dask adapter sits above the estimators (it runs their plans), so
    # the estimators' layer reaches it through this registered hook.
    from . import _dask

    return _dask.call(estimator, method, X, *args, **kwargs)


_glue.register_dask_adapter(_dask_adapter)


def __getattr__(name):
    if name in _ESTIMATORS:
        module = importlib.import_module(f".{_ESTIMATORS[name]}", __name__)
        value = getattr(module, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(__all__))
