"""Writing GeoTIFFs and Cloud-Optimized GeoTIFFs block by block, atomically.

The array (numpy or dask, ``(band, y, x)``) is computed block by block (on the threaded
scheduler, or on the ``distributed`` cluster of the current client) and written in a hidden
temporary folder beside the target, then renamed onto it; a failure leaves neither the
target nor temp files. Two ways, by codec:

- a COG in DEFLATE (or uncompressed) without predictor, the default, is *streamed*
  (:mod:`s2raster._cogstream`): every tile is compressed as soon as its pixels are in, by
  the task that brought them (in parallel, while other tiles download), overview level 1
  is averaged from each block as it arrives, and at the end the compressed tiles are
  copied into the COG layout under GDAL-written metadata: nothing is compressed twice;
- any other codec, predictor or a plain GeoTIFF goes through GDAL: an uncompressed tiled
  intermediate, overviews built on it, and the COG (or GTiff) driver's copy.

Peak memory stays near a few blocks plus the bounded GDAL block cache, whatever the area.
"""

from __future__ import annotations

import math
import os
import shutil
import tempfile
import threading
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import rasterio
import rasterio.shutil
import xarray as xr
from affine import Affine
from rasterio.crs import CRS
from rasterio.enums import Resampling
from rasterio.io import DatasetWriter
from rasterio.windows import Window

from s2raster._coglevels import Codec
from s2raster._cogstream import CogStream, even_blocks
from s2raster._feed import feed
from s2raster.errors import ExportError, InputError, S2RasterError
from s2raster.tags import band_tags, export_tags
from s2raster.xr import georeference

__all__ = ["overview_factors", "write_geotiff"]

#: GDAL block cache while writing (MB): bounds memory whatever the raster size.
CACHE_MB = 32
#: Largest strip of a numpy array handed to GDAL at once (bytes).
_STRIP_BYTES = 64 * 2**20
_CODECS = {"DEFLATE", "LZW", "ZSTD", "LZMA", "NONE", "PACKBITS", "LERC", "LERC_DEFLATE"}
_PREDICTOR_CODECS = {"DEFLATE", "LZW", "ZSTD", "LZMA"}
_COG_PREDICTOR = {1: "NO", 2: "STANDARD", 3: "FLOATING_POINT"}
_LEVEL_OPTION = {"DEFLATE": "ZLEVEL", "ZSTD": "ZSTD_LEVEL", "LZMA": "LZMA_PRESET"}
#: DEFLATE effort when ``level`` is not given: on band-interleaved Sentinel-2 reflectance,
#: level 1 files are within 1 % of level 6's at a fifth of the CPU (bench_export --codecs).
DEFAULT_LEVEL = 1


def write_geotiff(
    da: xr.DataArray,
    path: str | os.PathLike[str],
    *,
    cog: bool = True,
    band_names: Sequence[str] | None = None,
    tags: Mapping[str, Any] | Callable[[], Mapping[str, Any]] | None = None,
    compress: str = "DEFLATE",
    blocksize: int = 512,
    overviews: bool = True,
    predictor: int | None = None,
    level: int | None = None,
    num_threads: int | str = "ALL_CPUS",
) -> Path:
    """Write the ``(band, y, x)`` DataArray ``da`` (numpy or dask) to ``path``; return it.

    CRS and transform come from the ``spatial_ref`` coordinate and the pixel-centre
    ``x``/``y`` coordinates; band descriptions from ``band_names`` or the ``band``
    coordinate; dataset tags from plain ``attrs`` plus ``tags`` (never credential-like
    keys), with the synthetic-data mark when ``attrs["synthetic"] == 1``; band tags from the
    coordinates along ``band`` (each index's ``formula`` of an index stack); ``tags`` may be a
    function, called once the pixels are written (e.g. to record what computing them
    cost). Float data gets
    nodata NaN. ``cog=True`` writes a Cloud-Optimized GeoTIFF, else a tiled GeoTIFF; both
    with average overviews unless ``overviews=False``. ``predictor`` (1 none, 2 integer,
    3 floating point) defaults to none: on Sentinel-2 reflectance it compresses best;
    ``level`` is the codec's effort (DEFLATE 1-12, default 1: on band-interleaved reflectance
    its files are within about 1 % of level 6's for a fifth of the CPU; other codecs: the
    driver's default). A COG in DEFLATE or uncompressed without predictor is written
    band-interleaved, its tiles compressed while the array is computed.
    The write is atomic: on any failure neither ``path`` nor temporary files remain.
    """
    target = Path(path)
    if blocksize < 16 or blocksize % 16:
        raise InputError(f"blocksize must be a positive multiple of 16 (e.g. 512), got {blocksize}")
    da = _prepare(da)
    crs, transform = georeference(da)
    names = _band_names(da, band_names)
    compression = _compression(compress, predictor, level, cog)
    creation = _creation_options(compression, blocksize, overviews, cog, num_threads)
    _check_folder(target, da.nbytes)
    workdir = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))

    def meta() -> dict[str, str]:  # after the pixels: ``tags`` may record what they cost
        return export_tags(da.attrs, tags() if callable(tags) else tags)

    try:
        with rasterio.Env(GDAL_CACHEMAX=CACHE_MB, GDAL_NUM_THREADS=str(num_threads)):
            final = workdir / "final.tif"
            codec = _stream_codec(compression) if cog else None
            if codec is not None:
                _write_streamed(da, final, (crs, transform), names, meta, blocksize,
                                overviews, codec, workdir)  # fmt: skip
            else:
                raw = workdir / "raw.tif"
                profile = _raw_profile(da, crs, transform, blocksize)
                with rasterio.open(raw, "w", **profile) as dst:
                    feed(da.data, _Target(dst), strip_rows=_strip_rows(da, 1))
                    _describe(dst, names, meta(), band_tags(da))
                if overviews:
                    _build_overviews(raw, blocksize)
                rasterio.shutil.copy(raw, final, driver="COG" if cog else "GTiff", **creation)
        final.replace(target)
    except (rasterio.errors.RasterioError, OSError) as exc:
        if isinstance(exc, S2RasterError):  # a failed download (ServiceError...) stays itself
            raise
        raise ExportError(f"cannot write {target}: {exc}") from exc
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return target


def _check_folder(target: Path, nbytes: int) -> None:
    """The folder exists and has room for the uncompressed intermediate file (+ overviews)."""
    if not target.parent.is_dir():
        raise ExportError(f"cannot write {target}: folder {target.parent} does not exist")
    need, free = nbytes * 4 // 3, shutil.disk_usage(target.parent).free
    if free < need:
        raise ExportError(
            f"cannot write {target}: it needs about {need / 1e9:.1f} GB of temporary space "
            f"beside it, {free / 1e9:.1f} GB are free; free space or write elsewhere"
        )


def _raw_profile(da: xr.DataArray, crs: CRS, transform: Affine, blocksize: int) -> dict[str, Any]:
    """The intermediate file: uncompressed and band-interleaved, so overviews build fast."""
    dtype = np.dtype(da.dtype)
    return {
        "driver": "GTiff",
        "width": da.sizes["x"],
        "height": da.sizes["y"],
        "count": da.sizes["band"],
        "dtype": dtype.name,
        "crs": crs,
        "transform": transform,
        "nodata": np.nan if dtype.kind == "f" else None,
        "tiled": True,
        "blockxsize": blocksize,
        "blockysize": blocksize,
        "interleave": "band",
        "BIGTIFF": "IF_SAFER",
    }


def _compression(
    compress: str, predictor: int | None, level: int | None, cog: bool
) -> dict[str, Any]:
    """COMPRESS, PREDICTOR and the level option in the spelling of the COG or GTiff driver."""
    codec = compress.upper()
    if codec not in _CODECS:
        raise InputError(f"unknown compression {codec!r}; use one of {sorted(_CODECS)}")
    options: dict[str, Any] = {"COMPRESS": codec}
    if predictor is not None and codec in _PREDICTOR_CODECS:
        if predictor not in _COG_PREDICTOR:
            raise InputError(f"predictor must be 1, 2 or 3, got {predictor}")
        options["PREDICTOR"] = _COG_PREDICTOR[predictor] if cog else predictor
    if level is None and codec == "DEFLATE":
        level = DEFAULT_LEVEL
    if level is not None and codec in _LEVEL_OPTION:
        options["LEVEL" if cog else _LEVEL_OPTION[codec]] = level
    return options


def _creation_options(
    compression: dict[str, Any],
    blocksize: int,
    overviews: bool,
    cog: bool,
    num_threads: int | str,
) -> dict[str, Any]:
    options = {**compression, "BIGTIFF": "IF_SAFER", "NUM_THREADS": str(num_threads)}
    if cog:
        options["BLOCKSIZE"] = blocksize
        options["OVERVIEWS"] = "FORCE_USE_EXISTING" if overviews else "NONE"
        return options
    options |= {"TILED": "YES", "BLOCKXSIZE": blocksize, "BLOCKYSIZE": blocksize}
    options["COPY_SRC_OVERVIEWS"] = "YES" if overviews else "NO"
    return options


def _prepare(da: xr.DataArray) -> xr.DataArray:
    if not isinstance(da, xr.DataArray):
        raise InputError(f"write_geotiff needs an xarray.DataArray, got {type(da).__name__}")
    if set(da.dims) != {"band", "y", "x"}:
        raise InputError(
            f"write_geotiff needs dims (band, y, x), got {da.dims}; select one time step "
            "(da.isel(time=0)) or add a band dimension (da.expand_dims(band=[name]))"
        )
    da = da.transpose("band", "y", "x")
    if "y" in da.coords and da.sizes["y"] > 1 and da["y"].values[1] > da["y"].values[0]:
        da = da.isel(y=slice(None, None, -1))  # south-up: write north-up
    if da.dtype == bool:
        da = da.astype(np.uint8)
    return da


def _band_names(da: xr.DataArray, band_names: Sequence[str] | None) -> list[str]:
    if band_names is not None:
        names = [str(n) for n in band_names]
    elif "band" in da.coords and all(isinstance(v, str) for v in da.coords["band"].values):
        names = [str(v) for v in np.atleast_1d(da.coords["band"].values)]
    elif isinstance(da.attrs.get("long_name"), (tuple, list)):  # rioxarray's band names
        names = [str(v) for v in da.attrs["long_name"]]
    elif "band" in da.coords:
        names = [str(v) for v in np.atleast_1d(da.coords["band"].values)]
    else:
        names = [f"band_{i + 1}" for i in range(da.sizes["band"])]
    if len(names) != da.sizes["band"]:
        raise InputError(f"{len(names)} band names for {da.sizes['band']} bands: give one each")
    return names


def _describe(
    dst: DatasetWriter,
    names: Sequence[str],
    meta: Mapping[str, str],
    per_band: Sequence[Mapping[str, str]],
) -> None:
    for i, name in enumerate(names, start=1):
        dst.set_band_description(i, name)
    if meta:
        dst.update_tags(**meta)
    for i, band_meta in enumerate(per_band, start=1):
        if band_meta:
            dst.update_tags(i, **band_meta)


def _stream_codec(compression: Mapping[str, Any]) -> Codec | None:
    """The streamed path's codec for these COG options, or None (GDAL's path)."""
    name, level = compression["COMPRESS"], compression.get("LEVEL", DEFAULT_LEVEL)
    if name not in ("DEFLATE", "NONE") or compression.get("PREDICTOR", "NO") != "NO":
        return None
    return Codec(name, int(level))


def _write_streamed(
    da: xr.DataArray,
    final: Path,
    georef: tuple[CRS, Affine],
    names: Sequence[str],
    meta: Callable[[], Mapping[str, str]],
    blocksize: int,
    overviews: bool,
    codec: Codec,
    workdir: Path,
) -> None:
    """The COG through :class:`~s2raster._cogstream.CogStream` (see the module docstring)."""
    bands, height, width = (int(n) for n in da.shape)
    data = da.data
    stream = CogStream(
        (bands, height, width),
        np.dtype(da.dtype),
        block=blocksize,
        codec=codec,
        workdir=workdir,
        factors=overview_factors(height, width, blocksize) if overviews else [],
        even_blocks=isinstance(data, np.ndarray) or even_blocks(data.chunks),
    )

    def template(path: Path) -> None:
        profile = {**_raw_profile(da, *georef, blocksize), "width": 1, "height": 1}
        profile.update(tiled=False, compress=codec.name, BIGTIFF="NO")
        for key in ("blockxsize", "blockysize"):
            profile.pop(key)
        with rasterio.open(path, "w", **profile) as dst:
            _describe(dst, names, meta(), band_tags(da))
            if overviews:
                dst.update_tags(ns="rio_overview", resampling="average")

    try:
        feed(data, stream, strip_rows=_strip_rows(da, 2 * blocksize))
        stream.finish(template, final)
    finally:
        stream.cleanup()


def _strip_rows(da: xr.DataArray, multiple: int) -> int:
    """Rows of a numpy strip: about :data:`_STRIP_BYTES`, a multiple of ``multiple``."""
    row_bytes = max(da.shape[0] * da.shape[2] * np.dtype(da.dtype).itemsize, 1)
    return max(multiple, _STRIP_BYTES // row_bytes // multiple * multiple)


class _Target:
    """A dask.array.store target that writes each block into its window, one at a time.

    GDAL datasets are not thread-safe: writes are serialised by ``lock``, and after
    :meth:`close` (taken under the same lock) late writes are dropped, never sent to GDAL.
    """

    def __init__(self, dst: DatasetWriter) -> None:
        self.dst = dst
        self.shape: tuple[int, int, int] = (dst.count, dst.height, dst.width)
        self.dtype = np.dtype(dst.dtypes[0])
        self.ndim = 3
        self.lock = threading.Lock()
        self.closed = False

    def __setitem__(self, key: tuple[slice, slice, slice], value: np.ndarray) -> None:
        bands, rows, cols = (k.indices(n) for k, n in zip(key, self.shape, strict=True))
        window = Window(cols[0], rows[0], cols[1] - cols[0], rows[1] - rows[0])
        indexes = list(range(bands[0] + 1, bands[1] + 1))
        block = np.asarray(value, dtype=self.dtype)
        with self.lock:
            if not self.closed:
                self.dst.write(block, indexes=indexes, window=window)

    def close(self) -> None:
        """Wait for a write under way, then refuse any later one."""
        with self.lock:
            self.closed = True


def overview_factors(height: int, width: int, blocksize: int) -> list[int]:
    """Factors 2, 4, ... until the smallest overview fits in one block."""
    factors: list[int] = []
    factor = 1
    while math.ceil(max(height, width) / factor) > blocksize:
        factor *= 2
        factors.append(factor)
    return factors


def _build_overviews(path: Path, blocksize: int) -> None:
    with rasterio.open(path, "r+") as dst:
        factors = overview_factors(dst.height, dst.width, blocksize)
        if factors:
            dst.build_overviews(factors, Resampling.average)
            dst.update_tags(ns="rio_overview", resampling="average")
