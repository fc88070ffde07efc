"""One catalog item as CDSE's Catalog API writes it, for one synthetic acquisition.

The shape follows the item example of CDSE's OpenAPI description (``../shared/cdse/
openapi.v1.yaml``, response ``CatalogFeaturesFeatureCollectionGeoJSON``): the product id,
a ``MultiPolygon`` footprint with a ``crs`` member, ``properties`` ``datetime`` (here with
milliseconds), ``platform``, ``instruments``, ``constellation``, ``gsd``,
``eo:cloud_cover``, ``proj:epsg`` and ``proj:bbox`` (the tile's square), a ``data`` asset
with the tile's ``s3://`` path, and root/self/parent/collection links. CDSE's items carry
no separate tile or orbit field (both are in the id, ``_R022_T33TUK_``); the emulator adds
``s2raster:synthetic`` only.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from s2raster.emulator import earth

Item = dict[str, Any]
PREFIX = "/api/v1/catalog/1.0.0"
_STAC_EXTENSIONS = [
    "https://stac-extensions.github.io/eo/v1.0.0/schema.json",
    "https://stac-extensions.github.io/projection/v1.0.0/schema.json",
]


def iso_ms(value: datetime) -> str:
    """``value`` in UTC as ``YYYY-MM-DDTHH:MM:SS.sssZ``."""
    text = value.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")
    return text[:-3] + "Z"


def item(acq: earth.Acquisition, collection_id: str, base_url: str) -> Item:
    """The STAC item of ``acq``."""
    ring = [[round(x, 9), round(y, 9)] for x, y in acq.footprint]
    ring.append(ring[0])
    xs, ys = [p[0] for p in ring], [p[1] for p in ring]
    root = f"{base_url}{PREFIX}"
    collection = f"{root}/collections/{collection_id}"
    properties: dict[str, Any] = {
        "datetime": iso_ms(acq.datetime),
        "platform": acq.platform,
        "instruments": ["msi"],
        "constellation": "sentinel-2",
        "gsd": 10,
        "eo:cloud_cover": round(float(acq.cloud_cover), 2),
    }
    if acq.tile is not None:
        properties["proj:epsg"] = acq.tile.epsg
        properties["proj:bbox"] = acq.tile.proj_bbox()
    properties["s2raster:synthetic"] = True
    return {
        "stac_version": "1.0.0",
        "stac_extensions": list(_STAC_EXTENSIONS),
        "id": acq.id,
        "type": "Feature",
        "geometry": {
            "type": "MultiPolygon",
            "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:OGC::CRS84"}},
            "coordinates": [[ring]],
        },
        "bbox": [min(xs), min(ys), max(xs), max(ys)],
        "properties": properties,
        "assets": {
            "data": {
                "href": _data_href(acq, collection_id),
                "title": "s3",
                "type": "inode/directory",
            }
        },
        "collection": collection_id,
        "links": [
            {"href": root + "/", "rel": "root", "type": "application/json"},
            {
                "href": f"{collection}/items/{acq.id}",
                "rel": "self",
                "type": "application/geo+json",
            },
            {"href": collection, "rel": "parent", "type": "application/json"},
            {"href": collection, "rel": "collection", "type": "application/json"},
        ],
    }


def _data_href(acq: earth.Acquisition, collection_id: str) -> str:
    bucket = "sentinel-s2-l1c" if collection_id.endswith("l1c") else "sentinel-s2-l2a"
    name = acq.tile_id.removeprefix("T")
    square = f"{int(name[:2])}/{name[2]}/{name[3:]}"
    when = acq.datetime.astimezone(timezone.utc)
    return f"s3://{bucket}/tiles/{square}/{when.year}/{when.month}/{when.day}/0/"
