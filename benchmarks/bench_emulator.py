"""Emulator throughput over real HTTP (plain ``requests``): megapixels per second.

Two evalscripts, both FLOAT32 GeoTIFF in UTM 33N at 10 m: a pass-through of 4 bands
(B02 B03 B04 B08) and an NDVI (1 band from B04, B08). Each request is timed from the POST
to the last byte of the answer; the first (cold) request is reported separately.

    /root/venv/bin/python benchmarks/bench_emulator.py [--size 2500] [--repeat 3]
"""

from __future__ import annotations

import argparse
import statistics
import time
from typing import Any

import requests

from s2raster.emulator import Emulator

PASS_THROUGH = """//VERSION=3
function setup() {
  return {
    input: [{ bands: ["B02", "B03", "B04", "B08"], units: "REFLECTANCE" }],
    output: { bands: 4, sampleType: "FLOAT32" },
  };
}
function evaluatePixel(s) { return [s.B02, s.B03, s.B04, s.B08]; }
"""
NDVI = """//VERSION=3
function setup() {
  return {
    input: [{ bands: ["B04", "B08", "dataMask"], units: "REFLECTANCE" }],
    output: { bands: 1, sampleType: "FLOAT32" },
  };
}
function evaluatePixel(s) {
  if (s.dataMask === 0) return [NaN];
  return [(s.B08 - s.B04) / (s.B08 + s.B04)];
}
"""


def payload(evalscript: str, size: int) -> dict[str, Any]:
    x0, y0 = 400000.0, 5080000.0
    return {
        "input": {
            "bounds": {
                "bbox": [x0, y0, x0 + 10 * size, y0 + 10 * size],
                "properties": {"crs": "http://www.opengis.net/def/crs/EPSG/0/32633"},
            },
            "data": [
                {
                    "type": "sentinel-2-l2a",
                    "dataFilter": {
                        "timeRange": {
                            "from": "2022-06-01T00:00:00Z",
                            "to": "2022-06-30T23:59:59Z",
                        },
                        "mosaickingOrder": "leastCC",
                    },
                }
            ],
        },
        "output": {
            "width": size,
            "height": size,
            "responses": [{"identifier": "default", "format": {"type": "image/tiff"}}],
        },
        "evalscript": evalscript,
    }


def token(emu: Emulator) -> str:
    response = requests.post(
        emu.token_url,
        data={
            "grant_type": "client_credentials",
            "client_id": emu.client_id,
            "client_secret": emu.client_secret,
        },
        timeout=10,
    )
    response.raise_for_status()
    return str(response.json()["access_token"])


def timed(session: requests.Session, url: str, body: dict[str, Any]) -> tuple[float, int, float]:
    """(seconds, bytes, PU) of one request."""
    start = time.perf_counter()
    response = session.post(url, json=body, timeout=600)
    content = response.content
    seconds = time.perf_counter() - start
    if response.status_code != 200:
        raise SystemExit(f"HTTP {response.status_code}: {response.text[:500]}")
    return seconds, len(content), float(response.headers["x-processingunits-spent"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=2500, help="width = height in pixels")
    parser.add_argument("--repeat", type=int, default=3, help="timed requests per evalscript")
    args = parser.parse_args()
    megapixels = args.size * args.size / 1e6
    print(
        f"emulator benchmark: {args.size} x {args.size} px ({megapixels:.2f} MP), FLOAT32 GeoTIFF"
    )
    with Emulator() as emu, requests.Session() as session:
        session.headers["Authorization"] = f"Bearer {token(emu)}"
        url = emu.base_url + "/api/v1/process"
        for name, script in (("pass-through 4 bands", PASS_THROUGH), ("NDVI 1 band", NDVI)):
            body = payload(script, args.size)
            cold, size, pu = timed(session, url, body)
            runs = [timed(session, url, body)[0] for _ in range(args.repeat)]
            best, median = min(runs), statistics.median(runs)
            print(
                f"{name:22s} cold {cold:6.2f} s | median {median:6.2f} s | best {best:6.2f} s"
                f" | {megapixels / median:6.2f} MP/s (median) | {size / 1e6:6.1f} MB"
                f" | {pu:.1f} PU"
            )


if __name__ == "__main__":
    main()
