"""s2raster: Sentinel-2 from the Copernicus Data Space Ecosystem into georeferenced xarray.

The errors are imported at once; the rest of the public names (which need the scientific
stack: sentinelhub, xarray, dask, rasterio) on first use (PEP 562), so that ``import
s2raster`` and ``s2raster --help`` stay fast.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from s2raster._version import __version__
from s2raster.errors import (
    BandError,
    CostLimitError,
    CredentialsError,
    ExportError,
    GridError,
    InputError,
    NetworkError,
    NoDataError,
    NoDataWarning,
    ResponseError,
    S2RasterError,
    ServiceError,
)

if TYPE_CHECKING:
    from s2raster._load import LoadStats, load, load_plan
    from s2raster._local_stats import local_statistics
    from s2raster._statistics import plan_statistics, statistics
    from s2raster.acquisitions import dates, plan_series
    from s2raster.cdse import cdse_config
    from s2raster.clouds import mask_clouds, valid_fraction
    from s2raster.composite import composite
    from s2raster.cost import Quota
    from s2raster.emulator.errors import EmulatorError
    from s2raster.export import to_geotiff
    from s2raster.grid import Grid, Tile
    from s2raster.plan import Plan, make_plan
    from s2raster.zonal import zonal_stats

#: public name -> (module, attribute), imported on first access.
_LAZY = {
    "cdse_config": ("s2raster.cdse", "cdse_config"),
    "composite": ("s2raster.composite", "composite"),
    "dates": ("s2raster.acquisitions", "dates"),
    "mask_clouds": ("s2raster.clouds", "mask_clouds"),
    "plan_series": ("s2raster.acquisitions", "plan_series"),
    "valid_fraction": ("s2raster.clouds", "valid_fraction"),
    "EmulatorError": ("s2raster.emulator.errors", "EmulatorError"),
    "to_geotiff": ("s2raster.export", "to_geotiff"),
    "Grid": ("s2raster.grid", "Grid"),
    "Tile": ("s2raster.grid", "Tile"),
    "LoadStats": ("s2raster._load", "LoadStats"),
    "load": ("s2raster._load", "load"),
    "load_plan": ("s2raster._load", "load_plan"),
    "Plan": ("s2raster.plan", "Plan"),
    "Quota": ("s2raster.cost", "Quota"),
    "make_plan": ("s2raster.plan", "make_plan"),
    "zonal_stats": ("s2raster.zonal", "zonal_stats"),
    "statistics": ("s2raster._statistics", "statistics"),
    "local_statistics": ("s2raster._local_stats", "local_statistics"),
    "plan_statistics": ("s2raster._statistics", "plan_statistics"),
}


def __getattr__(name: str) -> Any:
    try:
        module, attribute = _LAZY[name]
    except KeyError:
        raise AttributeError(f"module 's2raster' has no attribute {name!r}") from None
    value = getattr(importlib.import_module(module), attribute)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


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
    "NoDataWarning",
    "Plan",
    "Quota",
    "ResponseError",
    "S2RasterError",
    "ServiceError",
    "Tile",
    "__version__",
    "cdse_config",
    "composite",
    "dates",
    "load",
    "load_plan",
    "local_statistics",
    "make_plan",
    "mask_clouds",
    "plan_series",
    "plan_statistics",
    "statistics",
    "to_geotiff",
    "valid_fraction",
    "zonal_stats",
]
