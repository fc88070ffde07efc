"""Run a compiled formula: a fused, NaN-safe float32 evaluator over numpy blocks.

A :class:`Program` (made by :mod:`._compiler`) is a short list of numpy ufunc calls over
registers: the input bands, a few scratch buffers and the output. It runs piece by piece
(:data:`PIECE` elements, so a piece's inputs, scratch and output stay in the L3 cache): the
only full-size memory traffic is reading each input band once and writing the result once.
The scratch buffers are allocated once per call.

Semantics are IEEE float32 as numpy computes them (Python numbers are weak scalars, so
``2.5 * x`` stays float32, as in spyndex), with one exception: a division by zero (and
``0 ** negative``, ``log(0)``) gives NaN, not +-inf. No floating-point warnings are emitted.
Zero denominators are found from the floating-point flags numpy checks after each call
(``errstate(divide="raise")``), so a piece without one pays no extra pass.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cache, partial

import numpy as np

__all__ = ["OUT", "PIECE", "Op", "Operand", "Program"]

#: Elements per piece (float32): 512 KiB per buffer; a formula's few buffers, on each of two
#: threads, fit an 8 MiB L3 cache. Measured on 10980 x 10980 bands (2-core EPYC, 512 KiB L2):
#: NDVI 179 ms against 262 ms at 32768 and 195 ms at 65536, slower again from 262144; below
#: 32768 the numpy call per op and piece dominates (benchmarks/bench_indices.py).
PIECE = 131072
OUT = -1  # the output register
#: From this many elements a block runs as one compiled loop (:mod:`._native`, numba)
#: instead of the tape: its compile (about 0.2 s per formula and process) is then paid back
#: within a few blocks of a 2048 x 2048 px tile; below it the tape is fast enough.
NATIVE_MIN = 2**22

Operand = int | float  # a register (int) or a constant (float)


@dataclass(frozen=True)
class Op:
    """``registers[out] = func(*args)``; NaN where register ``zero`` is 0 (a denominator)."""

    func: np.ufunc | None  # None: fill with NaN (a constant zero denominator)
    args: tuple[Operand, ...]
    out: int
    zero: int | None = None
    zero_exponent: Operand | None = None  # for x ** e: NaN where x == 0 and e < 0
    negative: int | None = None  # NaN where this register is negative (a cube root)


@dataclass(frozen=True)
class Program:
    """A compiled formula: ``n_inputs`` input registers, ``n_scratch`` scratch registers."""

    ops: tuple[Op, ...]
    n_inputs: int
    n_scratch: int

    def __call__(self, *arrays: np.ndarray, threads: int = 1) -> np.ndarray:
        """The formula over same-shape blocks ``arrays``: a new float32 array."""
        shape = np.broadcast_shapes(*(a.shape for a in arrays))
        out = np.empty(shape, dtype=np.float32)
        flats = [_flat(a, shape) for a in arrays]
        flat_out = out.reshape(-1)
        run = self.run
        if flat_out.size >= NATIVE_MIN:
            from s2raster.indices._native import native_loop

            loop = native_loop(self)
            if loop is not None:
                run = partial(_run_loop, loop)
        ranges = _ranges(flat_out.size, threads)
        if len(ranges) == 1:
            run(flat_out, flats, *ranges[0])
        else:
            jobs = [_pool().submit(run, flat_out, flats, *r) for r in ranges]
            for job in jobs:
                job.result()
        return out

    def run(self, out: np.ndarray, flats: Sequence[np.ndarray], start: int, stop: int) -> None:
        """Evaluate into ``out[start:stop]`` (1-D float32), piece by piece."""
        scratch = [np.empty(min(PIECE, stop - start), np.float32) for _ in range(self.n_scratch)]
        with np.errstate(all="ignore"):
            for lo in range(start, stop, PIECE):
                hi = min(lo + PIECE, stop)
                regs = [f[lo:hi] for f in flats]
                regs += [s[: hi - lo] for s in scratch]
                regs.append(out[lo:hi])  # index -1: OUT
                for op in self.ops:
                    _step(op, regs)


def _run_loop(
    loop: Callable[..., None], out: np.ndarray, flats: Sequence[np.ndarray], start: int, stop: int
) -> None:
    loop(out[start:stop], *(f[start:stop] for f in flats))


def _step(op: Op, regs: list[np.ndarray]) -> None:
    target = regs[op.out]
    if op.func is None:
        target.fill(np.nan)
        return
    args = [regs[a] if isinstance(a, int) else a for a in op.args]
    if op.zero is None:
        op.func(*args, out=target)
    else:
        # A zero denominator raises the divide-by-zero (or, 0 / 0, the invalid) flag, which
        # numpy checks after the whole piece is written: the common piece with no zero
        # costs no extra pass over the denominator.
        try:
            with np.errstate(divide="raise", invalid="raise"):
                op.func(*args, out=target)
        except FloatingPointError:
            target[regs[op.zero] == 0] = np.nan
    if op.negative is not None:
        below = regs[op.negative] < 0
        if below.any():
            target[below] = np.nan
    if op.zero_exponent is not None:  # rare: an exponent that may be negative
        base, exponent = args[0], op.zero_exponent
        power = regs[exponent] if isinstance(exponent, int) else exponent
        bad = (np.asarray(base) == 0) & (np.asarray(power) < 0)
        if bad.any():
            target[np.broadcast_to(bad, target.shape)] = np.nan


def _flat(a: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    a = np.broadcast_to(a, shape) if a.shape != shape else a
    if a.dtype != np.float32 or not a.flags.c_contiguous:
        a = np.ascontiguousarray(a, dtype=np.float32)
    return a.reshape(-1)


def _ranges(size: int, threads: int) -> list[tuple[int, int]]:
    """``threads`` ranges covering ``range(size)``, on piece boundaries (one if small)."""
    step = -(-size // max(threads, 1))
    step = max(-(-step // PIECE) * PIECE, 4 * PIECE)
    return [(lo, min(lo + step, size)) for lo in range(0, size, step)] or [(0, 0)]


@cache
def _pool() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=os.cpu_count() or 1, thread_name_prefix="s2raster")
