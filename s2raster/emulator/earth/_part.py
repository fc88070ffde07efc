"""Rendering one per-zone part of a request: native cells, quantisation, resampling.

A band of native resolution ``r`` (10, 20 or 60 m) takes on each native cell the value
of the 20 m ground cell containing the cell centre (its parent for 10 m, its centre cell
for 60 m), with a native-resolution texture and sensor noise, quantised to an integer
DN (reflectance x 10000). Pixels then read those cells (see :class:`Sampler`).

Two modes, with identical values: *block* mode computes the ground on a product set of
20 m cells covering the part (pixels up to a few cells large); *point* mode computes it
only at the cells the pixels read (coarse pixels). Point mode over footprints larger than
about 150 km reads the smooth fields from a coarser node lattice (``level`` 1 or 2): such
overviews are close to, but not bit-identical with, finer requests.

Values returned here are *physical* DN (may be negative after the 2022 baseline change),
before units conversion and no-data masking.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from s2raster.emulator.earth import _bands as eb
from s2raster.emulator.earth._acquisition import Acquisition
from s2raster.emulator.earth._angles import ANGLE_BANDS, ANGLE_CELL, angles
from s2raster.emulator.earth._nodes import TILE, spacing
from s2raster.emulator.earth._noise import F32, I64, cell_noise
from s2raster.emulator.earth._resample import Sampler, is_range, prepare
from s2raster.emulator.earth._sampling import Part
from s2raster.emulator.earth._surface import (
    CELL,
    Cells,
    Dynamic,
    Static,
    dynamic_surface,
    static_surface,
)
from s2raster.emulator.errors import RequestError

#: Multiplicative texture (sd) and additive noise (DN sd) at each native resolution.
_TEXTURE = {10: (0.05, 6.0), 20: (0.0, 6.0), 60: (0.01, 3.0)}
_CATEGORICAL = ("SCL", "CLD", "SNW")
_MAX_DN = 31767.0
#: Node tiles a part may need before the fields come from a coarser lattice.
_MAX_TILES = 400


def _parent(res: int, index: I64) -> I64:
    """The 20 m cell containing the centre of native cell ``index`` of size ``res``."""
    out: I64 = ((2 * index + 1) * res) // (2 * CELL)
    return out


def _positions(union_desc: I64, values: I64) -> I64:
    """Positions of ``values`` in ``union_desc`` (sorted descending, unique)."""
    out: I64 = union_desc.size - 1 - np.searchsorted(union_desc[::-1], values)
    return out


@dataclass
class _Group:
    """Bands of one native resolution and method: their sampler and their 20 m cells."""

    res: int
    sampler: Sampler
    rows: I64 = field(default_factory=lambda: np.zeros(0, np.int64))
    cols: I64 = field(default_factory=lambda: np.zeros(0, np.int64))
    seg: slice = field(default_factory=lambda: slice(0, 0))
    gain: F32 | None = None
    offset: F32 | None = None


def _level(part: Part) -> int:
    xmin, xmax, ymin, ymax = part.coords.bounds()
    for level in (0, 1):
        span = spacing(level) * TILE
        if ((xmax - xmin) / span + 2) * ((ymax - ymin) / span + 2) <= _MAX_TILES:
            return level
    return 2


class PartRenderer:
    """Renders the bands of one :class:`Part` for any acquisition (static state cached)."""

    def __init__(
        self, part: Part, bands: dict[str, int], upsampling: str, downsampling: str, l1c: bool
    ) -> None:
        self.part, self.bands, self.l1c = part, bands, l1c
        size = part.pixel_size()
        self.method = {
            name: "NEAREST"
            if name in _CATEGORICAL
            else (downsampling if size > res * 1.01 else upsampling)
            for name, res in bands.items()
            if name not in ANGLE_BANDS
        }
        specs = {(CELL, "NEAREST")} | {(bands[n], m) for n, m in self.method.items()}
        self.points = self._points_mode(specs, size)
        self.groups = {
            s: _Group(s[0], Sampler(part, s[0], s[1], defer=True, points=self.points))
            for s in specs
        }
        self.angles = None
        if any(b in ANGLE_BANDS for b in bands):
            self.angles = Sampler(part, ANGLE_CELL, "BILINEAR", defer=True)
        prepare(
            part, [g.sampler for g in self.groups.values()] + ([self.angles] if self.angles else [])
        )
        self.cells = self._point_cells() if self.points else self._block_cells()
        self._static: Static | None = None

    def _points_mode(self, specs: set[tuple[int, str]], size: float) -> bool:
        """Point mode when a block of cells would be much larger than the pixels."""
        return any(size > 2.5 * res for res, _ in specs)

    def _block_cells(self) -> Cells:
        groups = self.groups.values()
        ci = np.unique(np.concatenate([_parent(g.res, g.sampler.ci) for g in groups]))
        cj = np.unique(np.concatenate([_parent(g.res, g.sampler.cj) for g in groups]))[::-1].copy()
        for g in groups:
            g.cols = np.searchsorted(ci, _parent(g.res, g.sampler.ci))
            g.rows = _positions(cj, _parent(g.res, g.sampler.cj))
        return Cells(self.part.zone, ci, cj)

    def _point_cells(self) -> Cells:
        """The parent 20 m cells of every tap of every group, one segment per group (groups
        reading the very same cells, e.g. NEAREST at 10 and 20 m, share a segment).
        """
        added: list[tuple[I64, I64, slice]] = []
        start = 0
        for g in self.groups.values():
            ci, cj = g.sampler.tap_cells()
            pi, pj = _parent(g.res, ci).ravel(), _parent(g.res, cj).ravel()
            same = [s for a, b, s in added if np.array_equal(a, pi) and np.array_equal(b, pj)]
            if same:
                g.seg = same[0]
                continue
            g.seg = slice(start, start + pi.size)
            start += pi.size
            added.append((pi, pj, g.seg))
        ci = np.concatenate([a for a, _, _ in added])
        cj = np.concatenate([b for _, b, _ in added])
        return Cells(self.part.zone, ci, cj, points=True, level=_level(self.part))

    @property
    def static(self) -> Static:
        if self._static is None:
            self._static = static_surface(self.cells)
        return self._static

    def _native(self, g: _Group, values: F32) -> F32:
        """Values on the 20 m cells of the group -> values on its native cells."""
        if self.points:
            return values.reshape(g.sampler.count**2, -1)
        out = values if is_range(g.rows, values.shape[0]) else np.take(values, g.rows, axis=0)
        if not is_range(g.cols, out.shape[1]):
            out = np.take(out, g.cols, axis=1)
        return out

    def _sample(self, g: _Group, native: F32) -> F32:
        return g.sampler.combine(native) if self.points else g.sampler(native)

    def _texture(self, g: _Group) -> tuple[F32, F32]:
        if g.gain is None or g.offset is None:
            amp, noise_dn = _TEXTURE[g.res]
            if self.points:
                ci, cj = g.sampler.tap_cells()
                t = cell_noise(ci, cj, 0x70 + g.res)
            else:
                t = cell_noise(g.sampler.ci[None, :], g.sampler.cj[:, None], 0x70 + g.res)
            g.gain = (10000.0 + 10000.0 * amp * t).astype(np.float32)
            g.offset = (noise_dn * t).astype(np.float32)
        return g.gain, g.offset

    def _state(self, g: _Group, st: Static, dyn: Dynamic) -> tuple[Static, Dynamic]:
        return (st.part(g.seg), dyn.part(g.seg)) if self.points else (st, dyn)

    def render(self, acq: Acquisition) -> dict[str, F32]:
        """Physical DN (or class/probability/degree values) per band + ``dataMask``."""
        st = self.static
        if acq.pass_ is None:
            raise RequestError(f"acquisition {acq.id} has no pass: it cannot be rendered")
        dyn = dynamic_surface(st, acq.pass_, acq.day)
        mask = self.groups[(CELL, "NEAREST")]
        _, mdyn = self._state(mask, st, dyn)
        valid = self._native(mask, mdyn.valid.view(np.uint8))
        out: dict[str, F32] = {"dataMask": self._sample(mask, valid).astype(np.float32)}
        for name, res in self.bands.items():
            if name in ANGLE_BANDS:
                continue
            g = self.groups[(res, self.method[name])]
            gst, gdyn = self._state(g, st, dyn)
            if name in _CATEGORICAL:
                values = self._categorical(name, gst, gdyn)
            elif name == "AOT":
                values = eb.aot_dn(gdyn)
            else:
                refl = eb.reflectance(gst, gdyn, name, eb.ground_factor(gdyn), l1c=self.l1c)
                out[name] = self._sample(
                    g, self._quantise(g, self._native(g, refl), acq.has_offset)
                )
                continue
            out[name] = self._sample(g, self._native(g, values))
        if self.angles is not None:
            s = self.angles
            block = angles(self.part.zone, s.ci, s.cj, acq.pass_, dyn.doy)
            out.update({n: s(block[n]) for n in ANGLE_BANDS if n in self.bands})
        return out

    def _categorical(self, name: str, st: Static, dyn: Dynamic) -> F32:
        cld = eb.cloud_probability(st, dyn)
        if name == "CLD":
            return cld
        if name == "SNW":
            return eb.snow_probability(dyn)
        return eb.scene_classification(st, dyn, cld).astype(np.float32)

    def _quantise(self, g: _Group, refl: F32, offset_baseline: bool) -> F32:
        gain, offset = self._texture(g)
        dn = refl * gain
        dn += offset
        np.rint(dn, out=dn)
        np.clip(dn, -1000.0 if offset_baseline else 0.0, _MAX_DN, out=dn)
        return dn
