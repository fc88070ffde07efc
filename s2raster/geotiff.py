"""The one module that reads GeoTIFFs (rasterio); the write side is :mod:`s2raster.cog`.

:func:`read_tile` reads one Process API response of the client's evalscript (the asked
bands + ``dataMask`` last, FLOAT32 or UINT16), checks its CRS, transform and shape against
the tile grid that was asked for, turns UINT16 DN into float32 values (``DN / divisor`` in
float64, then cast: the FLOAT32 response's values bit for bit) and pixels with
``dataMask == 0`` into NaN.
:func:`read_raster` reads any other response (a single TIFF or a multi-output tar) as is.
"""

from __future__ import annotations

import io
import json
import tarfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import rasterio
import rasterio.errors
from affine import Affine
from rasterio.errors import RasterioError
from rasterio.io import DatasetReader, MemoryFile

from s2raster.contract import (
    SYNTHETIC_TAG,
)
from s2raster.errors import ResponseError
from s2raster.grid import Grid

__all__ = [
    "RasterData",
    "TileData",
    "read_raster",
    "read_tile",
]

#: Bytes of the strip buffer :func:`read_tile` reads through.
_STRIP_BYTES = 8 << 20
#: Transform coefficients may differ from the grid's by this many pixels.
TRANSFORM_TOLERANCE_PX = 1e-6

_TIFF_MAGIC = (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")
#: Coordinates may stray from a regular lattice by this fraction of a pixel.
#: Attribute keys never copied into a file.


@dataclass(frozen=True)
class TileData:
    """One tile read by :func:`read_tile`: float32 ``(band, y, x)`` with NaN where no data."""

    data: np.ndarray
    tags: dict[str, str]
    synthetic: bool
    userdata: dict[str, Any] | None = None


@dataclass(frozen=True)
class RasterData:
    """A raster read by :func:`read_raster`, in the file's dtype, ``(band, y, x)``."""

    array: np.ndarray
    crs: str | None
    transform: Affine
    tags: dict[str, str]
    nodata: float | None
    descriptions: tuple[str | None, ...]
    userdata: dict[str, Any] | None = field(default=None)


def read_tile(
    content: bytes | bytearray | Path,
    grid: Grid,
    bands: Sequence[str],
    divisors: Sequence[float] | None = None,
) -> TileData:
    """Read a response of the client's evalscript for the tile ``grid``.

    ``content`` is a GeoTIFF or a tar holding ``default.tif`` (or a single ``.tif``) and
    perhaps ``userdata.json``, as bytes or as a file (a cached response, read from disk
    without loading its bytes). The file must hold ``len(bands) + 1`` bands (``dataMask``
    last) on exactly ``grid`` (EPSG code, transform within 1e-6 px, shape); anything else
    is a :class:`~s2raster.errors.ResponseError`. ``divisors`` (one per band) says the
    response is an integer (UINT16) one and what each band's integers are divided by.
    Returns float32 ``(len(bands), h, w)`` with NaN where ``dataMask == 0``.
    """
    scale = None if divisors is None else tuple(float(d) for d in divisors)
    if scale is not None and len(scale) != len(bands):
        raise ValueError(f"{len(scale)} divisors for {len(bands)} bands")
    if isinstance(content, Path):
        if _is_tiff_file(content):
            return _read_tile_file(content, grid, bands, scale)
        content = content.read_bytes()
    tif, userdata = _unpack(bytes(content))  # GDAL's memory file takes bytes only
    with MemoryFile(tif) as mem:
        return _read_tile_file(mem.name, grid, bands, scale, userdata)


def _read_tile_file(
    path: Path | str,
    grid: Grid,
    bands: Sequence[str],
    divisors: tuple[float, ...] | None,
    userdata: dict[str, Any] | None = None,
) -> TileData:
    n = len(bands)
    try:
        with rasterio.open(path) as src:
            _check_grid(src, grid, n + 1)
            _check_dtype(src, divisors)
            tags = src.tags()
            shape = (src.height, src.width)
        if divisors is None:
            data = _read_masked(path, n, shape)
        else:
            data = _read_scaled(path, divisors, shape)
    except RasterioError as exc:
        raise ResponseError(
            f"response is not a readable GeoTIFF ({_describe(exc)}); retry the request"
        ) from exc
    return TileData(data, tags, tags.get(SYNTHETIC_TAG) == "1", userdata)


def _is_tiff_file(path: Path) -> bool:
    try:
        with path.open("rb") as f:
            return f.read(4) in _TIFF_MAGIC
    except OSError as exc:
        raise ResponseError(f"cannot read the cached response {path}: {exc}") from exc


def _read_masked(path: Path | str, n: int, shape: tuple[int, int]) -> np.ndarray:
    """The first ``n`` bands as float32, NaN where band ``n + 1`` (dataMask) is 0.

    Read in strips of rows through a small buffer, so only the result is ever allocated
    in full (not the ``n + 1`` bands): a tile in flight costs its own size, no more.
    """
    height, width = shape
    out = np.empty((n, height, width), dtype=np.float32)
    rows = max(1, _STRIP_BYTES // (4 * (n + 1) * width))
    buf = np.empty((n + 1, min(rows, height), width), dtype=np.float32)
    for src, top, h in _strips(path, height, rows):
        part = buf[:, :h]
        src.read(out=part, window=((top, top + h), (0, width)), out_dtype="float32")
        np.copyto(part[:n], np.float32(np.nan), where=(part[n] == 0)[np.newaxis])
        out[:, top : top + h] = part[:n]
    return out


def _strips(path: Path | str, height: int, rows: int) -> Iterator[tuple[DatasetReader, int, int]]:
    """``(dataset, top, rows)`` for each strip of ``rows`` rows, the file opened anew for
    each: GDAL keeps every decoded block of an open dataset in its (process-wide, 5 % of
    RAM) block cache, so one open read of a whole response would hold the response a
    second time, decoded (a 2500 x 2500 px, 5-band tile: peak 307 -> 194 MB; no slower)."""
    for top in range(0, height, rows):
        with rasterio.open(path) as src:
            yield src, top, min(rows, height - top)


def _check_dtype(src: DatasetReader, divisors: tuple[float, ...] | None) -> None:
    kind = np.dtype(src.dtypes[0]).kind
    if divisors is not None and kind not in "ui":
        raise ResponseError(
            f"response is {src.dtypes[0]}, the request asked for UINT16: a service or cache "
            "fault (clear the cache entry and retry)"
        )


def _read_scaled(
    path: Path | str, divisors: tuple[float, ...], shape: tuple[int, int]
) -> np.ndarray:
    """Integer bands as float32 ``DN / divisor`` (float64 division, then one rounding to
    float32, so each value equals the service's FLOAT32 one), NaN where dataMask is 0.

    Division by 10000 is done in float64 and cast once: for integers below 2**24 that
    is the correctly rounded float32 quotient, the value a FLOAT32 response carries.
    """
    n = len(divisors)
    height, width = shape
    out = np.empty((n, height, width), dtype=np.float32)
    rows = max(1, _STRIP_BYTES // (8 * (n + 1) * width))
    for src, top, h in _strips(path, height, rows):
        part = src.read(window=((top, top + h), (0, width)), out_dtype="float64")
        for b, divisor in enumerate(divisors):
            if divisor != 1.0:
                np.divide(part[b], divisor, out=part[b])
        np.copyto(part[:n], np.nan, where=(part[n] == 0)[np.newaxis])
        out[:, top : top + h] = part[:n]
    return out


def read_raster(content: bytes) -> RasterData:
    """Read any GeoTIFF response (or multi-output tar) as is: array, georeferencing, tags."""
    tif, userdata = _unpack(content)
    try:
        with MemoryFile(tif) as mem, mem.open() as src:
            array = src.read()
            crs = _epsg_string(src)
            return RasterData(
                array,
                crs if crs is not None else (src.crs.to_wkt() if src.crs else None),
                src.transform,
                src.tags(),
                src.nodata,
                tuple(src.descriptions),
                userdata,
            )
    except RasterioError as exc:
        raise ResponseError(f"response is not a readable GeoTIFF ({_describe(exc)})") from exc


def is_tar(content: bytes) -> bool:
    """Whether ``content`` is a ustar archive (a multi-output Process API response)."""
    return len(content) >= 262 and content[257:262] == b"ustar"


def _unpack(content: bytes) -> tuple[bytes, dict[str, Any] | None]:
    """The TIFF bytes of a response, and its parsed ``userdata.json`` (tar only)."""
    if content[:4] in _TIFF_MAGIC:
        return content, None
    if not is_tar(content):
        head = bytes(content[:16])
        raise ResponseError(
            f"response is neither a TIFF nor a tar ({len(content)} bytes starting {head!r}); "
            "ask for image/tiff output"
        )
    try:
        with tarfile.open(fileobj=io.BytesIO(content), mode="r:") as tar:
            members = {m.name: m for m in tar.getmembers() if m.isfile()}
            tif = _read_member(tar, _pick_tif(members))
            meta = members.get("userdata.json")
            userdata = json.loads(_read_member(tar, meta)) if meta else None
    except (tarfile.TarError, json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ResponseError(f"multi-output (tar) response is damaged: {exc}") from exc
    return tif, userdata


def _pick_tif(members: dict[str, tarfile.TarInfo]) -> tarfile.TarInfo:
    if "default.tif" in members:
        return members["default.tif"]
    tifs = [m for name, m in members.items() if name.lower().endswith((".tif", ".tiff"))]
    if len(tifs) != 1:
        raise ResponseError(
            f"tar response holds {len(tifs)} TIFFs ({sorted(members)}) and no default.tif; "
            "name the wanted output 'default' in the evalscript"
        )
    return tifs[0]


def _read_member(tar: tarfile.TarFile, member: tarfile.TarInfo) -> bytes:
    f = tar.extractfile(member)
    if f is None:  # pragma: no cover - members are regular files
        raise ResponseError(f"cannot read {member.name} from the tar response")
    return f.read()


def _epsg_string(src: DatasetReader) -> str | None:
    if src.crs is None:
        return None
    epsg = src.crs.to_epsg()
    return f"EPSG:{epsg}" if epsg is not None else None


def _check_grid(src: DatasetReader, grid: Grid, count: int) -> None:
    """Raise ResponseError naming every way ``src`` differs from ``grid`` / ``count``."""
    problems = []
    crs = _epsg_string(src)
    if crs != grid.crs:
        problems.append(f"CRS {crs or src.crs} instead of {grid.crs}")
    shape = (src.count, src.height, src.width)
    if shape != (count, grid.height, grid.width):
        problems.append(
            f"shape (bands, rows, cols) {shape} instead of {(count, grid.height, grid.width)}"
        )
    tol = TRANSFORM_TOLERANCE_PX * min(grid.res)
    got, want = tuple(src.transform)[:6], tuple(grid.transform)[:6]
    if any(abs(g - w) > tol for g, w in zip(got, want, strict=True)):
        problems.append(f"transform {got} instead of {want}")
    if problems:
        raise ResponseError(
            "response does not match the requested tile: "
            + "; ".join(problems)
            + " (a service or cache fault: clear the cache entry and retry)"
        )


def _describe(exc: BaseException) -> str:
    """The message of ``exc`` and of its cause (GDAL puts the detail in the cause)."""
    cause = exc.__cause__ or exc.__context__
    text = str(exc)
    return f"{text}: {cause}" if cause is not None and str(cause) not in text else text
