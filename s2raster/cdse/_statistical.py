"""The Statistical API over sentinelhub-py: one ``SentinelHubStatistical`` request per zone.

:func:`build_statistical` makes the request whose payload equals
:func:`s2raster.statistical.payload`, its input bound to the configured base URL (as the
Process API's, :func:`~s2raster.cdse._request.bound_input`). :class:`CdseStatistics` sends
them: one OAuth session for all threads, at most ``concurrency`` in flight, sentinelhub-py's
retries (429 + ``retry-after``, 5xx) and its per-interval retry of ``EXECUTION_ERROR``
answers (``SentinelHubStatisticalDownloadClient``); every answer's PU and synthetic mark
are read from its headers.
"""

from __future__ import annotations

import threading
from typing import Any

from sentinelhub.api.statistical import SentinelHubStatistical
from sentinelhub.config import SHConfig
from sentinelhub.constants import CRS, MosaickingOrder, ResamplingType
from sentinelhub.data_collections import DataCollection
from sentinelhub.download.client import DownloadClient
from sentinelhub.download.sentinelhub_statistical_client import (
    SentinelHubStatisticalDownloadClient,
)
from sentinelhub.download.session import SentinelHubSession
from sentinelhub.geometry import BBox, Geometry

from s2raster.cdse import _redact
from s2raster.cdse._config import check_config
from s2raster.cdse._fetch import is_synthetic, mapped
from s2raster.cdse._request import _COLLECTIONS as COLLECTIONS
from s2raster.cdse._request import bound_input
from s2raster.contract import PU_HEADER
from s2raster.errors import InputError, ResponseError
from s2raster.fetch import FetchResult
from s2raster.statistical import LAST_INTERVAL, StatRequest


def build_statistical(request: StatRequest, config: SHConfig) -> SentinelHubStatistical:
    """The sentinelhub-py request for one zone (its payload equals statistical.payload)."""
    query, grid = request.query, request.grid
    if query.collection not in COLLECTIONS:
        raise InputError(
            f"unknown collection {query.collection!r}; use one of: {', '.join(COLLECTIONS)}"
        )
    extra = {"dataFilter": {"maxCloudCoverage": query.max_cloud}}
    input_data = SentinelHubStatistical.input_data(
        data_collection=DataCollection[COLLECTIONS[query.collection]],
        mosaicking_order=MosaickingOrder(query.mosaicking),
        upsampling=ResamplingType(query.upsampling),
        downsampling=ResamplingType(query.downsampling),
        other_args=extra if query.max_cloud is not None else None,
    )
    aggregation = SentinelHubStatistical.aggregation(
        evalscript=request.evalscript,
        time_interval=(query.time_from, query.time_to),
        aggregation_interval=request.interval,
        resolution=grid.res,
        other_args={"aggregationInterval": {"lastIntervalBehavior": LAST_INTERVAL}},
    )
    crs = CRS(int(grid.crs.split(":")[1]))
    return SentinelHubStatistical(
        aggregation=aggregation,
        input_data=[bound_input(input_data, config.sh_base_url)],
        bbox=BBox(grid.bounds, crs=crs),
        geometry=Geometry(request.geometry, crs=crs),
        calculations=request.calculations(),
        config=config,
    )


class _Client(SentinelHubStatisticalDownloadClient):
    """One client for all threads (one lock for its rate limit and token refreshes)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._shared_lock = threading.Lock()

    def download(self, *args: Any, **kwargs: Any) -> Any:
        self.lock = self._shared_lock
        return DownloadClient.download(self, *args, **kwargs)


class CdseStatistics:
    """Sends :class:`~s2raster.statistical.StatRequest` s to ``config.sh_base_url``."""

    def __init__(self, config: SHConfig, *, concurrency: int = 4) -> None:
        check_config(config)
        if isinstance(concurrency, bool) or not isinstance(concurrency, int) or concurrency < 1:
            raise InputError(f"concurrency must be a positive integer, got {concurrency!r}")
        _redact.install(config.sh_client_secret)
        self._config = config
        self._base_url: str = config.sh_base_url.rstrip("/")
        self.concurrency = concurrency
        self._slots = threading.BoundedSemaphore(concurrency)
        self._lock = threading.Lock()
        self._client: _Client | None = None

    def __repr__(self) -> str:
        return f"CdseStatistics(base_url={self.base_url!r}, concurrency={self.concurrency})"

    @property
    def base_url(self) -> str:
        return self._base_url

    def __call__(self, request: StatRequest) -> FetchResult:
        sh_request = build_statistical(request, self._config)
        with self._slots:
            try:
                client = self._get_client()
                responses = client.download(sh_request.download_list, decode_data=False)
            except Exception as exc:
                raise mapped(
                    exc, base_url=self.base_url, token_url=self._config.sh_token_url
                ) from exc
        response = responses[0]
        if response is None or not response.content:
            raise ResponseError(f"{self.base_url} answered with an empty body; retry the request")
        headers = {str(k).lower(): str(v) for k, v in (response.headers or {}).items()}
        try:
            pu = float(headers[PU_HEADER])
        except (KeyError, ValueError):
            pu = request.estimated_pu
        return FetchResult(bytes(response.content), pu, is_synthetic(headers))

    def _get_client(self) -> _Client:
        with self._lock:
            if self._client is None:
                session = SentinelHubSession(config=self._config)
                self._client = _Client(config=self._config, session=session)
            return self._client


def cdse_statistics(config: SHConfig, *, concurrency: int = 4) -> CdseStatistics:
    """A Statistical API sender for ``config.sh_base_url``; at most ``concurrency`` in flight."""
    return CdseStatistics(config, concurrency=concurrency)
