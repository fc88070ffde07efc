"""Helpers shared by the CLI tests (unit and integration): run a command, check its error."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner, Result

from s2raster.cli import cli

BBOX = ["14.45", "46.02", "14.50", "46.05"]
TIME = "2024-06-01/2024-06-30"


def run(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(cli, list(args), env=env)


def assert_one_line_error(result: Result, code: int, *needles: str) -> str:
    """Exit ``code``, one ``Error: ...`` line on stderr holding every needle, no traceback."""
    assert result.exit_code == code, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Error: ")
    assert "Traceback" not in result.output
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


def fetch_args(out: Path, *extra: str, bbox: list[str] = BBOX, time: str = TIME) -> list[str]:
    return ["fetch", "--bbox", *bbox, "--time", time, *extra, "-q", "-o", str(out)]
