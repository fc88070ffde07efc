"""The :class:`~s2raster.fetch.Fetch` over sentinelhub-py: Process API tiles and catalog search.

One OAuth session (token) shared by all threads, fetched only when the first request is.
Each request waits for its share of the per-minute quota first (:mod:`._pacing`: requests
and the PU the plan estimates); sentinelhub-py still honours a 429's ``retry-after`` and
retries 5xx and connection errors (``max_download_attempts``). Every answer's synthetic mark
(the emulator's ``x-s2raster-synthetic`` header) is read from the response itself, never
guessed from the URL.

A :class:`CdseFetch` pickles to a :class:`~._service.ServiceSpec` (no credentials) and is
rebuilt from the worker's own credentials on the other side (:mod:`._service`).
"""

from __future__ import annotations

import threading
import time
from typing import Any

from requests import Response
from sentinelhub.config import SHConfig
from sentinelhub.download.client import DownloadClient
from sentinelhub.download.models import DownloadRequest, DownloadResponse
from sentinelhub.download.sentinelhub_client import SentinelHubDownloadClient
from sentinelhub.download.session import SentinelHubSession
from sentinelhub.exceptions import DownloadFailedException

from s2raster.cdse import _catalog, _redact
from s2raster.cdse._body import send
from s2raster.cdse._config import check_config
from s2raster.cdse._errors import fresh_token_refused, map_error
from s2raster.cdse._pacing import Pacer
from s2raster.cdse._request import build_request
from s2raster.cdse._service import ServiceSpec, fetch_for, fingerprint, register
from s2raster.contract import PU_HEADER, SYNTHETIC_HEADER
from s2raster.cost import Quota
from s2raster.errors import InputError, ResponseError, S2RasterError
from s2raster.fetch import Fetch, FetchResult, Search
from s2raster.plan import TileRequest
from s2raster.query import Query


class _Client(SentinelHubDownloadClient):
    """One client for all threads: one lock guards its rate limit and token refreshes.

    (sentinelhub-py makes a fresh lock per ``download()`` call and drops it afterwards.)
    It also remembers whether any answer carried the synthetic-data header, counts the 429
    answers of each request and tells the pacer about them, and answers a 401 on a data
    request by fetching a new token once (``renewals`` counts them).
    """

    def __init__(self, *, pacer: Pacer | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._shared_lock = threading.Lock()
        self.synthetic = False
        self.pacer = pacer
        self._throttled: dict[int, int] = {}
        self.renewals = 0  # tokens fetched again after a 401

    def _do_download(self, request: DownloadRequest) -> Response:
        if request.url is None:  # as sentinelhub-py's own, streamed: one buffer per body
            raise ValueError(f"Faulty request {request}, no URL specified.")
        response = send(
            request.request_type.value,
            request.url,
            json=request.post_values,
            headers=self._prepare_headers(request),
            timeout=self.config.download_timeout_seconds,
        )
        if response.status_code == 429:
            with self._shared_lock:
                self._throttled[id(request)] = self._throttled.get(id(request), 0) + 1
            if self.pacer is not None:
                self.pacer.throttled(_retry_after_s(response.headers))
        return response

    def throttled(self, request: DownloadRequest) -> int:
        """How many 429s ``request`` got (and forget it)."""
        with self._shared_lock:
            return self._throttled.pop(id(request), 0)

    def download(self, *args: Any, **kwargs: Any) -> Any:
        self.lock = self._shared_lock
        return DownloadClient.download(self, *args, **kwargs)

    def _execute_download(self, request: DownloadRequest) -> DownloadResponse:
        """One request; a 401 on a data request gets a new token and one more try.

        A service may refuse a token before its announced expiry (clock skew, revocation);
        sentinelhub-py 3.12 refreshes a token only by its expiry time and fails on a 401
        (``fail_user_errors``). Only a second 401, with a token fetched just now, is a
        credentials error (:func:`~s2raster.cdse._errors.fresh_token_refused`); a refusal
        by the token endpoint itself surfaces from the refresh as such.
        """
        used = self._token_in_use() if request.use_session else None
        try:
            response = super()._execute_download(request)
        except DownloadFailedException as exc:
            if used is None or _status(exc) != 401:
                raise
            self._renew_token(used)
            try:
                response = super()._execute_download(request)
            except DownloadFailedException as again:
                if _status(again) != 401:
                    raise
                raise fresh_token_refused(again, self.config.sh_base_url) from again
        if is_synthetic(response.headers):
            self.synthetic = True
        return response

    def _token_in_use(self) -> str:
        with self._shared_lock:
            return str(self.get_session().token["access_token"])

    def _renew_token(self, refused: str) -> None:
        """A new session (token), unless another thread replaced the refused one already."""
        with self._shared_lock:
            if str(self.get_session().token["access_token"]) == refused:
                self.session = SentinelHubSession(config=self.config)
                self.renewals += 1


def _status(exc: DownloadFailedException) -> int | None:
    response = getattr(exc.request_exception, "response", None)
    return getattr(response, "status_code", None)


def is_synthetic(headers: Any) -> bool:
    """True if response ``headers`` carry the emulator's synthetic-data mark."""
    found = {str(k).lower(): str(v) for k, v in (headers or {}).items()}
    return found.get(SYNTHETIC_HEADER, "").strip() == "1"


class CdseFetch:
    """A :class:`~s2raster.fetch.Fetch` over sentinelhub-py; see :func:`cdse_fetch`.

    Picklable: it travels as its :class:`~._service.ServiceSpec` (no credentials).
    """

    def __init__(
        self,
        config: SHConfig,
        *,
        concurrency: int = 4,
        quota: Quota | None = None,
        share: float = 1.0,
    ) -> None:
        check_config(config)
        if isinstance(concurrency, bool) or not isinstance(concurrency, int) or concurrency < 1:
            raise InputError(f"concurrency must be a positive integer, got {concurrency!r}")
        if quota is None:
            quota = Quota()
        elif not isinstance(quota, Quota):
            raise InputError(
                f"quota must be an s2raster.Quota (e.g. Quota(pu_per_minute=300)), got {quota!r}"
            )
        _redact.install(config.sh_client_secret)
        self._config = config
        self._base_url: str = config.sh_base_url.rstrip("/")
        self.concurrency = concurrency
        self.quota = quota
        self.pacer = Pacer(quota, share=share)
        self.spec = ServiceSpec(
            self._base_url, config.sh_token_url, fingerprint(config), concurrency, quota
        )
        register(self.spec, self)
        self._slots = threading.BoundedSemaphore(concurrency)
        self._lock = threading.Lock()
        self._client: _Client | None = None

    def __repr__(self) -> str:
        return f"CdseFetch(base_url={self.base_url!r}, concurrency={self.concurrency})"

    def __reduce__(self) -> tuple[Any, tuple[ServiceSpec]]:
        return (fetch_for, (self.spec,))

    @property
    def base_url(self) -> str:
        return self._base_url

    @property
    def token_renewals(self) -> int:
        """How many times a 401 made this fetch get a new token (and try once more)."""
        return 0 if self._client is None else self._client.renewals

    def search(self, query: Query, bbox: tuple[float, float, float, float]) -> Search:
        """The catalog's acquisitions for ``query`` over the lon/lat ``bbox`` (all pages)."""
        try:
            client = self._get_client()
            found = _catalog.search(self._config, client, query, bbox)
        except Exception as exc:
            raise self._mapped(exc) from exc
        return Search(found, synthetic=client.synthetic)

    def __call__(self, request: TileRequest) -> FetchResult:
        sh_request = build_request(request, self._config)
        estimate = request.estimated_pu
        download = sh_request.download_list[0]
        with self._slots:
            try:
                client = self._get_client()
            except Exception as exc:
                raise self._mapped(exc) from exc
            self.pacer.wait(estimate)
            try:
                responses = client.download([download], decode_data=False)
            except Exception as exc:
                client.throttled(download)
                raise self._mapped(exc) from exc
        response = responses[0]
        if response is None or not response.content:
            raise ResponseError(f"{self.base_url} answered with an empty body; retry the request")
        headers = {str(k).lower(): str(v) for k, v in (response.headers or {}).items()}
        spent = _pu(headers.get(PU_HEADER), estimate)
        self.pacer.settle(estimate, spent)
        return FetchResult(
            content=response.content,  # bytes, or the one bytearray of a large body
            processing_units=spent,
            synthetic=is_synthetic(headers),
            throttled=client.throttled(download),
        )

    def _get_client(self) -> _Client:
        """The shared client; its session gets the one token on first use (here, not before)."""
        with self._lock:
            if self._client is None:
                session = SentinelHubSession(config=self._config)
                self._client = _Client(config=self._config, session=session, pacer=self.pacer)
            return self._client

    def _mapped(self, exc: BaseException) -> S2RasterError:
        return mapped(exc, base_url=self.base_url, token_url=self._config.sh_token_url)


def cdse_fetch(config: SHConfig, *, concurrency: int = 4, quota: Quota | None = None) -> Fetch:
    """A :class:`Fetch` that asks ``config.sh_base_url``: at most ``concurrency`` in flight,
    paced to ``quota`` (default: the free tier's 300 requests and 300 PU a minute)."""
    return CdseFetch(config, concurrency=concurrency, quota=quota)


def check_token(config: SHConfig) -> float:
    """Get a token from ``config.sh_token_url`` now; return its lifetime in seconds.

    The one request ``s2raster config check`` makes. Raises :class:`CredentialsError` if
    the credentials are missing or refused, :class:`NetworkError` if the endpoint is down.
    """
    check_config(config)
    _redact.install(config.sh_client_secret)
    try:
        session = SentinelHubSession(config=config)
    except Exception as exc:
        raise mapped(exc, base_url=config.sh_base_url, token_url=config.sh_token_url) from exc
    return max(0.0, float(session.token["expires_at"]) - time.time())


def mapped(exc: BaseException, *, base_url: str, token_url: str) -> S2RasterError:
    """:func:`map_error`, with any secret or token in its message replaced by ``***``."""
    error = map_error(exc, base_url=base_url, token_url=token_url)
    text = str(error)
    clean = _redact.redact(text)
    if clean != text:
        error.args = (clean,)
    return error


def _retry_after_s(headers: Any) -> float:
    """A 429's ``retry-after`` (milliseconds on Sentinel Hub) in seconds; 0 if unreadable."""
    try:
        return max(0.0, float(headers.get("retry-after", 0))) / 1000.0
    except (TypeError, ValueError):
        return 0.0


def _pu(header: str | None, estimate: float) -> float:
    try:
        return float(header) if header is not None else estimate
    except ValueError:
        return estimate
