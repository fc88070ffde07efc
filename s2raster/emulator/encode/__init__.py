"""The Process API's response files: GeoTIFF, PNG, JPEG, JSON and the tar of several.

:func:`encode` turns a run's outputs into the response body and its content type;
:func:`check_formats` refuses, before any pixel is computed, a format an output's
sampleType or band count cannot be written in. Every file is tagged synthetic.
"""

from __future__ import annotations

from s2raster.emulator.encode._encode import check_formats, encode
from s2raster.emulator.encode._image import jpeg_bytes, png_bytes
from s2raster.emulator.encode._tiff import SOFTWARE, SYNTHETIC_TAGS, tiff_bytes

__all__ = [
    "SOFTWARE",
    "SYNTHETIC_TAGS",
    "check_formats",
    "encode",
    "jpeg_bytes",
    "png_bytes",
    "tiff_bytes",
]
