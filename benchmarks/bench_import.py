"""Start-up cost: ``import s2raster`` and ``s2raster --help`` in fresh interpreters.

Usage: ``python benchmarks/bench_import.py [--repeat 10] [--tree PATH]``. ``--tree`` puts
another checkout first on ``PYTHONPATH`` (e.g. an older commit, to compare). The anchor is
a bare interpreter start (``python -c pass``) measured in the same run; figures are the
best of ``--repeat`` runs, and which heavy modules each command imported.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HEAVY = ("sentinelhub", "xarray", "dask", "rasterio", "numpy", "pyproj")
PROBE = "import sys\n{code}\nprint('HEAVY:' + ','.join(m for m in {heavy!r} if m in sys.modules))"


def best(code: str, repeat: int, env: dict[str, str]) -> tuple[float, str]:
    times, loaded = [], ""
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = subprocess.run(
            [sys.executable, "-c", PROBE.format(code=code, heavy=HEAVY)],
            capture_output=True,
            text=True,
            env=env,
            check=True,
            cwd=tempfile.gettempdir(),  # not the checkout: its s2raster/ would shadow --tree
        )
        times.append(time.perf_counter() - t0)
        lines = [x for x in out.stdout.splitlines() if x.startswith("HEAVY:")]
        loaded = lines[-1].removeprefix("HEAVY:") if lines else "?"
    return min(times), loaded


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--tree", default=None)
    args = parser.parse_args()
    env = dict(os.environ)
    here = Path(__file__).resolve().parents[1]
    env["PYTHONPATH"] = str(Path(args.tree).resolve() if args.tree else here)
    help_code = (
        "sys.argv = ['s2raster', '--help']\nfrom s2raster.cli import main\n"
        "try:\n    main()\nexcept SystemExit:\n    pass"
    )
    cases = {
        "python -c pass (anchor)": "pass",
        "import s2raster": "import s2raster",
        "s2raster --help": help_code,
    }
    anchor = 0.0
    for label, code in cases.items():
        try:
            seconds, loaded = best(code, args.repeat, env)
        except subprocess.CalledProcessError as exc:
            print(f"{label:28s} failed: {exc.stderr.strip().splitlines()[-1]}")
            continue
        anchor = anchor or seconds
        print(
            f"{label:28s} {seconds * 1000:7.0f} ms  ({seconds / anchor:5.1f} x anchor)  "
            f"heavy modules: {loaded or 'none'}"
        )


if __name__ == "__main__":
    main()
