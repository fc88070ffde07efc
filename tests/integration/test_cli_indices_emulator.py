"""``s2raster fetch --index`` with catalogue indices and expressions, on the emulator."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import rasterio
from click.testing import CliRunner

from s2raster.cli import cli

BBOX = ["14.45", "46.02", "14.50", "46.05"]
TIME = "2024-06-01/2024-06-30"


def test_each_band_carries_its_formula(tmp_path: Path) -> None:
    out = tmp_path / "idx.tif"
    index = "ndvi,NBRplus,(B08 - B04) / (B08 + B04 + 0.5)"
    args = ["fetch", "--emulator", "--bbox", *BBOX, "--time", TIME, "--index", index]
    result = CliRunner().invoke(cli, [*args, "--no-cache", "-q", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "3 band(s) (NDVI,NBRplus,(B08 - B04) / (B08 + B04 + 0.5))" in result.stdout
    with rasterio.open(out) as src:
        assert src.descriptions == ("NDVI", "NBRplus", "(B08 - B04) / (B08 + B04 + 0.5)")
        assert src.tags(1)["formula"] == "(B08 - B04) / (B08 + B04)"
        assert src.tags(2)["formula"] == ("(B12 - B8A - B03 - B02) / (B12 + B8A + B03 + B02)")
        assert src.tags(3)["formula"] == "(B08 - B04) / (B08 + B04 + 0.5)"
        assert "formula" not in src.tags()
        assert src.tags()["S2RASTER_SYNTHETIC"] == "1"
        ndvi, custom = src.read(1), src.read(3)
    valid = np.isfinite(ndvi)
    assert valid.mean() > 0.5
    assert (np.abs(custom[valid]) <= np.abs(ndvi[valid]) + 1e-6).all()  # the +0.5 shrinks it
