"""load with a fake fetch: exact georeferencing, laziness, tiles, cache, stats, cost, marks.

The fake fetch answers each tile request with a FLOAT32 GeoTIFF built with rasterio on the
tile's own grid, whose values encode (band, global row, global column), so every pixel can
be checked for landing in the right place; ``dataMask`` is 0 on a known pattern.
"""

from __future__ import annotations

import threading
import time
from dataclasses import asdict
from pathlib import Path

import dask
import numpy as np
import pytest
from rasterio.io import MemoryFile
from sentinelhub.config import SHConfig

from s2raster.cache import default_directory
from s2raster.cdse import FetchResult
from s2raster.contract import SYNTHETIC_SOURCE
from s2raster.errors import (
    CostLimitError,
    CredentialsError,
    InputError,
    ResponseError,
    ServiceError,
)
from s2raster.grid import Grid
from s2raster.load import LoadStats, load, load_plan, stats, units_attr
from s2raster.plan import TileRequest, make_plan

pytest.importorskip("rioxarray")
pytest.importorskip("odc.geo.xr")

TIME = "2024-06-01/2024-06-30"
SECRET = "load-test-secret-0a9b8c7d"
LJUBLJANA = (13.80, 45.80, 13.81, 45.806)
BRASILIA = (-47.90, -15.80, -47.89, -15.792)


def expected_values(grid: Grid, n_bands: int, row0: int = 0, col0: int = 0) -> np.ndarray:
    rows = np.arange(row0, row0 + grid.height)[:, None]
    cols = np.arange(col0, col0 + grid.width)[None, :]
    bands = [np.float32(k * 1_000_000) + rows * 1000 + cols for k in range(n_bands)]
    return np.stack(bands).astype(np.float32)


def expected_mask(grid: Grid) -> np.ndarray:
    rows = np.arange(grid.height)[:, None]
    cols = np.arange(grid.width)[None, :]
    return (rows + cols) % 7 != 0


def geotiff_bytes(grid: Grid, data: np.ndarray, tags: dict[str, str] | None = None) -> bytes:
    with MemoryFile() as mem:
        with mem.open(
            driver="GTiff",
            width=grid.width,
            height=grid.height,
            count=data.shape[0],
            dtype="float32",
            crs=grid.crs,
            transform=grid.transform,
        ) as dst:
            dst.write(data)
            if tags:
                dst.update_tags(**tags)
        return bytes(mem.read())


class FakeFetch:
    """Answers like the Process API would for the client's evalscript (bands + dataMask)."""

    def __init__(self, *, synthetic: bool = False, delay: float = 0.0, pu: float = 0.5) -> None:
        self.calls: list[TileRequest] = []
        self.synthetic = synthetic
        self.delay = delay
        self.pu = pu
        self.in_flight = 0
        self.max_in_flight = 0
        self.lock = threading.Lock()
        self.parent: Grid | None = None

    def __call__(self, request: TileRequest) -> FetchResult:
        with self.lock:
            self.calls.append(request)
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            time.sleep(self.delay)
            tile = request.tile
            n = len(request.query.bands)
            values = expected_values(tile.grid, n, tile.row, tile.col)
            rows = np.arange(tile.row, tile.row + tile.grid.height)[:, None]
            cols = np.arange(tile.col, tile.col + tile.grid.width)[None, :]
            mask = ((rows + cols) % 7 != 0).astype(np.float32)
            values = values * mask  # the service writes 0 in every band where no data
            data = np.concatenate([values, mask[None]]).astype(np.float32)
            tags = {"S2RASTER_SYNTHETIC": "1"} if self.synthetic else None
            return FetchResult(geotiff_bytes(tile.grid, data, tags), self.pu, self.synthetic)
        finally:
            with self.lock:
                self.in_flight -= 1


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
    da = load(LJUBLJANA, TIME, ["B04"], tile_px=16, fetch=fake, cache=False)
    n_tiles = len(da.data.chunks[1]) * len(da.data.chunks[2])
    assert n_tiles > 4
    assert fake.calls == []
    corner = da[:, :5, :5].compute()
    assert len(fake.calls) == 1
    assert fake.calls[0].tile.index_row == fake.calls[0].tile.index_col == 0
    np.testing.assert_array_equal(corner.values, da.values[:, :5, :5])
    assert stats(da).requests == 1 + n_tiles


def test_stats_progress_and_attrs(fake: FakeFetch) -> None:
    done: list[TileRequest] = []
    da = load(
        LJUBLJANA,
        TIME,
        ["B04", "SCL"],
        max_cloud=30,
        tile_px=16,
        fetch=fake,
        cache=False,
        progress=done.append,
    )
    assert stats(da) == LoadStats()
    assert asdict(stats(da)) == {
        "requests": 0,
        "cache_hits": 0,
        "processing_units_spent": 0.0,
        "bytes": 0,
        "synthetic": False,
    }
    da.compute()
    n = len(fake.calls)
    s = stats(da)
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
    assert isinstance(a["s2raster_load_id"], str)
    for key, value in a.items():
        assert isinstance(value, (str, int, float, tuple)), key


def test_stats_of_foreign_array_refused(fake: FakeFetch) -> None:
    da = load(LJUBLJANA, TIME, ["B04"], fetch=fake, cache=False)
    with pytest.raises(InputError, match="no statistics"):
        stats(da.drop_attrs())
    assert stats(da.compute()) is stats(da)  # computed copies keep the attrs


def test_second_load_comes_from_cache(fake: FakeFetch, tmp_path: Path) -> None:
    first = load(LJUBLJANA, TIME, ["B04"], tile_px=16, fetch=fake, cache=tmp_path)
    a = first.values
    n = len(fake.calls)
    second = load(LJUBLJANA, TIME, ["B04"], tile_px=16, fetch=fake, cache=tmp_path)
    np.testing.assert_array_equal(second.values, a)
    assert len(fake.calls) == n  # nothing downloaded again
    s = stats(second)
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
        with self.lock:
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


def test_default_cache_skips_loopback_services(tmp_path: Path) -> None:
    fake = FakeFetch(synthetic=True)
    config = SHConfig(use_defaults=True, sh_base_url="http://127.0.0.1:9")
    load(LJUBLJANA, TIME, ["B04"], fetch=fake, config=config).compute()  # cache=True
    assert not list(default_directory().glob("??/*.tif"))  # an emulator's tiles: not kept
    load(LJUBLJANA, TIME, ["B04"], fetch=fake, config=config, cache=tmp_path).compute()
    assert list(tmp_path.glob("??/*.tif"))  # a cache named explicitly is used


def test_bad_concurrency_refused(fake: FakeFetch) -> None:
    with pytest.raises(InputError, match="concurrency"):
        load(LJUBLJANA, TIME, ["B04"], fetch=fake, concurrency=0)


def test_synthetic_tiles_from_loopback_are_marked(tmp_path: Path) -> None:
    fake = FakeFetch(synthetic=True)
    config = SHConfig(use_defaults=True, sh_base_url="http://127.0.0.1:9")
    da = load(LJUBLJANA, TIME, ["B04"], fetch=fake, config=config, cache=tmp_path)
    assert da.attrs["synthetic"] == 1
    assert da.attrs["source"] == SYNTHETIC_SOURCE
    da.compute()
    assert stats(da).synthetic is True


def test_synthetic_tile_where_real_data_expected_is_an_error() -> None:
    fake = FakeFetch(synthetic=True)
    config = SHConfig(use_defaults=True, sh_base_url="https://sh.dataspace.copernicus.eu")
    da = load(LJUBLJANA, TIME, ["B04"], fetch=fake, config=config, cache=False)
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
            return FetchResult(geotiff_bytes(shifted, data), 1.0, False)

    fetch = Shifted()
    da = load(LJUBLJANA, TIME, ["B04"], fetch=fetch, cache=tmp_path)
    with pytest.raises(ResponseError):
        da.compute()
    assert not list(tmp_path.rglob("*.tif"))


def test_damaged_cache_entry_is_fetched_again(fake: FakeFetch, tmp_path: Path) -> None:
    load(LJUBLJANA, TIME, ["B04"], fetch=fake, cache=tmp_path).compute()
    for path in tmp_path.rglob("*.tif"):
        path.write_bytes(b"II*\x00" + b"\x00" * (path.stat().st_size - 4))
    da = load(LJUBLJANA, TIME, ["B04"], fetch=fake, cache=tmp_path)
    check_exact(da, Grid.from_bbox(LJUBLJANA), 1)
    assert len(fake.calls) == 2
    assert stats(da).requests == 1


def test_credentials_checked_at_load_time_without_requests(clean_env: None) -> None:
    with pytest.raises(CredentialsError, match="SH_CLIENT_ID"):
        load(LJUBLJANA, TIME, ["B04"], cache=False)
    with pytest.raises(CredentialsError):
        load(LJUBLJANA, TIME, ["B04"], config=SHConfig(use_defaults=True), cache=False)


def test_load_returns_without_touching_the_network(clean_env: None, tmp_path: Path) -> None:
    """A real config for an unreachable service: load() must still return (lazily)."""
    config = SHConfig(
        use_defaults=True,
        sh_client_id="id",
        sh_client_secret=SECRET,
        sh_base_url="http://127.0.0.1:9",
        sh_token_url="http://127.0.0.1:9/token",
    )
    da = load(LJUBLJANA, TIME, ["B04"], config=config, cache=tmp_path)
    assert da.shape[0] == 1
    assert stats(da).requests == 0
    assert all(SECRET not in str(v) for v in da.attrs.values())
    assert SECRET not in repr(da)


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
    assert da.attrs["synthetic"] == 1  # a loopback base URL: the emulator


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
