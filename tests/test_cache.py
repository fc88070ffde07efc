"""TileCache: keys from (base URL, payload), atomic entries with a sidecar, 0 PU on a hit."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from s2raster.cache import TileCache, cache_key, cached, default_directory, resolve_cache
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
    assert len(key) == 64
    assert int(key, 16) >= 0
    assert key == cache_key(URL + "/", payload(a))  # trailing slash does not matter
    assert key != cache_key("https://sh.dataspace.copernicus.eu", payload(a))
    assert key != cache_key(URL, payload(b))
    reordered = json.loads(json.dumps(payload(a), sort_keys=True))
    assert key == cache_key(URL, reordered)


def test_put_get_round_trip(tmp_path: Path) -> None:
    cache = TileCache(tmp_path / "c")
    key = "ab" + "0" * 62
    assert cache.get(key) is None
    assert not cache.contains(key)
    cache.put(key, FetchResult(b"tiff-bytes", 1.25, True), base_url=URL + "/")
    assert cache.contains(key)
    hit = cache.get(key)
    assert hit == FetchResult(b"tiff-bytes", 0.0, True, from_cache=True)
    meta = json.loads((tmp_path / "c" / "ab" / f"{key}.json").read_text())
    assert meta["processing_units"] == 1.25
    assert meta["synthetic"] is True
    assert meta["size"] == len(b"tiff-bytes")
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
    assert cache.get(key) is None
    cache.put(key, FetchResult(b"0123456789", 1.0, False), base_url=URL)
    (tmp_path / "cd" / f"{key}.json").write_text("{not json")
    assert cache.get(key) is None
    (tmp_path / "cd" / f"{key}.json").unlink()
    assert cache.get(key) is None  # content without sidecar: incomplete


def test_cached_fetch_downloads_once(tmp_path: Path, requests_: tuple[TileRequest, ...]) -> None:
    calls: list[TileRequest] = []

    def fetch(request: TileRequest) -> FetchResult:
        calls.append(request)
        return FetchResult(
            f"tile {request.tile.index_row},{request.tile.index_col}".encode(), 2, False
        )

    wrapped = cached(fetch, TileCache(tmp_path), URL)
    first = [wrapped(r) for r in requests_]
    second = [wrapped(r) for r in requests_]
    assert len(calls) == len(requests_)
    assert [r.content for r in first] == [r.content for r in second]
    assert all(r.from_cache and r.processing_units == 0 for r in second)
    assert not any(r.from_cache for r in first)
    other = cached(fetch, TileCache(tmp_path), "https://sh.dataspace.copernicus.eu")
    other(requests_[0])
    assert len(calls) == len(requests_) + 1  # another service: another entry
    assert TileCache(tmp_path).clear() == len(requests_) + 1
    assert TileCache(tmp_path).get(cache_key(URL, payload(requests_[0]))) is None


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
