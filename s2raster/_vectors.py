"""Reading vector inputs into features: GeoJSON, shapely, geopandas frames, vector files.

Private to :mod:`s2raster.geometry`: :func:`features` returns ``(geometry, properties,
default id)`` per feature and the CRS the input is in, validating nothing but the form.
Files are read with pyogrio (the ``geo`` extra); plain GeoJSON files without it.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from pyproj import CRS
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from s2raster.errors import InputError
from s2raster.grid import crs_string, to_crs

LONLAT = "EPSG:4326"
GEO_HINT = "install the geo extra: pip install 's2raster[geo]'"
#: (geometry, properties, default id) of one feature, before validation.
Feature = tuple[BaseGeometry | None, Mapping[str, Any], Any]


def features(obj: Any, crs: str | None) -> tuple[list[Feature], str]:
    """The features of ``obj`` and its CRS (``crs``, or lon/lat, for shapely and GeoJSON)."""
    if isinstance(obj, (str, os.PathLike)):
        return _read_file(Path(obj))
    if _is_geopandas(obj):
        return _from_frame(obj)
    if isinstance(obj, BaseGeometry):
        return [(obj, {}, 0)], crs or LONLAT
    if isinstance(obj, Mapping) or hasattr(obj, "__geo_interface__"):
        value = obj if isinstance(obj, Mapping) else obj.__geo_interface__
        return list(_from_geojson(value)), crs or _legacy_crs(value) or LONLAT
    if isinstance(obj, (list, tuple)):
        found: list[Feature] = []
        crss: set[str] = set()
        for item in obj:
            part, part_crs = features(item, crs)
            base = len(found)
            found.extend((g, p, base + k) for k, (g, p, _) in enumerate(part))
            crss.add(part_crs)
        if len(crss) > 1:
            raise InputError(f"the geometries are in different CRSs ({', '.join(sorted(crss))})")
        return found, crss.pop() if found else (crs or LONLAT)
    raise InputError(
        f"cannot read a geometry from {type(obj).__name__}: give a GeoJSON mapping, a shapely "
        "geometry, a GeoDataFrame/GeoSeries, a vector file path or a list of these"
    )


def _from_geojson(value: Mapping[str, Any]) -> Iterator[Feature]:
    kind = value.get("type")
    if kind == "FeatureCollection":
        for k, feature in enumerate(value.get("features") or []):
            geometry, properties, _ = next(_from_geojson(feature))
            yield geometry, properties, k
    elif kind == "Feature":
        raw = value.get("geometry")
        yield (None if raw is None else _shape(raw)), value.get("properties") or {}, 0
    elif isinstance(kind, str):
        yield _shape(value), {}, 0
    else:
        raise InputError(
            "a GeoJSON mapping needs a 'type' (Feature, FeatureCollection, Polygon...)"
        )


def _shape(value: Mapping[str, Any]) -> BaseGeometry:
    try:
        return shape(value)
    except (AttributeError, KeyError, TypeError, ValueError, shapely.errors.GEOSException) as exc:
        raise InputError(f"not a valid GeoJSON geometry ({exc}): {str(value)[:80]}") from exc


def _legacy_crs(value: Mapping[str, Any]) -> str | None:
    """The CRS of a GeoJSON 2008 ``crs`` member (``{"type": "name", ...}``), if any."""
    member = value.get("crs")
    name = member.get("properties", {}).get("name") if isinstance(member, Mapping) else None
    return _crs_name(to_crs(name)) if isinstance(name, str) else None


def _crs_name(crs: CRS) -> str:
    """``"EPSG:n"``; OGC CRS84 (lon/lat WGS 84, what GeoJSON files declare) is EPSG:4326."""
    if crs.to_epsg() is None and crs.is_geographic and "CRS84" in crs.to_string().upper():
        return LONLAT
    return crs_string(crs)


def _is_geopandas(obj: Any) -> bool:
    return any(c.__module__.startswith("geopandas") for c in type(obj).__mro__)


def _from_frame(obj: Any) -> tuple[list[Feature], str]:
    if obj.crs is None:
        raise InputError(
            f"the {type(obj).__name__} has no CRS: set one first (e.g. .set_crs('EPSG:4326'))"
        )
    geoseries = obj.geometry if hasattr(obj, "columns") else obj
    rows = obj.to_dict("records") if hasattr(obj, "columns") else [{}] * len(obj)
    features = [(g, r, i) for g, r, i in zip(geoseries, rows, obj.index, strict=True)]
    return features, _crs_name(CRS.from_user_input(obj.crs))


def _read_file(path: Path) -> tuple[list[Feature], str]:
    if not path.is_file():
        raise InputError(f"geometry file {str(path)!r} does not exist")
    try:
        from pyogrio.raw import read
    except ImportError as exc:
        if path.suffix.lower() in (".geojson", ".json"):  # plain GeoJSON needs no GDAL
            return _read_geojson(path)
        raise InputError(f"reading {path.name} needs pyogrio: {GEO_HINT}") from exc
    try:
        meta, _, wkb, fields = read(path)
    except Exception as exc:  # pyogrio's DataSourceError and friends
        raise InputError(f"cannot read geometry file {str(path)!r}: {exc}") from exc
    if meta.get("crs") is None:
        raise InputError(f"geometry file {str(path)!r} has no CRS: add a .prj or use GeoJSON")
    names = list(meta.get("fields", []))
    geometries = [None if w is None else shapely.from_wkb(w) for w in wkb]
    rows = [
        {n: _plain(col[k]) for n, col in zip(names, fields, strict=True)} for k in range(len(wkb))
    ]
    features: list[Feature] = [
        (g, r, k) for k, (g, r) in enumerate(zip(geometries, rows, strict=True))
    ]
    return features, _crs_name(CRS.from_user_input(meta["crs"]))


def _read_geojson(path: Path) -> tuple[list[Feature], str]:
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InputError(f"cannot read GeoJSON file {str(path)!r}: {exc}") from exc
    if not isinstance(value, Mapping):
        raise InputError(f"GeoJSON file {str(path)!r} does not hold a JSON object")
    return list(_from_geojson(value)), _legacy_crs(value) or LONLAT


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value
