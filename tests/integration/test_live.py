"""Live tests against the real CDSE (marker ``live``; run with ``pytest -m live``).

They are skipped unless SH_CLIENT_ID and SH_CLIENT_SECRET are set, and cost well under
1 PU in total (a few tiny requests).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from s2raster._load import LoadStats, load
from s2raster.cdse import CDSE_BASE_URL, cdse_config, cdse_fetch
from s2raster.errors import CredentialsError
from s2raster.grid import Grid
from s2raster.plan import make_plan

pytestmark = [
    pytest.mark.live,
    pytest.mark.skipif(
        not (os.environ.get("SH_CLIENT_ID") and os.environ.get("SH_CLIENT_SECRET")),
        reason="live CDSE tests need SH_CLIENT_ID and SH_CLIENT_SECRET",
    ),
]

BBOX = (14.50, 46.05, 14.503, 46.052)  # Ljubljana, about 24 x 23 px at 10 m
TIME = "2024-07-01/2024-07-31"


def test_small_real_request(tmp_path: Path) -> None:
    s = LoadStats()
    da = load(BBOX, TIME, ["B04", "B08", "SCL"], max_cloud=30, cache=tmp_path, max_pu=1, stats=s)
    grid = Grid.from_bbox(BBOX)
    assert da.shape == (3, *grid.shape)
    assert da.attrs["synthetic"] == 0
    assert CDSE_BASE_URL in da.attrs["source"]
    values = da.values
    assert np.isfinite(values).all()  # a July month over Ljubljana has data everywhere
    assert 0 <= np.nanmedian(values[0]) < 0.5
    assert set(np.unique(values[2])) <= set(range(12))
    assert s.requests == 1
    assert 0 < s.processing_units_spent < 1
    s2 = LoadStats()
    again = load(BBOX, TIME, ["B04", "B08", "SCL"], max_cloud=30, cache=tmp_path, stats=s2)
    np.testing.assert_array_equal(again.values, values)
    assert s2.cache_hits == 1


def test_real_request_in_wgs84() -> None:
    da = load(BBOX, TIME, ["B02"], crs="EPSG:4326", cache=False, max_pu=1)
    assert da.rio.crs.to_epsg() == 4326
    assert np.isfinite(da.values).any()


def test_wrong_secret_is_refused_by_cdse() -> None:
    config = cdse_config(os.environ["SH_CLIENT_ID"], "definitely-not-the-secret")
    request = make_plan(BBOX, TIME, ["B04"]).requests[0]
    with pytest.raises(CredentialsError, match=r"identity\.dataspace\.copernicus\.eu"):
        cdse_fetch(config)(request)
