"""s2raster: Sentinel-2 from the Copernicus Data Space Ecosystem into georeferenced xarray."""

from __future__ import annotations

from s2raster.errors import (
    BandError,
    CostLimitError,
    CredentialsError,
    EmulatorError,
    ExportError,
    GridError,
    InputError,
    NetworkError,
    ResponseError,
    S2RasterError,
    ServiceError,
)
from s2raster.grid import Grid, Tile

__version__ = "0.1.0"

__all__ = [
    "BandError",
    "CostLimitError",
    "CredentialsError",
    "EmulatorError",
    "ExportError",
    "Grid",
    "GridError",
    "InputError",
    "NetworkError",
    "ResponseError",
    "S2RasterError",
    "ServiceError",
    "Tile",
    "__version__",
]
