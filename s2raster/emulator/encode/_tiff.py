"""GeoTIFF bytes as the Process API writes them, marked synthetic.

Request CRS, pixel-is-area, origin (minx, maxy) and pixel size extent/size (the
``transform`` the caller builds), pixel-interleaved strips, Deflate, the sampleType's
dtype, and no nodata tag unless the output sets ``nodataValue``.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import numpy.typing as npt
from affine import Affine
from rasterio.crs import CRS
from rasterio.dtypes import in_dtype_range
from rasterio.errors import NotGeoreferencedWarning
from rasterio.io import MemoryFile

from s2raster.emulator.errors import EvalscriptError

#: Dataset tags of every file the emulator writes (see CONTRACTS, synthetic-data marking).
SYNTHETIC_TAGS = {
    "S2RASTER_SYNTHETIC": "1",
    "S2RASTER_SOURCE": "s2raster emulator (synthetic data, not Sentinel-2 observations)",
}
SOFTWARE = "s2raster-emulator"
#: Deflate level 1: several times faster than the default 6 for a few percent more bytes.
ZLEVEL = 1
#: Uncompressed bytes per strip: GDAL's default (~8 KiB) compresses worse for no speed gain.
STRIP_BYTES = 1 << 20
#: GDAL threads compressing strips in parallel (about halves the time on an idle machine).
NUM_THREADS = 2


def tiff_bytes(
    data: npt.NDArray[Any],
    crs: str | CRS,
    transform: Affine,
    *,
    nodata: float | None = None,
    output_id: str = "default",
) -> bytes:
    """Encode ``data`` ``(bands, h, w)`` as a GeoTIFF in ``crs`` with ``transform``."""
    count, height, width = data.shape
    if count < 1:
        raise EvalscriptError(f"Output {output_id!r} has no bands to write.")
    profile: dict[str, Any] = {
        "driver": "GTiff",
        "width": width,
        "height": height,
        "count": count,
        "dtype": data.dtype.name,
        "crs": CRS.from_user_input(crs),
        "transform": transform,
        "interleave": "pixel",
        "compress": "deflate",
        "zlevel": ZLEVEL,
        "blockysize": max(1, min(height, STRIP_BYTES // (width * count * data.dtype.itemsize))),
        "num_threads": NUM_THREADS,
    }
    if nodata is not None:
        if not (np.isnan(nodata) or in_dtype_range(nodata, data.dtype.name)):
            raise EvalscriptError(
                f"Output {output_id!r}: nodataValue {nodata:g} does not fit sampleType "
                f"{data.dtype.name.upper()}; choose a value inside its range."
            )
        profile["nodata"] = nodata
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NotGeoreferencedWarning)
        with MemoryFile() as memfile:
            with memfile.open(**profile) as dst:
                dst.update_tags(AREA_OR_POINT="Area", TIFFTAG_SOFTWARE=SOFTWARE, **SYNTHETIC_TAGS)
                dst.write(data)
            return bytes(memfile.read())
