"""truecolor(): the classic B04/B03/B02 x 2.5 image, its grid, and PNG/GeoTIFF writing."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pytest

from s2raster.errors import InputError
from s2raster.grid import Grid
from s2raster.truecolor import to_uint8, truecolor_plan, write_image

if TYPE_CHECKING:
    pass

BBOX = (14.45, 46.02, 14.50, 46.05)
TIME = "2024-06-01/2024-06-30"


def test_to_uint8_scales_clips_and_zeroes_nan() -> None:
    reflectance = np.array([[[0.0, 0.1, 0.4, 0.5, np.nan, -0.1]]], dtype=np.float32)
    assert to_uint8(reflectance).tolist() == [[[0, 64, 255, 255, 0, 0]]]
    assert to_uint8(reflectance).dtype == np.uint8


def test_to_uint8_dask_equals_numpy() -> None:
    import dask.array as dask_array

    rng = np.random.default_rng(0)
    data = rng.uniform(-0.1, 0.6, (3, 40, 50)).astype(np.float32)
    data[:, ::7, ::5] = np.nan
    lazy = dask_array.from_array(data, chunks=(3, 16, 16))
    np.testing.assert_array_equal(to_uint8(lazy, 3.0), to_uint8(data, 3.0))


@pytest.mark.parametrize(
    ("bbox", "size"),
    [
        ((14.5, 46.0, 14.4, 46.1), (10, 10)),  # minx > maxx
        ((14.4, 46.0, 14.5, 95.0), (10, 10)),  # latitude out of range
        ((0.0, 0.0, 60.0, 60.0), (2, 2)),  # pixels coarser than 1500 m
        (BBOX, (0, 10)),
    ],
)
def test_truecolor_plan_refuses_bad_input(bbox: tuple[float, ...], size: tuple[int, int]) -> None:
    with pytest.raises(InputError):
        truecolor_plan(bbox, "2024-06-01/2024-06-30", size=size)  # type: ignore[arg-type]


@pytest.fixture
def image() -> tuple[np.ndarray, Grid]:
    rng = np.random.default_rng(1)
    grid = Grid.from_bbox_size(BBOX, (40, 30))
    return rng.integers(0, 256, (3, 30, 40), dtype=np.uint8), grid


@pytest.mark.parametrize("synthetic", [True, False])
def test_write_png_marks_synthetic(
    image: tuple[np.ndarray, Grid], tmp_path: Path, synthetic: bool
) -> None:
    from PIL import Image

    pixels, grid = image
    out = write_image(tmp_path / "rgb.png", pixels, grid, synthetic=synthetic)
    with Image.open(out) as png:
        assert png.size == (40, 30)
        np.testing.assert_array_equal(np.moveaxis(np.asarray(png), -1, 0), pixels)
        assert (png.info.get("S2RASTER_SYNTHETIC") == "1") is synthetic
    assert [p.name for p in tmp_path.iterdir()] == ["rgb.png"]  # no temporary files


def test_write_geotiff_is_georeferenced(image: tuple[np.ndarray, Grid], tmp_path: Path) -> None:
    import rasterio

    pixels, grid = image
    out = write_image(tmp_path / "rgb.tif", pixels, grid, synthetic=True)
    with rasterio.open(out) as ds:
        assert ds.count == 4  # R, G, B and alpha (no data transparent)
        assert ds.crs.to_epsg() == 32633
        assert ds.transform.almost_equals(grid.transform)
        assert ds.dtypes == ("uint8",) * 4  # an RGB image, not float reflectance
        assert ds.nodata is None
        np.testing.assert_array_equal(ds.read([1, 2, 3]), pixels)
        assert (ds.read(4) == 255).all()
        assert ds.tags().get("S2RASTER_SYNTHETIC") == "1"


def test_write_image_refuses_unknown_extension(
    image: tuple[np.ndarray, Grid], tmp_path: Path
) -> None:
    pixels, grid = image
    with pytest.raises(InputError, match=r"\.png"):
        write_image(tmp_path / "rgb.jpg", pixels, grid, synthetic=False)
    assert not list(tmp_path.iterdir())
