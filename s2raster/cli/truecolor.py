"""``s2raster truecolor``: the classic Process API example as one command.

Parses the options, then calls :func:`s2raster.truecolor.truecolor_from_plan` and writes
its image.
"""

from __future__ import annotations

from pathlib import Path

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
from s2raster.cli.session import download_session

IMAGE_SUFFIXES = (".png", ".tif", ".tiff")
RGB_BANDS = ("B04", "B03", "B02")


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
    size: tuple[int, int] | None,
    resolution: float | None,
    gain: float,
    max_pu: float | None,
    output: Path,
) -> None:
    """A true-colour image (B04, B03, B02 x 2.5) as PNG or GeoTIFF, by the extension.

    \b
    Example (offline, synthetic data):
      s2raster truecolor --emulator --bbox 13.822 45.850 14.559 46.291 \\
        --size 512 512 -o image.png
    """
    check_output(output, IMAGE_SUFFIXES)
    if size is not None and resolution is not None:
        raise click.UsageError("give either --size or --resolution, not both")
    from s2raster.cli.confirm import confirm_size
    from s2raster.truecolor import truecolor_from_plan, truecolor_plan

    assert area.bbox is not None  # truecolor takes --bbox only
    plan = truecolor_plan(
        area.bbox,
        area.time,
        size=size or (None if resolution is not None else (512, 512)),
        resolution=resolution,
        bbox_crs=area.bbox_crs,
        crs=area.crs,
        collection=area.collection,
        mosaicking=area.mosaicking,
        max_cloud=area.max_cloud,
    )
    confirm_size(plan, confirmed=area.confirmed)
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
    click.echo("\n".join(lines))
