"""Fakes for tests of code built on s2raster (as ``xarray.testing`` is for xarray's users).

- :class:`FakeFetch`: a :class:`~s2raster.fetch.Fetch` that answers every tile as the Process
  API would answer the client's evalscript (the asked bands + ``dataMask``), with values that
  encode the pixel's position in the whole grid (:func:`expected_values`), so a misplaced
  tile or a wrong mosaic shows at once. No network.
- :func:`geotiff_bytes`: a GeoTIFF of an array in memory, georeferenced on a grid.

Unit tests only: integration tests go through real HTTP to the emulator.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from datetime import timezone

import numpy as np
from affine import Affine
from rasterio.features import geometry_mask
from rasterio.io import MemoryFile

from s2raster.contract import SYNTHETIC_TAG
from s2raster.fetch import Acquisition, FetchResult, Search
from s2raster.grid import Grid
from s2raster.plan import Query, TileRequest

__all__ = ["FakeFetch", "expected_mask", "expected_values", "geotiff_bytes"]


def expected_values(grid: Grid, n_bands: int, row0: int = 0, col0: int = 0) -> np.ndarray:
    """``band * 1e6 + row * 1000 + col`` (float32) for ``grid`` placed at ``(row0, col0)``."""
    rows = np.arange(row0, row0 + grid.height)[:, None]
    cols = np.arange(col0, col0 + grid.width)[None, :]
    bands = [np.float32(k * 1_000_000) + rows * 1000 + cols for k in range(n_bands)]
    return np.stack(bands).astype(np.float32)


def expected_mask(grid: Grid, row0: int = 0, col0: int = 0) -> np.ndarray:
    """The fake's ``dataMask``: no data where ``(row + col) % 7 == 0``."""
    rows = np.arange(row0, row0 + grid.height)[:, None]
    cols = np.arange(col0, col0 + grid.width)[None, :]
    return np.asarray((rows + cols) % 7 != 0)


def geotiff_bytes(
    data: np.ndarray,
    *,
    crs: str,
    transform: Affine,
    tags: Mapping[str, str] | None = None,
    compress: str | None = None,
    interleave: str = "pixel",
) -> bytes:
    """A GeoTIFF of ``data`` ``(band, y, x)`` in memory."""
    count, height, width = data.shape
    options = {"compress": compress} if compress else {}
    with MemoryFile() as mem:
        with mem.open(
            driver="GTiff",
            width=width,
            height=height,
            count=count,
            dtype=data.dtype,
            crs=crs,
            transform=transform,
            interleave=interleave,
            **options,
        ) as dst:
            dst.write(data)
            if tags:
                dst.update_tags(**tags)
        return bytes(mem.read())


class FakeFetch:
    """A fake service: position-encoding tiles, one acquisition per query, counted calls.

    ``synthetic`` marks every answer as the emulator would; ``delay`` (s) holds each
    request; ``pu`` is the cost reported per request; ``acquisitions`` are what
    :meth:`search` finds (default: one, at the start of the query's time range); ``fill``
    answers that value in every band and pixel (all valid) instead of the positions.
    """

    def __init__(
        self,
        *,
        synthetic: bool = False,
        delay: float = 0.0,
        pu: float = 0.5,
        base_url: str = "https://fake.invalid",
        acquisitions: tuple[Acquisition, ...] | None = None,
        fill: float | None = None,
    ) -> None:
        self.fill = fill
        self.calls: list[TileRequest] = []
        self.searches: list[Query] = []
        self.search_bboxes: list[tuple[float, float, float, float]] = []
        self.synthetic = synthetic
        self.delay = delay
        self.pu = pu
        self.in_flight = 0
        self.max_in_flight = 0
        self._base_url = base_url
        self._acquisitions = acquisitions
        self._lock = threading.Lock()

    @property
    def base_url(self) -> str:
        return self._base_url

    def search(self, query: Query, bbox: tuple[float, float, float, float]) -> Search:
        with self._lock:
            self.searches.append(query)
            self.search_bboxes.append(bbox)
        found = self._acquisitions
        if found is None:
            start = query.time_from.astimezone(timezone.utc).replace(tzinfo=None)
            found = (Acquisition("FAKE_T33TVM", start, 10.0, "33TVM"),)
        return Search(found, synthetic=self.synthetic)

    def __call__(self, request: TileRequest) -> FetchResult:
        with self._lock:
            self.calls.append(request)
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            time.sleep(self.delay)
            return FetchResult(self.content(request), self.pu, self.synthetic)
        finally:
            with self._lock:
                self.in_flight -= 1

    def content(self, request: TileRequest) -> bytes:
        """The response bytes for ``request``: bands (0 where no data) + ``dataMask``.

        A request ``geometry`` makes the pixels whose centre is outside it no data.
        """
        tile = request.tile
        n = len(request.query.bands)
        if self.fill is None:
            values = expected_values(tile.grid, n, tile.row, tile.col)
            mask = expected_mask(tile.grid, tile.row, tile.col).astype(np.float32)
        else:
            values = np.full((n, *tile.grid.shape), self.fill, np.float32)
            mask = np.ones(tile.grid.shape, np.float32)
        if request.geometry is not None:  # as the service: no data outside the geometry
            grid = tile.grid
            mask *= ~geometry_mask(
                [request.geometry], out_shape=grid.shape, transform=grid.transform
            )
        data = np.concatenate([values * mask, mask[None]]).astype(np.float32)
        tags = {SYNTHETIC_TAG: "1"} if self.synthetic else None
        return geotiff_bytes(data, crs=tile.grid.crs, transform=tile.grid.transform, tags=tags)
