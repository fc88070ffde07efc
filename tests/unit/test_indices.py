"""Spectral indices: ASI formulas, laziness, NaN safety, dtype, provenance, errors."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from pathlib import Path

import dask.array as dsa
import numpy as np
import pytest
import xarray as xr
from affine import Affine
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from s2raster import indices
from s2raster.errors import BandError, InputError
from s2raster.grid import Grid
from s2raster.indices import INDICES, _kernel, bands_for, compute
from s2raster.xr import to_dataarray

S2 = ["B01", "B02", "B03", "B04", "B05", "B06", "B07", "B08", "B8A", "B09", "B10", "B11", "B12"]
ASI_BANDS = {"B": "B02", "G": "B03", "R": "B04", "RE1": "B05", "N": "B08", "S1": "B11", "S2": "B12"}

# Reference formulas in float64, written independently from the module (ASI constants).
Ref = Callable[[dict[str, np.ndarray]], np.ndarray]
REFERENCE: dict[str, Ref] = {
    "NDVI": lambda b: (b["N"] - b["R"]) / (b["N"] + b["R"]),
    "NDWI": lambda b: (b["G"] - b["N"]) / (b["G"] + b["N"]),
    "NDMI": lambda b: (b["N"] - b["S1"]) / (b["N"] + b["S1"]),
    "NBR": lambda b: (b["N"] - b["S2"]) / (b["N"] + b["S2"]),
    "NDRE": lambda b: (b["N"] - b["RE1"]) / (b["N"] + b["RE1"]),
    "GNDVI": lambda b: (b["N"] - b["G"]) / (b["N"] + b["G"]),
    "NDBI": lambda b: (b["S1"] - b["N"]) / (b["S1"] + b["N"]),
    "MNDWI": lambda b: (b["G"] - b["S1"]) / (b["G"] + b["S1"]),
    "NDSI": lambda b: (b["G"] - b["S1"]) / (b["G"] + b["S1"]),
    "NBR2": lambda b: (b["S1"] - b["S2"]) / (b["S1"] + b["S2"]),
    "EVI": lambda b: 2.5 * (b["N"] - b["R"]) / (b["N"] + 6 * b["R"] - 7.5 * b["B"] + 1),
    "EVI2": lambda b: 2.5 * (b["N"] - b["R"]) / (b["N"] + 2.4 * b["R"] + 1),
    "SAVI": lambda b: 1.5 * (b["N"] - b["R"]) / (b["N"] + b["R"] + 0.5),
}


def grid(shape: tuple[int, ...]) -> Grid:
    height, width = shape
    transform = Affine(10.0, 0.0, 500_000.0, 0.0, -10.0, 5_000_000.0)
    return Grid("EPSG:32633", transform, (height, width))


def reference(name: str, values: np.ndarray) -> np.ndarray:
    """The float64 reference of ``name`` on (band, ...) ``values`` in S2 order; inf -> NaN."""
    bands = {k: values[S2.index(v)].astype(np.float64) for k, v in ASI_BANDS.items()}
    with np.errstate(all="ignore"):
        out = REFERENCE[name](bands)
    out[~np.isfinite(out)] = np.nan
    return out


@pytest.fixture
def values() -> np.ndarray:
    """Reflectance-like values for all 13 bands, with NaN and zero pixels."""
    rng = np.random.default_rng(3)
    arr = rng.uniform(0.0, 0.6, size=(len(S2), 37, 41)).astype(np.float32)
    arr[1] *= 0.15  # blue stays low, as on land: EVI's denominator is far from 0
    arr[:, 0, 0] = np.nan  # no data
    arr[:, 1, 1] = 0.0  # zero denominators for normalized differences
    arr[7, 2, 2] = np.nan  # NaN in one band only (B08)
    return arr


@pytest.fixture
def da(values: np.ndarray) -> xr.DataArray:
    attrs: dict[str, str | int | float] = {"collection": "sentinel-2-l2a", "synthetic": 1}
    attrs["units"] = "reflectance"
    return to_dataarray(values, grid(values.shape[1:]), S2, attrs)


@pytest.mark.parametrize("name", sorted(REFERENCE))
def test_values_match_reference(name: str, da: xr.DataArray, values: np.ndarray) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = compute(name, da)
    assert result.dtype == np.float32
    assert result.dims == ("y", "x")
    expected = reference(name, values)
    np.testing.assert_allclose(result.values, expected, rtol=2e-6, atol=1e-6)
    assert np.isnan(result.values[0, 0])
    assert np.isnan(result.values[2, 2]) == ("B08" in INDICES[name].bands)
    if name not in ("EVI", "EVI2", "SAVI"):
        assert np.isnan(result.values[1, 1])  # 0 / 0


@pytest.mark.parametrize("name", sorted(REFERENCE))
def test_bit_identical_to_spyndex(name: str, values: np.ndarray, da: xr.DataArray) -> None:
    import spyndex

    asi = "NDREI" if name == "NDRE" else name
    params: dict[str, object] = {}
    for symbol in spyndex.indices[asi].bands:
        if symbol in ASI_BANDS:
            params[symbol] = values[S2.index(ASI_BANDS[symbol])]
        else:
            params[symbol] = (
                0.5 if (asi, symbol) == ("SAVI", "L") else spyndex.constants[symbol].default
            )
    with np.errstate(all="ignore"):
        expected = np.asarray(spyndex.computeIndex(asi, params))
    expected[~np.isfinite(expected)] = np.nan
    np.testing.assert_array_equal(compute(name, da).values, expected)


def test_hand_computed() -> None:
    values = np.zeros((len(S2), 1, 1), np.float32)
    values[S2.index("B02"), 0, 0] = 0.05
    values[S2.index("B04"), 0, 0] = 0.1
    values[S2.index("B08"), 0, 0] = 0.5
    da = to_dataarray(values, grid((1, 1)), S2)
    assert indices.ndvi(da).item() == pytest.approx(0.4 / 0.6, rel=1e-6)
    assert indices.savi(da).item() == pytest.approx(1.5 * 0.4 / 1.1, rel=1e-6)
    assert indices.evi(da).item() == pytest.approx(2.5 * 0.4 / (0.5 + 0.6 - 0.375 + 1), rel=1e-6)


def test_zero_denominator_is_nan_without_warning() -> None:
    values = np.zeros((len(S2), 2, 2), np.float32)
    values[S2.index("B08")] = [[1.0, -1.0], [0.0, 0.2]]
    values[S2.index("B04")] = [[-1.0, 1.0], [0.0, 0.2]]
    da = to_dataarray(values, grid((2, 2)), S2)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = indices.ndvi(da).values
    np.testing.assert_array_equal(result, [[np.nan, np.nan], [np.nan, 0.0]])


@settings(max_examples=50, deadline=None)
@given(
    data=arrays(
        np.float32,
        (2, 3, 5),
        elements=st.one_of(st.floats(-1, 2, width=32), st.just(0.0), st.just(float("nan"))),
    )
)
def test_normalized_difference_property(data: np.ndarray) -> None:
    """Any input: equals the float64 formula where finite, NaN elsewhere, no warnings."""
    da = to_dataarray(data, grid((3, 5)), ["B08", "B04"])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = indices.ndvi(da).values
    n, r = data[0].astype(np.float64), data[1].astype(np.float64)
    with np.errstate(all="ignore"):
        expected = (n - r) / (n + r)
    expected[~np.isfinite(expected)] = np.nan
    np.testing.assert_allclose(result, expected, rtol=1e-5, atol=1e-6)


def test_pieces_and_tail(
    monkeypatch: pytest.MonkeyPatch, da: xr.DataArray, values: np.ndarray
) -> None:
    monkeypatch.setattr(_kernel, "PIECE", 7)  # 37 * 41 elements: many pieces and a short tail
    np.testing.assert_allclose(
        indices.evi(da).values, reference("EVI", values), rtol=2e-6, atol=1e-6
    )


# --- laziness, dims, dtypes --------------------------------------------------------------------


def test_dask_stays_lazy(values: np.ndarray) -> None:
    calls: list[int] = []

    def counted(block: np.ndarray) -> np.ndarray:
        calls.append(1)
        return block

    chunked = dsa.from_array(values, chunks=(len(S2), 20, 16))  # type: ignore[no-untyped-call]
    data = chunked.map_blocks(counted, dtype=np.float32)
    da = to_dataarray(data, grid(values.shape[1:]), S2)
    calls.clear()  # map_blocks ran it once on an empty array to learn the output type
    result = indices.ndvi(da)
    assert isinstance(result.data, dsa.Array)
    assert result.chunks == ((20, 17), (16, 16, 9))
    assert calls == []
    np.testing.assert_allclose(result.values, reference("NDVI", values), rtol=2e-6, atol=1e-6)


def test_time_series(values: np.ndarray) -> None:
    """(time, band, y, x): non-contiguous band planes, dask and numpy alike."""
    g = grid(values.shape[1:])
    stack = xr.concat(
        [to_dataarray(values, g, S2), to_dataarray(values[:, ::-1, :].copy(), g, S2)], "time"
    ).assign_coords(time=[np.datetime64("2024-06-01"), np.datetime64("2024-06-06")])
    for da in (stack, stack.chunk({"time": 1, "y": 20})):
        result = indices.nbr(da)
        assert result.dims == ("time", "y", "x")
        np.testing.assert_allclose(result.values[1], reference("NBR", values[:, ::-1]), rtol=2e-6)


def test_float64_input_gives_float32(values: np.ndarray) -> None:
    da = xr.DataArray(values.astype(np.float64), dims=("band", "y", "x"), coords={"band": S2})
    result = indices.ndwi(da)
    assert result.dtype == np.float32
    np.testing.assert_allclose(result.values, reference("NDWI", values), rtol=2e-6, atol=1e-6)


def test_provenance_and_georeferencing(da: xr.DataArray) -> None:
    result = indices.evi(da)
    assert result.name == "EVI"
    assert result.attrs["long_name"] == "EVI"
    assert result.attrs["formula"] == "2.5 * (B08 - B04) / (B08 + 6.0 * B04 - 7.5 * B02 + 1.0)"
    assert result.attrs["collection"] == "sentinel-2-l2a"
    assert result.attrs["synthetic"] == 1
    assert "spatial_ref" in result.coords
    assert "band" not in result.coords
    assert result.coords["spatial_ref"].attrs == da.coords["spatial_ref"].attrs
    import rioxarray

    assert rioxarray is not None
    assert result.rio.crs.to_epsg() == 32633
    assert result.rio.transform() == grid((da.shape[1], da.shape[2])).transform


def test_export_an_index(da: xr.DataArray, tmp_path: Path) -> None:
    import rasterio

    from s2raster.export import to_geotiff

    with rasterio.open(to_geotiff(indices.ndmi(da), tmp_path / "ndmi.tif")) as src:
        assert src.descriptions == ("NDMI",)
        assert src.tags()["S2RASTER_SYNTHETIC"] == "1"


# --- registry and errors -----------------------------------------------------------------------


def test_registry() -> None:
    assert {"NDVI", "NDWI", "NDMI", "NBR", "EVI", "SAVI", "NDRE"} <= set(INDICES)
    function, bands = INDICES["EVI"]
    assert function is indices.evi
    assert bands == ("B08", "B04", "B02")
    assert INDICES["NDRE"].bands == ("B08", "B05")
    assert indices.ndvi.__name__ == "ndvi"
    assert "(B08 - B04) / (B08 + B04)" in (indices.ndvi.__doc__ or "")


def test_bands_for() -> None:
    assert bands_for(["NDVI"]) == ("B04", "B08")
    assert bands_for(["evi", "NBR", "ndre"]) == ("B02", "B04", "B05", "B08", "B12")
    assert bands_for([]) == ()


def test_compute_names(da: xr.DataArray) -> None:
    np.testing.assert_array_equal(compute("ndvi", da).values, indices.ndvi(da).values)
    assert compute("NDREI", da).name == "NDRE"
    with pytest.raises(InputError, match=r"unknown index 'NDXX'.*NDVI"):
        compute("NDXX", da)


def test_missing_band(da: xr.DataArray) -> None:
    with pytest.raises(BandError, match=r"EVI needs band B02.*bands_for\(\['EVI'\]\)"):
        indices.evi(da.sel(band=["B04", "B08"]))


def test_needs_band_dimension(da: xr.DataArray) -> None:
    with pytest.raises(InputError, match="'band' dimension"):
        indices.ndvi(da.sel(band="B08"))


def test_dn_units_refused_for_constant_indices(da: xr.DataArray) -> None:
    dn = da.assign_attrs(units="DN")
    with pytest.raises(InputError, match="reflectance"):
        indices.evi(dn)
    assert indices.ndvi(dn).name == "NDVI"  # scale-free: fine on DN
    per_band = da.assign_attrs(units=",".join("DN" if b == "B01" else "reflectance" for b in S2))
    assert indices.evi(per_band).name == "EVI"  # only B02/B04/B08 matter
