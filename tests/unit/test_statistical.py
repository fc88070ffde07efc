"""The Statistical API request of a zone, offline: intervals, evalscript, payload (what
sentinelhub-py sends, valid per the CDSE OpenAPI file), cost, and reading answers."""

from __future__ import annotations

import copy
import json
import math
import re
from datetime import datetime, timezone
from typing import Any

import jsonschema
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sentinelhub.config import SHConfig
from shapely.geometry import Point, box

from s2raster._statistics import plan_statistics
from s2raster.cdse import build_statistical
from s2raster.contract import MIN_STATISTICAL_PU, statistical_units
from s2raster.errors import BandError, InputError, ResponseError
from s2raster.statistical import StatRequest, check_interval, payload, rows, split_intervals
from s2raster.statscript import JS_INDICES, outputs, statistics_evalscript

UTC = timezone.utc
FIELD = box(13.830, 45.860, 13.836, 45.864)
HOLED = Point(13.85, 45.87).buffer(0.003).difference(Point(13.85, 45.87).buffer(0.001))
TIME = "2024-04-01/2024-09-30"


def one(**kwargs: Any) -> StatRequest:
    options = {"interval": "P10D", **kwargs}
    zones = options.pop("zones", [FIELD])
    what = options.pop("what", "NDVI")
    return plan_statistics(zones, options.pop("time", TIME), what, **options)[0]


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


# --- intervals -----------------------------------------------------------------------


def test_intervals_step_from_the_start_and_the_last_is_shortened() -> None:
    found = split_intervals(utc(2024, 4, 1), utc(2024, 9, 30, 23, 59, 59), "P10D")
    assert len(found) == 19
    assert found[0] == (utc(2024, 4, 1), utc(2024, 4, 11))
    assert found[-1] == (utc(2024, 9, 28), utc(2024, 9, 30, 23, 59, 59))
    days = split_intervals(utc(2024, 6, 1), utc(2024, 6, 3, 23, 59, 59), "P1D")
    assert [lo.day for lo, _ in days] == [1, 2, 3]


def test_months_clamp_the_day() -> None:
    found = split_intervals(utc(2024, 1, 31), utc(2024, 5, 1), "P1M")
    assert [lo.date().isoformat() for lo, _ in found] == [
        "2024-01-31",
        "2024-02-29",
        "2024-03-31",
        "2024-04-30",
    ]
    assert [lo.month for lo, _ in split_intervals(utc(2024, 1, 1), utc(2025, 1, 1), "P1Y")] == [1]
    assert len(split_intervals(utc(2024, 1, 1), utc(2024, 1, 29), "P1W")) == 4


@pytest.mark.parametrize("bad", ["P0D", "PT1H", "1D", "P1DT1H", "", "P1.5D", 10])
def test_bad_intervals_are_refused(bad: Any) -> None:
    with pytest.raises(InputError, match="ISO 8601 period"):
        check_interval(bad)


@given(st.text(max_size=8))
def test_intervals_are_a_period_or_refused(text: str) -> None:
    try:
        check_interval(text)
    except InputError:
        return
    assert text.upper()[0] == "P"


# --- outputs and evalscript ----------------------------------------------------------


def test_outputs_sort_bands_and_indices_and_add_scl() -> None:
    out = outputs(["ndvi", "b04", "EVI"])
    assert out.names == ("NDVI", "B04", "EVI")
    assert out.indices == ("NDVI", "EVI")
    assert out.input_bands == ("B02", "B04", "B08", "SCL")
    assert outputs("NDVI", cloud_mask=False).input_bands == ("B04", "B08")


@pytest.mark.parametrize(
    ("names", "message"),
    [
        ([], "at least one"),
        (["NDVI", "ndvi"], "once"),
        (["B99"], "neither a band nor an index"),
        (["BAI"], "not supported by the Statistical API path"),
    ],
)
def test_bad_outputs_are_refused(names: list[str], message: str) -> None:
    with pytest.raises(BandError, match=message):
        outputs(names)


def test_evalscript_masks_clouds_and_non_finite_values() -> None:
    script = statistics_evalscript(outputs(["NDVI", "B04"]), cloud_classes=(3, 8, 9, 10))
    assert 'bands: ["B04", "B08", "SCL", "dataMask"]' in script
    assert "const CLOUDS = [3, 8, 9, 10];" in script
    assert "CLOUDS.indexOf(s.SCL) < 0" in script
    assert 'id: "data", bands: 2, sampleType: "FLOAT32"' in script
    assert 'id: "dataMask", bands: 1' in script
    assert "isFinite" in script
    plain = statistics_evalscript(outputs("NDVI", cloud_mask=False), cloud_classes=None)
    assert "SCL" not in plain.split("const CLOUDS")[0]
    assert "indexOf" not in plain


def test_every_js_index_reads_the_bands_the_catalogue_says() -> None:
    from s2raster.indices import bands_for, canonical_name

    for name, formula in JS_INDICES.items():
        assert canonical_name(name) == name
        assert set(re.findall(r"s\.(B\d[\dA])", formula)) == set(bands_for([name]))


# --- planning, payload, cost ---------------------------------------------------------


def test_a_zone_gets_its_snapped_utm_grid_and_pixel_count() -> None:
    request = one()
    assert request.grid.crs == "EPSG:32633"
    assert [v % 10 for v in request.grid.bounds] == [0, 0, 0, 0]
    assert request.geometry.within(box(*request.grid.bounds))
    assert 0 < request.pixels < request.grid.width * request.grid.height
    assert request.percentiles == (50.0,)  # the median is the 50th percentile


def test_payload_equals_what_sentinelhub_py_sends() -> None:
    config = SHConfig(use_defaults=True, sh_base_url="http://127.0.0.1:9")
    for request in (
        one(),
        one(zones=[HOLED], what=["B04", "NBR"], max_cloud=30, percentiles=(5, 95)),
    ):
        download = build_statistical(request, config).download_list[0]
        assert download.url == "http://127.0.0.1:9/api/v1/statistics"
        assert json.loads(json.dumps(download.post_values)) == payload(request)


def test_payload_shape() -> None:
    body = payload(one(histogram=(10, -1, 1), percentiles=(10,)))
    bounds = body["input"]["bounds"]
    assert bounds["properties"]["crs"] == "http://www.opengis.net/def/crs/EPSG/0/32633"
    assert bounds["geometry"]["type"] == "Polygon"
    assert body["aggregation"]["aggregationInterval"] == {
        "of": "P10D",
        "lastIntervalBehavior": "SHORTEN",
    }
    assert body["aggregation"]["timeRange"] == {
        "from": "2024-04-01T00:00:00Z",
        "to": "2024-09-30T23:59:59Z",
    }
    assert (body["aggregation"]["resx"], body["aggregation"]["resy"]) == (10.0, 10.0)
    assert body["calculations"] == {
        "data": {
            "statistics": {"default": {"percentiles": {"k": [10.0, 50.0]}}},
            "histograms": {"default": {"nBins": 10, "lowEdge": -1.0, "highEdge": 1.0}},
        }
    }


def statistical_validator(spec: dict[str, Any]) -> Any:
    """StatisticalRequest of the CDSE OpenAPI file, with its quirks fixed (see test_evalscript),
    and percentiles in percent as the service's documented example sends them."""
    components = copy.deepcopy(spec["components"])
    schemas = components["schemas"]
    byoc_type = schemas["BYOCDataset"]["allOf"][0]["properties"]["type"]
    byoc_type["pattern"] = "^(byoc|batch|zarr)-"
    k = schemas["StatisticsDefinition"]["properties"]["percentiles"]["properties"]["k"]
    k["items"]["maximum"] = 100
    schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$ref": "#/components/schemas/StatisticalRequest",
        "components": components,
    }
    return jsonschema.Draft202012Validator(schema)


def test_payload_validates_against_openapi(openapi_spec: dict[str, Any]) -> None:
    validator = statistical_validator(openapi_spec)
    for request in (one(), one(zones=[HOLED], what=["B04"], histogram=(5, 0, 1), max_cloud=10)):
        assert [e.message for e in validator.iter_errors(payload(request))] == []


def test_cost_is_a_multi_temporal_request_of_at_least_001_pu() -> None:
    assert MIN_STATISTICAL_PU == 0.01
    assert statistical_units(20, 20, 1, 1) == 0.01  # 0.0067 raised to the minimum
    assert statistical_units(20, 20, 2, 1) == pytest.approx(0.01 * 2 / 3 * 2)
    assert statistical_units(512, 512, 3, 1) == 2.0  # FLOAT32
    assert statistical_units(512, 512, 3, 19) == 38.0
    request = one()
    expected = statistical_units(request.grid.width, request.grid.height, 3, 19)
    assert request.estimated_pu == pytest.approx(expected)


def test_zones_larger_than_2500_px_are_refused() -> None:
    with pytest.raises(InputError, match="above the Statistical API's 2500 px"):
        one(zones=[box(13.0, 45.0, 13.4, 45.3)])


# --- answers -------------------------------------------------------------------------


def band(mean: Any, samples: int = 100, no_data: int = 20, p50: Any = 0.5) -> dict[str, Any]:
    stats = {"min": 0.1, "max": 0.9, "mean": mean, "stDev": 0.2, "sampleCount": samples}
    return {"stats": {**stats, "noDataCount": no_data, "percentiles": {"50.0": p50}}}


def test_rows_fill_intervals_the_service_left_out_with_count_zero() -> None:
    request = one(time="2024-06-01/2024-06-30", what=["NDVI", "B04"])
    answer = {
        "data": [
            {
                "interval": {"from": "2024-06-11T00:00:00Z", "to": "2024-06-21T00:00:00Z"},
                "outputs": {"data": {"bands": {"B0": band(0.6), "B1": band(0.1, p50=0.09)}}},
            }
        ],
        "status": "OK",
    }
    found = rows(request, answer)
    assert [(r["time"].day, r["band"]) for r in found] == [
        (1, "NDVI"), (1, "B04"), (11, "NDVI"), (11, "B04"), (21, "NDVI"), (21, "B04"),
    ]  # fmt: skip
    ndvi = found[2]
    assert (ndvi["count"], ndvi["mean"], ndvi["median"], ndvi["std"]) == (80, 0.6, 0.5, 0.2)
    assert ndvi["valid_fraction"] == pytest.approx(80 / request.pixels)
    assert found[3]["median"] == 0.09
    empty = found[0]
    assert empty["count"] == 0
    assert math.isnan(empty["mean"])
    assert empty["valid_fraction"] == 0


def test_rows_read_the_services_nan_strings() -> None:
    request = one(time="2024-06-01/2024-06-10")
    cloudy = band("NaN", samples=100, no_data=100, p50="NaN")
    answer = {
        "data": [
            {
                "interval": {"from": "2024-06-01T00:00:00Z", "to": "2024-06-10T23:59:59Z"},
                "outputs": {"data": {"bands": {"B0": cloudy}}},
            }
        ]
    }
    (row,) = rows(request, answer)
    assert row["count"] == 0
    assert math.isnan(row["median"])


def test_an_interval_error_is_a_response_error() -> None:
    request = one(time="2024-06-01/2024-06-10")
    answer = {
        "data": [
            {
                "interval": {"from": "2024-06-01T00:00:00Z", "to": "2024-06-10T23:59:59Z"},
                "error": {"type": "EXECUTION_ERROR"},
            }
        ]
    }
    with pytest.raises(ResponseError, match="EXECUTION_ERROR"):
        rows(request, answer)
