"""The synthetic Earth: acquisitions (:func:`acquisitions`, :func:`order`) and pixels
(:func:`render`) of a deterministic planet defined on the ground.

A ground point on a date has the same value whatever the bbox, CRS, resolution or tiling
of a request, so tiles mosaic seamlessly. See :mod:`._render` for the land cover, units
and resampling, :mod:`._scenes` for the acquisitions.
"""

from __future__ import annotations

from s2raster.emulator.earth._mgrs import tiles_of
from s2raster.emulator.earth._render import check_units, render, supported_units
from s2raster.emulator.earth._scenes import (
    WORLD,
    Acquisition,
    acquisitions,
    check_collection,
    order,
)

__all__ = [
    "WORLD",
    "Acquisition",
    "acquisitions",
    "check_collection",
    "check_units",
    "order",
    "render",
    "supported_units",
    "tiles_of",
]
