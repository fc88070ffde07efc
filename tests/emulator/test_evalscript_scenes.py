"""What a script learns of its scenes: ``scenes`` objects with the documented fields and
MGRS-like tiles that follow the ground, ``inputMetadata``, ``preProcessScenes`` and the
older ``filterScenes`` honoured (over real HTTP, plus the tile grid on its own)."""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pytest
from process_helpers import error_message, payload, post, userdata
from rasterio.io import MemoryFile

from s2raster.emulator import Emulator
from s2raster.emulator.earth import tiles_of

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
#: The box of the CDSE guide "Working with metadata in evalscript" (tiles 33TUL, 33TVL).
GUIDE_BOX = [13.8, 45.8, 13.9, 45.9]
JUNE = ("2020-06-01T00:00:00Z", "2020-06-30T23:59:59Z")
ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


@pytest.mark.parametrize(
    ("bbox", "tiles"),
    [
        (GUIDE_BOX, ["33TVL", "33TUL"]),
        ([46.16, -16.15, 46.51, -15.58], ["38LPH"]),  # sentinelhub-py's box, its tile T38LPH
        ([14.51, 46.05, 14.51, 46.05], ["33TVL"]),
    ],
)
def test_tiles_follow_the_ground(bbox: list[float], tiles: list[str]) -> None:
    assert tiles_of(bbox) == tiles


def test_tiles_of_large_or_odd_boxes() -> None:
    assert len(tiles_of([-180, -90, 180, 90])) == 16
    assert all(t.startswith("60") for t in tiles_of([179.9, 10, 179.99, 10.1]))
    assert tiles_of([-0.05, 51.45, 0.05, 51.55])[:1] != tiles_of([13.8, 45.8, 13.9, 45.9])[:1]


METADATA = """//VERSION=3
function setup() {
  return { input: ["B02", "dataMask"], mosaicking: "%s", output: { bands: 1 } };
}
function evaluatePixel(samples) { return [samples.length / 10]; }
function updateOutputMetadata(scenes, inputMetadata, outputMetadata) {
  outputMetadata.userData = { scenes: scenes, inputMetadata: inputMetadata };
}
"""
WITH_USERDATA = (("default", "image/tiff"), ("userdata", "application/json"))


def scenes_of(emulator: Emulator, token: str, script: str, **options: Any) -> dict[str, Any]:
    body = payload(script, responses=WITH_USERDATA, bbox=GUIDE_BOX, crs=CRS84, **options)
    response = post(emulator, token, body, Accept="application/x-tar")
    assert response.status_code == 200, response.text
    return dict(userdata(response))


def test_orbit_scenes_have_the_documented_fields(emulator: Emulator, token: str) -> None:
    got = scenes_of(emulator, token, METADATA % "ORBIT", time=JUNE)
    orbits = got["scenes"]["orbits"]
    assert len(orbits) >= 5
    assert [o["__idx"] for o in orbits] == list(range(len(orbits)))
    for orbit in orbits:
        day = orbit["dateFrom"][:10]
        assert (orbit["dateFrom"], orbit["dateTo"]) == (f"{day}T00:00:00Z", f"{day}T23:59:59Z")
        assert [t["dataPath"].split("/")[4:7] for t in orbit["tiles"]] == [
            ["33", "T", "VL"],
            ["33", "T", "UL"],
        ]
        for tile in orbit["tiles"]:
            assert set(tile) == {"date", "shId", "cloudCoverage", "dataPath"}
            assert ISO.match(tile["date"])
            assert tile["date"].startswith(day)
            assert isinstance(tile["shId"], int)
            assert 0 <= tile["cloudCoverage"] <= 100
            y, m, d = (int(v) for v in day.split("-"))
            assert tile["dataPath"].endswith(f"/{y}/{m}/{d}/0")
        assert orbit["tiles"][0]["shId"] != orbit["tiles"][1]["shId"]
    assert got["inputMetadata"] == {
        "serviceVersion": "s2raster-emulator",
        "normalizationFactor": 0.0001,
    }


def test_tile_scenes_have_the_documented_fields(emulator: Emulator, token: str) -> None:
    tiles = scenes_of(emulator, token, METADATA % "TILE", time=JUNE)["scenes"]["tiles"]
    assert [t["__idx"] for t in tiles] == list(range(len(tiles)))
    assert all(set(t) == {"date", "shId", "cloudCoverage", "dataPath", "__idx"} for t in tiles)
    # the box lies in the overlap of two tiles: each pass gives both, one scene each
    squares = {tuple(t["dataPath"].split("/")[4:7]) for t in tiles}
    assert squares == {("33", "T", "VL"), ("33", "T", "UL")}


@pytest.mark.parametrize(
    ("units", "factor"),
    [('["REFLECTANCE", "DN"]', 0.0001), ('"DN"', 1), ('["DN", "DN"]', 1)],
)
def test_normalization_factor_per_units(
    emulator: Emulator, token: str, units: str, factor: float
) -> None:
    script = METADATA.replace(
        'input: ["B02", "dataMask"]', f'input: [{{bands: ["B02", "SCL"], units: {units}}}]'
    )
    got = scenes_of(emulator, token, script % "SIMPLE")
    assert got["inputMetadata"]["normalizationFactor"] == factor
    assert got["scenes"] == {}


FILTER = """//VERSION=3
function setup() {
  return { input: ["B02", "dataMask"], mosaicking: "%s",
           output: { bands: 1, sampleType: "FLOAT32" } };
}
var seen = null;
function filterScenes(scenes, inputMetadata) {
  seen = { n: scenes.length, isDate: scenes[0].date instanceof Date,
           from: inputMetadata.from.toISOString(), to: inputMetadata.to.toISOString() };
  var since = inputMetadata.to.getTime() - 10 * 86400000;
  return scenes.filter(function (s) { return s.date.getTime() >= since; });
}
function evaluatePixel(samples) { return [%s]; }
function updateOutputMetadata(scenes, inputMetadata, outputMetadata) {
  outputMetadata.userData = { seen: seen, scenes: scenes };
}
"""


def test_filter_scenes_is_honoured_for_orbit(emulator: Emulator, token: str) -> None:
    got = scenes_of(emulator, token, FILTER % ("ORBIT", "samples.length"), time=JUNE)
    assert got["seen"]["isDate"] is True
    assert got["seen"]["from"] == "2020-06-01T00:00:00.000Z"
    assert got["seen"]["to"] == "2020-06-30T23:59:59.000Z"
    kept = got["scenes"]["orbits"]
    assert 0 < len(kept) < got["seen"]["n"]
    assert all(o["dateFrom"] >= "2020-06-20" for o in kept)


def test_filter_scenes_picks_the_scenes_of_a_simple_mosaic(emulator: Emulator, token: str) -> None:
    """filterScenes in SIMPLE: the mosaic is made of the scenes kept only, the same as
    asking for the last ten days with a script that keeps them all."""
    script = FILTER % ("SIMPLE", "samples.B02")
    keep_all = script.replace("return scenes.filter", "return scenes; scenes.filter")
    filtered = payload(script, bbox=GUIDE_BOX, crs=CRS84, time=JUNE)
    narrow = payload(keep_all, bbox=GUIDE_BOX, crs=CRS84, time=("2020-06-20T23:59:59Z", JUNE[1]))
    images = []
    for body in (filtered, narrow):
        response = post(emulator, token, body)
        assert response.status_code == 200, response.text
        with MemoryFile(response.content) as memfile, memfile.open() as tif:
            images.append(tif.read())
    np.testing.assert_array_equal(images[0], images[1])


def test_filter_scenes_must_return_scenes(emulator: Emulator, token: str) -> None:
    script = FILTER.replace("return scenes.filter", "return 3; scenes.filter")
    body = payload(script % ("ORBIT", "samples.length"), time=JUNE)
    assert "must return an array of the scenes given" in error_message(post(emulator, token, body))


PREPROCESS = """//VERSION=3
function setup() {
  return { input: ["B02"], mosaicking: "ORBIT", output: { bands: 1, sampleType: "UINT8" } };
}
var range = null;
function preProcessScenes(collections) {
  range = [collections.from.toISOString(), collections.to.toISOString(),
           collections.scenes.orbits.length, "tiles" in collections.scenes.orbits[0]];
  collections.scenes.orbits = collections.scenes.orbits.slice(0, 2);
  return collections;
}
function evaluatePixel(samples) { return [samples.length]; }
function updateOutputMetadata(scenes, inputMetadata, outputMetadata) {
  outputMetadata.userData = { range: range, kept: scenes.orbits.length };
}
"""


def test_preprocess_scenes_sees_the_time_range(emulator: Emulator, token: str) -> None:
    got = scenes_of(emulator, token, PREPROCESS, time=JUNE)
    start, end, n, has_tiles = got["range"]
    assert (start, end) == ("2020-06-01T00:00:00.000Z", "2020-06-30T23:59:59.000Z")
    assert n > 2
    assert has_tiles is False  # as documented: orbits without their tiles
    assert got["kept"] == 2
