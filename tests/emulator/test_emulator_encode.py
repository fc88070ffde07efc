"""The output encoders: GeoTIFF as the service writes it, PNG, JPEG, the multi-output tar."""

from __future__ import annotations

import io
import json
import struct
import tarfile
import zlib
from pathlib import Path

import numpy as np
import pytest
import rasterio
from affine import Affine
from PIL import Image
from rasterio.io import MemoryFile

from s2raster.emulator.encode import (
    SYNTHETIC_TAGS,
    encode,
    jpeg_bytes,
    png_bytes,
    tiff_bytes,
)
from s2raster.emulator.runtime import EvalscriptError, OutputSpec, RunResult, ScriptSetup

UTM = "EPSG:32633"
# bbox 500000, 4999930 .. 500050, 5000000 at 5 x 7 px: pixel size = extent / size
TRANSFORM = Affine(50 / 5, 0.0, 500000.0, 0.0, -70 / 7, 5000000.0)


def make(spec: OutputSpec, seed: int = 0, shape: tuple[int, int] = (7, 5)) -> np.ndarray:
    dtype = np.dtype(
        {"AUTO": "uint8", "FLOAT32": "float32"}.get(spec.sample_type, spec.sample_type.lower())
    )
    rng = np.random.default_rng(seed)
    if dtype.kind == "f":
        return rng.normal(size=(spec.bands, *shape)).astype(dtype)
    info = np.iinfo(dtype)
    return rng.integers(info.min, info.max, size=(spec.bands, *shape), endpoint=True, dtype=dtype)


def setup_of(*outputs: OutputSpec) -> ScriptSetup:
    return ScriptSetup(("B04",), {"B04": "REFLECTANCE"}, outputs)


def read_tiff(content: bytes) -> tuple[dict, dict, np.ndarray, dict]:
    with MemoryFile(content) as memfile, memfile.open() as ds:
        return ds.profile, ds.tags(), ds.read(), ds.tags(ns="IMAGE_STRUCTURE")


# --- GeoTIFF -------------------------------------------------------------------------


@pytest.mark.parametrize("sample_type", ["AUTO", "UINT8", "UINT16", "INT8", "INT16", "FLOAT32"])
def test_tiff_reads_back_exactly(sample_type: str) -> None:
    spec = OutputSpec("default", 3, sample_type)
    data = make(spec)
    content, mime = encode(
        RunResult({"default": data}),
        setup_of(spec),
        {"default": "image/tiff"},
        UTM,
        TRANSFORM,
        want_tar=False,
    )
    assert mime == "image/tiff"
    profile, tags, values, structure = read_tiff(content)
    assert profile["crs"].to_epsg() == 32633
    assert profile["transform"] == TRANSFORM
    assert profile["dtype"] == data.dtype.name
    assert (profile["count"], profile["height"], profile["width"]) == (3, 7, 5)
    assert profile["nodata"] is None
    assert profile["tiled"] is False
    assert structure == {"COMPRESSION": "DEFLATE", "INTERLEAVE": "PIXEL"}
    assert tags["AREA_OR_POINT"] == "Area"
    assert "TIFFTAG_SOFTWARE" not in tags  # the service's files have none
    assert {k: tags[k] for k in SYNTHETIC_TAGS} == SYNTHETIC_TAGS
    assert tags["S2RASTER_SYNTHETIC"] == "1"
    np.testing.assert_array_equal(values, data)


@pytest.mark.parametrize(
    ("sample_type", "nodata"), [("UINT16", 0.0), ("INT16", -32768.0), ("FLOAT32", float("nan"))]
)
def test_tiff_nodata_only_when_set(sample_type: str, nodata: float) -> None:
    spec = OutputSpec("default", 1, sample_type)
    profile, *_ = read_tiff(tiff_bytes(make(spec), UTM, TRANSFORM, nodata=nodata))
    np.testing.assert_equal(profile["nodata"], nodata)


def test_tiff_nodata_outside_the_dtype_is_refused() -> None:
    with pytest.raises(EvalscriptError, match="does not fit"):
        tiff_bytes(np.zeros((1, 2, 2), np.uint8), UTM, TRANSFORM, nodata=-1)


def test_tiff_geographic_crs() -> None:
    transform = Affine(0.35 / 512, 0.0, 46.16, 0.0, -0.57 / 856, -15.58)
    profile, *_ = read_tiff(tiff_bytes(np.zeros((1, 856, 512), np.uint16), "EPSG:4326", transform))
    assert profile["crs"].to_epsg() == 4326
    assert profile["transform"].almost_equals(transform)


def test_tiff_like_the_service(golden: Path) -> None:
    """Same layout as a real multi-output answer: pixel-interleaved strips, Deflate, Area."""
    with tarfile.open(golden / "sh-multipart-uint16-2019.tar") as tar:
        real = tar.extractfile("default.tif")
        assert real is not None
        real_profile, real_tags, _, real_structure = read_tiff(real.read())
    spec = OutputSpec("default", 3, "UINT16")
    ours, tags, _, structure = read_tiff(tiff_bytes(make(spec), UTM, TRANSFORM))
    for key in ("driver", "tiled", "nodata"):
        assert ours[key] == real_profile[key]
    assert structure == real_structure
    assert tags["AREA_OR_POINT"] == real_tags["AREA_OR_POINT"] == "Area"


# --- tar -----------------------------------------------------------------------------


def test_tar_layout_matches_the_service(golden: Path) -> None:
    with tarfile.open(golden / "sh-multipart-uint16-2019.tar") as tar:
        real = [(m.name, m.mode, m.uid, m.type) for m in tar.getmembers()]
        real_userdata = json.load(tar.extractfile("userdata.json"))  # type: ignore[arg-type]
    spec = OutputSpec("default", 3, "UINT16")
    result = RunResult({"default": make(spec)}, userdata=real_userdata)
    formats = {"default": "image/tiff", "userdata": "application/json"}
    content, mime = encode(result, setup_of(spec), formats, UTM, TRANSFORM, want_tar=True)
    assert mime == "application/x-tar"
    assert content[257:263] == b"ustar\x00"
    with tarfile.open(fileobj=io.BytesIO(content)) as tar:
        ours = [(m.name, m.mode & 0o777, m.uid, m.type) for m in tar.getmembers()]
        assert json.load(tar.extractfile("userdata.json")) == real_userdata  # type: ignore[arg-type]
        tif = tar.extractfile("default.tif")
        assert tif is not None
        np.testing.assert_array_equal(read_tiff(tif.read())[2], result.outputs["default"])
    assert ours == [(name, mode & 0o777, uid, kind) for name, mode, uid, kind in real]


def test_tar_of_several_formats_in_request_order() -> None:
    rgb, ndvi = OutputSpec("rgb", 3, "AUTO"), OutputSpec("ndvi", 1, "FLOAT32")
    result = RunResult({"rgb": make(rgb), "ndvi": make(ndvi)})
    formats = {"ndvi": "image/tiff", "rgb": "image/jpeg", "userdata": "application/json"}
    content, _ = encode(result, setup_of(rgb, ndvi), formats, UTM, TRANSFORM, want_tar=False)
    with tarfile.open(fileobj=io.BytesIO(content)) as tar:
        assert tar.getnames() == ["ndvi.tif", "rgb.jpg", "userdata.json"]
        assert tar.extractfile("userdata.json").read() == b"{}"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("mime", "ident", "fragment", "code"),
    [
        ("image/tiff", "other", "not defined", "COMMON_BAD_PAYLOAD"),
        ("image/webp", "default", "not supported", "COMMON_BAD_PAYLOAD"),
        ("image/tiff", "userdata", "application/json", "COMMON_BAD_PAYLOAD"),
    ],
)
def test_bad_formats(mime: str, ident: str, fragment: str, code: str) -> None:
    spec = OutputSpec("default", 1, "UINT8")
    with pytest.raises(EvalscriptError, match=fragment) as info:
        encode(
            RunResult({"default": make(spec)}),
            setup_of(spec),
            {ident: mime},
            UTM,
            TRANSFORM,
            want_tar=False,
        )
    assert info.value.code == code
    assert info.value.status == 400


# --- PNG and JPEG --------------------------------------------------------------------


@pytest.mark.parametrize(("count", "mode"), [(1, "L"), (2, "LA"), (3, "RGB"), (4, "RGBA")])
def test_png_8bit_modes(count: int, mode: str) -> None:
    data = make(OutputSpec("default", count, "UINT8"))
    image = Image.open(io.BytesIO(png_bytes(data)))
    assert image.mode == mode
    assert image.text["S2RASTER_SYNTHETIC"] == "1"
    expected = data[0] if count == 1 else np.moveaxis(data, 0, -1)
    np.testing.assert_array_equal(np.asarray(image), expected)


def test_png_16bit_grey_through_pillow() -> None:
    data = make(OutputSpec("default", 1, "UINT16"))
    image = Image.open(io.BytesIO(png_bytes(data)))
    np.testing.assert_array_equal(np.asarray(image).astype(np.uint16), data[0])


def decode_png(content: bytes) -> tuple[dict[str, bytes], np.ndarray]:
    """A minimal PNG reader for filter-0 scanlines (what the encoder writes)."""
    pos, chunks, idat = 8, {}, b""
    while pos < len(content):
        (length,) = struct.unpack(">I", content[pos : pos + 4])
        kind, payload = content[pos + 4 : pos + 8], content[pos + 8 : pos + 8 + length]
        assert (
            zlib.crc32(kind + payload)
            == struct.unpack(">I", content[pos + 8 + length : pos + 12 + length])[0]
        )
        chunks[kind.decode()] = chunks.get(kind.decode(), b"") + payload
        idat += payload if kind == b"IDAT" else b""
        pos += 12 + length
    width, height, depth, colour = struct.unpack(">IIBB", chunks["IHDR"][:10])
    bands = {0: 1, 4: 2, 2: 3, 6: 4}[colour]
    rows = np.frombuffer(zlib.decompress(idat), np.uint8).reshape(height, -1)
    assert (rows[:, 0] == 0).all()
    pixels = rows[:, 1:].copy().view(f">u{depth // 8}").reshape(height, width, bands)
    return chunks, np.moveaxis(pixels, -1, 0)


def test_png_16bit_rgb_exact() -> None:
    data = make(OutputSpec("default", 3, "UINT16"), seed=4)
    content, mime = encode(
        RunResult({"default": data}),
        setup_of(OutputSpec("default", 3, "UINT16")),
        {"default": "image/png"},
        UTM,
        TRANSFORM,
        want_tar=False,
    )
    assert mime == "image/png"
    chunks, pixels = decode_png(content)
    assert b"S2RASTER_SYNTHETIC\x001" in chunks["tEXt"]
    np.testing.assert_array_equal(pixels, data)


@pytest.mark.parametrize(("sample_type", "count"), [("FLOAT32", 1), ("INT16", 1), ("UINT8", 5)])
def test_png_refuses_what_it_cannot_hold(sample_type: str, count: int) -> None:
    with pytest.raises(EvalscriptError, match="cannot be a PNG"):
        png_bytes(make(OutputSpec("default", count, sample_type)))


@pytest.mark.parametrize("count", [1, 3])
def test_jpeg(count: int) -> None:
    data = np.full((count, 16, 16), 200, np.uint8)
    image = Image.open(io.BytesIO(jpeg_bytes(data)))
    assert image.format == "JPEG"
    assert b"S2RASTER_SYNTHETIC=1" in image.info["comment"]
    assert abs(int(np.asarray(image).astype(int).mean()) - 200) <= 2


@pytest.mark.parametrize(("sample_type", "count"), [("UINT16", 3), ("UINT8", 4), ("FLOAT32", 1)])
def test_jpeg_refuses_what_it_cannot_hold(sample_type: str, count: int) -> None:
    with pytest.raises(EvalscriptError, match="cannot be a JPEG"):
        jpeg_bytes(make(OutputSpec("default", count, sample_type)))


def test_rasterio_reads_the_tar_member_path(tmp_path: Path) -> None:
    """A saved response opens with plain rasterio (what users do with the files)."""
    spec = OutputSpec("default", 2, "FLOAT32")
    data = make(spec)
    path = tmp_path / "default.tif"
    path.write_bytes(tiff_bytes(data, UTM, TRANSFORM))
    with rasterio.open(path) as ds:
        assert ds.bounds == (500000.0, 4999930.0, 500050.0, 5000000.0)
        np.testing.assert_array_equal(ds.read(), data)
