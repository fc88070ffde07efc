"""Validation of ``input.bounds``: CRS URIs, bbox, GeoJSON geometry (as the Process API does).

Also the small typed getters the validators share; every failure is an :class:`ApiError`
400 ``COMMON_BAD_PAYLOAD`` naming the parameter (``input->bounds->bbox``) as the service does.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pyproj import CRS
from pyproj.exceptions import CRSError

from s2raster.contract import METRES_PER_DEGREE
from s2raster.emulator.request._apierror import bad_payload

CRS84_URI = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
_EPSG_URI = re.compile(r"^https?://www\.opengis\.net/def/crs/EPSG/0/(\d{4,6})$")
_CRS84 = re.compile(r"^https?://www\.opengis\.net/def/crs/OGC/1\.3/CRS84$")

BBox = tuple[float, float, float, float]


@dataclass(frozen=True)
class Bounds:
    """Validated bounds: ``crs`` ("EPSG:n"), ``bbox`` in that CRS, optional GeoJSON ``geometry``."""

    crs: str
    bbox: BBox
    geometry: dict[str, Any] | None


def get_object(parent: dict[str, Any], key: str, path: str, *, required: bool) -> dict[str, Any]:
    """``parent[key]`` as a JSON object ({} when absent and not required)."""
    value = parent.get(key)
    if value is None:
        if required:
            raise bad_payload(f"{path} must be specified.", path.replace(".", "->"))
        return {}
    if not isinstance(value, dict):
        raise bad_payload(f"{path} must be a JSON object.", path.replace(".", "->"))
    return value


def get_enum(
    parent: dict[str, Any], key: str, path: str, allowed: Sequence[str], default: str
) -> str:
    value = parent.get(key, default)
    if value not in allowed:
        raise bad_payload(
            f"Invalid value {value!r} of {path}; allowed values are {', '.join(allowed)}.",
            path.replace(".", "->"),
        )
    return str(value)


def get_number(
    parent: dict[str, Any], key: str, path: str, lo: float | None = None, hi: float | None = None
) -> float | None:
    """An optional finite number within [lo, hi]."""
    value = parent.get(key)
    if value is None:
        return None
    if not is_number(value) or not math.isfinite(value):
        raise bad_payload(f"{path} must be a number, got {value!r}.", path.replace(".", "->"))
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        raise bad_payload(
            f"{path} must be between {lo} and {hi}, got {value}.", path.replace(".", "->")
        )
    return float(value)


def is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def parse_bounds(bounds: dict[str, Any]) -> Bounds:
    """Validate ``input.bounds`` (bbox and/or geometry, properties.crs)."""
    properties = get_object(bounds, "properties", "input.bounds.properties", required=False)
    crs = parse_crs_uri(properties.get("crs", CRS84_URI))
    geometry = bounds.get("geometry")
    bbox_value = bounds.get("bbox")
    if bbox_value is None and geometry is None:
        raise bad_payload(
            "Either bbox or geometry must be specified in input.bounds.", "input->bounds"
        )
    geographic = _crs(crs).is_geographic
    checked_geometry = _check_geometry(geometry) if geometry is not None else None
    if bbox_value is not None:
        bbox = _check_bbox(bbox_value, geographic)
    else:
        assert checked_geometry is not None
        bbox = _check_extent(geometry_bounds(checked_geometry), "input->bounds->geometry")
    return Bounds(crs, bbox, checked_geometry)


def parse_crs_uri(uri: Any) -> str:
    """A Process API CRS URI -> "EPSG:n" (CRS84 -> EPSG:4326, x/y = lon/lat)."""
    path = "input->bounds->properties->crs"
    if not isinstance(uri, str):
        raise bad_payload(f"CRS must be a string URI, got {uri!r}.", path)
    if _CRS84.match(uri):
        return "EPSG:4326"
    match = _EPSG_URI.match(uri)
    if match is None:
        raise bad_payload(
            f"Unsupported CRS {uri!r}: use http://www.opengis.net/def/crs/EPSG/0/<code> or "
            f"{CRS84_URI}.",
            path,
        )
    code = f"EPSG:{int(match.group(1))}"
    try:
        _crs(code)
    except CRSError:
        raise bad_payload(f"Unsupported CRS {uri!r}: unknown EPSG code.", path) from None
    return code


def metres_per_unit(crs: str) -> float:
    """Metres per CRS unit (degrees count as the equatorial length of one degree)."""
    parsed = _crs(crs)
    if parsed.is_geographic:
        return METRES_PER_DEGREE
    info = parsed.axis_info
    return float(info[0].unit_conversion_factor) if info else 1.0


@functools.lru_cache(maxsize=256)
def _crs(code: str) -> CRS:
    return CRS.from_user_input(code)


def _check_bbox(value: Any, geographic: bool) -> BBox:
    path = "input->bounds->bbox"
    if not isinstance(value, list) or len(value) != 4 or not all(is_number(v) for v in value):
        raise bad_payload(f"bbox must be an array of 4 numbers, got {value!r}.", path)
    bbox = _check_extent(tuple(float(v) for v in value), path)  # type: ignore[arg-type]
    minx, miny, maxx, maxy = bbox
    if geographic and (minx < -180 or maxx > 180 or miny < -90 or maxy > 90):
        raise bad_payload(
            f"bbox {list(bbox)} is outside longitude -180..180 / latitude -90..90.", path
        )
    return bbox


def _check_extent(bbox: BBox, path: str) -> BBox:
    minx, miny, maxx, maxy = bbox
    if not all(math.isfinite(v) for v in bbox):
        raise bad_payload(f"bbox has a non-finite coordinate: {list(bbox)}.", path)
    if not (minx <= maxx and miny <= maxy):  # a point or a line is served, as the service does
        raise bad_payload(
            f"bbox {list(bbox)} is reversed: give [minx, miny, maxx, maxy] with min <= max.",
            path,
        )
    return bbox


def _check_geometry(value: Any) -> dict[str, Any]:
    path = "input->bounds->geometry"
    if not isinstance(value, dict) or value.get("type") not in ("Polygon", "MultiPolygon"):
        raise bad_payload("geometry must be a GeoJSON Polygon or MultiPolygon.", path)
    coords = value.get("coordinates")
    polygons = [coords] if value["type"] == "Polygon" else coords
    if not isinstance(polygons, list) or not polygons:
        raise bad_payload("geometry has no coordinates.", path)
    for polygon in polygons:
        if not isinstance(polygon, list) or not polygon:
            raise bad_payload("geometry polygon must be a list of linear rings.", path)
        for ring in polygon:
            _check_ring(ring, path)
    return {"type": value["type"], "coordinates": coords}


def _check_ring(ring: Any, path: str) -> None:
    if not isinstance(ring, list) or len(ring) < 4:
        raise bad_payload("geometry linear ring must have at least 4 positions.", path)
    for position in ring:
        if (
            not isinstance(position, list)
            or len(position) != 2
            or not all(is_number(v) and math.isfinite(v) for v in position)
        ):
            raise bad_payload(f"geometry position must be [x, y], got {position!r}.", path)


def geometry_bounds(geometry: dict[str, Any]) -> BBox:
    """(minx, miny, maxx, maxy) of a validated Polygon/MultiPolygon."""
    coords = geometry["coordinates"]
    polygons = [coords] if geometry["type"] == "Polygon" else coords
    xs = [p[0] for poly in polygons for ring in poly for p in ring]
    ys = [p[1] for poly in polygons for ring in poly for p in ring]
    return float(min(xs)), float(min(ys)), float(max(xs)), float(max(ys))
