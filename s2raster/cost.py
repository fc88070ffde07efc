"""How a job compares with the free CDSE quota (the PU formula itself is in ``contract``)."""

from __future__ import annotations

from dataclasses import dataclass

from s2raster.contract import FREE_QUOTA


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
