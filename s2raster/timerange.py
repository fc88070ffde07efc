"""Time ranges: from what people type to a pair of UTC datetimes the Process API accepts.

:func:`parse_time` accepts ``"2024-06-01/2024-06-30"``, a pair of strings, dates or datetimes,
or a single date (that whole day). A date-only end is inclusive: it means the end of that day
(``23:59:59``, as sentinelhub-py and the Sentinel Hub examples write it). Naive datetimes are
UTC; aware ones are converted to UTC.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date, datetime, timezone
from datetime import time as clock

from s2raster.errors import InputError

TimeLike = str | date | datetime
TimeInput = str | date | Sequence[TimeLike]

EXAMPLE = '"2024-06-01/2024-06-30" or ("2024-06-01", "2024-06-30T12:00:00Z")'
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_END_OF_DAY = clock(23, 59, 59)


def parse_time(time: TimeInput) -> tuple[datetime, datetime]:
    """Parse a time range into ``(start, end)``: timezone-aware UTC datetimes, start <= end.

    Accepts ``"START/END"``, a pair ``(start, end)`` of ISO strings, dates or datetimes, or
    one date (``"2024-06-01"``: that whole day). A date-only end means the end of that day.
    Raises :class:`~s2raster.errors.InputError` with an example of the right form.
    """
    start_raw, end_raw = _split(time)
    start = _to_utc(start_raw, end=False)
    end = _to_utc(end_raw, end=True)
    if start > end:
        raise InputError(
            f"time range starts after it ends ({format_time(start)} > {format_time(end)}); "
            f"give the start first, e.g. {EXAMPLE}"
        )
    return start, end


def format_time(moment: datetime) -> str:
    """ISO 8601 in UTC with a ``Z`` suffix, exactly as sentinelhub-py serialises it."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


def _split(value: TimeInput) -> tuple[TimeLike, TimeLike]:
    if isinstance(value, str):
        parts = value.split("/")
        if len(parts) == 1:
            return _single(parts[0].strip())
        if len(parts) == 2 and all(p.strip() for p in parts):
            return parts[0].strip(), parts[1].strip()
        raise InputError(f"cannot read time range {value!r}; give e.g. {EXAMPLE}")
    if isinstance(value, date):
        return _single(value)
    if isinstance(value, Sequence) and len(value) == 2:
        return value[0], value[1]
    raise InputError(f"cannot read time range {value!r}; give e.g. {EXAMPLE}")


def _single(value: TimeLike) -> tuple[TimeLike, TimeLike]:
    """One date means that whole day; one instant is not a range."""
    if isinstance(value, datetime) or (isinstance(value, str) and not _DATE.match(value)):
        raise InputError(
            f"cannot read time range {value!r}: give a start and an end, e.g. {EXAMPLE}"
        )
    return value, value


def _to_utc(value: object, *, end: bool) -> datetime:
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        moment = datetime.combine(value, _END_OF_DAY if end else clock())
    elif isinstance(value, str):
        moment = _parse_string(value.strip(), end=end)
    else:
        raise InputError(
            f"cannot read {value!r} as a time: give an ISO string, a date or a datetime, "
            f"e.g. {EXAMPLE}"
        )
    if moment.tzinfo is None or moment.utcoffset() is None:
        return moment.replace(tzinfo=timezone.utc)
    try:
        return moment.astimezone(timezone.utc)
    except OverflowError as exc:
        raise InputError(f"time {value!r} is out of range; give e.g. {EXAMPLE}") from exc


def _parse_string(text: str, *, end: bool) -> datetime:
    try:
        if _DATE.match(text):
            day = date.fromisoformat(text)
            return datetime.combine(day, _END_OF_DAY if end else clock())
        if text[-1:] in ("Z", "z"):
            text = text[:-1] + "+00:00"
        moment = datetime.fromisoformat(text)
    except (ValueError, OverflowError) as exc:
        raise InputError(f"cannot read {text!r} as a time ({exc}); give e.g. {EXAMPLE}") from exc
    return moment
