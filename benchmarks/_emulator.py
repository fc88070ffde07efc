"""Shared by the benchmarks: ``s2raster emulator`` in another process, on loopback."""

from __future__ import annotations

import subprocess
import sys


def start_emulator() -> tuple[subprocess.Popen[str], dict[str, str]]:
    """Start ``s2raster emulator`` on a free port and read its four SH_* lines."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "s2raster.cli", "emulator", "--port", "0"],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    env: dict[str, str] = {}
    while len(env) < 4:
        line = proc.stdout.readline()
        if not line:
            raise RuntimeError("the emulator exited before printing its settings")
        key, _, value = line.strip().partition("=")
        if key.startswith("SH_"):
            env[key] = value
    return proc, env
