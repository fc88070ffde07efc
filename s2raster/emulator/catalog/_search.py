"""The Catalog API's item search (STAC 1.0.0) over the synthetic acquisitions.

``/api/v1/catalog/1.0.0/search`` (POST and GET) answers a FeatureCollection of items (see
:mod:`._item`), paginated as the service does: ``limit`` items per page (at most 100,
default 10), ``context.next`` (an offset the client posts back as ``next``) and a
``rel: next`` link, which is what sentinelhub-py's ``CatalogSearchIterator`` follows
(github.com/sentinel-hub/sentinelhub-py, ``sentinelhub/api/catalog.py``). Filters:
``collections``, ``bbox`` or ``intersects`` (by its bounds), ``datetime``, ``ids``, and a
CQL2 subset on ``eo:cloud_cover`` and ``platform`` (text or JSON, see :mod:`._query`);
``fields`` include/exclude; ``distinct: "date"`` answers the sorted list of the matching
items' UTC dates as ``features``, as the service does (sentinel-hub.com FAQ "Where can I
get a list of the available dates"). Items come pass after pass, north to south within a
pass, and are computed lazily, so a first page of a global search is cheap.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import urlencode

from s2raster.emulator import earth
from s2raster.emulator.catalog._item import PREFIX, item
from s2raster.emulator.catalog._query import matcher, select_fields
from s2raster.emulator.errors import RequestError
from s2raster.emulator.request import (
    ARCHIVE_START,
    COLLECTIONS,
    bad_payload,
    geometry_bounds,
    parse_bounds,
    parse_datetime,
)

MAX_LIMIT = 100
DEFAULT_LIMIT = 10
#: Boxes at least this wide (degrees) answer ``distinct`` from the passes' times.
WIDE_DISTINCT = 20.0


def iso(value: datetime) -> str:
    return value.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def search(params: dict[str, Any], base_url: str, *, method: str = "POST") -> dict[str, Any]:
    """Answer one page of a search (``params`` as posted, or parsed from a GET query)."""
    collection_id = _collection(params.get("collections"))
    boxes = _boxes(params)
    time_from, time_to = _datetime(params.get("datetime"))
    limit = _int(params.get("limit", DEFAULT_LIMIT), "limit", 1, MAX_LIMIT)
    offset = _int(params.get("next", 0), "next", 0, None)
    distinct = params.get("distinct")
    if distinct not in (None, "date"):
        raise bad_payload(f"distinct supports 'date' only, got {distinct!r}.", "distinct")
    matches = matcher(params)
    try:
        found = (a for a in _acquisitions(collection_id, boxes, time_from, time_to) if matches(a))
        if distinct == "date":
            values: list[Any] = _dates(found, params, boxes, (time_from, time_to))
            page, more = values[offset : offset + limit], offset + limit < len(values)
        else:
            chunk = list(itertools.islice(found, offset, offset + limit + 1))
            page, more = chunk[:limit], len(chunk) > limit
            fields = params.get("fields")
            page = [select_fields(item(a, collection_id, base_url), fields) for a in page]
    except RequestError as exc:
        raise bad_payload(str(exc)) from None
    context: dict[str, Any] = {"limit": limit, "returned": len(page)}
    links = [{"rel": "self", "href": f"{base_url}{PREFIX}/search", "type": "application/geo+json"}]
    if more:
        context["next"] = offset + limit
        links.append(_next_link(params, base_url, offset + limit, method))
    return {"type": "FeatureCollection", "features": page, "links": links, "context": context}


def _acquisitions(
    collection_id: str, boxes: list[tuple[float, ...]], time_from: datetime, time_to: datetime
) -> Iterator[earth.Acquisition]:
    seen: set[str] = set()
    for box in boxes:
        for acq in earth.iter_acquisitions(collection_id, box, time_from, time_to):
            if acq.id not in seen:
                seen.add(acq.id)
                yield acq


def _dates(
    found: Iterator[earth.Acquisition],
    params: dict[str, Any],
    boxes: list[tuple[float, ...]],
    span: tuple[datetime, datetime],
) -> list[str]:
    """The distinct UTC dates of the matching items (for a wide box without filters,
    from the passes' imaging times over its latitudes: listing every tile of the globe
    would take minutes)."""
    wide = any(b[2] - b[0] >= WIDE_DISTINCT for b in boxes)
    if not wide or params.get("filter") or params.get("ids"):
        return sorted({a.datetime.astimezone(timezone.utc).date().isoformat() for a in found})
    start, stop = max(span[0], ARCHIVE_START), min(span[1], datetime.now(timezone.utc))
    south, north = min(b[1] for b in boxes), max(b[3] for b in boxes)
    days: set[str] = set()
    for p in earth.passes(start, stop):
        for lat in (min(north, 84.0), max(south, -84.0)):
            when = p.node_time + timedelta(seconds=earth.track_seconds(lat))
            if start <= when <= stop:
                days.add(when.date().isoformat())
    return sorted(days)


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


def _collection(value: Any) -> str:
    if not isinstance(value, list) or len(value) != 1 or str(value[0]) not in COLLECTIONS:
        raise bad_payload(
            f"collections must name one of {', '.join(COLLECTIONS)}, got {value!r}.", "collections"
        )
    return str(value[0])


def _boxes(params: dict[str, Any]) -> list[tuple[float, ...]]:
    """The lon/lat boxes searched (two when a bbox crosses the antimeridian)."""
    if params.get("bbox") is not None:
        box = _crossing(params["bbox"])
        if box is not None:
            return box
        return [parse_bounds({"bbox": params["bbox"]}).bbox]
    if params.get("intersects") is not None:
        return [geometry_bounds(parse_bounds({"geometry": params["intersects"]}).geometry or {})]
    return [earth.WORLD]


def _crossing(value: Any) -> list[tuple[float, ...]] | None:
    """A STAC bbox across the antimeridian (west > east) as two boxes, else None."""
    if (
        isinstance(value, list)
        and len(value) == 4
        and all(isinstance(v, (int, float)) for v in value)
    ):
        w, s, e, n = (float(v) for v in value)
        if w > e and e >= -180 and w <= 180 and s <= n:
            return [(w, s, 180.0, n), (-180.0, s, e, n)]
    return None


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
