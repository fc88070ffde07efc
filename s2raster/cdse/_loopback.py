"""Plain-HTTP OAuth for loopback URLs only (the local emulator), never for real endpoints.

oauthlib refuses to fetch a token over ``http://`` unless ``OAUTHLIB_INSECURE_TRANSPORT`` is
set, and that variable relaxes the rule for every URL of the process. Instead,
:func:`allow_loopback_http` wraps oauthlib's ``is_secure_transport`` so that it also accepts
``http://`` URLs whose host is a loopback address (127.0.0.0/8, ``localhost``, ``::1``);
every other URL is judged by oauthlib's own check, unchanged.
"""

from __future__ import annotations

import ipaddress
import sys
import threading
from collections.abc import Callable
from urllib.parse import urlsplit

#: Modules that bound ``is_secure_transport`` by name at import time.
_MODULES = (
    "oauthlib.oauth2",
    "oauthlib.oauth2.rfc6749.utils",
    "oauthlib.oauth2.rfc6749.parameters",
    "oauthlib.oauth2.rfc6749.clients.base",
    "oauthlib.oauth2.rfc6749.grant_types.base",
    "oauthlib.oauth2.rfc8628.clients.device",
    "requests_oauthlib.oauth2_session",
)
_lock = threading.Lock()


def is_loopback_url(url: str) -> bool:
    """True if ``url`` is ``http(s)://`` on a loopback host."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return False
    host = parts.hostname
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def allow_loopback_http() -> None:
    """Let oauthlib use plain HTTP for loopback URLs (idempotent, thread-safe)."""
    import oauthlib.oauth2.rfc6749.utils as utils  # noqa: F401  (imports the family)
    import requests_oauthlib  # noqa: F401

    with _lock:
        for name in _MODULES:
            module = sys.modules.get(name)
            if module is None:
                __import__(name)
                module = sys.modules[name]
            current = getattr(module, "is_secure_transport", None)
            if current is None or getattr(current, "_s2raster_loopback", False):
                continue
            module.is_secure_transport = _wrap(current)  # type: ignore[attr-defined]


def _wrap(original: Callable[[str], bool]) -> Callable[[str], bool]:
    def is_secure_transport(uri: str) -> bool:
        return bool(original(uri)) or (uri.lower().startswith("http://") and is_loopback_url(uri))

    is_secure_transport._s2raster_loopback = True  # type: ignore[attr-defined]
    return is_secure_transport
