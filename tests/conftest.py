"""Shared fixtures: the ../shared folder (skipped when absent) and a loopback emulator."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from s2raster.emulator import Emulator

SHARED = Path(__file__).resolve().parents[1].parent / "shared"


@pytest.fixture(autouse=True)
def _private_user_cache(
    monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Tests never read or fill the real user cache (``load(cache=True)`` goes here instead)."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("xdg-cache")))


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """``../shared`` beside the checkout; tests that need it skip on a fresh clone."""
    if not (SHARED / "golden").is_dir():
        pytest.skip("../shared is not present (fresh clone)")
    return SHARED


@pytest.fixture(scope="session")
def golden(shared_dir: Path) -> Path:
    return shared_dir / "golden"


@pytest.fixture(scope="session")
def openapi_spec(shared_dir: Path) -> dict:
    yaml = pytest.importorskip("yaml")
    with (shared_dir / "cdse" / "openapi.v1.yaml").open() as f:
        return yaml.safe_load(f)


@pytest.fixture(scope="session")
def emulator() -> Iterator[Emulator]:
    """One emulator on loopback for the whole session (per xdist worker)."""
    from s2raster.emulator import Emulator

    with Emulator() as emu:
        yield emu


@pytest.fixture(scope="session")
def token(emulator: Emulator) -> str:
    """A Bearer token of the session emulator, fetched by a plain form POST (no oauthlib)."""
    import requests

    response = requests.post(
        emulator.token_url,
        data={
            "grant_type": "client_credentials",
            "client_id": emulator.client_id,
            "client_secret": emulator.client_secret,
        },
        timeout=10,
    )
    response.raise_for_status()
    return str(response.json()["access_token"])


@pytest.fixture
def no_credentials(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No SH_* variables and an empty sentinelhub config: nothing to find."""
    for name in ("SH_CLIENT_ID", "SH_CLIENT_SECRET", "SH_BASE_URL", "SH_TOKEN_URL", "SH_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    # sentinelhub-py reads $XDG_CONFIG_HOME/sentinelhub/config.toml: point it at nothing.
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
