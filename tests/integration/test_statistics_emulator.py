"""Local and service statistics agree: s2raster.statistics (the Statistical API, through
sentinelhub-py over HTTP) and s2raster.local_statistics (Process API pixels + zonal_stats)
on the emulator, for the same polygons, dates and cloud mask.

The tolerance, and why: both paths sample the same pixel lattice (the zone's bounds
snapped to the resolution; the Statistical request sends that bbox with the polygon) and
count a pixel when its centre is inside the polygon, so the counts are equal; the values
differ only by float32 rounding (the service's script computes an index in float64 and
writes FLOAT32, the local path computes it in float32): relative 1e-5.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import MultiPolygon, Point, Polygon, box

import s2raster
from s2raster.statscript import JS_INDICES

if TYPE_CHECKING:
    from s2raster.emulator import Emulator

#: rasterio's spurious warning when rasterizing from several threads (see test_zonal.py).
pytestmark = pytest.mark.filterwarnings(
    "ignore:Dataset has no geotransform:rasterio.errors.NotGeoreferencedWarning"
)

HOLED = Point(13.845, 45.866).buffer(0.0025).difference(Point(13.845, 45.866).buffer(0.0008))
FIELDS = gpd.GeoDataFrame(
    {"field": ["holed", "pair", "triangle", "one-hectare"]},
    geometry=[
        HOLED,
        MultiPolygon([box(13.830, 45.860, 13.833, 45.862), box(13.835, 45.861, 13.837, 45.863)]),
        Polygon([(13.850, 45.870), (13.856, 45.871), (13.852, 45.875)]),
        box(13.860, 45.860, 13.8613, 45.8609),
    ],
    crs="EPSG:4326",
)
TIME = "2024-06-01/2024-06-30"
VALUES = ["mean", "median", "std", "min", "max"]


def both(
    emulator: Emulator, what: list[str], **kwargs: object
) -> tuple[pd.DataFrame, pd.DataFrame]:
    common: dict[str, object] = {"id_column": "field", "config": emulator.config(), "cache": False}
    common.update(kwargs)
    service = s2raster.statistics(FIELDS, TIME, what, **common)  # type: ignore[arg-type]
    local = s2raster.local_statistics(FIELDS, TIME, what, **common)  # type: ignore[arg-type]
    return service, local


def assert_agree(service: pd.DataFrame, local: pd.DataFrame) -> None:
    assert list(service.columns) == list(local.columns)
    pd.testing.assert_frame_equal(
        service[["zone", "time", "band", "count"]], local[["zone", "time", "band", "count"]]
    )
    np.testing.assert_allclose(
        service[VALUES].to_numpy(float), local[VALUES].to_numpy(float), rtol=1e-5, atol=1e-6
    )
    np.testing.assert_allclose(service["valid_fraction"], local["valid_fraction"])


@pytest.mark.parametrize("interval", ["P10D", "P1D"])
def test_local_and_service_statistics_agree(emulator: Emulator, interval: str) -> None:
    service, local = both(emulator, ["NDVI", "B04"], interval=interval)
    assert_agree(service, local)
    assert (service["count"] > 0).any()
    assert (service["count"] == 0).any()  # a cloudy mosaic, or a day without an overpass
    assert service.attrs["synthetic"] == local.attrs["synthetic"] == 1


def test_every_index_formula_agrees_with_s2raster_indices(emulator: Emulator) -> None:
    service, local = both(emulator, [*JS_INDICES], interval="P10D", cloud_mask=False)
    assert_agree(service, local)
    assert set(service.band) == set(JS_INDICES)


def test_without_the_cloud_mask_more_pixels_count(emulator: Emulator) -> None:
    masked, _ = both(emulator, ["NDVI"], interval="P1D")
    plain = s2raster.statistics(
        FIELDS, TIME, "NDVI", interval="P1D", id_column="field", config=emulator.config(),
        cache=False, cloud_mask=False,
    )  # fmt: skip
    assert (plain["count"] >= masked["count"]).all()
    assert (plain["count"] > masked["count"]).any()


def test_cost_is_estimated_and_answers_are_cached(emulator: Emulator, tmp_path: Path) -> None:
    requests = s2raster.plan_statistics(FIELDS, TIME, "NDVI", interval="P10D", id_column="field")
    usage = s2raster.LoadStats()
    first = s2raster.statistics(
        FIELDS, TIME, "NDVI", interval="P10D", id_column="field", config=emulator.config(),
        cache=tmp_path, usage=usage,
    )  # fmt: skip
    assert usage.requests == len(requests)
    assert usage.processing_units_spent == pytest.approx(
        sum(r.estimated_pu for r in requests), rel=1e-4
    )
    again = s2raster.LoadStats()
    second = s2raster.statistics(
        FIELDS, TIME, "NDVI", interval="P10D", id_column="field", config=emulator.config(),
        cache=tmp_path, usage=again,
    )  # fmt: skip
    assert (again.requests, again.cache_hits) == (0, len(requests))
    pd.testing.assert_frame_equal(first, second)


def test_percentiles_and_histograms_from_the_service(emulator: Emulator) -> None:
    frame = s2raster.statistics(
        FIELDS, TIME, "NDVI", interval="P10D", id_column="field", config=emulator.config(),
        cache=False, percentiles=(10, 90), histogram=(4, -1, 1),
    )  # fmt: skip
    valid = frame[frame["count"] > 0]
    assert (valid["p10"] <= valid["median"]).all()
    assert (valid["median"] <= valid["p90"]).all()
    assert [sum(h) for h in valid["histogram"]] == valid["count"].tolist()
