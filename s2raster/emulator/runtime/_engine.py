"""One V8 context (mini-racer) per evalscript run, with the request's time and memory limits.

A context is cheap (a few milliseconds) and is never shared: each request builds its own
and closes it, so concurrent requests of the threaded server cannot meet in one isolate.
Limits: a deadline for all evaluations together (mini-racer interrupts a script at the
timeout; pass the request's absolute ``deadline`` to every context of one request so that
they share it), V8's hard heap limit, and a meter on typed-array allocations (kept outside
V8's heap, see :mod:`._js`). Script errors come out as :class:`EvalscriptError`
carrying the engine's message.

V8 starts once per process with mini-racer's default flags plus
``--no-memory-protection-keys``: on CPUs with memory protection keys (``pku`` in
/proc/cpuinfo), V8 write-protects its code pages per thread, and contexts used from the
threads of the HTTP server (started before V8) crash the process with SIGSEGV (seen with
mini-racer 0.13 to 0.14.1 on an x86_64 machine with ``pku``; 0.12.4 crashes with or
without the flag, hence ``mini-racer>=0.13``). If something else in the process started V8 first,
its flags stay.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from contextlib import suppress
from types import TracebackType
from typing import Any

import numpy as np
import numpy.typing as npt
from py_mini_racer import (
    DEFAULT_V8_FLAGS,
    JSEvalException,
    JSFunction,
    JSOOMException,
    JSTimeoutException,
    MiniRacer,
    init_mini_racer,
)

from s2raster.emulator.errors import EvalscriptError, EvalscriptLimitError
from s2raster.emulator.runtime._js import NS, library, prelude

#: Typed arrays a script may allocate in all, as a multiple of its memory limit.
TYPED_ARRAY_FACTOR = 4
SCRIPT_NAME = "evalscript.js"
_CREATE_LOCK = threading.Lock()
_MEMORY_MARK = "Evalscript memory limit reached"
#: How V8 starts in this process (see the module's docstring).
V8_FLAGS = (*DEFAULT_V8_FLAGS, "--no-memory-protection-keys")


class Engine:
    """A V8 context holding one evalscript; use as a context manager (closes the isolate)."""

    def __init__(
        self,
        evalscript: str,
        *,
        timeout: float = 30.0,
        memory_mb: int = 512,
        deadline: float | None = None,
    ) -> None:
        """``deadline`` (a :func:`time.monotonic` time) defaults to now + ``timeout``."""
        if timeout <= 0 or memory_mb <= 0:
            raise ValueError("timeout and memory_mb must be positive")
        self.timeout = float(timeout)
        self.memory_mb = int(memory_mb)
        self._deadline = time.monotonic() + self.timeout if deadline is None else deadline
        self._buffers: list[memoryview] = []
        self._alloc: JSFunction | None = None
        with _CREATE_LOCK:
            init_mini_racer(flags=V8_FLAGS, ignore_duplicate_init=True)
            self._ctx: MiniRacer | None = MiniRacer()
        try:
            self._ctx.set_hard_memory_limit(self.memory_mb * 2**20)
            self._ctx.set_soft_memory_limit(self.memory_mb * 2**20 * 3 // 4)
            alloc = self.eval(prelude(self.memory_mb * 2**20 * TYPED_ARRAY_FACTOR))
            if not isinstance(alloc, JSFunction):
                raise EvalscriptError("internal error: the prelude gave no allocator")
            self._alloc = alloc
            self.eval(library())
            self.eval(f"{evalscript}\n//# sourceURL={SCRIPT_NAME}\n")
        except BaseException:
            self.close()
            raise

    def __enter__(self) -> Engine:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Release the buffers handed to Python, then the isolate."""
        for view in self._buffers:
            view.release()
        self._buffers.clear()
        self._alloc = None
        ctx, self._ctx = self._ctx, None
        if ctx is not None:
            ctx.close()

    def eval(self, code: str) -> Any:
        """Evaluate ``code`` within what is left of the time limit; map engine errors."""
        ctx = self._live()
        return self._limited(ctx, lambda remaining: ctx.eval(code, timeout_sec=remaining))

    def _limited(self, ctx: MiniRacer, call: Callable[[float], Any]) -> Any:
        """``call(seconds left)``, with the engine's errors mapped to ours."""
        remaining = self._deadline - time.monotonic()
        if remaining <= 0:
            raise self._timeout_error()
        try:
            return call(remaining)
        except JSTimeoutException:
            _settle(ctx)
            raise self._timeout_error() from None
        except JSOOMException:
            _settle(ctx)
            raise self._memory_error() from None
        except JSEvalException as exc:
            raise self._script_error(ctx, exc) from None

    def json(self, code: str) -> Any:
        """Evaluate ``code`` (an expression giving a JSON string) and decode it."""
        text = self.eval(code)
        return None if not isinstance(text, str) else json.loads(text)

    def array(self, name: str, index: int, size: int, dtype: npt.DTypeLike) -> npt.NDArray[Any]:
        """A new typed array ``__s2r.<name>[index]`` of ``size`` float32 or float64 (not
        charged to the script's meter) and a writable numpy view on it (valid until
        :meth:`close`)."""
        ctx, alloc = self._live(), self._alloc
        kind = {np.dtype(np.float32): "F32", np.dtype(np.float64): "F64"}[np.dtype(dtype)]
        if alloc is None:
            raise RuntimeError("the evalscript engine is closed")
        view = self._limited(ctx, lambda left: alloc(name, index, kind, size, timeout_sec=left))
        if not isinstance(view, memoryview):
            raise EvalscriptError(f"internal error: {NS}.{name}[{index}] is not a typed array")
        self._buffers.append(view)
        return np.frombuffer(view, dtype=dtype)

    def _live(self) -> MiniRacer:
        if self._ctx is None:
            raise RuntimeError("the evalscript engine is closed")
        return self._ctx

    def _timeout_error(self) -> EvalscriptLimitError:
        return EvalscriptLimitError(
            f"Evalscript stopped: the request ran longer than the time limit of "
            f"{self.timeout:g} s (script_timeout). Make the script cheaper or ask for fewer "
            "pixels or scenes."
        )

    def _memory_error(self) -> EvalscriptLimitError:
        return EvalscriptLimitError(
            f"Evalscript stopped: it used more than the memory limit of {self.memory_mb} MiB "
            "per request (script_memory_mb). Keep fewer values alive between pixels."
        )

    def _script_error(self, ctx: MiniRacer, exc: JSEvalException) -> EvalscriptError:
        message = str(exc)
        if _MEMORY_MARK in message or ctx.was_hard_memory_limit_reached():
            return self._memory_error()
        try:
            failure = ctx.eval(
                f"(function (S) {{ var f = S.failure; S.failure = null; return f; }})({NS})"
            )
        except JSEvalException:
            failure = None
        if isinstance(failure, str):
            return EvalscriptError(failure)
        first = message.strip().splitlines()[0] if message.strip() else "unknown error"
        first = first.replace("<anonymous>:", f"{SCRIPT_NAME}:")
        return EvalscriptError(f"Failed to evaluate script!\n{first}")


def _settle(ctx: MiniRacer) -> None:
    """Let the engine finish the interrupted task before the context is closed.

    (Closing right away races with mini-racer's completion callback, which then finds its
    event loop closed and prints a traceback.)
    """
    with suppress(JSEvalException):
        ctx.eval("0", timeout_sec=1.0)
