"""What the cache's SHA-256 costs per tile, against downloading and decoding that tile.

For tiles of 512, 1024 and 2500 px a side (4 bands FLOAT32 + dataMask, as ``load`` asks),
fetched over real HTTP from an in-process emulator: the fetch (request, rendering, transfer),
the decode (:func:`s2raster.geotiff.read_tile`), the SHA-256 and BLAKE2b of the response
bytes (what ``TileCache.put`` hashes), and :meth:`TileCache.verify` of the stored entry (what
a cache hit hashes). Best of ``--repeat``. The emulator renders locally: a CDSE download of
the same tile takes longer still, so the ratios are upper bounds of the checksum's share.

    PYTHONPATH=. .venv/bin/python benchmarks/bench_cache_checksum.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import hashlib
import tempfile
import time
from collections.abc import Callable
from typing import Any

BANDS = ["B02", "B03", "B04", "B08"]


def best(repeat: int, func: Callable[[], object]) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    from s2raster.cache import TileCache
    from s2raster.cdse import CdseFetch
    from s2raster.emulator import Emulator

    with Emulator() as emu, tempfile.TemporaryDirectory() as tmp:
        fetch = CdseFetch(emu.config())
        cache = TileCache(tmp)
        print(f"{'tile':>10} {'MB':>7} {'fetch s':>8} {'decode s':>9} {'sha256 s':>9} "
              f"{'blake2b s':>10} {'verify s':>9} {'sha256/(fetch+decode)':>22}")  # fmt: skip
        for px in (512, 1024, 2500):
            measure(px, fetch, cache, args.repeat)


def measure(px: int, fetch: Any, cache: Any, repeat: int) -> None:
    from s2raster import geotiff
    from s2raster.cache import cache_key
    from s2raster.evalscript import payload
    from s2raster.plan import make_plan

    side = px * 10 / 111_320
    bbox = (14.45, 46.0, 14.45 + side / 0.69, 46.0 + side)
    request = make_plan(bbox, "2024-06-01/2024-06-30", BANDS, tile_px=px).requests[0]
    result = fetch(request)
    content = result.content
    t_fetch = best(repeat, lambda: fetch(request))
    t_decode = best(repeat, lambda: geotiff.read_tile(content, request.tile.grid, BANDS))
    t_sha = best(repeat, lambda: hashlib.sha256(content).hexdigest())
    t_blake = best(repeat, lambda: hashlib.blake2b(content).hexdigest())
    key = cache_key(fetch.base_url, payload(request))
    cache.put(key, result, base_url=fetch.base_url)
    entry = cache.lookup(key)
    assert entry is not None
    t_verify = best(repeat, lambda: cache.verify(key, entry))
    share = t_sha / (t_fetch + t_decode)
    grid = request.tile.grid
    print(
        f"{grid.width}x{grid.height:<5} {len(content) / 1e6:7.1f} {t_fetch:8.3f} "
        f"{t_decode:9.3f} {t_sha:9.4f} {t_blake:10.4f} {t_verify:9.4f} {share:21.1%}"
    )


if __name__ == "__main__":
    main()
