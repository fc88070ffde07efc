"""load(..., index=...): exactly the bands the indices need, the index back, errors first."""

from __future__ import annotations

import numpy as np
import pytest

from s2raster import load
from s2raster.errors import BandError, InputError
from s2raster.testing import FakeFetch

BBOX = (13.80, 45.80, 13.81, 45.806)
TIME = "2024-06-01/2024-06-30"


def test_one_index() -> None:
    fake = FakeFetch(fill=0.25)
    ndvi = load(BBOX, TIME, index="NDVI", fetch=fake, cache=False)
    assert fake.searches[0].bands == ("B04", "B08")
    assert ndvi.dims == ("y", "x")
    assert ndvi.name == "NDVI"
    assert ndvi.attrs["formula"] == "(B08 - B04) / (B08 + B04)"
    assert "spatial_ref" in ndvi.coords
    assert fake.calls == []  # lazy
    np.testing.assert_array_equal(ndvi.values, 0.0)  # (0.25 - 0.25) / 0.5


def test_several_indices_and_an_expression() -> None:
    fake = FakeFetch(fill=0.2)
    out = load(BBOX, TIME, index=["EVI", "NBR", "B8A / B05"], fetch=fake, cache=False)
    assert fake.searches[0].bands == ("B02", "B04", "B05", "B08", "B8A", "B12")
    assert out.dims == ("index", "y", "x")
    assert list(out["index"].values) == ["EVI", "NBR", "B8A / B05"]
    np.testing.assert_allclose(out.sel(index="B8A / B05").values, 1.0)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"index": "NDXX"}, BandError, "unknown index 'NDXX'"),
        ({"index": "NIRvP"}, InputError, "needs constant PAR"),
        ({"index": "B08.real"}, InputError, "attribute access"),
        ({"index": "NDVI", "bands": ["B04", "B08"]}, InputError, "bands or index, not both"),
        ({}, InputError, "needs bands"),
    ],
)
def test_refused_before_any_request(
    kwargs: dict[str, object], error: type[Exception], match: str
) -> None:
    fake = FakeFetch(fill=0.2)
    with pytest.raises(error, match=match):
        load(BBOX, TIME, fetch=fake, cache=False, **kwargs)  # type: ignore[arg-type]
    assert fake.searches == []
    assert fake.calls == []
