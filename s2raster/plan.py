"""What a job will ask for, before anything is asked: grid, tiles, requests, cost.

:func:`make_plan` validates every user input (bbox, time, bands, resolution, filters) and
returns a :class:`Plan`: the output grid, its tiles of at most 2500 px a side, one
:class:`TileRequest` per tile, and the estimated processing units and download size. Pure
data: nothing here talks to the network.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pyproj import CRS
from shapely.geometry import box
from shapely.geometry.base import BaseGeometry

from s2raster.contract import (
    MAX_PX,
    MAX_RESOLUTION_M,
    METRES_PER_DEGREE,
    processing_units,
)
from s2raster.cost import QuotaShare
from s2raster.errors import CostLimitError, GridError, InputError
from s2raster.geometry import Area, read_area
from s2raster.grid import BBox, Grid, Tile, utm_crs
from s2raster.query import SAMPLE_BYTES, SAMPLE_TYPES, Query, check_resolution, make_query
from s2raster.timerange import TimeInput, format_time

if TYPE_CHECKING:
    from s2raster.grouping import DateGroup

#: Pixels per band above which a job must be confirmed (:func:`check_size`).
MAX_PIXELS = 100_000_000
#: Most tile requests a plan may hold: ten times a free account's monthly requests. Above
#: it no job is meant, only a unit typo (degrees for metres); refused before any tile exists.
MAX_TILES = 100_000


@dataclass(frozen=True)
class TileRequest:
    """One Process API request: one tile of the output grid and the query.

    ``geometry`` (in the grid's CRS, clipped to the tile) is sent with the request when the
    job's area is a polygon that does not cover the whole tile: pixels whose centre is
    outside it come back with ``dataMask`` 0.
    """

    tile: Tile
    query: Query
    geometry: BaseGeometry | None = None

    @property
    def grid(self) -> Grid:
        return self.tile.grid

    @property
    def estimated_pu(self) -> float:
        """Processing units of this request (its sample type; dataMask not counted)."""
        return self.estimated_pu_as(self.query.sample_type)

    def estimated_pu_as(self, sample_type: str) -> float:
        """Processing units of this request with ``sample_type`` responses."""
        grid = self.tile.grid
        n = len(self.query.bands)
        return processing_units(grid.width, grid.height, n, float32=sample_type == "FLOAT32")

    @property
    def download_bytes(self) -> int:
        """Uncompressed size of the response: w * h * (bands + dataMask) * bytes per sample."""
        grid = self.tile.grid
        per_sample = SAMPLE_BYTES[self.query.sample_type]
        return grid.width * grid.height * (len(self.query.bands) + 1) * per_sample


@dataclass(frozen=True)
class Plan:
    """The output grid, its tiles and one request per tile, with the expected cost.

    With an ``area`` (a polygon, in the grid's CRS), tiles outside it get no request. A
    time series (:func:`plan_dates`) has ``dates``, its time steps, and the same requests
    once per date, dates first, each asking for its own date's ``timeRange``; ``query`` is
    still the whole series' query.
    """

    grid: Grid
    tiles: tuple[Tile, ...]
    query: Query
    requests: tuple[TileRequest, ...]
    area: Area | None = None
    dates: tuple[DateGroup, ...] = ()
    groupby: str | None = None

    @property
    def requests_per_date(self) -> int:
        """Requests of one time step (all of them for a single mosaic)."""
        return len(self.requests) // len(self.dates) if self.dates else len(self.requests)

    def date_requests(self, index: int) -> tuple[TileRequest, ...]:
        """The requests of time step ``index`` (all requests for a single mosaic)."""
        n = self.requests_per_date
        return self.requests[index * n : (index + 1) * n] if self.dates else self.requests

    @property
    def estimated_pu(self) -> float:
        """Processing units of all requests, if none is served from the cache."""
        return math.fsum(r.estimated_pu for r in self.requests)

    def estimated_pu_as(self, sample_type: str) -> float:
        """What all requests would cost with ``sample_type`` responses (e.g. ``"UINT16"``)."""
        return math.fsum(r.estimated_pu_as(sample_type) for r in self.requests)

    @property
    def download_bytes(self) -> int:
        """Upper bound of the bytes to download (uncompressed FLOAT32 responses)."""
        return sum(r.download_bytes for r in self.requests)

    @property
    def quota(self) -> QuotaShare:
        """The job's share of the free CDSE quota (per minute and per month)."""
        return QuotaShare(requests=len(self.requests), pu=self.estimated_pu)

    @property
    def chunks(self) -> tuple[tuple[int, ...], tuple[int, ...]]:
        """Row and column sizes of the tiles, as dask chunks."""
        rows = tuple(t.grid.height for t in self.tiles if t.index_col == 0)
        cols = tuple(t.grid.width for t in self.tiles if t.index_row == 0)
        return rows, cols

    def summary(self) -> dict[str, Any]:
        """The plan as plain JSON-ready types (for the CLI's ``plan`` command)."""
        q, g, quota = self.query, self.grid, self.quota
        return {
            "collection": q.collection,
            "time_from": format_time(q.time_from),
            "time_to": format_time(q.time_to),
            "bands": list(q.bands),
            "mosaicking": q.mosaicking,
            "max_cloud": q.max_cloud,
            "upsampling": q.upsampling,
            "downsampling": q.downsampling,
            "sample_type": q.sample_type,
            "crs": g.crs,
            "resolution": [float(v) for v in g.res],
            "bounds": [float(v) for v in g.bounds],
            "width": g.width,
            "height": g.height,
            "tiles": len(self.tiles),
            "geometry": self.area is not None,
            "tile_grid": [len(self.chunks[0]), len(self.chunks[1])],
            "groupby": self.groupby,
            "dates": len(self.dates) if self.groupby is not None else None,
            "requests": len(self.requests),
            "estimated_pu": self.estimated_pu,
            "estimated_pu_by_sample_type": {t: self.estimated_pu_as(t) for t in SAMPLE_TYPES},
            "download_bytes": self.download_bytes,
            "quota": {
                "minute_requests": quota.minute_requests,
                "minute_pu": quota.minute_pu,
                "month_requests": quota.month_requests,
                "month_pu": quota.month_pu,
            },
        }


def make_plan(
    bbox: BBox | None = None,
    time: TimeInput | None = None,
    bands: str | Iterable[str] | None = None,
    *,
    geometry: Any = None,
    geometry_crs: str | int | CRS | None = None,
    make_valid: bool = False,
    resolution: float = 10.0,
    crs: str | int | CRS | None = None,
    bbox_crs: str | int | CRS = "EPSG:4326",
    collection: str = "sentinel-2-l2a",
    mosaicking: str = "mostRecent",
    max_cloud: float | None = None,
    upsampling: str = "NEAREST",
    downsampling: str = "NEAREST",
    sample_type: str = "FLOAT32",
    tile_px: int = MAX_PX,
) -> Plan:
    """Validate a job and plan its requests: grid, tiles of ``tile_px`` px, cost.

    ``bbox`` is ``(minx, miny, maxx, maxy)`` in ``bbox_crs`` (lon/lat by default);
    ``resolution`` is in metres; ``crs`` defaults to the UTM zone of the area's centre.
    Instead of ``bbox``, ``geometry`` is a polygon (anything :func:`s2raster.geometry.read_area`
    reads; ``geometry_crs`` for shapely input, default lon/lat): the grid covers its bounds and
    pixels outside it are no data. ``sample_type`` is that of the responses: ``"FLOAT32"``
    (default) or ``"UINT16"`` (DN, half the processing units, turned into the same float32
    values on reading). Raises :class:`~s2raster.errors.InputError` (or a subclass) for any
    invalid input.
    """
    if (bbox is None) == (geometry is None):
        raise InputError(
            "give exactly one of bbox and geometry (a bbox (minx, miny, maxx, maxy) or a polygon)"
        )
    if time is None or bands is None:
        missing = "time" if time is None else "bands"
        raise InputError(f"{missing} is required, e.g. time='2024-06-01/2024-06-30', bands='B04'")
    query = make_query(
        time,
        bands,
        collection=collection,
        mosaicking=mosaicking,
        max_cloud=max_cloud,
        upsampling=upsampling,
        downsampling=downsampling,
        sample_type=sample_type,
    )
    step = check_resolution(resolution)
    if geometry is None:
        assert bbox is not None
        grid = Grid.from_bbox(bbox, bbox_crs=bbox_crs, resolution=step, crs=crs)
        return plan_grid(grid, query, tile_px=tile_px)
    area = read_area(geometry, crs=geometry_crs, make_valid=make_valid)
    if crs is None:
        west, south, east, north = area.to_crs("EPSG:4326").bounds
        crs = utm_crs((west + east) / 2, (south + north) / 2)
    area = area.to_crs(crs)
    grid = Grid.from_bbox(area.bounds, bbox_crs=area.crs, resolution=step, crs=area.crs)
    return plan_grid(grid, query, tile_px=tile_px, area=area)


def plan_grid(grid: Grid, query: Query, *, tile_px: int = MAX_PX, area: Area | None = None) -> Plan:
    """Plan the requests for an existing ``grid`` (tiles of at most ``tile_px`` px).

    With ``area`` (a polygon in the grid's CRS) each request carries the area clipped to its
    tile, and tiles the area does not reach get no request.
    """
    if isinstance(tile_px, bool) or not isinstance(tile_px, int) or not 1 <= tile_px <= MAX_PX:
        raise InputError(f"tile_px must be an integer from 1 to {MAX_PX}, got {tile_px!r}")
    check_tile_count(grid, tile_px)
    if grid.metres_per_pixel > MAX_RESOLUTION_M * (1 + 1e-9):
        raise InputError(
            f"pixels of {grid.metres_per_pixel:.0f} m are coarser than the Process API allows "
            f"for Sentinel-2 ({MAX_RESOLUTION_M:g} m/px): ask for more pixels or a smaller bbox"
        )
    tiles = tuple(grid.tiles(tile_px))
    if area is None:
        requests = tuple(TileRequest(tile, query) for tile in tiles)
        return Plan(grid=grid, tiles=tiles, query=query, requests=requests)
    if area.crs != grid.crs:
        raise GridError(f"the area is in {area.crs} but the grid in {grid.crs}")
    clipped = [(tile, _tile_geometry(area, tile)) for tile in tiles]
    requests = tuple(TileRequest(t, query, g) for t, (g, hit) in clipped if hit)
    return Plan(grid=grid, tiles=tiles, query=query, requests=requests, area=area)


def _tile_geometry(area: Area, tile: Tile) -> tuple[BaseGeometry | None, bool]:
    """(geometry to send, whether to send a request) for one tile of an area's grid.

    A tile inside the area needs no geometry; one whose pixel centres all miss it needs no
    request (its pixels are no data without asking).
    """
    bounds = tile.grid.bounds
    if area.geometry.contains(box(*bounds)):
        return None, True
    clipped = area.clip(bounds)
    if clipped is None or not _any_centre_inside(clipped, tile.grid):
        return None, False
    return clipped, True


def _any_centre_inside(geometry: BaseGeometry, grid: Grid) -> bool:
    from rasterio.features import geometry_mask

    outside = geometry_mask([geometry], out_shape=grid.shape, transform=grid.transform)
    return not bool(outside.all())


def plan_dates(plan: Plan, dates: Iterable[DateGroup], groupby: str) -> Plan:
    """``plan`` as a time series: one request per (date, tile), each with its date's
    ``timeRange`` (:attr:`~s2raster.grouping.DateGroup.time_from` .. ``time_to``)."""
    steps = tuple(dates)
    requests = tuple(
        dataclasses.replace(
            r, query=dataclasses.replace(r.query, time_from=d.time_from, time_to=d.time_to)
        )
        for d in steps
        for r in plan.requests  # an area's tiles keep their clipped geometry
    )
    return dataclasses.replace(plan, requests=requests, dates=steps, groupby=groupby)


def check_tile_count(grid: Grid, tile_px: int = MAX_PX) -> int:
    """The number of tiles of ``grid``, computed (no tile is built); a :class:`GridError`
    above :data:`MAX_TILES`, so planning time never grows with an absurd pixel count."""
    rows, cols = -(-grid.height // tile_px), -(-grid.width // tile_px)
    count = rows * cols
    if count <= MAX_TILES:
        return count
    metres = grid.metres_per_pixel
    hint = ""
    if metres < 1:
        hint = (
            f"; resolution is in metres: {metres:g} m is {metres * 1000:g} mm (if you meant "
            f"{metres:g} degrees, that is about {metres * METRES_PER_DEGREE:.0f} m: pass "
            f"resolution={metres * METRES_PER_DEGREE:.0f})"
        )
    raise GridError(
        f"the grid is {grid.width:,} x {grid.height:,} px = {grid.width * grid.height:.3g} px "
        f"per band at {metres:g} m/px, {count:,} requests of {tile_px} px, above the "
        f"{MAX_TILES:,} any job may have{hint}: use a coarser resolution or a smaller bbox"
    )


def check_cost(plan: Plan, max_pu: float | None) -> None:
    """Refuse a plan estimated above ``max_pu`` processing units (None: no limit).

    The estimate counts every request; :func:`s2raster.load` (``max_pu=``) does the
    same check but counts tiles already in the cache as free.
    """
    if max_pu is not None and plan.estimated_pu > max_pu:
        raise CostLimitError(
            f"the job is estimated at {plan.estimated_pu:.1f} processing units, above "
            f"max_pu {max_pu:g} (--max-pu): raise it, or shrink the bbox, the bands or the "
            "resolution"
        )


def needs_confirmation(plan: Plan) -> bool:
    """Whether the plan's grid has more than :data:`MAX_PIXELS` pixels per band."""
    return plan.grid.width * plan.grid.height > MAX_PIXELS


def check_size(plan: Plan, *, confirmed: bool = False) -> None:
    """Refuse more than :data:`MAX_PIXELS` pixels per band unless ``confirmed``."""
    grid = plan.grid
    if needs_confirmation(plan) and not confirmed:
        pixels = grid.width * grid.height
        raise GridError(
            f"the area is {grid.width} x {grid.height} px = {pixels / 1e6:.0f} million px per "
            f"band at {grid.metres_per_pixel:g} m, above {MAX_PIXELS / 1e6:.0f} million: use a "
            "smaller bbox or a coarser resolution, or confirm the size (confirmed=True; --yes "
            "on the command line)"
        )
