"""A season's cloud-free median, end to end against the emulator: load + mask + composite + export.

A 2500 x 2500 px area (one tile at 10 m) over three months, bands B04, B08 and SCL: the
catalog search, one Process request per date, ``mask_clouds``, a median ``composite`` and a
Cloud-Optimized GeoTIFF. The emulator runs in its own process (``s2raster emulator``), so the
peak memory is the client's alone; each run is a fresh subprocess (clean ``ru_maxrss``).
The anchor, measured in the same run (after a small warm-up request), is one date of the
same area loaded and exported as a single mosaic; the series is reported as a ratio of it.
The cached rerun reads every date from the tile cache the first run filled.

    python benchmarks/bench_timeseries.py                  # 2500 x 2500 px, Jun-Aug 2024
    python benchmarks/bench_timeseries.py --tile-px 1250   # 4 requests per date, less memory
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
from collections import Counter
from pathlib import Path

import dask
import requests.adapters

import s2raster
from s2raster.cdse import cdse_config


calls = Counter()  # HTTP calls by kind, counted where sentinelhub-py sends them
send = requests.adapters.HTTPAdapter.send

def counted(self, request, **kwargs):
    path = request.path_url
    calls["catalog" if "/catalog/" in path else "process" if "/process" in path else "other"] += 1
    return send(self, request, **kwargs)

requests.adapters.HTTPAdapter.send = counted

args = json.loads(sys.argv[1])
config = cdse_config(args["client_id"], args["client_secret"], base_url=args["base_url"],
                     token_url=args["token_url"], loopback_http=True)
x0, y0, size = 399960.0, 5090220.0, args["size"]
bbox = (x0, y0, x0 + size * 10, y0 + size * 10)
common = dict(bbox_crs="EPSG:32633", crs="EPSG:32633", resolution=10, config=config,
              cache=args["cache"], concurrency=args["concurrency"], tile_px=args["tile_px"])
st = s2raster.LoadStats()
t0 = time.perf_counter()
with dask.config.set(num_workers=args["concurrency"]):
    if args["series"]:
        da = s2raster.load(bbox, args["time"], ["B04", "B08", "SCL"], groupby="solar_day",
                           stats=st, **common)
        dates = da.sizes["time"]
        out = s2raster.composite(s2raster.mask_clouds(da), "median")
    else:
        out = da = s2raster.load(bbox, args["time"], ["B04", "B08", "SCL"], stats=st, **common)
        dates = 1
    path = s2raster.to_geotiff(out, Path(args["out"]), cog=True, stats=st)
wall = time.perf_counter() - t0
print(json.dumps({
    "dates": dates, "cube_gb": da.nbytes / 1e9, "wall_s": wall,
    "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    "catalog_calls": calls["catalog"], "process_calls": calls["process"],
    "requests": st.requests, "cache_hits": st.cache_hits, "pu": st.processing_units_spent,
    "file_mb": path.stat().st_size / 1e6,
}))
"""


def run_child(settings: dict[str, object]) -> dict[str, float]:
    t0 = time.perf_counter()
    res = subprocess.run(
        [sys.executable, "-c", CHILD, json.dumps(settings)],
        capture_output=True,
        text=True,
        check=False,
    )
    if res.returncode:
        raise RuntimeError(res.stderr[-3000:])
    out: dict[str, float] = json.loads(res.stdout.strip().splitlines()[-1])
    out["process_wall_s"] = time.perf_counter() - t0
    return out


def report(name: str, r: dict[str, float], anchor: dict[str, float]) -> str:
    return (
        f"{name}: {r['dates']:.0f} date(s), catalog calls {r['catalog_calls']:.0f}, "
        f"process requests {r['process_calls']:.0f} (cache hits {r['cache_hits']:.0f}), "
        f"PU {r['pu']:.2f}, wall {r['wall_s']:.1f} s "
        f"({r['wall_s'] / anchor['wall_s']:.1f} x the one-date anchor; process "
        f"{r['process_wall_s']:.1f} s), peak RSS {r['peak_rss_mb']:.0f} MB "
        f"({r['peak_rss_mb'] / anchor['peak_rss_mb']:.1f} x the anchor; the cube is "
        f"{r['cube_gb']:.2f} GB float32), COG {r['file_mb']:.0f} MB"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", type=int, default=2500, help="square side in pixels")
    parser.add_argument("--time", default="2024-06-01/2024-08-31", help="the season")
    parser.add_argument("--tile-px", type=int, default=2500, help="tile side (px)")
    parser.add_argument("--concurrency", type=int, default=4)
    args = parser.parse_args()
    proc, env = start_emulator()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            base: dict[str, object] = {
                "base_url": env["SH_BASE_URL"],
                "token_url": env["SH_TOKEN_URL"],
                "client_id": env["SH_CLIENT_ID"],
                "client_secret": env["SH_CLIENT_SECRET"],
                "size": args.size,
                "tile_px": args.tile_px,
                "concurrency": args.concurrency,
                "time": args.time,
            }
            one_day = args.time.split("/")[0]
            run_child(  # warm the emulator up (its first request pays for its start-up)
                {**base, "series": False, "time": one_day, "cache": False, "size": 64,
                 "tile_px": 64, "out": str(Path(tmp) / "warm.tif")}
            )  # fmt: skip
            anchor = run_child(
                {**base, "series": False, "time": one_day, "cache": False,
                 "out": str(Path(tmp) / "anchor.tif")}
            )  # fmt: skip
            series = {**base, "series": True, "cache": str(Path(tmp) / "cache")}
            first = run_child({**series, "out": str(Path(tmp) / "median.tif")})
            cached = run_child({**series, "out": str(Path(tmp) / "median2.tif")})
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    print(f"cpu count {os.cpu_count()}; {args.size} x {args.size} px, tiles of {args.tile_px} px")
    print(
        f"anchor (one date, single mosaic, B04,B08,SCL, export): wall {anchor['wall_s']:.1f} s, "
        f"peak RSS {anchor['peak_rss_mb']:.0f} MB, process requests "
        f"{anchor['process_calls']:.0f}, PU {anchor['pu']:.2f}"
    )
    print(report("series, first run (load + mask + median + export)", first, anchor))
    print(report("series, cached rerun", cached, anchor))


if __name__ == "__main__":
    main()
