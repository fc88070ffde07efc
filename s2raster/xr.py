"""DataArrays and grids, both ways: :func:`to_dataarray` and its inverse :func:`grid_of`.

The one place where pixels and a :class:`~s2raster.grid.Grid` become an xarray DataArray,
and where a georeferenced DataArray's grid is read back (:func:`georeference`). Importing it
registers the ``da.rio`` (rioxarray) and ``da.odc`` (odc-geo) accessors, so every array
s2raster makes answers ``da.rio.crs`` and ``da.odc.geobox`` at once.

The result follows the conventions rioxarray and odc-geo read (docs/architecture.md): dims
``(band, y, x)``, float32, ``x``/``y`` at pixel centres (``y`` descending), a string ``band``
coordinate, a scalar ``spatial_ref`` coordinate exactly as ``rio.write_crs`` writes it (CF
grid-mapping attributes, ``crs_wkt``/``spatial_ref`` WKT and the GDAL ``GeoTransform``),
``grid_mapping`` in the encoding, ``_FillValue`` NaN, ``long_name`` (band names) and ``res``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import odc.geo.xr  # noqa: F401  (registers the da.odc accessor)
import pyproj
import rasterio.crs
import rasterio.errors
import rioxarray  # noqa: F401  (registers the da.rio accessor)
import xarray as xr
from affine import Affine
from rasterio.crs import CRS

from s2raster.errors import GridError, InputError
from s2raster.grid import Grid

GRID_MAPPING = "spatial_ref"
#: Relative spacing error tolerated in pixel-centre coordinates.
_REGULAR_TOLERANCE = 1e-4
Scalar = str | int | float


def spatial_ref_attrs(grid: Grid) -> dict[str, Any]:
    """The attributes of the ``spatial_ref`` coordinate, as rioxarray's ``write_crs`` sets them.

    The WKT comes from rasterio (GDAL's WKT1, what rioxarray writes), the CF attributes from
    ``pyproj.CRS.to_cf()`` of that WKT, and ``GeoTransform`` is the GDAL geotransform.
    """
    wkt = rasterio.crs.CRS.from_user_input(grid.crs).to_wkt()
    try:
        attrs: dict[str, Any] = pyproj.CRS.from_user_input(wkt).to_cf()
    except KeyError:  # pragma: no cover - CRSs without a CF mapping, as rioxarray tolerates
        attrs = {}
    attrs["spatial_ref"] = wkt
    attrs["crs_wkt"] = wkt
    attrs["GeoTransform"] = " ".join(str(v) for v in grid.transform.to_gdal())
    return attrs


def to_dataarray(
    data: Any,
    grid: Grid,
    bands: Sequence[str],
    attrs: Mapping[str, Scalar] | None = None,
    *,
    name: str | None = None,
) -> xr.DataArray:
    """Wrap ``data`` (numpy or dask, ``(band, y, x)``) on ``grid`` into a DataArray.

    ``attrs`` are provenance values (plain str/int/float); ``_FillValue`` (NaN), ``long_name``
    (the band names) and ``res`` are added. The array is cast to float32 (lazily for dask).
    """
    shape = (len(bands), grid.height, grid.width)
    if tuple(data.shape) != shape:
        raise GridError(f"data of shape {tuple(data.shape)} does not fit {shape} (band, y, x)")
    _check_attrs(attrs or {})
    if data.dtype != np.float32:
        data = data.astype(np.float32)
    coords = {
        "band": np.array([str(b) for b in bands]),
        "y": grid.ys(),
        "x": grid.xs(),
        GRID_MAPPING: xr.Variable((), 0, attrs=spatial_ref_attrs(grid)),
    }
    da = xr.DataArray(data, dims=("band", "y", "x"), coords=coords)
    da.name = name  # not the dask array's name
    da.attrs.update(attrs or {})
    da.attrs["_FillValue"] = float("nan")
    da.attrs["long_name"] = tuple(str(b) for b in bands)
    da.attrs["res"] = tuple(float(r) for r in grid.res)
    da.encoding["grid_mapping"] = GRID_MAPPING
    return da


def _check_attrs(attrs: Mapping[str, Any]) -> None:
    for key, value in attrs.items():
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            raise TypeError(f"attr {key!r} must be a plain str, int or float, got {value!r}")


def georeference(da: xr.DataArray) -> tuple[CRS, Affine]:
    """CRS (from ``spatial_ref``) and transform (from pixel-centre ``x``/``y``) of ``da``."""
    return _crs(da), _transform(da)


def grid_of(da: xr.DataArray) -> Grid:
    """The :class:`~s2raster.grid.Grid` of a georeferenced DataArray: the inverse of
    :func:`to_dataarray` (any array rioxarray or odc-geo georeferenced works too)."""
    crs, transform = georeference(da)
    epsg = crs.to_epsg()
    name = f"EPSG:{epsg}" if epsg is not None else crs.to_wkt()
    return Grid(name, transform, (int(da.sizes["y"]), int(da.sizes["x"])))


def _crs(da: xr.DataArray) -> CRS:
    name = da.encoding.get("grid_mapping") or da.attrs.get("grid_mapping") or "spatial_ref"
    attrs = da.coords[name].attrs if name in da.coords else {}
    text = attrs.get("crs_wkt") or attrs.get("spatial_ref") or da.attrs.get("crs")
    if not text:
        raise InputError(
            "the DataArray has no CRS: it needs a 'spatial_ref' coordinate with a 'crs_wkt' "
            "attribute, as s2raster.load writes it (or set one with rioxarray: "
            "da.rio.write_crs('EPSG:32633'))"
        )
    try:
        return CRS.from_user_input(text)
    except rasterio.errors.CRSError as exc:
        raise InputError(
            f"the DataArray's CRS cannot be read ({exc}); rewrite spatial_ref"
        ) from exc


def _transform(da: xr.DataArray) -> Affine:
    stored = _stored_transform(da)
    res = stored[0] if stored else None, stored[4] if stored else None
    x0, a = _axis(da, "x", res[0])
    y0, e = _axis(da, "y", res[1])
    derived = Affine(a, 0.0, x0, 0.0, e, y0)
    if stored is not None:
        tol = 1e-6 * min(abs(a), abs(e))
        if all(
            abs(s - d) <= tol for s, d in zip(tuple(stored)[:6], tuple(derived)[:6], strict=True)
        ):
            return stored
    return derived


def _stored_transform(da: xr.DataArray) -> Affine | None:
    text = (
        da.coords["spatial_ref"].attrs.get("GeoTransform") if "spatial_ref" in da.coords else None
    )
    try:
        c, a, b, f, d, e = (float(v) for v in str(text).split())
    except ValueError:
        return None
    return Affine(a, b, c, d, e, f) if b == 0 and d == 0 else None


def _axis(da: xr.DataArray, dim: str, res: float | None) -> tuple[float, float]:
    """First pixel edge and signed pixel size along ``dim`` from its centre coordinates."""
    if dim not in da.coords or da.coords[dim].ndim != 1:
        raise InputError(
            f"the DataArray has no 1-D '{dim}' coordinate of pixel centres; "
            "georeference it (s2raster.load does, or rioxarray / odc-geo)"
        )
    values = np.asarray(da.coords[dim].values, dtype=np.float64)
    if values.size >= 2:
        res = float(values[-1] - values[0]) / (values.size - 1)
        steps = np.diff(values)
        if res == 0 or np.any(np.abs(steps - res) > _REGULAR_TOLERANCE * abs(res)):
            raise InputError(f"'{dim}' coordinates are not evenly spaced; cannot write a GeoTIFF")
    elif res is None:
        res = _attr_res(da, dim)
    return float(values[0]) - res / 2, res


def _attr_res(da: xr.DataArray, dim: str) -> float:
    res = da.attrs.get("res")
    if isinstance(res, (tuple, list)) and len(res) == 2:
        return float(res[0]) if dim == "x" else -abs(float(res[1]))
    raise InputError(
        f"one pixel along '{dim}' and no GeoTransform or res attribute: pixel size unknown"
    )
