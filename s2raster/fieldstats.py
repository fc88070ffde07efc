"""Statistics of fields into one table file: what ``s2raster stats`` does, as a library.

:func:`plan_stats` validates a job and says what it will cost (requests, PU) before anything
is sent; :func:`stats_to_file` runs it, by the Statistical API
(:func:`s2raster.statistics`) or from pixels (``local=True``:
:func:`s2raster.local_statistics`), and writes the table as CSV or Parquet by the output's
extension (:func:`write_table`). Synthetic (emulator) tables get a ``synthetic`` column of 1
(and ``synthetic`` in the Parquet file's pandas attrs).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from sentinelhub.config import SHConfig

from s2raster._local_stats import local_statistics, plan_local
from s2raster._statistics import plan_statistics, statistics
from s2raster._tiles import LoadStats
from s2raster.cache import CacheOption
from s2raster.cost import QuotaShare
from s2raster.errors import ExportError, InputError
from s2raster.timerange import TimeInput

__all__ = ["TABLE_SUFFIXES", "StatsDone", "StatsPlan", "plan_stats", "stats_to_file", "write_table"]

TABLE_SUFFIXES = (".csv", ".parquet")
#: Options both paths take (the service path also ``percentiles``).
_COMMON = frozenset(
    {
        "interval",
        "resolution",
        "cloud_mask",
        "id_column",
        "crs",
        "collection",
        "mosaicking",
        "max_cloud",
        "zones_crs",
        "make_valid",
    }
)


@dataclass(frozen=True)
class StatsPlan:
    """What a statistics job will send: requests and their estimated PU."""

    zones: int
    intervals: int
    requests: int
    estimated_pu: float
    local: bool

    @property
    def quota(self) -> QuotaShare:
        return QuotaShare(requests=self.requests, pu=self.estimated_pu)


@dataclass(frozen=True)
class StatsDone:
    """A finished job: the file, its rows, what it cost, whether the data is synthetic."""

    path: Path
    rows: int
    usage: LoadStats
    synthetic: bool


def plan_stats(
    zones: Any, time: TimeInput, what: str | Iterable[str], *, local: bool = False, **options: Any
) -> StatsPlan:
    """Validate the job and estimate it (nothing sent); ``options`` as :func:`stats_to_file`."""
    common = {k: v for k, v in options.items() if k in _COMMON}
    if local:
        job = plan_local(zones, time, what, **common)
        return StatsPlan(len(job.zones), len(job.intervals), job.requests, job.estimated_pu, True)
    if "percentiles" in options:
        common["percentiles"] = options["percentiles"]
    requests = plan_statistics(zones, time, what, **common)
    sent = [r for r in requests if r.pixels]
    intervals = len(requests[0].intervals) if requests else 0
    pu = sum(r.estimated_pu for r in sent)
    return StatsPlan(len(requests), intervals, len(sent), pu, False)


def stats_to_file(
    zones: Any,
    time: TimeInput,
    what: str | Iterable[str],
    output: str | os.PathLike[str],
    *,
    local: bool = False,
    stats: Iterable[str] | None = None,
    config: SHConfig | None = None,
    cache: CacheOption = True,
    concurrency: int = 4,
    max_pu: float | None = None,
    progress: Callable[..., object] | None = None,
    **options: Any,
) -> StatsDone:
    """Statistics of ``what`` per zone and interval into ``output`` (.csv or .parquet).

    ``options``: ``interval``, ``resolution``, ``cloud_mask``, ``id_column``, ``crs``,
    ``collection``, ``mosaicking``, ``max_cloud``, ``zones_crs``, ``make_valid`` (both
    paths) and ``percentiles`` (the Statistical API only).
    """
    path = check_table_path(output)
    usage = LoadStats()
    unknown = set(options) - {*_COMMON, "percentiles"}
    if unknown:
        raise InputError(f"unknown option(s) {', '.join(sorted(unknown))}")
    kwargs: dict[str, Any] = {"config": config, "cache": cache, "concurrency": concurrency}
    kwargs.update(max_pu=max_pu, usage=usage, **options)
    if stats is not None:
        kwargs["stats"] = tuple(stats)
    if local:
        if "percentiles" in options:
            raise InputError("percentiles are computed by the Statistical API only (not --local)")
        frame = local_statistics(zones, time, what, **kwargs)
    else:
        frame = statistics(zones, time, what, progress=progress, **kwargs)
    write_table(frame, path)
    return StatsDone(path, len(frame), usage, bool(frame.attrs.get("synthetic")))


def check_table_path(output: str | os.PathLike[str]) -> Path:
    """``output`` as a Path, refused unless .csv or .parquet in an existing directory."""
    path = Path(output)
    if path.suffix.lower() not in TABLE_SUFFIXES:
        raise InputError(f"output {str(path)!r} must end with .csv or .parquet")
    if not path.parent.is_dir():
        raise InputError(f"output directory {str(path.parent)!r} does not exist")
    return path


def write_table(frame: pd.DataFrame, output: str | os.PathLike[str]) -> Path:
    """Write ``frame`` as CSV or Parquet (by extension), atomically; synthetic rows marked."""
    path = check_table_path(output)
    table = frame.copy()
    if table.attrs.get("synthetic"):
        table["synthetic"] = 1
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        if path.suffix.lower() == ".csv":
            table.to_csv(tmp, index=False, date_format="%Y-%m-%dT%H:%M:%SZ")
        else:
            table.to_parquet(tmp, index=False)
        tmp.replace(path)
    except (OSError, ValueError, ImportError) as exc:
        tmp.unlink(missing_ok=True)
        raise ExportError(f"cannot write {str(path)!r}: {exc}") from exc
    return path
