"""A local emulator of the CDSE Sentinel Hub Process API, Catalog API and token endpoint.

It serves synthetic Sentinel-2 data on loopback only, for tests, demos and offline work:

>>> from s2raster.emulator import Emulator
>>> with Emulator() as emu:                               # doctest: +SKIP
...     config = emu.config()                             # sentinelhub SHConfig

Quotas and faults on demand: ``Emulator(rate_limit=RateLimit(requests_per_minute=300))``,
``emu.faults.error_rate = 0.2``. ``run_cli_server`` is the entry point of the
``s2raster emulator`` command. Evalscripts run in V8: the emulator needs the ``emulator``
extra (``pip install 's2raster[emulator]'``); importing this package does not.

The package is a leaf of s2raster (it imports only :mod:`s2raster.contract`,
:mod:`s2raster.bands` and the error root), cut in layers: :mod:`.http` (server, token
endpoint, quotas, faults, log), :mod:`.request` (Process request validation and the
service's error shapes), :mod:`.catalog` (STAC search), :mod:`.earth` (the synthetic
Earth), :mod:`.runtime` (evalscripts in V8) and :mod:`.encode` (response files), glued by
the routes and the Process pipeline.
"""

from __future__ import annotations

from s2raster.emulator._app import Emulator, run_cli_server
from s2raster.emulator.errors import (
    BandError,
    EmulatorError,
    EvalscriptError,
    EvalscriptLimitError,
    RequestError,
)
from s2raster.emulator.http import Faults, RateLimit, RequestLog, ServedRequest

__all__ = [
    "BandError",
    "Emulator",
    "EmulatorError",
    "EvalscriptError",
    "EvalscriptLimitError",
    "Faults",
    "RateLimit",
    "RequestError",
    "RequestLog",
    "ServedRequest",
    "run_cli_server",
]
