"""The GeoTIFFs the emulator answers are laid out as the service's (read with tifffile),
so that byte-level readers meet on the emulator what they will meet on CDSE."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import tifffile
from affine import Affine
from rasterio.io import MemoryFile

from s2raster.emulator.encode import SYNTHETIC_TAGS, tiff_bytes

GDAL_METADATA, GDAL_NODATA = 42112, 42113
UTM_TRANSFORM = Affine(10.0, 0.0, 400000.0, 0.0, -10.0, 5080000.0)


def layout(content: bytes) -> tuple[str, dict[int, Any], dict[int, int]]:
    """Byte order, tag values and tag types of the first page of a TIFF."""
    with tifffile.TiffFile(io.BytesIO(content)) as tif:
        tags = tif.pages[0].tags
        return tif.byteorder, {t.code: t.value for t in tags}, {t.code: int(t.dtype) for t in tags}


@pytest.fixture(scope="module")
def service(golden: Path) -> dict[str, bytes]:
    with tarfile.open(golden / "sh-multipart-uint16-2019.tar") as tar:
        member = tar.extractfile("default.tif")
        assert member is not None
        uint16 = member.read()
    return {
        "uint16-3": uint16,
        "float32-5": (golden / "sh-float32-5band-2019.tiff").read_bytes(),
        "float32-2": (golden / "sh-float32-2band-2022.tiff").read_bytes(),
    }


@pytest.mark.parametrize(
    ("name", "shape", "dtype"),
    [("uint16-3", (3, 856, 512), np.uint16), ("float32-5", (5, 17, 11), np.float32),
     ("float32-2", (2, 4, 2), np.float32)],
)  # fmt: skip
def test_same_tags_as_the_service(
    service: dict[str, bytes], name: str, shape: tuple[int, int, int], dtype: type
) -> None:
    real_order, real, real_types = layout(service[name])
    transform = Affine(0.0007, 0.0, 14.56, 0.0, -0.0005, 45.88)
    ours_order, ours, ours_types = layout(tiff_bytes(np.ones(shape, dtype), "EPSG:4326", transform))
    assert ours_order == real_order == ">"
    assert set(ours) - set(real) == {GDAL_METADATA}  # the synthetic marks, nothing else
    assert set(real) - set(ours) == set()
    assert {c: ours_types[c] for c in real} == real_types
    for code in (258, 259, 262, 277, 278, 282, 283, 296, 339, 34735, 34737):
        assert ours[code] == real[code], code
    assert 317 not in ours  # no Predictor
    assert len(ours[273]) == len(real[273])  # the same strips


@pytest.mark.parametrize(
    ("shape", "dtype", "photometric"),
    [((3, 4, 4), np.uint8, 2), ((3, 4, 4), np.int16, 2), ((3, 4, 4), np.float32, 1),
     ((4, 4, 4), np.uint8, 1), ((1, 4, 4), np.uint16, 1)],
)  # fmt: skip
def test_rgb_photometric_for_three_integer_bands(
    shape: tuple[int, int, int], dtype: type, photometric: int
) -> None:
    _, tags, _ = layout(tiff_bytes(np.zeros(shape, dtype), "EPSG:32633", UTM_TRANSFORM))
    assert tags[262] == photometric
    assert 338 not in tags  # no ExtraSamples, as the service's 5-band files


def test_rasterio_reads_it_back(recwarn: pytest.WarningsRecorder) -> None:
    data = np.arange(5 * 40 * 30, dtype=np.float32).reshape(5, 40, 30)
    content = tiff_bytes(data, "EPSG:32633", UTM_TRANSFORM, nodata=float("nan"))
    with MemoryFile(content) as memfile, memfile.open() as ds:
        assert ds.crs.to_epsg() == 32633
        assert ds.transform == UTM_TRANSFORM
        assert np.isnan(ds.nodata)
        assert ds.tags()["AREA_OR_POINT"] == "Area"
        assert {k: ds.tags()[k] for k in SYNTHETIC_TAGS} == SYNTHETIC_TAGS
        np.testing.assert_array_equal(ds.read(), data)
    _, tags, _ = layout(content)
    assert tags[GDAL_NODATA] == "nan"
    assert tags[34735][:4] == (1, 1, 0, 5)
    assert tags[34737] == "WGS 84 / UTM zone 33N|"
    assert not [w for w in recwarn if "TIFF" in str(w.message)]


def test_strips_of_about_24_kib() -> None:
    _, tags, _ = layout(
        tiff_bytes(np.zeros((4, 100, 2500), np.float32), "EPSG:32633", UTM_TRANSFORM)
    )
    assert tags[278] == 1  # 40000 bytes a row: one row a strip
    _, tags, _ = layout(tiff_bytes(np.zeros((1, 100, 100), np.uint8), "EPSG:32633", UTM_TRANSFORM))
    assert tags[278] == 100
