"""Canny engine: compiled smoothing, gradient, non-maximum suppression, hysteresis.

Two flavours share one pipeline:

- ``"l2"`` reproduces :func:`skimage.feature.canny` (``mode='constant'``, no
  mask) operation by operation, in the same floating-point type and order:
  ``img_as_float`` conversion (and ``rgb2gray`` for colour images), Gaussian
  smoothing as :func:`scipy.ndimage.gaussian_filter` computes it (separable,
  double accumulators, symmetric taps paired from the outside in, rounding to
  the working type after each axis) divided by the smoothed all-ones mask
  plus ``eps`` (the "bleed-over" correction), :func:`scipy.ndimage.sobel`
  with ``mode='reflect'``, Euclidean magnitude, bilinear non-maximum
  suppression on the interior pixels (the low threshold rounded to float32,
  as scikit-image's Cython kernel takes it), then hysteresis.
- ``"l1"`` reproduces OpenCV's ``cv2.Canny`` with its default
  ``L2gradient=False``: 3x3 Sobel on the image's own values with a
  replicated border, ``|gx| + |gy|``, non-maximum suppression along the
  gradient direction quantised to 0/45/90/135 degrees (OpenCV's
  ``tan(22.5)`` fixed-point test and its strict/non-strict comparisons),
  pixels on the image border included, strict thresholds. OpenCV does not
  smooth; with ``sigma > 0`` the image is smoothed with the same Gaussian,
  reflected at the border as ``cv2.GaussianBlur`` does by default.

Hysteresis keeps the candidate pixels 8-connected to a strong pixel, the
edges of scikit-image's connected-component labelling and of OpenCV's edge
tracking.

The image is streamed row by row (:func:`canny_band`): smoothed rows,
gradients and magnitudes live in ring buffers of a few rows, so the working
set stays in cache, the image is read once, and the only image-sized array
written is the candidate map, which becomes the boolean output in place.
Bands of rows can run in parallel threads; a last call of the same kernel
in its joining mode (:func:`join_bands`) joins edges across band borders, so
the result does not depend on the number of bands, and cutting an image
into bands compiles no kernel of its own.

Every kernel is compiled by numba with ``cache=True`` (a second process loads
the machine code from disk) and ``nogil=True`` (threads run in parallel).
Only the entry points (:func:`canny_band`, :func:`canny_band_u8` and the
input conversion) are numba dispatchers; the helpers they call are compiled
inside them (:func:`_subroutine`), so each is compiled and optimised once,
with its caller, not also on its own.
"""

from __future__ import annotations

import math

import numpy as np
from llvmlite import ir
from numba import types
from numba.extending import intrinsic, overload

from ._jit import njit
from ._jit import subroutine as _subroutine

__all__ = ["CannyParams", "canny_image", "gaussian_weights", "image_scale"]

# rgb2gray's weights (ITU-R BT.709 luma), as skimage.color.rgb2gray uses them.
LUMA = (0.2125, 0.7154, 0.0721)

# OpenCV's fixed-point tangent of 22.5 degrees: round(tan(22.5) * 2**15).
_TG22 = 13573.0
_SHIFT = 32768.0  # 1 << 15

# conversion modes of the input values (see image_scale)
CONVERT_AS_IS = 0
CONVERT_SCALE = 1
CONVERT_SCALE_CLIP = 2

# numba options of every kernel: machine code cached on disk, the GIL released,
# IEEE division (no ZeroDivisionError checks in the loops)
_JIT = {"cache": True, "nogil": True, "error_model": "numpy"}


def _pair_of_like(*args):
    """Return type of :func:`_sobel`: two values of the working type."""
    return types.UniTuple(args[-1].dtype, 2)


# ----------------------------------------------------------------------------
# scalar helpers


def _luma(r, g, b, c0, c1, c2):  # pragma: no cover - replaced by the overload
    raise NotImplementedError


@overload(_luma)
def _luma_impl(r, g, b, c0, c1, c2):
    """``rgb @ coeffs`` as numpy evaluates it for one pixel.

    In float64 numpy's matmul goes through BLAS, whose dot product uses
    fused multiply-adds; in float32 it is plain sequential arithmetic. Both
    forms reproduce ``skimage.color.rgb2gray`` bit for bit.
    """
    if r == types.float32:
        return lambda r, g, b, c0, c1, c2: r * c0 + g * c1 + b * c2
    return lambda r, g, b, c0, c1, c2: _fma(b, c2, _fma(r, c0, g * c1))


@intrinsic
def _fma(typingctx, a, b, c):
    """Fused multiply-add ``a * b + c`` with a single rounding (LLVM fma)."""
    if not (a == b == c and isinstance(a, types.Float)):
        return None
    sig = a(a, b, c)

    def codegen(context, builder, signature, args):
        ty = context.get_value_type(signature.return_type)
        fnty = ir.FunctionType(ty, [ty, ty, ty])
        fn = builder.module.declare_intrinsic("llvm.fma", [ty], fnty)
        return builder.call(fn, args)

    return sig, codegen


@intrinsic
def _word(typingctx, row, k):
    """Bytes ``8 * k`` to ``8 * k + 7`` of the uint8 array ``row`` as one uint64.

    (An unaligned 8-byte load: ``row[: 8 * n].view(np.uint64)[k]`` without
    compiling numba's ``view``.)
    """
    if not (
        isinstance(row, types.Array)
        and row.dtype == types.uint8
        and row.layout == "C"
        and isinstance(k, types.Integer)
    ):
        return None
    sig = types.uint64(row, k)

    def codegen(context, builder, signature, args):
        arr = context.make_array(signature.args[0])(context, builder, args[0])
        i64 = ir.IntType(64)
        k = context.cast(builder, args[1], signature.args[1], types.int64)
        ptr = builder.gep(arr.data, [builder.mul(k, ir.Constant(i64, 8))])
        return builder.load(builder.bitcast(ptr, i64.as_pointer()), align=1)

    return sig, codegen


# ----------------------------------------------------------------------------
# 1. input conversion (img_as_float and rgb2gray semantics)


@_subroutine(types.float64)
def _read(src, i, j, ch, scale, clip):
    """``src[i, j, ch] * scale`` in float64, and ``max(., -1)`` if ``clip``."""
    x = np.float64(src[i, j, ch]) * scale
    # max(x, -1.0) as numba's max computes it (NaN stays NaN), without the
    # compiled overload of max
    return (-1.0 if -1.0 > x else x) if clip else x


@njit(**_JIT)
def _convert(src, scale, clip, out):
    """Write the working-float image of ``src`` (h, w, 1 or 3) into ``out``.

    Values are read as ``x * scale`` computed in float64 (``img_as_float``'s
    conversion of integers; floats come with ``scale=1``, which is exact),
    then ``max(x * scale, -1)`` if ``clip`` (signed integers). Three
    channels are reduced to luminance as ``skimage.color.rgb2gray`` does
    (``rgb @ coeffs`` in the working type, that of ``out``).
    """
    h, w, c = src.shape
    wt = out.dtype.type
    c0 = wt(0.2125)
    c1 = wt(0.7154)
    c2 = wt(0.0721)
    for i in range(h):
        if c == 1:
            for j in range(w):
                out[i, j] = _read(src, i, j, 0, scale, clip)
        else:
            for j in range(w):
                r = wt(_read(src, i, j, 0, scale, clip))
                g = wt(_read(src, i, j, 1, scale, clip))
                b = wt(_read(src, i, j, 2, scale, clip))
                out[i, j] = _luma(r, g, b, c0, c1, c2)


# ----------------------------------------------------------------------------
# 2. Gaussian smoothing with the bleed-over correction


def gaussian_weights(sigma, truncate=4.0):
    """Half of the Gaussian kernel of ``scipy.ndimage.gaussian_filter1d``.

    Returns ``weights`` of length ``radius + 1``: ``weights[0]`` is the
    centre tap, ``weights[k]`` the tap at offsets ``+-k`` (the kernel is
    symmetric). Computed with the same numpy expression as scipy, so the
    taps are bit-identical. ``sigma`` with a zero radius gives ``[1.0]``.
    """
    radius = int(truncate * float(sigma) + 0.5)
    if radius == 0:
        return np.ones(1)
    sigma2 = sigma * sigma
    x = np.arange(-radius, radius + 1)
    phi_x = np.exp(-0.5 / sigma2 * x**2)
    phi_x = phi_x / phi_x.sum()
    return np.ascontiguousarray(phi_x[radius:])


@_subroutine(types.none)
def _taps(acc, first, mid, w0, a1, b1, v1, a2, b2, v2, a3, b3, v3, a4, b4, v4, nt):
    """Add four symmetric taps (``nt=4``), one (``nt=1``) or none to ``acc``.

    ``acc[j] = mid[j] * w0`` first if ``first``, then ``acc[j] += (a1[j] +
    b1[j]) * v1``, then taps 2, 3 and 4 if ``nt == 4``, in that order: per
    element exactly the additions of scipy.ndimage's symmetric correlation,
    in fewer passes over ``acc``. (Four taps per pass cover sigma=1, whose
    radius is 4; the taps beyond a multiple of four go one per pass, so
    that there are three loops to compile, not five.)
    """
    n = acc.shape[0]
    if nt == 4:
        for j in range(n):
            s = np.float64(mid[j]) * w0 if first else acc[j]
            s += (np.float64(a1[j]) + np.float64(b1[j])) * v1
            s += (np.float64(a2[j]) + np.float64(b2[j])) * v2
            s += (np.float64(a3[j]) + np.float64(b3[j])) * v3
            s += (np.float64(a4[j]) + np.float64(b4[j])) * v4
            acc[j] = s
    elif nt == 1:
        for j in range(n):
            s = np.float64(mid[j]) * w0 if first else acc[j]
            s += (np.float64(a1[j]) + np.float64(b1[j])) * v1
            acc[j] = s
    else:
        for j in range(n):
            acc[j] = np.float64(mid[j]) * w0


@_subroutine(types.int64)
def _mirror(i, n):
    """Index ``i`` reflected into [0, n) without repeating the edge (101)."""
    if n == 1:
        return 0
    period = 2 * (n - 1)
    i = abs(i) % period
    return period - i if i >= n else i


@_subroutine(types.none)
def _smooth_row(src, t, weights, brow, acc, rowbuf, zeros, dst, opencv):
    """Row ``t`` of the smoothed image.

    The arithmetic is scipy.ndimage's ``correlate1d`` with a symmetric
    kernel: ``acc = x[0] * w[0]``, then ``acc += (x[-k] + x[k]) * w[k]`` for
    ``k = radius .. 1``, in double, rounded to the working type after each
    axis (rows first, then columns).

    scikit-image's border (``brow`` given, ``opencv`` None): zero padding
    (rows outside the image are ``zeros``, ``rowbuf`` keeps ``radius`` zeros
    on each side; ``x + 0.0`` and ``acc + 0.0`` are exact), then the
    division by the bleed-over row ``brow`` in the working type. OpenCV's
    border (``brow`` None, ``opencv`` not None, ``cv2.GaussianBlur``'s
    default ``BORDER_REFLECT_101``): the image reflected, no division, so a
    constant image stays constant. The flavour is chosen by which argument
    is None, so numba compiles only the code of the flavour used (a branch
    on an argument that is None is removed before typing).
    """
    h, w = src.shape
    radius = weights.shape[0] - 1
    w0 = weights[0]
    # axis 0: rows t - k and t + k
    k = radius
    first = True
    while first or k > 0:
        # (no min/max builtins in the kernels: each is one more compile)
        nt = 4 if k >= 4 else (1 if k >= 1 else 0)
        k1, k2, k3, k4 = k, k - 1, k - 2, k - 3
        if nt != 4:
            k2 = k3 = k4 = 0
        if opencv is not None:
            _taps(
                acc, first, src[t], w0,
                src[_mirror(t - k1, h)], src[_mirror(t + k1, h)], weights[k1],
                src[_mirror(t - k2, h)], src[_mirror(t + k2, h)], weights[k2],
                src[_mirror(t - k3, h)], src[_mirror(t + k3, h)], weights[k3],
                src[_mirror(t - k4, h)], src[_mirror(t + k4, h)], weights[k4],
                nt,
            )  # fmt: skip
        if brow is not None:
            _taps(
                acc, first, src[t], w0,
                src[t - k1] if t - k1 >= 0 else zeros,
                src[t + k1] if t + k1 < h else zeros,
                weights[k1],
                src[t - k2] if t - k2 >= 0 else zeros,
                src[t + k2] if t + k2 < h else zeros,
                weights[k2],
                src[t - k3] if t - k3 >= 0 else zeros,
                src[t + k3] if t + k3 < h else zeros,
                weights[k3],
                src[t - k4] if t - k4 >= 0 else zeros,
                src[t + k4] if t + k4 < h else zeros,
                weights[k4],
                nt,
            )  # fmt: skip
        k -= nt
        first = False
    mid = rowbuf[radius : radius + w]
    for j in range(w):
        mid[j] = acc[j]
    if opencv is not None:
        for k in range(1, radius + 1):
            rowbuf[radius - k] = mid[_mirror(-k, w)]
            rowbuf[radius + w - 1 + k] = mid[_mirror(w - 1 + k, w)]
    # axis 1: columns j - k and j + k of the rounded row (views of rowbuf)
    r = radius
    k = radius
    first = True
    while first or k > 0:
        # (no min/max builtins in the kernels: each is one more compile)
        nt = 4 if k >= 4 else (1 if k >= 1 else 0)
        k1, k2, k3, k4 = k, k - 1, k - 2, k - 3
        if nt != 4:
            k2 = k3 = k4 = 0
        _taps(
            acc, first, mid, w0,
            rowbuf[r - k1 : r - k1 + w], rowbuf[r + k1 : r + k1 + w], weights[k1],
            rowbuf[r - k2 : r - k2 + w], rowbuf[r + k2 : r + k2 + w], weights[k2],
            rowbuf[r - k3 : r - k3 + w], rowbuf[r + k3 : r + k3 + w], weights[k3],
            rowbuf[r - k4 : r - k4 + w], rowbuf[r + k4 : r + k4 + w], weights[k4],
            nt,
        )  # fmt: skip
        k -= nt
        first = False
    if opencv is not None:
        for j in range(w):
            dst[j] = acc[j]
    if brow is not None:
        # round, divide by the bleed-over (border columns have their own)
        ncol = brow.shape[0]
        b_in = brow[radius if radius < ncol - 1 else ncol - 1]
        for j in range(w):
            dst[j] = dst.dtype.type(acc[j]) / b_in
        for j in range(radius if radius < w else w):
            dst[j] = dst.dtype.type(acc[j]) / brow[j]
        for j in range(w - radius if w - radius > radius else radius, w):
            dst[j] = dst.dtype.type(acc[j]) / brow[ncol - (w - j)]


@_subroutine(_pair_of_like)
def _sobel(am, a0, ap, bm, b0, bp, cm, c0, cp, like):
    """Sobel gradients ``(gi, gj)`` at the centre of a 3x3 neighbourhood.

    ``a*``, ``b*``, ``c*`` are the rows above, at and below; ``m``, ``0``,
    ``p`` the columns left, at and right. As ``scipy.ndimage.sobel(img,
    axis)``: the derivative ``x[+1] - x[-1]`` along ``axis`` rounded to the
    working type (that of the array ``like``), then ``2 * x[0] + (x[-1] +
    x[+1])`` along the other axis, rounded.
    """
    wt = like.dtype.type
    dm = wt(np.float64(ap) - np.float64(am))
    d0 = wt(np.float64(bp) - np.float64(bm))
    dp = wt(np.float64(cp) - np.float64(cm))
    gj = wt(np.float64(d0) * 2.0 + (np.float64(dm) + np.float64(dp)))
    em = wt(np.float64(cm) - np.float64(am))
    e0 = wt(np.float64(c0) - np.float64(a0))
    ep = wt(np.float64(cp) - np.float64(ap))
    gi = wt(np.float64(e0) * 2.0 + (np.float64(em) + np.float64(ep)))
    return gi, gj


@_subroutine(types.none)
def _gradient_row(sa, sb, sc, l1, gi_row, gj_row, m_row):
    """Sobel gradients and magnitude of the middle row ``sb``.

    ``sa`` and ``sc`` are the rows above and below (the middle row itself at
    the image border): ``mode='reflect'`` of ``scipy.ndimage.sobel``, which
    for a 3x3 kernel is OpenCV's replicated border. The magnitude is
    ``sqrt(gi * gi + gj * gj)`` in the working type (as scikit-image), or
    ``|gi| + |gj|`` (``l1``, as OpenCV); it is written to ``m_row[1:-1]``
    (``m_row`` keeps a zero on each side). The interior columns run in one
    loop over shifted views that the compiler vectorises (recomputing the
    row derivatives is cheaper than another pass over memory).
    """
    w = sb.shape[0]
    n = w - 2 if w > 2 else 0
    am, a0, ap = sa[0:n], sa[1 : n + 1], sa[2 : n + 2]
    bm, b0, bp = sb[0:n], sb[1 : n + 1], sb[2 : n + 2]
    cm, c0, cp = sc[0:n], sc[1 : n + 1], sc[2 : n + 2]
    gi_out = gi_row[1 : n + 1]
    gj_out = gj_row[1 : n + 1]
    m_out = m_row[2 : n + 2]
    for j in range(n):
        gi, gj = _sobel(
            am[j], a0[j], ap[j], bm[j], b0[j], bp[j], cm[j], c0[j], cp[j], gi_row
        )
        gi_out[j] = gi
        gj_out[j] = gj
        m_out[j] = abs(gi) + abs(gj) if l1 else np.sqrt(gi * gi + gj * gj)
    for j in (0, w - 1):
        jm = j - 1 if j > 0 else 0
        jp = j + 1 if j + 1 < w else w - 1
        gi, gj = _sobel(
            sa[jm], sa[j], sa[jp], sb[jm], sb[j], sb[jp], sc[jm], sc[j], sc[jp], gi_row
        )
        gi_row[j] = gi
        gj_row[j] = gj
        m_row[j + 1] = abs(gi) + abs(gj) if l1 else np.sqrt(gi * gi + gj * gj)


@_subroutine(types.int64)
def _suppress_bilinear(gi_row, gj_row, m0, m1, m2, low, high, c):
    """scikit-image's bilinear non-maximum suppression of one row.

    ``m0``, ``m1``, ``m2`` are the zero-padded magnitude rows above, at and
    below (pixel ``j`` at index ``j + 1``). Interior pixels only, as
    scikit-image. Written without branches (every neighbour is loaded and
    the right ones selected), so the loop vectorises; the arithmetic is
    scikit-image's: ``w`` in the working type, ``n2 * w`` in the working
    type, the rest in double. ``c[j]`` becomes 0, 1 (weak) or 2 (strong).
    Returns the number of candidates.
    """
    w = gi_row.shape[0]
    c[0] = 0
    c[w - 1] = 0
    count = 0
    for j in range(1, w - 1):
        m = m1[j + 1]
        gi = gi_row[j]
        gj = gj_row[j]
        ai = abs(gi)
        aj = abs(gj)
        cond1 = (gi <= 0) == (gj <= 0)  # both gradients of the same sign
        big_i = ai > aj
        small_i = ai < aj
        case_a = cond1 and big_i
        case_d = (not cond1) and (not small_i)
        num = aj if case_a or case_d else ai
        den = ai if case_a or case_d else aj
        wt = num / den
        up_r = m0[j + 2]
        up_l = m0[j]
        up_c = m0[j + 1]
        dn_r = m2[j + 2]
        dn_l = m2[j]
        dn_c = m2[j + 1]
        n12 = dn_r if cond1 else up_r
        n22 = up_l if cond1 else dn_l
        n11 = dn_c if case_a else (up_c if case_d else m1[j + 2])
        n21 = up_c if case_a else (dn_c if case_d else m1[j])
        w64 = np.float64(wt)
        mm = np.float64(m)
        plus = np.float64(n12 * wt) + np.float64(n11) * (1.0 - w64) <= mm
        minus = np.float64(n22 * wt) + np.float64(n21) * (1.0 - w64) <= mm
        keep = (mm >= low) & plus & minus
        c[j] = (2 if mm >= high else 1) if keep else 0
        count += keep
    return count


@_subroutine(types.int64)
def _suppress_quantized(gi_row, gj_row, m0, m1, m2, low, high, c):
    """OpenCV's non-maximum suppression of one row (``L2gradient=False``).

    Every pixel, border included; the magnitude rows are zero-padded (pixel
    ``j`` at index ``j + 1``), and a missing row above or below is all
    zeros, as OpenCV's buffers. The direction is quantised with OpenCV's
    fixed-point test (``|gy| * 2**15`` against ``|gx| * 13573``, i.e.
    ``tan(22.5)``); the comparisons are OpenCV's: strict on one side and not
    on the other along the axes, strict on both along the diagonals;
    thresholds are strict. Returns the number of candidates.
    """
    w = gi_row.shape[0]
    count = 0
    for j in range(w):
        mm = np.float64(m1[j + 1])
        xs = np.float64(gj_row[j])
        ys = np.float64(gi_row[j])
        x = abs(xs)
        y = abs(ys) * _SHIFT
        tg22x = x * _TG22
        horizontal = y < tg22x
        vertical = (not horizontal) and (y > tg22x + x * (2.0 * _SHIFT))
        diagonal = (not horizontal) and (not vertical)
        anti = (xs < 0) != (ys < 0)
        up_r = np.float64(m0[j + 2])
        up_l = np.float64(m0[j])
        dn_r = np.float64(m2[j + 2])
        dn_l = np.float64(m2[j])
        a = (
            np.float64(m1[j])
            if horizontal
            else (np.float64(m0[j + 1]) if vertical else (up_r if anti else up_l))
        )
        b = (
            np.float64(m1[j + 2])
            if horizontal
            else (np.float64(m2[j + 1]) if vertical else (dn_l if anti else dn_r))
        )
        keep = (mm > low) & (mm > a) & ((mm > b) if diagonal else (mm >= b))
        c[j] = (2 if mm > high else 1) if keep else 0
        count += keep
    return count


EDGE = 3  # candidate map value of a pixel found to be an edge


@_subroutine(types.none, inline=False)
def _flood(cand, stack, top, r0, r1):
    """Mark as EDGE the candidates 8-connected to the stacked pixels.

    Stack entries are ``(row << 32) | column`` (no division to decode them);
    only rows [r0, r1) are visited. A pixel is pushed once (when it is
    marked), so a stack as long as the number of candidates in those rows is
    enough. (The stack is never reallocated here: handing arrays back and
    forth in a hot loop costs reference counting.)

    Not inlined: each band kernel calls it from two places (the online
    hysteresis and the joining mode), and inlined twice it made a first
    ``canny_band_u8`` compile 0.15-0.4 s longer than 72270d2's, which had
    one call site (scratch script, 3 interleaved rounds of 4 compiles).
    """
    w = cand.shape[1]
    while top > 0:
        top -= 1
        p = stack[top]
        pi = p >> 32
        pj = p & 0xFFFFFFFF
        j0 = pj - 1 if pj > 0 else 0
        j1 = pj + 2 if pj + 2 < w else w
        i0 = pi - 1 if pi - 1 > r0 else r0
        i1 = pi + 2 if pi + 2 < r1 else r1
        for qi in range(i0, i1):
            row = cand[qi]
            for qj in range(j0, j1):
                v = row[qj]
                if v == 1 or v == 2:
                    row[qj] = EDGE
                    stack[top] = (qi << 32) | qj
                    top += 1


@_subroutine(types.none)
def _link_row(cand, n, r0, stack):
    """Online hysteresis for row ``n`` once its candidates are known.

    Invariant: the candidates of rows [r0, n) connected to a strong pixel
    through candidates of those rows are EDGE. The strong pixels of row
    ``n`` and its weak pixels next to an edge of row ``n - 1`` are marked,
    then one flood through rows [r0, n] restores the invariant (any other
    growth of a component goes through those pixels). ``stack`` must hold
    as many entries as there are candidates in rows [r0, n]. The row is
    scanned eight pixels at a time (candidates are sparse).
    """
    w = cand.shape[1]
    c = cand[n]
    prev = cand[n - 1] if n > r0 else c
    n_words = w // 8
    top = 0
    for k in range(n_words + 1):
        if k < n_words:
            if _word(c, k) == 0:
                continue
            j0 = 8 * k
            j1 = j0 + 8
        else:
            j0 = 8 * n_words
            j1 = w
        for j in range(j0, j1):
            v = c[j]
            if v == 0:
                continue
            if v == 1:
                if n == r0:
                    continue
                if not (
                    prev[j] == EDGE
                    or (j > 0 and prev[j - 1] == EDGE)
                    or (j < w - 1 and prev[j + 1] == EDGE)
                ):
                    continue
            c[j] = EDGE
            stack[top] = (np.int64(n) << 32) | j
            top += 1
    if top:
        _flood(cand, stack, top, r0, n + 1)


@njit(**_JIT)
def canny_band(
    src, weights, bleed, opencv, low, high, r0, start, r1, n_cand, cand, mag, rows,
    mrows, rowbuf, acc, stack,
):  # fmt: skip
    """Canny on rows [r0, r1) of one image, streaming row by row.

    Smoothed rows, gradients and magnitudes live in small ring buffers (the
    working set stays in cache); the image is read once and only the rows
    of the band of ``cand`` are written (0: not a candidate, 1: weak, 2:
    strong, EDGE: edge), so bands can run in parallel threads. Hysteresis is
    done inside the band, row by row; edges crossing band borders are joined
    by a call in joining mode (``r0 < 0``, :func:`join_bands`).

    The steps a call does not use are given as None: numba removes a branch
    on an argument that is None before typing, so each flavour compiles only
    its own code (no smoothing code for ``cv2.Canny``'s call, no quantised
    suppression for scikit-image's).

    Parameters
    ----------
    src : ndarray of shape (h, w)
        The image in the working float type, or (OpenCV's flavour without
        smoothing) in its own dtype.
    weights : ndarray of float64 or None
        Half Gaussian kernel (:func:`gaussian_weights`); None: no smoothing.
    bleed : ndarray of shape (h, ncol), working type, or None
        Bleed-over table (:func:`bleed_table`) of scikit-image's flavour
        (``sqrt(gi**2 + gj**2)``, bilinear suppression on the interior
        pixels, ``>=`` thresholds); None for OpenCV's.
    opencv : bool or None
        Not None for OpenCV's flavour (``|gi| + |gj|``, quantised
        suppression, border pixels included, strict thresholds), None for
        scikit-image's. Exactly one of ``bleed`` and ``opencv`` is None.
    low, high : float
        Thresholds as the flavour compares them.
    r0, start, r1 : int
        Rows of the band, [r0, r1), done from row ``start`` on (rows [r0,
        start) were done by an earlier call that ran out of stack).
        ``r0 < 0``: joining mode instead, the candidates 8-connected to the
        first ``r1`` pixels of ``stack`` (the edges on the band borders)
        become edges, over the whole image; nothing else is read.
    n_cand : int
        Number of candidates in rows [r0, start) (counted by the caller: a
        counting loop here took 2.5 % of the kernel's compile).
    cand : ndarray of uint8, shape (h, w)
    mag : ndarray of shape (h, w) or (0, 0), working type
        Its dtype is the working type. If not empty, only the magnitudes of
        the band are written there (no suppression), for thresholds given
        as quantiles.
    rows, mrows, rowbuf, acc : ndarray
        Work buffers from :func:`band_buffers` (allocated by the caller: an
        allocation inside the kernel is one more compiled function).
    stack : ndarray of int64
        Stack of the hysteresis (:func:`run_band`; unused for magnitudes).

    Returns
    -------
    stop, n_cand : int
        ``r1`` once the band is done, else the row where ``stack`` could run
        out of room (:func:`run_band` calls again from there with a larger
        one); the number of candidates in rows [r0, stop).
    """
    h, w = src.shape
    if r0 < 0:
        _flood(cand, stack, r1, 0, h)
        return r1, 0
    l1 = opencv is not None
    ring_s = rows[0:5]  # smoothed rows
    ring_gi = rows[5:8]
    ring_gj = rows[8:11]
    zeros_s = rows[11]
    ring_m = mrows[0:3]  # zero-padded magnitude rows
    zeros = mrows[3]
    magnitude_only = mag.shape[0] > 0
    s_next = start - 2 if start > 2 else 0
    m_next = start - 1 if start > 1 else 0
    for n in range(start, r1):
        if n_cand + w > stack.shape[0] and not magnitude_only:
            return n, n_cand  # the hysteresis could need more room
        # gradients up to row n + 1, smoothed rows up to row n + 2
        while m_next <= n + 1 and m_next <= h - 1:
            while s_next <= m_next + 1 and s_next <= h - 1:
                row = ring_s[s_next % 5]
                if weights is None:
                    x = src[s_next]
                    for j in range(w):
                        row[j] = x[j]
                if weights is not None:
                    if bleed is not None:
                        nb = bleed.shape[0] - 1
                        brow = bleed[s_next if s_next < nb else nb]
                        _smooth_row(
                            src, s_next, weights, brow, acc, rowbuf, zeros_s, row, None
                        )
                    if opencv is not None:
                        _smooth_row(
                            src, s_next, weights, None, acc, rowbuf, zeros_s, row, True
                        )
                s_next += 1
            g = m_next
            _gradient_row(
                ring_s[(g - 1 if g > 0 else 0) % 5],
                ring_s[g % 5],
                ring_s[(g + 1 if g + 1 < h else h - 1) % 5],
                l1,
                ring_gi[g % 3],
                ring_gj[g % 3],
                ring_m[g % 3],
            )
            m_next += 1
        m1 = ring_m[n % 3]
        if magnitude_only:
            for j in range(w):  # a loop: a slice assignment compiles
                mag[n, j] = m1[j + 1]  # numba's shape-error machinery (~2 s)
            continue
        c = cand[n]
        has_above = n > 0
        has_below = n < h - 1
        m0 = ring_m[(n - 1) % 3] if has_above else zeros
        m2 = ring_m[(n + 1) % 3] if has_below else zeros
        count = 0
        if opencv is not None:
            count = _suppress_quantized(
                ring_gi[n % 3], ring_gj[n % 3], m0, m1, m2, low, high, c
            )
        if bleed is not None:
            if has_above and has_below and w > 2:
                count = _suppress_bilinear(
                    ring_gi[n % 3], ring_gj[n % 3], m0, m1, m2, low, high, c
                )
            else:
                for j in range(w):
                    c[j] = 0  # scikit-image never marks the image border
        if count:
            n_cand += count
            _link_row(cand, n, r0, stack)
    return r1, n_cand


# ----------------------------------------------------------------------------
# 8-bit images, OpenCV's flavour without smoothing (the tutorial's call)


def _int16_op(name, doc):
    """An intrinsic ``name(a, b)`` on two int16 values that stays in int16.

    numba computes integer arithmetic in 64 bits; the vectoriser then packs
    4 or 8 values per register instead of 16. The values of the kernels
    below never leave int16's range, so 16-bit arithmetic is exact.
    """

    def typer(typingctx, a, b):
        if not (a == b == types.int16):
            return None

        def codegen(context, builder, signature, args):
            return getattr(builder, name)(args[0], args[1])

        return types.int16(a, b), codegen

    typer.__name__ = f"_{name}16"
    typer.__doc__ = doc
    return intrinsic(typer)


_add16 = _int16_op("add", "``a + b`` in int16.")
_sub16 = _int16_op("sub", "``a - b`` in int16.")


# The two row helpers of canny_band_u8 are not inlined: 5.5 % less to compile
# for its first call (instructions under valgrind), the same speed (a call
# per row).
@_subroutine(types.none, inline=False)
def _gradient_row_u8(sa, sb, sc, low, gi_row, gj_row, m_row, above):
    """Integer Sobel gradients and ``|gi| + |gj|`` of the middle row ``sb``.

    As :func:`_gradient_row` with ``l1`` on rows of uint8 values: the
    derivatives are integers of at most ``4 * 255`` in absolute value, so
    16-bit integers hold them and their L1 magnitude exactly (the float
    kernel computes the same integers in float64). ``m_row`` keeps a zero
    on each side (pixel ``j`` at index ``j + 1``). ``above[j]`` becomes 1
    where the magnitude exceeds ``low`` (int16), 0 elsewhere: the pixels the
    suppression has to look at.
    """
    w = sb.shape[0]
    n = w - 2 if w > 2 else 0
    am, a0, ap = sa[0:n], sa[1 : n + 1], sa[2 : n + 2]
    bm, bp = sb[0:n], sb[2 : n + 2]
    cm, c0, cp = sc[0:n], sc[1 : n + 1], sc[2 : n + 2]
    gi_out = gi_row[1 : n + 1]
    gj_out = gj_row[1 : n + 1]
    m_out = m_row[2 : n + 2]
    above_out = above[1 : n + 1]
    zero = np.int16(0)
    for j in range(n):
        d = _sub16(np.int16(bp[j]), np.int16(bm[j]))
        gj = _add16(
            _add16(_sub16(np.int16(ap[j]), np.int16(am[j])), _add16(d, d)),
            _sub16(np.int16(cp[j]), np.int16(cm[j])),
        )
        e = _sub16(np.int16(c0[j]), np.int16(a0[j]))
        gi = _add16(
            _add16(_sub16(np.int16(cm[j]), np.int16(am[j])), _add16(e, e)),
            _sub16(np.int16(cp[j]), np.int16(ap[j])),
        )
        gi_out[j] = gi
        gj_out[j] = gj
        m = _add16(
            gi if gi >= zero else _sub16(zero, gi),
            gj if gj >= zero else _sub16(zero, gj),
        )
        m_out[j] = m
        above_out[j] = m > low
    for j in (0, w - 1):
        jm = j - 1 if j > 0 else 0
        jp = j + 1 if j + 1 < w else w - 1
        gj = (
            (np.int16(sa[jp]) - np.int16(sa[jm]))
            + 2 * (np.int16(sb[jp]) - np.int16(sb[jm]))
            + (np.int16(sc[jp]) - np.int16(sc[jm]))
        )
        gi = (
            (np.int16(sc[jm]) - np.int16(sa[jm]))
            + 2 * (np.int16(sc[j]) - np.int16(sa[j]))
            + (np.int16(sc[jp]) - np.int16(sa[jp]))
        )
        gi_row[j] = gi
        gj_row[j] = gj
        m = (gi if gi >= 0 else -gi) + (gj if gj >= 0 else -gj)
        m_row[j + 1] = m
        above[j] = m > low


@_subroutine(types.int64, inline=False)
def _suppress_u8(gi_row, gj_row, m0, m1, m2, above, high, c):
    """:func:`_suppress_quantized` on integer gradients and magnitudes.

    Only the pixels flagged in ``above`` (magnitude above the low
    threshold, :func:`_gradient_row_u8`) are examined, eight flags at a
    time: on a photo most pixels are below it. ``high`` is the integer part
    of the high threshold (an integer magnitude exceeds ``t >= 0`` exactly
    when it exceeds ``floor(t)``). OpenCV's fixed-point direction test is
    exact in integers.
    """
    w = gi_row.shape[0]
    for j in range(w):
        c[j] = 0
    count = 0
    for k in range((w + 7) // 8):
        if _word(above, k) == 0:
            continue
        for j in range(8 * k, 8 * k + 8):
            if above[j] == 0:
                continue
            mm = np.int64(m1[j + 1])
            xs = np.int64(gj_row[j])
            ys = np.int64(gi_row[j])
            x = xs if xs >= 0 else -xs
            y = (ys if ys >= 0 else -ys) << 15
            tg22x = x * 13573
            if y < tg22x:  # horizontal: left and right
                a = m1[j]
                b = m1[j + 2]
                b_ok = mm >= b
            elif y > tg22x + (x << 16):  # vertical: above and below
                a = m0[j + 1]
                b = m2[j + 1]
                b_ok = mm >= b
            else:  # diagonal, strict on both sides
                anti = (xs ^ ys) < 0
                a = m0[j + 2] if anti else m0[j]
                b = m2[j] if anti else m2[j + 2]
                b_ok = mm > b
            if mm > a and b_ok:
                c[j] = 2 if mm > high else 1
                count += 1
    return count


@njit(**_JIT)
def canny_band_u8(src, low, high, r0, start, r1, n_cand, cand, rows, above, stack):
    """:func:`canny_band` for ``cv2.Canny``'s own call on a uint8 image.

    OpenCV's flavour without smoothing, in integers throughout: 16-bit
    Sobel gradients and L1 magnitudes (exact, as OpenCV computes them),
    integer suppression and thresholds, the same row-by-row hysteresis. The
    edges are those :func:`canny_band` finds on the same image, bit for
    bit.

    Parameters
    ----------
    src : ndarray of uint8, shape (h, w)
    low, high : int
        ``floor`` of the thresholds, at most ``2**15 - 1`` (above any
        magnitude).
    r0, start, r1, n_cand : int
        Rows of the band, done from ``start`` on, and the candidates in rows
        [r0, start); ``r0 < 0``: joining mode, as :func:`canny_band`'s.
    cand : ndarray of uint8, shape (h, w)
    rows : ndarray of int16, shape (10, w + 2)
        Zeroed work rows (:func:`band_buffers_u8`): gradients (3 + 3), the
        zero-padded magnitudes (3) and a zero row.
    above : ndarray of uint8, shape (3, 8 * ceil(w / 8))
        Zeroed rows of flags of the pixels above ``low``.
    stack : ndarray of int64
        Stack of the hysteresis.

    Returns
    -------
    stop, n_cand : int
        As :func:`canny_band`'s.
    """
    h, w = src.shape
    if r0 < 0:
        _flood(cand, stack, r1, 0, h)
        return r1, 0
    ring_m = rows[6:9]
    zeros = rows[9]
    low16 = np.int16(low)
    m_next = start - 1 if start > 1 else 0
    for n in range(start, r1):
        if n_cand + w > stack.shape[0]:
            return n, n_cand
        while m_next <= n + 1 and m_next <= h - 1:
            g = m_next
            _gradient_row_u8(
                src[g - 1 if g > 0 else 0],
                src[g],
                src[g + 1 if g + 1 < h else h - 1],
                low16,
                rows[g % 3, :w],
                rows[3 + g % 3, :w],
                ring_m[g % 3],
                above[g % 3],
            )
            m_next += 1
        m0 = ring_m[(n - 1) % 3] if n > 0 else zeros
        m2 = ring_m[(n + 1) % 3] if n < h - 1 else zeros
        count = _suppress_u8(
            rows[n % 3, :w], rows[3 + n % 3, :w], m0, ring_m[n % 3], m2,
            above[n % 3], high, cand[n],
        )  # fmt: skip
        if count:
            n_cand += count
            _link_row(cand, n, r0, stack)
    return r1, n_cand


#: The first stack of a band's hysteresis holds 1 / FIRST_STACK_SHARE of the
#: band's pixels, plus a row (it grows as needed, :func:`run_band`). The
#: candidates of a 2048x2048 astronaut are 0.4-0.9 % of the pixels of each
#: band with the tutorial's thresholds and 2.4-3.6 % with scikit-image's, so
#: photos rarely need a second stack; untouched pages cost no memory.
FIRST_STACK_SHARE = 16


def run_band(kernel, r0, r1, cand, stack=None):
    """Run a band kernel on rows [r0, r1) to the end, growing its stack.

    ``kernel(start, n_cand, stack)`` is the kernel of the band from row
    ``start`` on (``n_cand`` candidates in rows [r0, start)). The hysteresis
    needs a stack as long as the candidates of the band, which are known
    only as they are found; the kernel stops at the row where ``stack``
    could run out of room (it returns that row), and is called again from
    there with one twice as long as what is needed so far. (The kernel does
    not allocate: an allocation inside a kernel is one more function for
    numba to compile in every first call.)
    """
    w = cand.shape[1]
    if stack is None:
        stack = np.empty((r1 - r0) * w // FIRST_STACK_SHARE + w, np.int64)
    start, n_cand = r0, 0
    while True:
        start, n_cand = kernel(start, n_cand, stack)
        if start >= r1:
            return
        stack = np.empty(2 * (n_cand + w), np.int64)


def join_bands(cand, seams, band):
    """Join edges across band borders: flood from the edges on each seam.

    ``seams`` are the first rows of the bands after the first; ``band(r0,
    r1, stack)`` calls the image's band kernel (:func:`canny_band` or
    :func:`canny_band_u8`, whichever found the candidates) with the given
    rows and stack, so its joining mode (``r0 < 0``) does the flood: the
    same kernel, no other to compile.
    """
    h, w = cand.shape
    near = np.concatenate([cand[r - 1 : r + 1] for r in seams])
    rows, cols = np.nonzero(near == EDGE)
    rows = np.asarray(seams)[rows // 2] - 1 + rows % 2
    top = rows.shape[0]
    # a pixel is pushed once (when marked): the candidates are enough room
    stack = np.empty(top + int(np.count_nonzero(cand)), np.int64)
    stack[:top] = (rows.astype(np.int64) << 32) | cols
    band(-1, top, stack)


def bleed_table(h, w, weights, working, eps):
    """Smoothed all-ones image plus ``eps``, by row and border column.

    Returns an array of shape (h, ncol) in the working type: ``ncol = w``
    when ``w <= 2 * radius + 1``, else ``2 * radius + 1`` columns
    (``radius`` left border columns, one interior column shared by every
    interior pixel of the row, ``radius`` right border columns). Values are
    computed with the arithmetic of the smoothing kernel (taps added from
    the outside in, in double, rounded to the working type after each axis;
    a tap outside the image adds nothing), so they are the values
    ``gaussian(ones)`` has. NumPy rather than a compiled kernel: the table is
    small, and a kernel would be one more thing to compile.
    """
    radius = weights.shape[0] - 1
    # Pixels more than ``radius`` from both borders of an axis all see the
    # same taps: the table is computed at ``radius`` positions from each
    # border and one interior position per axis, then rows are expanded.
    rows, row_of = _border_positions(h, radius)
    cols, _ = _border_positions(w, radius)
    # axis 0
    acc = np.full(rows.shape[0], 1.0 * weights[0])
    for k in range(radius, 0, -1):
        ab = (rows - k >= 0).astype(np.float64) + (rows + k < h)
        acc = np.where(ab != 0.0, acc + ab * weights[k], acc)
    v = acc.astype(working).astype(np.float64)[:, None]
    # axis 1
    acc = np.repeat(v * weights[0], cols.shape[0], axis=1)
    for k in range(radius, 0, -1):
        a = np.where(cols - k >= 0, v, 0.0)
        b = np.where(cols + k < w, v, 0.0)
        acc = np.where((a != 0.0) | (b != 0.0), acc + (a + b) * weights[k], acc)
    table = acc.astype(working) + working.type(eps)
    return table[row_of]


def _border_positions(n, radius):
    """Positions along an axis of length ``n`` that see distinct Gaussian taps.

    Returns ``(positions, index)``: ``positions`` are ``0 .. radius - 1``,
    one interior position and the last ``radius`` (every position if ``n <=
    2 * radius + 1``); ``index[i]`` is the entry of ``positions`` that
    position ``i`` behaves as.
    """
    i = np.arange(n)
    if n <= 2 * radius + 1:
        return i, i
    positions = np.concatenate([i[:radius], [radius], i[n - radius :]])
    index = np.where(
        i < radius, i, np.where(i < n - radius, radius, i - (n - 2 * radius - 1))
    )
    return positions, index


# ----------------------------------------------------------------------------
# Python driver


class CannyParams:
    """Resolved parameters of one Canny run (shared by every image).

    Parameters
    ----------
    sigma : float
    low_threshold, high_threshold : float or None
        In the image's units, or quantiles; None for the defaults.
    use_quantiles : bool
    gradient : {'l2', 'l1'}
    """

    def __init__(self, sigma, low_threshold, high_threshold, use_quantiles, gradient):
        self.sigma = float(sigma)
        self.low = low_threshold
        self.high = high_threshold
        self.use_quantiles = bool(use_quantiles)
        self.l1 = gradient == "l1"
        self.weights = gaussian_weights(self.sigma)
        # OpenCV does not smooth: sigma=0 in the OpenCV flavour is cv2.Canny
        # itself. scikit-image always smooths (with sigma=0 it still divides
        # by the bleed-over, 1 + eps).
        self.smooth = not (self.l1 and self.weights.shape[0] == 1)


def image_scale(dtype, *, l1, from_bool=False):
    """How images of ``dtype`` are read, and the units of the thresholds.

    Returns ``(working_dtype, mode, scale, divisor, default_unit)``.

    ``"l2"`` reads images as ``img_as_float`` does (unsigned integers
    ``x * (1 / max)``, signed ``max(x * (1 / max), -1)``, floats as given,
    booleans as 0 and 1); given thresholds are divided by ``divisor`` (the
    dtype's maximum for integers, 1 otherwise), so they are in the image's
    own units, and the defaults 0.1 and 0.2 apply to the converted image.
    ``"l1"`` reads the values as given (OpenCV's integer Sobel); given
    thresholds are used unchanged and the defaults are 10% and 20% of
    ``default_unit`` (the dtype's maximum for integers, 1 otherwise). Both
    rules put the same thresholds on the same magnitudes.
    """
    dtype = np.dtype(dtype)
    working = np.dtype(np.float32) if dtype == np.float32 else np.dtype(np.float64)
    if dtype.kind == "f":
        return working, CONVERT_AS_IS, 1.0, 1.0, 1.0
    if from_bool:
        return working, CONVERT_SCALE, 1.0, 1.0, 1.0
    imax = np.iinfo(dtype).max
    if l1:
        return working, CONVERT_SCALE, 1.0, 1.0, float(imax)
    mode = CONVERT_SCALE if dtype.kind == "u" else CONVERT_SCALE_CLIP
    return working, mode, 1.0 / imax, imax, 1.0


# dtypes the band kernel reads directly in the OpenCV flavour without
# smoothing; anything else is converted first (fewer compiled variants).
_DIRECT_DTYPES = (np.uint8, np.uint16, np.float32, np.float64)


def prepare_image(image, params, *, from_bool=False):
    """The 2-D array the band kernel reads, and the threshold units.

    Returns ``(src, working, divisor, unit)``.
    """
    h, w, c = image.shape
    working, mode, scale, divisor, unit = image_scale(
        image.dtype, l1=params.l1, from_bool=from_bool
    )
    direct = (
        c == 1
        and not from_bool
        and image.flags.writeable
        and (
            image.dtype == working
            or (params.l1 and not params.smooth and image.dtype in _DIRECT_DTYPES)
        )
    )
    if direct:
        src = image[:, :, 0]
        if not src.flags.c_contiguous:
            src = np.ascontiguousarray(src)
    else:
        src = np.empty((h, w), working)
        _convert(image, scale, mode == CONVERT_SCALE_CLIP, src)
    return src, working, divisor, unit


def thresholds(params, working, divisor, unit, mag=None):
    """Thresholds in the units the kernels compare, as scikit-image/OpenCV do."""
    low, high = params.low, params.high
    if params.use_quantiles:
        low = 0.1 if low is None else low
        high = 0.2 if high is None else high
        low, high = np.percentile(mag, [100.0 * low, 100.0 * high])
        strong_type = True
    else:
        # defaults: 10% and 20% of the dtype's maximum, in the image's units
        low = 0.1 * unit if low is None else low / divisor
        high = 0.2 * unit if high is None else high / divisor
        strong_type = False
    low, high = float(low), float(high)
    if params.l1:
        return low, high
    # scikit-image's kernel takes the low threshold as a C float, and 0 as 1e-14
    low = float(np.float32(low))
    if low == 0.0:
        low = float(np.float32(1e-14))
    # a Python float compared with a float32 array is cast to float32 (NEP 50)
    if working == np.float32 and not strong_type:
        high = float(np.float32(high))
    return low, high


def band_buffers(w, working, weights):
    """Zeroed work buffers of :func:`canny_band` for images ``w`` wide.

    Returns ``(rows, mrows, rowbuf, acc)``: ``rows`` holds the ring buffers
    of smoothed rows (5) and gradients (3 + 3) and a zero row, ``mrows`` the
    zero-padded magnitude rows (3) and a zero row, ``rowbuf`` a smoothed row
    with ``radius`` zeros on each side (empty without smoothing) and ``acc``
    the double accumulator of the smoothing. (The stack of the hysteresis
    comes from :func:`run_band`.)
    """
    radius = 0 if weights is None else weights.shape[0] - 1
    n_acc = 0 if weights is None else w
    return (
        np.zeros((12, w), working),
        np.zeros((4, w + 2), working),
        np.zeros(n_acc + 2 * radius if n_acc else 0, working),
        np.empty(n_acc, np.float64),
    )


def band_bounds(h, n_bands):
    """Row bounds of at most ``n_bands`` bands of at least 64 rows."""
    n_bands = max(1, min(int(n_bands), h // 64))
    return np.linspace(0, h, n_bands + 1).round().astype(int)


def canny_image(image, params, *, from_bool=False, out=None, n_bands=1, run_bands=None):
    """Canny edges of one image.

    Parameters
    ----------
    image : ndarray of shape (height, width, 1 or 3)
        One image in its own dtype.
    params : CannyParams
    from_bool : bool, default=False
        The image is a 0/1 uint8 view of a boolean image: read it as the
        floats 0 and 1 (as scikit-image reads boolean images).
    out : ndarray of bool, shape (height, width), optional
        Where to write the edges (C-contiguous). It also holds the candidate
        map while the edges are computed (no other image-sized array).
    n_bands : int, default=1
        Number of row bands, processed by ``run_bands``.
    run_bands : callable, optional
        ``run_bands(func, bounds)`` calls ``func(r0, r1)`` for every band,
        possibly in parallel threads (the bands write disjoint rows of shared
        arrays). Default: one after the other.

    Returns
    -------
    edges : ndarray of bool, shape (height, width)
    """
    h, w, _ = image.shape
    src, working, divisor, unit = prepare_image(image, params, from_bool=from_bool)
    if out is None:
        out = np.empty((h, w), np.bool_)
    cand = out.view(np.uint8)  # the candidate map, then the 0/1 edges
    if not params.l1:
        eps = float(np.finfo(working).eps)
        bleed = bleed_table(h, w, params.weights, working, eps)
    else:
        bleed = None
    if not params.use_quantiles:
        low, high = thresholds(params, working, divisor, unit)
    if (
        not params.l1
        and (params.use_quantiles or low < 1e-6)
        and src.min() == src.max()
    ):
        # A constant image has no edges. (scikit-image's renormalised
        # smoothing leaves rounding noise of ~1e-15 times the values, which
        # zero or quantile thresholds would report as edges; OpenCV's
        # flavour keeps a constant image exactly constant.)
        out[...] = False
        return out
    bounds = band_bounds(h, n_bands)
    if run_bands is None or len(bounds) == 2:

        def run_bands(func, bounds):
            for r0, r1 in zip(bounds[:-1], bounds[1:]):
                func(r0, r1)

    if src.dtype == np.uint8 and params.l1 and not params.smooth:
        if not params.use_quantiles:
            # the tutorial's cv2.Canny call: integer kernel (same edges)
            low_i, high_i = _integer_threshold(low), _integer_threshold(high)

            def band_u8(r0, r1, stack=None):
                rows, above = band_buffers_u8(w)
                run_band(
                    lambda start, n_cand, stack: canny_band_u8(
                        src, low_i, high_i, r0, start, r1, n_cand, cand, rows,
                        above, stack,
                    ),
                    r0, r1, cand, stack,
                )  # fmt: skip

            run_bands(band_u8, bounds)
            return _finish(cand, out, bounds, run_bands, band_u8)
    # None for the steps not taken: numba compiles only the code of the others
    weights = params.weights if params.smooth else None
    args = (src, weights, bleed, True if params.l1 else None)
    if params.use_quantiles:
        mag = np.empty((h, w), working)
        run_bands(
            lambda r0, r1: canny_band(
                *args, 0.0, 0.0, r0, r0, r1, 0, cand, mag,
                *band_buffers(w, working, weights), np.empty(0, np.int64),
            ),
            bounds,
        )  # fmt: skip
        low, high = thresholds(params, working, divisor, unit, mag)
        del mag
    none = np.empty((0, 0), working)

    def band(r0, r1, stack=None):
        buffers = band_buffers(w, working, weights)
        run_band(
            lambda start, n_cand, stack: canny_band(
                *args, low, high, r0, start, r1, n_cand, cand, none, *buffers,
                stack,
            ),
            r0, r1, cand, stack,
        )  # fmt: skip

    run_bands(band, bounds)
    return _finish(cand, out, bounds, run_bands, band)


def _finish(cand, out, bounds, run_bands, band):
    """Join the bands' edges and turn the candidate map into the edges."""
    if len(bounds) > 2:
        join_bands(cand, bounds[1:-1], band)
    # the candidate map becomes the 0/1 edges in place (NumPy: one kernel less
    # to compile, as fast)
    run_bands(lambda r0, r1: np.equal(cand[r0:r1], EDGE, out=out[r0:r1]), bounds)
    return out


def _integer_threshold(t):
    """``floor(t)`` for ``t >= 0``, capped at 2**15 - 1 (above any magnitude).

    An integer magnitude ``m`` exceeds ``t`` exactly when it exceeds
    ``floor(t)``.
    """
    return int(math.floor(min(t, 2.0**15 - 1)))


def band_buffers_u8(w):
    """Zeroed work buffers of :func:`canny_band_u8` for images ``w`` wide."""
    return (
        np.zeros((10, w + 2), np.int16),
        np.zeros((3, 8 * ((w + 7) // 8)), np.uint8),
    )
