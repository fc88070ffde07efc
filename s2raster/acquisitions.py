"""What the catalog has for an area and a time range, before any pixel is paid for.

:func:`dates` lists the time steps (or the single acquisitions) a series load would have, as
a pandas DataFrame; :func:`plan_series` turns a plan into the plan of its time series (one
request per date and tile), so its cost is known before anything is downloaded. Both make
catalog searches only (no processing units), the same search :func:`s2raster.load` makes.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd
from pyproj import CRS
from sentinelhub.config import SHConfig

from s2raster._load import search, service
from s2raster._series import dated_plan
from s2raster.errors import InputError
from s2raster.fetch import Fetch
from s2raster.grid import BBox
from s2raster.grouping import DateGroup, check_groupby, group_acquisitions, solar_day
from s2raster.plan import Plan, make_plan
from s2raster.timerange import TimeInput

__all__ = ["COLUMNS", "dates", "plan_series"]

#: The columns of :func:`dates`.
COLUMNS = ("solar_day", "time", "cloud_cover", "tiles", "acquisitions")


def plan_series(
    plan: Plan,
    groupby: str = "solar_day",
    *,
    config: SHConfig | None = None,
    fetch: Fetch | None = None,
) -> Plan:
    """``plan`` as a time series grouped by ``groupby`` (``"solar_day"`` or ``"time"``):
    one request per (date, tile), each with its date's ``timeRange``, so that
    ``estimated_pu`` and ``requests`` count the whole series. One catalog search;
    :class:`~s2raster.errors.NoDataError` if it finds nothing. Pass the result to
    :func:`s2raster.load_plan`, which keeps its dates."""
    if check_groupby(groupby) is None:
        raise InputError("plan_series needs groupby='solar_day' or 'time' (None is one mosaic)")
    found = search(plan, service(config, fetch, 1))
    return dated_plan(plan, found, groupby)


def dates(
    bbox: BBox | None = None,
    time: TimeInput | None = None,
    *,
    geometry: Any = None,
    geometry_crs: str | int | CRS | None = None,
    groupby: str | None = "solar_day",
    max_cloud: float | None = None,
    bbox_crs: str | int | CRS = "EPSG:4326",
    crs: str | int | CRS | None = None,
    resolution: float = 10.0,
    collection: str = "sentinel-2-l2a",
    config: SHConfig | None = None,
    fetch: Fetch | None = None,
) -> pd.DataFrame:
    """The time steps a series load of ``bbox`` and ``time`` would have, one row each.

    Columns: ``solar_day`` (the local solar day at the area's centre), ``time`` (the
    earliest acquisition, UTC, tz-naive), ``cloud_cover`` (the catalog's mean, percent),
    ``tiles`` (comma-separated) and ``acquisitions`` (catalog items in the step).
    ``groupby`` as in :func:`s2raster.load`; None lists every catalog item on its own
    row. The area is ``bbox`` or ``geometry``, as in :func:`s2raster.load`.
    ``df.attrs["synthetic"]`` is True when the service said its data is synthetic.
    One catalog search, no processing units; :class:`~s2raster.errors.NoDataError` if it
    finds nothing.
    """
    groupby = check_groupby(groupby)
    plan = make_plan(
        bbox,
        time,
        "B04",  # any band: the search depends on the area, time and filters only
        geometry=geometry,
        geometry_crs=geometry_crs,
        resolution=resolution,
        crs=crs,
        bbox_crs=bbox_crs,
        collection=collection,
        max_cloud=max_cloud,
    )
    found = search(plan, service(config, fetch, 1))
    lon = plan.grid.centre_lonlat[0]
    if groupby is None:
        steps = tuple(DateGroup((a,), solar_day(a.datetime, lon)) for a in found.acquisitions)
    else:
        steps = group_acquisitions(found.acquisitions, groupby, lon)
    frame = table(steps)
    frame.attrs["synthetic"] = found.synthetic
    return frame


def table(steps: Iterable[DateGroup]) -> pd.DataFrame:
    """``steps`` as the rows of :func:`dates`."""
    rows = list(steps)
    return pd.DataFrame(
        {
            "solar_day": pd.to_datetime([d.solar_day for d in rows]),
            "time": np.array([np.datetime64(d.time, "ns") for d in rows], "datetime64[ns]"),
            "cloud_cover": np.array([d.cloud_cover for d in rows], np.float64),
            "tiles": [d.tiles for d in rows],
            "acquisitions": np.array([len(d.acquisitions) for d in rows], np.int64),
        },
        columns=list(COLUMNS),
    )
