"""Refresh the vendored Awesome Spectral Indices catalogue and show what changed.

The catalogue lives in ``s2raster/indices/data/`` (``spectral-indices-dict.json``,
``constants.json``, ``bands.json``, and ``SOURCE.json`` recording where they came from).
The new files come from an ASI release you have locally (the ``output/`` folder of a checkout
of awesome-spectral-indices/awesome-spectral-indices, or its ``spectral-indices-dict.json``)
or from the package data of the installed spyndex. Nothing is downloaded.

    python scripts/refresh_asi.py --from ~/src/awesome-spectral-indices/output \\
        --commit 926973262d11d37ba9cebdd56fbc0ff07fe367a9 --date 2026-08-21
    python scripts/refresh_asi.py --from-spyndex --dry-run     # what spyndex's copy differs in

Prints the diff (indices added, removed, formulas and other fields changed, constants
changed); ``--dry-run`` writes nothing. Run the catalogue tests afterwards
(``pytest tests/unit/test_indices_catalogue.py``).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

FILES = ("spectral-indices-dict.json", "constants.json", "bands.json")
TARGET = Path(__file__).resolve().parents[1] / "s2raster" / "indices" / "data"
REPOSITORY = "https://github.com/awesome-spectral-indices/awesome-spectral-indices"
#: Upstream fixes a refresh must keep (index, text its formula must contain, since when).
KNOWN_FIXES = (("GARI", "lmb * (B - R))", "2026-07"), ("SARVI", "gamma * (R - B)", "2026-07"))


def read_release(path: Path) -> dict[str, bytes]:
    """The catalogue files of a release: ``path`` is their folder or the indices file."""
    folder = path if path.is_dir() else path.parent
    found = {name: folder / name for name in FILES if (folder / name).is_file()}
    if path.is_file():
        found["spectral-indices-dict.json"] = path
    if "spectral-indices-dict.json" not in found:
        raise SystemExit(f"{path}: no spectral-indices-dict.json there")
    return {name: p.read_bytes() for name, p in found.items()}


def read_spyndex() -> tuple[dict[str, bytes], str]:
    """spyndex's bundled catalogue files and a description of where they came from."""
    try:
        import spyndex  # type: ignore[import-untyped]
    except ImportError:
        raise SystemExit("spyndex is not installed: pip install spyndex") from None
    folder = Path(spyndex.__file__).parent / "data"
    version = getattr(spyndex, "__version__", "unknown")
    return {name: (folder / name).read_bytes() for name in FILES}, f"spyndex {version} package data"


def indices_of(content: bytes) -> dict[str, dict[str, Any]]:
    data: dict[str, dict[str, Any]] = json.loads(content)["SpectralIndices"]
    return data


def diff(old: Mapping[str, bytes], new: Mapping[str, bytes]) -> list[str]:
    """Human-readable changes from ``old`` to ``new`` catalogue files."""
    lines: list[str] = []
    a = indices_of(old["spectral-indices-dict.json"])
    b = indices_of(new["spectral-indices-dict.json"])
    lines.append(f"indices: {len(a)} -> {len(b)}")
    for name in sorted(set(b) - set(a)):
        lines.append(f"  added   {name}: {b[name]['formula']}")
    for name in sorted(set(a) - set(b)):
        lines.append(f"  removed {name}: {a[name]['formula']}")
    for name in sorted(set(a) & set(b)):
        for key in sorted(set(a[name]) | set(b[name])):
            before, after = a[name].get(key), b[name].get(key)
            if before != after:
                lines.append(f"  changed {name} {key}: {before!r} -> {after!r}")
    for name, text, since in KNOWN_FIXES:
        if name in b and text not in b[name]["formula"]:
            lines.append(f"  WARNING {name} loses ASI's {since} fix ({text!r} in its formula)")
    if "constants.json" in old and "constants.json" in new:
        lines += _constants_diff(
            json.loads(old["constants.json"]), json.loads(new["constants.json"])
        )
    for name in ("bands.json",):
        if name in old and name in new and json.loads(old[name]) != json.loads(new[name]):
            lines.append(f"  {name} changed")
    return lines


def _constants_diff(a: Mapping[str, Any], b: Mapping[str, Any]) -> list[str]:
    lines = []
    for name in sorted(set(a) | set(b)):
        before, after = a.get(name, {}).get("default"), b.get(name, {}).get("default")
        if name not in a:
            lines.append(f"  constant added   {name} (default {after!r})")
        elif name not in b:
            lines.append(f"  constant removed {name}")
        elif before != after:
            lines.append(f"  constant changed {name} default: {before!r} -> {after!r}")
    return lines


def write(target: Path, files: Mapping[str, bytes], source: Mapping[str, Any]) -> None:
    """Write ``files`` and their ``SOURCE.json`` (with sha256 digests) into ``target``."""
    for name, content in files.items():
        (target / name).write_bytes(content)
    record = dict(source)
    record["indices"] = len(indices_of(files["spectral-indices-dict.json"]))
    record["sha256"] = {
        name: hashlib.sha256((target / name).read_bytes()).hexdigest() for name in FILES
    }
    (target / "SOURCE.json").write_text(json.dumps(record, indent=2) + "\n", "utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    origin = parser.add_mutually_exclusive_group(required=True)
    origin.add_argument("--from", dest="path", type=Path, help="ASI output/ folder or JSON file")
    origin.add_argument("--from-spyndex", action="store_true", help="spyndex's package data")
    parser.add_argument("--commit", help="the ASI commit the files are from")
    parser.add_argument("--date", help="the date of that commit (YYYY-MM-DD)")
    parser.add_argument("--target", type=Path, default=TARGET, help="default: the package data")
    parser.add_argument("--dry-run", action="store_true", help="show the diff, write nothing")
    args = parser.parse_args(argv)
    if args.from_spyndex:
        files, origin_text = read_spyndex()
    else:
        files, origin_text = read_release(args.path), str(args.path)
    old = {n: (args.target / n).read_bytes() for n in FILES if (args.target / n).is_file()}
    if old:
        print("\n".join(diff(old, {**old, **files})))
    if args.dry_run:
        return 0
    source = {
        "name": "Awesome Spectral Indices",
        "repository": REPOSITORY,
        "commit": args.commit or "unknown",
        "date": args.date or "unknown",
        "path": "output/",
        "licence": "MIT, (c) David Montero Loaiza and contributors",
        "refreshed_from": origin_text,
    }
    write(args.target, {**old, **files}, source)
    print(f"wrote {', '.join(sorted(files))} and SOURCE.json into {args.target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
