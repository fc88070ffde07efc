"""The smooth fields of the synthetic Earth, functions of lon/lat: the land (static) and,
per pass, the weather and the swath (dynamic). :mod:`._nodes` evaluates them on its lattice.
"""

from __future__ import annotations

import numpy as np

from s2raster.emulator.earth._noise import F32, F64, fbm, hash_unit
from s2raster.emulator.earth._orbit import Pass, imaging

#: Static fields at nodes, in order (``dlon``: longitude from the zone's central meridian).
STATIC = ("lat", "dlon", "elev", "sea", "lake", "urban", "veg", "arid")
#: Per-pass fields at nodes, in order (``cover``: cloudiness 0..1 that sets the cloud
#: fraction; ``across``: km from the pass's ground track, see :func:`._orbit.imaging`).
DYNAMIC = ("cloud", "shadow", "cirrus", "aot", "cover", "across")
KM_PER_DEG_LAT = 110.574
KM_PER_DEG_LON = 111.320


def km_coords(lon: F64, lat: F64) -> tuple[F64, F64]:
    """Kilometre-like coordinates for noise: x = lon * 111.32 cos(lat), y = lat * 110.57."""
    x: F64 = lon * (KM_PER_DEG_LON * np.cos(np.radians(lat)))
    y: F64 = lat * KM_PER_DEG_LAT
    return x, y


def static_fields(lon: F64, lat: F64, zone: int) -> F32:
    """The :data:`STATIC` fields at points (lon, lat) of the lattice of ``zone``: (8, n)."""
    x, y = km_coords(lon, lat)
    mountains = np.clip((fbm(x / 1500, y / 1500, 0xA1, 3) - 0.2) / 0.25, 0.0, 1.0)
    relief = 0.5 + fbm(x / 90, y / 90, 0xA2, 6)
    elev = 250.0 + 300.0 * fbm(x / 50, y / 50, 0xA3, 5) + 3600.0 * mountains * relief
    fields = (
        lat,
        np.mod(lon - (-183.0 + 6.0 * zone) + 180.0, 360.0) - 180.0,
        np.maximum(elev, 0.0),
        fbm(x / 2500, y / 2500, 0xA4, 4),
        fbm(x / 5, y / 5, 0xA5, 4),
        fbm(x / 8, y / 8, 0xA6, 4),
        fbm(x / 3, y / 3, 0xA7, 4) + 0.6 * fbm(x / 80, y / 80, 0xA8, 3),
        fbm(x / 1200, y / 1200, 0xA9, 3),
    )
    return np.stack(fields).astype(np.float32)


def cover_at(lon: F64, lat: F64, key: int) -> F64:
    """Cloudiness (0..1) of pass ``key`` at the points: a smooth field (features of some
    500 km) around a per-pass level, skewed towards clear skies (about a fifth of the
    tiles clear, mean cloud cover near 40 %)."""
    x, y = km_coords(lon, lat)
    base = 1.2 * hash_unit(0xC10D, key) ** 1.4 - 0.18
    out: F64 = np.clip(base + 0.6 * fbm(x / 500, y / 500, 0x3C0000 + 16 * key, 3), 0.0, 1.0)
    return out


def cloud_field(lon: F64, lat: F64, key: int) -> F64:
    """The cloud field of pass ``key`` (clouds where it exceeds the level its
    cloudiness sets, see :func:`._surface.cloud_threshold`)."""
    x, y = km_coords(lon, lat)
    return fbm(x / 30, y / 30, 0x100000 + 16 * key, 6)


def dynamic_fields(lon: F64, lat: F64, p: Pass) -> F32:
    """The :data:`DYNAMIC` fields of pass ``p``: array (6, n).

    ``shadow`` is the cloud field shifted towards the sun (SSE in the north, NNE in the
    south), so shadows fall on the far side of clouds.
    """
    x, y = km_coords(lon, lat)
    seed = 0x100000 + 16 * p.key
    toward_sun = np.where(lat >= 0, -1.6, 1.6)
    across, _ = imaging(p, lon, lat)
    fields = (
        cloud_field(lon, lat, p.key),
        fbm((x + 0.9) / 30, (y + toward_sun) / 30, seed, 6),
        fbm(x / 50, y / 50, seed + 1, 4),
        fbm(x / 400, y / 400, seed + 2, 3),
        cover_at(lon, lat, p.key),
        across,
    )
    return np.stack(fields).astype(np.float32)
