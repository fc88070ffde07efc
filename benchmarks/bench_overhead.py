"""What s2raster costs over hand-written sentinelhub-py for the same Process API requests.

Both sides fetch the same tiles (same evalscript, bbox, size, FLOAT32 TIFF) from one emulator
process with the same number of threads; s2raster also checks and adds the georeferencing and
builds the DataArray. Runs alternate to share any drift of the machine.

    python benchmarks/bench_overhead.py --size 5000 --repeat 3
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np
from sentinelhub import CRS, BBox, DataCollection, MimeType, SentinelHubRequest, SHConfig

sys.path.insert(0, str(Path(__file__).parent))

from _emulator import start_emulator

import s2raster
from s2raster.cdse import cdse_config
from s2raster.evalscript import evalscript
from s2raster.plan import make_plan

BANDS = ("B02", "B03", "B04", "B08")
TIME = "2024-06-01/2024-06-30"


def by_hand(config: SHConfig, bbox: tuple[float, float, float, float], threads: int) -> float:
    """The sentinelhub-py way: one SentinelHubRequest per tile, decoded to numpy."""
    plan = make_plan(bbox, TIME, BANDS, bbox_crs="EPSG:32633", crs="EPSG:32633")
    collection = DataCollection.SENTINEL2_L2A.define_from(
        "bench-l2a", service_url=config.sh_base_url
    )
    script = evalscript(BANDS)
    requests = [
        SentinelHubRequest(
            evalscript=script,
            input_data=[
                SentinelHubRequest.input_data(
                    data_collection=collection,
                    time_interval=("2024-06-01T00:00:00Z", "2024-06-30T23:59:59Z"),
                    mosaicking_order="mostRecent",
                )
            ],
            responses=[SentinelHubRequest.output_response("default", MimeType.TIFF)],
            bbox=BBox(tile.grid.bounds, crs=CRS(32633)),
            size=(tile.grid.width, tile.grid.height),
            config=config,
        )
        for tile in plan.tiles
    ]
    from sentinelhub import SentinelHubDownloadClient

    client = SentinelHubDownloadClient(config=config)
    download_list = [r.download_list[0] for r in requests]
    t0 = time.perf_counter()
    arrays = client.download(download_list, max_threads=threads)
    total = sum(np.asarray(a).size for a in arrays)
    elapsed = time.perf_counter() - t0
    assert total > 0
    return elapsed


def with_s2raster(config: SHConfig, bbox: tuple[float, float, float, float], threads: int) -> float:
    t0 = time.perf_counter()
    da = s2raster.load(
        bbox,
        TIME,
        BANDS,
        bbox_crs="EPSG:32633",
        crs="EPSG:32633",
        config=config,
        cache=False,
        concurrency=threads,
    )
    da.compute(scheduler="threads", num_workers=threads)
    return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", type=int, default=5000, help="square side in pixels")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    proc, env = start_emulator()
    try:
        config = cdse_config(
            env["SH_CLIENT_ID"],
            env["SH_CLIENT_SECRET"],
            base_url=env["SH_BASE_URL"],
            token_url=env["SH_TOKEN_URL"],
            loopback_http=True,
        )
        x0, y0 = 399960.0, 5090220.0
        bbox = (x0, y0, x0 + args.size * 10, y0 + args.size * 10)
        with_s2raster(config, bbox, args.threads)  # warm-up: token, V8, caches
        hand, ours = [], []
        for _ in range(args.repeat):
            hand.append(by_hand(config, bbox, args.threads))
            ours.append(with_s2raster(config, bbox, args.threads))
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    h, o = statistics.median(hand), statistics.median(ours)
    print(f"{args.size} x {args.size} px, {len(BANDS)} bands, {args.threads} threads")
    print(f"sentinelhub-py by hand: median {h:.2f} s  {sorted(round(x, 2) for x in hand)}")
    print(f"s2raster.load:          median {o:.2f} s  {sorted(round(x, 2) for x in ours)}")
    print(f"overhead: {(o / h - 1):+.1%}")


if __name__ == "__main__":
    main()
