"""Fakes for tests of code built on s2raster (as ``xarray.testing`` is for xarray's users).

- :class:`FakeFetch`: a :class:`~s2raster.fetch.Fetch` that answers every tile as the Process
  API would answer the client's evalscript (the asked bands + ``dataMask``), with values that
  encode the pixel's position in the whole grid (:func:`expected_values`), so a misplaced
  tile or a wrong mosaic shows at once. No network.
- :class:`FakeStatistics`: answers Statistical API requests as the service's JSON, every
  pixel centre inside the polygon valid and worth ``fill`` (intervals in ``missing`` left
  out, as the service leaves out intervals without data).
- :func:`geotiff_bytes`: a GeoTIFF of an array in memory, georeferenced on a grid.
- :func:`date_values`: a ``values=`` answer for :class:`FakeFetch` that encodes the date of
  the request's ``timeRange`` (:func:`date_code`), to check time series step by step.

Unit tests only: integration tests go through real HTTP to the emulator.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Mapping
from datetime import datetime, timezone

import numpy as np
from affine import Affine
from rasterio.features import geometry_mask
from rasterio.io import MemoryFile

from s2raster.contract import SYNTHETIC_TAG
from s2raster.errors import ResponseError
from s2raster.fetch import Acquisition, FetchResult, Search
from s2raster.grid import Grid
from s2raster.plan import TileRequest
from s2raster.query import Query
from s2raster.statistical import StatRequest
from s2raster.timerange import format_time

__all__ = [
    "FakeFetch",
    "FakeStatistics",
    "date_code",
    "date_values",
    "expected_mask",
    "expected_values",
    "geotiff_bytes",
]

#: Day 0 of :func:`date_code`.
DATE_EPOCH = datetime(2000, 1, 1, tzinfo=timezone.utc)


def date_code(moment: datetime) -> int:
    """Whole days from 2000-01-01 to ``moment`` (UTC; naive is UTC)."""
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=timezone.utc)
    return (aware - DATE_EPOCH).days


def date_values(request: TileRequest) -> np.ndarray:
    """``band * 100000 + date_code(request.query.time_from)`` in every pixel (float32,
    exact), all valid: which step a chunk came from shows in its values."""
    n = len(request.query.bands)
    code = date_code(request.query.time_from)
    values = [np.full(request.tile.grid.shape, k * 100_000 + code, np.float32) for k in range(n)]
    return np.stack(values)


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
    :meth:`search` finds (default: one, at the start of the query's time range), filtered
    as the catalog would: inside the query's time range, at most ``max_cloud``; ``fill``
    answers that value in every band and pixel (all valid) instead of the positions;
    ``values(request)`` the ``(band, y, x)`` array it returns (NaN: no data), e.g.
    :func:`date_values`.
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
        values: Callable[[TileRequest], np.ndarray] | None = None,
    ) -> None:
        self.fill = fill
        self.values = values
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
        start = query.time_from.astimezone(timezone.utc).replace(tzinfo=None)
        end = query.time_to.astimezone(timezone.utc).replace(tzinfo=None)
        found = self._acquisitions
        if found is None:
            found = (Acquisition("FAKE_T33TVM", start, 10.0, "33TVM"),)
        kept = tuple(
            a
            for a in found
            if start <= a.datetime <= end
            and (
                query.max_cloud is None
                or (a.cloud_cover is not None and a.cloud_cover <= query.max_cloud)
            )
        )
        return Search(kept, synthetic=self.synthetic)

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
        if self.values is not None:
            answer = np.asarray(self.values(request), np.float32)
            mask = np.asarray(np.isfinite(answer).all(axis=0), np.float32)
            values = np.nan_to_num(answer)
        elif self.fill is None:
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


class FakeStatistics:
    """A fake Statistical API: counted calls, canned answers, optional delay and failure.

    Each answered interval has, for every output band, ``mean`` = ``fill``, ``sampleCount``
    = the request grid's pixels and ``noDataCount`` = those outside the polygon.
    ``missing`` holds interval starts (``"2024-06-01T00:00:00Z"``) answered as no data;
    ``fail_zone`` makes the request of that zone raise.
    """

    def __init__(
        self,
        *,
        fill: float = 0.5,
        synthetic: bool = False,
        delay: float = 0.0,
        pu: float | None = None,
        base_url: str = "https://fake.invalid",
        missing: tuple[str, ...] = (),
        fail_zone: object = None,
    ) -> None:
        self.fill, self.synthetic, self.delay, self.pu = fill, synthetic, delay, pu
        self.missing, self.fail_zone = set(missing), fail_zone
        self.calls: list[StatRequest] = []
        self.in_flight = self.max_in_flight = 0
        self._base_url = base_url
        self._lock = threading.Lock()

    @property
    def base_url(self) -> str:
        return self._base_url

    def __call__(self, request: StatRequest) -> FetchResult:
        with self._lock:
            self.calls.append(request)
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            time.sleep(self.delay)
            if self.fail_zone is not None and request.zone == self.fail_zone:
                raise ResponseError(f"fake failure for zone {request.zone!r}")
            content = json.dumps(self.answer(request)).encode()
            pu = request.estimated_pu if self.pu is None else self.pu
            return FetchResult(content, pu, self.synthetic)
        finally:
            with self._lock:
                self.in_flight -= 1

    def answer(self, request: StatRequest) -> dict[str, object]:
        """The JSON answer to ``request``."""
        samples = request.grid.width * request.grid.height
        stats = {
            "min": self.fill,
            "max": self.fill,
            "mean": self.fill,
            "stDev": 0.0,
            "sampleCount": samples,
            "noDataCount": samples - request.pixels,
            "percentiles": {f"{k:.1f}": self.fill for k in request.percentiles},
        }
        bands = {f"B{k}": {"stats": stats} for k in range(len(request.outputs.names))}
        data = []
        for lo, hi in request.intervals:
            start = format_time(lo)
            if start not in self.missing:
                interval = {"from": start, "to": format_time(hi)}
                data.append({"interval": interval, "outputs": {"data": {"bands": bands}}})
        return {"data": data, "status": "OK"}
