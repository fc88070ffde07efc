"""The import direction of the layers (docs/architecture.md), read from the source.

- nothing imports ``s2raster.cli`` (the CLI is the outermost layer);
- only ``s2raster.cdse`` uses sentinelhub-py for I/O (elsewhere: the ``SHConfig`` type only);
- the core never imports the emulator (the CLI may: ``--emulator``), and the emulator's own
  rule (a leaf) is pinned in ``tests/emulator/test_emulator_layers.py``;
- ``contract`` and ``errors`` import nothing of s2raster; ``bands`` only ``errors``.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import s2raster

PACKAGE = Path(s2raster.__file__).parent
MODULES = sorted(PACKAGE.rglob("*.py"))


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported(source: str) -> set[str]:
    """Every module ``source`` imports (top level and inside functions)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            if node.module.startswith("s2raster"):  # `from s2raster import cli` names a module
                found.update(f"{node.module}.{a.name}" for a in node.names)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
    return found


def violations(name: str, modules: set[str]) -> list[str]:
    """What module ``name`` must not import, of ``modules``."""
    bad: list[str] = []
    inside = name.split(".")[1] if "." in name else ""
    for m in sorted(modules):
        if m.startswith("s2raster.cli") and inside != "cli":
            bad.append(f"{m}: nothing imports the CLI")
        if m.startswith("sentinelhub") and inside != "cdse" and m != "sentinelhub.config":
            bad.append(f"{m}: only s2raster.cdse uses sentinelhub-py for I/O")
        facade = name == "s2raster" and m.startswith("s2raster.emulator.errors")  # re-export
        if m.startswith("s2raster.emulator") and inside not in ("cli", "emulator") and not facade:
            bad.append(f"{m}: the core does not depend on the emulator")
    if name in ("s2raster.contract", "s2raster.errors"):
        bad += [f"{m}: imports nothing of s2raster" for m in modules if m.startswith("s2raster")]
    if name == "s2raster.bands":
        bad += [
            f"{m}: bands imports only errors"
            for m in modules
            if m.startswith("s2raster") and not m.startswith("s2raster.errors")
        ]
    return bad


@pytest.mark.parametrize("path", MODULES, ids=module_name)
def test_import_direction(path: Path) -> None:
    name = module_name(path)
    assert violations(name, imported(path.read_text())) == []


@pytest.mark.parametrize(
    ("name", "source"),
    [
        ("s2raster._load", "from s2raster.cli import main"),
        ("s2raster.grid", "def f():\n    import sentinelhub.api.process"),
        ("s2raster.plan", "from s2raster.emulator import Emulator"),
        ("s2raster.contract", "from s2raster.errors import InputError"),
        ("s2raster.bands", "from s2raster.grid import Grid"),
    ],
)
def test_the_rule_catches_a_broken_import(name: str, source: str) -> None:
    assert violations(name, imported(source))


def test_allowed_imports_pass() -> None:
    assert (
        violations("s2raster.cli.fetch", imported("from s2raster.emulator import Emulator")) == []
    )
    assert violations("s2raster.cdse._fetch", imported("import sentinelhub.api.catalog")) == []
    assert violations("s2raster._load", imported("from sentinelhub.config import SHConfig")) == []
