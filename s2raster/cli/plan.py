"""``s2raster plan``: what a fetch would do (grid, tiles, processing units, bytes, quota)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import click

from s2raster.cli import report
from s2raster.cli.options import AreaOptions, JobOptions, job_options

if TYPE_CHECKING:
    from s2raster.plan import Plan


def make_job(area: AreaOptions, job: JobOptions, *, planning: bool) -> tuple[Plan, tuple[str, ...]]:
    """The plan of the job the options describe, and the (canonical) indices to compute.

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
        choose_bands(job.bands, indices),
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


@click.command()
@job_options
@click.option("--json", "as_json", is_flag=True, help="Print the plan as JSON.")
def plan(area: AreaOptions, job: JobOptions, as_json: bool) -> None:
    """Show what a fetch would do: grid, tiles, processing units, bytes, quota share.

    Nothing is downloaded and no credentials are needed.
    """
    planned, _ = make_job(area, job, planning=True)
    if as_json:
        click.echo(json.dumps(planned.summary(), indent=2, default=str))
    else:
        click.echo(report.plan_report(planned))
