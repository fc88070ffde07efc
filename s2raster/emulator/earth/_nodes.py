"""The node lattice: smooth fields of the synthetic Earth, defined in lon/lat.

Fields (elevation, land-cover noises, clouds...) are fBm functions of geographic
coordinates. They are evaluated at *nodes*: the points ``(n * NODE, m * NODE)`` (metres) of
the northern UTM zone ``EPSG:326zz`` (south of the equator northings are negative, on the
same lattice as ``EPSG:327zz``). Values at cell centres are bilinear interpolations of
the nodes, so they depend only on the cell (never on the request extent). Node values are
computed in tiles of ``TILE`` x ``TILE`` nodes and kept in a small LRU cache.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from functools import lru_cache

import numpy as np
from pyproj import Transformer

from s2raster.emulator.earth._fields import DYNAMIC, STATIC, dynamic_fields, static_fields
from s2raster.emulator.earth._noise import F32, F64, I64, cell_noise, fbm
from s2raster.emulator.earth._orbit import Pass
from s2raster.emulator.earth._sampling import transformer

#: Node spacing in metres.
NODE = 240.0
#: Nodes per tile side (cache unit).
TILE = 32
_CACHE_TILES = 3000

_lock = threading.Lock()
_cache: OrderedDict[tuple[tuple[object, ...], tuple[int, int]], F32] = OrderedDict()


def zone_transformer(zone: int, *, inverse: bool = True) -> Transformer:
    """The cached transformer between ``EPSG:326zz`` and lon/lat (always_xy)."""
    utm = f"EPSG:{32600 + zone}"
    return transformer(utm, "EPSG:4326") if inverse else transformer("EPSG:4326", utm)


def spacing(level: int) -> float:
    """Node spacing (metres) of level ``level``: 240 m, then 8 times coarser per level."""
    return NODE * 8.0**level


def _tile_points(zone: int, tiles: list[tuple[int, int]], step: float) -> tuple[F64, F64]:
    base = np.arange(TILE, dtype=np.float64)
    xs = np.concatenate([np.tile((tx * TILE + base) * step, TILE) for tx, _ in tiles])
    ys = np.concatenate([np.repeat((ty * TILE + base) * step, TILE) for _, ty in tiles])
    lon, lat = zone_transformer(zone).transform(xs, ys)
    return np.asarray(lon, np.float64), np.asarray(lat, np.float64)


def _tiles(
    key: tuple[object, ...],
    zone: int,
    tiles: list[tuple[int, int]],
    compute: Callable[..., F32],
    step: float,
) -> dict[tuple[int, int], F32]:
    found: dict[tuple[int, int], F32] = {}
    with _lock:
        for t in tiles:
            hit = _cache.get((key, t))
            if hit is not None:
                _cache.move_to_end((key, t))
                found[t] = hit
    missing = [t for t in tiles if t not in found]
    if missing:
        lon, lat = _tile_points(zone, missing, step)
        values = compute(lon, lat)
        per_tile = values.reshape(values.shape[0], len(missing), TILE, TILE)
        with _lock:
            for k, t in enumerate(missing):
                block = np.ascontiguousarray(per_tile[:, k])
                block.setflags(write=False)
                found[t] = _cache[(key, t)] = block
            while len(_cache) > _CACHE_TILES:
                _cache.popitem(last=False)
    return found


def _assemble(
    key: tuple[object, ...],
    zone: int,
    nx: tuple[int, int],
    ny: tuple[int, int],
    nfields: int,
    compute: Callable[..., F32],
    step: float,
) -> F32:
    tx0, tx1 = nx[0] // TILE, nx[1] // TILE
    ty0, ty1 = ny[0] // TILE, ny[1] // TILE
    wanted = [(tx, ty) for ty in range(ty0, ty1 + 1) for tx in range(tx0, tx1 + 1)]
    tiles = _tiles(key, zone, wanted, compute, step)
    out = np.empty((nfields, (ty1 - ty0 + 1) * TILE, (tx1 - tx0 + 1) * TILE), np.float32)
    for (tx, ty), block in tiles.items():
        r, c = (ty - ty0) * TILE, (tx - tx0) * TILE
        out[:, r : r + TILE, c : c + TILE] = block
    r0, c0 = ny[0] - ty0 * TILE, nx[0] - tx0 * TILE
    return out[:, r0 : r0 + ny[1] - ny[0] + 1, c0 : c0 + nx[1] - nx[0] + 1]


def static_nodes(zone: int, nx: tuple[int, int], ny: tuple[int, int], level: int = 0) -> F32:
    """Static node fields for node columns ``nx`` and rows ``ny`` (inclusive ranges) of
    the lattice of ``level`` (see :func:`spacing`).

    Returns (len(STATIC), rows, cols), rows ascending northwards.
    """

    def compute(lon: F64, lat: F64) -> F32:
        return static_fields(lon, lat, zone)

    key = ("static", zone, level)
    return _assemble(key, zone, nx, ny, len(STATIC), compute, spacing(level))


def dynamic_nodes(
    zone: int, nx: tuple[int, int], ny: tuple[int, int], p: Pass, level: int = 0
) -> F32:
    """Per-pass node fields (see :func:`static_nodes`)."""

    def compute(lon: F64, lat: F64) -> F32:
        return dynamic_fields(lon, lat, p)

    key = ("dynamic", zone, p, level)
    return _assemble(key, zone, nx, ny, len(DYNAMIC), compute, spacing(level))


class NodeInterp:
    """Bilinear interpolation from a node lattice (multiples of ``step`` metres).

    ``xs``/``ys`` are zone coordinates (metres): of the columns and rows of a product set
    (``points=False``), or of a list of points (equal shapes). Both give bit-identical
    values for the same position (same operations, same order).
    """

    def __init__(self, xs: F64, ys: F64, step: float = NODE, *, points: bool = False) -> None:
        tx, ty = xs / step, ys / step
        kx, ky = np.floor(tx), np.floor(ty)
        self.points = points
        self.nx = (int(kx.min()), int(kx.max()) + 1)
        self.ny = (int(ky.min()), int(ky.max()) + 1)
        self.ix: I64 = kx.astype(np.int64) - self.nx[0]
        self.iy: I64 = ky.astype(np.int64) - self.ny[0]
        self.wx: F32 = (tx - kx).astype(np.float32)
        wy = (ty - ky).astype(np.float32)
        self.wy: F32 = wy if points else wy[:, None]

    def __call__(self, nodes: F32) -> F32:
        """Fields (nf, node rows, node cols) -> (nf, len(ys), len(xs)) or (nf, points)."""
        if self.points:
            n = nodes.shape[2]
            base = self.iy * n + self.ix
            out: F32 = np.empty((nodes.shape[0], base.size), np.float32)
            for f, plane in enumerate(nodes):
                flat = plane.ravel()
                v00, v10 = np.take(flat, base), np.take(flat, base + 1)
                v01, v11 = np.take(flat, base + n), np.take(flat, base + n + 1)
                low = v00 + (v10 - v00) * self.wx
                high = v01 + (v11 - v01) * self.wx
                out[f] = low + (high - low) * self.wy
            return out
        left = np.take(nodes, self.ix, axis=2)
        along_x = left + (np.take(nodes, self.ix + 1, axis=2) - left) * self.wx
        low = np.take(along_x, self.iy, axis=1)
        result: F32 = low + (np.take(along_x, self.iy + 1, axis=1) - low) * self.wy
        return result


@lru_cache(maxsize=16)
def fbm_quantiles(octaves: int) -> F64:
    """The 0, 0.001, ..., 1 quantiles of :func:`fbm` over space (a fixed calibration sample)."""
    rng = np.random.default_rng(12345)
    x = rng.uniform(-300.0, 300.0, 40_000)
    y = rng.uniform(-300.0, 300.0, 40_000)
    result: F64 = np.quantile(fbm(x, y, 0xCA1, octaves), np.linspace(0.0, 1.0, 1001))
    return result


def fbm_threshold(octaves: int, fraction_above: float) -> float:
    """The fBm value exceeded on about ``fraction_above`` of the area."""
    q = fbm_quantiles(octaves)
    return float(np.interp(1.0 - fraction_above, np.linspace(0.0, 1.0, 1001), q))


def detail(xs: F64, ys: F64, seed: int, *, points: bool = False) -> F32:
    """Fine structure (sd about 0.5) for boundaries: white noise on 60 m and 180 m lattices
    of the zone, bilinearly interpolated (product set ``ys`` x ``xs`` or points).
    """
    out: F32 | None = None
    for step, weight in ((60.0, 0.6), (180.0, 0.5)):
        interp = NodeInterp(xs, ys, step, points=points)
        if points:  # hash only the corner nodes of each point
            i = interp.ix + interp.nx[0]
            j = interp.iy + interp.ny[0]
            corners = [cell_noise(i + a, j + b, seed + int(step)) for b in (0, 1) for a in (0, 1)]
            v00, v10, v01, v11 = (c * np.float32(weight) for c in corners)
            low = v00 + (v10 - v00) * interp.wx
            high = v01 + (v11 - v01) * interp.wx
            part: F32 = low + (high - low) * interp.wy
        else:
            nx = np.arange(interp.nx[0], interp.nx[1] + 1, dtype=np.int64)
            ny = np.arange(interp.ny[0], interp.ny[1] + 1, dtype=np.int64)
            nodes = cell_noise(nx[None, :], ny[:, None], seed + int(step)) * np.float32(weight)
            part = interp(nodes[None])[0]
        out = part if out is None else out + part
    assert out is not None
    return out
