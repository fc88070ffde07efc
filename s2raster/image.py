"""RGB images (uint8 ``(3, h, w)``) to PNG or GeoTIFF, by the file's extension; atomic.

No data is transparent: where ``valid`` is False the alpha is 0 (a PNG gets an alpha channel
only when some pixel has no data; a GeoTIFF always has one, with colour interpretation
red, green, blue, alpha, so GIS tools draw it as RGB with transparency). Provenance
(``attrs``: collection, time range, mosaicking, acquisition dates, PU, synthetic mark) goes
into GeoTIFF tags and PNG text chunks alike.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from s2raster.contract import SOURCE_TAG, SYNTHETIC_SOURCE, SYNTHETIC_TAG
from s2raster.errors import ExportError, InputError
from s2raster.grid import Grid
from s2raster.output import atomic_file, check_output_path
from s2raster.tags import export_tags
from s2raster.xr import Scalar, to_dataarray

__all__ = ["IMAGE_SUFFIXES", "write_image"]

PNG_SUFFIXES = (".png",)
TIFF_SUFFIXES = (".tif", ".tiff")
IMAGE_SUFFIXES = PNG_SUFFIXES + TIFF_SUFFIXES
#: PNG text chunks copied from the provenance tags.
_PNG_KEYS = ("collection", "time_from", "time_to", "mosaicking", "acquisition_dates")


def write_image(
    path: str | os.PathLike[str],
    image: np.ndarray,
    grid: Grid,
    *,
    synthetic: bool,
    valid: np.ndarray | None = None,
    attrs: Mapping[str, Scalar] | None = None,
) -> Path:
    """Write ``image`` (uint8 ``(3, h, w)``, R G B) as PNG or GeoTIFF by the extension.

    ``valid`` (bool ``(h, w)``, default all True) becomes the alpha; ``attrs`` the
    provenance tags. Synthetic data carries ``S2RASTER_SYNTHETIC=1`` in either format.
    """
    out = check_output_path(path, param="path", suffixes=IMAGE_SUFFIXES, nbytes=image.nbytes * 2)
    if image.ndim != 3 or image.shape[0] != 3 or image.shape[1:] != grid.shape:
        raise InputError(f"image must be (3, {grid.height}, {grid.width}) uint8, got {image.shape}")
    mask = np.ones(grid.shape, bool) if valid is None else np.asarray(valid, bool)
    meta: dict[str, Scalar] = {**(attrs or {}), "synthetic": int(synthetic)}
    if synthetic:
        meta["source"] = SYNTHETIC_SOURCE
    if out.suffix.lower() in PNG_SUFFIXES:
        return _write_png(out, image, mask, meta)
    return _write_tiff(out, image, mask, grid, meta)


def _write_png(path: Path, image: np.ndarray, valid: np.ndarray, meta: dict[str, Scalar]) -> Path:
    from PIL import Image, PngImagePlugin

    info = PngImagePlugin.PngInfo()
    tags = export_tags(meta)
    for key in (*_PNG_KEYS, SYNTHETIC_TAG, SOURCE_TAG):
        if key in tags:
            info.add_text(key, tags[key])
    bands = [*image, (valid * np.uint8(255)).astype(np.uint8)] if not valid.all() else [*image]
    pixels = Image.fromarray(np.ascontiguousarray(np.stack(bands, axis=-1)))
    try:
        with atomic_file(path) as f:
            pixels.save(f, format="PNG", pnginfo=info)
    except OSError as exc:
        raise ExportError(f"cannot write {str(path)!r}: {exc}; check the path and space") from exc
    return path


def _write_tiff(
    path: Path, image: np.ndarray, valid: np.ndarray, grid: Grid, meta: dict[str, Scalar]
) -> Path:
    from s2raster.export import to_geotiff

    alpha = (valid * np.uint8(255)).astype(np.uint8)[None]
    rgba = np.concatenate([image, alpha])
    # to_dataarray makes float32 reflectance; an RGB image stays uint8 (3 x smaller, RGB in GIS)
    names = ["red", "green", "blue", "alpha"]
    da = to_dataarray(rgba, grid, names, dict(meta)).astype(np.uint8)
    da.attrs.pop("units", None)
    written = to_geotiff(da, path, cog=False)
    assert isinstance(written, Path)  # one file: no {time} in the path
    return written
