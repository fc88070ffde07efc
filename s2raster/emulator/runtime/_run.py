"""The three entry points of the runtime: parse_setup, select_scenes, run (see the façade)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import numpy.typing as npt

from s2raster.emulator.errors import EmulatorError, EvalscriptError
from s2raster.emulator.runtime import _hooks as hooks
from s2raster.emulator.runtime._engine import Engine
from s2raster.emulator.runtime._js import SETUP_JSON, function_check
from s2raster.emulator.runtime._kinds import as_v3
from s2raster.emulator.runtime._limits import check_rasters
from s2raster.emulator.runtime._loop import BLOCK_PX, PixelLoop
from s2raster.emulator.runtime._scenes import as_orbit, as_tile, scene_date
from s2raster.emulator.runtime._setup import (
    OPTIONAL_FUNCTIONS,
    ScriptSetup,
    build_setup,
)


@dataclass(frozen=True)
class RunResult:
    """What a run produced: ``outputs[id]`` is ``(bands, h, w)`` in the sampleType's dtype;
    ``userdata`` is ``outputMetadata.userData`` (any JSON value; None when never set);
    ``n_samples`` is how many scenes reached evaluatePixel (1 for SIMPLE); ``console`` is
    what the script wrote with ``console.log``."""

    outputs: dict[str, npt.NDArray[Any]]
    userdata: Any = None
    n_samples: int = 1
    console: tuple[str, ...] = ()


def parse_setup(
    evalscript: str,
    *,
    timeout: float = 30.0,
    memory_mb: int = 512,
    deadline: float | None = None,
) -> ScriptSetup:
    """Run the script's ``setup()`` and return what it asks for, checked.

    A simple script runs as the V3 script it stands for (:mod:`._simple`). Raises
    :class:`EvalscriptError` for an evalscript V1/V2, a script that does not compile, lacks
    ``setup``/``evaluatePixel`` or whose setup is invalid (message says what to fix).
    ``deadline`` (:func:`time.monotonic`) bounds this call together with the others of the
    same request; default: ``timeout`` from now.
    """
    evalscript = as_v3(evalscript)
    names = ("setup", "evaluatePixel", *OPTIONAL_FUNCTIONS)
    with Engine(evalscript, timeout=timeout, memory_mb=memory_mb, deadline=deadline) as engine:
        types = dict(zip(names, engine.json(function_check(names)), strict=True))
        for required in ("setup", "evaluatePixel"):
            if types[required] != "function":
                raise EvalscriptError(f"The evalscript must define function {required}().")
        raw = engine.json(SETUP_JSON)
    return build_setup(raw, [n for n in OPTIONAL_FUNCTIONS if types[n] == "function"])


def select_scenes(
    evalscript: str,
    setup: ScriptSetup,
    scenes: Sequence[Mapping[str, Any]],
    *,
    time_range: tuple[datetime, datetime] | None = None,
    timeout: float = 30.0,
    memory_mb: int = 512,
    deadline: float | None = None,
) -> list[int]:
    """Indices of the scenes ``preProcessScenes`` (ORBIT and TILE) and then the older
    ``filterScenes`` (any mosaicking: SIMPLE mosaics only the scenes kept) keep; all of
    them for a script without these functions.

    Lets the caller render only those; pass ``apply_preprocess=False`` to :func:`run` then,
    and these ``scenes`` as its ``selected_from``.
    """
    if not _filters(setup):
        return list(range(len(scenes)))
    listed = _scene_dicts(setup.mosaicking, scenes)
    evalscript = as_v3(evalscript)
    with Engine(evalscript, timeout=timeout, memory_mb=memory_mb, deadline=deadline) as engine:
        engine.eval("setup(); 0")
        return _kept(engine, setup, listed, time_range)


def run(
    evalscript: str,
    setup: ScriptSetup,
    samples: Sequence[Mapping[str, npt.NDArray[Any]]],
    scenes: Sequence[Mapping[str, Any]],
    shape: tuple[int, int],
    *,
    time_range: tuple[datetime, datetime] | None = None,
    timeout: float = 30.0,
    memory_mb: int = 512,
    deadline: float | None = None,
    apply_preprocess: bool = True,
    selected_from: Sequence[Mapping[str, Any]] | None = None,
    block_px: int = BLOCK_PX,
) -> RunResult:
    """Evaluate the script on every pixel and return each output converted to its sampleType.

    ``samples``: band name -> float32 ``shape`` array, one dict (SIMPLE: the mosaic) or one
    per scene (ORBIT/TILE), matching ``scenes`` (orbit or tile dicts, see
    :mod:`._scenes`). ``time_range`` is the request's timeRange (``collections.from``/
    ``to`` of preProcessScenes). ``timeout`` (s) and ``memory_mb`` bound the whole run
    (``deadline``, see :func:`parse_setup`); outputs resized by ``updateOutput`` beyond
    :func:`~s2raster.emulator.runtime._limits.raster_budget` are refused.
    ``selected_from``: the scenes :func:`select_scenes` chose ``scenes`` from; its
    functions run again on them here (their result unused), so that the globals they set
    are there for evaluatePixel and updateOutputMetadata, as in the service (whose
    documentation keeps the tiles seen by preProcessScenes in a global for
    updateOutputMetadata).
    """
    multi = setup.mosaicking != "SIMPLE"
    arrays = _check_samples(setup, samples, shape, multi=multi)
    listed = _scene_dicts(setup.mosaicking, scenes) if multi else [dict(s) for s in scenes]
    if multi and len(listed) != len(arrays):
        raise EmulatorError(f"{len(arrays)} samples but {len(listed)} scenes; give one per scene")
    evalscript = as_v3(evalscript)
    replay = None
    if selected_from is not None and not apply_preprocess and _filters(setup):
        replay = _scene_dicts(setup.mosaicking, selected_from)
    with Engine(evalscript, timeout=timeout, memory_mb=memory_mb, deadline=deadline) as engine:
        try:
            engine.eval("setup(); 0")
            if replay is not None:
                _kept(engine, setup, replay, time_range)
            return _evaluate(
                engine, setup, listed, arrays, shape,
                time_range=time_range, memory_mb=memory_mb,
                apply_preprocess=apply_preprocess, block_px=block_px,
            )  # fmt: skip
        except EvalscriptError as exc:
            exc.console = hooks.console(engine)
            raise


def _evaluate(
    engine: Engine,
    setup: ScriptSetup,
    listed: list[dict[str, Any]],
    arrays: list[list[npt.NDArray[np.float32]]],
    shape: tuple[int, int],
    *,
    time_range: tuple[datetime, datetime] | None,
    memory_mb: int,
    apply_preprocess: bool,
    block_px: int,
) -> RunResult:
    """The body of :func:`run` in an engine holding the script (setup() called)."""
    multi = setup.mosaicking != "SIMPLE"
    order = list(range(len(listed)))
    if multi and apply_preprocess and _filters(setup):
        order = _kept(engine, setup, listed, time_range)
    chosen = [listed[k] for k in order]
    arrays = [arrays[k] for k in order] if multi else arrays
    key = {"ORBIT": "orbits", "TILE": "tiles"}.get(setup.mosaicking)
    hooks.init_state(engine, {key: chosen} if key else {}, hooks.input_metadata(setup.units))
    outs = [(o.id, o.bands) for o in setup.outputs]
    types = {o.id: o.sample_type for o in setup.outputs}
    if "updateOutput" in setup.functions:
        outs = hooks.update_output(engine, outs, [scene_date(s) for s in chosen])
        resized = [(n, types[i]) for i, n in outs]
        check_rasters(shape, len(setup.input_bands), len(arrays), resized, memory_mb)
    n_scenes = len(arrays) if multi else None
    loop = PixelLoop(engine, setup.input_bands, outs, types, shape, n_scenes, block_px)
    outputs = loop.run(arrays)
    userdata = hooks.userdata(engine)
    return RunResult(outputs, userdata, len(arrays) if multi else 1, hooks.console(engine))


def _filters(setup: ScriptSetup) -> bool:
    """True if the script defines a function that filters the scenes of its mosaicking."""
    if "filterScenes" in setup.functions:
        return True
    return setup.mosaicking != "SIMPLE" and "preProcessScenes" in setup.functions


def _kept(
    engine: Engine,
    setup: ScriptSetup,
    listed: Sequence[Mapping[str, Any]],
    time_range: tuple[datetime, datetime] | None,
) -> list[int]:
    """Indices into ``listed`` of what preProcessScenes, then filterScenes, keep."""
    order = list(range(len(listed)))
    if setup.mosaicking != "SIMPLE" and "preProcessScenes" in setup.functions:
        order = hooks.preprocess(engine, setup.mosaicking, listed, time_range)
    if "filterScenes" in setup.functions:
        chosen = [listed[k] for k in order]
        metadata = hooks.input_metadata(setup.units)
        kept = hooks.filter_scenes(engine, setup.mosaicking, chosen, time_range, metadata)
        order = [order[k] for k in kept]
    return order


def _scene_dicts(mosaicking: str, scenes: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    convert_scene = as_orbit if mosaicking == "ORBIT" else as_tile
    return [convert_scene(s) for s in scenes]


def _check_samples(
    setup: ScriptSetup,
    samples: Sequence[Mapping[str, npt.NDArray[Any]]],
    shape: tuple[int, int],
    *,
    multi: bool,
) -> list[list[npt.NDArray[np.float32]]]:
    if not multi and len(samples) > 1:
        raise EmulatorError("SIMPLE mosaicking takes one (mosaicked) sample dict")
    checked = []
    for sample in samples:
        bands = []
        for band in setup.input_bands:
            if band not in sample:
                raise EmulatorError(f"the rendered sample lacks band {band!r}")
            arr = np.ascontiguousarray(sample[band], dtype=np.float32)
            if arr.shape != tuple(shape):
                raise EmulatorError(f"band {band!r} has shape {arr.shape}, expected {shape}")
            bands.append(arr)
        checked.append(bands)
    return checked
