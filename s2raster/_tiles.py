"""One dask task per tile: cache lookup -> fetch -> :func:`s2raster.geotiff.read_tile` -> cache.

Private to :mod:`s2raster._load`. A :class:`TileReader` pickles to plain data (the fetch,
the cache and ledger paths, the load id), so a load's graph can go to ``distributed``
workers; what cannot travel (slots, the failure flag, the caller's :class:`LoadStats` and
progress) is found again in each process by the load id (:mod:`s2raster._runtime`).
"""

from __future__ import annotations

import threading
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from s2raster import geotiff
from s2raster._runtime import LoadState, LoadStats, Progress, state
from s2raster.cache import TileCache, cache_key
from s2raster.errors import NoDataWarning, ResponseError
from s2raster.evalscript import payload
from s2raster.fetch import Fetch, FetchResult
from s2raster.ledger import Ledger
from s2raster.plan import TileRequest

__all__ = ["LoadStats", "Progress", "TileReader", "request_key"]


def request_key(base_url: str, request: TileRequest) -> str:
    """The cache key of ``request`` at ``base_url`` (also how worker events name a tile)."""
    return cache_key(base_url, payload(request))


@dataclass(frozen=True)
class TileReader:
    """Reads one tile request into a ``(band, y, x)`` float32 array.

    ``state`` is this process's :class:`~s2raster._runtime.LoadState`; it is not pickled:
    an unpickled reader looks it up (or makes it) by ``load_id`` when first called.
    """

    fetch: Fetch
    cache: TileCache | None
    synthetic: bool
    load_id: str
    concurrency: int
    ledger: Ledger | None = None
    state: LoadState | None = field(default=None, compare=False, repr=False)

    @property
    def here(self) -> LoadState:
        """This process's state of the load, looked up on first use: in a task, where a
        ``distributed`` worker can be seen (not while the graph is being unpickled)."""
        if self.state is None:
            object.__setattr__(self, "state", state(self.load_id, self.concurrency))
        assert self.state is not None
        return self.state

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        fields = (self.fetch, self.cache, self.synthetic, self.load_id, self.concurrency)
        return (TileReader, (*fields, self.ledger))

    def __call__(self, request: TileRequest) -> np.ndarray:
        self._check_not_failed()
        try:
            data = self._cached_or_download(request)
        except Exception:
            # dask re-raises the first error at once, but tasks it already started go on:
            # they must not spend processing units on a load that has failed.
            self.here.failed.set()
            raise
        self.here.done(request)
        return data

    def _check_not_failed(self) -> None:
        if self.here.failed.is_set():
            raise ResponseError(
                "not fetched: another tile of this load failed first (its error was raised "
                "when the array was computed); fix that and call s2raster.load again "
                "(tiles already fetched stay in the cache)"
            )

    def _cached_or_download(self, request: TileRequest) -> np.ndarray:
        key = request_key(self.fetch.base_url, request)  # also names the tile in worker events
        if self.cache is None:
            return self._download(request, key)
        data = self._from_cache(request, key)
        if data is not None:
            return data
        # One fetch per key at a time, across processes: whoever waited here finds the
        # tile the other one stored.
        with self.cache.fetching(key):
            data = self._from_cache(request, key)
            return data if data is not None else self._download(request, key)

    def _from_cache(self, request: TileRequest, key: str) -> np.ndarray | None:
        assert self.cache is not None
        entry = self.cache.lookup(key)
        if entry is None:
            return None
        if not self.cache.verify(key, entry):
            self.here.record_mismatch(key)
            return None
        try:
            data = self._read(request, entry.path, entry.synthetic)
        except ResponseError:
            return None  # a damaged or foreign entry: fetch again (and overwrite it)
        self.here.record(FetchResult(b"", 0.0, entry.synthetic, from_cache=True), key)
        return data

    def _download(self, request: TileRequest, key: str) -> np.ndarray:
        with self.here.slots():
            self._check_not_failed()
            try:
                result = self.fetch(request)
            except Exception:
                self.here.failed.set()  # before the slot is free for a task still waiting
                raise
        self.here.record(result, key)
        if self.ledger is not None and not result.synthetic:
            self.ledger.record(result.processing_units, self.fetch.base_url)
        if self.cache is None or not self._store(key, result):
            # GDAL reads bytes, not a bytearray: one copy, then the body read in place goes
            content, synthetic = bytes(result.content), result.synthetic
            del result
            return self._read(request, content, synthetic)
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
            self.cache.put(key, result, base_url=self.fetch.base_url)
        except OSError as exc:
            warnings.warn(
                f"tile cache {self.cache.directory} is not writable ({exc}); continuing "
                "without it (pass cache=False, or another directory)",
                stacklevel=2,
            )
            return False
        return True

    def _read(
        self, request: TileRequest, content: bytes | bytearray | Path, synthetic: bool
    ) -> np.ndarray:
        q = request.query
        tile = geotiff.read_tile(content, request.tile.grid, q.bands, q.divisors)
        if (synthetic or tile.synthetic) and not self.synthetic:
            raise ResponseError(
                f"tile {request.tile.index_row},{request.tile.index_col} from "
                f"{self.fetch.base_url} is marked synthetic (emulator data) but the catalog of "
                "this load answered as a real service; point config at the real service, or "
                "at the emulator for both"
            )
        return tile.data


class EmptyWatch:
    """Warns once per time step whose tiles, all computed, hold no valid pixel.

    ``labels`` name the steps (e.g. their dates), ``tiles`` is the number of tiles per
    step. A tile computed twice counts once.
    """

    def __init__(self, labels: tuple[str, ...], tiles: int) -> None:
        self.labels = labels
        self.tiles = tiles
        self._reset()

    def _reset(self) -> None:
        self._lock = threading.Lock()
        self._seen: dict[int, set[tuple[int, int]]] = {}
        self._valid: dict[int, int] = {}

    def __getstate__(self) -> dict[str, object]:
        # Pickled into a distributed graph: each worker process watches its own tiles (a
        # step split over workers then warns on none of them, never wrongly).
        return {"labels": self.labels, "tiles": self.tiles}

    def __setstate__(self, state: dict[str, object]) -> None:
        self.__dict__.update(state)
        self._reset()

    def done(self, step: int, request: TileRequest, data: np.ndarray) -> None:
        """Record tile ``request`` of ``step``; warn if it completes an empty step."""
        valid = _valid_pixels(data)
        key = (request.tile.index_row, request.tile.index_col)
        with self._lock:
            seen = self._seen.setdefault(step, set())
            if key in seen:
                return
            seen.add(key)
            self._valid[step] = self._valid.get(step, 0) + valid
            empty = len(seen) == self.tiles and self._valid[step] == 0
        if empty:
            warnings.warn(
                f"{self.labels[step]}: every pixel is no-data (outside the swath, or no "
                "scene in the time range): check s2raster.valid_fraction(da) and drop such "
                "steps, or widen the time range",
                NoDataWarning,
                stacklevel=2,
            )


def _valid_pixels(data: np.ndarray) -> int:
    """Pixels of ``data`` (band, y, x) with a value in some band; one band's mask at a time
    (not a boolean copy of the whole tile)."""
    if data.shape[0] == 0:
        return 0
    valid = np.isfinite(data[0])
    for band in data[1:]:
        valid |= np.isfinite(band)
    return int(np.count_nonzero(valid))


@dataclass(frozen=True)
class StepReader:
    """One (time step, tile) chunk: the tile as :class:`TileReader` reads it, watched for
    empty steps, with a leading time axis when ``time_axis``."""

    reader: TileReader
    watch: EmptyWatch
    time_axis: bool

    def __call__(self, step: int, request: TileRequest) -> np.ndarray:
        data = self.reader(request)
        self.watch.done(step, request, data)
        return data[np.newaxis] if self.time_axis else data


def no_data(shape: tuple[int, ...]) -> np.ndarray:
    """A chunk of no data (NaN): a tile the job's area does not reach is not requested."""
    return np.full(shape, np.nan, dtype=np.float32)
