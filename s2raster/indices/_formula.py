"""From an index name or a custom expression to a formula over Sentinel-2 band names.

A catalogue formula (ASI symbols) or a user expression (Sentinel-2 band names, ASI band
symbols and constants) is parsed safely (:mod:`._parser`), kernel terms are expanded, ASI
band symbols become Sentinel-2 names and constants become numbers: caller's values first,
then s2raster's and ASI's defaults.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from dataclasses import dataclass, replace
from functools import cache

from s2raster.errors import BandError, InputError
from s2raster.indices import _catalogue as cat
from s2raster.indices._parser import parse
from s2raster.indices._tree import Name, Node, Num, names, substitute, unparse

__all__ = ["Formula", "canonical_name", "check_constants", "lookup", "resolve"]


@dataclass(frozen=True)
class Formula:
    """A formula ready to compile.

    ``name`` is the index name (or the normalized expression), ``tree`` uses only Sentinel-2
    band names (constants are numbers), ``text`` is ``tree`` as a string, ``bands`` are the
    bands read in order of first use, ``constants`` the values used; ``kernel``: a kernel
    index (its kernel terms expanded).
    """

    name: str
    tree: Node
    text: str
    bands: tuple[str, ...]
    constants: Mapping[str, float]
    long_name: str
    kernel: bool = False


def canonical_name(name: str) -> str:
    """The catalogue name of index ``name``: exact, else case-insensitive when unambiguous.

    ASI's ``NDREI`` is s2raster's ``NDRE``. An unknown name raises
    :class:`~s2raster.errors.BandError` (an :class:`InputError`) saying what is offered.
    """
    key = str(name)
    table = cat.entries()
    if key in table:
        return key
    key = cat.RENAMED.get(key, key)
    if key in table:
        return key
    folded = _folded().get(key.casefold(), ())
    if len(folded) == 1:
        return folded[0]
    if folded:
        raise BandError(f"index {name!r} is ambiguous: choose one of {', '.join(folded)}")
    if key in cat.excluded():
        raise BandError(
            f"index {name!r} is not computable from Sentinel-2: it {cat.excluded()[key]}"
        )
    raise BandError(
        f"unknown index {name!r}: choose one of the {len(table)} catalogue indices "
        f"(s2raster.indices.catalogue(); e.g. NDVI, EVI, NBR) or write an expression such "
        f"as '(B08 - B04) / (B08 + B04)'"
    )


@cache
def _folded() -> Mapping[str, tuple[str, ...]]:
    out: dict[str, tuple[str, ...]] = {}
    for key in (*cat.entries(), *cat.RENAMED):
        target = cat.RENAMED.get(key, key)
        if target not in out.get(key.casefold(), ()):
            out[key.casefold()] = (*out.get(key.casefold(), ()), target)
    return out


def lookup(name: str) -> cat.SpectralIndex:
    """The catalogue entry of ``name`` (see :func:`canonical_name`)."""
    return cat.entries()[canonical_name(name)]


def is_expression(text: str) -> bool:
    """Whether ``text`` is a custom expression (``"B08 / B04"``, ``"B08"``), not an index name."""
    return not str(text).isidentifier() or text in cat.S2_BANDS


def check_constants(constants: Mapping[str, object]) -> dict[str, float]:
    """``constants`` as plain floats; an InputError for a non-number or a band name."""
    out: dict[str, float] = {}
    for key, value in constants.items():
        if key in cat.S2_BANDS or key in cat.ASI_TO_S2:
            raise InputError(f"{key} is a band, not a constant: drop {key}={value!r}")
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise InputError(f"constant {key} must be a number, got {value!r}")
        if not math.isfinite(float(value)):
            raise InputError(f"constant {key} must be finite, got {value!r}")
        out[key] = float(value)
    return out


def resolve(
    text: str, constants: Mapping[str, float], kernel: str = "RBF", *, strict: bool = True
) -> Formula:
    """The formula of catalogue index or expression ``text`` with ``constants`` applied.

    ``strict=False``: a constant without a value (no default, not given) becomes NaN instead
    of an InputError (enough to know the bands a formula reads).
    """
    if is_expression(text):
        return _expression(text, constants, strict)
    entry = lookup(text)
    allowed = set(cat.ASI_TO_S2) | set(entry.constants) | set(entry.kernel_terms)
    tree = parse(entry.formula, allowed)
    if entry.kernel_terms:
        tree = substitute(
            tree, {k: _kernel(kernel, *pair) for k, pair in entry.kernel_terms.items()}
        )
    defaults = {**cat.constant_defaults(), **entry.constants}
    formula = _finish(entry.name, tree, constants, defaults, entry.long_name, strict)
    return replace(formula, kernel=bool(entry.kernel_terms))


def _expression(text: str, constants: Mapping[str, float], strict: bool) -> Formula:
    defaults = cat.constant_defaults()
    known = set(cat.S2_BANDS) | set(cat.ASI_TO_S2) | set(defaults) | set(constants)
    tree = parse(text, known)
    return _finish(unparse(tree), tree, constants, defaults, "custom expression", strict)


def _kernel(kernel: str, a: str, b: str) -> Node:
    key = {k.casefold(): k for k in cat.KERNELS}.get(str(kernel).casefold())
    if key is None:
        raise InputError(f"kernel {kernel!r} is unknown: choose one of {', '.join(cat.KERNELS)}")
    tree = parse(cat.KERNELS[key], {"a", "b", "sigma", "p", "c"})
    return substitute(tree, {"a": Name(a), "b": Name(b)})


def _finish(
    name: str,
    tree: Node,
    constants: Mapping[str, float],
    defaults: Mapping[str, float | None],
    long_name: str,
    strict: bool,
) -> Formula:
    values: dict[str, Node] = {s: Name(b) for s, b in cat.ASI_TO_S2.items()}
    used: dict[str, float] = {}
    for symbol in dict.fromkeys(names(tree)):
        if symbol in values or symbol in cat.S2_BANDS:
            continue
        value = constants.get(symbol, defaults.get(symbol))
        if value is None and not strict:
            value = math.nan
        elif value is None:
            description = cat.constants_table().get(symbol, {}).get("description", "")
            raise InputError(
                f"{name} needs constant {symbol} ({description}), which has no default: "
                f"pass {symbol}=<value>"
            )
        used[symbol] = float(value)
        values[symbol] = Num(value)
    tree = substitute(tree, values)
    bands = tuple(dict.fromkeys(n for n in names(tree)))
    if not bands:
        raise InputError(f"formula {name!r} uses no band: an index needs at least one band")
    return Formula(name, tree, unparse(tree), bands, used, long_name)
