"""The pipeline: area + time + bands -> a lazy, georeferenced DataArray (one chunk per tile).

:func:`load` plans the job (:mod:`s2raster.plan`), checks the cost limit and credentials,
and returns at once: nothing is downloaded until the array is computed. Each dask chunk is
one tile request: cache lookup -> fetch (at most ``concurrency`` in flight) ->
:func:`s2raster.geotiff.read_tile` (georeferencing checked, NaN where ``dataMask`` is 0) ->
cache store. What a load cost is counted in :class:`LoadStats` (:func:`stats`).
"""

from __future__ import annotations

import threading
import uuid
import warnings
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import dask.array
import numpy as np
import xarray as xr
from pyproj import CRS
from sentinelhub.config import SHConfig

from s2raster import geotiff
from s2raster.bands import band_table
from s2raster.cache import CacheOption, TileCache, cache_key, resolve_cache
from s2raster.cdse import Fetch, FetchResult, cdse_config, cdse_fetch
from s2raster.contract import MAX_PX, SYNTHETIC_SOURCE
from s2raster.errors import CostLimitError, InputError, ResponseError
from s2raster.evalscript import payload
from s2raster.grid import BBox
from s2raster.loopback import is_loopback_url
from s2raster.plan import Plan, TileRequest, make_plan
from s2raster.timerange import TimeInput, format_time
from s2raster.xr import Scalar, to_dataarray

#: Called once per finished tile (e.g. to advance a progress bar).
Progress = Callable[[TileRequest], object]

CUSTOM_FETCH_URL = "custom-fetch"
_UNITS = {
    "REFLECTANCE": "reflectance",
    "OPTICAL_DEPTH": "optical_depth",
    "DEGREES": "degrees",
    "PERCENT": "percent",
}


@dataclass
class LoadStats:
    """What a load cost so far: requests sent, cache hits, PU spent, bytes, synthetic."""

    requests: int = 0
    cache_hits: int = 0
    processing_units_spent: float = 0.0
    bytes: int = 0
    synthetic: bool = False

    def __post_init__(self) -> None:
        self._lock = threading.Lock()  # not a field: asdict() and == see the counts only

    def record(self, result: FetchResult) -> None:
        """Count one response (thread-safe); cached ones cost nothing."""
        with self._lock:
            if result.from_cache:
                self.cache_hits += 1
            else:
                self.requests += 1
                self.processing_units_spent += result.processing_units
                self.bytes += len(result.content)
            self.synthetic = self.synthetic or result.synthetic


_REGISTRY: OrderedDict[str, LoadStats] = OrderedDict()
_REGISTRY_LOCK = threading.Lock()
_REGISTRY_SIZE = 1024


def stats(da: xr.DataArray) -> LoadStats:
    """The :class:`LoadStats` of the load that made ``da`` (by ``attrs["s2raster_load_id"]``)."""
    load_id = da.attrs.get("s2raster_load_id")
    with _REGISTRY_LOCK:
        found = _REGISTRY.get(str(load_id)) if load_id is not None else None
    if found is None:
        raise InputError(
            "this DataArray has no statistics: it was not made by s2raster.load in this "
            "process (or its s2raster_load_id attr was dropped)"
        )
    return found


def _register(load_id: str, load_stats: LoadStats) -> None:
    with _REGISTRY_LOCK:
        _REGISTRY[load_id] = load_stats
        while len(_REGISTRY) > _REGISTRY_SIZE:
            _REGISTRY.popitem(last=False)


def load(
    bbox: BBox,
    time: TimeInput,
    bands: str | Iterable[str],
    *,
    resolution: float = 10.0,
    crs: str | int | CRS | None = None,
    bbox_crs: str | int | CRS = "EPSG:4326",
    collection: str = "sentinel-2-l2a",
    mosaicking: str = "mostRecent",
    max_cloud: float | None = None,
    upsampling: str = "NEAREST",
    downsampling: str = "NEAREST",
    config: SHConfig | None = None,
    cache: CacheOption = True,
    concurrency: int = 4,
    fetch: Fetch | None = None,
    progress: Progress | None = None,
    max_pu: float | None = None,
    tile_px: int = MAX_PX,
) -> xr.DataArray:
    """Sentinel-2 ``bands`` over ``bbox`` and ``time`` as a lazy ``(band, y, x)`` DataArray.

    ``bbox`` is in ``bbox_crs`` (lon/lat by default), ``resolution`` in metres, ``crs`` the
    output CRS (default: the UTM zone of the bbox centre). ``config`` (an SHConfig) decides
    where requests go; default :func:`~s2raster.cdse.cdse_config` (CDSE, credentials from the
    environment or a sentinelhub profile). ``cache``: True (user cache dir), a directory, or
    False. ``max_pu`` refuses a job estimated above it (:class:`CostLimitError`) before any
    request. ``fetch`` replaces the network (tests). Nothing is downloaded until computed;
    compute with more dask threads than cores for download-bound jobs (e.g.
    ``da.compute(num_workers=concurrency)``).
    """
    plan = make_plan(
        bbox,
        time,
        bands,
        resolution=resolution,
        crs=crs,
        bbox_crs=bbox_crs,
        collection=collection,
        mosaicking=mosaicking,
        max_cloud=max_cloud,
        upsampling=upsampling,
        downsampling=downsampling,
        tile_px=tile_px,
    )
    return load_plan(
        plan,
        config=config,
        cache=cache,
        concurrency=concurrency,
        fetch=fetch,
        progress=progress,
        max_pu=max_pu,
    )


def load_plan(
    plan: Plan,
    *,
    config: SHConfig | None = None,
    cache: CacheOption = True,
    concurrency: int = 4,
    fetch: Fetch | None = None,
    progress: Progress | None = None,
    max_pu: float | None = None,
    stats: LoadStats | None = None,
) -> xr.DataArray:
    """Like :func:`load` for a :class:`~s2raster.plan.Plan` made by ``make_plan``.

    ``stats``: a :class:`LoadStats` of the caller's, counted into as the tiles are computed
    (read it after computing the array).
    """
    if isinstance(concurrency, bool) or not isinstance(concurrency, int) or concurrency < 1:
        raise InputError(f"concurrency must be a positive integer, got {concurrency!r}")
    if fetch is None:
        config = cdse_config() if config is None else config
        fetch = cdse_fetch(config, concurrency=concurrency)
    base_url = _base_url(config, fetch)
    # The default cache skips services whose tiles could never be found again (an emulator
    # on a fresh port, an anonymous fetch); a cache named explicitly is always used.
    reusable = base_url != CUSTOM_FETCH_URL and not is_loopback_url(base_url)
    tile_cache = resolve_cache(cache if cache is not True or reusable else False)
    _check_cost(plan, max_pu, tile_cache, base_url)
    load_id = uuid.uuid4().hex
    load_stats = LoadStats() if stats is None else stats
    _register(load_id, load_stats)
    synthetic = is_loopback_url(base_url)
    reader = _TileReader(
        fetch=fetch,
        cache=tile_cache,
        base_url=base_url,
        synthetic=synthetic,
        stats=load_stats,
        progress=progress,
        slots=threading.BoundedSemaphore(concurrency),
        failed=threading.Event(),
    )
    attrs = _attrs(plan, base_url=base_url, synthetic=synthetic, load_id=load_id)
    data = _lazy_array(plan, reader, load_id)
    return to_dataarray(data, plan.grid, plan.query.bands, attrs, name=plan.query.collection)


@dataclass(frozen=True)
class _TileReader:
    """One dask task per tile: cache -> fetch -> read_tile -> cache."""

    fetch: Fetch
    cache: TileCache | None
    base_url: str
    synthetic: bool
    stats: LoadStats
    progress: Progress | None
    slots: threading.BoundedSemaphore
    failed: threading.Event

    def __call__(self, request: TileRequest) -> np.ndarray:
        self._check_not_failed()
        try:
            key = cache_key(self.base_url, payload(request)) if self.cache else ""
            data = self._from_cache(request, key) if self.cache else None
            if data is None:
                data = self._download(request, key)
        except Exception:
            # dask re-raises the first error at once, but tasks it already started go on:
            # they must not spend processing units on a load that has failed.
            self.failed.set()
            raise
        if self.progress is not None:
            self.progress(request)
        return data

    def _check_not_failed(self) -> None:
        if self.failed.is_set():
            raise ResponseError(
                "not fetched: another tile of this load failed first (its error was raised "
                "when the array was computed); fix that and call s2raster.load again "
                "(tiles already fetched stay in the cache)"
            )

    def _from_cache(self, request: TileRequest, key: str) -> np.ndarray | None:
        assert self.cache is not None
        entry = self.cache.lookup(key)
        if entry is None:
            return None
        try:
            data = self._read(request, entry.path, entry.synthetic)
        except ResponseError:
            return None  # a damaged or foreign entry: fetch again (and overwrite it)
        self.stats.record(FetchResult(b"", 0.0, entry.synthetic, from_cache=True))
        return data

    def _download(self, request: TileRequest, key: str) -> np.ndarray:
        with self.slots:
            self._check_not_failed()
            try:
                result = self.fetch(request)
            except Exception:
                self.failed.set()  # before the slot is free for a task still waiting
                raise
        self.stats.record(result)
        if self.cache is None or not self._store(key, result):
            return self._read(request, result.content, result.synthetic)
        # Decode from the cached file, not beside the response bytes: a tile in flight then
        # holds its pixels only. A response read_tile refuses is not kept.
        synthetic = result.synthetic
        del result
        entry = self.cache.lookup(key)
        try:
            if entry is None:
                raise ResponseError(f"the tile cache lost the response it just stored ({key})")
            return self._read(request, entry.path, synthetic)
        except ResponseError:
            self.cache.discard(key)
            raise

    def _store(self, key: str, result: FetchResult) -> bool:
        """Put ``result`` in the cache; a cache that cannot be written only costs a warning."""
        assert self.cache is not None
        try:
            self.cache.put(key, result, base_url=self.base_url)
        except OSError as exc:
            warnings.warn(
                f"tile cache {self.cache.directory} is not writable ({exc}); continuing "
                "without it (pass cache=False, or another directory)",
                stacklevel=2,
            )
            return False
        return True

    def _read(self, request: TileRequest, content: bytes | Path, synthetic: bool) -> np.ndarray:
        tile = geotiff.read_tile(content, request.tile.grid, request.query.bands)
        if (synthetic or tile.synthetic) and not self.synthetic:
            raise ResponseError(
                f"tile {request.tile.index_row},{request.tile.index_col} from {self.base_url} "
                "is marked synthetic (emulator data) but this load expects real Sentinel-2 "
                "data; point config at the real service, or use the emulator's loopback URL"
            )
        return tile.data


def _lazy_array(plan: Plan, reader: _TileReader, load_id: str) -> dask.array.Array:
    name = f"s2raster-load-{load_id}"
    graph = {(name, 0, r.tile.index_row, r.tile.index_col): (reader, r) for r in plan.requests}
    chunks = ((len(plan.query.bands),), *plan.chunks)
    meta = np.empty((0, 0, 0), dtype=np.float32)
    return dask.array.Array(graph, name, chunks=chunks, dtype=np.float32, meta=meta)  # type: ignore[no-untyped-call]


def _base_url(config: SHConfig | None, fetch: Fetch) -> str:
    if config is not None:
        return str(config.sh_base_url).rstrip("/")
    return str(getattr(fetch, "base_url", CUSTOM_FETCH_URL)).rstrip("/")


def _check_cost(plan: Plan, max_pu: float | None, cache: TileCache | None, base_url: str) -> None:
    if max_pu is None:
        return
    todo = [
        r
        for r in plan.requests
        if cache is None or not cache.contains(cache_key(base_url, payload(r)))
    ]
    estimate = sum(r.estimated_pu for r in todo)
    if estimate > max_pu:
        raise CostLimitError(
            f"this job is estimated at {estimate:.1f} processing units ({len(todo)} "
            f"request{'' if len(todo) == 1 else 's'} not in the cache), above max_pu={max_pu:g}: "
            "choose a smaller area, fewer bands "
            "or a coarser resolution, or raise max_pu"
        )


def _attrs(plan: Plan, *, base_url: str, synthetic: bool, load_id: str) -> dict[str, Scalar]:
    q = plan.query
    attrs: dict[str, Scalar] = {
        "collection": q.collection,
        "time_from": format_time(q.time_from),
        "time_to": format_time(q.time_to),
        "mosaicking": q.mosaicking,
        "units": units_attr(q.collection, q.bands),
        "processing_units_estimated": float(plan.estimated_pu),
        "synthetic": int(synthetic),
        "source": SYNTHETIC_SOURCE if synthetic else _real_source(base_url),
        "s2raster_load_id": load_id,
    }
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
