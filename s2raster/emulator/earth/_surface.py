"""The ground state on 20 m cells: land cover, seasons, snow, clouds, the pass's swath.

Every quantity is computed for a product set of 20 m cells of a UTM zone (columns ``ci``,
rows ``cj``; the cell ``(i, j)`` has its centre at ``((i + .5) 20, (j + .5) 20)`` in
``EPSG:326zz``), elementwise from node fields and cell hashes: a cell's value never
depends on which other cells are computed with it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date

import numpy as np
from numpy.typing import NDArray

from s2raster.emulator.earth import _spectra as sp
from s2raster.emulator.earth._nodes import (
    NodeInterp,
    detail,
    dynamic_nodes,
    fbm_quantiles,
    fbm_threshold,
    spacing,
    static_nodes,
)
from s2raster.emulator.earth._noise import F32, F64, I64, cell_noise, hash_unit, noise_table
from s2raster.emulator.earth._orbit import HALF_SWATH_KM, Pass

U8 = NDArray[np.uint8]
BOOL = NDArray[np.bool_]

#: Size of a class cell (metres).
CELL = 20

# Thresholds on the node fields (calibrated on the fields' distributions).
T_SEA = -0.43
T_LAKE = -0.45
T_URBAN = 0.45
T_FOREST = 0.08
T_GRASS = -0.32
T_BARE = -0.56
T_ARID = 0.40
BOREAL_LAT = 57.0


@dataclass(frozen=True)
class Cells:
    """20 m cells of a zone: a product set (``ci`` columns x ``cj`` rows) or a list.

    ``i2``/``j2`` broadcast to the shape of the state arrays: (rows, columns) for a
    product set, (n,) for a list (``points=True``, ``ci`` and ``cj`` of equal shape).
    """

    zone: int
    ci: I64
    cj: I64
    points: bool = False
    level: int = 0

    @property
    def i2(self) -> I64:
        return self.ci if self.points else self.ci[None, :]

    @property
    def j2(self) -> I64:
        return self.cj if self.points else self.cj[:, None]

    def interp(self) -> NodeInterp:
        """Interpolation from the node lattice of ``level`` to the cell centres."""
        return NodeInterp(
            _centres(self.ci), _centres(self.cj), spacing(self.level), points=self.points
        )


def _sliced(obj: object, seg: slice) -> dict[str, object]:
    return {k: v[seg] for k, v in vars(obj).items() if isinstance(v, np.ndarray)}


@dataclass(frozen=True)
class Static:
    """Date-independent state of a set of 20 m cells (arrays shaped as the cells)."""

    cells: Cells
    interp: NodeInterp
    lat: F32
    dlon: F32
    elev: F32
    cls: U8
    parcel: U8
    jit: F32
    bright: F32
    detail: F32

    def part(self, seg: slice) -> Static:
        """The state of cells ``seg`` of a list of cells (``interp`` is left whole)."""
        return replace(self, **_sliced(self, seg))  # type: ignore[arg-type]


@dataclass(frozen=True)
class Dynamic:
    """State on one pass: canopy fraction, snow, clouds, aerosols, km from the ground
    track (``across``) and whether the swath covers the cell (``valid``)."""

    doy: int
    f: F32
    snow: F32
    cloud: F32
    shadow: F32
    cirrus: F32 | None
    aot: F32
    across: F32
    valid: BOOL

    def part(self, seg: slice) -> Dynamic:
        """The state of cells ``seg`` of a list of cells."""
        return replace(self, **_sliced(self, seg))  # type: ignore[arg-type]


def _centres(index: I64) -> F64:
    """Zone coordinates (metres) of the centres of 20 m cells ``index``."""
    out: F64 = (index.astype(np.float64) + 0.5) * CELL
    return out


def _parcels(ci: I64, cj: I64) -> U8:
    """Crop parcels of 400 m x 260 m, rows staggered per parcel column: a type 0..255.

    ``ci``/``cj`` broadcast (see :class:`Cells`).
    """
    pcol = ci // 20
    stagger = (noise_table(0x51)[(pcol & 0xFFFF)] * 4.0).astype(np.int64) % 13
    prow = (cj + stagger) // 13
    hx = (pcol * 0x9E3779B1) >> 7
    out: U8 = (((prow * 0x85EBCA6B) >> 9) ^ hx).astype(np.uint8)
    return out


def _classify(fields: F32, det: F32, jit: F32) -> U8:
    lat, _, elev, sea, lake, urban, veg, arid = fields
    v = veg + 0.07 * det + 0.01 * jit
    cls = np.full(v.shape, sp.CROP, np.uint8)
    cls[v > T_FOREST] = sp.FOREST
    cls[v < T_GRASS] = sp.GRASS
    cls[v < T_BARE] = sp.BARE
    alat = np.abs(lat)
    cls[(cls == sp.CROP) & (alat > BOREAL_LAT)] = sp.GRASS
    dry = arid + 0.02 * det > T_ARID
    cls[dry & (cls != sp.FOREST)] = sp.BARE
    cls[dry & (cls == sp.FOREST)] = sp.GRASS
    treeline = 2400.0 - 30.0 * np.maximum(alat - 30.0, 0.0) + 60.0 * det
    cls[elev > treeline] = sp.GRASS
    cls[elev > treeline + 600.0] = sp.BARE
    cls[urban + 0.06 * det + 0.01 * jit > T_URBAN] = sp.URBAN
    cls[(lake + 0.05 * det < T_LAKE) | (sea + 0.02 * det < T_SEA)] = sp.WATER
    return cls


def static_surface(cells: Cells) -> Static:
    """The date-independent state of ``cells``."""
    interp = cells.interp()
    fields = interp(static_nodes(cells.zone, interp.nx, interp.ny, cells.level))
    i2, j2 = cells.i2, cells.j2
    jit = cell_noise(i2, j2, 0x11)
    det = detail(_centres(cells.ci), _centres(cells.cj), 0x300, points=cells.points)
    cls = _classify(fields, det, jit)
    elev = fields[2] + 40.0 * det
    elev[fields[3] < T_SEA] = 0.0
    parcel = _parcels(i2, j2)
    bright = 1.0 + np.take(sp.TEXTURE, cls) * cell_noise(i2, j2, 0x12)
    bright += np.take(sp.PARCEL, cls) * np.take(noise_table(0x52), parcel)
    bright += np.take(sp.PATCH, cls) * det
    return Static(cells, interp, fields[0], fields[1], elev, cls, parcel, jit, bright, det)


def _canopy(st: Static, day: date) -> F32:
    doy = day.timetuple().tm_yday
    south = st.lat < 0
    summer = np.where(south, np.float32(sp.summer(doy, True)), np.float32(sp.summer(doy, False)))
    green = 1.0 - sp.seasonality(st.lat) * (1.0 - summer)
    lut_a = np.array([0, 0.5, 0, 0.15, 0, 0], np.float32)
    lut_b = np.array([0, 0.5, 0, 0.75, 0, 0], np.float32)
    f = lut_a[st.cls] + lut_b[st.cls] * green
    crop = st.cls == sp.CROP
    if crop.any():
        north_t, south_t = sp.crop_table(doy, False), sp.crop_table(doy, True)
        fc = np.where(south, south_t[st.parcel], north_t[st.parcel])
        f = np.where(crop, fc, f)
    out: F32 = f.astype(np.float32)
    return out


def _opacity(field: F32, threshold: F32 | float, width: float) -> F32:
    out: F32 = np.clip((field - threshold) * (1.0 / width) + 0.5, 0.0, 1.0)
    return out


def cloud_threshold(cover: F32) -> F32:
    """The cloud-field level exceeded on a ``cover`` share of the area (per cell)."""
    q = fbm_quantiles(6)
    out: F32 = np.interp(1.0 - cover, np.linspace(0.0, 1.0, q.size), q).astype(np.float32)
    return out


def dynamic_surface(st: Static, p: Pass, day: date) -> Dynamic:
    """The state of the cells of ``st`` on pass ``p`` (imaged on ``day``)."""
    interp, cells = st.interp, st.cells
    nodes = dynamic_nodes(cells.zone, interp.nx, interp.ny, p, cells.level)
    cloud_f, shadow_f, cirrus_f, aot_f, cover, across = interp(nodes)
    doy = day.timetuple().tm_yday
    snow = np.clip((st.elev - sp.snowline(st.lat, doy)) / 150.0 + 0.5, 0.0, 1.0)
    cloudy = cover > 0
    if cloudy.any():
        t = cloud_threshold(cover)
        cloud = _opacity(cloud_f, t, 0.03) * cloudy
        shadow = _opacity(shadow_f, t, 0.03) * (1.0 - cloud) * cloudy
    else:
        cloud = np.zeros_like(cloud_f)
        shadow = cloud
    cirrus = None
    if hash_unit(0xC1C1, p.key) < 0.35:
        cirrus = 0.22 * _opacity(cirrus_f, fbm_threshold(4, 0.25), 0.12)
    aot = np.clip(0.16 + 0.25 * aot_f, 0.05, 0.6).astype(np.float32)
    valid = np.abs(across) <= np.float32(HALF_SWATH_KM)
    return Dynamic(doy, _canopy(st, day), snow, cloud, shadow, cirrus, aot, across, valid)
