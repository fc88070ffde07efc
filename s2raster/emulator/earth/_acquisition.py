"""One acquisition (a catalog item): what it is, and its CDSE-like product id."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from s2raster.bands import BANDS
from s2raster.emulator.earth._footprint import Seen, datatake_start
from s2raster.emulator.earth._orbit import Pass
from s2raster.emulator.earth._tiles import Tile
from s2raster.emulator.errors import RequestError

#: Processing baseline 04.00: the -1000 DN offset (BOA_ADD_OFFSET) exists from this day on.
OFFSET_START = date(2022, 1, 25)
_BASELINES: tuple[tuple[date, str], ...] = (
    (date(2018, 11, 6), "N0206"),
    (date(2019, 7, 8), "N0211"),
    (date(2021, 6, 30), "N0213"),
    (OFFSET_START, "N0301"),
    (date(2022, 12, 6), "N0400"),
    (date(2023, 6, 27), "N0509"),
    (date(2024, 7, 23), "N0510"),
    (date.max, "N0511"),
)


@dataclass(frozen=True)
class Acquisition:
    """One tile imaged by one pass (a catalog item).

    ``datetime`` is UTC, timezone-aware, to the millisecond; ``cloud_cover`` in percent
    (0..100); ``platform`` ``"sentinel-2a"``, ``"sentinel-2b"`` or ``"sentinel-2c"``;
    ``orbit`` the relative orbit (1..143); ``tile_id`` the MGRS name (``T33TVM``).
    ``pass_`` and ``tile`` say which pass imaged which tile (None for hand-made ones),
    ``footprint`` is the imaged part of the tile (a lon/lat ring).
    """

    id: str
    datetime: datetime
    cloud_cover: float
    platform: str
    orbit: int
    tile_id: str
    pass_: Pass | None = field(default=None, compare=False)
    tile: Tile | None = field(default=None, compare=False)
    footprint: tuple[tuple[float, float], ...] = field(default=(), compare=False)

    @property
    def has_offset(self) -> bool:
        """True when raw DNs carry the +1000 offset of processing baseline >= 04.00."""
        return self.day >= OFFSET_START

    @property
    def day(self) -> date:
        """The UTC date of the pass's descending node (one per pass, for its seasons)."""
        return self.pass_.node_time.date() if self.pass_ else self.datetime.date()


def check_collection(collection: str) -> str:
    """Return ``collection`` if the emulator serves it, else raise :class:`RequestError`."""
    if collection not in BANDS:
        raise RequestError(f"unknown collection {collection!r}; use one of: {', '.join(BANDS)}")
    return collection


def _baseline(day: date) -> str:
    return next(name for until, name in _BASELINES if day < until)


def _product_id(p: Pass, tile: Tile, lat: float, collection: str) -> str:
    start = datatake_start(p, lat)
    produced = start + timedelta(hours=1, minutes=20 + p.key % 40, seconds=p.key % 60)
    level = "MSIL1C" if collection == "sentinel-2-l1c" else "MSIL2A"
    stamp = "%Y%m%dT%H%M%S"
    return (
        f"S2{p.platform[-1].upper()}_{level}_{start.strftime(stamp)}_{_baseline(start.date())}"
        f"_R{p.relative_orbit:03d}_T{tile.name()}_{produced.strftime(stamp)}"
    )


def made(p: Pass, tile: Tile, seen: Seen, collection: str) -> Acquisition:
    lat = sum(q[1] for q in seen.ring) / len(seen.ring)
    ident = _product_id(p, tile, lat, collection)
    return Acquisition(
        ident, seen.when, seen.cloud_cover, p.platform, p.relative_orbit, "T" + tile.name(),
        p, tile, tuple(seen.ring),
    )  # fmt: skip
