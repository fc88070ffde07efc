"""s2raster.statistics with a fake Statistical API: the table, count-0 rows, the cache,
the cost limit before any request, concurrency, failures, synthetic answers."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import box

import s2raster
from s2raster.errors import CostLimitError, InputError, ResponseError
from s2raster.testing import FakeStatistics
from s2raster.zonal import STATS

FIELDS = [
    box(13.830, 45.860, 13.836, 45.864),
    box(13.850, 45.870, 13.853, 45.873),
    box(13.860, 45.880, 13.8601, 45.8801),  # about 8 x 11 m: maybe no pixel centre inside
]
TIME = "2024-06-01/2024-06-30"


def run(fake: FakeStatistics, **kwargs: object) -> pd.DataFrame:
    options: dict[str, object] = {"interval": "P10D", "cache": False, **kwargs}
    zones = options.pop("zones", FIELDS[:2])
    what = options.pop("what", "NDVI")
    return s2raster.statistics(zones, TIME, what, fetch=fake, **options)  # type: ignore[arg-type]


def test_the_table_is_zonal_stats_shaped() -> None:
    fake = FakeStatistics(fill=0.7)
    frame = run(fake, what=["NDVI", "B04"])
    assert list(frame.columns) == ["zone", "time", "band", *STATS]
    assert len(frame) == 2 * 3 * 2
    assert frame["time"].dtype == np.dtype("datetime64[ns]")
    assert frame["count"].dtype == np.int64
    assert list(frame["time"].iloc[:6:2].dt.day) == [1, 11, 21]
    assert (frame["mean"] == 0.7).all()
    assert (frame["median"] == 0.7).all()
    assert (frame["valid_fraction"] == 1.0).all()
    requests = s2raster.plan_statistics(FIELDS[:2], TIME, ["NDVI", "B04"], interval="P10D")
    assert frame.groupby("zone")["count"].first().tolist() == [r.pixels for r in requests]
    assert len(fake.calls) == 2
    assert frame.attrs["synthetic"] == 0


def test_intervals_without_data_are_count_zero_rows() -> None:
    fake = FakeStatistics(missing=("2024-06-11T00:00:00Z",))
    frame = run(fake)
    middle = frame[frame.time == pd.Timestamp("2024-06-11")]
    assert len(middle) == 2
    assert (middle["count"] == 0).all()
    assert middle["mean"].isna().all()


def test_ids_from_a_column_and_extra_columns() -> None:
    frame_in = gpd.GeoDataFrame({"field": ["north", "south"]}, geometry=FIELDS[:2], crs=4326)
    fake = FakeStatistics()
    frame = run(
        fake,
        zones=frame_in,
        id_column="field",
        stats=["mean", "count", "pixels"],
        percentiles=(10, 90),
    )
    assert list(frame.columns) == ["zone", "time", "band", "mean", "count", "pixels", "p10", "p90"]
    assert list(dict.fromkeys(frame.zone)) == ["north", "south"]
    assert fake.calls[0].percentiles == (10.0, 50.0, 90.0)


def test_a_zone_without_pixel_centres_is_not_sent() -> None:
    fake = FakeStatistics()
    requests = s2raster.plan_statistics(FIELDS, TIME, "NDVI", interval="P10D")
    frame = run(fake, zones=FIELDS)
    empty = [r for r in requests if r.pixels == 0]
    assert len(fake.calls) == len(FIELDS) - len(empty)
    for request in empty:
        assert (frame[frame.zone == request.zone]["count"] == 0).all()


def test_answers_are_cached(tmp_path: Path) -> None:
    first, second = FakeStatistics(), FakeStatistics()
    usage = s2raster.LoadStats()
    a = run(first, cache=tmp_path, usage=usage)
    assert usage.requests == 2
    assert len(list(tmp_path.glob("??/*.stats.json"))) == 2
    usage = s2raster.LoadStats()
    b = run(second, cache=tmp_path, usage=usage)
    assert second.calls == []
    assert (usage.cache_hits, usage.processing_units_spent) == (2, 0.0)
    pd.testing.assert_frame_equal(a, b)


def test_synthetic_answers_skip_the_default_cache_but_not_a_named_one(tmp_path: Path) -> None:
    run(FakeStatistics(synthetic=True), cache=True)
    default = Path(s2raster.cache.default_directory())
    assert not list(default.glob("??/*.stats.json"))
    frame = run(FakeStatistics(synthetic=True), cache=tmp_path)
    assert frame.attrs["synthetic"] == 1
    assert len(list(tmp_path.glob("??/*.stats.json"))) == 2


def test_the_cost_limit_is_checked_before_any_request() -> None:
    fake = FakeStatistics()
    requests = s2raster.plan_statistics(FIELDS[:2], TIME, "NDVI", interval="P10D")
    total = sum(r.estimated_pu for r in requests)
    with pytest.raises(CostLimitError, match="above max_pu"):
        run(fake, max_pu=total * 0.9)
    assert fake.calls == []
    usage = s2raster.LoadStats()
    run(fake, max_pu=total * 1.01, usage=usage)
    assert usage.processing_units_spent == pytest.approx(total)


def test_requests_run_in_parallel_within_concurrency() -> None:
    fake = FakeStatistics(delay=0.05)
    zones = [box(13.83 + 0.01 * k, 45.86, 13.835 + 0.01 * k, 45.865) for k in range(8)]
    seen: list[object] = []
    run(fake, zones=zones, concurrency=3, progress=lambda r: seen.append(r.zone))
    assert 1 < fake.max_in_flight <= 3
    assert sorted(seen) == list(range(8))  # type: ignore[type-var]


def test_a_failed_request_stops_the_job() -> None:
    fake = FakeStatistics(fail_zone=0, delay=0.02)
    zones = [box(13.83 + 0.01 * k, 45.86, 13.835 + 0.01 * k, 45.865) for k in range(6)]
    with pytest.raises(ResponseError, match="fake failure"):
        run(fake, zones=zones, concurrency=1)
    assert len(fake.calls) == 1


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"stats": ["mode"]}, "unknown statistic"),
        ({"interval": "PT1H"}, "ISO 8601 period"),
        ({"percentiles": (150,)}, "0 to 100"),
        ({"histogram": (0, 0, 1)}, "bins >= 1"),
        ({"concurrency": 0}, "concurrency"),
        ({"resolution": -1}, "resolution"),
    ],
)
def test_bad_arguments_are_refused_before_any_request(
    kwargs: dict[str, object], message: str
) -> None:
    fake = FakeStatistics()
    with pytest.raises(InputError, match=message):
        run(fake, **kwargs)
    assert fake.calls == []


def test_histograms_are_a_column_with_edges_in_attrs() -> None:
    frame = run(FakeStatistics(), histogram=(4, 0, 1))
    assert "histogram" in frame.columns
    assert frame.attrs["histogram_edges"] == [0.0, 0.25, 0.5, 0.75, 1.0]
