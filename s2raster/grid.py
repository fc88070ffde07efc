"""The pixel grid every step agrees on: CRS, affine transform and shape, and its tiles.

A :class:`Grid` is immutable and north-up. Built from a bounding box, its pixel edges sit
on whole multiples of the resolution (as on the native Sentinel-2 UTM grid), so grids of
neighbouring areas share pixel edges, and every tile of a grid lies on the same lattice.

In a geographic output CRS (e.g. EPSG:4326) a resolution in metres is turned into degrees
with ``degrees = metres / 111319.49079327357`` (the length of one degree along the
equator of the WGS 84 ellipsoid), the same step for longitude and latitude. Pass the
resolution in degrees directly with ``resolution_unit="crs"``.
"""

from __future__ import annotations

import math
import numbers
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np
from affine import Affine
from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError

from s2raster.contract import MAX_PX, METRES_PER_DEGREE
from s2raster.errors import GridError, InputError

BBox = tuple[float, float, float, float]


#: The spellings of a CRS :func:`to_crs` reads: AUTHORITY:CODE, a code, an OGC URL or URN,
#: WKT, a PROJ string, PROJJSON. Anything else pyproj would look up by name in its
#: database, which takes seconds for a typo; such text is refused at once.
_CRS_FORMS = re.compile(
    r"^\s*(?:[A-Za-z]+:{1,2}[A-Za-z0-9]+\s*$|\d+|https?://|urn:|[A-Z][A-Z0-9_]*\[|\+|\{)", re.ASCII
)


def to_crs(crs: str | int | CRS) -> CRS:
    """Parse ``crs`` (``"EPSG:32633"``, ``32633``, an OGC URI, WKT, a PROJ string, a ``CRS``)."""
    if isinstance(crs, CRS):
        return crs
    if isinstance(crs, str) and not _CRS_FORMS.match(crs):
        raise InputError(
            f"unknown CRS {crs!r}: give an EPSG code such as EPSG:32633 (or WKT, a PROJ "
            "string or an OGC URI)"
        )
    try:
        return CRS.from_epsg(crs) if isinstance(crs, int) else CRS.from_user_input(crs)
    except (CRSError, TypeError, ValueError, OverflowError) as exc:
        raise InputError(f"unknown CRS {crs!r}: give an EPSG code such as EPSG:32633") from exc


def crs_string(crs: str | int | CRS) -> str:
    """The canonical ``"EPSG:n"`` spelling of ``crs``; refuses CRSs without an EPSG code."""
    parsed = to_crs(crs)
    epsg = parsed.to_epsg()
    if epsg is None:
        raise InputError(
            f"CRS {parsed.name!r} has no EPSG code; the Process API needs one such as EPSG:32633"
        )
    return f"EPSG:{epsg}"


def utm_crs(lon: float, lat: float) -> str:
    """The WGS 84 / UTM zone (north or south) that contains ``(lon, lat)``."""
    zone = min(max(math.floor((lon + 180.0) / 6.0) + 1, 1), 60)
    return f"EPSG:{(32600 if lat >= 0 else 32700) + zone}"


def check_bbox(bbox: BBox, crs: CRS) -> BBox:
    """Validate ``(minx, miny, maxx, maxy)``: 4 finite numbers, min < max, lon/lat in range
    if geographic. Anything else is an :class:`InputError` naming the value and the fix."""
    minx, miny, maxx, maxy = _four_numbers(bbox)
    if not all(math.isfinite(v) for v in (minx, miny, maxx, maxy)):
        raise InputError(f"bbox has a non-finite number: {bbox!r}; give 4 finite numbers")
    if minx >= maxx or miny >= maxy:
        raise InputError(
            f"bbox {bbox!r} is empty: give minx < maxx and miny < maxy (x/y, i.e. lon/lat order)"
        )
    if crs.is_geographic and (minx < -180 or maxx > 180 or miny < -90 or maxy > 90):
        raise InputError(
            f"bbox {bbox!r} is outside lon -180..180 / lat -90..90; is it in lon/lat order?"
        )
    return minx, miny, maxx, maxy


def _four_numbers(bbox: object) -> tuple[float, float, float, float]:
    example = "e.g. bbox=(13.82, 45.85, 14.56, 46.29) as (minx, miny, maxx, maxy)"
    if isinstance(bbox, (str, bytes)) or not isinstance(bbox, (Sequence, np.ndarray)):
        raise InputError(f"bbox must be 4 numbers, got {type(bbox).__name__} {bbox!r}; {example}")
    values = list(bbox)
    if len(values) != 4:
        raise InputError(f"bbox needs 4 numbers (minx, miny, maxx, maxy), got {len(values)}")
    for i, v in enumerate(values):
        if isinstance(v, (bool, np.bool_)) or not isinstance(v, numbers.Real):
            raise InputError(
                f"bbox value {i + 1} is {type(v).__name__} {v!r}, not a number; {example}"
            )
    minx, miny, maxx, maxy = (float(v) for v in values)
    return minx, miny, maxx, maxy


def _snap(
    lo: float, hi: float, step: float, limits: tuple[float, float] | None = None
) -> tuple[float, int]:
    """First edge (a multiple of ``step``) at or below ``lo``, and the count covering ``hi``.

    With ``limits`` (the valid range of a geographic axis, e.g. -180..180) the edges stay
    inside it: a pixel that would reach past the antimeridian or a pole is left out.
    """
    # A tiny tolerance keeps a bound that is a multiple of step (within rounding) on it.
    eps = 1e-9
    try:
        first = math.floor(lo / step + eps)
        last = math.ceil(hi / step - eps)
    except (OverflowError, ValueError):  # lo / step is inf: a resolution far too fine
        first = last = 2**64
    if max(abs(first), abs(last)) > 2**53:  # past float precision: no meaningful pixel edges
        raise GridError(
            f"a grid from {lo:g} to {hi:g} in steps of {step:g} has too many pixels: give "
            "the resolution in metres (e.g. 10), not degrees"
        )
    if limits is not None:
        first = max(first, math.ceil(limits[0] / step - eps))
        last = min(last, math.floor(limits[1] / step + eps))
    return first * step, max(last - first, 1)


@dataclass(frozen=True)
class Grid:
    """A north-up pixel grid: ``crs`` (``"EPSG:n"``), ``transform`` and ``shape`` (rows, cols).

    ``transform`` maps (col, row) of pixel corners to CRS coordinates, as in rasterio.
    """

    crs: str
    transform: Affine
    shape: tuple[int, int]

    def __post_init__(self) -> None:
        t = self.transform
        if t.b != 0 or t.d != 0 or t.a <= 0 or t.e >= 0:
            raise GridError(f"grid must be north-up with positive pixel size, got {t!r}")
        if self.shape[0] < 1 or self.shape[1] < 1:
            raise GridError(f"grid shape must be at least 1 x 1, got {self.shape}")

    @classmethod
    def from_bbox(
        cls,
        bbox: BBox,
        *,
        bbox_crs: str | int | CRS = "EPSG:4326",
        resolution: float = 10.0,
        crs: str | int | CRS | None = None,
        resolution_unit: str = "m",
    ) -> Grid:
        """The grid that covers ``bbox`` with pixel edges on multiples of ``resolution``.

        ``crs`` defaults to the UTM zone of the bbox centre. ``resolution`` is in metres
        (``resolution_unit="m"``) or in units of ``crs`` (``"crs"``).
        """
        src = to_crs(bbox_crs)
        box = check_bbox(bbox, src)
        given: object = resolution
        if (
            isinstance(given, bool)
            or not isinstance(given, (int, float, np.integer, np.floating))
            or not (math.isfinite(float(given)) and float(given) > 0)
        ):
            raise InputError(f"resolution must be a positive number of metres, got {resolution!r}")
        if crs is None:
            lon, lat = _centre_lonlat(box, src)
            crs = utm_crs(lon, lat)
        dst = to_crs(crs)
        step = _step(resolution, dst, resolution_unit)
        minx, miny, maxx, maxy = _reproject_bounds(box, src, dst)
        geographic = dst.is_geographic
        x0, width = _snap(minx, maxx, step, (-180.0, 180.0) if geographic else None)
        y0, height = _snap(miny, maxy, step, (-90.0, 90.0) if geographic else None)
        top = y0 + height * step
        return cls(crs_string(dst), Affine(step, 0.0, x0, 0.0, -step, top), (height, width))

    @classmethod
    def from_bbox_size(
        cls,
        bbox: BBox,
        size: int | tuple[int | None, int | None],
        *,
        bbox_crs: str | int | CRS = "EPSG:4326",
        crs: str | int | CRS | None = None,
    ) -> Grid:
        """The grid of ``size`` = (width, height) px spanning ``bbox`` in ``crs``.

        As the Process API's ``width``/``height``: pixel size = extent / size per axis, so
        edges are not snapped. A side given as None follows the bbox's aspect (square
        pixels); one number is the longer side. ``crs`` defaults to the UTM zone of the
        bbox centre.
        """
        src = to_crs(bbox_crs)
        box = check_bbox(bbox, src)
        dst = to_crs(utm_crs(*_centre_lonlat(box, src)) if crs is None else crs)
        minx, miny, maxx, maxy = _reproject_bounds(box, src, dst)
        width, height = _fit_size(size, maxx - minx, maxy - miny)
        rx, ry = (maxx - minx) / width, (maxy - miny) / height
        return cls(crs_string(dst), Affine(rx, 0.0, minx, 0.0, -ry, maxy), (height, width))

    @property
    def height(self) -> int:
        return self.shape[0]

    @property
    def width(self) -> int:
        return self.shape[1]

    @property
    def res(self) -> tuple[float, float]:
        """Pixel size (x, y), both positive."""
        return (self.transform.a, -self.transform.e)

    @property
    def bounds(self) -> BBox:
        """(minx, miny, maxx, maxy) of the outer pixel edges."""
        t = self.transform
        return (t.c, t.f + t.e * self.height, t.c + t.a * self.width, t.f)

    @property
    def lonlat_bounds(self) -> BBox:
        """The grid's outer bounds in lon/lat (EPSG:4326), densified along the edges."""
        return _reproject_bounds(self.bounds, self.pyproj_crs, CRS.from_epsg(4326))

    @property
    def centre_lonlat(self) -> tuple[float, float]:
        """The centre of the grid in lon/lat."""
        return _centre_lonlat(self.bounds, self.pyproj_crs)

    @property
    def metres_per_pixel(self) -> float:
        """The larger pixel side in metres (degrees x :data:`METRES_PER_DEGREE` if geographic,
        feet and other linear units converted)."""
        crs = self.pyproj_crs
        if crs.is_geographic:
            return max(self.res) * METRES_PER_DEGREE
        return max(self.res) * _unit_factor(crs)

    @cached_property
    def pyproj_crs(self) -> CRS:
        return CRS.from_user_input(self.crs)

    def xs(self) -> np.ndarray:
        """x coordinates of pixel centres, west to east (float64)."""
        t = self.transform
        return t.c + t.a * (np.arange(self.width, dtype=np.float64) + 0.5)

    def ys(self) -> np.ndarray:
        """y coordinates of pixel centres, north to south (float64, descending)."""
        t = self.transform
        return t.f + t.e * (np.arange(self.height, dtype=np.float64) + 0.5)

    def window(self, row: int, col: int, height: int, width: int) -> Grid:
        """The sub-grid of ``height`` x ``width`` px whose top-left pixel is (row, col)."""
        if row < 0 or col < 0 or row + height > self.height or col + width > self.width:
            raise GridError(f"window {row},{col} {height}x{width} is outside the grid {self.shape}")
        return Grid(self.crs, self.transform @ Affine.translation(col, row), (height, width))

    def tiles(self, max_px: int = MAX_PX) -> list[Tile]:
        """Split into tiles of at most ``max_px`` a side, row-major, on the same pixel lattice.

        Tiles are ``max_px`` wide/high except the last ones of a row/column, so they match
        dask's regular chunking ``((max_px, ..., rest), ...)``.
        """
        if max_px < 1:
            raise GridError(f"max_px must be at least 1, got {max_px}")
        return list(self._iter_tiles(max_px))

    def _iter_tiles(self, max_px: int) -> Iterator[Tile]:
        for i, row in enumerate(range(0, self.height, max_px)):
            h = min(max_px, self.height - row)
            for j, col in enumerate(range(0, self.width, max_px)):
                w = min(max_px, self.width - col)
                yield Tile(i, j, row, col, self.window(row, col, h, w))

    def chunks(self, max_px: int = MAX_PX) -> tuple[tuple[int, ...], tuple[int, ...]]:
        """Row and column chunk sizes of :meth:`tiles`, as dask writes them."""
        return (_split(self.height, max_px), _split(self.width, max_px))


@dataclass(frozen=True)
class Tile:
    """One tile of a grid: its position (``index`` row/col), its offset in pixels, its grid."""

    index_row: int
    index_col: int
    row: int
    col: int
    grid: Grid

    @property
    def slices(self) -> tuple[slice, slice]:
        """(rows, cols) slices of this tile in the parent grid."""
        h, w = self.grid.shape
        return slice(self.row, self.row + h), slice(self.col, self.col + w)


def _split(n: int, size: int) -> tuple[int, ...]:
    full, rest = divmod(n, size)
    return (size,) * full + ((rest,) if rest else ())


def _step(resolution: float, crs: CRS, unit: str) -> float:
    if unit == "crs":
        return float(resolution)
    if unit != "m":
        raise InputError(f"resolution_unit must be 'm' or 'crs', got {unit!r}")
    if crs.is_geographic:
        return resolution / METRES_PER_DEGREE
    return resolution / _unit_factor(crs)


def _unit_factor(crs: CRS) -> float:
    """Metres per unit of a projected CRS's first axis (1 for metres, 0.3048 for feet)."""
    return float(crs.axis_info[0].unit_conversion_factor) if crs.axis_info else 1.0


_SIZE_FIX = "give (width, height) in pixels, e.g. size=(512, 512), (512, None) or 512"


def check_size_px(size: object) -> tuple[int | None, int | None]:
    """``size`` as ``(width, height)``: whole numbers of pixels, 1..100000 each, or None for
    a side that follows the area's aspect (not both)."""
    if isinstance(size, (str, bytes)) or not isinstance(size, (Sequence, np.ndarray)):
        raise InputError(
            f"size must be 2 whole numbers, got {type(size).__name__} {size!r}: {_SIZE_FIX}"
        )
    values = list(size)
    if len(values) != 2 or not all(v is None or _whole(v) for v in values) or values == [None] * 2:
        raise InputError(
            f"size must be 2 whole numbers (one may be None), got {size!r}: {_SIZE_FIX}"
        )
    width, height = (None if v is None else _side(v, size) for v in values)
    return width, height


def _side(value: object, size: object) -> int:
    side: int = int(value)  # type: ignore[call-overload]
    if not 1 <= side <= 100_000:
        raise InputError(f"size must be 1..100000 px a side, got {size!r}: {_SIZE_FIX}")
    return side


def _whole(value: object) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_))


def _fit_size(size: object, dx: float, dy: float) -> tuple[int, int]:
    """Width and height in pixels: as given, or a side from the other and the aspect; one
    number is the longer side."""
    if _whole(size):
        longer = _side(size, size)
        width, height = (longer, None) if dx >= dy else (None, longer)
    else:
        width, height = check_size_px(size)
    if width is None:
        assert height is not None
        width = min(max(round(height * dx / dy), 1), 100_000)
    if height is None:
        height = min(max(round(width * dy / dx), 1), 100_000)
    return width, height


def _centre_lonlat(box: BBox, crs: CRS) -> tuple[float, float]:
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    if crs.is_geographic:
        return cx, cy
    lon, lat = Transformer.from_crs(crs, "EPSG:4326", always_xy=True).transform(cx, cy)
    return float(lon), float(lat)


def _reproject_bounds(box: BBox, src: CRS, dst: CRS) -> BBox:
    if src == dst:
        return box
    transformer = Transformer.from_crs(src, dst, always_xy=True)
    minx, miny, maxx, maxy = transformer.transform_bounds(*box, densify_pts=21)
    if not all(math.isfinite(v) for v in (minx, miny, maxx, maxy)):
        raise InputError(f"bbox {box!r} cannot be expressed in {dst.name}; choose another crs")
    return float(minx), float(miny), float(maxx), float(maxy)
