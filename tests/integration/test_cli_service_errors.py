"""CLI errors of a job that reaches a service (the emulator, or nothing listening): one line
on stderr naming problem and fix, exit 1 (or 2 over --max-pu), no output file left behind."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_helpers import BBOX, TIME, assert_one_line_error, fetch_args, run

from s2raster.emulator import Emulator, Faults

USAGE_ERRORS = {
    "bbox min >= max": (["--bbox", "14.5", "46.0", "14.4", "46.1"], ["bbox", "minx < maxx"]),
    "latitude out of range": (["--bbox", "14.4", "46.0", "14.5", "91"], ["bbox", "lat"]),
    "area too large": (["--bbox", "10", "45", "12", "47"], ["million px", "--yes"]),
    "unknown band": (["--bands", "B02,B99"], ["B99"]),
    "unknown index": (["--index", "NDVI,FOO"], ["FOO", "NDVI", "EVI", "NBR"]),
    "index lacks band": (["--index", "NDVI", "--bands", "B04"], ["B08", "--bands"]),
    "malformed time": (["--time", "2024-13-01/2024-06-30"], ["2024-13-01"]),
    "time reversed": (["--time", "2024-06-30/2024-06-01"], ["starts after it ends"]),
    "zero resolution": (["--resolution", "0"], ["resolution"]),
    "cloud out of range": (["--max-cloud", "150"], ["--max-cloud"]),
    "over max-pu": (["--max-pu", "0.001"], ["processing units", "max_pu"]),
}


@pytest.mark.parametrize("case", list(USAGE_ERRORS))
def test_usage_errors(case: str, tmp_path: Path) -> None:
    extra, needles = USAGE_ERRORS[case]
    out = tmp_path / "out.tif"
    args = ["fetch", "--emulator", "--bbox", *BBOX, "--time", TIME, "-q", "-o", str(out)]
    # later options win in click: the case's own --bbox/--time replace the defaults
    result = run(*args, *extra)
    assert_one_line_error(result, 2, *needles)
    assert not out.exists()
    assert list(tmp_path.iterdir()) == []


@pytest.fixture
def faulty() -> Iterator[Emulator]:
    with Emulator(faults=Faults(error_rate=1.0, error_statuses=(403,))) as emu:
        yield emu


def env_of(emu: Emulator, **override: str) -> dict[str, str]:
    env = dict(line.split("=", 1) for line in emu.env_lines())
    return {**env, **override}


def test_wrong_secret(no_credentials: None, emulator: Emulator, tmp_path: Path) -> None:
    out = tmp_path / "out.tif"
    env = env_of(emulator, SH_CLIENT_SECRET="not-the-secret")
    line = assert_one_line_error(run(*fetch_args(out), env=env), 1, "refused", "SH_CLIENT_SECRET")
    assert "not-the-secret" not in line
    assert not out.exists()


@pytest.mark.parametrize(("status", "needle"), [(403, "denied access (403"), (401, "(401")])
def test_service_refuses(
    no_credentials: None, faulty: Emulator, tmp_path: Path, status: int, needle: str
) -> None:
    faulty.faults.error_statuses = (status,)
    out = tmp_path / "out.tif"
    line = assert_one_line_error(run(*fetch_args(out), env=env_of(faulty)), 1, needle)
    assert faulty.client_secret not in line
    assert not out.exists()
    assert list(tmp_path.iterdir()) == []


def test_no_network(
    no_credentials: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, closed_port_url: str
) -> None:
    from s2raster import cdse

    # no retries with back-off (2 + 6 + 18 s) for this test
    monkeypatch.setitem(cdse.DOWNLOAD_SETTINGS, "max_download_attempts", 1)
    base = closed_port_url
    env = {
        "SH_BASE_URL": base,
        "SH_TOKEN_URL": base + "/auth/realms/CDSE/protocol/openid-connect/token",
        "SH_CLIENT_ID": "id",
        "SH_CLIENT_SECRET": "no-network-secret",  # not "secret": redaction is process-wide
    }
    out = tmp_path / "out.tif"
    assert_one_line_error(run(*fetch_args(out), env=env), 1, "cannot reach", "--emulator")
    assert not out.exists()


def test_config_check_wrong_secret(no_credentials: None, emulator: Emulator) -> None:
    env = env_of(emulator, SH_CLIENT_SECRET="wrong-secret")
    result = run("config", "check", env=env)
    line = assert_one_line_error(result, 1, "refused")
    assert "wrong-secret" not in result.output
    assert "refused" in result.stdout
    assert "token endpoint" in line
