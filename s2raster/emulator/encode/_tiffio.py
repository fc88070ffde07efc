"""A minimal baseline TIFF writer: one image, strips, the tags the caller gives, nothing more.

Written by hand because neither GDAL nor tifffile writes the layout of the Process API's
files: GDAL cannot write the old-style Deflate code 32946 and always adds
PlanarConfiguration and ExtraSamples; tifffile adds those too and writes the sizes as
LONG. (GDAL still compresses the strips: see :mod:`._tiff`, which also says what the
service's files hold.)

Layout: header, the one IFD at offset 8 (tags in ascending order), the values that do not
fit in an entry (each 4-byte aligned), then the strips. ``StripOffsets`` and
``StripByteCounts`` are filled in here.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence

ASCII, SHORT, LONG, RATIONAL, DOUBLE = 2, 3, 4, 5, 12
STRIP_OFFSETS, STRIP_BYTE_COUNTS = 273, 279
_FORMATS = {SHORT: "H", LONG: "I", RATIONAL: "II", DOUBLE: "d"}

Value = str | Sequence[float] | Sequence[int]
#: One IFD entry: (tag, type, values); an ASCII value is a str (its NUL is added), a
#: RATIONAL value a flat (numerator, denominator, ...) sequence.
Entry = tuple[int, int, Value]


def tiff_file(entries: Sequence[Entry], strips: Sequence[bytes], byteorder: str = ">") -> bytes:
    """The bytes of a TIFF with one IFD of ``entries`` and the (compressed) ``strips``."""
    counts = [len(strip) for strip in strips]
    table = sorted([*entries, (STRIP_OFFSETS, LONG, [0] * len(strips)),
                    (STRIP_BYTE_COUNTS, LONG, counts)])  # fmt: skip
    tags = [tag for tag, _, _ in table]
    if len(set(tags)) != len(tags):
        raise ValueError(f"duplicate TIFF tags in {tags}")
    ifd_end = 8 + 2 + 12 * len(table) + 4
    packed = [_pack(kind, values, byteorder) for _, kind, values in table]
    position = ifd_end
    for data in packed:
        if len(data) > 4:
            position = _aligned(position) + len(data)
    offsets, start = [], position
    for count in counts:
        offsets.append(start)
        start += count
    index = tags.index(STRIP_OFFSETS)
    packed[index] = _pack(LONG, offsets, byteorder)
    header = (b"MM" if byteorder == ">" else b"II") + struct.pack(byteorder + "HI", 42, 8)
    ifd = [struct.pack(byteorder + "H", len(table))]
    extra = bytearray()
    for (tag, kind, values), data in zip(table, packed, strict=True):
        count = len(values) + 1 if kind == ASCII else len(values) // (2 if kind == RATIONAL else 1)
        if len(data) <= 4:
            field = data.ljust(4, b"\0")
        else:
            pad = _aligned(ifd_end + len(extra)) - (ifd_end + len(extra))
            extra += b"\0" * pad
            field = struct.pack(byteorder + "I", ifd_end + len(extra))
            extra += data
        ifd.append(struct.pack(byteorder + "HHI", tag, kind, count) + field)
    ifd.append(struct.pack(byteorder + "I", 0))
    return b"".join([header, *ifd, bytes(extra), *strips])


def _pack(kind: int, values: Value, byteorder: str) -> bytes:
    if kind == ASCII:
        assert isinstance(values, str)
        return values.encode("ascii") + b"\0"
    fmt = _FORMATS[kind]
    n = len(values) // len(fmt)
    return struct.pack(byteorder + fmt * n, *values)


def _aligned(position: int) -> int:
    return (position + 3) // 4 * 4
