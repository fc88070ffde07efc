"""The CLI's option groups as typed frozen dataclasses, each built once from click's keyword
arguments by its ``from_kwargs`` (the decorators that add the options are in
:mod:`s2raster.cli.options`)."""

from __future__ import annotations

from collections.abc import MutableMapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from s2raster.cli.confirm import CONFIRM_PU
from s2raster.errors import InputError

Kwargs = MutableMapping[str, Any]


@dataclass(frozen=True)
class AreaOptions:
    """Where and when: --bbox (or --geometry), --bbox-crs, --time, --crs, --collection,
    --mosaicking, --max-cloud, and --yes (confirm a large area).

    ``bbox`` is None when --geometry is given instead (``fetch``, ``plan``).
    """

    bbox: tuple[float, float, float, float] | None
    bbox_crs: str
    time: str | None
    crs: str | None
    collection: str
    mosaicking: str
    max_cloud: float | None
    confirmed: bool
    geometry: Path | None = None

    @classmethod
    def from_kwargs(cls, kwargs: Kwargs) -> AreaOptions:
        """Pop the group's values from click's keyword arguments."""
        raw = kwargs.pop("bbox")
        geometry = kwargs.pop("geometry", None)
        if raw is not None and geometry is not None:
            raise InputError("give either --bbox or --geometry, not both")
        if raw is None and geometry is None:
            raise InputError(
                "give the area: --bbox MINX MINY MAXX MAXY or --geometry FILE (see --help)"
            )
        bbox = None if raw is None else tuple(float(v) for v in raw)
        return cls(
            bbox=bbox,  # type: ignore[arg-type]
            geometry=geometry,
            bbox_crs=kwargs.pop("bbox_crs"),
            time=kwargs.pop("time"),
            crs=kwargs.pop("crs"),
            collection=kwargs.pop("collection"),
            mosaicking=kwargs.pop("mosaicking"),
            max_cloud=kwargs.pop("max_cloud"),
            confirmed=kwargs.pop("yes"),
        )


@dataclass(frozen=True)
class EndpointOptions:
    """Which service: --emulator, or CDSE (--profile, --base-url, --token-url)."""

    emulator: bool
    profile: str | None
    base_url: str | None
    token_url: str | None

    @classmethod
    def from_kwargs(cls, kwargs: Kwargs) -> EndpointOptions:
        """Pop the group's values from click's keyword arguments."""
        return cls(
            emulator=kwargs.pop("emulator"),
            profile=kwargs.pop("profile"),
            base_url=kwargs.pop("base_url"),
            token_url=kwargs.pop("token_url"),
        )


@dataclass(frozen=True)
class ServiceOptions:
    """The endpoint and how to download: --concurrency, --cache-dir, --no-cache, -q, and
    the cost question: --yes-cost, --confirm-above."""

    endpoint: EndpointOptions
    concurrency: int
    cache_dir: Path | None
    no_cache: bool
    quiet: bool
    yes_cost: bool = False
    confirm_above: float = CONFIRM_PU
    cache_max_bytes: int | None = None

    @classmethod
    def from_kwargs(cls, kwargs: Kwargs) -> ServiceOptions:
        """Pop the group's values from click's keyword arguments."""
        return cls(
            endpoint=EndpointOptions.from_kwargs(kwargs),
            concurrency=kwargs.pop("concurrency"),
            cache_dir=kwargs.pop("cache_dir"),
            no_cache=kwargs.pop("no_cache"),
            quiet=kwargs.pop("quiet"),
            yes_cost=kwargs.pop("yes_cost"),
            confirm_above=kwargs.pop("confirm_above"),
            cache_max_bytes=_optional_size(kwargs.pop("cache_max_size"), "--cache-max-size"),
        )

    @property
    def cache(self) -> Any:
        """The ``cache`` argument of :func:`s2raster.load` (False, True, a directory, or a
        :class:`~s2raster.cache.TileCache` bounded by --cache-max-size).

        With ``--emulator`` the default is no cache: each run's emulator has a new port, so
        its tiles could never be found again (an explicit ``--cache-dir`` is still honoured).
        """
        if self.no_cache or (self.endpoint.emulator and self.cache_dir is None):
            return False
        if self.cache_max_bytes is None:
            return self.cache_dir if self.cache_dir is not None else True
        from s2raster.cache import TileCache, default_directory

        return TileCache(self.cache_dir or default_directory(), max_bytes=self.cache_max_bytes)


@dataclass(frozen=True)
class JobOptions:
    """What ``fetch`` and ``plan`` get: --bands, --index, --resolution, --max-pu,
    --sample-type.

    ``bands`` is None when --bands is not given; ``indices`` as typed (not yet checked).
    """

    bands: tuple[str, ...] | None
    indices: tuple[str, ...]
    resolution: float
    max_pu: float | None
    sample_type: str = "FLOAT32"

    @classmethod
    def from_kwargs(cls, kwargs: Kwargs) -> JobOptions:
        """Pop the group's values from click's keyword arguments."""
        bands = kwargs.pop("bands")
        return cls(
            bands=None if bands is None else parse_list(bands),
            indices=parse_list(kwargs.pop("index")),
            resolution=kwargs.pop("resolution"),
            max_pu=kwargs.pop("max_pu"),
            sample_type=kwargs.pop("sample_type").upper(),
        )


@dataclass(frozen=True)
class SeriesOptions:
    """A time series: --per-date, --composite, --cloud-mask, --groupby, --min-clear."""

    per_date: bool
    composite: str | None
    cloud_mask: bool
    groupby: str | None
    min_clear: float | None

    @classmethod
    def from_kwargs(cls, kwargs: Kwargs) -> SeriesOptions:
        """Pop the group's values from click's keyword arguments."""
        return cls(
            per_date=kwargs.pop("per_date"),
            composite=kwargs.pop("composite"),
            cloud_mask=kwargs.pop("cloud_mask"),
            groupby=kwargs.pop("groupby"),
            min_clear=kwargs.pop("min_clear"),
        )

    @property
    def series_groupby(self) -> str | None:
        """The grouping of the job: --groupby, else ``solar_day`` for --per-date and
        --composite; None for one mosaic."""
        if self.groupby is not None:
            return self.groupby
        return "solar_day" if self.per_date or self.composite is not None else None


def parse_list(value: str | None) -> tuple[str, ...]:
    """``"B02, B03,,B04"`` -> ``("B02", "B03", "B04")``; None -> ()."""
    if not value:
        return ()
    return tuple(item.strip() for item in value.split(",") if item.strip())


_SIZE_UNITS = {"": 1, "K": 10**3, "M": 10**6, "G": 10**9, "T": 10**12}
_AGE_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def parse_size(text: str, option: str) -> int:
    """``"2G"``, ``"500MB"``, ``"10 GiB"`` -> bytes (K/M/G/T: powers of 1000; KiB...: 1024)."""
    value = text.strip().upper().replace(" ", "")
    binary = value.endswith("IB")
    value = value.removesuffix("IB" if binary else "B")
    unit = value[-1:] if value[-1:] in "KMGT" else ""
    number = value[: len(value) - len(unit)]
    try:
        amount = float(number)
    except ValueError:
        amount = -1.0
    if not (amount >= 0 and amount < 1e18):
        raise click.BadParameter(f"{text!r} is not a size such as 2G or 500M", param_hint=option)
    factor = 1024 ** " KMGT".index(unit or " ") if binary else _SIZE_UNITS[unit]
    return int(amount * factor)


def parse_age(text: str, option: str) -> float:
    """``"30d"``, ``"12h"``, ``"90m"``, ``"45s"``, ``"2w"`` -> seconds."""
    value = text.strip().lower()
    unit = value[-1:] if value[-1:] in _AGE_UNITS else ""
    try:
        amount = float(value[: len(value) - len(unit)] if unit else value)
    except ValueError:
        amount = -1.0
    if not unit or not (amount >= 0 and amount < 1e12):
        raise click.BadParameter(
            f"{text!r} is not an age such as 30d, 12h, 90m or 45s", param_hint=option
        )
    return amount * _AGE_UNITS[unit]


def _optional_size(text: str | None, option: str) -> int | None:
    return None if text is None else parse_size(text, option)
