"""Live Statistical API tests against the real CDSE (marker ``live``; ``pytest -m live``).

Skipped unless SH_CLIENT_ID and SH_CLIENT_SECRET are set. Two small fields (about 1 and 4
ha) over one month of 10-day intervals: a few requests, well under 1 PU together. They check
the answer's shape against the client's reading of it and the documented tolerance of local
against service (docs: README "Local against service"): counts within the pixels the field
boundary crosses, means within 0.05 NDVI on intervals where both have data.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from shapely.geometry import box

import s2raster

pytestmark = [
    pytest.mark.live,
    pytest.mark.skipif(
        not (os.environ.get("SH_CLIENT_ID") and os.environ.get("SH_CLIENT_SECRET")),
        reason="live CDSE tests need SH_CLIENT_ID and SH_CLIENT_SECRET",
    ),
]

FIELDS = [box(14.5000, 46.0500, 14.5013, 46.0509), box(14.5100, 46.0500, 14.5126, 46.0518)]
TIME = "2024-07-01/2024-07-31"


def test_statistics_on_cdse_agree_with_pixels(tmp_path: Path) -> None:
    usage = s2raster.LoadStats()
    service = s2raster.statistics(
        FIELDS, TIME, "NDVI", interval="P10D", cache=tmp_path, max_pu=1, usage=usage
    )
    assert service.attrs["synthetic"] == 0
    assert 0 < usage.processing_units_spent < 1
    assert (service["count"] > 0).any()
    local = s2raster.local_statistics(
        FIELDS, TIME, "NDVI", interval="P10D", cache=tmp_path, max_pu=2
    )
    both = (service["count"] > 0) & (local["count"] > 0)
    requests = s2raster.plan_statistics(FIELDS, TIME, "NDVI", interval="P10D")
    edge = {
        r.zone: 2 * (r.grid.width + r.grid.height) for r in requests
    }  # pixels a boundary crosses, at most
    for k in np.flatnonzero(both.to_numpy()):
        zone = service["zone"].iloc[k]
        assert abs(int(service["count"].iloc[k]) - int(local["count"].iloc[k])) <= edge[zone]
        assert abs(service["mean"].iloc[k] - local["mean"].iloc[k]) < 0.05
