"""Write a COG while its pixels arrive: compress in the tasks, lay the file out at the end.

Private to :mod:`s2raster.cog`. :class:`CogStream` is a ``dask.array.store`` target (and
takes numpy strips too): each block is cut into the tiles of the full-resolution level, and
every tile is compressed, and halved into the next overview level, by the thread that
completes it (:mod:`s2raster._coglevels`), while other tasks are still downloading. When the
last block is in, every level is compressed: GDAL writes a one-pixel template with the
metadata (and the band statistics, exact, summed from every block as it arrived), and
:mod:`s2raster._tiff` copies the compressed tiles into their COG layout. Nothing is
compressed twice.

Memory: the blocks in flight, a tile per compressing thread. Disk (temporary, beside the
target): the compressed tiles; the parts of full-resolution tiles that straddle blocks, and
the quarters of every overview tile (together at most a third of the raster, uncompressed),
staged until their tile is complete and dropped, not written back, at the end.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import rasterio
import xarray as xr
from rasterio.enums import ColorInterp
from rasterio.io import DatasetWriter

from s2raster._coglevels import Codec, Level, Spool
from s2raster._feed import feed, strip_rows
from s2raster._tiff import LevelLayout, assemble

__all__ = ["CogStream", "stream_codec", "write_streamed"]

_PREDICTORS = {None: 1, "NO": 1, "STANDARD": 2, "FLOATING_POINT": 3}


def stream_codec(compression: Mapping[str, Any], dtype: np.dtype[Any]) -> Codec | None:
    """The streamed path's codec for these COG options, or None (GDAL's path): DEFLATE or
    no compression; predictor 2 on integers, 3 on floats."""
    name = compression["COMPRESS"]
    predictor = _PREDICTORS.get(compression.get("PREDICTOR"))
    if name not in ("DEFLATE", "NONE") or predictor is None:
        return None
    kind = np.dtype(dtype).kind
    if (predictor == 2 and kind not in "iu") or (predictor == 3 and kind != "f"):
        return None
    return Codec(name, int(compression.get("LEVEL", 1)), predictor if name == "DEFLATE" else 1)


def write_streamed(
    da: xr.DataArray,
    final: Path,
    profile: Mapping[str, Any],
    describe: Callable[[DatasetWriter], None],
    overviews: bool,
    codec: Codec,
    workdir: Path,
) -> None:
    """Write the COG ``final`` from ``da`` through a :class:`CogStream` in ``workdir``.

    ``profile`` is the GDAL profile of the raster (its georeferencing, nodata, tiling);
    ``describe(dst)`` writes the metadata on the template (called once, after the pixels).
    """
    from s2raster.cog import overview_factors

    bands, height, width = (int(n) for n in da.shape)
    block = int(profile["blockxsize"])
    data = da.data
    stream = CogStream(
        (bands, height, width),
        np.dtype(da.dtype),
        block=block,
        codec=codec,
        workdir=workdir,
        factors=overview_factors(height, width, block) if overviews else [],
    )

    def template(path: Path) -> None:
        one = {**profile, "width": 1, "height": 1, "tiled": False, "BIGTIFF": "NO"}
        one.update(compress=codec.name)
        if codec.predictor != 1:
            one["predictor"] = codec.predictor
        for key in ("blockxsize", "blockysize"):
            one.pop(key, None)
        with rasterio.open(path, "w", **one) as dst:
            describe(dst)
            stream.stats.write(dst)
            if overviews:
                dst.update_tags(ns="rio_overview", resampling="average")

    try:
        feed(data, stream, strip_rows=strip_rows(da.shape, da.dtype, block))
        stream.finish(template, final)
    finally:
        stream.cleanup()


class BandStats:
    """Exact statistics of every band, summed from blocks in any order (thread-safe):
    what GDAL writes as ``STATISTICS_*`` (no-data left out, population standard deviation)."""

    def __init__(self, bands: int, pixels: int) -> None:
        self.pixels = pixels
        self.count = np.zeros(bands, np.int64)
        self.total = np.zeros(bands, np.float64)
        self.squares = np.zeros(bands, np.float64)
        self.low = np.full(bands, np.inf)
        self.high = np.full(bands, -np.inf)
        self._lock = threading.Lock()

    def add(self, data: np.ndarray, band0: int) -> None:
        """Count the block ``data`` (bands ``band0 ..``), a few rows at a time in float64
        (so the temporaries stay a few hundred KB whatever the block). No BLAS call: its
        threads would spin against the compressing ones."""
        for i, band in enumerate(data, start=band0):
            n, total, squares = _moments(band)
            if n == 0:
                continue
            low, high = (
                float(np.fmin.reduce(band, axis=None)),
                float(np.fmax.reduce(band, axis=None)),
            )
            with self._lock:
                self.count[i] += n
                self.total[i] += total
                self.squares[i] += squares
                self.low[i] = min(self.low[i], low)
                self.high[i] = max(self.high[i], high)

    def write(self, dst: DatasetWriter) -> None:
        """The ``STATISTICS_*`` tags of every band with data (not of alpha bands)."""
        interp = list(dst.colorinterp)
        for i in range(len(self.count)):
            n = int(self.count[i])
            if not n or interp[i] == ColorInterp.alpha:
                continue
            mean = self.total[i] / n
            std = math.sqrt(max(self.squares[i] / n - mean * mean, 0.0))
            dst.update_tags(
                i + 1,
                STATISTICS_MINIMUM=f"{self.low[i]:.14g}",
                STATISTICS_MAXIMUM=f"{self.high[i]:.14g}",
                STATISTICS_MEAN=f"{mean:.14g}",
                STATISTICS_STDDEV=f"{std:.14g}",
                STATISTICS_VALID_PERCENT=f"{100.0 * n / self.pixels:.4g}",
            )


def _moments(band: np.ndarray) -> tuple[int, float, float]:
    """Count, sum and sum of squares (float64) of the values of ``band`` that are not NaN."""
    rows = max(1, 2**15 // max(band.shape[1], 1))
    buf = np.empty(rows * band.shape[1], np.float64)
    n, total, squares = 0, 0.0, 0.0
    for top in range(0, band.shape[0], rows):
        strip = band[top : top + rows]
        v = buf[: strip.size].reshape(strip.shape)
        np.copyto(v, strip)
        missing = np.isnan(v)
        gaps = int(np.count_nonzero(missing))
        if gaps:
            v[missing] = 0.0
        n += strip.size - gaps
        total += float(np.add.reduce(v, axis=None))
        np.multiply(v, v, out=v)
        squares += float(np.add.reduce(v, axis=None))
    return n, total, squares


class CogStream:
    """Tiles of a ``(bands, height, width)`` raster, compressed as they arrive.

    ``factors`` are the overview factors (2, 4, ...): each level is fed by the tiles of the
    level above it as they complete (:class:`~s2raster._coglevels.Level`).
    """

    def __init__(
        self,
        shape: tuple[int, int, int],
        dtype: np.dtype[np.generic],
        *,
        block: int,
        codec: Codec,
        workdir: Path,
        factors: list[int],
    ) -> None:
        self.shape, self.ndim, self.dtype = shape, 3, np.dtype(dtype)
        self.workdir = workdir
        self.spool = Spool(workdir / "tiles.bin")
        shapes = [shape]
        for _ in factors:
            shapes.append(_halved(shapes[-1]))
        child: Level | None = None
        self.levels: list[Level] = []
        for index in reversed(range(len(shapes))):  # smallest first: each needs its child
            staging = workdir / f"level{index}.raw"
            child = Level(shapes[index], self.dtype, block, self.spool, codec, staging,
                          child=child)  # fmt: skip
            self.levels.insert(0, child)
        self.stats = BandStats(shape[0], shape[1] * shape[2])
        self._active = 0
        self._closed = False
        self._cond = threading.Condition()

    # -- the dask.array.store target ------------------------------------------------------
    def __setitem__(self, key: tuple[slice, slice, slice], value: np.ndarray) -> None:
        bands, rows, cols = (k.indices(n)[0] for k, n in zip(key, self.shape, strict=True))
        with self._cond:
            if self._closed:  # a late block of a failed store: dropped
                return
            self._active += 1
        try:
            self.write(rows, cols, np.asarray(value, dtype=self.dtype), bands)
        finally:
            with self._cond:
                self._active -= 1
                self._cond.notify_all()

    def write(self, top: int, left: int, data: np.ndarray, band0: int = 0) -> None:
        """Add the block ``data`` (bands ``band0 ..``, h, w) at ``(top, left)``."""
        self.levels[0].write(top, left, data, band0)
        self.stats.add(data, band0)

    def close(self) -> None:
        """Wait for the blocks being written, then drop any later one (after a failure)."""
        with self._cond:
            self._closed = True
            self._cond.wait_for(lambda: self._active == 0)

    # -- the end ------------------------------------------------------------------------------
    def finish(self, template: Callable[[Path], None], out: Path) -> None:
        """Write the GDAL template (``template(path)`` writes it) and the COG ``out``."""
        if not all(level.complete() for level in self.levels):
            raise RuntimeError("the raster was not written whole")
        for level in self.levels:  # no part is staged any more: drop the files' pages
            level.close()
        path = self.workdir / "template.tif"
        template(path)
        layouts = [_layout(level) for level in self.levels]
        assemble(path, layouts, self.spool.fd, out)

    def cleanup(self) -> None:
        """Close the temporary files (the folder itself is removed by the caller)."""
        for level in self.levels:
            level.close()
        self.spool.close()


def _halved(shape: tuple[int, int, int]) -> tuple[int, int, int]:
    bands, height, width = shape
    return bands, math.ceil(height / 2), math.ceil(width / 2)


def _layout(level: Level) -> LevelLayout:
    order = [
        level.tiles[(band, r, c)]
        for band in range(level.bands)
        for r in range(level.rows)
        for c in range(level.cols)
    ]
    return LevelLayout(level.width, level.height, level.block, order)
