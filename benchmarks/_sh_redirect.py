"""A pytest plugin for running sentinelhub-py's own tests against the local emulator.

Loaded by ``run_sentinelhub_tests.py`` into the pytest process that runs the snapshot's
tests (``-p _sh_redirect``), never into this repository's test suite. It does what a hosts
file entry would: requests for the public Sentinel Hub deployments (``*.sentinel-hub.com``,
``sh.dataspace.copernicus.eu``) go to the emulator at ``S2RASTER_SH_EMULATOR`` instead, and
any other host that is not loopback is refused, so the run talks to loopback only. OAuth
over plain HTTP is allowed for loopback URLs only (by :func:`s2raster.cdse.emulator_config`).

With ``S2RASTER_SH_SHAPES_ONLY=1``, ``sentinelhub.testing_utils.assert_statistics_match``
checks the shape only: the pixel statistics of real scenes cannot match synthetic data,
and relaxing them shows whether the rest of each test (metadata, userdata, errors) holds.
"""

from __future__ import annotations

import os
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest
import requests
from requests.adapters import HTTPAdapter

from s2raster.cdse import emulator_config, is_loopback_url

SERVICE_SUFFIXES = (".sentinel-hub.com", "sh.dataspace.copernicus.eu")


def redirected(url: str, emulator: str) -> str:
    """``url`` on the emulator if it is a Sentinel Hub service URL; else ``url``."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if not host.endswith(SERVICE_SUFFIXES):
        return url
    target = urlsplit(emulator)
    return urlunsplit((target.scheme, target.netloc, parts.path, parts.query, parts.fragment))


def pytest_configure() -> None:
    emulator = os.environ["S2RASTER_SH_EMULATOR"]
    if not is_loopback_url(emulator):
        raise pytest.UsageError(f"S2RASTER_SH_EMULATOR={emulator!r} is not a loopback URL")
    emulator_config(  # switches plain-HTTP OAuth on, for loopback URLs only
        base_url=emulator,
        token_url=os.environ["SH_TOKEN_URL"],
        client_id=os.environ["SH_CLIENT_ID"],
        client_secret=os.environ["SH_CLIENT_SECRET"],
    )
    send = HTTPAdapter.send

    def loopback_send(adapter: HTTPAdapter, request: Any, *args: Any, **kwargs: Any) -> Any:
        request.url = redirected(request.url, emulator)
        if not is_loopback_url(request.url):
            host = urlsplit(request.url).hostname
            raise requests.ConnectionError(f"this test run talks to loopback only, not to {host}")
        return send(adapter, request, *args, **kwargs)

    HTTPAdapter.send = loopback_send  # type: ignore[method-assign]
    if os.environ.get("S2RASTER_SH_SHAPES_ONLY") == "1":
        import sentinelhub.testing_utils as testing_utils

        testing_utils.assert_statistics_match = shape_only  # type: ignore[assignment]


def shape_only(data: Any, exp_shape: Any = None, **_: Any) -> None:
    """``assert_statistics_match`` without the statistics."""
    if exp_shape is not None:
        assert data.shape == exp_shape, f"shape {data.shape} != {exp_shape}"
