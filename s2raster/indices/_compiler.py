"""Compile a formula tree into a :class:`~._kernel.Program` of numpy ufunc calls.

The tree is folded (constant subtrees become numbers, in float64 with the kernel's NaN
rules), small integer powers become multiplications and ``x ** (1 / 3)`` a cube root,
repeated subexpressions are computed once, and each value gets a register: an input band, a
scratch buffer or the output. A scratch register is reused as soon as its value has no reads
left, so a formula needs few buffers (NDVI 2, EVI 3). Constant powers take numpy's ``**``
fast paths (``x ** 2`` is ``square``, ``x ** 0.5`` is ``sqrt``), so results match the same
formula evaluated with numpy operators.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from typing import Any

import numpy as np

from s2raster.indices._kernel import OUT, Op, Operand, Program
from s2raster.indices._tree import Binary, Call, Compare, Name, Node, Num, Unary

__all__ = ["compile_tree", "fold"]

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
    return Op(op.func, args, r(op.out), r(op.zero), r(op.zero_exponent), r(op.negative))


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
        negative: int | None = None,
    ) -> int:
        """Append ``func(*args)``; its result goes into an operand of ``reuse`` read for the
        last time here, else into a free or a new register. Returns that register."""
        regs = [int(x) for x in args if isinstance(x, int)]  # not constants: 3.0 == 3
        held = [int(c) for c in reuse if self.scratch(c)]
        last = [c for c in held if self.live[c] <= regs.count(c)]
        if last:
            out = last[0]
        elif self.free:
            out = self.free.pop()
        else:
            self.n_scratch += 1
            out = len(self.inputs) + self.n_scratch - 1
        self.ops.append(Op(func, args, out, zero, zero_exponent, negative))
        for r in regs:
            if self.scratch(r):
                self.live[r] -= 1
        for r in set(regs):
            if self.scratch(r) and self.live[r] <= 0:
                self.done.pop(self.holds.pop(r), None)
                if r != out:
                    self.free.append(r)
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
        same = isinstance(a, int) and a == b
        reuse = () if same else (a,)  # the denominator b is read after the division
        return self.op(np.divide, (a, b), reuse=reuse, zero=b)

    def power(self, a: Operand, b: Operand) -> int:
        if isinstance(b, float) and b in _POWERS:
            return self.op(_POWERS[b], (a,), reuse=(a,))
        if isinstance(b, float) and b == -1.0:
            return self.divide(1.0, a)
        if isinstance(b, float) and b == 1 / 3 and isinstance(a, int):
            # cbrt is exact and fast where np.power is slow; a negative base stays NaN
            return self.op(np.cbrt, (a,), reuse=(), negative=a)
        if isinstance(b, float) and b >= 0:
            return self.op(np.power, (a, b), reuse=(a,))
        # base and exponent are read after the power: the result goes elsewhere
        return self.op(np.power, (a, b), reuse=(), zero_exponent=b)
