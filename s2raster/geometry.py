"""Areas and zones: polygons from GeoJSON, shapely, GeoDataFrames and vector files.

:func:`read_area` turns whatever a user holds into one :class:`Area` (a polygon or
multipolygon and its CRS); :func:`read_zones` into :class:`Zones` (one polygon per field,
with ids). Accepted:

- a GeoJSON mapping (Feature, FeatureCollection, Polygon, MultiPolygon, GeometryCollection):
  lon/lat (RFC 7946), unless it carries a legacy ``crs`` member or ``crs=`` is given;
- a shapely geometry, or anything with ``__geo_interface__``: in ``crs`` (default lon/lat);
- a geopandas GeoDataFrame or GeoSeries: in its own CRS;
- a path to a vector file pyogrio reads (GeoJSON, GeoPackage, Shapefile...): in its CRS;
- a list or tuple of any of these.

Only polygons make areas: points and lines are refused, as are empty geometries. Invalid
ones (self-intersections, bad rings) are refused with GEOS's reason, or repaired with
``make_valid=True`` (:func:`shapely.make_valid`, keeping the polygonal parts). Reading files
needs the ``geo`` extra (``pip install 's2raster[geo]'``); everything else needs shapely only.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely
from pyproj import CRS, Transformer
from shapely.geometry import box, mapping
from shapely.geometry.base import BaseGeometry
from shapely.validation import explain_validity

from s2raster import _vectors
from s2raster.errors import InputError
from s2raster.grid import BBox, crs_string, to_crs

__all__ = ["Area", "Zones", "geojson", "read_area", "read_zones"]

_POLYGONAL = ("Polygon", "MultiPolygon")


@dataclass(frozen=True)
class Area:
    """One polygonal area (Polygon or MultiPolygon) and its CRS (``"EPSG:n"``)."""

    geometry: BaseGeometry
    crs: str

    @property
    def bounds(self) -> BBox:
        """(minx, miny, maxx, maxy) in :attr:`crs`."""
        minx, miny, maxx, maxy = (float(v) for v in self.geometry.bounds)
        return minx, miny, maxx, maxy

    def to_crs(self, crs: str | int | CRS) -> Area:
        """The area in ``crs`` (vertices reprojected; edges stay straight in ``crs``)."""
        target = crs_string(crs)
        return Area(reproject(self.geometry, self.crs, target), target)

    def clip(self, bounds: BBox) -> BaseGeometry | None:
        """The polygonal part of the area inside ``bounds`` (same CRS); None if nothing."""
        return polygonal_part(self.geometry.intersection(box(*bounds)))


@dataclass(frozen=True)
class Zones:
    """Polygons (one per zone), their ids and their common CRS."""

    geometries: tuple[BaseGeometry, ...]
    ids: tuple[Any, ...]
    crs: str

    def __len__(self) -> int:
        return len(self.geometries)

    def to_crs(self, crs: str | int | CRS) -> Zones:
        """The zones in ``crs``."""
        target = crs_string(crs)
        moved = tuple(reproject(g, self.crs, target) for g in self.geometries)
        return Zones(moved, self.ids, target)

    def area(self, index: int) -> Area:
        """Zone ``index`` as an :class:`Area`."""
        return Area(self.geometries[index], self.crs)


def read_area(obj: Any, *, crs: str | int | CRS | None = None, make_valid: bool = False) -> Area:
    """One :class:`Area`: the union of every polygon in ``obj`` (see the module docstring).

    ``crs`` is the CRS of shapely geometries and GeoJSON mappings (default lon/lat); frames
    and files carry their own. Raises :class:`~s2raster.errors.InputError` for empty,
    non-polygonal or invalid geometries (unless ``make_valid``).
    """
    zones = read_zones(obj, crs=crs, make_valid=make_valid)
    geometry = zones.geometries[0] if len(zones) == 1 else shapely.union_all(zones.geometries)
    return Area(_checked(geometry, "the union of the geometries", make_valid=True), zones.crs)


def read_zones(
    obj: Any,
    *,
    crs: str | int | CRS | None = None,
    id_column: str | None = None,
    make_valid: bool = False,
) -> Zones:
    """:class:`Zones`, one per feature of ``obj``, with ids from ``id_column`` or positions.

    Without ``id_column`` a zone's id is its position (a GeoDataFrame's index value).
    A :class:`Zones` is returned as it is.
    """
    if isinstance(obj, Zones):
        return obj
    features, source_crs = _vectors.features(obj, None if crs is None else crs_string(crs))
    if not features:
        raise InputError("the geometry input has no features: give at least one polygon")
    geometries, ids = [], []
    for position, (geometry, properties, default_id) in enumerate(features):
        where = "the geometry" if len(features) == 1 else f"feature {position}"
        geometries.append(_checked(geometry, where, make_valid=make_valid))
        ids.append(default_id if id_column is None else _id(properties, id_column, where))
    if len(set(map(repr, ids))) != len(ids):
        raise InputError(f"zone ids must be unique; id_column={id_column!r} has repeated values")
    zones = Zones(tuple(geometries), tuple(ids), source_crs)
    _check_range(zones)
    return zones


def geojson(geometry: BaseGeometry) -> dict[str, Any]:
    """The GeoJSON mapping of ``geometry`` with lists (as JSON has them), not tuples."""
    return _lists(mapping(geometry))  # type: ignore[no-any-return]


def reproject(geometry: BaseGeometry, src: str, dst: str) -> BaseGeometry:
    """``geometry`` from CRS ``src`` to ``dst`` (x/y order), still valid."""
    if src == dst:
        return geometry
    transformer = Transformer.from_crs(src, dst, always_xy=True)

    def move(xy: np.ndarray) -> np.ndarray:
        x, y = transformer.transform(xy[:, 0], xy[:, 1])
        return np.column_stack([x, y])

    moved = shapely.transform(geometry, move)
    if not np.isfinite(moved.bounds).all():
        raise InputError(f"the geometry cannot be expressed in {dst}: choose another crs")
    return moved if moved.is_valid else polygonal_part(shapely.make_valid(moved)) or moved


def polygonal_part(geometry: BaseGeometry) -> BaseGeometry | None:
    """The polygons of ``geometry`` (a collection's lines and points dropped), or None."""
    if geometry.is_empty:
        return None
    if geometry.geom_type in _POLYGONAL:
        return geometry
    parts = [g for g in getattr(geometry, "geoms", ()) if g.geom_type in _POLYGONAL]
    parts = [p for g in parts for p in (g.geoms if g.geom_type == "MultiPolygon" else [g])]
    return shapely.MultiPolygon(parts) if len(parts) > 1 else (parts[0] if parts else None)


# --- validation ------------------------------------------------------------------------


def _checked(geometry: BaseGeometry | None, where: str, *, make_valid: bool) -> BaseGeometry:
    if geometry is None or geometry.is_empty:
        raise InputError(f"{where} is empty: an area needs a polygon with a non-zero area")
    geometry = shapely.force_2d(geometry)
    if not geometry.is_valid:
        if not make_valid:
            raise InputError(
                f"{where} is not a valid polygon ({explain_validity(geometry)}): fix it, or "
                "pass make_valid=True to repair it with shapely.make_valid"
            )
        geometry = shapely.make_valid(geometry)
    polygons = polygonal_part(geometry)
    if polygons is None or polygons.area <= 0:
        raise InputError(
            f"{where} is a {geometry.geom_type}, not a polygon: areas must be Polygon or "
            "MultiPolygon (buffer points or lines first, e.g. geometry.buffer(...))"
        )
    return polygons


def _check_range(zones: Zones) -> None:
    if not to_crs(zones.crs).is_geographic:
        return
    minx, miny, maxx, maxy = shapely.total_bounds(zones.geometries)
    if minx < -180 or maxx > 180 or miny < -90 or maxy > 90:
        raise InputError(
            f"the geometries span x {minx:g}..{maxx:g}, y {miny:g}..{maxy:g}, outside lon/lat: "
            "give their CRS (geometry_crs=..., e.g. 'EPSG:32633'), or check x/y order"
        )


def _id(properties: Mapping[str, Any], column: str, where: str) -> Any:
    if column not in properties:
        found = ", ".join(map(str, properties)) or "none"
        raise InputError(f"id_column {column!r} is not a property of {where} (found: {found})")
    return properties[column]


def _lists(value: Any) -> Any:
    if isinstance(value, (tuple, list)):
        return [_lists(v) for v in value]
    if isinstance(value, Mapping):
        return {k: _lists(v) for k, v in value.items()}
    return float(value) if isinstance(value, np.floating) else value
