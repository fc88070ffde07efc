"""A STAC Item beside every exported GeoTIFF (``out.tif`` -> ``out.json``), with pystac.

The Item is read from the file itself (what a GIS tool would see), so it cannot disagree
with it: ``bbox``/``geometry`` in lon/lat (the footprint, densified along the edges),
``start_datetime``/``end_datetime`` from the time range (``datetime`` for a file of one
time step), the projection extension (``proj:code``, ``proj:shape``, ``proj:transform``),
and one asset with the eo extension (band names, common names, centre wavelength and full
width at half maximum in micrometres) and the raster extension (data type, nodata, unit,
scale, offset, statistics). The job's provenance is in ``s2raster:`` properties: the
processing units spent, the SHA-256 of the request payload and its evalscript, collection,
mosaicking, acquisition dates, and ``s2raster:synthetic`` for emulator data.

Schemas (pystac 1.15 writes these versions): STAC 1.1.0, eo v1.1.0, projection v2.0.0,
raster v1.1.0. odc-stac reads such Items back (``odc.stac.load``).
"""

from __future__ import annotations

import json
import math
import os
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pystac
import rasterio
from odc.geo.geobox import GeoBox
from pyproj import Transformer
from pystac.extensions.eo import Band, EOExtension
from pystac.extensions.projection import ProjectionExtension
from pystac.extensions.raster import (
    DataType,
    NoDataStrings,
    RasterBand,
    RasterExtension,
    Statistics,
)

from s2raster.contract import SYNTHETIC_TAG
from s2raster.errors import ExportError
from s2raster.output import atomic_file

__all__ = ["COG_MEDIA_TYPE", "item_for_file", "item_path", "write_item"]

COG_MEDIA_TYPE = "image/tiff; application=geotiff; profile=cloud-optimized"
GEOTIFF_MEDIA_TYPE = "image/tiff; application=geotiff"
#: Dataset tags that become ``s2raster:`` properties, as strings.
_PROVENANCE = (
    "collection",
    "mosaicking",
    "acquisition_dates",
    "request_sha256",
    "evalscript",
    "max_cloud",
    "groupby",
)


def item_path(path: str | os.PathLike[str]) -> Path:
    """Where the Item of ``path`` goes: the same name with ``.json``."""
    return Path(path).with_suffix(".json")


def write_item(path: str | os.PathLike[str]) -> Path:
    """Write the STAC Item of the GeoTIFF ``path`` beside it (atomically); return its path."""
    item = item_for_file(path)
    target = item_path(path)
    text = json.dumps(item.to_dict(include_self_link=False), indent=1, allow_nan=False)
    with atomic_file(target) as f:
        f.write(text.encode("utf-8"))
    return target


def item_for_file(path: str | os.PathLike[str]) -> pystac.Item:
    """The STAC Item of the GeoTIFF ``path``, from what the file says about itself."""
    source = Path(path)
    with rasterio.open(source) as ds:
        if ds.crs is None:
            raise ExportError(f"{source} has no CRS: a STAC Item needs a georeferenced file")
        tags = ds.tags()
        geobox = GeoBox((ds.height, ds.width), ds.transform, ds.crs.to_wkt())
        epsg = ds.crs.to_epsg()
        bands = [_band(ds, i) for i in range(1, ds.count + 1)]
        cog = ds.tags(ns="IMAGE_STRUCTURE").get("LAYOUT") == "COG"
        transform = list(ds.transform)[:6]
        shape = [ds.height, ds.width]
    ring = _lonlat_ring(geobox)
    start, end, moment = _times(tags)
    lons, lats = [p[0] for p in ring], [p[1] for p in ring]
    item = pystac.Item(
        id=source.stem,
        geometry={"type": "Polygon", "coordinates": [ring]},
        bbox=[min(lons), min(lats), max(lons), max(lats)],
        datetime=moment,
        start_datetime=start,
        end_datetime=end,
        properties=_properties(tags),
    )
    proj = ProjectionExtension.ext(item, add_if_missing=True)
    proj.apply(code=f"EPSG:{epsg}" if epsg else None, shape=shape, transform=transform)
    if epsg is None and geobox.crs is not None:
        proj.wkt2 = geobox.crs.to_wkt()
    asset = pystac.Asset(
        href=f"./{source.name}",
        media_type=COG_MEDIA_TYPE if cog else GEOTIFF_MEDIA_TYPE,
        roles=["data"],
        title=", ".join(b["name"] for b in bands),
    )
    item.add_asset("data", asset)
    EOExtension.ext(asset, add_if_missing=True).apply(bands=[b["eo"] for b in bands])
    RasterExtension.ext(asset, add_if_missing=True).apply(bands=[b["raster"] for b in bands])
    return item


def _lonlat_ring(geobox: GeoBox, per_edge: int = 5) -> list[list[float]]:
    """The outline of ``geobox`` in lon/lat: ``per_edge`` points an edge, closed, counter-
    clockwise (as GeoJSON wants), rounded to 1e-7 degrees (about 1 cm)."""
    x0, y0, x1, y1 = geobox.boundingbox
    steps = np.linspace(0.0, 1.0, per_edge, endpoint=False)
    xs = [
        *(x0 + (x1 - x0) * steps),
        *([x1] * per_edge),
        *(x1 - (x1 - x0) * steps),
        *([x0] * per_edge),
    ]
    ys = [
        *([y0] * per_edge),
        *(y0 + (y1 - y0) * steps),
        *([y1] * per_edge),
        *(y1 - (y1 - y0) * steps),
    ]
    assert geobox.crs is not None
    to_lonlat = Transformer.from_crs(geobox.crs.to_wkt(), "EPSG:4326", always_xy=True)
    lons, lats = to_lonlat.transform(xs, ys)
    ring = [
        [round(float(lon), 7), round(float(lat), 7)] for lon, lat in zip(lons, lats, strict=True)
    ]
    return [*ring, ring[0]]


def _band(ds: Any, i: int) -> dict[str, Any]:
    tags = ds.tags(i)
    name = ds.descriptions[i - 1] or tags.get("name") or f"band_{i}"
    description = tags.get("long_name") or (
        f"{tags['index']}: {tags['formula']}" if "formula" in tags and "index" in tags else None
    )
    eo = Band.create(
        name=name,
        common_name=tags.get("common_name"),
        description=description,
        center_wavelength=_um(tags.get("wavelength_nm")),
        full_width_half_max=_um(tags.get("bandwidth_nm")),
    )
    nodata = ds.nodatavals[i - 1]
    raster = RasterBand.create(
        nodata=NoDataStrings.NAN if nodata is not None and math.isnan(nodata) else nodata,
        data_type=DataType(np.dtype(ds.dtypes[i - 1]).name),
        spatial_resolution=float(abs(ds.transform.a)),
        statistics=_statistics(tags),
        unit=ds.units[i - 1] or None,
        scale=ds.scales[i - 1] if np.dtype(ds.dtypes[i - 1]).kind == "f" else None,
        offset=ds.offsets[i - 1] if np.dtype(ds.dtypes[i - 1]).kind == "f" else None,
    )
    return {"name": name, "eo": eo, "raster": raster}


def _um(nm: str | None) -> float | None:
    return None if nm is None else round(float(nm) / 1000, 6)


def _statistics(tags: dict[str, str]) -> Statistics | None:
    keys = ("MINIMUM", "MAXIMUM", "MEAN", "STDDEV", "VALID_PERCENT")
    found = {k: float(tags[f"STATISTICS_{k}"]) for k in keys if f"STATISTICS_{k}" in tags}
    if not found:
        return None
    return Statistics.create(
        minimum=found.get("MINIMUM"),
        maximum=found.get("MAXIMUM"),
        mean=found.get("MEAN"),
        stddev=found.get("STDDEV"),
        valid_percent=found.get("VALID_PERCENT"),
    )


def _times(tags: dict[str, str]) -> tuple[datetime | None, datetime | None, datetime | None]:
    """(start, end, datetime): one time step's ``time``, else the query's range."""
    if "time" in tags:
        return None, None, _parse(tags["time"])
    start, end = _parse(tags.get("time_from")), _parse(tags.get("time_to"))
    if start is None or end is None:  # no provenance: the moment of writing
        return None, None, datetime.now(timezone.utc)
    return start, end, None


def _parse(text: str | None) -> datetime | None:
    if not text:
        return None
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _properties(tags: dict[str, str]) -> dict[str, Any]:
    props: dict[str, Any] = {}
    if tags.get("collection", "").startswith("sentinel-2"):
        props["constellation"] = "sentinel-2"
        props["instruments"] = ["msi"]
    for key in _PROVENANCE:
        if key in tags:
            props[f"s2raster:{key}"] = tags[key]
    for key in ("processing_units_spent", "processing_units_estimated"):
        if key in tags:
            props[f"s2raster:{key}"] = float(tags[key])
    synthetic = tags.get(SYNTHETIC_TAG) == "1"
    props["s2raster:synthetic"] = synthetic
    if synthetic:
        props["description"] = tags.get("TIFFTAG_IMAGEDESCRIPTION", "synthetic data")
    return props
