"""Scale: a full Sentinel-2 tile footprint (10980 x 10980 px x 4 bands at 10 m) to a COG.

The emulator runs in another process (``s2raster emulator``); each measured run is a fresh
process (clean ``ru_maxrss``): ``load`` + ``to_geotiff`` into a new tile cache, then the same
again from that cache. Once on the threaded scheduler and once on a ``distributed``
LocalCluster of 2 worker processes (the credentials in their environment), each with FLOAT32
and with UINT16 responses. Figures:

- wall time against the emulator's own render time (its CPU seconds during the run, read
  from /proc) divided by the concurrency;
- peak RSS of the process that writes the file (and of the workers) against the array's
  size (goal <= 0.25);
- the cached rerun's wall time against the first run's (goal <= 0.2);
- the PU of the tiled job against one ideal request of the same pixels (goal <= 1.02);
- with ``--downloads-anchor``, the same downloads alone (threads): what writing the COG adds;
  and the floor of a cached rerun: the cached tiles read and their full-resolution pixels
  DEFLATE-compressed once (no overviews, no layout), on the same threads.

Pacing is off by default (``Quota(None, None)``): this emulator has no rate limit, and
its renders share this machine's cores with the client's decoding and compression, the
worst case for overlapping them. ``--free-tier`` instead runs what a free CDSE account
gets: the emulator with the free tier's rate limit (300 requests and 300 PU a minute,
``RateLimit``) and the client's default pacing to it, so the first run takes at least
(PU - 300) / 300 minutes (the client may spend the first minute's bucket at once) and the
COG has that long to be written beside the downloads. Each run that downloads then starts
a minute after the one before, with the emulator's buckets full again (``bench_pacing.py``
measures the pacing itself).

    python benchmarks/bench_scale.py [--size 10980] [--concurrency 2]
        [--schedulers threads,cluster] [--sample-types FLOAT32,UINT16] [--downloads-anchor]
        [--tile-px N] [--free-tier]
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

sys.path.insert(0, str(Path(__file__).parent))

from _emulator import start_emulator

#: An emulator with the free CDSE tier's rate limit (``--free-tier``).
FREE_TIER_SERVER = r"""
from s2raster.contract import FREE_QUOTA
from s2raster.emulator import RateLimit, run_cli_server
run_cli_server(0, rate_limit=RateLimit(requests_per_minute=FREE_QUOTA["requests_per_minute"],
                                       pu_per_minute=FREE_QUOTA["pu_per_minute"]))
"""

CHILD = r"""
import json, os, resource, sys, time
from pathlib import Path

args = json.loads(sys.argv[1])
client = None
if args["scheduler"] == "cluster":
    from distributed import Client, LocalCluster
    cluster = LocalCluster(n_workers=2, processes=True, threads_per_worker=1,
                           dashboard_address=None, local_directory=args["tmp"])
    client = Client(cluster)
import s2raster
from s2raster.cdse import cdse_config

config = cdse_config(base_url=args["base_url"], token_url=args["token_url"], loopback_http=True)
x0, y0, size = 399960.0, 5090220.0, args["size"]
bbox = (x0, y0, x0 + size * 10, y0 + size * 10)
st = s2raster.LoadStats()
# what the interpreter and the libraries hold before any pixel (pandas loads pyarrow when
# it is installed, as in the dev environment: about 33 MB more than a user install)
imports_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
t0 = time.perf_counter()
da = s2raster.load(bbox, "2024-06-01/2024-06-30", ["B02", "B03", "B04", "B08"],
                   bbox_crs="EPSG:32633", crs="EPSG:32633", resolution=10, config=config,
                   cache=args["cache"], concurrency=args["concurrency"], stats=st,
                   sample_type=args["sample_type"], ledger=False,
                   # paced: the free tier's defaults (300 PU and 300 requests a minute),
                   # against an emulator with that rate limit; else no pacing (no limit)
                   **({} if args.get("paced") else {"quota": s2raster.Quota(None, None)}),
                   **({"tile_px": args["tile_px"]} if args.get("tile_px") else {}))
tasks = len(dict(da.data.__dask_graph__()))
if args.get("downloads_only") or args.get("floor"):
    # the anchors: every tile fetched (or read from the cache) and decoded, then dropped;
    # with "floor", each band's 512 x 512 tiles also DEFLATE-compressed once (level 1, as
    # the COG's), in the same threads: what a COG of the cached tiles cannot go below
    import dask.array as dsa
    import deflate
    import numpy as np

    class Drop:
        def __setitem__(self, key, value):
            if not args.get("floor"):
                return
            for band in value:
                for r in range(0, band.shape[0], 512):
                    for c in range(0, band.shape[1], 512):
                        deflate.zlib_compress(np.ascontiguousarray(band[r:r + 512, c:c + 512]), 1)

    dsa.store(da.data, Drop(), lock=False)
    out = Path(os.devnull)
else:
    out = s2raster.to_geotiff(da, Path(args["out"]), cog=True, stats=st)
wall = time.perf_counter() - t0
workers_mb = 0.0
if client is not None:
    def peak():
        import resource
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    workers_mb = max(client.run(peak).values())
    client.close()
    cluster.close()
print(json.dumps({
    "shape": list(da.shape), "array_mb": da.nbytes / 2**20, "wall_s": wall, "tasks": tasks,
    "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    # with a cluster, its worker processes too (reaped by cluster.close() above)
    "cpu_s": sum(resource.getrusage(resource.RUSAGE_SELF)[:2])
    + sum(resource.getrusage(resource.RUSAGE_CHILDREN)[:2]),
    "imports_rss_mb": imports_mb, "pyarrow": "pyarrow" in sys.modules,
    "workers_peak_rss_mb": workers_mb,
    "requests": st.requests, "cache_hits": st.cache_hits, "pu": st.processing_units_spent,
    "throttled": st.throttled,
    "file_mb": out.stat().st_size / 2**20,
}))
"""


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of process ``pid`` so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run_child(settings: dict[str, object], env: dict[str, str]) -> dict[str, float]:
    res = subprocess.run(
        [sys.executable, "-c", CHILD, json.dumps(settings)],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, **env},
    )
    if res.returncode:
        raise RuntimeError(res.stderr[-3000:])
    return json.loads(res.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def ideal_pu(size: int, sample_type: str) -> float:
    from s2raster.contract import processing_units

    return processing_units(size, size, 4, float32=sample_type == "FLOAT32")


def measure(
    proc: subprocess.Popen[str], env: dict[str, str], settings: dict[str, object]
) -> dict[str, float]:
    before = cpu_seconds(proc.pid)
    t0 = time.perf_counter()
    result = run_child(settings, env)
    result["process_wall_s"] = time.perf_counter() - t0
    result["emulator_cpu_s"] = cpu_seconds(proc.pid) - before
    return result


def refill(args: argparse.Namespace) -> None:
    """With ``--free-tier``, wait until the emulator's buckets are full again (a minute
    refills them from empty), so every run that downloads starts as the first one did."""
    if args.free_tier:
        time.sleep(60)


def busy(run: dict[str, float]) -> float:
    """The share of the machine's cores the run's process (start to end, with a cluster's
    workers) and the emulator kept busy: below 1, the pipeline left the cores idle at times."""
    cpu = run["cpu_s"] + run["emulator_cpu_s"]
    return cpu / (run["process_wall_s"] * (os.cpu_count() or 1))


def report(name: str, first: dict[str, float], again: dict[str, float], args: argparse.Namespace,
           sample_type: str) -> None:  # fmt: skip
    render = first["emulator_cpu_s"] / args.concurrency
    ideal = ideal_pu(args.size, sample_type)
    workers = (
        f", workers' peak {first['workers_peak_rss_mb']:.0f} MB"
        if first["workers_peak_rss_mb"]
        else ""
    )
    print(
        f"{name}: {first['tasks']:.0f} tasks, {first['requests']:.0f} requests, "
        f"{first['pu']:.1f} PU (one ideal request: {ideal:.1f}; ratio "
        f"{first['pu'] / ideal:.3f}), first run {first['wall_s']:.1f} s against the "
        f"emulator's {first['emulator_cpu_s']:.1f} CPU s / {args.concurrency} = {render:.1f} s "
        f"(ratio {first['wall_s'] / render:.2f}; the run (its workers too) and the emulator kept "
        f"{busy(first):.0%} of {os.cpu_count()} cores busy), "
        f"peak RSS {first['peak_rss_mb']:.0f} MB = "
        f"{first['peak_rss_mb'] / first['array_mb']:.2f} of the {first['array_mb']:.0f} MB "
        f"array{workers} (after the imports, before any pixel: "
        f"{first['imports_rss_mb']:.0f} MB{', pyarrow loaded' if first['pyarrow'] else ''}); "
        f"cached rerun {again['wall_s']:.1f} s ({again['cache_hits']:.0f} hits, "
        f"{again['requests']:.0f} requests) = {again['wall_s'] / first['wall_s']:.2f} of the "
        f"first ({busy(again):.0%} busy), "
        f"peak RSS {again['peak_rss_mb'] / again['array_mb']:.2f}; COG "
        f"{first['file_mb']:.0f} MB"
    )
    if args.free_tier:
        from s2raster.contract import FREE_QUOTA

        ppm = float(FREE_QUOTA["pu_per_minute"])
        bound = max(first["pu"] - ppm, 0.0) / ppm * 60.0
        print(
            f"  paced to the free tier: {first['throttled']:.0f} HTTP 429s; the pacing alone "
            f"needs max(0, {first['pu']:.1f} - {ppm:g}) / {ppm:g} PU a minute = {bound:.1f} s; "
            f"the first run took {first['wall_s'] - bound:.1f} s more"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=10980)
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument(
        "--tile-px", type=int, default=None, help="load tiles of this many px (default: 2500)"
    )
    parser.add_argument("--schedulers", default="threads,cluster")
    parser.add_argument("--sample-types", default="FLOAT32,UINT16")
    parser.add_argument(
        "--downloads-anchor",
        action="store_true",
        help="also time the threaded downloads alone (into a new cache, no file written)",
    )
    parser.add_argument(
        "--free-tier",
        action="store_true",
        help="the emulator with the free tier's rate limit, the client paced to it",
    )
    args = parser.parse_args()
    proc, emu = start_emulator([sys.executable, "-c", FREE_TIER_SERVER] if args.free_tier else None)
    env = {"SH_CLIENT_ID": emu["SH_CLIENT_ID"], "SH_CLIENT_SECRET": emu["SH_CLIENT_SECRET"]}
    results = {}
    print(f"cpu count {os.cpu_count()}; {args.size} x {args.size} px x 4 bands at 10 m; "
          + ("free tier: 300 PU and 300 requests a minute, paced" if args.free_tier
             else "no rate limit, pacing off"))  # fmt: skip
    try:
        for scheduler in args.schedulers.split(","):
            for sample_type in args.sample_types.split(","):
                with tempfile.TemporaryDirectory() as tmp:
                    settings: dict[str, object] = {
                        "base_url": emu["SH_BASE_URL"],
                        "token_url": emu["SH_TOKEN_URL"],
                        "size": args.size,
                        "cache": str(Path(tmp) / "cache"),
                        "concurrency": args.concurrency,
                        "out": str(Path(tmp) / "out.tif"),
                        "tmp": tmp,
                        "scheduler": scheduler,
                        "sample_type": sample_type,
                        "tile_px": args.tile_px,
                        "paced": args.free_tier,
                    }
                    if results:  # a run before this one drained the buckets
                        refill(args)
                    first = measure(proc, env, settings)
                    again = measure(proc, env, settings)
                    alone = floor = None
                    if args.downloads_anchor and scheduler == "threads":
                        fresh = {**settings, "cache": str(Path(tmp) / "cache2")}
                        refill(args)
                        alone = measure(proc, env, {**fresh, "downloads_only": True})
                        floor = measure(proc, env, {**settings, "floor": True})
                name = f"{scheduler}, {sample_type}"
                report(name, first, again, args, sample_type)
                if alone is not None and floor is not None:
                    throttled = f", {alone['throttled']:.0f} HTTP 429s" if args.free_tier else ""
                    print(
                        f"  anchor, the same downloads alone (no file written): "
                        f"{alone['wall_s']:.1f} s ({busy(alone):.0%} busy{throttled}), "
                        f"peak RSS {alone['peak_rss_mb']:.0f} MB; "
                        f"writing the COG adds {first['wall_s'] / alone['wall_s'] - 1:+.0%}"
                    )
                    print(
                        f"  floor of a cached rerun (cached tiles read, full resolution "
                        f"compressed once): {floor['wall_s']:.1f} s ({busy(floor):.0%} busy) = "
                        f"{floor['wall_s'] / first['wall_s']:.2f} of the first run"
                    )
                sys.stdout.flush()
                results[name] = {"first": first, "cached": again}
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    print(json.dumps(results))


if __name__ == "__main__":
    main()
