"""parse_time: the forms people type, UTC, inclusive date-only ends, helpful errors."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from s2raster.errors import InputError
from s2raster.timerange import format_time, parse_time

UTC = timezone.utc


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2024-06-01/2024-06-30", (utc(2024, 6, 1), utc(2024, 6, 30, 23, 59, 59))),
        (" 2024-06-01 / 2024-06-30 ", (utc(2024, 6, 1), utc(2024, 6, 30, 23, 59, 59))),
        (("2024-06-01", "2024-06-30"), (utc(2024, 6, 1), utc(2024, 6, 30, 23, 59, 59))),
        (["2024-06-01", "2024-06-01"], (utc(2024, 6, 1), utc(2024, 6, 1, 23, 59, 59))),
        ("2024-06-01", (utc(2024, 6, 1), utc(2024, 6, 1, 23, 59, 59))),
        (date(2024, 6, 1), (utc(2024, 6, 1), utc(2024, 6, 1, 23, 59, 59))),
        ((date(2024, 6, 1), date(2024, 6, 3)), (utc(2024, 6, 1), utc(2024, 6, 3, 23, 59, 59))),
        (
            ("2024-06-01T10:00:00", "2024-06-01T12:30:00"),
            (utc(2024, 6, 1, 10), utc(2024, 6, 1, 12, 30)),
        ),
        (
            "2024-06-01T10:00:00Z/2024-06-02T00:00:00+02:00",
            (utc(2024, 6, 1, 10), utc(2024, 6, 1, 22)),
        ),
        (
            (datetime(2024, 6, 1, 10), datetime(2024, 6, 1, 11)),
            (utc(2024, 6, 1, 10), utc(2024, 6, 1, 11)),
        ),
        (
            (datetime(2024, 6, 1, 10, tzinfo=timezone(timedelta(hours=-3))), "2024-06-02"),
            (utc(2024, 6, 1, 13), utc(2024, 6, 2, 23, 59, 59)),
        ),
        # a date-only end is inclusive even when the start has a time
        (
            ("2024-06-01T23:00:00", date(2024, 6, 1)),
            (utc(2024, 6, 1, 23), utc(2024, 6, 1, 23, 59, 59)),
        ),
    ],
)
def test_accepted_forms(value: object, expected: tuple[datetime, datetime]) -> None:
    start, end = parse_time(value)  # type: ignore[arg-type]
    assert (start, end) == expected
    assert start.tzinfo is not None
    assert start.utcoffset() == timedelta(0)
    assert end.tzinfo is not None
    assert end.utcoffset() == timedelta(0)


@pytest.mark.parametrize(
    "value",
    [
        "2024-06-30/2024-06-01",
        ("2024-06-02T00:00:00", "2024-06-01T23:59:59"),
        "",
        "/",
        "2024-06-01/",
        "/2024-06-01",
        "2024-06-01/2024-06-02/2024-06-03",
        "June 2024",
        "2024-13-01/2024-12-01",
        "2024-02-30/2024-03-01",
        ("2024-06-01",),
        ("2024-06-01", "2024-06-02", "2024-06-03"),
        ("2024-06-01", 5),
        "2024-06-01T10:00:00",
        datetime(2024, 6, 1, 10),
        42,
        None,
    ],
)
def test_refused_with_example(value: object) -> None:
    with pytest.raises(InputError, match="2024-06-01/2024-06-30"):
        parse_time(value)  # type: ignore[arg-type]


def test_start_after_end_names_both() -> None:
    with pytest.raises(InputError, match="starts after it ends") as info:
        parse_time("2024-06-30/2024-06-01")
    assert "2024-06-30T00:00:00Z" in str(info.value)


def test_format_time_is_sentinelhub_style() -> None:
    assert format_time(utc(2024, 6, 30, 23, 59, 59)) == "2024-06-30T23:59:59Z"
    assert format_time(datetime(2024, 6, 1)) == "2024-06-01T00:00:00Z"
    east = datetime(2024, 6, 1, 2, tzinfo=timezone(timedelta(hours=2)))
    assert format_time(east) == "2024-06-01T00:00:00Z"


days = st.dates(min_value=date(1990, 1, 1), max_value=date(2100, 12, 31))


@given(days, days)
def test_any_two_dates(a: date, b: date) -> None:
    if a > b:
        with pytest.raises(InputError):
            parse_time((a, b))
        return
    for value in ((a, b), (a.isoformat(), b.isoformat()), f"{a}/{b}"):
        start, end = parse_time(value)
        assert start == utc(a.year, a.month, a.day)
        assert end == utc(b.year, b.month, b.day, 23, 59, 59)


naive = st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2100, 1, 1))


@given(naive, naive)
def test_naive_datetimes_are_utc(a: datetime, b: datetime) -> None:
    if a > b:
        a, b = b, a
    start, end = parse_time((a, b))
    assert start == a.replace(tzinfo=UTC)
    assert end == b.replace(tzinfo=UTC)
    assert parse_time((a.isoformat(), b.isoformat())) == (start, end)
    assert parse_time(f"{format_time(a)}/{format_time(b)}") == (start, end)


@given(st.datetimes(timezones=st.timezones(), min_value=datetime(1990, 1, 2)))
def test_aware_datetimes_convert_to_utc(moment: datetime) -> None:
    start, end = parse_time((moment, moment))
    assert start == end == moment.astimezone(UTC)
    assert start.utcoffset() == timedelta(0)


@given(st.text(max_size=40))
def test_arbitrary_text_parses_or_raises_input_error(text: str) -> None:
    try:
        start, end = parse_time(text)
    except InputError:
        return
    assert start <= end
