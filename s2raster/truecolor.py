"""True colour: the classic Process API example (B04, B03, B02 times 2.5) as one function.

:func:`truecolor` loads B04, B03 and B02 as reflectance, multiplies by ``gain`` (2.5), clips
to 0..1 and scales to ``uint8`` 0..255 (NaN, i.e. no data, becomes 0 and is transparent in
the file), what the classic evalscript ``return [2.5 * B04, 2.5 * B03, 2.5 * B02]`` with
sampleType AUTO gives. :func:`~s2raster.image.write_image` writes it as PNG or GeoTIFF by
the file's extension, with its provenance; synthetic (emulator) data is marked in either.

Defaults that look right: the least cloudy scene wins per pixel (``mosaicking="leastCC"``)
over the last 30 days, and pixels are square: ``size=512`` makes the longer side 512 px and
the other follows the bbox's aspect, as does a side given as None (``size=(512, None)``);
both sides given make pixels of extent / size per axis (as the Process API's
``width``/``height``), with a warning when they are not square. ``resolution`` (metres)
instead snaps the grid like :func:`load`. The dates of the acquisitions the catalog found
are in :attr:`TrueColor.dates` (and the file's tags).
"""

from __future__ import annotations

import math
import numbers
import os
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

import dask
import dask.array
import numpy as np
from sentinelhub.config import SHConfig

from s2raster._load import LoadStats, Progress, load_plan
from s2raster.cache import CacheOption
from s2raster.cdse import Fetch
from s2raster.contract import MAX_PX
from s2raster.errors import InputError
from s2raster.grid import BBox, Grid
from s2raster.image import IMAGE_SUFFIXES, write_image
from s2raster.plan import Plan, make_plan, plan_grid
from s2raster.query import make_query
from s2raster.timerange import TimeInput
from s2raster.xr import Scalar

__all__ = [
    "IMAGE_SUFFIXES",
    "RGB_BANDS",
    "NonSquarePixelsWarning",
    "TrueColor",
    "to_uint8",
    "to_uint8_and_mask",
    "truecolor",
    "truecolor_from_plan",
    "truecolor_plan",
    "write_image",
]

RGB_BANDS = ("B04", "B03", "B02")
#: The time range used when none is given: the last 30 days.
DEFAULT_DAYS = 30
#: The image size when neither size nor resolution is given: the longer side, in pixels.
DEFAULT_SIZE = 512
#: The mosaicking when none is given: the least cloudy scene wins.
DEFAULT_MOSAICKING = "leastCC"
#: Pixels whose sides differ by more than this share get a warning.
SQUARE_TOLERANCE = 0.01
#: What ``size`` accepts: the longer side, or (width, height) with at most one None.
Size = int | tuple[int | None, int | None]


class NonSquarePixelsWarning(UserWarning):
    """Both sides of ``size`` were given and the pixels are not square."""


@dataclass(frozen=True)
class TrueColor:
    """A true-colour image: ``image`` uint8 ``(3, height, width)`` (R, G, B) on ``grid``;
    ``valid`` is False where there was no data; ``attrs`` the load's provenance."""

    image: np.ndarray
    grid: Grid
    synthetic: bool
    stats: LoadStats
    valid: np.ndarray | None = None
    attrs: dict[str, Scalar] = field(default_factory=dict)

    def __iter__(self) -> Iterator[np.ndarray | Grid]:  # ``image, grid = truecolor(...)``
        return iter((self.image, self.grid))

    @property
    def dates(self) -> tuple[str, ...]:
        """The UTC dates of the acquisitions the catalog found (``YYYY-MM-DD``)."""
        text = str(self.attrs.get("acquisition_dates", ""))
        return tuple(d for d in text.split(",") if d)

    def write(self, path: str | os.PathLike[str]) -> Path:
        """Write as PNG or GeoTIFF by the extension of ``path`` (see :func:`write_image`),
        no data transparent, with the provenance and the processing units spent."""
        attrs = {
            **self.attrs,
            "processing_units_spent": round(self.stats.processing_units_spent, 6),
        }
        return write_image(
            path, self.image, self.grid, synthetic=self.synthetic, valid=self.valid, attrs=attrs
        )


def default_time(now: datetime | None = None) -> tuple[datetime, datetime]:
    """The last :data:`DEFAULT_DAYS` days up to ``now`` (UTC)."""
    end = now or datetime.now(timezone.utc)
    return end - timedelta(days=DEFAULT_DAYS), end


def truecolor(
    bbox: BBox,
    time: TimeInput | None = None,
    *,
    size: Size | None = DEFAULT_SIZE,
    resolution: float | None = None,
    bbox_crs: str = "EPSG:4326",
    crs: str | None = None,
    collection: str = "sentinel-2-l2a",
    mosaicking: str = DEFAULT_MOSAICKING,
    max_cloud: float | None = None,
    config: SHConfig | None = None,
    cache: CacheOption = True,
    concurrency: int = 4,
    fetch: Fetch | None = None,
    progress: Progress | None = None,
    max_pu: float | None = None,
    gain: float = 2.5,
) -> TrueColor:
    """Load B04, B03, B02 over ``bbox`` and make a uint8 RGB image (reflectance x ``gain``).

    Give ``size`` in pixels (the longer side, or ``(width, height)`` with one side None to
    follow the bbox's aspect) or ``resolution`` in metres (``resolution`` wins when both
    are given). ``time`` defaults to the last 30 days, ``mosaicking`` to ``"leastCC"``.
    """
    plan = truecolor_plan(
        bbox,
        time,
        size=size,
        resolution=resolution,
        bbox_crs=bbox_crs,
        crs=crs,
        collection=collection,
        mosaicking=mosaicking,
        max_cloud=max_cloud,
    )
    return truecolor_from_plan(
        plan,
        config=config,
        cache=cache,
        concurrency=concurrency,
        fetch=fetch,
        progress=progress,
        max_pu=max_pu,
        gain=gain,
    )


def truecolor_from_plan(
    plan: Plan,
    *,
    config: SHConfig | None = None,
    cache: CacheOption = True,
    concurrency: int = 4,
    fetch: Fetch | None = None,
    progress: Progress | None = None,
    max_pu: float | None = None,
    gain: float = 2.5,
) -> TrueColor:
    """Run a plan of :func:`truecolor_plan` and make the uint8 RGB image."""
    gain = check_gain(gain)
    stats = LoadStats()
    da = load_plan(
        plan,
        config=config,
        cache=cache,
        concurrency=concurrency,
        fetch=fetch,
        progress=progress,
        max_pu=max_pu,
        stats=stats,
    )
    with dask.config.set(num_workers=max(concurrency, os.cpu_count() or 1)):
        image, valid = to_uint8_and_mask(da.data, gain)
    attrs = {
        str(k): v
        for k, v in da.attrs.items()
        if isinstance(v, (str, int, float)) and k not in ("units", "long_name")
    }
    return TrueColor(image, plan.grid, bool(da.attrs.get("synthetic", 0)), stats, valid, attrs)


def check_gain(gain: object) -> float:
    """``gain`` as a float: a positive, finite number."""
    if (
        isinstance(gain, bool)
        or not isinstance(gain, numbers.Real)
        or not (math.isfinite(float(gain)) and float(gain) > 0)
    ):
        raise InputError(f"gain must be a positive number (e.g. 2.5), got {gain!r}")
    return float(gain)


def truecolor_plan(
    bbox: BBox,
    time: TimeInput | None = None,
    *,
    size: Size | None = DEFAULT_SIZE,
    resolution: float | None = None,
    bbox_crs: str = "EPSG:4326",
    crs: str | None = None,
    collection: str = "sentinel-2-l2a",
    mosaicking: str = DEFAULT_MOSAICKING,
    max_cloud: float | None = None,
) -> Plan:
    """The :class:`~s2raster.plan.Plan` :func:`truecolor` runs (nothing is downloaded).

    Warns (:class:`NonSquarePixelsWarning`) when both sides of ``size`` are given and make
    pixels that are not square.
    """
    time = default_time() if time is None else time
    if resolution is not None or size is None:
        return make_plan(
            bbox,
            time,
            list(RGB_BANDS),
            resolution=10.0 if resolution is None else resolution,
            crs=crs,
            bbox_crs=bbox_crs,
            collection=collection,
            mosaicking=mosaicking,
            max_cloud=max_cloud,
        )
    query = make_query(
        time, list(RGB_BANDS), collection=collection, mosaicking=mosaicking, max_cloud=max_cloud
    )
    grid = Grid.from_bbox_size(bbox, size, bbox_crs=bbox_crs, crs=crs)
    _warn_non_square(grid, size)
    return plan_grid(grid, query, tile_px=MAX_PX)


def _warn_non_square(grid: Grid, size: Size) -> None:
    both = isinstance(size, (tuple, list)) and all(v is not None for v in size)
    rx, ry = grid.res
    if not both or abs(rx - ry) <= SQUARE_TOLERANCE * max(rx, ry):
        return
    unit = "°" if grid.pyproj_crs.is_geographic else " m"
    warnings.warn(
        f"size {grid.width} x {grid.height} px gives pixels of {rx:.4g} x {ry:.4g}{unit} (not "
        f"square) over this bbox: give one side only (size=({grid.width}, None), or "
        f"--size {grid.width} auto) for square pixels",
        NonSquarePixelsWarning,
        stacklevel=3,
    )


def to_uint8(data: np.ndarray | dask.array.Array, gain: float = 2.5) -> np.ndarray:
    """Reflectance (numpy or dask) x ``gain``, clipped to 0..1, as uint8 0..255; NaN -> 0."""
    out = _scaled(data, gain)
    return np.asarray(out.compute() if hasattr(out, "compute") else out)


def to_uint8_and_mask(
    data: np.ndarray | dask.array.Array, gain: float = 2.5
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`to_uint8` and where every band has data (bool ``(h, w)``), in one pass."""
    image, valid = _scaled(data, gain), np.isfinite(data).all(axis=0)
    if hasattr(image, "compute"):
        image, valid = dask.compute(image, valid)  # type: ignore[attr-defined,no-untyped-call]
    return np.asarray(image), np.asarray(valid)


def _scaled(data: np.ndarray | dask.array.Array, gain: float) -> np.ndarray | dask.array.Array:
    scaled = (data * np.float32(gain)).clip(0, 1) * np.float32(255) + np.float32(0.5)
    scaled = np.fmax(scaled, np.float32(0))  # fmax turns NaN (no data) into 0
    out: np.ndarray | dask.array.Array = scaled.astype(np.uint8)
    return out
