"""The emulator's HTTP side: a threaded HTTP/1.1 server on loopback, the token endpoint,
quotas and injected faults, and the log of what was answered.

The server knows nothing of the emulator: it answers through a :class:`Service` (its
``dispatch``, ``faults`` and ``log``). Every answer carries ``x-s2raster-synthetic: 1``.
"""

from __future__ import annotations

from s2raster.emulator.http._faults import Faults
from s2raster.emulator.http._log import RequestLog, ServedRequest
from s2raster.emulator.http._messages import Reply, Request
from s2raster.emulator.http._ratelimit import EvaluationSlots, RateLimit, RateLimiter
from s2raster.emulator.http._server import BACKLOG, EmulatorHTTPServer, Service
from s2raster.emulator.http._token import (
    TOKEN_PATH,
    TokenIssuer,
    new_client_id,
    new_client_secret,
)

__all__ = [
    "BACKLOG",
    "TOKEN_PATH",
    "EmulatorHTTPServer",
    "EvaluationSlots",
    "Faults",
    "RateLimit",
    "RateLimiter",
    "Reply",
    "Request",
    "RequestLog",
    "ServedRequest",
    "Service",
    "TokenIssuer",
    "new_client_id",
    "new_client_secret",
]
