"""Sending Statistical API requests: cache lookup -> request -> cache store, on a thread pool.

Private to :mod:`s2raster._statistics`. Each answer is cached like a tile (key: base URL +
payload, :func:`s2raster.cache.cache_key`; files ``<key>.stats.json``); a zone whose polygon
holds no pixel centre is not sent. After one request fails, the ones not yet sent are not.
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Protocol

from sentinelhub.config import SHConfig

from s2raster._tiles import LoadStats
from s2raster.cache import TileCache, cache_key
from s2raster.errors import CostLimitError, InputError, ResponseError
from s2raster.fetch import FetchResult
from s2raster.statistical import StatRequest, payload

__all__ = ["StatisticsFetch", "check_cost", "run", "sender"]


class StatisticsFetch(Protocol):
    """Anything that answers Statistical API requests (CDSE, the emulator, a fake)."""

    @property
    def base_url(self) -> str: ...

    def __call__(self, request: StatRequest) -> FetchResult: ...


def sender(
    config: SHConfig | None, fetch: StatisticsFetch | None, concurrency: int
) -> StatisticsFetch:
    """``fetch`` if given, else a CDSE Statistical API sender for ``config``."""
    if isinstance(concurrency, bool) or not isinstance(concurrency, int) or concurrency < 1:
        raise InputError(f"concurrency must be a positive integer, got {concurrency!r}")
    if fetch is not None:
        if not callable(fetch) or not isinstance(getattr(fetch, "base_url", None), str):
            raise InputError("fetch must have a base_url and answer StatRequests when called")
        return fetch
    from s2raster.cdse import cdse_config, cdse_statistics

    return cdse_statistics(cdse_config() if config is None else config, concurrency=concurrency)


def check_cost(
    requests: Sequence[StatRequest], max_pu: float | None, cache: TileCache | None, base_url: str
) -> None:
    """Refuse requests whose uncached part is estimated above ``max_pu``."""
    if max_pu is None:
        return
    todo = [r for r in requests if r.pixels and not (cache and cache.contains(_key(base_url, r)))]
    estimate = sum(r.estimated_pu for r in todo)
    if estimate > max_pu:
        raise CostLimitError(
            f"these statistics are estimated at {estimate:.2f} processing units ({len(todo)} "
            f"request{'' if len(todo) == 1 else 's'} not in the cache), above max_pu={max_pu:g}: "
            "use fewer zones, a longer interval or a coarser resolution, or raise max_pu"
        )


def _key(base_url: str, request: StatRequest) -> str:
    return cache_key(base_url, payload(request))


@dataclass(frozen=True)
class _Answerer:
    """One zone's answer: from the cache, else from the service (then cached)."""

    sender: StatisticsFetch
    cache: TileCache | None
    keep_synthetic: bool  # store synthetic answers (an explicitly named cache)
    usage: LoadStats
    failed: threading.Event

    def __call__(self, request: StatRequest) -> dict[str, Any]:
        if self.failed.is_set():
            raise ResponseError(
                "not sent: another zone's request failed first (its error was raised); fix "
                "that and run again (answers already received are cached)"
            )
        try:
            return self._answer(request)
        except Exception:
            self.failed.set()
            raise

    def _answer(self, request: StatRequest) -> dict[str, Any]:
        if not request.pixels:  # no pixel centre in the polygon: nothing to ask
            return {"data": []}
        key = _key(self.sender.base_url, request) if self.cache else ""
        entry = self.cache.lookup(key) if self.cache else None
        if entry is not None:
            with contextlib.suppress(OSError, ResponseError):
                answer = _decode(entry.path.read_bytes())
                self.usage.record(FetchResult(b"", 0.0, entry.synthetic, from_cache=True))
                return answer
        result = self.sender(request)
        answer = _decode(result.content)
        self.usage.record(result)
        if self.cache is not None and (self.keep_synthetic or not result.synthetic):
            with contextlib.suppress(OSError):  # an unwritable cache only costs the cache
                self.cache.put(key, result, base_url=self.sender.base_url)
        return answer


def run(
    requests: Sequence[StatRequest],
    sender: StatisticsFetch,
    cache: TileCache | None,
    *,
    keep_synthetic: bool,
    usage: LoadStats,
    concurrency: int,
    progress: Callable[[StatRequest], object] | None = None,
) -> list[dict[str, Any]]:
    """The answers to ``requests``, in order, at most ``concurrency`` at a time."""
    answer = _Answerer(sender, cache, keep_synthetic, usage, threading.Event())

    def one(request: StatRequest) -> dict[str, Any]:
        found = answer(request)
        if progress is not None:
            progress(request)
        return found

    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        return list(pool.map(one, requests))


def _decode(content: bytes | bytearray) -> dict[str, Any]:
    try:
        answer = json.loads(content)
    except ValueError as exc:
        raise ResponseError(
            f"the Statistical API answered non-JSON: {bytes(content[:80])!r}"
        ) from exc
    if not isinstance(answer, dict) or not isinstance(answer.get("data", []), list):
        shape = str(answer)[:120]
        raise ResponseError(f"the Statistical API answered an unexpected shape: {shape}")
    return answer
