"""Processing units (PU): what a Process API request costs, and the free CDSE quota.

The formula is the documented one (DESIGN.md §3), shared by the client's estimates and
the emulator's ``x-processingunits-spent`` header, so the two can never disagree.
"""

from __future__ import annotations

from dataclasses import dataclass

#: Free CDSE account: requests and PU per minute and per month.
FREE_QUOTA = {
    "requests_per_minute": 300,
    "pu_per_minute": 300.0,
    "requests_per_month": 10_000,
    "pu_per_month": 10_000.0,
}

MIN_PU = 0.005


def processing_units(
    width: int,
    height: int,
    n_bands: int,
    *,
    float32: bool = True,
    n_samples: int = 1,
) -> float:
    """PU of one request of ``width`` x ``height`` px and ``n_bands`` input bands.

    ``dataMask`` does not count as a band. ``n_samples`` is the number of acquisitions an
    ORBIT/TILE evalscript reads (1 for SIMPLE mosaicking).
    """
    area = max(0.01, width * height / 512**2)
    pu = area * max(n_bands, 0) / 3 * (2 if float32 else 1) * max(n_samples, 1)
    return max(MIN_PU, pu)


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
