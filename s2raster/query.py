"""What a request asks for besides its area: collection, time, bands, filters, sample type.

:func:`make_query` validates and normalises these inputs into a :class:`Query`, the part of
every tile request that does not depend on the tile. Pure data: no I/O.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from s2raster.bands import check_collection, integer_units, validate_bands
from s2raster.contract import MAX_RESOLUTION_M, MOSAICKING_ORDERS, RESAMPLING
from s2raster.errors import InputError
from s2raster.timerange import TimeInput, parse_time

__all__ = [
    "SAMPLE_BYTES",
    "SAMPLE_TYPES",
    "Query",
    "check_integer_query",
    "check_max_cloud",
    "check_resolution",
    "make_query",
]

#: The response sample types a load can ask for, and their bytes per sample. UINT16 asks
#: for DN and converts them to the same float32 values (half the processing units).
SAMPLE_TYPES = ("FLOAT32", "UINT16")
SAMPLE_BYTES = {"FLOAT32": 4, "UINT16": 2}


@dataclass(frozen=True)
class Query:
    """Everything a request asks for except the area: collection, time, bands and filters."""

    collection: str
    time_from: datetime
    time_to: datetime
    bands: tuple[str, ...]
    mosaicking: str = "mostRecent"
    max_cloud: float | None = None
    upsampling: str = "NEAREST"
    downsampling: str = "NEAREST"
    sample_type: str = "FLOAT32"

    @property
    def divisors(self) -> tuple[float, ...] | None:
        """Per band, what a UINT16 response's integers are divided by (None for FLOAT32)."""
        if self.sample_type == "FLOAT32":
            return None
        return tuple(d for _, d in integer_units(self.collection, self.bands))


def make_query(
    time: TimeInput,
    bands: str | Iterable[str],
    *,
    collection: str = "sentinel-2-l2a",
    mosaicking: str = "mostRecent",
    max_cloud: float | None = None,
    upsampling: str = "NEAREST",
    downsampling: str = "NEAREST",
    sample_type: str = "FLOAT32",
) -> Query:
    """Validate and normalise everything but the area into a :class:`Query`."""
    collection = check_collection(collection)
    time_from, time_to = parse_time(time)
    query = Query(
        collection=collection,
        time_from=time_from,
        time_to=time_to,
        bands=validate_bands(bands, collection),
        mosaicking=_choice(mosaicking, MOSAICKING_ORDERS, "mosaicking"),
        max_cloud=check_max_cloud(max_cloud),
        upsampling=_choice(upsampling, RESAMPLING, "upsampling"),
        downsampling=_choice(downsampling, RESAMPLING, "downsampling"),
        sample_type=_choice(sample_type, SAMPLE_TYPES, "sample_type"),
    )
    check_integer_query(query)
    return query


def check_integer_query(query: Query) -> None:
    """A UINT16 query must be lossless: integer bands only, NEAREST resampling.

    Interpolated DN (BILINEAR, BICUBIC) are fractional, so a UINT16 response would round
    them: refused with the fix rather than returning values that differ from FLOAT32.
    """
    if query.sample_type == "FLOAT32":
        return
    integer_units(query.collection, query.bands)  # BandError for angles, AOT
    for what in ("upsampling", "downsampling"):
        if getattr(query, what) != "NEAREST":
            raise InputError(
                f"sample_type='UINT16' with {what}={getattr(query, what)!r} would round the "
                "interpolated values: use NEAREST resampling, or sample_type='FLOAT32'"
            )


def check_resolution(resolution: float) -> float:
    """A resolution in metres per pixel: positive, finite, at most 1500 m."""
    if isinstance(resolution, bool) or not isinstance(resolution, (int, float)):
        raise InputError(f"resolution must be a number of metres, got {resolution!r}")
    value = float(resolution)
    if not (math.isfinite(value) and value > 0):
        raise InputError(f"resolution must be a positive number of metres, got {resolution!r}")
    if value > MAX_RESOLUTION_M:
        raise InputError(
            f"resolution {value:g} m/px is coarser than the Process API allows for Sentinel-2 "
            f"({MAX_RESOLUTION_M:g} m/px); use resolution={MAX_RESOLUTION_M:g} or finer"
        )
    return value


def check_max_cloud(max_cloud: float | None) -> float | None:
    """Maximum scene cloud cover in percent (0..100), or None for no filter."""
    if max_cloud is None:
        return None
    if isinstance(max_cloud, bool) or not isinstance(max_cloud, (int, float)):
        raise InputError(f"max_cloud must be a percentage 0..100, got {max_cloud!r}")
    value = float(max_cloud)
    if not (math.isfinite(value) and 0.0 <= value <= 100.0):
        raise InputError(
            f"max_cloud must be a percentage from 0 to 100 (e.g. 20), got {max_cloud!r}"
        )
    return value


def _choice(value: str, options: tuple[str, ...], what: str) -> str:
    by_lower = {o.lower(): o for o in options}
    found = by_lower.get(value.strip().lower()) if isinstance(value, str) else None
    if found is None:
        raise InputError(f"unknown {what} {value!r}; use one of: {', '.join(options)}")
    return found
