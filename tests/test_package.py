"""The package's public surface and its import cost."""

import subprocess
import sys

import pytest

import skseg


@pytest.mark.parametrize("name", skseg.__all__)
def test_public_names_resolve(name):
    assert getattr(skseg, name) is not None
    assert name in dir(skseg)


def test_unknown_attribute_raises_attribute_error():
    with pytest.raises(AttributeError, match="has no attribute 'NoSuchThing'"):
        skseg.NoSuchThing  # noqa: B018


def test_import_is_light():
    # `import skseg` (and so `skseg --help`) does not import scikit-learn,
    # numba or matplotlib; estimators load them on first use.
    code = (
        "import sys, skseg, skseg.cli; "
        "heavy = [m for m in ('sklearn', 'numba', 'matplotlib') if m in sys.modules]; "
        "print(','.join(heavy))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == ""


def test_estimators_do_not_import_pil_or_matplotlib():
    # The contract recognises PIL images only when the caller has imported
    # PIL; plotting imports matplotlib inside its functions.
    code = (
        "import sys; from skseg import KMeansColorSegmenter, CannyEdgeExtractor; "
        "import skseg._batch, skseg.plotting; "
        "print(','.join(m for m in ('PIL', 'matplotlib') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == ""
