"""The block-wise pixel loop of a run: inputs into V8, ``drive`` there, outputs back.

Inputs and outputs are typed arrays inside the engine that numpy reads and writes in place
(mini-racer hands them over as writable memoryviews), so no pixel goes through JSON. Rows
are processed in blocks of about :data:`BLOCK_PX` input samples per band (pixels x scenes)
to bound the engine's memory; each block's values are converted to the output's
sampleType straight into the result.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from s2raster.emulator.runtime._driver import driver
from s2raster.emulator.runtime._engine import Engine
from s2raster.emulator.runtime._js import NS
from s2raster.emulator.runtime._sampletype import convert, dtype_of

#: Pixels x scenes per block of the pixel loop (rounded to whole rows, at least one).
BLOCK_PX = 1 << 20


class PixelLoop:
    """evaluatePixel over a ``shape`` raster, for given input bands and ``(id, bands)`` outputs.

    ``n_scenes`` is None for SIMPLE mosaicking (one sample object per pixel), else the
    number of samples per pixel (ORBIT/TILE: an array of them, possibly empty).
    """

    def __init__(
        self,
        engine: Engine,
        bands: Sequence[str],
        outs: Sequence[tuple[str, int]],
        types: Mapping[str, str],
        shape: tuple[int, int],
        n_scenes: int | None,
        block_px: int = BLOCK_PX,
    ) -> None:
        self.engine, self.outs, self.types = engine, list(outs), types
        self.height, self.width = shape
        self.ns = 1 if n_scenes is None else n_scenes
        per_row = max(1, self.width) * max(self.ns, 1)
        self.rows = max(1, min(self.height, block_px // per_row))
        engine.eval(driver(bands, self.outs, multi=n_scenes is not None))
        block = self.rows * self.width
        self.ins = [
            engine.array("ins", b, max(1, self.ns * block), np.float32) for b in range(len(bands))
        ]
        self.out_views = [
            engine.array("outs", o, n * block, np.float32 if types[i] == "FLOAT32" else np.float64)
            for o, (i, n) in enumerate(self.outs)
        ]

    def run(
        self, arrays: Sequence[Sequence[npt.NDArray[np.float32]]]
    ) -> dict[str, npt.NDArray[Any]]:
        """Outputs ``(bands, h, w)`` in their sampleType dtypes, from ``arrays[scene][band]``."""
        h, w = self.height, self.width
        result = {i: np.empty((b, h, w), dtype_of(self.types[i])) for i, b in self.outs}
        flat = [[band.reshape(-1) for band in sample] for sample in arrays]
        for r0 in range(0, h, self.rows):
            r1 = min(h, r0 + self.rows)
            n = (r1 - r0) * w
            for b, view in enumerate(self.ins):
                for k, sample in enumerate(flat):
                    view[k * n : (k + 1) * n] = sample[b][r0 * w : r1 * w]
            for view in self.out_views:
                view[:] = 0
            self.engine.eval(f"{NS}.drive({n}, {self.ns}); 0")
            for (out_id, bands), view in zip(self.outs, self.out_views, strict=True):
                values = view[: bands * n].reshape(bands, r1 - r0, w)
                result[out_id][:, r0:r1, :] = convert(values, self.types[out_id])
        return result
