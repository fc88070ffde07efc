"""``s2raster plan``: what a fetch would do (grid, tiles, processing units, bytes, quota)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import click

from s2raster.cli import report
from s2raster.cli.options import (
    AreaOptions,
    EndpointOptions,
    JobOptions,
    SeriesOptions,
    catalog_options,
    job_options,
    series_options,
)

if TYPE_CHECKING:
    from s2raster.plan import Plan


def make_job(
    area: AreaOptions, job: JobOptions, *, planning: bool, cloud_mask: bool = False
) -> tuple[Plan, tuple[str, ...]]:
    """The plan of the job the options describe, and the (canonical) indices to compute.

    ``cloud_mask`` adds SCL to the bands (fetched in the same requests).

    ``planning`` (plan, --dry-run): refuse an estimate above --max-pu here; a fetch leaves
    that to ``load`` (which counts tiles already in the cache as free) and asks about an
    area above :data:`s2raster.plan.MAX_PIXELS` px per band (on a terminal; elsewhere
    refuses it) unless --yes.
    """
    from s2raster.cli.confirm import confirm_size
    from s2raster.job import canonical_indices, choose_bands
    from s2raster.plan import check_cost, make_plan

    assert area.time is not None  # --time is required by fetch and plan
    indices = canonical_indices(job.indices)
    plan = make_plan(
        area.bbox,
        area.time,
        choose_bands(job.bands, indices, cloud_mask=cloud_mask),
        geometry=area.geometry,
        resolution=job.resolution,
        crs=area.crs,
        bbox_crs=area.bbox_crs,
        collection=area.collection,
        mosaicking=area.mosaicking,
        max_cloud=area.max_cloud,
        sample_type=job.sample_type,
    )
    if planning:
        check_cost(plan, job.max_pu)
    else:
        confirm_size(plan, confirmed=area.confirmed)
    return plan, indices


def plan_for(
    area: AreaOptions, job: JobOptions, series: SeriesOptions, endpoint: EndpointOptions
) -> Plan:
    """The plan of ``plan`` and ``fetch --dry-run``: a time series' plan (one catalog search,
    through ``endpoint``) when the options ask for one; refused above --max-pu."""
    from s2raster.plan import check_cost

    planned, _ = make_job(area, job, planning=True, cloud_mask=series.cloud_mask)
    groupby = series.series_groupby
    if groupby is None:
        return planned
    from s2raster.acquisitions import plan_series
    from s2raster.cli.session import service_config

    with service_config(endpoint) as (config, _):
        planned = plan_series(planned, groupby, config=config)
    check_cost(planned, job.max_pu)
    return planned


@click.command()
@job_options
@series_options
@catalog_options
@click.option("--json", "as_json", is_flag=True, help="Print the plan as JSON.")
def plan(
    area: AreaOptions,
    job: JobOptions,
    series: SeriesOptions,
    endpoint: EndpointOptions,
    as_json: bool,
) -> None:
    """Show what a fetch would do: grid, tiles, dates, processing units, bytes, quota share.

    Nothing is downloaded. A time series (--groupby, --per-date or --composite) searches
    the catalog for its dates (free of processing units, but it needs credentials or
    --emulator); a single mosaic needs no credentials.
    """
    planned = plan_for(area, job, series, endpoint)
    if as_json:
        click.echo(json.dumps(planned.summary(), indent=2, default=str))
    else:
        click.echo(report.plan_report(planned))
