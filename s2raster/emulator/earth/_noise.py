"""Deterministic noise for the synthetic Earth: integer hashing, value noise, fBm, cell noise.

Everything here is a pure, elementwise function of its integer or float inputs (no state,
no dependence on array extent), so a ground point gets the same value in every request.
Hashes are splitmix64-style mixes of ``uint64`` arrays (numpy wraps on overflow).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from numpy.typing import NDArray

F32 = NDArray[np.float32]
F64 = NDArray[np.float64]
I64 = NDArray[np.int64]
U16 = NDArray[np.uint16]

_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_KX = np.uint64(0x9E3779B97F4A7C15)
_KY = np.uint64(0xC2B2AE3D27D4EB4F)
_KS = np.uint64(0x165667B19E3779F9)
# A fixed rotation per octave keeps fBm features from lining up with the lattice.
_COS, _SIN = 0.8, 0.6


def _u64(values: NDArray[np.integer]) -> NDArray[np.uint64]:
    return np.asarray(values).astype(np.int64).view(np.uint64)


def mix64(z: NDArray[np.uint64]) -> NDArray[np.uint64]:
    """The splitmix64 finaliser: a bijective scramble of ``uint64`` values."""
    z = (z ^ (z >> np.uint64(30))) * _M1
    z = (z ^ (z >> np.uint64(27))) * _M2
    out: NDArray[np.uint64] = z ^ (z >> np.uint64(31))
    return out


def hash2(ix: NDArray[np.integer], iy: NDArray[np.integer], seed: int) -> NDArray[np.uint64]:
    """A 64-bit hash of integer lattice coordinates (broadcasting) and a seed."""
    s = np.uint64((seed * int(_KS)) & 0xFFFFFFFFFFFFFFFF)
    return mix64(_u64(ix) * _KX + _u64(iy) * _KY + s)


def hash1(i: NDArray[np.integer], seed: int) -> NDArray[np.uint64]:
    """A 64-bit hash of integers and a seed."""
    return hash2(i, np.zeros(1, np.int64), seed)


def unit(h: NDArray[np.uint64]) -> F64:
    """Hash bits to floats uniform in [0, 1)."""
    out: F64 = (h >> np.uint64(11)).astype(np.float64) * (1.0 / 9007199254740992.0)
    return out


def hash_unit(seed: int, *keys: int) -> float:
    """A uniform [0, 1) number from a seed and integer keys (scalar helper)."""
    h = np.array([seed & 0xFFFFFFFFFFFFFFFF], np.uint64)
    for key in keys:
        h = mix64(h ^ mix64(np.array([key & 0xFFFFFFFFFFFFFFFF], np.uint64) + _KX))
    return float(unit(h)[0])


def value_noise(x: F64, y: F64, seed: int) -> F64:
    """Smooth value noise in about [-1, 1] on the unit integer lattice (C1, smoothstep)."""
    x0 = np.floor(x)
    y0 = np.floor(y)
    fx = x - x0
    fy = y - y0
    ix = x0.astype(np.int64)
    iy = y0.astype(np.int64)
    sx = fx * fx * (3.0 - 2.0 * fx)
    sy = fy * fy * (3.0 - 2.0 * fy)
    v00 = unit(hash2(ix, iy, seed))
    v10 = unit(hash2(ix + 1, iy, seed))
    v01 = unit(hash2(ix, iy + 1, seed))
    v11 = unit(hash2(ix + 1, iy + 1, seed))
    bottom = v00 + (v10 - v00) * sx
    top = v01 + (v11 - v01) * sx
    result: F64 = (bottom + (top - bottom) * sy) * 2.0 - 1.0
    return result


def fbm(x: F64, y: F64, seed: int, octaves: int, gain: float = 0.5) -> F64:
    """Fractal Brownian motion of :func:`value_noise`, normalised by the total amplitude.

    ``x`` and ``y`` are in units of the largest feature size; each octave halves the size.
    """
    total = np.zeros(np.broadcast_shapes(x.shape, y.shape), np.float64)
    amp, norm = 1.0, 0.0
    px, py = x, y
    for octave in range(octaves):
        total += amp * value_noise(px + 17.13 * octave, py - 31.7 * octave, seed + 7919 * octave)
        norm += amp
        amp *= gain
        px, py = 2.0 * (_COS * px - _SIN * py), 2.0 * (_SIN * px + _COS * py)
    result: F64 = total / norm
    return result


def axis_hash(index: I64, seed: int) -> U16:
    """16 hash bits per integer index (one axis of a cell lattice).

    Many indices over a short range (a list of cells) are hashed once per distinct value.
    """
    if index.size > 4096:
        lo, hi = int(index.min()), int(index.max())
        if hi - lo < index.size // 4:
            table = axis_hash(np.arange(lo, hi + 1, dtype=np.int64), seed)
            looked_up: U16 = table[index - lo]
            return looked_up
    out: U16 = (hash1(index, seed) >> np.uint64(48)).astype(np.uint16)
    return out


@lru_cache(maxsize=8)
def noise_table(seed: int) -> F32:
    """65,536 roughly Gaussian values (mean 0, sd about 1) for cell noise lookups."""
    idx = np.arange(65536, dtype=np.int64)
    u = unit(hash1(idx, seed)) + unit(hash1(idx, seed + 1)) + unit(hash1(idx, seed + 2))
    table = ((u - 1.5) * 2.0).astype(np.float32)  # sum of 3 uniforms: sd 0.5 -> 1.0
    table.setflags(write=False)
    return table


def cell_noise(ci: I64, cj: I64, seed: int) -> F32:
    """White noise (about N(0, 1)) of cells (``ci``, ``cj``); the index arrays broadcast.

    Pass ``ci[None, :]`` and ``cj[:, None]`` for a product set (rows x columns) or two
    equal-shaped arrays for a list of cells. A cell's value depends only on (ci, cj, seed).
    """
    hx = axis_hash(ci, seed)
    hy = axis_hash(cj, seed ^ 0x5A5A)
    out: F32 = noise_table(seed & 0xFF)[hy ^ hx]
    return out
