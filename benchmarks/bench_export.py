"""Export benchmark: a full Sentinel-2 tile (10980 x 10980 px, 4 bands float32) to a COG.

The array is a lazy dask array whose chunks (2500 px, as s2raster.load makes them) are
generated on demand (the stand-in for the downloads), so the figures show what
``to_geotiff`` itself costs and holds in memory. Each run happens in a fresh subprocess, so
its peak RSS (``ru_maxrss``) is clean. Runs, in one go:

- ``compute``: the chunks computed and dropped (what the "downloads" cost alone);
- ``stream``: ``to_geotiff`` as it is now (tiles compressed as chunks arrive);
- ``gdal``: ``to_geotiff`` through GDAL's path (uncompressed intermediate, overviews, then
  the COG driver's copy: how every COG was written before);
- ``anchor``: GDAL's own COG driver on the same raster already on disk,
  ``rasterio.shutil.copy(src, dst, driver="COG", NUM_THREADS="ALL_CPUS")`` (its default
  codec, LZW) and the same with ``COMPRESS="DEFLATE"``;
- ``--codecs``: size and time of codec/level/predictor choices (streamed where it can).

    python benchmarks/bench_export.py [--size 10980] [--chunk 2500] [--codecs]
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


def _null_store(da) -> None:  # type: ignore[no-untyped-def]
    """Compute every chunk and drop it (the stand-in for downloads alone)."""
    import dask.array as dsa

    class Null:
        shape = da.shape
        ndim = 3
        dtype = da.dtype

        def __setitem__(self, key: object, value: object) -> None:
            pass

    dsa.store(da.data, Null(), lock=False, scheduler="threads")


def child(mode: str, size: int, chunk: int, out: Path, options: dict[str, object]) -> None:
    """One measured run; print a JSON line with the figures."""
    import rasterio
    import rasterio.shutil

    import s2raster.cog
    from s2raster.export import to_geotiff

    da = make_array(size, chunk)
    if mode == "gdal":
        s2raster.cog.stream_codec = lambda *_: None  # type: ignore[assignment]
    start = time.perf_counter()
    cpu0 = _cpu()
    if mode == "compute":
        _null_store(da)
    elif mode == "anchor":
        raw = out.with_suffix(".raw.tif")
        to_geotiff(da, raw, cog=False, compress="NONE", overviews=False)
        start, cpu0 = time.perf_counter(), _cpu()
        with rasterio.Env(GDAL_CACHEMAX=64):
            rasterio.shutil.copy(raw, out, driver="COG", NUM_THREADS="ALL_CPUS", **options)
        raw.unlink()
    else:
        to_geotiff(da, out, **options)  # type: ignore[arg-type]
    wall = time.perf_counter() - start
    usage = resource.getrusage(resource.RUSAGE_SELF)
    cpu = usage.ru_utime + usage.ru_stime - cpu0
    peak_mb = usage.ru_maxrss / 1024
    valid = None
    if mode != "compute":
        from rio_cogeo.cogeo import cog_validate

        valid = cog_validate(str(out), quiet=True)[0]
    print(
        json.dumps(
            {
                "wall_s": wall,
                "cpu_s": cpu,
                "peak_rss_mb": peak_mb,
                "array_mb": da.nbytes / 2**20,
                "file_mb": out.stat().st_size / 2**20 if out.exists() else 0.0,
                "valid_cog": valid,
            }
        )
    )


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def run(mode: str, size: int, chunk: int, options: dict[str, object]) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "tile.tif"
        cmd = [sys.executable, __file__, "--size", str(size), "--chunk", str(chunk)]
        cmd += ["--child", str(out), "--mode", mode, "--options", json.dumps(options)]
        done = subprocess.run(cmd, check=True, capture_output=True, text=True)
        return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def line(name: str, r: dict[str, float], base: dict[str, float] | None) -> str:
    extra = ""
    if base is not None:
        extra = (
            f" ({r['wall_s'] / base['wall_s'] - 1:+.0%} wall, "
            f"{r['cpu_s'] / base['cpu_s'] - 1:+.0%} CPU on top of computing the chunks)"
        )
    cog = "" if r.get("valid_cog") is None else f", valid COG {r['valid_cog']}"
    return (
        f"  {name:<28} {r['wall_s']:6.1f} s wall, {r['cpu_s']:6.1f} s CPU{extra}, "
        f"peak RSS {r['peak_rss_mb']:5.0f} MB ({r['peak_rss_mb'] / r['array_mb']:.2f} of the "
        f"array), file {r['file_mb']:5.0f} MB{cog}"
    )


CODECS: list[tuple[str, str, dict[str, object]]] = [
    ("stream", "DEFLATE level 1 (default)", {}),
    ("stream", "DEFLATE level 3", {"level": 3}),
    ("stream", "DEFLATE level 6", {"level": 6}),
    ("gdal", "DEFLATE level 6, pixel", {}),
    ("gdal", "DEFLATE 6 + float predictor", {"predictor": 3}),
    ("gdal", "ZSTD level 1", {"compress": "ZSTD", "level": 1}),
    ("gdal", "ZSTD level 9", {"compress": "ZSTD", "level": 9}),
    ("gdal", "ZSTD 1 + float predictor", {"compress": "ZSTD", "level": 1, "predictor": 3}),
    ("gdal", "LZW", {"compress": "LZW"}),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=10980)
    parser.add_argument("--chunk", type=int, default=2500)
    parser.add_argument("--codecs", action="store_true", help="also the codec table")
    parser.add_argument(
        "--modes", default="stream,gdal,anchor-lzw,anchor-deflate", help="which runs (comma)"
    )
    parser.add_argument("--codec-size", type=int, default=5000, help="side of the codec runs")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--mode", default="stream", help=argparse.SUPPRESS)
    parser.add_argument("--options", default="{}", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.mode, args.size, args.chunk, args.child, json.loads(args.options))
        return
    print(f"{args.size} x {args.size} px x {len(BANDS)} bands float32, chunks {args.chunk}")
    print(f"  imports alone: peak RSS {baseline_rss_mb():.0f} MB")
    compute = run("compute", args.size, args.chunk, {})
    print(line("compute the chunks only", compute, None))
    runs = {
        "stream": ("to_geotiff (streamed)", "stream", {}),
        "gdal": ("to_geotiff (GDAL path)", "gdal", {}),
        "anchor-lzw": ("anchor: COG driver, LZW", "anchor", {}),
        "anchor-deflate": ("anchor: COG driver, DEFLATE", "anchor", {"COMPRESS": "DEFLATE"}),
    }
    for key in args.modes.split(","):
        name, mode, options = runs[key]
        print(line(name, run(mode, args.size, args.chunk, options), compute), flush=True)
    if args.codecs:
        base = run("compute", args.codec_size, args.chunk, {})
        side = args.codec_size
        print(f"codecs, {side} x {side} px (compute only: {base['wall_s']:.1f} s wall):")
        for mode, name, options in CODECS:
            print(line(name, run(mode, side, args.chunk, options), base))


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
