"""``s2raster truecolor``: the classic Process API example as one command.

Parses the options, then calls :func:`s2raster.truecolor.truecolor_from_plan` and writes
its image.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import click

from s2raster.cli import report
from s2raster.cli.errors import no_partial_output
from s2raster.cli.options import (
    AreaOptions,
    ServiceOptions,
    area_options,
    check_output,
    max_pu_option,
    service_options,
)
from s2raster.cli.session import download_session, notice

IMAGE_SUFFIXES = (".png", ".tif", ".tiff")
RGB_BANDS = ("B04", "B03", "B02")


# ParamType is generic from click 8.2 on; subscripting it would fail on 8.1.
class SideType(click.ParamType):  # type: ignore[type-arg]
    """A side of --size: a whole number of pixels (1..100000), or ``auto``."""

    name = "px|auto"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if value is None or isinstance(value, int):
            return value
        if str(value).strip().lower() == "auto":
            return None
        try:
            side = int(str(value))
        except ValueError:
            side = 0
        if not 1 <= side <= 100_000:
            self.fail(f"{value!r} is not a number of pixels 1..100000 or 'auto'", param, ctx)
        return side


@click.command()
@area_options(time_required=False, mosaicking="leastCC")
@click.option(
    "--size",
    nargs=2,
    type=SideType(),
    default=None,
    metavar="W H",
    help="Image size in pixels; one side 'auto' follows the bbox's aspect (square pixels). "
    "Default: the longer side 512, square pixels.",
)
@click.option(
    "--resolution", type=float, default=None, help="Pixel size in metres (instead of --size)."
)
@click.option("--gain", type=float, default=2.5, show_default=True, help="Reflectance multiplier.")
@max_pu_option()
@service_options
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="Output image: .png, or .tif for a georeferenced GeoTIFF.",
)
def truecolor(
    area: AreaOptions,
    service: ServiceOptions,
    size: tuple[int | None, int | None] | None,
    resolution: float | None,
    gain: float,
    max_pu: float | None,
    output: Path,
) -> None:
    """A true-colour image (B04, B03, B02 x 2.5) as PNG or GeoTIFF, by the extension.

    The least cloudy scene of the time range wins per pixel (--mosaicking leastCC); the
    dates the catalog found are printed and written into the file.

    \b
    Example (offline, synthetic data):
      s2raster truecolor --emulator --bbox 13.822 45.850 14.559 46.291 \\
        --size 512 auto -o image.png
    """
    check_output(output, IMAGE_SUFFIXES)
    if size is not None and resolution is not None:
        raise click.UsageError("give either --size or --resolution, not both")
    if size == (None, None):
        raise click.UsageError("--size auto auto: give at least one side in pixels")
    from s2raster.cli.confirm import confirm_size
    from s2raster.truecolor import DEFAULT_SIZE, check_gain, truecolor_from_plan, truecolor_plan

    check_gain(gain)
    assert area.bbox is not None  # truecolor takes --bbox only
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        plan = truecolor_plan(
            area.bbox,
            area.time,
            size=size or (None if resolution is not None else DEFAULT_SIZE),
            resolution=resolution,
            bbox_crs=area.bbox_crs,
            crs=area.crs,
            collection=area.collection,
            mosaicking=area.mosaicking,
            max_cloud=area.max_cloud,
        )
    for warning in caught:
        notice(f"Warning: {warning.message}", quiet=service.quiet)
    confirm_size(plan, confirmed=area.confirmed)
    check_output(output, IMAGE_SUFFIXES, nbytes=plan.grid.width * plan.grid.height * 8)
    with no_partial_output(output), download_session(service, plan) as session:
        result = truecolor_from_plan(
            plan,
            config=session.config,
            cache=session.cache,
            concurrency=session.concurrency,
            progress=session.progress,
            max_pu=max_pu,
            gain=gain,
        )
        result.write(output)
    lines = report.fetch_lines(
        path=output,
        grid=result.grid,
        bands=RGB_BANDS,
        tiles=len(plan.tiles),
        stats=result.stats,
        synthetic=result.synthetic,
    )
    lines.insert(1, report.dates_line(result.dates, plan.query.mosaicking))
    click.echo("\n".join(lines))
