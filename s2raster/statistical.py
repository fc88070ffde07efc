"""A Statistical API request per zone, before anything is sent (pure data and functions).

:class:`StatRequest` is one polygon's request: its grid (the polygon's bounds snapped to the
resolution, in the grid CRS, as :func:`s2raster.load` would make it), the polygon in that
CRS, the query, the outputs and the time intervals. Sending the snapped bbox with the
geometry makes the service sample the same pixel lattice as a local load, so both paths
see the same pixel centres. :func:`payload` is the JSON
sentinelhub-py's ``SentinelHubStatistical`` sends (its request part of the cache key);
:func:`split_intervals` is the service's split of ``timeRange`` by ``aggregationInterval``
with ``lastIntervalBehavior: SHORTEN`` (the last, shorter interval is kept, so no day of the
range is dropped); :func:`rows` turns an answer into table rows, with count-0 rows for
intervals the service left out for lack of data.

Request and answer shapes: https://documentation.dataspace.copernicus.eu/APIs/SentinelHub/Statistical.html
and its Examples page, sentinelhub-py ``sentinelhub/api/statistical.py``; percentiles are
asked as ``k`` in percent (the documented example answers ``{"50.0": ...}``; the OpenAPI
file says 0..1, the service's examples use 0..100).
"""

from __future__ import annotations

import calendar
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from shapely.geometry.base import BaseGeometry

from s2raster.contract import statistical_units
from s2raster.errors import InputError, ResponseError
from s2raster.evalscript import crs_uri
from s2raster.geometry import geojson
from s2raster.grid import Grid
from s2raster.query import Query
from s2raster.statscript import DATA_OUTPUT, Outputs, band_key, statistics_evalscript
from s2raster.timerange import format_time

__all__ = ["Histogram", "StatRequest", "payload", "rows", "split_intervals"]

_PERIOD = re.compile(r"^P(\d+)([DWMY])$")
#: How the last interval is treated when the range is not a whole number of intervals.
LAST_INTERVAL = "SHORTEN"


@dataclass(frozen=True)
class Histogram:
    """Histogram bins: ``bins`` equal bins from ``low`` to ``high``."""

    bins: int
    low: float
    high: float


@dataclass(frozen=True)
class StatRequest:
    """One Statistical API request: one zone over the whole time range."""

    zone: Any
    geometry: BaseGeometry  # in grid.crs
    grid: Grid
    query: Query  # collection, time, input bands, mosaicking, max_cloud
    outputs: Outputs
    interval: str
    cloud_classes: tuple[int, ...] | None
    percentiles: tuple[float, ...] = ()
    histogram: Histogram | None = None
    pixels: int = 0  # pixel centres of the grid inside the geometry

    @property
    def intervals(self) -> list[tuple[datetime, datetime]]:
        return split_intervals(self.query.time_from, self.query.time_to, self.interval)

    @property
    def estimated_pu(self) -> float:
        """PU: as a Process request of the grid, one sample per interval, at least 0.01."""
        n_bands = len(self.query.bands)
        return statistical_units(self.grid.width, self.grid.height, n_bands, len(self.intervals))

    @property
    def evalscript(self) -> str:
        return statistics_evalscript(
            self.outputs, self.query.collection, cloud_classes=self.cloud_classes
        )

    def calculations(self) -> dict[str, Any] | None:
        """The ``calculations`` part: percentiles and histograms of the data output."""
        spec: dict[str, Any] = {}
        if self.percentiles:
            spec["statistics"] = {"default": {"percentiles": {"k": list(self.percentiles)}}}
        if self.histogram is not None:
            h = self.histogram
            spec["histograms"] = {
                "default": {"nBins": h.bins, "lowEdge": h.low, "highEdge": h.high}
            }
        return {DATA_OUTPUT: spec} if spec else None


def check_interval(interval: str) -> str:
    """An ISO 8601 period of whole days, weeks, months or years (``P1D``, ``P10D``, ``P1M``)."""
    match = _PERIOD.match(str(interval).upper()) if isinstance(interval, str) else None
    if match is None or int(match.group(1)) < 1:
        raise InputError(
            f"interval must be an ISO 8601 period of at least one day such as 'P1D', 'P10D' "
            f"or 'P1M', got {interval!r}"
        )
    return str(interval).upper()


def split_intervals(
    start: datetime, end: datetime, interval: str
) -> list[tuple[datetime, datetime]]:
    """``[start, end]`` cut into ``interval`` steps from ``start``; the last one shortened."""
    match = _PERIOD.match(check_interval(interval))
    assert match is not None
    count, unit = int(match.group(1)), match.group(2)
    found: list[tuple[datetime, datetime]] = []
    k = 0
    while True:
        lo, hi = _step(start, k * count, unit), _step(start, (k + 1) * count, unit)
        if lo >= end:
            return found
        found.append((lo, min(hi, end)))
        k += 1


def _step(start: datetime, n: int, unit: str) -> datetime:
    if unit in "DW":
        return start + timedelta(days=n * (7 if unit == "W" else 1))
    months = n * (12 if unit == "Y" else 1)
    year, month = divmod(start.month - 1 + months, 12)
    year, month = start.year + year, month + 1
    day = min(start.day, calendar.monthrange(year, month)[1])
    return start.replace(year=year, month=month, day=day)


def payload(request: StatRequest) -> dict[str, Any]:
    """The Statistical API JSON body of ``request``, as sentinelhub-py builds it."""
    query, grid = request.query, request.grid
    data_filter: dict[str, Any] = {"mosaickingOrder": query.mosaicking}
    if query.max_cloud is not None:
        data_filter["maxCloudCoverage"] = query.max_cloud
    body: dict[str, Any] = {
        "input": {
            "bounds": {
                "properties": {"crs": crs_uri(grid.crs)},
                "bbox": [float(v) for v in grid.bounds],
                "geometry": geojson(request.geometry),
            },
            "data": [
                {
                    "type": query.collection,
                    "dataFilter": data_filter,
                    "processing": {
                        "upsampling": query.upsampling,
                        "downsampling": query.downsampling,
                    },
                }
            ],
        },
        "aggregation": {
            "evalscript": request.evalscript,
            "timeRange": {"from": format_time(query.time_from), "to": format_time(query.time_to)},
            "aggregationInterval": {"of": request.interval, "lastIntervalBehavior": LAST_INTERVAL},
            "resx": grid.res[0],
            "resy": grid.res[1],
        },
    }
    calculations = request.calculations()
    if calculations is not None:
        body["calculations"] = calculations
    return body


def rows(request: StatRequest, answer: Mapping[str, Any]) -> list[dict[str, Any]]:
    """One row per (interval, output) of ``answer``; count 0 for intervals it lacks."""
    by_start: dict[str, Mapping[str, Any]] = {}
    for entry in answer.get("data") or []:
        if "error" in entry:
            raise ResponseError(
                f"the Statistical API failed for zone {request.zone!r} in "
                f"{entry.get('interval')}: {entry['error']}; run again (answers already "
                "received are cached)"
            )
        by_start[_start_key(entry.get("interval", {}).get("from", ""))] = entry
    found = []
    for lo, _ in request.intervals:
        entry = by_start.get(_start_key(format_time(lo)))
        bands = ((entry or {}).get("outputs") or {}).get(DATA_OUTPUT, {}).get("bands", {})
        for position, name in enumerate(request.outputs.names):
            row = {"zone": request.zone, "time": lo, "band": name}
            found.append({**row, **_band(request, bands.get(band_key(position)))})
    return found


def _start_key(text: str) -> str:
    try:
        return format_time(datetime.fromisoformat(str(text).replace("Z", "+00:00")))
    except ValueError as exc:
        raise ResponseError(
            f"the Statistical API answered an unreadable interval {text!r}"
        ) from exc


def _band(request: StatRequest, band: Mapping[str, Any] | None) -> dict[str, Any]:
    stats = (band or {}).get("stats") or {}
    count = int(_number(stats.get("sampleCount", 0))) - int(_number(stats.get("noDataCount", 0)))
    count = max(count, 0)
    percentiles = stats.get("percentiles") or {}
    found: dict[str, Any] = {
        "count": count,
        "pixels": request.pixels,
        "valid_fraction": count / request.pixels if request.pixels else math.nan,
    }
    for name, key in (("mean", "mean"), ("std", "stDev"), ("min", "min"), ("max", "max")):
        found[name] = _number(stats.get(key)) if count else math.nan
    found["sum"] = found["mean"] * count if count else math.nan
    found["median"] = _percentile(percentiles, 50.0) if count else math.nan
    for k in request.percentiles:
        found[f"p{k:g}"] = _percentile(percentiles, k) if count else math.nan
    if request.histogram is not None:
        bins = ((band or {}).get("histogram") or {}).get("bins") or []
        counts = [int(_number(b.get("count", 0))) for b in bins]
        found["histogram"] = counts or [0] * request.histogram.bins
    return found


def _percentile(found: Mapping[str, Any], k: float) -> float:
    for key, value in found.items():
        try:
            if math.isclose(float(key), k):
                return _number(value)
        except ValueError:
            continue
    return math.nan


def _number(value: Any) -> float:
    """A JSON number, or the service's ``"NaN"`` / ``"Infinity"`` strings."""
    if value is None:
        return math.nan
    try:
        return float(value)
    except (TypeError, ValueError) as exc:
        raise ResponseError(f"the Statistical API answered a non-number {value!r}") from exc


def histogram_edges(histogram: Histogram) -> list[float]:
    """The ``bins + 1`` edges of ``histogram``."""
    step = (histogram.high - histogram.low) / histogram.bins
    return [histogram.low + k * step for k in range(histogram.bins + 1)]


def check_percentiles(values: Sequence[float]) -> tuple[float, ...]:
    """Percentiles in percent, 0..100."""
    found = tuple(float(v) for v in values)
    if any(not (0.0 <= v <= 100.0) for v in found):
        raise InputError(f"percentiles are in percent, 0 to 100 (e.g. (10, 90)), got {values!r}")
    return found
