"""``s2raster indices`` and the catalogue behind ``--index`` (no service needed)."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner, Result

from s2raster.cli import cli

BBOX = ["14.45", "46.02", "14.50", "46.05"]
TIME = "2024-06-01/2024-06-30"


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def test_lists_the_catalogue() -> None:
    result = run("indices")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert len(lines) == 246
    assert any(line.split()[:2] == ["NDVI", "B08,B04"] for line in lines)
    assert lines[-1].startswith(
        "245 indices (Awesome Spectral Indices of 2026-08-21, commit 926973262d11)"
    )


def test_filters() -> None:
    burn = run("indices", "--domain", "burn", "--search", "nbr").stdout.splitlines()
    assert [line.split()[0] for line in burn[:-1]] == ["NBR", "NBR2", "NBRSWIR", "NBRplus"]
    assert run("indices", "--search", "snow").stdout.count("\n") > 3


def test_details() -> None:
    result = run("indices", "evi", "NDREI", "NIRvP")
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "EVI: Enhanced Vegetation Index" in out
    assert "Sentinel-2: g * (B08 - B04) / (B08 + C1 * B04 - C2 * B02 + L)" in out
    assert "constants:  g = 2.5, C1 = 6.0, C2 = 7.5, L = 1.0" in out
    assert "NDRE: Normalized Difference Red Edge Index" in out
    assert "ASI name:   NDREI" in out
    assert "PAR = (none: give it)" in out


def test_json() -> None:
    rows = json.loads(run("indices", "SAVI", "--json").stdout)
    assert rows == [
        {
            "short_name": "SAVI",
            "long_name": "Soil-Adjusted Vegetation Index",
            "formula": "(1.0 + L) * (N - R) / (N + R + L)",
            "s2_formula": "(1.0 + L) * (B08 - B04) / (B08 + B04 + L)",
            "bands": ["B08", "B04"],
            "constants": {"L": 0.5},
            "application_domain": "vegetation",
            "reference": "https://doi.org/10.1016/0034-4257(88)90106-X",
            "contributor": "https://github.com/davemlz",
            "date_of_addition": "2021-04-07",
            "asi_name": "SAVI",
        }
    ]


@pytest.mark.parametrize(
    ("name", "needle"),
    [("bai", "ambiguous: choose one of BAI, BaI"), ("NBRT1", "not computable from Sentinel-2")],
)
def test_unknown_names_are_usage_errors(name: str, needle: str) -> None:
    result = CliRunner().invoke(cli, ["indices", name])
    assert result.exit_code == 2
    assert needle in result.output


def test_plan_with_any_catalogue_index_or_an_expression() -> None:
    args = ["plan", "--bbox", *BBOX, "--time", TIME, "--json", "--index"]
    result = run(*args, "NBRplus,(B8A - B05) / (B8A + B05)")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["bands"] == ["B02", "B03", "B05", "B8A", "B12"]


def test_plan_refuses_an_index_without_its_constant() -> None:
    result = CliRunner().invoke(cli, ["plan", "--bbox", *BBOX, "--time", TIME, "--index", "NIRvP"])
    assert result.exit_code == 2
    assert "NIRvP needs constant PAR" in result.output
