"""Writing GeoTIFFs and Cloud-Optimized GeoTIFFs block by block, atomically.

The array (numpy or dask, ``(band, y, x)``) is computed and written window by window
into a tiled GeoTIFF in a hidden temporary folder beside the target, overviews are built
on disk, the COG driver copies it into its final layout (streaming from disk), and the
result is renamed onto the target. Peak memory stays near a few chunks plus the bounded
GDAL block cache, whatever the area; a failure leaves neither the target nor temp files.
"""

from __future__ import annotations

import math
import os
import threading
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, cast

import numpy as np
import rasterio
import rasterio.shutil
import xarray as xr
from affine import Affine
from rasterio.crs import CRS
from rasterio.enums import Resampling
from rasterio.io import DatasetWriter
from rasterio.windows import Window

from s2raster.errors import ExportError, InputError, S2RasterError
from s2raster.output import check_output_path, temp_folder
from s2raster.tags import (
    BandMeta,
    band_metadata,
    export_tags,
    is_sentinel2_band,
    write_band_metadata,
    write_statistics,
)
from s2raster.xr import georeference

__all__ = ["overview_factors", "write_geotiff"]

#: GDAL block cache while writing (MB): bounds memory whatever the raster size.
CACHE_MB = 32
#: Above this many samples (pixels x bands) statistics are computed from the overviews.
EXACT_STATS_SAMPLES = 100_000_000
#: Largest strip of a numpy array handed to GDAL at once (bytes).
_STRIP_BYTES = 64 * 2**20
_CODECS = {"DEFLATE", "LZW", "ZSTD", "LZMA", "NONE", "PACKBITS", "LERC", "LERC_DEFLATE"}
_PREDICTOR_CODECS = {"DEFLATE", "LZW", "ZSTD", "LZMA"}
_COG_PREDICTOR = {1: "NO", 2: "STANDARD", 3: "FLOATING_POINT"}
_LEVEL_OPTION = {"DEFLATE": "ZLEVEL", "ZSTD": "ZSTD_LEVEL", "LZMA": "LZMA_PRESET"}


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
    3 floating point) defaults to 3 for float data other than Sentinel-2 bands (indices:
    about 19 % smaller) and none otherwise (reflectance, multiples of 1e-4, compresses
    18-30 % worse with it; ``benchmarks/bench_predictor.py``);
    ``level`` is the codec's effort (DEFLATE 1-12, default 6: 1 halves the CPU time for
    files about 2 % larger).
    The write is atomic: on any failure neither ``path`` nor temporary files remain.
    """
    _check_options(cog, blocksize, overviews, num_threads)
    da = _prepare(da)
    crs, transform = georeference(da)
    names = _band_names(da, band_names)
    if predictor is None:
        predictor = default_predictor(da, names)
    compression = _compression(compress, predictor, level, cog)
    creation = _creation_options(compression, blocksize, overviews, cog, num_threads)
    target = check_output_path(path, param="path", nbytes=da.nbytes * 4 // 3)
    try:
        with (
            temp_folder(target) as workdir,
            rasterio.Env(GDAL_CACHEMAX=CACHE_MB, GDAL_NUM_THREADS=str(num_threads)),
        ):
            raw = workdir / "raw.tif"
            with rasterio.open(raw, "w", **_raw_profile(da, crs, transform, blocksize)) as dst:
                _write_data(da, dst)
                extra = tags() if callable(tags) else tags
                _describe(
                    dst, band_metadata(da, names), export_tags(da.attrs, extra, n_bands=len(names))
                )
            if overviews:
                _build_overviews(raw, blocksize)
            _statistics(raw)
            final = workdir / "final.tif"
            rasterio.shutil.copy(raw, final, driver="COG" if cog else "GTiff", **creation)
            final.replace(target)
    except rasterio.errors.RasterioError as exc:
        raise ExportError(f"cannot write {target}: {exc}") from exc
    except S2RasterError:
        raise
    except OSError as exc:  # e.g. the disk filled up while writing
        raise ExportError(f"cannot write {target}: {exc}; check the space and the folder") from exc
    return target


def default_predictor(da: xr.DataArray, names: Sequence[str]) -> int | None:
    """3 (floating point) for float data unless every band is a Sentinel-2 band (whose
    reflectance, a multiple of 1e-4, compresses better without a predictor); else None."""
    if np.dtype(da.dtype).kind != "f":
        return None
    return None if all(is_sentinel2_band(name) for name in names) else 3


def _check_options(cog: object, blocksize: object, overviews: object, num_threads: object) -> None:
    """Refuse wrong types and ranges of the writing options (before anything is computed)."""
    for name, value in (("cog", cog), ("overviews", overviews)):
        if not isinstance(value, (bool, np.bool_)):
            raise InputError(f"{name} must be True or False, got {value!r}")
    if (
        isinstance(blocksize, bool)
        or not isinstance(blocksize, int)
        or blocksize < 16
        or blocksize % 16
    ):
        raise InputError(
            f"blocksize must be a positive multiple of 16 (e.g. 512), got {blocksize!r}"
        )
    threads_ok = num_threads == "ALL_CPUS" or (
        isinstance(num_threads, int) and not isinstance(num_threads, bool) and num_threads >= 1
    )
    if not threads_ok:
        raise InputError(
            f"num_threads must be a positive integer or 'ALL_CPUS', got {num_threads!r}"
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
    codec = compress.upper() if isinstance(compress, str) else repr(compress)
    if codec not in _CODECS:
        raise InputError(f"unknown compression {codec!r}; use one of {sorted(_CODECS)}")
    if predictor is not None and (isinstance(predictor, bool) or predictor not in (1, 2, 3)):
        raise InputError(
            f"predictor must be 1, 2 or 3 (or None for the default), got {predictor!r}"
        )
    if level is not None and (
        isinstance(level, bool) or not isinstance(level, int) or not 0 <= level <= 22
    ):
        raise InputError(f"level must be a whole number (DEFLATE 1-12), got {level!r}")
    options: dict[str, Any] = {"COMPRESS": codec}
    if predictor is not None and codec in _PREDICTOR_CODECS:
        options["PREDICTOR"] = _COG_PREDICTOR[predictor] if cog else predictor
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
        if isinstance(band_names, (str, bytes)) or not isinstance(band_names, Sequence):
            raise InputError(f"band_names must be a list of names, got {band_names!r}")
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


def _describe(dst: DatasetWriter, bands: Sequence[BandMeta], meta: Mapping[str, str]) -> None:
    write_band_metadata(dst, bands)
    if meta:
        dst.update_tags(**meta)


def _statistics(path: Path) -> None:
    """Band statistics in the file: exact up to :data:`EXACT_STATS_SAMPLES` samples, else
    from the overviews (GDAL marks them ``STATISTICS_APPROXIMATE=YES``)."""
    with rasterio.open(path, "r+") as dst:
        write_statistics(dst, approx=dst.width * dst.height * dst.count > EXACT_STATS_SAMPLES)


def _write_data(da: xr.DataArray, dst: DatasetWriter) -> None:
    data = da.data
    if isinstance(data, np.ndarray):
        _write_numpy(data, dst)
        return
    import dask.array as dsa

    target = _Target(dst)
    try:
        dsa.store(data, cast(Any, target), lock=False, scheduler="threads")
    finally:
        # When a chunk fails, dask raises here while pool threads may still be storing
        # others: no write may touch the dataset once it is closed.
        target.close()


def _write_numpy(data: np.ndarray, dst: DatasetWriter) -> None:
    row_bytes = max(data.shape[0] * data.shape[2] * data.dtype.itemsize, 1)
    step = max(_STRIP_BYTES // row_bytes, 1)
    for row in range(0, data.shape[1], step):
        strip = data[:, row : row + step]
        window = Window(0, row, data.shape[2], strip.shape[1])
        dst.write(np.ascontiguousarray(strip, dtype=dst.dtypes[0]), window=window)


class _Target:
    """A dask.array.store target that writes each block into its window, one at a time.

    GDAL datasets are not thread-safe: writes are serialised by ``lock``, and after
    :meth:`close` (taken under the same lock) late writes are dropped, never sent to GDAL.
    """

    def __init__(self, dst: DatasetWriter) -> None:
        self.dst = dst
        self.shape = (dst.count, dst.height, dst.width)
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
