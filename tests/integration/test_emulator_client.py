"""The emulator driven as CDSE is driven: sentinelhub-py and plain ``requests`` over HTTP."""

from __future__ import annotations

import io
import json
import math
import os
import tarfile
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
import rasterio
import requests
from affine import Affine
from PIL import Image
from rasterio.io import MemoryFile
from sentinelhub import (
    CRS,
    BBox,
    DataCollection,
    MimeType,
    SentinelHubCatalog,
    SentinelHubRequest,
    SHConfig,
)

from s2raster.contract import processing_units
from s2raster.emulator import Emulator

CDSE_BBOX = [13.822174072265625, 45.85080395917834, 14.55963134765625, 46.29191774991382]
UTM_BBOX = (400000.0, 5080000.0, 402560.0, 5081280.0)  # 256 x 128 px at 10 m, zone 33N
TIME = ("2022-06-01", "2022-08-31")
TRUE_COLOUR = """//VERSION=3
function setup() {
  return { input: ["B02", "B03", "B04"], output: { bands: 3 } };
}
function evaluatePixel(sample) {
  return [2.5 * sample.B04, 2.5 * sample.B03, 2.5 * sample.B02];
}
"""
FLOAT4 = """//VERSION=3
function setup() {
  return {
    input: [{ bands: ["B02", "B03", "B04", "B08", "dataMask"], units: "REFLECTANCE" }],
    output: { id: "default", bands: 5, sampleType: "FLOAT32" },
  };
}
function evaluatePixel(s) { return [s.B02, s.B03, s.B04, s.B08, s.dataMask]; }
"""
TWO_OUTPUTS = """//VERSION=3
function setup() {
  return {
    input: ["B04", "B08", "dataMask"],
    output: [
      { id: "default", bands: 2, sampleType: "UINT16" },
      { id: "ndvi", bands: 1, sampleType: "FLOAT32" },
    ],
  };
}
function evaluatePixel(s) {
  return {
    default: [s.B04 * 10000, s.B08 * 10000],
    ndvi: [(s.B08 - s.B04) / (s.B08 + s.B04)],
  };
}
"""
ORBIT_COUNT = """//VERSION=3
function setup() {
  return {
    input: ["B04", "dataMask"],
    output: { bands: 1, sampleType: "FLOAT32" },
    mosaicking: "ORBIT",
  };
}
function evaluatePixel(samples) {
  return [samples.length];
}
"""


# -- fixtures -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def config(emulator: Emulator) -> SHConfig:
    config = emulator.config()
    config.max_download_attempts = 6
    config.download_sleep_time = 0.01
    return config


@pytest.fixture(scope="module")
def collection(emulator: Emulator) -> DataCollection:
    """SENTINEL2_L2A bound to the emulator (its own service URL would win over the config)."""
    return bind_l2a(emulator)


def bind_l2a(emu: Emulator) -> DataCollection:
    """``define_from`` as users write it; a definition of the same URL made earlier in this
    process (sentinelhub-py allows one per URL) is reused."""
    try:
        return DataCollection.SENTINEL2_L2A.define_from(
            f"S2L2A_EMULATOR_{emu.port}", service_url=emu.base_url
        )
    except ValueError:
        return DataCollection(DataCollection.SENTINEL2_L2A.value.derive(service_url=emu.base_url))


@pytest.fixture
def clean_faults(emulator: Emulator) -> Iterator[Emulator]:
    yield emulator
    emulator.faults.clear()


def sh_request(
    config: SHConfig,
    collection: DataCollection,
    evalscript: str = FLOAT4,
    responses: tuple[tuple[str, MimeType], ...] = (("default", MimeType.TIFF),),
    size: tuple[int, int] = (256, 128),
    **input_args: Any,
) -> SentinelHubRequest:
    return SentinelHubRequest(
        evalscript=evalscript,
        input_data=[
            SentinelHubRequest.input_data(
                data_collection=collection, time_interval=TIME, **input_args
            )
        ],
        responses=[SentinelHubRequest.output_response(i, m) for i, m in responses],
        bbox=BBox(UTM_BBOX, crs=CRS(32633)),
        size=size,
        config=config,
    )


def process(
    emulator: Emulator, token: str, payload: dict[str, Any], **headers: str
) -> requests.Response:
    return requests.post(
        emulator.base_url + "/api/v1/process",
        json=payload,
        headers={"Authorization": f"Bearer {token}", **headers},
        timeout=60,
    )


def classic_payload() -> dict[str, Any]:
    """The CDSE documentation's example: true colour PNG, 512 x 512, CRS84."""
    return {
        "input": {
            "bounds": {
                "bbox": CDSE_BBOX,
                "properties": {"crs": "http://www.opengis.net/def/crs/OGC/1.3/CRS84"},
            },
            "data": [
                {
                    "type": "sentinel-2-l2a",
                    "dataFilter": {
                        "timeRange": {
                            "from": "2022-10-01T00:00:00Z",
                            "to": "2022-10-31T00:00:00Z",
                        }
                    },
                }
            ],
        },
        "output": {
            "width": 512,
            "height": 512,
            "responses": [{"identifier": "default", "format": {"type": "image/png"}}],
        },
        "evalscript": TRUE_COLOUR,
    }


def small_payload(evalscript: str = FLOAT4, mime: str = "image/tiff") -> dict[str, Any]:
    """A 256 x 128 px request at 10 m in UTM 33N (fast to render)."""
    payload = classic_payload()
    payload["input"]["bounds"] = {
        "bbox": list(UTM_BBOX),
        "properties": {"crs": "http://www.opengis.net/def/crs/EPSG/0/32633"},
    }
    payload["output"] = {
        "width": 256,
        "height": 128,
        "responses": [{"identifier": "default", "format": {"type": mime}}],
    }
    payload["evalscript"] = evalscript
    return payload


# -- plain requests ---------------------------------------------------------------------------


def test_classic_cdse_example_with_requests(emulator: Emulator, token: str) -> None:
    response = process(emulator, token, classic_payload())
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"] == "image/png"
    assert response.headers["x-s2raster-synthetic"] == "1"
    expected_pu = processing_units(512, 512, 3, float32=False)
    assert float(response.headers["x-processingunits-spent"]) == pytest.approx(expected_pu)
    image = Image.open(io.BytesIO(response.content))
    assert (image.size, image.mode) == ((512, 512), "RGB")
    assert image.info.get("S2RASTER_SYNTHETIC") == "1"
    assert np.asarray(image).std() > 0  # not a blank picture
    assert emulator.log[-1].pu == pytest.approx(expected_pu)


def test_multipart_request(emulator: Emulator, token: str) -> None:
    payload = small_payload(TRUE_COLOUR, "image/png")
    evalscript = payload.pop("evalscript")
    response = requests.post(
        emulator.base_url + "/api/v1/process",
        files={
            "request": (None, json.dumps(payload), "application/json"),
            "evalscript": (None, evalscript, "text/plain"),
        },
        headers={"Authorization": f"Bearer {token}"},
        timeout=60,
    )
    assert response.status_code == 200, response.text
    assert Image.open(io.BytesIO(response.content)).size == (256, 128)


def test_geotiff_georeferencing_equals_the_request(emulator: Emulator, token: str) -> None:
    payload = classic_payload()
    payload["input"]["bounds"] = {
        "bbox": list(UTM_BBOX),
        "properties": {"crs": "http://www.opengis.net/def/crs/EPSG/0/32633"},
    }
    payload["output"] = {
        "resx": 10,
        "resy": 10,
        "responses": [{"identifier": "default", "format": {"type": "image/tiff"}}],
    }
    payload["evalscript"] = FLOAT4
    response = process(emulator, token, payload)
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"] == "image/tiff"
    with MemoryFile(response.content) as memfile, memfile.open() as dataset:
        assert dataset.crs == rasterio.crs.CRS.from_epsg(32633)
        assert dataset.transform == Affine(10, 0, UTM_BBOX[0], 0, -10, UTM_BBOX[3])
        assert (dataset.count, dataset.height, dataset.width) == (5, 128, 256)
        assert dataset.dtypes[0] == "float32"
        assert dataset.tags()["S2RASTER_SYNTHETIC"] == "1"
        data = dataset.read()
    reflectance = data[:4][:, data[4] == 1]
    assert reflectance.size > 0
    assert 0 <= reflectance.min() <= reflectance.max() <= 2
    pu = processing_units(256, 128, 4, float32=True)
    assert float(response.headers["x-processingunits-spent"]) == pytest.approx(pu)


def test_geometry_masks_outside_pixels(emulator: Emulator, token: str) -> None:
    minx, miny, maxx, maxy = UTM_BBOX
    triangle = [[minx, miny], [maxx, miny], [minx, maxy], [minx, miny]]
    payload = classic_payload()
    payload["input"]["bounds"] = {
        "bbox": list(UTM_BBOX),
        "geometry": {"type": "Polygon", "coordinates": [triangle]},
        "properties": {"crs": "http://www.opengis.net/def/crs/EPSG/0/32633"},
    }
    payload["output"] = {
        "width": 256,
        "height": 128,
        "responses": [{"format": {"type": "image/tiff"}}],
    }
    payload["evalscript"] = FLOAT4
    response = process(emulator, token, payload)
    assert response.status_code == 200, response.text
    with MemoryFile(response.content) as memfile, memfile.open() as dataset:
        data = dataset.read()
    mask = data[4]
    assert mask[-1, 0] == 1  # south-west corner: inside
    assert mask[0, -1] == 0  # north-east corner: outside
    assert np.all(data[:4, mask == 0] == 0)


def test_multi_output_tar(emulator: Emulator, token: str) -> None:
    payload = small_payload(TWO_OUTPUTS)
    payload["output"]["responses"] = [
        {"identifier": "default", "format": {"type": "image/tiff"}},
        {"identifier": "ndvi", "format": {"type": "image/tiff"}},
    ]
    response = process(emulator, token, payload, Accept="application/x-tar")
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"] == "application/x-tar"
    with tarfile.open(fileobj=io.BytesIO(response.content)) as tar:
        names = tar.getnames()
        assert {"default.tif", "ndvi.tif"} <= set(names)
        member = tar.extractfile("ndvi.tif")
        assert member is not None
        content = member.read()
    with MemoryFile(content) as memfile, memfile.open() as dataset:
        assert (dataset.count, dataset.dtypes[0]) == (1, "float32")
        assert dataset.width == 256


def test_orbit_mosaicking_charges_per_acquisition(emulator: Emulator, token: str) -> None:
    payload = small_payload(ORBIT_COUNT)
    payload["output"]["width"], payload["output"]["height"] = 64, 32
    response = process(emulator, token, payload)
    assert response.status_code == 200, response.text
    with MemoryFile(response.content) as memfile, memfile.open() as dataset:
        n_samples = int(dataset.read(1).max())
    assert n_samples >= 1
    pu = processing_units(64, 32, 1, float32=True, n_samples=n_samples)
    assert float(response.headers["x-processingunits-spent"]) == pytest.approx(pu)


def test_evalscript_error_is_a_renderer_exception(emulator: Emulator, token: str) -> None:
    payload = small_payload(TRUE_COLOUR.replace("2.5 * sample.B04", "nope.B04"), "image/png")
    response = process(emulator, token, payload)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "RENDERER_EXCEPTION"


def test_missing_output_is_refused(emulator: Emulator, token: str) -> None:
    payload = small_payload(TRUE_COLOUR, "image/png")
    payload["output"]["responses"][0]["identifier"] = "rgb"
    response = process(emulator, token, payload)
    assert response.status_code == 400
    assert "rgb" in response.json()["error"]["message"]


# -- sentinelhub-py -----------------------------------------------------------------------------


def test_sentinelhub_request_raw_bytes(config: SHConfig, collection: DataCollection) -> None:
    request = sh_request(config, collection)
    (response,) = request.get_data(decode_data=False)
    with MemoryFile(response.content) as memfile, memfile.open() as dataset:
        assert dataset.crs.to_epsg() == 32633
        assert dataset.transform == Affine(10, 0, UTM_BBOX[0], 0, -10, UTM_BBOX[3])
        assert dataset.count == 5
        assert dataset.tags()["S2RASTER_SYNTHETIC"] == "1"


def test_sentinelhub_request_decoded(config: SHConfig, collection: DataCollection) -> None:
    (array,) = sh_request(config, collection).get_data()
    assert array.shape == (128, 256, 5)
    assert array.dtype == np.float32


def test_sentinelhub_request_multi_output(config: SHConfig, collection: DataCollection) -> None:
    responses = (("default", MimeType.TIFF), ("ndvi", MimeType.TIFF))
    (result,) = sh_request(config, collection, TWO_OUTPUTS, responses).get_data()
    assert set(result) >= {"default.tif", "ndvi.tif"}
    assert result["default.tif"].dtype == np.uint16
    assert result["ndvi.tif"].shape == (128, 256)


def test_sentinelhub_catalog_search_paginates(
    emulator: Emulator, config: SHConfig, collection: DataCollection
) -> None:
    from s2raster.emulator import earth

    bbox = BBox(CDSE_BBOX, crs=CRS.WGS84)
    before = emulator.log.count(path="/api/v1/catalog/1.0.0/search")
    items = list(
        SentinelHubCatalog(config=config).search(collection, bbox=bbox, time=TIME, limit=2)
    )
    pages = emulator.log.count(path="/api/v1/catalog/1.0.0/search") - before
    expected = earth.acquisitions("sentinel-2-l2a", tuple(CDSE_BBOX), *_utc_range(TIME))
    assert len(expected) > 2  # several pages
    assert [item["id"] for item in items] == [a.id for a in expected]
    assert pages == math.ceil(len(expected) / 2)  # context.next only while items remain
    for item in items:
        assert item["collection"] == "sentinel-2-l2a"
        assert {"datetime", "eo:cloud_cover", "platform", "constellation"} <= set(
            item["properties"]
        )
        assert item["geometry"]["type"] in ("Polygon", "MultiPolygon")


def test_sentinelhub_catalog_filter_and_fields(
    config: SHConfig, collection: DataCollection
) -> None:
    catalog = SentinelHubCatalog(config=config)
    bbox = BBox(CDSE_BBOX, crs=CRS.WGS84)
    clear = list(catalog.search(collection, bbox=bbox, time=TIME, filter="eo:cloud_cover < 30"))
    everything = list(catalog.search(collection, bbox=bbox, time=TIME))
    wanted = [i["id"] for i in everything if i["properties"]["eo:cloud_cover"] < 30]
    assert 0 < len(clear) < len(everything)  # the filter kept some and dropped some
    assert [item["id"] for item in clear] == wanted
    fields = {"include": ["id", "properties.datetime"], "exclude": []}
    slim = list(catalog.search(collection, bbox=bbox, time=TIME, fields=fields))
    assert slim
    assert set(slim[0]) <= {"id", "type", "properties"}
    assert set(slim[0]["properties"]) == {"datetime"}


# -- recovering from quotas and faults ------------------------------------------------------------


@pytest.mark.parametrize(
    "faults",
    [
        {"error_rate": 0.5, "error_statuses": (429,), "retry_after_ms": 20},
        {"error_rate": 0.5, "error_statuses": (500, 503)},
        {"drop_rate": 0.4},
        {"truncate_rate": 0.4},
    ],
    ids=["429", "5xx", "drop", "truncate"],
)
def test_sentinelhub_recovers_from_faults(
    clean_faults: Emulator, config: SHConfig, collection: DataCollection, faults: dict[str, Any]
) -> None:
    emulator = clean_faults
    emulator.faults.seed = 3
    before = len(emulator.log)
    with emulator.faults.injected(**faults):
        for _ in range(4):
            (array,) = sh_request(config, collection, size=(32, 16)).get_data()
            assert array.shape == (16, 32, 5)
    served = emulator.log[before:]
    assert any(entry.fault for entry in served)  # faults did happen
    assert sum(1 for entry in served if entry.status == 200 and not entry.fault) >= 4


def test_sentinelhub_waits_for_retry_after(config: SHConfig, collection: DataCollection) -> None:
    from s2raster.emulator import RateLimit

    with Emulator(rate_limit=RateLimit(requests_per_minute=600, burst=1 / 600)) as emu:
        own = emu.config()
        own.download_sleep_time = 0.01
        bound = bind_l2a(emu)
        for _ in range(3):
            (array,) = sh_request(own, bound, size=(16, 16)).get_data()
            assert array.shape == (16, 16, 5)
        assert emu.log.count(status=200, path="/api/v1/process") == 3


# -- the https rule -------------------------------------------------------------------------------


def test_plain_http_stays_refused_for_other_hosts(emulator: Emulator) -> None:
    from oauthlib.oauth2 import BackendApplicationClient, InsecureTransportError
    from oauthlib.oauth2.rfc6749.utils import is_secure_transport
    from requests_oauthlib import OAuth2Session

    emulator.config()
    assert "OAUTHLIB_INSECURE_TRANSPORT" not in os.environ
    assert is_secure_transport(emulator.token_url)
    assert not is_secure_transport("http://identity.invalid/token")
    assert is_secure_transport("https://identity.invalid/token")
    session = OAuth2Session(client=BackendApplicationClient(client_id="x"))
    with pytest.raises(InsecureTransportError):
        session.fetch_token("http://identity.invalid/token", client_secret="y")


def _utc_range(time: tuple[str, str]) -> tuple[Any, Any]:
    from datetime import datetime, timezone

    start = datetime.fromisoformat(time[0]).replace(tzinfo=timezone.utc)
    end = datetime.fromisoformat(time[1]).replace(
        hour=23, minute=59, second=59, tzinfo=timezone.utc
    )
    return start, end


def test_accept_header_sets_the_format(emulator: Emulator, token: str) -> None:
    response = process(
        emulator, token, small_payload(TRUE_COLOUR, "image/png"), Accept="image/tiff"
    )
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"] == "image/tiff"
    with MemoryFile(response.content) as memfile, memfile.open() as dataset:
        assert (dataset.count, dataset.dtypes[0]) == (3, "uint8")


def test_processing_units_rate_limit() -> None:
    from s2raster.emulator import RateLimit

    pu = processing_units(256, 128, 4, float32=True)  # FLOAT4 reads 4 bands + dataMask
    with Emulator(rate_limit=RateLimit(pu_per_minute=1.5 * pu)) as emu:
        response = requests.post(
            emu.token_url,
            data={
                "grant_type": "client_credentials",
                "client_id": emu.client_id,
                "client_secret": emu.client_secret,
            },
            timeout=10,
        )
        own_token = response.json()["access_token"]
        first = process(emu, own_token, small_payload())
        second = process(emu, own_token, small_payload())
    assert first.status_code == 200
    assert second.status_code == 429
    assert second.json()["error"]["code"] == "RATE_LIMIT_EXCEEDED"
    # the bucket holds 0.5 PU after the first request; 0.5 PU more refill in 20 s
    assert 0 < int(second.headers["retry-after"]) <= 20_001
    assert emu.log[-1].pu == 0.0
