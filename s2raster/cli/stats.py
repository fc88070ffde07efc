"""``s2raster stats``: statistics of bands or indices per field and time interval, as a table.

Parses the options, estimates the job (:func:`s2raster.fieldstats.plan_stats`, printed
before anything is spent), then calls :func:`s2raster.fieldstats.stats_to_file` and prints
its summary.
"""

from __future__ import annotations

from pathlib import Path

import click

from s2raster.cli import report
from s2raster.cli.errors import no_partial_output
from s2raster.cli.options import ServiceOptions, max_pu_option, parse_list, service_options
from s2raster.cli.progress import tile_progress
from s2raster.cli.session import SYNTHETIC_NOTICE, notice, service_config
from s2raster.errors import InputError

DEFAULT_STATS = "mean,median,std,min,max,count,valid_fraction"


@click.command()
@click.argument("zones", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--time", "time", required=True, metavar="START/END", help="Time range (END inclusive)."
)
@click.option("--index", "index", metavar="NDVI[,EVI,...]", help="Spectral indices.")
@click.option("--bands", metavar="B04,B08,...", help="Bands (as well as or instead of --index).")
@click.option(
    "--interval", default="P1D", show_default=True, help="Aggregation interval: P1D, P10D, P1M..."
)
@click.option("--resolution", type=float, default=10.0, show_default=True, help="Metres per pixel.")
@click.option("--no-cloud-mask", is_flag=True, help="Keep pixels whose SCL says cloud or shadow.")
@click.option("--id-column", default=None, help="Property naming each zone (default: its index).")
@click.option("--stats", "stat_names", default=DEFAULT_STATS, show_default=True, help="Statistics.")
@click.option("--percentiles", default=None, metavar="10,90", help="Percentile columns (service).")
@click.option("--max-cloud", type=click.FloatRange(0, 100), default=None, help="Scene cloud cover.")
@click.option("--local", is_flag=True, help="Compute from pixels (Process API) instead.")
@max_pu_option()
@service_options
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="Output table: .csv or .parquet.",
)
def stats(
    zones: Path,
    time: str,
    index: str | None,
    bands: str | None,
    interval: str,
    resolution: float,
    no_cloud_mask: bool,
    id_column: str | None,
    stat_names: str,
    percentiles: str | None,
    max_cloud: float | None,
    local: bool,
    max_pu: float | None,
    service: ServiceOptions,
    output: Path,
) -> None:
    """Statistics per field through time, from the Statistical API (or --local pixels).

    \b
    Example (offline, synthetic data):
      s2raster stats fields.geojson --emulator --time 2024-04-01/2024-09-30 \\
        --index NDVI --interval P10D -o ndvi.csv
    """
    from s2raster.fieldstats import check_table_path, plan_stats, stats_to_file

    check_table_path(output)
    what = [*parse_list(index), *parse_list(bands)]
    if not what:
        raise InputError("give --index (e.g. NDVI) and/or --bands (e.g. B04,B08)")
    options: dict[str, object] = {
        "interval": interval,
        "resolution": resolution,
        "cloud_mask": not no_cloud_mask,
        "id_column": id_column,
        "max_cloud": max_cloud,
    }
    if percentiles:
        options["percentiles"] = tuple(float(v) for v in parse_list(percentiles))
    plan = plan_stats(zones, time, what, local=local, **options)
    quiet = service.quiet
    with no_partial_output(output), service_config(service.endpoint) as (config, synthetic):
        if synthetic:
            notice(f"Note: --emulator: {SYNTHETIC_NOTICE}", quiet=quiet)
        notice(report.stats_plan_line(plan), quiet=quiet)
        notice(report.cost_line(plan.estimated_pu, plan.requests, plan.quota), quiet=quiet)
        with tile_progress(plan.requests if not local else 0, quiet=quiet or local) as progress:
            done = stats_to_file(
                zones,
                time,
                what,
                output,
                local=local,
                stats=parse_list(stat_names),
                config=config,
                cache=service.cache,
                concurrency=service.concurrency,
                max_pu=max_pu,
                progress=None if local else progress,
                **options,
            )
    click.echo("\n".join(report.stats_lines(done)))
