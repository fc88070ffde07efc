"""Catalog search filters: ids, a CQL2 subset (text and JSON) and the ``fields`` extension.

The CQL2 subset: comparisons (``< <= > >= = <>``) of ``eo:cloud_cover``, ``platform`` and
``constellation`` with literals, joined with ``AND`` (``{"op": "and", ...}`` in JSON), which
covers what sentinelhub-py's ``SentinelHubCatalog.search(filter=...)`` sends for Sentinel-2.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable
from typing import Any

from s2raster.emulator.request import ApiError, bad_payload, is_number

Item = dict[str, Any]
_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge,
    "=": operator.eq, "<>": operator.ne,
}  # fmt: skip
_TEXT_TERM = re.compile(r"^\s*([\w:]+)\s*(<=|>=|<>|=|<|>)\s*('[^']*'|[-+\d.eE]+)\s*$")
_PROPERTIES = {"eo:cloud_cover", "platform", "constellation"}
_MAX_DEPTH = 32


def matcher(params: dict[str, Any]) -> Callable[[Any], bool]:
    """A test for acquisitions matching ``ids`` and ``filter`` of the search ``params``
    (both checked here, before any acquisition is looked at)."""
    ids = params.get("ids")
    wanted: set[str] | None = None
    if ids is not None:
        if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
            raise bad_payload(f"ids must be an array of strings, got {ids!r}.", "ids")
        wanted = set(ids)
    terms = _filter_terms(params.get("filter"), params.get("filter-lang", "cql2-text"))

    def matches(acquisition: Any) -> bool:
        if wanted is not None and acquisition.id not in wanted:
            return False
        return all(_match(acquisition, *term) for term in terms)

    return matches


def filter_acquisitions(acquisitions: list[Any], params: dict[str, Any]) -> list[Any]:
    """The acquisitions matching ``ids`` and ``filter`` of the search ``params``."""
    matches = matcher(params)
    return [a for a in acquisitions if matches(a)]


def _filter_terms(value: Any, lang: str) -> list[tuple[str, str, Any]]:
    if value in (None, ""):
        return []
    if lang == "cql2-json" or isinstance(value, dict):
        return _json_terms(value)
    terms = []
    for text in re.split(r"\s+AND\s+", str(value), flags=re.IGNORECASE):
        match = _TEXT_TERM.match(text)
        if match is None or match.group(1) not in _PROPERTIES:
            raise _unsupported_filter(text)
        literal = match.group(3)
        operand = literal.strip("'") if literal.startswith("'") else _float(literal, text)
        terms.append((match.group(1), match.group(2), operand))
    return terms


def _float(literal: str, text: str) -> float:
    try:
        return float(literal)
    except ValueError:
        raise _unsupported_filter(text) from None


def _json_terms(value: Any, depth: int = 0) -> list[tuple[str, str, Any]]:
    if not isinstance(value, dict) or depth > _MAX_DEPTH:
        raise _unsupported_filter(value)
    args = value.get("args")
    if value.get("op") == "and":
        if not isinstance(args, list):
            raise _unsupported_filter(value)
        return [term for arg in args for term in _json_terms(arg, depth + 1)]
    if (
        value.get("op") in _OPS
        and isinstance(args, list)
        and len(args) == 2
        and isinstance(args[0], dict)
        and args[0].get("property") in _PROPERTIES
        and (is_number(args[1]) or isinstance(args[1], str))
    ):
        return [(args[0]["property"], value["op"], args[1])]
    raise _unsupported_filter(value)


def _unsupported_filter(value: Any) -> ApiError:
    return bad_payload(
        f"Unsupported filter {value!r}: the emulator understands comparisons of "
        f"{', '.join(sorted(_PROPERTIES))} joined with AND.",
        "filter",
    )


def _match(acquisition: Any, name: str, op: str, operand: Any) -> bool:
    values = {
        "eo:cloud_cover": float(acquisition.cloud_cover),
        "platform": acquisition.platform,
        "constellation": "sentinel-2",
    }
    value = values[name]
    if isinstance(value, float) != is_number(operand):
        return False
    return _OPS[op](value, operand)


def select_fields(feature: Item, fields: Any) -> Item:
    """``feature`` reduced to the ``fields`` include/exclude lists (dotted paths)."""
    if not isinstance(fields, dict):
        return feature
    include = [f for f in _list(fields.get("include")) if isinstance(f, str) and f]
    exclude = [f for f in _list(fields.get("exclude")) if isinstance(f, str) and f]
    if include:
        kept: Item = {"id": feature["id"], "type": feature["type"]}
        for path in include:
            _copy_path(feature, kept, path.split("."))
        feature = kept
    for path in exclude:
        _drop_path(feature, path.split("."))
    return feature


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _copy_path(source: Item, target: Item, keys: list[str]) -> None:
    head, rest = keys[0], keys[1:]
    if head not in source:
        return
    if not rest or not isinstance(source[head], dict):
        target[head] = source[head]
        return
    _copy_path(source[head], target.setdefault(head, {}), rest)


def _drop_path(target: Item, keys: list[str]) -> None:
    head, rest = keys[0], keys[1:]
    if head in target and not rest:
        del target[head]
    elif head in target and isinstance(target[head], dict):
        _drop_path(target[head], rest)
