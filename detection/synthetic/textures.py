"""Deterministic procedural noise evaluated at world coordinates.

Noise is a hash of the integer lattice and a seed rather than a random array, so the value at a
ground point does not depend on which camera window asked for it: two overlapping frames of the
simulator see the same grass.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float32]

_M1 = np.uint32(0x85EBCA6B)
_M2 = np.uint32(0xC2B2AE35)
_PX = np.uint32(0x27D4EB2F)
_PY = np.uint32(0x165667B1)


def _hash01(ix: NDArray[np.int64], iy: NDArray[np.int64], seed: int) -> FloatArray:
    """Pseudo-random value in [0, 1) for each integer lattice point (murmur-style finaliser)."""
    salt = np.uint32((seed * 0x9E3779B1) & 0xFFFFFFFF)
    h = ix.astype(np.uint32) * _PX ^ iy.astype(np.uint32) * _PY ^ salt
    h ^= h >> np.uint32(15)
    h *= _M1
    h ^= h >> np.uint32(13)
    h *= _M2
    h ^= h >> np.uint32(16)
    return (h >> np.uint32(8)).astype(np.float32) / np.float32(1 << 24)


def value_noise(x_m: FloatArray, y_m: FloatArray, cell_m: float, seed: int) -> FloatArray:
    """Smooth noise in [0, 1) with features about ``cell_m`` metres across."""
    fx = x_m / np.float32(cell_m)
    fy = y_m / np.float32(cell_m)
    x0 = np.floor(fx)
    y0 = np.floor(fy)
    tx = fx - x0
    ty = fy - y0
    tx = tx * tx * (3 - 2 * tx)
    ty = ty * ty * (3 - 2 * ty)
    ix = x0.astype(np.int64)
    iy = y0.astype(np.int64)
    v00 = _hash01(ix, iy, seed)
    v10 = _hash01(ix + 1, iy, seed)
    v01 = _hash01(ix, iy + 1, seed)
    v11 = _hash01(ix + 1, iy + 1, seed)
    top = v00 + (v10 - v00) * tx
    bottom = v01 + (v11 - v01) * tx
    out: FloatArray = (top + (bottom - top) * ty).astype(np.float32)
    return out


def fbm(x_m: FloatArray, y_m: FloatArray, cell_m: float, seed: int, octaves: int = 4) -> FloatArray:
    """Fractal noise in about [0, 1): octaves of value noise, each half the size and weight."""
    total = np.zeros_like(x_m, dtype=np.float32)
    weight = 1.0
    norm = 0.0
    for octave in range(octaves):
        total += np.float32(weight) * value_noise(
            x_m, y_m, cell_m / (2**octave), seed * 31 + octave
        )
        norm += weight
        weight *= 0.5
    return total / np.float32(norm)


def speckle(x_m: FloatArray, y_m: FloatArray, cell_m: float, seed: int) -> FloatArray:
    """Blocky per-cell random values in [0, 1): gravel, bricks, rubble fragments."""
    ix = np.floor(x_m / np.float32(cell_m)).astype(np.int64)
    iy = np.floor(y_m / np.float32(cell_m)).astype(np.int64)
    return _hash01(ix, iy, seed)


def mix(a: tuple[float, float, float], b: tuple[float, float, float], t: FloatArray) -> FloatArray:
    """Per-pixel blend of two colours by ``t`` in [0, 1]: an (..., 3) array."""
    ca = np.asarray(a, dtype=np.float32)
    cb = np.asarray(b, dtype=np.float32)
    return (ca + (cb - ca) * t[..., None]).astype(np.float32)


def shade(rgb: FloatArray, factor: FloatArray | float) -> FloatArray:
    """Multiply an (..., 3) colour array by a per-pixel brightness factor."""
    f = np.asarray(factor, dtype=np.float32)
    if f.ndim > 0:
        f = f[..., None]
    return (rgb * f).astype(np.float32)
