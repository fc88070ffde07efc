"""Resampling native cells to request pixels: NEAREST, BILINEAR, BICUBIC.

A :class:`Sampler` knows, for one :class:`~s2raster.emulator.earth._sampling.Part` and one native
resolution, which block of native cells the pixels need (columns ``ci`` west to east, rows
``cj`` north to south) and how to read a pixel from them: NEAREST takes the cell that
contains the pixel centre; BILINEAR and BICUBIC (Keys, a = -0.5) interpolate between cell
centres. Every per-pixel quantity is a function of that pixel's coordinates only.
"""

from __future__ import annotations

import math

import numpy as np

from s2raster.contract import RESAMPLING
from s2raster.emulator.earth._noise import F32, F64, I64
from s2raster.emulator.earth._sampling import Exact, Part
from s2raster.emulator.errors import RequestError

#: (first tap offset, number of taps) per method.
_TAPS = {"NEAREST": (0, 1), "BILINEAR": (0, 2), "BICUBIC": (-1, 4)}


def weights(method: str, frac: F32) -> list[F32]:
    """Tap weights for fractional positions ``frac`` (taps ``first .. first + count - 1``)."""
    if method == "NEAREST":
        return [np.ones_like(frac)]
    if method == "BILINEAR":
        return [1.0 - frac, frac]
    t = frac
    t2 = t * t
    t3 = t2 * t
    return [
        -0.5 * t3 + t2 - 0.5 * t,
        1.5 * t3 - 2.5 * t2 + 1.0,
        -1.5 * t3 + 2.0 * t2 + 0.5 * t,
        0.5 * t3 - 0.5 * t2,
    ]


class Sampler:
    """Reads the pixels of ``part`` from native cells of size ``res`` metres.

    Block mode: from a block of cells (``ci`` x ``cj``), see :meth:`__call__`. Point mode
    (``points=True``, for pixels much larger than the cells): from the values of each
    pixel's own tap cells (:meth:`tap_cells`, :meth:`combine`).
    """

    def __init__(
        self, part: Part, res: float, method: str, *, defer: bool = False, points: bool = False
    ) -> None:
        if method not in RESAMPLING:
            raise RequestError(f"unknown resampling {method!r}; use one of {', '.join(RESAMPLING)}")
        self.method, self.res = method, float(res)
        self.first, self.count = _TAPS[method]
        self.shift = 0.0 if method == "NEAREST" else 0.5
        xmin, xmax, ymin, ymax = part.coords.bounds()
        # One spare cell around interpolated coordinates (they may pass a node by an ulp).
        margin = 0 if isinstance(part.coords, Exact) else 1
        i_lo, i_hi = self._cell(xmin) - margin, self._cell(xmax) + margin
        j_lo, j_hi = self._cell(ymin) - margin, self._cell(ymax) + margin
        self.ci: I64 = np.arange(i_lo + self.first, i_hi + self.first + self.count)
        self.top = j_hi + self.first + self.count - 1
        self.cj: I64 = np.arange(self.top, j_lo + self.first - 1, -1)
        self.points = points
        self.shape = part.shape
        # Point mode reads only the pixels of the part's zone.
        self._sel = None if part.mask is None else np.flatnonzero(part.mask.ravel())
        self.separable = isinstance(part.coords, Exact) and not points
        if self.separable:
            assert isinstance(part.coords, Exact)
            self._setup_separable(part.coords)
        else:
            self._allocate(part.shape)
            if not defer:
                prepare(part, [self])

    def _cell(self, coord: float) -> int:
        return math.floor(coord / self.res - self.shift)

    def _position(self, coord: F64) -> tuple[F64, F64]:
        """(cell index as float, fraction) of coordinates: floor and rest of coord / res."""
        u = coord / self.res
        if self.shift:
            u -= self.shift
        cell = np.floor(u)
        return cell, u - cell

    def _setup_separable(self, coords: Exact) -> None:
        iu, fu = self._position(coords.xs)
        iv, fv = self._position(coords.ys)
        self._c: I64 = iu.astype(np.int64) - self.ci[0]
        self._r: I64 = self.top - iv.astype(np.int64)
        self._fu: F32 = fu.astype(np.float32)
        self._fv: F32 = fv.astype(np.float32)

    def _allocate(self, shape: tuple[int, int]) -> None:
        self._base: I64 = np.empty(shape if not self.points else (0, 0), np.int64)
        self._iu: I64 = np.empty(shape if self.points else (0, 0), np.int64)
        self._iv: I64 = np.empty(shape if self.points else (0, 0), np.int64)
        interp = self.method != "NEAREST"
        self._fu = np.empty(shape if interp else (0,), np.float32)
        self._fv = np.empty(shape if interp else (0,), np.float32)

    def fill(self, r0: int, r1: int, X: F64, Y: F64) -> None:
        """Set the flat block index (and fractions) of pixel rows ``r0:r1`` from X, Y."""
        iu, fu = self._position(X)
        iv, fv = self._position(Y)
        if self.method != "NEAREST":
            self._fu[r0:r1] = fu
            self._fv[r0:r1] = fv
        if self.points:
            self._iu[r0:r1] = iu
            self._iv[r0:r1] = iv
            return
        iv = (self.top - iv) * self.ci.size
        iv += iu
        iv -= int(self.ci[0])
        self._base[r0:r1] = iv

    def tap_cells(self) -> tuple[I64, I64]:
        """Point mode: (columns, rows) of the cells each pixel reads, shape (taps, h * w).

        Taps are ordered row offset first (south to north), then column offset.
        """
        offsets = range(self.first, self.first + self.count)
        iu, iv = self._picked(self._iu), self._picked(self._iv)
        ci = np.stack([iu + b for a in offsets for b in offsets])
        cj = np.stack([iv + a for a in offsets for b in offsets])
        return ci, cj

    def combine(self, values: F32) -> F32:
        """Point mode: pixel values from tap-cell values (taps, h * w), as :meth:`__call__`."""
        if self.method == "NEAREST":
            return self._scatter(values[0])
        wu = weights(self.method, self._picked(self._fu))
        wv = weights(self.method, self._picked(self._fv))
        acc: F32 | None = None
        for a, w_row in enumerate(wv):
            line: F32 | None = None
            for b, w_col in enumerate(wu):
                term = values[a * self.count + b] * w_col
                line = term if line is None else line + term
            assert line is not None
            acc = line * w_row if acc is None else acc + line * w_row
        assert acc is not None
        return self._scatter(acc)

    def _picked(self, values: np.ndarray) -> np.ndarray:
        flat = values.ravel()
        return flat if self._sel is None else flat[self._sel]

    def _scatter(self, values: F32) -> F32:
        if self._sel is None:
            out: F32 = values.reshape(self.shape).astype(np.float32, copy=False)
            return out
        full = np.zeros(self.shape[0] * self.shape[1], np.float32)
        full[self._sel] = values
        return full.reshape(self.shape)

    def __call__(self, block: F32) -> F32:
        """Resample ``block`` (len(cj), len(ci)) to the part's pixels."""
        if self.separable:
            return self._separable(block)
        return self._pointwise(block)

    def _separable(self, block: F32) -> F32:
        c, r = self._c, self._r
        if self.method == "NEAREST":
            cols = block if is_range(c, block.shape[1]) else np.take(block, c, axis=1)
            if is_range(r, cols.shape[0]):
                return cols
            out: F32 = np.take(cols, r, axis=0)
            return out
        acc: F32 | None = None
        for k, w in enumerate(weights(self.method, self._fu)):
            term = np.take(block, c + (self.first + k), axis=1) * w
            acc = term if acc is None else acc + term
        assert acc is not None
        along_x = acc
        acc = None
        for k, w in enumerate(weights(self.method, self._fv)):
            term = np.take(along_x, r - (self.first + k), axis=0) * w[:, None]
            acc = term if acc is None else acc + term
        assert acc is not None
        return acc.astype(np.float32, copy=False)

    def _pointwise(self, block: F32) -> F32:
        flat = block.ravel()
        if self.method == "NEAREST":
            out: F32 = np.take(flat, self._base)
            return out
        n = block.shape[1]
        out = np.empty(self.shape, np.float32)
        for r0 in range(0, self.shape[0], 32):
            rows = slice(r0, r0 + 32)
            base = self._base[rows]
            wu = weights(self.method, self._fu[rows])
            wv = weights(self.method, self._fv[rows])
            acc: F32 | None = None
            for a, w_row in enumerate(wv):
                line: F32 | None = None
                for b, w_col in enumerate(wu):
                    offset = (self.first + b) - (self.first + a) * n
                    term = np.take(flat, base + offset) * w_col
                    line = term if line is None else line + term
                assert line is not None
                acc = line * w_row if acc is None else acc + line * w_row
            out[rows] = acc
        return out


def prepare(part: Part, samplers: list[Sampler]) -> None:
    """Fill the per-pixel indices of deferred point-wise samplers in one pass over ``part``."""
    pending = [s for s in samplers if not s.separable]
    if pending:
        for r0, r1, X, Y in part.chunks():
            for sampler in pending:
                sampler.fill(r0, r1, X, Y)


def is_range(index: I64, size: int) -> bool:
    """True when ``index`` is ``0, 1, ..., size - 1`` (taking it would copy for nothing)."""
    return bool(index.size == size and index[0] == 0 and np.all(np.diff(index) == 1))
