"""From request pixels to ground positions: which UTM zone, and where in it.

The synthetic Earth is defined on native cells (10, 20, 60 m, 5 km) of the UTM zone of
each point (the zone of its longitude; northern ``EPSG:326zz`` coordinates, which share
the lattice of ``EPSG:327zz``). :func:`locate` splits a request into :class:`Part` s, one
per zone, holding the zone coordinates of the pixel centres: exact when the request is
in that zone (:class:`Exact`, separable), otherwise bilinearly interpolated from exact
pyproj transforms on a control lattice anchored at fixed multiples of ``2**-10`` degrees
(geographic CRSs) or 128 units (projected CRSs), coarser for coarse pixels
(:class:`Control`): the error is about a millimetre or less and a pixel's coordinates
depend only on its own position and the pixel size, never on the request extent. Pixel
centres themselves are canonical (:func:`pixel_centres`), so the same ground pixel of two
tiles of one grid gets bit-identical coordinates.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from affine import Affine
from numpy.typing import NDArray
from pyproj import CRS, Transformer

from s2raster.emulator.earth._noise import F64, I64
from s2raster.emulator.errors import RequestError

BOOL = NDArray[np.bool_]
_GEO_STEP = 2.0**-10
_PROJ_STEP = 128.0
_FALSE_NORTHING = 10_000_000.0
#: Rows per chunk when coordinates are computed per pixel (keeps arrays in cache).
CHUNK_ROWS = 32


@dataclass(frozen=True)
class Exact:
    """Exact, separable zone coordinates: ``xs`` per column, ``ys`` per row (metres)."""

    xs: F64
    ys: F64

    def bounds(self) -> tuple[float, float, float, float]:
        """(xmin, xmax, ymin, ymax) over all pixels."""
        return (
            float(self.xs.min()),
            float(self.xs.max()),
            float(self.ys.min()),
            float(self.ys.max()),
        )


@dataclass(frozen=True)
class Control:
    """Zone coordinates interpolated per pixel from exact control nodes.

    ``ax``/``ay``: node-row values already interpolated to every column, shape (node rows,
    width); ``iy``/``wy``: per pixel row, the node row below and the weight of the next.
    """

    ax: F64
    ay: F64
    iy: I64
    wy: F64

    def bounds(self) -> tuple[float, float, float, float]:
        """(xmin, xmax, ymin, ymax) bounding all pixels (interpolation stays within nodes)."""
        rows = slice(int(self.iy.min()), int(self.iy.max()) + 2)
        ax, ay = self.ax[rows], self.ay[rows]
        return (float(ax.min()), float(ax.max()), float(ay.min()), float(ay.max()))

    def rows(self, r0: int, r1: int) -> tuple[F64, F64]:
        """(X, Y) of the pixels of rows ``r0:r1`` (float64, (r1 - r0, width))."""
        iy, wy = self.iy[r0:r1], self.wy[r0:r1, None]
        out = []
        for along in (self.ax, self.ay):
            low = along[iy]
            low += (along[iy + 1] - low) * wy
            out.append(low)
        return out[0], out[1]


@dataclass(frozen=True)
class Part:
    """The pixels of a request window that lie in UTM zone ``zone``.

    ``rows``/``cols`` select the window in the request, ``coords`` give the zone
    coordinates of its pixel centres, ``mask`` (window shaped) marks the pixels of this
    zone, or is None for all of them.
    """

    zone: int
    rows: slice
    cols: slice
    coords: Exact | Control
    mask: BOOL | None = None

    @property
    def shape(self) -> tuple[int, int]:
        return (self.rows.stop - self.rows.start, self.cols.stop - self.cols.start)

    def chunks(self) -> Iterator[tuple[int, int, F64, F64]]:
        """(r0, r1, X, Y) for consecutive row chunks of the window (per-pixel coordinates)."""
        h, w = self.shape
        for r0 in range(0, h, CHUNK_ROWS):
            r1 = min(r0 + CHUNK_ROWS, h)
            if isinstance(self.coords, Exact):
                xs, ys = self.coords.xs, self.coords.ys[r0:r1, None]
                yield r0, r1, np.broadcast_to(xs, (r1 - r0, w)), np.broadcast_to(ys, (r1 - r0, w))
            else:
                yield (r0, r1, *self.coords.rows(r0, r1))

    def pixel_size(self) -> float:
        """Ground size of a pixel in metres (the larger of its two sides, at the centre)."""
        h, w = self.shape
        r, c = max(min(h // 2, h - 2), 0), max(min(w // 2, w - 2), 0)
        if isinstance(self.coords, Exact):
            xs, ys = self.coords.xs, self.coords.ys
            dx = abs(xs[c + 1] - xs[c]) if w > 1 else 0.0
            dy = abs(ys[r + 1] - ys[r]) if h > 1 else 0.0
            return float(max(dx, dy))
        X, Y = self.coords.rows(r, min(r + 2, h))
        dx = math.hypot(X[0, c + 1] - X[0, c], Y[0, c + 1] - Y[0, c]) if w > 1 else 0.0
        dy = math.hypot(X[1, c] - X[0, c], Y[1, c] - Y[0, c]) if h > 1 else 0.0
        return float(max(dx, dy))


def _axis(origin: float, step: float, n: int) -> F64:
    """Centres ``origin + (k + 0.5) step``, from a whole number of steps when possible."""
    step = float(f"{step:.12g}")
    ratio = origin / step
    k = round(ratio)
    if abs(ratio - k) < 1e-6:
        out: F64 = (np.arange(n, dtype=np.float64) + (k + 0.5)) * step
        return out
    return origin + (np.arange(n, dtype=np.float64) + 0.5) * step


def pixel_centres(transform: Affine, shape: tuple[int, int]) -> tuple[F64, F64]:
    """x of column centres and y of row centres of a north-up grid.

    The step is rounded to 12 significant digits and, when the origin is (within 1e-6
    steps) a whole number of steps, centres are ``(k + i + 0.5) * step``: tiles of one
    grid thus get exactly the coordinates of the whole grid.
    """
    t = transform
    if t.b != 0 or t.d != 0 or t.a <= 0 or t.e >= 0:
        raise RequestError(f"the emulator renders north-up grids only, got transform {t!r}")
    return _axis(t.c, t.a, shape[1]), _axis(t.f, t.e, shape[0])


@lru_cache(maxsize=256)
def transformer(src: CRS | str, dst: str) -> Transformer:
    """The cached transformer ``src`` -> ``dst`` in x/y (lon/lat) order, for every module.

    Shared by all threads: since pyproj 3.1, a Transformer is thread-safe (it keeps a
    copy per thread).
    """
    return Transformer.from_crs(src, dst, always_xy=True)


def control_step(src: CRS, pixel: float) -> float:
    """Control-node spacing for pixels of ``pixel`` CRS units: ``2**-10`` degrees or 128
    units, doubled while under four pixels (coarse requests need fewer nodes).
    """
    step = _GEO_STEP if src.is_geographic else _PROJ_STEP
    while step * 2 <= pixel * 4:
        step *= 2
    return step


def control(src: CRS, dst: str, xs: F64, ys: F64) -> Control:
    """The :class:`Control` coordinates in ``dst`` of the pixel centres ``ys`` x ``xs``."""
    pixel = max(
        abs(xs[1] - xs[0]) if xs.size > 1 else 0.0, abs(ys[1] - ys[0]) if ys.size > 1 else 0.0
    )
    step = control_step(src, float(pixel))
    tx, ty = xs / step, ys / step
    kx, ky = np.floor(tx), np.floor(ty)
    nx = np.arange(int(kx.min()), int(kx.max()) + 2)
    ny = np.arange(int(ky.min()), int(ky.max()) + 2)
    gx, gy = np.meshgrid(nx * step, ny * step)
    cx, cy = transformer(src, dst).transform(gx, gy)
    cx = np.asarray(cx, np.float64)
    if dst == "EPSG:4326" and float(cx.max() - cx.min()) > 180.0:  # across the antimeridian
        cx = np.where(cx < 0.0, cx + 360.0, cx)  # interpolate continuous longitudes
    ix = (kx - nx[0]).astype(np.int64)
    wx = tx - kx
    along = []
    for grid in (np.asarray(cx, np.float64), np.asarray(cy, np.float64)):
        left = grid[:, ix]
        along.append(left + (grid[:, ix + 1] - left) * wx)
    return Control(along[0], along[1], (ky - ny[0]).astype(np.int64), ty - ky)


def _utm_zone(crs: CRS) -> tuple[int, bool] | None:
    epsg = crs.to_epsg()
    if epsg is not None and (32601 <= epsg <= 32660 or 32701 <= epsg <= 32760):
        return epsg % 100, epsg > 32700
    return None


def _lon_span(crs: CRS, xs: F64, ys: F64) -> tuple[float, float]:
    ex = np.concatenate([xs, xs, np.full(ys.size, xs[0]), np.full(ys.size, xs[-1])])
    ey = np.concatenate([np.full(xs.size, ys[0]), np.full(xs.size, ys[-1]), ys, ys])
    lon, _ = transformer(crs, "EPSG:4326").transform(ex, ey)
    return float(np.min(lon)), float(np.max(lon))


def _zones(lon: NDArray[np.floating]) -> I64:
    out: I64 = np.clip(np.floor((lon + 180.0) / 6.0).astype(np.int64) + 1, 1, 60)
    return out


def _geographic(crs: CRS, xs: F64, ys: F64) -> list[Part]:
    zones = _zones(xs)
    parts = []
    for zone in np.unique(zones):
        cols = np.flatnonzero(zones == zone)
        window = slice(int(cols[0]), int(cols[-1]) + 1)
        coords = control(crs, f"EPSG:{32600 + int(zone)}", xs[window], ys)
        parts.append(Part(int(zone), slice(0, ys.size), window, coords))
    return parts


def _generic(crs: CRS, xs: F64, ys: F64, own: tuple[int, bool] | None) -> list[Part]:
    lon_coords = control(crs, "EPSG:4326", xs, ys)
    zones = _zones(np.mod(lon_coords.rows(0, ys.size)[0] + 180.0, 360.0) - 180.0)
    rows, cols = slice(0, ys.size), slice(0, xs.size)
    parts = []
    for zone in np.unique(zones):
        coords: Exact | Control
        if own is not None and own[0] == zone:
            coords = Exact(xs, ys - _FALSE_NORTHING if own[1] else ys)
        else:
            coords = control(crs, f"EPSG:{32600 + int(zone)}", xs, ys)
        parts.append(Part(int(zone), rows, cols, coords, zones == zone))
    if len(parts) == 1:
        return [Part(parts[0].zone, rows, cols, parts[0].coords)]
    return parts


def locate(crs: str, transform: Affine, shape: tuple[int, int]) -> list[Part]:
    """Split the grid (``crs``, ``transform``, ``shape``) into per-zone :class:`Part` s."""
    try:
        parsed = CRS.from_user_input(crs)
    except Exception as exc:  # pyproj's CRSError
        raise RequestError(f"unknown CRS {crs!r}; give one such as EPSG:32633") from exc
    xs, ys = pixel_centres(transform, shape)
    own = _utm_zone(parsed)
    if own is not None:
        zone, south = own
        west, east = -180.0 + 6.0 * (zone - 1), -180.0 + 6.0 * zone
        lo, hi = _lon_span(parsed, xs, ys)
        if west <= lo and hi < east:
            yn = ys - _FALSE_NORTHING if south else ys
            return [Part(zone, slice(0, shape[0]), slice(0, shape[1]), Exact(xs, yn))]
        return _generic(parsed, xs, ys, own)
    if parsed.is_geographic and parsed.to_epsg() == 4326:
        return _geographic(parsed, xs, ys)
    return _generic(parsed, xs, ys, None)
