"""UINT16 DN responses through real HTTP: the same float32 values as FLOAT32, for half the PU.

Every integer band of L2A (the reflective ones, SCL, CLD, SNW), bit for bit, NaN where
dataMask is 0, on dates before and after the 2022 processing baseline (whose +1000 DN offset
harmonizeValues removes), and the emulator's DN checked against the service's definition
(DESIGN.md §3b: reflectance = DN / 10000 with an integer DN).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pytest
import requests

from s2raster._load import LoadStats, load
from s2raster.bands import BANDS, INTEGER_UNITS
from s2raster.evalscript import payload
from s2raster.geotiff import read_raster
from s2raster.plan import make_plan

if TYPE_CHECKING:
    from s2raster.emulator import Emulator

L2A_INTEGER = [
    n for n, b in BANDS["sentinel-2-l2a"].items() if b.units in INTEGER_UNITS and n != "dataMask"
]
BBOX = (13.80, 45.85, 13.83, 45.865)
TIMES = ["2021-06-01/2021-06-30", "2024-06-01/2024-06-30"]


@pytest.mark.parametrize("time", TIMES)
def test_every_integer_band_is_bit_identical(emulator: Emulator, time: str) -> None:
    f32_stats, u16_stats = LoadStats(), LoadStats()
    kw = {"config": emulator.config(), "cache": False, "ledger": False, "resolution": 20}
    f32 = load(BBOX, time, L2A_INTEGER, stats=f32_stats, **kw).compute()
    u16 = load(BBOX, time, L2A_INTEGER, sample_type="UINT16", stats=u16_stats, **kw).compute()
    assert u16.dtype == np.float32
    assert u16.attrs["response_sample_type"] == "UINT16"
    for band in L2A_INTEGER:
        a = f32.sel(band=band).values
        b = u16.sel(band=band).values
        assert np.array_equal(a.view(np.uint32), b.view(np.uint32)), band
    assert np.isnan(f32.values).any() == np.isnan(u16.values).any()
    assert u16_stats.processing_units_spent == pytest.approx(f32_stats.processing_units_spent / 2)
    assert u16_stats.bytes < f32_stats.bytes


def test_no_data_pixels_are_nan_both_ways(emulator: Emulator) -> None:
    """Pixels outside a polygon have dataMask 0: NaN in the same pixels both ways."""
    kw = {"config": emulator.config(), "cache": False, "ledger": False, "resolution": 20}
    triangle = {
        "type": "Polygon",
        "coordinates": [[[13.80, 45.85], [13.83, 45.85], [13.80, 45.865], [13.80, 45.85]]],
    }
    f32 = load(None, TIMES[1], ["B04", "SCL"], geometry=triangle, **kw).compute()
    u16 = load(
        None, TIMES[1], ["B04", "SCL"], geometry=triangle, sample_type="UINT16", **kw
    ).compute()
    assert np.isnan(f32.values).any()
    assert np.array_equal(np.isnan(f32.values), np.isnan(u16.values))
    assert np.array_equal(f32.values.view(np.uint32), u16.values.view(np.uint32))


def _post(emulator: Emulator, token: str, body: dict[str, object]) -> requests.Response:
    response = requests.post(
        emulator.base_url + "/api/v1/process",
        json=body,
        headers={"Authorization": f"Bearer {token}"},
        timeout=60,
    )
    response.raise_for_status()
    return response


def test_the_emulator_dn_is_the_services(emulator: Emulator, token: str) -> None:
    """units "DN" + UINT16: integers, each reflectance x 10000 exactly (harmonised: no
    offset, no negative), and the PU header half the FLOAT32 one."""
    bands = ["B02", "B04", "B08", "B11", "B12"]
    f32 = make_plan(BBOX, TIMES[1], bands).requests[0]
    u16 = make_plan(BBOX, TIMES[1], bands, sample_type="UINT16").requests[0]
    a, b = _post(emulator, token, payload(f32)), _post(emulator, token, payload(u16))
    refl, dn = read_raster(a.content).array, read_raster(b.content).array
    assert dn.dtype == np.uint16
    assert refl.dtype == np.float32
    assert np.array_equal((dn[:-1] / 10000.0).astype(np.float32), refl[:-1])
    assert np.array_equal(dn[-1], refl[-1])  # dataMask
    assert float(b.headers["x-processingunits-spent"]) == pytest.approx(
        float(a.headers["x-processingunits-spent"]) / 2, rel=1e-5
    )  # the header has 6 significant digits
    assert float(b.headers["x-processingunits-spent"]) == pytest.approx(u16.estimated_pu, rel=1e-5)
