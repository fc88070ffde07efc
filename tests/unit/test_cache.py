"""TileCache: keys from (base URL, payload), atomic entries with a sidecar, 0 PU on a hit."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from s2raster.cache import CacheEntry, TileCache, cache_key, default_directory, resolve_cache
from s2raster.cdse import FetchResult
from s2raster.errors import InputError
from s2raster.evalscript import payload
from s2raster.plan import TileRequest, make_plan

URL = "http://127.0.0.1:5000"


@pytest.fixture(scope="module")
def requests_() -> tuple[TileRequest, ...]:
    return make_plan(
        (13.8, 45.8, 13.83, 45.82), "2024-06-01/2024-06-30", ["B04"], tile_px=100
    ).requests


def test_key_is_sha256_of_url_and_payload(requests_: tuple[TileRequest, ...]) -> None:
    a, b = requests_[0], requests_[1]
    key = cache_key(URL, payload(a))
    canonical = json.dumps(
        {"base_url": URL, "payload": payload(a)}, sort_keys=True, separators=(",", ":")
    )
    assert key == hashlib.sha256(canonical.encode()).hexdigest()
    assert key == cache_key(URL + "/", payload(a))  # trailing slash does not matter
    assert key != cache_key("https://sh.dataspace.copernicus.eu", payload(a))
    assert key != cache_key(URL, payload(b))
    reordered = json.loads(json.dumps(payload(a), sort_keys=True))
    assert key == cache_key(URL, reordered)


def test_put_lookup_round_trip(tmp_path: Path) -> None:
    cache = TileCache(tmp_path / "c")
    key = "ab" + "0" * 62
    assert cache.lookup(key) is None
    assert not cache.contains(key)
    cache.put(key, FetchResult(b"tiff-bytes", 1.25, True), base_url=URL + "/")
    assert cache.contains(key)
    hit = cache.lookup(key)
    digest = hashlib.sha256(b"tiff-bytes").hexdigest()
    assert hit == CacheEntry(tmp_path / "c" / "ab" / f"{key}.tif", synthetic=True, sha256=digest)
    assert hit.path.read_bytes() == b"tiff-bytes"
    meta = json.loads((tmp_path / "c" / "ab" / f"{key}.json").read_text())
    assert meta["processing_units"] == 1.25
    assert meta["synthetic"] is True
    assert meta["size"] == len(b"tiff-bytes")
    assert meta["sha256"] == digest
    assert meta["base_url"] == URL
    assert meta["created"].endswith("Z")
    assert sorted(p.name for p in (tmp_path / "c" / "ab").iterdir()) == [
        f"{key}.json",
        f"{key}.tif",
    ]  # no temporary files left behind


def test_damaged_entries_are_misses(tmp_path: Path) -> None:
    cache = TileCache(tmp_path)
    key = "cd" + "1" * 62
    cache.put(key, FetchResult(b"0123456789", 1.0, False), base_url=URL)
    content = tmp_path / "cd" / f"{key}.tif"
    content.write_bytes(b"01234")  # truncated
    assert cache.lookup(key) is None
    cache.put(key, FetchResult(b"0123456789", 1.0, False), base_url=URL)
    (tmp_path / "cd" / f"{key}.json").write_text("{not json")
    assert cache.lookup(key) is None
    (tmp_path / "cd" / f"{key}.json").unlink()
    assert cache.lookup(key) is None  # content without sidecar: incomplete


def test_discard_and_clear(tmp_path: Path, requests_: tuple[TileRequest, ...]) -> None:
    cache = TileCache(tmp_path)
    keys = [cache_key(URL, payload(r)) for r in requests_]
    for key in keys:
        cache.put(key, FetchResult(key.encode(), 2.0, False), base_url=URL)
    assert all(cache.contains(k) for k in keys)
    cache.discard(keys[0])
    assert cache.lookup(keys[0]) is None
    assert not list(tmp_path.glob(f"??/{keys[0]}.*"))
    assert cache.clear() == len(keys) - 1
    assert not any(cache.contains(k) for k in keys)


def test_resolve_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert resolve_cache(False) is None
    assert resolve_cache(None) is None
    default = resolve_cache(True)
    assert default is not None
    assert default.directory == default_directory()
    assert str(default.directory).startswith(str(tmp_path / "xdg"))
    assert "s2raster" in str(default.directory)
    assert resolve_cache(tmp_path / "x").directory == tmp_path / "x"  # type: ignore[union-attr]
    assert resolve_cache(str(tmp_path)).directory == tmp_path  # type: ignore[union-attr]
    mine = TileCache(tmp_path)
    assert resolve_cache(mine) is mine
    with pytest.raises(InputError, match="cache must be"):
        resolve_cache(3)  # type: ignore[arg-type]
    assert repr(mine) == f"TileCache({str(tmp_path)!r})"
