"""Shared by the benchmarks: ``s2raster emulator`` in another process, on loopback."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Sequence


def start_emulator(
    command: Sequence[str] | None = None,
) -> tuple[subprocess.Popen[str], dict[str, str]]:
    """Start ``command`` (default: ``s2raster emulator`` on a free port), an emulator that
    prints its four SH_* lines, and read them."""
    if command is None:
        command = [sys.executable, "-m", "s2raster.cli", "emulator", "--port", "0"]
    proc = subprocess.Popen(list(command), stdout=subprocess.PIPE, text=True)
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
