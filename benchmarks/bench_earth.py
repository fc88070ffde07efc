"""Throughput of the emulator's synthetic Earth: ``render()`` in Mpx/s.

Run: ``/root/venv/bin/python benchmarks/bench_earth.py [--size 2500] [--repeat 3]``.

Cases (one pass, i.e. the acquisitions of its tiles under the grid, B02 B03 B04 B08 +
dataMask unless said): a UTM grid aligned on
the 10 m native cells (NEAREST), the same with the 20 m bands B05 B06 B07 B8A upsampled
BILINEAR, an EPSG:4326 grid (NEAREST and BILINEAR), a SIMPLE mosaic of 3 passes and a
coarse 100 m overview (point mode). "cold" is the first render of an area (node fields
computed), "warm" the best of the repeats (node fields cached, as for the tiles of a job).
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass
from datetime import date

from affine import Affine
from pyproj import Transformer

from s2raster.emulator import earth
from s2raster.emulator.earth import Acquisition, acquisitions
from s2raster.grid import METRES_PER_DEGREE

BANDS_10 = ["B02", "B03", "B04", "B08", "dataMask"]
BANDS_20 = ["B05", "B06", "B07", "B8A", "dataMask"]


@dataclass(frozen=True)
class Case:
    name: str
    crs: str
    res: float
    bands: list[str]
    method: str = "NEAREST"
    n_passes: int = 1

    def transform(self, shift: int) -> Affine:
        if self.crs == "EPSG:4326":
            step = self.res / METRES_PER_DEGREE
            return Affine(step, 0.0, 12.0 + 0.7 * shift, 0.0, -step, 45.5)
        return Affine(self.res, 0.0, 300_000.0 + 60_000 * shift, 0.0, -self.res, 5_000_000.0)

    def acquisitions(self, size: int, shift: int) -> list[Acquisition]:
        """The tiles of the least cloudy ``n_passes`` passes of June 2024 over the grid."""
        t = self.transform(shift)
        corners = [t * (0, 0), t * (size, size)]
        to_lonlat = Transformer.from_crs(self.crs, "EPSG:4326", always_xy=True)
        lon, lat = to_lonlat.transform([c[0] for c in corners], [c[1] for c in corners])
        box = (min(lon) - 0.1, min(lat) - 0.1, max(lon) + 0.1, max(lat) + 0.1)
        found = acquisitions("sentinel-2-l2a", box, date(2024, 6, 1), date(2024, 6, 30),
                             touching=False)  # fmt: skip
        by_pass: dict[object, list[Acquisition]] = {}
        for acq in found:
            by_pass.setdefault(acq.pass_, []).append(acq)
        ranked = sorted(by_pass.values(), key=lambda g: sum(a.cloud_cover for a in g) / len(g))
        return [a for group in ranked[: self.n_passes] for a in group]

    def run(self, acqs: list[Acquisition], size: int, shift: int) -> float:
        start = time.perf_counter()
        earth.render(
            "sentinel-2-l2a", acqs, self.crs, self.transform(shift), (size, size), self.bands,
            units={}, upsampling=self.method, downsampling=self.method, mosaic=True,
        )  # fmt: skip
        return time.perf_counter() - start


CASES = (
    Case("utm-aligned nearest", "EPSG:32633", 10.0, BANDS_10),
    Case("utm 20m-bands bilinear", "EPSG:32633", 10.0, BANDS_20, "BILINEAR"),
    Case("epsg4326 nearest", "EPSG:4326", 10.0, BANDS_10),
    Case("epsg4326 bilinear", "EPSG:4326", 10.0, BANDS_10, "BILINEAR"),
    Case("utm mosaic of 3 passes", "EPSG:32633", 10.0, BANDS_10, n_passes=3),
    Case("utm 100 m overview", "EPSG:32633", 100.0, BANDS_10),
)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--size", type=int, default=2500, help="grid width and height (px)")
    parser.add_argument("--repeat", type=int, default=3, help="warm repeats per case")
    args = parser.parse_args()
    warm_up = Case("warm-up", "EPSG:32633", 10.0, BANDS_10)
    warm_up.run(warm_up.acquisitions(64, 99), 64, 99)  # one-time tables
    mpx = args.size * args.size / 1e6
    print(f"render() {args.size} x {args.size} px ({mpx:.2f} Mpx), 1 pass unless said")
    for k, case in enumerate(CASES):
        acqs = case.acquisitions(args.size, k + 1)
        cold = case.run(acqs, args.size, k + 1)
        warm = min(case.run(acqs, args.size, k + 1) for _ in range(args.repeat))
        print(
            f"  {case.name:<24} cold {cold:6.3f} s ({mpx / cold:5.1f} Mpx/s)"
            f"   warm {warm:6.3f} s ({mpx / warm:5.1f} Mpx/s)"
        )


if __name__ == "__main__":
    main()
