"""The synthetic Earth of the emulator: :func:`render` samples acquisitions on any grid.

The Earth is deterministic and defined on the ground: land cover (water, forest,
cropland with seasonal phenology, grassland, bare soil, urban, snow by altitude, latitude
and season) comes from smooth fields of lon/lat; acquisitions (see
:mod:`._scenes`) add clouds with shadows, cirrus, aerosols and, on every
third slot, swath-edge gaps (dataMask 0). Values live on the native cells of each band in
the UTM zone of the point, so a ground point on a date has the same value whatever the
bbox, CRS, resolution or tiling of a request: tiles mosaic seamlessly.

Units follow the Process API: reflective bands in ``REFLECTANCE`` (DN / 10000) or
``DN``. With ``harmonize`` (harmonizeValues, the default) negative values are clamped to
0; without it, REFLECTANCE may be negative and DN are the raw product values, which carry
the +1000 offset of processing baseline 04.00 (acquisitions from 2022-01-25 on).
``AOT`` in ``OPTICAL_DEPTH`` (DN / 1000) or ``DN``; ``SCL``, ``CLD``, ``SNW`` in ``DN``
(``PERCENT`` accepted for CLD/SNW); angles in ``DEGREES``.

Resampling: ``upsampling`` applies where a pixel is smaller than the native cell,
``downsampling`` where it is larger (by more than 1 %); both interpolate at the pixel
centre (no area averaging). SCL, CLD, SNW and dataMask always use NEAREST; angle bands
(5 km cells) always BILINEAR.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from affine import Affine

from s2raster.bands import BANDS
from s2raster.contract import RESAMPLING
from s2raster.emulator.earth._acquisition import Acquisition, check_collection
from s2raster.emulator.earth._angles import ANGLE_BANDS
from s2raster.emulator.earth._mosaic import compose, pixel_masks
from s2raster.emulator.earth._noise import F32
from s2raster.emulator.earth._part import PartRenderer
from s2raster.emulator.earth._sampling import Part, locate
from s2raster.emulator.errors import BandError, RequestError

_UNITS = {
    "REFLECTANCE": ("REFLECTANCE", "DN"),
    "DN": ("DN", "PERCENT"),
    "PERCENT": ("PERCENT", "DN"),
    "OPTICAL_DEPTH": ("OPTICAL_DEPTH", "DN"),
    "DEGREES": ("DEGREES",),
}


#: The names the service gives the collections in its messages.
SERVICE_NAMES = {"sentinel-2-l2a": "S2L2A", "sentinel-2-l1c": "S2L1C"}


def supported_units(collection: str, band: str) -> tuple[str, ...]:
    """The units ``band`` of ``collection`` can be asked in (its default first)."""
    if band == "SCL":
        return ("DN",)
    return _UNITS[BANDS[check_collection(collection)][band].units]


def check_units(collection: str, units: Mapping[str, str]) -> None:
    """Refuse (in the service's words) a band asked in units it does not have."""
    for band, unit in units.items():
        if band == "dataMask" or band not in BANDS[check_collection(collection)]:
            continue
        allowed = supported_units(collection, band)
        if unit not in allowed:
            raise RequestError(
                f"Invalid script! Band '{band}' of collection "
                f"'{SERVICE_NAMES.get(collection, collection)}' requested in unsupported "
                f"units '{unit}'! Supported units for this band: [{', '.join(allowed)}]."
            )


def _check(
    collection: str, bands: Sequence[str], units: Mapping[str, str], methods: Sequence[str]
) -> tuple[dict[str, int], dict[str, str]]:
    table = BANDS[check_collection(collection)]
    native: dict[str, int] = {}
    unit_of: dict[str, str] = {}
    for name in bands:
        if name == "dataMask":
            continue
        if name not in table:
            raise BandError(f"band {name!r} does not exist in {collection}")
        band = table[name]
        unit = units.get(name, band.units)
        check_units(collection, {name: unit})
        native[name] = band.resolution
        unit_of[name] = unit
    for method in methods:
        if method not in RESAMPLING:
            raise RequestError(f"unknown resampling {method!r}; use one of {', '.join(RESAMPLING)}")
    return native, unit_of


def _convert(name: str, dn: F32, unit: str, acq: Acquisition, harmonize: bool) -> F32:
    """Physical DN -> the asked units (see the module docstring)."""
    if name in ANGLE_BANDS or name in ("SCL", "CLD", "SNW"):
        return dn
    if name == "AOT":
        return dn / np.float32(1000.0) if unit == "OPTICAL_DEPTH" else dn
    if harmonize:
        np.maximum(dn, 0.0, out=dn)
    elif unit == "DN" and acq.has_offset:
        dn += 1000.0
    if unit == "REFLECTANCE":
        out: F32 = dn / np.float32(10000.0)
        return out
    return dn


def _assemble(
    shape: tuple[int, int], parts: list[Part], rendered: list[dict[str, F32]]
) -> dict[str, F32]:
    if len(parts) == 1 and parts[0].mask is None and parts[0].shape == shape:
        return rendered[0]
    out = {name: np.zeros(shape, np.float32) for name in rendered[0]}
    for part, values in zip(parts, rendered, strict=True):
        for name, arr in values.items():
            window = out[name][part.rows, part.cols]
            if part.mask is None:
                window[...] = arr
            else:
                np.copyto(window, arr, where=part.mask)
    return out


def _finish(
    values: dict[str, F32], unit_of: Mapping[str, str], acq: Acquisition, harmonize: bool
) -> dict[str, F32]:
    mask = values["dataMask"]
    holes = not bool(mask.all())
    out: dict[str, F32] = {}
    for name, unit in unit_of.items():
        arr = _convert(name, values[name], unit, acq, harmonize)
        if holes:
            arr = arr * mask
            arr += 0.0  # -0.0 -> 0.0
        out[name] = np.ascontiguousarray(arr, np.float32)
    out["dataMask"] = mask
    return out


def render(
    collection: str,
    acquisitions: Sequence[Acquisition],
    crs: str,
    transform: Affine,
    shape: tuple[int, int],
    bands: Sequence[str],
    *,
    units: Mapping[str, str],
    upsampling: str = "NEAREST",
    downsampling: str = "NEAREST",
    harmonize: bool = True,
    mosaic: bool = False,
    groups: Sequence[Sequence[int]] | None = None,
) -> list[dict[str, np.ndarray]]:
    """Render ``bands`` of ``acquisitions`` on the grid (``crs``, ``transform``, ``shape``).

    Returns one sample per group of acquisitions: ``groups`` lists indices into
    ``acquisitions``; by default one group per acquisition, or (``mosaic=True``) one of
    them all. See :func:`render_groups` for how a group is mosaicked.
    """
    if groups is None:
        groups = (
            [list(range(len(acquisitions)))] if mosaic else [[k] for k in range(len(acquisitions))]
        )
    chosen = [[acquisitions[k] for k in group] for group in groups]
    return render_groups(
        collection, chosen, crs, transform, shape, bands, units=units,
        upsampling=upsampling, downsampling=downsampling, harmonize=harmonize,
    )  # fmt: skip


def render_groups(
    collection: str,
    groups: Sequence[Sequence[Acquisition]],
    crs: str,
    transform: Affine,
    shape: tuple[int, int],
    bands: Sequence[str],
    *,
    units: Mapping[str, str],
    upsampling: str = "NEAREST",
    downsampling: str = "NEAREST",
    harmonize: bool = True,
) -> list[dict[str, np.ndarray]]:
    """One pixel-wise mosaic per group of acquisitions, on the grid (``crs``,
    ``transform``, ``shape``).

    An acquisition gives the pixels of its own tile that its pass imaged (dataMask 1);
    each pixel comes from the first acquisition of the group, in the given order, that
    has it; dataMask 0 and all bands 0 where none has. Each dict maps band names to
    float32 arrays ``shape`` in the asked ``units`` (default: the band's own), always
    with ``dataMask``. Each pass is rendered once, however many groups and tiles use it.
    """
    native, unit_of = _check(collection, bands, units, (upsampling, downsampling))
    h, w = int(shape[0]), int(shape[1])
    if h < 1 or w < 1:
        raise RequestError(f"shape must be at least 1 x 1, got {shape}")
    parts = locate(crs, transform, (h, w))
    l1c = collection == "sentinel-2-l1c"
    renderers = [PartRenderer(p, dict(native), upsampling, downsampling, l1c) for p in parts]

    def one(acq: Acquisition) -> dict[str, F32]:
        rendered = [r.render(acq) for r in renderers]
        return _finish(_assemble((h, w), parts, rendered), unit_of, acq, harmonize)

    tiles = {a.tile for group in groups for a in group if a.tile is not None}
    masks = pixel_masks(parts, tiles, (h, w))
    return compose(groups, one, masks, (h, w), (*unit_of, "dataMask"))
