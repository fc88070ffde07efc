"""The CLI before paying: the cost line (uncached requests, both sample types, CRS, centre),
the two separate questions on a terminal, ``--sample-type`` and ``s2raster usage``."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from click.testing import CliRunner, Result

from s2raster.cli import cli
from s2raster.ledger import Ledger
from s2raster.plan import make_plan

if TYPE_CHECKING:
    from s2raster.emulator import Emulator

BBOX = ["14.45", "46.02", "14.50", "46.05"]  # 390 x 336 px at 10 m: one tile
TIME = "2024-06-01/2024-06-30"
#: 10980 x 10980 px or so at 10 m: above the 100 million px question, ~1600 PU.
LARGE = ["13.0", "45.5", "14.42", "46.5"]


def run(*args: str, stdin: str | None = None) -> Result:
    return CliRunner().invoke(cli, list(args), input=stdin, catch_exceptions=False)


@pytest.fixture
def terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    """As if stdin and stderr were a terminal."""
    monkeypatch.setattr("s2raster.cli.confirm.is_interactive", lambda: True)


def test_plan_shows_both_sample_types() -> None:
    result = run("plan", "--bbox", *BBOX, "--time", TIME, "--sample-type", "uint16", "--json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["sample_type"] == "UINT16"
    by_type = summary["estimated_pu_by_sample_type"]
    assert summary["estimated_pu"] == pytest.approx(by_type["UINT16"])
    assert by_type["FLOAT32"] == pytest.approx(2 * by_type["UINT16"])
    text = run("plan", "--bbox", *BBOX, "--time", TIME).stdout
    assert "UINT16 responses (--sample-type UINT16)" in text
    assert "centre:     lon 14.4749, lat 46.0350" in text


def test_the_cost_line_counts_only_what_is_not_cached(emulator: Emulator, tmp_path: Path) -> None:
    """Against one emulator (one URL, so its tiles can be found again in the cache)."""
    env = dict(line.split("=", 1) for line in emulator.env_lines())  # SH_BASE_URL=... (4)
    cache = tmp_path / "cache"
    args = ["fetch", "--bbox", *BBOX, "--time", TIME, "--cache-dir", str(cache)]
    runner = CliRunner()
    first = runner.invoke(cli, [*args, "-o", str(tmp_path / "a.tif")], env=env)
    assert first.exit_code == 0, first.output
    plan = make_plan(tuple(float(v) for v in BBOX), TIME, ["B02", "B03", "B04", "B08"])  # type: ignore[arg-type]
    line = next(x for x in first.stderr.splitlines() if x.startswith("Estimated cost"))
    assert line.startswith(
        f"Estimated cost: {plan.estimated_pu:.2f} processing units for 1 request"
    )
    assert f"UINT16 responses: {plan.estimated_pu_as('UINT16'):.2f}" in line
    assert line.endswith("output EPSG:32633, centre lon 14.4749, lat 46.0350")
    again = runner.invoke(cli, [*args, "-o", str(tmp_path / "b.tif")], env=env)
    assert again.exit_code == 0, again.output
    line = next(x for x in again.stderr.splitlines() if x.startswith("Estimated cost"))
    assert line.startswith("Estimated cost: 0.00 processing units for 0 requests, 1 more cached")


@pytest.mark.usefixtures("terminal")
@pytest.mark.parametrize(("answer", "code"), [("n\n", 1), ("y\n", 0)])
def test_a_terminal_is_asked_about_the_cost(tmp_path: Path, answer: str, code: int) -> None:
    out = tmp_path / "a.tif"
    args = ["fetch", "--emulator", "--bbox", *BBOX, "--time", TIME, "--confirm-above", "0.1"]
    result = run(*args, "-o", str(out), stdin=answer)
    assert "This job will spend about 1.33 processing units" in result.output
    assert result.exit_code == code, result.output
    assert out.exists() is (code == 0)


@pytest.mark.usefixtures("terminal")
def test_yes_cost_answers_the_cost_question(tmp_path: Path) -> None:
    out = tmp_path / "a.tif"
    args = ["fetch", "--emulator", "--bbox", *BBOX, "--time", TIME, "--confirm-above", "0.1"]
    result = run(*args, "--yes-cost", "-o", str(out))
    assert result.exit_code == 0, result.output
    assert "Continue?" not in result.output


def test_no_terminal_no_question(tmp_path: Path) -> None:
    out = tmp_path / "a.tif"
    args = ["fetch", "--emulator", "--bbox", *BBOX, "--time", TIME, "--confirm-above", "0.1"]
    result = run(*args, "-o", str(out))
    assert result.exit_code == 0, result.output
    assert "Continue?" not in result.output


@pytest.mark.usefixtures("terminal")
def test_yes_for_the_size_does_not_approve_the_cost(tmp_path: Path) -> None:
    out = tmp_path / "a.tif"
    result = run("fetch", "--emulator", "--bbox", *LARGE, "--time", TIME, "--yes", "-o", str(out),
                 stdin="n\n")  # fmt: skip
    assert "million px" not in result.output  # --yes answered the size
    assert "This job will spend about" in result.output  # ... not the cost
    assert result.exit_code == 1
    assert not out.exists()


@pytest.mark.usefixtures("terminal")
def test_yes_cost_does_not_approve_the_size(tmp_path: Path) -> None:
    out = tmp_path / "a.tif"
    result = run("fetch", "--emulator", "--bbox", *LARGE, "--time", TIME, "--yes-cost",
                 "-o", str(out), stdin="n\n")  # fmt: skip
    assert "above 100 million. Continue?" in result.output
    assert result.exit_code == 1
    assert not out.exists()


def test_off_a_terminal_a_large_area_still_needs_yes(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli,
        ["fetch", "--bbox", *LARGE, "--time", TIME, "--yes-cost", "-o", str(tmp_path / "a.tif")],
    )
    assert result.exit_code == 2
    assert "--yes" in result.output


def test_usage_sums_this_month_per_service(tmp_path: Path) -> None:
    path = tmp_path / "ledger.jsonl"
    ledger = Ledger(path)
    for pu in (1.5, 2.5):
        ledger.record(pu, "https://sh.dataspace.copernicus.eu")
    ledger.record(
        9.0, "https://sh.dataspace.copernicus.eu", when=datetime(2020, 1, 1, tzinfo=timezone.utc)
    )
    result = run("usage", "--ledger", str(path))
    assert result.exit_code == 0, result.output
    assert "https://sh.dataspace.copernicus.eu: 4.00 of 10,000 free PU (0.04%), 2 of 10,000" in (
        result.stdout
    )
    data = json.loads(run("usage", "--ledger", str(path), "--month", "2020-01", "--json").stdout)
    assert data["services"] == [
        {"service": "https://sh.dataspace.copernicus.eu", "requests": 1, "processing_units": 9.0}
    ]
    assert run("usage", "--month", "June").exit_code == 2
