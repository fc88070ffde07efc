"""Formula trees: the frozen nodes the parser builds, and what works on them.

:mod:`._parser` builds trees from text, :mod:`._compiler` turns them into programs; here:
the node types, the names a tree uses, substitution (symbols -> bands or numbers) and
:func:`unparse` (a tree as a formula string, with the parentheses its structure needs).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass

__all__ = [
    "Binary",
    "Call",
    "Compare",
    "Name",
    "Node",
    "Num",
    "Unary",
    "names",
    "substitute",
    "unparse",
]


@dataclass(frozen=True)
class Num:
    """A number (int or float, as written)."""

    value: float


@dataclass(frozen=True)
class Name:
    """A band or a constant."""

    id: str


@dataclass(frozen=True)
class Unary:
    """``-x`` or ``+x``."""

    op: str
    operand: Node


@dataclass(frozen=True)
class Binary:
    """``left op right`` for op in ``+ - * / **``."""

    op: str
    left: Node
    right: Node


@dataclass(frozen=True)
class Compare:
    """``left op right`` for op in ``< <= > >= == !=`` (1.0 where true, 0.0 where not)."""

    op: str
    left: Node
    right: Node


@dataclass(frozen=True)
class Call:
    """``func(arg)`` for func in :data:`FUNCTIONS`."""

    func: str
    arg: Node


Node = Num | Name | Unary | Binary | Compare | Call


def names(node: Node) -> Iterator[str]:
    """The names ``node`` uses, in order of first use (with repeats)."""
    if isinstance(node, Name):
        yield node.id
    elif isinstance(node, (Unary, Call)):
        yield from names(node.operand if isinstance(node, Unary) else node.arg)
    elif isinstance(node, (Binary, Compare)):
        yield from names(node.left)
        yield from names(node.right)


def substitute(node: Node, values: Mapping[str, Node]) -> Node:
    """``node`` with the names in ``values`` replaced by their trees."""
    if isinstance(node, Name):
        return values.get(node.id, node)
    if isinstance(node, Unary):
        return Unary(node.op, substitute(node.operand, values))
    if isinstance(node, Call):
        return Call(node.func, substitute(node.arg, values))
    if isinstance(node, Binary):
        return Binary(node.op, substitute(node.left, values), substitute(node.right, values))
    if isinstance(node, Compare):
        return Compare(node.op, substitute(node.left, values), substitute(node.right, values))
    return node


_PRECEDENCE = {"<": 0, "+": 1, "-": 1, "*": 2, "/": 2, "unary": 3, "**": 4, "atom": 5}


def unparse(node: Node) -> str:
    """``node`` as a formula string, with the parentheses its structure needs."""
    return _unparse(node)[0]


def _unparse(node: Node) -> tuple[str, int]:
    if isinstance(node, Num):
        text = repr(node.value)
        return text, _PRECEDENCE["unary" if node.value < 0 else "atom"]
    if isinstance(node, Name):
        return node.id, _PRECEDENCE["atom"]
    if isinstance(node, Call):
        return f"{node.func}({unparse(node.arg)})", _PRECEDENCE["atom"]
    if isinstance(node, Unary):
        text, inner = _unparse(node.operand)
        own = _PRECEDENCE["unary"]
        return node.op + (text if inner >= own else f"({text})"), own
    own = _PRECEDENCE.get(node.op, 0)
    left, lp = _unparse(node.left)
    right, rp = _unparse(node.right)
    right_assoc = node.op == "**"
    if lp < own or (lp == own and (right_assoc or own == 0)):
        left = f"({left})"
    if rp < own or (rp == own and not right_assoc):
        right = f"({right})"
    return f"{left} {node.op} {right}", own
