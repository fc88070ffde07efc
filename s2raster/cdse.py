"""The only module that talks to the network and holds credentials (via sentinelhub-py).

:func:`cdse_config` builds a :class:`sentinelhub.SHConfig` for CDSE (or any deployment);
:func:`cdse_fetch` returns a :class:`Fetch`: one Process API request per
:class:`~s2raster.plan.TileRequest`, at most ``concurrency`` in flight, one OAuth session
(token) shared by all threads and fetched only when the first tile is. sentinelhub-py honours
429 + ``retry-after`` and retries 5xx and connection errors (``max_download_attempts``).
"""

from __future__ import annotations

import logging
import os
import re
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from sentinelhub.config import SHConfig
from sentinelhub.download.client import DownloadClient
from sentinelhub.download.sentinelhub_client import SentinelHubDownloadClient
from sentinelhub.download.session import SentinelHubSession

from s2raster.cdse_errors import CREDENTIALS_HINT, map_error
from s2raster.contract import PU_HEADER, SYNTHETIC_HEADER
from s2raster.errors import CredentialsError, InputError, ResponseError, S2RasterError
from s2raster.loopback import allow_loopback_http, is_loopback_url
from s2raster.plan import TileRequest
from s2raster.shrequest import bound_collection, build_request

__all__ = [
    "CDSE_BASE_URL",
    "CDSE_TOKEN_URL",
    "CdseFetch",
    "Fetch",
    "FetchResult",
    "bound_collection",
    "build_request",
    "cdse_config",
    "cdse_fetch",
    "check_credentials",
    "check_token",
    "emulator_config",
    "redact",
]

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


@dataclass(frozen=True)
class FetchResult:
    """A Process API response: the raw bytes, the PU it cost and the synthetic mark."""

    content: bytes = field(repr=False)
    processing_units: float
    synthetic: bool
    from_cache: bool = False


class Fetch(Protocol):
    """Anything that turns a tile request into response bytes (CDSE, the cache, a fake)."""

    def __call__(self, request: TileRequest) -> FetchResult: ...


def cdse_config(
    client_id: str | None = None,
    client_secret: str | None = None,
    *,
    base_url: str = CDSE_BASE_URL,
    token_url: str = CDSE_TOKEN_URL,
    profile: str | None = None,
) -> SHConfig:
    """A sentinelhub-py config for CDSE (or ``base_url``/``token_url``) with credentials.

    Each credential comes from the argument, else ``SH_CLIENT_ID``/``SH_CLIENT_SECRET``,
    else the sentinelhub-py config ``profile`` (default profile if None). Missing ones raise
    :class:`~s2raster.errors.CredentialsError` saying how to set them; nothing is requested.
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
    config = SHConfig(
        use_defaults=True,
        sh_client_id=cid,
        sh_client_secret=secret,
        sh_base_url=base_url.rstrip("/"),
        sh_token_url=token_url,
        **DOWNLOAD_SETTINGS,
    )
    _prepare(config)
    return config


def emulator_config(
    *, base_url: str, token_url: str, client_id: str, client_secret: str
) -> SHConfig:
    """A config for a local emulator: the one place plain-HTTP OAuth is switched on.

    Both URLs must be on a loopback host; the exception then covers loopback URLs only
    (:func:`~s2raster.loopback.allow_loopback_http`), never real endpoints.
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


def check_credentials(config: SHConfig) -> None:
    """Raise :class:`CredentialsError` (no request made) if ``config`` lacks credentials."""
    if not (config.sh_client_id and config.sh_client_secret):
        raise CredentialsError(f"the config has no client id or secret: {CREDENTIALS_HINT}")


def check_token(config: SHConfig) -> float:
    """Get a token from ``config.sh_token_url`` now; return its lifetime in seconds.

    The one request ``s2raster config check`` makes. Raises :class:`CredentialsError` if
    the credentials are missing or refused, :class:`NetworkError` if the endpoint is down.
    """
    check_credentials(config)
    _prepare(config)
    try:
        session = SentinelHubSession(config=config)
    except Exception as exc:
        raise _mapped(exc, base_url=config.sh_base_url, token_url=config.sh_token_url) from exc
    return max(0.0, float(session.token["expires_at"]) - time.time())


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


class _Client(SentinelHubDownloadClient):
    """One client for all threads: one lock guards its rate limit and token refreshes.

    (sentinelhub-py makes a fresh lock per ``download()`` call and drops it afterwards.)
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._shared_lock = threading.Lock()

    def download(self, *args: Any, **kwargs: Any) -> Any:
        self.lock = self._shared_lock
        return DownloadClient.download(self, *args, **kwargs)


class CdseFetch:
    """A :class:`Fetch` over sentinelhub-py; see :func:`cdse_fetch`."""

    def __init__(self, config: SHConfig, *, concurrency: int = 4) -> None:
        check_credentials(config)
        if isinstance(concurrency, bool) or not isinstance(concurrency, int) or concurrency < 1:
            raise InputError(f"concurrency must be a positive integer, got {concurrency!r}")
        _prepare(config)
        self._config = config
        self.base_url: str = config.sh_base_url.rstrip("/")
        self.concurrency = concurrency
        self._slots = threading.BoundedSemaphore(concurrency)
        self._lock = threading.Lock()
        self._client: _Client | None = None

    def __repr__(self) -> str:
        return f"CdseFetch(base_url={self.base_url!r}, concurrency={self.concurrency})"

    def __call__(self, request: TileRequest) -> FetchResult:
        sh_request = build_request(request, self._config)
        with self._slots:
            try:
                response = self._get_client().download(sh_request.download_list, decode_data=False)[
                    0
                ]
            except Exception as exc:
                raise _mapped(
                    exc, base_url=self.base_url, token_url=self._config.sh_token_url
                ) from exc
        if response is None or not response.content:
            raise ResponseError(f"{self.base_url} answered with an empty body; retry the request")
        headers = {str(k).lower(): str(v) for k, v in (response.headers or {}).items()}
        return FetchResult(
            content=bytes(response.content),
            processing_units=_pu(headers.get(PU_HEADER), request.estimated_pu),
            synthetic=headers.get(SYNTHETIC_HEADER, "").strip() == "1",
        )

    def _get_client(self) -> _Client:
        """The shared client; its session gets the one token on first use (here, not before)."""
        with self._lock:
            if self._client is None:
                session = SentinelHubSession(config=self._config)
                self._client = _Client(config=self._config, session=session)
            return self._client


def cdse_fetch(config: SHConfig, *, concurrency: int = 4) -> Fetch:
    """A :class:`Fetch` that asks ``config.sh_base_url``; at most ``concurrency`` in flight."""
    return CdseFetch(config, concurrency=concurrency)


def _mapped(exc: BaseException, *, base_url: str, token_url: str) -> S2RasterError:
    """:func:`map_error`, with any secret or token in its message replaced by ``***``."""
    error = map_error(exc, base_url=base_url, token_url=token_url)
    text = str(error)
    clean = redact(text)
    if clean != text:
        error.args = (clean,)
    return error


def _pu(header: str | None, estimate: float) -> float:
    try:
        return float(header) if header is not None else estimate
    except ValueError:
        return estimate


# --- secrets never reach logs: requests-oauthlib logs token request bodies at DEBUG ---

_SECRET_PATTERNS = (
    re.compile(r"(client_secret=)[^&\s'\"]+"),
    re.compile(r"((?:access|refresh)_token['\"]?\s*[:=]\s*['\"]?)[^'\"&\s,}]+"),
    re.compile(r"(Bearer\s+)[^'\"\s,}]+"),
)
_secrets: set[str] = set()
_LOGGERS = (
    "requests_oauthlib.oauth2_session",
    "oauthlib.oauth2.rfc6749.parameters",
    "oauthlib.oauth2.rfc6749.clients.base",
    "sentinelhub.download.session",
    "sentinelhub.download.client",
    "sentinelhub.download.sentinelhub_client",
    "urllib3.connectionpool",
)


class _Redact(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        text = record.getMessage()
        clean = redact(text)
        if clean != text:
            record.msg, record.args = clean, ()
        return True


_redact_filter = _Redact()


def redact(text: str) -> str:
    """``text`` with client secrets and tokens replaced by ``***``."""
    for secret in list(_secrets):
        text = text.replace(secret, "***")
    for pattern in _SECRET_PATTERNS:
        text = pattern.sub(r"\1***", text)
    return text


def _prepare(config: SHConfig) -> None:
    """Register the secret for log redaction; allow plain HTTP OAuth on loopback only."""
    if config.sh_client_secret:
        _secrets.add(config.sh_client_secret)
    for name in _LOGGERS:
        logger = logging.getLogger(name)
        if _redact_filter not in logger.filters:
            logger.addFilter(_redact_filter)
    if is_loopback_url(config.sh_token_url):
        allow_loopback_http()
