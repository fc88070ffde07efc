"""From request pixels to native cells: where each pixel centre lies, and resampling.

The synthetic Earth is defined on native cells (10, 20, 60 m, 5 km) of the UTM zone of
each point (the zone of its longitude; northern ``EPSG:326zz`` coordinates, which share
the lattice of ``EPSG:327zz``). :func:`locate` splits a request into :class:`Part` s, one
per zone, holding the zone coordinates of the pixel centres: exact when the request is
in that zone (separable 1-D coordinates), otherwise bilinearly interpolated from exact
pyproj transforms on a control lattice anchored at fixed multiples of ``2**-10`` degrees
(geographic CRSs) or 128 units (projected CRSs): the error is below a millimetre and a
pixel's coordinates depend only on its own position, never on the request extent.

Pixel centres are computed canonically (see :func:`pixel_centres`), so the same ground
pixel of two tiles of one grid gets bit-identical coordinates.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from affine import Affine
from numpy.typing import NDArray
from pyproj import CRS, Transformer

from s2raster.emulator.earth_noise import F32, F64, I64
from s2raster.errors import InputError

BOOL = NDArray[np.bool_]
RESAMPLING = ("NEAREST", "BILINEAR", "BICUBIC")
_GEO_STEP = 2.0**-10
_PROJ_STEP = 128.0
_FALSE_NORTHING = 10_000_000.0


@dataclass(frozen=True)
class Part:
    """The pixels of a request window that lie in UTM zone ``zone``.

    ``rows``/``cols`` select the window in the request; coordinates are either separable
    (``xs`` per column, ``ys`` per row) or per pixel (``X``, ``Y``, window shaped);
    ``mask`` (window shaped) marks the pixels of this zone, or is None for all of them.
    """

    zone: int
    rows: slice
    cols: slice
    xs: F64 | None = None
    ys: F64 | None = None
    X: F64 | None = None
    Y: F64 | None = None
    mask: BOOL | None = None

    @property
    def shape(self) -> tuple[int, int]:
        if self.xs is not None and self.ys is not None:
            return (self.ys.size, self.xs.size)
        assert self.X is not None
        return (self.X.shape[0], self.X.shape[1])

    def pixel_size(self) -> float:
        """Ground size of a pixel in metres (the larger of its two sides, at the centre)."""
        if self.xs is not None and self.ys is not None:
            dx = abs(self.xs[1] - self.xs[0]) if self.xs.size > 1 else 0.0
            dy = abs(self.ys[1] - self.ys[0]) if self.ys.size > 1 else 0.0
            return float(max(dx, dy))
        assert self.X is not None
        assert self.Y is not None
        h, w = self.X.shape
        r, c = min(h // 2, h - 2), min(w // 2, w - 2)
        if r < 0 or c < 0:
            return 0.0
        dx = math.hypot(self.X[r, c + 1] - self.X[r, c], self.Y[r, c + 1] - self.Y[r, c])
        dy = math.hypot(self.X[r + 1, c] - self.X[r, c], self.Y[r + 1, c] - self.Y[r, c])
        return float(max(dx, dy))


def zone_of(lon: float) -> int:
    """UTM zone number (1..60) of a longitude."""
    return min(max(math.floor((lon + 180.0) / 6.0) + 1, 1), 60)


def _canonical_step(step: float) -> float:
    return float(f"{step:.12g}")


def _axis(origin: float, step: float, n: int) -> F64:
    """Centres ``origin + (k + 0.5) step``, computed from a whole number of steps if possible."""
    step = _canonical_step(step)
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
        raise InputError(f"the emulator renders north-up grids only, got transform {t!r}")
    return _axis(t.c, t.a, shape[1]), _axis(t.f, t.e, shape[0])


def _transformer(src: CRS, dst: str) -> Transformer:
    return Transformer.from_crs(src, dst, always_xy=True)


def _control(src: CRS, dst: str, xs: F64, ys: F64) -> tuple[F64, F64]:
    """Transform pixel centres (product of ``xs`` and ``ys``) via the anchored control lattice."""
    step = _GEO_STEP if src.is_geographic else _PROJ_STEP
    tx, ty = xs / step, ys / step
    kx, ky = np.floor(tx), np.floor(ty)
    nx = np.arange(int(kx.min()), int(kx.max()) + 2)
    ny = np.arange(int(ky.min()), int(ky.max()) + 2)
    gx, gy = np.meshgrid(nx * step, ny * step)
    cx, cy = _transformer(src, dst).transform(gx, gy)
    ix = (kx - nx[0]).astype(np.int64)
    iy = (ky - ny[0]).astype(np.int64)
    wx, wy = tx - kx, (ty - ky)[:, None]
    out = []
    for grid in (np.asarray(cx, np.float64), np.asarray(cy, np.float64)):
        left = grid[:, ix]
        along = left + (grid[:, ix + 1] - left) * wx
        low = along[iy]
        out.append(low + (along[iy + 1] - low) * wy)
    return out[0], out[1]


def _utm_zone(crs: CRS) -> tuple[int, bool] | None:
    epsg = crs.to_epsg()
    if epsg is not None and (32601 <= epsg <= 32660 or 32701 <= epsg <= 32760):
        return epsg % 100, epsg > 32700
    return None


def _lon_span(crs: CRS, xs: F64, ys: F64) -> tuple[float, float]:
    ex = np.concatenate([xs, xs, np.full(ys.size, xs[0]), np.full(ys.size, xs[-1])])
    ey = np.concatenate([np.full(xs.size, ys[0]), np.full(xs.size, ys[-1]), ys, ys])
    lon, _ = _transformer(crs, "EPSG:4326").transform(ex, ey)
    return float(np.min(lon)), float(np.max(lon))


def _full(shape: tuple[int, int]) -> tuple[slice, slice]:
    return slice(0, shape[0]), slice(0, shape[1])


def _geographic(crs: CRS, xs: F64, ys: F64) -> list[Part]:
    zones = np.minimum(np.floor((xs + 180.0) / 6.0).astype(np.int64) + 1, 60)
    zones = np.maximum(zones, 1)
    parts = []
    for zone in np.unique(zones):
        cols = np.flatnonzero(zones == zone)
        window = slice(int(cols[0]), int(cols[-1]) + 1)
        X, Y = _control(crs, f"EPSG:{32600 + int(zone)}", xs[window], ys)
        parts.append(Part(int(zone), slice(0, ys.size), window, X=X, Y=Y))
    return parts


def _generic(crs: CRS, xs: F64, ys: F64, own: tuple[int, bool] | None) -> list[Part]:
    lon, _ = _control(crs, "EPSG:4326", xs, ys)
    zones = np.clip(np.floor((lon + 180.0) / 6.0).astype(np.int64) + 1, 1, 60)
    rows, cols = _full((ys.size, xs.size))
    parts = []
    for zone in np.unique(zones):
        mask = zones == zone
        if own is not None and own[0] == zone:
            yn = ys - _FALSE_NORTHING if own[1] else ys
            X, Y = np.broadcast_to(xs, mask.shape), np.broadcast_to(yn[:, None], mask.shape)
        else:
            X, Y = _control(crs, f"EPSG:{32600 + int(zone)}", xs, ys)
        parts.append(Part(int(zone), rows, cols, X=np.asarray(X), Y=np.asarray(Y), mask=mask))
    if len(parts) == 1:
        return [Part(parts[0].zone, rows, cols, X=parts[0].X, Y=parts[0].Y)]
    return parts


def locate(crs: str, transform: Affine, shape: tuple[int, int]) -> list[Part]:
    """Split the grid (``crs``, ``transform``, ``shape``) into per-zone :class:`Part` s."""
    try:
        parsed = CRS.from_user_input(crs)
    except Exception as exc:  # pyproj raises CRSError, a bare Exception subclass
        raise InputError(f"unknown CRS {crs!r}; give one such as EPSG:32633") from exc
    xs, ys = pixel_centres(transform, shape)
    own = _utm_zone(parsed)
    if own is not None:
        zone, south = own
        west, east = -180.0 + 6.0 * (zone - 1), -180.0 + 6.0 * zone
        lo, hi = _lon_span(parsed, xs, ys)
        if west <= lo and hi < east:
            yn = ys - _FALSE_NORTHING if south else ys
            return [Part(zone, *_full(shape), xs=xs, ys=yn)]
        return _generic(parsed, xs, ys, own)
    if parsed.is_geographic and parsed.to_epsg() == 4326:
        return _geographic(parsed, xs, ys)
    return _generic(parsed, xs, ys, None)


class Sampler:
    """Maps a block of native cells (columns ``ci``, rows ``cj`` north to south) to pixels.

    ``method`` is NEAREST (the cell containing the pixel centre), BILINEAR or BICUBIC
    (Keys, a = -0.5) between cell centres.
    """

    def __init__(self, part: Part, res: float, method: str) -> None:
        if method not in RESAMPLING:
            raise InputError(f"unknown resampling {method!r}; use one of {', '.join(RESAMPLING)}")
        self.method = method
        self.separable = part.xs is not None
        u, v = (part.xs, part.ys) if self.separable else (part.X, part.Y)
        assert u is not None
        assert v is not None
        self._taps = {"NEAREST": (0, 1), "BILINEAR": (0, 2), "BICUBIC": (-1, 4)}[method]
        shift = 0.0 if method == "NEAREST" else 0.5
        fu, fv = u / res - shift, v / res - shift
        iu, iv = np.floor(fu), np.floor(fv)
        self._fu = (fu - iu).astype(np.float32)
        self._fv = (fv - iv).astype(np.float32)
        first, count = self._taps
        sel = part.mask if part.mask is not None else slice(None)
        self.ci: I64 = np.arange(int(iu[sel].min()) + first, int(iu[sel].max()) + first + count)
        top = int(iv[sel].max()) + first + count - 1
        self.cj: I64 = np.arange(top, int(iv[sel].min()) + first - 1, -1)
        c_max = self.ci.size - count - first
        r_max = self.cj.size - 1 + first
        self._c: I64 = np.clip(iu.astype(np.int64) - self.ci[0], -first, c_max)
        self._r: I64 = np.clip(top - iv.astype(np.int64), first + count - 1, r_max)

    def __call__(self, block: F32) -> F32:
        """Resample ``block`` (len(cj), len(ci)) to the part's pixels (float32)."""
        if self.separable:
            return self._separable(block)
        return self._pointwise(block)

    def _weights(self, frac: F32) -> list[F32]:
        if self.method == "NEAREST":
            return [np.ones_like(frac)]
        if self.method == "BILINEAR":
            return [1.0 - frac, frac]
        t = frac
        t2, t3 = t * t, t * t * t
        return [
            -0.5 * t3 + t2 - 0.5 * t,
            1.5 * t3 - 2.5 * t2 + 1.0,
            -1.5 * t3 + 2.0 * t2 + 0.5 * t,
            0.5 * t3 - 0.5 * t2,
        ]

    def _separable(self, block: F32) -> F32:
        first, _count = self._taps
        if self.method == "NEAREST":
            c, r = self._c, self._r
            if c[0] == 0 and c.size == block.shape[1] and np.all(np.diff(c) == 1):
                cols = block
            else:
                cols = np.take(block, c, axis=1)
            if r[0] == 0 and r.size == cols.shape[0] and np.all(np.diff(r) == 1):
                return cols
            out: F32 = np.take(cols, r, axis=0)
            return out
        acc_x: F32 | None = None
        for k, w in enumerate(self._weights(self._fu)):
            term = np.take(block, self._c + (first + k), axis=1) * w
            acc_x = term if acc_x is None else acc_x + term
        assert acc_x is not None
        acc: F32 | None = None
        for k, w in enumerate(self._weights(self._fv)):
            term = np.take(acc_x, self._r - (first + k), axis=0) * w[:, None]
            acc = term if acc is None else acc + term
        assert acc is not None
        return acc.astype(np.float32, copy=False)

    def _pointwise(self, block: F32) -> F32:
        first, _count = self._taps
        flat = block.ravel()
        n = block.shape[1]
        base = self._r * n + self._c
        if self.method == "NEAREST":
            out: F32 = np.take(flat, base)
            return out
        wu, wv = self._weights(self._fu), self._weights(self._fv)
        acc: F32 | None = None
        for a, w_row in enumerate(wv):
            row_acc: F32 | None = None
            for b, w_col in enumerate(wu):
                term = np.take(flat, base - (first + a) * n + (first + b)) * w_col
                row_acc = term if row_acc is None else row_acc + term
            assert row_acc is not None
            term2 = row_acc * w_row
            acc = term2 if acc is None else acc + term2
        assert acc is not None
        return acc.astype(np.float32, copy=False)
