"""The ``scenes`` metadata evalscripts see (ORBIT and TILE mosaicking), as plain dicts.

As the service gives them for Sentinel-2 (the Evalscript V3 page, ``scenes``; the answers
quoted in the CDSE guide "Working with metadata in evalscript"): one orbit per day,
``{"dateFrom": "2020-12-06T00:00:00Z", "dateTo": "2020-12-06T23:59:59Z", "tiles": [{"date":
"2020-12-06T10:08:08Z", "shId": 15161628, "cloudCoverage": 100, "dataPath":
"s3://sentinel-s2-l1c/tiles/33/T/UL/2020/12/6/0"}, ...]}``, one tile entry per MGRS tile of
the area, a few seconds apart. With TILE mosaicking the scenes are the tiles themselves.

The runtime accepts, for each sample, either an orbit dict (with ``tiles``) or a tile dict
(with ``date``) and derives the other; :func:`scene_from_acquisition` builds the orbit dict
of one synthetic acquisition.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Mapping, Sequence
from contextlib import suppress
from datetime import datetime, timedelta, timezone
from typing import Any, Protocol

from s2raster.emulator.errors import EvalscriptError

_MGRS = re.compile(r"^T?(\d{1,2})([C-X])([A-Z]{2})$")


class AcquisitionLike(Protocol):
    """What :func:`scene_from_acquisition` reads of an acquisition (``scenes.Acquisition``)."""

    @property
    def id(self) -> str: ...
    @property
    def datetime(self) -> datetime: ...
    @property
    def cloud_cover(self) -> float: ...
    @property
    def tile_id(self) -> str: ...


def iso(moment: datetime) -> str:
    """``moment`` as the service writes dates: ``YYYY-MM-DDTHH:MM:SSZ`` in UTC."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(timezone.utc) if moment.tzinfo else moment


def tile_scene(acq: AcquisitionLike, collection: str = "sentinel-2-l2a") -> dict[str, Any]:
    """The ``tiles`` entry of one acquisition (one tile imaged by one pass)."""
    when = _utc(acq.datetime)
    return {
        "date": iso(when),
        "shId": zlib.crc32(acq.id.encode()) & 0x7FFFFFFF,
        "cloudCoverage": round(float(acq.cloud_cover), 2),
        "dataPath": _data_path(acq.tile_id, when, collection),
    }


def orbit_scene(
    acqs: Sequence[AcquisitionLike], collection: str = "sentinel-2-l2a"
) -> dict[str, Any]:
    """The ORBIT ``scenes.orbits`` entry of the acquisitions of one UTC day: the day, and
    one tile entry per acquisition (the tiles of the area, seconds apart)."""
    return {**_day(_utc(acqs[0].datetime)), "tiles": [tile_scene(a, collection) for a in acqs]}


def scene_from_acquisition(
    acq: AcquisitionLike, collection: str = "sentinel-2-l2a", tiles: Sequence[str] = ()
) -> dict[str, Any]:
    """The ORBIT ``scenes.orbits`` entry of one acquisition; with ``tiles`` (ids of
    MGRS-like tiles), one entry per id, each 3 s before the one before it (for hand-made
    acquisitions that carry no tile of their own)."""
    if not tiles:
        return orbit_scene([acq], collection)
    when = _utc(acq.datetime)
    entries = []
    for k, name in enumerate(tiles):
        moment = when - timedelta(seconds=3 * k)
        entries.append(
            {
                "date": iso(moment),
                "shId": zlib.crc32(f"{acq.id}/{name}".encode()) & 0x7FFFFFFF,
                "cloudCoverage": round(float(acq.cloud_cover), 2),
                "dataPath": _data_path(name, moment, collection),
            }
        )
    return {**_day(when), "tiles": entries}


def _day(moment: datetime) -> dict[str, str]:
    """``dateFrom``/``dateTo`` of the day of ``moment``, as the service writes them."""
    return {
        "dateFrom": moment.strftime("%Y-%m-%dT00:00:00Z"),
        "dateTo": moment.strftime("%Y-%m-%dT23:59:59Z"),
    }


def _data_path(tile_id: str, when: datetime, collection: str) -> str:
    bucket = "sentinel-s2-l1c" if collection.endswith("l1c") else "sentinel-s2-l2a"
    match = _MGRS.match(tile_id.upper())
    square = "/".join(match.groups()) if match else tile_id
    return f"s3://{bucket}/tiles/{square}/{when.year}/{when.month}/{when.day}/0"


def as_orbit(scene: Mapping[str, Any]) -> dict[str, Any]:
    """An orbit dict from an orbit or a tile dict (a tile becomes the orbit of its day)."""
    if "tiles" in scene:
        return dict(scene)
    if "date" in scene:
        day = str(scene["date"])[:10]
        tile = as_tile(scene)
        return {"dateFrom": f"{day}T00:00:00Z", "dateTo": f"{day}T23:59:59Z", "tiles": [tile]}
    raise EvalscriptError(f"A scene needs 'tiles' (orbit) or 'date' (tile); got {dict(scene)!r}.")


def as_tile(scene: Mapping[str, Any]) -> dict[str, Any]:
    """A tile dict from a tile or an orbit dict (an orbit gives its first tile)."""
    if "date" in scene:
        return _complete_tile(scene)
    tiles = scene.get("tiles") or []
    if tiles:
        return dict(tiles[0])
    if "dateFrom" in scene:
        return {"date": scene["dateFrom"]}
    raise EvalscriptError(f"A scene needs 'tiles' (orbit) or 'date' (tile); got {dict(scene)!r}.")


def _complete_tile(tile: Mapping[str, Any]) -> dict[str, Any]:
    """A tile dict with the documented fields: ``shId`` and ``dataPath`` derived when absent
    (from ``id`` and ``tileId``/``tile_id``, as the emulator's acquisitions carry them)."""
    out = dict(tile)
    date = str(out["date"])
    with suppress(ValueError):  # the service's spelling: no fraction of a second
        out["date"] = date = iso(datetime.fromisoformat(date.replace("Z", "+00:00")))
    if "shId" not in out and out.get("id") is not None:
        out["shId"] = zlib.crc32(str(out["id"]).encode()) & 0x7FFFFFFF
    square = out.get("tileId") or out.get("tile_id")
    if "dataPath" not in out and square is not None:
        when = datetime.strptime(date[:10], "%Y-%m-%d")
        out["dataPath"] = _data_path(str(square), when, "sentinel-2-l2a")
    return out


def scene_date(scene: Mapping[str, Any]) -> str:
    """The date of a scene, orbit (``dateFrom``) or tile (``date``)."""
    return str(scene.get("dateFrom") or scene.get("date") or "1970-01-01T00:00:00Z")
