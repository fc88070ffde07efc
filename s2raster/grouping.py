"""Catalog acquisitions into time steps: by solar day, or one step per overpass (pure).

A time series has one step per group of catalog items (:class:`~s2raster.fetch.Acquisition`):

- ``"solar_day"``: the items of one local solar day at the area's centre, so one overpass is
  never split at UTC midnight and the tiles or passes of one day become one step. As
  odc-stac's ``groupby="solar_day"``: the UTC time plus the centre longitude / 15 hours,
  snapped to whole hours toward zero (odc-stac ``odc/stac/_model.py``,
  ``_convert_to_solar_time``: ``int(longitude / 15) * 3600`` s; ``odc/stac/_load.py``,
  ``_group_items``, with the longitude of the output grid's centre). Sentinel-2 passes at
  about 10:30 local solar time, so the snapping never moves an overpass across midnight.
- ``"time"``: one step per overpass: items less than :data:`OVERPASS_GAP` apart (the tiles
  of one orbit, seconds apart) are one step; two passes of one day are two steps. The gap
  is 20 minutes, not an hour: where the swaths of Sentinel-2A and 2B overlap (high
  latitudes) their passes are half an orbit, about 50 minutes, apart, while the tiles of
  one pass over even a 1000 km area are at most a few minutes apart.

Each :class:`DateGroup` knows the exact ``timeRange`` of its own Process API requests
(:attr:`DateGroup.time_from` .. :attr:`DateGroup.time_to`), which covers its items and no
other group's.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import TYPE_CHECKING

from s2raster.errors import InputError

if TYPE_CHECKING:
    from s2raster.fetch import Acquisition

__all__ = [
    "GROUPBY",
    "OVERPASS_GAP",
    "REQUEST_MARGIN",
    "DateGroup",
    "check_groupby",
    "group_acquisitions",
    "solar_day",
]

#: The groupings :func:`group_acquisitions` knows (None: one mosaic, no time axis).
GROUPBY = ("solar_day", "time")
#: Items closer than this are one overpass (``groupby="time"``): well above the minutes
#: between the tiles of one pass, well below the ~50 min between S2A and S2B passes.
OVERPASS_GAP = timedelta(minutes=20)
#: Added to the last item's time for the end of a request's ``timeRange``: the catalog
#: gives milliseconds (a sensing time may carry more digits), and the end then holds the
#: last item whether the service reads ``to`` as inclusive or exclusive. The fractions
#: reach the wire: sentinelhub-py writes a datetime with ``isoformat()`` (microseconds
#: kept, ``Z`` for UTC; ``serialize_time`` in ``sentinelhub/time_utils.py``, called by
#: ``_get_data_filters`` in ``sentinelhub/api/base_request.py``), as
#: :func:`s2raster.timerange.format_time` does for the cache key.
REQUEST_MARGIN = timedelta(milliseconds=1)


@dataclass(frozen=True)
class DateGroup:
    """One time step: its catalog items (oldest first) and its solar day."""

    acquisitions: tuple[Acquisition, ...]
    solar_day: date

    def __post_init__(self) -> None:
        if not self.acquisitions:
            raise InputError("a DateGroup needs at least one acquisition")

    @property
    def time(self) -> datetime:
        """The earliest item's time (naive UTC): the step's ``time`` coordinate."""
        return self.acquisitions[0].datetime

    @property
    def time_from(self) -> datetime:
        """Start of the requests' ``timeRange``: the earliest item, aware UTC."""
        return _aware(self.acquisitions[0].datetime)

    @property
    def time_to(self) -> datetime:
        """End of the requests' ``timeRange``: the latest item + :data:`REQUEST_MARGIN`."""
        return _aware(self.acquisitions[-1].datetime + REQUEST_MARGIN)

    @property
    def cloud_cover(self) -> float:
        """Mean catalog cloud cover of the items (NaN if the catalog gave none)."""
        values = [a.cloud_cover for a in self.acquisitions if a.cloud_cover is not None]
        return math.fsum(values) / len(values) if values else math.nan

    @property
    def tiles(self) -> str:
        """The items' tile ids, comma-separated, each once, in time order."""
        return ",".join(dict.fromkeys(a.tile for a in self.acquisitions))


def check_groupby(groupby: str | None) -> str | None:
    """``groupby`` if it is None or one of :data:`GROUPBY`, else an InputError."""
    if groupby is None or (isinstance(groupby, str) and groupby in GROUPBY):
        return groupby
    raise InputError(
        f"groupby must be None (one mosaic), 'solar_day' or 'time', got {groupby!r}: "
        "'solar_day' gives one step per local day, 'time' one per overpass"
    )


def solar_day(moment: datetime, longitude: float) -> date:
    """The local solar day of the naive-UTC ``moment`` at ``longitude`` (as odc-stac)."""
    offset = timedelta(hours=int(longitude / 15))
    return (moment + offset).date()


def group_acquisitions(
    acquisitions: Iterable[Acquisition], groupby: str, longitude: float
) -> tuple[DateGroup, ...]:
    """The time steps of ``acquisitions`` (``groupby`` ``"solar_day"`` or ``"time"``), oldest
    first; ``longitude`` is the area's centre (for the solar day)."""
    check_groupby(groupby)
    items = sorted(acquisitions, key=lambda a: (a.datetime, a.id))
    groups: list[list[Acquisition]] = []
    for item in items:
        if groups and _same_step(groups[-1], item, groupby, longitude):
            groups[-1].append(item)
        else:
            groups.append([item])
    return tuple(DateGroup(tuple(g), solar_day(g[0].datetime, longitude)) for g in groups)


def _same_step(group: list[Acquisition], item: Acquisition, groupby: str, lon: float) -> bool:
    if groupby == "solar_day":
        return solar_day(group[0].datetime, lon) == solar_day(item.datetime, lon)
    return item.datetime - group[-1].datetime < OVERPASS_GAP


def _aware(moment: datetime) -> datetime:
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment
