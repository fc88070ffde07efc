"""Options shared by the CLI commands, each group parsed once into a typed frozen dataclass.

A group decorator (:func:`area_options`, :func:`endpoint_options`, :func:`service_options`,
:func:`job_options`) adds its click options and hands the command one keyword argument
(``area``, ``endpoint``, ``service``, ``job``) built from them by the group's ``from_kwargs``
(:class:`AreaOptions`, :class:`EndpointOptions`, :class:`ServiceOptions`, :class:`JobOptions`):
past the command's signature nothing is a ``dict`` of options.

Only light modules are imported here (click, :mod:`s2raster.bands`, :mod:`s2raster.contract`,
:mod:`s2raster.errors`, :mod:`s2raster.cli.confirm`), so that ``--help`` does not load the
scientific stack.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from s2raster.bands import COLLECTIONS
from s2raster.cli._parsed import (
    AreaOptions,
    EndpointOptions,
    JobOptions,
    Kwargs,
    SeriesOptions,
    ServiceOptions,
    parse_list,
)
from s2raster.cli.confirm import CONFIRM_PU
from s2raster.contract import MOSAICKING_ORDERS
from s2raster.grouping import GROUPBY

__all__ = [
    "GEOTIFF_SUFFIXES",
    "AreaOptions",
    "EndpointOptions",
    "JobOptions",
    "SeriesOptions",
    "ServiceOptions",
    "area_options",
    "catalog_options",
    "check_output",
    "endpoint_options",
    "job_options",
    "max_pu_option",
    "parse_list",
    "series_options",
    "service_options",
]

Decorator = Callable[[Callable[..., Any]], Callable[..., Any]]

GEOTIFF_SUFFIXES = (".tif", ".tiff")
#: The methods of :func:`s2raster.composite` (kept here so ``--help`` imports no numpy; a
#: test checks they agree).
COMPOSITE_METHODS = ("median", "mean", "min", "max", "first", "last", "greenest")


def _group(name: str, build: Callable[[Kwargs], object], *options: Decorator) -> Decorator:
    """Add ``options`` to a command and pass it ``name=build(kwargs)`` instead of them."""

    def decorator(func: Callable[..., Any]) -> Callable[..., Any]:
        def parsed(**kwargs: Any) -> Any:
            kwargs[name] = build(kwargs)
            return func(**kwargs)

        command: Callable[..., Any] = functools.wraps(func)(parsed)
        for option in reversed(options):
            command = option(command)
        return command

    return decorator


def max_pu_option() -> Decorator:
    """--max-pu."""
    return click.option(
        "--max-pu",
        type=click.FloatRange(min=0, min_open=True),
        default=None,
        help="Refuse a job estimated above this many processing units.",
    )


def geometry_option(help_text: str) -> Decorator:
    """--geometry FILE (a vector file of polygons)."""
    return click.option(
        "--geometry",
        type=click.Path(exists=True, dir_okay=False, path_type=Path),
        default=None,
        metavar="FILE",
        help=help_text,
    )


def area_options(
    *, time_required: bool = True, geometry: bool = False, mosaicking: str = "mostRecent"
) -> Decorator:
    """--bbox, --bbox-crs, --time, --crs, --collection, --mosaicking, --max-cloud, --yes.

    With ``geometry``, also --geometry FILE, and one of --bbox and --geometry is needed.
    """
    time_help = "Time range START/END (ISO dates; the END date is inclusive)."
    if not time_required:
        time_help += " Default: the last 30 days."
    bbox_help = "Area of interest in --bbox-crs (lon/lat order for EPSG:4326)."
    extra: list[Decorator] = []
    if geometry:
        bbox_help += " Or give --geometry."
        extra.append(
            geometry_option(
                "Area of interest as polygons (GeoJSON, GeoPackage, Shapefile); pixels outside "
                "them are no data."
            )
        )
    return _group(
        "area",
        AreaOptions.from_kwargs,
        click.option(
            "--bbox",
            nargs=4,
            type=float,
            required=not geometry,
            default=None,
            metavar="MINX MINY MAXX MAXY",
            help=bbox_help,
        ),
        *extra,
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
            default=mosaicking,
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
            help="Confirm an area above the size limit (100 million px per band); "
            "the cost has its own answer, --yes-cost.",
        ),
    )


def _endpoint_options(emulator_help: str, *, defaults_help: bool = True) -> list[Decorator]:
    default = "; default: CDSE" if defaults_help else ""
    return [
        click.option("--emulator", is_flag=True, help=emulator_help),
        click.option("--profile", default=None, help="sentinelhub-py profile with credentials."),
        click.option(
            "--base-url",
            envvar="SH_BASE_URL",
            default=None,
            help=f"Process API base URL [env SH_BASE_URL{default}].",
        ),
        click.option(
            "--token-url",
            envvar="SH_TOKEN_URL",
            default=None,
            help=f"OAuth token URL [env SH_TOKEN_URL{default}].",
        ),
    ]


def endpoint_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """--emulator, --profile, --base-url, --token-url (for ``config check``)."""
    options = _endpoint_options(
        "Check against the built-in local emulator (SYNTHETIC data) instead.",
        defaults_help=False,
    )
    return _group("endpoint", EndpointOptions.from_kwargs, *options)(func)


def catalog_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """--emulator, --profile, --base-url, --token-url: where the catalog is searched."""
    options = _endpoint_options(
        "Search the built-in local emulator's catalog (SYNTHETIC data) instead."
    )
    return _group("endpoint", EndpointOptions.from_kwargs, *options)(func)


def groupby_option(*, with_none: bool = False) -> Decorator:
    """--groupby: solar_day (one step per local solar day) or time (one per overpass)."""
    choices = (*GROUPBY, "none") if with_none else GROUPBY
    return click.option(
        "--groupby",
        type=click.Choice(choices),
        default=None,
        help=(
            "Time steps: solar_day (one per local solar day, the tiles and passes of a day "
            "together) or time (one per overpass). Default: solar_day"
            + ("; none lists every catalog item." if with_none else " with --per-date/--composite.")
        ),
    )


def series_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """--per-date, --composite, --cloud-mask, --groupby, --min-clear."""
    return _group(
        "series",
        SeriesOptions.from_kwargs,
        click.option(
            "--per-date",
            is_flag=True,
            help="One GeoTIFF per date: put {time} in -o (e.g. -o ndvi_{time}.tif).",
        ),
        click.option(
            "--composite",
            type=click.Choice(COMPOSITE_METHODS),
            default=None,
            help="Combine the dates into one image, pixel by pixel (greenest: highest NDVI).",
        ),
        click.option(
            "--cloud-mask",
            is_flag=True,
            help="Mask clouds and their shadows with SCL (3, 8, 9, 10), fetched with the bands.",
        ),
        groupby_option(),
        click.option(
            "--min-clear",
            type=click.FloatRange(0, 1),
            default=None,
            help="With --cloud-mask: drop the dates less clear than this share (0..1).",
        ),
    )(func)


def service_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """The endpoint options and --concurrency, --cache-dir/--no-cache, -q."""
    options = _endpoint_options("Use the built-in local emulator: SYNTHETIC data, not Sentinel-2.")
    return _group(
        "service",
        ServiceOptions.from_kwargs,
        *options,
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
        click.option(
            "--cache-max-size",
            metavar="SIZE",
            default=None,
            help="Keep the tile cache under SIZE (e.g. 5G): least recently used tiles go first.",
        ),
        click.option("-q", "--quiet", is_flag=True, help="No progress bar, no notices."),
        click.option(
            "--yes-cost",
            is_flag=True,
            help="Do not ask before a job above --confirm-above (the area has its own "
            "answer, --yes).",
        ),
        click.option(
            "--confirm-above",
            type=click.FloatRange(min=0),
            default=CONFIRM_PU,
            show_default=True,
            metavar="PU",
            help="On a terminal, ask before spending more processing units than this "
            "(default: 50 % of the free 300 PU a minute); elsewhere --max-pu is the guard.",
        ),
    )(func)


def job_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """The options ``fetch`` and ``plan`` share: what to fetch, on which grid (and the area)."""
    decorated = _group(
        "job",
        JobOptions.from_kwargs,
        click.option(
            "--bands",
            metavar="B02,B03,...",
            help="Bands, comma-separated. Default: those --index needs, else B02,B03,B04,B08.",
        ),
        click.option(
            "--index",
            "index",
            metavar="NDVI[,EVI,...]",
            help=(
                "Spectral indices to write instead of bands, one band each, named and with its "
                "formula: any Sentinel-2 index of Awesome Spectral Indices (list them with "
                "'s2raster indices') or an expression such as '(B08-B04)/(B08+B04+0.5)'."
            ),
        ),
        click.option(
            "--resolution",
            type=float,
            default=10.0,
            show_default=True,
            help="Pixel size in metres.",
        ),
        max_pu_option(),
        click.option(
            "--sample-type",
            type=click.Choice(("FLOAT32", "UINT16"), case_sensitive=False),
            default="FLOAT32",
            show_default=True,
            help="Response sample type: UINT16 asks for DN (half the processing units) and "
            "gives the same float32 reflectance; integer bands only.",
        ),
    )(func)
    return area_options(geometry=True)(decorated)


def check_output(path: Path, suffixes: tuple[str, ...], *, nbytes: int = 0) -> Path:
    """Refuse an output that could not be written, before anything is downloaded: a wrong
    extension, a directory, a missing, read-only or full folder (with the true reason)."""
    from s2raster.output import check_output_path

    return check_output_path(path, param="output (-o)", suffixes=suffixes, nbytes=nbytes)
