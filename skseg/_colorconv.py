"""Colour conversion engine: RGB to and from HSV, Lab, Luv, XYZ, YCbCr, YUV, gray.

The conversions follow :mod:`skimage.color` (same matrices, white point,
thresholds and units) and are compiled loops over pixels (numba, cached on
disk) that:

- read the pixels in their own dtype: integer channel values go through a
  lookup table of all the values of the dtype (``v / max`` or its sRGB
  linearisation), so the gamma curve of a uint8 or uint16 image is computed
  once per channel value, never per pixel;
- compute every pixel in the float type of the output array (float32 or
  float64) and write it straight there, without temporaries; a float32
  output runs twice the SIMD lanes (RGB to Lab on a 2048x2048 uint8 photo:
  13.8 ms against 21 ms in float64; within 1.8e-4 of skimage's float64
  values against 3.8e-6);
- run the costly functions (cube root, sRGB decoding of floats, sine and
  cosine) in separate loops over blocks of 512 pixels, as branch-free
  polynomial seeds refined by Newton steps (to a few ulps of the float type
  computed in), so that LLVM vectorises them; HSV's case analysis too is
  written as selects (RGB to HSV on 2048x2048 uint8: 6.4 ms in the kernel,
  against 12.1 ms with branches).

Converting only the *distinct* colours of a uint8 image (a presence bitmap
of the 24-bit codes, one conversion per colour, a gather by rank) was
measured side by side and dropped: on a 2048x2048 photo (509 k distinct
colours) the gather alone, random reads into a 6 MB table, cost about as
much as converting every pixel with the vectorised kernels (RGB to Lab:
37 ms with distinct colours against 29 ms per pixel; HSV: 34 ms against
16 ms). The per-pixel kernels have become faster since: RGB to Lab now
takes 13 ms, less than counting the photo's distinct colours alone
(``skseg._engine.tables.count_colors``: 17.6 ms).

Pixels are rows of a 2-D array ``(n_pixels, n_channels)``; the estimator in
:mod:`skseg.color` owns the image-batch layout.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from numba import types
from numba.extending import overload

from ._jit import njit

__all__ = ["HSV_COSSIN", "SPACES", "from_rgb", "lookup_table", "to_rgb", "value_range"]

# Compiled with fused multiply-adds (LLVM may contract a * b + c into one
# rounding): no other fast-math licence, so NaN, infinities and the order of
# operations are as written. IEEE division: a ZeroDivisionError check on a
# divisor the compiler cannot prove non-zero (Luv's x + 15 y + 3 z + eps)
# is a branch that keeps the loop from being vectorised.
_JIT = {
    "cache": True,
    "nogil": True,
    "fastmath": {"contract"},
    "error_model": "numpy",
}

# ----------------------------------------------------------------------------
# Constants, as in skimage.color.colorconv (sRGB primaries, D65 white point,
# 2-degree observer). tests/test_color.py checks them against skimage's.

XYZ_FROM_RGB = np.array(
    [
        [0.412453, 0.357580, 0.180423],
        [0.212671, 0.715160, 0.072169],
        [0.019334, 0.119193, 0.950227],
    ]
)
RGB_FROM_XYZ = np.linalg.inv(XYZ_FROM_RGB)
WHITE_D65 = np.array([0.95047, 1.0, 1.08883])
# Lab: the matrix with the white point divided out of its rows.
_LABT_FROM_RGB = XYZ_FROM_RGB / WHITE_D65[:, None]
_U0 = 4 * WHITE_D65[0] / (WHITE_D65 @ np.array([1.0, 15.0, 3.0]))
_V0 = 9 * WHITE_D65[1] / (WHITE_D65 @ np.array([1.0, 15.0, 3.0]))
_EPS = float(np.finfo(np.float64).eps)

GRAY_FROM_RGB = np.array([0.2125, 0.7154, 0.0721])
YUV_FROM_RGB = np.array(
    [
        [0.299, 0.587, 0.114],
        [-0.14714119, -0.28886916, 0.43601035],
        [0.61497538, -0.51496512, -0.10001026],
    ]
)
RGB_FROM_YUV = np.linalg.inv(YUV_FROM_RGB)
YCBCR_FROM_RGB = np.array(
    [
        [65.481, 128.553, 24.966],
        [-37.797, -74.203, 112.0],
        [112.0, -93.786, -18.214],
    ]
)
RGB_FROM_YCBCR = np.linalg.inv(YCBCR_FROM_RGB)
YCBCR_OFFSET = np.array([16.0, 128.0, 128.0])

# ----------------------------------------------------------------------------
# Scalar helpers (inlined into the kernels)
#
# The forward kernels work on blocks of pixels and apply the costly functions
# (cube root, sRGB decoding, sine/cosine) in separate loops over a block;
# those helpers are branch-free polynomial seeds refined by Newton steps, so
# that LLVM vectorises the loops. Each is within a few float64 ulps.

# Pixels per block: three float64 rows of this many values stay in L1.
_BLOCK = 512

# t ** (-1/3) on [1/8, 1]: least-squares polynomial (relative error < 7e-3),
# then three Newton steps (error ~ 2 e**2 per step: < 2e-15).
_ICBRT_SEED = (
    2.7915776723498764,
    -8.866218617547082,
    23.303549224866416,
    -34.40597186242363,
    25.932020246386372,
    -7.759945928474434,
)
# u ** (-1/5) on [0.09, 1] (the sRGB curve's (c + 0.055) / 1.055 for
# c > 0.04045): polynomial (relative error < 2.1e-3), then three Newton steps.
_IROOT5_SEED = (
    2.061622794026961,
    -7.195177037395449,
    31.755977875793306,
    -89.48863818284913,
    154.73293598662104,
    -158.76551423969102,
    88.51584911769919,
    -20.618111489423356,
)

# sin and cos of r in [-pi/4, pi/4]: Taylor polynomials in r**2, truncation
# error below 5e-17.
_SIN_COEFS = tuple(
    float((-1.0) ** k / np.prod(np.arange(1.0, 2 * k + 2))) for k in range(8)
)
_COS_COEFS = tuple(
    float((-1.0) ** k / np.prod(np.arange(1.0, 2 * k + 1))) for k in range(9)
)


def _as(value, like):
    """Return ``value`` as a float of the type of ``like``.

    ``like`` is a float32 or float64 scalar, or an array of either.
    """


def _newton_steps(like):
    """Newton steps that take the seeds above to the precision of ``like``."""


# Resolved when a kernel is compiled: a float32 kernel computes in float32
# throughout (twice the SIMD lanes of float64) instead of promoting every
# operation to float64 through a float64 literal.
@overload(_as)
def _as_impl(value, like):
    if like == types.float32 or getattr(like, "dtype", None) == types.float32:
        return lambda value, like: np.float32(value)
    return lambda value, like: np.float64(value)


@overload(_newton_steps)
def _newton_steps_impl(like):
    # Seed errors of 7e-3 (cube root) and 2.1e-3 (fifth root) become < 2e-8
    # after two steps (float32's epsilon is 1.2e-7) and < 2e-15 after three.
    if like == types.float32:
        return lambda like: 2
    return lambda like: 3


@njit(**_JIT, inline="always")
def _cbrt_unit(t, octaves):
    # Cube root of t in [8 ** -(octaves + 1), ~1], branch-free: ``octaves``
    # (a constant) conditional scalings by 8 bring t into [1/8, 1]. Computed
    # in t's float type.
    one = _as(1.0, t)
    u = t
    scale = one
    for _ in range(octaves):
        small = u < _as(0.125, t)
        u = u * _as(8.0, t) if small else u
        scale = scale * _as(0.5, t) if small else scale
    c = _ICBRT_SEED
    r = _as(c[5], t)
    for j in range(4, -1, -1):
        r = _as(c[j], t) + u * r
    third = _as(1.0 / 3.0, t)
    for _ in range(_newton_steps(t)):
        r = r + r * (one - u * (r * r * r)) * third
    return u * r * r * scale


@njit(**_JIT, inline="always")
def _srgb_decode(c):
    # IEC 61966-2-1 decoding, as skimage.color.rgb2xyz, for c in [0, 1]:
    # ((c + 0.055) / 1.055) ** 2.4 = (u * u ** (-1/5)) ** 3. Branch-free;
    # computed in c's float type.
    u = max((c + _as(0.055, c)) / _as(1.055, c), _as(0.09, c))
    p = _IROOT5_SEED
    s = _as(p[7], c)
    for j in range(6, -1, -1):
        s = s * u + _as(p[j], c)
    six = _as(6.0, c)
    fifth = _as(0.2, c)
    for _ in range(_newton_steps(c)):
        s2 = s * s
        s = s * (six - u * (s2 * s2 * s)) * fifth
    w = u * s
    lin = w * w * w
    return lin if c > _as(0.04045, c) else c / _as(12.92, c)


@njit(**_JIT, inline="always")
def _lab_f(t):
    # In t's float type.
    y = _cbrt_unit(max(t, _as(0.0078125, t)), 2)
    return y if t > _as(0.008856, t) else _as(7.787, t) * t + _as(16.0 / 116.0, t)


@njit(**_JIT, inline="always")
def _sincos_turns(h):
    # (cos(2 pi h), sin(2 pi h)), branch-free, in h's float type.
    q = np.floor(_as(4.0, h) * h + _as(0.5, h))
    r = (h - _as(0.25, h) * q) * _as(2.0 * np.pi, h)
    r2 = r * r
    a = _SIN_COEFS
    s = _as(a[7], h)
    for j in range(6, -1, -1):
        s = s * r2 + _as(a[j], h)
    s *= r
    b = _COS_COEFS
    c = _as(b[8], h)
    for j in range(7, -1, -1):
        c = c * r2 + _as(b[j], h)
    # q mod 4, in {0, 1, 2, 3}
    quadrant = q - _as(4.0, h) * np.floor(_as(0.25, h) * q)
    zero, one, two = _as(0.0, h), _as(1.0, h), _as(2.0, h)
    cos = (
        c
        if quadrant == zero
        else (-s if quadrant == one else (-c if quadrant == two else s))
    )
    sin = (
        s
        if quadrant == zero
        else (c if quadrant == one else (-s if quadrant == two else -c))
    )
    return cos, sin


@njit(**_JIT, inline="always")
def _srgb_encode(x):
    # sRGB encoding, as skimage.color.xyz2rgb before its clipping to [0, 1]
    # (values above 1 are encoded as 1): 1.055 * x ** (1 / 2.4) - 0.055, with
    # x ** (1 / 2.4) = cbrt(x ** 1.25) and x ** 0.25 from two square roots.
    # Branch-free; computed in x's float type.
    xc = min(max(x, _as(0.0031308, x)), _as(1.0, x))
    p = _cbrt_unit(xc * np.sqrt(np.sqrt(xc)), 4)
    if x > _as(0.0031308, x):
        return _as(1.055, x) * p - _as(0.055, x)
    return _as(12.92, x) * x


@njit(**_JIT, inline="always")
def _clip01(x):
    # NaN-free inputs only (the caller checks finiteness).
    return min(max(x, _as(0.0, x)), _as(1.0, x))


def _value(px, i, j, lut):
    """Channel j of pixel i in [0, 1] (integers through the table v / max)."""


def _load_block(px, start, k, lut, buf, linear):
    """Load pixels ``start .. start + k`` into ``buf`` (a channel per row).

    ``buf[c, :k]`` is channel c in [0, 1], linearised if ``linear``
    (integers through the table ``lut``).
    """


# Resolved when a kernel is compiled for a pixel dtype, so that float kernels
# carry no table code (a run-time branch on the table made float64 kernels
# 20x slower).
@overload(_value)
def _value_impl(px, i, j, lut):
    if isinstance(px.dtype, types.Integer):
        return lambda px, i, j, lut: lut[px[i, j]]
    return lambda px, i, j, lut: np.float64(px[i, j])


@overload(_load_block)
def _load_block_impl(px, start, k, lut, buf, linear):
    if isinstance(px.dtype, types.Integer):

        def load_int(px, start, k, lut, buf, linear):
            for j in range(k):
                for c in range(3):
                    buf[c, j] = lut[px[start + j, c]]

        return load_int

    def load_float(px, start, k, lut, buf, linear):
        for j in range(k):
            for c in range(3):
                buf[c, j] = px[start + j, c]
        if linear:
            for c in range(3):
                for j in range(k):
                    buf[c, j] = _srgb_decode(buf[c, j])

    return load_float


@njit(**_JIT, inline="always")
def _hsv_block(buf, k):
    # buf[:, :k]: (r, g, b) -> (h, s, v) as skimage.color.rgb2hsv, including
    # its tie order (blue, then green, then red wins when several channels
    # equal the maximum). Branch-free, so that it vectorises; in buf's float
    # type.
    zero = _as(0.0, buf)
    one = _as(1.0, buf)
    for j in range(k):
        r = buf[0, j]
        g = buf[1, j]
        b = buf[2, j]
        # two-operand selects (numba's 3-argument max/min do not vectorise)
        v = r if r > g else g
        v = v if v > b else b
        mn = r if r < g else g
        mn = mn if mn < b else b
        delta = v - mn
        blue = b == v
        green = g == v
        num = (r - g) if blue else ((b - r) if green else (g - b))
        base = _as(4.0, buf) if blue else (_as(2.0, buf) if green else zero)
        grey = delta == zero
        d = one if grey else delta  # no 0 / 0 computed for greys
        h = (base + num / d) / _as(6.0, buf)
        h = h + one if h < zero else h
        h = h - one if h >= one else h
        buf[0, j] = zero if grey else h
        buf[1, j] = delta / (v if v > zero else one)  # 0 for greys
        buf[2, j] = v


@njit(**_JIT, inline="always")
def _matrix_block(m, buf, k):
    # buf[:, :k] = m @ buf[:, :k]
    for j in range(k):
        r = buf[0, j]
        g = buf[1, j]
        b = buf[2, j]
        buf[0, j] = _as(m[0, 0], r) * r + _as(m[0, 1], r) * g + _as(m[0, 2], r) * b
        buf[1, j] = _as(m[1, 0], r) * r + _as(m[1, 1], r) * g + _as(m[1, 2], r) * b
        buf[2, j] = _as(m[2, 0], r) * r + _as(m[2, 1], r) * g + _as(m[2, 2], r) * b


# ----------------------------------------------------------------------------
# Forward kernels: pixels (n, c) in their own dtype -> out (n, k).
# ``lut`` is the value or sRGB table for integer pixels (unused for floats).


@njit(**_JIT)
def _fw_values(px, lut, out):
    # rgb (and gray from one channel): the values in [0, 1].
    for i in range(px.shape[0]):
        for j in range(px.shape[1]):
            out[i, j] = _value(px, i, j, lut)


@njit(**_JIT, inline="always")
def _store_block(buf, k, start, out):
    # out[start:start + k] = buf[:, :k].T
    for j in range(k):
        for c in range(3):
            out[start + j, c] = buf[c, j]


@njit(**_JIT)
def _fw_hsv(px, lut, cossin, out, buf):
    # hsv, or with ``cossin`` (s cos h, s sin h, v). ``buf``: (3, _BLOCK) of
    # out's float type, the type computed in (allocated by the caller, and no
    # min builtin: each would be one more function to compile).
    for start in range(0, px.shape[0], _BLOCK):
        rest = px.shape[0] - start
        k = _BLOCK if rest > _BLOCK else rest
        _load_block(px, start, k, lut, buf, False)
        _hsv_block(buf, k)
        if cossin:
            for j in range(k):
                c, sn = _sincos_turns(buf[0, j])
                s = buf[1, j]
                buf[0, j] = s * c
                buf[1, j] = s * sn
        _store_block(buf, k, start, out)


@njit(**_JIT, inline="always")
def _affine_row(m, offset, c, out):
    # Row c of (m | offset) as scalars of out's float type.
    return (
        _as(m[c, 0], out),
        _as(m[c, 1], out),
        _as(m[c, 2], out),
        _as(offset[c], out),
    )


@njit(**_JIT, inline="always")
def _affine(row, buf, j):
    return row[0] * buf[0, j] + row[1] * buf[1, j] + row[2] * buf[2, j] + row[3]


@njit(**_JIT)
def _fw_matrix(px, lut, m, offset, out):
    # gray (one row), yuv, ycbcr: m @ rgb + offset on the gamma-encoded
    # values, in blocks, computed in out's float type.
    k = out.shape[1]
    row0 = _affine_row(m, offset, 0, out)
    row1 = _affine_row(m, offset, min(1, k - 1), out)
    row2 = _affine_row(m, offset, min(2, k - 1), out)
    buf = np.empty((3, _BLOCK), out.dtype)
    for start in range(0, px.shape[0], _BLOCK):
        n = min(_BLOCK, px.shape[0] - start)
        _load_block(px, start, n, lut, buf, False)
        if k == 1:
            for j in range(n):
                out[start + j, 0] = _affine(row0, buf, j)
        else:
            for j in range(n):
                i = start + j
                out[i, 0] = _affine(row0, buf, j)
                out[i, 1] = _affine(row1, buf, j)
                out[i, 2] = _affine(row2, buf, j)


@njit(**_JIT)
def _fw_xyz(px, lut, out):
    buf = np.empty((3, _BLOCK), out.dtype)  # computed in out's float type
    for start in range(0, px.shape[0], _BLOCK):
        k = min(_BLOCK, px.shape[0] - start)
        _load_block(px, start, k, lut, buf, True)
        _matrix_block(XYZ_FROM_RGB, buf, k)
        _store_block(buf, k, start, out)


@njit(**_JIT)
def _fw_lab(px, lut, out):
    buf = np.empty((3, _BLOCK), out.dtype)  # computed in out's float type
    for start in range(0, px.shape[0], _BLOCK):
        k = min(_BLOCK, px.shape[0] - start)
        _load_block(px, start, k, lut, buf, True)
        _matrix_block(_LABT_FROM_RGB, buf, k)  # XYZ / white point
        for c in range(3):
            for j in range(k):
                buf[c, j] = _lab_f(buf[c, j])
        for j in range(k):
            i = start + j
            fy = buf[1, j]
            out[i, 0] = _as(116.0, fy) * fy - _as(16.0, fy)
            out[i, 1] = _as(500.0, fy) * (buf[0, j] - fy)
            out[i, 2] = _as(200.0, fy) * (fy - buf[2, j])


@njit(**_JIT)
def _fw_luv(px, lut, out):
    buf = np.empty((3, _BLOCK), out.dtype)  # computed in out's float type
    ell = np.empty(_BLOCK, out.dtype)
    for start in range(0, px.shape[0], _BLOCK):
        k = min(_BLOCK, px.shape[0] - start)
        _load_block(px, start, k, lut, buf, True)
        _matrix_block(XYZ_FROM_RGB, buf, k)
        for j in range(k):
            y = buf[1, j]
            yr = y / _as(WHITE_D65[1], y)
            L = _as(116.0, y) * _cbrt_unit(max(yr, _as(0.0078125, y)), 2)
            L = L - _as(16.0, y)
            ell[j] = L if yr > _as(0.008856, y) else _as(903.3, y) * yr
        for j in range(k):
            x = buf[0, j]
            y = buf[1, j]
            L = ell[j]
            d = x + _as(15.0, y) * y + _as(3.0, y) * buf[2, j] + _as(_EPS, y)
            i = start + j
            out[i, 0] = L
            out[i, 1] = _as(13.0, y) * L * (_as(4.0, y) * x / d - _as(_U0, y))
            out[i, 2] = _as(13.0, y) * L * (_as(9.0, y) * y / d - _as(_V0, y))


# ----------------------------------------------------------------------------
# Inverse kernels: values (n, k) in the space's units -> RGB (n, 3) in [0, 1].
# xyz, lab and luv compute in out's float type, as the forward kernels (Lab
# back to RGB on 2048x2048 float32: 18.8 ms against 41.4 ms in float64).


@njit(**_JIT, inline="always")
def _hsv_to_rgb(h, s, v):
    # skimage.color.hsv2rgb (hue taken modulo 1).
    h6 = h * 6.0
    hi = np.floor(h6)
    f = h6 - hi
    p = v * (1.0 - s)
    q = v * (1.0 - f * s)
    t = v * (1.0 - (1.0 - f) * s)
    sector = int(hi) % 6
    if sector == 0:
        return v, t, p
    if sector == 1:
        return q, v, p
    if sector == 2:
        return p, v, t
    if sector == 3:
        return p, q, v
    if sector == 4:
        return t, p, v
    return v, p, q


@njit(**_JIT, inline="always")
def _store_rgb(out, i, r, g, b):
    out[i, 0] = _clip01(r)
    out[i, 1] = _clip01(g)
    out[i, 2] = _clip01(b)


@njit(**_JIT, inline="always")
def _xyz_block_to_rgb(buf, k, start, out):
    # buf[:, :k] holds XYZ; write sRGB in [0, 1] to out[start:start + k].
    _matrix_block(RGB_FROM_XYZ, buf, k)
    for c in range(3):
        for j in range(k):
            buf[c, j] = _clip01(_srgb_encode(buf[c, j]))
    _store_block(buf, k, start, out)


@njit(**_JIT)
def _inv_rgb(src, out):
    for i in range(src.shape[0]):
        _store_rgb(out, i, src[i, 0], src[i, 1], src[i, 2])


@njit(**_JIT)
def _inv_gray(src, out):
    for i in range(src.shape[0]):
        g = _clip01(np.float64(src[i, 0]))
        out[i, 0] = g
        out[i, 1] = g
        out[i, 2] = g


@njit(**_JIT)
def _inv_hsv(src, out):
    for i in range(src.shape[0]):
        r, g, b = _hsv_to_rgb(
            np.float64(src[i, 0]), np.float64(src[i, 1]), np.float64(src[i, 2])
        )
        _store_rgb(out, i, r, g, b)


@njit(**_JIT)
def _inv_hsv_cossin(src, out):
    for i in range(src.shape[0]):
        a = np.float64(src[i, 0])
        b = np.float64(src[i, 1])
        s = np.sqrt(a * a + b * b)
        h = np.arctan2(b, a) / (2.0 * np.pi)
        if h < 0.0:
            h += 1.0
        r, g, bl = _hsv_to_rgb(h, s, np.float64(src[i, 2]))
        _store_rgb(out, i, r, g, bl)


@njit(**_JIT)
def _inv_matrix(src, m, offset, out):
    # yuv, ycbcr: m @ (values - offset).
    for i in range(src.shape[0]):
        a = src[i, 0] - offset[0]
        b = src[i, 1] - offset[1]
        c = src[i, 2] - offset[2]
        for j in range(3):
            out[i, j] = _clip01(m[j, 0] * a + m[j, 1] * b + m[j, 2] * c)


@njit(**_JIT)
def _inv_xyz(src, out):
    buf = np.empty((3, _BLOCK), out.dtype)  # computed in out's float type
    for start in range(0, src.shape[0], _BLOCK):
        k = min(_BLOCK, src.shape[0] - start)
        for j in range(k):
            for c in range(3):
                buf[c, j] = src[start + j, c]
        _xyz_block_to_rgb(buf, k, start, out)


@njit(**_JIT, inline="always")
def _lab_finv(t):
    if t > _as(0.2068966, t):
        return t * t * t
    return (t - _as(16.0 / 116.0, t)) / _as(7.787, t)


@njit(**_JIT)
def _inv_lab(src, out):
    # skimage.color.lab2rgb: fz clipped at 0 (skimage warns), then xyz2rgb.
    buf = np.empty((3, _BLOCK), out.dtype)  # computed in out's float type
    for start in range(0, src.shape[0], _BLOCK):
        k = min(_BLOCK, src.shape[0] - start)
        for j in range(k):
            i = start + j
            fy = (_as(src[i, 0], buf) + _as(16.0, buf)) / _as(116.0, buf)
            buf[0, j] = _as(src[i, 1], buf) / _as(500.0, buf) + fy
            buf[1, j] = fy
            fz = fy - _as(src[i, 2], buf) / _as(200.0, buf)
            buf[2, j] = max(fz, _as(0.0, buf))
        for c in range(3):
            for j in range(k):
                buf[c, j] = _lab_finv(buf[c, j]) * _as(WHITE_D65[c], buf)
        _xyz_block_to_rgb(buf, k, start, out)


@njit(**_JIT)
def _inv_luv(src, out):
    # skimage.color.luv2rgb, computed in out's float type.
    buf = np.empty((3, _BLOCK), out.dtype)
    for start in range(0, src.shape[0], _BLOCK):
        k = min(_BLOCK, src.shape[0] - start)
        for j in range(k):
            i = start + j
            L = _as(src[i, 0], buf)
            q = (L + _as(16.0, L)) / _as(116.0, L)
            y = q * q * q if L > _as(7.999625, L) else L / _as(903.3, L)
            y = y * _as(WHITE_D65[1], L)
            d = _as(13.0, L) * L + _as(_EPS, L)
            a = _as(_U0, L) + _as(src[i, 1], L) / d
            b = _as(_V0, L) + _as(src[i, 2], L) / d
            c = _as(3.0, L) * y * (_as(5.0, L) * b - _as(3.0, L))
            z = (a - _as(4.0, L)) * c - _as(15.0, L) * a * b * y
            z = z / (_as(12.0, L) * b)
            buf[0, j] = -(c / b + _as(3.0, L) * z)
            buf[1, j] = y
            buf[2, j] = z
        _xyz_block_to_rgb(buf, k, start, out)


# ----------------------------------------------------------------------------
# The table of spaces


@dataclass(frozen=True)
class Space:
    """A colour space: its output channels and how to convert to it.

    Units are documented in :class:`skseg.color.ColorSpaceTransformer`.
    """

    name: str
    channels: tuple
    linear: bool = False  # needs linear-light RGB (sRGB curve undone)
    encoding: str | None = None  # hue encoding ('cossin') of 'hsv'

    @property
    def n_channels(self):
        return len(self.channels)


SPACES = {
    "rgb": Space("rgb", ("r", "g", "b")),
    "hsv": Space("hsv", ("h", "s", "v")),
    "lab": Space("lab", ("l", "a", "b"), linear=True),
    "luv": Space("luv", ("l", "u", "v"), linear=True),
    "xyz": Space("xyz", ("x", "y", "z"), linear=True),
    "ycbcr": Space("ycbcr", ("y", "cb", "cr")),
    "yuv": Space("yuv", ("y", "u", "v")),
    "gray": Space("gray", ("gray",)),
}
# space='hsv' with hue_encoding='cossin'.
HSV_COSSIN = Space("hsv", ("s_cos_h", "s_sin_h", "v"), encoding="cossin")

_MATRICES = {
    "gray": (GRAY_FROM_RGB[None, :], np.zeros(1)),
    "yuv": (YUV_FROM_RGB, np.zeros(3)),
    "ycbcr": (YCBCR_FROM_RGB, YCBCR_OFFSET),
}
_INV_MATRICES = {
    "yuv": (RGB_FROM_YUV, np.zeros(3)),
    "ycbcr": (RGB_FROM_YCBCR, YCBCR_OFFSET),
}
_NO_LUT = np.empty(0, np.float64)


@lru_cache(maxsize=16)
def lookup_table(n_values, maxval, linear, dtype=np.float64):
    """Value (``v / maxval``) or linear-light table of integer channel values.

    Computed as :mod:`skimage.color` computes them in float64
    (``img_as_float`` then the sRGB decoding), so integer images match it,
    then rounded to ``dtype``.
    """
    c = np.arange(n_values, dtype=np.float64) / maxval
    if linear:
        c = np.where(c > 0.04045, np.power((c + 0.055) / 1.055, 2.4), c / 12.92)
    c = c.astype(dtype, copy=False)
    c.setflags(write=False)
    return c


def value_range(px):
    """(min, max) of ``px`` as Python numbers."""
    return px.min().item(), px.max().item()


def _forward_kernel(space, px, lut, out):
    name = space.name
    if name in _MATRICES and px.shape[1] == 3:
        m, offset = _MATRICES[name]
        _fw_matrix(px, lut, m, offset, out)
    elif name in ("rgb", "gray"):
        _fw_values(px, lut, out)
    elif name == "hsv":
        buf = np.empty((3, _BLOCK), out.dtype)
        _fw_hsv(px, lut, space.encoding == "cossin", out, buf)
    else:
        {"xyz": _fw_xyz, "lab": _fw_lab, "luv": _fw_luv}[name](px, lut, out)


def from_rgb(px, space, out, *, maxval=None):
    """Convert RGB pixels to ``space``, writing into ``out``.

    Parameters
    ----------
    px : ndarray of shape (n_pixels, 3), or (n_pixels, 1) for 'gray'
        Pixels, any stride. uint8/uint16 are read through lookup tables
        (``maxval`` is the value of full intensity: the dtype's maximum, or 1
        for boolean images); floats must be in [0, 1]. Other dtypes must be
        converted to float by the caller.
    space : Space
        Target space, from :data:`SPACES` (or :data:`HSV_COSSIN`).
    out : ndarray of shape (n_pixels, space.n_channels), float32 or float64
        Output.
    maxval : int, optional
        Full-intensity value of integer pixels.
    """
    if px.dtype in (np.uint8, np.uint16):
        if maxval is None:
            maxval = np.iinfo(px.dtype).max
        n_values = 256 if px.dtype == np.uint8 else 65536
        # the kernels compute in out's float type
        lut = lookup_table(n_values, maxval, space.linear, out.dtype)
    else:
        lut = _NO_LUT
    _forward_kernel(space, px, lut, out)
    return out


def to_rgb(src, space, out):
    """Convert pixels in ``space`` back to RGB in [0, 1], writing into ``out``.

    Parameters
    ----------
    src : ndarray of shape (n_pixels, space.n_channels), float
        Values in the space's units.
    space : Space
    out : ndarray of shape (n_pixels, 3), float32 or float64
        Output, clipped to [0, 1].
    """
    name = space.name
    if space.encoding == "cossin":
        _inv_hsv_cossin(src, out)
    elif name in _INV_MATRICES:
        m, offset = _INV_MATRICES[name]
        _inv_matrix(src, m, offset, out)
    else:
        {
            "rgb": _inv_rgb,
            "gray": _inv_gray,
            "hsv": _inv_hsv,
            "xyz": _inv_xyz,
            "lab": _inv_lab,
            "luv": _inv_luv,
        }[name](src, out)
    return out
