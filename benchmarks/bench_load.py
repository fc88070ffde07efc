"""End-to-end figures: load + to_geotiff of a full Sentinel-2 tile footprint against the emulator.

The emulator runs in its own process (``s2raster emulator``), so the peak memory measured is
the client's alone. Each measured run is a fresh subprocess (clean ``ru_maxrss``).

    python benchmarks/bench_load.py                 # 10980 x 10980 px, 4 bands, 10 m
    python benchmarks/bench_load.py --size 5000     # a smaller square
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _emulator import start_emulator

CHILD = r"""
import json, resource, sys, time
from pathlib import Path
import s2raster

from s2raster.cdse import cdse_config


args = json.loads(sys.argv[1])
config = cdse_config(args["client_id"], args["client_secret"], base_url=args["base_url"],
                     token_url=args["token_url"], loopback_http=True)
x0, y0, size = 399960.0, 5090220.0, args["size"]
bbox = (x0, y0, x0 + size * 10, y0 + size * 10)
t0 = time.perf_counter()
st = s2raster.LoadStats()
da = s2raster.load(bbox, "2024-06-01/2024-06-30", ["B02", "B03", "B04", "B08"],
                   bbox_crs="EPSG:32633", crs="EPSG:32633", resolution=10, config=config,
                   cache=args["cache"], concurrency=args["concurrency"], stats=st,
                   quota=s2raster.Quota(None, None))  # no rate limit on this emulator
out = s2raster.to_geotiff(da, Path(args["out"]), cog=True, stats=st)
wall = time.perf_counter() - t0
print(json.dumps({
    "shape": list(da.shape), "array_gb": da.nbytes / 1e9, "wall_s": wall,
    "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    "requests": st.requests, "cache_hits": st.cache_hits, "pu": st.processing_units_spent,
    "file_mb": out.stat().st_size / 1e6,
}))
"""


def run_child(settings: dict[str, object]) -> dict[str, float]:
    res = subprocess.run(
        [sys.executable, "-c", CHILD, json.dumps(settings)],
        capture_output=True,
        text=True,
        check=False,
    )
    if res.returncode:
        raise RuntimeError(res.stderr[-3000:])
    return json.loads(res.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", type=int, default=10980, help="square side in pixels")
    parser.add_argument("--concurrency", type=int, default=2)
    args = parser.parse_args()
    proc, env = start_emulator()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            settings: dict[str, object] = {
                "base_url": env["SH_BASE_URL"],
                "token_url": env["SH_TOKEN_URL"],
                "client_id": env["SH_CLIENT_ID"],
                "client_secret": env["SH_CLIENT_SECRET"],
                "size": args.size,
                "cache": str(Path(tmp) / "cache"),
                "concurrency": args.concurrency,
                "out": str(Path(tmp) / "out.tif"),
            }
            t0 = time.perf_counter()
            first = run_child(settings)
            first["process_wall_s"] = time.perf_counter() - t0
            t0 = time.perf_counter()
            second = run_child(settings)
            second["process_wall_s"] = time.perf_counter() - t0
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    print(f"cpu count {os.cpu_count()}")
    for name, r in (("first run (downloads)", first), ("cached rerun", second)):
        print(
            f"{name}: shape {r['shape']} ({r['array_gb']:.2f} GB float32), "
            f"requests {r['requests']}, cache hits {r['cache_hits']}, PU {r['pu']:.1f}, "
            f"wall {r['wall_s']:.1f} s (process {r['process_wall_s']:.1f} s), "
            f"peak RSS {r['peak_rss_mb']:.0f} MB "
            f"({r['peak_rss_mb'] / (r['array_gb'] * 1000):.1%} of the array), "
            f"COG {r['file_mb']:.0f} MB"
        )


if __name__ == "__main__":
    main()
