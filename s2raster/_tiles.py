"""One dask task per tile: cache lookup -> fetch -> :func:`s2raster.geotiff.read_tile` -> cache.

Private to :mod:`s2raster._load`. :class:`LoadStats` is owned by the caller of ``load``; the
reader only adds to it.
"""

from __future__ import annotations

import threading
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from s2raster import geotiff
from s2raster.cache import TileCache, cache_key
from s2raster.errors import NoDataWarning, ResponseError
from s2raster.evalscript import payload
from s2raster.fetch import Fetch, FetchResult
from s2raster.plan import TileRequest

#: Called once per finished tile (e.g. to advance a progress bar).
Progress = Callable[[TileRequest], object]


@dataclass
class LoadStats:
    """What a load cost so far: requests sent, cache hits, PU spent, bytes, synthetic.

    Pass one to :func:`s2raster.load` (``stats=``) and read it after computing the array.
    """

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


@dataclass(frozen=True)
class TileReader:
    """Reads one tile request into a ``(band, y, x)`` float32 array."""

    fetch: Fetch
    cache: TileCache | None
    synthetic: bool
    stats: LoadStats
    progress: Progress | None
    slots: threading.BoundedSemaphore
    failed: threading.Event

    def __call__(self, request: TileRequest) -> np.ndarray:
        self._check_not_failed()
        try:
            key = cache_key(self.fetch.base_url, payload(request)) if self.cache else ""
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
            self.cache.put(key, result, base_url=self.fetch.base_url)
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
        self._lock = threading.Lock()
        self._seen: dict[int, set[tuple[int, int]]] = {}
        self._valid: dict[int, int] = {}

    def done(self, step: int, request: TileRequest, data: np.ndarray) -> None:
        """Record tile ``request`` of ``step``; warn if it completes an empty step."""
        valid = int(np.count_nonzero(np.isfinite(data).any(axis=0)))
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
