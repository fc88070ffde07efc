"""The Statistical API glue: validated request -> per interval: acquisitions -> render ->
evalscript -> statistics of each output band over its ``dataMask`` -> the JSON answer.

Each interval is mosaicked as a Process request of that interval would be (same scenes,
same ``mosaickingOrder``, pixels outside the geometry get ``dataMask`` 0), so statistics of
the emulator agree with statistics of its pixels. Intervals with no acquisition are left
out of ``data`` (the service answers "intervals where data is available"). Processing
units: :func:`s2raster.contract.statistical_units`, one sample per interval, at least 0.01,
charged before any pixel is computed. Answer shape:
https://documentation.dataspace.copernicus.eu/APIs/SentinelHub/Statistical/Examples.html
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from s2raster.contract import statistical_units
from s2raster.emulator import earth, runtime
from s2raster.emulator._process import _check_memory, _check_setup, _evalscript_call, _samples
from s2raster.emulator.errors import RequestError
from s2raster.emulator.request import ApiError, ProcessRequest, parse_body
from s2raster.emulator.statistics import StatisticsRequest, band_statistics, validate_statistics

DATA_MASK = "dataMask"


@dataclass(frozen=True)
class Answered:
    """A successful Statistical API answer."""

    content: bytes
    pu: float
    console: tuple[str, ...] = ()


def statistics(
    body: bytes,
    *,
    content_type: str,
    charge_pu: Callable[[float], None] | None = None,
    timeout: float = 30.0,
    memory_mb: int = 512,
) -> Answered:
    """Serve one Statistical API request; raises :class:`ApiError` for every refusal."""
    try:
        return _statistics(body, content_type, charge_pu, timeout, memory_mb)
    except ApiError:
        raise
    except RequestError as exc:
        status, code = getattr(exc, "status", 400), getattr(exc, "code", "COMMON_BAD_PAYLOAD")
        if not (isinstance(status, int) and isinstance(code, str)):
            status, code = 400, "COMMON_BAD_PAYLOAD"
        raise ApiError(status, code, getattr(exc, "message", str(exc))) from exc


def _statistics(
    body: bytes,
    content_type: str,
    charge_pu: Callable[[float], None] | None,
    timeout: float,
    memory_mb: int,
) -> Answered:
    limits = {"timeout": timeout, "memory_mb": memory_mb, "deadline": time.monotonic() + timeout}
    request = validate_statistics(parse_body(body, content_type))
    process = request.process
    setup = _evalscript_call(runtime.parse_setup, process.evalscript, **limits)
    _check_setup(process, setup)
    if DATA_MASK not in {output.id for output in setup.outputs}:
        raise ApiError(
            400,
            "RENDERER_EXCEPTION",
            "The evalscript of a Statistical API request must return a 'dataMask' output "
            "(1 for pixels to use, 0 for pixels to exclude).",
        )
    n_bands = sum(1 for band in setup.input_bands if band != DATA_MASK)
    pu = statistical_units(process.width, process.height, n_bands, len(request.intervals))
    if charge_pu is not None:
        charge_pu(pu)
    data: list[dict[str, Any]] = []
    console: list[str] = []
    for lo, hi in request.intervals:
        found = _interval(request, setup, lo, hi, limits)
        if found is not None:
            data.append(found[0])
            console.extend(found[1])
    answer = {"data": data, "status": "OK"}
    return Answered(json.dumps(answer, separators=(",", ":")).encode(), pu, tuple(console[-200:]))


def _interval(
    request: StatisticsRequest, setup: Any, lo: datetime, hi: datetime, limits: dict[str, Any]
) -> tuple[dict[str, Any], tuple[str, ...]] | None:
    """The ``data`` entry of one interval, or None when no acquisition falls in it."""
    process: ProcessRequest = request.for_interval(lo, hi)
    acquisitions = earth.order(
        earth.acquisitions(process.collection, earth.WORLD, lo, hi),
        process.mosaicking_order,
        process.max_cloud,
    )
    if not acquisitions:
        return None
    scenes = [runtime.scene_from_acquisition(a, process.collection) for a in acquisitions]
    if setup.mosaicking != "SIMPLE":
        keep = _evalscript_call(
            runtime.select_scenes, process.evalscript, setup, scenes, time_range=(lo, hi),
            **limits,
        )  # fmt: skip
        acquisitions = [acquisitions[k] for k in keep]
        scenes = [scenes[k] for k in keep]
    _check_memory(process, setup, len(acquisitions), limits["memory_mb"])
    samples = _samples(process, setup, acquisitions)
    result = _evalscript_call(
        runtime.run, process.evalscript, setup, samples, scenes, (process.height, process.width),
        time_range=(lo, hi), apply_preprocess=False, **limits,
    )  # fmt: skip
    keep_mask = result.outputs[DATA_MASK][0] != 0
    outputs: dict[str, Any] = {}
    for output in setup.outputs:
        if output.id == DATA_MASK:
            continue
        values = result.outputs[output.id]
        bands = {}
        for k in range(values.shape[0]):
            name = f"B{k}"
            percentiles, histogram = request.asked(output.id, name)
            bands[name] = band_statistics(values[k], keep_mask, percentiles, histogram)
        outputs[output.id] = {"bands": bands}
    entry = {"interval": {"from": _iso(lo), "to": _iso(hi)}, "outputs": outputs}
    return entry, tuple(result.console)


def _iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")
