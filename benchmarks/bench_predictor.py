"""Size of exported COGs without and with the floating-point predictor (PREDICTOR=3).

Fetches from an in-process emulator (synthetic data) 4 reflectance bands and NDVI over the
same area and writes each with ``predictor=None`` (no predictor), ``predictor=3`` and the
default, reporting the file sizes and the saving. Real Sentinel-2 reflectance (the golden
eo-learn sample in ``../shared``, when present) is measured as well, since synthetic
noise compresses differently.

    PYTHONPATH=. .venv/bin/python benchmarks/bench_predictor.py [--px 1000]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np


def sizes(da, folder: Path, name: str) -> dict[str, int]:  # type: ignore[no-untyped-def]
    from s2raster.export import to_geotiff

    out = {}
    for label, predictor in (("none", 1), ("float", 3), ("default", None)):
        path = to_geotiff(da, folder / f"{name}-{label}.tif", predictor=predictor)
        out[label] = path.stat().st_size
    return out


def report(name: str, found: dict[str, int]) -> None:
    saving = 1 - found["float"] / found["none"]
    print(
        f"{name:28s} none {found['none'] / 1e6:8.2f} MB   predictor=3 {found['float'] / 1e6:8.2f}"
        f" MB   default {found['default'] / 1e6:8.2f} MB   saving {saving:6.1%}"
    )


def golden(folder: Path) -> None:
    path = Path(__file__).resolve().parents[1].parent / "shared" / "golden"
    sample = path / "eolearn-reference-scenes-l1c.npy"
    if not sample.exists():
        sample = Path("/work/shared/golden/eolearn-reference-scenes-l1c.npy")
    if not sample.exists():
        print("real reflectance: ../shared/golden absent, skipped")
        return
    from s2raster.grid import Grid
    from s2raster.xr import to_dataarray

    scenes = np.load(sample)  # (5, 101, 100, 13) float32 reflectance, B01..B12
    data = np.concatenate(list(scenes[..., [1, 2, 3, 7]]), axis=0)  # 505 x 100, 4 bands
    data = np.moveaxis(data, -1, 0).astype(np.float32)
    grid = Grid.from_bbox(
        (500000, 5000000, 501000, 5005050), bbox_crs="EPSG:32633", crs="EPSG:32633"
    )
    da = to_dataarray(data[:, : grid.height, : grid.width], grid, ["B02", "B03", "B04", "B08"], {})
    report("real L1C B02,B03,B04,B08", sizes(da, folder, "real"))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--px", type=int, default=1000, help="width/height in pixels at 10 m")
    args = parser.parse_args()
    from s2raster import load
    from s2raster.emulator import Emulator
    from s2raster.indices import stack

    side = args.px * 10 / 111_320
    bbox = (14.45, 46.0, 14.45 + side / 0.69, 46.0 + side)
    with Emulator() as emu, tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        da = load(
            bbox,
            "2024-06-01/2024-06-30",
            ["B02", "B03", "B04", "B08"],
            config=emu.config(),
            cache=False,
        ).compute()
        print(f"grid {da.sizes['x']} x {da.sizes['y']} px (synthetic emulator data)")
        report("4 bands reflectance", sizes(da, folder, "bands"))
        report("NDVI", sizes(stack(da, ["NDVI"]), folder, "ndvi"))
        golden(folder)


if __name__ == "__main__":
    main()
