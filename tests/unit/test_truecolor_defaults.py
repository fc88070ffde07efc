"""True colour that looks right by default: square pixels, leastCC, dates, alpha, tags."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import numpy as np
import pytest
import rasterio
from rasterio.enums import ColorInterp

from s2raster.fetch import Acquisition
from s2raster.grid import Grid
from s2raster.testing import FakeFetch
from s2raster.truecolor import NonSquarePixelsWarning, truecolor, truecolor_plan

BBOX = (14.40, 46.00, 14.60, 46.10)  # wider than high: about 15.5 x 11.2 km
TIME = "2024-06-01/2024-06-30"
DATES = (
    Acquisition("A", datetime(2024, 6, 8, 10, 0), 3.0, "33TVM"),
    Acquisition("B", datetime(2024, 6, 3, 10, 0), 40.0, "33TVM"),
)


def square(grid: Grid) -> bool:
    rx, ry = grid.res
    return abs(rx - ry) <= 0.01 * max(rx, ry)


@pytest.mark.parametrize("size", [512, (512, None), (None, 369)])
def test_one_side_gives_square_pixels(size: object) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no warning: the pixels are square
        plan = truecolor_plan(BBOX, TIME, size=size)  # type: ignore[arg-type]
    grid = plan.grid
    assert square(grid)
    assert max(grid.width, grid.height) == 512 or grid.height == 369
    assert grid.width > grid.height  # follows the bbox's aspect


def test_default_is_the_longer_side_512_with_square_pixels() -> None:
    grid = truecolor_plan(BBOX, TIME).grid
    assert grid.width == 512
    assert square(grid)


def test_both_sides_non_square_warns() -> None:
    with pytest.warns(NonSquarePixelsWarning, match=r"not square.*size=\(512, None\)"):
        plan = truecolor_plan(BBOX, TIME, size=(512, 512))
    assert plan.grid.shape == (512, 512)


@pytest.mark.parametrize("size", [(None, None), (0, None), ("512", None), (1.5, 2)])
def test_bad_sizes_are_refused(size: object) -> None:
    with pytest.raises(ValueError, match="size"):
        truecolor_plan(BBOX, TIME, size=size)  # type: ignore[arg-type]


def test_defaults_least_cloudy_and_the_dates_found(tmp_path: Path) -> None:
    fake = FakeFetch(acquisitions=DATES, fill=0.1)
    result = truecolor(BBOX, TIME, size=64, fetch=fake, cache=False)
    assert fake.searches[0].mosaicking == "leastCC"
    assert {r.query.mosaicking for r in fake.calls} == {"leastCC"}
    assert result.dates == ("2024-06-03", "2024-06-08")
    out = result.write(tmp_path / "rgb.tif")
    with rasterio.open(out) as ds:
        tags = ds.tags()
        assert tags["mosaicking"] == "leastCC"
        assert tags["acquisition_dates"] == "2024-06-03,2024-06-08"
        assert tags["collection"] == "sentinel-2-l2a"
        assert tags["time_from"] == "2024-06-01T00:00:00Z"
        assert tags["time_to"] == "2024-06-30T23:59:59Z"
        assert float(tags["processing_units_spent"]) == pytest.approx(0.5 * len(fake.calls))
        assert "request_sha256" in tags
        assert ds.colorinterp == (
            ColorInterp.red,
            ColorInterp.green,
            ColorInterp.blue,
            ColorInterp.alpha,
        )
        assert [ds.descriptions[i] for i in range(4)] == ["red", "green", "blue", "alpha"]


def test_no_data_is_transparent_in_png_and_geotiff(tmp_path: Path) -> None:
    from PIL import Image

    fake = FakeFetch()  # dataMask 0 where (row + col) % 7 == 0
    result = truecolor(BBOX, TIME, size=(40, None), fetch=fake, cache=False)
    assert result.valid is not None
    assert 0 < (~result.valid).sum() < result.valid.size
    with Image.open(result.write(tmp_path / "rgb.png")) as png:
        assert png.mode == "RGBA"
        alpha = np.asarray(png)[..., 3]
        np.testing.assert_array_equal(alpha == 255, result.valid)
        assert png.info["mosaicking"] == "leastCC"
    with rasterio.open(result.write(tmp_path / "rgb.tif")) as ds:
        np.testing.assert_array_equal(ds.read(4) == 255, result.valid)
        np.testing.assert_array_equal(ds.read_masks(1) == 255, result.valid)


def offline(monkeypatch: pytest.MonkeyPatch, fake: FakeFetch) -> None:
    """The CLI's service is ``fake`` (no credentials, no network)."""
    import contextlib

    from sentinelhub.config import SHConfig

    import s2raster._load as pipeline
    import s2raster.cli.session as session

    @contextlib.contextmanager
    def config(endpoint: object) -> Iterator[tuple[SHConfig, bool]]:
        yield SHConfig(use_defaults=True), False

    monkeypatch.setattr(session, "service_config", config)
    monkeypatch.setattr(pipeline, "service", lambda config, fetch, concurrency, quota=None: fake)


def test_cli_prints_the_dates_and_the_warning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from click.testing import CliRunner

    from s2raster.cli import cli

    fake = FakeFetch(acquisitions=DATES, fill=0.1)
    offline(monkeypatch, fake)
    args = ["truecolor", "--bbox", *map(str, BBOX), "--time", TIME, "--no-cache", "-q"]
    result = CliRunner().invoke(cli, [*args, "--size", "64", "auto", "-o", str(tmp_path / "a.png")])
    assert result.exit_code == 0, result.output
    assert "dates:      2024-06-03, 2024-06-08 (leastCC: the least cloudy wins" in result.stdout
    assert "Warning" not in result.stderr
    result = CliRunner().invoke(cli, [*args, "--size", "64", "64", "-o", str(tmp_path / "b.png")])
    assert result.exit_code == 0, result.output
    bad = CliRunner().invoke(cli, [*args, "--size", "64", "x", "-o", str(tmp_path / "c.png")])
    assert bad.exit_code == 2
    assert "'x' is not a number of pixels" in bad.stderr


def test_cli_non_square_warning_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from click.testing import CliRunner

    from s2raster.cli import cli

    offline(monkeypatch, FakeFetch())
    args = ["truecolor", "--bbox", *map(str, BBOX), "--time", TIME, "--no-cache"]
    result = CliRunner().invoke(cli, [*args, "--size", "64", "64", "-o", str(tmp_path / "b.png")])
    assert result.exit_code == 0, result.output
    warning = [line for line in result.stderr.splitlines() if line.startswith("Warning:")]
    assert len(warning) == 1
    assert "not square" in warning[0]
    assert "--size 64 auto" in warning[0]
