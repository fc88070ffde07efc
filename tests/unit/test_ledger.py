"""The local ledger of spent processing units: lines, months, services, concurrent appends."""

from __future__ import annotations

import json
import multiprocessing
from datetime import datetime, timezone
from pathlib import Path

import pytest

from s2raster._load import LoadStats, load
from s2raster.errors import InputError
from s2raster.ledger import Ledger, default_path, resolve_ledger, service_name, usage
from s2raster.testing import FakeFetch

BBOX = (13.80, 45.85, 13.84, 45.87)
TIME = "2024-06-01/2024-06-30"


def test_one_small_line_per_request(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "ledger.jsonl")
    when = datetime(2024, 6, 3, 12, 0, tzinfo=timezone.utc)
    ledger.record(1.25, "https://sh.dataspace.copernicus.eu/", when=when)
    lines = (tmp_path / "ledger.jsonl").read_text().splitlines()
    assert [json.loads(line) for line in lines] == [
        {
            "time": "2024-06-03T12:00:00.000Z",
            "pu": 1.25,
            "service": "https://sh.dataspace.copernicus.eu",
        }
    ]


def test_a_url_keeps_no_credentials_or_query() -> None:
    url = "https://user:s3cret@sh.example.com:8443/api/?token=abc#frag"
    assert service_name(url) == "https://sh.example.com:8443/api"


def test_usage_per_service_this_month(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "l.jsonl")
    june = datetime(2024, 6, 3, tzinfo=timezone.utc)
    may = datetime(2024, 5, 31, 23, 59, tzinfo=timezone.utc)
    for pu in (1.0, 2.5):
        ledger.record(pu, "https://a.example", when=june)
    ledger.record(4.0, "https://b.example", when=june)
    ledger.record(100.0, "https://a.example", when=may)
    rows = usage(ledger, datetime(2024, 6, 30, tzinfo=timezone.utc))
    assert [(r.service, r.requests, r.processing_units) for r in rows] == [
        ("https://a.example", 2, 3.5),
        ("https://b.example", 1, 4.0),
    ]


def test_damaged_lines_are_skipped(tmp_path: Path) -> None:
    path = tmp_path / "l.jsonl"
    ledger = Ledger(path)
    ledger.record(1.0, "https://a.example")
    with path.open("a") as f:
        f.write('{"time": "not a time", "pu": 1}\n{"half a line')
    assert len(list(ledger.entries())) == 1


def _append_many(path: str, n: int) -> None:
    ledger = Ledger(Path(path))
    for _ in range(n):
        ledger.record(0.5, "https://sh.dataspace.copernicus.eu")


def test_concurrent_processes_never_interleave_lines(tmp_path: Path) -> None:
    path = tmp_path / "ledger.jsonl"
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_append_many, args=(str(path), 200)) for _ in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    lines = path.read_text().splitlines()
    assert len(lines) == 800
    assert all(json.loads(line)["pu"] == 0.5 for line in lines)


def test_the_default_ledger_is_beside_the_tile_cache() -> None:
    from s2raster.cache import default_directory

    assert default_path().parent == default_directory().parent
    ledger = resolve_ledger(True)
    assert ledger is not None
    assert ledger.path == default_path()
    assert resolve_ledger(False) is None
    with pytest.raises(InputError, match="ledger must be"):
        resolve_ledger(3)  # type: ignore[arg-type]


def test_a_load_appends_what_it_paid(tmp_path: Path) -> None:
    path = tmp_path / "ledger.jsonl"
    fake = FakeFetch(pu=0.75)
    st = LoadStats()
    load(BBOX, TIME, ["B04"], fetch=fake, cache=False, tile_px=64, ledger=path, stats=st)
    assert not path.exists()  # nothing until computed
    da = load(BBOX, TIME, ["B04"], fetch=fake, cache=False, tile_px=64, ledger=path, stats=st)
    da.compute()
    rows = usage(Ledger(path))
    assert [(r.service, r.requests) for r in rows] == [(fake.base_url, st.requests)]
    assert rows[0].processing_units == pytest.approx(0.75 * st.requests)


def test_synthetic_answers_are_not_recorded(tmp_path: Path) -> None:
    path = tmp_path / "ledger.jsonl"
    fake = FakeFetch(synthetic=True)
    load(BBOX, TIME, ["B04"], fetch=fake, cache=False, ledger=path).compute()
    assert fake.calls
    assert not path.exists()
