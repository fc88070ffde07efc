"""Run sentinelhub-py's own service tests (``sh_integration``) against the local emulator.

Usage::

    python benchmarks/run_sentinelhub_tests.py /tmp/shpy-snapshot [--junit out.xml]

``SNAPSHOT`` is a checkout of the sentinelhub-py repository's tree (its ``tests/`` folder
and ``pyproject.toml``; its source distribution ships no tests), made beforehand outside
this repository, e.g. file by file from a bare mirror (whose few LFS images are absent)::

    cd <mirror> && for f in $(git ls-tree -r --name-only HEAD -- tests pyproject.toml); do
      mkdir -p /tmp/shpy-snapshot/$(dirname $f)
      git show HEAD:$f > /tmp/shpy-snapshot/$f || rm /tmp/shpy-snapshot/$f; done

This script downloads nothing: it starts an emulator on loopback,
runs the Process API, Catalog, session and download-client tests in a pytest subprocess
(the installed sentinelhub package, the snapshot's tests, ``_sh_redirect`` sending the
service hosts to the emulator), then prints every failure with its cause from
:data:`CAUSES`: synthetic data (expected), out of scope (other collections, other
services) or an emulator gap; a failure with no known cause is listed as unclassified and
makes the exit status 1.
"""

from __future__ import annotations

import argparse
import fnmatch
import os
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path

from s2raster.emulator import Emulator

TESTS = (
    "tests/api/test_process.py",
    "tests/api/test_catalog.py",
    "tests/download/test_session.py",
    "tests/download/test_sentinelhub_client.py",
    "tests/test_evalscript.py",
)
SYNTHETIC = "synthetic data (expected)"
OUT_OF_SCOPE = "out of scope"
GAP = "emulator gap"
_REAL_STATS = "asserts the pixel statistics of a real scene"
_OTHERS = "a collection or deployment other than CDSE Sentinel-2 L1C/L2A"
#: Known causes of failures: fnmatch patterns of ``file::name[params]``, cause, reason
#: (the first matching pattern wins).
CAUSES: tuple[tuple[str, str, str], ...] = (
    ("test_process.py::test_data_fusion", OUT_OF_SCOPE, "Landsat 8 + S2 data fusion"),
    ("test_process.py::*", SYNTHETIC, _REAL_STATS),
    ("test_catalog.py::*LANDSAT*", OUT_OF_SCOPE, _OTHERS),
    ("test_catalog.py::*SENTINEL1*", OUT_OF_SCOPE, _OTHERS),
    ("test_catalog.py::*MODIS*", OUT_OF_SCOPE, _OTHERS),
    ("test_catalog.py::test_search_with_ids", OUT_OF_SCOPE, "a Landsat 7 item"),
    (
        "test_catalog.py::test_info_with_different_deployments*",
        OUT_OF_SCOPE,
        "asserts links under the public URL this run sends to the emulator, which names its own",
    ),
    ("test_catalog.py::test_get_collections", OUT_OF_SCOPE, "expects 3+ collections, S2 has 2"),
    ("test_catalog.py::test_get_feature", SYNTHETIC, "fetches a real product id"),
    ("test_catalog.py::test_search_filter", SYNTHETIC, "counts scenes by real cloud cover"),
    ("test_catalog.py::test_search_geometry*", SYNTHETIC, "asserts a real product id and time"),
    ("test_catalog.py::test_search_for_data_collection*", SYNTHETIC, "asserts real product ids"),
    ("test_catalog.py::test_get_available_timestamps*", SYNTHETIC, "real dates and cloud covers"),
    ("test_evalscript.py::test_valid_evalscript*LANDSAT*", OUT_OF_SCOPE, _OTHERS),
    ("test_evalscript.py::test_valid_evalscript*", GAP, "a zero-area bbox is refused"),
)


def cause_of(test_id: str) -> tuple[str, str]:
    """The known cause and reason of a failure of ``test_id``."""
    for pattern, cause, reason in CAUSES:
        if fnmatch.fnmatchcase(test_id, pattern):
            return cause, reason
    return "unclassified", ""


def run_pytest(
    snapshot: Path, emulator: Emulator, junit: Path, workdir: Path, *, shapes_only: bool
) -> int:
    """The snapshot's tests in a subprocess (cwd outside the snapshot, so that its own
    ``sentinelhub`` source never shadows the installed one)."""
    repo = Path(__file__).resolve().parents[1]
    env = {
        **os.environ,
        "SH_CLIENT_ID": emulator.client_id,
        "SH_CLIENT_SECRET": emulator.client_secret,
        "SH_BASE_URL": emulator.base_url,
        "SH_TOKEN_URL": emulator.token_url,
        "S2RASTER_SH_EMULATOR": emulator.base_url,
        "XDG_CONFIG_HOME": str(workdir / "config"),
        "S2RASTER_SH_SHAPES_ONLY": "1" if shapes_only else "0",
        "PYTHONPATH": os.pathsep.join([str(repo / "benchmarks"), str(repo)]),
    }
    env.pop("SH_PROFILE", None)
    command = [
        sys.executable, "-m", "pytest", "-p", "_sh_redirect", "-m", "sh_integration",
        "-p", "no:cacheprovider", f"--rootdir={snapshot}", "-c", str(snapshot / "pyproject.toml"),
        f"--junitxml={junit}", "-q", "-rN", *[str(snapshot / t) for t in TESTS],
    ]  # fmt: skip
    return subprocess.run(command, cwd=workdir, env=env, check=False).returncode


def outcomes(junit: Path) -> dict[str, str]:
    """``file::name[params]`` -> passed | failed | skipped, from a JUnit XML report."""
    result = {}
    for case in ET.parse(junit).iter("testcase"):
        module = case.get("classname", "").rsplit(".", 1)[-1]
        test_id = f"{module}.py::{case.get('name')}"
        if case.find("failure") is not None or case.find("error") is not None:
            result[test_id] = "failed"
        elif case.find("skipped") is not None:
            result[test_id] = "skipped"
        else:
            result[test_id] = "passed"
    return result


def report(results: dict[str, str]) -> int:
    counts = Counter(results.values())
    causes: Counter[str] = Counter()
    print(f"\n{len(results)} tests: " + ", ".join(f"{n} {k}" for k, n in sorted(counts.items())))
    for test_id, outcome in sorted(results.items()):
        if outcome != "failed":
            continue
        cause, reason = cause_of(test_id)
        causes[cause] += 1
        print(f"  FAILED {test_id}: {cause}" + (f" ({reason})" if reason else ""))
    print("failures by cause: " + ", ".join(f"{n} {c}" for c, n in sorted(causes.items())))
    return 1 if causes["unclassified"] else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("snapshot", type=Path, help="checkout of the sentinelhub-py tree")
    parser.add_argument("--junit", type=Path, help="keep the JUnit XML report here")
    parser.add_argument(
        "--shapes-only",
        action="store_true",
        help="check the shapes of images but not their pixel statistics (synthetic data)",
    )
    args = parser.parse_args(argv)
    snapshot = args.snapshot.resolve()
    if not (snapshot / "tests" / "conftest.py").is_file():
        parser.error(f"{snapshot} holds no sentinelhub-py tests/ (check out its tree first)")
    with tempfile.TemporaryDirectory() as tmp, Emulator() as emulator:
        workdir = Path(tmp)
        junit = args.junit.resolve() if args.junit else workdir / "junit.xml"
        run_pytest(snapshot, emulator, junit, workdir, shapes_only=args.shapes_only)
        return report(outcomes(junit))


if __name__ == "__main__":
    raise SystemExit(main())
