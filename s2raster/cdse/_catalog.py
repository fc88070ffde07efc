"""Catalog (STAC item search) through sentinelhub-py's :class:`SentinelHubCatalog`.

One search per load: all pages (sentinelhub-py's ``CatalogSearchIterator`` follows
``context.next``), only the fields needed (id, datetime, cloud cover), ``eo:cloud_cover``
filtered by the service when ``max_cloud`` is given. Request shape: CDSE Catalog API,
https://documentation.dataspace.copernicus.eu/APIs/SentinelHub/Catalog.html and
sentinelhub-py ``sentinelhub/api/catalog.py``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime, timezone
from typing import Any

from sentinelhub.api.catalog import SentinelHubCatalog
from sentinelhub.config import SHConfig
from sentinelhub.constants import CRS
from sentinelhub.download.sentinelhub_client import SentinelHubDownloadClient
from sentinelhub.geometry import BBox

from s2raster.fetch import Acquisition
from s2raster.query import Query

#: Fields the client reads from each item (the rest is left on the server).
FIELDS = {
    "include": ["id", "properties.datetime", "properties.eo:cloud_cover"],
    "exclude": [],
}
_TILE = re.compile(r"_T(\d{2}[A-Z]{3})_")


def search(
    config: SHConfig,
    client: SentinelHubDownloadClient,
    query: Query,
    bbox: tuple[float, float, float, float],
) -> tuple[Acquisition, ...]:
    """The acquisitions of ``query`` over the lon/lat ``bbox``, oldest first."""
    catalog = SentinelHubCatalog(config=config)
    catalog.client = client  # the fetch's client: one token, one lock, headers recorded
    time = (query.time_from, query.time_to)
    features = catalog.search(
        query.collection,
        time=time,
        bbox=BBox(bbox, crs=CRS.WGS84),
        filter=None if query.max_cloud is None else f"eo:cloud_cover <= {query.max_cloud:g}",
        fields=FIELDS,
        limit=100,
    )
    found = [a for a in (acquisition(f) for f in features) if a is not None]
    lo, hi = naive_utc(query.time_from), naive_utc(query.time_to)
    inside = [a for a in found if lo <= a.datetime <= hi]  # the user's range is authoritative
    return tuple(sorted(inside, key=lambda a: (a.datetime, a.id)))


def acquisition(feature: dict[str, Any]) -> Acquisition | None:
    """One STAC item as an :class:`Acquisition` (None if it has no datetime)."""
    props = feature.get("properties") or {}
    stamp = props.get("datetime")
    if not isinstance(stamp, str):
        return None
    cloud = props.get("eo:cloud_cover")
    item_id = str(feature.get("id", ""))
    match = _TILE.search(item_id)
    return Acquisition(
        id=item_id,
        datetime=parse_utc(stamp),
        cloud_cover=float(cloud) if isinstance(cloud, (int, float)) else None,
        tile=match.group(1) if match else item_id,
    )


def parse_utc(stamp: str) -> datetime:
    """An ISO 8601 catalog datetime as naive UTC (milliseconds kept)."""
    return naive_utc(datetime.fromisoformat(stamp.replace("Z", "+00:00")))


def naive_utc(moment: datetime) -> datetime:
    """``moment`` in UTC without tzinfo (naive input is taken as UTC)."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(timezone.utc).replace(tzinfo=None)
    return moment


def tiles(acquisitions: Iterable[Acquisition]) -> str:
    """Tile ids, comma-separated, in order, without repeats."""
    return ",".join(dict.fromkeys(a.tile for a in acquisitions))
