"""The command line with polygons: ``plan``/``fetch --geometry FILE``, one of --bbox and
--geometry, without a service."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from shapely.geometry import box, mapping

from s2raster.cli import cli
from s2raster.plan import make_plan

TIME = "2024-06-01/2024-06-30"
FIELDS = [box(13.830, 45.860, 13.836, 45.864), box(13.850, 45.870, 13.853, 45.873)]


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


@pytest.fixture
def fields_file(tmp_path: Path) -> Path:
    path = tmp_path / "fields.geojson"
    features = [
        {"type": "Feature", "properties": {"id": k}, "geometry": mapping(g)}
        for k, g in enumerate(FIELDS)
    ]
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    return path


def test_plan_with_a_geometry_file(fields_file: Path) -> None:
    result = run("plan", "--geometry", str(fields_file), "--time", TIME, "--bands", "B04", "--json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    expected = make_plan(geometry=fields_file, time=TIME, bands="B04")
    assert summary["bounds"] == list(expected.grid.bounds)
    assert summary["geometry"] is True
    assert summary["requests"] == len(expected.requests)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--bbox", "13.8", "45.8", "13.9", "45.9"], "either --bbox or --geometry, not both"),
        ([], None),
    ],
)
def test_one_of_bbox_and_geometry(fields_file: Path, extra: list[str], message: str | None) -> None:
    args = ["plan", "--time", TIME, "--bands", "B04", *extra]
    if message is not None:
        args += ["--geometry", str(fields_file)]
    result = run(*args)
    assert result.exit_code == 2
    assert (
        message or "give the area: --bbox MINX MINY MAXX MAXY or --geometry FILE"
    ) in result.output


def test_a_missing_geometry_file_is_a_usage_error(tmp_path: Path) -> None:
    result = run("plan", "--geometry", str(tmp_path / "none.geojson"), "--time", TIME)
    assert result.exit_code == 2
    assert "does not exist" in result.output


def test_truecolor_takes_a_bbox_only() -> None:
    assert "--geometry" not in run("truecolor", "--help").stdout
    assert "--geometry" in run("fetch", "--help").stdout
