"""Spectral indices of Sentinel-2 data: the Awesome Spectral Indices catalogue, compiled.

Every index of Awesome Spectral Indices (ASI) whose bands Sentinel-2 measures is available
by its short name, with ASI's formula and constants (:func:`catalogue`), as are custom
expressions over band names::

    from s2raster import indices
    indices.compute("NDVI", da)                       # or indices.ndvi(da)
    indices.compute(["NDVI", "EVI", "NBR"], da)       # an ``index`` dimension
    indices.compute("SAVI", da, L=0.25)               # a constant overridden
    indices.compute("(B08 - B04) / (B08 + B04 + 0.5)", ds)   # a Dataset, one var per band
    indices.required_bands(["EVI", "NBR"])            # what to load: B02 B04 B08 B12

ASI's Sentinel-2 band mapping: A=B01, B=B02, G=B03, R=B04, RE1=B05, RE2=B06, RE3=B07,
N=B08, N2=B8A, WV=B09, S1=B11, S2=B12. ASI's ``NDREI`` is offered as ``NDRE``; SAVI's ``L``
defaults to 0.5 (Huete 1988), every other constant to ASI's default, and the wavelength
constants (``lambdaN``...) to the Sentinel-2A centre wavelengths.

Formulas are parsed safely (never evaluated by Python) and compiled into a fused float32
kernel that reads each input band once and writes the result once, in cache-sized pieces.
Every index is lazy (dask stays dask), NaN-safe (NaN in gives NaN out, a zero denominator
gives NaN, no warnings), float32, named after the index, and keeps the input's attrs and
``spatial_ref``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import NamedTuple

import xarray as xr

from s2raster.indices._catalogue import SpectralIndex, entries
from s2raster.indices._compute import check, compute, required_bands, stack
from s2raster.indices._formula import canonical_name
from s2raster.indices._table import catalogue, s2_formula

__all__ = [
    "INDICES",
    "IndexSpec",
    "SpectralIndex",
    "bands_for",
    "canonical_name",
    "catalogue",
    "check",
    "compute",
    "evi",
    "evi2",
    "gndvi",
    "mndwi",
    "nbr",
    "nbr2",
    "ndbi",
    "ndmi",
    "ndre",
    "ndsi",
    "ndvi",
    "ndwi",
    "required_bands",
    "savi",
    "stack",
]


class IndexSpec(NamedTuple):
    """A registry entry: the function computing the index and the bands it needs.

    ``bands`` are in the order the formula first uses them (ASI's order).
    """

    function: Callable[[xr.DataArray | xr.Dataset], xr.DataArray]
    bands: tuple[str, ...]


def bands_for(names: Iterable[str]) -> tuple[str, ...]:
    """The Sentinel-2 bands the indices ``names`` need (:func:`required_bands`)."""
    return required_bands(names)


def _function(key: str) -> Callable[[xr.DataArray | xr.Dataset], xr.DataArray]:
    entry = entries()[key]

    def index(data: xr.DataArray | xr.Dataset) -> xr.DataArray:
        return compute(key, data)

    index.__name__ = index.__qualname__ = key.lower()
    index.__doc__ = (
        f"{key}, {entry.long_name}: {s2_formula(entry)} (ASI: {entry.formula}); "
        "float32, lazy, NaN-safe. See :func:`compute` for constants and other inputs."
    )
    return index


#: name -> (function, required bands), for every catalogue index.
INDICES: dict[str, IndexSpec] = {k: IndexSpec(_function(k), e.bands) for k, e in entries().items()}

ndvi = INDICES["NDVI"].function
ndwi = INDICES["NDWI"].function
ndmi = INDICES["NDMI"].function
nbr = INDICES["NBR"].function
ndre = INDICES["NDRE"].function
gndvi = INDICES["GNDVI"].function
ndbi = INDICES["NDBI"].function
mndwi = INDICES["MNDWI"].function
ndsi = INDICES["NDSI"].function
nbr2 = INDICES["NBR2"].function
evi = INDICES["EVI"].function
evi2 = INDICES["EVI2"].function
savi = INDICES["SAVI"].function
