"""Process API requests for the workbench tests: a payload builder and plain HTTP posts."""

from __future__ import annotations

import io
import json
import tarfile
from typing import Any

import requests

from s2raster.emulator import Emulator

UTM = "http://www.opengis.net/def/crs/EPSG/0/32633"
BOX = [400000.0, 5080000.0, 400160.0, 5080160.0]


def payload(
    evalscript: str,
    *,
    responses: tuple[tuple[str, str], ...] = (("default", "image/tiff"),),
    bbox: list[float] | None = None,
    crs: str = UTM,
    size: tuple[int, int] = (16, 16),
    time: tuple[str, str] = ("2023-06-01T00:00:00Z", "2023-06-30T23:59:59Z"),
) -> dict[str, Any]:
    return {
        "input": {
            "bounds": {"bbox": bbox or BOX, "properties": {"crs": crs}},
            "data": [
                {
                    "type": "sentinel-2-l2a",
                    "dataFilter": {"timeRange": {"from": time[0], "to": time[1]}},
                }
            ],
        },
        "output": {
            "width": size[0],
            "height": size[1],
            "responses": [{"identifier": i, "format": {"type": m}} for i, m in responses],
        },
        "evalscript": evalscript,
    }


def post(emulator: Emulator, token: str, body: dict[str, Any], **headers: str) -> requests.Response:
    return requests.post(
        emulator.base_url + "/api/v1/process",
        json=body,
        headers={"Authorization": f"Bearer {token}", **headers},
        timeout=60,
    )


def userdata(response: requests.Response) -> Any:
    with tarfile.open(fileobj=io.BytesIO(response.content)) as tar:
        member = tar.extractfile("userdata.json")
        assert member is not None
        return json.load(member)


def error_message(response: requests.Response) -> str:
    assert response.status_code == 400, response.text
    return str(response.json()["error"]["message"])
