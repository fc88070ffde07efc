"""A compiled formula as one native loop: numba, one pass over memory per block.

Private to :mod:`._kernel`. The :class:`~._kernel.Program`'s ops become scalar statements
of a loop over the elements (registers are local float32 variables), compiled by numba
(``nogil``: :mod:`._kernel` runs ranges of a block on its threads). Each input is read once
and the output written once, with nothing in between: on 10980 x 10980 bands NDVI takes
about the time of ``np.add(a, b, out=c)``, where the numpy tape (a ufunc call per op and
piece) takes twice that (``benchmarks/bench_indices.py``).

The loop's source is generated from the ops alone: register numbers, a fixed table of
operators and constants passed as float32 globals (Python numbers are weak scalars in
numpy, so ``2.5 * x`` is float32 arithmetic); no text of a formula goes into it. Arithmetic,
comparisons, ``sqrt`` and ``abs`` are exactly rounded in IEEE float32, so the loop gives the
tape's results bit for bit (numba emits no fused multiply-add without ``fastmath``). A formula
with ``exp``, ``log``, a cube root or a general power stays on the tape: the C library's
versions differ from numpy's vectorised ones by an ulp (numpy's float32 ``exp`` is not the
correctly rounded one in about 40 % of cases), which an ill-conditioned formula (kEVI's
near-cancelling denominator) turns into a visible difference. The NaN rules are the tape's.

Compiling costs about 0.2 s per formula and process (0.6 s for the first, with numba's
import), so :mod:`._kernel` uses the loop only for blocks of :data:`~._kernel.NATIVE_MIN`
elements or more, and only when numba is installed.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

import numpy as np

from s2raster.indices._kernel import OUT, Op, Operand, Program

__all__ = ["Loop", "native_loop", "source", "supported"]

#: ``loop(out, *inputs)``: evaluate 1-D float32 arrays of one length.
Loop = Callable[..., None]

_BINARY: dict[np.ufunc, str] = {np.add: "+", np.subtract: "-", np.multiply: "*", np.divide: "/"}
_COMPARE: dict[np.ufunc, str] = {
    np.less: "<",
    np.less_equal: "<=",
    np.greater: ">",
    np.greater_equal: ">=",
    np.equal: "==",
    np.not_equal: "!=",
}
_UNARY: dict[np.ufunc, str] = {
    np.negative: "-{}",
    np.positive: "{}",
    np.square: "{0} * {0}",
    np.absolute: "abs({})",
    np.sqrt: "np.sqrt({})",
}


def source(program: Program) -> tuple[str, dict[str, Any]]:
    """The loop's Python source and its constants (float32, named ``C0``, ``C1``, ...)."""
    constants: dict[str, Any] = {}
    by_bits: dict[int, str] = {}  # the float32 bit pattern: -0.0 is not 0.0, NaN is NaN

    def operand(x: Operand) -> str:
        if isinstance(x, int):
            return _name(x)
        value = np.float32(x)  # as numpy casts a Python number against float32 arrays
        key = int(value.view(np.uint32))
        if key not in by_bits:
            by_bits[key] = f"C{len(by_bits)}"
            constants[by_bits[key]] = value
        return by_bits[key]

    inputs = [f"b{k}" for k in range(program.n_inputs)]
    lines = [f"def loop(out, {', '.join(inputs)}):"]
    lines.append("    for i in range(out.shape[0]):")  # i >= 0: no wraparound, vectorised
    lines += [f"        r{k} = b{k}[i]" for k in range(program.n_inputs)]
    lines += [f"        {line}" for op in program.ops for line in _statements(op, operand)]
    lines.append(f"        out[i] = {_name(OUT)}")
    return "\n".join(lines) + "\n", constants


def supported(op: Op) -> bool:
    """Whether the loop computes ``op`` exactly as numpy does."""
    return op.func is None or op.func in _BINARY or op.func in _COMPARE or op.func in _UNARY


def _name(register: int) -> str:
    return "ro" if register == OUT else f"r{register}"


def _statements(op: Op, operand: Callable[[Operand], str]) -> list[str]:
    target = operand(op.out)
    if op.func is None:
        return [f"{target} = NAN"]
    args = [operand(a) for a in op.args]
    if op.func in _BINARY:
        expr = f"{args[0]} {_BINARY[op.func]} {args[1]}"
    elif op.func in _COMPARE:
        expr = f"ONE if {args[0]} {_COMPARE[op.func]} {args[1]} else ZERO"
    else:
        expr = _UNARY[op.func].format(args[0])
    bad = []
    if op.zero is not None:
        bad.append(f"{operand(op.zero)} == 0")
    if op.negative is not None:
        bad.append(f"{operand(op.negative)} < 0")
    if op.zero_exponent is not None:
        bad.append(f"({args[0]} == 0 and {operand(op.zero_exponent)} < 0)")
    if not bad:
        return [f"{target} = {expr}"]
    # the guard's registers are read before the target is written
    return [f"t = NAN if {' or '.join(bad)} else {expr}", f"{target} = t"]


def native_loop(program: Program) -> Loop | None:
    """The compiled loop of ``program`` (compiled on its first call), or None: without
    numba, or for a formula the loop would not give bit for bit (see above)."""
    if not all(supported(op) for op in program.ops):
        return None
    text, namespace = source(program)
    # Keyed by the source, not the program: ops equal as tuples can differ (2.0 == 2, a
    # constant and register 2); constants by their bits (NaN != NaN would never hit).
    constants = tuple((k, int(v.view(np.uint32))) for k, v in namespace.items())
    return _compiled(text, constants)


@cache
def _compiled(text: str, constants: tuple[tuple[str, int], ...]) -> Loop | None:
    try:
        import numba
    except ImportError:
        return None
    namespace: dict[str, Any] = {"np": np, "NAN": np.float32(np.nan), "ONE": np.float32(1.0),
                                 "ZERO": np.float32(0.0)}  # fmt: skip
    namespace.update((k, np.uint32(bits).view(np.float32)) for k, bits in constants)
    # exec of our own generated source (see the module docstring), in a namespace of its own
    exec(compile(text, "<s2raster index loop>", "exec"), namespace)
    jitted: Loop = numba.njit(nogil=True, error_model="numpy", boundscheck=False)(namespace["loop"])
    return jitted
