"""Pacing to an account's per-minute quota: requests and processing units, before sending.

The service meters each account with token buckets (requests and PU per minute, refilled
continuously, holding one minute's worth; an empty one answers 429 with ``retry-after`` in
milliseconds: docs.sentinel-hub.com/api/latest/api/overview/rate-limiting/; free CDSE
limits in :data:`s2raster.contract.FREE_QUOTA`). :class:`Pacer`
keeps the same buckets on the client side and makes each request wait until both buckets
hold what it costs, so a large job streams at the quota's rate instead of bursting into
429s:

- a request's PU are known before it is sent (the plan's estimate, the formula the service
  bills by) and reserved then; the ``x-processingunits-spent`` answer settles the
  difference (:meth:`Pacer.settle`);
- reservations are taken in order, so a bucket's deficit is the queue: the n-th waiting
  request sleeps until the refill covers everything reserved before it;
- the service debits a request when it reaches it, a little after the client reserved it;
  while a bucket is full that lag loses refill on the service's side only, so the client's
  buckets stop :data:`LAG_S` seconds of refill short of full;
- a 429 still happens (another program spending the same account): sentinelhub-py retries
  it after ``retry-after``; :meth:`Pacer.throttled` puts the client's buckets that far below
  empty and moves every request still waiting that much later, so the waiting threads do
  not all fire when the pause ends (which would answer each retry with another 429).

Written by hand (about 60 lines) because sentinelhub-py's ``SentinelHubRateLimit`` only
reacts to 429s and spaces requests by a fixed interval; it knows no PU budget.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from s2raster.cost import Quota

#: Seconds added to every wait, so a request never reaches the service a hair early.
MARGIN_S = 0.01
#: How much later than its reservation the service may debit a request (seconds): the
#: client's buckets hold that much refill less than the service's.
LAG_S = 0.5
#: A waiting request looks at its (possibly moved) time at least this often (seconds).
POLL_S = 0.5


class _Bucket:
    """``per_minute`` refilled continuously, holding ``burst`` minutes' worth, starting full."""

    def __init__(self, per_minute: float, burst: float, now: float) -> None:
        self.rate = per_minute / 60.0
        full = per_minute * burst
        self.capacity = max(full - LAG_S * self.rate, full / 2)
        self.tokens = self.capacity
        self.stamp = now

    def refill(self, now: float) -> None:
        self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now

    def reserve(self, amount: float, now: float) -> float:
        """Take ``amount`` (the balance may go negative: a queue); seconds to wait first."""
        self.refill(now)
        need = min(amount, self.capacity)  # a request above the capacity waits for a full one
        wait = (need - self.tokens) / self.rate + MARGIN_S if self.tokens < need else 0.0
        self.tokens -= amount
        return wait


class Pacer:
    """Client-side buckets of :class:`~s2raster.cost.Quota` (thread-safe).

    ``share`` scales the quota (e.g. ``1 / n`` on each of n ``distributed`` workers).
    """

    def __init__(
        self,
        quota: Quota,
        *,
        share: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.quota = quota
        self._clock, self._sleep = clock, sleep
        self._lock = threading.Lock()
        now = clock()
        fraction = quota.share * share
        rpm, ppm = quota.requests_per_minute, quota.pu_per_minute
        self._requests = _Bucket(rpm * fraction, quota.burst, now) if rpm else None
        self._pu = _Bucket(ppm * fraction, quota.burst, now) if ppm else None
        self._waiting: list[list[float]] = []  # the send times of the requests waiting

    def wait(self, pu: float) -> float:
        """Reserve one request of ``pu`` PU and sleep until it may be sent; return the sleep."""
        with self._lock:
            start = self._clock()
            delay = 0.0
            if self._requests is not None:
                delay = max(delay, self._requests.reserve(1.0, start))
            if self._pu is not None:
                delay = max(delay, self._pu.reserve(pu, start))
            if delay <= 0:
                return 0.0
            at = [start + delay]  # moved by throttled() while waiting
            self._waiting.append(at)
        try:
            while True:
                with self._lock:
                    remaining = at[0] - self._clock()
                if remaining <= 0:
                    break
                self._sleep(min(remaining, POLL_S))
        finally:
            with self._lock:
                self._waiting.remove(at)
        return self._clock() - start

    def settle(self, estimated: float, spent: float) -> None:
        """Correct a reservation of ``estimated`` PU by what the service says was ``spent``."""
        if self._pu is None or estimated == spent:
            return
        with self._lock:
            self._pu.refill(self._clock())
            self._pu.tokens = min(self._pu.capacity, self._pu.tokens + estimated - spent)

    def throttled(self, retry_after_s: float = 0.0) -> None:
        """The service answered 429 (retry after ``retry_after_s``): its bucket is that far
        from holding the request. Ours go at least that far below empty, and every request
        still waiting is moved that much later."""
        pause = max(retry_after_s, 0.0)
        with self._lock:
            now = self._clock()
            for bucket in (self._requests, self._pu):
                if bucket is not None:
                    bucket.refill(now)
                    bucket.tokens = min(bucket.tokens, 0.0) - pause * bucket.rate
            for at in self._waiting:
                at[0] = max(at[0], now) + pause
