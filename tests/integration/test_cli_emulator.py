"""The ``s2raster`` command line, through CliRunner and as a real process, on the emulator."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from click.testing import CliRunner, Result

from s2raster import __version__
from s2raster.cli import cli
from s2raster.plan import make_plan

if TYPE_CHECKING:
    from s2raster.emulator import Emulator

import rasterio

BBOX = ["14.45", "46.02", "14.50", "46.05"]  # ~390 x 340 px at 10 m: one tile
TIME = "2024-06-01/2024-06-30"
#: ~2690 x 60 px at 10 m: two tiles side by side.
STRIP = ["14.10", "46.020", "14.45", "46.025"]


def run(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)


def emulator_env(emulator: Emulator) -> dict[str, str]:
    return dict(line.split("=", 1) for line in emulator.env_lines())


def read(path: Path) -> tuple[tuple[str | None, ...], dict[str, str], tuple[int, int]]:
    with rasterio.open(path) as ds:
        return ds.descriptions, ds.tags(), (ds.height, ds.width)


def test_fetch_ndvi_on_the_emulator(tmp_path: Path) -> None:
    out = tmp_path / "ndvi.tif"
    args = ["fetch", "--emulator", "--bbox", *BBOX, "--time", TIME, "--index", "NDVI"]
    result = run(*args, "--no-cache", "-o", str(out))
    assert result.exit_code == 0, result.output
    plan = make_plan(tuple(float(v) for v in BBOX), TIME, ["B04", "B08"])  # type: ignore[arg-type]
    summary = result.stdout
    assert str(out) in summary
    assert f"{plan.grid.width} x {plan.grid.height} px, EPSG:32633" in summary
    assert "1 band(s) (NDVI), 1 tile(s)" in summary
    assert f"{plan.estimated_pu:.2f} processing units spent, 0 cache hit(s)" in summary
    assert "SYNTHETIC" in summary
    assert "SYNTHETIC" in result.stderr  # the notice, too
    assert f"Estimated cost: {plan.estimated_pu:.2f} processing units for 1 request" in (
        result.stderr
    )  # before the download, as well as spent after it
    descriptions, tags, shape = read(out)
    assert descriptions == ("NDVI",)
    assert tags.get("S2RASTER_SYNTHETIC") == "1"
    assert shape == plan.grid.shape


def test_fetch_two_indices_are_two_named_bands(tmp_path: Path) -> None:
    out = tmp_path / "idx.tif"
    args = ["fetch", "--emulator", "--bbox", *BBOX, "--time", TIME, "--index", "ndvi,evi"]
    result = run(*args, "--no-cache", "-q", "-o", str(out))
    assert result.exit_code == 0, result.output
    assert read(out)[0] == ("NDVI", "EVI")
    assert result.stderr == ""  # -q: no notice, no bar


def test_fetch_default_bands_over_two_tiles(tmp_path: Path) -> None:
    out = tmp_path / "bands.tif"
    args = ["fetch", "--emulator", "--bbox", *STRIP, "--time", TIME, "--no-cog"]
    result = run(*args, "--no-cache", "-o", str(out))
    assert result.exit_code == 0, result.output
    assert "4 band(s) (B02,B03,B04,B08), 2 tile(s)" in result.stdout
    descriptions, _, (_, width) = read(out)
    assert descriptions == ("B02", "B03", "B04", "B08")
    assert width > 2500


def test_fetch_from_env_uses_the_cache(emulator: Emulator, tmp_path: Path) -> None:
    """SH_* variables (as `s2raster emulator` prints them) select the service; the cache
    makes the rerun free."""
    env = emulator_env(emulator)
    args = ["fetch", "--bbox", *BBOX, "--time", TIME, "--bands", "B04"]
    args += ["--cache-dir", str(tmp_path / "cache")]
    first = run(*args, "-o", str(tmp_path / "a.tif"), env=env)
    assert first.exit_code == 0, first.output
    assert "0 cache hit(s)" in first.stdout
    assert "SYNTHETIC" in first.stdout  # loopback data is always marked synthetic
    served = len(emulator.log)
    second = run(*args, "-o", str(tmp_path / "b.tif"), env=env)
    assert second.exit_code == 0, second.output
    assert "0.00 processing units spent, 1 cache hit(s)" in second.stdout
    asked = [r.path for r in emulator.log.snapshot()[served:]]
    assert "/api/v1/process" not in asked  # the catalog search only


@pytest.mark.parametrize("suffix", [".png", ".tif"])
def test_truecolor(tmp_path: Path, suffix: str) -> None:
    out = tmp_path / f"image{suffix}"
    args = ["truecolor", "--emulator", "--bbox", *BBOX, "--time", TIME, "--size", "64", "48"]
    result = run(*args, "--no-cache", "-o", str(out))
    assert result.exit_code == 0, result.output
    assert "64 x 48 px" in result.stdout
    assert "SYNTHETIC" in result.stdout
    if suffix == ".png":
        from PIL import Image

        with Image.open(out) as png:
            assert png.size == (64, 48)
            assert png.info.get("S2RASTER_SYNTHETIC") == "1"
    else:
        _, tags, shape = read(out)
        assert shape == (48, 64)
        assert tags.get("S2RASTER_SYNTHETIC") == "1"


def test_truecolor_default_size_and_time(tmp_path: Path) -> None:
    out = tmp_path / "image.png"
    result = run("truecolor", "--emulator", "--bbox", *BBOX, "--no-cache", "-q", "-o", str(out))
    assert result.exit_code == 0, result.output
    assert "512 x 442 px" in result.stdout  # 512 px the longer side, square pixels


def test_config_check_on_the_emulator(no_credentials: None, emulator: Emulator) -> None:
    result = run("config", "check", env=emulator_env(emulator))
    assert result.exit_code == 0, result.output
    assert emulator.base_url in result.stdout
    assert "found (not shown)" in result.stdout
    assert "token:         obtained" in result.stdout
    assert emulator.client_secret not in result.output


def test_config_check_with_emulator_flag() -> None:
    result = run("config", "check", "--emulator")
    assert result.exit_code == 0, result.output
    assert "SYNTHETIC" in result.stdout


# -- as real processes: python -m s2raster.cli, the console script, the emulator server ----


def process_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SH_")}
    return {**env, **extra}


def test_module_fetch_in_a_subprocess(tmp_path: Path) -> None:
    out = tmp_path / "ndvi.tif"
    args = ["fetch", "--emulator", "--bbox", *BBOX, "--time", TIME, "--index", "NDVI"]
    proc = subprocess.run(
        [sys.executable, "-m", "s2raster.cli", *args, "--no-cache", "-o", str(out)],
        capture_output=True,
        text=True,
        env=process_env(),
        check=False,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert "SYNTHETIC" in proc.stdout
    assert "tiles" not in proc.stderr  # no progress bar when stderr is not a terminal
    assert read(out)[0] == ("NDVI",)


def test_console_script(tmp_path: Path) -> None:
    script = Path(sys.executable).parent / "s2raster"
    if not script.exists():
        pytest.skip(f"no console script at {script}")
    proc = subprocess.run(
        [str(script), "--version"], capture_output=True, text=True, check=False, timeout=60
    )
    assert proc.returncode == 0
    assert __version__ in proc.stdout
    out = tmp_path / "image.png"
    args = ["truecolor", "--emulator", "--bbox", *BBOX, "--time", TIME, "--size", "32", "32"]
    proc = subprocess.run(
        [str(script), *args, "--no-cache", "-o", str(out)],
        capture_output=True,
        text=True,
        env=process_env(),
        check=False,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert out.is_file()


@pytest.fixture
def served() -> Iterator[tuple[subprocess.Popen[str], dict[str, str]]]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "s2raster.cli", "emulator", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=process_env(),
    )
    try:
        assert proc.stdout is not None
        lines = [proc.stdout.readline().strip() for _ in range(4)]
        yield proc, dict(line.split("=", 1) for line in lines)
    finally:
        if proc.poll() is None:
            proc.terminate()
            proc.wait(timeout=10)


def test_emulator_command_prints_settings_and_serves(
    served: tuple[subprocess.Popen[str], dict[str, str]], tmp_path: Path
) -> None:
    proc, settings = served
    assert list(settings) == ["SH_BASE_URL", "SH_TOKEN_URL", "SH_CLIENT_ID", "SH_CLIENT_SECRET"]
    assert settings["SH_BASE_URL"].startswith("http://127.0.0.1:")
    out = tmp_path / "b04.tif"
    args = ["fetch", "--bbox", *BBOX, "--time", TIME, "--bands", "B04", "--no-cache"]
    result = run(*args, "-o", str(out), env=settings)
    assert result.exit_code == 0, result.output
    assert out.is_file()
    proc.terminate()
    assert proc.wait(timeout=10) == 0  # SIGTERM stops it cleanly, like Ctrl-C


def test_fetch_accepts_the_library_index_names(tmp_path: Path) -> None:
    out = tmp_path / "ndre.tif"
    args = ["fetch", "--emulator", "--bbox", *BBOX, "--time", TIME, "--index", "ndrei,NDVI"]
    result = run(*args, "--no-cache", "-q", "-o", str(out))
    assert result.exit_code == 0, result.output
    assert read(out)[0] == ("NDRE", "NDVI")  # ASI's NDREI is s2raster's NDRE
