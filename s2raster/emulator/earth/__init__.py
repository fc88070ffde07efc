"""The synthetic Earth: acquisitions (:func:`acquisitions`, :func:`order`) and pixels
(:func:`render`) of a deterministic planet defined on the ground.

A ground point on a date has the same value whatever the bbox, CRS, resolution or tiling
of a request, so tiles mosaic seamlessly. See :mod:`._render` for the land cover, units
and resampling.

The overpass model (:mod:`._orbit`, :mod:`._tiles`, :mod:`._scenes`)
---------------------------------------------------------------------
- Sentinel-2A (2C from 2025-01-21) and 2B fly a sun-synchronous orbit: 143 relative
  orbits in a 10-day cycle, 2B on 2A's tracks 5 days later, so each track is flown every
  5 days (10 days before 2017-03-28). Only descending (day) passes image, over a 290 km
  swath, between 84 deg S and 84 deg N, and not where the sun is lower than 4 deg.
- Each descending node is crossed at 10:30 local mean solar time, so a pass's UTC time
  follows the longitude (about 10:30 - lon/15 h at the equator); further north a pass
  comes earlier in UTC but later in local time (about 11:05 at 45 deg N), as the real
  ground track leans east. Relative orbits 30, 73 and 116 (about 156-158 deg E) cross UTC
  midnight during the pass.
- An acquisition is one MGRS-named 100 km tile imaged by one pass (a catalog item). Its
  ``datetime`` (milliseconds) is the sensing time at its footprint's centre: the tiles of
  one pass are seconds apart, north first (about 15 s per 100 km). Its ``cloud_cover`` is
  the tile's own, from the pass's cloudiness field, which also draws the clouds, shadows,
  SCL and CLD of its pixels. Outside a pass's swath its pixels have dataMask 0.
- Tiles partition the ground (no overlap), so a pixel belongs to one tile; a place is
  seen by one or more relative orbits (where adjacent swaths overlap, typically 2 to 3
  days apart), and at high latitudes by 2A and 2B on the same day about 50 minutes apart
  (see :mod:`s2raster.emulator.catalog` for places and dates).
"""

from __future__ import annotations

from s2raster.emulator.earth._acquisition import Acquisition, check_collection
from s2raster.emulator.earth._mgrs import tiles_of
from s2raster.emulator.earth._orbit import Pass, passes, track_seconds
from s2raster.emulator.earth._render import check_units, render, supported_units
from s2raster.emulator.earth._scenes import (
    WORLD,
    acquisitions,
    iter_acquisitions,
    order,
)

__all__ = [
    "WORLD",
    "Acquisition",
    "Pass",
    "acquisitions",
    "check_collection",
    "check_units",
    "iter_acquisitions",
    "order",
    "passes",
    "render",
    "supported_units",
    "tiles_of",
    "track_seconds",
]
