"""CLI errors found before any request: one line on stderr naming problem and fix, exit 2
(usage) or 1 (failure), no traceback (unless --debug), no output file left behind."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from cli_helpers import BBOX, TIME, assert_one_line_error, fetch_args, run
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st


@pytest.mark.parametrize(
    ("name", "needle"),
    [("out.png", ".tif"), ("missing/out.tif", "does not exist")],
)
def test_bad_output_path(name: str, needle: str, tmp_path: Path) -> None:
    result = run(*fetch_args(tmp_path / name, "--emulator"))
    assert_one_line_error(result, 2, needle)
    assert list(tmp_path.iterdir()) == []


def test_click_usage_error_is_one_line(tmp_path: Path) -> None:
    result = run("fetch", "--time", TIME, "-o", str(tmp_path / "x.tif"))
    assert_one_line_error(result, 2, "--bbox", "--help")


def test_fetch_needs_an_output() -> None:
    assert_one_line_error(run("fetch", "--bbox", *BBOX, "--time", TIME), 2, "-o")


def test_truecolor_size_or_resolution(tmp_path: Path) -> None:
    args = ["truecolor", "--bbox", *BBOX, "--size", "8", "8", "--resolution", "10"]
    assert_one_line_error(run(*args, "-o", str(tmp_path / "a.png")), 2, "--size")


def test_missing_credentials(no_credentials: None, tmp_path: Path) -> None:
    out = tmp_path / "out.tif"
    line = assert_one_line_error(run(*fetch_args(out)), 1, "SH_CLIENT_ID", "--emulator")
    assert "Traceback" not in line
    assert not out.exists()


def test_config_check_without_credentials(no_credentials: None) -> None:
    result = run("config", "check")
    assert_one_line_error(result, 1, "SH_CLIENT_ID")
    assert "https://sh.dataspace.copernicus.eu" in result.stdout
    assert "not found" in result.stdout


def test_debug_shows_the_traceback(tmp_path: Path) -> None:
    args = ["--debug", "fetch", "--bbox", "14.5", "46.0", "14.4", "46.1", "--time", TIME]
    proc = subprocess.run(
        [sys.executable, "-m", "s2raster.cli", *args, "-o", str(tmp_path / "x.tif")],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert proc.returncode == 1
    assert "Traceback" in proc.stderr
    assert "InputError" in proc.stderr


def test_errors_in_a_subprocess_are_one_line(tmp_path: Path) -> None:
    args = [
        "fetch",
        "--bbox",
        *BBOX,
        "--time",
        TIME,
        "--index",
        "FOO",
        "-o",
        str(tmp_path / "x.tif"),
    ]
    proc = subprocess.run(
        [sys.executable, "-m", "s2raster.cli", *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1
    assert proc.stderr.startswith("Error: unknown index 'FOO'")


coordinate = st.floats(-200, 200, allow_nan=False, allow_infinity=False)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(x=coordinate, y=coordinate, dx=st.floats(-5, 0), dy=st.floats(-5, 5))
def test_any_empty_bbox_is_a_usage_error(x: float, y: float, dx: float, dy: float) -> None:
    """minx >= maxx (whatever else) is always exit 2 with one line naming the bbox."""
    bbox = [repr(v) for v in (x, y, x + dx, y + dy)]
    result = run("plan", "--bbox", *bbox, "--time", TIME)
    assert_one_line_error(result, 2, "bbox")


@settings(max_examples=30, deadline=None)
@given(lat=st.one_of(st.floats(90.001, 1e6), st.floats(-1e6, -90.001)))
def test_any_latitude_out_of_range_is_a_usage_error(lat: float) -> None:
    lo, hi = sorted((lat, 0.0))
    result = run("plan", "--bbox", "14.0", repr(lo), "14.1", repr(hi), "--time", TIME)
    assert_one_line_error(result, 2, "bbox")
