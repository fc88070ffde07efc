"""Time series end to end over real HTTP: sentinelhub-py -> the emulator -> (time, band, y, x).

Catalog dates, one Process request per (date, tile) holding its date only, values per date,
cloud masks, composites, per-date files and the cached rerun, all against
``s2raster.emulator.Emulator`` on loopback (fixture ``emulator``).
"""

from __future__ import annotations

import warnings
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import rasterio
import xarray as xr
from sentinelhub.api.catalog import SentinelHubCatalog
from sentinelhub.config import SHConfig
from sentinelhub.constants import CRS
from sentinelhub.geometry import BBox

from s2raster._load import LoadStats, load
from s2raster.acquisitions import dates, plan_series
from s2raster.clouds import CLOUD_CLASSES, mask_clouds
from s2raster.composite import composite
from s2raster.errors import NoDataError
from s2raster.export import to_geotiff
from s2raster.grid import Grid
from s2raster.plan import make_plan

BBOX = (14.50, 46.05, 14.52, 46.06)  # about 157 x 113 px at 10 m near Ljubljana
TIME = "2024-06-01/2024-07-15"
PROCESS = "/api/v1/process"
CATALOG = "/api/v1/catalog"


@pytest.fixture
def config(emulator: Any) -> SHConfig:
    cfg: SHConfig = emulator.config()
    cfg.download_sleep_time = 0.01
    return cfg


def served(emulator: Any, since: int, prefix: str) -> list[Any]:
    return [r for r in emulator.log.snapshot()[since:] if r.path.startswith(prefix)]


def test_dates_are_the_catalogs_and_cost_nothing(emulator: Any, config: SHConfig) -> None:
    before = len(emulator.log)
    frame = dates(BBOX, TIME, config=config, groupby=None)
    assert served(emulator, before, PROCESS) == []
    assert served(emulator, before, CATALOG)  # the catalog was asked
    assert frame.attrs["synthetic"] is True
    plan = make_plan(BBOX, TIME, ["B04"])
    catalog = SentinelHubCatalog(config=config)
    items = list(
        catalog.search(
            "sentinel-2-l2a",
            bbox=BBox(plan.grid.lonlat_bounds, crs=CRS.WGS84),
            time=("2024-06-01T00:00:00Z", "2024-07-15T23:59:59Z"),
        )
    )
    stamps = sorted(datetime.fromisoformat(i["properties"]["datetime"][:-1]) for i in items)
    assert [t.to_pydatetime() for t in frame["time"]] == stamps
    assert len(frame) >= 5  # a 5-day revisit over six weeks


def test_series_one_request_per_date_and_tile_with_that_dates_pixels(
    emulator: Any, config: SHConfig
) -> None:
    stats = LoadStats()
    before = len(emulator.log)
    da = load(
        BBOX, TIME, ["B04", "B08", "SCL"], config=config, cache=False, groupby="solar_day",
        tile_px=100, stats=stats,
    )  # fmt: skip
    n_dates, n_tiles = da.sizes["time"], 4
    assert served(emulator, before, PROCESS) == []  # lazy
    values = da.values
    process = [r for r in served(emulator, before, PROCESS) if r.status == 200]
    assert len(process) == stats.requests == n_dates * n_tiles
    assert da.attrs["synthetic"] == 1
    assert np.isfinite(values).any()
    # each date holds the pixels of its own acquisitions: the same as a mosaic of exactly
    # that date's timeRange, and different from the other dates
    series = plan_series(make_plan(BBOX, TIME, ["B04"]), "solar_day", config=config)
    assert [np.datetime64(d.time, "ns") for d in series.dates] == list(da["time"].values)
    for t in (0, n_dates - 1):
        step = series.dates[t]
        one = load(
            BBOX, (step.time_from, step.time_to), ["B04", "B08", "SCL"], config=config,
            cache=False,
        )  # fmt: skip
        np.testing.assert_array_equal(one.values, values[t])
    assert not np.array_equal(values[0, 0], values[1, 0], equal_nan=True)


def test_time_ranges_the_emulator_received(emulator: Any, config: SHConfig) -> None:
    before = len(emulator.log)
    da = load(BBOX, TIME, ["B04"], config=config, cache=False, groupby="time")
    da.compute()
    process = [r for r in served(emulator, before, PROCESS) if r.status == 200]
    ranges = [r.time_range for r in process]
    assert all(r is not None for r in ranges)
    received = {(np.datetime64(a, "ms"), np.datetime64(b, "ms")) for a, b in ranges}
    # One range per step: from its earliest acquisition to just after its latest (the tiles
    # of one pass are seconds apart), each acquisition in exactly one range.
    assert sorted(a for a, _ in received) == [np.datetime64(t, "ms") for t in da["time"].values]
    items = dates(BBOX, TIME, config=config, groupby=None)
    stamps = items["time"].to_numpy().astype("datetime64[ms]")
    assert all(sum(a <= t < b for a, b in received) == 1 for t in stamps)
    for a, b in received:
        assert b == max(t for t in stamps if a <= t < b) + np.timedelta64(1, "ms")


def test_max_cloud_keeps_items_at_the_value(emulator: Any, config: SHConfig) -> None:
    everything = dates(BBOX, TIME, config=config, groupby=None)
    cover = sorted(everything["cloud_cover"])
    threshold = cover[len(cover) // 2]  # a cover the catalog has: kept when equal
    kept = dates(BBOX, TIME, config=config, groupby=None, max_cloud=threshold)
    assert (kept["cloud_cover"] <= threshold).all()
    assert threshold in set(kept["cloud_cover"])
    assert len(kept) == sum(c <= threshold for c in cover)
    da = load(BBOX, TIME, ["B04"], config=config, groupby="time", max_cloud=threshold)
    steps = dates(BBOX, TIME, config=config, groupby="time", max_cloud=threshold)
    assert da.sizes["time"] == len(steps)
    assert steps["acquisitions"].sum() == len(kept)


def test_no_acquisition_in_a_series_is_an_error_before_any_pu(
    emulator: Any, config: SHConfig
) -> None:
    before = len(emulator.log)
    with pytest.raises(NoDataError, match="widen the time range"):
        load(BBOX, "2031-06-01/2031-06-30", ["B04"], config=config, groupby="solar_day")
    assert served(emulator, before, PROCESS) == []


def test_cloud_mask_composite_and_files(emulator: Any, config: SHConfig, tmp_path: Path) -> None:
    stats = LoadStats()
    raw = load(
        BBOX, TIME, ["B04", "B08", "SCL"], config=config, cache=tmp_path, groupby="solar_day"
    )
    masked = load(
        BBOX, TIME, ["B04", "B08"], config=config, cache=tmp_path, groupby="solar_day",
        cloud_mask=True, stats=stats,
    )  # fmt: skip
    assert list(masked["band"].values) == ["B04", "B08"]
    scl = raw.sel(band="SCL").values
    cloudy = np.isin(scl, CLOUD_CLASSES)
    values = masked.values
    assert np.isnan(values[:, 0][cloudy]).all()
    clear = ~cloudy & np.isfinite(scl)
    np.testing.assert_array_equal(values[:, 0][clear], raw.sel(band="B04").values[clear])
    np.testing.assert_allclose(masked["clear_fraction"].values, clear.mean(axis=(1, 2)))
    assert stats.requests == 0  # the same requests as the raw load: all from the cache
    np.testing.assert_array_equal(mask_clouds(raw).values, values)

    median = composite(masked, "median")
    path = to_geotiff(median, tmp_path / "median.tif")
    assert isinstance(path, Path)
    with rasterio.open(path) as src:
        assert src.tags()["S2RASTER_SYNTHETIC"] == "1"
        assert src.tags()["composite_dates"] == str(masked.sizes["time"])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # numpy's, on all-NaN pixels
            expected = np.nanmedian(values[:, 0], axis=0)
        np.testing.assert_allclose(src.read(1), expected)

    files = to_geotiff(masked, tmp_path / "masked_{time}.tif")
    assert isinstance(files, list)
    assert len(files) == masked.sizes["time"]
    assert all(p.is_file() for p in files)


def test_cached_rerun_spends_nothing(emulator: Any, config: SHConfig, tmp_path: Path) -> None:
    first, again = LoadStats(), LoadStats()
    kwargs: dict[str, Any] = {"config": config, "cache": tmp_path, "groupby": "solar_day"}
    load(BBOX, TIME, ["B04", "B08"], stats=first, **kwargs).compute()
    before = len(emulator.log)
    rerun = load(BBOX, TIME, ["B04", "B08"], stats=again, max_pu=0.001, **kwargs)
    rerun.compute()  # max_pu counts only what is not cached: nothing
    assert first.requests == rerun.sizes["time"]
    assert (again.requests, again.cache_hits) == (0, rerun.sizes["time"])
    assert served(emulator, before, PROCESS) == []


def test_series_plan_cost_counts_every_date(config: SHConfig) -> None:
    plan = make_plan(BBOX, TIME, ["B04", "B08"], tile_px=100)
    series = plan_series(plan, "solar_day", config=config)
    assert len(series.requests) == len(series.dates) * 4
    assert series.estimated_pu == pytest.approx(len(series.dates) * plan.estimated_pu)


def test_series_round_trips_through_netcdf(config: SHConfig, tmp_path: Path) -> None:
    da = load(BBOX, TIME, ["B04", "SCL"], config=config, cache=False, groupby="solar_day")
    masked = mask_clouds(da)
    masked.to_netcdf(tmp_path / "s.nc")
    back = xr.open_dataarray(tmp_path / "s.nc", decode_coords="all")
    assert back.rio.crs.to_epsg() == 32633
    assert back.rio.transform() == Grid.from_bbox(BBOX, resolution=10).transform
    np.testing.assert_array_equal(back.values, masked.values)


def test_every_catalog_page_is_read(emulator: Any, config: SHConfig) -> None:
    before = len(emulator.log)
    frame = dates(BBOX, "2022-01-01/2024-06-30", config=config, groupby=None)
    pages = [r for r in served(emulator, before, CATALOG) if r.status == 200]
    assert len(frame) > 100  # more than one page of 100 items
    assert len(pages) == -(-len(frame) // 100)
    assert frame["time"].is_monotonic_increasing


def test_overpass_times_follow_longitude(ground_following: SHConfig) -> None:
    """Sentinel-2 crosses at about 10:30 local solar time, so the UTC time depends on the
    longitude: an overpass near the antimeridian is near UTC midnight."""
    east = dates((179.40, -16.80, 179.41, -16.79), TIME, config=ground_following, groupby=None)
    assert set(east["time"].dt.hour) <= {21, 22, 23, 0}
    west = dates((-179.41, -16.80, -179.40, -16.79), TIME, config=ground_following, groupby=None)
    assert set(west["time"].dt.hour) <= {21, 22, 23, 0}
    assert (west["solar_day"] == west["time"].dt.normalize()).all()  # 11 h behind: same day


# -- the places the emulator of issue 8 pins (s2raster.emulator.catalog's docstring; its
#    times and footprints, pinned by tests/emulator/test_emulator_timeseries.py) ---------

NY_ALESUND = (11.92, 78.915, 11.94, 78.925)  # two passes on one solar day, 50 min apart
BERING = (-157.01, 78.995, -156.99, 79.005)  # two passes of one solar day on two UTC days
KAMCHATKA = (169.90, 59.56, 169.92, 59.57)  # one pass across UTC midnight, two tiles
FIJI = (178.39, -18.11, 178.41, -18.09)  # UTC date = the solar day before


@pytest.fixture
def ground_following(config: SHConfig) -> SHConfig:
    """The emulator's overpasses follow the ground (10:30 local solar time: 22 UTC at Fiji)."""
    frame = dates(FIJI, "2024-06-01/2024-06-06", config=config, groupby=None)
    assert (frame["time"].dt.hour == 22).all()
    return config


def ms(stamp: str) -> np.datetime64:
    return np.datetime64(stamp, "ns")


def test_two_passes_on_one_solar_day(ground_following: SHConfig, emulator: Any) -> None:
    config = ground_following
    passes = [ms("2024-06-01T12:39:12.974"), ms("2024-06-01T13:29:02.946")]
    items = dates(NY_ALESUND, "2024-06-01", config=config, groupby=None)
    assert list(items["time"].values) == passes
    by_day = load(NY_ALESUND, "2024-06-01", ["B04", "SCL"], config=config, groupby="solar_day")
    by_pass = load(NY_ALESUND, "2024-06-01", ["B04", "SCL"], config=config, groupby="time")
    assert list(by_day["time"].values) == passes[:1]
    assert list(by_pass["time"].values) == passes
    values = by_pass.values
    assert not np.array_equal(values[0], values[1], equal_nan=True)
    for t, start in enumerate(passes):
        begin = start.astype("datetime64[us]").item().replace(tzinfo=timezone.utc)
        one = load(
            NY_ALESUND, (begin, begin + timedelta(milliseconds=1)), ["B04", "SCL"],
            config=config, cache=False,
        )  # fmt: skip
        np.testing.assert_array_equal(one.values, values[t])


def test_one_solar_day_on_two_utc_days(ground_following: SHConfig, tmp_path: Path) -> None:
    da = load(
        BERING, "2024-06-02/2024-06-03", ["B04"], config=ground_following, groupby="solar_day"
    )
    steps = dates(BERING, "2024-06-02/2024-06-03", config=ground_following)
    day = steps[steps["solar_day"] == np.datetime64("2024-06-02")].iloc[0]
    assert day["time"] == ms("2024-06-02T23:53:52.575")
    assert (day["acquisitions"], day["tiles"]) == (2, "04XEN")
    assert ms("2024-06-02T23:53:52.575") in set(da["time"].values)
    passes = load(BERING, "2024-06-02/2024-06-03", ["B04"], config=ground_following, groupby="time")
    assert passes.sizes["time"] == 2 * da.sizes["time"]
    names = [p.name for p in to_geotiff(passes, tmp_path / "b_{time}.tif")]  # type: ignore[union-attr]
    assert "b_2024-06-02T235352.tif" in names  # two steps share that UTC date
    assert "b_2024-06-03.tif" in names


def test_one_pass_across_utc_midnight(ground_following: SHConfig, emulator: Any) -> None:
    time = "2024-06-02/2024-06-03"
    da = load(KAMCHATKA, time, ["B04"], config=ground_following, groupby="solar_day")
    step = int(np.flatnonzero(da["time"].values == ms("2024-06-02T23:59:45.492"))[0])
    assert set(str(da["tiles"].values[step]).split(",")) == {"59VMG", "59VMF"}
    series = plan_series(make_plan(KAMCHATKA, time, ["B04"]), "solar_day", config=ground_following)
    group = series.dates[step]
    assert group.time_from == datetime(2024, 6, 2, 23, 59, 45, 492000, tzinfo=timezone.utc)
    assert group.time_to == datetime(2024, 6, 3, 0, 0, 0, 232000, tzinfo=timezone.utc)
    one = load(KAMCHATKA, (group.time_from, group.time_to), ["B04"], config=ground_following)
    np.testing.assert_array_equal(one.values, da.isel(time=step).values)


def test_the_solar_day_west_of_the_antimeridian(ground_following: SHConfig) -> None:
    frame = dates(FIJI, "2024-06-01/2024-06-12", config=ground_following, groupby=None)
    assert (frame["time"].dt.hour == 22).all()
    assert (frame["solar_day"] == frame["time"].dt.normalize() + np.timedelta64(1, "D")).all()
