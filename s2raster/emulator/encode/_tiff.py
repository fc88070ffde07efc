"""GeoTIFF bytes shaped as the Process API writes them, marked synthetic.

What the service's files hold (read with tifffile from real answers,
``../shared/golden/sh-*.tiff``): big-endian; one image of pixel-interleaved strips of
about 24 KiB (rows per strip = 24576 // bytes per row: 8 rows of a 512 px, 3-band UINT16
image), compressed with the old-style Deflate code 32946 and no Predictor; width, height,
bits, samples and rows per strip as SHORT; PhotometricInterpretation RGB for a 3-band
integer output, else MinIsBlack (without ExtraSamples, as theirs); XResolution and
YResolution 1/1 with no unit; the sampleType's SampleFormat; GeoTIFF ModelPixelScale,
ModelTiepoint (origin at (minx, maxy), pixel size = extent / size) and GeoKeys of the
request's EPSG code, pixel-is-area, with a citation. No nodata tag unless the output
sets ``nodataValue`` (then GDAL_NODATA). The one addition: the synthetic marks, as
GDAL_METADATA items (``S2RASTER_SYNTHETIC=1``), which GDAL reads as dataset tags.
"""

from __future__ import annotations

import math
from typing import Any
from xml.sax.saxutils import escape

import numpy as np
import numpy.typing as npt
from affine import Affine
from pyproj import CRS
from pyproj.exceptions import CRSError
from rasterio.io import MemoryFile

from s2raster.emulator.encode._tiffio import ASCII, DOUBLE, RATIONAL, SHORT, Entry, tiff_file
from s2raster.emulator.errors import EvalscriptError

#: Dataset tags of every file the emulator writes (see CONTRACTS, synthetic-data marking).
SYNTHETIC_TAGS = {
    "S2RASTER_SYNTHETIC": "1",
    "S2RASTER_SOURCE": "s2raster emulator (synthetic data, not Sentinel-2 observations)",
}
SOFTWARE = "s2raster-emulator"
#: Uncompressed bytes per strip the service's files have (at least one row).
STRIP_BYTES = 24576
#: Deflate level 1: several times faster than the default 6 for a few percent more bytes.
ZLEVEL = 1
#: GDAL threads compressing strips in parallel.
NUM_THREADS = 2
COMPRESSION_DEFLATE = 32946
_FORMATS = {"u": 1, "i": 2, "f": 3}
_GDAL_METADATA, _GDAL_NODATA = 42112, 42113


def tiff_bytes(
    data: npt.NDArray[Any],
    crs: str,
    transform: Affine,
    *,
    nodata: float | None = None,
    output_id: str = "default",
) -> bytes:
    """Encode ``data`` ``(bands, h, w)`` as a GeoTIFF in ``crs`` ("EPSG:n") with ``transform``."""
    count, height, width = data.shape
    if count < 1:
        raise EvalscriptError(f"Output {output_id!r} has no bands to write.")
    dtype = data.dtype
    rows = max(1, min(height, STRIP_BYTES // (width * count * dtype.itemsize)))
    strips = _strips(data, rows)
    integer = dtype.kind in "ui"
    entries: list[Entry] = [
        (256, SHORT, [width]),
        (257, SHORT, [height]),
        (258, SHORT, [dtype.itemsize * 8] * count),
        (259, SHORT, [COMPRESSION_DEFLATE]),
        (262, SHORT, [2 if integer and count == 3 else 1]),
        (277, SHORT, [count]),
        (278, SHORT, [rows]),
        (282, RATIONAL, [1, 1]),
        (283, RATIONAL, [1, 1]),
        (296, SHORT, [1]),
        (339, SHORT, [_FORMATS[dtype.kind]] * count),
        *_georeferencing(crs, transform),
        (_GDAL_METADATA, ASCII, _gdal_metadata(SYNTHETIC_TAGS)),
    ]
    if nodata is not None:
        entries.append((_GDAL_NODATA, ASCII, _nodata_text(nodata, dtype, output_id)))
    return tiff_file(entries, strips)


def _strips(data: npt.NDArray[Any], rows: int) -> list[bytes]:
    """The big-endian, pixel-interleaved strips of ``rows`` rows, Deflate-compressed by
    GDAL (libdeflate, in threads: several times faster than Python's zlib), taken out of
    the TIFF GDAL wrote."""
    count, height, width = data.shape
    profile = {
        "driver": "GTiff", "width": width, "height": height, "count": count,
        "dtype": data.dtype.name, "interleave": "pixel", "compress": "deflate",
        "zlevel": ZLEVEL, "blockysize": rows, "endianness": "BIG", "num_threads": NUM_THREADS,
        # Any non-default transform: only the strips are kept, and a georeferenced file
        # raises no NotGeoreferencedWarning (catch_warnings is not thread-safe: the server's
        # threads leaked it).
        "transform": Affine(1.0, 0.0, 0.0, 0.0, -1.0, float(height)),
    }  # fmt: skip
    with MemoryFile() as memfile:
        with memfile.open(**profile) as dst:
            dst.write(data)
        content = memfile.read()
        with memfile.open() as src:
            blocks = [
                (int(src.get_tag_item(f"BLOCK_OFFSET_0_{k}", "TIFF", bidx=1)),
                 int(src.get_tag_item(f"BLOCK_SIZE_0_{k}", "TIFF", bidx=1)))
                for k in range(-(-height // rows))
            ]  # fmt: skip
    return [content[offset : offset + size] for offset, size in blocks]


def _georeferencing(crs: str, transform: Affine) -> list[Entry]:
    """ModelPixelScale, ModelTiepoint and the GeoKeys of ``crs`` (pixel-is-area)."""
    try:
        parsed = CRS.from_user_input(crs)
    except CRSError as exc:
        raise EvalscriptError(f"Cannot write a GeoTIFF in {crs!r}: {exc}") from None
    code = parsed.to_epsg() or 0
    name = parsed.name
    if parsed.is_geographic:  # as the service's EPSG:4326 files: model, raster, citations
        params = f"{name}|{name}|"
        keys = [(1024, 0, 1, 2), (1025, 0, 1, 1), (1026, 34737, len(name), 0),
                (2048, 0, 1, code), (2049, 34737, len(name), len(name) + 1),
                (2054, 0, 1, 9102)]  # fmt: skip
    else:  # projected: the same keys as GDAL writes them
        params = f"{name}|"
        keys = [(1024, 0, 1, 1), (1025, 0, 1, 1), (1026, 34737, len(name), 0),
                (3072, 0, 1, code), (3076, 0, 1, 9001)]  # fmt: skip
    directory = [1, 1, 0, len(keys)] + [value for key in keys for value in key]
    scale = [transform.a, -transform.e, 0.0]
    tiepoint = [0.0, 0.0, 0.0, transform.c, transform.f, 0.0]
    return [
        (33550, DOUBLE, scale),
        (33922, DOUBLE, tiepoint),
        (34735, SHORT, directory),
        (34737, ASCII, params),
    ]


def _gdal_metadata(items: dict[str, str]) -> str:
    body = "".join(f'  <Item name="{escape(k)}">{escape(v)}</Item>\n' for k, v in items.items())
    return f"<GDALMetadata>\n{body}</GDALMetadata>\n"


def _nodata_text(nodata: float, dtype: np.dtype[Any], output_id: str) -> str:
    """GDAL_NODATA as GDAL writes it; a value the sampleType cannot hold is refused."""
    if math.isnan(nodata):
        return "nan"
    if dtype.kind in "ui":
        info = np.iinfo(dtype)
        if not info.min <= nodata <= info.max:
            raise EvalscriptError(
                f"Output {output_id!r}: nodataValue {nodata:g} does not fit sampleType "
                f"{dtype.name.upper()}; choose a value inside its range."
            )
    return str(int(nodata)) if nodata == int(nodata) else repr(float(nodata))
