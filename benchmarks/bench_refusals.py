"""How long refusing a bad input takes: every kind the property tests drive, timed.

Draws a few values of each kind of bad input of ``tests/unit/test_bad_inputs.py`` (the same
strategies), calls each entry point that takes it, and reports the slowest refusals; plus
the unit typo of issue 13 over its bbox (``resolution=0.0001``: about 10^15 px) through
``make_plan`` and through the CLI (in-process, and as a fresh ``s2raster`` process).

    PYTHONPATH=. .venv/bin/python benchmarks/bench_refusals.py [--draws 5]
"""

from __future__ import annotations

import argparse
import importlib.util
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BBOX = (13.822, 45.850, 14.559, 46.291)


def load_cases():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("bad", ROOT / "tests/unit/test_bad_inputs.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--draws", type=int, default=5)
    args = parser.parse_args()
    from hypothesis.errors import NonInteractiveExampleWarning

    from s2raster.errors import S2RasterError
    from s2raster.plan import make_plan
    from s2raster.testing import FakeFetch

    warnings.simplefilter("ignore", NonInteractiveExampleWarning)
    bad = load_cases()
    timings = []
    with tempfile.TemporaryDirectory() as tmp:
        for entry, kind in bad.CASES:
            param, strategy = bad.API_KINDS[kind]
            for _ in range(args.draws):
                value = strategy.example()
                if entry == "truecolor" and param in ("time", "resolution") and value is None:
                    continue
                fake = FakeFetch()
                start = time.perf_counter()
                try:
                    bad.call(entry, param, value, fake, Path(tmp))
                except S2RasterError:
                    pass
                else:
                    print(f"NOT REFUSED: {entry} {kind} {value!r}")
                timings.append((time.perf_counter() - start, entry, kind, repr(value)[:60]))
    timings.sort(reverse=True)
    print(f"{len(timings)} refusals of {len(bad.API_KINDS)} API kinds ({len(bad.CASES)} cases)")
    for seconds, entry, kind, value in timings[:5]:
        print(f"  {seconds * 1000:8.1f} ms  {entry:10s} {kind:32s} {value}")
    start = time.perf_counter()
    try:
        make_plan(BBOX, "2024-06-01/2024-06-30", ["B04"], resolution=0.0001)
    except S2RasterError as exc:
        took = (time.perf_counter() - start) * 1000
        print(f"make_plan(resolution=0.0001): refused in {took:.1f} ms")
        print(f"  {exc}")
    from click.testing import CliRunner

    from s2raster.cli import cli

    argv = ["fetch", "--bbox", *map(str, BBOX), "--time", "2024-06-01/2024-06-30",
            "--resolution", "0.0001", "-o", str(Path(tempfile.gettempdir()) / "x.tif")]  # fmt: skip
    start = time.perf_counter()
    result = CliRunner().invoke(cli, argv)
    took = (time.perf_counter() - start) * 1000
    print(f"CLI in-process: exit {result.exit_code} in {took:.1f} ms")
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "s2raster.cli", *argv], capture_output=True, text=True, check=False
    )
    took = (time.perf_counter() - start) * 1000
    print(f"CLI process (imports included): exit {done.returncode} in {took:.0f} ms")


if __name__ == "__main__":
    main()
