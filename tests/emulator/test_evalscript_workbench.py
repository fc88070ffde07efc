"""The emulator as an evalscript workbench: what a script author meets, over real HTTP.

console.log in the request log, the service's wordings, zero-area boxes, PU only for
successes (script kinds, scenes and utilities have their own test files).
"""

from __future__ import annotations

import io

import pytest
import requests
import tifffile
from process_helpers import error_message, payload, post
from rasterio.io import MemoryFile

from s2raster.emulator import Emulator, RateLimit

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
    with tifffile.TiffFile(io.BytesIO(response.content)) as raw:  # origin kept, scale 0
        assert raw.pages[0].tags[33922].value[3:5] == (bbox[0], bbox[3])
        assert raw.pages[0].tags[33550].value[:2] == pytest.approx(((bbox[2] - bbox[0]) / 10, 0))
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


# -- PU only for answers that succeed -------------------------------------------------------

COSTLY = """//VERSION=3
function setup() {
  return { input: ["B02", "B03", "B04", "B05", "B06", "B07"],
           output: { bands: 1, sampleType: "FLOAT32" } };
}
function evaluatePixel(s) { %s return [s.B02]; }
"""


def test_failed_answers_cost_no_pu() -> None:
    """Only answers that succeed are charged (forum.sentinel-hub.com/t/8868: "If you hit the
    rate limit error, or there is a sporadic error in our system, processing units are not
    counted"). A bucket of 1.5 PU refills 1 PU in 40 s; each request costs 1.2 PU."""
    size = (256, 308)  # 6 bands, FLOAT32: 1.2 PU
    with Emulator(rate_limit=RateLimit(pu_per_minute=1.5)) as emu:
        token = emu_token(emu)
        failing = payload(COSTLY % "if (s.B02 > -1) throw new Error('broken');", size=size)
        for _ in range(3):  # would take 3.6 PU if charged
            assert post(emu, token, failing).status_code == 400
        ok = post(emu, token, payload(COSTLY % "", size=size))
        assert ok.status_code == 200, ok.text
        assert float(ok.headers["x-processingunits-spent"]) == pytest.approx(1.2, rel=0.01)
        again = post(emu, token, payload(COSTLY % "", size=size))
        assert again.status_code == 429
        assert [r.pu for r in emu.log if r.path == "/api/v1/process"] == [
            0,
            0,
            0,
            pytest.approx(1.2, rel=0.01),
            0,
        ]


def emu_token(emu: Emulator) -> str:
    response = requests.post(
        emu.token_url,
        data={
            "grant_type": "client_credentials",
            "client_id": emu.client_id,
            "client_secret": emu.client_secret,
        },
        timeout=10,
    )
    response.raise_for_status()
    return str(response.json()["access_token"])
