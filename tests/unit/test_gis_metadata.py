"""GeoTIFFs that GIS tools read right: colour interpretation, per-band metadata (name,
wavelength, bandwidth, units, scale; an index's formula), statistics, predictor, tags."""

from __future__ import annotations

from pathlib import Path

import pytest
import rasterio
from rasterio.enums import ColorInterp

from s2raster._load import LoadStats, load
from s2raster.export import to_geotiff
from s2raster.indices import stack
from s2raster.tags import colour_interpretation
from s2raster.testing import FakeFetch

TIME = "2024-06-01/2024-06-30"
AREA = (13.80, 45.80, 13.81, 45.806)
U, R, G, B, A, GRAY = (
    ColorInterp.undefined,
    ColorInterp.red,
    ColorInterp.green,
    ColorInterp.blue,
    ColorInterp.alpha,
    ColorInterp.gray,
)


@pytest.mark.parametrize(
    ("names", "expected"),
    [
        (["B04", "B03", "B02"], [R, G, B]),
        (["B02", "B03", "B04", "B08"], [B, G, R, U]),  # QGIS picks R, G, B by interpretation
        (["B08", "B11"], [U, U]),
        (["NDVI"], [GRAY]),
        (["NDVI", "NDWI"], [U, U]),
        (["red", "green", "blue", "alpha"], [R, G, B, A]),
        (["B04", "B03"], [U, U]),
    ],
)
def test_colour_interpretation(names: list[str], expected: list[ColorInterp]) -> None:
    assert colour_interpretation(names) == expected


@pytest.fixture(scope="module")
def four(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("gis") / "four.tif"
    stats = LoadStats()
    da = load(
        AREA,
        TIME,
        ["B02", "B03", "B04", "B08"],
        fetch=FakeFetch(fill=0.2),
        cache=False,
        stats=stats,
    )
    to_geotiff(da, out, stats=stats)
    return out


def test_four_band_file(four: Path) -> None:
    with rasterio.open(four) as ds:
        assert ds.colorinterp == (B, G, R, U)
        assert ds.descriptions == ("B02", "B03", "B04", "B08")
        assert ds.units == ("reflectance",) * 4
        assert ds.scales == (1.0,) * 4
        assert ds.offsets == (0.0,) * 4
        red = ds.tags(3)
        assert red["name"] == "B04"
        assert red["common_name"] == "red"
        assert float(red["wavelength_nm"]) == pytest.approx(664.6)
        assert float(red["bandwidth_nm"]) == pytest.approx(31)
        assert ds.tags(3, ns="IMAGERY") == {"CENTRAL_WAVELENGTH_UM": "0.6646", "FWHM_UM": "0.031"}
        for i in range(1, 5):
            assert float(ds.tags(i)["STATISTICS_MEAN"]) == pytest.approx(0.2)
            assert float(ds.tags(i)["STATISTICS_VALID_PERCENT"]) == 100
        assert ds.tags(ns="IMAGE_STRUCTURE").get("PREDICTOR") is None  # reflectance: none
        tags = ds.tags()
        for key in ("collection", "time_from", "time_to", "mosaicking", "processing_units_spent",
                    "acquisition_dates", "request_sha256", "evalscript", "synthetic"):  # fmt: skip
            assert key in tags, key


def test_multi_index_file_has_each_formula_on_its_band(tmp_path: Path) -> None:
    da = load(AREA, TIME, ["B03", "B04", "B08"], fetch=FakeFetch(), cache=False)
    out = to_geotiff(stack(da, ["NDVI", "NDWI"]), tmp_path / "indices.tif")
    with rasterio.open(out) as ds:
        ndvi, ndwi = ds.tags(1), ds.tags(2)
        assert ndvi["index"] == "NDVI"
        assert ndwi["index"] == "NDWI"
        assert "B08" in ndvi["formula"]
        assert "B03" in ndwi["formula"]
        assert ndvi["formula"] != ndwi["formula"]
        assert "formula" not in ds.tags()  # not one dataset-level formula for every band
        assert ds.units == ("1", "1")
        assert ds.colorinterp[1] == U  # band 1 reads back gray: TIFF's "min is black"
        assert ds.tags(ns="IMAGE_STRUCTURE")["PREDICTOR"] == "3"  # floating point
        assert "STATISTICS_MINIMUM" in ndvi


def test_a_given_predictor_wins(tmp_path: Path) -> None:
    da = load(AREA, TIME, ["B04", "B08"], fetch=FakeFetch(), cache=False)
    out = to_geotiff(stack(da, ["NDVI"]), tmp_path / "ndvi.tif", predictor=1)
    with rasterio.open(out) as ds:
        assert ds.tags(ns="IMAGE_STRUCTURE").get("PREDICTOR") is None
        assert ds.colorinterp == (GRAY,)
        assert ds.tags(1)["formula"] == ds.tags()["formula"]  # one band: both
