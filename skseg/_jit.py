"""``njit`` for skseg's kernels: cached on disk where numba can, never failing.

numba caches machine code in ``NUMBA_CACHE_DIR`` if it is set, else next to
the source file (the installed package's ``__pycache__``) if that folder is
writable, else in a per-user folder (``~/.cache/numba``). When none of them is
writable (a read-only install run by a user without a writable home),
``numba.njit(cache=True)`` raises ``RuntimeError: cannot cache function ...:
no locator available`` at import. :func:`njit` compiles without the disk
cache instead, and says once how to get it back.
"""

from __future__ import annotations

import warnings

import numba

__all__ = ["njit"]

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
