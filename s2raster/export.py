"""Export DataArrays (a load result or a spectral index) to GeoTIFF / Cloud-Optimized GeoTIFF.

The public face of :func:`s2raster.cog.write_geotiff`: it accepts the shapes the rest of
the package produces (``(band, y, x)``, a 2-D index ``(y, x)``, a one-step time series) and
records the processing units the load spent, then writes block by block and atomically.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import xarray as xr

from s2raster._tiles import LoadStats
from s2raster.cog import write_geotiff
from s2raster.errors import InputError

__all__ = ["to_geotiff"]


def to_geotiff(
    da: xr.DataArray,
    path: str | os.PathLike[str],
    *,
    cog: bool = True,
    stats: LoadStats | None = None,
    **options: Any,
) -> Path:
    """Write ``da`` to ``path`` as a Cloud-Optimized GeoTIFF (``cog=False``: a tiled GeoTIFF).

    ``da`` is ``(band, y, x)`` (band names become band descriptions), ``(index, y, x)`` (as
    :func:`s2raster.indices.compute` returns several indices: each band's formula goes into
    its band tags) or a 2-D ``(y, x)`` array such as an index (one band named after
    ``da.name``); a ``time`` dimension of
    length 1 is dropped. It must be georeferenced (a ``spatial_ref`` coordinate and
    pixel-centre ``x``/``y``, as :func:`s2raster.load` returns). Plain ``attrs`` become
    dataset tags, with the synthetic-data mark; ``stats`` (the :class:`LoadStats` passed to
    the load) adds the processing units it spent, read once the pixels are computed.
    ``options`` go to :func:`s2raster.cog.write_geotiff` (``band_names``, ``tags``,
    ``compress``, ``blocksize``, ``overviews``, ``predictor``, ``level``, ``num_threads``).
    Returns the path written.
    """
    if not isinstance(da, xr.DataArray):
        raise InputError(f"to_geotiff needs an xarray.DataArray, got {type(da).__name__}")
    da = _as_band_yx(da)
    given = dict(options.pop("tags", None) or {})

    def tags() -> dict[str, Any]:  # called after the pixels (and so the load) are computed
        if stats is None:
            return given
        return {"processing_units_spent": round(stats.processing_units_spent, 6), **given}

    return write_geotiff(da, path, cog=cog, tags=tags, **options)


def _as_band_yx(da: xr.DataArray) -> xr.DataArray:
    """``(band, y, x)`` from the shapes s2raster produces; an InputError with the fix else."""
    if "time" in da.dims:
        if da.sizes["time"] != 1:
            raise InputError(
                f"to_geotiff writes one time step, got {da.sizes['time']}: write each "
                "(for t in da.time: to_geotiff(da.sel(time=t), ...)) or reduce over time "
                "first (da.median('time'))"
            )
        da = da.isel(time=0, drop=True)
    if "index" in da.dims and "band" not in da.dims:
        da = da.rename(index="band")
    if set(da.dims) == {"y", "x"}:
        name = str(da.name) if da.name is not None else "band_1"
        da = da.expand_dims(band=[name])
    if set(da.dims) != {"band", "y", "x"}:
        raise InputError(
            f"to_geotiff needs dims (band, y, x) or (y, x), got {da.dims}; "
            "rename or select dimensions first"
        )
    out: xr.DataArray = da.transpose("band", "y", "x")
    return out
