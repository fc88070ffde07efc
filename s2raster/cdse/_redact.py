"""Secrets never reach logs or messages: the redaction filter and :func:`redact`.

requests-oauthlib logs token request bodies at DEBUG, sentinelhub-py logs request URLs and
headers. :func:`install` puts one filter on those loggers; it is called by
:class:`~s2raster.cdse.CdseFetch` and :func:`~s2raster.cdse.check_token` (the only code
that sends credentials), never at import or when a config is built. A client secret seen
there is also replaced literally.
"""

from __future__ import annotations

import logging
import re
import threading

_SECRET_PATTERNS = (
    re.compile(r"(client_secret=)[^&\s'\"]+"),
    re.compile(r"((?:access|refresh)_token['\"]?\s*[:=]\s*['\"]?)[^'\"&\s,}]+"),
    re.compile(r"(Bearer\s+)[^'\"\s,}]+"),
)
#: Secrets shorter than this are redacted by the patterns only, not replaced literally.
_MIN_LITERAL = 12
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
    """Replaces secrets in a record's message; the secrets themselves live here only."""

    def __init__(self) -> None:
        super().__init__("s2raster-redact")
        self._secrets: set[str] = set()
        self._lock = threading.Lock()

    def add(self, secret: str) -> None:
        # A short "secret" (a test's "x") would garble every log line that contains it;
        # real OAuth client secrets are long, and the patterns catch the rest.
        if len(secret) >= _MIN_LITERAL:
            with self._lock:
                self._secrets.add(secret)

    def redact(self, text: str) -> str:
        with self._lock:
            secrets = list(self._secrets)
        for secret in secrets:
            text = text.replace(secret, "***")
        for pattern in _SECRET_PATTERNS:
            text = pattern.sub(r"\1***", text)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        text = record.getMessage()
        clean = self.redact(text)
        if clean != text:
            record.msg, record.args = clean, ()
        return True


_FILTER = _Redact()


def install(secret: str | None = None) -> None:
    """Put the redaction filter on the HTTP/OAuth loggers (idempotent); remember ``secret``."""
    if secret:
        _FILTER.add(secret)
    for name in _LOGGERS:
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)


def redact(text: str) -> str:
    """``text`` with client secrets and tokens replaced by ``***``."""
    return _FILTER.redact(text)
