"""Options shared by the CLI commands, and the small parsers behind them."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import click

from s2raster import report
from s2raster.bands import COLLECTIONS
from s2raster.cli_progress import tile_progress
from s2raster.contract import MOSAICKING_ORDERS
from s2raster.errors import InputError
from s2raster.plan import Plan

F = TypeVar("F", bound=Callable[..., Any])

GEOTIFF_SUFFIXES = (".tif", ".tiff")


def _compose(*decorators: Callable[[F], F]) -> Callable[[F], F]:
    def apply(func: F) -> F:
        for decorator in reversed(decorators):
            func = decorator(func)
        return func

    return apply


def area_options(*, time_required: bool = True) -> Callable[[F], F]:
    """--bbox, --bbox-crs, --time, --crs, --collection, --mosaicking, --max-cloud, --yes."""
    time_help = "Time range START/END (ISO dates; the END date is inclusive)."
    if not time_required:
        time_help += " Default: the last 30 days."
    return _compose(
        click.option(
            "--bbox",
            nargs=4,
            type=float,
            required=True,
            metavar="MINX MINY MAXX MAXY",
            help="Area of interest in --bbox-crs (lon/lat order for EPSG:4326).",
        ),
        click.option("--bbox-crs", default="EPSG:4326", show_default=True, help="CRS of --bbox."),
        click.option("--time", "time", required=time_required, metavar="START/END", help=time_help),
        click.option(
            "--crs", default=None, help="Output CRS, e.g. EPSG:32633. Default: the UTM zone."
        ),
        click.option(
            "--collection",
            type=click.Choice(COLLECTIONS),
            default="sentinel-2-l2a",
            show_default=True,
            help="Sentinel-2 collection.",
        ),
        click.option(
            "--mosaicking",
            type=click.Choice(MOSAICKING_ORDERS),
            default="mostRecent",
            show_default=True,
            help="Which scene wins where several cover a pixel.",
        ),
        click.option(
            "--max-cloud",
            type=click.FloatRange(0, 100),
            default=None,
            help="Skip scenes with more cloud cover than this (percent).",
        ),
        click.option(
            "--yes",
            "-y",
            is_flag=True,
            help="Confirm an area above the size limit (100 million px per band).",
        ),
    )


def service_options(func: F) -> F:
    """--emulator, credentials, --concurrency, --cache-dir/--no-cache, -q."""
    return _compose(
        click.option(
            "--emulator",
            is_flag=True,
            help="Use the built-in local emulator: SYNTHETIC data, not Sentinel-2.",
        ),
        click.option("--profile", default=None, help="sentinelhub-py profile with credentials."),
        click.option(
            "--base-url",
            envvar="SH_BASE_URL",
            default=None,
            help="Process API base URL [env SH_BASE_URL; default: CDSE].",
        ),
        click.option(
            "--token-url",
            envvar="SH_TOKEN_URL",
            default=None,
            help="OAuth token URL [env SH_TOKEN_URL; default: CDSE].",
        ),
        click.option(
            "--concurrency",
            type=click.IntRange(1, 64),
            default=4,
            show_default=True,
            help="Parallel requests.",
        ),
        click.option(
            "--cache-dir",
            type=click.Path(file_okay=False, path_type=Path),
            default=None,
            help="Tile cache directory. Default: the user cache directory (none with --emulator).",
        ),
        click.option("--no-cache", is_flag=True, help="Neither read nor write the tile cache."),
        click.option("-q", "--quiet", is_flag=True, help="No progress bar, no notices."),
    )(func)


def parse_list(value: str | None) -> list[str]:
    """``"B02, B03,,B04"`` -> ``["B02", "B03", "B04"]``; None -> []."""
    if not value:
        return []
    return [item.strip() for item in value.split(",") if item.strip()]


def check_output(path: Path, suffixes: tuple[str, ...]) -> Path:
    """Refuse an output with an unknown extension or in a missing directory."""
    if path.suffix.lower() not in suffixes:
        wanted = " or ".join(suffixes)
        raise InputError(f"output {str(path)!r} must end with {wanted}: rename it with -o")
    if not path.parent.is_dir():
        raise InputError(
            f"output directory {str(path.parent)!r} does not exist: create it or change -o"
        )
    if path.is_dir():
        raise InputError(f"output {str(path)!r} is a directory: give a file name with -o")
    return path


def cache_arg(cache_dir: Path | None, no_cache: bool, *, emulator: bool = False) -> bool | Path:
    """The ``cache`` argument of :func:`s2raster.load.load`.

    With ``--emulator`` the default is no cache: each run's emulator has a new port, so its
    tiles could never be found again (an explicit ``--cache-dir`` is still honoured).
    """
    if no_cache or (emulator and cache_dir is None):
        return False
    return cache_dir if cache_dir is not None else True


@contextmanager
def service_config(
    *, emulator: bool, profile: str | None, base_url: str | None, token_url: str | None
) -> Iterator[tuple[Any, bool]]:
    """Yield ``(SHConfig, synthetic)``: an in-process emulator's, or CDSE's from credentials.

    Nothing falls back to the emulator: without ``emulator=True`` credentials must be found.
    """
    if emulator:
        from s2raster.emulator import Emulator

        with Emulator() as emu:
            yield emu.config(), True
        return
    from s2raster.cdse import cdse_config, is_loopback_url

    kwargs: dict[str, Any] = {"profile": profile}
    if base_url:
        kwargs["base_url"] = base_url
    if token_url:
        kwargs["token_url"] = token_url
        # SH_TOKEN_URL of an emulator in another process (`s2raster emulator` prints it):
        # the user named a loopback URL, so plain-HTTP OAuth is allowed for loopback only.
        kwargs["loopback_http"] = is_loopback_url(token_url)
    yield cdse_config(**kwargs), False


SYNTHETIC_NOTICE = "SYNTHETIC data from the local s2raster emulator, not Sentinel-2 observations."


def notice(message: str, *, quiet: bool) -> None:
    """An informational line on stderr, unless quiet."""
    if not quiet:
        click.echo(message, err=True)


@contextmanager
def download_session(opts: dict[str, Any], plan: Plan) -> Iterator[dict[str, Any]]:
    """The service the options name, its notices (synthetic data, the estimated cost) and a
    progress bar over the plan's tiles: yields the keyword arguments of ``load_plan``."""
    quiet = opts["quiet"]
    with service_config(
        emulator=opts["emulator"],
        profile=opts["profile"],
        base_url=opts["base_url"],
        token_url=opts["token_url"],
    ) as (config, synthetic):
        if synthetic:
            notice(f"Note: --emulator: {SYNTHETIC_NOTICE}", quiet=quiet)
        notice(report.estimate_line(plan), quiet=quiet)
        with tile_progress(len(plan.tiles), quiet=quiet) as progress:
            yield {
                "config": config,
                "cache": cache_arg(opts["cache_dir"], opts["no_cache"], emulator=opts["emulator"]),
                "concurrency": opts["concurrency"],
                "progress": progress,
                "max_pu": opts["max_pu"],
            }
