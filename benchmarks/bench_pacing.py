"""Quota pacing against the emulator's rate limit: PU/min sustained, 429s, wall time.

The emulator runs in another process with its rate limit on (``RateLimit``: a PU bucket of
one minute's worth, refilled continuously, as CDSE's). The budget is scaled down from the
free tier's 300 PU/min to ``--pu-per-minute`` (default 30) so that a job of about 20 tiles
spends about three minutes' worth in a few minutes; the pacer and the bucket work the same
at any scale. The job runs twice, each against a fresh emulator: paced to the budget
(``load(quota=Quota(pu_per_minute=B))``) and unpaced (``Quota(None, None)``: only
sentinelhub-py's 429 retries).

    python benchmarks/bench_pacing.py [--pu-per-minute 30] [--tiles 20] [--no-unpaced]

Figures: PU spent, wall time, PU/min over the whole job and over what the refill allowed
(the job's PU less the bucket's initial minute, against the wall time), the number of 429
answers, and the wall time against total PU / budget.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from _emulator import start_emulator

SERVER = r"""
import sys
from s2raster.emulator import RateLimit, run_cli_server
ppm = float(sys.argv[1])
run_cli_server(0, rate_limit=RateLimit(requests_per_minute=300, pu_per_minute=ppm),
               max_evaluations=4)
"""
BANDS = ["B02", "B03", "B04", "B08"]


def tile_px(pu_per_tile: float) -> int:
    """The side of a square 4-band FLOAT32 tile that costs ``pu_per_tile``."""
    return int(math.sqrt(pu_per_tile * 3 / (len(BANDS) * 2)) * 512)


def run(pu_per_minute: float, tiles: int, *, paced: bool) -> dict[str, float]:
    import s2raster
    from s2raster.cdse import cdse_config
    from s2raster.cost import Quota

    proc, env = start_emulator([sys.executable, "-c", SERVER, str(pu_per_minute)])
    try:
        config = cdse_config(
            env["SH_CLIENT_ID"], env["SH_CLIENT_SECRET"], base_url=env["SH_BASE_URL"],
            token_url=env["SH_TOKEN_URL"], loopback_http=True,
        )  # fmt: skip
        side = tile_px(3 * pu_per_minute / tiles)  # the job: about 3 minutes' worth
        cols = 5
        rows = math.ceil(tiles / cols)
        x0, y0 = 399960.0, 5090220.0
        bbox = (x0, y0, x0 + cols * side * 10, y0 + rows * side * 10)
        quota = Quota(pu_per_minute=pu_per_minute) if paced else Quota(None, None)
        stats = s2raster.LoadStats()
        t0 = time.perf_counter()
        da = s2raster.load(
            bbox, "2024-06-01/2024-06-30", BANDS, bbox_crs="EPSG:32633", crs="EPSG:32633",
            config=config, cache=False, ledger=False, tile_px=side, quota=quota,
            concurrency=4, stats=stats,
        )  # fmt: skip
        da.compute(num_workers=4)
        wall = time.perf_counter() - t0
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    pu = stats.processing_units_spent
    return {
        "requests": stats.requests,
        "tile_px": side,
        "pu": pu,
        "wall_s": wall,
        "throttled": stats.throttled,
        "pu_per_min": pu / wall * 60,
        "refill_pu_per_min": (pu - pu_per_minute) / wall * 60,
        "wall_vs_pu_over_budget": wall / (pu / pu_per_minute * 60),
    }


def report(name: str, r: dict[str, float], budget: float) -> None:
    print(
        f"{name}: {r['requests']:.0f} requests of {r['tile_px']:.0f} x {r['tile_px']:.0f} px x "
        f"{len(BANDS)} bands, {r['pu']:.1f} PU in {r['wall_s']:.1f} s; "
        f"{r['pu_per_min']:.1f} PU/min over the job ({r['pu_per_min'] / budget:.0%} of the "
        f"budget), {r['refill_pu_per_min']:.1f} PU/min beyond the initial bucket "
        f"({r['refill_pu_per_min'] / budget:.0%}); 429 answers: {r['throttled']:.0f}; "
        f"wall / (PU / budget) = {r['wall_vs_pu_over_budget']:.2f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pu-per-minute", type=float, default=30.0)
    parser.add_argument("--tiles", type=int, default=20)
    parser.add_argument("--no-unpaced", action="store_true", help="skip the unpaced run")
    args = parser.parse_args()
    budget = args.pu_per_minute
    print(f"emulator RateLimit(pu_per_minute={budget:g}, requests_per_minute=300), bucket = 1 min")
    results = {"paced": run(budget, args.tiles, paced=True)}
    report("paced  ", results["paced"], budget)
    if not args.no_unpaced:
        try:
            results["unpaced"] = run(budget, args.tiles, paced=False)
            report("unpaced", results["unpaced"], budget)
        except Exception as exc:  # e.g. sentinelhub-py gives up after max_retries 429s
            print(f"unpaced: failed: {type(exc).__name__}: {str(exc)[:300]}")
    print(json.dumps(results))


if __name__ == "__main__":
    main()
