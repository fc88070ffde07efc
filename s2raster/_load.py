"""The pipeline: area + time + bands -> a lazy, georeferenced DataArray (one chunk per tile).

:func:`load` plans the job (:mod:`s2raster.plan`), searches the catalog once (cheap: it
decides whether there is anything to pay for, and the service's answer says whether its
data is synthetic), checks the cost limit, and returns at once: nothing is downloaded until
the array is computed. Each dask chunk is one tile request (:mod:`s2raster._tiles`): cache
lookup -> fetch (at most ``concurrency`` in flight, paced to the account's per-minute quota
by the CDSE fetch) -> :func:`s2raster.geotiff.read_tile` (georeferencing checked, UINT16 DN
turned into float32 values, NaN where ``dataMask`` is 0) -> cache store. What a load cost is
counted in the :class:`LoadStats` the caller passes in, and each paid request appended to
the local ledger (:mod:`s2raster.ledger`).

The graph pickles (each task is a :class:`~s2raster._tiles.TileReader` and a
:class:`~s2raster.plan.TileRequest`, the CDSE fetch pickles without its credentials), so
the same array computes on a ``distributed`` cluster unchanged; see
:mod:`s2raster._runtime` for what each worker process rebuilds. With ``groupby`` the catalog's
acquisitions become time steps and each chunk is one (step, tile) request
(:mod:`s2raster._series`).
"""

from __future__ import annotations

import math
import numbers
import uuid
from collections.abc import Iterable, Sequence
from typing import Any

import dask
import dask.array
import numpy as np
import xarray as xr
from pyproj import CRS
from sentinelhub.config import SHConfig

from s2raster._masking import check_mask, masked, with_scl
from s2raster._runtime import LoadStats, Progress, local_state, subscribe
from s2raster._series import dated_plan, series_array, step_labels
from s2raster._tiles import EmptyWatch, StepReader, TileReader, no_data, request_key
from s2raster.bands import band_table
from s2raster.cache import CacheOption, TileCache, resolve_cache
from s2raster.contract import MAX_PX, SYNTHETIC_SOURCE
from s2raster.cost import Quota
from s2raster.errors import CostLimitError, InputError, NoDataError
from s2raster.evalscript import evalscript, request_digest
from s2raster.fetch import Fetch, Search
from s2raster.grid import BBox
from s2raster.ledger import LedgerOption, resolve_ledger
from s2raster.plan import Plan, TileRequest, make_plan
from s2raster.timerange import TimeInput, format_time
from s2raster.xr import Scalar, to_dataarray

__all__ = [
    "LoadStats",
    "Progress",
    "load",
    "load_plan",
    "pending_requests",
    "search",
    "units_attr",
]

_UNITS = {
    "REFLECTANCE": "reflectance",
    "OPTICAL_DEPTH": "optical_depth",
    "DEGREES": "degrees",
    "PERCENT": "percent",
}


def load(
    bbox: BBox | None = None,
    time: TimeInput | None = None,
    bands: str | Iterable[str] | None = None,
    *,
    index: str | Sequence[str] | None = None,
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
    config: SHConfig | None = None,
    cache: CacheOption = True,
    concurrency: int = 4,
    quota: Quota | None = None,
    fetch: Fetch | None = None,
    progress: Progress | None = None,
    max_pu: float | None = None,
    tile_px: int = MAX_PX,
    stats: LoadStats | None = None,
    groupby: str | None = None,
    cloud_mask: bool = False,
    min_clear: float | None = None,
    ledger: LedgerOption = True,
) -> xr.DataArray:
    """Sentinel-2 ``bands`` over ``bbox`` and ``time`` as a lazy ``(band, y, x)`` DataArray,
    or the spectral ``index`` of them; a ``(time, band, y, x)`` series with ``groupby``.

    ``index`` (instead of ``bands``): a catalogue index name or an expression
    (:func:`s2raster.indices.compute`), or a list of them; exactly the bands they need are
    fetched and the result is the index, ``(y, x)``, or the indices, ``(index, y, x)``
    (with a leading ``time`` for a series).

    ``bbox`` is in ``bbox_crs`` (lon/lat by default), ``resolution`` in metres, ``crs`` the
    output CRS (default: the UTM zone of the area's centre). Instead of ``bbox``, give
    ``geometry``: a polygon as GeoJSON (lon/lat), shapely (in ``geometry_crs``, default
    lon/lat), a GeoDataFrame/GeoSeries (their union), anything with ``__geo_interface__``,
    or a vector file path (:func:`s2raster.geometry.read_area`; ``make_valid`` repairs an
    invalid one). The grid covers its bounds; pixels whose centre is outside it are NaN,
    and tiles it does not reach are not requested. ``config`` (an SHConfig) decides
    where requests go; default :func:`~s2raster.cdse.cdse_config` (CDSE, credentials from the
    environment or a sentinelhub profile). ``cache``: True (user cache dir), a directory, or
    False. ``max_pu`` refuses a job estimated above it (:class:`CostLimitError`) before any
    request. ``stats``: a :class:`LoadStats` that counts requests, cache hits and PU as the
    array is computed. ``fetch`` replaces the network (tests). The catalog is searched once
    (:class:`NoDataError` if nothing matches); nothing else is downloaded until computed;
    compute with more dask threads than cores for download-bound jobs (e.g.
    ``da.compute(num_workers=concurrency)``).

    ``groupby``: None (one mosaic of the time range, scenes ordered by ``mosaicking``);
    ``"solar_day"`` (one step per local solar day at the area's centre, as odc-stac) or
    ``"time"`` (one step per overpass) gives dims ``(time, band, y, x)``: ``time`` is the
    earliest acquisition of each step (UTC, tz-naive, ascending), with per-step
    ``cloud_cover`` (the catalog's mean) and ``tiles``; each (step, tile) is one Process
    request whose ``timeRange`` holds that step's acquisitions only, so each step is cached,
    retried and paid for on its own. ``max_pu`` covers the whole series.
    ``cloud_mask=True`` fetches ``SCL`` in the same requests and applies
    :func:`s2raster.mask_clouds` (the result has the other bands and ``clear_fraction``);
    ``min_clear`` then drops the steps less clear than that (see :func:`~s2raster.mask_clouds`:
    it computes the per-step fractions at once, downloading the tiles).
    A computed step (or mosaic) without any valid pixel raises a
    :class:`~s2raster.errors.NoDataWarning`; :func:`s2raster.valid_fraction` gives the share.
    ``ledger``: True (a ledger beside the default cache), a path, or False: each paid
    request's PU is appended there (:mod:`s2raster.ledger`).
    """
    bands = _bands_of(bands, index)
    if cloud_mask:
        bands = with_scl(bands, collection)
    plan = make_plan(
        bbox,
        time,
        bands,
        geometry=geometry,
        geometry_crs=geometry_crs,
        make_valid=make_valid,
        resolution=resolution,
        crs=crs,
        bbox_crs=bbox_crs,
        collection=collection,
        mosaicking=mosaicking,
        max_cloud=max_cloud,
        upsampling=upsampling,
        downsampling=downsampling,
        sample_type=sample_type,
        tile_px=tile_px,
    )
    da = load_plan(
        plan,
        config=config,
        cache=cache,
        concurrency=concurrency,
        quota=quota,
        fetch=fetch,
        progress=progress,
        max_pu=max_pu,
        stats=stats,
        groupby=groupby,
        cloud_mask=cloud_mask,
        min_clear=min_clear,
        ledger=ledger,
    )
    if index is None:
        return da
    from s2raster.indices import compute

    return compute(index, da)


def _bands_of(
    bands: str | Iterable[str] | None, index: str | Sequence[str] | None
) -> str | Iterable[str]:
    """The bands to load: ``bands``, or those ``index`` needs (checked before any request)."""
    if index is None:
        if bands is None:
            raise InputError("load needs bands (e.g. ['B04', 'B08']) or an index (index='NDVI')")
        return bands
    if bands is not None:
        raise InputError(
            f"load takes bands or index, not both: index={index!r} fetches exactly the bands "
            "it needs (s2raster.indices.required_bands); load bands and call "
            "s2raster.indices.compute to keep other bands"
        )
    from s2raster.indices import check, required_bands

    check(index)
    return required_bands(index)


def load_plan(
    plan: Plan,
    *,
    config: SHConfig | None = None,
    cache: CacheOption = True,
    concurrency: int = 4,
    quota: Quota | None = None,
    fetch: Fetch | None = None,
    progress: Progress | None = None,
    max_pu: float | None = None,
    stats: LoadStats | None = None,
    groupby: str | None = None,
    cloud_mask: bool = False,
    min_clear: float | None = None,
    ledger: LedgerOption = True,
) -> xr.DataArray:
    """Like :func:`load` for a :class:`~s2raster.plan.Plan` made by ``make_plan`` (or a
    time-series plan from :func:`s2raster.plan_series`, whose dates are kept)."""
    check_arguments(
        plan, config=config, concurrency=concurrency, progress=progress, max_pu=max_pu, stats=stats
    )
    check_mask(plan, cloud_mask, min_clear, groupby or plan.groupby)
    named_cache = resolve_cache(cache)  # a bad cache argument is refused before any request
    fetch = service(config, fetch, concurrency, quota)
    found = search(plan, fetch)
    plan = dated_plan(plan, found, groupby)
    # The default cache skips services whose tiles could never be found again: the
    # emulator says its data is synthetic (and its port changes from run to run). A cache
    # named explicitly is always used.
    tile_cache = None if cache is True and found.synthetic else named_cache
    check_cost(plan, max_pu, tile_cache, fetch.base_url)
    load_id = uuid.uuid4().hex
    state = local_state(load_id, concurrency, stats if stats is not None else LoadStats(), progress)
    subscribe(state, ((request_key(fetch.base_url, r), r) for r in plan.requests))
    reader = TileReader(
        fetch=fetch,
        cache=tile_cache,
        synthetic=found.synthetic,
        load_id=load_id,
        concurrency=concurrency,
        ledger=resolve_ledger(ledger),
        state=state,
    )
    attrs = _attrs(plan, found, base_url=fetch.base_url)
    step = StepReader(
        reader, EmptyWatch(step_labels(plan), plan.requests_per_date), bool(plan.dates)
    )
    name = plan.query.collection
    if plan.dates:
        da = series_array(plan, step, attrs, name)
    else:
        da = to_dataarray(_lazy_array(plan, step), plan.grid, plan.query.bands, attrs, name=name)
    if not cloud_mask:
        return da
    paid_twice = min_clear is not None and tile_cache is None and not found.synthetic
    return masked(da, min_clear, warn=paid_twice, workers=concurrency)


def check_arguments(
    plan: object,
    *,
    config: object,
    concurrency: object,
    progress: object,
    max_pu: object,
    stats: object,
) -> None:
    """Refuse wrong types and ranges of :func:`load_plan`'s arguments (no request sent)."""
    if not isinstance(plan, Plan):
        raise InputError(
            f"plan must be an s2raster.plan.Plan (from make_plan), got {type(plan).__name__}"
        )
    if isinstance(concurrency, bool) or not isinstance(concurrency, int) or concurrency < 1:
        raise InputError(f"concurrency must be a positive integer, got {concurrency!r}")
    if stats is not None and not isinstance(stats, LoadStats):
        raise InputError(f"stats must be an s2raster.LoadStats, got {type(stats).__name__}")
    if progress is not None and not callable(progress):
        raise InputError(
            f"progress must be a function called once per tile (or None), got "
            f"{type(progress).__name__} {progress!r}"
        )
    if max_pu is not None and (
        isinstance(max_pu, bool)
        or not isinstance(max_pu, numbers.Real)
        or not (math.isfinite(float(max_pu)) and float(max_pu) >= 0)
    ):
        raise InputError(
            f"max_pu must be a number of processing units, 0 or more (or None), got {max_pu!r}"
        )
    if config is not None and not isinstance(config, SHConfig):
        raise InputError(
            f"config must be a sentinelhub.SHConfig (e.g. s2raster.cdse_config()), got "
            f"{type(config).__name__}"
        )


def service(
    config: SHConfig | None,
    fetch: Fetch | None,
    concurrency: int,
    quota: Quota | None = None,
) -> Fetch:
    """``fetch`` if given, else a CDSE fetch for ``config`` (default: :func:`cdse_config`),
    paced to ``quota`` (default: the free tier's)."""
    if fetch is not None:
        if not callable(fetch) or not isinstance(getattr(fetch, "base_url", None), str):
            raise InputError(
                f"fetch must implement s2raster.fetch.Fetch (a base_url, search() and "
                f"__call__), got {type(fetch).__name__}"
            )
        return fetch
    from s2raster.cdse import cdse_config, cdse_fetch

    return cdse_fetch(
        cdse_config() if config is None else config, concurrency=concurrency, quota=quota
    )


def search(plan: Plan, fetch: Fetch) -> Search:
    """The catalog's acquisitions for ``plan``; :class:`NoDataError` if there are none."""
    found = fetch.search(plan.query, plan.grid.lonlat_bounds)
    if not found.acquisitions:
        q = plan.query
        cloud = "" if q.max_cloud is None else f" with at most {q.max_cloud:g} % cloud cover"
        west, south, east, north = plan.grid.lonlat_bounds
        raise NoDataError(
            f"no {q.collection} acquisition{cloud} between {format_time(q.time_from)} and "
            f"{format_time(q.time_to)} over lon {west:.4f}..{east:.4f}, lat "
            f"{south:.4f}..{north:.4f} (searched {fetch.base_url}); nothing was requested: "
            "widen the time range, raise max_cloud, or check the bbox (lon/lat order)"
        )
    return found


def _lazy_array(plan: Plan, reader: StepReader) -> dask.array.Array:
    """One task per tile request: ``(reader, 0, request)``, keyed by the tile's position;
    tiles outside the job's area get a NaN block and no request."""
    name = f"s2raster-load-{reader.reader.load_id}"
    graph: dict[Any, Any] = {
        (name, 0, t.index_row, t.index_col): (no_data, (len(plan.query.bands), *t.grid.shape))
        for t in plan.tiles
    }  # tiles outside the job's area: no request, no data
    graph.update(
        {(name, 0, r.tile.index_row, r.tile.index_col): (reader, 0, r) for r in plan.requests}
    )
    chunks = ((len(plan.query.bands),), *plan.chunks)
    meta = np.empty((0, 0, 0), dtype=np.float32)
    return dask.array.Array(graph, name, chunks=chunks, dtype=np.float32, meta=meta)  # type: ignore[no-untyped-call]


def pending_requests(plan: Plan, cache: TileCache | None, base_url: str) -> tuple[TileRequest, ...]:
    """The requests of ``plan`` that the tile ``cache`` cannot answer (all without a cache)."""
    if cache is None:
        return plan.requests
    return tuple(r for r in plan.requests if not cache.contains(request_key(base_url, r)))


def check_cost(plan: Plan, max_pu: float | None, cache: TileCache | None, base_url: str) -> None:
    """Refuse a plan whose uncached requests are estimated above ``max_pu``."""
    if max_pu is None:
        return
    todo = pending_requests(plan, cache, base_url)
    estimate = sum(r.estimated_pu for r in todo)
    if estimate > max_pu:
        raise CostLimitError(
            f"this job is estimated at {estimate:.1f} processing units ({len(todo)} "
            f"request{'' if len(todo) == 1 else 's'} not in the cache), above max_pu={max_pu:g}: "
            "choose a smaller area, fewer bands "
            "or a coarser resolution, or raise max_pu"
        )


def _attrs(plan: Plan, found: Search, *, base_url: str) -> dict[str, Scalar]:
    q = plan.query
    attrs: dict[str, Scalar] = {
        "collection": q.collection,
        "time_from": format_time(q.time_from),
        "time_to": format_time(q.time_to),
        "mosaicking": q.mosaicking,
        "units": units_attr(q.collection, q.bands),
        "response_sample_type": q.sample_type,
        "processing_units_estimated": float(plan.estimated_pu),
        "acquisitions": len(found.acquisitions),
        "acquisition_dates": ",".join(
            sorted({a.datetime.date().isoformat() for a in found.acquisitions})
        ),
        "synthetic": int(found.synthetic),
        "source": SYNTHETIC_SOURCE if found.synthetic else _real_source(base_url),
        "evalscript": evalscript(q.bands, q.collection),
        "request_sha256": request_digest(plan.grid, q),
    }
    if plan.groupby is not None:
        attrs["groupby"] = plan.groupby
        attrs["acquisitions"] = sum(len(d.acquisitions) for d in plan.dates)
    if q.max_cloud is not None:
        attrs["max_cloud"] = float(q.max_cloud)
    return attrs


def units_attr(collection: str, bands: Iterable[str]) -> str:
    """``"reflectance"`` when all bands share units, else one unit per band, comma-separated."""
    table = band_table(collection)
    units = [_UNITS.get(table[b].units, table[b].units) for b in bands]
    return units[0] if len(set(units)) == 1 else ",".join(units)


def _real_source(base_url: str) -> str:
    return f"Contains modified Copernicus Sentinel data; Sentinel Hub Process API at {base_url}"
