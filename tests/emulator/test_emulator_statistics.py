"""The emulator's Statistical API: request validation and answer shapes as the service's,
intervals (SKIP/SHORTEN/EXTEND, no-data ones left out), dataMask, percentiles, histograms,
processing units, and statistics equal to those of the Process API's pixels."""

from __future__ import annotations

import copy
import json
from typing import TYPE_CHECKING, Any

import numpy as np
import pytest
import requests
from shapely.geometry import box, mapping

from s2raster.contract import PU_HEADER, SYNTHETIC_HEADER, statistical_units
from s2raster.emulator.request import ApiError
from s2raster.emulator.statistics import parse_period, split

if TYPE_CHECKING:
    from s2raster.emulator import Emulator

STATISTICS = "/api/v1/statistics"
PROCESS = "/api/v1/process"
CRS = "http://www.opengis.net/def/crs/EPSG/0/32633"
BBOX = [409_000.0, 5_079_000.0, 409_400.0, 5_079_300.0]  # 40 x 30 px at 10 m
FIELD = box(409_050, 5_079_020, 409_330, 5_079_260).difference(
    box(409_150, 5_079_100, 409_200, 5_079_150)
)
SCRIPT = """//VERSION=3
function setup() {
  return {
    input: [{ bands: ["B04", "B08", "dataMask"] }],
    output: [{ id: "data", bands: 2, sampleType: "FLOAT32" }, { id: "dataMask", bands: 1 }]
  };
}
function evaluatePixel(s) {
  return { data: [s.B04, (s.B08 - s.B04) / (s.B08 + s.B04)], dataMask: [s.dataMask] };
}
"""


MASK_OUTPUT = '{ id: "dataMask", bands: 1 }'
NO_MASK = SCRIPT.replace(", " + MASK_OUTPUT, "")
BAD_BEHAVIOUR = {"of": "P1D", "lastIntervalBehavior": "CUT"}
BAD_PERCENTILES = {"data": {"statistics": {"default": {"percentiles": {"k": [150]}}}}}


def body(**changes: Any) -> dict[str, Any]:
    request: dict[str, Any] = {
        "input": {
            "bounds": {"bbox": BBOX, "geometry": mapping(FIELD), "properties": {"crs": CRS}},
            "data": [{"type": "sentinel-2-l2a", "dataFilter": {"mosaickingOrder": "mostRecent"}}],
        },
        "aggregation": {
            "evalscript": SCRIPT,
            "timeRange": {"from": "2024-06-01T00:00:00Z", "to": "2024-06-30T23:59:59Z"},
            "aggregationInterval": {"of": "P10D"},
            "resx": 10,
            "resy": 10,
        },
    }
    request = json.loads(json.dumps(request))
    for path, value in changes.items():
        target = request
        keys = path.split("__")
        for key in keys[:-1]:
            target = target[key]
        if value is None:
            target.pop(keys[-1], None)
        else:
            target[keys[-1]] = value
    return request


def post(emulator: Emulator, token: str, payload: Any, path: str = STATISTICS) -> requests.Response:
    return requests.post(
        emulator.base_url + path,
        json=payload,
        headers={"Authorization": f"Bearer {token}"},
        timeout=60,
    )


def test_answer_shape_and_headers(emulator: Emulator, token: str) -> None:
    response = post(emulator, token, body())
    assert response.status_code == 200, response.text
    assert response.headers[SYNTHETIC_HEADER] == "1"
    # SKIP (the default) drops the last, shorter interval: June 1-11 and 11-21
    assert float(response.headers[PU_HEADER]) == pytest.approx(
        statistical_units(40, 30, 2, 2), rel=1e-5
    )
    answer = response.json()
    assert answer["status"] == "OK"
    assert answer["data"], "the synthetic Earth has acquisitions in June 2024"
    entry = answer["data"][0]
    assert set(entry) == {"interval", "outputs"}
    assert set(entry["outputs"]) == {"data"}  # no statistics of the dataMask output
    bands = entry["outputs"]["data"]["bands"]
    assert set(bands) == {"B0", "B1"}
    stats = bands["B0"]["stats"]
    assert set(stats) == {"min", "max", "mean", "stDev", "sampleCount", "noDataCount"}
    assert stats["sampleCount"] == 40 * 30


def test_answer_validates_against_openapi(
    emulator: Emulator, token: str, openapi_spec: dict[str, Any]
) -> None:
    import jsonschema

    components = copy.deepcopy(openapi_spec["components"])
    schema = {"$ref": "#/components/schemas/StatisticalResponse", "components": components}
    calculations = {
        "default": {"histograms": {"default": {"nBins": 4, "lowEdge": 0, "highEdge": 1}}}
    }
    answer = post(emulator, token, body(calculations=calculations)).json()
    assert list(jsonschema.Draft202012Validator(schema).iter_errors(answer)) == []


def test_statistics_are_those_of_the_process_api_pixels(emulator: Emulator, token: str) -> None:
    """One interval: the Statistical API's numbers are numpy's over the Process API's pixels
    inside the geometry (centre rule), with dataMask."""
    payload = body(
        aggregation__timeRange={"from": "2024-06-11T00:00:00Z", "to": "2024-06-21T00:00:00Z"},
        calculations={"data": {"statistics": {"default": {"percentiles": {"k": [10, 50, 90]}}}}},
    )
    answer = post(emulator, token, payload).json()
    (entry,) = answer["data"]
    process = {
        "input": {**payload["input"], "data": [{
            "type": "sentinel-2-l2a",
            "dataFilter": {"timeRange": payload["aggregation"]["timeRange"]},
        }]},
        "evalscript": SCRIPT.replace(MASK_OUTPUT, MASK_OUTPUT[:-2] + ', sampleType: "FLOAT32" }'),
        "output": {
            "resx": 10,
            "resy": 10,
            "responses": [
                {"identifier": "data", "format": {"type": "image/tiff"}},
                {"identifier": "dataMask", "format": {"type": "image/tiff"}},
            ],
        },
    }  # fmt: skip
    tar = post(emulator, token, process, PROCESS)
    assert tar.status_code == 200, tar.text
    arrays = read_tar(tar.content)
    keep = arrays["dataMask"][0] != 0
    for k in (0, 1):
        values = arrays["data"][k][keep].astype(np.float64)
        stats = entry["outputs"]["data"]["bands"][f"B{k}"]["stats"]
        assert stats["noDataCount"] == keep.size - keep.sum()
        assert stats["mean"] == pytest.approx(values.mean(), rel=1e-9)
        assert stats["stDev"] == pytest.approx(values.std(), rel=1e-9)
        assert (stats["min"], stats["max"]) == (values.min(), values.max())
        expected = np.percentile(values, [10, 50, 90])
        assert [stats["percentiles"][key] for key in ("10.0", "50.0", "90.0")] == pytest.approx(
            expected
        )


def read_tar(content: bytes) -> dict[str, np.ndarray]:
    import io
    import tarfile

    from rasterio.io import MemoryFile

    found = {}
    with tarfile.open(fileobj=io.BytesIO(content)) as tar:
        for member in tar.getmembers():
            data = tar.extractfile(member)
            assert data is not None
            with MemoryFile(data.read()) as mem, mem.open() as src:
                found[member.name.removesuffix(".tif")] = src.read()
    return found


def test_histograms_count_the_kept_pixels(emulator: Emulator, token: str) -> None:
    calculations = {"data": {"histograms": {"B1": {"nBins": 5, "lowEdge": -1, "highEdge": 1}}}}
    answer = post(emulator, token, body(calculations=calculations)).json()
    for entry in answer["data"]:
        bands = entry["outputs"]["data"]["bands"]
        assert "histogram" not in bands["B0"]
        histogram = bands["B1"]["histogram"]
        assert [b["lowEdge"] for b in histogram["bins"]] == pytest.approx(
            [-1, -0.6, -0.2, 0.2, 0.6]
        )
        kept = bands["B1"]["stats"]["sampleCount"] - bands["B1"]["stats"]["noDataCount"]
        total = sum(b["count"] for b in histogram["bins"])
        assert total + histogram["overflowCount"] + histogram["underflowCount"] == kept


def test_all_pixels_excluded_answers_nan_strings(emulator: Emulator, token: str) -> None:
    script = SCRIPT.replace("dataMask: [s.dataMask]", "dataMask: [0]")
    answer = post(emulator, token, body(aggregation__evalscript=script)).json()
    stats = answer["data"][0]["outputs"]["data"]["bands"]["B0"]["stats"]
    assert stats["mean"] == "NaN"
    assert stats["noDataCount"] == stats["sampleCount"]


def test_intervals_without_acquisitions_are_left_out(emulator: Emulator, token: str) -> None:
    days = post(emulator, token, body(aggregation__aggregationInterval={"of": "P1D"})).json()
    starts = [entry["interval"]["from"] for entry in days["data"]]
    assert 0 < len(starts) < 30  # the revisit is a few days
    assert starts == sorted(starts)


@pytest.mark.parametrize(
    ("behaviour", "last"),
    [
        ("SKIP", "2024-06-21T00:00:00Z"),
        ("SHORTEN", "2024-06-30T23:59:59Z"),
        ("EXTEND", "2024-07-01T00:00:00Z"),
    ],
)
def test_last_interval_behaviour(behaviour: str, last: str) -> None:
    from datetime import datetime, timezone

    start = datetime(2024, 6, 1, tzinfo=timezone.utc)
    end = datetime(2024, 6, 30, 23, 59, 59, tzinfo=timezone.utc)
    found = split(start, end, parse_period("P10D"), behaviour)
    assert found[-1][1].isoformat().replace("+00:00", "Z") == last
    assert len(found) == (2 if behaviour == "SKIP" else 3)


@pytest.mark.parametrize(
    ("changes", "status", "words"),
    [
        ({"aggregation__aggregationInterval": {"of": "PT12H"}}, 400, "at least one day"),
        ({"aggregation__aggregationInterval": BAD_BEHAVIOUR}, 400, "lastIntervalBehavior"),
        ({"aggregation__timeRange": None}, 400, "timeRange"),
        ({"aggregation__evalscript": NO_MASK}, 400, "dataMask"),
        ({"aggregation__resx": 0.01}, 400, "larger than allowed 2500"),
        ({"input__data": [{"type": "sentinel-3-olci"}]}, 400, "not served"),
        ({"calculations": BAD_PERCENTILES}, 400, "0 to 100"),
        ({"aggregation": None}, 400, "aggregation must be specified"),
    ],
)  # fmt: skip
def test_bad_requests_get_the_services_error_shape(
    emulator: Emulator, token: str, changes: dict[str, Any], status: int, words: str
) -> None:
    response = post(emulator, token, body(**changes))
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["status"] == status
    assert error["code"] in ("COMMON_BAD_PAYLOAD", "RENDERER_EXCEPTION", "COMMON_EXCEPTION")
    assert words in error["message"]


def test_statistics_need_a_token(emulator: Emulator) -> None:
    response = requests.post(emulator.base_url + STATISTICS, json=body(), timeout=10)
    assert response.status_code == 401


def test_period_parsing() -> None:
    assert parse_period("P1M") == (1, 0)
    assert parse_period("P1Y2M") == (14, 0)
    assert parse_period("P2W3D") == (0, 17)
    with pytest.raises(ApiError):
        parse_period("P0D")


def test_stacked_and_per_interval_runs_answer_the_same(emulator: Emulator, token: str) -> None:
    """A script that cannot see the scenes runs once over all intervals' mosaics; one that
    can (two arguments) runs once per interval: the answers are identical."""
    days = {"aggregation__aggregationInterval": {"of": "P1D"}}
    stacked = post(emulator, token, body(**days)).json()
    script = SCRIPT.replace("function evaluatePixel(s)", "function evaluatePixel(s, scenes)")
    single = post(emulator, token, body(aggregation__evalscript=script, **days)).json()
    assert len(stacked["data"]) > 1
    assert stacked == single
