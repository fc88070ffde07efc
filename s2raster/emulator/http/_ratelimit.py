"""Quotas: the service's rate-limit buckets (:class:`RateLimit`, :class:`RateLimiter`).

:class:`RateLimit` mirrors the service's policy buckets (requests and processing units per
minute, refilled continuously); an empty bucket is answered with 429 and ``retry-after`` in
milliseconds, as the service does.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

from s2raster.emulator.request import ApiError, rate_limited


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
        wait = self.wait(amount)
        if wait is None:
            self.tokens -= amount
        return wait

    def wait(self, amount: float) -> int | None:
        """None if ``amount`` could be taken now, else milliseconds until it could be."""
        now = time.monotonic()
        self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        needed = min(amount, self.capacity)
        if self.tokens >= needed:
            return None
        return int((needed - self.tokens) / self.rate * 1000) + 1

    def spend(self, amount: float) -> None:
        """Take ``amount`` whatever is left (the bucket may go below empty)."""
        self.wait(amount)
        self.tokens -= amount


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

    def check_pu(self, policy: RateLimit | None, pu: float) -> int | None:
        """None if ``pu`` could be charged now (nothing is taken), else ``retry-after`` ms."""
        with self._lock:
            self._sync(policy)
            return self._pu.wait(pu) if self._pu else None

    def spend_pu(self, policy: RateLimit | None, pu: float) -> None:
        """Charge ``pu`` for an answer that succeeded (even if others took the rest since
        its check: the bucket then goes below empty and the next requests wait)."""
        with self._lock:
            self._sync(policy)
            if self._pu:
                self._pu.spend(pu)

    def _sync(self, policy: RateLimit | None) -> None:
        if policy is self._policy:
            return
        self._policy = policy
        rpm = policy.requests_per_minute if policy else None
        ppm = policy.pu_per_minute if policy else None
        burst = policy.burst if policy else 1.0
        self._requests = _Bucket(rpm, burst) if rpm else None
        self._pu = _Bucket(ppm, burst) if ppm else None


class EvaluationSlots:
    """At most ``limit`` evaluations at once; a request waits up to ``wait_s`` for a slot.

    Bounds runaway evalscripts in number as the script timeout bounds them in time: a
    flood cannot start more V8 isolates than ``limit``. A request that finds no slot in
    time is answered as the service answers throttled requests, 429 with ``retry-after``
    in milliseconds (docs.sentinel-hub.com/api/latest/api/overview/rate-limiting/).
    """

    def __init__(self, limit: int, wait_s: float) -> None:
        if limit < 1:
            raise ValueError(f"max_evaluations must be at least 1, got {limit}")
        if wait_s < 0:
            raise ValueError(f"evaluation_wait must be >= 0 s, got {wait_s}")
        self.limit = int(limit)
        self.wait_s = float(wait_s)
        self._free = threading.BoundedSemaphore(self.limit)
        self._lock = threading.Lock()
        self._running = 0

    @property
    def running(self) -> int:
        """Evaluations holding a slot now."""
        with self._lock:
            return self._running

    @contextlib.contextmanager
    def hold(self) -> Iterator[None]:
        """Hold a slot for the ``with`` block; raise the 429 when none frees in time."""
        if not self._free.acquire(timeout=self.wait_s):
            raise _busy(self.limit)
        with self._lock:
            self._running += 1
        try:
            yield
        finally:
            with self._lock:
                self._running -= 1
            self._free.release()


def _busy(limit: int) -> ApiError:
    error = rate_limited(1000)
    error.message += (
        f" (the emulator evaluates at most {limit} evalscripts at once: max_evaluations)"
    )
    return error
