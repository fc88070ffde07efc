"""A local emulator of the CDSE Sentinel Hub Process API, Catalog API and token endpoint.

It serves synthetic Sentinel-2 data on loopback only, for tests, demos and offline work:

>>> from s2raster.emulator import Emulator
>>> with Emulator() as emu:                               # doctest: +SKIP
...     config = emu.config()                             # sentinelhub SHConfig

Quotas and faults on demand: ``Emulator(rate_limit=RateLimit(requests_per_minute=300))``,
``emu.faults.error_rate = 0.2``. ``run_cli_server`` is the entry point of the
``s2raster emulator`` command.
"""

from __future__ import annotations

from s2raster.emulator.app import Emulator, run_cli_server
from s2raster.emulator.faults import Faults, RateLimit
from s2raster.emulator.server import RequestLog, ServedRequest

__all__ = ["Emulator", "Faults", "RateLimit", "RequestLog", "ServedRequest", "run_cli_server"]
