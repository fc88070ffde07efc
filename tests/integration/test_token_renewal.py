"""A token refused before its expiry: one new token and one more try, over real HTTP.

The emulator revokes its tokens (``Emulator.revoke_tokens``) the way a service does on
clock skew or revocation; its faults answer 401 to every data request (a client of another
deployment) or on the token endpoint (credentials refused there).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sentinelhub.config import SHConfig

from s2raster._load import LoadStats, load
from s2raster.cdse import CdseFetch
from s2raster.emulator import Emulator
from s2raster.emulator.http import TOKEN_PATH
from s2raster.errors import CredentialsError

TIME = "2024-06-01/2024-06-30"
BBOX = (13.80, 45.80, 13.806, 45.804)


@pytest.fixture
def emu() -> Iterator[Emulator]:
    with Emulator() as emulator:  # its own: revoking must not disturb other tests
        yield emulator


def config_of(emu: Emulator) -> SHConfig:
    cfg = emu.config()
    cfg.download_sleep_time = 0.01
    return cfg


def token_requests(emu: Emulator) -> int:
    return emu.log.count(path=TOKEN_PATH)


def test_a_revoked_token_is_renewed_once_and_the_load_goes_on(emu: Emulator) -> None:
    fetch = CdseFetch(config_of(emu), concurrency=2)
    load(BBOX, TIME, ["B04"], fetch=fetch, cache=False, tile_px=16).compute()
    assert (fetch.token_renewals, token_requests(emu)) == (0, 1)
    emu.revoke_tokens()  # long before the token's announced expiry
    stats = LoadStats()
    da = load(BBOX, TIME, ["B04"], fetch=fetch, cache=False, tile_px=16, stats=stats)
    da.compute()
    assert fetch.token_renewals == 1  # the catalog search met the 401 and renewed
    assert token_requests(emu) == 2  # one new token for all threads
    assert stats.requests == len(da.chunks[1]) * len(da.chunks[2])
    emu.revoke_tokens()  # now in the middle of the tile requests' token
    load(BBOX, TIME, ["B04"], fetch=fetch, cache=False, tile_px=16).compute()
    assert fetch.token_renewals == 2


def test_a_second_401_is_a_credentials_error_that_says_so(emu: Emulator) -> None:
    fetch = CdseFetch(config_of(emu))
    da = load(BBOX, TIME, ["B04"], fetch=fetch, cache=False)
    with (
        emu.faults.injected(error_rate=1.0, error_statuses=(401,), paths=("/api/v1/process",)),
        pytest.raises(CredentialsError, match="refused the access token twice") as caught,
    ):
        da.compute()
    assert "just issued" in str(caught.value)
    assert "token endpoint accepts these credentials" in str(caught.value)
    assert fetch.token_renewals == 1
    assert emu.client_secret not in str(caught.value)


def test_a_401_from_the_token_endpoint_on_renewal_blames_the_credentials(emu: Emulator) -> None:
    fetch = CdseFetch(config_of(emu))
    load(BBOX, TIME, ["B04"], fetch=fetch, cache=False).compute()
    emu.revoke_tokens()
    with (
        emu.faults.injected(error_rate=1.0, error_statuses=(401,), paths=(TOKEN_PATH,)),
        pytest.raises(CredentialsError, match=r"token endpoint .* refused the credentials"),
    ):
        load(BBOX, TIME, ["B04"], fetch=fetch, cache=False)
