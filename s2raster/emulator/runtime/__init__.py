"""Evalscripts run for real in V8: the emulator's processing step.

Every kind of script the Process API takes: evalscript V3 (``//VERSION=3`` before any
code), simple scripts (run as the SIMPLE V3 script they stand for, :mod:`._simple`);
V1/V2 are refused in clear words (:mod:`._kinds`). Scripts find the documented utility
functions and visualizers (``_helpers.js``, ``_visualizers.js``) and a ``console`` whose
lines come back with the run (:attr:`RunResult.console`).

Public API: :func:`parse_setup` (what ``setup()`` asks for), :func:`run` (evaluatePixel on
every pixel, with the optional functions, into rasters of each output's sampleType),
:func:`select_scenes` (``preProcessScenes`` alone, to render only the kept scenes).
Everything a script does wrong comes out as :class:`EvalscriptError` (HTTP 400,
``RENDERER_EXCEPTION``); a script stopped by the time or memory limit as
:class:`EvalscriptLimitError`.

The pixel loop runs inside V8 over typed arrays shared with numpy without copies (see
:mod:`._loop`), in blocks of rows to bound memory.
"""

from __future__ import annotations

from s2raster.emulator.errors import EvalscriptError, EvalscriptLimitError
from s2raster.emulator.runtime._limits import check_rasters, raster_budget
from s2raster.emulator.runtime._run import RunResult, parse_setup, run, select_scenes
from s2raster.emulator.runtime._sampletype import SAMPLE_TYPES, dtype_of
from s2raster.emulator.runtime._scenes import orbit_scene, scene_from_acquisition
from s2raster.emulator.runtime._setup import OutputSpec, ScriptSetup

__all__ = [
    "SAMPLE_TYPES",
    "EvalscriptError",
    "EvalscriptLimitError",
    "OutputSpec",
    "RunResult",
    "ScriptSetup",
    "check_rasters",
    "dtype_of",
    "orbit_scene",
    "parse_setup",
    "raster_budget",
    "run",
    "scene_from_acquisition",
    "select_scenes",
]
