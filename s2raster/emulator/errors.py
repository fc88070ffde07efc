"""The emulator's own errors, rooted in :class:`EmulatorError`.

The emulator is a leaf of s2raster: its errors belong to it, under the package-wide
:class:`~s2raster.errors.S2RasterError` (so ``except S2RasterError`` still catches them)
and, where a built-in fits, under that too (``except ValueError`` catches a bad input).

Errors raised while serving a request carry what the service would answer: the HTTP
``status`` and the service's error ``code`` (the HTTP layer turns them into the service's
JSON error body). This module imports nothing but the root, so it works without the
``emulator`` extra (mini-racer) installed.
"""

from __future__ import annotations

from s2raster.errors import S2RasterError

#: The code the Process API gives to errors raised while running an evalscript.
RENDERER_EXCEPTION = "RENDERER_EXCEPTION"
#: The code the Process API gives to a request it cannot serve as asked.
BAD_PAYLOAD = "COMMON_BAD_PAYLOAD"
#: The one line that says how to get the evalscript engine.
MINI_RACER_MISSING = "the emulator needs mini-racer: pip install 's2raster[emulator]'"


class EmulatorError(S2RasterError, RuntimeError):
    """The local emulator could not start or serve, or was used wrongly."""


class RequestError(EmulatorError, ValueError):
    """An input of the emulator is invalid: a bbox, time range, collection, units, grid...

    Met while serving a request, it is answered as a 400 (``COMMON_BAD_PAYLOAD``).
    """


class BandError(RequestError):
    """A band name is unknown for the collection."""


class EvalscriptError(RequestError):
    """An evalscript is invalid or failed while running (a 400 for the server).

    ``message`` is what the service would answer (for script errors it carries the
    engine's message, such as ``evalscript.js:3: TypeError: ...``); ``status`` is the HTTP
    status and ``code`` the service's error code.
    """

    def __init__(self, message: str, *, code: str = RENDERER_EXCEPTION, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.status = status
        #: What the script wrote with console.log before it failed (set by the runtime).
        self.console: tuple[str, ...] = ()


class EvalscriptLimitError(EvalscriptError):
    """An evalscript ran past the time or memory limit of one request and was stopped."""
