"""Statistics of 1,000 fields through a season: zonal_stats from a cube, and the Statistical API.

Fields: 1,000 rectangles of 1 to 20 ha (area uniform, aspect 2:3 to 3:2, rotated by a
random angle where they still fit), one per cell of a 32 x 32 grid of 625 m cells: 20 x 20
km of UTM 33N, no overlaps.
Season: 2024-04-01/2024-09-30 in 10-day intervals (the Statistical API's split): 19 steps.

1. ``zonal_stats`` from a loaded cube: a synthetic NDVI cube (19, 1, 2000, 2000) float32 at
   10 m (304 MB; uniform -0.2..0.9, 20 % NaN as clouds), (a) as a numpy array in memory,
   (b) as a dask array of one chunk per time step (what a series load of this area gives:
   one tile per date), each chunk generated when computed, so the cube never exists whole.
   Wall time (best of ``--repeat``) and peak memory (tracemalloc peak of the call: numpy's
   allocations; for (a) the cube itself is not counted, it exists before). Anchors in the
   same run: one pass over the cube (a float64 sum; for (b) with the chunks generated, as
   zonal_stats generates them), and the naive way for a few zones (a rasterio mask per
   zone, numpy statistics), extrapolated to all zones.
2. The Statistical API path against the emulator (``s2raster emulator`` in a subprocess):
   ``s2raster.statistics`` for the same fields and season (NDVI, clouds masked): requests,
   PU (estimated and spent) and wall time.

    PYTHONPATH=. python benchmarks/bench_zonal.py [--fields 1000] [--repeat 3]
        [--no-service] [--concurrency 4]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
import tracemalloc
from typing import Any

import numpy as np
from _emulator import start_emulator

SEASON = "2024-04-01/2024-09-30"
X0, Y0, SIDE, CELL = 450_000.0, 5_090_000.0, 20_000.0, 625.0
CRS = "EPSG:32633"


def fields(n: int, seed: int = 0) -> list[Any]:
    """``n`` rectangles of 1-20 ha (aspect 2:3 to 3:2), one per 625 m cell (row-major),
    rotated by a random angle when it still fits in the cell (no two fields overlap)."""
    from shapely import affinity
    from shapely.geometry import box

    rng = np.random.default_rng(seed)
    per_row = int(SIDE // CELL)
    found = []
    for k in range(n):
        row, col = divmod(k, per_row)
        area = rng.uniform(1e4, 2e5)
        aspect = rng.uniform(2 / 3, 1.5)
        w = (area * aspect) ** 0.5
        h = area / w
        cx, cy = X0 + CELL * (col + 0.5), Y0 + SIDE - CELL * (row + 0.5)
        rect = box(cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2)
        turned = affinity.rotate(rect, rng.uniform(0, 180))
        minx, miny, maxx, maxy = turned.bounds
        found.append(turned if max(maxx - minx, maxy - miny) < CELL else rect)
    return found


def cube(kind: str, n_time: int) -> Any:
    """The (time, band, y, x) NDVI cube, numpy or dask (one chunk per step)."""
    import dask.array
    import xarray as xr

    from s2raster.grid import Grid
    from s2raster.xr import to_dataarray

    grid = Grid.from_bbox((X0, Y0, X0 + SIDE, Y0 + SIDE), bbox_crs=CRS, crs=CRS)
    shape = (n_time, 1, *grid.shape)

    def block(block_info: Any = None) -> np.ndarray:
        t = block_info[None]["chunk-location"][0]
        rng = np.random.default_rng(t)
        values = rng.uniform(-0.2, 0.9, (1, 1, *grid.shape)).astype(np.float32)
        values[rng.random(values.shape) < 0.2] = np.nan
        return values

    lazy = dask.array.map_blocks(
        block, chunks=((1,) * n_time, (1,), (grid.height,), (grid.width,)), dtype=np.float32
    )
    data = lazy if kind == "dask" else lazy.compute()
    layer = to_dataarray(np.empty((1, 1, 1), np.float32), grid.window(0, 0, 1, 1), ["NDVI"])
    times = np.arange(n_time).astype("timedelta64[D]") * 10 + np.datetime64("2024-04-01")
    template = xr.DataArray(
        data,
        dims=("time", "band", "y", "x"),
        coords={"time": times.astype("datetime64[ns]"), "band": ["NDVI"],
                "y": grid.ys(), "x": grid.xs(), "spatial_ref": layer["spatial_ref"]},
    )  # fmt: skip
    assert template.shape == shape
    return template


def best(func: Any, repeat: int) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = func()
        times.append(time.perf_counter() - start)
    return min(times), result


def child_zonal(kind: str, n_fields: int, repeat: int) -> dict[str, Any]:
    import dask

    from s2raster import zonal_stats

    zones = fields(n_fields)
    da = cube(kind, 19)
    dask.config.set(scheduler="threads")
    zonal_stats(da.isel(time=slice(0, 1)), zones[:10], zones_crs=CRS)  # warm-up (imports)
    tracemalloc.start()
    wall, table = best(lambda: zonal_stats(da, zones, zones_crs=CRS), repeat)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    if kind == "dask":  # generating the chunks and one pass over them
        anchor, _ = best(lambda: float(da.data.sum(dtype=np.float64).compute()), repeat)
    else:  # one pass over the cube
        anchor, _ = best(lambda: float(np.add.reduce(da.values, None, np.float64)), repeat)
    naive = naive_seconds(da, zones[:20]) * n_fields / 20 if kind == "numpy" else float("nan")
    return {
        "kind": kind,
        "fields": n_fields,
        "rows": len(table),
        "cube_mb": da.nbytes / 1e6,
        "wall_s": wall,
        "anchor_s": anchor,
        "naive_s": naive,
        "peak_mb": peak / 1e6,
        "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "median_pixels": float(table.groupby("zone")["count"].max().median() / 0.8),
    }


def naive_seconds(da: Any, zones: list[Any]) -> float:
    """Seconds for the naive way: a full-raster mask per zone, numpy nan-statistics."""
    from rasterio.features import geometry_mask

    from s2raster.xr import grid_of

    grid = grid_of(da)
    values = da.values
    start = time.perf_counter()
    for zone in zones:
        inside = ~geometry_mask([zone], out_shape=grid.shape, transform=grid.transform)
        picked = values[:, :, inside]
        for fn in (np.nanmean, np.nanmedian, np.nanstd, np.nanmin, np.nanmax):
            fn(picked, axis=-1)
    return time.perf_counter() - start


def child_service(n_fields: int, concurrency: int, env: dict[str, str]) -> dict[str, Any]:
    import s2raster
    from s2raster.cdse import cdse_config

    config = cdse_config(
        env["SH_CLIENT_ID"], env["SH_CLIENT_SECRET"], base_url=env["SH_BASE_URL"],
        token_url=env["SH_TOKEN_URL"], loopback_http=True,
    )  # fmt: skip
    zones = fields(n_fields)
    plan = s2raster.plan_statistics(zones, SEASON, "NDVI", interval="P10D", zones_crs=CRS)
    usage = s2raster.LoadStats()
    start = time.perf_counter()
    table = s2raster.statistics(
        zones, SEASON, "NDVI", interval="P10D", zones_crs=CRS, config=config, cache=False,
        concurrency=concurrency, usage=usage,
    )  # fmt: skip
    wall = time.perf_counter() - start
    return {
        "fields": n_fields,
        "rows": len(table),
        "requests": usage.requests,
        "estimated_pu": sum(r.estimated_pu for r in plan),
        "spent_pu": usage.processing_units_spent,
        "wall_s": wall,
        "synthetic": usage.synthetic,
    }


def run_child(*args: str) -> dict[str, Any]:
    res = subprocess.run(
        [sys.executable, __file__, "--child", *args], capture_output=True, text=True, check=False
    )
    if res.returncode:
        raise RuntimeError(res.stderr[-3000:])
    return json.loads(res.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--fields", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--no-service", action="store_true", help="skip the emulator part")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        kind = args.child[0]
        if kind == "service":
            found = child_service(args.fields, args.concurrency, json.loads(args.child[1]))
        else:
            found = child_zonal(kind, args.fields, args.repeat)
        print(json.dumps(found))
        return
    print(f"cpu count {os.cpu_count()}; {args.fields} fields of 1-20 ha over 20 x 20 km, {SEASON}")
    common = ["--fields", str(args.fields), "--repeat", str(args.repeat)]
    for kind in ("numpy", "dask"):
        r = run_child(kind, *common)
        print(
            f"zonal_stats, {kind} cube {r['cube_mb']:.0f} MB: {r['wall_s']:.2f} s for "
            f"{r['rows']} rows = {r['wall_s'] / r['anchor_s']:.1f} x one pass over the "
            f"cube ({r['anchor_s']:.2f} s); peak traced memory {r['peak_mb']:.0f} MB "
            f"({r['peak_mb'] / r['cube_mb']:.0%} of the cube), process RSS {r['rss_mb']:.0f} MB"
            + (
                f"; the naive way (a mask per zone): {r['naive_s']:.0f} s "
                f"({r['naive_s'] / r['wall_s']:.0f} x slower)"
                if kind == "numpy"
                else ""
            )
        )
    if args.no_service:
        return
    proc, env = start_emulator()
    try:
        service = ["--fields", str(args.fields), "--concurrency", str(args.concurrency)]
        r = run_child("service", json.dumps(env), *service)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    print(
        f"Statistical API on the emulator (synthetic={r['synthetic']}): {r['requests']} requests, "
        f"{r['spent_pu']:.1f} PU spent (estimated {r['estimated_pu']:.1f}), "
        f"{r['wall_s']:.0f} s wall ({r['wall_s'] / max(r['requests'], 1):.2f} s a request at "
        f"concurrency {args.concurrency}), {r['rows']} rows"
    )


if __name__ == "__main__":
    main()
