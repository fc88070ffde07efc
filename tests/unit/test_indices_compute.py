"""compute(): any input layout, several indices, expressions, constants, errors, laziness."""

from __future__ import annotations

import warnings

import dask.array as dsa
import numpy as np
import pytest
import xarray as xr
from affine import Affine

from s2raster import indices
from s2raster.errors import BandError, InputError
from s2raster.grid import Grid
from s2raster.xr import to_dataarray

BANDS = ["B02", "B03", "B04", "B08", "B11", "B12"]


@pytest.fixture
def values() -> np.ndarray:
    rng = np.random.default_rng(11)
    out = rng.uniform(0.01, 0.6, size=(len(BANDS), 9, 12)).astype(np.float32)
    out[0] *= 0.2
    return out


@pytest.fixture
def da(values: np.ndarray) -> xr.DataArray:
    grid = Grid("EPSG:32633", Affine(10.0, 0.0, 500_000.0, 0.0, -10.0, 5_000_000.0), (9, 12))
    return to_dataarray(values, grid, BANDS, {"collection": "sentinel-2-l2a", "synthetic": 1})


def ndvi_of(values: np.ndarray) -> np.ndarray:
    n, r = values[BANDS.index("B08")], values[BANDS.index("B04")]
    out: np.ndarray = (n - r) / (n + r)
    return out


# --- inputs ------------------------------------------------------------------------------------


def test_dataset_one_variable_per_band(da: xr.DataArray, values: np.ndarray) -> None:
    """odc-stac style: a Dataset with one variable per band (here by common name)."""
    ds = xr.Dataset(
        {
            name: da.sel(band=b, drop=True)
            for name, b in zip(
                ["blue", "green", "red", "nir", "swir16", "swir22"], BANDS, strict=True
            )
        },
        attrs={"source": "stac"},
    )
    result = indices.compute("NDVI", ds)
    np.testing.assert_allclose(result.values, ndvi_of(values), rtol=1e-6)
    assert result.attrs["source"] == "stac"
    assert "spatial_ref" in result.coords
    by_name = xr.Dataset({b: da.sel(band=b, drop=True) for b in BANDS})
    np.testing.assert_array_equal(indices.compute("NDVI", by_name).values, result.values)


def test_rioxarray_band_numbers_with_bands_argument(da: xr.DataArray, values: np.ndarray) -> None:
    numbered = da.assign_coords(band=np.arange(1, len(BANDS) + 1))
    numbered.attrs.pop("long_name")
    with pytest.raises(InputError, match=r"pass bands=\['B04', 'B08', \.\.\.\]"):
        indices.compute("NDVI", numbered)
    by_list = indices.compute("NDVI", numbered, bands=BANDS)
    by_map = indices.compute("NDVI", numbered, bands={3: "B04", 4: "B08"})
    np.testing.assert_allclose(by_list.values, ndvi_of(values), rtol=1e-6)
    np.testing.assert_array_equal(by_map.values, by_list.values)
    with pytest.raises(InputError, match="one Sentinel-2 name per band"):
        indices.compute("NDVI", numbered, bands=["B04", "B08"])
    with pytest.raises(InputError, match=r"maps \[9\]"):
        indices.compute("NDVI", numbered, bands={9: "B04"})
    with pytest.raises(BandError, match="'foo' is not a Sentinel-2 band"):
        indices.compute("NDVI", numbered, bands={3: "foo", 4: "B08"})


def test_rioxarray_band_descriptions(da: xr.DataArray, values: np.ndarray) -> None:
    """open_rasterio: band 1..n, the descriptions in long_name (here as B4/B8 spellings)."""
    numbered = da.assign_coords(band=np.arange(1, len(BANDS) + 1))
    numbered.attrs["long_name"] = ("B2", "B3", "B4", "B8", "B11", "B12")
    np.testing.assert_allclose(indices.ndvi(numbered).values, ndvi_of(values), rtol=1e-6)


def test_band_as_variable_dataset(da: xr.DataArray, values: np.ndarray) -> None:
    """open_rasterio(band_as_variable=True): band_1.. with descriptions as long_name."""
    ds = xr.Dataset(
        {
            f"band_{i + 1}": da.sel(band=b, drop=True).assign_attrs(long_name=b)
            for i, b in enumerate(BANDS)
        }
    )
    np.testing.assert_allclose(indices.ndvi(ds).values, ndvi_of(values), rtol=1e-6)
    renamed = ds.rename({"band_3": "x3", "band_4": "x4"})
    for v in renamed.data_vars.values():
        v.attrs.pop("long_name")
    result = indices.compute("NDVI", renamed, bands={"x3": "B04", "x4": "B08"})
    np.testing.assert_allclose(result.values, ndvi_of(values), rtol=1e-6)


def test_band_dimension_anywhere_and_lazy_dataset(da: xr.DataArray, values: np.ndarray) -> None:
    last = da.transpose("y", "x", "band")
    np.testing.assert_allclose(indices.ndvi(last).values, ndvi_of(values), rtol=1e-6)
    lazy = xr.Dataset({b: da.sel(band=b, drop=True).chunk({"y": 4}) for b in BANDS})
    result = indices.compute(["NDVI", "NBR"], lazy)
    assert isinstance(result.data, dsa.Array)
    np.testing.assert_allclose(result.sel(index="NDVI").values, ndvi_of(values), rtol=1e-6)


def test_not_band_data() -> None:
    with pytest.raises(InputError, match="'band' dimension"):
        indices.compute("NDVI", np.ones((2, 3)))  # type: ignore[arg-type]
    with pytest.raises(BandError, match=r"NDVI needs band B08, B04.*none recognised"):
        indices.compute("NDVI", xr.Dataset({"a": ("x", [1.0])}))


# --- several indices, expressions, constants ----------------------------------------------------


def test_several_indices(da: xr.DataArray, values: np.ndarray) -> None:
    result = indices.compute(["NDVI", "evi", "NDVI", "(B08 - B04) / (B08 + B04 + 0.5)"], da)
    assert result.dims == ("index", "y", "x")
    assert list(result["index"].values) == ["NDVI", "EVI", "(B08 - B04) / (B08 + B04 + 0.5)"]
    assert result["formula"].values[1] == (
        "2.5 * (B08 - B04) / (B08 + 6.0 * B04 - 7.5 * B02 + 1.0)"
    )
    assert result.attrs["long_name"] == ("NDVI", "EVI", "(B08 - B04) / (B08 + B04 + 0.5)")
    assert "formula" not in result.attrs
    assert result.attrs["synthetic"] == 1
    assert "spatial_ref" in result.coords
    np.testing.assert_array_equal(result.sel(index="NDVI").values, indices.ndvi(da).values)


def test_expression_names_and_constants(da: xr.DataArray, values: np.ndarray) -> None:
    n, r = values[BANDS.index("B08")], values[BANDS.index("B04")]
    result = indices.compute("(N - R) / (N + R + L)", da, L=0.25)
    assert result.name == "(N - R) / (N + R + L)"
    assert result.attrs["formula"] == "(B08 - B04) / (B08 + B04 + 0.25)"
    np.testing.assert_allclose(result.values, (n - r) / (n + r + 0.25), rtol=1e-6)
    np.testing.assert_array_equal(indices.compute("B08", da).values, n)


def test_constants_override(da: xr.DataArray, values: np.ndarray) -> None:
    n, r = values[BANDS.index("B08")], values[BANDS.index("B04")]
    savi = indices.compute("SAVI", da, L=0.25)
    assert savi.attrs["formula"] == "(1.0 + 0.25) * (B08 - B04) / (B08 + B04 + 0.25)"
    np.testing.assert_allclose(savi.values, 1.25 * (n - r) / (n + r + 0.25), rtol=1e-6)
    with pytest.raises(InputError, match=r"NDVI do\(es\) not use constant\(s\) L"):
        indices.compute("NDVI", da, L=0.5)
    with pytest.raises(InputError, match="must be a number"):
        indices.compute("SAVI", da, L="0.5")  # type: ignore[arg-type]
    with pytest.raises(InputError, match="must be finite"):
        indices.compute("SAVI", da, L=float("inf"))
    with pytest.raises(InputError, match="B04 is a band, not a constant"):
        indices.compute("SAVI", da, B04=1.0)
    with pytest.raises(InputError, match="kernel indices"):
        indices.compute("NDVI", da, kernel="poly")
    with pytest.raises(InputError, match="kernel 'gauss' is unknown"):
        indices.compute("kNDVI", da, kernel="gauss")


def test_names() -> None:
    assert indices.canonical_name("ndvi") == "NDVI"
    assert indices.canonical_name("BaI") == "BaI"
    assert indices.canonical_name("BAI") == "BAI"
    with pytest.raises(BandError, match="ambiguous: choose one of BAI, BaI"):
        indices.canonical_name("bai")
    assert indices.canonical_name("ndrei") == "NDRE"
    with pytest.raises(BandError, match="needs T, which Sentinel-2 does not measure"):
        indices.canonical_name("NBRT1")


def test_required_bands() -> None:
    assert indices.required_bands("NDVI") == ("B04", "B08")
    assert indices.required_bands(["EVI", "NBR", "kNDVI"]) == ("B02", "B04", "B08", "B12")
    assert indices.required_bands(["(B8A - B05) / B01"]) == ("B01", "B05", "B8A")
    assert indices.required_bands([]) == ()
    with pytest.raises(InputError, match="uses no band"):
        indices.required_bands("1 + 2")


def test_nan_rules_no_warnings(da: xr.DataArray) -> None:
    zero = da.copy(data=np.zeros(da.shape, np.float32))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for text in ("B08 / B04", "B08 ** -1", "B08 ** -0.5", "1 / (B08 / B04)", "log(B08)"):
            out = indices.compute(text, zero).values
            assert np.isnan(out).all(), text
        assert (indices.compute("B08 / 0", da).values != indices.compute("B08", da).values).all()
        out = indices.compute("(B08 > B04) * 2 + (B08 <= B04)", da).values
    assert set(np.unique(out)) <= {1.0, 2.0}


def test_dn_refused_only_for_scale_dependent_formulas(da: xr.DataArray) -> None:
    dn = da.assign_attrs(units="DN")
    for name in ("NDVI", "GNDVI", "(B08 - B04) / (B08 + B04)", "B08 / B04"):
        indices.compute(name, dn)
    for name in ("EVI", "SAVI", "BAI", "B08 - 0.1"):
        with pytest.raises(InputError, match="reflectance"):
            indices.compute(name, dn)


def test_compiled_program_is_reused(da: xr.DataArray) -> None:
    from s2raster.indices import _compute

    _compute._program.cache_clear()
    indices.evi(da)
    indices.evi(da)
    assert _compute._program.cache_info().hits >= 1
