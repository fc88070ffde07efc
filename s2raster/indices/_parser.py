"""A safe parser for index formulas: Python syntax, a whitelist walk, a tiny expression tree.

A formula (from the catalogue or from a user) is parsed with :func:`ast.parse` in ``eval``
mode, never evaluated by Python. The walk accepts numbers, names from an allow-list (bands and
constants), ``+ - * / **``, unary ``-``/``+``, single comparisons and the calls in
:data:`FUNCTIONS`; anything else (attributes, subscripts, other calls, lambdas, strings,
comprehensions, unknown names...) is an :class:`~s2raster.errors.InputError` naming the
expression and the offending token. The result is a tree of :mod:`._tree` nodes.
"""

from __future__ import annotations

import ast
import math
from collections.abc import Callable, Collection

from s2raster.errors import InputError
from s2raster.indices._tree import Binary, Call, Compare, Name, Node, Num, Unary

__all__ = ["FUNCTIONS", "MAX_DEPTH", "MAX_LENGTH", "parse"]

#: Functions a formula may call: ASI's formulas call none; the RBF kernel needs ``exp``.
FUNCTIONS = ("abs", "exp", "log", "sqrt")
#: Longest formula accepted (the longest in ASI has about 300 characters).
MAX_LENGTH = 2000
#: Deepest tree accepted (ASI's deepest formula is about 12 levels deep).
MAX_DEPTH = 100

_BINARY: dict[type[ast.operator], str] = {
    ast.Add: "+",
    ast.Sub: "-",
    ast.Mult: "*",
    ast.Div: "/",
    ast.Pow: "**",
}
_UNARY: dict[type[ast.unaryop], str] = {ast.USub: "-", ast.UAdd: "+"}
_COMPARE: dict[type[ast.cmpop], str] = {
    ast.Lt: "<",
    ast.LtE: "<=",
    ast.Gt: ">",
    ast.GtE: ">=",
    ast.Eq: "==",
    ast.NotEq: "!=",
}


def parse(expression: str, names: Collection[str] | Callable[[str], bool]) -> Node:
    """The tree of ``expression``; ``names`` are the names it may use (or a predicate).

    Raises :class:`~s2raster.errors.InputError` naming the expression and the offending
    token for anything outside the whitelist.
    """
    if not isinstance(expression, str):
        raise InputError(f"an index formula must be a string, got {type(expression).__name__}")
    if len(expression) > MAX_LENGTH:
        raise InputError(
            f"formula {expression[:40]!r}... is {len(expression)} characters long, above "
            f"{MAX_LENGTH}: split it or simplify it"
        )
    try:
        tree = ast.parse(expression.strip(), mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
        detail = getattr(exc, "msg", None) or type(exc).__name__
        raise InputError(
            f"formula {expression!r} is not a valid expression ({detail}): write arithmetic "
            "over band names and constants, e.g. '(B08 - B04) / (B08 + B04)'"
        ) from None
    allowed = names if callable(names) else frozenset(names).__contains__
    return _Walker(expression, allowed).node(tree.body, 0)


class _Walker:
    def __init__(self, expression: str, allowed: Callable[[str], bool]) -> None:
        self.expression = expression
        self.allowed = allowed

    def refuse(self, node: ast.AST, what: str, fix: str) -> InputError:
        token = ast.get_source_segment(self.expression.strip(), node) or type(node).__name__
        return InputError(f"formula {self.expression!r}: {what} {token!r} is not allowed; {fix}")

    def node(self, node: ast.AST, depth: int) -> Node:
        if depth > MAX_DEPTH:
            raise self.refuse(node, f"nesting deeper than {MAX_DEPTH} at", "simplify the formula")
        if isinstance(node, ast.Constant):
            return self.number(node)
        if isinstance(node, ast.Name):
            return self.name(node)
        if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
            left, right = self.node(node.left, depth + 1), self.node(node.right, depth + 1)
            return Binary(_BINARY[type(node.op)], left, right)
        if isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY:
            return Unary(_UNARY[type(node.op)], self.node(node.operand, depth + 1))
        if isinstance(node, ast.Compare):
            return self.compare(node, depth)
        if isinstance(node, ast.Call):
            return self.call(node, depth)
        raise self.refuse(
            node,
            _describe(node),
            "use numbers, band names, constants, + - * / **, comparisons and "
            f"{', '.join(FUNCTIONS)}",
        )

    def number(self, node: ast.Constant) -> Num:
        value = node.value
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.refuse(node, "the constant", "only numbers may appear in a formula")
        try:
            as_float = float(value)
        except OverflowError:
            as_float = math.inf
        if not math.isfinite(as_float):
            raise self.refuse(node, "the non-finite number", "use a finite number")
        return Num(value)

    def name(self, node: ast.Name) -> Name:
        if node.id.startswith("_") or not self.allowed(node.id):
            raise self.refuse(
                node,
                "the name",
                "use Sentinel-2 band names (B01..B12, B8A), ASI band symbols (N, R, ...) or "
                "constants (passed as keyword arguments or ASI's defaults)",
            )
        return Name(node.id)

    def compare(self, node: ast.Compare, depth: int) -> Compare:
        if len(node.ops) != 1 or type(node.ops[0]) not in _COMPARE:
            raise self.refuse(node, "the comparison", "compare two terms at a time with < <= ...")
        left = self.node(node.left, depth + 1)
        right = self.node(node.comparators[0], depth + 1)
        return Compare(_COMPARE[type(node.ops[0])], left, right)

    def call(self, node: ast.Call, depth: int) -> Call:
        func = node.func
        if not isinstance(func, ast.Name) or func.id not in FUNCTIONS:
            raise self.refuse(node.func, "calling", f"the functions allowed are {FUNCTIONS}")
        if len(node.args) != 1 or node.keywords or isinstance(node.args[0], ast.Starred):
            raise self.refuse(node, "the call", f"{func.id}() takes exactly one argument")
        return Call(func.id, self.node(node.args[0], depth + 1))


def _describe(node: ast.AST) -> str:
    kinds = {
        ast.Attribute: "attribute access",
        ast.Subscript: "subscript",
        ast.Lambda: "lambda",
        ast.BoolOp: "the boolean operator in",
        ast.IfExp: "the conditional",
    }
    for kind, text in kinds.items():
        if isinstance(node, kind):
            return text
    if isinstance(node, (ast.BinOp, ast.UnaryOp)):
        return "the operator in"
    return "the construct"
