"""The emulator is a leaf: what its modules may import (read from their source, no V8)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

import s2raster.emulator

PACKAGE = Path(s2raster.emulator.__file__).parent
MODULES = sorted(PACKAGE.rglob("*.py"))
ALLOWED = ("s2raster.contract", "s2raster.bands")
SUBPACKAGES = ("http", "request", "runtime", "earth", "encode", "catalog", "statistics")


def imports(path: Path) -> list[tuple[str, list[str], str | None]]:
    """(module, names, enclosing function) of every ``s2raster`` import in ``path``."""
    tree = ast.parse(path.read_text())
    found: list[tuple[str, list[str], str | None]] = []

    def visit(node: ast.AST, function: str | None) -> None:
        for child in ast.iter_child_nodes(node):
            inner = child.name if isinstance(child, ast.FunctionDef) else function
            if isinstance(child, ast.ImportFrom) and child.module:
                found.append((child.module, [a.name for a in child.names], function))
            elif isinstance(child, ast.Import):
                found.extend((a.name, [], function) for a in child.names)
            visit(child, inner)

    visit(tree, None)
    return [(m, n, f) for m, n, f in found if m == "s2raster" or m.startswith("s2raster.")]


def owner(path: Path) -> str | None:
    """The subpackage ``path`` belongs to (None for the top level)."""
    parts = path.relative_to(PACKAGE).parts
    return parts[0] if len(parts) > 1 else None


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_emulator_imports_only_the_contract(path: Path) -> None:
    for module, names, function in imports(path):
        if module.startswith("s2raster.emulator") or module in ALLOWED:
            continue
        if module == "s2raster.errors":
            assert names == ["S2RasterError"], f"{path.name} imports {names} from {module}"
        elif module == "s2raster.cdse":
            assert (path.name, function) == ("_app.py", "config"), f"{path.name}: {module}"
        else:
            pytest.fail(f"{path.name} imports {module}: the emulator is a leaf")


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_subpackages_meet_through_their_facades(path: Path) -> None:
    mine = owner(path)
    for module, names, _ in imports(path):
        parts = module.split(".")
        if parts[:2] != ["s2raster", "emulator"] or len(parts) < 3:
            continue
        if parts[2] in SUBPACKAGES and parts[2] != mine:
            assert len(parts) == 3, f"{path.name} reaches into {module}"
            assert not [n for n in names if n.startswith("_")], f"{path.name}: {names}"
        if mine is not None and parts[2] not in (*SUBPACKAGES, "errors"):
            pytest.fail(f"{path.name} (in {mine}/) imports the top level: {module}")


def test_http_server_does_not_know_the_emulator() -> None:
    for path in (PACKAGE / "http").glob("*.py"):
        assert re.search(r"\bEmulator\b", path.read_text()) is None, path.name
        for module, _, _ in imports(path):
            assert not module.startswith("s2raster.emulator._"), f"{path.name}: {module}"
