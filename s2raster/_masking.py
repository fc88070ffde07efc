"""``load(..., cloud_mask=True)``: SCL in the same requests, then :func:`s2raster.mask_clouds`.

Private to :mod:`s2raster._load`.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterable

import dask
import xarray as xr

from s2raster.bands import validate_bands
from s2raster.errors import BandError, InputError
from s2raster.plan import Plan

__all__ = ["check_mask", "masked", "with_scl"]


def with_scl(bands: str | Iterable[str], collection: str) -> tuple[str, ...]:
    """``bands`` (validated) with ``SCL`` added if missing (for ``cloud_mask=True``)."""
    names = validate_bands(bands, collection)
    return names if "SCL" in names else (*names, "SCL")


def check_mask(plan: Plan, cloud_mask: bool, min_clear: float | None, groupby: str | None) -> None:
    """Refuse a cloud mask the plan cannot give, before any request."""
    if not isinstance(cloud_mask, bool):
        raise InputError(f"cloud_mask must be True or False, got {cloud_mask!r}")
    if cloud_mask and "SCL" not in plan.query.bands:
        raise BandError(
            "cloud_mask=True needs the SCL band in the plan: make_plan(..., bands=[..., 'SCL']) "
            "(s2raster.load adds it itself)"
        )
    if cloud_mask and plan.query.bands == ("SCL",):
        raise BandError("cloud_mask=True masks the other bands: ask for some besides SCL")
    if min_clear is not None and not cloud_mask:
        raise InputError("min_clear needs cloud_mask=True (it drops steps by their clear share)")
    if min_clear is not None and groupby is None:
        raise InputError("min_clear drops time steps: load a series (groupby='solar_day')")


def masked(da: xr.DataArray, min_clear: float | None, *, warn: bool, workers: int) -> xr.DataArray:
    """``da`` through :func:`s2raster.mask_clouds`; with ``min_clear`` its per-step fractions
    are computed now, on ``workers`` threads (at least the cores), downloading every tile.
    ``warn``: the load has no tile cache and real PU are spent, so say the kept steps will
    be downloaded twice."""
    if warn:
        warnings.warn(
            "min_clear computes each step's clear fraction now and the load has no tile "
            "cache: the kept steps will be downloaded (and paid for) again when computed; "
            "pass cache=True or a directory",
            stacklevel=3,
        )
    from s2raster.clouds import mask_clouds

    with dask.config.set(num_workers=max(workers, os.cpu_count() or 1)):
        return mask_clouds(da, min_clear=min_clear)
