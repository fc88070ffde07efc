"""truecolor() on the emulator: the image, and that it equals the Process API's own answer to
the classic evalscript."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from s2raster.truecolor import truecolor

if TYPE_CHECKING:
    from s2raster.emulator import Emulator

BBOX = (14.45, 46.02, 14.50, 46.05)
TIME = "2024-06-01/2024-06-30"
CLASSIC = """//VERSION=3
function setup() {
  return { input: ["B02", "B03", "B04"], output: { bands: 3 } };
}
function evaluatePixel(sample) {
  return [2.5 * sample.B04, 2.5 * sample.B03, 2.5 * sample.B02];
}
"""


def test_truecolor_on_the_emulator(emulator: Emulator) -> None:
    result = truecolor(BBOX, TIME, size=(64, 48), config=emulator.config(), cache=False)
    image, grid = result
    assert image.shape == (3, 48, 64)
    assert image.dtype == np.uint8
    assert grid.shape == (48, 64)
    assert result.synthetic
    assert result.stats.requests == 1
    assert 0 < image.mean() < 255


def test_truecolor_equals_the_classic_evalscript(emulator: Emulator) -> None:
    """Our image equals the Process API's own answer to the classic evalscript (AUTO, PNG)."""
    from sentinelhub import CRS, BBox, MimeType, MosaickingOrder, SentinelHubRequest

    from s2raster.cdse import bound_collection

    config = emulator.config()
    result = truecolor(BBOX, TIME, size=(64, 48), config=config, cache=False)
    request = SentinelHubRequest(
        evalscript=CLASSIC,
        input_data=[
            SentinelHubRequest.input_data(
                data_collection=bound_collection("sentinel-2-l2a", config.sh_base_url),
                time_interval=("2024-06-01T00:00:00Z", "2024-06-30T23:59:59Z"),
                mosaicking_order=MosaickingOrder.LEAST_CC,  # truecolor's default
            )
        ],
        responses=[SentinelHubRequest.output_response("default", MimeType.PNG)],
        bbox=BBox(result.grid.bounds, crs=CRS(32633)),
        size=(64, 48),
        config=config,
    )
    classic = np.moveaxis(np.asarray(request.get_data()[0]), -1, 0)
    assert classic.shape == result.image.shape
    diff = np.abs(classic.astype(int) - result.image.astype(int))
    assert diff.max() <= 1
