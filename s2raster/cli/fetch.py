"""``s2raster fetch``: bands or indices of an area into one GeoTIFF.

Parses the options, plans the job (:mod:`s2raster.cli.plan`), then calls
:func:`s2raster.job.fetch_to_file` and prints its summary.
"""

from __future__ import annotations

from pathlib import Path

import click

from s2raster.cli import report
from s2raster.cli.errors import no_partial_output
from s2raster.cli.options import (
    GEOTIFF_SUFFIXES,
    AreaOptions,
    JobOptions,
    ServiceOptions,
    check_output,
    job_options,
    service_options,
)
from s2raster.cli.plan import make_job
from s2raster.cli.session import download_session


@click.command()
@job_options
@service_options
@click.option("--cog/--no-cog", default=True, show_default=True, help="Cloud-Optimized GeoTIFF.")
@click.option("--dry-run", is_flag=True, help="Print the plan (as `s2raster plan`) and stop.")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Output GeoTIFF (.tif).",
)
def fetch(
    area: AreaOptions,
    job: JobOptions,
    service: ServiceOptions,
    cog: bool,
    dry_run: bool,
    output: Path | None,
) -> None:
    """Fetch bands (or indices) of an area into one GeoTIFF.

    \b
    Example (offline, synthetic data):
      s2raster fetch --emulator --bbox 13.822 45.850 14.559 46.291 \\
        --time 2024-06-01/2024-06-30 --index NDVI -o ndvi.tif
    """
    if output is None and not dry_run:
        raise click.UsageError("give the output file with -o OUT.tif (or use --dry-run)")
    if output is not None:
        check_output(output, GEOTIFF_SUFFIXES)
    plan, indices = make_job(area, job, planning=dry_run)
    if dry_run:
        click.echo(report.plan_report(plan))
        return
    assert output is not None
    from s2raster.job import fetch_to_file

    with no_partial_output(output), download_session(service, plan) as session:
        done = fetch_to_file(
            plan,
            output,
            indices=indices,
            config=session.config,
            cache=session.cache,
            concurrency=session.concurrency,
            progress=session.progress,
            max_pu=job.max_pu,
            cog=cog,
        )
    lines = report.fetch_lines(
        path=output,
        grid=done.grid,
        bands=done.bands,
        tiles=done.tiles,
        stats=done.stats,
        synthetic=done.synthetic,
    )
    click.echo("\n".join(lines))
