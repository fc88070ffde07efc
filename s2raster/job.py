"""A whole fetch job: bands or spectral indices of a plan into one GeoTIFF (or one per date).

What ``s2raster fetch`` runs, as one library call::

    plan = make_plan(bbox, time, choose_bands(None, ["NDVI"]))
    done = fetch_to_file(plan, "ndvi.tif", indices=["NDVI"], config=config)
    done.stats.processing_units_spent

:func:`choose_bands` picks the bands a job needs (those given, else those its indices need,
else :data:`DEFAULT_BANDS`; plus ``SCL`` for a cloud mask); :func:`fetch_to_file` loads the
plan (a time series with ``groupby``, ``composite`` or a ``{time}`` output), masks clouds,
computes and stacks the indices (:func:`s2raster.indices.stack`), composites, and writes the
file(s) (:func:`s2raster.export.to_geotiff`).
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import dask
from sentinelhub.config import SHConfig

from s2raster._load import LoadStats, Progress, load_plan, pending_requests
from s2raster.cache import CacheOption, resolve_cache
from s2raster.cdse import Fetch
from s2raster.cost import Quota
from s2raster.errors import BandError, InputError
from s2raster.export import TIME_FIELD, to_geotiff
from s2raster.grid import Grid
from s2raster.indices import bands_for, check, stack
from s2raster.output import check_output_path
from s2raster.plan import Plan
from s2raster.query import SAMPLE_TYPES

__all__ = [
    "DEFAULT_BANDS",
    "Estimate",
    "FetchedFile",
    "canonical_indices",
    "choose_bands",
    "estimate",
    "fetch_to_file",
    "output_bytes",
]

#: Bands fetched when a job names neither bands nor indices.
DEFAULT_BANDS = ("B02", "B03", "B04", "B08")


@dataclass(frozen=True)
class FetchedFile:
    """What :func:`fetch_to_file` wrote and what it cost."""

    path: Path
    grid: Grid
    bands: tuple[str, ...]
    tiles: int
    stats: LoadStats
    synthetic: bool
    paths: tuple[Path, ...] = ()
    dates: int = 0
    """Every file written (one per date for a ``{time}`` output) and the number of dates."""


@dataclass(frozen=True)
class Estimate:
    """What a plan will cost at a service, counting only what its tile cache cannot answer.

    ``pu_by_sample_type``: the same requests with FLOAT32 and with UINT16 responses.
    """

    requests: int
    cached: int
    pu: float
    pu_by_sample_type: dict[str, float]


def estimate(plan: Plan, cache: CacheOption, base_url: str) -> Estimate:
    """The cost of ``plan`` at ``base_url``: its requests that ``cache`` cannot answer."""
    todo = pending_requests(plan, resolve_cache(cache), base_url)
    by_type = {t: math.fsum(r.estimated_pu_as(t) for r in todo) for t in SAMPLE_TYPES}
    return Estimate(
        requests=len(todo),
        cached=len(plan.requests) - len(todo),
        pu=by_type[plan.query.sample_type],
        pu_by_sample_type=by_type,
    )


def canonical_indices(names: Iterable[str]) -> tuple[str, ...]:
    """Index names as the catalogue spells them (case-insensitive) or expressions normalized,
    each once, in order; checked computable (:func:`s2raster.indices.check`) before any
    request is paid for."""
    return check(list(names))


def choose_bands(
    bands: Sequence[str] | None, indices: Sequence[str] = (), *, cloud_mask: bool = False
) -> tuple[str, ...]:
    """The bands of a job: ``bands`` as given (they must include what ``indices`` need),
    else the bands ``indices`` need, else :data:`DEFAULT_BANDS`; ``cloud_mask`` adds
    ``SCL`` (fetched in the same requests, for :func:`s2raster.mask_clouds`).

    ``bands=None`` means "not given"; an empty sequence is an error.
    """
    chosen = _choose_bands(bands, indices)
    return (*chosen, "SCL") if cloud_mask and "SCL" not in chosen else chosen


def _choose_bands(bands: Sequence[str] | None, indices: Sequence[str]) -> tuple[str, ...]:
    needed = bands_for(indices) if indices else ()
    if bands is None:
        return needed or DEFAULT_BANDS
    if not bands:
        raise BandError("bands (--bands) is empty: give band names such as B02,B03,B04,B08")
    missing = [b for b in needed if b not in bands]
    if missing:
        raise BandError(
            f"index {','.join(indices)} (--index) needs band(s) {','.join(missing)}: add them "
            "to the bands (--bands) or leave the bands out"
        )
    return tuple(bands)


def output_bytes(plan: Plan, indices: Sequence[str] = ()) -> int:
    """Disk space a fetch of ``plan`` needs beside its output: the uncompressed float32
    intermediate file of :func:`s2raster.cog.write_geotiff` plus its overviews."""
    n_bands = len(indices) or len(plan.query.bands)
    return plan.grid.width * plan.grid.height * n_bands * 4 * 4 // 3


def fetch_to_file(
    plan: Plan,
    output: str | os.PathLike[str],
    *,
    indices: Sequence[str] = (),
    config: SHConfig | None = None,
    cache: CacheOption = True,
    concurrency: int = 4,
    quota: Quota | None = None,
    fetch: Fetch | None = None,
    progress: Progress | None = None,
    max_pu: float | None = None,
    cog: bool = True,
    groupby: str | None = None,
    composite: str | None = None,
    cloud_mask: bool = False,
    min_clear: float | None = None,
) -> FetchedFile:
    """Load ``plan``, compute ``indices`` (if any) and write them, or the bands, to ``output``.

    The arguments are those of :func:`s2raster.load_plan` (``max_pu`` counts cached
    tiles as free; ``groupby``, ``cloud_mask``, ``min_clear``) and of
    :func:`s2raster.export.to_geotiff` (``cog``); ``indices`` are canonical names
    (:func:`canonical_indices`) computed from bands the plan has (:func:`choose_bands`).
    A time series (``groupby``, default ``"solar_day"`` when ``composite`` is given or
    ``output`` holds ``{time}``) is written one file per date (``"ndvi_{time}.tif"``) or
    reduced by :func:`s2raster.composite` (``composite="median"``, ...) into one file.
    Tiles are downloaded ``concurrency`` at a time. ``output`` is checked first
    (:func:`s2raster.output.check_output_path`: writable, not a directory, room for
    :func:`output_bytes`), before any request.
    """
    output = check_output_path(output, param="output", nbytes=output_bytes(plan, indices))
    per_date = TIME_FIELD in str(output)
    if per_date and composite is not None:
        raise InputError(
            f"output {str(output)!r} has {TIME_FIELD} (one file per date) but composite="
            f"{composite!r} makes one image: drop {TIME_FIELD} or the composite"
        )
    if groupby is None and plan.groupby is None and (per_date or composite is not None):
        groupby = "solar_day"
    stats = LoadStats()
    da = load_plan(
        plan,
        config=config,
        cache=cache,
        concurrency=concurrency,
        quota=quota,
        fetch=fetch,
        progress=progress,
        max_pu=max_pu,
        stats=stats,
        groupby=groupby,
        cloud_mask=cloud_mask,
        min_clear=min_clear,
    )
    out = stack(da, indices) if indices else da
    if composite is not None:
        from s2raster.composite import composite as reduce_time

        out = reduce_time(out, composite)
    # download-bound: at least ``concurrency`` dask threads, whatever the core count
    with dask.config.set(num_workers=max(concurrency, os.cpu_count() or 1)):
        written = to_geotiff(out, output, cog=cog, stats=stats)
    paths = tuple(written) if isinstance(written, list) else (written,)
    return FetchedFile(
        path=Path(output),
        grid=plan.grid,
        bands=tuple(str(b) for b in out["band"].values),
        tiles=len(plan.tiles),
        stats=stats,
        synthetic=bool(out.attrs.get("synthetic", 0)),
        paths=paths,
        dates=int(da.sizes.get("time", 0)),
    )
