"""mask_clouds: SCL classes to NaN in every band, no-data kept, dilation (Chebyshev) across
dask chunks, clear_fraction, min_clear; load(cloud_mask=True) in the same requests."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
from hypothesis import given
from hypothesis import strategies as st

from s2raster._load import LoadStats, load
from s2raster.clouds import CLOUD_CLASSES, grow, mask_clouds, valid_fraction
from s2raster.errors import BandError, InputError, NoDataError
from s2raster.fetch import Acquisition
from s2raster.grid import Grid
from s2raster.testing import FakeFetch
from s2raster.xr import to_dataarray

GRID = Grid.from_bbox((13.80, 45.80, 13.81, 45.806), resolution=10)  # 69 x 80 px
LJUBLJANA = (13.80, 45.80, 13.81, 45.806)
TIME = "2024-06-01/2024-06-30"


def series(scl: np.ndarray, *, nodata: np.ndarray | None = None) -> xr.DataArray:
    """A (time, band, y, x) series: B04 = 1, B08 = 2, and the given SCL per step."""
    steps = []
    for t, classes in enumerate(scl):
        data = np.stack([np.ones(GRID.shape), 2 * np.ones(GRID.shape), classes]).astype(np.float32)
        if nodata is not None:
            data[:, nodata[t]] = np.nan
        steps.append(to_dataarray(data, GRID, ["B04", "B08", "SCL"], {"synthetic": 1}))
    times = np.array(["2024-06-01T10:00", "2024-06-06T10:00"][: len(steps)], "datetime64[ns]")
    out: xr.DataArray = xr.concat(steps, "time").assign_coords(time=times)
    return out


def scene(cloudy: tuple[slice, slice] | None = None, cls: int = 9) -> np.ndarray:
    out = np.full(GRID.shape, 4.0, np.float32)  # vegetation
    if cloudy is not None:
        out[cloudy] = cls
    return out


def brute_dilate(mask: np.ndarray, r: int) -> np.ndarray:
    rows, cols = np.nonzero(mask)
    out = np.zeros_like(mask)
    for i in range(mask.shape[0]):
        for j in range(mask.shape[1]):
            out[i, j] = bool(np.any((np.abs(rows - i) <= r) & (np.abs(cols - j) <= r)))
    return out


@pytest.mark.parametrize("cls", CLOUD_CLASSES)
def test_default_classes_are_nan_in_every_band(cls: int) -> None:
    da = series(np.stack([scene((slice(10, 20), slice(5, 9)), cls), scene()]))
    out = mask_clouds(da)
    assert list(out["band"].values) == ["B04", "B08"]
    assert out.dims == ("time", "band", "y", "x")
    assert out.dtype == np.float32
    assert np.isnan(out.values[0, :, 10:20, 5:9]).all()
    assert np.isfinite(out.values[0, :, 20:, :]).all()
    assert np.isfinite(out.values[1]).all()
    np.testing.assert_allclose(out["clear_fraction"].values, [1 - 40 / GRID.shape[0] / 80, 1])
    assert out.attrs["cloud_mask"] == "SCL 3,8,9,10"
    assert out.attrs["long_name"] == ("B04", "B08")
    assert out.attrs["synthetic"] == 1


@pytest.mark.parametrize("cls", [4, 5, 6, 7, 11])
def test_other_classes_stay(cls: int) -> None:
    out = mask_clouds(series(np.stack([scene((slice(0, 5), slice(0, 5)), cls)])))
    assert np.isfinite(out.values).all()
    assert out["clear_fraction"].item() == 1.0


def test_configurable_classes_and_nodata_stays_nan() -> None:
    nodata = np.zeros((1, *GRID.shape), bool)
    nodata[0, :, :10] = True
    da = series(np.stack([scene((slice(30, 40), slice(30, 40)), 11)]), nodata=nodata)
    out = mask_clouds(da, classes=(11,))
    assert np.isnan(out.values[0, :, 30:40, 30:40]).all()
    assert np.isnan(out.values[0, :, :, :10]).all()
    valid_clear = GRID.shape[0] * 70 - 100
    assert out["clear_fraction"].item() == pytest.approx(valid_clear / (GRID.shape[0] * 80))


@pytest.mark.parametrize("radius", [1, 3])
def test_dilate_is_chebyshev_and_leaves_nodata_alone(radius: int) -> None:
    cloud = np.zeros(GRID.shape, bool)
    cloud[20, 30] = cloud[50, 70:75] = True
    nodata = np.zeros((1, *GRID.shape), bool)
    nodata[0, :, :5] = True
    scl = np.where(cloud, 8.0, 4.0).astype(np.float32)[None]
    out = mask_clouds(series(scl, nodata=nodata), dilate=radius)
    masked = np.isnan(out.values[0, 0])
    expected = brute_dilate(cloud, radius) | nodata[0]
    np.testing.assert_array_equal(masked, expected)  # the no-data is not grown
    assert out.attrs["cloud_dilate"] == radius


@given(
    st.integers(min_value=0, max_value=4),
    st.lists(st.tuples(st.integers(0, 29), st.integers(0, 23)), max_size=12),
)
def test_grow_equals_brute_force(radius: int, points: list[tuple[int, int]]) -> None:
    mask = np.zeros((30, 24), bool)
    for r, c in points:
        mask[r, c] = True
    np.testing.assert_array_equal(grow(mask, radius), brute_dilate(mask, radius))


def test_dask_dilation_crosses_chunk_borders_and_stays_lazy() -> None:
    rng = np.random.default_rng(3)
    scl = np.where(rng.random((2, *GRID.shape)) < 0.02, 9.0, 4.0).astype(np.float32)
    da = series(scl)
    lazy = da.chunk({"time": 1, "band": -1, "y": 16, "x": 16})
    out = mask_clouds(lazy, dilate=2)
    assert out.chunks is not None
    assert out["clear_fraction"].chunks is not None  # dask-backed, like the data
    expected = mask_clouds(da, dilate=2)
    np.testing.assert_array_equal(out.values, expected.values)
    np.testing.assert_array_equal(out["clear_fraction"].values, expected["clear_fraction"].values)


def test_a_mosaic_can_be_masked_too() -> None:
    da = series(np.stack([scene((slice(0, 10), slice(0, 10)))])).isel(time=0, drop=True)
    out = mask_clouds(da)
    assert out.dims == ("band", "y", "x")
    assert out["clear_fraction"].ndim == 0
    with pytest.raises(InputError, match="min_clear drops time steps"):
        mask_clouds(da, min_clear=0.5)


def test_min_clear_drops_steps() -> None:
    half = scene((slice(0, 60), slice(None)))
    out = mask_clouds(series(np.stack([half, scene()])), min_clear=0.5)
    assert out.sizes["time"] == 1
    assert out["time"].values[0] == np.datetime64("2024-06-06T10:00")
    assert out["clear_fraction"].chunks is None
    with pytest.raises(NoDataError, match=r"at least 1 clear \(the clearest is 0\.\d+\)"):
        mask_clouds(series(np.stack([half])), min_clear=1.0)
    with pytest.raises(InputError, match="fraction from 0 to 1"):
        mask_clouds(series(np.stack([half])), min_clear=50)


def test_needs_scl_and_other_bands() -> None:
    da = series(np.stack([scene()]))
    with pytest.raises(BandError, match=r"needs an SCL band.*cloud_mask=True"):
        mask_clouds(da.sel(band=["B04", "B08"]))
    with pytest.raises(BandError, match="only SCL"):
        mask_clouds(da.sel(band=["SCL"]))
    with pytest.raises(InputError, match="unknown SCL class"):
        mask_clouds(da, classes=(3, 12))
    with pytest.raises(InputError, match="dilate"):
        mask_clouds(da, dilate=-1)


def test_valid_fraction() -> None:
    nodata = np.zeros((2, *GRID.shape), bool)
    nodata[1, : GRID.shape[0] // 2 + 1] = True
    fraction = valid_fraction(series(np.stack([scene(), scene()]), nodata=nodata))
    assert fraction.dims == ("time",)
    assert fraction.values[0] == 1.0
    assert fraction.values[1] == pytest.approx(1 - (GRID.shape[0] // 2 + 1) / GRID.shape[0])


def cloudy_second_date(request: object) -> np.ndarray:
    """B04 = 1 (and any other band = 2) and an SCL with a cloud over the grid's columns
    0..59 (three quarters) on 2024-06-06 only."""
    bands = request.query.bands  # type: ignore[attr-defined]
    tile = request.tile  # type: ignore[attr-defined]
    out = np.ones((len(bands), *tile.grid.shape), np.float32)
    out[1:] = 2
    if "SCL" in bands:
        scl = np.full(tile.grid.shape, 4.0, np.float32)
        if request.query.time_from.day == 6:  # type: ignore[attr-defined]
            scl[:, np.arange(tile.col, tile.col + tile.grid.shape[1]) < 60] = 9
        out[bands.index("SCL")] = scl
    return out


FOUND = (
    Acquisition("A_T33TVM_", datetime(2024, 6, 1, 10), 5.0, "33TVM"),
    Acquisition("B_T33TVM_", datetime(2024, 6, 6, 10), 80.0, "33TVM"),
)


def test_load_cloud_mask_fetches_scl_in_the_same_requests() -> None:
    fake = FakeFetch(acquisitions=FOUND, values=cloudy_second_date)
    stats = LoadStats()
    da = load(
        LJUBLJANA, TIME, ["B04", "B08"], fetch=fake, cache=False, groupby="solar_day",
        cloud_mask=True, tile_px=40, stats=stats,
    )  # fmt: skip
    assert list(da["band"].values) == ["B04", "B08"]
    assert fake.calls == []
    values = da.values
    assert stats.requests == 2 * 4  # dates x tiles: SCL came with the bands
    assert {r.query.bands for r in fake.calls} == {("B04", "B08", "SCL")}
    assert np.isfinite(values[0]).all()
    assert np.isnan(values[1, :, :, :60]).all()
    np.testing.assert_allclose(da["clear_fraction"].values, [1.0, 0.25])
    assert np.isfinite(values[1, :, :, 60:]).all()


def test_load_min_clear_computes_only_the_fractions(tmp_path: Path) -> None:
    fake = FakeFetch(acquisitions=FOUND, values=cloudy_second_date)
    da = load(
        LJUBLJANA, TIME, ["B04"], fetch=fake, cache=tmp_path, groupby="solar_day",
        cloud_mask=True, min_clear=0.5,
    )  # fmt: skip
    assert da.sizes["time"] == 1
    assert da.chunks is not None  # still lazy: only the fractions were computed
    assert len(fake.calls) == 2
    da.compute()
    assert len(fake.calls) == 2  # the kept date came from the cache
    with pytest.raises(InputError, match="min_clear needs cloud_mask=True"):
        load(LJUBLJANA, TIME, ["B04"], fetch=fake, groupby="solar_day", min_clear=0.5)
    with pytest.raises(InputError, match="masks the other bands"):
        load(LJUBLJANA, TIME, ["SCL"], fetch=fake, cloud_mask=True)


def test_min_clear_without_a_cache_warns_of_paying_twice() -> None:
    fake = FakeFetch(acquisitions=FOUND, values=cloudy_second_date)
    with pytest.warns(UserWarning, match=r"downloaded \(and paid for\) again"):
        load(
            LJUBLJANA, TIME, ["B04"], fetch=fake, cache=False, groupby="solar_day",
            cloud_mask=True, min_clear=0.5,
        )  # fmt: skip
