"""Per-process state of a load, found again by the load's id once its graph has travelled.

A load's dask graph holds :class:`~s2raster._tiles.TileReader` objects that pickle to plain
data (the fetch, the cache directory, the load id, the concurrency). What cannot travel —
locks, the failure flag, the caller's :class:`LoadStats` and progress callback — lives in a
:class:`LoadState`, one per (process, load id):

- In the process that called ``load`` (threaded or synchronous scheduler, or a
  ``distributed`` cluster of threads in that process) the readers hold the caller's state:
  a thread semaphore of ``concurrency`` slots, one failure flag, the caller's stats.
- In a ``distributed`` worker process the first task of a load makes that worker's state:
  a failure flag for the worker, a ``distributed.Semaphore`` named after the load (so
  ``concurrency`` holds across the whole cluster), and counts sent back to the caller as
  worker events on the topic :func:`topic` (``Worker.log_event``), which the caller's
  :class:`LoadStats` receives when a ``distributed`` client was the default client at
  load time (:func:`subscribe`).

Worker states are kept for the :data:`REMOTE_LOADS` most recent loads of the process.
"""

from __future__ import annotations

import contextlib
import sys
import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from s2raster.fetch import FetchResult
from s2raster.plan import TileRequest

#: Called once per finished tile (e.g. to advance a progress bar).
Progress = Callable[[TileRequest], object]
#: Worker states kept per process (oldest dropped first).
REMOTE_LOADS = 64

_lock = threading.Lock()
_local: weakref.WeakValueDictionary[str, LoadState] = weakref.WeakValueDictionary()
_remote: OrderedDict[str, LoadState] = OrderedDict()


@dataclass
class LoadStats:
    """What a load cost so far: requests sent, cache hits, PU spent, bytes, synthetic, and
    the answers the service throttled (HTTP 429, retried after ``retry-after``).

    Pass one to :func:`s2raster.load` (``stats=``) and read it after computing the array.
    On a ``distributed`` cluster of processes the workers' counts arrive as worker events:
    create the ``Client`` before calling ``load`` (the stats subscribe to them then).
    """

    requests: int = 0
    cache_hits: int = 0
    processing_units_spent: float = 0.0
    bytes: int = 0
    synthetic: bool = False
    throttled: int = 0
    #: Cache entries whose bytes did not match their checksum (removed, fetched again).
    cache_mismatches: int = 0

    def __post_init__(self) -> None:
        self._lock = threading.Lock()  # not a field: asdict() and == see the counts only

    def __getstate__(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k != "_lock"}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()

    def record(self, result: FetchResult) -> None:
        """Count one response (thread-safe); cached ones cost nothing."""
        self.add(_counts(result))

    def add(self, counts: dict[str, Any]) -> None:
        """Add the counts of one tile (as :func:`_counts` makes them; thread-safe)."""
        with self._lock:
            self.requests += int(counts.get("requests", 0))
            self.cache_hits += int(counts.get("cache_hits", 0))
            self.processing_units_spent += float(counts.get("pu", 0.0))
            self.bytes += int(counts.get("bytes", 0))
            self.throttled += int(counts.get("throttled", 0))
            self.cache_mismatches += int(counts.get("cache_mismatches", 0))
            self.synthetic = self.synthetic or bool(counts.get("synthetic", False))


def _counts(result: FetchResult) -> dict[str, Any]:
    if result.from_cache:
        return {"cache_hits": 1, "synthetic": result.synthetic}
    return {
        "requests": 1,
        "pu": result.processing_units,
        "bytes": len(result.content),
        "throttled": result.throttled,
        "synthetic": result.synthetic,
    }


@dataclass
class LoadState:
    """What the tasks of one load share inside one process (see the module docstring)."""

    load_id: str
    stats: LoadStats
    slots: Callable[[], contextlib.AbstractContextManager[Any]]
    progress: Progress | None = None
    failed: threading.Event = field(default_factory=threading.Event)
    worker: Any = None

    def record(self, result: FetchResult, key: str) -> None:
        """Count one tile here, and on a worker send the counts to the caller."""
        counts = _counts(result)
        self.stats.add(counts)
        if self.worker is not None:
            self.worker.log_event(topic(self.load_id), {**counts, "key": key})

    def record_mismatch(self, key: str) -> None:
        """Count one cache entry found damaged (and dropped) here, and on a worker send it."""
        counts = {"cache_mismatches": 1}
        self.stats.add(counts)
        if self.worker is not None:
            self.worker.log_event(topic(self.load_id), {**counts, "key": key})

    def done(self, request: TileRequest) -> None:
        """Report a finished tile to the progress callback (caller's process only)."""
        if self.progress is not None:
            self.progress(request)


def topic(load_id: str) -> str:
    """The worker-event topic of a load's counts."""
    return f"s2raster-load-{load_id}"


def local_state(
    load_id: str, concurrency: int, stats: LoadStats, progress: Progress | None
) -> LoadState:
    """The caller's state of a new load (thread slots); found again by :func:`state`."""
    slots = threading.BoundedSemaphore(concurrency)
    made = LoadState(load_id, stats, lambda: slots, progress)
    with _lock:
        _local[load_id] = made
    return made


def state(load_id: str, concurrency: int) -> LoadState:
    """This process's state of the load ``load_id`` (made on first use in a worker)."""
    with _lock:
        found = _local.get(load_id) or _remote.get(load_id)
        if found is not None:
            return found
        worker = _distributed_worker()
        made = LoadState(load_id, LoadStats(), _slots(load_id, concurrency, worker), None)
        made.worker = worker
        _remote[load_id] = made
        while len(_remote) > REMOTE_LOADS:
            _remote.popitem(last=False)
        return made


def _slots(
    load_id: str, concurrency: int, worker: Any
) -> Callable[[], contextlib.AbstractContextManager[Any]]:
    if worker is None:  # unpickled outside a distributed worker (e.g. a process pool)
        local = threading.BoundedSemaphore(concurrency)
        return lambda: local
    from distributed import Semaphore

    semaphore: list[Any] = []

    def cluster_slots() -> contextlib.AbstractContextManager[Any]:
        if not semaphore:  # made in a task (it needs the worker's client)
            made = Semaphore(max_leases=concurrency, name=f"s2raster-{load_id}")  # type: ignore[no-untyped-call]
            semaphore.append(made)
        return _held(semaphore[0])

    return cluster_slots


@contextlib.contextmanager
def _held(semaphore: Any) -> Iterator[None]:
    semaphore.acquire()
    try:
        yield
    finally:
        semaphore.release()


def _distributed_worker() -> Any:
    """The ``distributed`` worker running this task, or None."""
    module = sys.modules.get("distributed")
    if module is None:
        return None
    try:
        return module.get_worker()
    except ValueError:
        return None


def subscribe(state: LoadState, requests: Iterator[tuple[str, TileRequest]]) -> None:
    """Let the caller's ``state`` receive the counts of worker processes (worker events).

    Only when a ``distributed`` client is the default client now; ``requests`` maps the
    keys the events carry to the tile requests the progress callback is called with.
    """
    module = sys.modules.get("distributed")
    if module is None:
        return
    try:
        client = module.default_client()
    except ValueError:
        return
    by_key = dict(requests)

    def handler(event: tuple[float, dict[str, Any]]) -> None:
        counts = event[1]
        state.stats.add(counts)
        request = by_key.get(str(counts.get("key", "")))
        if request is not None and "cache_mismatches" not in counts:  # a tile done
            state.done(request)

    client.subscribe_topic(topic(state.load_id), handler)
