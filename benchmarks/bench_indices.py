"""Spectral index speed: s2raster.indices vs spyndex vs plain xarray vs memory bandwidth.

Data: 4 bands (B02 B03 B04 B08) x 4000 x 4000 float32 reflectance (256 MB), numpy-backed
and dask-backed (chunks 2000 px, threaded scheduler; ``.compute()`` also joins the blocks
into one array, ``.persist()`` does not). GB/s counts the bytes an index must
move (its input bands read + its float32 result written); the memory-bandwidth reference
is a numpy copy of as many bytes (into a new array, as an index result is, and into an
existing one).

    /root/venv/bin/python benchmarks/bench_indices.py [--size 4000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import xarray as xr
from affine import Affine

from s2raster import indices
from s2raster.grid import Grid
from s2raster.xr import to_dataarray

BANDS = ("B02", "B03", "B04", "B08")
ASI = {"B": "B02", "G": "B03", "R": "B04", "N": "B08"}


def best(func: Callable[[], Any], repeat: int) -> float:
    """Best wall time of ``repeat`` runs (after one warm-up)."""
    func()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return min(times)


def report(label: str, seconds: float, nbytes: int, pixels: int, ref: float | None) -> None:
    gbs = nbytes / seconds / 1e9
    extra = f"  {seconds / ref:5.2f}x copy time" if ref else ""
    mpx = pixels / seconds / 1e6
    print(f"  {label:38s} {seconds * 1e3:8.1f} ms {gbs:6.2f} GB/s {mpx:7.0f} Mpx/s{extra}")


def make(size: int) -> xr.DataArray:
    rng = np.random.default_rng(0)
    values = rng.uniform(0.0, 0.5, size=(len(BANDS), size, size)).astype(np.float32)
    values[0] *= 0.2  # low blue
    grid = Grid("EPSG:32633", Affine(10.0, 0.0, 500_000.0, 0.0, -10.0, 5_000_000.0), (size, size))
    return to_dataarray(values, grid, BANDS, {"units": "reflectance"})


def spyndex_call(name: str, da: xr.DataArray) -> Callable[[], Any]:
    import spyndex

    params: dict[str, Any] = {
        s: da.sel(band=ASI[s]).values for s in spyndex.indices[name].bands if s in ASI
    }
    for symbol in spyndex.indices[name].bands:
        if symbol not in ASI:
            params[symbol] = spyndex.constants[symbol].default
    return lambda: spyndex.computeIndex(name, params)


def plain_xarray(name: str, da: xr.DataArray) -> Callable[[], Any]:
    n, r, b = (da.sel(band=x) for x in ("B08", "B04", "B02"))
    if name == "NDVI":
        return lambda: ((n - r) / (n + r)).values
    return lambda: (2.5 * (n - r) / (n + 6 * r - 7.5 * b + 1)).values


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=4000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    da = make(args.size)
    # dask chunks as s2raster.load makes them: separate, contiguous (band, y, x) blocks
    chunked = da.chunk({"band": -1, "y": 2000, "x": 2000})
    lazy = chunked.copy(data=chunked.data.map_blocks(np.ascontiguousarray).persist())
    pixels = args.size * args.size
    band_bytes = pixels * 4
    print(f"{len(BANDS)} bands x {args.size} x {args.size} float32 ({da.nbytes / 1e6:.0f} MB)")
    for name, n_inputs in (("NDVI", 2), ("EVI", 3)):
        nbytes = (n_inputs + 1) * band_bytes
        src = np.ones(n_inputs * pixels // 2 + pixels // 2, dtype=np.float32)  # ~half in, half out
        dst = np.empty_like(src)
        copy_new = best(src.copy, args.repeat)
        copy_into = best(lambda: np.copyto(dst, src), args.repeat)  # noqa: B023
        print(f"{name}: reads {n_inputs} bands, writes 1 ({nbytes / 1e6:.0f} MB moved)")
        report("numpy copy, new array (reference)", copy_new, nbytes, pixels, None)
        report("numpy copy, existing array", copy_into, nbytes, pixels, None)
        func = indices.INDICES[name].function
        report("s2raster numpy", best(lambda: func(da), args.repeat), nbytes, pixels, copy_new)  # noqa: B023
        dask_time = best(lambda: func(lazy).compute(scheduler="threads"), args.repeat)  # noqa: B023
        report("s2raster dask, .compute()", dask_time, nbytes, pixels, copy_new)
        blocks = best(lambda: func(lazy).persist(scheduler="threads"), args.repeat)  # noqa: B023
        report("s2raster dask, blocks only (.persist)", blocks, nbytes, pixels, copy_new)
        try:
            spy = best(spyndex_call(name, da), args.repeat)
            report("spyndex.computeIndex (numpy)", spy, nbytes, pixels, copy_new)
        except ImportError:
            print("  spyndex not installed (pip install spyndex)")
        report(
            "plain xarray expression",
            best(plain_xarray(name, da), args.repeat),
            nbytes,
            pixels,
            copy_new,
        )


if __name__ == "__main__":
    with np.errstate(all="ignore"):
        main()
