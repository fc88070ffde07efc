"""The request log: what the emulator answered, for tests to count."""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, overload

#: Entries the request log keeps (the oldest are dropped beyond).
LOG_SIZE = 10_000


@dataclass(frozen=True)
class ServedRequest:
    """One answered request: path, HTTP status (0 = connection dropped), PU spent, fault,
    and what its evalscript wrote with ``console.log``."""

    path: str
    status: int
    pu: float = 0.0
    fault: str | None = None
    console: tuple[str, ...] = ()
    #: A Process request's ``timeRange`` (from, to) as the emulator read it, else None.
    time_range: tuple[datetime, datetime] | None = None


class RequestLog(Sequence[ServedRequest]):
    """A thread-safe, append-only list of the last ``maxlen`` :class:`ServedRequest` s
    (indexing gives snapshots; older entries are dropped)."""

    def __init__(self, maxlen: int = LOG_SIZE) -> None:
        self._items: deque[ServedRequest] = deque(maxlen=maxlen)
        self._lock = threading.Lock()

    def append(self, item: ServedRequest) -> None:
        with self._lock:
            self._items.append(item)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    def snapshot(self) -> list[ServedRequest]:
        with self._lock:
            return list(self._items)

    def count(
        self, value: Any = None, *, path: str | None = None, status: int | None = None
    ) -> int:
        """Entries equal to ``value``, or matching ``path`` (prefix) and/or ``status``."""
        items = self.snapshot()
        if value is not None:
            return items.count(value)
        return sum(
            1
            for r in items
            if (path is None or r.path.startswith(path)) and (status is None or r.status == status)
        )

    @overload
    def __getitem__(self, index: int) -> ServedRequest: ...
    @overload
    def __getitem__(self, index: slice) -> list[ServedRequest]: ...
    def __getitem__(self, index: int | slice) -> ServedRequest | list[ServedRequest]:
        return self.snapshot()[index]

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)

    def __iter__(self) -> Iterator[ServedRequest]:
        return iter(self.snapshot())

    def __repr__(self) -> str:
        return f"RequestLog({self.snapshot()!r})"
