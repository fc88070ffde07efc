"""The request handler: body framing, faults, routing through the service, sending."""

from __future__ import annotations

import contextlib
import logging
import socket
import time
from http.server import BaseHTTPRequestHandler
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

from s2raster.contract import SYNTHETIC_HEADER
from s2raster.emulator import request as apierror
from s2raster.emulator.http._log import ServedRequest
from s2raster.emulator.http._messages import Reply, Request
from s2raster.emulator.request import ApiError

if TYPE_CHECKING:
    from s2raster.emulator.http._server import EmulatorHTTPServer, Service

LOG = logging.getLogger("s2raster.emulator")
MAX_BODY = 16 * 1024 * 1024
#: Seconds an idle keep-alive connection (or a stalled upload) may hold a handler thread.
IDLE_TIMEOUT = 10


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "s2raster-emulator"
    timeout = IDLE_TIMEOUT
    server: EmulatorHTTPServer

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_PUT(self) -> None:
        self._handle("PUT")

    def do_DELETE(self) -> None:
        self._handle("DELETE")

    def log_message(self, format: str, *args: Any) -> None:
        LOG.debug("%s " + format, self.address_string(), *args)

    def _handle(self, method: str) -> None:
        app = self.server.app
        parts = urlsplit(self.path)
        length = self._content_length()
        if isinstance(length, ApiError) or length > MAX_BODY:
            self.close_connection = True  # the body's end is unknown or not read
            error = length if isinstance(length, ApiError) else _too_large()
            self._send_logged(parts.path, Reply.error(error), None)
            return
        try:
            body = self.rfile.read(length) if length > 0 else b""
        except OSError:  # a stalled upload (IDLE_TIMEOUT) or a reset
            body = b""
        if len(body) < length:  # the client gave up before sending its whole body
            self.close_connection = True
            error = apierror.bad_payload("Request body shorter than its Content-Length.")
            self._send_logged(parts.path, Reply.error(error), None)
            return
        request = Request(
            method,
            parts.path,
            parse_qs(parts.query),
            {k.lower(): v for k, v in self.headers.items()},
            body,
        )
        truncate = False
        faults = app.faults
        if faults.active and faults.applies_to(request.path):
            if faults.latency_s:
                time.sleep(faults.latency_s)
            kind, status = faults.decide()
            if kind == "drop":
                self._drop(request.path)
                return
            if kind == "error":
                self._send_logged(
                    request.path, _fault_reply(status, faults.retry_after_ms), "error"
                )
                return
            truncate = kind == "truncate"
        reply = self._route(app, request)
        if truncate and reply.status == 200 and len(reply.body) > 1:
            served = ServedRequest(
                request.path, reply.status, reply.pu, "truncate", reply.console, reply.time_range
            )
            app.log.append(served)
            self._send(reply, truncate=True)
            return
        self._send_logged(request.path, reply, None)

    def _content_length(self) -> int | ApiError:
        """The body length, or the 400 of a framing the emulator cannot follow."""
        if self.headers.get("Transfer-Encoding") is not None:
            return apierror.bad_payload(
                "Transfer-Encoding is not supported: send the body with a Content-Length."
            )
        values = {v.strip() for v in self.headers.get_all("Content-Length") or []}
        if not values:
            return 0
        value = values.pop()
        if values or not value.isdigit() or not value.isascii():
            return apierror.bad_payload(
                "Content-Length must be one non-negative integer.", "Content-Length"
            )
        return int(value)

    def _route(self, app: Service, request: Request) -> Reply:
        try:
            return app.dispatch(request)
        except ApiError as error:
            return Reply.error(error)
        except Exception as exc:  # a bug in the emulator: answer 500 as the service would
            LOG.exception("emulator failed on %s %s", request.method, request.path)
            return Reply.error(
                ApiError(500, "COMMON_EXCEPTION", f"Internal emulator error: {type(exc).__name__}")
            )

    def _send_logged(self, path: str, reply: Reply, fault: str | None) -> None:
        for line in reply.console:
            LOG.info("evalscript console (%s %d): %s", path, reply.status, line)
        served = ServedRequest(path, reply.status, reply.pu, fault, reply.console, reply.time_range)
        self.server.app.log.append(served)
        self._send(reply)

    def _send(self, reply: Reply, *, truncate: bool = False) -> None:
        try:
            self.send_response(reply.status)
            self.send_header("Content-Type", reply.content_type)
            self.send_header("Content-Length", str(len(reply.body)))
            self.send_header(SYNTHETIC_HEADER, "1")
            for name, value in reply.headers.items():
                self.send_header(name, value)
            if truncate or self.close_connection:
                self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(reply.body[: len(reply.body) // 2] if truncate else reply.body)
            self.wfile.flush()
        except OSError:  # the client went away, or stop() shut the connection
            self.close_connection = True
            return
        if truncate:
            self._shutdown()

    def _drop(self, path: str) -> None:
        self.server.app.log.append(ServedRequest(path, 0, 0.0, "drop"))
        self._shutdown()

    def _shutdown(self) -> None:
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)


def _too_large() -> ApiError:
    return ApiError(413, "COMMON_BAD_PAYLOAD", "Request body too large.")


def _fault_reply(status: int, retry_after_ms: int) -> Reply:
    if status == 429:
        return Reply.error(apierror.rate_limited(retry_after_ms))
    code = "COMMON_EXCEPTION"
    message = f"Injected fault: the s2raster emulator answers {status} on purpose."
    return Reply.error(ApiError(status, code, message))
