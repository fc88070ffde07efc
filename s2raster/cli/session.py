"""The download session of ``fetch`` and ``truecolor``: the service the options name, its
notices (synthetic data, the estimated cost) and a progress bar over the plan's tiles."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import click

from s2raster.cli import report
from s2raster.cli.confirm import confirm_cost
from s2raster.cli.options import EndpointOptions, ServiceOptions
from s2raster.cli.progress import tile_progress

if TYPE_CHECKING:
    from collections.abc import Callable

    from sentinelhub.config import SHConfig

    from s2raster.plan import Plan

SYNTHETIC_NOTICE = "SYNTHETIC data from the local s2raster emulator, not Sentinel-2 observations."


@dataclass(frozen=True)
class Session:
    """What a download needs from the command line: the keyword arguments of ``load_plan``."""

    config: SHConfig
    cache: Any  # the ``cache`` argument of load: False, True, a directory or a TileCache
    concurrency: int
    progress: Callable[..., None]
    plan: Plan | None = None
    """The plan downloaded (a time series' plan has its dates: one request per date and tile)."""


@contextmanager
def service_config(endpoint: EndpointOptions) -> Iterator[tuple[SHConfig, bool]]:
    """Yield ``(SHConfig, synthetic)``: an in-process emulator's, or CDSE's from credentials.

    Nothing falls back to the emulator: without ``--emulator`` credentials must be found.
    """
    if endpoint.emulator:
        from s2raster.emulator import Emulator

        with Emulator() as emu:
            yield emu.config(), True
        return
    from s2raster.cdse import cdse_config, is_loopback_url

    kwargs: dict[str, Any] = {"profile": endpoint.profile}
    if endpoint.base_url:
        kwargs["base_url"] = endpoint.base_url
    if endpoint.token_url:
        kwargs["token_url"] = endpoint.token_url
        # SH_TOKEN_URL of an emulator in another process (`s2raster emulator` prints it):
        # the user named a loopback URL, so plain-HTTP OAuth is allowed for loopback only.
        kwargs["loopback_http"] = is_loopback_url(endpoint.token_url)
    yield cdse_config(**kwargs), False


def notice(message: str, *, quiet: bool) -> None:
    """An informational line on stderr, unless quiet."""
    if not quiet:
        click.echo(message, err=True)


@contextmanager
def download_session(
    service: ServiceOptions, plan: Plan, *, groupby: str | None = None
) -> Iterator[Session]:
    """Open the service, print its notices (the cost of what is not cached), ask about a
    large cost on a terminal, and show a progress bar over ``plan``'s requests.

    With ``groupby`` the catalog is searched first (:func:`s2raster.plan_series`) so that
    the estimate and the bar cover every date; the session's ``plan`` is that series plan.
    """
    from s2raster.job import estimate

    quiet = service.quiet
    with service_config(service.endpoint) as (config, synthetic):
        if synthetic:
            notice(f"Note: --emulator: {SYNTHETIC_NOTICE}", quiet=quiet)
        if groupby is not None:
            from s2raster.acquisitions import plan_series

            plan = plan_series(plan, groupby, config=config)
        cost = estimate(plan, service.cache, config.sh_base_url)
        notice(report.estimate_line(plan, cost), quiet=quiet)
        confirm_cost(
            cost.pu, cost.requests, threshold=service.confirm_above, confirmed=service.yes_cost
        )
        with tile_progress(len(plan.requests), quiet=quiet) as progress:
            yield Session(
                config=config,
                cache=service.cache,
                concurrency=service.concurrency,
                progress=progress,
                plan=plan,
            )
