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
from collections import Counter
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
    """The program of ``tree`` (names: ``inputs``, in argument order).

    Repeated subexpressions are computed once (``k(N, R)`` in kNDVI, GEMI's terms) and small
    integer powers become multiplications (``x ** 3`` is ``x * x * x``).
    """
    tree = _expand_powers(fold(tree))
    compiler = _Compiler(list(inputs), tree)
    result = compiler.value(tree)
    if isinstance(result, float):
        raise ValueError("a formula without bands cannot be compiled")
    ops = compiler.ops
    if result < len(inputs):  # the formula is one band: copy it
        ops.append(Op(np.positive, (result,), OUT))
    else:
        ops = [_rename(op, result) for op in ops]
    return Program(tuple(ops), len(inputs), compiler.n_scratch)


def _expand_powers(node: Node) -> Node:
    """``x ** 3`` -> ``x ** 2 * x``, ``x ** 4`` -> ``(x ** 2) ** 2`` (np.power is slow)."""
    if isinstance(node, Unary):
        return Unary(node.op, _expand_powers(node.operand))
    if isinstance(node, Call):
        return Call(node.func, _expand_powers(node.arg))
    if isinstance(node, (Binary, Compare)):
        left, right = _expand_powers(node.left), _expand_powers(node.right)
        if isinstance(node, Binary) and node.op == "**" and isinstance(right, Num):
            if right.value == 3:
                return Binary("*", Binary("**", left, Num(2.0)), left)
            if right.value == 4:
                return Binary("**", Binary("**", left, Num(2.0)), Num(2.0))
        return type(node)(node.op, left, right)
    return node


def _use_counts(tree: Node) -> Counter[Node]:
    """How often each compound subtree's value is read (a repeated one's children once)."""
    counts: Counter[Node] = Counter()

    def visit(node: Node) -> None:
        if isinstance(node, (Num, Name)):
            return
        counts[node] += 1
        if counts[node] > 1:
            return
        if isinstance(node, Unary):
            visit(node.operand)
        elif isinstance(node, Call):
            visit(node.arg)
        else:
            visit(node.left)
            visit(node.right)

    visit(tree)
    return counts


def _rename(op: Op, register: int) -> Op:
    """``op`` with scratch ``register`` (the result's) replaced by OUT."""

    def r(x: Any) -> Any:
        return OUT if isinstance(x, int) and x == register else x

    args = tuple(r(a) for a in op.args)
    return Op(op.func, args, r(op.out), r(op.zero), r(op.zero_exponent))


class _Compiler:
    """Emits ops for a tree; a scratch register is reused once its value has no reads left."""

    def __init__(self, inputs: list[str], tree: Node) -> None:
        self.inputs = inputs
        self.ops: list[Op] = []
        self.free: list[int] = []
        self.n_scratch = 0
        self.uses = _use_counts(tree)
        self.done: dict[Node, int] = {}  # computed subtrees with reads left -> register
        self.holds: dict[int, Node] = {}  # register -> the subtree it holds
        self.live: Counter[int] = Counter()  # register -> reads left

    def value(self, node: Node) -> Operand:
        """The operand holding ``node``'s value, computed on its first read."""
        if isinstance(node, Num):
            return float(node.value)
        if isinstance(node, Name):
            return self.inputs.index(node.id)
        if node not in self.done:
            register = self.compute(node)
            self.done[node], self.holds[register] = register, node
            self.live[register] = self.uses[node]
        return self.done[node]

    def scratch(self, x: Operand) -> bool:
        return isinstance(x, int) and x >= len(self.inputs)

    def op(
        self,
        func: np.ufunc | None,
        args: tuple[Operand, ...],
        *,
        reuse: tuple[Operand, ...],
        zero: int | None = None,
        zero_exponent: Operand | None = None,
    ) -> int:
        """Append ``func(*args)``; its result goes into an operand of ``reuse`` read for the
        last time here, else into a free or a new register. Returns that register."""
        last = [int(c) for c in reuse if self.scratch(c) and self.live[int(c)] <= args.count(c)]
        if last:
            out = last[0]
        elif self.free:
            out = self.free.pop()
        else:
            self.n_scratch += 1
            out = len(self.inputs) + self.n_scratch - 1
        self.ops.append(Op(func, args, out, zero, zero_exponent))
        for x in args:
            if self.scratch(x):
                self.live[int(x)] -= 1
        for x in set(args):
            if self.scratch(x) and self.live[int(x)] <= 0:
                self.done.pop(self.holds.pop(int(x)), None)
                if x != out:
                    self.free.append(int(x))
        return out

    def compute(self, node: Node) -> int:
        if isinstance(node, Unary):
            x = self.value(node.operand)
            return self.op(np.negative, (x,), reuse=(x,))
        if isinstance(node, Call):
            x = self.value(node.arg)
            if node.func == "log" and isinstance(x, int):  # log(0) is NaN: x is read after
                return self.op(np.log, (x,), reuse=(), zero=x)
            return self.op(_CALL[node.func], (x,), reuse=(x,))
        assert isinstance(node, (Binary, Compare))
        a, b = self.value(node.left), self.value(node.right)
        if isinstance(node, Compare):
            return self.op(_COMPARE[node.op], (a, b), reuse=(a, b))
        if node.op == "/":
            return self.divide(a, b)
        if node.op == "**":
            return self.power(a, b)
        return self.op(_BINARY[node.op], (a, b), reuse=(a, b))

    def divide(self, a: Operand, b: Operand) -> int:
        if isinstance(b, float):
            if b == 0:
                return self.op(None, (a,), reuse=(a,))  # NaN everywhere
            return self.op(np.divide, (a, b), reuse=(a,))
        reuse = (a,) if a != b else ()  # the denominator b is read after the division
        return self.op(np.divide, (a, b), reuse=reuse, zero=b)

    def power(self, a: Operand, b: Operand) -> int:
        if isinstance(b, float) and b in _POWERS:
            return self.op(_POWERS[b], (a,), reuse=(a,))
        if isinstance(b, float) and b == -1.0:
            return self.divide(1.0, a)
        if isinstance(b, float) and b >= 0:
            return self.op(np.power, (a, b), reuse=(a,))
        # base and exponent are read after the power: the result goes elsewhere
        return self.op(np.power, (a, b), reuse=(), zero_exponent=b)
