"""Acquisitions of the synthetic Earth: one per (pass, tile), as the catalog lists them.

An :class:`Acquisition` is what CDSE's catalog calls an item: one MGRS tile imaged by one
pass (see :mod:`._orbit` for the passes, :mod:`._tiles` for the tiles). Its ``datetime``
is the sensing time at the centre of its footprint, with milliseconds; the tiles of one
pass are seconds apart (north first). Its cloud cover is the tile's own, from the pass's
cloudiness field that also draws the clouds. Everything is a function of the pair, so
two overlapping requests always see the same catalog: same ids, same times, same covers.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime, time, timedelta, timezone
from functools import lru_cache

from s2raster.contract import MOSAICKING_ORDERS
from s2raster.emulator.earth._acquisition import Acquisition, check_collection, made
from s2raster.emulator.earth._footprint import (
    WIDE_DEG,
    in_box,
    may_cover,
    survey,
    tiles_near,
)
from s2raster.emulator.earth._orbit import (
    EPOCH,
    REVOLUTIONS,
    Pass,
    passes,
    reference_pass,
    track_seconds,
)
from s2raster.emulator.earth._tiles import Tile, tiles_in_box
from s2raster.emulator.errors import RequestError

_FIRST = datetime.combine(EPOCH, time(), tzinfo=timezone.utc)
#: Tiles surveyed at once.
_BATCH = 32
#: How far a tile's sensing time may be from the track's at its latitude.
_SLACK = timedelta(minutes=3)
#: The lon/lat box of the whole Earth.
WORLD = (-180.0, -90.0, 180.0, 90.0)


_CACHE_SIZE = 65536
_cache: OrderedDict[tuple[Pass, Tile, str], Acquisition | None] = OrderedDict()
_lock = threading.Lock()


def acquisitions_of(p: Pass, tiles: Sequence[Tile], collection: str) -> list[Acquisition | None]:
    """What pass ``p`` acquired of each tile (None when the swath misses it or it is
    dark); computed once per (pass, tile) and kept (pure)."""
    keys = [(p, tile, collection) for tile in tiles]
    with _lock:
        known = {key: _cache[key] for key in keys if key in _cache}
    missing = [tile for tile, key in zip(tiles, keys, strict=True) if key not in known]
    if missing:
        for tile, seen in zip(missing, survey(p, missing), strict=True):
            known[(p, tile, collection)] = None if seen is None else made(p, tile, seen, collection)
        with _lock:
            _cache.update((key, known[key]) for key in keys)
            while len(_cache) > _CACHE_SIZE:
                _cache.popitem(last=False)
    return [known[key] for key in keys]


def acquisition_of(p: Pass, tile: Tile, collection: str = "sentinel-2-l2a") -> Acquisition | None:
    """What pass ``p`` acquired of ``tile`` (see :func:`acquisitions_of`)."""
    return acquisitions_of(p, [tile], collection)[0]


def _utc(value: datetime | date, *, end: bool) -> datetime:
    if not isinstance(value, datetime):
        value = datetime.combine(value, time.max if end else time(), tzinfo=timezone.utc)
    if value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc)


def _check_bbox(bbox: Sequence[float]) -> tuple[float, float, float, float]:
    if len(bbox) != 4:
        raise RequestError(
            f"lonlat_bbox needs 4 numbers (min lon, min lat, max lon, max lat): {bbox}"
        )
    west, south, east, north = (float(v) for v in bbox)
    if not (-180 <= west <= east <= 180 and -90 <= south <= north <= 90):
        raise RequestError(f"lonlat_bbox {tuple(bbox)} is not a lon/lat box in degrees")
    return west, south, east, north


def _range(time_from: datetime | date, time_to: datetime | date) -> tuple[datetime, datetime]:
    start, stop = _utc(time_from, end=False), _utc(time_to, end=True)
    if start > stop:
        raise RequestError(f"time range is reversed: {start.isoformat()} > {stop.isoformat()}")
    return max(start, _FIRST), min(stop, datetime.now(timezone.utc))


@lru_cache(maxsize=1024)
def _tiles_in_box(box: tuple[float, ...]) -> tuple[Tile, ...]:
    return tuple(tiles_in_box(box))


def _north_first(tile: Tile) -> tuple[int, int, int]:
    return (-tile.row, tile.zone, tile.col)


def _of_pass(
    p: Pass,
    box: tuple[float, ...],
    collection: str,
    span: tuple[datetime, datetime],
    *,
    touching: bool,
) -> Iterator[Acquisition]:
    """The acquisitions of ``p`` over ``box``, lazily, north to south (tile rows; the
    sensing order up to seconds), skipping tiles sensed surely outside ``span``."""
    wide = box[2] - box[0] > WIDE_DEG or box[3] - box[1] > WIDE_DEG
    tiles = tiles_near(p, box) if wide else set(_tiles_in_box(box))
    early, late = span[0] - _SLACK, span[1] + _SLACK
    ordered = sorted(tiles, key=_north_first)
    timely = [
        t
        for t in ordered
        if early <= p.node_time + timedelta(seconds=track_seconds(t.centre_lat())) <= late
    ]
    for start in range(0, len(timely), _BATCH):  # lazily, for wide searches
        for acq in acquisitions_of(p, timely[start : start + _BATCH], collection):
            if acq is not None and (not touching or in_box(list(acq.footprint), box)):
                yield acq


@lru_cache(maxsize=1024)
def orbits_over(box: tuple[float, float, float, float]) -> frozenset[int]:
    """The relative orbits whose swath may meet ``box`` (their tracks repeat)."""
    return frozenset(o for o in range(1, REVOLUTIONS + 1) if may_cover(reference_pass(o), box))


def iter_acquisitions(
    collection: str,
    lonlat_bbox: Sequence[float],
    time_from: datetime | date,
    time_to: datetime | date,
    *,
    touching: bool = True,
) -> Iterator[Acquisition]:
    """:func:`acquisitions`, lazily (pass after pass: the order is the same)."""
    check_collection(collection)
    box = _check_bbox(lonlat_bbox)
    start, stop = _range(time_from, time_to)
    if start > stop:
        return
    for p in passes(start, stop, orbits_over(box)):
        for acq in _of_pass(p, box, collection, (start, stop), touching=touching):
            if start <= acq.datetime <= stop:
                yield acq


def acquisitions(
    collection: str,
    lonlat_bbox: Sequence[float],
    time_from: datetime | date,
    time_to: datetime | date,
    *,
    touching: bool = True,
) -> list[Acquisition]:
    """Acquisitions of ``collection`` over ``lonlat_bbox`` sensed between ``time_from``
    and ``time_to`` (both inclusive), pass after pass (in time), north to south within a
    pass (tiles of one pass are seconds apart).

    An acquisition is listed when its footprint meets the box (``touching=False``: when
    its tile's square may meet it, a superset for renderers). Naive datetimes are read
    as UTC; a ``date`` end covers that day. As the service, there is nothing before the
    first acquisition nor after now (a far-future end is fine).
    """
    return list(iter_acquisitions(collection, lonlat_bbox, time_from, time_to, touching=touching))


def order(
    acqs: Iterable[Acquisition], mosaicking_order: str, max_cloud: float | None = None
) -> list[Acquisition]:
    """Filter by ``max_cloud`` (the tile's cloud_cover <= max_cloud) and sort as the
    service does.

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
