"""The resolution levels of a COG being written: tiles compressed as soon as they are whole.

Private to :mod:`s2raster.cog` (its streaming path). A :class:`Level` receives blocks of
pixels in any order and from any thread (the dask tasks that computed them). A tile that a
block covers whole is compressed at once from the block; the parts of a tile that straddles
blocks wait in an append-only staging file (each part written once, read once) until the
last part arrives, then the tile is compressed. Compressed tiles (one per band:
band-interleaved, which compresses Sentinel-2 reflectance about 13 % better than pixel
interleave) go to a spool file shared by all levels; :mod:`s2raster._tiff` lays them out as
a COG at the end. DEFLATE is libdeflate's (the ``deflate`` package: the library GDAL's
DEFLATE uses, same levels 1-12, zlib streams); it releases the GIL, so tiles compress in
parallel, overlapping the downloads.

Overviews are averages of 2 x 2 pixels, no-data (NaN) left out, each level from the one
above it (as GDAL's ``AVERAGE``): every tile, once complete, is halved into the next level
by the thread that completed it, so all levels are made while the pixels arrive and none is
kept whole (tiles start on even rows and columns, whatever the blocks).
"""

from __future__ import annotations

import math
import os
import threading
from dataclasses import dataclass
from pathlib import Path

import deflate
import numpy as np

__all__ = ["Level", "Spool", "halve"]


class Spool:
    """An append-only file of compressed tiles; :meth:`append` returns where each went."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o600)
        self._size = 0
        self._lock = threading.Lock()

    def append(self, data: bytes | bytearray | memoryview) -> tuple[int, int]:
        """Write ``data``; return its ``(offset, size)``. Thread-safe (distinct offsets)."""
        with self._lock:
            offset = self._size
            self._size += len(data)
        os.pwrite(self._fd, data, offset)
        return offset, len(data)

    @property
    def fd(self) -> int:
        return self._fd

    def close(self) -> None:
        """Close the file (again: nothing)."""
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1


@dataclass(frozen=True)
class Codec:
    """How a tile's bytes are compressed: ``DEFLATE`` (a zlib stream, TIFF compression 8;
    ``level`` 1-12 as GDAL's) or ``NONE``; ``predictor`` 1 (none), 2 (horizontal
    differencing, integers) or 3 (floating point), as libtiff applies them to each row."""

    name: str
    level: int
    predictor: int = 1

    @property
    def tiff_code(self) -> int:
        return 8 if self.name == "DEFLATE" else 1

    def encode(self, data: np.ndarray) -> bytes | bytearray:
        """The tile ``data`` (one band, 2-D) as stored: predicted, then compressed."""
        raw = _predict(np.ascontiguousarray(data), self.predictor)
        if self.name != "DEFLATE":
            return raw.tobytes()
        return deflate.zlib_compress(raw, self.level)  # from the array's own buffer


def _predict(tile: np.ndarray, predictor: int) -> np.ndarray:
    """A 2-D tile (one band) with libtiff's predictor applied along each row."""
    if predictor == 1:
        return tile
    if predictor == 2:  # each sample minus the one before it (wrapping integers)
        diffs: np.ndarray = tile.copy()
        diffs[:, 1:] = tile[:, 1:] - tile[:, :-1]
        return diffs
    # 3: each row's bytes split into planes, most significant first (libtiff's fpDiff),
    # then each byte minus the one before it
    rows, cols = tile.shape
    size = tile.dtype.itemsize
    planes = tile.astype(tile.dtype.newbyteorder(">"), copy=False).view(np.uint8)
    planes = planes.reshape(rows, cols, size).transpose(0, 2, 1).reshape(rows, cols * size)
    out: np.ndarray = planes.copy()
    out[:, 1:] = planes[:, 1:] - planes[:, :-1]
    return out


class Level:
    """One resolution level: ``shape`` (bands, height, width) in tiles of ``block`` px.

    ``child`` is the next smaller level: each tile, once complete, is also halved into it
    (a tile starts on an even row and column, so its 2 x 2 averages are the level's own).
    """

    def __init__(
        self,
        shape: tuple[int, int, int],
        dtype: np.dtype[np.generic],
        block: int,
        spool: Spool,
        codec: Codec,
        staging: Path,
        *,
        child: Level | None = None,
    ) -> None:
        self.bands, self.height, self.width = shape
        self.dtype = np.dtype(dtype)
        self.block = block
        self.spool, self.codec, self.child = spool, codec, child
        self.rows, self.cols = math.ceil(self.height / block), math.ceil(self.width / block)
        self.fill = np.nan if self.dtype.kind == "f" else 0
        self._staging = Spool(staging)
        self._missing = {
            (r, c): self._area(r, c) * self.bands
            for r in range(self.rows)
            for c in range(self.cols)
        }
        self._locks = {key: threading.Lock() for key in self._missing}
        self._parts: dict[tuple[int, int], list[_Part]] = {}
        #: ``(band, row, col)`` -> ``(offset, size)`` of the compressed tile in the spool.
        self.tiles: dict[tuple[int, int, int], tuple[int, int]] = {}

    def _area(self, r: int, c: int) -> int:
        b = self.block
        return (min(b, self.height - r * b)) * (min(b, self.width - c * b))

    def write(self, top: int, left: int, data: np.ndarray, band0: int = 0) -> None:
        """Put ``data`` (bands ``band0 ..``, h, w) at ``(top, left)``; compress the tiles it
        completes. Each pixel of each band must be written once."""
        nb, h, w = data.shape
        b = self.block
        for r in range(top // b, math.ceil((top + h) / b)):
            for c in range(left // b, math.ceil((left + w) / b)):
                t0, l0 = r * b, c * b
                t1, l1 = min(t0 + b, self.height), min(l0 + b, self.width)
                y0, y1 = max(t0, top), min(t1, top + h)
                x0, x1 = max(l0, left), min(l1, left + w)
                part = data[:, y0 - top : y1 - top, x0 - left : x1 - left]
                if (y0, y1, x0, x1) == (t0, t1, l0, l1) and nb == self.bands:
                    self._missing[(r, c)] = 0
                    self._pass_down(r, c, self._complete(r, c, part))
                else:
                    self._stage(r, c, (band0, y0 - t0, x0 - l0), part)

    def _stage(self, r: int, c: int, at: tuple[int, int, int], part: np.ndarray) -> None:
        """Keep ``part`` of tile ``(r, c)`` on disk (written once, read once) until the
        tile's last part arrives; the thread that brings it completes the tile."""
        raw = np.ascontiguousarray(part)
        offset, _ = self._staging.append(raw.data.cast("B"))
        with self._locks[(r, c)]:
            self._parts.setdefault((r, c), []).append(_Part(at, raw.shape, offset))
            self._missing[(r, c)] -= raw.size
            done = self._missing[(r, c)] == 0
        if done:
            self._pass_down(r, c, self._complete(r, c, self._gather(r, c)))

    def _gather(self, r: int, c: int) -> np.ndarray:
        """The pixels of tile ``(r, c)`` inside the level, from its staged parts."""
        b = self.block
        h, w = min(b, self.height - r * b), min(b, self.width - c * b)
        pixels = np.empty((self.bands, h, w), self.dtype)  # every pixel is in some part
        for part in self._parts.pop((r, c)):
            (band0, dy, dx), (nb, ph, pw) = part.at, part.shape
            raw = os.pread(self._staging.fd, nb * ph * pw * self.dtype.itemsize, part.offset)
            pixels[band0 : band0 + nb, dy : dy + ph, dx : dx + pw] = np.frombuffer(
                raw, self.dtype
            ).reshape(nb, ph, pw)
        return pixels

    def _complete(self, r: int, c: int, pixels: np.ndarray) -> np.ndarray | None:
        """Compress tile ``(r, c)`` from its ``pixels`` (bands, h, w: the part of the tile
        inside the level), band by band; return their 2 x 2 averages if a level follows."""
        b = self.block
        for band, values in enumerate(pixels):
            if values.shape != (b, b):  # an edge tile: padded with no-data to the full tile
                padded = np.full((b, b), self.fill, self.dtype)
                padded[: values.shape[0], : values.shape[1]] = values
                values = padded
            self.tiles[(band, r, c)] = self.spool.append(self.codec.encode(values))
        return None if self.child is None else halve(pixels)

    def _pass_down(self, r: int, c: int, halved: np.ndarray | None) -> None:
        """Write a completed tile's averages into the next level (the tile itself is
        dropped by then: one tile per level is not held along the chain)."""
        if self.child is not None and halved is not None:
            self.child.write(r * self.block // 2, c * self.block // 2, halved)

    def complete(self) -> bool:
        return all(v == 0 for v in self._missing.values())

    def close(self) -> None:
        """Drop the staged parts (their pages are discarded, not written back) and close
        the staging file; again: nothing."""
        if self._staging.fd >= 0:
            os.ftruncate(self._staging.fd, 0)
            self._staging.close()


@dataclass(frozen=True)
class _Part:
    """A staged part of a tile: where it goes (band, row, column in the tile), its shape
    (bands, rows, columns) and where its bytes are in the staging file."""

    at: tuple[int, int, int]
    shape: tuple[int, ...]
    offset: int


def halve(data: np.ndarray) -> np.ndarray:
    """2 x 2 averages of ``data`` (bands, h, w), no-data (NaN) left out; an odd last row or
    column averages what it has. Integers are rounded to the nearest. Band by band, so the
    temporaries are a quarter of one band."""
    bands, h, w = data.shape
    out = np.empty((bands, (h + 1) // 2, (w + 1) // 2), data.dtype)
    for band in range(bands):
        out[band] = _halve_band(data[band])
    return out


def _halve_band(x: np.ndarray) -> np.ndarray:
    is_float = np.dtype(x.dtype).kind == "f"
    acc = x.dtype if is_float else np.dtype(np.float64)
    shape = ((x.shape[0] + 1) // 2, (x.shape[1] + 1) // 2)
    total = np.zeros(shape, acc)
    count = np.zeros(shape, np.uint8)
    for dy in (0, 1):
        for dx in (0, 1):
            q = x[dy::2, dx::2]
            window = (slice(0, q.shape[0]), slice(0, q.shape[1]))
            if is_float:
                valid = ~np.isnan(q)
                total[window] += np.where(valid, q, 0)
                count[window] += valid
            else:
                total[window] += q
                count[window] += 1
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = total / count  # 0 / 0: NaN where no pixel had data
    result: np.ndarray = (
        mean.astype(x.dtype, copy=False)
        if is_float
        else np.rint(np.nan_to_num(mean)).astype(x.dtype)
    )
    return result
