"""Sun and view angles of the synthetic acquisitions (degrees), on 5 km cells.

The satellite crosses every place at 10:30 local solar time. The sun zenith and azimuth
follow from latitude and the day of the year (solar declination, hour angle -22.5 deg).
The view zenith grows with the distance from the centre of the imaging strip (786 km
orbit, up to about 10.4 deg at the strip edges); the view azimuth points west of the
track centre line on its east side and east on its west side.
"""

from __future__ import annotations

import math

import numpy as np

from s2raster.emulator.earth._nodes import track_km, zone_transformer
from s2raster.emulator.earth._noise import F32, I64
from s2raster.emulator.earth._surface import SWATH_KM

#: Size of an angle cell (metres), as the 5 km angle grids of the L1C/L2A metadata.
ANGLE_CELL = 5000
ANGLE_BANDS = ("sunAzimuthAngles", "sunZenithAngles", "viewAzimuthMean", "viewZenithMean")
_ALTITUDE_KM = 786.0
_HOUR_ANGLE = math.radians(-22.5)


def angles(zone: int, ci: I64, cj: I64, slot: int, doy: int) -> dict[str, F32]:
    """The four angle bands on the 5 km cells ``ci`` x ``cj`` (rows x columns) of ``zone``."""
    xs = np.broadcast_to((ci + 0.5) * ANGLE_CELL, (cj.size, ci.size))
    ys = np.broadcast_to(((cj + 0.5) * ANGLE_CELL)[:, None], (cj.size, ci.size))
    lon, lat = zone_transformer(zone).transform(np.ascontiguousarray(xs), np.ascontiguousarray(ys))
    lon = np.asarray(lon, np.float64)
    lat = np.asarray(lat, np.float64)
    phi = np.radians(lat)
    decl = math.radians(23.44) * math.sin(2 * math.pi * (284 + doy) / 365.0)
    cos_zen = np.sin(phi) * math.sin(decl) + np.cos(phi) * math.cos(decl) * math.cos(_HOUR_ANGLE)
    zenith = np.degrees(np.arccos(np.clip(cos_zen, -1.0, 1.0)))
    azimuth = (
        np.degrees(
            np.arctan2(
                -math.sin(_HOUR_ANGLE),
                math.tan(decl) * np.cos(phi) - np.sin(phi) * math.cos(_HOUR_ANGLE),
            )
        )
        % 360.0
    )
    phase = 37.0 * slot % SWATH_KM
    across = np.mod(track_km(lon, lat) + phase, SWATH_KM) - SWATH_KM / 2
    view_zenith = np.degrees(np.arctan(np.abs(across) / _ALTITUDE_KM))
    view_azimuth = np.where(across >= 0, 282.0, 102.0) + 0.01 * across
    values = (azimuth, zenith, view_azimuth, view_zenith)
    return {name: v.astype(np.float32) for name, v in zip(ANGLE_BANDS, values, strict=True)}
