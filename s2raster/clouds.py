"""Cloud masks from the Scene Classification Layer (SCL), and how much of a step is usable.

:func:`mask_clouds` turns the pixels whose SCL class is cloud-like into NaN in every band
(lazily, as the rest of s2raster); :func:`valid_fraction` says how much of each time step
has data at all. The SCL classes of Sentinel-2 L2A (Sen2Cor; :data:`s2raster.bands.SCL_CLASSES`):

====  ========================  ====  ========================
0     no data                   6     water
1     saturated or defective    7     unclassified
2     dark area pixels          8     cloud medium probability
3     cloud shadows             9     cloud high probability
4     vegetation                10    thin cirrus
5     bare soils                11    snow or ice
====  ========================  ====  ========================

The default mask, :data:`CLOUD_CLASSES` = (3, 8, 9, 10), is cloud shadows, medium and high
probability clouds and cirrus (as openEO's ``mask_scl_dilation`` and the Sentinel Hub
custom scripts do). CDSE serves no CLM/CLP cloud-mask bands; SCL, CLD and ``dataMask`` are
what there is.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import xarray as xr

from s2raster.bands import SCL_CLASSES
from s2raster.errors import BandError, InputError, NoDataError

__all__ = ["CLOUD_CLASSES", "mask_clouds", "valid_fraction"]

#: SCL classes masked by default: cloud shadows, cloud medium/high probability, thin cirrus.
CLOUD_CLASSES = (3, 8, 9, 10)
SCL = "SCL"


def mask_clouds(
    da: xr.DataArray,
    *,
    classes: Iterable[int] = CLOUD_CLASSES,
    dilate: int = 0,
    min_clear: float | None = None,
) -> xr.DataArray:
    """``da`` without its ``SCL`` band, NaN in every band where SCL is in ``classes``.

    ``da`` is ``(band, y, x)`` or ``(time, band, y, x)`` with an ``SCL`` band (load it with
    the other bands, or use ``s2raster.load(..., cloud_mask=True)``). No-data pixels stay
    NaN. ``dilate`` grows the cloud mask (not the no-data) by that many pixels in every
    direction (a square structuring element: Chebyshev distance), across tile borders (dask
    ``map_overlap``). The result has a ``clear_fraction`` coordinate per time step: the
    share of the step's pixels that are valid and clear (lazy when ``da`` is).

    ``min_clear`` (0..1) drops the time steps whose ``clear_fraction`` is below it. That
    computes the fractions now: every tile is downloaded once and reduced to one number
    per step (the cube is never held in memory); computing the result later reads the
    kept steps again, from the tile cache if the load has one (else they are downloaded,
    and paid for, a second time).
    """
    wanted = _check_classes(classes)
    radius = _check_dilate(dilate)
    scl = _scl(da)
    cloud = scl.isin(list(wanted)) if wanted else xr.zeros_like(scl, dtype=bool)
    if radius:
        cloud = cloud.copy(data=_dilated(cloud.data, radius))
    clear = scl.notnull() & ~cloud
    fraction = clear.mean(("y", "x"))
    out = _masked(da, wanted, cloud if radius else None)
    out = out.assign_coords(clear_fraction=fraction.variable)
    bands = [str(b) for b in out["band"].values]
    out.attrs = {**da.attrs, "long_name": tuple(bands)}
    out.attrs["cloud_mask"] = "SCL " + ",".join(str(c) for c in wanted)
    out.attrs["cloud_dilate"] = radius
    out.encoding = dict(da.encoding)
    return out if min_clear is None else _drop_cloudy(out, min_clear)


def _masked(da: xr.DataArray, wanted: tuple[int, ...], cloud: xr.DataArray | None) -> xr.DataArray:
    """The bands of ``da`` but SCL, NaN where cloudy: one task per chunk, which reads the
    chunk's SCL itself (or takes the dilated ``cloud`` chunk), so no intermediate copy of
    the cube is kept."""
    if da.dims[-3:] != ("band", "y", "x") or da.ndim not in (3, 4):
        raise InputError(
            f"mask_clouds needs dims (time, band, y, x) or (band, y, x), got {da.dims}"
        )
    names = [str(b) for b in da["band"].values]
    keep = [i for i, name in enumerate(names) if name != SCL]
    args = (names.index(SCL), keep, wanted)
    template: xr.DataArray = da.isel(band=keep)  # its coordinates (nothing is computed)
    clouds = None if cloud is None else cloud.transpose(*template.dims[:-3], "y", "x").data
    if isinstance(da.data, np.ndarray):
        data = _mask_block(da.data, None if clouds is None else np.asarray(clouds), *args)
    else:
        import dask.array as dsa

        index = "tbyx"[-da.ndim :]
        cloud_in = (None, None) if clouds is None else (clouds, index.replace("b", ""))
        data = dsa.blockwise(  # type: ignore[no-untyped-call]
            _mask_block, index, da.data.rechunk({da.ndim - 3: -1}), index, *cloud_in,
            *[a for arg in args for a in (arg, None)],
            dtype=da.dtype, adjust_chunks={"b": len(keep)}, meta=np.empty((0,) * da.ndim, da.dtype),
        )  # fmt: skip
    out: xr.DataArray = template.copy(data=data)
    return out


def _mask_block(
    block: np.ndarray, cloud: np.ndarray | None, scl: int, keep: list[int], wanted: tuple[int, ...]
) -> np.ndarray:
    """``block`` (``(..., band, y, x)``) without its SCL band, NaN where cloudy: SCL in
    ``wanted``, or ``cloud`` when given (a dilated mask)."""
    if cloud is None:
        cloud = np.isin(block[..., scl, :, :], wanted)
    out: np.ndarray = block[..., keep, :, :]  # a copy (fancy index)
    out[np.broadcast_to(cloud[..., np.newaxis, :, :], out.shape)] = np.nan
    return out


def valid_fraction(da: xr.DataArray) -> xr.DataArray:
    """Per time step (or for a mosaic), the share of pixels with data in any band (lazy)."""
    if not isinstance(da, xr.DataArray) or not {"y", "x"} <= set(da.dims):
        raise InputError("valid_fraction needs a DataArray with y and x dimensions")
    valid = da.notnull()
    if "band" in da.dims:
        valid = valid.any("band")
    out = valid.mean(("y", "x"))
    out.name = "valid_fraction"
    dropped: xr.DataArray = out.drop_vars(
        [c for c in out.coords if c not in out.dims and c != "time"]
    )
    return dropped


def _scl(da: xr.DataArray) -> xr.DataArray:
    if not isinstance(da, xr.DataArray):
        raise InputError(f"mask_clouds needs an xarray.DataArray, got {type(da).__name__}")
    names = [str(b) for b in da["band"].values] if "band" in da.dims else []
    if SCL not in names:
        raise BandError(
            f"mask_clouds needs an SCL band, the array has {names or 'no band dimension'}: "
            "load it too (bands=[..., 'SCL']) or use s2raster.load(..., cloud_mask=True)"
        )
    if len(names) == 1:
        raise BandError("mask_clouds: the array has only SCL; load the bands to mask as well")
    scl: xr.DataArray = da.sel(band=SCL, drop=True)
    return scl


def _check_classes(classes: Iterable[int]) -> tuple[int, ...]:
    if isinstance(classes, (str, bytes)) or not isinstance(classes, Iterable):
        raise InputError(
            f"classes must be SCL class numbers such as (3, 8, 9, 10), got {classes!r}"
        )
    found = tuple(classes)
    bad = [
        c for c in found if isinstance(c, bool) or not isinstance(c, int) or c not in SCL_CLASSES
    ]
    if bad:
        raise InputError(
            f"unknown SCL class(es) {bad}: use numbers 0..11 "
            f"(e.g. the default {CLOUD_CLASSES}, see s2raster.bands.SCL_CLASSES)"
        )
    return tuple(sorted(set(found)))


def _check_dilate(dilate: int) -> int:
    if isinstance(dilate, bool) or not isinstance(dilate, int) or dilate < 0:
        raise InputError(f"dilate must be a number of pixels >= 0, got {dilate!r}")
    return dilate


def _dilated(mask: Any, radius: int) -> Any:
    """``mask`` (numpy or dask, ``(..., y, x)``) grown by ``radius`` px (Chebyshev)."""
    if isinstance(mask, np.ndarray):
        return grow(mask, radius)
    import dask.array as dsa

    depth = dict.fromkeys(range(mask.ndim - 2), 0) | {
        mask.ndim - 2: radius,
        mask.ndim - 1: radius,
    }
    return dsa.map_overlap(  # type: ignore[no-untyped-call]
        grow, mask, depth=depth, boundary="none", dtype=bool, radius=radius
    )


def grow(mask: np.ndarray, radius: int) -> np.ndarray:
    """Binary dilation of the last two axes by a ``(2 radius + 1)``-px square (numpy)."""
    return _grow_axis(_grow_axis(np.asarray(mask, dtype=bool), radius, -1), radius, -2)


def _grow_axis(mask: np.ndarray, radius: int, axis: int) -> np.ndarray:
    """True where any pixel within ``radius`` along ``axis`` is (a running window sum)."""
    n = mask.shape[axis]
    if n == 0 or radius == 0:
        return mask
    counts = np.cumsum(mask, axis=axis, dtype=np.int64)
    zero = np.zeros_like(np.take(counts, [0], axis=axis))
    counts = np.concatenate([zero, counts], axis=axis)
    index = np.arange(n)
    upper = np.take(counts, np.minimum(index + radius + 1, n), axis=axis)
    lower = np.take(counts, np.maximum(index - radius, 0), axis=axis)
    return np.asarray(upper - lower > 0)


def _drop_cloudy(da: xr.DataArray, min_clear: float) -> xr.DataArray:
    if isinstance(min_clear, bool) or not isinstance(min_clear, (int, float)):
        raise InputError(f"min_clear must be a fraction from 0 to 1, got {min_clear!r}")
    if not 0.0 <= float(min_clear) <= 1.0:
        raise InputError(f"min_clear must be a fraction from 0 to 1 (e.g. 0.5), got {min_clear!r}")
    if "time" not in da.dims:
        raise InputError("min_clear drops time steps: load a time series (groupby='solar_day')")
    fraction = np.asarray(da["clear_fraction"].values, dtype=np.float64)
    keep = fraction >= float(min_clear)
    if not keep.any():
        best = float(np.nanmax(fraction)) if fraction.size else 0.0
        raise NoDataError(
            f"no time step is at least {min_clear:g} clear (the clearest is {best:.3f}): "
            "lower min_clear (or dilate), or widen the time range"
        )
    out: xr.DataArray = da.isel(time=np.flatnonzero(keep))
    kept: xr.DataArray = out.assign_coords(clear_fraction=("time", fraction[keep]))
    return kept
