"""The client-side quota buckets (s2raster.cdse._pacing), on a fake clock: no sleeping."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from s2raster.cdse._pacing import LAG_S, MARGIN_S, Pacer
from s2raster.cost import Quota
from s2raster.errors import InputError


class Clock:
    """A fake monotonic clock that ``sleep`` advances."""

    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def pacer(quota: Quota, clock: Clock, share: float = 1.0) -> Pacer:
    return Pacer(quota, share=share, clock=clock, sleep=clock.sleep)


def test_a_full_bucket_lets_most_of_a_minute_of_pu_through_at_once() -> None:
    clock = Clock()
    p = pacer(Quota(requests_per_minute=None, pu_per_minute=300), clock)
    for _ in range(4):
        assert p.wait(74.0) == 0.0  # 296 PU: a minute's worth less LAG_S of refill
    assert clock.slept == []
    assert p.wait(5.0) > 0


def test_a_long_job_streams_at_the_pu_rate() -> None:
    clock = Clock()
    p = pacer(Quota(requests_per_minute=None, pu_per_minute=300), clock)
    start = clock.now
    n, pu = 50, 30.0
    for _ in range(n):
        p.wait(pu)
    # the first 300 PU (less LAG_S of refill) pass at once, the rest at 5 PU a second
    expected = (n * pu - (300 - 5 * LAG_S)) / 5
    assert clock.now - start == pytest.approx(expected, abs=n * MARGIN_S + 1e-6)


def test_the_request_bucket_paces_cheap_requests() -> None:
    clock = Clock()
    p = pacer(Quota(requests_per_minute=60, pu_per_minute=300, burst=1 / 60), clock)
    start = clock.now
    for _ in range(11):
        p.wait(0.01)
    assert clock.now - start == pytest.approx(10, abs=11 * MARGIN_S + 1e-6)  # 1 a second


def test_a_request_above_the_capacity_waits_for_a_full_bucket() -> None:
    clock = Clock()
    p = pacer(Quota(requests_per_minute=None, pu_per_minute=600, burst=1 / 60), clock)  # 5 PU
    assert p.wait(50.0) == 0.0  # full: goes, the balance is -45
    waited = p.wait(5.0)
    assert waited == pytest.approx(5.0 + MARGIN_S)  # until the balance is back to 5 (10 PU/s)


def test_settle_gives_back_what_the_service_did_not_charge() -> None:
    clock = Clock()
    p = pacer(Quota(requests_per_minute=None, pu_per_minute=600, burst=1 / 60), clock)  # 5 PU
    p.wait(4.0)
    p.settle(4.0, 1.0)  # the header said 1: 3 back
    assert p.wait(3.5) == 0.0


def test_settle_charges_more_when_the_service_did() -> None:
    clock = Clock()
    p = pacer(Quota(requests_per_minute=None, pu_per_minute=600, burst=1 / 60), clock)  # 5 PU
    p.wait(2.0)
    p.settle(2.0, 4.0)  # 1 PU left
    assert p.wait(2.0) == pytest.approx(0.1 + MARGIN_S)


def test_a_429_empties_the_buckets_for_every_thread() -> None:
    clock = Clock()
    p = pacer(Quota(requests_per_minute=300, pu_per_minute=300), clock)
    p.throttled()
    assert p.wait(5.0) == pytest.approx(1.0 + MARGIN_S)  # 5 PU at 5 PU/s


def test_a_429_puts_the_buckets_retry_after_below_empty() -> None:
    clock = Clock()
    p = pacer(Quota(requests_per_minute=None, pu_per_minute=300), clock)
    p.throttled(2.0)  # the service needs 2 s more
    assert p.wait(5.0) == pytest.approx(3.0 + MARGIN_S)


def test_a_429_moves_the_requests_still_waiting() -> None:
    """A 429 while a request waits for its turn: that request is moved by retry-after, so
    it does not fire with the retried one."""
    clock = Clock()
    p = pacer(Quota(requests_per_minute=None, pu_per_minute=300), clock)
    p.wait(297.5)  # the bucket is empty now
    fired = []

    def sleep(seconds: float) -> None:
        if not fired:  # another thread's request is answered 429 while this one waits
            fired.append(clock.now)
            p.throttled(3.0)
        clock.sleep(seconds)

    p._sleep = sleep
    waited = p.wait(5.0)  # 1 s at 5 PU/s, and the 3 s pause
    assert waited == pytest.approx(4.0 + MARGIN_S)


def test_share_scales_the_quota() -> None:
    clock = Clock()
    p = pacer(Quota(requests_per_minute=None, pu_per_minute=300), clock, share=0.5)
    assert p.wait(150.0 - 2.5 * LAG_S) == 0.0
    assert p.wait(2.5) == pytest.approx(1.0 + MARGIN_S)  # 2.5 PU/s


def test_no_limits_never_wait() -> None:
    clock = Clock()
    p = pacer(Quota(requests_per_minute=None, pu_per_minute=None), clock)
    for _ in range(1000):
        assert p.wait(1e6) == 0.0


@given(st.lists(st.floats(0.005, 200.0), min_size=1, max_size=40))
def test_never_more_than_the_quota_in_any_minute(costs: list[float]) -> None:
    """Whatever the costs, the PU sent in any 60 s stay within one minute's worth + the
    refill of that minute (what the service's bucket allows), and none is refused."""
    clock = Clock()
    p = pacer(Quota(requests_per_minute=None, pu_per_minute=300), clock)
    sent: list[tuple[float, float]] = []
    for cost in costs:
        p.wait(cost)
        sent.append((clock.now, cost))
    for t0, _ in sent:
        window = sum(c for t, c in sent if t0 <= t < t0 + 60)
        assert window <= 600 + max(costs) + 1e-6


@pytest.mark.parametrize(
    "kwargs",
    [
        {"pu_per_minute": 0},
        {"pu_per_minute": -1},
        {"requests_per_minute": True},
        {"share": 0},
        {"share": 1.5},
        {"burst": 0},
        {"pu_per_minute": "300"},
    ],
)
def test_a_bad_quota_is_refused(kwargs: dict[str, object]) -> None:
    with pytest.raises(InputError, match="Quota"):
        Quota(**kwargs)  # type: ignore[arg-type]
