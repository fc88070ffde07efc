"""Writing GeoTIFF / COG: exact round trips, COG layout, overviews, tags, atomicity."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import dask.array as dsa
import numpy as np
import pytest
import rasterio
import rasterio.errors
import rasterio.shutil
import tifffile
import xarray as xr
from affine import Affine
from hypothesis import given
from hypothesis import strategies as st

from s2raster.cog import overview_factors, write_geotiff
from s2raster.contract import SYNTHETIC_SOURCE
from s2raster.errors import ExportError, InputError
from s2raster.export import to_geotiff
from s2raster.grid import Grid
from s2raster.tags import export_tags
from s2raster.xr import to_dataarray

GRID = Grid("EPSG:32633", Affine(10.0, 0.0, 399_960.0, 0.0, -10.0, 5_000_040.0), (300, 260))
BANDS = ("B02", "B03", "B04", "B08")
BLOCK = 128  # small blocks: a 300 x 260 raster gets overviews 2 and 4
ATTRS = {
    "collection": "sentinel-2-l2a",
    "mosaicking": "mostRecent",
    "processing_units_estimated": 1.5,
    "synthetic": 0,
    "source": "CDSE",
}


@pytest.fixture
def values() -> np.ndarray:
    rng = np.random.default_rng(7)
    arr = rng.random((len(BANDS), *GRID.shape), dtype=np.float32)
    arr[:, :5, :7] = np.nan
    arr[2, 100:140, 30:33] = np.nan
    return arr


@pytest.fixture(params=["numpy", "dask"])
def da(request: pytest.FixtureRequest, values: np.ndarray) -> xr.DataArray:
    data = values if request.param == "numpy" else dsa.from_array(values, chunks=(4, 128, 100))
    return to_dataarray(data, GRID, BANDS, ATTRS)


def assert_cog_layout(path: Path) -> None:
    """The COG rules: tiled IFDs first (full resolution, then smaller), data after, smallest
    overview's data first; GDAL's ghost header says so; standard GeoTIFF georeferencing."""
    assert b"LAYOUT=IFDS_BEFORE_DATA" in path.read_bytes()[:2000]
    with rasterio.open(path) as src:
        assert src.tags(ns="IMAGE_STRUCTURE")["LAYOUT"] == "COG"
    with tifffile.TiffFile(path) as tif:
        pages = list(tif.pages)
        assert all(p.is_tiled for p in pages)
        widths = [p.imagewidth for p in pages]
        assert widths == sorted(widths, reverse=True)
        offsets = [p.offset for p in pages]
        assert offsets == sorted(offsets)
        starts = [min(o for o in p.dataoffsets if o) for p in pages]
        assert max(offsets) < min(starts)
        assert starts == sorted(starts, reverse=True)
        tags = pages[0].tags
        assert {"ModelPixelScaleTag", "ModelTiepointTag", "GeoKeyDirectoryTag"} <= {
            t.name for t in tags
        }


@pytest.mark.parametrize("cog", [True, False])
def test_round_trip(da: xr.DataArray, values: np.ndarray, tmp_path: Path, cog: bool) -> None:
    path = write_geotiff(da, tmp_path / "out.tif", cog=cog, blocksize=BLOCK)
    assert path == tmp_path / "out.tif"
    with rasterio.open(path) as src:
        np.testing.assert_array_equal(src.read(), values)
        assert src.crs.to_epsg() == 32633
        assert src.transform == GRID.transform
        assert src.descriptions == BANDS
        assert np.isnan(src.nodata)
        assert src.dtypes == ("float32",) * 4
        assert src.profile["tiled"]
        assert src.block_shapes[0] == (BLOCK, BLOCK)
        assert src.overviews(1) == [2, 4]
        assert src.profile["compress"] == "deflate"
        tags = src.tags()
    assert tags["collection"] == "sentinel-2-l2a"
    assert tags["processing_units_estimated"] == "1.5"
    assert tags["TIFFTAG_SOFTWARE"].startswith("s2raster")
    assert "S2RASTER_SYNTHETIC" not in tags
    assert "long_name" not in tags  # a tuple: not a plain value
    if cog:
        assert_cog_layout(path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.tif"]


def test_rioxarray_reads_it_back(da: xr.DataArray, values: np.ndarray, tmp_path: Path) -> None:
    import rioxarray

    path = to_geotiff(da, tmp_path / "out.tif")
    back = rioxarray.open_rasterio(path, mask_and_scale=False)
    np.testing.assert_array_equal(back.values, values)
    assert back.rio.crs.to_epsg() == 32633
    assert back.rio.transform() == GRID.transform
    np.testing.assert_array_equal(back.x.values, da.x.values)
    np.testing.assert_array_equal(back.y.values, da.y.values)
    assert back.attrs["long_name"] == BANDS


def test_writes_rioxarray_georeferenced_array(values: np.ndarray, tmp_path: Path) -> None:
    import rioxarray  # noqa: F401  (registers accessors)

    plain = xr.DataArray(
        values,
        dims=("band", "y", "x"),
        coords={"band": list(BANDS), "y": GRID.ys(), "x": GRID.xs()},
    ).rio.write_crs("EPSG:32633")
    with rasterio.open(to_geotiff(plain, tmp_path / "out.tif")) as src:
        assert src.transform == GRID.transform
        assert src.crs.to_epsg() == 32633


def test_rioxarray_round_trip_keeps_band_names(da: xr.DataArray, tmp_path: Path) -> None:
    """rioxarray reads bands as 1, 2, ... with the names in long_name: they are kept."""
    import rioxarray

    back = rioxarray.open_rasterio(to_geotiff(da, tmp_path / "a.tif"), mask_and_scale=False)
    with rasterio.open(to_geotiff(back, tmp_path / "b.tif")) as src:
        assert src.descriptions == BANDS
        assert src.transform == GRID.transform


def test_overviews_average_ignores_nan(tmp_path: Path) -> None:
    grid = Grid("EPSG:32633", GRID.transform, (32, 32))
    data = np.full((1, 32, 32), 5.0, np.float32)
    data[0, :2, :2] = [[1, 2], [3, np.nan]]
    data[0, 2:4, :2] = np.nan
    da = to_dataarray(data, grid, ["B04"], ATTRS)
    path = write_geotiff(da, tmp_path / "o.tif", blocksize=16)
    with rasterio.open(path) as src:
        assert src.overviews(1) == [2]
        small = src.read(1, out_shape=(16, 16))
    assert small[0, 0] == 2
    assert np.isnan(small[1, 0])
    assert small[0, 1] == 5


def test_refuses_unknown_codec(da: xr.DataArray, tmp_path: Path) -> None:
    with pytest.raises(InputError, match="NO-SUCH-CODEC"):
        to_geotiff(da, tmp_path / "x.tif", compress="no-such-codec")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("blocksize", [0, 100, -16])
def test_refuses_bad_blocksize(da: xr.DataArray, tmp_path: Path, blocksize: int) -> None:
    with pytest.raises(InputError, match="multiple of 16"):
        write_geotiff(da, tmp_path / "o.tif", blocksize=blocksize)


@pytest.mark.parametrize("cog", [True, False])
@pytest.mark.parametrize(
    ("options", "structure"),
    [
        (
            {"compress": "zstd", "level": 3, "predictor": 3},
            {"COMPRESSION": "ZSTD", "PREDICTOR": "3"},
        ),
        ({"compress": "deflate", "level": 1}, {"COMPRESSION": "DEFLATE"}),
        ({"compress": "lzw", "predictor": 2}, {"COMPRESSION": "LZW", "PREDICTOR": "2"}),
        ({"compress": "none"}, {}),
    ],
)
def test_codec_options(
    da: xr.DataArray, values: np.ndarray, tmp_path: Path, cog: bool, options: dict, structure: dict
) -> None:
    path = write_geotiff(da, tmp_path / "o.tif", cog=cog, blocksize=BLOCK, **options)
    with rasterio.open(path) as src:
        assert structure.items() <= src.tags(ns="IMAGE_STRUCTURE").items()
        np.testing.assert_array_equal(src.read(), values)


def test_refuses_bad_predictor(da: xr.DataArray, tmp_path: Path) -> None:
    with pytest.raises(InputError, match="predictor must be 1, 2 or 3"):
        write_geotiff(da, tmp_path / "o.tif", predictor=4)


def test_no_overviews(da: xr.DataArray, tmp_path: Path) -> None:
    path = write_geotiff(da, tmp_path / "o.tif", blocksize=BLOCK, overviews=False)
    with rasterio.open(path) as src:
        assert src.overviews(1) == []


def test_index_2d_single_band(values: np.ndarray, tmp_path: Path) -> None:
    da = to_dataarray(values, GRID, BANDS, ATTRS)
    ndvi = (da.sel(band="B08") - da.sel(band="B04")) / (da.sel(band="B08") + da.sel(band="B04"))
    ndvi = ndvi.rename("NDVI")
    with rasterio.open(to_geotiff(ndvi, tmp_path / "ndvi.tif")) as src:
        assert src.count == 1
        assert src.descriptions == ("NDVI",)
        assert src.transform == GRID.transform
        np.testing.assert_array_equal(src.read(1), ndvi.values)


def test_time_dimension(values: np.ndarray, tmp_path: Path) -> None:
    da = to_dataarray(values, GRID, BANDS, ATTRS)
    one = da.expand_dims(time=[np.datetime64("2024-06-01")])
    with rasterio.open(to_geotiff(one, tmp_path / "t.tif")) as src:
        assert src.count == 4
    two = xr.concat([one, one.assign_coords(time=[np.datetime64("2024-06-06")])], "time")
    with pytest.raises(InputError, match=r"\{time\} in the path.*composite\(da\).*isel\(time=0\)"):
        to_geotiff(two, tmp_path / "t2.tif")


def test_south_up_is_written_north_up(values: np.ndarray, tmp_path: Path) -> None:
    da = to_dataarray(values, GRID, BANDS, ATTRS).isel(y=slice(None, None, -1))
    with rasterio.open(to_geotiff(da, tmp_path / "s.tif")) as src:
        assert src.transform == GRID.transform
        np.testing.assert_array_equal(src.read(), values)


def test_synthetic_mark(values: np.ndarray, tmp_path: Path) -> None:
    attrs = {**ATTRS, "synthetic": 1, "source": SYNTHETIC_SOURCE}
    da = to_dataarray(values, GRID, BANDS, attrs)
    with rasterio.open(to_geotiff(da, tmp_path / "syn.tif")) as src:
        tags = src.tags()
    assert tags["S2RASTER_SYNTHETIC"] == "1"
    assert tags["S2RASTER_SOURCE"] == SYNTHETIC_SOURCE
    assert "synthetic" in tags["TIFFTAG_IMAGEDESCRIPTION"].lower()


@pytest.mark.parametrize("flag", [1, True, np.bool_(True), np.int64(1)])
def test_synthetic_mark_for_any_true_flag(flag: object) -> None:
    tags = export_tags({"synthetic": flag})
    assert tags["S2RASTER_SYNTHETIC"] == "1"
    assert tags["S2RASTER_SOURCE"] == SYNTHETIC_SOURCE


def test_synthetic_mark_cannot_be_overridden() -> None:
    tags = export_tags({"synthetic": 1}, {"S2RASTER_SYNTHETIC": "0"})
    assert tags["S2RASTER_SYNTHETIC"] == "1"


def test_no_credentials_in_file(values: np.ndarray, tmp_path: Path) -> None:
    attrs = {**ATTRS, "client_secret": "hunter2-secret", "sh_token": "tok-123", "api_key": "k-9"}
    da = to_dataarray(values, GRID, BANDS, attrs)
    path = to_geotiff(da, tmp_path / "c.tif", tags={"password": "pw-777"})
    content = path.read_bytes()
    for secret in (b"hunter2-secret", b"tok-123", b"k-9", b"pw-777"):
        assert secret not in content


@given(st.dictionaries(st.text(max_size=12), st.one_of(st.text(), st.integers(), st.floats())))
def test_export_tags_plain_and_safe(attrs: dict) -> None:
    tags = export_tags(attrs)
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in tags.items())
    assert not any("secret" in k.lower() or "token" in k.lower() for k in tags)


def test_processing_units_spent_is_what_the_load_counted(tmp_path: Path) -> None:
    from s2raster._load import LoadStats, load
    from s2raster.testing import FakeFetch

    fetch = FakeFetch(pu=3.5)
    st = LoadStats()
    da = load(
        (13.80, 45.80, 13.81, 45.806),
        "2024-06-01/2024-06-30",
        ["B04"],
        tile_px=16,
        fetch=fetch,
        cache=False,
        stats=st,
    )
    with rasterio.open(to_geotiff(da, tmp_path / "pu.tif", stats=st)) as src:
        tag = float(src.tags()["processing_units_spent"])
    n_tiles = len(da.data.dask)
    assert st.requests == n_tiles > 1
    assert tag == st.processing_units_spent == 3.5 * n_tiles


def test_tags_function_runs_after_the_pixels(values: np.ndarray, tmp_path: Path) -> None:
    computed: list[int] = []

    def count(block: np.ndarray) -> np.ndarray:
        computed.append(1)
        return block

    data = dsa.from_array(values, chunks=(4, 150, 130)).map_blocks(count, dtype=np.float32)
    da = to_dataarray(data, GRID, BANDS, ATTRS)
    computed.clear()
    path = write_geotiff(da, tmp_path / "t.tif", tags=lambda: {"blocks_done": len(computed)})
    with rasterio.open(path) as src:
        assert src.tags()["blocks_done"] == "4"


# --- refusals and atomicity -------------------------------------------------------------------


def test_refuses_array_without_crs(values: np.ndarray, tmp_path: Path) -> None:
    plain = xr.DataArray(
        values,
        dims=("band", "y", "x"),
        coords={"band": list(BANDS), "y": GRID.ys(), "x": GRID.xs()},
    )
    with pytest.raises(InputError, match=r"no CRS.*write_crs"):
        to_geotiff(plain, tmp_path / "x.tif")
    assert list(tmp_path.iterdir()) == []


def test_refuses_array_without_coordinates(values: np.ndarray, tmp_path: Path) -> None:
    da = to_dataarray(values, GRID, BANDS, ATTRS).drop_vars(["x"])
    with pytest.raises(InputError, match="'x' coordinate"):
        to_geotiff(da, tmp_path / "x.tif")


def test_refuses_uneven_coordinates(values: np.ndarray, tmp_path: Path) -> None:
    da = to_dataarray(values, GRID, BANDS, ATTRS)
    x = da.x.values.copy()
    x[10] += 3.0
    with pytest.raises(InputError, match="evenly spaced"):
        to_geotiff(da.assign_coords(x=x), tmp_path / "x.tif")


def test_refuses_wrong_band_names(da: xr.DataArray, tmp_path: Path) -> None:
    with pytest.raises(InputError, match="3 band names for 4 bands"):
        to_geotiff(da, tmp_path / "x.tif", band_names=["a", "b", "c"])


def test_missing_folder(da: xr.DataArray, tmp_path: Path) -> None:
    with pytest.raises(ExportError, match="does not exist"):
        to_geotiff(da, tmp_path / "nope" / "x.tif")


def test_not_enough_space(
    monkeypatch: pytest.MonkeyPatch, da: xr.DataArray, tmp_path: Path
) -> None:
    usage = shutil.disk_usage(tmp_path)
    monkeypatch.setattr(shutil, "disk_usage", lambda p: usage._replace(free=1000))
    with pytest.raises(ExportError, match="temporary space"):
        to_geotiff(da, tmp_path / "x.tif")
    assert list(tmp_path.iterdir()) == []


def test_failing_chunk_leaves_nothing(values: np.ndarray, tmp_path: Path) -> None:
    def boom(block: np.ndarray, block_info: dict | None = None) -> np.ndarray:
        if block_info and block_info[0]["chunk-location"] == (0, 1, 1):
            raise RuntimeError("fetch failed")
        return block

    data = dsa.from_array(values, chunks=(4, 128, 128)).map_blocks(boom, dtype=np.float32)
    da = to_dataarray(data, GRID, BANDS, ATTRS)
    with pytest.raises(RuntimeError, match="fetch failed"):
        to_geotiff(da, tmp_path / "x.tif")
    assert list(tmp_path.iterdir()) == []


RACE = """
import sys, tempfile
from pathlib import Path
import dask, dask.array as dsa, numpy as np
from affine import Affine
from s2raster import to_geotiff
from s2raster.grid import Grid
from s2raster.xr import to_dataarray

grid = Grid("EPSG:32633", Affine(10, 0, 500000, 0, -10, 5000000), (1024, 1024))
values = np.random.default_rng(0).random((4, 1024, 1024), dtype=np.float32)

def boom(block, block_info=None):
    if block_info and block_info[0]["chunk-location"] == (0, 3, 3):
        raise RuntimeError("fetch failed")
    return block

for _ in range(int(sys.argv[1])):
    data = dsa.from_array(values, chunks=(4, 128, 128)).map_blocks(boom, dtype=np.float32)
    da = to_dataarray(data, grid, ["B02", "B03", "B04", "B08"], {})
    with tempfile.TemporaryDirectory(dir=sys.argv[2]) as tmp, dask.config.set(num_workers=4):
        try:
            to_geotiff(da, Path(tmp) / "x.tif")
        except RuntimeError:
            pass
        assert list(Path(tmp).iterdir()) == []
"""


def test_failing_chunk_never_writes_to_a_closed_dataset(tmp_path: Path) -> None:
    """A chunk that fails while others are being stored must not crash GDAL (it did:
    dask raised in the main thread, which closed the dataset under a running write)."""
    proc = subprocess.run(
        [sys.executable, "-c", RACE, "10", str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]


def test_failure_keeps_previous_file(
    monkeypatch: pytest.MonkeyPatch, da: xr.DataArray, tmp_path: Path
) -> None:
    def disk_full(*args: object, **kwargs: object) -> None:
        raise rasterio.errors.RasterioIOError("No space left on device")

    monkeypatch.setattr(rasterio.shutil, "copy", disk_full)
    path = tmp_path / "x.tif"
    path.write_bytes(b"previous")
    with pytest.raises(ExportError, match="No space left"):
        to_geotiff(da, path)
    assert path.read_bytes() == b"previous"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.tif"]


@pytest.mark.parametrize(
    ("size", "block", "factors"),
    [((10980, 10980), 512, [2, 4, 8, 16, 32]), ((512, 100), 512, []), ((513, 1), 512, [2])],
)
def test_overview_factors(size: tuple[int, int], block: int, factors: list[int]) -> None:
    assert overview_factors(*size, block) == factors
