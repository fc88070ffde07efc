"""Time series with a fake fetch: grouping, one request per (date, tile) with its own
timeRange, coordinates, values per date, chunks, cost, empty steps and empty searches."""

from __future__ import annotations

import itertools
import warnings
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import xarray as xr
from hypothesis import given
from hypothesis import strategies as st
from sentinelhub.config import SHConfig

from s2raster._load import LoadStats, load
from s2raster.acquisitions import dates, plan_series
from s2raster.cdse import build_request
from s2raster.clouds import valid_fraction
from s2raster.errors import CostLimitError, InputError, NoDataError, NoDataWarning
from s2raster.evalscript import payload
from s2raster.fetch import Acquisition
from s2raster.grouping import (
    OVERPASS_GAP,
    DateGroup,
    check_groupby,
    group_acquisitions,
    solar_day,
)
from s2raster.plan import make_plan
from s2raster.testing import FakeFetch, date_code, date_values

TIME = "2024-06-01/2024-06-30"
LJUBLJANA = (13.80, 45.80, 13.81, 45.806)  # 80 x 69 px at 10 m
FIJI_EAST = (179.50, -16.80, 179.51, -16.79)  # just west of the antimeridian (UTC+11 h)
SAMOA_WEST = (-179.51, -16.80, -179.50, -16.79)  # just east of it (UTC-11 h)


def acq(stamp: str, cloud: float | None = 10.0, tile: str = "33TVM") -> Acquisition:
    moment = datetime.fromisoformat(stamp)
    return Acquisition(f"S2A_MSIL2A_{moment:%Y%m%dT%H%M%S}_T{tile}_", moment, cloud, tile)


#: Two overpasses near Ljubljana, the first on two tiles 5.5 s apart, milliseconds kept.
TWO_DATES = (
    acq("2024-06-01T10:00:00.024", 10.0, "33TVM"),
    acq("2024-06-01T10:00:05.500", 30.0, "33TVL"),
    acq("2024-06-06T10:01:00.000", None, "33TVM"),
)


def lazy(
    bbox: tuple[float, float, float, float], found: tuple[Acquisition, ...], **kwargs: Any
) -> tuple[xr.DataArray, FakeFetch]:
    fake = FakeFetch(acquisitions=found, values=date_values)
    da = load(bbox, TIME, ["B04", "B08"], fetch=fake, cache=False, **kwargs)
    return da, fake


# -- grouping ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lon", "hours"), [(0.0, 0), (14.9, 0), (15.0, 1), (179.9, 11), (-179.9, -11), (-7.6, 0)]
)
def test_solar_day_offset_is_odc_stacs(lon: float, hours: int) -> None:
    # odc-stac _convert_to_solar_time: int(longitude / 15) whole hours, toward zero
    moment = datetime(2024, 6, 1, 12, 59)
    assert solar_day(moment, lon) == (moment + timedelta(hours=hours)).date()


def test_one_overpass_across_utc_midnight_is_one_solar_day() -> None:
    # near the antimeridian (UTC+11 h) a 10:30 local overpass is at 23:30 UTC the day
    # before; two tiles of it 5 s apart straddle UTC midnight
    found = (acq("2024-06-01T23:59:58.100"), acq("2024-06-02T00:00:03.200"))
    (group,) = group_acquisitions(found, "solar_day", longitude=179.5)
    assert group.solar_day == date(2024, 6, 2)
    assert group.time == datetime(2024, 6, 1, 23, 59, 58, 100000)
    assert [a.datetime.date() for a in group.acquisitions] == [date(2024, 6, 1), date(2024, 6, 2)]
    by_time = group_acquisitions(found, "time", longitude=179.5)
    assert len(by_time) == 1  # 5 s apart: one overpass


@pytest.mark.parametrize("apart", [timedelta(minutes=50), timedelta(minutes=100)])
def test_two_passes_one_solar_day(apart: timedelta) -> None:
    # S2A and S2B 50 min apart where their swaths overlap; one satellite's next revolution
    first = datetime(2024, 6, 1, 9, 40)
    found = (
        acq(first.isoformat()),
        acq((first + timedelta(seconds=4)).isoformat()),
        acq((first + apart).isoformat()),
    )
    (day,) = group_acquisitions(found, "solar_day", longitude=14.0)
    assert len(day.acquisitions) == 3
    morning, late = group_acquisitions(found, "time", longitude=14.0)
    assert len(morning.acquisitions) == 2
    assert late.time == first + apart


@given(
    st.lists(st.integers(min_value=0, max_value=30 * 24 * 3600), min_size=1, max_size=30),
    st.floats(min_value=-180, max_value=180),
)
def test_grouping_partitions_in_order(seconds: list[int], lon: float) -> None:
    start = datetime(2024, 6, 1)
    found = [acq((start + timedelta(seconds=s)).isoformat()) for s in seconds]
    for groupby in ("solar_day", "time"):
        groups = group_acquisitions(found, groupby, lon)
        flat = [a for g in groups for a in g.acquisitions]
        assert sorted(flat, key=lambda a: a.datetime) == flat
        assert len(flat) == len(found)
        times = [g.time for g in groups]
        assert times == sorted(times)
        assert len(set(times)) == len(times)
        for earlier, later in itertools.pairwise(groups):
            if groupby == "time":
                assert later.time - earlier.acquisitions[-1].datetime >= OVERPASS_GAP
            else:
                assert later.solar_day > earlier.solar_day


def test_date_group_values() -> None:
    group = DateGroup(TWO_DATES[:2], date(2024, 6, 1))
    assert group.cloud_cover == 20.0
    assert group.tiles == "33TVM,33TVL"
    assert group.time_from == datetime(2024, 6, 1, 10, 0, 0, 24000, tzinfo=timezone.utc)
    assert group.time_to == datetime(2024, 6, 1, 10, 0, 5, 501000, tzinfo=timezone.utc)
    assert np.isnan(DateGroup(TWO_DATES[2:], date(2024, 6, 6)).cloud_cover)
    with pytest.raises(InputError):
        DateGroup((), date(2024, 6, 1))


@pytest.mark.parametrize("bad", ["day", "solar-day", 1, "TIME"])
def test_unknown_groupby(bad: object) -> None:
    with pytest.raises(InputError, match=r"groupby must be None.*'solar_day' or 'time'"):
        check_groupby(bad)  # type: ignore[arg-type]
    with pytest.raises(InputError, match="groupby"):
        load(LJUBLJANA, TIME, ["B04"], fetch=FakeFetch(), groupby=bad)  # type: ignore[arg-type]


# -- the series load -------------------------------------------------------------------------


def test_series_dims_coords_and_laziness() -> None:
    da, fake = lazy(LJUBLJANA, TWO_DATES, groupby="solar_day", tile_px=32)
    assert da.dims == ("time", "band", "y", "x")
    assert fake.calls == []  # one catalog search, no pixel yet
    assert len(fake.searches) == 1
    assert da["time"].dtype == np.dtype("datetime64[ns]")
    assert list(da["time"].values) == [
        np.datetime64("2024-06-01T10:00:00.024"),
        np.datetime64("2024-06-06T10:01:00"),
    ]
    np.testing.assert_array_equal(da["cloud_cover"].values, [20.0, np.nan])
    assert list(da["tiles"].values) == ["33TVM,33TVL", "33TVM"]
    assert da.attrs["groupby"] == "solar_day"
    assert da.attrs["acquisitions"] == 3
    assert all(isinstance(v, (str, int, float, tuple)) for v in da.attrs.values())
    assert da.rio.crs.to_epsg() == 32633


def test_one_chunk_per_date_and_tile_with_all_bands() -> None:
    da, _ = lazy(LJUBLJANA, TWO_DATES, groupby="solar_day", tile_px=32)
    assert da.data.chunks == ((1, 1), (2,), (32, 32, 5), (32, 32, 16))
    keys = {k for k in da.data.__dask_graph__() if isinstance(k, tuple) and len(k) == 5}
    assert (da.data.name, 1, 0, 2, 2) in keys
    assert len(keys) == 2 * 3 * 3


def test_each_request_asks_for_its_dates_time_range() -> None:
    da, fake = lazy(LJUBLJANA, TWO_DATES, groupby="solar_day", mosaicking="leastCC")
    da.compute()
    ranges = {(r.query.time_from, r.query.time_to) for r in fake.calls}
    assert ranges == {
        (
            datetime(2024, 6, 1, 10, 0, 0, 24000, tzinfo=timezone.utc),
            datetime(2024, 6, 1, 10, 0, 5, 501000, tzinfo=timezone.utc),
        ),
        (
            datetime(2024, 6, 6, 10, 1, tzinfo=timezone.utc),
            datetime(2024, 6, 6, 10, 1, 0, 1000, tzinfo=timezone.utc),
        ),
    }
    assert {r.query.mosaicking for r in fake.calls} == {"leastCC"}  # orders scenes in a date
    first = min(fake.calls, key=lambda r: r.query.time_from)
    # milliseconds reach the wire: the JSON s2raster builds and the one sentinelhub-py sends
    wanted = {"from": "2024-06-01T10:00:00.024000Z", "to": "2024-06-01T10:00:05.501000Z"}
    assert payload(first)["input"]["data"][0]["dataFilter"]["timeRange"] == wanted
    config = SHConfig(use_defaults=True, sh_base_url="http://127.0.0.1:9")
    sent = build_request(first, config).download_list[0].post_values
    assert sent is not None
    assert sent["input"]["data"][0]["dataFilter"]["timeRange"] == wanted


def test_values_come_from_each_date() -> None:
    da, _ = lazy(LJUBLJANA, TWO_DATES, groupby="time", tile_px=50)
    values = da.values
    for t, moment in enumerate(da["time"].values.astype("datetime64[us]").tolist()):
        assert np.all(values[t, 0] == date_code(moment))
        assert np.all(values[t, 1] == 100_000 + date_code(moment))


def test_solar_day_and_time_grouping_differ_for_two_passes() -> None:
    found = (acq("2024-06-01T09:40:00"), acq("2024-06-01T11:20:00"), acq("2024-06-11T10:30:00"))
    by_day, fake_day = lazy(LJUBLJANA, found, groupby="solar_day")
    by_pass, fake_pass = lazy(LJUBLJANA, found, groupby="time")
    assert by_day.sizes["time"] == 2
    assert by_pass.sizes["time"] == 3
    by_day.compute()
    by_pass.compute()
    assert len(fake_day.calls) == 2
    assert len(fake_pass.calls) == 3


def test_near_the_antimeridian_on_both_sides() -> None:
    east = (acq("2024-06-01T23:29:58", tile="60KWF"), acq("2024-06-02T00:00:02", tile="60KXF"))
    da, _ = lazy(FIJI_EAST, east, groupby="solar_day")
    assert da.sizes["time"] == 1
    assert da["tiles"].item() == "60KWF,60KXF"
    west = (acq("2024-06-01T21:29:58", tile="01KAB"), acq("2024-06-01T23:59:59", tile="01KAC"))
    da, _ = lazy(SAMOA_WEST, west, groupby="solar_day")
    assert da.sizes["time"] == 1


def test_user_time_range_is_authoritative() -> None:
    outside = (acq("2024-05-31T10:00:00"), *TWO_DATES, acq("2024-07-01T10:00:00"))
    da, fake = lazy(LJUBLJANA, outside, groupby="solar_day")
    assert da.sizes["time"] == 2
    da.compute()
    assert min(r.query.time_from for r in fake.calls) >= datetime(2024, 6, 1, tzinfo=timezone.utc)


def test_max_cloud_goes_into_the_search_and_keeps_equal_cover() -> None:
    found = (acq("2024-06-01T10:00", 20.0), acq("2024-06-06T10:00", 20.01), acq("2024-06-11T10:00"))
    da, fake = lazy(LJUBLJANA, found, groupby="solar_day", max_cloud=20)
    assert fake.searches[0].max_cloud == 20.0
    assert list(da["cloud_cover"].values) == [20.0, 10.0]
    empty = FakeFetch(acquisitions=found)
    with pytest.raises(NoDataError, match="at most 5 % cloud cover"):
        load(LJUBLJANA, TIME, ["B04"], fetch=empty, groupby="solar_day", max_cloud=5)
    assert empty.calls == []


def test_no_acquisition_is_an_error_for_a_series() -> None:
    empty = FakeFetch(acquisitions=())
    with pytest.raises(NoDataError, match="widen the time range"):
        load(LJUBLJANA, TIME, ["B04"], fetch=empty, groupby="time")
    with pytest.raises(NoDataError):
        dates(LJUBLJANA, TIME, fetch=empty)
    assert empty.calls == []


def test_an_empty_step_warns_when_computed_and_valid_fraction_says_so() -> None:
    def swath(request: object) -> np.ndarray:
        values = date_values(request)  # type: ignore[arg-type]
        if request.query.time_from.day == 6:  # type: ignore[attr-defined]
            values[:] = np.nan  # outside the swath on that date
        return values

    fake = FakeFetch(acquisitions=TWO_DATES, values=swath)
    da = load(LJUBLJANA, TIME, ["B04"], fetch=fake, cache=False, groupby="solar_day", tile_px=40)
    fraction = valid_fraction(da)
    assert fraction.chunks is not None  # lazy
    with warnings.catch_warnings():
        warnings.simplefilter("error", NoDataWarning)
        da.isel(time=0).compute()  # the full step: no warning
    with pytest.warns(NoDataWarning, match=r"2024-06-06T10:01:00Z.*every pixel is no-data"):
        da.isel(time=1).compute()
    np.testing.assert_array_equal(fraction.values, [1.0, 0.0])


def test_an_empty_mosaic_warns() -> None:
    fake = FakeFetch(values=lambda r: np.full((1, *r.tile.grid.shape), np.nan, np.float32))
    da = load(LJUBLJANA, TIME, ["B04"], fetch=fake, cache=False)
    with pytest.warns(NoDataWarning, match="the mosaic of 2024-06-01"):
        da.compute()


# -- cost ------------------------------------------------------------------------------------


def test_plan_series_counts_dates_times_tiles() -> None:
    plan = make_plan(LJUBLJANA, TIME, ["B04", "B08"], tile_px=32)
    fake = FakeFetch(acquisitions=TWO_DATES)
    series = plan_series(plan, "solar_day", fetch=fake)
    assert len(series.dates) == 2
    assert len(series.requests) == 2 * len(plan.tiles)
    assert series.estimated_pu == pytest.approx(2 * plan.estimated_pu)
    assert series.summary()["dates"] == 2
    assert series.summary()["groupby"] == "solar_day"
    assert plan.summary()["dates"] is None
    assert fake.calls == []
    with pytest.raises(InputError, match="plan_series needs groupby"):
        plan_series(plan, None, fetch=fake)  # type: ignore[arg-type]


def test_max_pu_covers_the_series_and_cached_dates_are_free(tmp_path: Path) -> None:
    plan = make_plan(LJUBLJANA, TIME, ["B04", "B08"])
    one = plan.estimated_pu
    fake = FakeFetch(acquisitions=TWO_DATES, values=date_values)
    with pytest.raises(CostLimitError, match="2 requests not in the cache"):
        load(LJUBLJANA, TIME, ["B04", "B08"], fetch=fake, groupby="time", max_pu=1.5 * one)
    assert fake.calls == []
    stats = LoadStats()
    first = load(LJUBLJANA, TIME, ["B04", "B08"], fetch=fake, groupby="time", cache=tmp_path)
    first.isel(time=0).compute()  # one date now in the cache
    again = load(
        LJUBLJANA, TIME, ["B04", "B08"], fetch=fake, groupby="time", cache=tmp_path,
        max_pu=1.5 * one, stats=stats,
    )  # fmt: skip
    again.compute()
    assert (stats.requests, stats.cache_hits) == (1, 1)


def test_dates_lists_steps_or_items() -> None:
    fake = FakeFetch(acquisitions=TWO_DATES, synthetic=True)
    frame = dates(LJUBLJANA, TIME, fetch=fake)
    assert list(frame.columns) == ["solar_day", "time", "cloud_cover", "tiles", "acquisitions"]
    assert list(frame["acquisitions"]) == [2, 1]
    assert list(frame["tiles"]) == ["33TVM,33TVL", "33TVM"]
    assert frame["time"].dtype == np.dtype("datetime64[ns]")
    assert frame.attrs["synthetic"] is True
    items = dates(LJUBLJANA, TIME, fetch=fake, groupby=None)
    assert len(items) == 3
    assert list(items["cloud_cover"].fillna(-1)) == [10.0, 30.0, -1]
    assert fake.calls == []


def test_the_catalog_gets_the_cloud_filter_and_the_fields(monkeypatch: pytest.MonkeyPatch) -> None:
    from s2raster.cdse import _catalog

    asked: dict[str, Any] = {}

    class Catalog:
        def __init__(self, config: object) -> None:
            self.client = None

        def search(self, collection: str, **kwargs: Any) -> list[dict[str, Any]]:
            asked.update(kwargs, collection=collection)
            return [
                {"id": "S2B_MSIL2A_20240601T100559_N0510_R022_T33TVM_20240601T1",
                 "properties": {"datetime": "2024-06-01T10:05:59.024Z", "eo:cloud_cover": 20}},
            ]  # fmt: skip

    monkeypatch.setattr(_catalog, "SentinelHubCatalog", Catalog)
    query = make_plan(LJUBLJANA, TIME, ["B04"], max_cloud=20).query
    (found,) = _catalog.search(SHConfig(use_defaults=True), None, query, LJUBLJANA)  # type: ignore[arg-type]
    assert asked["filter"] == "eo:cloud_cover <= 20"
    assert asked["collection"] == "sentinel-2-l2a"
    assert asked["fields"] == _catalog.FIELDS
    assert found.datetime == datetime(2024, 6, 1, 10, 5, 59, 24000)  # milliseconds kept
    assert (found.tile, found.cloud_cover) == ("33TVM", 20.0)


def test_an_index_series_and_a_masked_one() -> None:
    fake = FakeFetch(acquisitions=TWO_DATES, values=date_values)
    ndvi = load(LJUBLJANA, TIME, index="NDVI", fetch=fake, cache=False, groupby="solar_day")
    assert ndvi.dims == ("time", "y", "x")
    assert ndvi.sizes["time"] == 2
    assert {r.query.bands for r in fake.calls} == set()  # still lazy
    masked = load(
        LJUBLJANA, TIME, index="NDVI", fetch=fake, cache=False, groupby="solar_day",
        cloud_mask=True,
    )  # fmt: skip
    assert masked.dims == ("time", "y", "x")
    assert "clear_fraction" in masked.coords
    masked.compute()
    assert {r.query.bands for r in fake.calls} == {("B04", "B08", "SCL")}
