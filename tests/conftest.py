"""Shared fixtures: the ../shared folder (skipped when absent) and a loopback emulator."""

from __future__ import annotations

import ipaddress
import os
import socket
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from hypothesis import settings

if TYPE_CHECKING:
    from s2raster.emulator import Emulator

#: ``../shared`` beside the checkout, or where ``S2RASTER_SHARED`` points (a git worktree
#: elsewhere).
SHARED = Path(
    os.environ.get("S2RASTER_SHARED") or Path(__file__).resolve().parents[1].parent / "shared"
)


# Property tests: no per-example deadline (a timing assertion in disguise on a busy CI
# machine) and no example database written into the checkout.
settings.register_profile("s2raster", deadline=None, database=None)
settings.load_profile("s2raster")

_SH_VARIABLES = ("SH_CLIENT_ID", "SH_CLIENT_SECRET", "SH_BASE_URL", "SH_TOKEN_URL", "SH_PROFILE")


@pytest.fixture(autouse=True)
def _isolated(
    request: pytest.FixtureRequest,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """Every test but the live ones: a private user cache, no credentials or sentinelhub
    profile of the developer's, and sockets to loopback addresses only."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("xdg-cache")))
    if request.node.get_closest_marker("live"):
        return
    for name in _SH_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path_factory.mktemp("xdg-config")))
    monkeypatch.setattr(socket.socket, "connect", _loopback_only(socket.socket.connect))


def _loopback_only(connect: Callable[..., Any]) -> Callable[..., Any]:
    def guarded(sock: socket.socket, address: Any) -> Any:
        if sock.family in (socket.AF_INET, socket.AF_INET6):
            host = str(address[0])
            if host != "localhost" and not ipaddress.ip_address(host.split("%")[0]).is_loopback:
                raise OSError(f"tests talk to loopback only, not to {host}")
        return connect(sock, address)

    return guarded


def shared_path() -> Path:
    """``../shared`` beside the checkout: skip on a user's fresh clone, fail in CI.

    CI (``CI`` set) always has it, so a missing folder there is a broken run, not a skip.
    """
    if not (SHARED / "golden").is_dir():
        if os.environ.get("CI"):
            pytest.fail(f"CI is set but {SHARED} is missing: the CI run must provide ../shared")
        pytest.skip("../shared is not present (fresh clone)")
    return SHARED


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """``../shared`` beside the checkout (see :func:`shared_path`)."""
    return shared_path()


@pytest.fixture(scope="session")
def golden(shared_dir: Path) -> Path:
    return shared_dir / "golden"


@pytest.fixture(scope="session")
def openapi_spec(shared_dir: Path) -> dict:
    import yaml

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
def closed_port_url() -> Iterator[str]:
    """``http://127.0.0.1:PORT`` where nothing listens: the port stays bound (not listening)
    for the whole test, so no other xdist worker's server can take it meanwhile."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        yield f"http://127.0.0.1:{s.getsockname()[1]}"


@pytest.fixture
def no_credentials() -> None:
    """No SH_* variables and an empty sentinelhub config (``_isolated`` does it for every
    test; naming it says a test depends on it)."""
