"""Zonal statistics: one row per (zone, time, band) of a raster and a set of polygons.

:func:`zonal_stats` follows the rasterio / ``rasterstats`` convention: a pixel belongs to a
zone when its **centre** is inside the polygon (``rasterio.features.rasterize`` with
``all_touched=False``); NaN pixels (no data, clouds masked) are excluded from the statistics
and counted (``valid_fraction`` = valid pixels / pixels inside). ``std`` is the population
standard deviation (ddof=0, as numpy and rasterstats); ``median`` of an even count is the
mean of the two middle values.

How it scales: the zones are rasterized once per spatial block into integer label rasters,
and each chunk of the array is reduced for all zones at once (sort by label, ``reduceat``),
so thousands of small fields cost one pass over the array, block by block, never loading a
lazy (dask) cube whole; see :mod:`s2raster._zonal_blocks`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import dask.array
import numpy as np
import pandas as pd
import shapely
import xarray as xr
from dask.base import compute
from dask.delayed import delayed
from shapely.strtree import STRtree

from s2raster import _zonal_blocks as blocks
from s2raster.errors import InputError
from s2raster.geometry import Zones, read_zones
from s2raster.grid import Grid
from s2raster.xr import grid_of

__all__ = ["STATS", "zonal_stats"]

#: The default statistics, in column order.
STATS = ("mean", "median", "std", "min", "max", "count", "valid_fraction")
#: Every statistic :func:`zonal_stats` computes (``pixels``: centres inside the zone).
ALL_STATS = (*STATS, "sum", "pixels")
#: Spatial block of a numpy input, cut by time step too (a dask input keeps its chunks).
BLOCK_PX = 2048


def zonal_stats(
    da: xr.DataArray,
    zones: Any,
    *,
    stats: Iterable[str] = STATS,
    id_column: str | None = None,
    zones_crs: Any = None,
    make_valid: bool = False,
) -> pd.DataFrame:
    """Statistics of ``da`` inside each zone: a DataFrame with one row per (zone, time, band).

    ``da``: a georeferenced DataArray with dims ``(band, y, x)``, ``(time, band, y, x)`` or
    without ``band`` (an index: its name is the band), numpy- or dask-backed. ``zones``: any
    input of :func:`s2raster.geometry.read_zones` (FeatureCollection, GeoDataFrame, list of
    shapely geometries in ``zones_crs`` (default lon/lat), vector file), reprojected to the
    array's CRS. Columns: ``zone`` (the ``id_column`` value, else the feature's index),
    ``time`` (when ``da`` has one), ``band``, then one per statistic of ``stats`` (from
    :data:`ALL_STATS`). A zone with no valid pixel has count 0 and NaN statistics.
    """
    wanted = _check_stats(stats)
    cube, times, bands = _canonical(da)
    grid = grid_of(da)
    found = read_zones(zones, crs=zones_crs, id_column=id_column, make_valid=make_valid)
    moved = found.to_crs(grid.crs)
    totals, pixels = _reduce(cube, grid, moved, median="median" in wanted)
    return _frame(totals, pixels, moved.ids, times, bands, wanted)


def _check_stats(stats: Iterable[str]) -> tuple[str, ...]:
    wanted = (stats,) if isinstance(stats, str) else tuple(stats)
    unknown = [s for s in wanted if s not in ALL_STATS]
    if unknown or not wanted:
        raise InputError(
            f"unknown statistic(s) {unknown or wanted!r}: choose from {', '.join(ALL_STATS)}"
        )
    return wanted


def _canonical(
    da: xr.DataArray,
) -> tuple[dask.array.Array | np.ndarray, np.ndarray | None, list[str]]:
    """``da``'s data (time, band, y, x), dask or numpy, plus its time values and band names."""
    if not isinstance(da, xr.DataArray) or not {"y", "x"} <= set(da.dims):
        raise InputError("zonal_stats needs a georeferenced DataArray with y and x dims")
    extra = set(da.dims) - {"time", "band", "y", "x"}
    if extra:
        raise InputError(
            f"zonal_stats takes dims (time, band, y, x); {', '.join(map(str, extra))} is not "
            "one of them: select or stack it first"
        )
    if "band" not in da.dims:
        da = da.expand_dims(band=[str(da.name or "value")])
    if "time" not in da.dims:
        da = da.expand_dims(time=[0])
        times = None
    else:
        times = np.asarray(da["time"].values)
    da = da.transpose("time", "band", "y", "x")
    data = da.data if isinstance(da.data, dask.array.Array) else np.asarray(da.data)
    bands = [str(b) for b in da["band"].values] if "band" in da.coords else ["value"]
    return data, times, bands


class _Chunks:
    """The chunks of a (time, band, y, x) array: a dask array's own (as delayed objects), or
    views of a numpy array by time step and :data:`BLOCK_PX` blocks (never copied, which
    ``dask.array.from_array`` would do)."""

    def __init__(self, cube: dask.array.Array | np.ndarray) -> None:
        self.cube = cube
        if isinstance(cube, dask.array.Array):
            self.chunks = cube.chunks
            self._delayed = cube.to_delayed()  # type: ignore[no-untyped-call]
        else:
            n_time, n_band, height, width = cube.shape
            self.chunks = ((1,) * n_time, (n_band,), _split(height), _split(width))
        self.offsets = [np.cumsum((0, *c)) for c in self.chunks]

    def get(self, it: int, ib: int, iy: int, ix: int) -> Any:
        if isinstance(self.cube, dask.array.Array):
            return self._delayed[it, ib, iy, ix]
        (t, b, y, x) = self.offsets
        return self.cube[t[it] : t[it + 1], b[ib] : b[ib + 1], y[iy] : y[iy + 1], x[ix] : x[ix + 1]]


def _split(n: int) -> tuple[int, ...]:
    full, rest = divmod(n, BLOCK_PX)
    return (BLOCK_PX,) * full + ((rest,) if rest else ())


def _reduce(
    cube: dask.array.Array | np.ndarray, grid: Grid, zones: Zones, *, median: bool
) -> tuple[blocks.Totals, np.ndarray]:
    """Every chunk reduced (one dask task each) and merged; and pixels inside per zone."""
    n_time, n_band = cube.shape[:2]
    chunks = _Chunks(cube)
    t_off, b_off, rows, cols = chunks.offsets
    spans = _pixel_spans(zones, grid)
    layers = _layers(zones.geometries)
    label_tasks, parts = [], []
    for iy in range(len(rows) - 1):
        for ix in range(len(cols) - 1):
            box = (rows[iy], rows[iy + 1], cols[ix], cols[ix + 1])
            members = _members(spans, box)
            if not members.size:
                continue
            complete = np.zeros(len(zones), bool)
            complete[members] = _inside(spans[members], box)
            by_layer = [
                [(zones.geometries[k], int(k)) for k in members if layers[k] == j]
                for j in range(int(layers.max()) + 1)
            ]
            window = grid.window(box[0], box[2], box[1] - box[0], box[3] - box[2])
            label = delayed(blocks.labels)(by_layer, window.shape, window.transform)
            label_tasks.append(label)
            for it in range(len(t_off) - 1):
                for ib in range(len(b_off) - 1):
                    planes = _planes(t_off[it : it + 2], b_off[ib : ib + 2], n_band)
                    chunk = chunks.get(it, ib, iy, ix)
                    parts.append(delayed(blocks.aggregate)(chunk, label, planes, complete, median))
    computed_labels, computed_parts = compute(label_tasks, parts)  # type: ignore[no-untyped-call]
    pixels = np.zeros(len(zones), np.int64)
    for found in computed_labels:
        np.add.at(pixels, found.zones, found.pixels)
    flat = [p for group in computed_parts for p in group]
    return blocks.merge(flat, n_time * n_band, len(zones)), pixels


def _planes(times: np.ndarray, bands: np.ndarray, n_band: int) -> np.ndarray:
    t = np.arange(times[0], times[1])[:, None]
    b = np.arange(bands[0], bands[1])[None, :]
    return (t * n_band + b).ravel()


def _pixel_spans(zones: Zones, grid: Grid) -> np.ndarray:
    """Per zone, the rows [r0, r1) and cols [c0, c1) whose pixel centres its bounds reach."""
    bounds = shapely.bounds(np.asarray(zones.geometries, dtype=object))
    t = grid.transform
    c0 = np.ceil((bounds[:, 0] - t.c) / t.a - 0.5)
    c1 = np.floor((bounds[:, 2] - t.c) / t.a - 0.5) + 1
    r0 = np.ceil((bounds[:, 3] - t.f) / t.e - 0.5)
    r1 = np.floor((bounds[:, 1] - t.f) / t.e - 0.5) + 1
    spans = np.stack([r0, r1, c0, c1], axis=1)
    spans = np.clip(spans, 0, [grid.height, grid.height, grid.width, grid.width])
    return np.asarray(spans, dtype=np.int64)


def _members(spans: np.ndarray, box: Sequence[int]) -> np.ndarray:
    r0, r1, c0, c1 = box
    hit = (spans[:, 0] < np.minimum(spans[:, 1], r1)) & (spans[:, 1] > r0)
    hit &= (spans[:, 2] < np.minimum(spans[:, 3], c1)) & (spans[:, 3] > c0)
    hit &= (spans[:, 0] < spans[:, 1]) & (spans[:, 2] < spans[:, 3])
    return np.flatnonzero(hit)


def _inside(spans: np.ndarray, box: Sequence[int]) -> np.ndarray:
    r0, r1, c0, c1 = box
    inside = (spans[:, 0] >= r0) & (spans[:, 1] <= r1) & (spans[:, 2] >= c0)
    return np.asarray(inside & (spans[:, 3] <= c1))


def _layers(geometries: Sequence[Any]) -> np.ndarray:
    """A layer per zone so that no two zones of a layer overlap (greedy colouring)."""
    layer = np.zeros(len(geometries), np.int64)
    tree = STRtree(geometries)
    left, right = tree.query(geometries, predicate="intersects")
    pairs = left < right
    left, right = left[pairs], right[pairs]
    if not left.size:
        return layer
    geoms = np.asarray(geometries, dtype=object)
    overlap = ~shapely.touches(geoms[left], geoms[right])
    neighbours: dict[int, list[int]] = {}
    for a, b in zip(left[overlap].tolist(), right[overlap].tolist(), strict=True):
        neighbours.setdefault(b, []).append(a)
    for k in sorted(neighbours):
        taken = {int(layer[j]) for j in neighbours[k]}
        layer[k] = next(c for c in range(len(taken) + 1) if c not in taken)
    return layer


def _frame(
    totals: blocks.Totals,
    pixels: np.ndarray,
    ids: Sequence[Any],
    times: np.ndarray | None,
    bands: list[str],
    wanted: tuple[str, ...],
) -> pd.DataFrame:
    n_time, n_band, n_zone = (1 if times is None else len(times)), len(bands), len(ids)

    def per_row(values: np.ndarray) -> np.ndarray:  # (planes, zones) -> zone-major rows
        return np.asarray(values.reshape(n_time, n_band, n_zone).transpose(2, 0, 1).ravel())

    n = per_row(totals.n)
    with np.errstate(invalid="ignore", divide="ignore"):
        columns = {
            "mean": np.where(n > 0, per_row(totals.mean), np.nan),
            "median": per_row(totals.median),
            "std": np.where(n > 0, np.sqrt(per_row(totals.m2) / np.maximum(n, 1)), np.nan),
            "min": per_row(totals.low),
            "max": per_row(totals.high),
            "count": n,
            "valid_fraction": n / np.repeat(pixels, n_time * n_band).astype(np.float64),
            "sum": np.where(n > 0, per_row(totals.mean) * n, np.nan),
            "pixels": np.repeat(pixels, n_time * n_band),
        }
    table: dict[str, Any] = {"zone": np.repeat(np.asarray(ids, dtype=object), n_time * n_band)}
    if times is not None:
        table["time"] = np.tile(np.repeat(times, n_band), n_zone)
    table["band"] = np.tile(np.asarray(bands * n_time, dtype=object), n_zone)
    table.update({name: columns[name] for name in wanted})
    return pd.DataFrame(table)
