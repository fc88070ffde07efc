"""What an exported file says about itself: dataset tags, per-band metadata, colour.

- :func:`export_tags`: plain attrs and provenance (collection, time range, mosaicking, PU,
  acquisition dates, the evalscript), the synthetic mark; never credential-like keys.
- :func:`band_metadata`: per band, what GIS tools read: the description, the colour
  interpretation (R, G, B on B04, B03, B02 wherever they are, so QGIS's default RGB shows
  natural colour; alpha on an ``alpha`` band; undefined otherwise, gray for one band), the
  unit, scale and offset, and tags: the Sentinel-2 band's name, common name, centre
  wavelength and bandwidth (also in GDAL's ``IMAGERY`` domain as ``CENTRAL_WAVELENGTH_UM``
  and ``FWHM_UM``, which GDAL 3.10 reads), an index's name and formula, and the plain
  coordinates along ``band`` (:func:`band_tags`, e.g. an index stack's ``formula``).
- :func:`write_statistics`: ``STATISTICS_*`` per band, so QGIS stretches on first open.

Used by the write side (:mod:`s2raster.cog`, :mod:`s2raster.truecolor`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import xarray as xr
from rasterio._err import CPLE_BaseError  # GDAL's own errors (not RasterioError)
from rasterio.enums import ColorInterp
from rasterio.errors import RasterioError
from rasterio.io import DatasetWriter

from s2raster.bands import BANDS
from s2raster.contract import SOURCE_TAG, SYNTHETIC_DESCRIPTION, SYNTHETIC_SOURCE, SYNTHETIC_TAG

_SECRET_KEY = re.compile(r"secret|token|passw|credential|client_?id|api_?key|auth|cookie", re.I)
_TAG_KEY = re.compile(r"^[A-Za-z][A-Za-z0-9_.:-]*$")


#: Attrs that describe one band; in a file of several bands they go on the bands only.
PER_BAND_ATTRS = ("formula", "long_name")
_RGB = {"B04": ColorInterp.red, "B03": ColorInterp.green, "B02": ColorInterp.blue}
_NAMED = {
    "red": ColorInterp.red,
    "green": ColorInterp.green,
    "blue": ColorInterp.blue,
    "alpha": ColorInterp.alpha,
}


def export_tags(
    attrs: Mapping[str, Any], extra: Mapping[str, Any] | None = None, *, n_bands: int = 1
) -> dict[str, str]:
    """Dataset tags for a file: plain ``attrs`` and ``extra`` values, never credential-like
    keys, ``TIFFTAG_SOFTWARE``, and the synthetic mark when ``attrs["synthetic"] == 1``.

    With ``n_bands`` > 1 the one-band attrs (:data:`PER_BAND_ATTRS`, e.g. an index's
    ``formula``) are left out: :func:`band_metadata` puts them on their bands.
    """
    from s2raster._version import __version__

    tags = {"TIFFTAG_SOFTWARE": f"s2raster {__version__}"}
    for key, value in {**attrs, **(extra or {})}.items():
        text = _plain(value)
        if text is None or _SECRET_KEY.search(str(key)):
            continue
        if n_bands > 1 and key in PER_BAND_ATTRS:
            continue
        if _TAG_KEY.match(str(key)):
            tags[str(key)] = text
    if _plain(attrs.get("synthetic", 0)) == "1":
        source = str(attrs.get("source", ""))
        tags[SYNTHETIC_TAG] = "1"
        tags[SOURCE_TAG] = source if "synthetic" in source else SYNTHETIC_SOURCE
        tags["TIFFTAG_IMAGEDESCRIPTION"] = SYNTHETIC_DESCRIPTION
    return tags


def _plain(value: Any) -> str | None:
    if isinstance(value, (bool, np.bool_)):
        return str(int(value))
    if isinstance(value, (str, int, float, np.integer, np.floating)):
        return str(value)
    return None


@dataclass(frozen=True)
class BandMeta:
    """What one band of a file says about itself (see :func:`band_metadata`)."""

    name: str
    colorinterp: ColorInterp = ColorInterp.undefined
    unit: str = ""
    scale: float = 1.0
    offset: float = 0.0
    tags: dict[str, str] = field(default_factory=dict)
    imagery: dict[str, str] = field(default_factory=dict)


def band_metadata(da: xr.DataArray, names: Sequence[str]) -> list[BandMeta]:
    """Per-band metadata of the ``(band, y, x)`` array ``da`` whose bands are ``names``.

    Sentinel-2 bands (by name, in ``attrs["collection"]``'s table) get their name, common
    name, centre wavelength and bandwidth; an index band its name and formula, from a
    ``formula`` coordinate along ``band`` or, for one band, ``attrs["formula"]``.
    """
    table = BANDS.get(str(da.attrs.get("collection", "")), BANDS["sentinel-2-l2a"])
    formulas = _formulas(da, len(names))
    colours = colour_interpretation(names)
    per_band = band_tags(da) or [{} for _ in names]
    out = []
    for name, formula, colour, coords in zip(names, formulas, colours, per_band, strict=True):
        band = table.get(name)
        tags: dict[str, str] = {"name": name}
        imagery: dict[str, str] = {}
        unit = str(da.attrs.get("units", "")) if len(names) == 1 else ""
        if band is not None:
            unit = band.unit
            tags["long_name"] = band.description
            if band.common_name:
                tags["common_name"] = band.common_name
            if band.wavelength_nm is not None and band.bandwidth_nm is not None:
                tags["wavelength_nm"] = f"{band.wavelength_nm:g}"
                tags["bandwidth_nm"] = f"{band.bandwidth_nm:g}"
                imagery["CENTRAL_WAVELENGTH_UM"] = f"{band.wavelength_nm / 1000:g}"
                imagery["FWHM_UM"] = f"{band.bandwidth_nm / 1000:g}"
        if formula:
            tags |= {"index": name, "formula": formula}
            unit = "1"
        if unit:
            tags["units"] = unit
        tags |= coords
        out.append(BandMeta(name, colour, unit, tags=tags, imagery=imagery))
    return out


def is_sentinel2_band(name: str) -> bool:
    """Whether ``name`` is a band of a Sentinel-2 collection (``B04``, ``SCL``...)."""
    return any(name in table for table in BANDS.values())


def colour_interpretation(names: Sequence[str]) -> list[ColorInterp]:
    """Red, green, blue on B04, B03, B02 when all three are there (or on bands named red,
    green, blue), alpha on ``alpha``; gray for one band; undefined for the rest."""
    if len(names) == 1 and names[0].lower() != "alpha":
        return [ColorInterp.gray]
    if all(b in names for b in _RGB):
        return [_RGB.get(n, _NAMED.get(n.lower(), ColorInterp.undefined)) for n in names]
    if all(c in (n.lower() for n in names) for c in ("red", "green", "blue")):
        return [_NAMED.get(n.lower(), ColorInterp.undefined) for n in names]
    return [ColorInterp.alpha if n.lower() == "alpha" else ColorInterp.undefined for n in names]


def write_band_metadata(dst: DatasetWriter, bands: Sequence[BandMeta]) -> None:
    """Descriptions, colour interpretation, units, scales/offsets and tags of every band."""
    for i, band in enumerate(bands, start=1):
        dst.set_band_description(i, band.name)
        dst.update_tags(i, **band.tags)
        if band.imagery:
            dst.update_tags(i, ns="IMAGERY", **band.imagery)
        if band.unit:
            dst.set_band_unit(i, band.unit)
    dst.colorinterp = [b.colorinterp for b in bands]
    if np.dtype(dst.dtypes[0]).kind == "f":
        dst.scales = [b.scale for b in bands]
        dst.offsets = [b.offset for b in bands]


def write_statistics(dst: DatasetWriter, *, approx: bool) -> None:
    """``STATISTICS_MINIMUM/MAXIMUM/MEAN/STDDEV/VALID_PERCENT`` on every band, computed by
    GDAL (nodata excluded; ``approx`` reads an overview) and stored in the file."""
    interp = list(dst.colorinterp)
    for i in range(1, dst.count + 1):
        if interp[i - 1] == ColorInterp.alpha or not _has_valid(dst, i, approx=approx):
            continue  # GDAL fails on a band without a valid pixel (and says so late)
        try:
            dst.stats(indexes=[i], approx=approx)
        except (RasterioError, CPLE_BaseError):
            continue


def _has_valid(dst: DatasetWriter, index: int, *, approx: bool) -> bool:
    """Whether band ``index`` has a valid pixel where GDAL will look (an overview-sized
    sample when ``approx``, as GDAL's approximate statistics read)."""
    shape = (min(dst.height, 1024), min(dst.width, 1024)) if approx else None
    sample = dst.read(index, out_shape=shape, masked=True)
    values = sample.compressed()
    return bool(values.size and np.isfinite(values).any())


def band_tags(da: xr.DataArray) -> list[dict[str, str]]:
    """Tags of each band of ``da``: the plain values of its coordinates along ``band`` (other
    than ``band`` itself), e.g. the ``formula`` of each index of
    :func:`s2raster.indices.stack`; never credential-like keys."""
    if "band" not in da.dims:
        return []
    out: list[dict[str, str]] = [{} for _ in range(da.sizes["band"])]
    for key, coord in da.coords.items():
        if key == "band" or coord.dims != ("band",) or not _TAG_KEY.match(str(key)):
            continue
        if _SECRET_KEY.search(str(key)):
            continue
        for i, value in enumerate(coord.values.tolist()):
            text = _plain(value)
            if text is not None:
                out[i][str(key)] = text
    return out


def _formulas(da: xr.DataArray, n: int) -> list[str]:
    coord = da.coords.get("formula")
    if coord is not None and coord.dims == ("band",):
        return [str(v) if v is not None else "" for v in coord.values]
    formula = da.attrs.get("formula")
    return [str(formula) if n == 1 and isinstance(formula, str) else ""] + [""] * (n - 1)
