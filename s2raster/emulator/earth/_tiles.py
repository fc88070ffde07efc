"""MGRS-like tiles: Sentinel-2's 109.8 km squares of each UTM zone, named as MGRS names
their 100 km squares.

Tile (``col``, ``row``) of zone ``zone`` spans eastings ``col x 100 km - 40 m`` and
northings ``row x 100 km + 40 m``, 109.8 km each way (``33TVL``: 399960..509760 m E,
5000040..5109840 m N, as the real tile), northings on the northern lattice (negative
south of the equator, as the synthetic Earth's cells), limited to the zone's 6 degrees
of longitude. Neighbouring tiles overlap by 9.8 km, as real ones do: a point there
belongs to both (one pass gives both the same pixels). A point belongs only to tiles of
its own zone. Names follow MGRS (``33TVM``: zone, latitude band of the tile's centre,
column and row letters of the 100 km square); the exceptions of the real grid (Norway,
Svalbard) are left out.
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
#: A tile's side and its offset from the 100 km lines (east: -40 m, north: +40 m).
SIZE_M = 109_800.0
OFFSET_M = 40.0
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
    """One tile of a UTM zone (see the module docstring)."""

    zone: int
    col: int
    row: int

    @property
    def origin(self) -> tuple[float, float]:
        """Its south-west corner in zone coordinates (metres, northern lattice)."""
        return self.col * SQUARE_M - OFFSET_M, self.row * SQUARE_M + OFFSET_M

    def holds(self, zone: int, xs: F64, ys: F64) -> np.ndarray:
        """Which points (zone coordinates of ``zone``) the tile holds."""
        if zone != self.zone:
            return np.zeros(np.shape(xs), bool)
        x0, y0 = self.origin
        out: np.ndarray = (xs >= x0) & (xs < x0 + SIZE_M) & (ys >= y0) & (ys < y0 + SIZE_M)
        return out

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
        """Lon/lat of the points at fractions ``fx``, ``fy`` (0..1) of the tile
        (longitudes unwrapped around the zone's central meridian)."""
        x0, y0 = self.origin
        xs = x0 + np.asarray(fx, np.float64) * SIZE_M
        ys = y0 + np.asarray(fy, np.float64) * SIZE_M
        lon, lat = zone_transformer(self.zone).transform(xs, ys)
        cm = self.central_meridian  # continuous longitudes, also across the antimeridian
        lon = cm + np.mod(np.asarray(lon, np.float64) - cm + 180.0, 360.0) - 180.0
        return lon, np.asarray(lat, np.float64)

    def centre_lat(self) -> float:
        """Latitude of the square's centre."""
        return float(self.lonlat(np.array([0.5]), np.array([0.5]))[1][0])

    def proj_bbox(self) -> list[float]:
        """The tile in its own EPSG (``proj:bbox``)."""
        x0, y0 = self.origin
        y0 += _FALSE_NORTHING if self.row < 0 else 0.0
        return [x0, y0, x0 + SIZE_M, y0 + SIZE_M]

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
        cols = _indices(float(xs.min()), float(xs.max()), -OFFSET_M)
        rows = _indices(float(ys.min()), float(ys.max()), OFFSET_M)
        found += [Tile(zone, c, r) for c in cols for r in rows]
    return found


def tiles_of_points(lon: F64, lat: F64) -> set[Tile]:
    """The tiles containing the points."""
    zones = np.clip(np.floor((lon + 180.0) / 6.0).astype(np.int64) + 1, 1, 60)
    out: set[Tile] = set()
    for zone in np.unique(zones):
        pick = zones == zone
        xs, ys = zone_transformer(int(zone), inverse=False).transform(lon[pick], lat[pick])
        xs, ys = np.asarray(xs), np.asarray(ys)
        for dc in (0, -1):  # a point may lie in the overlap of two columns and two rows
            cols = np.floor((xs + OFFSET_M) / SQUARE_M).astype(np.int64) + dc
            for dr in (0, -1):
                rows = np.floor((ys - OFFSET_M) / SQUARE_M).astype(np.int64) + dr
                for c, r in set(zip(cols, rows, strict=True)):
                    tile = Tile(int(zone), int(c), int(r))
                    if tile.holds(tile.zone, xs, ys).any():
                        out.add(tile)
    return out


def _indices(low: float, high: float, offset: float) -> range:
    """Indices k of the tiles [k x 100 km + offset, + 109.8 km) meeting [low, high]."""
    first = math.floor((low - offset - SIZE_M) / SQUARE_M) + 1
    return range(first, math.floor((high - offset) / SQUARE_M) + 1)


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
