"""Rendering one per-zone part of a request: native cells, quantisation, resampling.

A band of native resolution ``r`` (10, 20 or 60 m) takes on each native cell the value
of the 20 m ground cell containing the cell centre (its parent for 10 m, its centre cell
for 60 m), with a native-resolution texture and sensor noise, quantised to an integer
DN (reflectance x 10000). Pixels then sample those cells (see :class:`Sampler`). Values
returned here are *physical* DN (may be negative after the 2022 baseline change), before
units conversion and no-data masking.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np

from s2raster.emulator import earth_bands as eb
from s2raster.emulator.earth_angles import ANGLE_BANDS, ANGLE_CELL, angles
from s2raster.emulator.earth_noise import F32, I64, cell_noise
from s2raster.emulator.earth_surface import (
    CELL,
    Dynamic,
    Static,
    dynamic_surface,
    static_surface,
)
from s2raster.emulator.sampling import Part, Sampler
from s2raster.emulator.scenes import Acquisition

#: Multiplicative texture (sd) and additive noise (DN sd) at each native resolution.
_TEXTURE = {10: (0.05, 6.0), 20: (0.0, 6.0), 60: (0.01, 3.0)}
_CATEGORICAL = ("SCL", "CLD", "SNW")
_MAX_DN = 31767.0


def _positions(union_desc: I64, values: I64) -> I64:
    """Positions of ``values`` in ``union_desc`` (sorted descending, unique)."""
    ascending = union_desc[::-1]
    out: I64 = union_desc.size - 1 - np.searchsorted(ascending, values)
    return out


def _parent(res: int, index: I64) -> I64:
    """The 20 m cell containing the centre of native cell ``index`` of size ``res``."""
    out: I64 = ((2 * index + 1) * res) // (2 * CELL)
    return out


@dataclass
class _Group:
    """Bands of one native resolution: their sampler and where their cells sit in S20."""

    res: int
    sampler: Sampler
    rows: I64
    cols: I64
    gain: F32 | None = None
    offset: F32 | None = None


class PartRenderer:
    """Renders the bands of one :class:`Part` for any acquisition (static state cached)."""

    def __init__(
        self, part: Part, bands: dict[str, int], upsampling: str, downsampling: str, l1c: bool
    ) -> None:
        self.part, self.bands, self.l1c = part, bands, l1c
        size = part.pixel_size()
        self.groups: dict[tuple[int, str], _Group] = {}
        self.mask_key = self._group(CELL, "NEAREST")
        self.method: dict[str, str] = {}
        for name, res in bands.items():
            if name in ANGLE_BANDS:
                continue
            if name in _CATEGORICAL:
                self.method[name] = "NEAREST"
            else:
                self.method[name] = downsampling if size > res * 1.01 else upsampling
            self._group(res, self.method[name])
        self.angle_sampler = (
            Sampler(part, ANGLE_CELL, "BILINEAR") if any(b in ANGLE_BANDS for b in bands) else None
        )
        col_sets = [_parent(g.res, g.sampler.ci) for g in self.groups.values()]
        row_sets = [_parent(g.res, g.sampler.cj) for g in self.groups.values()]
        self.ci: I64 = np.unique(np.concatenate(col_sets))
        self.cj: I64 = np.unique(np.concatenate(row_sets))[::-1].copy()
        for g in self.groups.values():
            g.cols = np.searchsorted(self.ci, _parent(g.res, g.sampler.ci))
            g.rows = _positions(self.cj, _parent(g.res, g.sampler.cj))
        self._static: Static | None = None

    def _group(self, res: int, method: str) -> tuple[int, str]:
        key = (res, method)
        if key not in self.groups:
            empty = np.zeros(0, np.int64)
            self.groups[key] = _Group(res, Sampler(self.part, res, method), empty, empty)
        return key

    @property
    def static(self) -> Static:
        if self._static is None:
            self._static = static_surface(self.part.zone, self.ci, self.cj)
        return self._static

    def _expand(self, g: _Group, values: F32) -> F32:
        """Values on S20 cells -> values on the group's native cells."""
        rows = values if g.rows.size == values.shape[0] and _is_range(g.rows) else None
        out = np.take(values, g.rows, axis=0) if rows is None else rows
        if not (g.cols.size == out.shape[1] and _is_range(g.cols)):
            out = np.take(out, g.cols, axis=1)
        return out

    def _texture(self, g: _Group) -> tuple[F32, F32]:
        if g.gain is None or g.offset is None:
            amp, noise_dn = _TEXTURE[g.res]
            t = cell_noise(g.sampler.ci, g.sampler.cj, 0x70 + g.res)
            g.gain = (10000.0 + 10000.0 * amp * t).astype(np.float32)
            g.offset = (noise_dn * t).astype(np.float32)
        return g.gain, g.offset

    def render(self, acq: Acquisition) -> dict[str, F32]:
        """Physical DN (or class/probability/degree values) per band + ``dataMask``."""
        st = self.static
        day: date = acq.datetime.date()
        dyn = dynamic_surface(st, acq.slot, day, acq.cloud_cover)
        out: dict[str, F32] = {}
        mask_group = self.groups[self.mask_key]
        valid = self._expand(mask_group, dyn.valid.view(np.uint8))
        out["dataMask"] = mask_group.sampler(valid).astype(np.float32)
        gfactor = eb.ground_factor(dyn)
        cld: F32 | None = None
        for name, res in self.bands.items():
            if name in ANGLE_BANDS:
                continue
            g = self.groups[(res, self.method[name])]
            if name in _CATEGORICAL:
                cld = eb.cloud_probability(st, dyn) if cld is None else cld
                cells = self._categorical(name, st, dyn, cld)
            elif name == "AOT":
                cells = self._expand(g, eb.aot_dn(dyn))
            else:
                refl = eb.reflectance(st, dyn, name, gfactor, l1c=self.l1c)
                cells = self._quantise(g, self._expand(g, refl), acq.has_offset)
            out[name] = g.sampler(cells)
        if self.angle_sampler is not None:
            s = self.angle_sampler
            block = angles(self.part.zone, s.ci, s.cj, acq.slot, dyn.doy)
            for name in ANGLE_BANDS:
                if name in self.bands:
                    out[name] = s(block[name])
        return out

    def _categorical(self, name: str, st: Static, dyn: Dynamic, cld: F32) -> F32:
        g = self.groups[self.mask_key]
        if name == "CLD":
            values = cld
        elif name == "SNW":
            values = eb.snow_probability(dyn)
        else:
            values = eb.scene_classification(st, dyn, cld).astype(np.float32)
        return self._expand(g, values)

    def _quantise(self, g: _Group, refl: F32, offset_baseline: bool) -> F32:
        gain, offset = self._texture(g)
        dn = refl * gain
        dn += offset
        np.rint(dn, out=dn)
        np.clip(dn, -1000.0 if offset_baseline else 0.0, _MAX_DN, out=dn)
        return dn


def _is_range(index: I64) -> bool:
    return bool(index[0] == 0 and (index.size < 2 or np.all(np.diff(index) == 1)))
