"""What one pass acquires of one tile: its footprint, sensing time and cloud cover.

Everything is a function of the (pass, tile) pair alone, so every request and every
catalog search sees the same acquisition of a tile, whatever its bbox.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np

from s2raster.emulator.earth._angles import solar_hour_angle, sun_zenith
from s2raster.emulator.earth._fields import cloud_field, cover_at
from s2raster.emulator.earth._noise import F64
from s2raster.emulator.earth._orbit import (
    HALF_SWATH_KM,
    MAX_LAT,
    Pass,
    imaging,
    track,
    track_offset,
    track_seconds,
)
from s2raster.emulator.earth._surface import cloud_threshold
from s2raster.emulator.earth._tiles import Ring, Tile, clip, tiles_of_points

#: Tiles whose centre sees the sun lower than this (degrees from zenith) are not imaged.
MAX_SUN_ZENITH = 86.0
#: Datatakes are cut in segments of this many degrees of latitude (their start time is
#: the first part of the product names).
SEGMENT_DEG = 20.0
#: Boxes wider than this (degrees) are searched along the track rather than tile by tile.
WIDE_DEG = 4.0


@dataclass(frozen=True)
class Seen:
    """What a pass saw of a tile: the imaged part (a lon/lat ring), when, how cloudy (%)."""

    ring: Ring
    when: datetime
    cloud_cover: float


def _cut(ring: Ring, across: F64) -> Ring:
    """``ring`` cut to ``|across| <= HALF_SWATH_KM`` (``across`` given at its vertices and
    interpolated along its edges, as Sutherland-Hodgman does)."""
    points = [(x, y, float(a)) for (x, y), a in zip(ring, across, strict=True)]
    for sign in (1.0, -1.0):
        out: list[tuple[float, float, float]] = []
        for k in range(len(points)):
            a, b = points[k - 1], points[k]
            fa, fb = HALF_SWATH_KM - sign * a[2], HALF_SWATH_KM - sign * b[2]
            if (fa >= 0) != (fb >= 0):
                w = fa / (fa - fb)
                out.append(tuple(a[i] + w * (b[i] - a[i]) for i in range(3)))  # type: ignore[arg-type]
            if fb >= 0:
                out.append(b)
        points = out
        if len(points) < 3:
            return []
    return [(x, y) for x, y, _ in points]


def survey(p: Pass, tiles: Sequence[Tile]) -> list[Seen | None]:
    """What ``p`` saw of each tile (None: the swath misses it, or it was dark), computed
    for all the tiles at once."""
    rings = [tile.ring() for tile in tiles]
    sizes = [len(r) for r in rings]
    lon = np.array([q[0] for r in rings for q in r])
    lat = np.array([q[1] for r in rings for q in r])
    across = imaging(p, lon, lat)[0] if lon.size else lon
    cuts = [_cut(r, a) for r, a in zip(rings, np.split(across, np.cumsum(sizes)[:-1]), strict=True)]
    kept = [k for k, cut in enumerate(cuts) if cut]
    out: list[Seen | None] = [None] * len(tiles)
    if not kept:
        return out
    centres = np.array([centroid(cuts[k]) for k in kept])
    _, dt = imaging(p, centres[:, 0], centres[:, 1])
    covers = _covers(p, [tiles[k] for k in kept])
    for n, k in enumerate(kept):
        when = p.node_time + timedelta(milliseconds=round(float(dt[n]) * 1000))
        doy = when.timetuple().tm_yday
        hour = solar_hour_angle(p, centres[n : n + 1, 0], dt[n : n + 1])
        if float(sun_zenith(centres[n : n + 1, 1], hour, doy)[0]) <= MAX_SUN_ZENITH:
            out[k] = Seen(cuts[k], when, covers[n])
    return out


def _covers(p: Pass, tiles: Sequence[Tile]) -> list[float]:
    """Cloud cover (percent, 2 decimals) of each tile's imaged part: the share of a grid
    of points of the tile inside the swath where the pass's cloud field makes a cloud
    (as the pixels' SCL 8/9 do), over the imaged part's outline when no point is."""
    samples = [tile.samples() for tile in tiles]
    lon = np.concatenate([s[0] for s in samples])
    lat = np.concatenate([s[1] for s in samples])
    across, _ = imaging(p, lon, lat)
    cloudy = _cloudy(p, lon, lat)
    n = samples[0][0].size
    out = []
    for k, tile in enumerate(tiles):
        part = slice(k * n, (k + 1) * n)
        inside = (np.abs(across[part]) <= HALF_SWATH_KM) & (
            np.abs(lon[part] - tile.central_meridian) <= 3.0
        )
        values = cloudy[part][inside]
        if values.size == 0:
            ring = swath(p, tile.ring())
            values = _cloudy(p, np.array([q[0] for q in ring]), np.array([q[1] for q in ring]))
        out.append(round(100.0 * float(np.mean(values)), 2))
    return out


def _cloudy(p: Pass, lon: F64, lat: F64) -> np.ndarray:
    cover = cover_at(lon, lat, p.key).astype(np.float32)
    level = cloud_threshold(cover) - 0.0045  # opacity 0.35: CLD 35, SCL 8
    return (cover > 0) & (cloud_field(lon, lat, p.key) >= level)


def swath(p: Pass, ring: Ring) -> Ring:
    """``ring`` cut to the swath of ``p``."""
    if not ring:
        return []
    lon = np.array([q[0] for q in ring])
    lat = np.array([q[1] for q in ring])
    return _cut(ring, imaging(p, lon, lat)[0])


def in_box(ring: Ring, box: Sequence[float]) -> Ring:
    """``ring`` cut to the lon/lat ``box``."""
    w, s, e, n = (float(v) for v in box)
    return clip(
        ring,
        [lambda x, _: x - w, lambda x, _: e - x, lambda _, y: y - s, lambda _, y: n - y],
    )


def centroid(ring: Ring) -> tuple[float, float]:
    return (
        float(np.mean([q[0] for q in ring])),
        float(np.mean([q[1] for q in ring])),
    )


def datatake_start(p: Pass, lat: float) -> datetime:
    """Start of the datatake segment of ``p`` holding latitude ``lat`` (whole seconds)."""
    top = min(SEGMENT_DEG * (np.floor(lat / SEGMENT_DEG) + 1), MAX_LAT)
    start = p.node_time + timedelta(seconds=track_seconds(float(top)))
    return start.replace(microsecond=0)


def tiles_near(p: Pass, box: Sequence[float]) -> set[Tile]:
    """Tiles of the swath of ``p`` that may meet a wide ``box`` (points along the track)."""
    lon, lat = track(p, 0.2)
    w, s, e, n = (float(v) for v in box)
    keep = (lat >= s - 2.0) & (lat <= n + 2.0)
    lon, lat = lon[keep], lat[keep]
    if lon.size == 0:
        return set()
    offsets = np.linspace(-1.15, 1.15, 24) * HALF_SWATH_KM
    step = offsets[None, :] / (111.32 * np.maximum(np.cos(np.radians(lat)), 0.05)[:, None])
    plon = np.mod(lon[:, None] + step + 180.0, 360.0) - 180.0
    plat = np.broadcast_to(lat[:, None], plon.shape)
    inside = (plon >= w) & (plon <= e) & (plat >= s) & (plat <= n)
    return tiles_of_points(plon[inside], plat[inside])


def may_cover(p: Pass, box: Sequence[float]) -> bool:
    """False when the swath of ``p`` surely misses ``box`` (every sample on one side)."""
    w, s, e, n = (float(v) for v in box)
    if e - w > 60.0:  # samples too sparse to tell
        return True
    mid = 0.5 * (s + n)
    if e - w < WIDE_DEG and n - s < WIDE_DEG and abs(mid) < 75.0:  # cheap longitude test
        gap = (0.5 * (w + e) - p.node_lon - track_offset(round(mid, 1)) + 180.0) % 360.0 - 180.0
        reach = (HALF_SWATH_KM + 150.0) / (111.32 * math.cos(math.radians(mid)))
        if abs(gap) > reach + 0.5 * (e - w) + 2.0:
            return False
    fx = np.linspace(0.0, 1.0, 5)
    lon = (w + (e - w) * fx)[None, :].repeat(5, 0).ravel()
    lat = (s + (n - s) * fx)[:, None].repeat(5, 1).ravel()
    across, _ = imaging(p, lon, lat)
    near = np.abs(across) <= HALF_SWATH_KM
    day = across < 0.5 * 20_000.0
    if near.any():
        return True
    return bool(day.any() and (across[day] > 0).any() and (across[day] < 0).any())
