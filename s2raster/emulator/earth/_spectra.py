"""Spectra and seasons of the synthetic Earth.

Reflectance tables for every class and band (B01..B12, B8A, B10), modelled on typical
Sentinel-2 surface reflectance: dense forest NDVI about 0.8, crops from bare soil (NDVI
about 0.2) to a full canopy (about 0.85), water dark with a negative NDVI, snow bright in
the visible and dark at B11/B12, clouds bright and flat with high B01/B09/B10. L1C
(top of atmosphere) adds path radiance (haze: more in blue) and the water-vapour
absorption of B09 and B10.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

from s2raster.emulator.earth._noise import F32, hash_unit

REFLECTIVE = (
    "B01",
    "B02",
    "B03",
    "B04",
    "B05",
    "B06",
    "B07",
    "B08",
    "B8A",
    "B09",
    "B10",
    "B11",
    "B12",
)
BAND_INDEX = {name: k for k, name in enumerate(REFLECTIVE)}

# Land classes (before snow and clouds).
WATER, FOREST, CROP, GRASS, BARE, URBAN = range(6)

# fmt: off
#          B01    B02    B03    B04    B05    B06    B07    B08    B8A    B09    B10    B11    B12
_F0 = np.array([
    [0.055, 0.050, 0.045, 0.028, 0.022, 0.014, 0.012, 0.010, 0.008, 0.006, 0.000, 0.003, 0.0008],
    [0.030, 0.030, 0.045, 0.045, 0.080, 0.140, 0.160, 0.180, 0.190, 0.190, 0.000, 0.160, 0.090],
    [0.070, 0.080, 0.110, 0.150, 0.180, 0.200, 0.215, 0.230, 0.240, 0.240, 0.000, 0.300, 0.230],
    [0.060, 0.070, 0.100, 0.130, 0.160, 0.190, 0.210, 0.230, 0.240, 0.240, 0.000, 0.320, 0.220],
    [0.130, 0.150, 0.200, 0.260, 0.290, 0.310, 0.325, 0.340, 0.350, 0.345, 0.000, 0.420, 0.360],
    [0.100, 0.100, 0.110, 0.120, 0.135, 0.150, 0.160, 0.170, 0.175, 0.170, 0.000, 0.200, 0.180],
])
_F1 = np.array([
    [0.055, 0.050, 0.045, 0.028, 0.022, 0.014, 0.012, 0.010, 0.008, 0.006, 0.000, 0.003, 0.0008],
    [0.020, 0.022, 0.042, 0.028, 0.075, 0.210, 0.260, 0.280, 0.295, 0.290, 0.000, 0.140, 0.062],
    [0.020, 0.025, 0.060, 0.025, 0.090, 0.300, 0.400, 0.440, 0.450, 0.440, 0.000, 0.220, 0.100],
    [0.030, 0.035, 0.070, 0.045, 0.110, 0.240, 0.290, 0.310, 0.320, 0.310, 0.000, 0.230, 0.120],
    [0.130, 0.150, 0.200, 0.260, 0.290, 0.310, 0.325, 0.340, 0.350, 0.345, 0.000, 0.420, 0.360],
    [0.100, 0.100, 0.110, 0.120, 0.135, 0.150, 0.160, 0.170, 0.175, 0.170, 0.000, 0.200, 0.180],
])
SNOW = np.array([0.90, 0.92, 0.90, 0.87, 0.85, 0.82, 0.80, 0.77, 0.74, 0.60, 0.0, 0.09, 0.07])
CLOUD = np.array([0.52, 0.50, 0.49, 0.49, 0.50, 0.52, 0.53, 0.54, 0.54, 0.42, 0.06, 0.40, 0.28])
CIRRUS = np.array([0.30, 0.28, 0.27, 0.27, 0.27, 0.27, 0.27, 0.27, 0.27, 0.25, 0.18, 0.22, 0.15])
# Top of atmosphere: path reflectance at AOT 0.15 and two-way transmittance.
_PATH = np.array(
    [0.095, 0.070, 0.045, 0.025, 0.022, 0.015, 0.012, 0.010, 0.009, 0.004, 0.0008, 0.002, 0.001]
)
_TRANS = np.array([0.82, 0.86, 0.90, 0.93, 0.93, 0.94, 0.94, 0.95, 0.95, 0.32, 0.004, 0.93, 0.90])
# fmt: on

#: Relative brightness variation of each class: between 20 m cells (sd), between crop
#: parcels (sd) and in patches of about 100 m (sd about 0.5 times this).
TEXTURE = np.array([0.02, 0.04, 0.03, 0.03, 0.05, 0.15], np.float32)
PARCEL = np.array([0.0, 0.0, 0.10, 0.06, 0.05, 0.05], np.float32)
PATCH = np.array([0.02, 0.12, 0.02, 0.08, 0.10, 0.05], np.float32)


def class_tables(band: str) -> tuple[F32, F32]:
    """(base, delta) per class for ``band``: reflectance = base + f * delta, f in [0, 1]."""
    k = BAND_INDEX[band]
    base = _F0[:, k].astype(np.float32)
    return base, (_F1[:, k] - _F0[:, k]).astype(np.float32)


def snow(band: str) -> float:
    return float(SNOW[BAND_INDEX[band]])


def cloud(band: str) -> float:
    return float(CLOUD[BAND_INDEX[band]])


def cirrus(band: str) -> float:
    return float(CIRRUS[BAND_INDEX[band]])


def toa(band: str) -> tuple[float, float]:
    """(path reflectance at AOT 0.15, transmittance) of ``band`` for L1C."""
    k = BAND_INDEX[band]
    return float(_PATH[k]), float(_TRANS[k])


def _cyclic(days: float) -> float:
    return (days + 182.5) % 365.0 - 182.5


def summer(doy: int, south: bool) -> float:
    """1 at midsummer, 0 at midwinter (peak on day 200 in the north, 17 in the south)."""
    peak = 17 if south else 200
    return 0.5 + 0.5 * math.cos(2 * math.pi * _cyclic(doy - peak) / 365.0)


@lru_cache(maxsize=1)
def _crop_types() -> tuple[F32, F32]:
    """Peak day and half-width (days) of the 256 crop types."""
    peak = np.empty(256, np.float32)
    width = np.empty(256, np.float32)
    for k in range(256):
        h1, h2, h3 = (hash_unit(0xC409, k, n) for n in range(3))
        if h3 < 0.3:  # winter crops: green from autumn to early summer
            peak[k], width[k] = 120 + 30 * h1, 90 + 30 * h2
        else:
            peak[k], width[k] = 150 + 80 * h1, 45 + 30 * h2
    return peak, width


@lru_cache(maxsize=64)
def crop_table(doy: int, south: bool) -> F32:
    """Canopy fraction of the 256 crop types on day ``doy`` (0.08 bare .. 0.97 full).

    About 30 % are winter crops (green from autumn to early summer), the rest summer
    crops with their peak between days 150 and 230; the south is shifted by half a year.
    """
    peak, width = _crop_types()
    d = (doy - peak - (182 if south else 0) + 182.5) % 365.0 - 182.5
    out: F32 = (0.08 + 0.89 * np.exp(-((d / width) ** 2))).astype(np.float32)
    out.setflags(write=False)
    return out


def seasonality(lat: F32) -> F32:
    """Strength of the seasons by latitude: 0 in the tropics, 1 beyond 45 degrees."""
    out: F32 = np.clip((np.abs(lat) - 15.0) / 30.0, 0.0, 1.0)
    return out


def snowline(lat: F32, doy: int) -> F32:
    """Snow line altitude (m): high in the tropics, at sea level in polar winters."""
    north = 1.0 - summer(doy, south=False)
    south = 1.0 - summer(doy, south=True)
    winter = np.where(lat >= 0, np.float32(north), np.float32(south))
    polar = np.maximum(np.abs(lat) - 20.0, 0.0)
    out: F32 = 5200.0 - 80.0 * polar - winter * (600.0 + 40.0 * polar)
    return out.astype(np.float32)
