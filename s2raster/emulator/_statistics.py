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
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import numpy as np

from s2raster.contract import statistical_units
from s2raster.emulator import _samples as samples
from s2raster.emulator import runtime
from s2raster.emulator._process import _check_memory, _check_setup, _evalscript_call
from s2raster.emulator.errors import RequestError
from s2raster.emulator.request import ApiError, ProcessRequest, parse_body
from s2raster.emulator.statistics import StatisticsRequest, band_statistics, validate_statistics

DATA_MASK = "dataMask"
#: Pixels of one stacked evalscript run (several intervals of a SIMPLE script at once).
STACK_PX = 2_000_000
#: ``function evaluatePixel(sample)``: a script that never sees the scenes.
_ONE_ARGUMENT = re.compile(r"function\s+evaluatePixel\s*\(\s*[A-Za-z_$][\w$]*\s*\)")


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
    found = [
        part
        for part in (_prepare(request, setup, lo, hi, limits) for lo, hi in request.intervals)
        if part
    ]
    data: list[dict[str, Any]] = []
    console: list[str] = []
    for group in _groups(found, setup, process):
        outputs, lines = _evaluate(group, setup, limits)
        data.extend(_entry(request, setup, p, o) for p, o in zip(group, outputs, strict=True))
        console.extend(lines)
    answer = {"data": data, "status": "OK"}
    return Answered(json.dumps(answer, separators=(",", ":")).encode(), pu, tuple(console[-200:]))


@dataclass(frozen=True)
class _Part:
    """One interval with data: its Process request, acquisitions, scenes and samples."""

    process: ProcessRequest
    scenes: list[Any]
    samples: list[dict[str, np.ndarray]]


def _prepare(
    request: StatisticsRequest, setup: Any, lo: datetime, hi: datetime, limits: dict[str, Any]
) -> _Part | None:
    """The samples of one interval, or None when no acquisition falls in it."""
    process: ProcessRequest = request.for_interval(lo, hi)
    acqs = samples.candidates(process)
    if not acqs:
        return None
    groups = samples.groups_of(acqs, setup.mosaicking)
    scenes = samples.scenes_of(acqs, groups, setup.mosaicking, process)
    if setup.mosaicking != "SIMPLE":
        keep = _evalscript_call(
            runtime.select_scenes, process.evalscript, setup, scenes, time_range=(lo, hi),
            **limits,
        )  # fmt: skip
        groups = samples.kept(groups, keep, setup.mosaicking)
        scenes = [scenes[k] for k in keep]
    _check_memory(process, setup, len(groups), limits["memory_mb"])
    rendered = _evalscript_call(samples.render, process, setup, acqs, groups)
    return _Part(process, scenes, rendered)


def _groups(parts: list[_Part], setup: Any, process: ProcessRequest) -> list[list[_Part]]:
    """Intervals evaluated together: a SIMPLE script that cannot see the scenes runs once
    over its intervals' mosaics stacked row-wise (pixels are independent), up to
    :data:`STACK_PX` pixels a run; any other script once per interval."""
    if not _stackable(setup, process.evalscript):
        return [[part] for part in parts]
    size = max(1, STACK_PX // max(process.width * process.height, 1))
    return [parts[k : k + size] for k in range(0, len(parts), size)]


def _stackable(setup: Any, evalscript: str) -> bool:
    one_argument = _ONE_ARGUMENT.search(evalscript) is not None
    return setup.mosaicking == "SIMPLE" and not setup.functions and one_argument


def _evaluate(
    group: list[_Part], setup: Any, limits: dict[str, Any]
) -> tuple[list[dict[str, np.ndarray]], tuple[str, ...]]:
    """The outputs of each part of ``group`` (one evalscript run for the whole group), and
    what the script logged."""
    first = group[0].process
    h, w = first.height, first.width
    if len(group) == 1:
        samples, scenes, shape = group[0].samples, group[0].scenes, (h, w)
    else:
        bands = group[0].samples[0].keys()
        samples = [{b: np.concatenate([p.samples[0][b] for p in group]) for b in bands}]
        scenes, shape = [], (h * len(group), w)
    time_range = (first.time_from, group[-1].process.time_to)
    result = _evalscript_call(
        runtime.run, first.evalscript, setup, samples, scenes, shape,
        time_range=time_range, apply_preprocess=False, **limits,
    )  # fmt: skip
    outputs = [
        {name: values[:, k * h : (k + 1) * h] for name, values in result.outputs.items()}
        for k in range(len(group))
    ]
    return outputs, tuple(result.console)


def _entry(
    request: StatisticsRequest, setup: Any, part: _Part, outputs: dict[str, np.ndarray]
) -> dict[str, Any]:
    """The ``data`` entry of one interval."""
    keep_mask = outputs[DATA_MASK][0] != 0
    found: dict[str, Any] = {}
    for output in setup.outputs:
        if output.id == DATA_MASK:
            continue
        values = outputs[output.id]
        bands = {}
        for k in range(values.shape[0]):
            name = f"B{k}"
            percentiles, histogram = request.asked(output.id, name)
            bands[name] = band_statistics(values[k], keep_mask, percentiles, histogram)
        found[output.id] = {"bands": bands}
    lo, hi = part.process.time_from, part.process.time_to
    return {"interval": {"from": _iso(lo), "to": _iso(hi)}, "outputs": found}


def _iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")
