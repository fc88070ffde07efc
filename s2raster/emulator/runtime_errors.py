"""Errors of the evalscript runtime and the output encoders.

Both are answered by the emulator's server as HTTP 400 with the service's JSON error body:
``status`` and ``code`` are carried on the exception for that purpose.
"""

from __future__ import annotations

from s2raster.errors import InputError

#: The code the Process API gives to errors raised while running an evalscript.
RENDERER_EXCEPTION = "RENDERER_EXCEPTION"
#: The code the Process API gives to a request it cannot serve as asked.
BAD_PAYLOAD = "COMMON_BAD_PAYLOAD"


class EvalscriptError(InputError):
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


class EvalscriptLimitError(EvalscriptError):
    """An evalscript ran past the time or memory limit of one request and was stopped."""
