"""True colour: the classic Process API example (B04, B03, B02 times 2.5) as one function.

:func:`truecolor` loads B04, B03 and B02 as reflectance, multiplies by ``gain`` (2.5), clips
to 0..1 and scales to ``uint8`` 0..255 (NaN, i.e. no data, becomes 0), exactly what the
classic evalscript ``return [2.5 * B04, 2.5 * B03, 2.5 * B02]`` with sampleType AUTO gives.
:func:`write_image` writes it as PNG (Pillow) or GeoTIFF (:func:`s2raster.export.to_geotiff`),
by the file's extension; synthetic (emulator) data is marked in either.

``size=(width, height)`` asks for an exact image size in pixels: the pixel size is then the
extent of the bbox (in the output CRS) divided by the size, as with the Process API's
``width``/``height``. ``resolution`` (metres) instead snaps the grid like :func:`load`.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import dask
import dask.array
import numpy as np
from sentinelhub.config import SHConfig

from s2raster._load import LoadStats, Progress, load_plan
from s2raster.cache import CacheOption
from s2raster.cdse import Fetch
from s2raster.contract import MAX_PX, SOURCE_TAG, SYNTHETIC_SOURCE, SYNTHETIC_TAG
from s2raster.errors import ExportError, InputError
from s2raster.grid import BBox, Grid
from s2raster.plan import Plan, make_plan, make_query, plan_grid
from s2raster.timerange import TimeInput
from s2raster.xr import Scalar, to_dataarray

__all__ = [
    "RGB_BANDS",
    "TrueColor",
    "to_uint8",
    "truecolor",
    "truecolor_from_plan",
    "truecolor_plan",
    "write_image",
]

RGB_BANDS = ("B04", "B03", "B02")
PNG_SUFFIXES = (".png",)
TIFF_SUFFIXES = (".tif", ".tiff")
#: The time range used when none is given: the last 30 days.
DEFAULT_DAYS = 30


@dataclass(frozen=True)
class TrueColor:
    """A true-colour image: ``image`` uint8 ``(3, height, width)`` (R, G, B) on ``grid``."""

    image: np.ndarray
    grid: Grid
    synthetic: bool
    stats: LoadStats

    def __iter__(self) -> Iterator[np.ndarray | Grid]:  # ``image, grid = truecolor(...)``
        return iter((self.image, self.grid))

    def write(self, path: str | os.PathLike[str]) -> Path:
        """Write as PNG or GeoTIFF by the extension of ``path`` (see :func:`write_image`)."""
        return write_image(path, self.image, self.grid, synthetic=self.synthetic)


def default_time(now: datetime | None = None) -> tuple[datetime, datetime]:
    """The last :data:`DEFAULT_DAYS` days up to ``now`` (UTC)."""
    end = now or datetime.now(timezone.utc)
    return end - timedelta(days=DEFAULT_DAYS), end


def truecolor(
    bbox: BBox,
    time: TimeInput | None = None,
    *,
    size: tuple[int, int] | None = (512, 512),
    resolution: float | None = None,
    bbox_crs: str = "EPSG:4326",
    crs: str | None = None,
    collection: str = "sentinel-2-l2a",
    mosaicking: str = "mostRecent",
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

    Give ``size`` (width, height) in pixels or ``resolution`` in metres (``resolution``
    wins when both are given). ``time`` defaults to the last 30 days.
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
        image = to_uint8(da.data, gain)
    return TrueColor(image, plan.grid, bool(da.attrs.get("synthetic", 0)), stats)


def truecolor_plan(
    bbox: BBox,
    time: TimeInput | None = None,
    *,
    size: tuple[int, int] | None = (512, 512),
    resolution: float | None = None,
    bbox_crs: str = "EPSG:4326",
    crs: str | None = None,
    collection: str = "sentinel-2-l2a",
    mosaicking: str = "mostRecent",
    max_cloud: float | None = None,
) -> Plan:
    """The :class:`~s2raster.plan.Plan` :func:`truecolor` runs (nothing is downloaded)."""
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
    return plan_grid(grid, query, tile_px=MAX_PX)


def to_uint8(data: np.ndarray | dask.array.Array, gain: float = 2.5) -> np.ndarray:
    """Reflectance (numpy or dask) x ``gain``, clipped to 0..1, as uint8 0..255; NaN -> 0."""
    scaled = (data * np.float32(gain)).clip(0, 1) * np.float32(255) + np.float32(0.5)
    scaled = np.fmax(scaled, np.float32(0))  # fmax turns NaN (no data) into 0
    out = scaled.astype(np.uint8)
    return np.asarray(out.compute() if hasattr(out, "compute") else out)


def write_image(
    path: str | os.PathLike[str], image: np.ndarray, grid: Grid, *, synthetic: bool
) -> Path:
    """Write ``image`` (uint8 (3, h, w)) as PNG or GeoTIFF by the extension; atomic.

    Synthetic data carries ``S2RASTER_SYNTHETIC=1`` (a PNG tEXt chunk, GeoTIFF tags).
    """
    out = Path(path)
    suffix = out.suffix.lower()
    if suffix in PNG_SUFFIXES:
        return _write_png(out, image, synthetic=synthetic)
    if suffix in TIFF_SUFFIXES:
        return _write_tiff(out, image, grid, synthetic=synthetic)
    raise InputError(f"cannot write {out.name!r}: use a .png, .tif or .tiff file name")


def _write_png(path: Path, image: np.ndarray, *, synthetic: bool) -> Path:
    from PIL import Image, PngImagePlugin

    info = PngImagePlugin.PngInfo()
    if synthetic:
        info.add_text(SYNTHETIC_TAG, "1")
        info.add_text(SOURCE_TAG, SYNTHETIC_SOURCE)
    pixels = Image.fromarray(np.ascontiguousarray(np.moveaxis(image, 0, -1)), mode="RGB")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            pixels.save(f, format="PNG", pnginfo=info)
        Path(tmp).replace(path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise ExportError(f"cannot write {str(path)!r}: {exc}; check the path and space") from exc
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def _write_tiff(path: Path, image: np.ndarray, grid: Grid, *, synthetic: bool) -> Path:
    from s2raster.export import to_geotiff

    attrs: dict[str, Scalar] = {"synthetic": int(synthetic)}
    if synthetic:
        attrs["source"] = SYNTHETIC_SOURCE
    # to_dataarray makes float32 reflectance; an RGB image stays uint8 (3 x smaller, RGB in GIS)
    da = to_dataarray(image, grid, ["red", "green", "blue"], attrs).astype(np.uint8)
    written = to_geotiff(da, path, cog=False)
    assert isinstance(written, Path)  # one file: no {time} in the path
    return written
