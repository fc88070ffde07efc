"""The evalscript corpus (``scripts/corpus.toml``), run over real HTTP with sentinelhub-py.

Each script either answers 200 with the documented outputs (band count and dtype of every
output, userdata where the case says) or is refused with a 400 in the service's words.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sentinelhub import CRS, BBox, DataCollection, MimeType, SentinelHubRequest, SHConfig
from sentinelhub.exceptions import DownloadFailedException

from s2raster.emulator import Emulator

if sys.version_info >= (3, 11):
    import tomllib
else:  # sentinelhub-py brings tomli on 3.10
    import tomli as tomllib

SCRIPTS = Path(__file__).parent / "scripts"
CASES: list[dict[str, Any]] = tomllib.loads((SCRIPTS / "corpus.toml").read_text("utf-8"))["case"]
BBOX = BBox((400000.0, 5080000.0, 400320.0, 5080320.0), crs=CRS(32633))
SIZE = (32, 32)
TIME = ("2023-05-01", "2023-08-31")
MIMES = {"tiff": MimeType.TIFF, "png": MimeType.PNG, "jpeg": MimeType.JPG, "json": MimeType.JSON}
#: Cases the emulator does not meet yet (strict: a case that starts passing must leave).
KNOWN_GAPS: set[str] = set()
SOURCES = {
    "sentinel-2-l2a": DataCollection.SENTINEL2_L2A,
    "sentinel-2-l1c": DataCollection.SENTINEL2_L1C,
}


@pytest.fixture(scope="module")
def config(emulator: Emulator) -> SHConfig:
    config = emulator.config()
    config.max_download_attempts = 1
    return config


@pytest.fixture(scope="module")
def collections(emulator: Emulator) -> dict[str, DataCollection]:
    """The collections bound to the emulator (their own service URL would win)."""
    bound = {}
    for name, collection in SOURCES.items():
        try:
            bound[name] = collection.define_from(
                f"{collection.name}_CORPUS_{emulator.port}", service_url=emulator.base_url
            )
        except ValueError:  # defined earlier in this process for the same URL
            bound[name] = DataCollection(collection.value.derive(service_url=emulator.base_url))
    return bound


def test_every_script_is_a_case() -> None:
    listed = {case["script"] for case in CASES}
    assert listed == {path.name for path in SCRIPTS.glob("*.js")}
    assert len(CASES) >= 36


def corpus_request(
    case: dict[str, Any], config: SHConfig, collections: dict[str, DataCollection]
) -> SentinelHubRequest:
    responses = case.get("responses", {"default": "tiff"})
    input_args: dict[str, Any] = {"time_interval": tuple(case.get("time", TIME))}
    if "mosaicking_order" in case:
        input_args["mosaicking_order"] = case["mosaicking_order"]
    if "maxcc" in case:
        input_args["maxcc"] = case["maxcc"]
    collection = collections[case.get("collection", "sentinel-2-l2a")]
    return SentinelHubRequest(
        evalscript=(SCRIPTS / case["script"]).read_text("utf-8"),
        input_data=[SentinelHubRequest.input_data(data_collection=collection, **input_args)],
        responses=[SentinelHubRequest.output_response(i, MIMES[m]) for i, m in responses.items()],
        bbox=BBOX,
        size=SIZE,
        config=config,
    )


def check_output(name: str, data: np.ndarray, expected: dict[str, Any]) -> None:
    bands = 1 if data.ndim == 2 else data.shape[2]
    assert (data.shape[:2], bands) == ((SIZE[1], SIZE[0]), expected["bands"]), name
    assert data.dtype == np.dtype(expected["dtype"]), name


def check_userdata(case: dict[str, Any], userdata: dict[str, Any]) -> None:
    for key, value in case.get("userdata", {}).items():
        assert userdata[key] == pytest.approx(value), key
    for key in case.get("userdata_keys", []):
        assert key in userdata
    for key, (low, high) in case.get("userdata_range", {}).items():
        assert low <= userdata[key] <= high, key


def case_params() -> list[Any]:
    params = []
    for case in CASES:
        name = case["script"].removesuffix(".js")
        gap = pytest.mark.xfail(strict=True, reason="emulator gap (issue 12)")
        params.append(pytest.param(case, id=name, marks=[gap] if name in KNOWN_GAPS else []))
    return params


@pytest.mark.parametrize("case", case_params())
def test_corpus_script(
    case: dict[str, Any], config: SHConfig, collections: dict[str, DataCollection]
) -> None:
    request = corpus_request(case, config, collections)
    if "refused" in case:
        with pytest.raises(DownloadFailedException) as refusal:
            request.get_data()
        assert "400 Client Error" in str(refusal.value)
        assert case["refused"] in str(refusal.value)
        return
    data = request.get_data()[0]
    responses = case.get("responses", {"default": "tiff"})
    if len(responses) == 1:
        (name,) = responses
        check_output(name, data, case["expect"][name])
        return
    extensions = {"tiff": "tif", "png": "png", "jpeg": "jpg", "json": "json"}
    for name, mime in responses.items():
        content = data[f"{name}.{extensions[mime]}"]
        if mime == "json":
            check_userdata(case, content)
        else:
            check_output(name, content, case["expect"][name])
