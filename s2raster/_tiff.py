"""Lay out already-compressed tiles as a Cloud-Optimized GeoTIFF, metadata from GDAL.

Private to :mod:`s2raster.cog`. GDAL cannot take tiles that are compressed already (its
COG driver decompresses and compresses everything again, in a second pass after the last
download), so the file structure is written here, the COG way (the layout
``rio_cogeo.cog_validate`` and GDAL's ``validate_cloud_optimized_geotiff.py`` check): the
header, then every IFD (full resolution first, then the overviews, largest first), then
the tag values, then the tile data, smallest overview first and full resolution last.

Every tag but the structural ones (size, tiles) is copied byte for byte from a one-pixel
*template* that GDAL wrote with the same profile and metadata (georeferencing, band
descriptions, tags, nodata, sample format): GDAL stays the author of the GeoTIFF metadata.
GDAL's "ghost" structural metadata follows the header and each tile has GDAL's leader
(its size, 4 bytes) and trailer (its last 4 bytes again), so GDAL reports the file as
``LAYOUT=COG`` and its readers can fetch a tile with its neighbour's size in one request.
The file is a classic TIFF when it fits in 4 GiB, else a BigTIFF.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import tifffile

__all__ = ["LevelLayout", "assemble"]

#: Tags written here (size, tiles, strips, subfile type) instead of copied.
_STRUCTURAL = {254, 256, 257, 273, 278, 279, 322, 323, 324, 325}
#: Tags of the full-resolution image only (georeferencing, GDAL metadata).
_MAIN_ONLY = {33550, 33922, 34264, 34735, 34736, 34737, 42112}
_SIZES = {1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8, 16: 8, 17: 8}
_SHORT, _LONG, _LONG8 = 3, 4, 16
#: GDAL's structural metadata (the COG "ghost area", as GDAL's COG driver writes it).
_GHOST_BODY = (
    "LAYOUT=IFDS_BEFORE_DATA\nBLOCK_ORDER=ROW_MAJOR\nBLOCK_LEADER=SIZE_AS_UINT4\n"
    "BLOCK_TRAILER=LAST_4_BYTES_REPEATED\nKNOWN_INCOMPATIBLE_EDITION=NO\n "
)
GHOST = (f"GDAL_STRUCTURAL_METADATA_SIZE={len(_GHOST_BODY):06d} bytes\n" + _GHOST_BODY).encode()


@dataclass(frozen=True)
class LevelLayout:
    """One level: its size, tile size, and its tiles as ``(offset, size)`` in the spool,
    in TIFF order (band by band, then rows of tiles)."""

    width: int
    height: int
    block: int
    tiles: Sequence[tuple[int, int]]


@dataclass(frozen=True)
class _Entry:
    code: int
    type: int
    count: int
    data: bytes


def _template_entries(template: Path) -> list[_Entry]:
    with tifffile.TiffFile(template) as tif, template.open("rb") as f:
        if tif.byteorder != "<":
            raise ValueError("the template must be little-endian")
        entries = []
        for tag in tif.pages[0].tags:
            if tag.code in _STRUCTURAL:
                continue
            kind = int(tag.dtype)
            f.seek(tag.valueoffset)
            entries.append(_Entry(tag.code, kind, tag.count, f.read(tag.count * _SIZES[kind])))
        return entries


def _level_entries(
    base: list[_Entry], level: LevelLayout, offsets: list[int], big: bool, overview: bool
) -> list[_Entry]:
    kind, fmt = (_LONG8, "<Q") if big else (_LONG, "<I")
    counts = [size for _, size in level.tiles]
    own = [
        _Entry(256, _LONG, 1, struct.pack("<I", level.width)),
        _Entry(257, _LONG, 1, struct.pack("<I", level.height)),
        _Entry(322, _SHORT, 1, struct.pack("<H", level.block)),
        _Entry(323, _SHORT, 1, struct.pack("<H", level.block)),
        _Entry(324, kind, len(offsets), b"".join(struct.pack(fmt, o) for o in offsets)),
        _Entry(325, kind, len(counts), b"".join(struct.pack(fmt, c) for c in counts)),
    ]
    if overview:
        own.append(_Entry(254, _LONG, 1, struct.pack("<I", 1)))  # reduced resolution
    kept = [e for e in base if not (overview and e.code in _MAIN_ONLY)]
    return sorted(own + kept, key=lambda e: e.code)


@dataclass(frozen=True)
class _Plan:
    """Where everything goes: IFDs, out-of-line tag values, tile data."""

    big: bool
    entries: list[list[_Entry]]  # per level, with the final tile offsets
    ifd_offsets: list[int]
    value_offsets: list[dict[int, int]]  # per level: tag code -> offset of its value
    data_start: int
    end: int

    @property
    def inline(self) -> int:
        return 8 if self.big else 4


def _plan(base: list[_Entry], levels: Sequence[LevelLayout], big: bool) -> _Plan:
    draft = [
        _level_entries(base, level, [0] * len(level.tiles), big, overview=i > 0)
        for i, level in enumerate(levels)
    ]
    entry_size, inline = (20, 8) if big else (12, 4)
    cursor = (16 if big else 8) + len(GHOST)
    cursor += cursor % 2
    ifd_offsets = []
    for entries in draft:
        ifd_offsets.append(cursor)
        cursor += (8 if big else 2) + len(entries) * entry_size + (8 if big else 4)
    value_offsets: list[dict[int, int]] = []
    for entries in draft:
        spots = {}
        for entry in entries:
            if len(entry.data) > inline:
                cursor += cursor % 2  # values start on a word boundary
                spots[entry.code] = cursor
                cursor += len(entry.data)
        value_offsets.append(spots)
    data_start = cursor + cursor % 2
    offsets: list[list[int]] = [[] for _ in levels]
    at = data_start
    for i in reversed(range(len(levels))):  # smallest overview first, full resolution last
        for _, size in levels[i].tiles:
            offsets[i].append(at + 4)  # after the 4-byte leader
            at += size + 8  # leader, data, trailer
    final = [
        _level_entries(base, level, offsets[i], big, overview=i > 0)
        for i, level in enumerate(levels)
    ]
    return _Plan(big, final, ifd_offsets, value_offsets, data_start, at)


def assemble(
    template: Path,
    levels: Sequence[LevelLayout],
    spool_fd: int,
    out: Path,
    *,
    bigtiff: bool | None = None,
) -> None:
    """Write the COG ``out`` from the ``levels`` (full resolution first) whose tiles are in
    the file ``spool_fd``, with the metadata of the GDAL-written ``template``. ``bigtiff``:
    None chooses (BigTIFF only above 4 GiB)."""
    base = _template_entries(template)
    plan = _plan(base, levels, big=bool(bigtiff))
    if bigtiff is None and plan.end >= 2**32:
        plan = _plan(base, levels, big=True)
    with out.open("wb") as f:
        f.write(_header(plan.big) + GHOST)
        for i, entries in enumerate(plan.entries):
            next_ifd = plan.ifd_offsets[i + 1] if i + 1 < len(levels) else 0
            f.seek(plan.ifd_offsets[i])
            f.write(_ifd(entries, plan.value_offsets[i], next_ifd, plan))
            for entry in entries:
                if entry.code in plan.value_offsets[i]:
                    f.seek(plan.value_offsets[i][entry.code])
                    f.write(entry.data)
        f.flush()
        _copy_tiles(levels, spool_fd, f.fileno(), plan.data_start)


def _header(big: bool) -> bytes:
    """The TIFF header; the first IFD follows the ghost metadata (on a word boundary)."""
    first = (16 if big else 8) + len(GHOST)
    first += first % 2
    if big:
        return b"II" + struct.pack("<HHHQ", 43, 8, 0, first)
    return b"II" + struct.pack("<HI", 42, first)


def _ifd(entries: list[_Entry], spots: dict[int, int], next_ifd: int, plan: _Plan) -> bytes:
    big = plan.big
    out = [struct.pack("<Q" if big else "<H", len(entries))]
    for e in entries:
        head = struct.pack("<HHQ" if big else "<HHI", e.code, e.type, e.count)
        if e.code in spots:
            value = struct.pack("<Q" if big else "<I", spots[e.code])
        else:
            value = e.data.ljust(plan.inline, b"\0")
        out.append(head + value)
    out.append(struct.pack("<Q" if big else "<I", next_ifd))
    return b"".join(out)


def _copy_tiles(levels: Sequence[LevelLayout], src: int, dst: int, start: int) -> None:
    """Copy every tile from the spool in the order of :func:`_plan` (kernel-side if it can),
    each between its leader (size) and trailer (last 4 bytes)."""
    at = start
    for level in reversed(levels):
        for offset, size in level.tiles:
            os.pwrite(dst, struct.pack("<I", size), at)
            _copy(src, dst, offset, at + 4, size)
            last = os.pread(src, min(4, size), offset + size - min(4, size))
            os.pwrite(dst, last.rjust(4, b"\0"), at + 4 + size)
            at += size + 8


def _copy(src: int, dst: int, src_offset: int, dst_offset: int, size: int) -> None:
    done = 0
    copy_range = getattr(os, "copy_file_range", None)
    while done < size:
        if copy_range is not None:
            try:
                n = copy_range(src, dst, size - done, src_offset + done, dst_offset + done)
            except OSError:
                copy_range = None
                continue
        else:
            chunk = os.pread(src, min(size - done, 1 << 24), src_offset + done)
            n = os.pwrite(dst, chunk, dst_offset + done)
        if n <= 0:
            raise OSError(f"could not copy a tile ({size - done} bytes left)")
        done += n
