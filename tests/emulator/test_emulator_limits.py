"""Process API limits and refusals: time ranges, memory, time, formats, odd bounds.

Each test calls :func:`s2raster.emulator._process.process` directly (no HTTP) and checks
that a request the service would answer (or refuse with a 400) never hangs, exhausts
memory, outlives its time limit or comes out as a 500.
"""

from __future__ import annotations

import io
import json
from datetime import datetime, timezone
from typing import Any

import numpy as np
import pytest
import rasterio

from s2raster.emulator import earth
from s2raster.emulator._process import Processed, process
from s2raster.emulator.earth import _scenes as scenes
from s2raster.emulator.errors import RequestError
from s2raster.emulator.request import ApiError
from s2raster.emulator.runtime import EvalscriptError, parse_setup, run
from s2raster.emulator.runtime._engine import Engine
from s2raster.emulator.runtime._loop import PixelLoop

BOX = (14.873, 44.85, 14.92, 44.88)  # one tile, seen by relative orbits 79 and 122
L2A = "sentinel-2-l2a"
WORLD = (-180.0, -90.0, 180.0, 90.0)
UTM33 = "http://www.opengis.net/def/crs/EPSG/0/32633"
FLOAT1 = """//VERSION=3
function setup() {
  return { input: ["B04", "dataMask"], output: { bands: 2, sampleType: "FLOAT32" } };
}
function evaluatePixel(s) { return [s.B04, s.dataMask]; }
"""


def body(
    evalscript: str = FLOAT1,
    *,
    bbox: tuple[float, ...] = (400000.0, 5000000.0, 400160.0, 5000160.0),
    crs: str = UTM33,
    time_range: tuple[str, str] = ("2022-07-01T00:00:00Z", "2022-07-10T00:00:00Z"),
    size: int = 16,
    mime: str = "image/tiff",
) -> bytes:
    payload = {
        "input": {
            "bounds": {"bbox": list(bbox), "properties": {"crs": crs}},
            "data": [
                {
                    "type": L2A,
                    "dataFilter": {"timeRange": {"from": time_range[0], "to": time_range[1]}},
                }
            ],
        },
        "output": {
            "width": size,
            "height": size,
            "responses": [{"identifier": "default", "format": {"type": mime}}],
        },
        "evalscript": evalscript,
    }
    return json.dumps(payload).encode()


def serve(raw: bytes, **options: Any) -> Processed:
    return process(raw, content_type="application/json", accept="", **options)


def refused(raw: bytes, charged: list[float] | None = None, **options: Any) -> ApiError:
    with pytest.raises(ApiError) as info:
        serve(raw, check_pu=None if charged is None else charged.append, **options)
    return info.value


def read_tiff(content: bytes) -> np.ndarray:
    with rasterio.open(io.BytesIO(content)) as ds:
        return ds.read()


# -- time ranges ----------------------------------------------------------------------------


def test_acquisitions_stop_now_whatever_the_end() -> None:
    start = datetime(2024, 1, 1, tzinfo=timezone.utc)
    found = scenes.acquisitions(L2A, BOX, start, datetime(2100, 1, 1, tzinfo=timezone.utc))
    now = datetime.now(timezone.utc)
    assert found
    assert all(a.datetime <= now for a in found)
    assert found == scenes.acquisitions(L2A, BOX, start, now)


def test_ranges_outside_the_archive_are_empty_not_reversed() -> None:
    future = (datetime(9000, 1, 1, tzinfo=timezone.utc), datetime(9999, 12, 31))
    assert scenes.acquisitions(L2A, WORLD, *future) == []
    past = (datetime(1990, 1, 1, tzinfo=timezone.utc), datetime(2000, 1, 1))
    assert scenes.acquisitions(L2A, WORLD, *past) == []
    with pytest.raises(RequestError, match="reversed"):
        scenes.acquisitions(L2A, WORLD, future[1], future[0])


def test_far_future_time_range_answers_at_once() -> None:
    result = serve(body(time_range=("2022-07-01T00:00:00Z", "9999-12-31T00:00:00Z")))
    assert result.content_type == "image/tiff"
    assert read_tiff(result.content)[1].max() == 1  # data from the acquisitions to date


def test_acquisitions_are_built_once_per_pass_and_tile() -> None:
    (first,) = scenes.acquisitions(L2A, BOX, datetime(2024, 6, 8), datetime(2024, 6, 9))
    assert first.pass_ is not None
    assert first.tile is not None
    again = scenes.acquisition_of(first.pass_, first.tile)
    assert again is scenes.acquisition_of(first.pass_, first.tile)
    assert again == first
    assert scenes.acquisition_of(first.pass_, first.tile, "sentinel-2-l1c") is not again


# -- memory ---------------------------------------------------------------------------------

ORBIT_SUM = """//VERSION=3
function setup() {
  return { input: ["B04", "B08"], output: { bands: 1, sampleType: "FLOAT32" },
           mosaicking: "ORBIT" };
}
function evaluatePixel(samples) {
  var t = 0; for (var i = 0; i < samples.length; i++) t += samples[i].B04 + samples[i].B08;
  return [t];
}
"""


def test_orbit_over_years_is_refused_before_rendering_and_charging() -> None:
    raw = body(ORBIT_SUM, time_range=("2020-01-01T00:00:00Z", "2022-01-01T00:00:00Z"), size=300)
    charged: list[float] = []
    error = refused(raw, charged, memory_mb=16)
    assert (error.status, error.code) == (400, "COMMON_BAD_PAYLOAD")
    assert "fewer scenes" in error.message
    assert "64 MiB" in error.message
    assert charged == []


def test_huge_output_is_refused_before_rendering(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(earth, "render", _never)
    many = FLOAT1.replace("bands: 2", "bands: 1024").replace("[s.B04, s.dataMask]", "[0]")
    error = refused(body(many, size=160), [], memory_mb=16)
    assert error.status == 400
    assert "fewer bands" in error.message


def _never(*args: Any, **kwargs: Any) -> Any:
    raise AssertionError("rendered although the request had to be refused first")


def test_outputs_grown_by_update_output_are_refused() -> None:
    text = (
        "//VERSION=3\nfunction setup() {\n"
        "  return { input: ['B04'], output: { bands: 1, sampleType: 'FLOAT32' } };\n}\n"
        "function updateOutput(outputs) { outputs.default.bands = 1024; }\n"
        "function evaluatePixel(s) { return new Array(1024).fill(0); }\n"
    )
    samples = [{"B04": np.zeros((160, 160), np.float32)}]
    with pytest.raises(EvalscriptError, match="fewer bands"):
        run(text, parse_setup(text), samples, [], (160, 160), memory_mb=16)


def test_pixel_blocks_shrink_with_the_number_of_scenes() -> None:
    text = ORBIT_SUM
    with Engine(text) as engine:
        engine.eval("setup(); 0")
        outs, types = [("default", 1)], {"default": "FLOAT32"}
        loop = PixelLoop(engine, ["B04", "B08"], outs, types, (8, 16), 4, block_px=64)
        assert loop.rows == 1
        assert all(view.size == 64 for view in loop.ins)


# -- the runtime's own typed arrays ---------------------------------------------------------


@pytest.mark.parametrize("expr", ["new __s2r.F64(20e6)", "new __s2r.F32(20e6)"])
def test_scripts_cannot_reach_unmetered_constructors(expr: str) -> None:
    with Engine("//VERSION=3\n", memory_mb=16) as engine:
        with pytest.raises(EvalscriptError):
            engine.eval(f"{expr}.length")
        assert engine.eval("Object.keys(__s2r).join()") == "failure,fail,console"


# -- one time limit per request -------------------------------------------------------------

SLOW_SETUP = """//VERSION=3
function setup() {
  var until = Date.now() + 400; while (Date.now() < until) {}
  return { input: ["B04"], output: { bands: 1, sampleType: "FLOAT32" }, mosaicking: "ORBIT" };
}
function preProcessScenes(collections) { return collections; }
function evaluatePixel(samples) { return [samples.length]; }
"""


def test_time_limit_bounds_the_whole_request() -> None:
    # setup() runs in each of the three contexts of the request: 3 x 0.4 s > 1 s.
    error = refused(body(SLOW_SETUP, size=2), timeout=1.0)
    assert error.code == "RENDERER_EXCEPTION"
    assert "time limit of 1 s" in error.message


def test_an_expired_deadline_stops_at_once() -> None:
    with pytest.raises(EvalscriptError, match="time limit"):
        parse_setup(FLOAT1, timeout=30.0, deadline=0.0)


# -- bounds and formats ---------------------------------------------------------------------


def test_request_across_the_antimeridian() -> None:
    utm1 = "http://www.opengis.net/def/crs/EPSG/0/32601"
    month = ("2022-07-01T00:00:00Z", "2022-07-31T00:00:00Z")  # passes cover the whole box
    raw = body(
        bbox=(250000.0, 5000000.0, 280000.0, 5030000.0), crs=utm1, size=100, time_range=month
    )
    data = read_tiff(serve(raw).content)
    assert data[1].min() == 1
    assert np.isfinite(data).all()


def test_input_errors_anywhere_are_400s(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RequestError("something the request asked for is impossible")

    monkeypatch.setattr(earth, "acquisitions", broken)
    error = refused(body())
    assert (error.status, error.code) == (400, "COMMON_BAD_PAYLOAD")
    assert "impossible" in error.message


@pytest.mark.parametrize(
    ("mime", "sample_type"), [("image/png", "FLOAT32"), ("image/jpeg", "UINT16")]
)
def test_format_and_sample_type_mismatch_is_refused_first(
    monkeypatch: pytest.MonkeyPatch, mime: str, sample_type: str
) -> None:
    monkeypatch.setattr(earth, "render", _never)
    text = FLOAT1.replace("FLOAT32", sample_type).replace("bands: 2", "bands: 1")
    charged: list[float] = []
    error = refused(body(text.replace("[s.B04, s.dataMask]", "[s.B04]"), mime=mime), charged)
    assert error.status == 400
    assert mime.split("/")[1].upper() in error.message
    assert charged == []
