"""Request validation of the emulator: the service's error shapes, codes and wordings.

Unit tests call :func:`s2raster.emulator.request.validate` directly; the schema test sends
every payload the CDSE OpenAPI description rejects to a running emulator over HTTP.
"""

from __future__ import annotations

import copy
import json
import math
from collections.abc import Callable
from typing import Any

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from s2raster.emulator import Emulator
from s2raster.emulator.request import ApiError, ProcessRequest, parse_body, validate
from s2raster.grid import METRES_PER_DEGREE

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
UTM33 = "http://www.opengis.net/def/crs/EPSG/0/32633"
EVALSCRIPT = """//VERSION=3
function setup() { return { input: ["B02", "B03", "B04"], output: { bands: 3 } }; }
function evaluatePixel(s) { return [2.5 * s.B04, 2.5 * s.B03, 2.5 * s.B02]; }
"""


def base_payload() -> dict[str, Any]:
    """The classic CDSE example request (true colour PNG, 512 x 512, CRS84)."""
    return {
        "input": {
            "bounds": {
                "bbox": [
                    13.822174072265625,
                    45.85080395917834,
                    14.55963134765625,
                    46.29191774991382,
                ],
                "properties": {"crs": CRS84},
            },
            "data": [
                {
                    "type": "sentinel-2-l2a",
                    "dataFilter": {
                        "timeRange": {"from": "2022-10-01T00:00:00Z", "to": "2022-10-31T00:00:00Z"}
                    },
                }
            ],
        },
        "output": {
            "width": 512,
            "height": 512,
            "responses": [{"identifier": "default", "format": {"type": "image/png"}}],
        },
        "evalscript": EVALSCRIPT,
    }


def utm_payload(**output: Any) -> dict[str, Any]:
    payload = base_payload()
    payload["input"]["bounds"] = {
        "bbox": [400000.0, 5000000.0, 426240.0, 5020000.0],
        "properties": {"crs": UTM33},
    }
    payload["output"] = {**output, "responses": [{"identifier": "default"}]}
    return payload


def mutate(payload: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """A copy with ``path`` (dots; list indexes as numbers) set, or deleted for ``DELETE``."""
    result = copy.deepcopy(payload)
    keys: list[Any] = [int(k) if k.isdigit() else k for k in path.split(".")]
    target = result
    for key in keys[:-1]:
        target = target[key]
    if value is DELETE:
        del target[keys[-1]]
    elif isinstance(target, list) and keys[-1] == len(target):
        target.append(value)
    else:
        target[keys[-1]] = value
    return result


DELETE = object()


def outcome(payload: dict[str, Any]) -> ProcessRequest | ApiError:
    """The validated request, or the ApiError it was refused with."""
    try:
        return validate(payload)
    except ApiError as error:
        return error


def rejected(payload: dict[str, Any]) -> ApiError:
    with pytest.raises(ApiError) as info:
        validate(payload)
    return info.value


# -- accepted requests ----------------------------------------------------------------------


def test_classic_example_is_valid() -> None:
    request = validate(base_payload())
    assert (request.width, request.height) == (512, 512)
    assert request.crs == "EPSG:4326"
    assert request.responses[0].mime == "image/png"
    assert request.harmonize is True
    assert request.mosaicking_order == "mostRecent"
    t = request.transform
    assert t.c == pytest.approx(13.822174072265625)
    assert t.f == pytest.approx(46.29191774991382)


def test_resolution_gives_rounded_size_and_exact_transform() -> None:
    request = validate(utm_payload(resx=20, resy=20.4))
    assert (request.width, request.height) == (1312, 980)
    assert request.transform.a == pytest.approx(20.0)
    assert request.transform.e == pytest.approx(-20000 / 980)


def test_width_only_keeps_aspect_ratio() -> None:
    payload = utm_payload(width=1312)
    request = validate(payload)
    assert (request.width, request.height) == (1312, 1000)


def test_no_output_defaults_to_256_png() -> None:
    request = validate(mutate(base_payload(), "output", DELETE))
    assert (request.width, request.height) == (256, 256)
    assert [(r.identifier, r.mime) for r in request.responses] == [("default", "image/png")]


def test_geometry_without_bbox_uses_its_bounds() -> None:
    ring = [[14.0, 46.0], [14.2, 46.0], [14.1, 46.2], [14.0, 46.0]]
    payload = mutate(base_payload(), "input.bounds.bbox", DELETE)
    payload["input"]["bounds"]["geometry"] = {"type": "Polygon", "coordinates": [ring]}
    request = validate(payload)
    assert request.bounds.bbox == (14.0, 46.0, 14.2, 46.2)


def test_multipart_body() -> None:
    payload = base_payload()
    evalscript = payload.pop("evalscript")
    prepared = requests.Request(
        "POST",
        "http://127.0.0.1/",
        files={
            "request": (None, json.dumps(payload), "application/json"),
            "evalscript": (None, evalscript, "text/plain"),
        },
    ).prepare()
    body = prepared.body
    assert isinstance(body, bytes)
    parsed = parse_body(body, prepared.headers["Content-Type"])
    assert parsed["evalscript"] == evalscript
    assert validate(parsed).width == 512


# -- the service's wordings -----------------------------------------------------------------


def test_width_from_resx_above_2500_has_service_wording() -> None:
    error = rejected(utm_payload(resx=10, resy=20))
    assert error.body() == {
        "error": {
            "status": 400,
            "reason": "Bad Request",
            "message": "`width = 2624`, calculated from resx, is larger than allowed 2500.\n",
            "code": "COMMON_BAD_PAYLOAD",
            "errors": [
                {
                    "parameter": "output->resx",
                    "violation": (
                        "`width = 2624`, calculated from resx, is larger than allowed 2500."
                    ),
                }
            ],
        }
    }


def test_height_from_resy_above_2500() -> None:
    payload = utm_payload(resx=20, resy=5)
    error = rejected(payload)
    assert error.message == "`height = 4000`, calculated from resy, is larger than allowed 2500.\n"
    assert error.errors == [{"parameter": "output->resy", "violation": error.message.strip()}]


def test_metres_per_pixel_limit_has_service_wording() -> None:
    payload = mutate(base_payload(), "output", {"resx": 0.5, "resy": 0.5})
    error = rejected(payload)
    assert error.status == 400
    assert error.code == "COMMON_EXCEPTION"
    assert error.errors is None
    metres = (14.55963134765625 - 13.822174072265625) * METRES_PER_DEGREE
    assert error.message.startswith(
        f"Your request of {metres:.2f} meters per pixel exceeds the limit "
    )
    assert error.message.endswith(
        "1500.00 meters per pixel of the collection S2L2A. Please revise the resolution "
        "(or corresponding width/height) to make sure it is in supported range."
    )


@pytest.mark.parametrize(("res", "ok"), [(1500.0, True), (1500.5, False)])
def test_metres_per_pixel_boundary(res: float, ok: bool) -> None:
    payload = utm_payload(resx=res, resy=res)
    payload["input"]["bounds"]["bbox"] = [400000.0, 5000000.0, 400000.0 + 3 * res, 5000000.0 + res]
    if ok:
        assert validate(payload).width == 3
    else:
        assert rejected(payload).code == "COMMON_EXCEPTION"


ERRORS: list[tuple[str, Callable[[], dict[str, Any]], str, str]] = [
    ("width-2501", lambda: mutate(base_payload(), "output.width", 2501), "COMMON_BAD_PAYLOAD",
     "`width = 2501` is larger than allowed 2500.\n"),
    ("height-0", lambda: mutate(base_payload(), "output.height", 0), "COMMON_BAD_PAYLOAD",
     "`height = 0` is smaller than allowed 1.\n"),
    ("width-and-resx", lambda: mutate(base_payload(), "output.resx", 10), "COMMON_BAD_PAYLOAD",
     "Only width and height or resx and resy can be set at the same time."),
    ("type-s1", lambda: mutate(base_payload(), "input.data.0.type", "sentinel-1-grd"),
     "COMMON_BAD_PAYLOAD", "Collection type 'sentinel-1-grd'"),
    ("date-only", lambda: mutate(base_payload(), "input.data.0.dataFilter.timeRange.from",
                                 "2022-10-01"), "COMMON_BAD_PAYLOAD", "a date alone will not work"),
    ("from-after-to", lambda: mutate(base_payload(), "input.data.0.dataFilter.timeRange.from",
                                     "2022-11-30T00:00:00Z"), "COMMON_BAD_PAYLOAD", "is after"),
    ("cloud-101", lambda: mutate(base_payload(), "input.data.0.dataFilter.maxCloudCoverage", 101),
     "COMMON_BAD_PAYLOAD", "maxCloudCoverage must be between 0 and 100"),
    ("order", lambda: mutate(base_payload(), "input.data.0.dataFilter.mosaickingOrder", "newest"),
     "COMMON_BAD_PAYLOAD", "mosaickingOrder"),
    ("upsampling", lambda: mutate(base_payload(), "input.data.0.processing",
                                  {"upsampling": "CUBIC"}), "COMMON_BAD_PAYLOAD", "upsampling"),
    ("harmonize-str", lambda: mutate(base_payload(), "input.data.0.processing",
                                     {"harmonizeValues": "true"}), "COMMON_BAD_PAYLOAD", "boolean"),
    ("crs", lambda: mutate(base_payload(), "input.bounds.properties.crs", "EPSG:4326"),
     "COMMON_BAD_PAYLOAD", "Unsupported CRS"),
    ("crs-unknown", lambda: mutate(base_payload(), "input.bounds.properties.crs",
                                   "http://www.opengis.net/def/crs/EPSG/0/99999"),
     "COMMON_BAD_PAYLOAD", "unknown EPSG code"),
    ("bbox-reversed", lambda: mutate(base_payload(), "input.bounds.bbox", [14, 46, 13, 47]),
     "COMMON_BAD_PAYLOAD", "is reversed"),
    ("bbox-lat", lambda: mutate(base_payload(), "input.bounds.bbox", [46, 13, 47, 95]),
     "COMMON_BAD_PAYLOAD", "outside longitude"),
    ("no-bounds", lambda: mutate(base_payload(), "input.bounds", {}), "COMMON_BAD_PAYLOAD",
     "Either bbox or geometry"),
    ("format", lambda: mutate(base_payload(), "output.responses.0.format.type", "image/gif"),
     "COMMON_BAD_PAYLOAD", "image/gif"),
    ("fusion", lambda: mutate(base_payload(), "input.data.1", {"type": "sentinel-2-l1c"}),
     "COMMON_BAD_PAYLOAD", "data fusion"),
    ("evalscript", lambda: mutate(base_payload(), "evalscript", DELETE), "COMMON_BAD_PAYLOAD",
     "evalscript"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("make", "code", "fragment"), [e[1:] for e in ERRORS], ids=[e[0] for e in ERRORS]
)
def test_error_table(make: Callable[[], dict[str, Any]], code: str, fragment: str) -> None:
    error = rejected(make())
    assert (error.status, error.code) == (400, code)
    assert fragment in error.message
    assert set(error.body()["error"]) <= {"status", "reason", "message", "code", "errors"}


def test_empty_body_has_service_wording() -> None:
    with pytest.raises(ApiError, match=r"^Request body should be non-empty\.$"):
        parse_body(b"  ", "application/json")


# -- properties -----------------------------------------------------------------------------


@settings(max_examples=150, deadline=None)
@given(
    extent=st.floats(1.0, 5e6, allow_nan=False),
    res=st.floats(0.01, 1e5, allow_nan=False),
)
def test_size_from_resolution(extent: float, res: float) -> None:
    payload = utm_payload(resx=res, resy=res)
    payload["input"]["bounds"]["bbox"] = [0.0, 0.0, extent, extent]
    size = math.floor(extent / res + 0.5)
    result = outcome(payload)
    if isinstance(result, ApiError):
        assert result.status == 400
        too_coarse = extent / max(size, 1) > 1500.0
        assert size > 2500 or size < 1 or (too_coarse and result.code == "COMMON_EXCEPTION")
    else:
        assert result.width == result.height == size
        assert 1 <= size <= 2500


JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 3000) | st.floats() | st.text(max_size=5),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=8,
)  # fmt: skip
PATHS = [
    "input", "input.bounds", "input.bounds.bbox", "input.bounds.bbox.0", "input.bounds.geometry",
    "input.bounds.properties", "input.bounds.properties.crs", "input.data", "input.data.0",
    "input.data.0.type", "input.data.0.dataFilter", "input.data.0.dataFilter.timeRange",
    "input.data.0.dataFilter.timeRange.to", "input.data.0.processing", "output", "output.width",
    "output.responses", "output.responses.0", "output.responses.0.format", "evalscript",
]  # fmt: skip


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(path=st.sampled_from(PATHS), value=JSON)
def test_any_malformed_value_gives_a_400_never_a_crash(path: str, value: Any) -> None:
    result = outcome(mutate(base_payload(), path, value))  # anything else propagates
    if isinstance(result, ApiError):
        assert result.status == 400
        assert result.code in ("COMMON_BAD_PAYLOAD", "COMMON_EXCEPTION")


# -- the CDSE OpenAPI description -------------------------------------------------------------


SCHEMA_REJECTS: list[tuple[str, str, Any]] = [
    ("no-input", "input", DELETE),
    ("no-evalscript", "evalscript", DELETE),
    ("evalscript-number", "evalscript", 3),
    ("no-bounds", "input.bounds", DELETE),
    ("no-data", "input.data", DELETE),
    ("data-empty", "input.data", []),
    ("data-type-unknown", "input.data.0.type", "sentinel-9"),
    ("bbox-3", "input.bounds.bbox", [1.0, 2.0, 3.0]),
    ("bbox-strings", "input.bounds.bbox", ["13", "45", "14", "46"]),
    ("crs-number", "input.bounds.properties.crs", 4326),
    ("geometry-point", "input.bounds.geometry", {"type": "Point", "coordinates": [14.0, 46.0]}),
    ("geometry-3d", "input.bounds.geometry", {"type": "Polygon", "coordinates": [
        [[14, 46, 1], [14.1, 46, 1], [14, 46.1, 1], [14, 46, 1]]]}),
    ("cloud-negative", "input.data.0.dataFilter.maxCloudCoverage", -1),
    ("cloud-101", "input.data.0.dataFilter.maxCloudCoverage", 101),
    ("order", "input.data.0.dataFilter.mosaickingOrder", "random"),
    ("upsampling", "input.data.0.processing", {"upsampling": "LANCZOS"}),
    ("downsampling", "input.data.0.processing", {"downsampling": "nearest"}),
    ("harmonize-string", "input.data.0.processing", {"harmonizeValues": "false"}),
    ("width-0", "output.width", 0),
    ("width-2501", "output.width", 2501),
    ("width-string", "output.width", "512"),
    ("width-fraction", "output.width", 512.5),
    ("resx-string", "output", {"resx": "10", "resy": 10}),
    ("format-gif", "output.responses.0.format.type", "image/gif"),
    ("jpeg-quality", "output.responses.0.format", {"type": "image/jpeg", "quality": 101}),
    ("jpeg-quality-fraction", "output.responses.0.format", {"type": "image/jpeg", "quality": 50.5}),
    ("identifier-number", "output.responses.0.identifier", 5),
    ("responses-object", "output.responses", {"identifier": "default"}),
    ("timerange-number", "input.data.0.dataFilter.timeRange", 2022),
]  # fmt: skip


@pytest.fixture(scope="module")
def process_schema(openapi_spec: dict[str, Any]) -> Any:
    """A validator of ``ProcessRequest`` with the two quirks of the file fixed (DESIGN.md §3)."""
    import jsonschema

    components = copy.deepcopy(openapi_spec["components"])
    schemas = components["schemas"]
    schemas["ProcessRequestOutputResponse"]["properties"]["identifier"].pop("enum", None)
    byoc_type = schemas["BYOCDataset"]["allOf"][0]["properties"]["type"]
    byoc_type["pattern"] = "^(byoc|batch|zarr)-"
    schema = {"$ref": "#/components/schemas/ProcessRequest", "components": components}
    return jsonschema.Draft202012Validator(schema)


def test_schema_accepts_the_base_payload(process_schema: Any) -> None:
    assert process_schema.is_valid(base_payload())


@pytest.mark.parametrize(
    ("path", "value"), [c[1:] for c in SCHEMA_REJECTS], ids=[c[0] for c in SCHEMA_REJECTS]
)
def test_what_the_schema_rejects_the_emulator_rejects(
    process_schema: Any, emulator: Emulator, token: str, path: str, value: Any
) -> None:
    payload = mutate(base_payload(), path, value)
    assert not process_schema.is_valid(payload)
    response = requests.post(
        emulator.base_url + "/api/v1/process",
        json=payload,
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["status"] == 400
    assert error["reason"] == "Bad Request"
    assert error["code"] in ("COMMON_BAD_PAYLOAD", "COMMON_EXCEPTION")
    assert response.headers["x-s2raster-synthetic"] == "1"
