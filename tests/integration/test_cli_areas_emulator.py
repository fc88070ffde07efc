"""``s2raster stats`` and ``fetch --geometry`` on the emulator, through CliRunner."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import rasterio
from cli_helpers import assert_one_line_error, run
from shapely.geometry import box, mapping

import s2raster
from s2raster.geometry import read_area

pytestmark = pytest.mark.filterwarnings(
    "ignore:Dataset has no geotransform:rasterio.errors.NotGeoreferencedWarning"
)

TIME = "2024-06-01/2024-06-30"
FIELDS = {
    "north": box(13.830, 45.860, 13.836, 45.864),
    "south": box(13.850, 45.870, 13.853, 45.873),
}


@pytest.fixture
def fields(tmp_path: Path) -> Path:
    path = tmp_path / "fields.geojson"
    features = [
        {"type": "Feature", "properties": {"name": name}, "geometry": mapping(geometry)}
        for name, geometry in FIELDS.items()
    ]
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    return path


def stats_args(fields: Path, out: Path, *extra: str) -> list[str]:
    return [
        "stats", str(fields), "--emulator", "--time", TIME, "--index", "NDVI",
        "--interval", "P10D", "--id-column", "name", *extra, "-o", str(out),
    ]  # fmt: skip


def test_stats_to_csv_with_the_cost_line_first(fields: Path, tmp_path: Path) -> None:
    out = tmp_path / "ndvi.csv"
    result = run(*stats_args(fields, out))
    assert result.exit_code == 0, result.output
    requests = s2raster.plan_statistics(fields, TIME, "NDVI", interval="P10D")
    estimate = sum(r.estimated_pu for r in requests)
    assert f"Estimated cost: {estimate:.2f} processing units for 2 requests" in result.stderr
    assert "2 zone(s) x 3 interval(s), by the Statistical API" in result.stderr
    assert f"{out}: 6 rows, 2 request(s)" in result.stdout
    assert "SYNTHETIC" in result.stdout
    table = pd.read_csv(out)
    assert list(table.columns) == [
        "zone", "time", "band", "mean", "median", "std", "min", "max", "count",
        "valid_fraction", "synthetic",
    ]  # fmt: skip
    assert set(table.zone) == {"north", "south"}
    assert (table.synthetic == 1).all()


def test_stats_local_to_parquet_agrees_with_the_service(fields: Path, tmp_path: Path) -> None:
    service, local = tmp_path / "service.parquet", tmp_path / "local.parquet"
    first = run(*stats_args(fields, service, "--stats", "mean,count"))
    second = run(*stats_args(fields, local, "--stats", "mean,count", "--local"))
    assert first.exit_code == second.exit_code == 0, second.output
    assert "from pixels (Process API tiles, --local)" in second.stderr
    a, b = pd.read_parquet(service), pd.read_parquet(local)
    assert list(a.columns) == ["zone", "time", "band", "mean", "count", "synthetic"]
    assert a["count"].tolist() == b["count"].tolist()
    np.testing.assert_allclose(a["mean"], b["mean"], rtol=1e-5)


@pytest.mark.parametrize(
    ("extra", "code", "needle"),
    [
        (["--max-pu", "0.001"], 2, "above max_pu"),
        (["--interval", "PT1H"], 2, "ISO 8601 period"),
        (["--local", "--percentiles", "10"], 2, "Statistical API only"),
    ],
)
def test_stats_errors_write_nothing(
    fields: Path, tmp_path: Path, extra: list[str], code: int, needle: str
) -> None:
    out = tmp_path / "ndvi.csv"
    result = run(*stats_args(fields, out, *extra))
    assert result.exit_code == code, result.output
    last = result.stderr.strip().splitlines()[-1]  # after the notices, if any
    assert last.startswith("Error: ")
    assert needle in last
    assert "Traceback" not in result.output
    assert not out.exists()


def test_stats_needs_a_table_extension_and_something_to_compute(
    fields: Path, tmp_path: Path
) -> None:
    assert_one_line_error(run(*stats_args(fields, tmp_path / "ndvi.tif")), 2, ".csv or .parquet")
    args = ["stats", str(fields), "--emulator", "--time", TIME, "-o", str(tmp_path / "a.csv")]
    assert_one_line_error(run(*args), 2, "--index")


def test_fetch_geometry_is_nan_outside_the_fields(fields: Path, tmp_path: Path) -> None:
    out = tmp_path / "fields.tif"
    args = ["fetch", "--emulator", "--geometry", str(fields), "--time", TIME, "--index", "NDVI"]
    result = run(*args, "--no-cache", "-q", "-o", str(out))
    assert result.exit_code == 0, result.output
    with rasterio.open(out) as src:
        data = src.read(1)
        inside = rasterio.features.geometry_mask(
            [read_area(fields).to_crs(src.crs.to_string()).geometry],
            out_shape=data.shape,
            transform=src.transform,
            invert=True,
        )
    assert np.isnan(data[~inside]).all()
    assert np.isfinite(data[inside]).all()
