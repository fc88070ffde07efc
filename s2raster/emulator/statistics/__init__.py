"""The Statistical API's parts that need no evalscript run: request validation, the split
of the time range into intervals, and the statistics of one band as the service answers them.

:func:`validate_statistics` checks a request into a :class:`StatisticsRequest` (raising the
service's 400s); :func:`band_statistics` computes ``stats`` (and ``histogram``) of one output
band over its ``dataMask``. The glue that renders and evaluates each interval is
:mod:`s2raster.emulator._statistics`.
"""

from __future__ import annotations

from s2raster.emulator.statistics._compute import HistogramSpec, band_statistics
from s2raster.emulator.statistics._intervals import BEHAVIOURS, parse_period, split
from s2raster.emulator.statistics._request import StatisticsRequest, validate_statistics

__all__ = [
    "BEHAVIOURS",
    "HistogramSpec",
    "StatisticsRequest",
    "band_statistics",
    "parse_period",
    "split",
    "validate_statistics",
]
