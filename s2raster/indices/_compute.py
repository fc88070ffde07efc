"""The entry point: an index (or several, or an expression) of a DataArray or Dataset."""

from __future__ import annotations

import os
from collections.abc import Hashable, Iterable, Mapping, Sequence
from functools import lru_cache, partial
from typing import Any

import numpy as np
import xarray as xr
from dask.base import is_dask_collection

from s2raster.errors import InputError
from s2raster.indices._catalogue import S2_BANDS
from s2raster.indices._compiler import compile_tree
from s2raster.indices._formula import Formula, check_constants, resolve
from s2raster.indices._inputs import BandsArg, band_arrays, units_of
from s2raster.indices._kernel import Program
from s2raster.indices._tree import Node

__all__ = ["check", "compute", "formulas", "required_bands", "stack"]


def compute(
    name_or_expression: str | Sequence[str],
    data: xr.DataArray | xr.Dataset,
    *,
    bands: Sequence[str] | Mapping[Hashable, str] | None = None,
    kernel: str | None = None,
    **constants: float,
) -> xr.DataArray:
    """The spectral index ``name_or_expression`` of ``data``: lazy, NaN-safe, float32.

    ``name_or_expression`` is a catalogue name (:func:`catalogue`; exact, or
    case-insensitive when unambiguous), an expression over Sentinel-2 band names, ASI band
    symbols and constants (``"(B08 - B04) / (B08 + B04 + 0.5)"``), or a list of them: then
    the result has an ``index`` dimension and a ``formula`` coordinate along it.

    ``data`` is a DataArray with a ``band`` dimension (``(band, y, x)``, ``(time, band, y,
    x)``, anywhere) or a Dataset with one variable per band. Band names come from the band
    coordinate (``B04``, ``B4``, STAC common names such as ``red``, ``nir08``), else from
    rioxarray's band descriptions (``long_name``), or from the Dataset's variable names or
    their ``long_name``; ``bands=`` names them otherwise: one name per band in order
    (``['B04', 'B08']``) or a mapping from band coordinate value or variable name
    (``{1: 'B04', 2: 'B08'}``).

    ``constants`` override the defaults (ASI's; SAVI's ``L`` is 0.5) for every index that
    uses them (``L=0.25``); a constant no index uses is an error, as is one without a
    default left out (NIRvP's ``PAR``). ``kernel`` (``"RBF"`` by default, ``"linear"``,
    ``"poly"``) is the kernel of kernel indices (kNDVI: ``sigma``; poly: ``p``, ``c``).
    Data in DN (``units`` ``"DN"``) are refused for formulas that are not scale-free.

    The result has data's dims without ``band``, its coordinates (``spatial_ref``) and
    attrs, ``name`` and ``long_name`` the index name, ``formula`` the formula evaluated
    (Sentinel-2 bands, constants filled in), ``units`` "1".
    """
    many = not isinstance(name_or_expression, str)
    texts = _texts(name_or_expression)
    found = formulas(texts, constants, kernel=kernel)
    layers = [_one(f, data, bands) for f in found]
    if not many:
        single: xr.DataArray = layers[0]
        return single
    names = [f.name for f in found]
    stacked: xr.DataArray = xr.concat(
        layers, dim="index", combine_attrs="override", coords="minimal"
    )
    stacked = stacked.assign_coords(index=names, formula=("index", [f.text for f in found]))
    stacked.attrs.pop("formula", None)
    stacked.attrs["long_name"] = tuple(names)
    stacked.name = "indices"
    return stacked


def stack(data: xr.DataArray | xr.Dataset, names: Sequence[str], **options: Any) -> xr.DataArray:
    """The indices ``names`` of ``data`` along ``band``, one band each, for a GeoTIFF.

    :func:`compute` of the list with its ``index`` dimension renamed ``band``; each band's
    formula is in the ``formula`` coordinate along ``band`` (a GeoTIFF writer puts it in that
    band's metadata). One index keeps its ``formula`` attr as well; ``options`` go to
    :func:`compute`.
    """
    if isinstance(names, str) or not names:
        raise InputError(
            f"stack needs a list of index names, e.g. stack(da, ['NDVI']); got {names!r}"
        )
    result: xr.DataArray = compute(list(names), data, **options).rename(index="band")
    if result.sizes["band"] == 1:
        result.attrs["formula"] = str(result["formula"].values[0])
        result.name = str(result["band"].values[0])
    return result


def check(
    names_or_expressions: str | Iterable[str], *, kernel: str | None = None, **constants: float
) -> tuple[str, ...]:
    """The names :func:`compute` gives these indices or expressions, each once, after checking
    that it can compute them (names known, expressions valid, constants given and used).

    Call it before loading anything: its errors are those compute would raise later.
    """
    return tuple(f.name for f in formulas(_texts(names_or_expressions), constants, kernel=kernel))


def formulas(
    names: Iterable[str],
    constants: Mapping[str, object],
    *,
    kernel: str | None = None,
    strict: bool = True,
) -> list[Formula]:
    """The formulas of ``names`` (each once) with ``constants``; an InputError for an unused
    constant (``strict=False``: a missing constant is NaN, see :func:`resolve`)."""
    values = check_constants(constants)
    resolved = [resolve(text, values, kernel or "RBF", strict=strict) for text in names]
    unique: dict[str, Formula] = {}
    for f in resolved:
        unique.setdefault(f.name, f)
    found = list(unique.values())
    unused = set(values) - {k for f in found for k in f.constants}
    if unused:
        uses = sorted({k for f in found for k in f.constants})
        raise InputError(
            f"{', '.join(f.name for f in found)} do(es) not use constant(s) "
            f"{', '.join(sorted(unused))} (uses: {', '.join(uses) or 'none'}): drop them"
        )
    if kernel is not None and not any(f.kernel for f in found):
        raise InputError(f"kernel={kernel!r} applies to kernel indices (kNDVI, kEVI...) only")
    return found


def required_bands(
    names_or_expressions: str | Iterable[str], *, kernel: str | None = None
) -> tuple[str, ...]:
    """The Sentinel-2 bands the indices or expressions need, in band order (B02 before B08)."""
    found = formulas(_texts(names_or_expressions), {}, kernel=kernel, strict=False)
    needed = {b for f in found for b in f.bands}
    return tuple(b for b in S2_BANDS if b in needed)


def _texts(names: str | Iterable[str]) -> list[str]:
    if isinstance(names, str):
        return [names]
    texts = list(names)
    if not all(isinstance(t, str) for t in texts):
        raise InputError(f"index names must be strings, got {texts!r}")
    return list(dict.fromkeys(texts))


def _one(formula: Formula, data: xr.DataArray | xr.Dataset, bands: BandsArg) -> xr.DataArray:
    arrays = band_arrays(data, formula.bands, bands, formula.name)
    program = _program(formula.tree, formula.bands)
    _check_units(formula, data, arrays)
    inputs = [arrays[b] for b in formula.bands]
    lazy = any(is_dask_collection(x.data) for x in inputs)
    result = xr.apply_ufunc(
        partial(program, threads=1 if lazy else os.cpu_count() or 1),
        *inputs,
        dask="parallelized",
        output_dtypes=[np.float32],
    )
    attrs = {k: v for k, v in data.attrs.items() if k not in ("long_name", "units", "formula")}
    result.attrs = {**attrs, "long_name": formula.name, "formula": formula.text, "units": "1"}
    grid_mapping = data.encoding.get("grid_mapping") or inputs[0].encoding.get("grid_mapping")
    if grid_mapping:
        result.encoding["grid_mapping"] = grid_mapping
    named: xr.DataArray = result.rename(formula.name)
    return named


@lru_cache(maxsize=1024)
def _program(tree: Node, bands: tuple[str, ...]) -> Program:
    return compile_tree(tree, bands)


@lru_cache(maxsize=1024)
def _scale_free(tree: Node, bands: tuple[str, ...]) -> bool:
    """Whether the formula gives the same on reflectance x and on DN 10000 x."""
    rng = np.random.default_rng(0)
    values = rng.uniform(0.02, 0.6, size=(len(bands), 256)).astype(np.float32)
    program = _program(tree, bands)
    low, high = program(*values), program(*(values * 10000))
    both = np.isfinite(low) & np.isfinite(high)
    return bool(both.any()) and bool(np.allclose(low[both], high[both], rtol=1e-3, atol=1e-6))


def _check_units(formula: Formula, data: Any, arrays: Mapping[str, xr.DataArray]) -> None:
    if "dn" not in units_of(data, arrays) or _scale_free(formula.tree, formula.bands):
        return
    raise InputError(
        f"{formula.name} assumes reflectance (0..1) but the data are DN: load with units "
        "REFLECTANCE or divide by 10000 first"
    )
