"""How a job compares with the free CDSE quota, and the per-minute :class:`Quota` a client
paces itself to (the PU formula itself is in ``contract``)."""

from __future__ import annotations

from dataclasses import dataclass

from s2raster.contract import FREE_QUOTA
from s2raster.errors import InputError


@dataclass(frozen=True)
class QuotaShare:
    """How a job compares with the free CDSE quota (fractions, 1.0 = the whole quota)."""

    requests: int
    pu: float

    @property
    def minute_requests(self) -> float:
        return self.requests / FREE_QUOTA["requests_per_minute"]

    @property
    def minute_pu(self) -> float:
        return self.pu / FREE_QUOTA["pu_per_minute"]

    @property
    def month_requests(self) -> float:
        return self.requests / FREE_QUOTA["requests_per_month"]

    @property
    def month_pu(self) -> float:
        return self.pu / FREE_QUOTA["pu_per_month"]


@dataclass(frozen=True)
class Quota:
    """An account's per-minute limits, which the client paces its requests to.

    ``requests_per_minute`` and ``pu_per_minute`` default to the free CDSE tier
    (:data:`~s2raster.contract.FREE_QUOTA`); None switches that limit's pacing off.
    ``share`` is the fraction of the limits this client may use (e.g. 0.5 when another
    program spends the other half). ``burst`` is how much of a minute's worth may be spent
    at once (the service's buckets hold one minute: 1.0; a smaller one spreads a job's
    start, and mirrors an emulator started with ``RateLimit(burst=...)``).
    """

    requests_per_minute: float | None = FREE_QUOTA["requests_per_minute"]
    pu_per_minute: float | None = FREE_QUOTA["pu_per_minute"]
    share: float = 1.0
    burst: float = 1.0

    def __post_init__(self) -> None:
        for name in ("requests_per_minute", "pu_per_minute"):
            value = getattr(self, name)
            if value is not None and (
                isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0
            ):
                raise InputError(f"Quota.{name} must be a positive number or None, got {value!r}")
        for name in ("share", "burst"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value <= 1:
                raise InputError(f"Quota.{name} must be a number in (0, 1], got {value!r}")
