"""Speed of the emulator's evalscript runtime and encoders (prints figures; asserts nothing).

    /root/venv/bin/python benchmarks/bench_runtime.py [--size 2500] [--repeat 3] [--scenes 10]

Cases: a 4-band FLOAT32 pass-through and NDVI (SIMPLE), the CDSE true colour script (AUTO
UINT8), an ORBIT mean over ``--scenes`` scenes; then encoding of the pass-through result as
GeoTIFF and of the true colour as PNG/JPEG. Inputs look like reflectance (smooth field +
noise, quantised to 1e-4) so compression behaves as on rendered data.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from typing import Any

import numpy as np
from affine import Affine

from s2raster.emulator.encode import encode
from s2raster.emulator.runtime import RunResult, parse_setup, run

PASS_THROUGH = """//VERSION=3
function setup() {
  return {input: ["B02", "B03", "B04", "B08"], output: {bands: 4, sampleType: "FLOAT32"}};
}
function evaluatePixel(s) { return [s.B02, s.B03, s.B04, s.B08]; }
"""
NDVI = """//VERSION=3
function setup() {
  return {input: ["B04", "B08", "dataMask"], output: {bands: 1, sampleType: "FLOAT32"}};
}
function evaluatePixel(s) {
  return [s.dataMask ? (s.B08 - s.B04) / (s.B08 + s.B04) : NaN];
}
"""
TRUE_COLOR = """//VERSION=3
function setup() { return {input: ["B02", "B03", "B04"], output: {bands: 3}}; }
function evaluatePixel(sample) {
  return [2.5 * sample.B04, 2.5 * sample.B03, 2.5 * sample.B02];
}
"""
ORBIT_MEAN = """//VERSION=3
function setup() {
  return {input: ["B04", "dataMask"], mosaicking: "ORBIT",
          output: {bands: 1, sampleType: "FLOAT32"}};
}
function evaluatePixel(samples) {
  var sum = 0, n = 0;
  for (var i = 0; i < samples.length; i++) {
    if (samples[i].dataMask) { sum += samples[i].B04; n++; }
  }
  return [n ? sum / n : 0];
}
"""


def reflectance(shape: tuple[int, int], seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0 : shape[0], 0 : shape[1]].astype(np.float32)
    field = 0.1 + 0.05 * np.sin(x / 40 + seed) * np.cos(y / 55)
    noisy = field + rng.integers(0, 30, shape) / 10000
    return (np.round(noisy * 10000) / 10000).astype(np.float32)


def best_of(repeat: int, work: Callable[[], Any]) -> tuple[float, Any]:
    best, result = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        result = work()
        best = min(best, time.perf_counter() - start)
    return best, result


def bench_script(
    name: str,
    text: str,
    samples: list[dict[str, np.ndarray]],
    scenes: list[dict[str, Any]],
    shape: tuple[int, int],
    repeat: int,
) -> RunResult:
    setup = parse_setup(text)
    seconds, result = best_of(repeat, lambda: run(text, setup, samples, scenes, shape))
    mpx = shape[0] * shape[1] / seconds / 1e6
    print(f"run  {name:<24} {seconds:7.3f} s  {mpx:7.1f} Mpx/s")
    return result  # type: ignore[no-any-return]


def bench_encode(name: str, result: RunResult, text: str, mime: str, repeat: int) -> None:
    setup = parse_setup(text)
    transform = Affine(10.0, 0.0, 500000.0, 0.0, -10.0, 5000000.0)
    formats = {"default": mime}
    seconds, (body, _) = best_of(
        repeat, lambda: encode(result, setup, formats, "EPSG:32633", transform, want_tar=False)
    )
    h, w = result.outputs["default"].shape[1:]
    speed = h * w / seconds / 1e6
    print(f"enc  {name:<24} {seconds:7.3f} s  {speed:7.1f} Mpx/s  {len(body) / 1e6:.1f} MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=2500, help="pixels per side")
    parser.add_argument("--repeat", type=int, default=3, help="best of N runs")
    parser.add_argument("--scenes", type=int, default=10, help="scenes for the ORBIT case")
    args = parser.parse_args()
    shape = (args.size, args.size)
    names = ("B02", "B03", "B04", "B08")
    sample = {b: reflectance(shape, k) for k, b in enumerate(names)}
    sample["dataMask"] = np.ones(shape, np.float32)
    print(f"{args.size} x {args.size} px, best of {args.repeat}")
    passed = bench_script("pass-through 4 FLOAT32", PASS_THROUGH, [sample], [], shape, args.repeat)
    bench_script("NDVI FLOAT32", NDVI, [sample], [], shape, args.repeat)
    rgb = bench_script("true colour AUTO", TRUE_COLOR, [sample], [], shape, args.repeat)
    scenes = [{"date": f"2024-06-{d + 1:02d}T10:00:00Z"} for d in range(args.scenes)]
    orbit = [
        {"B04": reflectance(shape, 10 + d), "dataMask": sample["dataMask"]}
        for d in range(args.scenes)
    ]
    bench_script(f"ORBIT mean of {args.scenes}", ORBIT_MEAN, orbit, scenes, shape, args.repeat)
    bench_encode("GeoTIFF 4 FLOAT32", passed, PASS_THROUGH, "image/tiff", args.repeat)
    bench_encode("GeoTIFF 3 UINT8", rgb, TRUE_COLOR, "image/tiff", args.repeat)
    bench_encode("PNG 3 UINT8", rgb, TRUE_COLOR, "image/png", args.repeat)
    bench_encode("JPEG 3 UINT8", rgb, TRUE_COLOR, "image/jpeg", args.repeat)


if __name__ == "__main__":
    main()
