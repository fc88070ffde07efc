"""A cache that cannot lie: checksums, byte flips, two processes, eviction, info and clear."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import numpy as np
import pytest

from s2raster._load import LoadStats, load
from s2raster._runtime import local_state
from s2raster._tiles import TileReader
from s2raster.cache import TileCache, cache_key
from s2raster.evalscript import payload
from s2raster.fetch import FetchResult
from s2raster.plan import TileRequest, make_plan
from s2raster.testing import FakeFetch, expected_mask, expected_values

TIME = "2024-06-01/2024-06-30"
AREA = (13.80, 45.80, 13.81, 45.806)
URL = "https://fake.invalid"


@pytest.fixture(scope="module")
def request_() -> TileRequest:
    return make_plan(AREA, TIME, ["B04"], tile_px=6).requests[0]


def reader(fake: FakeFetch, cache: TileCache, stats: LoadStats) -> TileReader:
    load_id = uuid.uuid4().hex
    return TileReader(
        fetch=fake,
        cache=cache,
        synthetic=False,
        load_id=load_id,
        concurrency=2,
        state=local_state(load_id, 2, stats, None),
    )


def right_values(request: TileRequest) -> np.ndarray:
    tile = request.tile
    values = expected_values(tile.grid, 1, tile.row, tile.col)
    return np.where(expected_mask(tile.grid, tile.row, tile.col), values[0], np.nan)


def test_sidecar_holds_the_sha256(tmp_path: Path) -> None:
    cache = TileCache(tmp_path)
    key = "ab" + "0" * 62
    cache.put(key, FetchResult(b"bytes", 1.0, False), base_url=URL)
    entry = cache.lookup(key)
    assert entry is not None
    assert cache.verify(key, entry)
    entry.path.write_bytes(b"bytez")  # same size: only the checksum can tell
    assert cache.lookup(key) is not None
    assert not cache.verify(key, entry)
    assert cache.lookup(key) is None  # the damaged entry is gone


def test_entry_without_checksum_is_refetched(tmp_path: Path, request_: TileRequest) -> None:
    """An entry of an older s2raster (no sha256 in its sidecar) cannot be trusted."""
    cache, stats, fake = TileCache(tmp_path), LoadStats(), FakeFetch()
    reader(fake, cache, stats)(request_)
    key = cache_key(URL, payload(request_))
    meta_path = tmp_path / key[:2] / f"{key}.json"
    meta = json.loads(meta_path.read_text())
    del meta["sha256"]
    meta_path.write_text(json.dumps(meta))
    reader(fake, cache, stats)(request_)
    assert (len(fake.calls), stats.cache_mismatches, stats.cache_hits) == (2, 1, 0)


def test_byte_flips_never_serve_wrong_values(
    tmp_path: Path,
    request_: TileRequest,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Flip one byte at every offset of a cached tile: each load gives the right values,
    finds the mismatch, fetches again (one request) and counts it."""
    monkeypatch.setattr(os, "fsync", lambda fd: None)  # durability is not what is tested
    cache, stats, fake = TileCache(tmp_path), LoadStats(), FakeFetch()
    right = right_values(request_)
    np.testing.assert_array_equal(reader(fake, cache, stats)(request_)[0], right)
    entry = cache.lookup(cache_key(URL, payload(request_)))
    assert entry is not None
    size = entry.path.stat().st_size
    wrong = 0
    with caplog.at_level(logging.WARNING, logger="s2raster.cache"):
        for offset in range(size):
            data = bytearray(entry.path.read_bytes())
            data[offset] ^= 0xFF
            entry.path.write_bytes(bytes(data))
            values = reader(fake, cache, stats)(request_)[0]
            wrong += int(not np.array_equal(values, right, equal_nan=True))
    assert size > 500  # a real GeoTIFF: header, geokeys, strips
    assert wrong == 0
    assert stats.cache_mismatches == size
    assert len(fake.calls) == 1 + size  # each damaged entry fetched again, once
    assert stats.cache_hits == 0
    assert "does not match its checksum" in caplog.text
    print(f"byte flips: {size} offsets tried, {wrong} wrong values served")
    # the last refetch left a good entry: a hit, no request
    reader(fake, cache, stats)(request_)
    assert (stats.cache_hits, len(fake.calls)) == (1, 1 + size)


def test_mismatch_is_counted_in_load_stats(tmp_path: Path) -> None:
    fake = FakeFetch()
    load(AREA, TIME, ["B04"], tile_px=6, fetch=fake, cache=tmp_path).compute()
    n = len(fake.calls)
    victim = next(tmp_path.glob("??/*.tif"))
    data = bytearray(victim.read_bytes())
    data[len(data) // 2] ^= 1
    victim.write_bytes(bytes(data))
    stats = LoadStats()
    da = load(AREA, TIME, ["B04"], tile_px=6, fetch=fake, cache=tmp_path, stats=stats)
    da.compute()
    assert (stats.cache_mismatches, stats.requests, stats.cache_hits) == (1, 1, n - 1)


def test_lru_eviction_keeps_the_cache_under_its_limit(tmp_path: Path) -> None:
    keys = [f"{i:02x}" + "0" * 62 for i in range(6)]
    content = b"x" * 1000
    cache = TileCache(tmp_path, max_bytes=4000)
    for i, key in enumerate(keys):
        cache.put(key, FetchResult(content, 1.0, False), base_url=URL)
        meta = tmp_path / key[:2] / f"{key}.json"
        os.utime(meta, (1000.0 + i, 1000.0 + i))  # put order = use order
        if i == 2:  # use the first entry again: it becomes the most recently used
            entry = cache.lookup(keys[0])
            assert entry is not None
            assert cache.verify(keys[0], entry)
    info = cache.info()
    assert info.bytes <= 4000
    assert cache.contains(keys[0])  # used recently: kept
    assert not cache.contains(keys[1])  # least recently used: evicted first
    assert cache.contains(keys[-1])  # just written: never evicted
    assert repr(cache) == f"TileCache({str(tmp_path)!r}, max_bytes=4000)"


def test_info_and_clear_older_than(tmp_path: Path) -> None:
    cache = TileCache(tmp_path)
    old, new = "aa" + "1" * 62, "bb" + "2" * 62
    for key in (old, new):
        cache.put(key, FetchResult(b"12345", 1.0, False), base_url=URL)
    week_ago = time.time() - 7 * 86400
    os.utime(tmp_path / "aa" / f"{old}.json", (week_ago, week_ago))
    leftover = tmp_path / "aa" / f".{old}.tif.s2raster-tmp-0123.tmp"
    leftover.write_bytes(b"half")
    os.utime(leftover, (week_ago, week_ago))
    info = cache.info()
    assert (info.entries, info.temporary) == (2, 1)
    assert info.oldest is not None
    assert info.newest is not None
    assert info.oldest < info.newest
    assert cache.clear(older_than=86400) == 1
    assert not cache.contains(old)
    assert cache.contains(new)
    assert not leftover.exists()
    assert cache.clear() == 1
    assert cache.info().entries == 0


def test_bad_max_bytes_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="max_bytes"):
        TileCache(tmp_path, max_bytes=-1)


_WORKER = """
import sys, time
from pathlib import Path
from s2raster import load
from s2raster.testing import FakeFetch
start = float(sys.argv[2])
while time.time() < start:
    time.sleep(0.005)
fake = FakeFetch(delay=0.05)
da = load((13.80, 45.80, 13.81, 45.806), "2024-06-01/2024-06-30", ["B04"], tile_px=6,
          fetch=fake, cache=Path(sys.argv[1]), concurrency=4)
da.compute(num_workers=4)
print(len(fake.calls))
"""


def test_two_processes_share_the_cache_and_fetch_each_tile_once(tmp_path: Path) -> None:
    """Two processes load the same area into one cache at the same moment: every entry is
    whole (its checksum matches), and the per-key lock makes each tile fetched once."""
    cache_dir = tmp_path / "cache"
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    start = time.time() + 8  # both interpreters are up and waiting by then
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _WORKER, str(cache_dir), str(start)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for _ in range(2)
    ]
    outputs = [p.communicate(timeout=300) for p in procs]
    assert all(p.returncode == 0 for p in procs), outputs
    calls = sum(int(out.strip().splitlines()[-1]) for out, _ in outputs)
    plan = make_plan(AREA, TIME, ["B04"], tile_px=6)
    cache = TileCache(cache_dir)
    assert calls == len(plan.requests)
    for request in plan.requests:
        key = cache_key(URL, payload(request))
        entry = cache.lookup(key)
        assert entry is not None
        assert cache.verify(key, entry)
    assert not list(cache_dir.glob("??/.*"))  # no temporaries left
    fake = FakeFetch()
    da = load(AREA, TIME, ["B04"], tile_px=6, fetch=fake, cache=cache_dir).compute()
    assert fake.calls == []
    grid = plan.grid
    mask = expected_mask(grid)
    np.testing.assert_array_equal(da.values[:, mask], expected_values(grid, 1)[:, mask])


def test_cli_cache_info_and_clear(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from s2raster.cli import cli

    load(AREA, TIME, ["B04"], tile_px=6, fetch=FakeFetch(), cache=tmp_path).compute()
    n = len(make_plan(AREA, TIME, ["B04"], tile_px=6).requests)
    runner = CliRunner()
    info = runner.invoke(cli, ["cache", "info", "--cache-dir", str(tmp_path)])
    assert info.exit_code == 0, info.output
    assert f"tiles:         {n}, " in info.output
    assert str(tmp_path) in info.output
    kept = runner.invoke(
        cli, ["cache", "clear", "--cache-dir", str(tmp_path), "--older-than", "1d"]
    )
    assert kept.exit_code == 0
    assert "0 cached tile(s) removed" in kept.output
    bad = runner.invoke(cli, ["cache", "clear", "--cache-dir", str(tmp_path), "--older-than", "x"])
    assert bad.exit_code == 2
    assert "--older-than" in bad.output
    done = runner.invoke(cli, ["cache", "clear", "--cache-dir", str(tmp_path)])
    assert f"{n} cached tile(s) removed" in done.output
    assert TileCache(tmp_path).info().entries == 0


@pytest.mark.parametrize(
    ("text", "expected"),
    [("2G", 2 * 10**9), ("500MB", 500 * 10**6), ("1GiB", 2**30), ("1.5k", 1500), ("0", 0)],
)
def test_parse_size(text: str, expected: int) -> None:
    from s2raster.cli._parsed import parse_size

    assert parse_size(text, "--cache-max-size") == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [("30d", 30 * 86400.0), ("12h", 43200.0), ("90m", 5400.0), ("2w", 1209600.0)],
)
def test_parse_age(text: str, expected: float) -> None:
    from s2raster.cli._parsed import parse_age

    assert parse_age(text, "--older-than") == expected


def test_cli_cache_max_size_bounds_the_cache(tmp_path: Path) -> None:
    from s2raster.cli.options import EndpointOptions, ServiceOptions

    options = ServiceOptions(
        endpoint=EndpointOptions(emulator=False, profile=None, base_url=None, token_url=None),
        concurrency=2,
        cache_dir=tmp_path,
        no_cache=False,
        quiet=True,
        cache_max_bytes=10_000,
    )
    cache = options.cache
    assert isinstance(cache, TileCache)
    assert (cache.directory, cache.max_bytes) == (tmp_path, 10_000)
    load(AREA, TIME, ["B04"], tile_px=6, fetch=FakeFetch(), cache=cache).compute()
    assert 0 < cache.info().bytes <= 10_000
