"""``s2raster fetch`` and ``s2raster plan``: bands or indices of an area into a GeoTIFF."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
import xarray as xr

from s2raster import report
from s2raster.cli_errors import no_partial_output
from s2raster.cli_options import (
    GEOTIFF_SUFFIXES,
    area_options,
    check_output,
    download_session,
    parse_list,
    service_options,
)
from s2raster.cli_progress import download_threads
from s2raster.errors import BandError, CostLimitError, GridError
from s2raster.grid import Grid
from s2raster.plan import Plan

#: Bands fetched when neither --bands nor --index is given.
DEFAULT_BANDS = ("B02", "B03", "B04", "B08")
#: Pixels per band above which a job needs --yes.
MAX_PIXELS = 100_000_000


def job_options(func: Any) -> Any:
    """The options ``fetch`` and ``plan`` share (what to fetch, on which grid)."""
    for option in reversed(
        (
            click.option(
                "--bands",
                metavar="B02,B03,...",
                help="Bands, comma-separated. Default: those --index needs, else B02,B03,B04,B08.",
            ),
            click.option(
                "--index",
                "index",
                metavar="NDVI[,EVI,...]",
                help="Spectral indices to write instead of bands, one band each, named.",
            ),
            click.option(
                "--resolution",
                type=float,
                default=10.0,
                show_default=True,
                help="Pixel size in metres.",
            ),
            click.option(
                "--max-pu",
                type=click.FloatRange(min=0, min_open=True),
                default=None,
                help="Refuse a job estimated above this many processing units.",
            ),
        )
    ):
        func = option(func)
    return area_options()(func)


def resolve_indices(names: list[str]) -> list[str]:
    """Canonical index names (case-insensitive); an unknown one lists the valid ones."""
    from s2raster.indices import canonical_name

    return list(dict.fromkeys(canonical_name(name) for name in names))


def choose_bands(bands: str | None, names: list[str]) -> list[str]:
    """--bands as given, else the bands the indices need, else :data:`DEFAULT_BANDS`."""
    needed = _bands_for(names) if names else []
    given = parse_list(bands)
    if bands is not None and not given:
        raise BandError("--bands is empty: give band names such as B02,B03,B04,B08")
    if not given:
        return needed or list(DEFAULT_BANDS)
    missing = [b for b in needed if b not in given]
    if missing:
        raise BandError(
            f"--index {','.join(names)} needs band(s) {','.join(missing)}: add them to --bands "
            "or drop --bands"
        )
    return given


def _bands_for(names: list[str]) -> list[str]:
    from s2raster.indices import bands_for

    return list(bands_for(names))


def make_job(opts: dict[str, Any], *, planning: bool) -> tuple[Plan, list[str]]:
    """The plan of the job described by the options, and the indices to compute.

    ``planning`` (plan, --dry-run): refuse an estimate above --max-pu here; a fetch leaves
    that to ``load`` (which counts tiles already in the cache as free) and refuses an area
    above :data:`MAX_PIXELS` unless --yes.
    """
    from s2raster.plan import make_plan

    names = resolve_indices(parse_list(opts["index"]))
    bands = choose_bands(opts["bands"], names)
    plan = make_plan(
        tuple(opts["bbox"]),
        opts["time"],
        bands,
        resolution=opts["resolution"],
        crs=opts["crs"],
        bbox_crs=opts["bbox_crs"],
        collection=opts["collection"],
        mosaicking=opts["mosaicking"],
        max_cloud=opts["max_cloud"],
    )
    if planning:
        check_cost(plan.estimated_pu, opts["max_pu"])
    else:
        check_size(plan.grid, confirmed=opts["yes"], resolution=opts["resolution"])
    return plan, names


def plan_report(plan: Plan) -> str:
    """The plan as text, with a note when a fetch of it would need --yes."""
    lines = report.plan_lines(plan)
    pixels = plan.grid.width * plan.grid.height
    if pixels > MAX_PIXELS:
        lines.append(
            f"            above {MAX_PIXELS / 1e6:.0f} million px per band: fetch needs --yes"
        )
    return "\n".join(lines)


def check_size(grid: Grid, *, confirmed: bool, resolution: float) -> None:
    """Refuse more than :data:`MAX_PIXELS` per band unless confirmed with --yes."""
    pixels = grid.width * grid.height
    if pixels > MAX_PIXELS and not confirmed:
        raise GridError(
            f"the area is {grid.width} x {grid.height} px = {pixels / 1e6:.0f} million px per "
            f"band at {resolution:g} m, above {MAX_PIXELS / 1e6:.0f} million: use a smaller "
            "--bbox or a coarser --resolution, or confirm with --yes"
        )


def check_cost(estimated_pu: float, max_pu: float | None) -> None:
    """Refuse a job estimated above ``max_pu`` processing units."""
    if max_pu is not None and estimated_pu > max_pu:
        raise CostLimitError(
            f"the job is estimated at {estimated_pu:.1f} processing units, above --max-pu "
            f"{max_pu:g}: raise --max-pu, or shrink --bbox, --bands or the resolution"
        )


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
def fetch(**opts: Any) -> None:
    """Fetch bands (or indices) of an area into one GeoTIFF.

    \b
    Example (offline, synthetic data):
      s2raster fetch --emulator --bbox 13.822 45.850 14.559 46.291 \\
        --time 2024-06-01/2024-06-30 --index NDVI -o ndvi.tif
    """
    output: Path | None = opts["output"]
    if output is None and not opts["dry_run"]:
        raise click.UsageError("give the output file with -o OUT.tif (or use --dry-run)")
    if output is not None:
        check_output(output, GEOTIFF_SUFFIXES)
    plan, names = make_job(opts, planning=opts["dry_run"])
    if opts["dry_run"]:
        click.echo(plan_report(plan))
        return
    assert output is not None
    with no_partial_output(output):
        result = run_fetch(plan, names, output, opts)
    click.echo("\n".join(report.fetch_lines(**result)))


def run_fetch(plan: Plan, names: list[str], output: Path, opts: dict[str, Any]) -> dict[str, Any]:
    """Load the plan, compute the indices, write ``output``; what the summary needs."""
    from s2raster.export import to_geotiff
    from s2raster.load import LoadStats, load_plan

    stats = LoadStats()
    with download_session(opts, plan) as session:
        da = load_plan(plan, stats=stats, **session)
        out = stack_indices(da, names) if names else da
        with download_threads(opts["concurrency"]):
            to_geotiff(out, output, cog=opts["cog"], stats=stats)
    return {
        "path": output,
        "grid": plan.grid,
        "bands": [str(b) for b in out["band"].values],
        "tiles": len(plan.tiles),
        "stats": stats,
        "synthetic": bool(out.attrs.get("synthetic", 0)),
    }


def stack_indices(da: xr.DataArray, names: list[str]) -> xr.DataArray:
    """The indices of ``da`` stacked along ``band`` (one band each, named after the index)."""
    from s2raster.indices import compute

    layers: list[xr.DataArray] = [compute(name, da).expand_dims(band=[name]) for name in names]
    if len(layers) == 1:
        return layers[0]
    stacked: xr.DataArray = xr.concat(layers, dim="band", combine_attrs="override")
    stacked.attrs["long_name"] = tuple(names)
    stacked.name = "indices"
    return stacked


@click.command()
@job_options
@click.option("--json", "as_json", is_flag=True, help="Print the plan as JSON.")
def plan(**opts: Any) -> None:
    """Show what a fetch would do: grid, tiles, processing units, bytes, quota share.

    Nothing is downloaded and no credentials are needed.
    """
    job, _ = make_job(opts, planning=True)
    if opts["as_json"]:
        click.echo(json.dumps(job.summary(), indent=2, default=str))
    else:
        click.echo(plan_report(job))
