"""composite over time: every method against numpy, lazy on dask, NaN-aware without
RuntimeWarnings, first/last across many time chunks, greenest, attrs, and the GeoTIFF."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest
import rasterio
import xarray as xr

from s2raster.composite import METHODS, composite
from s2raster.errors import BandError, InputError
from s2raster.export import to_geotiff
from s2raster.grid import Grid
from s2raster.xr import to_dataarray

GRID = Grid.from_bbox((13.80, 45.80, 13.81, 45.806), resolution=10)
BANDS = ["B02", "B04", "B08"]


def cube(n_time: int = 6, seed: int = 1, nan_share: float = 0.3) -> xr.DataArray:
    rng = np.random.default_rng(seed)
    data = rng.random((n_time, len(BANDS), *GRID.shape)).astype(np.float32)
    data[rng.random(data.shape) < nan_share] = np.nan
    data[:, :, :3, :3] = np.nan  # never valid
    steps = [to_dataarray(d, GRID, BANDS, {"synthetic": 1, "collection": "x"}) for d in data]
    times = np.datetime64("2024-06-01T10:00", "ns") + np.arange(n_time) * np.timedelta64(5, "D")
    da: xr.DataArray = xr.concat(steps, "time").assign_coords(time=times)
    out: xr.DataArray = da.assign_coords(cloud_cover=("time", np.linspace(0, 50, n_time)))
    return out


def reference(data: np.ndarray, method: str) -> np.ndarray:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        if method in ("median", "mean", "min", "max"):
            return np.asarray(getattr(np, f"nan{method}")(data, axis=0))
    valid = np.isfinite(data)
    out = np.full(data.shape[1:], np.nan, np.float32)
    order = range(data.shape[0]) if method == "last" else reversed(range(data.shape[0]))
    for t in order:  # the last write wins
        out = np.where(valid[t], data[t], out)
    return out


@pytest.mark.filterwarnings("error")
@pytest.mark.parametrize("method", [m for m in METHODS if m != "greenest"])
@pytest.mark.parametrize("backend", ["numpy", "dask"])
def test_methods_match_numpy(method: str, backend: str) -> None:
    da = cube()
    source = da.chunk({"time": 1, "y": 32, "x": 32}) if backend == "dask" else da
    out = composite(source, method)
    assert (out.chunks is not None) == (backend == "dask")  # lazy in, lazy out
    assert out.dims == ("band", "y", "x")
    assert out.dtype == np.float32
    np.testing.assert_allclose(out.values, reference(da.values, method), rtol=1e-6)
    assert np.isnan(out.values[:, :3, :3]).all()  # all-NaN pixels: NaN, without warnings


@pytest.mark.parametrize("method", ["first", "last"])
def test_first_last_across_many_time_chunks(method: str) -> None:
    da = cube(n_time=23, nan_share=0.8)
    out = composite(da.chunk({"time": 1}), method)
    np.testing.assert_array_equal(out.values, reference(da.values, method))


@pytest.mark.filterwarnings("error")
@pytest.mark.parametrize("backend", ["numpy", "dask"])
def test_greenest_takes_every_band_from_the_greenest_step(backend: str) -> None:
    da = cube(n_time=4, nan_share=0.1)
    source = da.chunk({"time": 1, "y": 40}) if backend == "dask" else da
    out = composite(source, "greenest").values
    v = da.values
    ndvi = (v[:, 2] - v[:, 1]) / (v[:, 2] + v[:, 1])
    best = np.nanargmax(np.where(np.isnan(ndvi), -np.inf, ndvi), axis=0)
    rows, cols = np.nonzero(np.isfinite(ndvi).any(axis=0))
    for band in range(len(BANDS)):
        np.testing.assert_array_equal(out[band, rows, cols], v[best[rows, cols], band, rows, cols])
    assert np.isnan(out[:, :3, :3]).all()


def test_greenest_needs_red_and_nir() -> None:
    with pytest.raises(BandError, match=r"needs bands B04 and B08; missing B08"):
        composite(cube().sel(band=["B02", "B04"]), "greenest")


def test_attrs_coords_and_geotiff(tmp_path: Path) -> None:
    da = cube()
    out = composite(da.chunk({"time": 1}), "median")
    assert out.attrs["composite_method"] == "median"
    assert out.attrs["composite_from"] == "2024-06-01T10:00:00Z"
    assert out.attrs["composite_to"] == "2024-06-26T10:00:00Z"
    assert out.attrs["composite_dates"] == 6
    assert out.attrs["synthetic"] == 1
    assert "time" not in out.coords
    assert "cloud_cover" not in out.coords
    assert out.rio.crs == da.rio.crs
    path = to_geotiff(out, tmp_path / "median.tif")
    assert isinstance(path, Path)
    with rasterio.open(path) as src:
        assert src.count == 3
        assert src.descriptions == tuple(BANDS)
        assert src.tags()["composite_method"] == "median"
        assert src.tags()["composite_dates"] == "6"
        np.testing.assert_array_equal(src.read(), out.values)


def test_an_index_series_composites_to_a_map() -> None:
    da = cube()
    ndvi = (da.sel(band="B08") - da.sel(band="B04")) / (da.sel(band="B08") + da.sel(band="B04"))
    out = composite(ndvi.rename("NDVI"), "max")
    assert out.dims == ("y", "x")
    np.testing.assert_allclose(out.values, reference(ndvi.values, "max"))


def test_refusals() -> None:
    with pytest.raises(InputError, match="unknown composite method 'mode'"):
        composite(cube(), "mode")
    with pytest.raises(InputError, match="needs a DataArray with a time dimension"):
        composite(cube().isel(time=0), "median")
