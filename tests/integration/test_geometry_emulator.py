"""load(geometry=...) over real HTTP: the emulator clips each tile to the geometry sent with
it, and the array is NaN exactly where a pixel centre is outside the polygon."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pytest
from rasterio.features import geometry_mask
from shapely.geometry import MultiPolygon, Point, Polygon, box

import s2raster
from s2raster.geometry import read_area
from s2raster.xr import grid_of

if TYPE_CHECKING:
    from s2raster.emulator import Emulator

TIME = "2024-06-01/2024-06-06"
HOLED = Polygon(
    [(13.830, 45.860), (13.838, 45.858), (13.841, 45.866), (13.834, 45.868)]
).difference(Point(13.836, 45.863).buffer(0.0015))
GEOMETRIES = {
    "multipolygon-with-hole": MultiPolygon([HOLED, box(13.843, 45.866, 13.846, 45.868)]),
    "across-utm-zones": Polygon([(11.996, 46.0), (12.004, 46.001), (12.003, 46.006)]),
}


@pytest.mark.parametrize("name", list(GEOMETRIES))
def test_pixels_outside_the_geometry_are_nan(emulator: Emulator, name: str) -> None:
    geometry: Any = GEOMETRIES[name]
    stats = s2raster.LoadStats()
    da = s2raster.load(
        geometry=geometry,
        time=TIME,
        bands=["B04", "B08"],
        resolution=20,
        tile_px=24,
        config=emulator.config(),
        cache=False,
        stats=stats,
    )
    values = da.values
    grid = grid_of(da)
    area = read_area(geometry).to_crs(grid.crs)
    inside = ~geometry_mask([area.geometry], out_shape=grid.shape, transform=grid.transform)
    assert np.isnan(values[:, ~inside]).all()
    assert np.isfinite(values[:, inside]).all()  # the synthetic Earth has data everywhere
    assert da.attrs["synthetic"] == 1
    n_tiles = len(da.chunks[1]) * len(da.chunks[2])
    assert 0 < stats.requests <= n_tiles
    if name == "multipolygon-with-hole":  # tiles between the two parts are not requested
        assert stats.requests < n_tiles
