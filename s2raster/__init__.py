"""s2raster: Sentinel-2 from the Copernicus Data Space Ecosystem into georeferenced xarray."""

from __future__ import annotations

from s2raster._version import __version__
from s2raster.cdse import cdse_config
from s2raster.errors import (
    BandError,
    CostLimitError,
    CredentialsError,
    EmulatorError,
    ExportError,
    GridError,
    InputError,
    NetworkError,
    NoDataError,
    ResponseError,
    S2RasterError,
    ServiceError,
)
from s2raster.export import to_geotiff
from s2raster.grid import Grid, Tile
from s2raster.load import LoadStats, load, load_plan
from s2raster.plan import Plan, make_plan

__all__ = [
    "BandError",
    "CostLimitError",
    "CredentialsError",
    "EmulatorError",
    "ExportError",
    "Grid",
    "GridError",
    "InputError",
    "LoadStats",
    "NetworkError",
    "NoDataError",
    "Plan",
    "ResponseError",
    "S2RasterError",
    "ServiceError",
    "Tile",
    "__version__",
    "cdse_config",
    "load",
    "load_plan",
    "make_plan",
    "to_geotiff",
]
