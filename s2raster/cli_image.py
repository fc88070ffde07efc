"""``s2raster truecolor``: the classic Process API example as one command."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from s2raster import report
from s2raster.cli_errors import no_partial_output
from s2raster.cli_fetch import check_size
from s2raster.cli_options import (
    area_options,
    check_output,
    download_session,
    service_options,
)

IMAGE_SUFFIXES = (".png", ".tif", ".tiff")


@click.command()
@area_options(time_required=False)
@click.option(
    "--size",
    nargs=2,
    type=click.IntRange(1, 100_000),
    default=None,
    metavar="W H",
    help="Image size in pixels (pixel size = extent / size). Default: 512 512.",
)
@click.option(
    "--resolution", type=float, default=None, help="Pixel size in metres (instead of --size)."
)
@click.option("--gain", type=float, default=2.5, show_default=True, help="Reflectance multiplier.")
@click.option(
    "--max-pu",
    type=click.FloatRange(min=0, min_open=True),
    default=None,
    help="Refuse a job estimated above this many processing units.",
)
@service_options
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="Output image: .png, or .tif for a georeferenced GeoTIFF.",
)
def truecolor(**opts: Any) -> None:
    """A true-colour image (B04, B03, B02 x 2.5) as PNG or GeoTIFF, by the extension.

    \b
    Example (offline, synthetic data):
      s2raster truecolor --emulator --bbox 13.822 45.850 14.559 46.291 \\
        --size 512 512 -o image.png
    """
    from s2raster.truecolor import truecolor_from_plan, truecolor_plan

    output: Path = check_output(opts["output"], IMAGE_SUFFIXES)
    if opts["size"] is not None and opts["resolution"] is not None:
        raise click.UsageError("give either --size or --resolution, not both")
    size = opts["size"] or (None if opts["resolution"] is not None else (512, 512))
    plan = truecolor_plan(
        tuple(opts["bbox"]),
        opts["time"],
        size=size,
        resolution=opts["resolution"],
        bbox_crs=opts["bbox_crs"],
        crs=opts["crs"],
        collection=opts["collection"],
        mosaicking=opts["mosaicking"],
        max_cloud=opts["max_cloud"],
    )
    check_size(plan.grid, confirmed=opts["yes"], resolution=opts["resolution"] or plan.grid.res[0])
    with no_partial_output(output), download_session(opts, plan) as session:
        result = truecolor_from_plan(plan, **session, gain=opts["gain"])
        result.write(output)
    lines = report.fetch_lines(
        path=output,
        grid=result.grid,
        bands=["B04", "B03", "B02"],
        tiles=len(plan.tiles),
        stats=result.stats,
        synthetic=result.synthetic,
    )
    click.echo("\n".join(lines))
