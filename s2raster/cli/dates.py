"""``s2raster dates``: the acquisitions of an area and a time range, from the catalog.

Parses the options, calls :func:`s2raster.dates` (catalog searches only: no processing
units) and prints its table, or CSV.
"""

from __future__ import annotations

import click

from s2raster.cli import report
from s2raster.cli.options import (
    AreaOptions,
    EndpointOptions,
    area_options,
    catalog_options,
    groupby_option,
)
from s2raster.cli.session import service_config


@click.command()
@area_options(geometry=True)
@groupby_option(with_none=True)
@catalog_options
@click.option("--csv", "as_csv", is_flag=True, help="Print CSV instead of a table.")
def dates(area: AreaOptions, endpoint: EndpointOptions, groupby: str | None, as_csv: bool) -> None:
    """List the dates a time series of an area would have (solar day, time, cloud cover,
    tiles), without spending processing units.

    \b
    Example (offline, synthetic data):
      s2raster dates --emulator --bbox 14.50 46.05 14.52 46.06 --time 2024-06-01/2024-08-31
    """
    from s2raster.acquisitions import dates as list_dates

    assert area.time is not None  # --time is required
    grouping = None if groupby == "none" else (groupby or "solar_day")
    with service_config(endpoint) as (config, _):
        frame = list_dates(
            area.bbox,
            area.time,
            geometry=area.geometry,
            groupby=grouping,
            max_cloud=area.max_cloud,
            bbox_crs=area.bbox_crs,
            crs=area.crs,
            collection=area.collection,
            config=config,
        )
    if as_csv:
        click.echo(frame.to_csv(index=False), nl=False)
        return
    lines = report.dates_lines(frame, groupby=grouping)
    if frame.attrs.get("synthetic"):
        lines.append(report.SYNTHETIC_LINE)
    click.echo("\n".join(lines))
