"""Planning Statistical API requests: one :class:`~s2raster.statistical.StatRequest` per zone.

Private to :mod:`s2raster._statistics`. Everything is validated here, before anything is
sent: the outputs (bands and indices), the time range and interval, the resolution, the
zones (each on its own UTM grid, snapped as :func:`s2raster.load` snaps, at most 2500 px a
side) and the pixel centres each polygon holds on that grid.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from pyproj import CRS
from rasterio.features import geometry_mask

from s2raster.contract import MAX_PX
from s2raster.errors import InputError
from s2raster.geometry import Zones, read_zones
from s2raster.grid import Grid, utm_crs
from s2raster.query import check_resolution, make_query
from s2raster.statistical import Histogram, StatRequest, check_interval, check_percentiles
from s2raster.statscript import CLOUD_CLASSES, outputs
from s2raster.timerange import TimeInput
from s2raster.zonal import ALL_STATS

__all__ = ["check_stats", "plan_statistics"]


def plan_statistics(
    zones: Any,
    time: TimeInput,
    index_or_bands: str | Iterable[str],
    *,
    interval: str = "P1D",
    resolution: float = 10.0,
    cloud_mask: bool = True,
    cloud_classes: Sequence[int] = CLOUD_CLASSES,
    percentiles: Sequence[float] = (),
    histogram: tuple[int, float, float] | None = None,
    id_column: str | None = None,
    zones_crs: Any = None,
    make_valid: bool = False,
    crs: str | int | CRS | None = None,
    collection: str = "sentinel-2-l2a",
    mosaicking: str = "mostRecent",
    max_cloud: float | None = None,
) -> tuple[StatRequest, ...]:
    """One :class:`StatRequest` per zone; see :func:`statistics` for the arguments."""
    out = outputs(index_or_bands, collection, cloud_mask=cloud_mask)
    query = make_query(
        time, out.input_bands, collection=collection, mosaicking=mosaicking, max_cloud=max_cloud
    )
    step = check_resolution(resolution)
    found = read_zones(zones, crs=zones_crs, id_column=id_column, make_valid=make_valid)
    common = {
        "query": query,
        "outputs": out,
        "interval": check_interval(interval),
        "cloud_classes": tuple(sorted({int(c) for c in cloud_classes})) if cloud_mask else None,
        "percentiles": tuple(sorted({*check_percentiles(percentiles), 50.0})),
        "histogram": _histogram(histogram),
    }
    return tuple(_request(found, k, step, crs, common) for k in range(len(found)))


def _request(zones: Zones, k: int, step: float, crs: Any, common: dict[str, Any]) -> StatRequest:
    area = zones.area(k)
    if crs is None:
        west, south, east, north = area.to_crs("EPSG:4326").bounds
        crs = utm_crs((west + east) / 2, (south + north) / 2)
    area = area.to_crs(crs)
    grid = Grid.from_bbox(area.bounds, bbox_crs=area.crs, resolution=step, crs=area.crs)
    if max(grid.shape) > MAX_PX:
        raise InputError(
            f"zone {zones.ids[k]!r} is {grid.width} x {grid.height} px at {step:g} m, above the "
            f"Statistical API's {MAX_PX} px a side: split it or use a coarser resolution"
        )
    inside = ~geometry_mask([area.geometry], out_shape=grid.shape, transform=grid.transform)
    pixels = int(inside.sum())
    return StatRequest(zones.ids[k], area.geometry, grid, pixels=pixels, **common)


def _histogram(spec: tuple[int, float, float] | None) -> Histogram | None:
    if spec is None:
        return None
    try:
        bins, low, high = int(spec[0]), float(spec[1]), float(spec[2])
    except (TypeError, ValueError, IndexError) as exc:
        raise InputError(f"histogram is (bins, low, high), e.g. (20, -1, 1); got {spec!r}") from exc
    if bins < 1 or not low < high:
        raise InputError(f"histogram needs bins >= 1 and low < high, got {spec!r}")
    return Histogram(bins, low, high)


def check_stats(stats: Iterable[str]) -> tuple[str, ...]:
    wanted = (stats,) if isinstance(stats, str) else tuple(stats)
    unknown = [s for s in wanted if s not in ALL_STATS]
    if unknown or not wanted:
        raise InputError(
            f"unknown statistic(s) {unknown or wanted!r}: choose from {', '.join(ALL_STATS)}"
        )
    return wanted
