"""``njit`` for skseg's kernels: cached on disk where numba can, never failing.

numba caches machine code in ``NUMBA_CACHE_DIR`` if it is set, else next to
the source file (the installed package's ``__pycache__``) if that folder is
writable, else in a per-user folder (``~/.cache/numba``). When none of them is
writable (a read-only install run by a user without a writable home),
``numba.njit(cache=True)`` raises ``RuntimeError: cannot cache function ...:
no locator available`` at import. :func:`njit` compiles without the disk
cache instead, and says once how to get it back.

:func:`subroutine` makes a helper that is compiled only inside the kernels
that call it, never on its own.
"""

from __future__ import annotations

import inspect
import warnings
import weakref

import numba
from numba import types
from numba.core.compiler import Flags, compile_internal
from numba.extending import intrinsic

__all__ = ["njit", "subroutine"]

_WARNED = []


def njit(**options):
    """``numba.njit(**options)``, without ``cache`` if numba cannot cache."""

    def decorate(func):
        try:
            return numba.njit(**options)(func)
        except RuntimeError as exc:
            if not options.get("cache") or "cannot cache" not in str(exc):
                raise
        if not _WARNED:
            _WARNED.append(True)
            warnings.warn(
                "numba has no writable folder to cache skseg's compiled kernels "
                "in, so they are compiled again in every process (a few seconds "
                "per estimator); set NUMBA_CACHE_DIR to a writable folder.",
                RuntimeWarning,
                stacklevel=3,
            )
        return numba.njit(**{**options, "cache": False})(func)

    return decorate


_COMPILED_INTO = weakref.WeakKeyDictionary()


def subroutine(return_type, inline=True):
    """A helper compiled only inside the kernels that call it.

    ``numba.njit`` helpers are compiled twice: once alone (optimised, turned
    into machine code and written to the cache, though only other kernels
    call them) and again when the caller inlines them. A helper wrapped here
    is an intrinsic whose code is the Python function compiled for the
    caller's argument types straight into the caller's module (numba's
    ``compile_internal``, as its own builtins are), so it is optimised with
    the caller and never turned into machine code on its own. The arithmetic
    is the same Python function's.

    With ``inline=False`` the helper is marked ``noinline``: a kernel that
    calls it from several places calls one copy instead of LLVM optimising
    a copy at each call site (compile time, for a helper whose own loop
    costs far more than a call).
    """

    def decorate(func):
        def typer(typingctx, *args):
            # one compiled copy per argument types, not per literal value
            args = [types.unliteral(a) for a in args]
            if isinstance(return_type, types.Type):
                sig = return_type(*args)
            else:
                sig = return_type(*args)(*args)

            def codegen(context, builder, signature, llargs):
                library = context.active_code_library
                done = _COMPILED_INTO.setdefault(library, {})
                key = (func, signature)
                if key not in done:
                    flags = Flags()
                    flags.error_model = "numpy"  # as _JIT: IEEE division
                    flags.no_compile = True
                    flags.no_cpython_wrapper = True
                    flags.no_cfunc_wrapper = True
                    cres = compile_internal(
                        context.typing_context, context, library, func,
                        signature.args, signature.return_type, flags, {},
                    )  # fmt: skip
                    if not inline:
                        fn = library.get_function(cres.fndesc.mangled_name)
                        fn.add_function_attribute("noinline")
                    done[key] = cres.fndesc
                return context.call_internal(builder, done[key], signature, llargs)

            return sig, codegen

        typer.__name__ = func.__name__
        # intrinsic reads the parameters of typer: give it func's
        params = list(inspect.signature(func).parameters)
        ns = {"typer": typer}
        src = (
            f"def {func.__name__}(typingctx, {', '.join(params)}):\n"
            f"    return typer(typingctx, {', '.join(params)})\n"
        )
        exec(src, ns)
        wrapped = intrinsic(ns[func.__name__])
        wrapped.py_func_impl = func
        return wrapped

    return decorate
