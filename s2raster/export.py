"""Export DataArrays (a load result or a spectral index) to GeoTIFF / Cloud-Optimized GeoTIFF.

The public face of :func:`s2raster.cog.write_geotiff`: it accepts the shapes the rest of
the package produces (``(band, y, x)``, a 2-D index ``(y, x)``, a time series written one
file per step through a ``{time}`` path) and records the processing units the load spent,
then writes block by block and atomically.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from s2raster._tiles import LoadStats
from s2raster.cog import write_geotiff
from s2raster.errors import ExportError, InputError
from s2raster.output import check_output_path
from s2raster.stac import write_item
from s2raster.timerange import format_time

__all__ = ["TIME_FIELD", "step_names", "to_geotiff"]

#: The placeholder of a per-date path: ``"ndvi_{time}.tif"``.
TIME_FIELD = "{time}"
#: Per-step coordinates that become tags of that step's file.
_STEP_TAGS = ("cloud_cover", "tiles", "clear_fraction")

#: The options :func:`to_geotiff` passes on to :func:`s2raster.cog.write_geotiff`.
_OPTIONS = frozenset(
    {
        "band_names",
        "tags",
        "compress",
        "blocksize",
        "overviews",
        "predictor",
        "level",
        "num_threads",
    }
)


def to_geotiff(
    da: xr.DataArray,
    path: str | os.PathLike[str],
    *,
    cog: bool = True,
    stats: LoadStats | None = None,
    stac: bool = True,
    **options: Any,
) -> Path | list[Path]:
    """Write ``da`` to ``path`` as a Cloud-Optimized GeoTIFF (``cog=False``: a tiled GeoTIFF).

    ``da`` is ``(band, y, x)`` (band names become band descriptions), ``(index, y, x)`` (as
    :func:`s2raster.indices.compute` returns several indices: each band's formula goes into
    its band tags) or a 2-D ``(y, x)`` array such as an index (one band named after
    ``da.name``); a ``time`` dimension of length 1 is dropped. A time series is written one
    file per step when ``path`` holds ``{time}`` (``"ndvi_{time}.tif"``): each named by the
    UTC date of its step, ``YYYY-MM-DD``, or ``YYYY-MM-DDTHHMMSS`` for steps that share a
    date (see :func:`step_names`), tagged with its ``time`` and per-step catalog values; the
    list of paths is returned. It must be georeferenced (a ``spatial_ref`` coordinate and
    pixel-centre ``x``/``y``, as :func:`s2raster.load` returns). Plain ``attrs`` become
    dataset tags, with the synthetic-data mark; ``stats`` (the :class:`LoadStats` passed to
    the load) adds the processing units it spent, read once the pixels are computed.
    ``options`` go to :func:`s2raster.cog.write_geotiff` (``band_names``, ``tags``,
    ``compress``, ``blocksize``, ``overviews``, ``predictor``, ``level``, ``num_threads``).
    ``stac`` writes each file's STAC Item beside it (``out.tif`` -> ``out.json``,
    :func:`s2raster.stac.write_item`). Returns the path written.
    """
    if not isinstance(da, xr.DataArray):
        raise InputError(f"to_geotiff needs an xarray.DataArray, got {type(da).__name__}")
    _check_options(options, stats)
    if not isinstance(stac, bool):
        raise InputError(f"stac must be True or False, got {stac!r}")
    if isinstance(path, (str, os.PathLike)) and TIME_FIELD in str(path):
        paths = _write_steps(da, str(path), cog=cog, stats=stats, **options)
        for step_path in paths if stac else ():
            write_item(step_path)
        return paths
    da = _as_band_yx(da)
    given = dict(options.pop("tags", None) or {})

    def tags() -> dict[str, Any]:  # called after the pixels (and so the load) are computed
        if stats is None:
            return given
        return {"processing_units_spent": round(stats.processing_units_spent, 6), **given}

    written = write_geotiff(da, path, cog=cog, tags=tags, **options)
    if stac:
        write_item(written)
    return written


def _check_options(options: Mapping[str, Any], stats: object) -> None:
    unknown = sorted(set(options) - _OPTIONS)
    if unknown:
        raise InputError(
            f"unknown option(s) {', '.join(unknown)} of to_geotiff; use "
            f"{', '.join(sorted(_OPTIONS))}"
        )
    if stats is not None and not isinstance(stats, LoadStats):
        raise InputError(f"stats must be an s2raster.LoadStats, got {type(stats).__name__}")
    given_tags = options.get("tags")
    if given_tags is not None and not isinstance(given_tags, Mapping):
        raise InputError(f"tags must be a mapping of names to values, got {given_tags!r}")


def step_names(times: Iterable[Any]) -> list[str]:
    """The ``{time}`` of each step's file: ``YYYY-MM-DD`` (UTC), or ``YYYY-MM-DDTHHMMSS``
    for steps that share a date; ExportError if two steps share a second."""
    stamps = [_utc(t) for t in times]
    days = [t.strftime("%Y-%m-%d") for t in stamps]
    names = [
        t.strftime("%Y-%m-%dT%H%M%S") if days.count(day) > 1 else day
        for t, day in zip(stamps, days, strict=True)
    ]
    if len(set(names)) != len(names):
        raise ExportError(
            "two time steps share the same second, so {time} cannot tell their files "
            "apart: select one of them (da.isel(time=...)) or composite them"
        )
    return names


def _write_steps(
    da: xr.DataArray, pattern: str, *, cog: bool, stats: LoadStats | None, **options: Any
) -> list[Path]:
    if "time" not in da.dims:
        raise InputError(
            f"output {pattern!r} has {TIME_FIELD} but the array has no time dimension: "
            "give a plain file name, or load a series (groupby='solar_day')"
        )
    given = dict(options.pop("tags", None) or {})
    paths = [Path(pattern.replace(TIME_FIELD, n)) for n in step_names(da["time"].values)]
    for path in paths:  # every file can be written, before the first step is computed
        check_output_path(path, param="path")
    for i, path in enumerate(paths):
        step = da.isel(time=i)
        fixed = {**_step_tags(step), **given}
        spent = stats.processing_units_spent if stats is not None else 0.0

        def tags(fixed: dict[str, Any] = fixed, spent: float = spent) -> dict[str, Any]:
            if stats is None:  # the PU of this file: its step's tiles are computed here
                return fixed
            return {
                "processing_units_spent": round(stats.processing_units_spent - spent, 6),
                **fixed,
            }

        write_geotiff(_as_band_yx(step.drop_vars("time")), path, cog=cog, tags=tags, **options)
    return paths


def _step_tags(step: xr.DataArray) -> dict[str, Any]:
    """``time`` and the per-step coordinates already in memory (a lazy one is skipped:
    computing it here would fetch the step's tiles a second time)."""
    tags: dict[str, Any] = {"time": format_time(_utc(step["time"].values))}
    for name in _STEP_TAGS:
        if name in step.coords and step.coords[name].chunks is None:
            tags[name] = step.coords[name].values.item()
    return tags


def _utc(value: Any) -> datetime:
    """A ``datetime64`` (or datetime) as a naive UTC datetime (microseconds)."""
    moment = np.datetime64(value, "us").item()
    if not isinstance(moment, datetime):
        raise InputError(f"time value {value!r} is not a date and time")
    return moment


def _as_band_yx(da: xr.DataArray) -> xr.DataArray:
    """``(band, y, x)`` from the shapes s2raster produces; an InputError with the fix else."""
    if "time" in da.dims:
        if da.sizes["time"] != 1:
            raise InputError(
                f"to_geotiff writes one image per file, got {da.sizes['time']} time steps: "
                f'put {TIME_FIELD} in the path for one file per step ("ndvi_{TIME_FIELD}.tif"), '
                "or make one image first (s2raster.composite(da) or da.isel(time=0))"
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
