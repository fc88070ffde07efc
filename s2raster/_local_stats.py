"""The same table as :func:`s2raster.statistics`, computed from pixels: load, mask, zonal.

:func:`local_statistics` does what the Statistical API does, on this machine: for each time
interval (the service's split, :func:`s2raster.statistical.split_intervals`) one mosaic of
the zones' union (:func:`s2raster.load` with ``geometry=``, so tiles the zones miss are not
requested and pixels outside them are NaN), clouds masked from SCL
(:func:`s2raster.mask_clouds`), the indices computed (:mod:`s2raster.indices`), then
:func:`s2raster.zonal_stats` over the (time, band, y, x) cube. An interval without any
acquisition is all NaN (count 0), as the service leaves it out.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr
from pyproj import CRS
from sentinelhub.config import SHConfig

from s2raster._load import load_plan
from s2raster._statplan import check_stats
from s2raster._tiles import LoadStats
from s2raster.cache import CacheOption
from s2raster.clouds import mask_clouds
from s2raster.errors import CostLimitError, NoDataError
from s2raster.fetch import Fetch
from s2raster.geometry import Zones, read_area, read_zones
from s2raster.plan import Plan, make_plan
from s2raster.statistical import check_interval, split_intervals
from s2raster.statscript import CLOUD_CLASSES, Outputs, outputs
from s2raster.timerange import TimeInput, parse_time
from s2raster.zonal import STATS, zonal_stats

__all__ = ["LocalJob", "local_statistics", "plan_local"]


def local_statistics(
    zones: Any,
    time: TimeInput,
    index_or_bands: str | Iterable[str],
    *,
    interval: str = "P1D",
    resolution: float = 10.0,
    cloud_mask: bool = True,
    cloud_classes: Sequence[int] = CLOUD_CLASSES,
    stats: Iterable[str] = STATS,
    id_column: str | None = None,
    zones_crs: Any = None,
    make_valid: bool = False,
    crs: str | int | CRS | None = None,
    collection: str = "sentinel-2-l2a",
    mosaicking: str = "mostRecent",
    max_cloud: float | None = None,
    config: SHConfig | None = None,
    cache: CacheOption = True,
    concurrency: int = 4,
    fetch: Fetch | None = None,
    max_pu: float | None = None,
    usage: LoadStats | None = None,
) -> pd.DataFrame:
    """:func:`s2raster.statistics`' table from Process API pixels and :func:`zonal_stats`.

    The arguments mean what they mean there; ``max_pu`` bounds the sum over all intervals.
    """
    wanted = check_stats(stats)
    job = plan_local(
        zones,
        time,
        index_or_bands,
        interval=interval,
        resolution=resolution,
        cloud_mask=cloud_mask,
        id_column=id_column,
        zones_crs=zones_crs,
        make_valid=make_valid,
        crs=crs,
        collection=collection,
        mosaicking=mosaicking,
        max_cloud=max_cloud,
    )
    if max_pu is not None and job.estimated_pu > max_pu:
        raise CostLimitError(
            f"these statistics are estimated at {job.estimated_pu:.1f} processing units "
            f"({len(job.plans)} intervals), above max_pu={max_pu:g}: use fewer zones, a longer "
            "interval or a coarser resolution, or raise max_pu"
        )
    counter = usage if usage is not None else LoadStats()
    classes = cloud_classes if cloud_mask else None
    layers = [
        _interval(p, job.outputs, classes, config, cache, concurrency, fetch, counter)
        for p in job.plans
    ]
    cube = xr.concat(layers, dim="time", coords="minimal", compat="override", join="override")
    starts = [lo.replace(tzinfo=None) for lo, _ in job.intervals]
    cube = cube.assign_coords(time=np.array(starts, dtype="datetime64[ns]"))
    table = zonal_stats(cube, job.zones, stats=wanted)
    table.attrs["synthetic"] = int(counter.synthetic)
    return table


@dataclass(frozen=True)
class LocalJob:
    """What :func:`local_statistics` will load: one plan per interval over the zones' union."""

    zones: Zones
    outputs: Outputs
    intervals: list[tuple[datetime, datetime]]
    plans: list[Plan]

    @property
    def estimated_pu(self) -> float:
        return sum(p.estimated_pu for p in self.plans)

    @property
    def requests(self) -> int:
        return sum(len(p.requests) for p in self.plans)


def plan_local(
    zones: Any,
    time: TimeInput,
    index_or_bands: str | Iterable[str],
    *,
    interval: str = "P1D",
    resolution: float = 10.0,
    cloud_mask: bool = True,
    id_column: str | None = None,
    zones_crs: Any = None,
    make_valid: bool = False,
    crs: str | int | CRS | None = None,
    collection: str = "sentinel-2-l2a",
    mosaicking: str = "mostRecent",
    max_cloud: float | None = None,
) -> LocalJob:
    """The plans of :func:`local_statistics` (validated; nothing sent)."""
    out = outputs(index_or_bands, collection, cloud_mask=cloud_mask)
    found = read_zones(zones, crs=zones_crs, id_column=id_column, make_valid=make_valid)
    start, end = parse_time(time)
    intervals = split_intervals(start, end, check_interval(interval))
    area = read_area(found.geometries, crs=found.crs)
    plans = [
        make_plan(
            geometry=area.geometry,
            geometry_crs=area.crs,
            time=(lo, hi),
            bands=out.input_bands,
            resolution=resolution,
            crs=crs,
            collection=collection,
            mosaicking=mosaicking,
            max_cloud=max_cloud,
        )
        for lo, hi in intervals
    ]
    return LocalJob(found, out, intervals, plans)


def _interval(
    plan: Plan,
    out: Outputs,
    cloud_classes: Sequence[int] | None,
    config: SHConfig | None,
    cache: CacheOption,
    concurrency: int,
    fetch: Fetch | None,
    usage: LoadStats,
) -> xr.DataArray:
    """The outputs of one interval's mosaic, ``(band, y, x)``; all NaN if nothing was taken."""
    try:
        da = load_plan(
            plan, config=config, cache=cache, concurrency=concurrency, fetch=fetch, stats=usage
        )
    except NoDataError:
        return _empty(plan, out)
    if cloud_classes is not None:
        masked = mask_clouds(da, classes=cloud_classes)
        da = masked.drop_vars("clear_fraction", errors="ignore")
    return _outputs(da, out)


def _outputs(da: xr.DataArray, out: Outputs) -> xr.DataArray:
    from s2raster.indices import compute

    layers = []
    for name in out.names:
        layer = compute(name, da) if name in out.indices else da.sel(band=name, drop=True)
        layers.append(layer.drop_vars("band", errors="ignore").expand_dims(band=[name]))
    stacked: xr.DataArray = xr.concat(layers, dim="band", coords="minimal", compat="override")
    return stacked


def _empty(plan: Plan, out: Outputs) -> xr.DataArray:
    from s2raster.xr import to_dataarray

    shape = (len(out.names), *plan.grid.shape)
    return to_dataarray(np.full(shape, np.nan, np.float32), plan.grid, list(out.names))
