"""The only package that talks to the network or holds credentials (via sentinelhub-py).

- :func:`cdse_config` builds a :class:`sentinelhub.SHConfig` for CDSE (or any deployment);
  :func:`emulator_config` one for a local emulator (the one place plain-HTTP OAuth is
  allowed, for loopback URLs only).
- :func:`cdse_fetch` returns a :class:`~s2raster.fetch.Fetch`: catalog searches and one
  Process API request per :class:`~s2raster.plan.TileRequest`, at most ``concurrency`` in
  flight, one token shared by all threads.
- :func:`cdse_statistics` sends Statistical API requests (one per zone, sentinelhub-py's
  ``SentinelHubStatistical``), bound to the same base URL.
- :func:`redact` hides secrets; the log filter that applies it is installed by the code
  that sends credentials (``CdseFetch``, :func:`check_token`), never by building a config.
"""

from __future__ import annotations

from s2raster.cdse._config import (
    CDSE_BASE_URL,
    CDSE_TOKEN_URL,
    DOWNLOAD_SETTINGS,
    cdse_config,
    check_config,
    check_credentials,
    emulator_config,
)
from s2raster.cdse._fetch import CdseFetch, cdse_fetch, check_token
from s2raster.cdse._loopback import is_loopback_url
from s2raster.cdse._redact import redact
from s2raster.cdse._request import bound_collection, build_request
from s2raster.cdse._statistical import CdseStatistics, build_statistical, cdse_statistics
from s2raster.fetch import Fetch, FetchResult

__all__ = [
    "CDSE_BASE_URL",
    "CDSE_TOKEN_URL",
    "DOWNLOAD_SETTINGS",
    "CdseFetch",
    "CdseStatistics",
    "Fetch",
    "FetchResult",
    "bound_collection",
    "build_request",
    "build_statistical",
    "cdse_config",
    "cdse_fetch",
    "cdse_statistics",
    "check_config",
    "check_credentials",
    "check_token",
    "emulator_config",
    "is_loopback_url",
    "redact",
]
