"""HTTP side of the emulator: a threaded HTTP/1.1 server on loopback, routing, faults, log.

Every answer carries ``x-s2raster-synthetic: 1`` and a ``Content-Length``; errors use the
service's JSON shape. Faults (:mod:`._faults`) are applied before routing
(latency, error answers, dropped connections) and when sending (truncated bodies). Request
bodies need a ``Content-Length`` (a malformed one, or a chunked body, is a 400 and the
connection is closed). Idle keep-alive connections close after :data:`._handler.IDLE_TIMEOUT`
seconds, and all open connections when the server stops.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from http.server import ThreadingHTTPServer
from typing import Any, Protocol

from s2raster.emulator.http._faults import Faults
from s2raster.emulator.http._handler import Handler
from s2raster.emulator.http._log import RequestLog
from s2raster.emulator.http._messages import Reply, Request


class Service(Protocol):
    """What the HTTP server needs of the emulator: its routes, faults and request log."""

    @property
    def faults(self) -> Faults: ...
    @property
    def log(self) -> RequestLog: ...
    def dispatch(self, request: Request) -> Reply:
        """Answer one request; raise :class:`~s2raster.emulator.request.ApiError` for the
        service's error answers."""
        ...


#: The listen backlog: connections the kernel queues while the accept loop starts a
#: handler thread for each (Python's default of 5 reset about 1 in 7 connections of a
#: burst of 40). Linux caps it at ``net.core.somaxconn`` (4096 by default).
BACKLOG = 256


class EmulatorHTTPServer(ThreadingHTTPServer):
    """Threaded HTTP/1.1 server answering through one :class:`Service` (``app``): one
    handler thread per connection, a listen backlog of :data:`BACKLOG`."""

    daemon_threads = True
    block_on_close = False
    request_queue_size = BACKLOG

    def __init__(self, address: tuple[str, int], app: Service, *, ipv6: bool = False) -> None:
        self.address_family = socket.AF_INET6 if ipv6 else socket.AF_INET
        self.app = app
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Lock()
        super().__init__(address, Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._open_lock:
            self._open.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._open_lock:
            self._open.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        """Shut down every open connection (their handler threads then end)."""
        with self._open_lock:
            connections = list(self._open)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
