"""The ``s2raster`` command line without a service: help, version, plan, dry run, the
progress bar, and that ``--help`` does not import the scientific stack."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from s2raster import __version__
from s2raster.cli import cli
from s2raster.plan import make_plan

BBOX = ["14.45", "46.02", "14.50", "46.05"]  # ~390 x 340 px at 10 m: one tile
TIME = "2024-06-01/2024-06-30"
#: ~2690 x 60 px at 10 m: two tiles side by side.
STRIP = ["14.10", "46.020", "14.45", "46.025"]
COMMANDS = [
    [],
    ["fetch"],
    ["plan"],
    ["stats"],
    ["truecolor"],
    ["indices"],
    ["emulator"],
    ["config"],
]
COMMANDS += [["config", "check"]]
#: What ``--help`` must not import (the scientific stack).
HEAVY = ("sentinelhub", "xarray", "dask", "rasterio", "numpy", "pyproj")


def run(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help(command: list[str]) -> None:
    result = run(*command, "--help")
    assert result.exit_code == 0
    assert result.stdout.startswith("Usage: ")


def test_version() -> None:
    result = run("--version")
    assert result.exit_code == 0
    assert __version__ in result.stdout


def test_plan_reports_grid_tiles_cost_and_quota() -> None:
    result = run("plan", "--bbox", *STRIP, "--time", TIME, "--bands", "B04,B08")
    assert result.exit_code == 0, result.output
    plan = make_plan(tuple(float(v) for v in STRIP), TIME, ["B04", "B08"])  # type: ignore[arg-type]
    out = result.stdout
    assert f"{plan.grid.width} x {plan.grid.height} px" in out
    assert "EPSG:32633" in out
    assert "tiles:      2 (1 x 2)" in out
    assert f"{plan.estimated_pu:.2f} processing units" in out
    assert "a minute" in out
    assert "a month" in out


def test_plan_json_is_the_plan_summary() -> None:
    result = run("plan", "--bbox", *BBOX, "--time", TIME, "--index", "ndvi", "--json")
    assert result.exit_code == 0, result.output
    expected = make_plan(tuple(float(v) for v in BBOX), TIME, ["B04", "B08"]).summary()  # type: ignore[arg-type]
    assert json.loads(result.stdout) == json.loads(json.dumps(expected))


def test_plan_warns_above_the_free_quota() -> None:
    result = run("plan", "--bbox", "14.0", "46.0", "14.6", "46.6", "--time", TIME, "--yes")
    assert result.exit_code == 0, result.output
    assert "above the per-minute quota" in result.stdout


def test_dry_run_prints_the_plan_and_writes_nothing(tmp_path: Path) -> None:
    out = tmp_path / "x.tif"
    result = run("fetch", "--bbox", *BBOX, "--time", TIME, "--dry-run", "-o", str(out))
    assert result.exit_code == 0, result.output
    assert "processing units" in result.stdout
    assert not out.exists()


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize("quiet", [False, True])
def test_tile_progress_bar(monkeypatch: pytest.MonkeyPatch, quiet: bool) -> None:
    from s2raster.cli.progress import tile_progress

    terminal = _Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    with tile_progress(3, quiet=quiet) as advance:
        for _ in range(3):
            advance(object())  # load calls it with the finished TileRequest
        shown = terminal.getvalue()
    assert ("0/3 [" in shown) is not quiet  # the bar (updates are rate-limited)


def test_help_imports_no_scientific_stack() -> None:
    """Every ``--help`` (run in a fresh interpreter) leaves sentinelhub, xarray, dask,
    rasterio, numpy and pyproj unimported."""
    code = textwrap.dedent(
        f"""
        import sys
        from click.testing import CliRunner
        from s2raster.cli import cli
        for command in {COMMANDS!r}:
            result = CliRunner().invoke(cli, [*command, "--help"])
            assert result.exit_code == 0, result.output
        heavy = sorted(m for m in sys.modules if m.split(".")[0] in {HEAVY!r})
        print(",".join(heavy))
        """
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=False
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == ""
