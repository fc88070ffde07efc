"""Compile a formula tree into a fused, NaN-safe float32 evaluator over numpy blocks.

The tree is folded (constant subtrees become numbers) and turned into a short program of
numpy ufunc calls over registers: the input bands, a few scratch buffers and the output.
The program runs piece by piece (:data:`PIECE` elements, so a piece's inputs, scratch and
output stay in the L2 cache): the only full-size memory traffic is reading each input band
once and writing the result once. The scratch buffers are allocated once per call.

Semantics are IEEE float32 as numpy computes them (Python numbers are weak scalars, so
``2.5 * x`` stays float32, as in spyndex), with one exception: a division by zero (and
``0 ** negative``, ``log(0)``) gives NaN, not +-inf. No floating-point warnings are emitted.
Constant powers take numpy's ``**`` fast paths (``x ** 2`` is ``square``, ``x ** 0.5`` is
``sqrt``), so results match the same formula evaluated with numpy operators.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cache
from typing import Any

import numpy as np

from s2raster.indices._parser import Binary, Call, Compare, Name, Node, Num, Unary

__all__ = ["PIECE", "Program", "compile_tree", "fold"]

#: Elements per piece (float32): 128 KiB per buffer; a few of them fit a 512 KiB L2 cache.
PIECE = 32768
OUT = -1  # the output register

_BINARY: dict[str, np.ufunc] = {
    "+": np.add,
    "-": np.subtract,
    "*": np.multiply,
    "/": np.divide,
    "**": np.power,
}
_COMPARE: dict[str, np.ufunc] = {
    "<": np.less,
    "<=": np.less_equal,
    ">": np.greater,
    ">=": np.greater_equal,
    "==": np.equal,
    "!=": np.not_equal,
}
_CALL: dict[str, np.ufunc] = {"abs": np.absolute, "exp": np.exp, "log": np.log, "sqrt": np.sqrt}
#: numpy's fast paths for ``array ** scalar`` (numpy/_core/src/multiarray/number.c).
_POWERS: dict[float, np.ufunc] = {2.0: np.square, 0.5: np.sqrt, 1.0: np.positive}

Operand = int | float  # a register (int) or a constant (float)


@dataclass(frozen=True)
class Op:
    """``registers[out] = func(*args)``; NaN where register ``zero`` is 0 (a denominator)."""

    func: np.ufunc | None  # None: fill with NaN (a constant zero denominator)
    args: tuple[Operand, ...]
    out: int
    zero: int | None = None
    zero_exponent: Operand | None = None  # for x ** e: NaN where x == 0 and e < 0


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
        ranges = _ranges(flat_out.size, threads)
        if len(ranges) == 1:
            self.run(flat_out, flats, *ranges[0])
        else:
            jobs = [_pool().submit(self.run, flat_out, flats, *r) for r in ranges]
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


def _step(op: Op, regs: list[np.ndarray]) -> None:
    target = regs[op.out]
    if op.func is None:
        target.fill(np.nan)
        return
    args = [regs[a] if isinstance(a, int) else a for a in op.args]
    op.func(*args, out=target)
    if op.zero is not None:
        den = regs[op.zero]
        if not den.all():  # NaN is truthy: only true zeros
            target[den == 0] = np.nan
    if op.zero_exponent is not None:
        base = args[0]
        exponent = op.zero_exponent
        exp = regs[exponent] if isinstance(exponent, int) else exponent
        if isinstance(base, np.ndarray) and not base.all():
            target[(base == 0) & (np.asarray(exp) < 0)] = np.nan


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


# --- constant folding ------------------------------------------------------------------------


def fold(node: Node) -> Node:
    """``node`` with every constant subtree evaluated (float64, the kernel's NaN rules)."""
    if isinstance(node, Unary):
        inner = fold(node.operand)
        if node.op == "+":
            return inner
        return Num(-inner.value) if isinstance(inner, Num) else Unary("-", inner)
    if isinstance(node, Call):
        arg = fold(node.arg)
        return Num(_scalar(node.func, arg.value)) if isinstance(arg, Num) else Call(node.func, arg)
    if isinstance(node, (Binary, Compare)):
        left, right = fold(node.left), fold(node.right)
        if isinstance(left, Num) and isinstance(right, Num):
            return Num(_scalar(node.op, left.value, right.value))
        return type(node)(node.op, left, right)
    return node


def _scalar(op: str, *values: float) -> float:
    x = [np.float64(v) for v in values]
    if (op == "/" and x[1] == 0) or (op == "**" and x[0] == 0 and x[1] < 0):
        return math.nan
    if op == "log" and x[0] == 0:
        return math.nan
    with np.errstate(all="ignore"):
        if op in _CALL:
            return float(_CALL[op](x[0]))
        if op in _COMPARE:
            return float(_COMPARE[op](x[0], x[1]))
        return float(_BINARY[op](x[0], x[1]))


# --- compiling -------------------------------------------------------------------------------


def compile_tree(tree: Node, inputs: Sequence[str]) -> Program:
    """The program of ``tree`` (names: ``inputs``, in argument order)."""
    compiler = _Compiler(list(inputs))
    result = compiler.emit(fold(tree))
    if isinstance(result, float):
        raise ValueError("a formula without bands cannot be compiled")
    ops = compiler.ops
    if result < len(inputs):  # the formula is one band: copy it
        ops.append(Op(np.positive, (result,), OUT))
    else:
        ops = [_rename(op, result) for op in ops]
    return Program(tuple(ops), len(inputs), compiler.n_scratch)


def _rename(op: Op, register: int) -> Op:
    """``op`` with scratch ``register`` (the result's) replaced by OUT."""

    def r(x: Any) -> Any:
        return OUT if isinstance(x, int) and x == register else x

    args = tuple(r(a) for a in op.args)
    return Op(op.func, args, r(op.out), r(op.zero), r(op.zero_exponent))


class _Compiler:
    def __init__(self, inputs: list[str]) -> None:
        self.inputs = inputs
        self.ops: list[Op] = []
        self.free: list[int] = []
        self.n_scratch = 0

    def scratch(self, *candidates: Operand) -> int:
        for c in candidates:
            if isinstance(c, int) and c >= len(self.inputs):
                return c
        if self.free:
            return self.free.pop()
        self.n_scratch += 1
        return len(self.inputs) + self.n_scratch - 1

    def release(self, *operands: Operand, keep: int) -> None:
        for x in operands:
            if isinstance(x, int) and x >= len(self.inputs) and x != keep:
                self.free.append(x)

    def emit(self, node: Node) -> Operand:
        if isinstance(node, Num):
            return float(node.value)
        if isinstance(node, Name):
            return self.inputs.index(node.id)
        if isinstance(node, Unary):
            return self.unary(np.negative, self.emit(node.operand))
        if isinstance(node, Call):
            return self.unary(_CALL[node.func], self.emit(node.arg), zero=node.func == "log")
        left, right = self.emit(node.left), self.emit(node.right)
        if isinstance(node, Compare):
            return self.binary(_COMPARE[node.op], left, right)
        if node.op == "/":
            return self.divide(left, right)
        if node.op == "**":
            return self.power(left, right)
        return self.binary(_BINARY[node.op], left, right)

    def unary(self, func: np.ufunc, x: Operand, *, zero: bool = False) -> int:
        """``func(x)``; with ``zero``, NaN where x is 0 (log 0 is -inf otherwise)."""
        if zero and isinstance(x, int):
            out = self.scratch()
            self.ops.append(Op(func, (x,), out, zero=x))
            self.release(x, keep=out)
            return out
        out = self.scratch(x)
        self.ops.append(Op(func, (x,), out))
        return out

    def binary(
        self,
        func: np.ufunc,
        a: Operand,
        b: Operand,
        *,
        zero: int | None = None,
        zero_exponent: Operand | None = None,
    ) -> int:
        """``func(a, b)``; the result never overwrites an operand a NaN check still reads."""
        if zero is not None:
            out = self.scratch(a)  # the denominator b is read after the division
        elif zero_exponent is not None:
            out = self.scratch(b)  # the base a is read after the power
        else:
            out = self.scratch(a, b)
        self.ops.append(Op(func, (a, b), out, zero, zero_exponent))
        self.release(a, b, keep=out)
        return out

    def divide(self, a: Operand, b: Operand) -> int:
        if isinstance(b, float):
            if b == 0:
                out = self.scratch(a)
                self.ops.append(Op(None, (), out))
                return out
            return self.binary(np.divide, a, b)
        return self.binary(np.divide, a, b, zero=b)

    def power(self, a: Operand, b: Operand) -> int:
        if isinstance(b, float) and b in _POWERS:
            return self.unary(_POWERS[b], a)
        if isinstance(b, float) and b == -1.0:
            return self.divide(1.0, a)
        if isinstance(b, float) and b >= 0:
            return self.binary(np.power, a, b)
        return self.binary(np.power, a, b, zero_exponent=b)
