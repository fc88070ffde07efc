"""load end to end over real HTTP: sentinelhub-py -> the local emulator -> DataArray.

Nothing is faked here: OAuth, the Process API, GeoTIFF decoding and the cache all run for
real against ``s2raster.emulator.Emulator`` on loopback (fixture ``emulator``).
"""

from __future__ import annotations

import logging
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np
import odc.geo.xr  # noqa: F401  (registers accessors)
import pytest
import rioxarray
from sentinelhub.config import SHConfig

from s2raster._load import LoadStats, load
from s2raster.bands import BANDS
from s2raster.cdse._body import LARGE
from s2raster.contract import SYNTHETIC_SOURCE
from s2raster.errors import CredentialsError
from s2raster.grid import Grid

TIME = "2024-06-01/2024-06-30"
BBOX = (13.80, 45.80, 13.806, 45.804)  # about 47 x 45 px at 10 m (UTM 33N)
PROCESS = "/api/v1/process"


@pytest.fixture
def config(emulator: object) -> SHConfig:
    """The emulator's own config, with short retry sleeps for the fault tests."""
    cfg = emulator.config()  # type: ignore[attr-defined]
    cfg.download_sleep_time = 0.01
    return cfg


def process_requests(emulator: object, since: int) -> list[object]:
    log = emulator.log.snapshot()  # type: ignore[attr-defined]
    return [r for r in log[since:] if r.path.startswith(PROCESS) and r.status == 200]


def log_size(emulator: object) -> int:
    return len(emulator.log.snapshot())  # type: ignore[attr-defined]


def test_load_end_to_end(emulator: object, config: SHConfig, tmp_path: Path) -> None:
    before = log_size(emulator)
    bands = ["B02", "B03", "B04", "B08", "SCL"]
    st = LoadStats()
    da = load(BBOX, TIME, bands, config=config, cache=tmp_path, tile_px=32, stats=st)
    grid = Grid.from_bbox(BBOX, resolution=10)
    assert da.shape == (5, *grid.shape)
    assert da.rio.transform() == grid.transform
    assert da.attrs["synthetic"] == 1
    assert da.attrs["source"] == SYNTHETIC_SOURCE
    assert process_requests(emulator, before) == []  # lazy: one catalog search, no tile yet
    values = da.values
    assert values.dtype == np.float32
    reflectance, scl = values[:4], values[4]
    assert np.isfinite(reflectance).any()
    assert np.nanmin(reflectance) >= 0
    assert np.nanmax(reflectance) < 2
    valid = scl[np.isfinite(scl)]
    assert np.array_equal(valid, np.round(valid))
    assert valid.min() >= 0
    assert valid.max() <= 11
    served = process_requests(emulator, before)
    s = st
    assert s.requests == len(served) == len(grid.tiles(32)) == 4
    assert s.processing_units_spent == pytest.approx(sum(r.pu for r in served))
    assert s.synthetic is True
    assert s.bytes > 0


def test_tiled_equals_untiled(config: SHConfig) -> None:
    bands = ["B04", "B8A", "SCL"]
    whole = load(BBOX, TIME, bands, config=config, cache=False).values
    tiled = load(BBOX, TIME, bands, config=config, cache=False, tile_px=20).values
    assert np.isfinite(whole).any()
    np.testing.assert_array_equal(tiled, whole)


def test_second_load_comes_from_cache(emulator: object, config: SHConfig, tmp_path: Path) -> None:
    st1, s = LoadStats(), LoadStats()
    first = load(BBOX, TIME, ["B04"], config=config, cache=tmp_path, tile_px=24, stats=st1)
    values = first.values
    n = st1.requests
    before = log_size(emulator)
    second = load(BBOX, TIME, ["B04"], config=config, cache=tmp_path, tile_px=24, stats=s)
    np.testing.assert_array_equal(second.values, values)
    assert process_requests(emulator, before) == []  # the catalog search only
    assert (s.requests, s.cache_hits, s.processing_units_spent) == (0, n, 0.0)


def test_a_large_body_read_in_place_decodes_the_same_with_or_without_cache(
    config: SHConfig, tmp_path: Path
) -> None:
    # one 4-band tile of 700 x 700 px: a body of several MB, read into one bytearray
    bbox = (13.80, 45.80, 13.89, 45.864)
    bands = ["B02", "B03", "B04", "B08"]
    st = LoadStats()
    plain = load(bbox, TIME, bands, config=config, cache=False, stats=st).values
    assert st.requests == 1
    assert plain.shape[1] * plain.shape[2] > 600 * 600
    cached = load(bbox, TIME, bands, config=config, cache=tmp_path).values
    np.testing.assert_array_equal(plain, cached)
    assert np.isfinite(plain).mean() > 0.99
    assert max(f.stat().st_size for f in tmp_path.rglob("*.tif")) > LARGE  # the body


@pytest.mark.parametrize(
    ("bbox", "crs", "epsg"),
    [
        ((13.80, 45.80, 13.804, 45.803), "EPSG:4326", 4326),
        ((-47.90, -15.80, -47.896, -15.797), None, 32723),
        ((170.0, 65.0, 170.004, 65.002), "EPSG:3857", 3857),
    ],
)
def test_georeferencing_through_the_service(
    config: SHConfig, bbox: tuple[float, ...], crs: str | None, epsg: int
) -> None:
    da = load(bbox, TIME, ["B04"], crs=crs, config=config, cache=False, tile_px=16)
    grid = Grid.from_bbox(bbox, crs=crs, resolution=10)
    assert da.rio.crs.to_epsg() == epsg
    assert da.rio.transform() == grid.transform
    assert da.odc.geobox.shape == grid.shape
    assert np.isfinite(da.values).any()  # every tile passed read_tile's georeference check


@pytest.mark.parametrize("collection", ["sentinel-2-l2a", "sentinel-2-l1c"])
def test_every_band_of_a_collection(config: SHConfig, collection: str) -> None:
    bands = [b for b in BANDS[collection] if b != "dataMask"]
    da = load(BBOX, TIME, bands, collection=collection, resolution=60, config=config, cache=False)
    values = da.values
    assert values.shape[0] == len(bands)
    assert np.isfinite(values).any(axis=(1, 2)).all()


def test_options_are_accepted(config: SHConfig) -> None:
    da = load(
        BBOX,
        TIME,
        ["B04", "B11"],
        mosaicking="leastCC",
        max_cloud=40,
        upsampling="BILINEAR",
        downsampling="BICUBIC",
        config=config,
        cache=False,
    )
    assert da.attrs["max_cloud"] == 40.0
    assert da.attrs["mosaicking"] == "leastCC"
    assert da.values.shape[0] == 2


def test_one_token_per_load(emulator: object, config: SHConfig) -> None:
    token_path = urlsplit(emulator.token_url).path  # type: ignore[attr-defined]
    before = log_size(emulator)
    load(BBOX, TIME, ["B04"], config=config, cache=False, tile_px=12, concurrency=4).compute()
    log = emulator.log.snapshot()[before:]  # type: ignore[attr-defined]
    assert sum(r.path == token_path for r in log) == 1
    assert sum(r.path.startswith(PROCESS) for r in log) == len(Grid.from_bbox(BBOX).tiles(12))


@pytest.mark.filterwarnings("ignore::sentinelhub.exceptions.SHRateLimitWarning")
def test_faults_are_retried(emulator: object, config: SHConfig) -> None:
    clean = load(BBOX, TIME, ["B04"], config=config, cache=False, tile_px=24).values
    faults = emulator.faults  # type: ignore[attr-defined]
    config.max_download_attempts = 8
    before = log_size(emulator)
    with faults.injected(error_rate=0.3, error_statuses=(500, 503, 429), drop_rate=0.1, seed=7):
        values = load(BBOX, TIME, ["B04"], config=config, cache=False, tile_px=24).values
    faulted = {r.fault for r in emulator.log.snapshot()[before:] if r.fault}  # type: ignore[attr-defined]
    assert faulted  # the faults did happen, and were retried
    np.testing.assert_array_equal(values, clean)


def test_wrong_secret_is_a_credentials_error_without_the_secret(
    emulator: object, caplog: pytest.LogCaptureFixture
) -> None:
    config = emulator.config()  # type: ignore[attr-defined]
    real = config.sh_client_secret
    config.sh_client_secret = "not-" + real
    caplog.set_level(logging.DEBUG)
    with pytest.raises(CredentialsError, match="refused the credentials") as info:
        load(BBOX, TIME, ["B04"], config=config, cache=False)  # at the catalog search
    for text in (str(info.value), caplog.text, repr(info.traceback)):
        assert real not in text


def test_no_secret_in_attrs_cache_or_files(
    emulator: object, config: SHConfig, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    secret = config.sh_client_secret
    caplog.set_level(logging.DEBUG)
    da = load(BBOX, TIME, ["B04", "B08"], config=config, cache=tmp_path / "cache")
    da.compute()
    out = tmp_path / "out.tif"
    da.rio.to_raster(out)
    assert secret not in caplog.text
    assert secret not in repr(da)
    assert secret not in str(da.attrs)
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert len(files) >= 3
    for path in files:
        assert secret.encode() not in path.read_bytes(), path


def test_round_trip_through_rioxarray_and_odc(config: SHConfig, tmp_path: Path) -> None:
    da = load(BBOX, TIME, ["B04", "B08"], config=config, cache=False, tile_px=30)
    path = tmp_path / "x.tif"
    da.rio.to_raster(path)
    back = rioxarray.open_rasterio(path)
    assert back.rio.crs == da.rio.crs
    assert back.rio.transform() == da.rio.transform()
    assert back.odc.geobox == da.odc.geobox
    np.testing.assert_array_equal(back.values, da.values)
    assert back.attrs["long_name"] == ("B04", "B08")
