"""Export benchmark: a full Sentinel-2 tile (10980 x 10980 px, 4 bands float32) to a COG.

The array is a lazy dask array whose chunks (2500 px, as s2raster.load makes them) are
generated on demand, so the figure shows what ``to_geotiff`` itself holds in memory. Each
run happens in a fresh subprocess, so its peak RSS (``ru_maxrss``) is clean.

    /root/venv/bin/python benchmarks/bench_export.py [--size 10980] [--chunk 2500] [--no-cog]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

BANDS = ("B02", "B03", "B04", "B08")


def reflectance_block(
    location: tuple[int, int, int], chunk: int, shape: tuple[int, int, int]
) -> np.ndarray:
    """Reflectance-like float32 values (smooth field + noise, 1e-4 steps) for one chunk.

    Written in place band by band, so a chunk costs little more than its own bytes.
    """
    _, bi, bj = location
    n, h, w = shape
    rows = np.arange(bi * chunk, bi * chunk + h, dtype=np.float32)[:, None]
    cols = np.arange(bj * chunk, bj * chunk + w, dtype=np.float32)[None, :]
    field = np.multiply(np.sin(rows / 97), np.cos(cols / 131), dtype=np.float32)
    field *= 2500
    field += 5000
    rng = np.random.default_rng(bi * 1000 + bj)
    out = np.empty(shape, dtype=np.float32)
    for b in range(n):
        band = out[b]
        np.multiply(field, 0.2 + 0.2 * b, out=band)
        band += rng.integers(0, 200, size=(h, w), dtype=np.int16)
        np.round(band, out=band)
        band /= 10000
    out[:, :16, :16] = np.nan  # a little no-data
    return out


def make_array(size: int, chunk: int):  # type: ignore[no-untyped-def]
    """A lazy (band, y, x) DataArray on a UTM grid, as s2raster.load returns it."""
    import dask.array as dsa
    import xarray as xr
    from affine import Affine
    from rasterio.crs import CRS

    from s2raster.grid import Grid

    grid = Grid("EPSG:32633", Affine(10.0, 0.0, 399960.0, 0.0, -10.0, 5000040.0), (size, size))
    chunks = ((len(BANDS),), *grid.chunks(chunk))

    def block(block_info=None):  # type: ignore[no-untyped-def]
        info = block_info[None]
        return reflectance_block(info["chunk-location"], chunk, info["chunk-shape"])

    data = dsa.map_blocks(block, chunks=chunks, dtype=np.float32)
    spatial_ref = xr.DataArray(
        0,
        attrs={
            "crs_wkt": CRS.from_epsg(32633).to_wkt(),
            "GeoTransform": " ".join(str(v) for v in grid.transform.to_gdal()),
        },
    )
    return xr.DataArray(
        data,
        dims=("band", "y", "x"),
        coords={"band": list(BANDS), "y": grid.ys(), "x": grid.xs(), "spatial_ref": spatial_ref},
        attrs={"collection": "sentinel-2-l2a", "synthetic": 1, "units": "REFLECTANCE"},
        name="reflectance",
    )


def child(size: int, chunk: int, cog: bool, out: Path) -> None:
    """Write once and print a JSON line with the figures."""
    from s2raster.export import to_geotiff

    da = make_array(size, chunk)
    start = time.perf_counter()
    to_geotiff(da, out, cog=cog)
    wall = time.perf_counter() - start
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        json.dumps(
            {
                "wall_s": wall,
                "peak_rss_mb": peak_mb,
                "array_mb": da.nbytes / 2**20,
                "file_mb": out.stat().st_size / 2**20,
            }
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=10980)
    parser.add_argument("--chunk", type=int, default=2500)
    parser.add_argument("--no-cog", action="store_true")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.size, args.chunk, not args.no_cog, args.child)
        return
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "tile.tif"
        cmd = [sys.executable, __file__, "--size", str(args.size), "--chunk", str(args.chunk)]
        cmd += ["--child", str(out)] + (["--no-cog"] if args.no_cog else [])
        result = json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)
    baseline = baseline_rss_mb()
    kind = "GeoTIFF" if args.no_cog else "COG"
    size = f"{args.size} x {args.size} px x {len(BANDS)} bands float32"
    print(f"to_geotiff({kind}) {size}, chunks {args.chunk}")
    print(f"  array        {result['array_mb']:8.0f} MB")
    print(f"  file         {result['file_mb']:8.0f} MB")
    speed = result["array_mb"] / result["wall_s"]
    print(f"  wall time    {result['wall_s']:8.1f} s  ({speed:.0f} MB/s)")
    print(f"  peak RSS     {result['peak_rss_mb']:8.0f} MB  (imports alone: {baseline:.0f} MB)")
    print(f"  peak / array {result['peak_rss_mb'] / result['array_mb']:8.2f}")


def baseline_rss_mb() -> float:
    """Peak RSS of a process that only imports what the child imports."""
    code = (
        "import resource, s2raster.export, dask.array, xarray;"
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)"
    )
    return float(
        subprocess.run(
            [sys.executable, "-c", code], check=True, capture_output=True, text=True
        ).stdout
    )


if __name__ == "__main__":
    main()
