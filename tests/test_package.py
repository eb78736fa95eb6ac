"""The package's public surface and its import cost."""

import subprocess
import sys

import numpy as np
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


def test_subroutine_inline_false_is_called_not_inlined():
    # a helper made with subroutine(..., inline=False) is one function of the
    # kernel's module that each call site calls (so its code is compiled
    # once, not once per call site), and gives the helper's results
    import numba
    from numba import types

    from skseg._jit import subroutine

    def add_twice(a, i):
        a[i] += 1.0
        a[i] += 1.0

    inline = subroutine(types.none)(add_twice)
    called = subroutine(types.none, inline=False)(add_twice)

    def two_sites(helper):
        def kernel(a, flag):
            if flag:
                helper(a, 0)
                return
            helper(a, 1)

        return numba.njit(cache=False)(kernel)

    irs = []
    for helper in (inline, called):
        kernel = two_sites(helper)
        a = np.zeros(2)
        kernel(a, True)
        kernel(a, False)
        assert a.tolist() == [2.0, 2.0]
        irs.append(kernel.inspect_llvm(kernel.signatures[0]))
    name = "add_twice"

    def calls(ir):
        return sum(1 for line in ir.splitlines() if "call " in line and name in line)

    assert calls(irs[1]) == 2
    assert calls(irs[0]) == 0
