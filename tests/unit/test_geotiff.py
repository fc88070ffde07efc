"""Reading Process API responses: real golden files, tiny fixtures, every kind of mismatch."""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path

import numpy as np
import pytest
import tifffile
from affine import Affine
from hypothesis import given, settings
from hypothesis import strategies as st

from s2raster.errors import ResponseError
from s2raster.geotiff import RasterData, read_raster, read_tile
from s2raster.grid import Grid
from s2raster.testing import geotiff_bytes

GRID = Grid("EPSG:32633", Affine(10.0, 0.0, 500_000.0, 0.0, -10.0, 5_000_000.0), (6, 8))
BANDS = ("B04", "B08")
SYNTHETIC_TAGS = {"S2RASTER_SYNTHETIC": "1", "S2RASTER_SOURCE": "s2raster emulator (synthetic)"}


def make_tiff(
    array: np.ndarray,
    *,
    crs: str = GRID.crs,
    transform: Affine = GRID.transform,
    tags: dict[str, str] | None = None,
    interleave: str = "pixel",
) -> bytes:
    """A Deflate GeoTIFF of ``array`` (band, y, x) in memory."""
    return geotiff_bytes(
        array, crs=crs, transform=transform, tags=tags, compress="deflate", interleave=interleave
    )


def make_tar(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        for name, content in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(content)
            tar.addfile(info, io.BytesIO(content))
    return buf.getvalue()


@pytest.fixture
def tile_array() -> np.ndarray:
    """Two reflectance bands + dataMask (0 in the first column and at one pixel)."""
    rng = np.random.default_rng(42)
    arr = rng.random((3, *GRID.shape), dtype=np.float32)
    mask = np.ones(GRID.shape, dtype=np.float32)
    mask[:, 0] = 0
    mask[3, 4] = 0
    arr[:2][:, mask == 0] = 0  # as the service writes no-data pixels
    arr[2] = mask
    return arr


# --- golden: real Process API responses ------------------------------------------------------


def test_golden_float32_5band(golden: Path) -> None:
    path = golden / "sh-float32-5band-2019.tiff"
    raster = read_raster(path.read_bytes())
    expected = np.moveaxis(tifffile.imread(path), -1, 0)  # pixel-interleaved (y, x, band)
    assert isinstance(raster, RasterData)
    assert raster.array.shape == (5, 17, 11)
    assert raster.array.dtype == np.float32
    assert raster.crs == "EPSG:4326"
    assert raster.transform.c == pytest.approx(14.5615)
    assert raster.transform.f == pytest.approx(45.8813)
    assert raster.transform.a == pytest.approx(0.0008)
    assert raster.transform.e == pytest.approx(-0.0005529411764709715)
    assert raster.nodata is None
    assert raster.userdata is None
    np.testing.assert_array_equal(raster.array, expected)


@pytest.mark.parametrize(
    ("name", "n_bands"), [("sh-float32-5band-2019.tiff", 5), ("sh-float32-2band-2022.tiff", 2)]
)
def test_golden_read_tile(golden: Path, name: str, n_bands: int) -> None:
    """The real files read as tiles: last band taken as dataMask (non-zero there: no NaN)."""
    path = golden / name
    raster = read_raster(path.read_bytes())
    grid = Grid("EPSG:4326", raster.transform, raster.array.shape[1:])
    tile = read_tile(path.read_bytes(), grid, [f"b{i}" for i in range(n_bands - 1)])
    expected = np.moveaxis(tifffile.imread(path), -1, 0)[:-1]
    assert tile.data.dtype == np.float32
    assert not tile.synthetic
    np.testing.assert_array_equal(tile.data, expected)


def test_golden_multipart_tar(golden: Path) -> None:
    content = (golden / "sh-multipart-uint16-2019.tar").read_bytes()
    raster = read_raster(content)
    with tarfile.open(fileobj=io.BytesIO(content)) as tar:
        member = tar.extractfile("default.tif")
        assert member is not None
        expected = np.moveaxis(tifffile.imread(io.BytesIO(member.read())), -1, 0)
    assert raster.array.shape == (3, 856, 512)
    assert raster.array.dtype == np.uint16
    assert raster.crs == "EPSG:4326"
    assert raster.userdata == {"norm_factor": 1.0e-4}
    minx, maxy = raster.transform.c, raster.transform.f
    maxx = minx + raster.transform.a * 512
    miny = maxy + raster.transform.e * 856
    assert (minx, miny, maxx, maxy) == pytest.approx((46.16, -16.15, 46.51, -15.58), abs=0.01)
    np.testing.assert_array_equal(raster.array, expected)


# --- read_tile on tiny fixtures ----------------------------------------------------------------


@pytest.mark.parametrize("interleave", ["pixel", "band"])
def test_read_tile_masks_nodata(tile_array: np.ndarray, interleave: str) -> None:
    tile = read_tile(make_tiff(tile_array, interleave=interleave), GRID, BANDS)
    valid = tile_array[2] == 1
    assert tile.data.shape == (2, *GRID.shape)
    assert tile.data.dtype == np.float32
    assert np.isnan(tile.data[:, ~valid]).all()
    np.testing.assert_array_equal(tile.data[:, valid], tile_array[:2][:, valid])
    assert not tile.synthetic
    assert tile.userdata is None


@pytest.mark.parametrize("as_tar", [False, True])
def test_read_tile_from_a_file(tile_array: np.ndarray, tmp_path: Path, as_tar: bool) -> None:
    content = make_tiff(tile_array)
    path = tmp_path / "cached.tif"
    path.write_bytes(make_tar({"default.tif": content}) if as_tar else content)
    from_file = read_tile(path, GRID, BANDS)
    from_bytes = read_tile(content, GRID, BANDS)
    np.testing.assert_array_equal(from_file.data, from_bytes.data)
    assert from_file.tags == from_bytes.tags


def test_read_tile_strips_match_whole_read(
    tile_array: np.ndarray, monkeypatch: pytest.MonkeyPatch
) -> None:
    import s2raster.geotiff as geotiff

    whole = read_tile(make_tiff(tile_array), GRID, BANDS).data
    monkeypatch.setattr(geotiff, "_STRIP_BYTES", 4 * 3 * GRID.width * 3)  # 3 rows a strip
    np.testing.assert_array_equal(read_tile(make_tiff(tile_array), GRID, BANDS).data, whole)


def test_read_tile_synthetic_mark(tile_array: np.ndarray) -> None:
    tile = read_tile(make_tiff(tile_array, tags=SYNTHETIC_TAGS), GRID, BANDS)
    assert tile.synthetic
    assert tile.tags["S2RASTER_SOURCE"] == SYNTHETIC_TAGS["S2RASTER_SOURCE"]


def test_read_tile_integer_response_is_converted(tile_array: np.ndarray) -> None:
    ints = (tile_array * 100).astype(np.uint16)
    tile = read_tile(make_tiff(ints), GRID, BANDS)
    assert tile.data.dtype == np.float32
    assert np.isnan(tile.data[:, ints[2] == 0]).all()


@pytest.mark.parametrize(
    "names", [("default.tif", "other.tif", "userdata.json"), ("bands.tif", "userdata.json")]
)
def test_read_tile_tar(tile_array: np.ndarray, names: tuple[str, ...]) -> None:
    tiff = make_tiff(tile_array, tags=SYNTHETIC_TAGS)
    files = {n: (b"{}" if n.endswith("json") else tiff) for n in names}
    files["userdata.json"] = json.dumps({"scenes": [1, 2]}).encode()
    if "other.tif" in files:
        files["other.tif"] = make_tiff(tile_array[:1])
    tile = read_tile(make_tar(files), GRID, BANDS)
    assert tile.userdata == {"scenes": [1, 2]}
    assert tile.synthetic
    assert np.isnan(tile.data[:, 0, 0]).all()


def test_read_tile_tar_ambiguous(tile_array: np.ndarray) -> None:
    tiff = make_tiff(tile_array)
    with pytest.raises(ResponseError, match=r"2 TIFFs.*default"):
        read_tile(make_tar({"a.tif": tiff, "b.tif": tiff}), GRID, BANDS)


def test_read_tile_transform_within_tolerance(tile_array: np.ndarray) -> None:
    shifted = GRID.transform @ Affine.translation(1e-8, -1e-8)
    tile = read_tile(make_tiff(tile_array, transform=shifted), GRID, BANDS)
    assert tile.data.shape == (2, *GRID.shape)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"crs": "EPSG:32634"}, r"CRS EPSG:32634 instead of EPSG:32633"),
        ({"transform": GRID.transform @ Affine.translation(0.5, 0)}, r"transform"),
        ({"transform": Affine(20.0, 0, 500_000.0, 0, -20.0, 5_000_000.0)}, r"transform"),
        ({"shape": (3, 5, 8)}, r"shape .* \(3, 5, 8\) instead of \(3, 6, 8\)"),
        ({"shape": (2, 6, 8)}, r"shape .* \(2, 6, 8\) instead of \(3, 6, 8\)"),
    ],
)
def test_read_tile_mismatch(tile_array: np.ndarray, change: dict, message: str) -> None:
    shape = change.pop("shape", tile_array.shape)
    array = np.ones(shape, dtype=np.float32)
    with pytest.raises(ResponseError, match=message):
        read_tile(make_tiff(array, **change), GRID, BANDS)


def test_read_tile_names_every_mismatch() -> None:
    content = make_tiff(np.ones((2, 6, 8), np.float32), crs="EPSG:4326")
    with pytest.raises(ResponseError, match=r"CRS.*; shape"):
        read_tile(content, GRID, BANDS)


@pytest.mark.parametrize("fraction", [0.0, 0.05, 0.5, 0.99])
def test_read_tile_truncated(tile_array: np.ndarray, fraction: float) -> None:
    content = make_tiff(tile_array)
    with pytest.raises(ResponseError):
        read_tile(content[: int(len(content) * fraction)], GRID, BANDS)


def test_read_tile_json_error_body() -> None:
    body = b'{"error": {"status": 500, "reason": "Internal Server Error"}}'
    with pytest.raises(ResponseError, match="neither a TIFF nor a tar"):
        read_tile(body, GRID, BANDS)


@settings(max_examples=60, deadline=None)
@given(
    prefix=st.sampled_from([b"", b"II*\x00", b"MM\x00*"]),
    body=st.binary(max_size=600),
)
def test_read_tile_garbage_is_response_error(prefix: bytes, body: bytes) -> None:
    with pytest.raises(ResponseError):
        read_tile(prefix + body, GRID, BANDS)


def test_read_raster_garbage() -> None:
    with pytest.raises(ResponseError):
        read_raster(b"II*\x00" + b"\x00" * 64)
