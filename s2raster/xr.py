"""The one place where pixels and a :class:`~s2raster.grid.Grid` become an xarray DataArray.

The result follows the conventions rioxarray and odc-geo read (DESIGN.md §2): dims
``(band, y, x)``, float32, ``x``/``y`` at pixel centres (``y`` descending), a string ``band``
coordinate, a scalar ``spatial_ref`` coordinate exactly as ``rio.write_crs`` writes it (CF
grid-mapping attributes, ``crs_wkt``/``spatial_ref`` WKT and the GDAL ``GeoTransform``),
``grid_mapping`` in the encoding, ``_FillValue`` NaN, ``long_name`` (band names) and ``res``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import rasterio.crs
import xarray as xr
from pyproj import CRS

from s2raster.errors import GridError
from s2raster.grid import Grid

GRID_MAPPING = "spatial_ref"
Scalar = str | int | float


def spatial_ref_attrs(grid: Grid) -> dict[str, Any]:
    """The attributes of the ``spatial_ref`` coordinate, as rioxarray's ``write_crs`` sets them.

    The WKT comes from rasterio (GDAL's WKT1, what rioxarray writes), the CF attributes from
    ``pyproj.CRS.to_cf()`` of that WKT, and ``GeoTransform`` is the GDAL geotransform.
    """
    wkt = rasterio.crs.CRS.from_user_input(grid.crs).to_wkt()
    try:
        attrs: dict[str, Any] = CRS.from_user_input(wkt).to_cf()
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
