"""MGRS-like tiles: the 100 km squares of each UTM zone, named as MGRS names them.

A tile is the square ``[col, col + 1) x [row, row + 1)`` x 100 km of zone ``zone``
(northings on the northern lattice, negative south of the equator, as the synthetic
Earth's cells), limited to the zone's 6 degrees of longitude. Tiles partition the
ground: a point belongs to the tile of its own zone that contains it. Real Sentinel-2
tiles are 109.8 km squares that overlap by 9.8 km; here they do not overlap, so a pixel
always has one tile. Names follow MGRS (``33TVM``: zone, latitude band, column and row
letters of the 100 km square).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from s2raster.emulator.earth._nodes import zone_transformer
from s2raster.emulator.earth._noise import F64

SQUARE_M = 100_000.0
_BANDS = "CDEFGHJKLMNPQRSTUVWX"
_COLUMNS = ("STUVWXYZ", "ABCDEFGH", "JKLMNPQR")  # zone % 3 == 0, 1, 2
_ROWS = "ABCDEFGHJKLMNPQRSTUV"
_FALSE_NORTHING = 10_000_000.0
#: Points per square side of its outline, and of its cloud-cover sample grid.
EDGE_POINTS = 6
SAMPLE_POINTS = 16

Ring = list[tuple[float, float]]
HalfPlane = Callable[[F64, F64], F64]  # >= 0 inside, from lon/lat arrays


@dataclass(frozen=True, order=True)
class Tile:
    """One 100 km square of a UTM zone (see the module docstring)."""

    zone: int
    col: int
    row: int

    @property
    def code(self) -> int:
        """An integer naming the tile (for per-pixel tile maps)."""
        return tile_code(self.zone, self.col, self.row)

    @property
    def epsg(self) -> int:
        """The EPSG code of the tile's UTM projection (327zz south of the equator)."""
        return (32700 if self.row < 0 else 32600) + self.zone

    @property
    def central_meridian(self) -> float:
        return -183.0 + 6.0 * self.zone

    def name(self) -> str:
        """The MGRS name, e.g. ``33TVM`` (the band of the square's centre latitude)."""
        _, lat = self.lonlat(np.array([0.5]), np.array([0.5]))
        band = _BANDS[min(max(int((float(lat[0]) + 80.0) // 8.0), 0), len(_BANDS) - 1)]
        column = _COLUMNS[self.zone % 3][(self.col - 1) % 8]
        north = self.row + (100 if self.row < 0 else 0)  # 10 000 km false northing
        row = _ROWS[(north + (5 if self.zone % 2 == 0 else 0)) % len(_ROWS)]
        return f"{self.zone:02d}{band}{column}{row}"

    def lonlat(self, fx: F64, fy: F64) -> tuple[F64, F64]:
        """Lon/lat of the points at fractions ``fx``, ``fy`` (0..1) of the square
        (longitudes unwrapped around the zone's central meridian)."""
        xs = (self.col + np.asarray(fx, np.float64)) * SQUARE_M
        ys = (self.row + np.asarray(fy, np.float64)) * SQUARE_M
        lon, lat = zone_transformer(self.zone).transform(xs, ys)
        cm = self.central_meridian  # continuous longitudes, also across the antimeridian
        lon = cm + np.mod(np.asarray(lon, np.float64) - cm + 180.0, 360.0) - 180.0
        return lon, np.asarray(lat, np.float64)

    def centre_lat(self) -> float:
        """Latitude of the square's centre."""
        return float(self.lonlat(np.array([0.5]), np.array([0.5]))[1][0])

    def proj_bbox(self) -> list[float]:
        """The square in its own EPSG (``proj:bbox``)."""
        north = _FALSE_NORTHING if self.row < 0 else 0.0
        x0, y0 = self.col * SQUARE_M, self.row * SQUARE_M + north
        return [x0, y0, x0 + SQUARE_M, y0 + SQUARE_M]

    def ring(self) -> Ring:
        """The square's outline in lon/lat (counter-clockwise, edges densified), cut to
        the zone's longitudes."""
        return list(_ring(self))

    def samples(self) -> tuple[F64, F64]:
        """Lon/lat of a grid of :data:`SAMPLE_POINTS` squared points inside."""
        return _samples(self)


@lru_cache(maxsize=16384)
def _samples(tile: Tile) -> tuple[F64, F64]:
    f = (np.arange(SAMPLE_POINTS) + 0.5) / SAMPLE_POINTS
    return tile.lonlat(np.tile(f, SAMPLE_POINTS), np.repeat(f, SAMPLE_POINTS))


@lru_cache(maxsize=16384)
def _ring(tile: Tile) -> tuple[tuple[float, float], ...]:
    t = np.linspace(0.0, 1.0, EDGE_POINTS)[:-1]
    one, zero = np.ones_like(t), np.zeros_like(t)
    fx = np.concatenate([t, one, 1 - t, zero])
    fy = np.concatenate([zero, t, one, 1 - t])
    lon, lat = tile.lonlat(fx, fy)
    ring = [(float(x), float(y)) for x, y in zip(lon, lat, strict=True)]
    cm = tile.central_meridian
    return tuple(clip(ring, [lambda x, _y: x - (cm - 3.0), lambda x, _y: (cm + 3.0) - x]))


def tile_code(zone: int | np.ndarray, col: int | np.ndarray, row: int | np.ndarray) -> int:
    """The integer code of tile (``zone``, ``col``, ``row``); works on arrays too."""
    return (zone * 1000 + col) * 1000 + (row + 500)  # type: ignore[return-value]


def tile_codes(zone: int, xs: F64, ys: F64) -> np.ndarray:
    """Tile codes of zone coordinates (metres, northern lattice) of one zone."""
    cols = np.floor(xs / SQUARE_M).astype(np.int64)
    rows = np.floor(ys / SQUARE_M).astype(np.int64)
    return np.asarray(tile_code(zone, cols, rows), np.int64)


def zones_of(west: float, east: float) -> range:
    """UTM zones meeting the longitudes ``west``..``east``."""
    first = min(max(int((west + 180.0) // 6.0) + 1, 1), 60)
    last = min(max(int((east + 180.0) // 6.0) + 1, 1), 60)
    return range(first, last + 1)


def tiles_in_box(box: Sequence[float]) -> list[Tile]:
    """Every tile whose square may meet the lon/lat ``box`` (a superset, from the box's
    densified outline projected into each zone)."""
    west, south, east, north = (float(v) for v in box)
    t = np.linspace(0.0, 1.0, 17)
    lon = np.concatenate([west + (east - west) * t, np.full(17, east), east - (east - west) * t,
                          np.full(17, west)])  # fmt: skip
    lat = np.concatenate([np.full(17, south), south + (north - south) * t, np.full(17, north),
                          north - (north - south) * t])  # fmt: skip
    found = []
    for zone in zones_of(west, east):
        cm = -183.0 + 6.0 * zone
        zlon = np.clip(lon, cm - 3.0, cm + 3.0)
        xs, ys = zone_transformer(zone, inverse=False).transform(zlon, lat)
        xs, ys = np.asarray(xs), np.asarray(ys)
        cols = range(math.floor(xs.min() / SQUARE_M), math.floor(xs.max() / SQUARE_M) + 1)
        rows = range(math.floor(ys.min() / SQUARE_M), math.floor(ys.max() / SQUARE_M) + 1)
        found += [Tile(zone, c, r) for c in cols for r in rows]
    return found


def tiles_of_points(lon: F64, lat: F64) -> set[Tile]:
    """The tiles containing the points."""
    zones = np.clip(np.floor((lon + 180.0) / 6.0).astype(np.int64) + 1, 1, 60)
    out: set[Tile] = set()
    for zone in np.unique(zones):
        pick = zones == zone
        xs, ys = zone_transformer(int(zone), inverse=False).transform(lon[pick], lat[pick])
        cols = np.floor(np.asarray(xs) / SQUARE_M).astype(np.int64)
        rows = np.floor(np.asarray(ys) / SQUARE_M).astype(np.int64)
        out |= {Tile(int(zone), int(c), int(r)) for c, r in set(zip(cols, rows, strict=True))}
    return out


def clip(ring: Ring, planes: Sequence[HalfPlane]) -> Ring:
    """``ring`` cut by each half-plane ``f >= 0`` (Sutherland-Hodgman; crossings found by
    linear interpolation of ``f``, exact for straight lines, close for gentle curves)."""
    for plane in planes:
        if len(ring) < 3:
            return []
        xs = np.array([p[0] for p in ring])
        ys = np.array([p[1] for p in ring])
        values = plane(xs, ys)
        out: Ring = []
        for k in range(len(ring)):
            a, b = ring[k - 1], ring[k]
            fa, fb = float(values[k - 1]), float(values[k])
            if (fa >= 0) != (fb >= 0):
                w = fa / (fa - fb)
                out.append((a[0] + w * (b[0] - a[0]), a[1] + w * (b[1] - a[1])))
            if fb >= 0:
                out.append(b)
        ring = out
    return ring if len(ring) >= 3 else []
