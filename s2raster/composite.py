"""Temporal composites: one ``(band, y, x)`` image from a ``(time, band, y, x)`` series.

:func:`composite` reduces over ``time``, lazily (dask in, dask out) and NaN-aware: a NaN
(no data, or masked by :func:`s2raster.mask_clouds`) never wins, and a pixel with no valid
value at any time is NaN, without RuntimeWarnings. ``mean``, ``min``, ``max``, ``first``
and ``last`` are tree reductions over the time chunks (memory: a few chunks); ``median``
and ``greenest`` need every date of a pixel at once, so they hold all dates of one block
(about ``dates x bands x 4 bytes`` per pixel of a tile; a smaller ``tile_px`` in the load
lowers it).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import xarray as xr

from s2raster.errors import BandError, InputError
from s2raster.timerange import format_time

__all__ = ["METHODS", "composite"]

#: The composite methods, see :func:`composite`.
METHODS = ("median", "mean", "min", "max", "first", "last", "greenest")
#: Rows of a chunk a median / greenest stacks at once: bounds the stacked and sorted copies.
STRIP_ROWS = 256


def composite(da: xr.DataArray, method: str = "median") -> xr.DataArray:
    """The time steps of ``da`` combined pixel by pixel into one image.

    ``da`` is ``(time, band, y, x)`` (a load with ``groupby=``, cloud-masked or not), or
    ``(time, index, y, x)`` / ``(time, y, x)`` indices of one. ``method``: ``median``,
    ``mean``, ``min``, ``max`` of the valid values; ``first`` / ``last``: the earliest /
    latest valid value of each pixel and band;
    ``greenest``: all bands from the step of each pixel's highest NDVI (needs ``B04`` and
    ``B08``). The result (``(band, y, x)``, or ``(y, x)``) keeps the georeferencing and
    provenance attrs, adds ``composite_method``, ``composite_from`` / ``composite_to`` (the
    first and last ``time``) and ``composite_dates``, and is what
    :func:`s2raster.to_geotiff` writes.
    """
    if method not in METHODS:
        raise InputError(f"unknown composite method {method!r}; use one of: {', '.join(METHODS)}")
    if not isinstance(da, xr.DataArray) or "time" not in da.dims:
        raise InputError(
            "composite needs a DataArray with a time dimension: load with "
            "groupby='solar_day' (or 'time')"
        )
    if da.sizes["time"] == 0:
        raise InputError("composite got no time step: nothing to combine")
    layer = next((d for d in ("band", "index") if d in da.dims), None)
    cube = da.expand_dims(band=[str(da.name or "band_1")], axis=1) if layer is None else da
    cube = cube.transpose("time", layer or "band", "y", "x")
    bands = [str(b) for b in cube[layer or "band"].values]
    if method == "greenest":
        data = _greenest(cube.data, bands if layer == "band" else [])
    else:
        data = _REDUCERS[method](cube.data)
    out = _wrap(da, cube, data.astype(np.float32, copy=False), method, layer or "band")
    return out if layer is not None else out.isel(band=0, drop=True)


def _wrap(da: xr.DataArray, cube: xr.DataArray, data: Any, method: str, layer: str) -> xr.DataArray:
    keep = {n: c for n, c in cube.coords.items() if "time" not in c.dims}
    out = xr.DataArray(data, dims=(layer, "y", "x"), coords=keep, name=da.name)
    times = np.asarray(cube["time"].values).astype("datetime64[us]")
    out.attrs = dict(da.attrs)
    out.attrs["composite_method"] = method
    out.attrs["composite_from"] = format_time(times.min().item())
    out.attrs["composite_to"] = format_time(times.max().item())
    out.attrs["composite_dates"] = int(times.size)
    out.encoding = {k: v for k, v in da.encoding.items() if k == "grid_mapping"}
    return out


def _mean(x: Any) -> Any:
    valid = np.isfinite(x)
    count = valid.sum(axis=0)
    total = np.where(valid, x, 0).sum(axis=0, dtype=np.float64)
    return np.where(count > 0, total / np.maximum(count, 1), np.nan)


def _extreme(fill: float) -> Callable[[Any], Any]:
    def reduce(x: Any) -> Any:
        valid = np.isfinite(x)
        filled = np.where(valid, x, fill)
        best = filled.min(axis=0) if fill > 0 else filled.max(axis=0)
        return np.where(valid.any(axis=0), best, np.nan)

    return reduce


def _ordered(last: bool) -> Callable[[Any], Any]:
    """The first (last) valid value along axis 0, as a dask reduction: chunk and aggregate
    are one function, and dask concatenates the partial results in time order."""

    def chunk(x: np.ndarray, axis: Any = (0,), keepdims: bool = False) -> np.ndarray:  # noqa: ARG001
        valid = np.isfinite(x)
        index = x.shape[0] - 1 - valid[::-1].argmax(axis=0) if last else valid.argmax(axis=0)
        picked = np.take_along_axis(x, index[np.newaxis], axis=0)
        picked = np.where(valid.any(axis=0)[np.newaxis], picked, np.nan).astype(x.dtype)
        return picked if keepdims else picked[0]

    def reduce(x: Any) -> Any:
        if isinstance(x, np.ndarray):
            return chunk(x)
        import dask.array as dsa

        meta = np.empty((0,) * (x.ndim - 1), dtype=x.dtype)
        return dsa.reduction(  # type: ignore[no-untyped-call]
            x, chunk, chunk, axis=0, keepdims=False, dtype=x.dtype, concatenate=True, meta=meta
        )

    return reduce


def _median_block(x: np.ndarray) -> np.ndarray:
    """Median over axis 0 of the finite values (NaN where none), without warnings."""
    ordered = np.sort(x, axis=0)  # NaNs sort last
    count = np.isfinite(x).sum(axis=0)
    lo = np.clip((count - 1) // 2, 0, None)[np.newaxis]
    hi = np.clip(count // 2, 0, x.shape[0] - 1)[np.newaxis]
    low = np.take_along_axis(ordered, lo, axis=0)[0].astype(np.float64)
    high = np.take_along_axis(ordered, hi, axis=0)[0].astype(np.float64)
    return np.where(count > 0, (low + high) / 2, np.nan).astype(x.dtype)


def _greenest_block(x: np.ndarray, red: int, nir: int) -> np.ndarray:
    """All bands of the step of highest NDVI per pixel (NaN where NDVI never is)."""
    b4, b8 = x[:, red].astype(np.float64), x[:, nir].astype(np.float64)
    denominator = b8 + b4
    ok = np.isfinite(denominator) & (denominator != 0)
    ndvi = np.divide(b8 - b4, denominator, out=np.full_like(b4, -np.inf), where=ok)
    index = ndvi.argmax(axis=0)
    picked = np.take_along_axis(x, index[np.newaxis, np.newaxis], axis=0)[0]
    return np.where(ok.any(axis=0)[np.newaxis], picked, np.nan).astype(x.dtype)


def _whole_time(block: Callable[[np.ndarray], np.ndarray]) -> Callable[[Any], Any]:
    """Apply ``block`` (``(time, band, y, x)`` -> ``(band, y, x)``) to every date at once.

    On dask, one task per spatial chunk gets the chunks of all dates as a list (blockwise
    without concatenation: no rechunked copy of the cube) and stacks them strip by strip.
    """

    def reduce(x: Any) -> Any:
        if isinstance(x, np.ndarray):
            return _by_strips(block, [x])
        import dask.array as dsa

        meta = np.empty((0, 0, 0), dtype=x.dtype)
        return dsa.blockwise(  # type: ignore[no-untyped-call]
            _by_strips, "byx", block, None, x.rechunk({1: -1}), "tbyx",
            concatenate=False, dtype=x.dtype, meta=meta,
        )  # fmt: skip

    return reduce


def _by_strips(block: Callable[[np.ndarray], np.ndarray], parts: list[np.ndarray]) -> np.ndarray:
    """``block`` of the dates' ``parts`` stacked along time, :data:`STRIP_ROWS` rows at a time:
    the stack (and its sorted copy) is never the whole chunk."""
    _, bands, height, width = parts[0].shape
    out = np.empty((bands, height, width), dtype=parts[0].dtype)
    for row in range(0, height, STRIP_ROWS):
        rows = slice(row, row + STRIP_ROWS)
        out[:, rows] = block(np.concatenate([p[:, :, rows] for p in parts], axis=0))
    return out


def _greenest(x: Any, bands: list[str]) -> Any:
    missing = [b for b in ("B04", "B08") if b not in bands]
    if missing:
        raise BandError(
            f"composite(method='greenest') picks the step of highest NDVI and needs bands "
            f"B04 and B08; missing {','.join(missing)}: load them too"
        )
    red, nir = bands.index("B04"), bands.index("B08")
    return _whole_time(lambda block: _greenest_block(block, red, nir))(x)


_REDUCERS: dict[str, Callable[[Any], Any]] = {
    "median": _whole_time(_median_block),
    "mean": _mean,
    "min": _extreme(np.inf),
    "max": _extreme(-np.inf),
    "first": _ordered(last=False),
    "last": _ordered(last=True),
}
