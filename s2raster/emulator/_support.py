"""Small helpers of :class:`~s2raster.emulator.Emulator`: the checks its constructor makes
and the signal flag its serve loop polls."""

from __future__ import annotations

import importlib.util
import ipaddress
import signal
import threading
from collections.abc import Callable

from s2raster.emulator.errors import MINI_RACER_MISSING, EmulatorError


def on_signals(
    signums: tuple[signal.Signals, ...], note: Callable[[int], None]
) -> Callable[[], None]:
    """Make ``signums`` call ``note(signum)`` (main thread only); returns the undo."""
    if threading.current_thread() is not threading.main_thread():
        return lambda: None
    previous = {s: signal.signal(s, lambda signum, _frame: note(signum)) for s in signums}

    def restore() -> None:
        for s, handler in previous.items():
            signal.signal(s, handler)

    return restore


def require_mini_racer() -> None:
    """Refuse in one line when the evalscript engine is not installed (it loads later)."""
    try:
        found = importlib.util.find_spec("py_mini_racer") is not None
    except (ImportError, ValueError):
        found = False
    if not found:
        raise EmulatorError(MINI_RACER_MISSING)


def loopback_host(host: str) -> str:
    if host == "localhost":
        return "127.0.0.1"
    try:
        if ipaddress.ip_address(host).is_loopback:
            return host
    except ValueError:
        pass
    raise EmulatorError(
        f"the emulator only listens on loopback addresses (127.0.0.1, ::1), not {host!r}: "
        "its synthetic data and plain-HTTP tokens must never be reachable from the network"
    )
