"""What a route sees of an HTTP request, and the answer it gives."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from s2raster.emulator.request import ApiError


@dataclass
class Reply:
    """An HTTP answer to send."""

    status: int
    body: bytes
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)
    pu: float = 0.0
    #: What the evalscript wrote with console.log (logged, never sent).
    console: tuple[str, ...] = ()
    #: A Process request's ``timeRange`` (from, to), for the request log (never sent).
    time_range: tuple[datetime, datetime] | None = None

    @classmethod
    def json(cls, status: int, obj: Any, headers: dict[str, str] | None = None) -> Reply:
        body = json.dumps(obj, separators=(",", ":")).encode()
        return cls(status, body, "application/json", dict(headers or {}))

    @classmethod
    def error(cls, error: ApiError) -> Reply:
        body = error.to_bytes()
        return cls(error.status, body, "application/json", dict(error.headers), 0.0, error.console)


@dataclass(frozen=True)
class Request:
    """What a route sees of an HTTP request (header names lower-case)."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes
