"""The evalscript and the Process API payload: what sentinelhub-py sends, valid per the spec."""

from __future__ import annotations

import copy
import re
from typing import Any

import jsonschema
import pytest
from sentinelhub.config import SHConfig

from s2raster.bands import BANDS
from s2raster.cdse import build_request
from s2raster.evalscript import evalscript, payload
from s2raster.plan import TileRequest, make_plan

BBOX = (13.822, 45.850, 13.9, 45.9)
TIME = "2024-06-01/2024-06-30"
ALL_L2A = [b for b in BANDS["sentinel-2-l2a"] if b != "dataMask"]
ALL_L1C = [b for b in BANDS["sentinel-2-l1c"] if b != "dataMask"]

CASES: list[dict[str, Any]] = [
    {"bands": ["B04", "B08"]},
    {"bands": ["B04"], "max_cloud": 29},
    {"bands": ["B02", "B03", "B04"], "max_cloud": 12.5, "mosaicking": "leastCC"},
    {"bands": ["SCL", "AOT", "CLD"], "crs": "EPSG:4326", "resolution": 60},
    {"bands": ALL_L2A, "upsampling": "BICUBIC", "downsampling": "BILINEAR"},
    {"bands": ALL_L1C, "collection": "sentinel-2-l1c", "mosaicking": "leastRecent"},
    {"bands": ["B04"], "bbox": (-47.9, -15.8, -47.8, -15.7)},  # southern UTM zone
    {"bands": ["B8A", "B11"], "bbox": (13.8, 45.8, 14.2, 46.1), "tile_px": 1000},
]


def requests_for(case: dict[str, Any]) -> tuple[TileRequest, ...]:
    options = dict(case)
    bbox, bands = options.pop("bbox", BBOX), options.pop("bands")
    return make_plan(bbox, TIME, bands, **options).requests


@pytest.mark.parametrize("case", CASES)
def test_payload_equals_what_sentinelhub_py_sends(case: dict[str, Any]) -> None:
    config = SHConfig(use_defaults=True, sh_base_url="http://127.0.0.1:9")
    for request in requests_for(case):
        download = build_request(request, config).download_list[0]
        assert download.post_values == payload(request)
        assert download.url == "http://127.0.0.1:9/api/v1/process"
        assert download.headers["accept"] == "image/tiff"


def test_collection_is_bound_to_the_configured_url() -> None:
    """sentinelhub-py's own collection URL (services.sentinel-hub.com) must not win."""
    request = requests_for({"bands": ["B04"]})[0]
    for url in ("https://sh.dataspace.copernicus.eu", "http://127.0.0.1:1234/"):
        config = SHConfig(use_defaults=True, sh_base_url=url)
        assert build_request(request, config).download_list[0].url == (
            url.rstrip("/") + "/api/v1/process"
        )


def test_requests_register_no_collection_globally() -> None:
    """A user can still bind their own collection to the same URL after we built requests."""
    from sentinelhub.data_collections import DataCollection

    url = "http://127.0.0.1:7011"
    request = requests_for({"bands": ["B04"]})[0]
    build_request(request, SHConfig(use_defaults=True, sh_base_url=url))
    mine = DataCollection.SENTINEL2_L2A.define_from("USER_L2A_7011", service_url=url)
    assert mine.service_url == url


def test_max_cloud_is_sent_exactly() -> None:
    """sentinelhub-py's maxcc would send int(0.29 * 100) == 28."""
    request = requests_for({"bands": ["B04"], "max_cloud": 29})[0]
    body = payload(request)
    assert body["input"]["data"][0]["dataFilter"]["maxCloudCoverage"] == 29.0


def test_payload_shape() -> None:
    request = requests_for({"bands": ["B04", "B08"], "max_cloud": 20})[0]
    body = payload(request)
    grid = request.tile.grid
    assert body["input"]["bounds"] == {
        "properties": {"crs": "http://www.opengis.net/def/crs/EPSG/0/32633"},
        "bbox": list(grid.bounds),
    }
    assert body["input"]["data"] == [
        {
            "type": "sentinel-2-l2a",
            "dataFilter": {
                "timeRange": {"from": "2024-06-01T00:00:00Z", "to": "2024-06-30T23:59:59Z"},
                "mosaickingOrder": "mostRecent",
                "maxCloudCoverage": 20.0,
            },
            "processing": {"upsampling": "NEAREST", "downsampling": "NEAREST"},
        }
    ]
    assert body["output"] == {
        "responses": [{"identifier": "default", "format": {"type": "image/tiff"}}],
        "width": grid.width,
        "height": grid.height,
    }


def test_evalscript_reads_bands_in_their_units_and_datamask_last() -> None:
    script = evalscript(["B04", "SCL", "AOT", "sunZenithAngles"])
    assert script.startswith("//VERSION=3\n")
    assert 'bands: ["B04", "SCL", "AOT", "sunZenithAngles", "dataMask"]' in script
    assert 'units: ["REFLECTANCE", "DN", "OPTICAL_DEPTH", "DEGREES", "DN"]' in script
    assert 'output: { id: "default", bands: 5, sampleType: "FLOAT32" }' in script
    assert (
        "return [sample.B04, sample.SCL, sample.AOT, sample.sunZenithAngles, sample.dataMask];"
        in script
    )


@pytest.mark.parametrize("bands", [["B04"], ALL_L2A])
def test_evalscript_is_deterministic(bands: list[str]) -> None:
    assert evalscript(bands) == evalscript(list(bands))
    n = len(re.findall(r"sample\.\w+", evalscript(bands)))
    assert n == len(bands) + 1


# --- the CDSE OpenAPI description (../shared/cdse/openapi.v1.yaml) ---


def process_request_validator(spec: dict[str, Any]) -> Any:
    """A Draft 2020-12 validator of ProcessRequest, with the two quirks of the file fixed."""
    components = copy.deepcopy(spec["components"])
    schemas = components["schemas"]
    # 1. the response identifier carries a placeholder enum; real ids are free strings
    schemas["ProcessRequestOutputResponse"]["properties"]["identifier"].pop("enum")
    # 2. BYOC types have no pattern, so an S2 payload would match two oneOf branches
    byoc_type = schemas["BYOCDataset"]["allOf"][0]["properties"]["type"]
    byoc_type["pattern"] = "^(byoc|batch|zarr)-"
    schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$ref": "#/components/schemas/ProcessRequest",
        "components": components,
    }
    validator_cls = jsonschema.Draft202012Validator
    validator_cls.check_schema(schema)
    return validator_cls(schema, format_checker=validator_cls.FORMAT_CHECKER)


@pytest.fixture(scope="module")
def validator(openapi_spec: dict[str, Any]) -> Any:
    return process_request_validator(openapi_spec)


@pytest.mark.parametrize("case", CASES)
def test_payload_validates_against_openapi(validator: Any, case: dict[str, Any]) -> None:
    for request in requests_for(case):
        errors = [e.message for e in validator.iter_errors(payload(request))]
        assert errors == []


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("output", "width"), 2501),
        (("input", "data", 0, "dataFilter", "mosaickingOrder"), "newest"),
        (("input", "data", 0, "dataFilter", "maxCloudCoverage"), 101),
        (("input", "data", 0, "processing", "harmonizeValues"), "yes"),
        (("input", "data", 0, "type"), "sentinel-2-l3"),
    ],
)
def test_validator_catches_broken_payloads(
    validator: Any, path: tuple[str | int, ...], value: object
) -> None:
    body = payload(requests_for({"bands": ["B04"]})[0])
    target: Any = body
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    assert not validator.is_valid(body)
