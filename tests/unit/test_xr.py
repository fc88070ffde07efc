"""to_dataarray: the DataArray contract that rioxarray and odc-geo read unchanged."""

from __future__ import annotations

import math
from pathlib import Path

import dask.array
import numpy as np
import pytest
import rioxarray
from affine import Affine

from s2raster.errors import GridError
from s2raster.grid import Grid
from s2raster.xr import spatial_ref_attrs, to_dataarray

GRIDS = {
    "wgs84": Grid.from_bbox((13.8, 45.8, 13.81, 45.805), crs="EPSG:4326", resolution=20),
    "utm-north": Grid.from_bbox((13.8, 45.8, 13.83, 45.82), resolution=10),
    "utm-south": Grid.from_bbox((-47.9, -15.8, -47.88, -15.79), resolution=20),
    "tile": Grid("EPSG:32633", Affine(10, 0, 400000, 0, -10, 5000000), (40, 30)).window(
        10, 20, 17, 9
    ),
}
ATTRS = {"collection": "sentinel-2-l2a", "synthetic": 0, "processing_units_estimated": 0.5}


def make(grid: Grid, bands: tuple[str, ...] = ("B04", "B08")) -> object:
    data = np.arange(len(bands) * grid.height * grid.width, dtype=np.float32)
    return to_dataarray(data.reshape(len(bands), *grid.shape), grid, bands, ATTRS)


@pytest.mark.parametrize("name", GRIDS)
def test_coordinates_are_pixel_centres(name: str) -> None:
    grid = GRIDS[name]
    da = make(grid)
    t = grid.transform
    assert da.dims == ("band", "y", "x")
    assert da.dtype == np.float32
    np.testing.assert_array_equal(da.x.values, [t.c + t.a * (i + 0.5) for i in range(grid.width)])
    np.testing.assert_array_equal(da.y.values, [t.f + t.e * (j + 0.5) for j in range(grid.height)])
    assert np.all(np.diff(da.y.values) < 0)
    assert list(da.band.values) == ["B04", "B08"]
    assert da.band.dtype.kind == "U"


@pytest.mark.parametrize("name", GRIDS)
def test_spatial_ref_is_what_rioxarray_writes(name: str) -> None:
    grid = GRIDS[name]
    da = make(grid)
    reference = (
        da.drop_vars("spatial_ref").rio.write_crs(grid.crs).rio.write_transform(grid.transform)
    )
    assert dict(da.spatial_ref.attrs) == dict(reference.spatial_ref.attrs)
    assert da.spatial_ref.values == reference.spatial_ref.values
    assert da.encoding == reference.encoding == {"grid_mapping": "spatial_ref"}
    assert da.spatial_ref.attrs["GeoTransform"] == " ".join(
        str(v) for v in grid.transform.to_gdal()
    )
    assert spatial_ref_attrs(grid) == dict(da.spatial_ref.attrs)


@pytest.mark.parametrize("name", GRIDS)
def test_rioxarray_and_odc_geo_read_the_grid(name: str) -> None:
    grid = GRIDS[name]
    da = make(grid)
    assert da.rio.crs.to_epsg() == int(grid.crs.split(":")[1])
    assert da.rio.transform() == grid.transform
    assert da.rio.shape == grid.shape
    assert da.rio.bounds() == pytest.approx(grid.bounds)
    geobox = da.odc.geobox
    assert geobox.crs.epsg == int(grid.crs.split(":")[1])
    assert geobox.shape == grid.shape
    assert geobox.affine.almost_equals(grid.transform, precision=1e-9 * grid.res[0])


def test_attrs_and_nodata() -> None:
    grid = GRIDS["utm-north"]
    da = make(grid, ("B02", "B03", "B04"))
    assert da.attrs["collection"] == "sentinel-2-l2a"
    assert math.isnan(da.attrs["_FillValue"])
    assert da.attrs["long_name"] == ("B02", "B03", "B04")
    assert da.attrs["res"] == (10.0, 10.0)
    assert math.isnan(da.rio.nodata)
    for key, value in da.attrs.items():
        assert isinstance(value, (str, int, float, tuple)), key


def test_round_trip_through_geotiff(tmp_path: Path) -> None:
    grid = GRIDS["utm-south"]
    da = make(grid)
    da = da.where(da % 7 != 0)  # some NaN
    path = tmp_path / "x.tif"
    da.rio.to_raster(path)
    back = rioxarray.open_rasterio(path)
    assert back.rio.crs == da.rio.crs
    assert back.rio.transform() == grid.transform
    np.testing.assert_array_equal(back.x.values, da.x.values)
    np.testing.assert_array_equal(back.y.values, da.y.values)
    np.testing.assert_array_equal(back.values, da.values)
    assert back.attrs["long_name"] == ("B04", "B08")
    assert back.odc.geobox == da.odc.geobox


def test_dask_input_stays_lazy_and_becomes_float32() -> None:
    grid = GRIDS["tile"]
    data = dask.array.ones((1, *grid.shape), dtype=np.float64, chunks=(1, 5, 5))
    da = to_dataarray(data, grid, ["SCL"], {})
    assert isinstance(da.data, dask.array.Array)
    assert da.dtype == np.float32
    assert da.chunks == ((1,), (5, 5, 5, 2), (5, 4))
    assert da.name is None
    assert to_dataarray(data, grid, ["SCL"], name="x").name == "x"


def test_wrong_shape_and_attrs_refused() -> None:
    grid = GRIDS["tile"]
    with pytest.raises(GridError, match="does not fit"):
        to_dataarray(np.zeros((2, 3, 4), np.float32), grid, ["B04", "B08"])
    with pytest.raises(TypeError, match="plain"):
        to_dataarray(np.zeros((1, *grid.shape), np.float32), grid, ["B04"], {"x": [1]})  # type: ignore[dict-item]


@pytest.mark.parametrize("crs", ["EPSG:32633", "EPSG:4326", "EPSG:3857"])
def test_grid_of_is_the_inverse_of_to_dataarray(crs: str) -> None:
    from s2raster.xr import grid_of

    grid = Grid.from_bbox((13.80, 45.80, 13.83, 45.82), crs=crs, resolution=10)
    da = to_dataarray(np.zeros((1, *grid.shape), np.float32), grid, ["B04"], {})
    assert grid_of(da) == grid
    part, window = grid_of(da.isel(x=slice(3, 9), y=slice(2, 5))), grid.window(2, 3, 3, 6)
    assert (part.crs, part.shape) == (window.crs, window.shape)
    assert part.transform.almost_equals(window.transform, precision=1e-9 * grid.res[0])
