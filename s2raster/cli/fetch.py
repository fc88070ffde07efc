"""``s2raster fetch``: bands or indices of an area into one GeoTIFF (or one per date).

Parses the options, plans the job (:mod:`s2raster.cli.plan`; a time series' plan searches
the catalog for its dates), then calls :func:`s2raster.job.fetch_to_file` and prints its
summary.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from s2raster.cli import report
from s2raster.cli.errors import no_partial_output
from s2raster.cli.options import (
    GEOTIFF_SUFFIXES,
    AreaOptions,
    JobOptions,
    SeriesOptions,
    ServiceOptions,
    check_output,
    job_options,
    series_options,
    service_options,
)
from s2raster.cli.plan import make_job, plan_for
from s2raster.cli.session import download_session

if TYPE_CHECKING:
    from s2raster.plan import Plan

TIME_FIELD = "{time}"


@click.command()
@job_options
@series_options
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
    series: SeriesOptions,
    service: ServiceOptions,
    cog: bool,
    dry_run: bool,
    output: Path | None,
) -> None:
    """Fetch bands (or indices) of an area into one GeoTIFF, or one per date.

    A time series: --per-date writes one file per date (-o needs {time}, replaced by the
    UTC date); --composite combines the dates into one image; --cloud-mask masks clouds
    with SCL first. The catalog is searched for the dates before anything is paid for.

    \b
    Examples (offline, synthetic data):
      s2raster fetch --emulator --bbox 13.822 45.850 14.559 46.291 \\
        --time 2024-06-01/2024-06-30 --index NDVI -o ndvi.tif
      s2raster fetch --emulator --bbox 14.50 46.05 14.52 46.06 \\
        --time 2024-06-01/2024-06-30 --index NDVI --cloud-mask --per-date -o ndvi_{time}.tif
    """
    if output is None and not dry_run:
        raise click.UsageError("give the output file with -o OUT.tif (or use --dry-run)")
    if output is not None:
        check_output(output, GEOTIFF_SUFFIXES)
    check_series(series, output)
    if dry_run:
        click.echo(report.plan_report(plan_for(area, job, series, service.endpoint)))
        return
    plan, indices = make_job(area, job, planning=False, cloud_mask=series.cloud_mask)
    assert output is not None
    from s2raster.job import fetch_to_file, output_bytes

    check_output(output, GEOTIFF_SUFFIXES, nbytes=output_bytes(plan, indices))

    groupby = series.series_groupby
    with download_session(service, plan, groupby=groupby) as session:
        assert session.plan is not None
        with no_partial_output(*_outputs(session.plan, output)):
            done = fetch_to_file(
                session.plan,
                output,
                indices=indices,
                config=session.config,
                cache=session.cache,
                concurrency=session.concurrency,
                progress=session.progress,
                max_pu=job.max_pu,
                cog=cog,
                composite=series.composite,
                cloud_mask=series.cloud_mask,
                min_clear=series.min_clear,
            )
    if groupby is not None:
        click.echo(
            "\n".join(
                report.series_lines(
                    paths=done.paths,
                    dates=done.dates,
                    composite=series.composite,
                    cloud_mask=series.cloud_mask,
                )
            )
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


def check_series(series: SeriesOptions, output: Path | None) -> None:
    """Refuse combinations of the time-series options that cannot be written."""
    has_field = output is not None and TIME_FIELD in str(output)
    if series.per_date and series.composite is not None:
        raise click.UsageError(
            "--per-date writes one file per date, --composite one image: choose one"
        )
    if series.per_date and output is not None and not has_field:
        raise click.UsageError("--per-date needs {time} in -o, e.g. -o ndvi_{time}.tif")
    if has_field and not series.per_date:
        raise click.UsageError("-o has {time}: add --per-date (one file per date), or drop {time}")
    if (
        series.groupby is not None
        and series.series_groupby is not None
        and not (series.per_date or series.composite)
    ):
        raise click.UsageError(
            "--groupby makes a time series: write it with --per-date (-o out_{time}.tif) or "
            "combine it with --composite median"
        )


def _outputs(plan: Plan, output: Path) -> list[Path]:
    """The files a fetch of ``plan`` will write (one per date for a {time} output)."""
    if TIME_FIELD not in str(output):
        return [output]
    from s2raster.export import step_names

    names = step_names([d.time for d in plan.dates])
    return [Path(str(output).replace(TIME_FIELD, name)) for name in names]
