"""Turn sentinelhub-py, requests and oauthlib failures into s2raster errors with a fix.

401/403 from the token endpoint -> :class:`CredentialsError` ("the token endpoint refused
the credentials"); a 401 from the Process or Catalog API is first answered by a new token
and one more try (``_fetch._Client``); a second 401 with that fresh token ->
:class:`CredentialsError` from :func:`fresh_token_refused` ("refused a token just
issued"); 403, 429, 400 and 5xx -> :class:`ServiceError` with the service's own message
(parsed from its JSON ``{"error": {status, reason, message, code}}``); connection problems
-> :class:`NetworkError`. Messages name URLs and statuses, never credentials.
"""

from __future__ import annotations

import json
from typing import Any

import requests
from oauthlib.oauth2 import InsecureTransportError, OAuth2Error
from sentinelhub.exceptions import DownloadFailedException, OutOfRequestsException

from s2raster.errors import (
    CredentialsError,
    InputError,
    NetworkError,
    S2RasterError,
    ServiceError,
)

CREDENTIALS_HINT = (
    "set SH_CLIENT_ID and SH_CLIENT_SECRET to an OAuth client of this deployment (CDSE: "
    "https://shapps.dataspace.copernicus.eu/dashboard/#/ -> User settings -> OAuth clients), "
    "or pass cdse_config(client_id=..., client_secret=...) or cdse_config(profile=...)"
)


def service_message(body: bytes | bytearray | str | None) -> tuple[str, str | None]:
    """The service's error message and code from a JSON error body (else the raw text)."""
    if not body:
        return "", None
    text = body.decode("utf-8", "replace") if isinstance(body, (bytes, bytearray)) else body
    try:
        parsed: Any = json.loads(text)
    except ValueError:
        return text.strip()[:500], None
    error = parsed.get("error", parsed) if isinstance(parsed, dict) else parsed
    if not isinstance(error, dict):
        return str(error)[:500], None
    message = str(error.get("message") or error.get("reason") or error.get("error") or "")
    if error.get("error_description"):
        message = f"{message}: {error['error_description']}" if message else message
    details = [_detail(e) for e in error.get("errors") or [] if isinstance(e, dict)]
    if details:
        message = f"{message} ({'; '.join(details)})"
    code = error.get("code")
    return message, str(code) if code is not None else None


def _detail(error: dict[str, Any]) -> str:
    parts = [str(error[k]) for k in ("parameter", "violation", "description") if error.get(k)]
    return ": ".join(parts)


def map_error(exc: BaseException, *, base_url: str, token_url: str) -> S2RasterError:
    """The s2raster error for ``exc`` raised while talking to ``base_url``/``token_url``."""
    if isinstance(exc, S2RasterError):
        return exc
    if isinstance(exc, InsecureTransportError):
        return InputError(
            f"token_url {token_url} is plain http: OAuth needs https; for a local emulator "
            "use Emulator().config(), or cdse_config(..., loopback_http=True) with its "
            "loopback URLs"
        )
    if isinstance(exc, OAuth2Error):
        return CredentialsError(
            f"the token endpoint {token_url} refused the credentials "
            f"({exc.error or type(exc).__name__}): {CREDENTIALS_HINT}"
        )
    cause: BaseException | None = exc
    if isinstance(exc, DownloadFailedException):
        cause = exc.request_exception
        if cause is None:
            if isinstance(exc, OutOfRequestsException):
                return _rate_limited(base_url)
            return ServiceError(f"request to {base_url} failed: {_first_line(exc)}")
    if isinstance(cause, requests.HTTPError) and cause.response is not None:
        return _http_error(cause.response, base_url=base_url, token_url=token_url)
    if isinstance(cause, requests.RequestException):
        url = _url_of(cause) or base_url
        target = token_url if url.startswith(token_url) else base_url
        return NetworkError(
            f"cannot reach {target}: check your network or use --emulator (or "
            f"s2raster.emulator.Emulator) to work offline ({type(cause).__name__})"
        )
    return ServiceError(f"request to {base_url} failed: {type(exc).__name__}: {_first_line(exc)}")


def _http_error(response: requests.Response, *, base_url: str, token_url: str) -> S2RasterError:
    status = response.status_code
    message, code = service_message(response.content)
    detail = f" {message}" if message else ""
    if str(response.url or "").startswith(token_url) and status in (400, 401, 403):
        return CredentialsError(
            f"the token endpoint {token_url} refused the credentials ({status}{detail}): "
            f"{CREDENTIALS_HINT}"
        )
    if status == 401:  # a request without the one retry (fresh_token_refused has that)
        return CredentialsError(
            f"{base_url} refused the access token (401{detail}): the OAuth client must belong "
            f"to this deployment (a CDSE client works only with sh.dataspace.copernicus.eu); "
            f"{CREDENTIALS_HINT}"
        )
    if status == 403:
        return ServiceError(
            f"{base_url} denied access (403{detail}): the account may lack access to this "
            "collection, or its processing-unit quota is used up; check the CDSE dashboard",
            status=status,
            code=code,
        )
    if status == 429:
        return _rate_limited(base_url, code=code)
    if status >= 500:
        return ServiceError(
            f"{base_url} failed ({status}{detail}) after several attempts: try again later",
            status=status,
            code=code,
        )
    return ServiceError(
        f"the Process API at {base_url} refused the request ({status}"
        f"{' ' + code if code else ''}):{detail or ' no explanation given'}",
        status=status,
        code=code,
    )


def fresh_token_refused(exc: DownloadFailedException, base_url: str) -> CredentialsError:
    """The error of a 401 from ``base_url`` for a token fetched just now (after a first 401)."""
    response = getattr(exc.request_exception, "response", None)
    message, _ = service_message(getattr(response, "content", None))
    detail = f": {message}" if message else ""
    return CredentialsError(
        f"{base_url} refused the access token twice (401{detail}), the second time a token "
        "the token endpoint had just issued: the token endpoint accepts these credentials "
        "but this service does not, so the OAuth client belongs to another deployment (a "
        "CDSE client works only with sh.dataspace.copernicus.eu) or lacks access; "
        f"{CREDENTIALS_HINT}"
    )


def _rate_limited(base_url: str, code: str | None = None) -> ServiceError:
    return ServiceError(
        f"{base_url} kept answering 429 (rate limit) after many retries: wait a minute, "
        "lower concurrency, or ask for fewer bands/pixels per minute",
        status=429,
        code=code,
    )


def _url_of(exc: requests.RequestException) -> str | None:
    request = exc.request
    return str(request.url) if request is not None and request.url else None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
