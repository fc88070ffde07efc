"""Quotas and injected faults of the emulator: rate-limit buckets, errors, drops, truncation.

Everything is off by default. :class:`Faults` is mutable at runtime (``emu.faults.error_rate
= 0.3``) and deterministic given ``seed``: the n-th request that faults apply to always gets
the same decision for the same settings. :class:`RateLimit` mirrors the service's policy
buckets (requests and processing units per minute, refilled continuously); an empty bucket
is answered with 429 and ``retry-after`` in milliseconds, as the service does.
"""

from __future__ import annotations

import contextlib
import random
import threading
import time
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


@dataclass(frozen=True)
class RateLimit:
    """Rate-limit policy: requests and processing units per minute (None: unlimited).

    Each is a bucket refilled continuously at that rate. A bucket holds one minute's worth
    unless ``burst`` (a fraction of a minute, e.g. ``1/60``: one second's worth) makes it
    smaller, so tests can hit the limit after a few requests yet wait only milliseconds.
    The free CDSE tier is ``RateLimit(requests_per_minute=300, pu_per_minute=300)``.
    """

    requests_per_minute: float | None = None
    pu_per_minute: float | None = None
    burst: float = 1.0

    def __post_init__(self) -> None:
        if not 0 < self.burst <= 1:
            raise ValueError(f"RateLimit.burst must be in (0, 1], got {self.burst}")
        for name in ("requests_per_minute", "pu_per_minute"):
            value = getattr(self, name)
            if value is not None and not value > 0:
                raise ValueError(f"RateLimit.{name} must be positive or None, got {value}")


class _Bucket:
    """A token bucket refilled at ``per_minute`` per minute, holding ``burst`` minutes' worth
    (starting full)."""

    def __init__(self, per_minute: float, burst: float) -> None:
        self.capacity = per_minute * burst
        self.rate = per_minute / 60.0
        self.tokens = self.capacity
        self.stamp = time.monotonic()

    def take(self, amount: float) -> int | None:
        """Take ``amount``; None if taken, else milliseconds until it could be."""
        now = time.monotonic()
        self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        needed = min(amount, self.capacity)
        if self.tokens >= needed:
            self.tokens -= amount
            return None
        return int((needed - self.tokens) / self.rate * 1000) + 1


class RateLimiter:
    """The buckets of the current :class:`RateLimit` (rebuilt when the policy object changes)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._policy: RateLimit | None = None
        self._requests: _Bucket | None = None
        self._pu: _Bucket | None = None

    def take_request(self, policy: RateLimit | None) -> int | None:
        """Count one request; None if allowed, else ``retry-after`` in milliseconds."""
        with self._lock:
            self._sync(policy)
            return self._requests.take(1.0) if self._requests else None

    def take_pu(self, policy: RateLimit | None, pu: float) -> int | None:
        """Charge ``pu`` processing units; None if allowed, else ``retry-after`` in ms."""
        with self._lock:
            self._sync(policy)
            return self._pu.take(pu) if self._pu else None

    def _sync(self, policy: RateLimit | None) -> None:
        if policy is self._policy:
            return
        self._policy = policy
        rpm = policy.requests_per_minute if policy else None
        ppm = policy.pu_per_minute if policy else None
        burst = policy.burst if policy else 1.0
        self._requests = _Bucket(rpm, burst) if rpm else None
        self._pu = _Bucket(ppm, burst) if ppm else None
