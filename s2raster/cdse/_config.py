"""sentinelhub-py configs for CDSE (or another deployment) and for a local emulator.

Building a config sends nothing and changes nothing outside the returned object: the log
redaction filter is installed by the code that sends credentials, and the plain-HTTP OAuth
exception is switched on by :func:`emulator_config` (or ``loopback_http=True``) only.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from sentinelhub.config import SHConfig

from s2raster.cdse._errors import CREDENTIALS_HINT
from s2raster.cdse._loopback import allow_loopback_http, is_loopback_url
from s2raster.errors import CredentialsError, InputError

CDSE_BASE_URL = "https://sh.dataspace.copernicus.eu"
CDSE_TOKEN_URL = (
    "https://identity.dataspace.copernicus.eu/auth/realms/CDSE/protocol/openid-connect/token"
)
#: Retries of 5xx/connection errors (sleep 2, 6, 18 s) and of 429 answers (retry-after).
DOWNLOAD_SETTINGS: dict[str, Any] = {
    "max_download_attempts": 4,
    "download_sleep_time": 2.0,
    "download_timeout_seconds": 120.0,
    "max_retries": 30,
}


def cdse_config(
    client_id: str | None = None,
    client_secret: str | None = None,
    *,
    base_url: str = CDSE_BASE_URL,
    token_url: str = CDSE_TOKEN_URL,
    profile: str | None = None,
    loopback_http: bool = False,
) -> SHConfig:
    """A sentinelhub-py config for CDSE (or ``base_url``/``token_url``) with credentials.

    Each credential comes from the argument, else ``SH_CLIENT_ID``/``SH_CLIENT_SECRET``,
    else the sentinelhub-py config ``profile`` (default profile if None). Missing ones raise
    :class:`~s2raster.errors.CredentialsError` saying how to set them; nothing is requested.
    ``loopback_http=True`` lets OAuth use plain HTTP for loopback URLs (a local emulator
    started elsewhere, e.g. by ``s2raster emulator``); real endpoints stay https-only.
    """
    stored = _profile_credentials(profile)
    cid = client_id or os.environ.get("SH_CLIENT_ID") or stored[0]
    secret = client_secret or os.environ.get("SH_CLIENT_SECRET") or stored[1]
    missing = [n for n, v in (("SH_CLIENT_ID", cid), ("SH_CLIENT_SECRET", secret)) if not v]
    if missing:
        raise CredentialsError(
            f"no CDSE credentials ({', '.join(missing)} missing): "
            f"{CREDENTIALS_HINT}; or work offline with --emulator"
        )
    if loopback_http:
        allow_loopback_http()
    return SHConfig(
        use_defaults=True,
        sh_client_id=cid,
        sh_client_secret=secret,
        sh_base_url=base_url.rstrip("/"),
        sh_token_url=token_url,
        **DOWNLOAD_SETTINGS,
    )


def emulator_config(
    *, base_url: str, token_url: str, client_id: str, client_secret: str
) -> SHConfig:
    """A config for a local emulator: the one place plain-HTTP OAuth is switched on.

    Both URLs must be on a loopback host; the exception then covers loopback URLs only
    (:func:`~s2raster.cdse._loopback.allow_loopback_http`), never real endpoints.
    """
    for name, url in (("base_url", base_url), ("token_url", token_url)):
        if not is_loopback_url(url):
            raise InputError(
                f"{name}={url!r} is not a loopback URL: emulator_config is for a local "
                "emulator only; use cdse_config for a real service"
            )
    allow_loopback_http()
    config = SHConfig(use_defaults=True)
    config.sh_client_id = client_id
    config.sh_client_secret = client_secret
    config.sh_base_url = base_url.rstrip("/")
    config.sh_token_url = token_url
    return config


def check_config(config: object) -> SHConfig:
    """``config`` if it is an SHConfig with credentials; else a CredentialsError/InputError.

    Raised before any request: nothing is sent for a config that could not work.
    """
    if not isinstance(config, SHConfig):
        raise InputError(
            f"config must be a sentinelhub.SHConfig (e.g. s2raster.cdse_config()), got "
            f"{type(config).__name__}"
        )
    if not (config.sh_client_id and config.sh_client_secret):
        raise CredentialsError(f"the config has no client id or secret: {CREDENTIALS_HINT}")
    return config


def check_credentials(config: SHConfig) -> None:
    """Raise :class:`CredentialsError` (no request made) if ``config`` lacks credentials."""
    check_config(config)


def _profile_credentials(profile: str | None) -> tuple[str, str]:
    path = SHConfig.get_config_location()
    if not Path(path).exists():
        if profile is not None:
            raise CredentialsError(
                f"sentinelhub profile {profile!r} not found: there is no {path}; create it "
                f"with `sentinelhub.config --profile {profile} --sh_client_id ... "
                "--sh_client_secret ...`"
            )
        return "", ""
    try:
        stored = SHConfig.load(profile=profile)
    except KeyError as exc:
        if profile is None:
            return "", ""
        raise CredentialsError(
            f"sentinelhub profile {profile!r} not found in {path}; create it with "
            f"`sentinelhub.config --profile {profile} --sh_client_id ... --sh_client_secret ...`"
        ) from exc
    return stored.sh_client_id, stored.sh_client_secret
