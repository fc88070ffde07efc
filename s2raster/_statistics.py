"""Statistics per zone through time from the Statistical API: one request per polygon.

:func:`plan_statistics` validates everything and makes one
:class:`~s2raster.statistical.StatRequest` per zone (nothing sent; its PU known);
:func:`statistics` sends them in parallel (at most ``concurrency`` in flight; sentinelhub-py
paces 429s by their ``retry-after``), caches each answer like a tile (key: base URL +
payload) and returns the same tidy table as :func:`s2raster.zonal_stats`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd
from pyproj import CRS
from sentinelhub.config import SHConfig

from s2raster._statplan import check_stats, plan_statistics
from s2raster._statrun import StatisticsFetch, check_cost, run, sender
from s2raster._tiles import LoadStats
from s2raster.cache import STATISTICS_SUFFIX, CacheOption, TileCache, resolve_cache
from s2raster.statistical import StatRequest, check_percentiles, histogram_edges, rows
from s2raster.statscript import CLOUD_CLASSES
from s2raster.timerange import TimeInput
from s2raster.zonal import STATS

__all__ = ["StatisticsFetch", "plan_statistics", "statistics", "table"]


def statistics(
    zones: Any,
    time: TimeInput,
    index_or_bands: str | Iterable[str],
    *,
    interval: str = "P1D",
    resolution: float = 10.0,
    cloud_mask: bool = True,
    cloud_classes: Sequence[int] = CLOUD_CLASSES,
    stats: Iterable[str] = STATS,
    percentiles: Sequence[float] = (),
    histogram: tuple[int, float, float] | None = None,
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
    fetch: StatisticsFetch | None = None,
    max_pu: float | None = None,
    usage: LoadStats | None = None,
    progress: Callable[[StatRequest], object] | None = None,
) -> pd.DataFrame:
    """Statistics of bands or indices per zone and time interval, from the Statistical API.

    ``zones``: polygons as :func:`s2raster.zonal_stats` takes them (``zones_crs`` for
    shapely input, default lon/lat; ``id_column`` names them). ``index_or_bands``: bands
    (``"B04"``) and/or indices (:data:`s2raster.statscript.JS_INDICES`). ``interval``:
    ``"P1D"``, ``"P10D"``, ``"P1M"``... from the start of ``time``, the last one shortened;
    each interval is one mosaic (``mosaicking`` order) as the service makes it.
    ``cloud_mask`` excludes pixels whose SCL is in ``cloud_classes``; pixels outside the
    polygon are always excluded. ``resolution`` in metres on the zone's UTM grid (``crs``
    to force one), pixel edges snapped as in :func:`s2raster.load`. One request per zone,
    cached (``cache`` as in :func:`s2raster.load`); ``max_pu`` refuses the job before any
    request if the uncached requests are estimated above it; ``usage`` (a LoadStats)
    counts requests, cache hits and PU. ``percentiles`` adds ``p<k>`` columns and
    ``histogram=(bins, low, high)`` a ``histogram`` column of counts (edges in
    ``df.attrs["histogram_edges"]``). Intervals without data are rows with count 0.
    """
    wanted = check_stats(stats)
    requests = plan_statistics(
        zones,
        time,
        index_or_bands,
        interval=interval,
        resolution=resolution,
        cloud_mask=cloud_mask,
        cloud_classes=cloud_classes,
        percentiles=percentiles,
        histogram=histogram,
        id_column=id_column,
        zones_crs=zones_crs,
        make_valid=make_valid,
        crs=crs,
        collection=collection,
        mosaicking=mosaicking,
        max_cloud=max_cloud,
    )
    service = sender(config, fetch, concurrency)
    store = resolve_cache(cache)
    stat_cache = None if store is None else TileCache(store.directory, suffix=STATISTICS_SUFFIX)
    check_cost(requests, max_pu, stat_cache, service.base_url)
    counter = usage if usage is not None else LoadStats()
    answers = run(
        requests,
        service,
        stat_cache,
        keep_synthetic=cache is not True,
        usage=counter,
        concurrency=concurrency,
        progress=progress,
    )
    pairs = zip(requests, answers, strict=True)
    found = [row for request, answer in pairs for row in rows(request, answer)]
    extra = [f"p{k:g}" for k in check_percentiles(percentiles)]
    if histogram is not None:
        extra.append("histogram")
    frame = table(found, wanted, extra)
    frame.attrs["synthetic"] = int(counter.synthetic)
    if requests and requests[0].histogram is not None:
        frame.attrs["histogram_edges"] = histogram_edges(requests[0].histogram)
    return frame


def table(
    found: list[dict[str, Any]], wanted: Sequence[str], extra: Sequence[str] = ()
) -> pd.DataFrame:
    """Rows into the zonal_stats table: zone, time (UTC, tz-naive), band, the statistics."""
    columns = ["zone", "time", "band", *wanted, *extra]
    frame = pd.DataFrame(found, columns=columns)
    times = pd.to_datetime(frame["time"], utc=True).dt.tz_localize(None)
    frame["time"] = times.astype("datetime64[ns]")
    for name in ("count", "pixels"):
        if name in frame:
            frame[name] = frame[name].astype(np.int64)
    return frame
