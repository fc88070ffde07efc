"""The Process API's JSON errors: ``{"error": {"status", "reason", "message", "code", "errors"?}}``.

Codes are the service's (schema ``Boom`` of the CDSE OpenAPI description). The wordings
that could be checked against real answers are quoted where they are built (validate.py).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

REASONS = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    413: "Payload Too Large",
    415: "Unsupported Media Type",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}

#: The service's answer to a missing, malformed or expired bearer token.
UNAUTHORIZED_MESSAGE = (
    "You are not authorized! Please provide a valid access token within the header "
    "[Authorization: Bearer <accessToken>] of your request."
)
#: The service's answer when a rate-limit bucket is empty.
RATE_LIMIT_MESSAGE = "You have exceeded your rate limit"


class ApiError(Exception):
    """An error answered as the service's JSON error body with HTTP ``status``."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        errors: list[dict[str, Any]] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.errors = errors
        self.headers: dict[str, str] = dict(headers or {})
        #: What the evalscript wrote with console.log, for the request log (never sent).
        self.console: tuple[str, ...] = ()

    def body(self) -> dict[str, Any]:
        """The error as the service's JSON object."""
        error: dict[str, Any] = {
            "status": self.status,
            "reason": REASONS.get(self.status, "Error"),
            "message": self.message,
            "code": self.code,
        }
        if self.errors:
            error["errors"] = self.errors
        return {"error": error}

    def to_bytes(self) -> bytes:
        return json.dumps(self.body(), separators=(",", ":")).encode()


def bad_payload(
    message: str, parameter: str | None = None, violation: str | None = None
) -> ApiError:
    """A 400 ``COMMON_BAD_PAYLOAD``; with ``parameter`` also the service's ``errors`` list."""
    errors = None
    if parameter is not None:
        errors = [{"parameter": parameter, "violation": violation or message.strip()}]
    return ApiError(400, "COMMON_BAD_PAYLOAD", message, errors=errors)


def unauthorized() -> ApiError:
    """The 401 for a missing, invalid or expired bearer token."""
    return ApiError(401, "COMMON_UNAUTHORIZED", UNAUTHORIZED_MESSAGE)


def rate_limited(retry_after_ms: int) -> ApiError:
    """The 429 of an empty rate-limit bucket; ``retry-after`` is in milliseconds."""
    return ApiError(
        429,
        "RATE_LIMIT_EXCEEDED",
        RATE_LIMIT_MESSAGE,
        headers={"retry-after": str(max(int(retry_after_ms), 1))},
    )


def not_found(path: str) -> ApiError:
    return ApiError(404, "COMMON_NOT_FOUND", f"Resource {path} was not found.")


def method_not_allowed(method: str, path: str) -> ApiError:
    return ApiError(
        405, "COMMON_METHOD_NOT_ALLOWED", f"Request method '{method}' is not supported for {path}."
    )
