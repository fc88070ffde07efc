"""A loaded series on disk: one GeoTIFF per date through ``{time}``, the refusals that name
both ways out, and netCDF / Zarr round trips that keep the CRS."""

from __future__ import annotations

import warnings
from datetime import datetime
from pathlib import Path

import numpy as np
import odc.geo.xr  # noqa: F401  (registers da.odc)
import pytest
import rasterio
import rioxarray  # noqa: F401  (registers da.rio)
import xarray as xr

from s2raster._load import LoadStats, load
from s2raster.clouds import mask_clouds
from s2raster.errors import ExportError, InputError
from s2raster.export import step_names, to_geotiff
from s2raster.fetch import Acquisition
from s2raster.grid import Grid
from s2raster.testing import FakeFetch, date_code, date_values

BBOX = (13.80, 45.80, 13.81, 45.806)
TIME = "2024-06-01/2024-06-30"
FOUND = (
    Acquisition("A_T33TVM_", datetime(2024, 6, 1, 10, 0, 0, 24000), 12.5, "33TVM"),
    Acquisition("B_T33TVL_", datetime(2024, 6, 1, 10, 0, 3), 7.5, "33TVL"),
    Acquisition("C_T33TVM_", datetime(2024, 6, 6, 10, 1), 40.0, "33TVM"),
)


@pytest.fixture
def series() -> xr.DataArray:
    fake = FakeFetch(acquisitions=FOUND, values=date_values, synthetic=True)
    return load(BBOX, TIME, ["B04", "B08", "SCL"], fetch=fake, cache=False, groupby="solar_day")


def test_step_names() -> None:
    times = np.array(["2024-06-01T10:00:00.024", "2024-06-06T10:01"], "datetime64[ns]")
    assert step_names(times) == ["2024-06-01", "2024-06-06"]
    two = np.array(
        ["2024-06-01T09:40:00", "2024-06-01T11:20:05", "2024-06-06T10:00"], "datetime64[ns]"
    )
    assert step_names(two) == ["2024-06-01T094000", "2024-06-01T112005", "2024-06-06"]
    with pytest.raises(ExportError, match="share the same second"):
        step_names(np.array(["2024-06-01T09:40:00.1", "2024-06-01T09:40:00.2"], "datetime64[ns]"))


def test_one_file_per_date(series: xr.DataArray, tmp_path: Path) -> None:
    stats = LoadStats()
    ndvi = ((series.sel(band="B08") - series.sel(band="B04")) / 1e5).rename("NDVI")
    paths = to_geotiff(series, tmp_path / "bands_{time}.tif", stats=stats)
    assert paths == [tmp_path / "bands_2024-06-01.tif", tmp_path / "bands_2024-06-06.tif"]
    for path, when in zip(
        paths, ["2024-06-01T10:00:00.024000Z", "2024-06-06T10:01:00Z"], strict=True
    ):
        with rasterio.open(path) as src:
            tags = src.tags()
            assert src.descriptions == ("B04", "B08", "SCL")
            assert src.crs.to_epsg() == 32633
            assert tags["time"] == when
            assert tags["S2RASTER_SYNTHETIC"] == "1"
            assert src.read(1)[0, 0] == date_code(datetime.fromisoformat(when[:10]))
    with rasterio.open(paths[0]) as src:
        assert src.tags()["tiles"] == "33TVM,33TVL"
        assert float(src.tags()["cloud_cover"]) == 10.0
    assert to_geotiff(ndvi, tmp_path / "ndvi_{time}.tif") == [
        tmp_path / "ndvi_2024-06-01.tif",
        tmp_path / "ndvi_2024-06-06.tif",
    ]


def test_lazy_per_step_coordinates_are_not_computed_for_tags(
    series: xr.DataArray, tmp_path: Path
) -> None:
    masked = mask_clouds(series)
    assert masked["clear_fraction"].chunks is not None
    written = to_geotiff(masked, tmp_path / "m_{time}.tif")
    assert isinstance(written, list)
    first = written[0]
    with rasterio.open(first) as src:
        assert "clear_fraction" not in src.tags()  # computing it would fetch the step again
        assert src.tags()["cloud_mask"] == "SCL 3,8,9,10"


def test_time_dimension_needs_the_field_or_one_image(series: xr.DataArray, tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"\{time\} in the path.*composite\(da\).*isel\(time=0\)"):
        to_geotiff(series, tmp_path / "all.tif")
    with pytest.raises(InputError, match="has no time dimension"):
        to_geotiff(series.isel(time=0, drop=True), tmp_path / "x_{time}.tif")
    with pytest.raises(ExportError, match="does not exist"):
        to_geotiff(series, tmp_path / "missing" / "x_{time}.tif")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("store", ["netcdf", "zarr"])
def test_series_round_trips_with_its_crs(series: xr.DataArray, tmp_path: Path, store: str) -> None:
    masked = mask_clouds(series)
    path = tmp_path / f"series.{'nc' if store == 'netcdf' else 'zarr'}"
    if store == "netcdf":
        masked.to_netcdf(path)
        back = xr.open_dataarray(path, decode_coords="all")
    else:
        with warnings.catch_warnings():  # zarr 3: fixed-width band names, consolidated metadata
            warnings.simplefilter("ignore", UserWarning)
            masked.to_zarr(path)
        back = xr.open_dataarray(path, engine="zarr", decode_coords="all")
    grid = Grid.from_bbox(BBOX, resolution=10)
    assert back.dims == ("time", "band", "y", "x")
    assert back.rio.crs.to_epsg() == 32633
    assert back.rio.transform() == grid.transform
    assert back.odc.geobox.crs.epsg == 32633
    assert "spatial_ref" in back.coords
    assert back["time"].dtype == np.dtype("datetime64[ns]")
    np.testing.assert_array_equal(back["time"].values, masked["time"].values)
    assert [str(t) for t in back["tiles"].values] == ["33TVM,33TVL", "33TVM"]
    np.testing.assert_array_equal(back["cloud_cover"].values, [10.0, 40.0])
    np.testing.assert_array_equal(back.values, masked.values)
    assert back.attrs["synthetic"] == 1
    assert back.attrs["groupby"] == "solar_day"
    for value in masked.attrs.values():  # plain values only
        assert isinstance(value, (str, int, float, tuple))
