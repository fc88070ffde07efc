"""PNG and JPEG outputs, marked synthetic (PNG ``tEXt`` chunks, JPEG ``COM`` comment).

PNG is written directly (signature, IHDR, tEXt, IDAT, IEND: a few lines with zlib) so
that 16-bit RGB and RGBA work too, which Pillow cannot write; 1, 2, 3 or 4 bands become
grey, grey + alpha, RGB or RGBA. JPEG goes through Pillow: UINT8, 1 or 3 bands.
"""

from __future__ import annotations

import io
import struct
import zlib
from collections.abc import Mapping
from typing import Any

import numpy as np
import numpy.typing as npt
from PIL import Image

from s2raster.emulator.encode._tiff import SOFTWARE, SYNTHETIC_TAGS
from s2raster.emulator.errors import EvalscriptError

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_PNG_COLOUR = {1: 0, 2: 4, 3: 2, 4: 6}  # bands -> PNG colour type
PNG_ZLEVEL = 1
JPEG_QUALITY = 90


def check_png(dtype: npt.DTypeLike, count: int | None, *, output_id: str = "default") -> None:
    """Refuse what a PNG cannot hold (``count`` None: any band count)."""
    dtype = np.dtype(dtype)
    if dtype not in (np.uint8, np.uint16) or (count is not None and count not in _PNG_COLOUR):
        shown = "" if count is None else f"{count} band(s), "
        raise EvalscriptError(
            f"Output {output_id!r} ({shown}{dtype.name.upper()}) cannot be a "
            "PNG: it takes 1 to 4 bands of sampleType AUTO, UINT8 or UINT16; use image/tiff."
        )


def check_jpeg(dtype: npt.DTypeLike, count: int | None, *, output_id: str = "default") -> None:
    """Refuse what a JPEG cannot hold (``count`` None: any band count)."""
    dtype = np.dtype(dtype)
    if dtype != np.uint8 or (count is not None and count not in (1, 3)):
        shown = "" if count is None else f"{count} band(s), "
        raise EvalscriptError(
            f"Output {output_id!r} ({shown}{dtype.name.upper()}) cannot be a "
            "JPEG: it takes 1 or 3 bands of sampleType AUTO or UINT8; use image/png or tiff."
        )


def png_bytes(data: npt.NDArray[Any], *, output_id: str = "default") -> bytes:
    """``data`` ``(bands, h, w)`` of uint8 or uint16 as a PNG (1 to 4 bands)."""
    count, height, width = data.shape
    check_png(data.dtype, count, output_id=output_id)
    depth = 8 if data.dtype == np.uint8 else 16
    pixels = np.moveaxis(data, 0, -1).astype(f">u{depth // 8}").reshape(height, -1)
    rows = np.zeros((height, pixels.shape[1] * pixels.itemsize + 1), np.uint8)
    rows[:, 1:] = pixels.view(np.uint8).reshape(height, -1)  # filter byte 0 = None
    header = struct.pack(">IIBBBBB", width, height, depth, _PNG_COLOUR[count], 0, 0, 0)
    text = {**SYNTHETIC_TAGS, "Software": SOFTWARE}
    return b"".join(
        [
            _PNG_SIGNATURE,
            _chunk(b"IHDR", header),
            *(_chunk(b"tEXt", _latin1(k) + b"\0" + _latin1(v)) for k, v in text.items()),
            _chunk(b"IDAT", zlib.compress(rows.tobytes(), PNG_ZLEVEL)),
            _chunk(b"IEND", b""),
        ]
    )


def _chunk(kind: bytes, payload: bytes) -> bytes:
    crc = zlib.crc32(kind + payload) & 0xFFFFFFFF
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", crc)


def _latin1(text: str) -> bytes:
    return text.encode("latin-1", "replace")


def jpeg_bytes(data: npt.NDArray[Any], *, output_id: str = "default") -> bytes:
    """``data`` ``(bands, h, w)`` of uint8 as a JPEG (1 or 3 bands), quality 90."""
    count = data.shape[0]
    check_jpeg(data.dtype, count, output_id=output_id)
    image = Image.fromarray(
        data[0] if count == 1 else np.ascontiguousarray(np.moveaxis(data, 0, -1))
    )
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=JPEG_QUALITY, comment=_comment(SYNTHETIC_TAGS))
    return out.getvalue()


def _comment(tags: Mapping[str, str]) -> bytes:
    return "; ".join(f"{k}={v}" for k, v in tags.items()).encode("latin-1", "replace")
