"""The Catalog API (STAC 1.0.0) over the synthetic acquisitions.

``/api/v1/catalog/1.0.0/search`` (POST and GET) answers a FeatureCollection of STAC items,
paginated as the service does: ``limit`` items per page, ``context.next`` (an offset the
client posts back as ``next``) and a ``rel: next`` link, which is what sentinelhub-py's
``CatalogSearchIterator`` follows. Filters: collections, bbox/intersects, datetime, ids,
and a small CQL2 subset on ``eo:cloud_cover`` and ``platform`` (text or JSON).
"""

from __future__ import annotations

import json
import operator
import re
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlencode

from s2raster.emulator.apierror import ApiError, bad_payload, not_found
from s2raster.emulator.bounds import geometry_bounds, is_number, parse_bounds
from s2raster.emulator.validate import ARCHIVE_START, COLLECTIONS, parse_datetime

PREFIX = "/api/v1/catalog/1.0.0"
MAX_LIMIT = 100
DEFAULT_LIMIT = 10
_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge,
    "=": operator.eq, "<>": operator.ne,
}  # fmt: skip
_TEXT_TERM = re.compile(r"^\s*([\w:]+)\s*(<=|>=|<>|=|<|>)\s*('[^']*'|[-+\d.eE]+)\s*$")
_PROPERTIES = {"eo:cloud_cover", "platform", "constellation"}
Item = dict[str, Any]


def landing(base_url: str) -> dict[str, Any]:
    root = base_url + PREFIX
    return {
        "type": "Catalog",
        "id": "s2raster-emulator",
        "stac_version": "1.0.0",
        "description": "s2raster emulator catalog (synthetic data, not Sentinel-2 observations)",
        "conformsTo": conformance()["conformsTo"],
        "links": [
            {"rel": "self", "href": root, "type": "application/json"},
            {"rel": "search", "href": root + "/search", "type": "application/geo+json"},
            {"rel": "data", "href": root + "/collections", "type": "application/json"},
        ],
    }


def conformance() -> dict[str, Any]:
    return {
        "conformsTo": [
            "https://api.stacspec.org/v1.0.0/core",
            "https://api.stacspec.org/v1.0.0/item-search",
            "https://api.stacspec.org/v1.0.0/item-search#context",
        ]
    }


def collections(base_url: str) -> dict[str, Any]:
    return {"collections": [collection(base_url, cid) for cid in COLLECTIONS], "links": []}


def collection(base_url: str, collection_id: str) -> dict[str, Any]:
    if collection_id not in COLLECTIONS:
        raise not_found(f"{PREFIX}/collections/{collection_id}")
    return {
        "stac_version": "1.0.0",
        "type": "Collection",
        "id": collection_id,
        "title": f"Sentinel 2 {COLLECTIONS[collection_id][2:]} (synthetic)",
        "description": "Synthetic acquisitions of the s2raster emulator",
        "license": "proprietary",
        "extent": {
            "spatial": {"bbox": [[-180.0, -90.0, 180.0, 90.0]]},
            "temporal": {"interval": [[_iso(ARCHIVE_START), None]]},
        },
        "links": [{"rel": "self", "href": f"{base_url}{PREFIX}/collections/{collection_id}"}],
    }


def search(params: dict[str, Any], base_url: str, *, method: str = "POST") -> dict[str, Any]:
    """Answer one page of a search (``params`` as posted, or parsed from a GET query)."""
    collection_id = _collection(params.get("collections"))
    bbox = _bbox(params)
    time_from, time_to = _datetime(params.get("datetime"))
    limit = _int(params.get("limit", DEFAULT_LIMIT), "limit", 1, MAX_LIMIT)
    offset = _int(params.get("next", 0), "next", 0, None)
    from s2raster.emulator import earth

    matches = _filter(earth.acquisitions(collection_id, bbox, time_from, time_to), params)
    page = matches[offset : offset + limit]
    features = [_fields(item(a, collection_id, bbox, base_url), params.get("fields")) for a in page]
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
    """The STAC item of one synthetic acquisition."""
    minx, miny, maxx, maxy = _footprint(acquisition, bbox)
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
            "datetime": _iso(acquisition.datetime),
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


def _footprint(acquisition: Any, bbox: tuple[float, ...]) -> tuple[float, float, float, float]:
    from s2raster.emulator import earth

    footprint = getattr(earth, "footprint", None)
    box = footprint(acquisition) if callable(footprint) else bbox
    return float(box[0]), float(box[1]), float(box[2]), float(box[3])


def _iso(value: datetime) -> str:
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
    raise bad_payload("The emulator's catalog needs bbox or intersects.", "bbox")


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


def _filter(acquisitions: list[Any], params: dict[str, Any]) -> list[Any]:
    ids = params.get("ids")
    if ids is not None:
        acquisitions = [a for a in acquisitions if a.id in set(ids)]
    terms = _filter_terms(params.get("filter"), params.get("filter-lang", "cql2-text"))
    return [a for a in acquisitions if all(_match(a, *term) for term in terms)]


def _filter_terms(value: Any, lang: str) -> list[tuple[str, str, Any]]:
    if value in (None, ""):
        return []
    if lang == "cql2-json" or isinstance(value, dict):
        return _json_terms(value)
    terms = []
    for text in re.split(r"\s+AND\s+", str(value), flags=re.IGNORECASE):
        match = _TEXT_TERM.match(text)
        if match is None or match.group(1) not in _PROPERTIES:
            raise _unsupported_filter(text)
        literal = match.group(3)
        operand = literal.strip("'") if literal.startswith("'") else float(literal)
        terms.append((match.group(1), match.group(2), operand))
    return terms


def _json_terms(value: Any) -> list[tuple[str, str, Any]]:
    if not isinstance(value, dict):
        raise _unsupported_filter(value)
    if value.get("op") == "and":
        return [term for arg in value.get("args", []) for term in _json_terms(arg)]
    args = value.get("args")
    if (
        value.get("op") in _OPS
        and isinstance(args, list)
        and len(args) == 2
        and isinstance(args[0], dict)
        and args[0].get("property") in _PROPERTIES
        and (is_number(args[1]) or isinstance(args[1], str))
    ):
        return [(args[0]["property"], value["op"], args[1])]
    raise _unsupported_filter(value)


def _unsupported_filter(value: Any) -> ApiError:
    return bad_payload(
        f"Unsupported filter {value!r}: the emulator understands comparisons of "
        f"{', '.join(sorted(_PROPERTIES))} joined with AND.",
        "filter",
    )


def _match(acquisition: Any, name: str, op: str, operand: Any) -> bool:
    values = {
        "eo:cloud_cover": float(acquisition.cloud_cover),
        "platform": acquisition.platform,
        "constellation": "sentinel-2",
    }
    value = values[name]
    if isinstance(value, float) != is_number(operand):
        return False
    return _OPS[op](value, operand)


def _fields(feature: Item, fields: Any) -> Item:
    if not isinstance(fields, dict):
        return feature
    include = [f for f in fields.get("include") or [] if isinstance(f, str)]
    exclude = [f for f in fields.get("exclude") or [] if isinstance(f, str)]
    if include:
        kept: Item = {"id": feature["id"], "type": feature["type"]}
        for path in include:
            _copy_path(feature, kept, path.split("."))
        feature = kept
    for path in exclude:
        _drop_path(feature, path.split("."))
    return feature


def _copy_path(source: Item, target: Item, keys: list[str]) -> None:
    head, rest = keys[0], keys[1:]
    if head not in source:
        return
    if not rest or not isinstance(source[head], dict):
        target[head] = source[head]
        return
    _copy_path(source[head], target.setdefault(head, {}), rest)


def _drop_path(target: Item, keys: list[str]) -> None:
    head, rest = keys[0], keys[1:]
    if head in target and not rest:
        del target[head]
    elif head in target and isinstance(target[head], dict):
        _drop_path(target[head], rest)


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
