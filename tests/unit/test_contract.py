"""The facts both the client and the emulator take from ``s2raster.contract``, pinned twice:
by literals (a change must be deliberate) and against the CDSE API description."""

from __future__ import annotations

import math
from typing import Any

import pytest

from s2raster import contract


def test_literals() -> None:
    assert contract.PROCESS_PATH == "/api/v1/process"
    assert contract.CATALOG_SEARCH_PATH == "/api/v1/catalog/1.0.0/search"
    assert contract.STATISTICS_PATH == "/api/v1/statistics"
    assert contract.MAX_PX == 2500
    assert contract.MAX_RESOLUTION_M == 1500.0
    assert pytest.approx(111_319.490793, abs=1e-6) == contract.METRES_PER_DEGREE
    assert contract.MOSAICKING_ORDERS == ("mostRecent", "leastRecent", "leastCC")
    assert contract.RESAMPLING == ("NEAREST", "BILINEAR", "BICUBIC")
    assert contract.PU_HEADER == "x-processingunits-spent"
    assert contract.SYNTHETIC_HEADER == "x-s2raster-synthetic"
    assert contract.SYNTHETIC_TAG == "S2RASTER_SYNTHETIC"
    assert contract.FREE_QUOTA == {
        "requests_per_minute": 300,
        "pu_per_minute": 300.0,
        "requests_per_month": 10_000,
        "pu_per_month": 10_000.0,
    }
    assert contract.MIN_PU == 0.005


@pytest.mark.parametrize(
    ("width", "height", "bands", "float32", "samples", "pu"),
    [
        (512, 512, 3, False, 1, 1.0),  # the unit: 512 x 512 px, 3 bands, 16 bit
        (512, 512, 3, True, 1, 2.0),  # FLOAT32 doubles it
        (2500, 2500, 12, True, 1, 2500**2 / 512**2 * 4 * 2),  # about 190 PU
        (10, 10, 1, False, 1, 0.005),  # the minimum per request
        (512, 512, 3, False, 5, 5.0),  # every ORBIT sample counts
        (50, 50, 3, False, 1, 0.01),  # the minimum area factor 0.01
    ],
)
def test_processing_units(
    width: int, height: int, bands: int, float32: bool, samples: int, pu: float
) -> None:
    got = contract.processing_units(width, height, bands, float32=float32, n_samples=samples)
    assert math.isclose(got, pu, rel_tol=1e-12)


def _schema(spec: dict[str, Any], name: str) -> dict[str, Any]:
    schema: dict[str, Any] = spec["components"]["schemas"][name]
    return schema


def test_against_the_api_description(openapi_spec: dict[str, Any]) -> None:
    output = _schema(openapi_spec, "ProcessRequestOutput")["properties"]
    assert output["width"]["maximum"] == output["height"]["maximum"] == contract.MAX_PX
    filtering = _schema(openapi_spec, "S2L2AFiltering")["properties"]
    assert tuple(filtering["mosaickingOrder"]["enum"]) == contract.MOSAICKING_ORDERS
    processing = _schema(openapi_spec, "BaseDatasetProcessing")["properties"]
    for key in ("upsampling", "downsampling"):
        assert tuple(processing[key]["enum"]) == contract.RESAMPLING
    paths = openapi_spec["paths"]
    for path in (contract.PROCESS_PATH, contract.CATALOG_SEARCH_PATH, contract.STATISTICS_PATH):
        assert "post" in paths[path], path
