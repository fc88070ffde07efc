"""load(geometry=...): the grid of a polygon's bounds, one clipped geometry per tile request,
no request for tiles the polygon misses, NaN outside it (exact at pixel centres)."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest
from rasterio.features import geometry_mask
from sentinelhub.config import SHConfig
from shapely.geometry import MultiPolygon, Point, Polygon, box
from shapely.ops import unary_union

import s2raster
from s2raster.cdse import build_request
from s2raster.errors import InputError
from s2raster.evalscript import payload
from s2raster.geometry import read_area
from s2raster.grid import Grid
from s2raster.plan import make_plan
from s2raster.testing import FakeFetch, expected_mask
from s2raster.xr import grid_of

TIME = "2024-06-01/2024-06-10"
#: A field with a hole, and a second field apart from it (lon/lat).
FIELD = Polygon(
    [(13.830, 45.860), (13.846, 45.857), (13.851, 45.871), (13.838, 45.874)]
).difference(Point(13.842, 45.866).buffer(0.002))
FAR = box(13.870, 45.880, 13.874, 45.883)
FIELDS = MultiPolygon([FIELD, FAR])
#: Across the UTM zone 32/33 boundary at 12 degrees east.
ACROSS_ZONES = box(11.990, 46.0, 12.004, 46.006)  # centre 11.997 E: zone 32


def centre_mask(geometry: Any, grid: Grid) -> np.ndarray:
    """True where a pixel centre is inside (rasterio's rule, all_touched=False)."""
    return ~geometry_mask([geometry], out_shape=grid.shape, transform=grid.transform)


def test_exactly_one_of_bbox_and_geometry() -> None:
    with pytest.raises(InputError, match="exactly one of bbox and geometry"):
        make_plan((13.8, 45.8, 13.9, 45.9), TIME, "B04", geometry=FIELD)
    with pytest.raises(InputError, match="exactly one of bbox and geometry"):
        make_plan(time=TIME, bands="B04")
    with pytest.raises(InputError, match="time is required"):
        make_plan(geometry=FIELD, bands="B04")
    with pytest.raises(InputError, match="bands is required"):
        make_plan(geometry=FIELD, time=TIME)


def test_the_grid_covers_the_geometry_bounds_on_the_snapped_lattice() -> None:
    plan = make_plan(geometry=FIELD, time=TIME, bands="B04")
    area = read_area(FIELD).to_crs("EPSG:32633")
    assert plan.grid.crs == "EPSG:32633"
    assert plan.area == area
    minx, miny, maxx, maxy = plan.grid.bounds
    assert [v % 10 for v in plan.grid.bounds] == [0, 0, 0, 0]
    a0, a1, a2, a3 = area.bounds
    assert minx <= a0 < minx + 10
    assert maxx - 10 < a2 <= maxx
    assert miny <= a1 < miny + 10
    assert maxy - 10 < a3 <= maxy
    assert plan.grid == Grid.from_bbox(area.bounds, bbox_crs=area.crs, crs=area.crs)
    assert plan.summary()["geometry"] is True


def test_tiles_get_the_geometry_clipped_and_missed_tiles_no_request() -> None:
    plan = make_plan(geometry=FIELDS, time=TIME, bands="B04", tile_px=40)
    area = plan.area
    assert area is not None
    assert len(plan.requests) < len(plan.tiles)
    requested = {(r.tile.index_row, r.tile.index_col) for r in plan.requests}
    for tile in plan.tiles:
        inside = centre_mask(area.geometry, tile.grid)
        assert ((tile.index_row, tile.index_col) in requested) == bool(inside.any())
    for request in plan.requests:
        grid = request.tile.grid
        expected = centre_mask(area.geometry, grid)
        if request.geometry is None:  # a tile wholly inside needs no geometry
            assert expected.all()
            continue
        assert request.geometry.within(box(*grid.bounds))
        assert (centre_mask(request.geometry, grid) == expected).all()
    assert plan.estimated_pu == pytest.approx(sum(r.estimated_pu for r in plan.requests))


def test_payload_carries_the_geometry_as_sentinelhub_py_sends_it() -> None:
    config = SHConfig(use_defaults=True, sh_base_url="http://127.0.0.1:9")
    plan = make_plan(geometry=FIELD, time=TIME, bands=["B04", "B08"])
    (request,) = plan.requests
    body = payload(request)
    bounds = body["input"]["bounds"]
    assert bounds["bbox"] == list(plan.grid.bounds)
    assert bounds["geometry"]["type"] == "Polygon"
    assert len(bounds["geometry"]["coordinates"]) == 2  # the hole is kept
    sent = build_request(request, config).download_list[0].post_values
    assert json.loads(json.dumps(sent)) == body  # on the wire, tuples are lists


def test_payloads_with_geometry_validate_against_openapi(openapi_spec: dict[str, Any]) -> None:
    from test_evalscript import process_request_validator  # tests/unit is on sys.path

    validator = process_request_validator(openapi_spec)
    for request in make_plan(geometry=FIELDS, time=TIME, bands="B04", tile_px=40).requests:
        assert [e.message for e in validator.iter_errors(payload(request))] == []


def test_a_polygon_across_utm_zones_uses_the_zone_of_its_centre() -> None:
    plan = make_plan(geometry=ACROSS_ZONES, time=TIME, bands="B04")
    assert plan.grid.crs == "EPSG:32632"
    assert read_area(ACROSS_ZONES).to_crs(plan.grid.crs).geometry.within(box(*plan.grid.bounds))
    east = make_plan(geometry=box(11.996, 46.0, 12.010, 46.006), time=TIME, bands="B04")
    assert east.grid.crs == "EPSG:32633"
    forced = make_plan(geometry=ACROSS_ZONES, time=TIME, bands="B04", crs="EPSG:32633")
    assert forced.grid.crs == "EPSG:32633"


def test_load_is_nan_outside_the_geometry_exactly_at_pixel_centres() -> None:
    fake = FakeFetch(fill=0.25)
    da = s2raster.load(geometry=FIELDS, time=TIME, bands=["B04"], fetch=fake, tile_px=40)
    grid = grid_of(da)
    area = read_area(FIELDS).to_crs(grid.crs)
    inside = centre_mask(area.geometry, grid)
    values = da.values[0]
    assert np.isnan(values[~inside]).all()
    assert (values[inside] == np.float32(0.25)).all()
    plan = make_plan(geometry=FIELDS, time=TIME, bands="B04", tile_px=40)
    assert len(fake.calls) == len(plan.requests) < len(plan.tiles)


def test_load_keeps_the_service_no_data_inside_the_geometry() -> None:
    da = s2raster.load(geometry=FIELD, time=TIME, bands=["B04"], fetch=FakeFetch())
    grid = grid_of(da)
    inside = centre_mask(read_area(FIELD).to_crs(grid.crs).geometry, grid)
    valid = ~np.isnan(da.values[0])
    assert (valid == (inside & expected_mask(grid))).all()


def test_load_geometry_in_a_projected_crs() -> None:
    utm = read_area(FIELD).to_crs("EPSG:32633").geometry
    da = s2raster.load(
        geometry=utm, geometry_crs="EPSG:32633", time=TIME, bands="B04", fetch=FakeFetch(fill=1)
    )
    lonlat = s2raster.load(geometry=FIELD, time=TIME, bands="B04", fetch=FakeFetch(fill=1))
    assert grid_of(da) == grid_of(lonlat)
    np.testing.assert_array_equal(da.values, lonlat.values)


def test_invalid_geometry_needs_make_valid() -> None:
    bowtie = Polygon([(13.83, 45.86), (13.85, 45.88), (13.85, 45.86), (13.83, 45.88)])
    with pytest.raises(InputError, match="make_valid=True"):
        s2raster.load(geometry=bowtie, time=TIME, bands="B04", fetch=FakeFetch())
    da = s2raster.load(
        geometry=bowtie, time=TIME, bands="B04", fetch=FakeFetch(fill=1), make_valid=True
    )
    assert np.isfinite(da.values).sum() > 0
    assert unary_union([bowtie.buffer(0)]).is_valid
