"""The library side of a fetch job: choosing bands, the index stack, the cost and size checks,
and fetch_to_file (with a fake service)."""

from __future__ import annotations

from pathlib import Path

import pytest
import rasterio
from hypothesis import given
from hypothesis import strategies as st

from s2raster._load import LoadStats, load_plan
from s2raster.errors import BandError, CostLimitError, GridError, InputError
from s2raster.indices import INDICES, bands_for, stack
from s2raster.job import DEFAULT_BANDS, canonical_indices, choose_bands, fetch_to_file
from s2raster.plan import (
    MAX_PIXELS,
    Plan,
    check_cost,
    check_size,
    make_plan,
    needs_confirmation,
)
from s2raster.testing import FakeFetch

BBOX = (13.80, 45.80, 13.81, 45.806)  # ~78 x 67 px at 10 m
TIME = "2024-06-01/2024-06-30"
PU_PER_TILE = 3.5


fake_fetch = FakeFetch(fill=0.25, pu=PU_PER_TILE)  # 0.25 everywhere, 3.5 PU a tile


def small_plan(bands: tuple[str, ...] = ("B04", "B08")) -> Plan:
    return make_plan(BBOX, TIME, bands, tile_px=32)


def test_choose_bands_defaults() -> None:
    assert choose_bands(None) == DEFAULT_BANDS
    assert choose_bands(None, ["NDVI"]) == ("B04", "B08")
    assert choose_bands(("B02", "B04", "B08"), ["NDVI"]) == ("B02", "B04", "B08")


@given(st.lists(st.sampled_from(sorted(INDICES)), min_size=1, max_size=4, unique=True))
def test_choose_bands_covers_what_indices_need(names: list[str]) -> None:
    assert set(bands_for(names)) <= set(choose_bands(None, names))


@pytest.mark.parametrize(
    ("bands", "indices", "needles"),
    [((), (), ["bands", "empty"]), (("B04",), ("NDVI",), ["B08", "--bands", "NDVI"])],
)
def test_choose_bands_refuses(
    bands: tuple[str, ...], indices: tuple[str, ...], needles: list[str]
) -> None:
    with pytest.raises(BandError) as info:
        choose_bands(bands, indices)
    for needle in needles:
        assert needle in str(info.value)


def test_canonical_indices() -> None:
    assert canonical_indices(["ndvi", "NDREI", "NDVI", "evi"]) == ("NDVI", "NDRE", "EVI")
    with pytest.raises(BandError, match="FOO"):
        canonical_indices(["FOO"])


def test_check_cost() -> None:
    plan = small_plan()
    check_cost(plan, None)
    check_cost(plan, plan.estimated_pu)
    with pytest.raises(CostLimitError, match="max_pu"):
        check_cost(plan, plan.estimated_pu / 2)


def test_check_size() -> None:
    small = small_plan()
    assert not needs_confirmation(small)
    check_size(small)
    big = make_plan((10, 45, 12, 47), TIME, ["B04"])
    assert big.grid.width * big.grid.height > MAX_PIXELS
    assert needs_confirmation(big)
    with pytest.raises(GridError, match="million px"):
        check_size(big)
    check_size(big, confirmed=True)


def test_stack_names_one_band_per_index() -> None:
    da = load_plan(small_plan(("B03", "B04", "B08")), fetch=fake_fetch, cache=False)
    one = stack(da, ["NDVI"])
    assert one.dims == ("band", "y", "x")
    assert list(one["band"].values) == ["NDVI"]
    two = stack(da, ["NDVI", "NDWI"])
    assert list(two["band"].values) == ["NDVI", "NDWI"]
    assert two.name == "indices"
    assert two.attrs["long_name"] == ("NDVI", "NDWI")
    with pytest.raises(InputError):
        stack(da, [])


def test_load_plan_counts_into_the_callers_stats() -> None:
    plan = small_plan()
    stats = LoadStats()
    da = load_plan(plan, fetch=fake_fetch, cache=False, stats=stats)
    assert stats.requests == 0  # lazy: nothing asked yet
    da.compute()
    assert stats.requests == len(plan.tiles) > 1
    assert stats.processing_units_spent == PU_PER_TILE * len(plan.tiles)


@pytest.mark.parametrize(
    ("indices", "bands"),
    [((), ("B03", "B04", "B08")), (("NDVI",), ("NDVI",)), (("NDVI", "NDWI"), ("NDVI", "NDWI"))],
)
def test_fetch_to_file(tmp_path: Path, indices: tuple[str, ...], bands: tuple[str, ...]) -> None:
    plan = small_plan(("B03", "B04", "B08"))
    out = tmp_path / "job.tif"
    done = fetch_to_file(plan, out, indices=indices, fetch=fake_fetch, cache=False, cog=False)
    assert done.path == out
    assert done.bands == bands
    assert done.grid == plan.grid
    assert done.tiles == len(plan.tiles) > 1
    assert done.stats.requests == len(plan.tiles)
    assert done.stats.processing_units_spent == PU_PER_TILE * len(plan.tiles)
    assert not done.synthetic
    with rasterio.open(out) as src:
        assert src.descriptions == done.bands
        assert float(src.tags()["processing_units_spent"]) == done.stats.processing_units_spent
        assert (src.height, src.width) == plan.grid.shape
