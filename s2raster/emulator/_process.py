"""The Process API glue: validated request -> acquisitions -> render -> evalscript -> file.

One function, :func:`process`, takes the HTTP body and answers the file bytes, its content
type and the processing units spent (the same formula as :func:`s2raster.contract.processing_units`,
so the client's estimates and the emulator's ``x-processingunits-spent`` never disagree).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from s2raster.bands import BANDS
from s2raster.contract import processing_units
from s2raster.emulator import _samples as samples
from s2raster.emulator import earth, encode, runtime
from s2raster.emulator.errors import RequestError
from s2raster.emulator.request import ApiError, ProcessRequest, bad_payload, parse_body, validate

TAR_TYPES = ("application/x-tar", "application/tar")
IMAGE_TYPES = ("image/tiff", "image/png", "image/jpeg")


@dataclass(frozen=True)
class Processed:
    """A successful Process API answer."""

    content: bytes
    content_type: str
    pu: float
    width: int
    height: int
    console: tuple[str, ...] = ()
    #: The request's ``timeRange`` (from, to), as validated: what the request log keeps.
    time_range: tuple[datetime, datetime] | None = None


def process(
    body: bytes,
    *,
    content_type: str,
    accept: str,
    check_pu: Callable[[float], None] | None = None,
    timeout: float = 30.0,
    memory_mb: int = 512,
) -> Processed:
    """Serve one Process API request; raises :class:`ApiError` for every refusal.

    ``check_pu`` is called with the request's PU before any pixel is computed; it raises
    the 429 :class:`ApiError` when the PU bucket cannot afford them (the caller charges
    them once the answer has succeeded: failed requests cost no PU). ``timeout`` (s)
    bounds the whole request (every evalscript call together), ``memory_mb`` each
    evalscript's memory; the rasters of a request may take
    :func:`~s2raster.emulator.runtime._limits.raster_budget` of it.
    Any :class:`RequestError` is answered as a 400, never a 500.
    """
    try:
        return _process(body, content_type, accept, check_pu, timeout, memory_mb)
    except ApiError:
        raise
    except RequestError as exc:
        status, code = getattr(exc, "status", 400), getattr(exc, "code", "COMMON_BAD_PAYLOAD")
        if not (isinstance(status, int) and isinstance(code, str)):
            status, code = 400, "COMMON_BAD_PAYLOAD"
        raise ApiError(status, code, getattr(exc, "message", str(exc))) from exc


def _process(
    body: bytes,
    content_type: str,
    accept: str,
    check_pu: Callable[[float], None] | None,
    timeout: float,
    memory_mb: int,
) -> Processed:
    limits = {"timeout": timeout, "memory_mb": memory_mb, "deadline": time.monotonic() + timeout}
    request = validate(parse_body(body, content_type))
    setup = _evalscript_call(runtime.parse_setup, request.evalscript, **limits)
    _check_setup(request, setup)
    formats, want_tar = _formats(request, accept)
    _evalscript_call(encode.check_formats, setup, formats)
    time_range = (request.time_from, request.time_to)
    acqs = samples.candidates(request)
    groups = samples.groups_of(acqs, setup.mosaicking)
    scenes = samples.scenes_of(acqs, groups, setup.mosaicking, request)
    keep = _evalscript_call(  # preProcessScenes, filterScenes first: render only the kept
        runtime.select_scenes, request.evalscript, setup, scenes, time_range=time_range,
        **limits,
    )  # fmt: skip
    candidates = scenes
    groups = samples.kept(groups, keep, setup.mosaicking)
    scenes = [scenes[k] for k in keep]
    _check_memory(request, setup, len(groups), memory_mb)
    pu = request_pu(request, setup, len(groups))
    if check_pu is not None:
        check_pu(pu)
    rendered = _evalscript_call(samples.render, request, setup, acqs, groups)
    result = _evalscript_call(
        runtime.run,
        request.evalscript,
        setup,
        rendered,
        scenes,
        (request.height, request.width),
        time_range=time_range,
        apply_preprocess=False,
        selected_from=candidates,
        **limits,
    )
    content, mime = _evalscript_call(
        encode.encode, result, setup, formats, request.crs, request.transform, want_tar=want_tar
    )
    return Processed(content, mime, pu, request.width, request.height, result.console, time_range)


def _check_memory(request: ProcessRequest, setup: Any, n_groups: int, memory_mb: int) -> None:
    """Refuse (400) a request whose rasters exceed the budget, before rendering any."""
    n_samples = n_groups if setup.mosaicking != "SIMPLE" else 1
    n_bands = len(dict.fromkeys([*setup.input_bands, "dataMask"]))
    outputs = [(o.bands, o.sample_type) for o in setup.outputs]
    shape = (request.height, request.width)
    runtime.check_rasters(shape, n_bands, n_samples, outputs, memory_mb)


def request_pu(request: ProcessRequest, setup: Any, n_samples: int) -> float:
    """PU of a request: input bands without dataMask, FLOAT32 doubles, ORBIT/TILE x samples
    (``n_samples``: days for ORBIT, tiles for TILE)."""
    n_bands = sum(1 for band in setup.input_bands if band != "dataMask")
    float32 = any(output.sample_type == "FLOAT32" for output in setup.outputs)
    if setup.mosaicking not in ("ORBIT", "TILE"):
        n_samples = 1
    return processing_units(
        request.width, request.height, n_bands, float32=float32, n_samples=max(n_samples, 1)
    )


def _evalscript_call(function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Call into the runtime/encoders, turning their errors into the service's 400s."""
    try:
        return function(*args, **kwargs)
    except ApiError:
        raise
    except Exception as exc:
        status = getattr(exc, "status", None)
        code = getattr(exc, "code", None)
        if isinstance(status, int) and isinstance(code, str):
            error = ApiError(status, code, getattr(exc, "message", str(exc)))
            error.console = tuple(getattr(exc, "console", ()))
            raise error from exc
        if isinstance(exc, RequestError):  # e.g. units a band does not have
            raise ApiError(400, "RENDERER_EXCEPTION", str(exc)) from exc
        raise


def _check_setup(request: ProcessRequest, setup: Any) -> None:
    table = BANDS[request.collection]
    unknown = [band for band in setup.input_bands if band not in table]
    if unknown:
        raise ApiError(
            400,
            "RENDERER_EXCEPTION",
            f"Unknown band(s) {', '.join(unknown)} for collection {request.collection}; "
            f"available: {', '.join(table)}.",
        )
    _evalscript_call(earth.check_units, request.collection, setup.units)
    outputs = {output.id for output in setup.outputs}
    for response in request.responses:
        if response.identifier != "userdata" and response.identifier not in outputs:
            raise bad_payload(
                f"Output {response.identifier} requested but missing from function setup()",
                "output->responses",
            )


def _formats(request: ProcessRequest, accept: str) -> tuple[dict[str, str], bool]:
    """Output formats by identifier, and whether to answer a tar (several outputs or asked)."""
    accepted = [part.split(";")[0].strip().lower() for part in accept.split(",") if part.strip()]
    want_tar = len(request.responses) > 1 or any(mime in TAR_TYPES for mime in accepted)
    formats = {response.identifier: response.mime for response in request.responses}
    if len(request.responses) == 1 and not want_tar:
        override = next((mime for mime in accepted if mime in IMAGE_TYPES), None)
        only = request.responses[0]
        if override and only.identifier != "userdata":
            formats[only.identifier] = override
    return formats, want_tar
