"""How the Statistical API cuts ``aggregation.timeRange`` into ``aggregationInterval`` steps.

The documented rule (https://documentation.dataspace.copernicus.eu/APIs/SentinelHub/Statistical.html):
intervals of the ISO 8601 period ``of`` (at least one day; period OR time designators,
not both) from ``timeRange.from``; when the range is not a whole number of them, the last,
shorter interval is dropped (``SKIP``, the default), cut at ``timeRange.to`` (``SHORTEN``)
or kept whole past it (``EXTEND``). Months step from the start date, the day clamped to the
month's length (Jan 31 + P1M = Feb 29 in 2024).
"""

from __future__ import annotations

import calendar
import re
from datetime import datetime, timedelta

from s2raster.emulator.request import bad_payload

BEHAVIOURS = ("SKIP", "SHORTEN", "EXTEND")
_PERIOD = re.compile(r"^P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?$")
#: More intervals than this in one request are refused.
MAX_INTERVALS = 3660


def parse_period(text: object) -> tuple[int, int]:
    """``(months, days)`` of an ISO 8601 period of whole days, weeks, months, years."""
    path = "aggregation->aggregationInterval->of"
    match = _PERIOD.match(text) if isinstance(text, str) else None
    if isinstance(text, str) and "T" in text.upper():
        raise bad_payload(
            f"Invalid aggregation interval {text!r}: the interval should be at least one day "
            "long (e.g. P5D, P30D); use the period OR the time designator, not both.",
            path,
        )
    if match is None or not any(match.groups()):
        raise bad_payload(
            f"Invalid aggregation interval {text!r}: give e.g. P1D, P10D or P1M.", path
        )
    years, months, weeks, days = (int(g or 0) for g in match.groups())
    total_months, total_days = years * 12 + months, weeks * 7 + days
    if total_months == 0 and total_days < 1:
        raise bad_payload(f"Invalid aggregation interval {text!r}: at least one day.", path)
    return total_months, total_days


def split(
    start: datetime, end: datetime, period: tuple[int, int], behaviour: str = "SKIP"
) -> list[tuple[datetime, datetime]]:
    """The intervals of ``[start, end]``."""
    found: list[tuple[datetime, datetime]] = []
    k = 0
    while True:
        lo, hi = _add(start, period, k), _add(start, period, k + 1)
        if lo >= end:
            return found
        if hi > end:
            if behaviour == "SHORTEN":
                found.append((lo, end))
            elif behaviour == "EXTEND":
                found.append((lo, hi))
            return found
        found.append((lo, hi))
        k += 1
        if k > MAX_INTERVALS:
            raise bad_payload(
                f"Too many aggregation intervals (more than {MAX_INTERVALS}): use a longer "
                "aggregationInterval or a shorter timeRange.",
                "aggregation->aggregationInterval",
            )


def _add(start: datetime, period: tuple[int, int], times: int) -> datetime:
    months, days = period[0] * times, period[1] * times
    year, month = divmod(start.month - 1 + months, 12)
    year, month = start.year + year, month + 1
    day = min(start.day, calendar.monthrange(year, month)[1])
    return start.replace(year=year, month=month, day=day) + timedelta(days=days)
