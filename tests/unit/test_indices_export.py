"""A multi-index GeoTIFF carries each band's formula in that band's tags."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import rasterio
import xarray as xr
from affine import Affine

from s2raster import indices
from s2raster.export import to_geotiff
from s2raster.grid import Grid
from s2raster.xr import to_dataarray

BANDS = ["B02", "B03", "B04", "B08"]
NDVI = "(B08 - B04) / (B08 + B04)"
EVI = "2.5 * (B08 - B04) / (B08 + 6.0 * B04 - 7.5 * B02 + 1.0)"


@pytest.fixture
def da() -> xr.DataArray:
    rng = np.random.default_rng(5)
    values = rng.uniform(0.02, 0.5, size=(len(BANDS), 20, 24)).astype(np.float32)
    grid = Grid("EPSG:32633", Affine(10.0, 0.0, 500_000.0, 0.0, -10.0, 5_000_000.0), (20, 24))
    return to_dataarray(values, grid, BANDS, {"collection": "sentinel-2-l2a"})


@pytest.mark.parametrize("cog", [True, False])
def test_stack_each_band_its_formula(da: xr.DataArray, tmp_path: Path, cog: bool) -> None:
    path = to_geotiff(indices.stack(da, ["NDVI", "EVI"]), tmp_path / "two.tif", cog=cog)
    with rasterio.open(path) as src:
        assert src.descriptions == ("NDVI", "EVI")
        assert src.tags(1)["formula"] == NDVI
        assert src.tags(2)["formula"] == EVI
        assert "formula" not in src.tags()
        assert src.tags()["collection"] == "sentinel-2-l2a"
        np.testing.assert_allclose(src.read(1), indices.ndvi(da).values, rtol=1e-6)


def test_compute_list_exports_with_index_dimension(da: xr.DataArray, tmp_path: Path) -> None:
    path = to_geotiff(indices.compute(["EVI", "NDVI"], da), tmp_path / "idx.tif", cog=False)
    with rasterio.open(path) as src:
        assert src.descriptions == ("EVI", "NDVI")
        assert [src.tags(i)["formula"] for i in (1, 2)] == [EVI, NDVI]


def test_one_index(da: xr.DataArray, tmp_path: Path) -> None:
    one = indices.stack(da, ["NDVI"])
    assert one.dims == ("band", "y", "x")
    assert one.attrs["formula"] == NDVI
    with rasterio.open(to_geotiff(one, tmp_path / "one.tif", cog=False)) as src:
        assert src.tags()["formula"] == NDVI
        assert src.tags(1)["formula"] == NDVI
    with rasterio.open(to_geotiff(indices.ndvi(da), tmp_path / "2d.tif", cog=False)) as src:
        assert src.descriptions == ("NDVI",)
        assert src.tags()["formula"] == NDVI


def test_rioxarray_round_trip(da: xr.DataArray, tmp_path: Path) -> None:
    """A GeoTIFF read back with rioxarray (band 1..n, descriptions as long_name) computes."""
    import rioxarray

    path = to_geotiff(da, tmp_path / "bands.tif", cog=False)
    back = rioxarray.open_rasterio(path)
    assert list(back["band"].values) == [1, 2, 3, 4]
    np.testing.assert_array_equal(indices.ndvi(back).values, indices.ndvi(da).values)
    as_vars = rioxarray.open_rasterio(path, band_as_variable=True)
    np.testing.assert_array_equal(indices.evi(as_vars).values, indices.evi(da).values)
    assert indices.ndvi(back).rio.crs == back.rio.crs
