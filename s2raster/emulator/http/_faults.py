"""Injected faults of the emulator: latency, error answers, dropped connections, truncation.

Everything is off by default. :class:`Faults` is mutable at runtime (``emu.faults.error_rate
= 0.3``) and deterministic given ``seed``: the n-th request that faults apply to always gets
the same decision for the same settings.
"""

from __future__ import annotations

import contextlib
import random
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field, fields
from typing import Any, Literal

FaultKind = Literal["none", "error", "drop", "truncate"]


@dataclass
class Faults:
    """Injected faults; rates are probabilities per request (0..1).

    - ``latency_s``: seconds added before every answer;
    - ``error_rate``: share of requests answered with a status from ``error_statuses``
      (429 carries ``retry-after: retry_after_ms``);
    - ``drop_rate``: share of connections closed without any response;
    - ``truncate_rate``: share of successful answers whose body is cut short (the
      ``Content-Length`` header promises more than is sent, then the connection closes);
    - ``seed``: makes the sequence of decisions reproducible;
    - ``paths``: path prefixes the faults apply to (the token endpoint is spared by default).
    """

    latency_s: float = 0.0
    error_rate: float = 0.0
    error_statuses: tuple[int, ...] = (429, 500, 503)
    drop_rate: float = 0.0
    truncate_rate: float = 0.0
    seed: int | None = 0
    retry_after_ms: int = 100
    paths: tuple[str, ...] = ("/api/",)
    _rng: random.Random = field(init=False, repr=False, compare=False)
    _lock: threading.Lock = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_lock", threading.Lock())
        self._check()

    def __setattr__(self, name: str, value: Any) -> None:
        super().__setattr__(name, value)
        if name == "seed":
            super().__setattr__("_rng", random.Random(value))
        if name in _PUBLIC and hasattr(self, "_lock"):
            self._check()

    @property
    def active(self) -> bool:
        return bool(self.latency_s or self.error_rate or self.drop_rate or self.truncate_rate)

    def applies_to(self, path: str) -> bool:
        return any(path.startswith(prefix) for prefix in self.paths)

    def decide(self) -> tuple[FaultKind, int]:
        """The fault for the next request: (kind, HTTP status for kind "error" else 0)."""
        with self._lock:
            draw = self._rng.random()
            pick = self._rng.randrange(1 << 30)
        if draw < self.error_rate and self.error_statuses:
            return "error", self.error_statuses[pick % len(self.error_statuses)]
        draw -= self.error_rate
        if draw < self.drop_rate:
            return "drop", 0
        draw -= self.drop_rate
        if draw < self.truncate_rate:
            return "truncate", 0
        return "none", 0

    def clear(self) -> None:
        """Switch every fault off (the seed and paths stay)."""
        self.latency_s = self.error_rate = self.drop_rate = self.truncate_rate = 0.0

    @contextlib.contextmanager
    def injected(self, **changes: Any) -> Iterator[Faults]:
        """Apply ``changes`` (field=value) for the ``with`` block, then restore the old values."""
        unknown = set(changes) - set(_PUBLIC)
        if unknown:
            raise TypeError(f"unknown Faults fields: {sorted(unknown)}; known: {_PUBLIC}")
        old = {name: getattr(self, name) for name in changes}
        for name, value in changes.items():
            setattr(self, name, value)
        try:
            yield self
        finally:
            for name, value in old.items():
                setattr(self, name, value)

    def _check(self) -> None:
        for name in ("error_rate", "drop_rate", "truncate_rate"):
            rate = getattr(self, name)
            if not 0.0 <= rate <= 1.0:
                raise ValueError(f"Faults.{name} must be between 0 and 1, got {rate}")
        if self.latency_s < 0:
            raise ValueError(f"Faults.latency_s must be >= 0, got {self.latency_s}")
        if any(status < 400 or status > 599 for status in self.error_statuses):
            raise ValueError(
                f"Faults.error_statuses must be HTTP error codes: {self.error_statuses}"
            )


_PUBLIC = tuple(f.name for f in fields(Faults) if not f.name.startswith("_"))
