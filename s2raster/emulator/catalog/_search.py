"""The Catalog API (STAC 1.0.0) over the synthetic acquisitions.

``/api/v1/catalog/1.0.0/search`` (POST and GET) answers a FeatureCollection of STAC items,
paginated as the service does: ``limit`` items per page, ``context.next`` (an offset the
client posts back as ``next``) and a ``rel: next`` link, which is what sentinelhub-py's
``CatalogSearchIterator`` follows. Filters: collections, bbox/intersects, datetime, ids,
and a small CQL2 subset on ``eo:cloud_cover`` and ``platform`` (text or JSON).
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlencode

from s2raster.emulator import earth
from s2raster.emulator.catalog._query import Item, filter_acquisitions, select_fields
from s2raster.emulator.errors import RequestError
from s2raster.emulator.request import (
    ARCHIVE_START,
    COLLECTIONS,
    bad_payload,
    geometry_bounds,
    parse_bounds,
    parse_datetime,
)

PREFIX = "/api/v1/catalog/1.0.0"
MAX_LIMIT = 100
DEFAULT_LIMIT = 10


def search(params: dict[str, Any], base_url: str, *, method: str = "POST") -> dict[str, Any]:
    """Answer one page of a search (``params`` as posted, or parsed from a GET query)."""
    collection_id = _collection(params.get("collections"))
    bbox = _bbox(params)
    time_from, time_to = _datetime(params.get("datetime"))
    limit = _int(params.get("limit", DEFAULT_LIMIT), "limit", 1, MAX_LIMIT)
    offset = _int(params.get("next", 0), "next", 0, None)
    try:  # the synthetic passes are global: any box sees them all
        found = earth.acquisitions(collection_id, earth.WORLD, time_from, time_to)
    except RequestError as exc:
        raise bad_payload(str(exc)) from None
    matches = filter_acquisitions(found, params)
    page = matches[offset : offset + limit]
    features = [
        select_fields(item(a, collection_id, bbox, base_url), params.get("fields")) for a in page
    ]
    context: dict[str, Any] = {"limit": limit, "returned": len(features)}
    links = [{"rel": "self", "href": f"{base_url}{PREFIX}/search", "type": "application/geo+json"}]
    if offset + limit < len(matches):
        context["next"] = offset + limit
        links.append(_next_link(params, base_url, offset + limit, method))
    return {"type": "FeatureCollection", "features": features, "links": links, "context": context}


def query_params(query: dict[str, list[str]]) -> dict[str, Any]:
    """GET query parameters as the POST body would carry them."""
    params: dict[str, Any] = {key: values[-1] for key, values in query.items() if values}
    for key in ("collections", "ids"):
        if key in params:
            params[key] = [v for v in str(params[key]).split(",") if v]
    if "bbox" in params:
        try:
            params["bbox"] = [float(v) for v in str(params["bbox"]).split(",")]
        except ValueError:
            raise bad_payload("bbox must be 4 comma-separated numbers.", "bbox") from None
    if "intersects" in params:
        params["intersects"] = _load_json(str(params["intersects"]), "intersects")
    if "fields" in params:
        names = [v for v in str(params["fields"]).split(",") if v]
        params["fields"] = {
            "include": [n for n in names if not n.startswith("-")],
            "exclude": [n[1:] for n in names if n.startswith("-")],
        }
    return params


def item(acquisition: Any, collection_id: str, bbox: tuple[float, ...], base_url: str) -> Item:
    """The STAC item of one synthetic acquisition; its footprint is the search ``bbox``
    (the synthetic passes cover the whole globe)."""
    minx, miny, maxx, maxy = (float(v) for v in bbox)
    ring = [[minx, miny], [maxx, miny], [maxx, maxy], [minx, maxy], [minx, miny]]
    return {
        "stac_version": "1.0.0",
        "stac_extensions": ["https://stac-extensions.github.io/eo/v1.0.0/schema.json"],
        "type": "Feature",
        "id": acquisition.id,
        "collection": collection_id,
        "bbox": [minx, miny, maxx, maxy],
        "geometry": {"type": "MultiPolygon", "coordinates": [[ring]]},
        "properties": {
            "datetime": iso(acquisition.datetime),
            "platform": acquisition.platform,
            "constellation": "sentinel-2",
            "instruments": ["msi"],
            "eo:cloud_cover": round(float(acquisition.cloud_cover), 2),
            "gsd": 10,
            "s2raster:synthetic": True,
            "s2raster:tile_id": acquisition.tile_id,
            "s2raster:orbit": acquisition.orbit,
        },
        "assets": {},
        "links": [
            {
                "rel": "self",
                "href": f"{base_url}{PREFIX}/collections/{collection_id}/items/{acquisition.id}",
            }
        ],
    }


def iso(value: datetime) -> str:
    return value.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _collection(value: Any) -> str:
    if not isinstance(value, list) or len(value) != 1 or str(value[0]) not in COLLECTIONS:
        raise bad_payload(
            f"collections must name one of {', '.join(COLLECTIONS)}, got {value!r}.", "collections"
        )
    return str(value[0])


def _bbox(params: dict[str, Any]) -> tuple[float, float, float, float]:
    if params.get("bbox") is not None:
        return parse_bounds({"bbox": params["bbox"]}).bbox
    if params.get("intersects") is not None:
        return geometry_bounds(parse_bounds({"geometry": params["intersects"]}).geometry or {})
    return earth.WORLD


def _datetime(value: Any) -> tuple[datetime, datetime]:
    if value is None:
        return ARCHIVE_START, datetime.now(timezone.utc)
    if not isinstance(value, str):
        raise bad_payload(f"datetime must be a string, got {value!r}.", "datetime")
    start, sep, end = value.partition("/")
    if not sep:
        instant = parse_datetime(start, "datetime")
        return instant, instant
    time_from = ARCHIVE_START if start in ("", "..") else parse_datetime(start, "datetime")
    time_to = datetime.now(timezone.utc) if end in ("", "..") else parse_datetime(end, "datetime")
    if time_from > time_to:
        raise bad_payload(f"datetime interval {value!r} is reversed: start after end.", "datetime")
    return time_from, time_to


def _int(value: Any, name: str, lo: int, hi: int | None) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise bad_payload(f"{name} must be an integer, got {value!r}.", name) from None
    if number < lo or (hi is not None and number > hi):
        raise bad_payload(f"{name} must be between {lo} and {hi}, got {number}.", name)
    return number


def _load_json(text: str, name: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        raise bad_payload(f"{name} must be JSON.", name) from None


def _next_link(params: dict[str, Any], base_url: str, offset: int, method: str) -> dict[str, Any]:
    href = f"{base_url}{PREFIX}/search"
    link: dict[str, Any] = {"rel": "next", "type": "application/geo+json"}
    if method == "GET":
        query = {k: _query_value(v) for k, v in params.items() if k != "next"}
        link["href"] = f"{href}?{urlencode({**query, 'next': offset})}"
        return link
    link.update(href=href, method="POST", body={**params, "next": offset}, merge=False)
    return link


def _query_value(value: Any) -> str:
    if isinstance(value, list):
        return ",".join(str(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value)
    return str(value)
