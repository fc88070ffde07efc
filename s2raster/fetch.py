"""The seam between the pipeline and the service: what :func:`s2raster.load` asks of it.

:class:`Fetch` is a :class:`typing.Protocol`: :class:`s2raster.cdse.CdseFetch` implements it
over sentinelhub-py, :mod:`s2raster.testing` with fakes for unit tests. Pure data here; no
I/O.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from s2raster.plan import TileRequest
from s2raster.query import Query

__all__ = ["Acquisition", "Fetch", "FetchResult", "Search"]


@dataclass(frozen=True)
class FetchResult:
    """A Process API response: the raw bytes (a large body may be a ``bytearray``, read in
    place), the PU it cost and the synthetic mark, and how many times the service answered
    429 before it (each retried after ``retry-after``)."""

    content: bytes | bytearray = field(repr=False)
    processing_units: float
    synthetic: bool
    from_cache: bool = False
    throttled: int = 0


@dataclass(frozen=True)
class Acquisition:
    """One catalog item: a tile of one overpass (UTC, tz-naive; milliseconds kept)."""

    id: str
    datetime: datetime
    cloud_cover: float | None = None
    tile: str = ""


@dataclass(frozen=True)
class Search:
    """What a catalog search found, and whether the service said its data is synthetic."""

    acquisitions: tuple[Acquisition, ...]
    synthetic: bool


class Fetch(Protocol):
    """Anything that answers tile requests and catalog searches (CDSE, a fake).

    ``base_url`` names the service (it is part of every cache key); ``search`` lists the
    acquisitions of a query over a lon/lat bbox; calling it with a tile request returns the
    response bytes.
    """

    @property
    def base_url(self) -> str: ...

    def search(self, query: Query, bbox: tuple[float, float, float, float]) -> Search: ...

    def __call__(self, request: TileRequest) -> FetchResult: ...
