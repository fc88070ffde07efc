"""Quota pacing against the emulator's rate limit (real HTTP): no 429 while paced, and a 429
caused by someone else is still retried after its ``retry-after``.

Budgets are scaled down (a bucket of one second's worth) so the tests wait seconds, not
minutes; nothing here asserts a duration.
"""

from __future__ import annotations

import numpy as np
import pytest
import requests

from s2raster._load import LoadStats, load
from s2raster.cost import Quota
from s2raster.emulator import Emulator, RateLimit
from s2raster.evalscript import payload
from s2raster.plan import make_plan

BBOX = (13.80, 45.85, 13.82, 45.853)  # ~156 x 34 px at 10 m: 5 x 2 tiles of 32 px
TIME = "2024-06-01/2024-06-30"
PU_PER_MINUTE = 1.2  # 0.02 PU a second: a tile of 0.0067 PU every third of a second
BURST = 1 / 60


def _plan_pu() -> tuple[int, float]:
    plan = make_plan(BBOX, TIME, ["B04"], tile_px=32)
    return len(plan.requests), plan.estimated_pu


@pytest.mark.filterwarnings("ignore::sentinelhub.exceptions.SHRateLimitWarning")
def test_a_paced_job_gets_no_429() -> None:
    n, pu = _plan_pu()
    assert n >= 6
    assert pu > PU_PER_MINUTE * BURST  # more than the bucket holds: pacing must wait
    limit = RateLimit(pu_per_minute=PU_PER_MINUTE, burst=BURST)
    quota = Quota(requests_per_minute=None, pu_per_minute=PU_PER_MINUTE, burst=BURST)
    with Emulator(rate_limit=limit) as emu:
        st = LoadStats()
        da = load(
            BBOX, TIME, ["B04"], config=emu.config(), tile_px=32, quota=quota,
            cache=False, ledger=False, stats=st, concurrency=4,
        )  # fmt: skip
        values = da.compute()
        answered = [r.status for r in emu.log if r.path.endswith("/process")]
    assert st.throttled == 0
    assert answered == [200] * n
    assert st.processing_units_spent == pytest.approx(pu, rel=1e-4)
    assert np.isfinite(values.values).any()


@pytest.mark.filterwarnings("ignore::sentinelhub.exceptions.SHRateLimitWarning")
def test_a_429_from_another_spender_is_retried_after_retry_after() -> None:
    limit = RateLimit(pu_per_minute=PU_PER_MINUTE, burst=BURST)
    quota = Quota(requests_per_minute=None, pu_per_minute=PU_PER_MINUTE, burst=BURST)
    plan = make_plan(BBOX, TIME, ["B04"], tile_px=32)
    with Emulator(rate_limit=limit) as emu:
        config = emu.config()
        config.download_sleep_time = 0.01
        token = requests.post(
            emu.token_url,
            data={
                "grant_type": "client_credentials",
                "client_id": emu.client_id,
                "client_secret": emu.client_secret,
            },
            timeout=10,
        ).json()["access_token"]
        # another program spends more than the account's bucket just before the job starts
        bigger = make_plan(BBOX, TIME, ["B02", "B03", "B04"]).requests[0]
        assert bigger.estimated_pu > PU_PER_MINUTE * BURST
        other = requests.post(
            emu.base_url + "/api/v1/process",
            json=payload(bigger),
            headers={"Authorization": f"Bearer {token}"},
            timeout=30,
        )
        assert other.status_code == 200
        st = LoadStats()
        load(
            BBOX, TIME, ["B04"], config=config, tile_px=32, quota=quota, cache=False,
            ledger=False, stats=st,
        ).compute()  # fmt: skip
        statuses = [r.status for r in emu.log if r.path.endswith("/process")]
    assert st.requests == len(plan.requests)
    assert st.throttled >= 1
    assert statuses.count(429) == st.throttled
    assert statuses.count(200) == len(plan.requests) + 1
