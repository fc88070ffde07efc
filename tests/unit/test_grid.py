"""Grid: snapping, UTM choice, tiling on one lattice."""

from __future__ import annotations

import math

import pytest
from affine import Affine
from hypothesis import given
from hypothesis import strategies as st

from s2raster.errors import InputError
from s2raster.grid import Grid, utm_crs


@pytest.mark.parametrize(
    ("lon", "lat", "crs"),
    [
        (14.0, 46.0, "EPSG:32633"),
        (-47.5, -15.8, "EPSG:32723"),
        (179.9, 0.0, "EPSG:32660"),
        (-180.0, -0.1, "EPSG:32701"),
    ],
)
def test_utm_zone(lon: float, lat: float, crs: str) -> None:
    assert utm_crs(lon, lat) == crs


def test_default_crs_is_utm_and_edges_snap() -> None:
    g = Grid.from_bbox((13.822, 45.850, 14.559, 46.291))
    assert g.crs == "EPSG:32633"
    assert g.res == (10.0, 10.0)
    for edge in g.bounds:
        assert edge % 10 == 0


def test_southern_hemisphere_grid() -> None:
    g = Grid.from_bbox((-47.5, -15.9, -47.4, -15.8), resolution=20)
    assert g.crs == "EPSG:32723"
    assert all(edge % 20 == 0 for edge in g.bounds)


def test_geographic_grid_uses_metres_per_degree() -> None:
    g = Grid.from_bbox((13.0, 45.0, 13.1, 45.1), crs="EPSG:4326", resolution=60)
    assert math.isclose(g.res[0], 60 / 111319.49079327357)
    minx, miny, maxx, maxy = g.bounds
    assert minx <= 13.0
    assert maxx >= 13.1
    assert miny <= 45.0
    assert maxy >= 45.1


def test_tiles_share_the_lattice() -> None:
    g = Grid("EPSG:32633", Affine(10, 0, 400000, 0, -10, 5000000), (5001, 2600))
    tiles = g.tiles(2500)
    assert [t.grid.shape for t in tiles] == [(2500, 2500), (2500, 100)] * 2 + [(1, 2500), (1, 100)]
    assert g.chunks(2500) == ((2500, 2500, 1), (2500, 100))
    for t in tiles:
        rows, cols = t.slices
        assert t.grid.transform == g.transform @ Affine.translation(cols.start, rows.start)


@pytest.mark.parametrize(
    "bbox", [(1, 1, 1, 2), (2, 1, 1, 2), (0, 0, 200, 1), (0, -91, 1, 0), (math.nan, 0, 1, 1)]
)
def test_bad_bbox_is_refused(bbox: tuple[float, float, float, float]) -> None:
    with pytest.raises(InputError):
        Grid.from_bbox(bbox)


@given(
    lon=st.floats(-179, 178.9),
    lat=st.floats(-79, 79),
    size=st.floats(0.001, 0.05),
    res=st.sampled_from([10.0, 20.0, 60.0]),
)
def test_grid_covers_bbox(lon: float, lat: float, size: float, res: float) -> None:
    g = Grid.from_bbox((lon, lat, lon + size, lat + size), resolution=res)
    assert all(edge % res == 0 for edge in g.bounds)
    assert g.width * res == g.bounds[2] - g.bounds[0]


def test_from_bbox_size_is_exact_in_the_bbox_crs() -> None:
    bbox = (13.0, 45.0, 13.3, 45.2)
    grid = Grid.from_bbox_size(bbox, (300, 200), crs="EPSG:4326")
    assert grid.shape == (200, 300)
    for got, want in zip(grid.bounds, bbox, strict=True):
        assert math.isclose(got, want, abs_tol=1e-12)


def test_from_bbox_size_defaults_to_utm() -> None:
    grid = Grid.from_bbox_size((13.822, 45.850, 14.559, 46.291), (512, 512))
    assert grid.crs == "EPSG:32633"
    assert grid.shape == (512, 512)
    assert 100 < grid.res[0] < 120  # ~57 km / 512 px
    assert math.isclose(grid.metres_per_pixel, max(grid.res))


@pytest.mark.parametrize("size", [(0, 10), (10, 0), (100_001, 1)])
def test_from_bbox_size_refuses_bad_sizes(size: tuple[int, int]) -> None:
    with pytest.raises(InputError):
        Grid.from_bbox_size((13.0, 45.0, 13.3, 45.2), size)


@pytest.mark.parametrize(
    "bbox",
    [
        (179.9, 10.0, 180.0, 10.1),
        (-180.0, -10.0, -179.9, -9.9),
        (10.0, 89.9, 10.1, 90.0),
        (10.0, -90.0, 10.1, -89.9),
    ],
)
def test_geographic_grid_stays_on_the_globe(bbox: tuple[float, float, float, float]) -> None:
    g = Grid.from_bbox(bbox, crs="EPSG:4326", resolution=10)
    minx, miny, maxx, maxy = g.bounds
    assert -180 <= minx < maxx <= 180
    assert -90 <= miny < maxy <= 90


def test_metres_per_pixel_converts_feet() -> None:
    g = Grid.from_bbox((-74.0, 40.7, -73.9, 40.8), crs="EPSG:2263", resolution=1000)
    assert math.isclose(g.res[0], 1000 / 0.3048006096012192)  # US survey feet
    assert math.isclose(g.metres_per_pixel, 1000.0)
