"""Time series in the pipeline: a plan's dates, and the lazy ``(time, band, y, x)`` array.

Private to :mod:`s2raster._load`. The catalog's acquisitions are grouped into time steps
(:mod:`s2raster.grouping`); the plan gets one request per (step, tile), each asking for its
step's ``timeRange`` (:func:`s2raster.plan.plan_dates`); the dask graph has one task per
(step, tile), key ``(name, t, 0, row, col)``, holding all bands of that request.
"""

from __future__ import annotations

import uuid
from typing import Any

import dask.array
import numpy as np
import xarray as xr

from s2raster._tiles import StepReader, no_data
from s2raster.errors import InputError
from s2raster.fetch import Search
from s2raster.grouping import check_groupby, group_acquisitions
from s2raster.plan import Plan, plan_dates
from s2raster.timerange import format_time
from s2raster.xr import Scalar, to_dataarray

__all__ = ["dated_plan", "series_array", "step_labels"]


def dated_plan(plan: Plan, found: Search, groupby: str | None) -> Plan:
    """``plan`` with the time steps of ``found`` (grouped by ``groupby``); a plan that
    already has dates keeps them (its groupby must match)."""
    groupby = check_groupby(groupby)
    if plan.groupby is not None:
        if groupby is not None and groupby != plan.groupby:
            raise InputError(
                f"the plan is grouped by {plan.groupby!r} but groupby={groupby!r}: "
                "pass the same groupby, or plan again"
            )
        return plan
    if groupby is None:
        return plan
    lon = plan.grid.centre_lonlat[0]
    return plan_dates(plan, group_acquisitions(found.acquisitions, groupby, lon), groupby)


def step_labels(plan: Plan) -> tuple[str, ...]:
    """How warnings name each step: its time and solar day (or the mosaic's range)."""
    if not plan.dates:
        q = plan.query
        return (f"the mosaic of {format_time(q.time_from)}..{format_time(q.time_to)}",)
    return tuple(
        f"time step {format_time(d.time)} (solar day {d.solar_day.isoformat()})" for d in plan.dates
    )


def series_array(plan: Plan, step: StepReader, attrs: dict[str, Scalar], name: str) -> xr.DataArray:
    """The lazy ``(time, band, y, x)`` DataArray of a dated ``plan``."""
    key = f"s2raster-series-{uuid.uuid4().hex}"
    bands = plan.query.bands
    graph: dict[Any, Any] = {
        (key, t, 0, tile.index_row, tile.index_col): (no_data, (1, len(bands), *tile.grid.shape))
        for t in range(len(plan.dates))
        for tile in plan.tiles
    }  # tiles outside the job's area: no request, no data
    graph.update(
        {
            (key, t, 0, r.tile.index_row, r.tile.index_col): (step, t, r)
            for t in range(len(plan.dates))
            for r in plan.date_requests(t)
        }
    )
    chunks = ((1,) * len(plan.dates), (len(bands),), *plan.chunks)
    meta = np.empty((0, 0, 0, 0), dtype=np.float32)
    data = dask.array.Array(graph, key, chunks=chunks, dtype=np.float32, meta=meta)  # type: ignore[no-untyped-call]
    template = to_dataarray(data[0], plan.grid, bands, attrs, name=name)
    times = np.array([np.datetime64(d.time, "ns") for d in plan.dates], dtype="datetime64[ns]")
    coords = {
        **template.coords,
        "time": ("time", times),
        "cloud_cover": ("time", np.array([d.cloud_cover for d in plan.dates], np.float64)),
        "tiles": ("time", np.array([d.tiles for d in plan.dates], dtype=object)),
    }
    da = xr.DataArray(data, dims=("time", "band", "y", "x"), coords=coords, name=name)
    da.attrs = dict(template.attrs)
    da.encoding = dict(template.encoding)
    return da
