"""Tokens refused before their announced expiry: ``Emulator.revoke_tokens``."""

from __future__ import annotations

import pytest
import requests

from s2raster.emulator import Emulator
from s2raster.emulator.errors import EmulatorError


def _token(emu: Emulator) -> str:
    form = {
        "grant_type": "client_credentials",
        "client_id": emu.client_id,
        "client_secret": emu.client_secret,
    }
    answer = requests.post(emu.token_url, data=form, timeout=10)
    answer.raise_for_status()
    return str(answer.json()["access_token"])


def _search(emu: Emulator, token: str) -> int:
    answer = requests.post(
        f"{emu.base_url}/api/v1/catalog/1.0.0/search",
        json={
            "collections": ["sentinel-2-l2a"],
            "datetime": "2024-06-01T00:00:00Z/2024-06-02T00:00:00Z",
            "bbox": [14.4, 46.0, 14.5, 46.1],
        },
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    return answer.status_code


def test_revoked_tokens_are_refused_new_ones_work() -> None:
    with Emulator() as emu:
        old = _token(emu)
        assert _search(emu, old) == 200
        emu.revoke_tokens()
        assert _search(emu, old) == 401  # still within its expires_in, but revoked
        assert _search(emu, _token(emu)) == 200


def test_revoke_needs_a_running_emulator() -> None:
    with pytest.raises(EmulatorError, match="not running"):
        Emulator().revoke_tokens()
