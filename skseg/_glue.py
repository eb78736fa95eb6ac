"""scikit-learn glue: outputs, ``set_output`` and the dask hook.

- :class:`ImageOutputMixin` and :func:`wrap_output`: 2-D outputs follow
  ``set_output`` (pandas or polars DataFrames named by
  ``get_feature_names_out``); image-shaped outputs pass through unchanged;
- :func:`channel_names_in`: the input feature names of a fitted estimator;
- :func:`dask_aware`: a method called with a ``dask.array.Array`` runs
  through the dask adapter instead. The adapter sits above the estimators,
  so it is not imported from here: the package registers it
  (:func:`register_dask_adapter`, called by ``skseg/__init__``), and it
  reaches each estimator through the estimator's ``__skseg_plan__``.
"""

from __future__ import annotations

import functools
import sys

import numpy as np

__all__ = [
    "ImageOutputMixin",
    "channel_names_in",
    "dask_aware",
    "is_dask_array",
    "register_dask_adapter",
    "stateless_plan",
    "wrap_output",
]


#: The dask adapter, registered by the package (see :func:`dask_aware`).
_DASK_ADAPTER = []


def register_dask_adapter(adapter):
    """Set the function that runs a method on a dask array.

    ``adapter(estimator, method_name, X, *args, **kwargs)``; ``skseg``'s
    ``__init__`` registers :func:`skseg._dask.call` (imported on first use),
    so that this module, below the estimators, never imports the adapter
    that sits above them.
    """
    _DASK_ADAPTER[:] = [adapter]


def is_dask_array(X):
    """Whether ``X`` is a ``dask.array.Array`` (never imports dask).

    A dask array can only exist once ``dask.array`` has been imported, so
    the check looks the class up in :data:`sys.modules`.
    """
    module = sys.modules.get("dask.array")
    return module is not None and isinstance(X, module.Array)


def dask_aware(method):
    """Route a method's dask-array input to the dask adapter.

    ``method(self, X, ...)`` runs unchanged for every other input. With a
    ``dask.array.Array``, the registered adapter (:func:`skseg._dask.call`)
    runs the method's lazy, distributed counterpart instead, from the plan
    the estimator's ``__skseg_plan__`` gives: colour tables reduced
    over the blocks for fits, ``map_blocks`` for transforms. Parameter
    validation by ``_fit_context`` (applied outside) happens first either
    way.
    """

    @functools.wraps(method)
    def wrapper(self, X, *args, **kwargs):
        if is_dask_array(X):
            (adapter,) = _DASK_ADAPTER
            return adapter(self, method.__name__, X, *args, **kwargs)
        return method(self, X, *args, **kwargs)

    return wrapper


def _sklearn_wrapper_code():
    from sklearn.utils._set_output import _wrap_method_output

    return _wrap_method_output(lambda self, X: X, "transform").__code__


def wrap_output(estimator, out, X):
    """``out`` in the container ``estimator.set_output`` asks for, if 2-D.

    2-D arrays (feature outputs, flattened images) become pandas or polars
    DataFrames named by ``estimator.get_feature_names_out()``; everything
    else (image-shaped arrays, lists of images, lazy arrays) is returned as
    it is, so that image-shaped steps keep working in a configured
    :class:`~sklearn.pipeline.Pipeline`.
    """
    if isinstance(out, np.ndarray) and out.ndim == 2:
        from sklearn.utils._set_output import _wrap_data_with_container

        return _wrap_data_with_container("transform", out, X, estimator)
    return out


def _wrap_method(method):
    @functools.wraps(method)
    def wrapped(self, X, *args, **kwargs):
        return wrap_output(self, method(self, X, *args, **kwargs), X)

    wrapped._skseg_wraps_output = True
    return wrapped


class ImageOutputMixin:
    """``set_output`` for transformers whose outputs may be images.

    scikit-learn's own wrapping (``_SetOutputMixin``) turns every output of
    ``transform`` and ``fit_transform`` into a DataFrame, which fails for
    image-shaped outputs. Put first among the bases, this mixin keeps
    ``set_output`` (and the global ``transform_output`` configuration) but
    wraps only 2-D outputs (:func:`wrap_output`).
    """

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(auto_wrap_output_keys=None, **kwargs)
        # set_output is available when "transform" is among these keys.
        cls._sklearn_auto_wrap_output_keys = {"transform"}
        sklearn_wrapped = _sklearn_wrapper_code()
        for name in ("transform", "fit_transform"):
            method = getattr(cls, name, None)
            if method is None or getattr(method, "_skseg_wraps_output", False):
                continue
            if getattr(method, "__code__", None) is sklearn_wrapped:
                # inherited from TransformerMixin, wrapped by scikit-learn
                method = method.__wrapped__
            setattr(cls, name, _wrap_method(method))


def channel_names_in(estimator, input_features):
    """Names of the input channels of an estimator fitted on image-shaped input.

    For image-shaped input, ``get_feature_names_out`` names the channels of
    one output pixel; ``input_features`` are then the names of the channels of
    one input pixel (what the previous step of a pipeline names), by default
    ``channel0, channel1, ...``.
    """
    n = getattr(estimator, "n_channels_in_", None)
    if input_features is None:
        if n is None:
            raise ValueError(
                f"{type(estimator).__name__} has not seen any images: fit it "
                "or pass input_features."
            )
        return np.asarray([f"channel{i}" for i in range(n)], dtype=object)
    names = np.asarray(input_features, dtype=object)
    if names.ndim != 1 or (n is not None and names.shape[0] != n):
        raise ValueError(
            f"input_features has shape {names.shape}, but "
            f"{type(estimator).__name__} was fitted on images with {n} "
            "channel(s); fitted on image-shaped input, its input features are "
            "the channels of one pixel."
        )
    return names


# ----------------------------------------------------------------------
# The plan protocol: what an estimator hands the adapters above it (the
# dask adapter, and the command line, which fits on tables it counts file by
# file), so that they never touch its private attributes.
#
# ``estimator.__skseg_plan__(method, image)`` is called by the adapter
# with the name of the method called on a dask array and ``image``, a
# zero-strided batch of one image with the array's shape and dtype. It runs
# the checks the in-memory method would run on the batch (so bad input is
# refused before anything is computed) and returns one of the plans below,
# or None when the method does not take dask arrays. The adapter imports no
# estimator and reads no estimator attribute: it only runs plans.


class ProbePlan:
    """Nothing to compute: ``run()`` is the method's whole result.

    The checks of a stateless ``fit``, for instance.
    """

    def __init__(self, run):
        self.run = run


class TablePlan:
    """A fit on the colour table of every pixel of the array.

    ``count(block)`` gives the table of one block (on the worker that holds
    it), ``merge(*tables)`` adds tables up (a tree reduction), and
    ``fit(table)`` fits on the merged table and returns the method's result.
    With ``adopt``, ``fit`` runs where the merged table is (a worker) and
    returns a fitted copy of the estimator; ``adopt(fitted, table)`` then
    takes it over in the client, with ``table`` a handle that stays on the
    cluster (or the table itself without a ``distributed`` client).
    """

    def __init__(self, count, merge, fit, adopt=None):
        self.count, self.merge, self.fit, self.adopt = count, merge, fit, adopt


class PixelPlan:
    """A fit by passes over the pixels, not on a colour table.

    For float images, whose colours are about as many as their pixels (the
    in-memory fit then bins the pixels into a grid coreset). The adapter
    calls ``fit(passes, n_pixels)`` with the array's number of pixels and
    ``passes(kernel, init, combine)``, one pass over the array: every block
    runs ``kernel(pixels, acc)`` on its pixels (shape ``(n, n_channels)``)
    into its own ``acc = init()``, where the block is, and the accumulators
    are combined by ``combine(a, b)`` in a tree; the pass returns the
    combined one. ``fit`` returns the method's result, or None when the
    array is to be fitted on its colour table after all: the adapter then
    runs ``table``, a :class:`TablePlan`.
    """

    def __init__(self, fit, table):
        self.fit, self.table = fit, table


class MapPlan:
    """A lazy transform: ``func(block)`` over blocks of whole images.

    ``meta(image)`` (default ``func``) is called on a 1x1-pixel image for the
    output's dtype and trailing shape; ``k_out`` overrides its number of
    trailing channels or features.
    """

    def __init__(self, func, meta=None, k_out=None):
        self.func, self.meta, self.k_out = func, meta or func, k_out


class ReducePlan:
    """A reduction over blocks.

    ``func(block)`` gives a tuple of sums per block, which add up;
    ``finish(*sums)`` is the method's result.
    """

    def __init__(self, func, finish):
        self.func, self.finish = func, finish


def stateless_plan(estimator, method, image, check, mapped=("transform",), meta=None):
    """The plan of a transformer that learns nothing (Canny, colour, SLIC).

    ``fit`` only runs ``check(image, reset=True)``; each method named in
    ``mapped`` runs ``check(image, reset=False)`` and is mapped over blocks
    of whole images, its output's shape taken from ``meta(func, tiny)`` if
    given (else from the method on a 1x1-pixel image). Other methods: None.
    """
    if method != "fit" and method not in mapped:
        return None
    estimator._validate_params()
    check(image, reset=method == "fit")
    if method == "fit":
        return ProbePlan(lambda: estimator)
    func = getattr(estimator, method)
    return MapPlan(func, None if meta is None else lambda tiny: meta(func, tiny))
