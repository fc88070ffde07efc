"""sample_type="UINT16": the plan, the evalscript, the PU and the exact conversion on reading."""

from __future__ import annotations

import re

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from s2raster.bands import BANDS, INTEGER_UNITS
from s2raster.contract import processing_units
from s2raster.errors import BandError, InputError
from s2raster.evalscript import evalscript, payload
from s2raster.geotiff import read_tile
from s2raster.grid import Grid
from s2raster.plan import make_plan
from s2raster.query import make_query
from s2raster.testing import geotiff_bytes

BBOX = (13.80, 45.85, 13.84, 45.87)
TIME = "2024-06-01/2024-06-30"
L2A_INTEGER = [
    n for n, b in BANDS["sentinel-2-l2a"].items() if b.units in INTEGER_UNITS and n != "dataMask"
]


def test_the_uint16_plan_costs_half() -> None:
    f32 = make_plan(BBOX, TIME, ["B02", "B03", "B04", "B08"])
    u16 = make_plan(BBOX, TIME, ["B02", "B03", "B04", "B08"], sample_type="uint16")
    assert u16.query.sample_type == "UINT16"
    assert u16.estimated_pu == pytest.approx(f32.estimated_pu / 2)
    assert f32.estimated_pu_as("UINT16") == pytest.approx(u16.estimated_pu)
    assert u16.download_bytes * 2 == f32.download_bytes
    assert f32.summary()["estimated_pu_by_sample_type"] == {
        "FLOAT32": pytest.approx(f32.estimated_pu),
        "UINT16": pytest.approx(u16.estimated_pu),
    }


def test_a_full_2500_px_4_band_tile_both_ways() -> None:
    assert processing_units(2500, 2500, 4) == pytest.approx(63.578, abs=1e-3)
    assert processing_units(2500, 2500, 4, float32=False) == pytest.approx(31.789, abs=1e-3)


def test_the_uint16_evalscript_reads_dn() -> None:
    script = evalscript(["B04", "SCL", "CLD", "SNW"], sample_type="UINT16")
    assert 'sampleType: "UINT16"' in script
    assert 'units: ["DN", "DN", "PERCENT", "PERCENT", "DN"]' in script
    assert re.search(r'bands: \["B04", "SCL", "CLD", "SNW", "dataMask"\]', script)
    assert 'sampleType: "FLOAT32"' in evalscript(["B04"])


def test_the_sample_type_is_part_of_the_payload_and_so_of_the_cache_key() -> None:
    f32 = make_plan(BBOX, TIME, ["B04"]).requests[0]
    u16 = make_plan(BBOX, TIME, ["B04"], sample_type="UINT16").requests[0]
    assert payload(f32) != payload(u16)
    assert payload(f32)["input"] == payload(u16)["input"]


@pytest.mark.parametrize("band", ["AOT", "sunZenithAngles", "viewAzimuthMean"])
def test_non_integer_bands_are_refused(band: str) -> None:
    with pytest.raises(BandError, match=rf"{band} is not integer.*FLOAT32"):
        make_query(TIME, ["B04", band], sample_type="UINT16")
    make_query(TIME, ["B04", band])  # fine as FLOAT32


@pytest.mark.parametrize("what", ["upsampling", "downsampling"])
def test_interpolating_resampling_is_refused(what: str) -> None:
    with pytest.raises(InputError, match=rf"{what}='BILINEAR' would round"):
        make_query(TIME, ["B04"], sample_type="UINT16", **{what: "BILINEAR"})


def test_an_unknown_sample_type_is_refused() -> None:
    with pytest.raises(InputError, match=r"unknown sample_type 'UINT8'.*FLOAT32, UINT16"):
        make_query(TIME, ["B04"], sample_type="UINT8")


def test_divisors_per_band() -> None:
    query = make_query(TIME, ["B04", "SCL", "CLD", "B8A"], sample_type="UINT16")
    assert query.divisors == (10000.0, 1.0, 1.0, 10000.0)
    assert make_query(TIME, ["B04"]).divisors is None


GRID = Grid.from_bbox((0, 0, 40, 30), bbox_crs="EPSG:32633", resolution=10, crs="EPSG:32633")


def _response(dn: np.ndarray, mask: np.ndarray) -> bytes:
    data = np.concatenate([dn, mask[None]]).astype(np.uint16)
    return geotiff_bytes(data, crs=GRID.crs, transform=GRID.transform)


@given(st.integers(0, 2**16 - 1), st.integers(0, 2**16 - 1))
def test_dn_to_reflectance_is_the_float32_division(a: int, b: int) -> None:
    """DN / 10000 in float64, then cast, is what float32 division (the service's FLOAT32
    reflectance) gives, for every DN a UINT16 response can carry."""
    dn = np.array([[[a] * 4] * 3, [[b] * 4] * 3], np.uint16)
    mask = np.ones((3, 4), np.uint16)
    tile = read_tile(_response(dn, mask), GRID, ["B04", "SCL"], (10000.0, 1.0))
    assert tile.data.dtype == np.float32
    assert tile.data[0, 0, 0] == np.float32(a) / np.float32(10000)
    assert tile.data[1, 0, 0] == np.float32(b)


def test_every_uint16_dn_converts_exactly() -> None:
    dn = np.arange(2**16, dtype=np.float64)
    mine = (dn / 10000.0).astype(np.float32)
    service = dn.astype(np.float32) / np.float32(10000.0)
    assert np.array_equal(mine.view(np.uint32), service.view(np.uint32))


def test_no_data_becomes_nan() -> None:
    dn = np.full((1, 3, 4), 1234, np.uint16)
    mask = np.ones((3, 4), np.uint16)
    mask[0, 0] = 0
    tile = read_tile(_response(dn, mask), GRID, ["B04"], (10000.0,))
    assert np.isnan(tile.data[0, 0, 0])
    assert tile.data[0, 1, 1] == np.float32(0.1234)


def test_a_float_response_to_a_uint16_request_is_refused() -> None:
    data = np.ones((2, 3, 4), np.float32)
    content = geotiff_bytes(data, crs=GRID.crs, transform=GRID.transform)
    from s2raster.errors import ResponseError

    with pytest.raises(ResponseError, match="float32, the request asked for UINT16"):
        read_tile(content, GRID, ["B04"], (10000.0,))


@pytest.mark.parametrize("band", L2A_INTEGER)
def test_every_integer_l2a_band_has_integer_units(band: str) -> None:
    query = make_query(TIME, [band], sample_type="UINT16")
    assert query.divisors in ((1.0,), (10000.0,))
