"""Acquisitions of the synthetic Earth: a global 5-day revisit, and the service's orderings.

The synthetic constellation images the whole Earth once per 5-day *slot* (slot ``k`` is
the day ``EPOCH + 5 k``; before Sentinel-2B joined, only every other slot, i.e. a 10-day
revisit). Every field of an :class:`Acquisition` is a function of its slot alone, so two
overlapping requests always see the same catalog: same ids, same cloud cover. The
``tile_id`` is therefore a synthetic label of the pass, not the MGRS tile of the bbox.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from functools import lru_cache

from s2raster.bands import BANDS
from s2raster.contract import MOSAICKING_ORDERS
from s2raster.emulator.earth._noise import hash_unit
from s2raster.emulator.errors import RequestError

#: Day of slot 0 (the first synthetic acquisition).
EPOCH = date(2015, 7, 4)
#: Days between two slots.
REVISIT_DAYS = 5
#: From this day on, both satellites fly (5-day revisit); before, only even slots exist.
TWIN_START = date(2017, 3, 28)
#: Sentinel-2C replaces Sentinel-2A from this day on.
S2C_START = date(2025, 1, 21)
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
_LAT_BANDS = "CDEFGHJKLMNPQRSTUVWX"
_SQUARE = "ABCDEFGHJKLMNPQRSTUVWXYZ"
_SEED_CC = 0xC10D
_SEED_TIME = 0x71AE


@dataclass(frozen=True)
class Acquisition:
    """One synthetic acquisition (a whole-Earth pass on one date).

    ``datetime`` is UTC and timezone-aware, ``cloud_cover`` in percent (0..100),
    ``platform`` ``"sentinel-2a"``, ``"sentinel-2b"`` or ``"sentinel-2c"``, ``orbit`` the
    relative orbit number (1..143) and ``tile_id`` a synthetic MGRS-like label.
    """

    id: str
    datetime: datetime
    cloud_cover: float
    platform: str
    orbit: int
    tile_id: str

    @property
    def slot(self) -> int:
        """The slot number (days since :data:`EPOCH` divided by 5)."""
        return (self.datetime.date() - EPOCH).days // REVISIT_DAYS

    @property
    def has_offset(self) -> bool:
        """True when raw DNs carry the +1000 offset of processing baseline >= 04.00."""
        return self.datetime.date() >= OFFSET_START


def check_collection(collection: str) -> str:
    """Return ``collection`` if the emulator serves it, else raise :class:`RequestError`."""
    if collection not in BANDS:
        raise RequestError(f"unknown collection {collection!r}; use one of: {', '.join(BANDS)}")
    return collection


def slot_date(slot: int) -> date:
    """The day of slot ``slot``."""
    return EPOCH + timedelta(days=REVISIT_DAYS * slot)


def _platform(slot: int) -> str | None:
    day = slot_date(slot)
    if slot % 2 == 1:
        return "sentinel-2b" if day >= TWIN_START else None
    return "sentinel-2c" if day >= S2C_START else "sentinel-2a"


def _baseline(day: date) -> str:
    return next(name for until, name in _BASELINES if day < until)


def _tile_id(orbit: int) -> str:
    zone = 1 + (orbit * 7) % 60
    band = _LAT_BANDS[(orbit * 3) % len(_LAT_BANDS)]
    square = _SQUARE[orbit % 24] + _SQUARE[(orbit * 5) % 20]
    return f"T{zone:02d}{band}{square}"


def cloud_cover_of(slot: int) -> float:
    """Cloud cover (percent) of slot ``slot``: skewed towards clear scenes, mean about 37 %."""
    return float(round(100.0 * hash_unit(_SEED_CC, slot) ** 1.7, 2))


@lru_cache(maxsize=8192)  # about 800 slots per collection to this day; Acquisition is frozen
def acquisition_of(slot: int, collection: str = "sentinel-2-l2a") -> Acquisition | None:
    """The acquisition of slot ``slot`` (None for slots no satellite flies)."""
    platform = _platform(slot)
    if platform is None or slot < 0:
        return None
    day = slot_date(slot)
    seconds = 36000 + int(hash_unit(_SEED_TIME, slot) * 3000)
    when = datetime.combine(day, time(), tzinfo=timezone.utc) + timedelta(seconds=seconds)
    orbit = 1 + (slot * 47) % 143
    tile = _tile_id(orbit)
    level = "MSIL1C" if collection == "sentinel-2-l1c" else "MSIL2A"
    produced = when + timedelta(hours=5, minutes=(slot * 13) % 60)
    stamp = "%Y%m%dT%H%M%S"
    ident = (
        f"S2{platform[-1].upper()}_{level}_{when.strftime(stamp)}_{_baseline(day)}"
        f"_R{orbit:03d}_{tile}_{produced.strftime(stamp)}"
    )
    return Acquisition(ident, when, cloud_cover_of(slot), platform, orbit, tile)


_FIRST = datetime.combine(EPOCH, time(), tzinfo=timezone.utc)
#: The lon/lat box of the whole Earth (the synthetic passes are global).
WORLD = (-180.0, -90.0, 180.0, 90.0)


def _utc(value: datetime | date, *, end: bool) -> datetime:
    if not isinstance(value, datetime):
        value = datetime.combine(value, time.max if end else time(), tzinfo=timezone.utc)
    if value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc)


def _check_bbox(bbox: Sequence[float]) -> None:
    if len(bbox) != 4:
        raise RequestError(
            f"lonlat_bbox needs 4 numbers (min lon, min lat, max lon, max lat): {bbox}"
        )
    west, south, east, north = (float(v) for v in bbox)
    if not (-180 <= west <= east <= 180 and -90 <= south <= north <= 90):
        raise RequestError(f"lonlat_bbox {tuple(bbox)} is not a lon/lat box in degrees")


def acquisitions(
    collection: str,
    lonlat_bbox: Sequence[float],
    time_from: datetime | date,
    time_to: datetime | date,
) -> list[Acquisition]:
    """Acquisitions of ``collection`` between ``time_from`` and ``time_to`` (both inclusive).

    Sorted by datetime. Naive datetimes are read as UTC; a ``date`` end covers that day.
    The synthetic passes are global, so ``lonlat_bbox`` is only validated. As the service,
    there is nothing before the first acquisition nor after now (a far-future end is fine).
    """
    check_collection(collection)
    _check_bbox(lonlat_bbox)
    start, stop = _utc(time_from, end=False), _utc(time_to, end=True)
    if start > stop:
        raise RequestError(f"time range is reversed: {start.isoformat()} > {stop.isoformat()}")
    start = max(start, _FIRST)
    stop = min(stop, datetime.now(timezone.utc))
    if start > stop:
        return []
    first = max((start.date() - EPOCH).days // REVISIT_DAYS - 1, 0)
    last = (stop.date() - EPOCH).days // REVISIT_DAYS + 1
    found = (acquisition_of(k, collection) for k in range(first, last + 1))
    return [a for a in found if a is not None and start <= a.datetime <= stop]


def order(
    acqs: Iterable[Acquisition], mosaicking_order: str, max_cloud: float | None = None
) -> list[Acquisition]:
    """Filter by ``max_cloud`` (cloud_cover <= max_cloud) and sort as the service does.

    ``mostRecent``: newest first; ``leastRecent``: oldest first; ``leastCC``: lowest cloud
    cover first, ties newest first.
    """
    if mosaicking_order not in MOSAICKING_ORDERS:
        raise RequestError(
            f"unknown mosaickingOrder {mosaicking_order!r}; use one of "
            + ", ".join(MOSAICKING_ORDERS)
        )
    kept = [a for a in acqs if max_cloud is None or a.cloud_cover <= max_cloud]
    if mosaicking_order == "leastRecent":
        return sorted(kept, key=lambda a: a.datetime)
    newest = sorted(kept, key=lambda a: a.datetime, reverse=True)
    if mosaicking_order == "leastCC":
        return sorted(newest, key=lambda a: a.cloud_cover)  # stable: ties stay newest first
    return newest
