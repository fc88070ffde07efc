"""load with a fake fetch: exact georeferencing, laziness, tiles, cache, stats, cost, marks.

The fake fetch answers each tile request with a FLOAT32 GeoTIFF built with rasterio on the
tile's own grid, whose values encode (band, global row, global column), so every pixel can
be checked for landing in the right place; ``dataMask`` is 0 on a known pattern.
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import dask
import numpy as np
import odc.geo.xr  # noqa: F401  (registers da.odc)
import pytest
import rioxarray  # noqa: F401  (registers da.rio)
from sentinelhub.config import SHConfig

from s2raster._load import LoadStats, load, load_plan, units_attr
from s2raster.cache import default_directory
from s2raster.contract import SYNTHETIC_SOURCE
from s2raster.errors import (
    CostLimitError,
    CredentialsError,
    InputError,
    NoDataError,
    ResponseError,
    S2RasterError,
    ServiceError,
)
from s2raster.fetch import FetchResult, Search
from s2raster.grid import Grid
from s2raster.plan import TileRequest, make_plan
from s2raster.query import Query
from s2raster.testing import FakeFetch, expected_mask, expected_values, geotiff_bytes

TIME = "2024-06-01/2024-06-30"
SECRET = "load-test-secret-0a9b8c7d"
LJUBLJANA = (13.80, 45.80, 13.81, 45.806)
BRASILIA = (-47.90, -15.80, -47.89, -15.792)


@pytest.fixture
def fake() -> FakeFetch:
    return FakeFetch()


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("SH_CLIENT_ID", "SH_CLIENT_SECRET", "SH_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))


def check_exact(da: object, grid: Grid, n_bands: int) -> None:
    values = np.asarray(da)
    expected = expected_values(grid, n_bands)
    mask = expected_mask(grid)
    assert values.dtype == np.float32
    np.testing.assert_array_equal(values[:, mask], expected[:, mask])
    assert np.isnan(values[:, ~mask]).all()


@pytest.mark.parametrize(
    ("bbox", "crs", "tile_px", "epsg"),
    [
        (LJUBLJANA, "EPSG:4326", 2500, 4326),
        (LJUBLJANA, None, 2500, 32633),
        (BRASILIA, None, 2500, 32723),
        (LJUBLJANA, None, 16, 32633),
        (BRASILIA, "EPSG:4326", 7, 4326),
    ],
    ids=["wgs84", "utm-north", "utm-south", "utm-tiled", "wgs84-tiled"],
)
def test_georeferencing_and_values_exact(
    fake: FakeFetch, bbox: tuple[float, ...], crs: str | None, tile_px: int, epsg: int
) -> None:
    da = load(bbox, TIME, ["B04", "B08"], crs=crs, tile_px=tile_px, fetch=fake, cache=False)
    grid = Grid.from_bbox(bbox, crs=crs, resolution=10)
    assert grid.crs == f"EPSG:{epsg}"
    assert da.rio.crs.to_epsg() == epsg
    assert da.rio.transform() == grid.transform
    t = grid.transform
    np.testing.assert_array_equal(da.x.values, t.c + t.a * (np.arange(grid.width) + 0.5))
    np.testing.assert_array_equal(da.y.values, t.f + t.e * (np.arange(grid.height) + 0.5))
    assert da.odc.geobox.affine.almost_equals(t, precision=1e-9 * t.a)
    assert da.data.chunks == ((2,), *grid.chunks(tile_px))
    assert fake.calls == []  # lazy
    check_exact(da, grid, 2)
    assert len(fake.calls) == len(grid.tiles(tile_px))


def test_nothing_fetched_until_computed_and_only_needed_tiles(fake: FakeFetch) -> None:
    st = LoadStats()
    da = load(LJUBLJANA, TIME, ["B04"], tile_px=16, fetch=fake, cache=False, stats=st)
    n_tiles = len(da.data.chunks[1]) * len(da.data.chunks[2])
    assert n_tiles > 4
    assert fake.calls == []
    corner = da[:, :5, :5].compute()
    assert len(fake.calls) == 1
    assert fake.calls[0].tile.index_row == fake.calls[0].tile.index_col == 0
    np.testing.assert_array_equal(corner.values, da.values[:, :5, :5])
    assert st.requests == 1 + n_tiles


def test_stats_progress_and_attrs(fake: FakeFetch) -> None:
    done: list[TileRequest] = []
    st = LoadStats()
    da = load(
        LJUBLJANA,
        TIME,
        ["B04", "SCL"],
        max_cloud=30,
        tile_px=16,
        fetch=fake,
        cache=False,
        progress=done.append,
        stats=st,
    )
    assert st == LoadStats()
    assert asdict(st) == {
        "requests": 0,
        "cache_hits": 0,
        "processing_units_spent": 0.0,
        "bytes": 0,
        "synthetic": False,
        "throttled": 0,
        "cache_mismatches": 0,
    }
    da.compute()
    n = len(fake.calls)
    s = st
    assert (s.requests, s.cache_hits, s.synthetic) == (n, 0, False)
    assert s.processing_units_spent == pytest.approx(0.5 * n)
    assert s.bytes > 0
    assert sorted(id(r) for r in done) == sorted(id(r) for r in fake.calls)
    a = da.attrs
    assert a["collection"] == "sentinel-2-l2a"
    assert (a["time_from"], a["time_to"]) == ("2024-06-01T00:00:00Z", "2024-06-30T23:59:59Z")
    assert a["mosaicking"] == "mostRecent"
    assert a["units"] == "reflectance,DN"
    assert a["max_cloud"] == 30.0
    assert a["synthetic"] == 0
    assert "Copernicus Sentinel data" in a["source"]
    plan = make_plan(LJUBLJANA, TIME, ["B04", "SCL"], max_cloud=30, tile_px=16)
    assert a["processing_units_estimated"] == pytest.approx(plan.estimated_pu)
    assert a["acquisitions"] == 1
    assert "s2raster_load_id" not in a  # no process-wide registry
    for key, value in a.items():
        assert isinstance(value, (str, int, float, tuple)), key


def test_second_load_comes_from_cache(fake: FakeFetch, tmp_path: Path) -> None:
    first = load(LJUBLJANA, TIME, ["B04"], tile_px=16, fetch=fake, cache=tmp_path)
    a = first.values
    n = len(fake.calls)
    s = LoadStats()
    second = load(LJUBLJANA, TIME, ["B04"], tile_px=16, fetch=fake, cache=tmp_path, stats=s)
    np.testing.assert_array_equal(second.values, a)
    assert len(fake.calls) == n  # nothing downloaded again
    assert (s.requests, s.cache_hits, s.processing_units_spent, s.bytes) == (0, n, 0.0, 0)
    third = load(LJUBLJANA, TIME, ["B08"], tile_px=16, fetch=fake, cache=tmp_path)
    third.compute()
    assert len(fake.calls) == 2 * n  # another band: another request


def test_max_pu_refuses_before_any_request(fake: FakeFetch, tmp_path: Path) -> None:
    plan = make_plan(LJUBLJANA, TIME, ["B04", "B08"], tile_px=16)
    with pytest.raises(CostLimitError, match=r"max_pu=0\.01.*smaller area"):
        load_plan(plan, fetch=fake, cache=tmp_path, max_pu=0.01)
    assert fake.calls == []
    load_plan(plan, fetch=fake, cache=tmp_path, max_pu=plan.estimated_pu).compute()
    load_plan(plan, fetch=fake, cache=tmp_path, max_pu=0.0)  # all cached: costs nothing


def test_concurrency_is_bounded(tmp_path: Path) -> None:
    fake = FakeFetch(delay=0.02)
    da = load(LJUBLJANA, TIME, ["B04"], tile_px=8, fetch=fake, cache=False, concurrency=2)
    with dask.config.set(scheduler="threads", num_workers=8):
        da.compute()
    assert len(fake.calls) > 8
    assert 1 <= fake.max_in_flight <= 2


class FailingFetch(FakeFetch):
    """Fails the first request it gets (whichever tile), answers the others."""

    def __call__(self, request: TileRequest) -> FetchResult:
        with self._lock:
            first = not self.calls
        if first:
            self.calls.append(request)
            raise ServiceError("the service refused the request", status=400)
        return super().__call__(request)


def test_a_failed_load_spends_nothing_more() -> None:
    fake = FailingFetch(delay=0.01)
    da = load(LJUBLJANA, TIME, ["B04"], tile_px=8, fetch=fake, cache=False, concurrency=1)
    assert len(da.data.dask) > 8  # many tiles, all waiting on one slot
    with (
        dask.config.set(scheduler="threads", num_workers=8),
        pytest.raises((ServiceError, ResponseError)),
    ):
        da.compute()
    assert len(fake.calls) == 1  # the tasks dask had started did not fetch
    with pytest.raises(ResponseError, match="another tile of this load failed"):
        da.compute()
    assert len(fake.calls) == 1


def test_unwritable_cache_is_a_warning(fake: FakeFetch, tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    da = load(LJUBLJANA, TIME, ["B04"], fetch=fake, cache=blocker / "cache")
    with pytest.warns(UserWarning, match="not writable"):
        values = da.values
    check_exact(values, Grid.from_bbox(LJUBLJANA), 1)


def test_default_cache_skips_services_that_say_synthetic(tmp_path: Path) -> None:
    fake = FakeFetch(synthetic=True)  # the service's own answer says so, not its URL
    load(LJUBLJANA, TIME, ["B04"], fetch=fake).compute()  # cache=True
    assert not list(default_directory().glob("??/*.tif"))  # an emulator's tiles: not kept
    load(LJUBLJANA, TIME, ["B04"], fetch=fake, cache=tmp_path).compute()
    assert list(tmp_path.glob("??/*.tif"))  # a cache named explicitly is used


def test_a_loopback_proxy_of_a_real_service_is_real_data() -> None:
    fake = FakeFetch(base_url="http://127.0.0.1:8080")  # e.g. a caching proxy before CDSE
    da = load(LJUBLJANA, TIME, ["B04"], fetch=fake)
    assert da.attrs["synthetic"] == 0
    da.compute()
    assert list(default_directory().glob("??/*.tif"))  # real tiles: the default cache keeps them


def test_bad_concurrency_refused(fake: FakeFetch) -> None:
    with pytest.raises(InputError, match="concurrency"):
        load(LJUBLJANA, TIME, ["B04"], fetch=fake, concurrency=0)


def test_synthetic_answers_are_marked(tmp_path: Path) -> None:
    fake = FakeFetch(synthetic=True)
    st = LoadStats()
    da = load(LJUBLJANA, TIME, ["B04"], fetch=fake, cache=tmp_path, stats=st)
    assert da.attrs["synthetic"] == 1
    assert da.attrs["source"] == SYNTHETIC_SOURCE
    da.compute()
    assert st.synthetic is True


def test_synthetic_tile_where_real_data_expected_is_an_error() -> None:
    class RealCatalogSyntheticTiles(FakeFetch):
        def search(self, query: Query, bbox: tuple[float, float, float, float]) -> Search:
            return Search(super().search(query, bbox).acquisitions, synthetic=False)

    da = load(
        LJUBLJANA, TIME, ["B04"], fetch=RealCatalogSyntheticTiles(synthetic=True), cache=False
    )
    assert da.attrs["synthetic"] == 0
    with pytest.raises(ResponseError, match="marked synthetic"):
        da.compute()


def test_synthetic_header_alone_is_enough() -> None:
    class HeaderOnly(FakeFetch):
        def __call__(self, request: TileRequest) -> FetchResult:
            result = super().__call__(request)
            return FetchResult(result.content, result.processing_units, True)

    da = load(LJUBLJANA, TIME, ["B04"], fetch=HeaderOnly(), cache=False)
    with pytest.raises(ResponseError, match="synthetic"):
        da.compute()


def test_misplaced_tile_is_refused_and_not_cached(tmp_path: Path) -> None:
    class Shifted(FakeFetch):
        def __call__(self, request: TileRequest) -> FetchResult:
            grid = request.tile.grid
            shifted = Grid(grid.crs, grid.transform @ grid.transform.translation(1, 0), grid.shape)
            data = np.ones((len(request.query.bands) + 1, *grid.shape), np.float32)
            self.calls.append(request)
            content = geotiff_bytes(data, crs=shifted.crs, transform=shifted.transform)
            return FetchResult(content, 1.0, False)

    fetch = Shifted()
    da = load(LJUBLJANA, TIME, ["B04"], fetch=fetch, cache=tmp_path)
    with pytest.raises(ResponseError):
        da.compute()
    assert not list(tmp_path.rglob("*.tif"))


def test_damaged_cache_entry_is_fetched_again(fake: FakeFetch, tmp_path: Path) -> None:
    load(LJUBLJANA, TIME, ["B04"], fetch=fake, cache=tmp_path).compute()
    for path in tmp_path.rglob("*.tif"):
        path.write_bytes(b"II*\x00" + b"\x00" * (path.stat().st_size - 4))
    st = LoadStats()
    da = load(LJUBLJANA, TIME, ["B04"], fetch=fake, cache=tmp_path, stats=st)
    check_exact(da, Grid.from_bbox(LJUBLJANA), 1)
    assert len(fake.calls) == 2
    assert st.requests == 1


def test_credentials_checked_at_load_time_without_requests(clean_env: None) -> None:
    with pytest.raises(CredentialsError, match="SH_CLIENT_ID"):
        load(LJUBLJANA, TIME, ["B04"], cache=False)
    with pytest.raises(CredentialsError):
        load(LJUBLJANA, TIME, ["B04"], config=SHConfig(use_defaults=True), cache=False)


def test_unreachable_service_fails_at_the_catalog_search(clean_env: None, tmp_path: Path) -> None:
    """A real config for an unreachable service: the one catalog search fails, clearly."""
    config = SHConfig(
        use_defaults=True,
        sh_client_id="id",
        sh_client_secret=SECRET,
        sh_base_url="http://127.0.0.1:9",
        sh_token_url="http://127.0.0.1:9/token",
        max_download_attempts=1,
        download_sleep_time=0.01,
    )
    with pytest.raises(S2RasterError) as info:
        load(LJUBLJANA, TIME, ["B04"], config=config, cache=tmp_path)
    assert SECRET not in str(info.value)


def test_config_is_used_as_given(fake: FakeFetch) -> None:
    config = SHConfig(
        use_defaults=True,
        sh_client_id="id",
        sh_client_secret=SECRET,
        sh_base_url="http://127.0.0.1:9/",
        sh_token_url="http://127.0.0.1:9/token",
        max_download_attempts=1,
    )
    before = config.to_dict(mask_credentials=False)
    da = load(LJUBLJANA, TIME, ["B04"], config=config, fetch=fake, cache=False)
    da.compute()
    assert config.to_dict(mask_credentials=False) == before
    assert da.attrs["synthetic"] == 0  # the fake said nothing of synthetic data, whatever the URL


def test_no_acquisition_is_an_error_before_any_request(fake: FakeFetch) -> None:
    empty = FakeFetch(acquisitions=())
    with pytest.raises(NoDataError, match=r"no sentinel-2-l2a acquisition.*widen the time range"):
        load(LJUBLJANA, TIME, ["B04"], max_cloud=0, fetch=empty)
    assert empty.calls == []
    assert len(empty.searches) == 1


def test_invalid_inputs_fail_before_anything(fake: FakeFetch) -> None:
    with pytest.raises(InputError):
        load(LJUBLJANA, "2024-06-30/2024-06-01", ["B04"], fetch=fake)
    with pytest.raises(InputError):
        load(LJUBLJANA, TIME, ["B99"], fetch=fake)
    with pytest.raises(InputError, match="1500"):
        load(LJUBLJANA, TIME, ["B04"], resolution=2000, fetch=fake)
    assert fake.calls == []


@pytest.mark.parametrize(
    ("bands", "units"),
    [
        (["B04", "B08"], "reflectance"),
        (["SCL"], "DN"),
        (["SNW", "CLD"], "percent"),
        (["AOT"], "optical_depth"),
        (["sunZenithAngles", "viewZenithMean"], "degrees"),
        (["B04", "SCL"], "reflectance,DN"),
    ],
)
def test_units_attr(bands: list[str], units: str) -> None:
    assert units_attr("sentinel-2-l2a", bands) == units
