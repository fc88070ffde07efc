"""Find the Sentinel-2 bands in what users bring: DataArrays and Datasets from any tool.

Accepted: a DataArray with a ``band`` dimension labelled with band names (``s2raster.load``;
``B04``, ``B4``, STAC ``eo:common_name`` such as ``red`` or ``nir08``, or Earth Search's
``rededge1``); one whose ``band`` coordinate is 1..n (``rioxarray.open_rasterio``) with the
names in ``bands=`` or in the band descriptions rioxarray stores as ``long_name``; an
``xarray.Dataset`` with one variable per band (odc-stac, ``open_rasterio(...,
band_as_variable=True)`` with descriptions in each variable's ``long_name``).
"""

from __future__ import annotations

import re
from collections.abc import Hashable, Mapping, Sequence
from typing import Any

import numpy as np
import xarray as xr

from s2raster.errors import BandError, InputError
from s2raster.indices._catalogue import S2_BANDS

__all__ = ["BandsArg", "band_arrays", "s2_name", "units_of"]

BandsArg = Sequence[str] | Mapping[Hashable, str] | None

#: STAC eo:common_name (eo v1.1) and Earth Search names -> Sentinel-2 band.
COMMON_NAMES: Mapping[str, str] = {
    "coastal": "B01",
    "blue": "B02",
    "green": "B03",
    "red": "B04",
    "rededge071": "B05",
    "rededge1": "B05",
    "rededge075": "B06",
    "rededge2": "B06",
    "rededge078": "B07",
    "rededge3": "B07",
    "nir": "B08",
    "nir08": "B8A",
    "nir09": "B09",
    "cirrus": "B10",
    "swir16": "B11",
    "swir22": "B12",
}
_BAND = re.compile(r"^B0?(\d{1,2}|8A)$", re.IGNORECASE)


def s2_name(label: Any) -> str | None:
    """The Sentinel-2 band ``label`` names (``"B04"``, ``"b4"``, ``"red"``), else None."""
    text = str(label).strip()
    match = _BAND.match(text)
    if match:
        number = match.group(1).upper()
        name = "B8A" if number == "8A" else f"B{int(number):02d}"
        return name if name in S2_BANDS else None
    return COMMON_NAMES.get(text.casefold())


def band_arrays(
    data: xr.DataArray | xr.Dataset, needed: Sequence[str], bands: BandsArg, who: str
) -> dict[str, xr.DataArray]:
    """Each band of ``needed`` as a DataArray without the band dimension.

    ``who`` names the index in messages. Raises :class:`~s2raster.errors.BandError` for a
    missing band, :class:`~s2raster.errors.InputError` for data that carry no band names.
    """
    if isinstance(data, xr.Dataset):
        found = _dataset_bands(data, bands)
    elif isinstance(data, xr.DataArray) and "band" in data.dims:
        found = _dataarray_bands(data, bands)
    else:
        raise InputError(
            f"{who} needs a DataArray with a 'band' dimension and coordinate, or an "
            f"xarray.Dataset with one variable per band; got {_describe(data)}"
        )
    missing = [b for b in needed if b not in found]
    if missing:
        kind = "Dataset" if isinstance(data, xr.Dataset) else "DataArray"
        raise BandError(
            f"{who} needs band {', '.join(missing)}, which is not in the {kind} (bands: "
            f"{', '.join(found) or 'none recognised'}); load it too, e.g. "
            f"bands=s2raster.indices.bands_for([{who!r}])"
        )
    return {b: found[b] for b in needed}


def _describe(data: object) -> str:
    if isinstance(data, xr.DataArray):
        return f"a DataArray with dims {data.dims}"
    return type(data).__name__


def _dataarray_bands(da: xr.DataArray, bands: BandsArg) -> dict[str, xr.DataArray]:
    n = da.sizes["band"]
    coord = list(np.atleast_1d(da.coords["band"].values)) if "band" in da.coords else []
    labels = _labels(bands, coord, n, "the band coordinate")
    if labels is None:
        labels = [s2_name(v) for v in coord] if coord else [None] * n
        long_names = da.attrs.get("long_name")
        if not any(labels) and isinstance(long_names, (tuple, list)) and len(long_names) == n:
            labels = [s2_name(v) for v in long_names]  # rioxarray's band descriptions
    if not any(labels):
        raise InputError(
            f"the DataArray's band coordinate {coord[:13]} names no Sentinel-2 band: pass "
            "bands=['B04', 'B08', ...] (one name per band, in order) or "
            "bands={1: 'B04', 2: 'B08'}"
        )
    out: dict[str, xr.DataArray] = {}
    for i, label in enumerate(labels):
        if label is not None and label not in out:
            out[label] = da.isel(band=i, drop=True)
    return out


def _dataset_bands(ds: xr.Dataset, bands: BandsArg) -> dict[str, xr.DataArray]:
    names = list(ds.data_vars)
    labels = _labels(bands, names, len(names), "the Dataset's variables")
    if labels is None:
        labels = [
            s2_name(v) or s2_name(ds[v].attrs.get("long_name", "")) for v in names
        ]  # variable names, else descriptions (open_rasterio(band_as_variable=True))
    out: dict[str, xr.DataArray] = {}
    for name, label in zip(names, labels, strict=True):
        if label is not None and label not in out:
            var = ds[name]
            if "band" in var.dims and var.sizes["band"] == 1:
                var = var.isel(band=0, drop=True)
            out[label] = var
    return out


def _labels(bands: BandsArg, keys: Sequence[Any], n: int, what: str) -> list[str | None] | None:
    """The band names ``bands=`` gives each of ``n`` bands (keys: coordinate or variables)."""
    if bands is None:
        return None
    if isinstance(bands, Mapping):
        unknown = [k for k in bands if k not in keys]
        if unknown:
            raise InputError(f"bands= maps {unknown} which are not in {what} {list(keys)[:13]}")
        return [_checked(bands[k]) if k in bands else None for k in keys]
    if isinstance(bands, str) or len(bands) != n:
        raise InputError(
            f"bands= must give one Sentinel-2 name per band ({n}), got {bands!r}; or map "
            "some of them: bands={1: 'B04', 2: 'B08'}"
        )
    return [_checked(b) for b in bands]


def _checked(label: Any) -> str:
    name = s2_name(label)
    if name is None:
        raise BandError(f"bands=: {label!r} is not a Sentinel-2 band (B01..B12, B8A)")
    return name


def units_of(data: xr.DataArray | xr.Dataset, arrays: Mapping[str, xr.DataArray]) -> list[str]:
    """The units of each band in ``arrays`` (lower-case; '' when unknown).

    A DataArray's ``units`` attr is one value or one per band, comma-separated (as
    ``s2raster.load`` writes it); a Dataset's variables carry their own.
    """
    if isinstance(data, xr.Dataset):
        default = data.attrs.get("units", "")
        return [str(a.attrs.get("units", default)).strip().lower() for a in arrays.values()]
    units = [u.strip().lower() for u in str(data.attrs.get("units", "")).split(",")]
    if len(units) > 1 and "band" in data.coords:
        per_band = dict(zip((s2_name(b) for b in data.coords["band"].values), units, strict=False))
        return [per_band.get(b, "") for b in arrays]
    return [units[0]] * len(arrays)
