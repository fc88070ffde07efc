"""make_plan: validation of every input, tiles, cost and the CLI summary."""

from __future__ import annotations

import json
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from s2raster.contract import processing_units
from s2raster.errors import BandError, InputError
from s2raster.grid import Grid
from s2raster.plan import TileRequest, make_plan
from s2raster.query import Query

BBOX = (13.822, 45.850, 13.9, 45.9)
TIME = "2024-06-01/2024-06-30"


def test_small_plan_is_one_request() -> None:
    plan = make_plan(BBOX, TIME, ["B04", "B08"])
    assert plan.grid == Grid.from_bbox(BBOX, resolution=10)
    assert plan.grid.crs == "EPSG:32633"
    assert len(plan.tiles) == len(plan.requests) == 1
    request = plan.requests[0]
    assert isinstance(request, TileRequest)
    assert request.tile.grid == plan.grid
    assert request.query == plan.query
    h, w = plan.grid.shape
    assert plan.estimated_pu == pytest.approx(processing_units(w, h, 2))
    assert plan.download_bytes == w * h * 3 * 4
    assert plan.chunks == ((h,), (w,))


def test_query_is_normalised() -> None:
    plan = make_plan(
        BBOX,
        ("2024-06-01", "2024-06-30"),
        "b04, b8a,scl",
        mosaicking="leastcc",
        max_cloud=20,
        upsampling="bilinear",
        downsampling="Bicubic",
    )
    q = plan.query
    assert isinstance(q, Query)
    assert q.bands == ("B04", "B8A", "SCL")
    assert q.mosaicking == "leastCC"
    assert q.max_cloud == 20.0
    assert (q.upsampling, q.downsampling) == ("BILINEAR", "BICUBIC")
    assert q.collection == "sentinel-2-l2a"
    assert q.time_from.isoformat() == "2024-06-01T00:00:00+00:00"
    assert q.time_to.isoformat() == "2024-06-30T23:59:59+00:00"


@pytest.mark.parametrize("tile_px", [1000, 777, 2500])
def test_tiles_cover_grid_on_same_lattice(tile_px: int) -> None:
    plan = make_plan((13.8, 45.8, 14.2, 46.1), TIME, ["B04"], tile_px=tile_px)
    grid = plan.grid
    assert plan.chunks == grid.chunks(tile_px)
    assert len(plan.requests) == len(plan.chunks[0]) * len(plan.chunks[1])
    covered = sum(r.tile.grid.width * r.tile.grid.height for r in plan.requests)
    assert covered == grid.width * grid.height
    for r in plan.requests:
        t = r.tile.grid.transform
        assert (t.a, t.e) == (grid.transform.a, grid.transform.e)
        assert r.tile.grid.width <= tile_px
        assert r.tile.grid.height <= tile_px
    assert plan.estimated_pu == pytest.approx(sum(r.estimated_pu for r in plan.requests))


def test_full_tile_costs_what_design_says() -> None:
    """A 2500 x 2500, 12-band FLOAT32 request costs about 190 PU (the CDSE cost formula)."""
    bands = [
        "B01",
        "B02",
        "B03",
        "B04",
        "B05",
        "B06",
        "B07",
        "B08",
        "B8A",
        "B09",
        "B11",
        "B12",
    ]
    plan = make_plan((500000, 5000000, 525000, 5025000), TIME, bands, bbox_crs="EPSG:32633")
    assert plan.grid.shape == (2500, 2500)
    assert plan.estimated_pu == pytest.approx(2500 * 2500 / 512**2 * 12 / 3 * 2)
    assert 185 < plan.estimated_pu < 195


def test_summary_is_plain_json() -> None:
    plan = make_plan((13.8, 45.8, 14.2, 46.1), TIME, ["B04", "B08"], max_cloud=30, tile_px=1500)
    summary = plan.summary()
    assert json.loads(json.dumps(summary)) == summary
    assert summary["crs"] == "EPSG:32633"
    assert summary["width"] == plan.grid.width
    assert summary["height"] == plan.grid.height
    assert summary["resolution"] == [10.0, 10.0]
    assert summary["bounds"] == list(plan.grid.bounds)
    assert summary["tiles"] == summary["requests"] == len(plan.requests)
    assert summary["estimated_pu"] == plan.estimated_pu
    assert summary["download_bytes"] == plan.download_bytes
    assert summary["bands"] == ["B04", "B08"]
    assert summary["max_cloud"] == 30.0
    assert summary["time_to"] == "2024-06-30T23:59:59Z"
    assert summary["quota"]["minute_pu"] == pytest.approx(plan.estimated_pu / 300)
    assert summary["quota"]["month_requests"] == pytest.approx(len(plan.requests) / 10_000)


def test_explicit_crs_and_resolution() -> None:
    plan = make_plan(BBOX, TIME, ["B04"], crs="EPSG:4326", resolution=60)
    assert plan.grid.crs == "EPSG:4326"
    assert plan.grid.res[0] == pytest.approx(60 / 111319.49079327357)


@pytest.mark.parametrize("resolution", [1500.01, 2000, 1e6])
def test_too_coarse_resolution_refused_with_fix(resolution: float) -> None:
    with pytest.raises(InputError, match=r"1500 m/px.*resolution=1500"):
        make_plan(BBOX, TIME, ["B04"], resolution=resolution)


@pytest.mark.parametrize("resolution", [0, -10, math.nan, math.inf, "10", True])
def test_bad_resolution_refused(resolution: object) -> None:
    with pytest.raises(InputError, match="resolution"):
        make_plan(BBOX, TIME, ["B04"], resolution=resolution)  # type: ignore[arg-type]


def test_1500_m_is_allowed() -> None:
    assert make_plan(BBOX, TIME, ["B04"], resolution=1500).grid.res == (1500.0, 1500.0)


def test_unknown_band_lists_valid_names() -> None:
    with pytest.raises(BandError, match="B10") as info:
        make_plan(BBOX, TIME, ["B04", "B10"])
    assert "valid bands: B01, B02" in str(info.value)
    assert "SCL" in str(info.value)


def test_l1c_has_b10_but_no_scl() -> None:
    assert make_plan(BBOX, TIME, ["B10"], collection="sentinel-2-l1c").query.bands == ("B10",)
    with pytest.raises(BandError, match="SCL"):
        make_plan(BBOX, TIME, ["SCL"], collection="sentinel-2-l1c")


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"collection": "sentinel-1-grd"}, "sentinel-2-l2a, sentinel-2-l1c"),
        ({"mosaicking": "newest"}, "mostRecent, leastRecent, leastCC"),
        ({"mosaicking": 3}, "mosaicking"),
        ({"upsampling": "LANCZOS"}, "NEAREST, BILINEAR, BICUBIC"),
        ({"downsampling": "mean"}, "NEAREST, BILINEAR, BICUBIC"),
        ({"max_cloud": 101}, "0 to 100"),
        ({"max_cloud": -1}, "0 to 100"),
        ({"max_cloud": math.nan}, "0 to 100"),
        ({"max_cloud": "20"}, "percentage"),
        ({"tile_px": 0}, "tile_px"),
        ({"tile_px": 2501}, "tile_px"),
        ({"tile_px": 10.5}, "tile_px"),
    ],
)
def test_invalid_options_refused(kwargs: dict[str, object], match: str) -> None:
    with pytest.raises(InputError, match=match):
        make_plan(BBOX, TIME, ["B04"], **kwargs)  # type: ignore[arg-type]


def test_invalid_time_and_bbox_refused() -> None:
    with pytest.raises(InputError, match="starts after it ends"):
        make_plan(BBOX, "2024-06-30/2024-06-01", ["B04"])
    with pytest.raises(InputError, match="empty"):
        make_plan((14, 46, 13, 45), TIME, ["B04"])
    with pytest.raises(BandError, match="no bands"):
        make_plan(BBOX, TIME, [])


@given(st.floats(allow_nan=True, allow_infinity=True))
def test_max_cloud_range(value: float) -> None:
    if 0 <= value <= 100:
        assert make_plan(BBOX, TIME, ["B04"], max_cloud=value).query.max_cloud == value
    else:
        with pytest.raises(InputError):
            make_plan(BBOX, TIME, ["B04"], max_cloud=value)


@given(st.sampled_from(["mostRecent", "leastRecent", "leastCC"]), st.booleans())
def test_mosaicking_any_case(name: str, upper: bool) -> None:
    spelled = name.upper() if upper else name.lower()
    assert make_plan(BBOX, TIME, ["B04"], mosaicking=spelled).query.mosaicking == name


@given(st.text(min_size=1, max_size=8))
def test_band_names_known_or_band_error(name: str) -> None:
    try:
        plan = make_plan(BBOX, TIME, [name])
    except InputError:
        return
    assert plan.query.bands[0].lower() == name.strip().lower()
