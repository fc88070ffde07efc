"""The time-series commands on the emulator: ``dates``, ``plan`` of a series, ``fetch
--per-date`` / ``--composite`` / ``--cloud-mask``, and an empty search (one line, exit 1,
nothing written)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import rasterio
from click.testing import CliRunner, Result

from s2raster.cli import cli
from s2raster.cli.options import COMPOSITE_METHODS
from s2raster.composite import METHODS

BBOX = ["14.50", "46.05", "14.52", "46.06"]
TIME = "2024-06-01/2024-06-30"


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def test_the_cli_knows_every_composite_method() -> None:
    assert COMPOSITE_METHODS == METHODS


def test_dates_lists_the_acquisitions() -> None:
    result = run("dates", "--emulator", "--bbox", *BBOX, "--time", TIME)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["solar_day", "time", "cloud_cover", "tiles", "acquisitions"]
    assert "dates (solar_day)" in lines[-2]
    assert "no processing units" in lines[-2]
    assert "SYNTHETIC" in lines[-1]
    rows = lines[1:-2]
    assert len(rows) >= 5
    assert all(row.split()[0].startswith("2024-06-") for row in rows)
    csv = run("dates", "--emulator", "--bbox", *BBOX, "--time", TIME, "--csv", "--groupby", "none")
    assert csv.exit_code == 0, csv.output
    assert csv.stdout.splitlines()[0] == "solar_day,time,cloud_cover,tiles,acquisitions"
    assert len(csv.stdout.splitlines()) >= len(rows) + 1  # one line per catalog item


def test_plan_of_a_series_counts_dates_times_tiles() -> None:
    one = run("plan", "--bbox", *BBOX, "--time", TIME, "--index", "NDVI", "--json")
    series = run(
        "plan", "--emulator", "--bbox", *BBOX, "--time", TIME, "--index", "NDVI",
        "--cloud-mask", "--groupby", "solar_day", "--json",
    )  # fmt: skip
    assert one.exit_code == 0, one.output
    assert series.exit_code == 0, series.output
    mosaic, dated = json.loads(one.stdout), json.loads(series.stdout)
    assert mosaic["dates"] is None
    assert dated["bands"] == ["B04", "B08", "SCL"]
    assert dated["requests"] == dated["dates"] * dated["tiles"]
    assert dated["estimated_pu"] > mosaic["estimated_pu"] * dated["dates"]  # + SCL
    text = run("plan", "--emulator", "--bbox", *BBOX, "--time", TIME, "--per-date")
    assert f"dates:      {dated['dates']} (solar_day)" in text.stdout


def test_fetch_per_date(tmp_path: Path) -> None:
    out = tmp_path / "ndvi_{time}.tif"
    args = ["fetch", "--emulator", "--bbox", *BBOX, "--time", TIME, "--index", "NDVI"]
    result = run(*args, "--cloud-mask", "--per-date", "-q", "-o", str(out))
    assert result.exit_code == 0, result.output
    files = sorted(tmp_path.glob("ndvi_*.tif"))
    assert len(files) >= 5
    assert f"{len(files)} file(s), one per date, clouds masked (SCL)" in result.stdout
    for path in files:
        with rasterio.open(path) as src:
            assert src.descriptions == ("NDVI",)
            assert src.tags()["time"].startswith(path.stem.removeprefix("ndvi_")[:10])
            assert src.tags()["S2RASTER_SYNTHETIC"] == "1"


@pytest.mark.parametrize("method", ["median", "greenest"])
def test_fetch_composite(tmp_path: Path, method: str) -> None:
    out = tmp_path / f"{method}.tif"
    args = ["fetch", "--emulator", "--bbox", *BBOX, "--time", TIME, "--bands", "B04,B08"]
    result = run(*args, "--composite", method, "--cloud-mask", "-q", "-o", str(out))
    assert result.exit_code == 0, result.output
    assert f"{method} of " in result.stdout
    with rasterio.open(out) as src:
        assert src.descriptions == ("B04", "B08")
        assert src.tags()["composite_method"] == method
        assert int(src.tags()["composite_dates"]) >= 5


def test_no_acquisition_is_one_line_exit_1_nothing_written(tmp_path: Path) -> None:
    for extra in (
        ["--per-date", "-o", str(tmp_path / "x_{time}.tif")],
        ["-o", str(tmp_path / "x.tif")],
    ):
        args = ["fetch", "--emulator", "--bbox", *BBOX, "--time", "2031-06-01/2031-06-30"]
        result = run(*args, "--bands", "B04", *extra)
        assert result.exit_code == 1
        errors = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
        assert len(errors) == 1
        assert "no sentinel-2-l2a acquisition" in errors[0]
        assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--per-date", "-o", "out.tif"], "--per-date needs {time} in -o"),
        (["-o", "out_{time}.tif"], "add --per-date"),
        (["--per-date", "--composite", "median", "-o", "o_{time}.tif"], "choose one"),
        (["--groupby", "time", "-o", "out.tif"], "--groupby makes a time series"),
    ],
)
def test_series_options_that_cannot_be_written(
    tmp_path: Path, extra: list[str], message: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = run("fetch", "--emulator", "--bbox", *BBOX, "--time", TIME, *extra)
    assert result.exit_code == 2
    assert message in result.stderr
    assert list(tmp_path.iterdir()) == []
