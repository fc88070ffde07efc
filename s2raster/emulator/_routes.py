"""The emulator's routes: token endpoint, Catalog API, Process API and Statistical API,
behind the token check and the rate-limit buckets."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from s2raster.contract import PU_HEADER, STATISTICS_PATH
from s2raster.emulator import catalog
from s2raster.emulator import request as apierror
from s2raster.emulator.http import (
    TOKEN_PATH,
    EvaluationSlots,
    RateLimit,
    RateLimiter,
    Reply,
    Request,
    TokenIssuer,
)

PROCESS_PATH = "/api/v1/process"
_PUBLIC_CATALOG = (catalog.PREFIX, catalog.PREFIX + "/conformance")


@dataclass(frozen=True)
class Limits:
    """What bounds one Process request: the evalscript time (s) and memory (MiB)."""

    script_timeout: float
    script_memory_mb: int


@dataclass
class Router:
    """Answers requests for one running emulator at ``base_url``.

    ``rate_limit`` and ``limits`` are read on every request (the emulator's attributes of
    those names can change while it runs).
    """

    issuer: TokenIssuer
    base_url: str
    rate_limit: Callable[[], RateLimit | None]
    limits: Callable[[], Limits]
    slots: EvaluationSlots
    limiter: RateLimiter = field(default_factory=RateLimiter)

    def dispatch(self, request: Request) -> Reply:
        """Answer one request; raises ApiError for the service's error answers."""
        path = request.path.rstrip("/") or "/"
        if path == TOKEN_PATH:
            _require(request, path, "POST")
            status, body = self.issuer.token_response(request.body, request.headers)
            return Reply.json(status, body, {"cache-control": "no-store"})
        if path in _PUBLIC_CATALOG:
            _require(request, path, "GET")
            if path == catalog.PREFIX:
                return Reply.json(200, catalog.landing(self.base_url))
            return Reply.json(200, catalog.conformance())
        if not path.startswith("/api/"):
            raise apierror.not_found(path)
        self._authorize(request)
        if path == PROCESS_PATH:
            _require(request, path, "POST")
            return self._process(request)
        if path == STATISTICS_PATH:
            _require(request, path, "POST")
            return self._statistics(request)
        if path.startswith(catalog.PREFIX + "/"):
            return Reply.json(200, self._catalog(request, path))
        raise apierror.not_found(path)

    def _authorize(self, request: Request) -> None:
        if not self.issuer.check(request.headers.get("authorization", "")):
            raise apierror.unauthorized()
        retry_ms = self.limiter.take_request(self.rate_limit())
        if retry_ms is not None:
            raise apierror.rate_limited(retry_ms)

    def _check_pu(self, pu: float) -> None:
        retry_ms = self.limiter.check_pu(self.rate_limit(), pu)
        if retry_ms is not None:
            raise apierror.rate_limited(retry_ms)

    def _process(self, request: Request) -> Reply:
        from s2raster.emulator._process import process  # V8 is loaded on first use

        limits = self.limits()
        with self.slots.hold():
            result = process(
                request.body,
                content_type=request.headers.get("content-type", "application/json"),
                accept=request.headers.get("accept", ""),
                check_pu=self._check_pu,
                timeout=limits.script_timeout,
                memory_mb=limits.script_memory_mb,
            )
        # PU are charged for answers that succeed only, as the service does ("If you hit
        # the rate limit error, or there is a sporadic error in our system, processing
        # units are not counted": forum.sentinel-hub.com/t/8868).
        self.limiter.spend_pu(self.rate_limit(), result.pu)
        headers = {PU_HEADER: f"{result.pu:.6g}"}
        return Reply(
            200,
            result.content,
            result.content_type,
            headers,
            result.pu,
            result.console,
            result.time_range,
        )

    def _statistics(self, request: Request) -> Reply:
        from s2raster.emulator._statistics import statistics  # V8 is loaded on first use

        limits = self.limits()
        with self.slots.hold():
            result = statistics(
                request.body,
                content_type=request.headers.get("content-type", "application/json"),
                charge_pu=self._check_pu,  # checked before computing, spent on success only
                timeout=limits.script_timeout,
                memory_mb=limits.script_memory_mb,
            )
        self.limiter.spend_pu(self.rate_limit(), result.pu)
        headers = {PU_HEADER: f"{result.pu:.6g}"}
        return Reply(200, result.content, "application/json", headers, result.pu, result.console)

    def _catalog(self, request: Request, path: str) -> dict[str, Any]:
        rest = path[len(catalog.PREFIX) :]
        if rest == "/search":
            _require(request, path, "GET", "POST")
            if request.method == "GET":
                params = catalog.query_params(request.query)
                return catalog.search(params, self.base_url, method="GET")
            return catalog.search(_json_object(request.body), self.base_url)
        _require(request, path, "GET")
        if rest == "/collections":
            return catalog.collections(self.base_url)
        parts = rest.strip("/").split("/")
        if len(parts) == 2 and parts[0] == "collections":
            return catalog.collection(self.base_url, parts[1])
        raise apierror.not_found(path)


def _require(request: Request, path: str, *methods: str) -> None:
    if request.method not in methods:
        raise apierror.method_not_allowed(request.method, path)


def _json_object(body: bytes) -> dict[str, Any]:
    try:
        value = json.loads(body or b"{}")
    except (ValueError, RecursionError):
        raise apierror.bad_payload("Request body must be JSON.") from None
    if not isinstance(value, dict):
        raise apierror.bad_payload("Request body must be a JSON object.")
    return value
