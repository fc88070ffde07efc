"""The formula parser accepts arithmetic over known names and refuses everything else."""

from __future__ import annotations

import json
import string
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
from hypothesis import given
from hypothesis import strategies as st

import s2raster.indices
from s2raster import indices
from s2raster.errors import InputError
from s2raster.indices._parser import parse
from s2raster.indices._tree import Binary, Call, Compare, Name, Num, Unary, unparse

NAMES = {"B04", "B08", "L", "N", "R"}


@pytest.mark.parametrize(
    ("expression", "token"),
    [
        ("B08.real", "B08.real"),
        ("B08.__class__", "B08.__class__"),
        ("().__class__.__bases__[0].__subclasses__()", "().__class__.__bases__[0].__subclasses__"),
        ("__import__('os').system('true')", "__import__('os').system"),
        ("B08[0]", "B08[0]"),
        ("(lambda: 1)()", "lambda: 1"),
        ("lambda: B08", "lambda: B08"),
        ("print(B08)", "print"),
        ("eval('1')", "eval"),
        ("exec", "exec"),
        ("os.system", "os.system"),
        ("exp(B08, B04)", "exp(B08, B04)"),
        ("exp(x=B08)", "exp(x=B08)"),
        ("exp(*B08)", "exp(*B08)"),
        ("B08.sum()", "B08.sum"),
        ("B08 if B04 else 1", "B08 if B04 else 1"),
        ("B08 and B04", "B08 and B04"),
        ("not B08", "not B08"),
        ("~B08", "~B08"),
        ("B08 // B04", "B08 // B04"),
        ("B08 % B04", "B08 % B04"),
        ("B08 @ B04", "B08 @ B04"),
        ("B08 << 1", "B08 << 1"),
        ("B04 < B08 < 1", "B04 < B08 < 1"),
        ("B08 in B04", "B08 in B04"),
        ("[B08]", "[B08]"),
        ("{B08: 1}", "{B08: 1}"),
        ("(B08, B04)", "(B08, B04)"),
        ("'B08'", "'B08'"),
        ("f'{B08}'", "f'{B08}'"),
        ("True", "True"),
        ("None", "None"),
        ("1j * B08", "1j"),
        ("1e999 * B08", "1e999"),
        ("[x for x in B08]", "[x for x in B08]"),
        ("(y := B08)", "y := B08"),
        ("B07 - B04", "B07"),
        ("NDVI", "NDVI"),
        ("_", "_"),
        ("__builtins__", "__builtins__"),
        ("n", "n"),
        ("b08", "b08"),
    ],
)
def test_refused(expression: str, token: str) -> None:
    with pytest.raises(InputError, match="is not allowed") as info:
        parse(expression, NAMES)
    message = str(info.value)
    assert repr(expression) in message
    assert repr(token) in message


@pytest.mark.parametrize(
    "expression",
    ["", "B08 +", "(B08", "B08 = 1", "import os", "B08; B04", "\x00", "yield B08", "B08\n+B04)"],
)
def test_not_an_expression(expression: str) -> None:
    with pytest.raises(InputError, match="not a valid expression"):
        parse(expression, NAMES)


def test_limits() -> None:
    with pytest.raises(InputError, match="characters long"):
        parse("+".join(["B08"] * 1000), NAMES)
    with pytest.raises(InputError, match="nesting deeper"):
        parse("-" * 150 + "B08", NAMES)
    with pytest.raises(InputError, match="must be a string"):
        parse(b"B08", NAMES)  # type: ignore[arg-type]


def test_accepted_tree() -> None:
    tree = parse("-(B08 - R) ** 2 / (B08 + 0.5) >= exp(L)", NAMES)
    assert tree == Compare(
        ">=",
        Binary(
            "/",
            Unary("-", Binary("**", Binary("-", Name("B08"), Name("R")), Num(2))),
            Binary("+", Name("B08"), Num(0.5)),
        ),
        Call("exp", Name("L")),
    )
    assert unparse(tree) == "-(B08 - R) ** 2 / (B08 + 0.5) >= exp(L)"


def test_every_asi_formula_parses_and_round_trips() -> None:
    data = Path(s2raster.indices.__file__).parent / "data" / "spectral-indices-dict.json"
    for record in json.loads(data.read_text("utf-8"))["SpectralIndices"].values():
        tree = parse(record["formula"], set(record["bands"]))
        assert parse(unparse(tree), set(record["bands"])) == tree


ALPHABET = string.ascii_letters + string.digits + " _.()[]{}+-*/%@<>=!~&|^:,'\"\\#$`\n"


@given(st.text(alphabet=ALPHABET, max_size=40))
def test_any_text_is_a_tree_or_an_input_error(text: str) -> None:
    """Never another exception, and a tree uses only allowed names."""
    try:
        tree = parse(text, NAMES)
    except InputError:
        return
    assert set(_names(tree)) <= NAMES


SAFE_LEAVES = st.sampled_from(["B08", "B04", "L", "0.5", "2", "exp(B08)"]).map(lambda t: (t, False))
BAD_LEAVES = st.sampled_from(["__class__", "os", "abs", "NDVI", "_x"]).map(lambda t: (t, True))
Piece = tuple[str, bool]  # (expression, whether it uses something forbidden)


def _combine(inner: st.SearchStrategy[Piece]) -> st.SearchStrategy[Piece]:
    safe_ops = st.sampled_from(["+", "-", "*", "/", "**", "<"])
    return st.one_of(
        st.tuples(inner, safe_ops, inner).map(
            lambda t: (f"({t[0][0]} {t[1]} {t[2][0]})", t[0][1] or t[2][1])
        ),
        st.tuples(inner, st.sampled_from([".", "//", "%"]), inner).map(
            lambda t: (f"({t[0][0]}){t[1]}{t[2][0]}" if t[1] != "." else f"({t[0][0]}).x", True)
        ),
        inner.map(lambda x: (f"sqrt({x[0]})", x[1])),
        inner.map(lambda x: (f"getattr({x[0]}, 'x')", True)),
        inner.map(lambda x: (f"({x[0]})[0]", True)),
    )


@given(st.recursive(st.one_of(SAFE_LEAVES, BAD_LEAVES), _combine, max_leaves=8))
def test_dunder_and_call_tricks(piece: Piece) -> None:
    """Expressions built from dangerous pieces are refused; from safe ones, parsed."""
    text, forbidden = piece
    if forbidden:
        with pytest.raises(InputError, match="is not allowed"):
            parse(text, NAMES)
    else:
        assert set(_names(parse(text, NAMES))) <= NAMES


def _names(node: object) -> list[str]:
    from s2raster.indices._tree import names

    return list(names(node))  # type: ignore[arg-type]


def test_compute_refuses_through_the_parser() -> None:
    da = xr.DataArray(np.ones((2, 2, 2), np.float32), dims=("band", "y", "x"))
    da = da.assign_coords(band=["B04", "B08"])
    with pytest.raises(InputError, match=r"'B08.__class__' is not allowed"):
        indices.compute("B08.__class__", da)
    with pytest.raises(InputError, match=r"the name 'foo' is not allowed"):
        indices.compute("(B08 - foo) / B04", da)
    assert indices.compute("(B08 - foo) / B04", da, foo=0.5).values.tolist() == [[0.5, 0.5]] * 2
