"""The CLI's option groups as typed frozen dataclasses, each built once from click's keyword
arguments by its ``from_kwargs`` (the decorators that add the options are in
:mod:`s2raster.cli.options`)."""

from __future__ import annotations

from collections.abc import MutableMapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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
    """The endpoint and how to download: --concurrency, --cache-dir, --no-cache, -q."""

    endpoint: EndpointOptions
    concurrency: int
    cache_dir: Path | None
    no_cache: bool
    quiet: bool

    @classmethod
    def from_kwargs(cls, kwargs: Kwargs) -> ServiceOptions:
        """Pop the group's values from click's keyword arguments."""
        return cls(
            endpoint=EndpointOptions.from_kwargs(kwargs),
            concurrency=kwargs.pop("concurrency"),
            cache_dir=kwargs.pop("cache_dir"),
            no_cache=kwargs.pop("no_cache"),
            quiet=kwargs.pop("quiet"),
        )

    @property
    def cache(self) -> bool | Path:
        """The ``cache`` argument of :func:`s2raster.load`.

        With ``--emulator`` the default is no cache: each run's emulator has a new port, so
        its tiles could never be found again (an explicit ``--cache-dir`` is still honoured).
        """
        if self.no_cache or (self.endpoint.emulator and self.cache_dir is None):
            return False
        return self.cache_dir if self.cache_dir is not None else True


@dataclass(frozen=True)
class JobOptions:
    """What ``fetch`` and ``plan`` get: --bands, --index, --resolution, --max-pu.

    ``bands`` is None when --bands is not given; ``indices`` as typed (not yet checked).
    """

    bands: tuple[str, ...] | None
    indices: tuple[str, ...]
    resolution: float
    max_pu: float | None

    @classmethod
    def from_kwargs(cls, kwargs: Kwargs) -> JobOptions:
        """Pop the group's values from click's keyword arguments."""
        bands = kwargs.pop("bands")
        return cls(
            bands=None if bands is None else parse_list(bands),
            indices=parse_list(kwargs.pop("index")),
            resolution=kwargs.pop("resolution"),
            max_pu=kwargs.pop("max_pu"),
        )


def parse_list(value: str | None) -> tuple[str, ...]:
    """``"B02, B03,,B04"`` -> ``("B02", "B03", "B04")``; None -> ()."""
    if not value:
        return ()
    return tuple(item.strip() for item in value.split(",") if item.strip())
