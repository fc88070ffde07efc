"""Band values on 20 m cells from the ground state: reflectance, SCL, CLD, SNW, AOT.

Reflectances are floats here (before the native-resolution texture and quantisation);
L2A is a bottom-of-atmosphere reflectance, L1C adds haze (path reflectance growing with
the aerosol optical thickness) and the atmospheric transmittance. Clouds sit above the
atmosphere: thick clouds replace the ground, shadows darken it, cirrus adds a thin veil.
"""

from __future__ import annotations

import numpy as np

from s2raster.emulator.earth import _spectra as sp
from s2raster.emulator.earth._noise import F32
from s2raster.emulator.earth._surface import U8, Dynamic, Static

#: SCL of each land class when vegetated (f >= _BARE_F) / not.
_SCL_CLASS = np.array([6, 4, 4, 4, 5, 5], np.uint8)
_BARE_F = 0.3


def ground_factor(dyn: Dynamic) -> F32:
    """Share of the ground signal reaching the sensor: (1 - cloud) x shadow darkening."""
    out: F32 = (1.0 - 0.65 * dyn.shadow) * (1.0 - dyn.cloud)
    return out


def reflectance(st: Static, dyn: Dynamic, band: str, gfactor: F32, *, l1c: bool) -> F32:
    """Reflectance of ``band`` on the cells of ``st`` (float32, rows x columns)."""
    base, delta = sp.class_tables(band)
    r = np.take(base, st.cls) + dyn.f * np.take(delta, st.cls)
    r *= st.bright
    r += dyn.snow * (np.float32(sp.snow(band)) - r)
    if l1c:
        path, trans = sp.toa(band)
        r = (0.6 + 2.7 * dyn.aot) * np.float32(path) + np.float32(trans) * r
    r *= gfactor
    r += np.float32(sp.cloud(band)) * dyn.cloud
    if dyn.cirrus is not None:
        r += np.float32(sp.cirrus(band)) * dyn.cirrus
    out: F32 = r.astype(np.float32, copy=False)
    return out


def cloud_probability(st: Static, dyn: Dynamic) -> F32:
    """CLD: cloud probability 0..100 (integers as float32)."""
    p = 115.0 * dyn.cloud - 5.0 + 0.5 * st.jit
    if dyn.cirrus is not None:
        p += 150.0 * dyn.cirrus
    out: F32 = np.clip(np.rint(p), 0.0, 100.0).astype(np.float32)
    return out


def snow_probability(dyn: Dynamic) -> F32:
    """SNW: snow probability 0..100 (integers as float32), hidden under thick clouds."""
    out: F32 = np.rint(100.0 * dyn.snow * (1.0 - dyn.cloud)).astype(np.float32)
    return out


def scene_classification(st: Static, dyn: Dynamic, cld: F32) -> U8:
    """SCL (Sen2Cor classes) consistent with the scene: 3 shadows, 4 vegetation, 5 bare
    or built-up, 6 water, 7 unclassified (cloud fringes), 8/9 clouds, 10 cirrus, 11 snow.
    """
    scl = np.take(_SCL_CLASS, st.cls)
    scl[(scl == 4) & (dyn.f < _BARE_F) & (st.cls != sp.FOREST)] = 5
    scl[dyn.snow > 0.5] = 11
    scl[dyn.shadow > 0.4] = 3
    if dyn.cirrus is not None:
        scl[(dyn.cirrus > 0.06) & (cld < 35)] = 10
    scl[(cld >= 20) & (cld < 35)] = 7
    scl[cld >= 35] = 8
    scl[cld >= 65] = 9
    return scl


def aot_dn(dyn: Dynamic) -> F32:
    """AOT as DN (optical depth x 1000, integers as float32)."""
    out: F32 = np.rint(dyn.aot * 1000.0).astype(np.float32)
    return out
