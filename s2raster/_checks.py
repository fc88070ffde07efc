"""The argument checks of :func:`s2raster.load` and :func:`s2raster.load_plan`: types and
ranges refused with an :class:`~s2raster.errors.InputError` before any plan is made or any
request is sent."""

from __future__ import annotations

import math
import numbers

from sentinelhub.config import SHConfig

from s2raster._tiles import LoadStats
from s2raster.errors import InputError
from s2raster.plan import Plan

__all__ = ["check_arguments", "check_service_arguments"]


def check_arguments(
    plan: object,
    *,
    config: object,
    concurrency: object,
    progress: object,
    max_pu: object,
    stats: object,
) -> None:
    """Refuse wrong types and ranges of :func:`load_plan`'s arguments (no request sent)."""
    if not isinstance(plan, Plan):
        raise InputError(
            f"plan must be an s2raster.plan.Plan (from make_plan), got {type(plan).__name__}"
        )
    check_service_arguments(
        config=config, concurrency=concurrency, progress=progress, max_pu=max_pu, stats=stats
    )


def check_service_arguments(
    *, config: object, concurrency: object, progress: object, max_pu: object, stats: object
) -> None:
    """The checks of :func:`check_arguments` that need no plan (``load`` runs them first)."""
    if isinstance(concurrency, bool) or not isinstance(concurrency, int) or concurrency < 1:
        raise InputError(f"concurrency must be a positive integer, got {concurrency!r}")
    if stats is not None and not isinstance(stats, LoadStats):
        raise InputError(f"stats must be an s2raster.LoadStats, got {type(stats).__name__}")
    if progress is not None and not callable(progress):
        raise InputError(
            f"progress must be a function called once per tile (or None), got "
            f"{type(progress).__name__} {progress!r}"
        )
    if max_pu is not None and (
        isinstance(max_pu, bool)
        or not isinstance(max_pu, numbers.Real)
        or not (math.isfinite(float(max_pu)) and float(max_pu) >= 0)
    ):
        raise InputError(
            f"max_pu must be a number of processing units, 0 or more (or None), got {max_pu!r}"
        )
    if config is not None and not isinstance(config, SHConfig):
        raise InputError(
            f"config must be a sentinelhub.SHConfig (e.g. s2raster.cdse_config()), got "
            f"{type(config).__name__}"
        )
