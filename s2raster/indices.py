"""Spectral indices on DataArrays with a ``band`` coordinate, as in Awesome Spectral Indices.

Formulas and constants follow Awesome Spectral Indices (ASI; the ``spyndex`` catalogue),
with its Sentinel-2 band mapping: B=B02, G=B03, R=B04, RE1=B05, N=B08, S1=B11, S2=B12.
ASI's ``NDREI`` is offered as ``NDRE``. Every index is lazy (dask stays dask), NaN-safe
(NaN in gives NaN out, a zero denominator gives NaN, no warnings), float32, named after
the index, and keeps the input's attrs and ``spatial_ref``.

Speed: each block is computed in cache-sized pieces with preallocated scratch buffers,
so the only full-size memory traffic is reading the input bands and writing the result.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import cache, partial
from typing import NamedTuple

import numpy as np
import xarray as xr
from dask.base import is_dask_collection

from s2raster.errors import BandError, InputError

__all__ = [
    "INDICES",
    "IndexSpec",
    "bands_for",
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
    "savi",
    "stack",
]

#: ASI constants (EVI: g, C1, C2, L; SAVI: L = 0.5 as in Huete 1988).
G, C1, C2, L_EVI, L_SAVI = 2.5, 6.0, 7.5, 1.0, 0.5
#: Elements per piece: inputs, scratch and output of a piece stay in the L2 cache.
PIECE = 32768
_S2_ORDER = (
    "B01", "B02", "B03", "B04", "B05", "B06", "B07", "B08", "B8A", "B09", "B10", "B11", "B12",
)  # fmt: skip
Kernel = Callable[..., None]


class IndexSpec(NamedTuple):
    """A registry entry: the function computing the index and the bands it needs."""

    function: Callable[[xr.DataArray], xr.DataArray]
    bands: tuple[str, ...]


class _Def(NamedTuple):
    long_name: str
    formula: str  # with Sentinel-2 band names and constants filled in
    bands: tuple[str, ...]  # in the kernel's argument order
    kernel: Kernel
    n_scratch: int
    reflectance_only: bool  # constants assume reflectance 0..1 (not DN)


# --- kernels: (out, *inputs, *scratch), all 1-D float32 pieces of the same length ------------


def _divide(num: np.ndarray, den: np.ndarray, out: np.ndarray) -> None:
    np.divide(num, den, out=out)
    if not den.all():  # x / 0 is +-inf: NaN instead (NaN is truthy: no false alarm)
        out[den == 0] = np.nan


def _normalized_difference(
    out: np.ndarray, a: np.ndarray, b: np.ndarray, s1: np.ndarray, s2: np.ndarray
) -> None:
    """(a - b) / (a + b)."""
    np.subtract(a, b, out=s1)
    np.add(a, b, out=s2)
    _divide(s1, s2, out)


def _evi(
    out: np.ndarray,
    n: np.ndarray,
    r: np.ndarray,
    b: np.ndarray,
    s1: np.ndarray,
    s2: np.ndarray,
    s3: np.ndarray,
) -> None:
    """g*(N-R)/(N+C1*R-C2*B+L), evaluated in ASI's order."""
    np.subtract(n, r, out=s1)
    s1 *= G
    np.multiply(r, C1, out=s2)
    s2 += n
    np.multiply(b, C2, out=s3)
    s2 -= s3
    s2 += L_EVI
    _divide(s1, s2, out)


def _evi2(out: np.ndarray, n: np.ndarray, r: np.ndarray, s1: np.ndarray, s2: np.ndarray) -> None:
    """g*(N-R)/(N+2.4*R+L)."""
    np.subtract(n, r, out=s1)
    s1 *= G
    np.multiply(r, 2.4, out=s2)
    s2 += n
    s2 += L_EVI
    _divide(s1, s2, out)


def _savi(out: np.ndarray, n: np.ndarray, r: np.ndarray, s1: np.ndarray, s2: np.ndarray) -> None:
    """(1.0+L)*(N-R)/(N+R+L)."""
    np.subtract(n, r, out=s1)
    s1 *= 1.0 + L_SAVI
    np.add(n, r, out=s2)
    s2 += L_SAVI
    _divide(s1, s2, out)


def _nd(long_name: str, a: str, b: str) -> _Def:
    return _Def(long_name, f"({a} - {b}) / ({a} + {b})", (a, b), _normalized_difference, 2, False)


_DEFS: dict[str, _Def] = {
    "NDVI": _nd("Normalized Difference Vegetation Index", "B08", "B04"),
    "NDWI": _nd("Normalized Difference Water Index (McFeeters)", "B03", "B08"),
    "NDMI": _nd("Normalized Difference Moisture Index", "B08", "B11"),
    "NBR": _nd("Normalized Burn Ratio", "B08", "B12"),
    "NDRE": _nd("Normalized Difference Red Edge Index (ASI NDREI)", "B08", "B05"),
    "GNDVI": _nd("Green Normalized Difference Vegetation Index", "B08", "B03"),
    "NDBI": _nd("Normalized Difference Built-Up Index", "B11", "B08"),
    "MNDWI": _nd("Modified Normalized Difference Water Index", "B03", "B11"),
    "NDSI": _nd("Normalized Difference Snow Index", "B03", "B11"),
    "NBR2": _nd("Normalized Burn Ratio 2", "B11", "B12"),
    "EVI": _Def(
        "Enhanced Vegetation Index",
        f"{G} * (B08 - B04) / (B08 + {C1} * B04 - {C2} * B02 + {L_EVI})",
        ("B08", "B04", "B02"),
        _evi,
        3,
        True,
    ),
    "EVI2": _Def(
        "Two-Band Enhanced Vegetation Index",
        f"{G} * (B08 - B04) / (B08 + 2.4 * B04 + {L_EVI})",
        ("B08", "B04"),
        _evi2,
        2,
        True,
    ),
    "SAVI": _Def(
        "Soil-Adjusted Vegetation Index",
        f"{1.0 + L_SAVI} * (B08 - B04) / (B08 + B04 + {L_SAVI})",
        ("B08", "B04"),
        _savi,
        2,
        True,
    ),
}


# --- running a kernel over blocks ---------------------------------------------------------


def _run(kernel: Kernel, n_scratch: int, *arrays: np.ndarray, threads: int = 1) -> np.ndarray:
    """Apply ``kernel`` to same-shape numpy blocks piece by piece; a new float32 array.

    With ``threads > 1`` (numpy input; dask already runs blocks in parallel) each plane is
    split into that many ranges computed in a shared thread pool (numpy releases the GIL).
    """
    out = np.empty(arrays[0].shape, dtype=np.float32)
    for out_flat, flats in _planes(out, arrays):
        ranges = _ranges(out_flat.size, threads)
        if len(ranges) == 1:
            _pieces(kernel, n_scratch, out_flat, flats, *ranges[0])
            continue
        jobs = [_pool().submit(_pieces, kernel, n_scratch, out_flat, flats, *r) for r in ranges]
        for job in jobs:
            job.result()
    return out


def _pieces(
    kernel: Kernel,
    n_scratch: int,
    out: np.ndarray,
    flats: Sequence[np.ndarray],
    start: int,
    stop: int,
) -> None:
    """Run ``kernel`` over ``[start, stop)`` of 1-D ``out``/``flats``, piece by piece."""
    scratch = [np.empty(PIECE, dtype=np.float32) for _ in range(n_scratch)]
    with np.errstate(all="ignore"):
        for lo in range(start, stop, PIECE):
            hi = min(lo + PIECE, stop)
            pieces = [f[lo:hi] for f in flats]
            kernel(out[lo:hi], *pieces, *(s[: hi - lo] for s in scratch))


def _ranges(size: int, threads: int) -> list[tuple[int, int]]:
    """``threads`` ranges covering ``range(size)``, on piece boundaries (one if small)."""
    step = -(-size // max(threads, 1))
    step = max(-(-step // PIECE) * PIECE, 4 * PIECE)
    return [(lo, min(lo + step, size)) for lo in range(0, size, step)] or [(0, 0)]


@cache
def _pool() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=os.cpu_count() or 1, thread_name_prefix="s2raster")


def _planes(
    out: np.ndarray, arrays: Sequence[np.ndarray]
) -> Iterator[tuple[np.ndarray, list[np.ndarray]]]:
    """1-D float32 views of the whole arrays if contiguous, else of each 2-D plane (copied)."""
    if all(a.dtype == np.float32 and a.flags.c_contiguous for a in arrays):
        yield out.reshape(-1), [a.reshape(-1) for a in arrays]
        return
    for index in np.ndindex(*out.shape[:-2]):
        flats = [np.ascontiguousarray(a[index], dtype=np.float32).reshape(-1) for a in arrays]
        yield out[index].reshape(-1), flats


def _band(da: xr.DataArray, band: str, index: str) -> xr.DataArray:
    names = [str(b) for b in np.atleast_1d(da.coords["band"].values)]
    if band not in names:
        raise BandError(
            f"{index} needs band {band}, which is not in the DataArray (bands: "
            f"{', '.join(names)}); load it too, e.g. bands=s2raster.indices.bands_for"
            f"(['{index}'])"
        )
    selected: xr.DataArray = da.sel(band=band, drop=True)
    return selected


def _check_units(da: xr.DataArray, name: str, spec: _Def) -> None:
    if not spec.reflectance_only:
        return
    units = [u.strip().lower() for u in str(da.attrs.get("units", "")).split(",")]
    if len(units) > 1:
        per_band = dict(zip((str(b) for b in da.coords["band"].values), units, strict=False))
        units = [per_band.get(b, "") for b in spec.bands]
    if "dn" in units:
        raise InputError(
            f"{name}'s constants assume reflectance (0..1) but the data are DN: load with "
            "units REFLECTANCE or divide by 10000 first"
        )


def compute(name: str, da: xr.DataArray) -> xr.DataArray:
    """The index ``name`` (case-insensitive, see :data:`INDICES`) of ``da``.

    ``da`` has a ``band`` dimension with Sentinel-2 band names, e.g. ``(band, y, x)`` or
    ``(time, band, y, x)``; the result has the same dims without ``band``.
    """
    key = canonical_name(name)
    spec = _DEFS[key]
    if not isinstance(da, xr.DataArray) or "band" not in da.dims or "band" not in da.coords:
        raise InputError(f"{key} needs a DataArray with a 'band' dimension and coordinate")
    _check_units(da, key, spec)
    inputs = [_band(da, b, key) for b in spec.bands]
    lazy = any(is_dask_collection(x.data) for x in inputs)
    threads = 1 if lazy else os.cpu_count() or 1
    result = xr.apply_ufunc(
        partial(_run, spec.kernel, spec.n_scratch, threads=threads),
        *inputs,
        dask="parallelized",
        output_dtypes=[np.float32],
    )
    attrs = {k: v for k, v in da.attrs.items() if k not in ("long_name", "units")}
    result.attrs = {**attrs, "long_name": key, "formula": spec.formula, "units": "1"}
    if "grid_mapping" in da.encoding:
        result.encoding["grid_mapping"] = da.encoding["grid_mapping"]
    named: xr.DataArray = result.rename(key)
    return named


def bands_for(names: Iterable[str]) -> tuple[str, ...]:
    """The Sentinel-2 bands the indices ``names`` need, in band order (B02 before B08)."""
    needed = {b for name in names for b in _DEFS[canonical_name(name)].bands}
    return tuple(b for b in _S2_ORDER if b in needed)


def canonical_name(name: str) -> str:
    """The registry name of index ``name`` (case-insensitive; ASI's ``NDREI`` is ``NDRE``).

    An unknown name raises :class:`~s2raster.errors.BandError` listing the valid ones.
    """
    key = str(name).upper()
    if key == "NDREI":
        key = "NDRE"
    if key not in _DEFS:
        raise BandError(
            f"unknown index {name!r}: choose from {', '.join(sorted(_DEFS))} (e.g. NDVI,EVI)"
        )
    return key


def _function(key: str) -> Callable[[xr.DataArray], xr.DataArray]:
    spec = _DEFS[key]

    def index(da: xr.DataArray) -> xr.DataArray:
        return compute(key, da)

    index.__name__ = index.__qualname__ = key.lower()
    index.__doc__ = f"{key}, {spec.long_name}: {spec.formula} (float32, lazy, NaN-safe)."
    return index


#: name -> (function, required bands), for every index this module offers.
INDICES: dict[str, IndexSpec] = {k: IndexSpec(_function(k), d.bands) for k, d in _DEFS.items()}

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


def stack(da: xr.DataArray, names: Sequence[str]) -> xr.DataArray:
    """The indices ``names`` of ``da`` stacked along ``band``, one band each named after its index.

    One index is a ``(band, y, x)`` array of one band; several are concatenated and the
    result is named ``"indices"`` with ``long_name`` the tuple of their names and a
    ``formula`` coordinate along ``band`` (each index's formula).
    """
    if not names:
        raise InputError("stack needs at least one index name, e.g. stack(da, ['NDVI'])")
    layers: list[xr.DataArray] = [compute(name, da).expand_dims(band=[name]) for name in names]
    if len(layers) == 1:
        return layers[0]
    formulas = [str(layer.attrs.get("formula", "")) for layer in layers]
    stacked: xr.DataArray = xr.concat(layers, dim="band", combine_attrs="override")
    # each band's own formula (the attrs are the first index's): files write it per band
    stacked = stacked.assign_coords(formula=("band", formulas))
    stacked.attrs.pop("formula", None)
    stacked.attrs["long_name"] = tuple(names)
    stacked.name = "indices"
    return stacked
