"""A fetch that pickles without its credentials, and is rebuilt once per worker process.

:class:`ServiceSpec` is what a pickled :class:`~s2raster.cdse.CdseFetch` carries: the
service URLs, the concurrency and quota, and a fingerprint of the OAuth client (a salted
SHA-256 of id and secret, which cannot be turned back into either). Never the id or the
secret: they stay in the process that built the config.

Unpickling (:func:`fetch_for`) looks the spec up in this process first (the caller's own
fetch, with the config it was given); a ``distributed`` worker process has none, so it gets
a :class:`WorkerFetch` that, on its first request (in a task, not while the graph is
unpickled), builds one from *its own* credentials, as :func:`~s2raster.cdse.cdse_config` finds them
(``SH_CLIENT_ID`` / ``SH_CLIENT_SECRET``, else the sentinelhub profile), and refuses
(:class:`CredentialsError`) if they are not the same client. That is the design choice:
secrets are provisioned on workers like any other deployment secret (environment, profile,
a secrets manager), never shipped inside the graph, encrypted or not — an encrypted secret
would need its key on the workers anyway. Each worker then fetches its own token.

Workers rebuild the fetch once per process (kept for the :data:`KEPT` most recent specs):
one token, one pacer and one HTTP client per worker, not per task.
"""

from __future__ import annotations

import hashlib
import threading
import weakref
from collections import OrderedDict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sentinelhub.config import SHConfig

from s2raster.cost import Quota
from s2raster.errors import CredentialsError
from s2raster.fetch import FetchResult, Search
from s2raster.plan import TileRequest
from s2raster.query import Query

if TYPE_CHECKING:
    from s2raster.cdse._fetch import CdseFetch

#: Rebuilt fetches a process keeps (oldest dropped first).
KEPT = 16

_lock = threading.Lock()
_made_here: weakref.WeakValueDictionary[str, CdseFetch] = weakref.WeakValueDictionary()
_rebuilt: OrderedDict[str, CdseFetch] = OrderedDict()


@dataclass(frozen=True)
class ServiceSpec:
    """Everything a worker needs to rebuild a fetch, nothing secret."""

    base_url: str
    token_url: str
    fingerprint: str
    concurrency: int
    quota: Quota

    @property
    def id(self) -> str:
        """A stable, non-secret id of this spec (the per-process cache key)."""
        text = repr((self.base_url, self.token_url, self.fingerprint, self.concurrency, self.quota))
        return hashlib.sha256(text.encode()).hexdigest()[:32]


def fingerprint(config: SHConfig) -> str:
    """A salted SHA-256 of the config's client id and secret (not reversible)."""
    text = "\0".join(("s2raster-oauth-client", config.sh_client_id, config.sh_client_secret))
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def register(spec: ServiceSpec, fetch: CdseFetch) -> None:
    """Remember ``fetch`` (made in this process from a full config) under ``spec``."""
    with _lock:
        _made_here[spec.id] = fetch


def fetch_for(spec: ServiceSpec) -> CdseFetch | WorkerFetch:
    """What a pickled fetch becomes: the caller's own fetch in the caller's process, else a
    :class:`WorkerFetch` (see the module docstring)."""
    with _lock:
        found = _made_here.get(spec.id)
    return found if found is not None else WorkerFetch(spec)


class WorkerFetch:
    """A :class:`~s2raster.fetch.Fetch` for ``spec`` in a process without its config: the
    real fetch is built from this process's credentials on first use, once per process."""

    def __init__(self, spec: ServiceSpec) -> None:
        self.spec = spec

    def __repr__(self) -> str:
        return f"WorkerFetch(base_url={self.spec.base_url!r})"

    def __reduce__(self) -> tuple[Any, tuple[ServiceSpec]]:
        return (fetch_for, (self.spec,))

    @property
    def base_url(self) -> str:
        return self.spec.base_url

    def search(self, query: Query, bbox: tuple[float, float, float, float]) -> Search:
        return _worker_fetch(self.spec).search(query, bbox)

    def __call__(self, request: TileRequest) -> FetchResult:
        return _worker_fetch(self.spec)(request)


def _worker_fetch(spec: ServiceSpec) -> CdseFetch:
    key = spec.id
    with _lock:
        found = _made_here.get(key) or _rebuilt.get(key)
    if found is not None:
        return found
    fetch = _rebuild(spec)
    with _lock:
        found = _rebuilt.setdefault(key, fetch)
        while len(_rebuilt) > KEPT:
            _rebuilt.popitem(last=False)
        return found


def _rebuild(spec: ServiceSpec) -> CdseFetch:
    from s2raster.cdse._config import cdse_config
    from s2raster.cdse._fetch import CdseFetch
    from s2raster.cdse._loopback import is_loopback_url

    loopback = is_loopback_url(spec.base_url) and is_loopback_url(spec.token_url)
    try:
        config = cdse_config(
            base_url=spec.base_url, token_url=spec.token_url, loopback_http=loopback
        )
    except CredentialsError as exc:
        raise CredentialsError(
            f"this worker process has no credentials for {spec.base_url}: the graph carries "
            "none, so set SH_CLIENT_ID and SH_CLIENT_SECRET (or a sentinelhub profile) on "
            f"every worker ({exc})"
        ) from None
    if fingerprint(config) != spec.fingerprint:
        raise CredentialsError(
            f"this worker process's credentials (SH_CLIENT_ID/SH_CLIENT_SECRET or its "
            f"sentinelhub profile) are not the OAuth client the load was made with for "
            f"{spec.base_url}: give every worker the same client"
        )
    return CdseFetch(config, concurrency=spec.concurrency, quota=spec.quota, share=_worker_share())


def _worker_share() -> float:
    """1 / the number of workers of the ``distributed`` cluster running this task, else 1.

    Each worker paces itself to that share of the quota, so the cluster as a whole stays
    within it (a worker with no tile to fetch leaves its share unused).
    """
    import sys

    module: Any = sys.modules.get("distributed")
    if module is None:
        return 1.0
    try:
        module.get_worker()
        info = module.get_client().scheduler_info(n_workers=-1)
        return 1.0 / max(1, len(info.get("workers", {})))
    except Exception:  # not in a worker, or the scheduler cannot say: the whole quota
        return 1.0
