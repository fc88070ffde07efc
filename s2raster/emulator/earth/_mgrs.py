"""MGRS-like Sentinel-2 tile ids that follow the ground: which tiles cover a lon/lat box.

Sentinel-2 products are cut in tiles of the MGRS grid: 109.8 km squares on a 100 km step
in each UTM zone (the tile ``33TVL`` spans eastings 399960..509760 m and northings
5000040..5109840 m of UTM 33N), so neighbouring tiles overlap by 9.8 km. A tile id is the
zone, the latitude band (C..X, 8 degrees each from 80 S) and the two letters of its
100 km square: the column letter cycles through A-H, J-R, S-Z with the zone, the row
letter through A-V (without I and O), shifted by five for even zones. That is the real
naming (the box of the CDSE metadata guide, 13.8..13.9 E 45.8..45.9 N, is covered by
``33TUL`` and ``33TVL``, as the service's answer lists them:
documentation.dataspace.copernicus.eu/APIs/SentinelHub/UserGuides/Metadata.html); the
exceptions of the real grid (Norway, Svalbard) are left out, hence "MGRS-like".
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from s2raster.emulator.earth._sampling import transformer

_BANDS = "CDEFGHJKLMNPQRSTUVWX"
_COLUMNS = ("STUVWXYZ", "ABCDEFGH", "JKLMNPQR")  # by zone % 3
_ROWS = "ABCDEFGHJKLMNPQRSTUV"
STEP = 100_000
SIZE = 109_800
#: The 40 m by which the tile grid is offset from the 100 km lines (east: -40, north: +40).
OFFSET = 40
#: At most this many tiles are listed for a box (the nearest to its centre first).
MAX_TILES = 16


def latitude_band(lat: float) -> str:
    """The MGRS latitude band letter of ``lat`` (degrees; X covers 72..84 N)."""
    return _BANDS[min(max(math.floor((lat + 80.0) / 8.0), 0), len(_BANDS) - 1)]


def utm_zone(lon: float) -> int:
    """The UTM zone (1..60) of ``lon`` (degrees)."""
    return min(max(math.floor((lon + 180.0) / 6.0) + 1, 1), 60)


def tile_name(zone: int, column: int, row: int, lat: float) -> str:
    """The id of tile (``column``, ``row``) of ``zone`` (its 100 km square indices of
    easting and northing), in the latitude band of ``lat``."""
    letters = _COLUMNS[zone % 3]
    col = letters[min(max(column - 1, 0), len(letters) - 1)]
    row_letter = _ROWS[(row + (5 if zone % 2 == 0 else 0)) % len(_ROWS)]
    return f"{zone:02d}{latitude_band(lat)}{col}{row_letter}"


def tiles_of(lonlat_bbox: Sequence[float]) -> list[str]:
    """Ids of the tiles covering the lon/lat box (west, south, east, north), the tile
    holding its centre first, then by distance; at most :data:`MAX_TILES` (only tiles near
    the centre are looked at: within one zone and two tiles of it)."""
    west, east = (float(lonlat_bbox[0]), float(lonlat_bbox[2]))
    south, north = (min(max(float(v), -80.0), 84.0) for v in (lonlat_bbox[1], lonlat_bbox[3]))
    lon0, lat0 = (west + east) / 2, (south + north) / 2
    centre = utm_zone(lon0)
    zones = range(max(utm_zone(west), centre - 1), min(utm_zone(east), centre + 1) + 1)
    found: dict[str, float] = {}
    for zone in zones:
        epsg = (32600 if lat0 >= 0 else 32700) + zone
        to_utm = transformer("EPSG:4326", f"EPSG:{epsg}")
        lons = [max(west, -180 + 6 * (zone - 1)), min(east, -180 + 6 * zone), lon0]
        lats = [south, north, lat0]
        xs, ys = to_utm.transform([x for x in lons for _ in lats], lats * len(lons))
        cx, cy = to_utm.transform(lon0, lat0)
        for column in _span(min(xs), max(xs), -OFFSET, cx):
            for row in _span(min(ys), max(ys), OFFSET, cy):
                x0, y0 = column * STEP - OFFSET, row * STEP + OFFSET
                x, y = min(max(cx, x0), x0 + SIZE), min(max(cy, y0), y0 + SIZE)
                name = tile_name(zone, column, row, _latitude(epsg, x, y))
                distance = math.hypot(x0 + SIZE / 2 - cx, y0 + SIZE / 2 - cy)
                found[name] = min(distance, found.get(name, math.inf))
    return sorted(found, key=lambda name: (found[name], name))[:MAX_TILES]


def _span(low: float, high: float, offset: int, centre: float) -> range:
    """Indices k of the tiles [k * STEP + offset, + SIZE] that meet [low, high], within two
    of the tile of ``centre``."""
    k = math.floor((centre - offset) / STEP)
    first = max(math.ceil((low - offset - SIZE) / STEP), k - 2)
    return range(first, min(math.floor((high - offset) / STEP), k + 2) + 1)


def _latitude(epsg: int, x: float, y: float) -> float:
    _, lat = transformer(f"EPSG:{epsg}", "EPSG:4326").transform(x, y)
    return float(lat)
