"""Sun and view angles of the synthetic acquisitions (degrees), on 5 km cells.

The sun zenith and azimuth follow from latitude, the day of the year (solar declination)
and the local mean solar time at which the pass images the cell (about 10:30 at the
equator, later towards the north). The view zenith grows with the distance from the
pass's ground track (786 km orbit, up to about 10.4 deg at the swath edges); the view
azimuth points west of the track on its east side and east on its west side.
"""

from __future__ import annotations

import math

import numpy as np

from s2raster.emulator.earth._nodes import zone_transformer
from s2raster.emulator.earth._noise import F32, F64, I64
from s2raster.emulator.earth._orbit import Pass, imaging

#: Size of an angle cell (metres), as the 5 km angle grids of the L1C/L2A metadata.
ANGLE_CELL = 5000
ANGLE_BANDS = ("sunAzimuthAngles", "sunZenithAngles", "viewAzimuthMean", "viewZenithMean")
_ALTITUDE_KM = 786.0


def solar_hour_angle(p: Pass, lon: F64, dt: F64) -> F64:
    """Hour angle (radians, negative before noon) at the imaging of each point."""
    midnight = p.node_time.replace(hour=0, minute=0, second=0, microsecond=0)
    utc_h = ((p.node_time - midnight).total_seconds() + dt) / 3600.0
    solar_h = np.mod(utc_h + lon / 15.0, 24.0)
    out: F64 = np.radians(15.0 * (solar_h - 12.0))
    return out


def sun_zenith(lat: F64, hour_angle: F64, doy: int) -> F64:
    """Sun zenith angle (degrees)."""
    phi = np.radians(lat)
    decl = math.radians(23.44) * math.sin(2 * math.pi * (284 + doy) / 365.0)
    cos_zen = np.sin(phi) * math.sin(decl) + np.cos(phi) * math.cos(decl) * np.cos(hour_angle)
    out: F64 = np.degrees(np.arccos(np.clip(cos_zen, -1.0, 1.0)))
    return out


def angles(zone: int, ci: I64, cj: I64, p: Pass, doy: int) -> dict[str, F32]:
    """The four angle bands on the 5 km cells ``ci`` x ``cj`` (rows x columns) of ``zone``."""
    xs = np.broadcast_to((ci + 0.5) * ANGLE_CELL, (cj.size, ci.size))
    ys = np.broadcast_to(((cj + 0.5) * ANGLE_CELL)[:, None], (cj.size, ci.size))
    lon, lat = zone_transformer(zone).transform(np.ascontiguousarray(xs), np.ascontiguousarray(ys))
    lon = np.asarray(lon, np.float64)
    lat = np.asarray(lat, np.float64)
    across, dt = imaging(p, lon, lat)
    hour = solar_hour_angle(p, lon, dt)
    phi = np.radians(lat)
    decl = math.radians(23.44) * math.sin(2 * math.pi * (284 + doy) / 365.0)
    zenith = sun_zenith(lat, hour, doy)
    azimuth = (
        np.degrees(
            np.arctan2(-np.sin(hour), math.tan(decl) * np.cos(phi) - np.sin(phi) * np.cos(hour))
        )
        % 360.0
    )
    across = np.clip(across, -2 * _ALTITUDE_KM, 2 * _ALTITUDE_KM)
    view_zenith = np.degrees(np.arctan(np.abs(across) / _ALTITUDE_KM))
    view_azimuth = np.where(across >= 0, 282.0, 102.0) + 0.01 * across
    values = (azimuth, zenith, view_azimuth, view_zenith)
    return {name: v.astype(np.float32) for name, v in zip(ANGLE_BANDS, values, strict=True)}
