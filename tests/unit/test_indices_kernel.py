"""The compiled tape equals numpy's own evaluation of the same formula, bit for bit.

Random formulas (with repeated subexpressions, so registers are shared and reused) are
compiled and run piece by piece; the reference walks the tree with numpy operators
(float32 arrays, Python numbers as weak scalars) and the kernel's NaN rule (a zero
denominator, ``0 ** negative`` and ``log(0)`` give NaN).
"""

from __future__ import annotations

import math
import pickle
import sys
import warnings
from typing import Any
from unittest import mock

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from s2raster.indices import _kernel, _native
from s2raster.indices._compiler import compile_tree
from s2raster.indices._native import native_loop, source
from s2raster.indices._parser import parse
from s2raster.indices._tree import Binary, Call, Compare, Name, Node, Num, Unary

BANDS = ("B02", "B04", "B08")
RNG = np.random.default_rng(1)
VALUES = RNG.uniform(-0.2, 1.0, size=(3, 300)).astype(np.float32)
VALUES[:, :5] = 0.0
VALUES[0, 5:10] = np.nan
VALUES[1, 10:20] = VALUES[2, 10:20]  # B04 == B08: zero differences


def reference(node: Node, env: dict[str, np.ndarray]) -> Any:
    if isinstance(node, Num):
        return float(node.value)
    if isinstance(node, Name):
        return env[node.id]
    if isinstance(node, Unary):
        return -reference(node.operand, env)
    if isinstance(node, Call):
        x = reference(node.arg, env)
        if isinstance(x, float):
            return math.nan if node.func == "log" and x == 0 else float(getattr(np, node.func)(x))
        fx = {"abs": np.absolute, "exp": np.exp, "log": np.log, "sqrt": np.sqrt}[node.func](x)
        return np.where(x == 0, np.float32(np.nan), fx) if node.func == "log" else fx
    a, b = reference(node.left, env), reference(node.right, env)
    if isinstance(a, float) and isinstance(b, float):
        if (node.op == "/" and b == 0) or (node.op == "**" and a == 0 and b < 0):
            return math.nan
        return float(eval_op(node, np.float64(a), np.float64(b)))
    out = eval_op(node, a, b)
    if isinstance(node, Compare):
        return np.asarray(out, dtype=np.float32)
    if node.op == "/":
        return np.where(np.asarray(b) == 0, np.float32(np.nan), out)
    if node.op == "**":
        bad = (np.asarray(a) == 0) & (np.asarray(b) < 0)
        return np.where(bad, np.float32(np.nan), out)
    return out


def eval_op(node: Binary | Compare, a: Any, b: Any) -> Any:
    ops: dict[str, Any] = {
        "+": lambda x, y: x + y,
        "-": lambda x, y: x - y,
        "*": lambda x, y: x * y,
        "/": lambda x, y: x / y,
        "**": lambda x, y: x**y,
        "<": lambda x, y: x < y,
        ">=": lambda x, y: x >= y,
    }
    return ops[node.op](a, b)


LEAVES = st.sampled_from(["B02", "B04", "B08", "0.5", "2.0", "0", "1.5"])


def _grow(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    ops = st.sampled_from(["+", "-", "*", "/", "**", "<", ">="])
    return st.one_of(
        st.tuples(inner, ops, inner).map(lambda t: f"({t[0]} {t[1]} {t[2]})"),
        st.tuples(st.sampled_from(["exp", "sqrt", "abs", "log", "-"]), inner).map(
            lambda t: f"{t[0]}({t[1]})"
        ),
    )


TERMS = st.recursive(LEAVES, _grow, max_leaves=5)


@settings(max_examples=300)
@given(
    s=TERMS,
    t=TERMS,
    u=TERMS,
    shape=st.sampled_from(["{s} * {t} + {s} / ({u} - {s})", "({s} - {t}) / ({s} + {t})", "{s}"]),
)
def test_tape_matches_numpy_bit_for_bit(s: str, t: str, u: str, shape: str) -> None:
    text = shape.format(s=f"({s})", t=f"({t})", u=f"({u})")
    if all(b not in text for b in BANDS):
        return  # no band: nothing to compile
    tree = parse(text, set(BANDS))
    env = dict(zip(BANDS, VALUES, strict=True))
    with np.errstate(all="ignore"):
        expected = np.broadcast_to(np.asarray(reference(tree, env), np.float32), (300,))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = compile_tree(tree, BANDS)(*VALUES)
    np.testing.assert_array_equal(got, expected, err_msg=text)


@settings(max_examples=60, deadline=None)  # each example compiles a loop (about 0.2 s)
@given(
    s=TERMS,
    t=TERMS,
    shape=st.sampled_from(["({s} - {t}) / ({s} + {t})", "{s} * {t} + {s} / ({t} - {s})"]),
)
def test_loop_matches_numpy_bit_for_bit(s: str, t: str, shape: str) -> None:
    """The numba loop that large blocks run gives numpy's values bit for bit (a formula it
    cannot match, with exp, log or a general power, stays on the tape)."""
    pytest.importorskip("numba")
    text = shape.format(s=f"({s})", t=f"({t})")
    if all(b not in text for b in BANDS):
        return
    tree = parse(text, set(BANDS))
    env = dict(zip(BANDS, VALUES, strict=True))
    with np.errstate(all="ignore"):
        expected = np.broadcast_to(np.asarray(reference(tree, env), np.float32), (300,))
    with mock.patch.object(_kernel, "NATIVE_MIN", 0), warnings.catch_warnings():
        warnings.simplefilter("error")
        got = compile_tree(tree, BANDS)(*VALUES, threads=2)
    np.testing.assert_array_equal(got, expected, err_msg=text)


def test_the_loop_runs_large_blocks_and_its_source_holds_no_formula_text() -> None:
    pytest.importorskip("numba")
    tree = parse("(B08 - B04) / (B08 + 0.5 * B04)", set(BANDS))
    program = compile_tree(tree, BANDS)
    assert native_loop(program) is not None
    text, constants = source(program)
    assert "B08" not in text
    assert "0.5" not in text
    assert constants["C0"] == np.float32(0.5)
    assert constants["C0"].dtype == np.float32
    log = compile_tree(parse("log(B08) / B04", set(BANDS)), BANDS)
    assert native_loop(log) is None  # numpy's log is not the C library's: the tape runs
    big = RNG.uniform(0, 1, size=(3, _kernel.NATIVE_MIN + 7)).astype(np.float32)
    with mock.patch.object(_kernel, "NATIVE_MIN", 2**62):
        tape = program(*big, threads=2)
    np.testing.assert_array_equal(program(*big, threads=2), tape)
    assert pickle.loads(pickle.dumps(program)) == program  # a dask task on distributed


def test_without_numba_the_tape_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "numba", None)  # import numba raises ImportError
    monkeypatch.setattr(_kernel, "NATIVE_MIN", 0)
    program = compile_tree(parse("(B08 - B04) / (B08 + B04 + 0.25)", set(BANDS)), BANDS)
    _native._compiled.cache_clear()
    try:
        assert native_loop(program) is None
        got = program(*VALUES)
    finally:
        _native._compiled.cache_clear()
    expected = (VALUES[2] - VALUES[1]) / (VALUES[2] + VALUES[1] + np.float32(0.25))
    np.testing.assert_array_equal(got, expected)


def test_a_constant_equal_to_a_register_number_gets_its_own_loop() -> None:
    """Ops with (2, 2) and (2, 2.0) are equal tuples (2.0 == 2): the loops must not be."""
    pytest.importorskip("numba")
    band = compile_tree(parse("(B08 - B08) / (B08 + B08)", set(BANDS)), BANDS)
    const = compile_tree(parse("(B08 - 2.0) / (B08 + 2.0)", set(BANDS)), BANDS)
    assert band == const  # what makes the hazard
    assert native_loop(band) is not native_loop(const)
    with mock.patch.object(_kernel, "NATIVE_MIN", 0):
        got = const(*VALUES)
    b08 = VALUES[2]
    np.testing.assert_array_equal(got, (b08 - np.float32(2)) / (b08 + np.float32(2)))


@pytest.mark.parametrize(
    "text",
    [
        "0.1 * B08 - 0.7 * B04 + 1e-7",  # not float32 numbers: rounded as numpy rounds them
        "(B08 * -0.0) + (B04 * 0.0)",  # -0.0 and 0.0 are two constants
        "B08 + (0 / 0) * B04",  # a NaN constant, folded
        "(B08 > 0.3) * B04 + (B02 != B04) - (B08 <= B02)",
    ],
)
def test_loop_constants_and_comparisons(text: str) -> None:
    pytest.importorskip("numba")
    program = compile_tree(parse(text, set(BANDS)), BANDS)
    with mock.patch.object(_kernel, "NATIVE_MIN", 2**62):
        tape = program(*VALUES)
    with mock.patch.object(_kernel, "NATIVE_MIN", 0):
        loop = program(*VALUES)
        native_loop(program)
        hits = _native._compiled.cache_info().hits
        native_loop(program)
    np.testing.assert_array_equal(loop, tape, err_msg=text)
    assert np.signbit(loop).tolist() == np.signbit(tape).tolist()
    assert _native._compiled.cache_info().hits == hits + 1  # compiled once, NaN or not


@pytest.mark.parametrize(
    "text",
    [
        "((B02 + 0.5) - 3.0) / ((B02 + 0.5) + 3.0)",  # 3.0 == 3, the scratch register
        "((B02 + B02) - (1.5 + 1.5)) / ((B02 + B02) + (1.5 + 1.5))",
        "(3.0 - (B08 + B04)) * (B08 + B04)",
    ],
)
def test_a_constant_equal_to_a_register_number_is_not_that_register(text: str) -> None:
    tree = parse(text, set(BANDS))
    env = dict(zip(BANDS, VALUES, strict=True))
    with np.errstate(all="ignore"):
        expected = np.asarray(reference(tree, env), np.float32)
    np.testing.assert_array_equal(compile_tree(tree, BANDS)(*VALUES), expected)


def test_pieces_threads_and_odd_layouts(monkeypatch: pytest.MonkeyPatch) -> None:
    tree = parse("(B08 - B04) / (B08 + B04) + sqrt(B02) * (B08 - B04)", set(BANDS))
    program = compile_tree(tree, BANDS)
    big = RNG.uniform(0, 1, size=(3, 50, 70)).astype(np.float32)
    whole = program(*big)
    monkeypatch.setattr(_kernel, "PIECE", 64)  # many pieces, threads split ranges
    np.testing.assert_array_equal(program(*big, threads=3), whole)
    strided = [np.asfortranarray(b).astype(np.float64) for b in big]  # copied, cast
    np.testing.assert_array_equal(program(*strided), whole)
    assert program(*big[:, :0]).shape == (0, 70)


@pytest.mark.parametrize("text", ["(B08 - B04) / (B08 + B04)", "log(B08 + B04) / B02"])
def test_a_zero_in_one_piece_of_many(monkeypatch: pytest.MonkeyPatch, text: str) -> None:
    """Zeros are found from numpy's floating-point flags per piece: the piece with them gets
    NaN exactly there, every other piece is untouched, and no warning leaks."""
    monkeypatch.setattr(_kernel, "PIECE", 64)
    data = RNG.uniform(0.1, 1, size=(3, 64 * 9)).astype(np.float32)
    data[1, 300], data[2, 300] = 0.25, -0.25  # B04 + B08 == 0: NDVI's 0 / 0 ... or x / 0
    data[2, 301] = -data[1, 301] + 1.0  # log(1) = 0 ... then a zero B02 below
    data[0, 302] = 0.0
    data[:, 400] = np.nan
    tree = parse(text, set(BANDS))
    env = dict(zip(BANDS, data, strict=True))
    with np.errstate(all="ignore"):
        expected = np.asarray(reference(tree, env), np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = compile_tree(tree, BANDS)(*data, threads=2)
    np.testing.assert_array_equal(got, expected)
    assert np.isnan(got[[300, 400]]).all()


def test_cube_root() -> None:
    """x ** (1 / 3) (AVI, SI) is np.cbrt, NaN for a negative base as np.power gives."""
    x = np.array([-8.0, -0.0, 0.0, 8.0, 0.3, np.nan], np.float32)
    program = compile_tree(parse("B08 ** (1 / 3)", {"B08"}), ["B08"])
    assert any(op.func is np.cbrt for op in program.ops)
    with np.errstate(invalid="ignore"):
        expected = x ** (1 / 3)
    np.testing.assert_allclose(program(x), expected, rtol=1e-6)
    np.testing.assert_array_equal(np.isnan(program(x)), np.isnan(expected))


def test_integer_powers_are_multiplications() -> None:
    x = RNG.uniform(0, 2, size=1000).astype(np.float32)
    for exponent in (3, 4):
        program = compile_tree(parse(f"B08 ** {exponent}", {"B08"}), ["B08"])
        assert all(op.func is not np.power for op in program.ops)
        np.testing.assert_allclose(program(x), x.astype(np.float64) ** exponent, rtol=1e-6)


def test_registers_are_reused() -> None:
    from s2raster.indices._formula import resolve

    for name, most in (("NDVI", 2), ("EVI", 3), ("kNDVI", 3), ("GEMI", 3)):
        formula = resolve(name, {})
        assert compile_tree(formula.tree, formula.bands).n_scratch <= most, name
