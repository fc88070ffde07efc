"""The emulator as an evalscript workbench: what a script author meets, over real HTTP.

console.log in the request log, every kind of script the Process API takes, the service's
wordings, inputMetadata and the scenes objects, zero-area boxes, PU only for successes.
"""

from __future__ import annotations

import io
import json
import tarfile
from typing import Any

import pytest
import requests
from rasterio.io import MemoryFile

from s2raster.emulator import Emulator

UTM = "http://www.opengis.net/def/crs/EPSG/0/32633"
BOX = [400000.0, 5080000.0, 400160.0, 5080160.0]


def payload(
    evalscript: str,
    *,
    responses: tuple[tuple[str, str], ...] = (("default", "image/tiff"),),
    bbox: list[float] | None = None,
    crs: str = UTM,
    size: tuple[int, int] = (16, 16),
    time: tuple[str, str] = ("2023-06-01T00:00:00Z", "2023-06-30T23:59:59Z"),
) -> dict[str, Any]:
    return {
        "input": {
            "bounds": {"bbox": bbox or BOX, "properties": {"crs": crs}},
            "data": [
                {
                    "type": "sentinel-2-l2a",
                    "dataFilter": {"timeRange": {"from": time[0], "to": time[1]}},
                }
            ],
        },
        "output": {
            "width": size[0],
            "height": size[1],
            "responses": [{"identifier": i, "format": {"type": m}} for i, m in responses],
        },
        "evalscript": evalscript,
    }


def post(emulator: Emulator, token: str, body: dict[str, Any], **headers: str) -> requests.Response:
    return requests.post(
        emulator.base_url + "/api/v1/process",
        json=body,
        headers={"Authorization": f"Bearer {token}", **headers},
        timeout=60,
    )


def userdata(response: requests.Response) -> Any:
    with tarfile.open(fileobj=io.BytesIO(response.content)) as tar:
        member = tar.extractfile("userdata.json")
        assert member is not None
        return json.load(member)


def error_message(response: requests.Response) -> str:
    assert response.status_code == 400, response.text
    return str(response.json()["error"]["message"])


# -- console.log ---------------------------------------------------------------------------

CONSOLE = """//VERSION=3
function setup() {
  console.log("setup", {bands: 1});
  return { input: ["B04"], output: { bands: 1, sampleType: "FLOAT32" } };
}
var n = 0;
function evaluatePixel(s) {
  if (n++ < 2) console.log("pixel", n);
  if (s.B04 < -1) throw new Error("never");
  return [s.B04];
}
"""


def test_console_log_reaches_the_request_log(emulator: Emulator, token: str) -> None:
    response = post(emulator, token, payload(CONSOLE))
    assert response.status_code == 200
    served = emulator.log[-1]
    assert served.path == "/api/v1/process"
    assert served.console == ('setup {"bands":1}', "pixel 1", "pixel 2")
    assert "console" not in response.headers


def test_console_log_of_a_failing_script_is_kept(emulator: Emulator, token: str) -> None:
    failing = CONSOLE.replace('throw new Error("never")', "")
    failing = failing.replace("return [s.B04];", 'console.log("before"); null.x; return [0];')
    response = post(emulator, token, payload(failing))
    assert response.status_code == 400
    assert emulator.log[-1].console[-1] == "before"


def test_console_output_is_bounded(emulator: Emulator, token: str) -> None:
    chatty = CONSOLE.replace('if (n++ < 2) console.log("pixel", n);', 'console.log("x");')
    assert post(emulator, token, payload(chatty)).status_code == 200
    lines = emulator.log[-1].console
    assert len(lines) == 201
    assert lines[-1] == f"... {16 * 16 + 1 - 200} more console line(s) dropped"


# -- the service's words ------------------------------------------------------------------

UNITS = """//VERSION=3
function setup() {
  return { input: [{ bands: ["B04", "%s"], units: "%s" }], output: { bands: 1 } };
}
function evaluatePixel(s) { return [s.B04]; }
"""


@pytest.mark.parametrize(
    ("band", "units", "supported"),
    [("SCL", "REFLECTANCE", "[DN]"), ("CLD", "REFLECTANCE", "[PERCENT, DN]")],
)
def test_unsupported_units_in_the_service_words(
    emulator: Emulator, token: str, band: str, units: str, supported: str
) -> None:
    before = emulator.log.count(path="/api/v1/process", status=200)
    response = post(emulator, token, payload(UNITS % (band, units)))
    assert error_message(response) == (
        f"Invalid script! Band '{band}' of collection 'S2L2A' requested in unsupported "
        f"units '{units}'! Supported units for this band: {supported}."
    )
    assert response.json()["error"]["code"] == "RENDERER_EXCEPTION"
    assert emulator.log[-1].pu == 0
    assert emulator.log.count(path="/api/v1/process", status=200) == before


# -- a bbox without area ------------------------------------------------------------------

FLOAT_B04 = """//VERSION=3
function setup() {
  return { input: ["B04", "dataMask"], output: { bands: 2, sampleType: "FLOAT32" } };
}
function evaluatePixel(s) { return [s.B04, s.dataMask]; }
"""
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"


@pytest.mark.parametrize(
    "bbox", [[14.51, 46.05, 14.51, 46.05], [14.50, 46.05, 14.52, 46.05]], ids=["point", "line"]
)
def test_a_bbox_without_area_is_served(emulator: Emulator, token: str, bbox: list[float]) -> None:
    """As the service (sentinelhub-py's test_valid_evalscript asks a point for 10 x 20 px)."""
    response = post(emulator, token, payload(FLOAT_B04, bbox=bbox, crs=CRS84, size=(10, 20)))
    assert response.status_code == 200, response.text
    with MemoryFile(response.content) as memfile, memfile.open() as tif:
        data = tif.read()
        assert (tif.width, tif.height, tif.count) == (10, 20, 2)
        assert (tif.transform.c, tif.transform.f) == (bbox[0], bbox[3])
    assert (data[1] == 1).all()
    if bbox[0] == bbox[2]:
        assert (data[0] == data[0, 0, 0]).all()  # every pixel is the point


def test_a_bbox_without_area_needs_both_sides(emulator: Emulator, token: str) -> None:
    body = payload(FLOAT_B04, bbox=[14.51, 46.05, 14.51, 46.05], crs=CRS84)
    del body["output"]["height"]
    assert "set both output.width and output.height" in error_message(post(emulator, token, body))


def test_a_reversed_bbox_is_still_refused(emulator: Emulator, token: str) -> None:
    body = payload(FLOAT_B04, bbox=[14.52, 46.05, 14.51, 46.06], crs=CRS84)
    assert "is reversed" in error_message(post(emulator, token, body))
