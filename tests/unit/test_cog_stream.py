"""The streamed COG path (tiles compressed as they arrive, laid out at the end) against
GDAL's own COG driver on the same raster: valid COG, same pixels, same metadata, overviews."""

from __future__ import annotations

import subprocess
import sys
import warnings
from pathlib import Path

import dask.array as dsa
import numpy as np
import pytest
import rasterio
import rasterio.shutil
import xarray as xr
from affine import Affine
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rio_cogeo.cogeo import cog_validate

from s2raster import _tiff
from s2raster._coglevels import halve
from s2raster.cog import write_geotiff
from s2raster.grid import Grid
from s2raster.xr import to_dataarray

ATTRS = {"collection": "sentinel-2-l2a", "synthetic": 0, "source": "CDSE"}


def _array(
    height: int,
    width: int,
    bands: int,
    dtype: str,
    chunks: tuple[int, ...] | None,
    names: tuple[str, ...] | None = None,
) -> xr.DataArray:
    grid = Grid(
        "EPSG:32633", Affine(10.0, 0.0, 399_960.0, 0.0, -10.0, 5_000_040.0), (height, width)
    )
    rng = np.random.default_rng(height * width)
    if dtype == "float32":
        values = np.round(rng.random((bands, height, width), dtype=np.float32) * 1e4) / np.float32(
            1e4
        )
        values[:, :9, :13] = np.nan
        values[-1, height // 2 :, width // 3 : width // 3 + 5] = np.nan
    else:
        values = rng.integers(0, 255, (bands, height, width)).astype(dtype)
    data = values if chunks is None else dsa.from_array(values, chunks=chunks)
    return to_dataarray(data, grid, list(names or [f"b{i}" for i in range(bands)]), ATTRS)


def _gdal_path(da: xr.DataArray, path: Path, **options: object) -> Path:
    """The same call through GDAL's path (intermediate file, overviews, COG driver)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr("s2raster.cog.stream_codec", lambda compression, dtype: None)
        return write_geotiff(da, path, **options)  # type: ignore[arg-type]


CASES = {
    "dask, even chunks": (300, 260, 4, "float32", (4, 128, 100)),
    "dask, odd chunks": (301, 259, 3, "float32", (3, 77, 51)),
    "dask, a band per chunk": (300, 260, 4, "float32", (1, 150, 130)),
    "numpy": (300, 260, 2, "float32", None),
    "one band, one tile": (100, 90, 1, "float32", (1, 64, 64)),
    "uint8": (257, 300, 3, "uint8", (3, 100, 100)),
    "Sentinel-2 bands (no predictor)": (
        300,
        260,
        4,
        "float32",
        (4, 128, 100),
        ("B02", "B03", "B04", "B08"),
    ),
}


@pytest.mark.parametrize("case", list(CASES), ids=list(CASES))
def test_streamed_cog_equals_gdals(case: str, tmp_path: Path) -> None:
    da = _array(*CASES[case])
    streamed = write_geotiff(da, tmp_path / "streamed.tif", blocksize=128)
    gdal = _gdal_path(da, tmp_path / "gdal.tif", blocksize=128)
    valid, errors, notes = cog_validate(streamed, quiet=True)
    assert valid, errors
    assert notes == []
    with rasterio.open(streamed) as a, rasterio.open(gdal) as b:
        assert a.tags(ns="IMAGE_STRUCTURE")["LAYOUT"] == "COG"
        assert a.profile["interleave"] == "band"
        assert np.array_equal(a.read(), b.read(), equal_nan=True)
        assert a.overviews(1) == b.overviews(1)
        assert a.tags() == b.tags()
        assert a.compression == b.compression
        assert a.tags(ns="IMAGE_STRUCTURE").get("PREDICTOR") == b.tags(ns="IMAGE_STRUCTURE").get(
            "PREDICTOR"
        )
        assert a.colorinterp == b.colorinterp
        assert (a.scales, a.offsets, a.units) == (b.scales, b.offsets, b.units)
        for i in range(1, a.count + 1):
            mine, gdals = a.tags(i), b.tags(i)
            assert mine.keys() == gdals.keys()
            for key, value in gdals.items():
                if key.startswith("STATISTICS_"):  # exact (ours) vs GDAL's; same figures
                    assert float(mine[key]) == pytest.approx(float(value), rel=1e-9, abs=1e-12)
                else:
                    assert mine[key] == value
        assert a.descriptions == b.descriptions
        assert (a.crs, a.transform, a.dtypes, a.block_shapes) == (
            b.crs,
            b.transform,
            b.dtypes,
            b.block_shapes,
        )
        assert str(a.nodata) == str(b.nodata)
        levels = len(a.overviews(1))
    reference = da.values.astype(np.float64)
    for level in range(levels):
        reference = _halve_reference(reference)
        with rasterio.open(streamed, OVERVIEW_LEVEL=level) as a:
            x = a.read().astype(np.float64)
        with rasterio.open(gdal, OVERVIEW_LEVEL=level) as b:
            y = b.read().astype(np.float64)
        assert x.shape == y.shape == reference.shape
        # successive 2 x 2 averages, no data left out
        np.testing.assert_allclose(x, reference, rtol=1e-6, atol=1e-6)
        exact = da.shape[1] % 2 ** (level + 1) == 0 and da.shape[2] % 2 ** (level + 1) == 0
        if exact:  # GDAL's own average; for odd sizes GDAL weights fractional footprints
            np.testing.assert_allclose(x, y, rtol=1e-6, atol=1e-6)


def _halve_reference(x: np.ndarray) -> np.ndarray:
    bands, h, w = x.shape
    padded = np.full((bands, h + h % 2, w + w % 2), np.nan)
    padded[:, :h, :w] = x
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN blocks
        blocks = padded.reshape(bands, (h + 1) // 2, 2, (w + 1) // 2, 2)
        mean: np.ndarray = np.nanmean(blocks, axis=(2, 4))
    return mean


def test_no_overviews_and_no_compression(tmp_path: Path) -> None:
    da = _array(200, 150, 2, "float32", (2, 100, 100))
    path = write_geotiff(da, tmp_path / "o.tif", blocksize=128, overviews=False, compress="NONE")
    assert cog_validate(path, quiet=True)[0]
    with rasterio.open(path) as src:
        assert src.overviews(1) == []
        assert src.compression is None
        assert np.array_equal(src.read(), da.values, equal_nan=True)


def test_a_bigtiff_layout_reads_back(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The layout above 4 GiB (8-byte offsets), forced on a small raster."""
    original = _tiff.assemble

    def big(*args: object, **kwargs: object) -> None:
        original(*args, bigtiff=True)  # type: ignore[arg-type]

    monkeypatch.setattr("s2raster._cogstream.assemble", big)
    da = _array(300, 260, 4, "float32", (4, 128, 100))
    path = write_geotiff(da, tmp_path / "big.tif", blocksize=128)
    assert path.read_bytes()[2:4] == b"+\x00"  # BigTIFF magic 43
    assert cog_validate(path, quiet=True)[0]
    with rasterio.open(path) as src:
        assert np.array_equal(src.read(), da.values, equal_nan=True)


def test_the_default_streams_and_leaves_no_temporary_files(tmp_path: Path) -> None:
    da = _array(300, 260, 4, "float32", (4, 128, 100))
    write_geotiff(da, tmp_path / "x.tif", blocksize=128)
    assert [p.name for p in tmp_path.iterdir()] == ["x.tif"]


def test_a_threaded_write_does_not_import_distributed(tmp_path: Path) -> None:
    # dask imports distributed (+33 MB) to look for a client when given a scheduler's name
    script = (
        "import sys, dask.array as dsa, numpy as np\n"
        "from affine import Affine\n"
        "from s2raster.cog import write_geotiff\n"
        "from s2raster.grid import Grid\n"
        "from s2raster.xr import to_dataarray\n"
        "grid = Grid('EPSG:32633', Affine(10.0, 0, 399960.0, 0, -10.0, 5000040.0), (64, 64))\n"
        "data = dsa.ones((1, 64, 64), chunks=(1, 32, 32), dtype='float32')\n"
        "write_geotiff(to_dataarray(data, grid, ['b'], {}), sys.argv[1], blocksize=32)\n"
        "print('distributed' in sys.modules)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path / "x.tif")],
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.strip() == "False"


def test_a_failed_block_leaves_nothing(tmp_path: Path) -> None:
    def boom(block: np.ndarray) -> np.ndarray:
        if block.shape[1] < 128:  # the last row of chunks
            raise RuntimeError("fetch failed")
        return block

    da = _array(300, 260, 4, "float32", (4, 128, 100))
    da = da.copy(data=da.data.map_blocks(boom, dtype=np.float32))
    with pytest.raises(RuntimeError, match="fetch failed"):
        write_geotiff(da, tmp_path / "x.tif", blocksize=128)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("shape", [(1, 4, 4), (2, 5, 3), (1, 1, 1)])
def test_halve_averages_what_has_data(shape: tuple[int, int, int]) -> None:
    rng = np.random.default_rng(1)
    x = rng.random(shape).astype(np.float32)
    x.flat[0] = np.nan
    out = halve(x)
    assert out.shape == (shape[0], (shape[1] + 1) // 2, (shape[2] + 1) // 2)
    for b in range(shape[0]):
        for i in range(out.shape[1]):
            for j in range(out.shape[2]):
                block = x[b, 2 * i : 2 * i + 2, 2 * j : 2 * j + 2]
                if np.isnan(block).all():
                    assert np.isnan(out[b, i, j])
                else:
                    assert out[b, i, j] == pytest.approx(float(np.nanmean(block)), rel=1e-6)


@pytest.mark.parametrize(("dtype", "predictor"), [("uint16", 2), ("float32", 3), ("int16", 2)])
def test_predictors_read_back_exactly(tmp_path: Path, dtype: str, predictor: int) -> None:
    da = _array(300, 260, 2, "float32", (2, 128, 100))
    if dtype != "float32":
        da = (
            da.fillna(0).astype(dtype)
            if dtype == "uint16"
            else (da.fillna(0) * 100 - 50).astype(dtype)
        )
    path = write_geotiff(da, tmp_path / "p.tif", blocksize=128, predictor=predictor)
    assert cog_validate(path, quiet=True)[0]
    with rasterio.open(path) as src:
        assert src.profile["interleave"] == "band"  # streamed
        assert src.tags(ns="IMAGE_STRUCTURE")["PREDICTOR"] == str(predictor)
        assert np.array_equal(src.read(), da.values, equal_nan=True)


@pytest.mark.parametrize(
    ("rows", "step", "pieces"),
    [
        ((2500, 5000), 1024, [(2500, 3072), (3072, 4096), (4096, 5000)]),
        ((0, 512), 512, [(0, 512)]),
        ((0, 513), 512, [(0, 512), (512, 513)]),
        ((10, 11), 4, [(10, 11)]),
    ],
)
def test_cluster_blocks_are_cut_at_multiples_of_the_strip(
    rows: tuple[int, int], step: int, pieces: list[tuple[int, int]]
) -> None:
    from s2raster._feed import _pieces

    assert [(p.start, p.stop) for p in _pieces(slice(*rows), step)] == pieces


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    height=st.integers(1, 90),
    width=st.integers(1, 90),
    bands=st.integers(1, 3),
    rows=st.integers(1, 40),
    cols=st.integers(1, 40),
    band_chunk=st.integers(1, 3),
)
def test_any_chunking_gives_the_same_file_as_whole_strips(
    tmp_path_factory: pytest.TempPathFactory,
    height: int,
    width: int,
    bands: int,
    rows: int,
    cols: int,
    band_chunk: int,
) -> None:
    """Blocks of any shape, straddling tiles and levels anyhow: every level's pixels equal
    those written from the whole numpy array (strips of whole tiles)."""
    tmp = tmp_path_factory.mktemp("chunks")
    whole = _array(height, width, bands, "float32", None)
    chunked = whole.copy(data=dsa.from_array(whole.values, chunks=(band_chunk, rows, cols)))
    a = write_geotiff(chunked, tmp / "chunked.tif", blocksize=16)
    b = write_geotiff(whole, tmp / "whole.tif", blocksize=16)
    with rasterio.open(a) as x, rasterio.open(b) as y:
        levels = len(x.overviews(1))
        assert levels == len(y.overviews(1))
        assert np.array_equal(x.read(), y.read(), equal_nan=True)
    for level in range(levels):
        with (
            rasterio.open(a, OVERVIEW_LEVEL=level) as x,
            rasterio.open(b, OVERVIEW_LEVEL=level) as y,
        ):
            assert np.array_equal(x.read(), y.read(), equal_nan=True)
