"""The synthetic constellation: sun-synchronous passes of Sentinel-2A/2B/2C over the ground.

A circular orbit of inclination 98.62 deg repeats its ground track after 143 revolutions
in 10 days (the relative orbits 1..143); each descending node is crossed at 10:30 local
mean solar time, so a pass's node longitude follows from its UTC time
(``15 deg/h x (10.5 h - UTC)``). Sentinel-2B flies the same tracks half a cycle (5 days)
after Sentinel-2A; Sentinel-2C takes Sentinel-2A's place from 2025-01-21. The timing is
anchored on a real product: S2B relative orbit 22 imaged tile 33TUK at 2020-12-29T10:18:19Z
(the Catalog item example of CDSE's OpenAPI description). With it, relative orbits 30, 73
and 116 cross UTC midnight, as the Sentinel-2 acquisition plan has them (sen2r's
``s2_dop``, github.com/ranghetti/sen2r).

A ground point is imaged when it is abeam of the satellite (push-broom): :func:`imaging`
gives, for one pass, its signed across-track distance (km, positive east of the track)
and the seconds from the node. Only the descending (day) half is imaged, within
:data:`HALF_SWATH_KM` of the track and between 84 deg S and 84 deg N.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from functools import lru_cache

import numpy as np

from s2raster.emulator.earth._noise import F64

#: The 10-day repeat cycle in milliseconds, and revolutions per cycle.
CYCLE_MS = 864_000_000
REVOLUTIONS = 143
PERIOD_S = CYCLE_MS / 1000 / REVOLUTIONS
INCLINATION = math.radians(98.62)
EARTH_RATE = 2 * math.pi / 86164.0905  # rad/s, sidereal
EARTH_RADIUS_KM = 6371.0
HALF_SWATH_KM = 145.0
MAX_LAT = 84.0
#: Far from any swath (the night half of an orbit).
FAR_KM = 20_000.0
#: Day of the first synthetic acquisition; Sentinel-2B from TWIN_START; 2C from S2C_START.
EPOCH = date(2015, 7, 4)
TWIN_START = date(2017, 3, 28)
S2C_START = date(2025, 1, 21)
#: Node time of an S2A pass on relative orbit 22 (5 days before the S2B anchor).
_ANCHOR = datetime(2020, 12, 24, 10, 31, 2, 114000, tzinfo=timezone.utc)
_ANCHOR_ORBIT = 22
_HALF_CYCLE = REVOLUTIONS / 2  # S2B: 71.5 revolutions (5 days) after S2A


@dataclass(frozen=True)
class Pass:
    """One descending pass: ``platform``, its revolution ``number`` (0 at the anchor),
    the UTC ``node_time`` and longitude ``node_lon`` of its descending node, and its
    ``relative_orbit`` (1..143)."""

    platform: str
    number: int
    node_time: datetime
    node_lon: float
    relative_orbit: int

    @property
    def key(self) -> int:
        """A seed unique to the pass."""
        return (self.number * 4 + "abc".index(self.platform[-1])) & 0x7FFFFFFF


def _node_time(number: int, twin: bool) -> datetime:
    halves = 2 * number + (REVOLUTIONS if twin else 0)  # in half revolutions
    return _ANCHOR + timedelta(milliseconds=halves * CYCLE_MS // (2 * REVOLUTIONS))


def _node_lon(moment: datetime) -> float:
    hours = (moment - moment.replace(hour=0, minute=0, second=0, microsecond=0)).total_seconds()
    lon = 15.0 * (10.5 - hours / 3600.0)
    return (lon + 180.0) % 360.0 - 180.0


def _platform(twin: bool, day: date) -> str | None:
    if twin:
        return "sentinel-2b" if day >= TWIN_START else None
    if day < EPOCH:
        return None
    return "sentinel-2c" if day >= S2C_START else "sentinel-2a"


def reference_pass(orbit: int) -> Pass:
    """A pass of relative orbit ``orbit`` (every pass of it flies the same track)."""
    number = (orbit - _ANCHOR_ORBIT) % REVOLUTIONS
    when = _node_time(number, False)
    return Pass("sentinel-2a", number, when, _node_lon(when), orbit)


def make_pass(number: int, twin: bool) -> Pass | None:
    """Pass ``number`` of S2A/S2C (``twin=False``) or S2B, None when not flying then."""
    when = _node_time(number, twin)
    platform = _platform(twin, when.date())
    if platform is None:
        return None
    return Pass(platform, number, when, _node_lon(when), relative_orbit(number))


def relative_orbit(number: int) -> int:
    """The relative orbit (1..143) of revolution ``number``."""
    return (_ANCHOR_ORBIT - 1 + number) % REVOLUTIONS + 1


def passes(start: datetime, stop: datetime, orbits: frozenset[int] | None = None) -> list[Pass]:
    """The passes whose imaging (up to a quarter revolution around the node) may fall
    between ``start`` and ``stop`` (UTC), in node-time order; only those of relative
    ``orbits`` when given."""
    margin = timedelta(seconds=PERIOD_S / 4 + 60)
    found = []
    for twin in (False, True):
        offset = _HALF_CYCLE if twin else 0.0
        first = math.floor(((start - margin) - _ANCHOR).total_seconds() / PERIOD_S - offset)
        last = math.ceil(((stop + margin) - _ANCHOR).total_seconds() / PERIOD_S - offset)
        for number in range(first, last + 1):
            if orbits is not None and relative_orbit(number) not in orbits:
                continue
            made = make_pass(number, twin)
            if made is not None and start - margin <= made.node_time <= stop + margin:
                found.append(made)
    return sorted(found, key=lambda p: p.node_time)


def _unit(lon: F64, lat: F64) -> tuple[F64, F64, F64]:
    lam, phi = np.radians(lon), np.radians(lat)
    return np.cos(phi) * np.cos(lam), np.cos(phi) * np.sin(lam), np.sin(phi)


@lru_cache(maxsize=4096)
def _plane(node_lon: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Orbit-plane basis (ascending node, 90 deg further, normal), Earth-fixed at the node."""
    lam = math.radians(node_lon) + math.pi  # the ascending node is opposite
    ca, sa = math.cos(lam), math.sin(lam)
    ci, si = math.cos(INCLINATION), math.sin(INCLINATION)
    a = np.array([ca, sa, 0.0])
    b = np.array([-ci * sa, ci * ca, si])  # cos i (z x a) + sin i z
    h = np.array([sa * si, -ca * si, ci])  # a x b
    return a, b, h


def imaging(p: Pass, lon: F64, lat: F64) -> tuple[F64, F64]:
    """(across-track km, seconds from the node) at which pass ``p`` images each point.

    Points of the night half, or beyond 84 deg, get :data:`FAR_KM`.
    """
    x, y, z = _unit(np.asarray(lon, np.float64), np.asarray(lat, np.float64))
    a, b, h = _plane(p.node_lon)
    dt = np.zeros_like(x)
    for _ in range(4):  # the point moves with the Earth while the satellite comes
        theta = EARTH_RATE * dt
        c, s = np.cos(theta), np.sin(theta)
        px, py = c * x - s * y, s * x + c * y
        u = np.arctan2(px * b[0] + py * b[1] + z * b[2], px * a[0] + py * a[1] + z * a[2])
        dt = np.mod(u, 2 * np.pi) - np.pi  # 0 at the descending node
        dt *= PERIOD_S / (2 * np.pi)
    theta = EARTH_RATE * dt
    c, s = np.cos(theta), np.sin(theta)
    px, py = c * x - s * y, s * x + c * y
    across = EARTH_RADIUS_KM * np.arcsin(np.clip(px * h[0] + py * h[1] + z * h[2], -1, 1))
    night = (np.abs(dt) > PERIOD_S / 4) | (np.abs(lat) > MAX_LAT)
    across = np.where(night, FAR_KM, across)
    return across, dt


def imaging_time(p: Pass, lon: float, lat: float) -> datetime:
    """When pass ``p`` images the point (UTC, millisecond precision)."""
    _, dt = imaging(p, np.array([lon]), np.array([lat]))
    return p.node_time + timedelta(milliseconds=round(float(dt[0]) * 1000))


def track(p: Pass, step_deg: float = 0.25) -> tuple[F64, F64]:
    """Lon/lat of the ground track of ``p`` (descending half, every ``step_deg`` of the
    orbit), north to south."""
    u = np.arange(math.pi / 2, 3 * math.pi / 2 + 1e-9, math.radians(step_deg))
    a, b, _ = _plane(p.node_lon)
    dt = (u - math.pi) * PERIOD_S / (2 * math.pi)
    pos = np.outer(np.cos(u), a) + np.outer(np.sin(u), b)
    lam = np.arctan2(pos[:, 1], pos[:, 0]) - EARTH_RATE * dt
    lat = np.degrees(np.arcsin(np.clip(pos[:, 2], -1, 1)))
    lon = np.mod(np.degrees(lam) + 180.0, 360.0) - 180.0
    keep = np.abs(lat) <= MAX_LAT
    return lon[keep], lat[keep]


def track_seconds(lat: float) -> float:
    """Seconds from the descending node to the track point at ``lat`` (negative north)."""
    ratio = max(min(math.sin(math.radians(lat)) / math.sin(INCLINATION), 1.0), -1.0)
    return -math.asin(ratio) * PERIOD_S / (2 * math.pi)


@lru_cache(maxsize=1024)
def track_offset(lat: float) -> float:
    """Degrees of longitude from the descending node to the track point at ``lat``."""
    ref = Pass("sentinel-2a", 0, _ANCHOR, 0.0, 1)
    lon, lats = track(ref, 0.05)
    return float(np.interp(lat, lats[::-1], lon[::-1]))
