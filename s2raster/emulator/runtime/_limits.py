"""The memory budget of one Process API request (rasters held in Python and V8).

A request holds every rendered scene (``n_samples`` x input bands x float32, one sample
for SIMPLE mosaicking) and its output rasters (bands x the sampleType's bytes) at once.
The emulator refuses a request whose rasters would exceed :data:`RASTER_FACTOR` times
``script_memory_mb`` (2 GiB with the default 512 MiB) with a 400, before rendering
anything and before charging processing units, instead of letting the process run out
of memory (an ORBIT request of 2500 x 2500 px over a few years needs tens of GB).
"""

from __future__ import annotations

from collections.abc import Iterable

from s2raster.emulator.errors import BAD_PAYLOAD, EvalscriptError
from s2raster.emulator.runtime._sampletype import dtype_of

#: Rasters a request may hold, as a multiple of ``script_memory_mb``.
RASTER_FACTOR = 4
_MIB = 2**20


def raster_budget(memory_mb: int) -> int:
    """Bytes of rasters one request may hold (:data:`RASTER_FACTOR` x ``memory_mb`` MiB)."""
    return RASTER_FACTOR * int(memory_mb) * _MIB


def output_bytes(outputs: Iterable[tuple[int, str]]) -> int:
    """Bytes per pixel of outputs given as ``(bands, sampleType)``."""
    return sum(bands * dtype_of(sample_type).itemsize for bands, sample_type in outputs)


def check_rasters(
    shape: tuple[int, int],
    n_input_bands: int,
    n_samples: int,
    outputs: Iterable[tuple[int, str]],
    memory_mb: int,
) -> None:
    """Raise :class:`EvalscriptError` (400 ``COMMON_BAD_PAYLOAD``) when the rasters of a
    request (``n_samples`` scenes of ``n_input_bands`` float32 bands, plus ``outputs``)
    would not fit in :func:`raster_budget`."""
    h, w = shape
    per_pixel_out = output_bytes(outputs)
    need = h * w * (n_input_bands * max(n_samples, 1) * 4 + per_pixel_out)
    budget = raster_budget(memory_mb)
    if need <= budget:
        return
    raise EvalscriptError(
        f"The request needs about {need / _MIB:,.0f} MiB of rasters ({w} x {h} px; "
        f"{n_input_bands} input band(s) x {max(n_samples, 1)} scene(s) as float32, and "
        f"outputs of {per_pixel_out} byte(s) per pixel), more than the emulator's limit of "
        f"{budget // _MIB:,} MiB per request ({RASTER_FACTOR} x script_memory_mb). Ask for "
        "fewer scenes (a shorter timeRange, maxCloudCoverage, or filter them in "
        "preProcessScenes), fewer bands or fewer pixels (split the area into tiles), or "
        "start the emulator with a larger script_memory_mb.",
        code=BAD_PAYLOAD,
    )
