"""scikit-learn's estimator checks over every public estimator of skseg."""

import inspect

import pytest
from sklearn.base import BaseEstimator
from sklearn.utils.estimator_checks import parametrize_with_checks

import skseg
from skseg import KMeansColorSegmenter

# Every public estimator, discovered from skseg.__all__.
ESTIMATORS = sorted(
    (
        obj
        for name in skseg.__all__
        if inspect.isclass(obj := getattr(skseg, name))
        and issubclass(obj, BaseEstimator)
    ),
    key=lambda cls: cls.__name__,
)

# Extra constructor arguments under which the checks also run, so that every
# output mode meets the same contract. The default-constructed estimator is
# always checked.
VARIANTS = {
    "KMeansColorSegmenter": [
        {"output": "labels"},
        {"output": "distances"},
        {"output": "histogram"},
        {"per_image": True},
        {"per_image": True, "output": "histogram"},
    ],
    "ElbowKSelector": [
        {"metric": "silhouette"},
        {"metric": "calinski_harabasz"},
        {"segmenter": KMeansColorSegmenter(output="labels")},
        {"segmenter": KMeansColorSegmenter(output="histogram", per_image=True)},
        {"k_values": [2, 3, 5], "n_jobs": 2},
    ],
}

# Checks expected to fail, per estimator class name: {check_name: reason}.
# xfail_strict is on, so an entry that starts passing fails the suite.
EXPECTED_FAILED_CHECKS: dict[str, dict[str, str]] = {}


def _instances():
    for cls in ESTIMATORS:
        yield cls()
        for params in VARIANTS.get(cls.__name__, []):
            yield cls(**params)


def test_every_public_estimator_is_discovered():
    assert {cls.__name__ for cls in ESTIMATORS} >= {
        "KMeansColorSegmenter",
        "ElbowKSelector",
    }


@pytest.mark.filterwarnings("ignore::UserWarning")
@parametrize_with_checks(
    list(_instances()),
    expected_failed_checks=lambda est: EXPECTED_FAILED_CHECKS.get(
        type(est).__name__, {}
    ),
)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
