"""The :class:`Emulator`: a local Process API + Catalog + token endpoint on loopback.

>>> with Emulator() as emu:                      # doctest: +SKIP
...     config = emu.config()                    # an SHConfig pointing at the emulator

Everything it serves is synthetic and marked so (``x-s2raster-synthetic: 1``, file tags).
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from s2raster.emulator._routes import Limits, Router
from s2raster.emulator._support import loopback_host, on_signals, require_mini_racer
from s2raster.emulator.errors import EmulatorError
from s2raster.emulator.http import (
    TOKEN_PATH,
    EmulatorHTTPServer,
    EvaluationSlots,
    Faults,
    RateLimit,
    RateLimiter,
    Reply,
    Request,
    RequestLog,
    TokenIssuer,
    new_client_id,
    new_client_secret,
)

if TYPE_CHECKING:
    from sentinelhub.config import SHConfig


class Emulator:
    """A local emulator of the CDSE Sentinel Hub Process API (synthetic data, loopback only).

    ``port=0`` picks a free port. ``client_id``/``client_secret`` default to random values
    (per instance). ``token_expires_in`` is the token lifetime in seconds. ``rate_limit`` and
    ``faults`` switch quotas and fault injection on (both mutable at runtime through the
    attributes of the same names). ``script_timeout`` (s) bounds each Process request (all
    its evalscript calls together) and ``script_memory_mb`` each evalscript's memory; a
    request whose rasters (scenes x input bands as float32, plus outputs) would exceed
    4 x ``script_memory_mb`` (2 GiB by default) is refused with a 400 before any rendering
    (see :func:`~s2raster.emulator.runtime.raster_budget`). At most ``max_evaluations``
    Process requests evaluate at once; another waits up to ``evaluation_wait`` seconds
    (default: ``script_timeout``) for a slot, then gets a 429 with ``retry-after``.

    Needs the ``emulator`` extra (mini-racer, the V8 engine evalscripts run in); without
    it, raises :class:`~s2raster.emulator.errors.EmulatorError` saying how to install it.
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        client_id: str | None = None,
        client_secret: str | None = None,
        token_expires_in: int = 600,
        rate_limit: RateLimit | None = None,
        faults: Faults | None = None,
        script_timeout: float = 30.0,
        script_memory_mb: int = 512,
        max_evaluations: int = 4,
        evaluation_wait: float | None = None,
    ) -> None:
        require_mini_racer()
        self.host = loopback_host(host)
        self._port = int(port)
        self.client_id = client_id or new_client_id()
        self.client_secret = client_secret or new_client_secret()
        if token_expires_in < 1:
            raise EmulatorError(f"token_expires_in must be at least 1 s, got {token_expires_in}")
        self.token_expires_in = int(token_expires_in)
        self.rate_limit = rate_limit
        self.faults = faults if faults is not None else Faults()
        self.script_timeout = float(script_timeout)
        self.script_memory_mb = int(script_memory_mb)
        self.log = RequestLog()
        wait = self.script_timeout if evaluation_wait is None else evaluation_wait
        try:
            self._slots = EvaluationSlots(max_evaluations, wait)
        except ValueError as exc:
            raise EmulatorError(str(exc)) from None
        self._limiter = RateLimiter()
        self._issuer: TokenIssuer | None = None
        self._router: Router | None = None
        self._server: EmulatorHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._stopped = threading.Event()

    def __repr__(self) -> str:  # never shows the secret
        state = self.base_url if self._server else "stopped"
        return f"Emulator({state}, client_id={self.client_id!r})"

    # -- life cycle ----------------------------------------------------------------------
    def start(self) -> Emulator:
        """Bind the port and serve in a background thread (idempotent)."""
        if self._server is not None:
            return self
        try:
            server = EmulatorHTTPServer((self.host, self._port), self, ipv6=":" in self.host)
        except OSError as exc:
            raise EmulatorError(
                f"cannot listen on {self.host}:{self._port} ({exc}); choose another port"
            ) from exc
        self._server = server
        self._port = int(server.server_address[1])
        self._issuer = issuer = TokenIssuer(
            self.client_id, self.client_secret, self.base_url + "/auth/realms/CDSE",
            self.token_expires_in,
        )  # fmt: skip
        self._router = Router(
            issuer, self.base_url, lambda: self.rate_limit, self._limits, self._slots,
            self._limiter,
        )  # fmt: skip
        self._stopped.clear()
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.1},
            name=f"s2raster-emulator-{self._port}", daemon=True,
        )  # fmt: skip
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, close open connections and release the port (idempotent)."""
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.close_connections()
            server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        self._stopped.set()

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def serve_forever(self, *, echo: Callable[[str], None] | None = None) -> None:
        """Serve until Ctrl-C (SIGINT), SIGTERM or :meth:`stop`; ``echo`` gets the four
        ``SH_BASE_URL=``/``SH_TOKEN_URL=``/``SH_CLIENT_ID=``/``SH_CLIENT_SECRET=`` lines.

        In the main thread, SIGINT and SIGTERM only raise a flag that the loop below polls:
        a KeyboardInterrupt landing inside a lock (``Event.wait``) could leave that lock held
        and hang :meth:`stop`, or land before the loop and skip it.
        """
        requested: list[int] = []
        restore = on_signals((signal.SIGINT, signal.SIGTERM), requested.append)
        try:
            self.start()
            if echo is not None:
                for line in self.env_lines():
                    echo(line)
            while not requested and not self._stopped.is_set():
                time.sleep(0.1)
        finally:
            self.stop()
            restore()

    # -- addresses and client configuration ----------------------------------------------
    @property
    def port(self) -> int:
        return self._port

    @property
    def base_url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self._port}"

    @property
    def token_url(self) -> str:
        return self.base_url + TOKEN_PATH

    def env_lines(self) -> list[str]:
        """The environment lines that point sentinelhub-py (and s2raster) at this emulator."""
        return [
            f"SH_BASE_URL={self.base_url}",
            f"SH_TOKEN_URL={self.token_url}",
            f"SH_CLIENT_ID={self.client_id}",
            f"SH_CLIENT_SECRET={self.client_secret}",
        ]

    def config(self) -> SHConfig:
        """An ``SHConfig`` for this emulator (plain HTTP is allowed for loopback URLs only)."""
        from s2raster.cdse import emulator_config  # the one bridge to the client

        if self._server is None:
            raise EmulatorError("the emulator is not running: use `with Emulator() as emu:`")
        return emulator_config(
            base_url=self.base_url,
            token_url=self.token_url,
            client_id=self.client_id,
            client_secret=self.client_secret,
        )

    # -- routing (called by the HTTP handler threads) ------------------------------------
    def revoke_tokens(self) -> None:
        """Refuse (401) every token issued so far, before its announced expiry, as a service
        that revoked them would; a client that asks for a new token gets one that works."""
        if self._issuer is None:
            raise EmulatorError("the emulator is not running: start() it first")
        self._issuer.revoke_all()

    def dispatch(self, request: Request) -> Reply:
        """Answer one request; raises ApiError for the service's error answers."""
        if self._router is None:
            raise EmulatorError("the emulator is not running: use `with Emulator() as emu:`")
        return self._router.dispatch(request)

    def _limits(self) -> Limits:
        return Limits(self.script_timeout, self.script_memory_mb)


def run_cli_server(
    port: int = 0,
    *,
    echo: Callable[[str], None] | None = None,
    host: str = "127.0.0.1",
    **options: Any,
) -> None:
    """Entry point of ``s2raster emulator [--port N]``: print the four ``SH_*=`` lines with
    ``echo`` (default: print and flush), then serve until Ctrl-C; ``options`` go to
    :class:`Emulator`."""
    Emulator(host=host, port=port, **options).serve_forever(echo=echo or _print_flush)


def _print_flush(line: str) -> None:
    print(line, flush=True)
