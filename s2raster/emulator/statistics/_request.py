"""Validation of Statistical API requests, as the service reads them.

A request is ``{input, aggregation, calculations?}`` (schema ``StatisticalRequest`` of the
CDSE OpenAPI description; sentinelhub-py ``sentinelhub/api/statistical.py`` builds it). The
``input`` is a Process API input, so it is checked by the Process API's own validation: the
request is rewritten as the Process request of the whole ``timeRange`` (``aggregation``'s
evalscript, and its ``width``/``height`` or ``resx``/``resy`` as the output size), and the
service's 400s for bounds, collections, filters and sizes come from there.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from s2raster.emulator.request import (
    ProcessRequest,
    bad_payload,
    is_number,
    parse_datetime,
    validate,
)
from s2raster.emulator.statistics._compute import HistogramSpec
from s2raster.emulator.statistics._intervals import BEHAVIOURS, parse_period, split

_SIZE_KEYS = ("width", "height", "resx", "resy")


@dataclass(frozen=True)
class StatisticsRequest:
    """A validated Statistical API request: the Process request of the whole time range,
    its intervals and the calculations asked per output."""

    process: ProcessRequest
    intervals: tuple[tuple[datetime, datetime], ...]
    calculations: Mapping[str, Any] = field(default_factory=dict)

    def for_interval(self, lo: datetime, hi: datetime) -> ProcessRequest:
        """The Process request of one interval."""
        return replace(self.process, time_from=lo, time_to=hi)

    def asked(self, output: str, band: str) -> tuple[tuple[float, ...], HistogramSpec | None]:
        """The percentiles and histogram asked for ``band`` of ``output``."""
        spec = _entry(self.calculations, output)
        stats = _entry(spec.get("statistics") or {}, band)
        percentiles = stats.get("percentiles") or {}
        ks = tuple(float(k) for k in percentiles.get("k") or ())
        raw = _entry(spec.get("histograms") or {}, band)
        return ks, (_histogram(raw) if raw else None)


def validate_statistics(payload: Mapping[str, Any]) -> StatisticsRequest:
    """Check a Statistical API request; raises the service's 400 (``ApiError``) if invalid."""
    aggregation = payload.get("aggregation")
    if not isinstance(aggregation, dict):
        raise bad_payload("aggregation must be specified.", "aggregation")
    time_range = aggregation.get("timeRange")
    if not isinstance(time_range, dict) or "from" not in time_range or "to" not in time_range:
        raise bad_payload(
            "aggregation.timeRange with from and to must be specified.", "aggregation->timeRange"
        )
    start = parse_datetime(time_range["from"], "aggregation.timeRange.from")
    end = parse_datetime(time_range["to"], "aggregation.timeRange.to")
    if start > end:
        raise bad_payload("timeRange 'from' is after 'to'.", "aggregation->timeRange")
    interval = aggregation.get("aggregationInterval")
    if not isinstance(interval, dict):
        raise bad_payload(
            "aggregation.aggregationInterval must be specified.", "aggregation->aggregationInterval"
        )
    behaviour = interval.get("lastIntervalBehavior", "SKIP")
    if behaviour not in BEHAVIOURS:
        raise bad_payload(
            f"Invalid lastIntervalBehavior {behaviour!r}; allowed values are "
            f"{', '.join(BEHAVIOURS)}.",
            "aggregation->aggregationInterval->lastIntervalBehavior",
        )
    intervals = split(start, end, parse_period(interval.get("of")), behaviour)
    process = validate(_process_payload(payload, aggregation))
    calculations = payload.get("calculations") or {}
    if not isinstance(calculations, dict):
        raise bad_payload("calculations must be a JSON object.", "calculations")
    _check_calculations(calculations)
    return StatisticsRequest(replace(process, responses=()), tuple(intervals), calculations)


def _process_payload(payload: Mapping[str, Any], aggregation: Mapping[str, Any]) -> dict[str, Any]:
    """The Process request of the whole range (its input, bounds and filters checked there)."""
    input_ = copy.deepcopy(payload.get("input"))
    if isinstance(input_, dict) and isinstance(input_.get("data"), list):
        for data in input_["data"]:
            if isinstance(data, dict):
                data.setdefault("dataFilter", {})
                if isinstance(data["dataFilter"], dict):
                    data["dataFilter"]["timeRange"] = aggregation["timeRange"]
    output = {key: aggregation[key] for key in _SIZE_KEYS if key in aggregation}
    output["responses"] = [{"identifier": "default", "format": {"type": "image/tiff"}}]
    return {"input": input_, "evalscript": aggregation.get("evalscript"), "output": output}


def _entry(table: Mapping[str, Any], key: str) -> dict[str, Any]:
    found = table.get(key, table.get("default"))
    return found if isinstance(found, dict) else {}


def _check_calculations(calculations: Mapping[str, Any]) -> None:
    for output, spec in calculations.items():
        if not isinstance(spec, dict):
            raise bad_payload(
                f"calculations.{output} must be a JSON object.", f"calculations->{output}"
            )
        for band, stats in (spec.get("statistics") or {}).items():
            ks = ((stats or {}).get("percentiles") or {}).get("k", [])
            if not isinstance(ks, list) or not all(is_number(k) and 0 <= k <= 100 for k in ks):
                raise bad_payload(
                    f"calculations.{output}.statistics.{band}.percentiles.k must be numbers "
                    "from 0 to 100.",
                    f"calculations->{output}->statistics->{band}->percentiles->k",
                )
        for raw in (spec.get("histograms") or {}).values():
            _histogram(raw)


def _histogram(raw: Mapping[str, Any]) -> HistogramSpec:
    path = "calculations->histograms"
    numbers = {k: raw[k] for k in ("nBins", "binWidth", "lowEdge", "highEdge") if k in raw}
    if not all(is_number(v) and math.isfinite(v) for v in numbers.values()):
        raise bad_payload("histogram nBins, binWidth, lowEdge and highEdge must be numbers.", path)
    bins = raw.get("bins")
    if bins is not None and (
        not isinstance(bins, list) or len(bins) < 2 or not all(is_number(b) for b in bins)
    ):
        raise bad_payload("histogram bins must be an array of at least 2 numbers.", path)
    n_bins = numbers.get("nBins")
    if n_bins is not None and (n_bins < 1 or n_bins > 10_000):
        raise bad_payload("histogram nBins must be from 1 to 10000.", path)
    width = numbers.get("binWidth")
    if width is not None and width <= 0:
        raise bad_payload("histogram binWidth must be positive.", path)
    return HistogramSpec(
        n_bins=None if n_bins is None else int(n_bins),
        bin_width=None if width is None else float(width),
        low=None if "lowEdge" not in numbers else float(numbers["lowEdge"]),
        high=None if "highEdge" not in numbers else float(numbers["highEdge"]),
        bins=None if bins is None else tuple(float(b) for b in bins),
    )
