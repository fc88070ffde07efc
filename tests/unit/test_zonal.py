"""zonal_stats against a brute-force reference (one rasterio mask per zone, numpy's nan
statistics), on numpy and dask arrays cut into blocks, with time, overlaps, holes and zones
that miss the array; each chunk of a lazy cube is read once, whatever the number of zones."""

from __future__ import annotations

import threading
from typing import Any

import dask.array
import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import xarray as xr
from hypothesis import given, settings
from hypothesis import strategies as st
from rasterio.features import geometry_mask
from shapely.geometry import MultiPolygon, Point, box

from s2raster.errors import InputError
from s2raster.geometry import read_zones
from s2raster.grid import Grid
from s2raster.xr import to_dataarray
from s2raster.zonal import ALL_STATS, STATS, zonal_stats

#: rasterio warns now and then when rasterizing from several threads, with correct results
#: (also seen by odc-geo under dask: https://github.com/opendatacube/odc-geo/issues/131).
pytestmark = pytest.mark.filterwarnings(
    "ignore:Dataset has no geotransform:rasterio.errors.NotGeoreferencedWarning"
)

GRID = Grid.from_bbox((400_000, 5_000_000, 401_200, 5_000_900), bbox_crs=32633, crs=32633)
TIMES = np.array(["2024-06-01", "2024-06-06", "2024-06-11"], dtype="datetime64[ns]")
BANDS = ["B04", "B08"]
X0, Y0 = 400_000, 5_000_000
ZONES = [
    box(X0 + 100, Y0 + 100, X0 + 400, Y0 + 300),
    box(X0 + 300, Y0 + 200, X0 + 600, Y0 + 500),  # overlaps zone 0
    Point(X0 + 900, Y0 + 600).buffer(150).difference(Point(X0 + 900, Y0 + 600).buffer(50)),
    MultiPolygon(
        [box(X0 + 20, Y0 + 700, X0 + 80, Y0 + 880), box(X0 + 1000, Y0 + 20, X0 + 1190, Y0 + 90)]
    ),
    box(X0 + 501, Y0 + 801, X0 + 504, Y0 + 804),  # smaller than a pixel: no centre inside
    box(X0 - 900, Y0 - 900, X0 - 500, Y0 - 500),  # outside the array
    box(X0 + 700, Y0 + 100, X0 + 800, Y0 + 200),  # all NaN (below)
]


def cube(seed: int = 0) -> tuple[np.ndarray, xr.DataArray]:
    rng = np.random.default_rng(seed)
    data = rng.random((len(TIMES), len(BANDS), *GRID.shape)).astype(np.float32)
    data[rng.random(data.shape) < 0.25] = np.nan
    data[:, :, 70:80, 70:80] = np.nan  # zone 6 (x 700..800, y 100..200 from the bottom)
    layers = [to_dataarray(d, GRID, BANDS) for d in data]
    da = xr.concat(layers, dim="time").assign_coords(time=TIMES)
    return data, da


def reference(data: np.ndarray, zones: list[Any], grid: Grid = GRID) -> pd.DataFrame:
    rows = []
    for k, zone in enumerate(zones):
        inside = ~geometry_mask([zone], out_shape=grid.shape, transform=grid.transform)
        for t, time in enumerate(TIMES):
            for b, band in enumerate(BANDS):
                v = data[t, b][inside].astype(np.float64)
                v = v[~np.isnan(v)]
                empty = v.size == 0
                rows.append(
                    {
                        "zone": k,
                        "time": time,
                        "band": band,
                        "mean": np.nan if empty else v.mean(),
                        "median": np.nan if empty else np.median(v),
                        "std": np.nan if empty else v.std(),
                        "min": np.nan if empty else v.min(),
                        "max": np.nan if empty else v.max(),
                        "count": v.size,
                        "valid_fraction": v.size / inside.sum() if inside.any() else np.nan,
                        "sum": np.nan if empty else v.sum(),
                        "pixels": int(inside.sum()),
                    }
                )
    return pd.DataFrame(rows)


def assert_frames_match(found: pd.DataFrame, expected: pd.DataFrame) -> None:
    assert list(found.columns) == list(expected.columns)
    pd.testing.assert_frame_equal(
        found.reset_index(drop=True),
        expected.reset_index(drop=True),
        check_dtype=False,
        rtol=1e-6,
        atol=1e-9,
    )


@pytest.mark.parametrize(
    "chunks", [None, {"y": 90, "x": 120}, {"y": 17, "x": 23, "time": 1}, {"band": 1}]
)
def test_matches_the_brute_force_reference(chunks: dict[str, int] | None) -> None:
    data, da = cube()
    found = zonal_stats(
        da if chunks is None else da.chunk(chunks), ZONES, zones_crs=32633, stats=ALL_STATS
    )
    assert_frames_match(found, reference(data, ZONES))


def test_default_columns_and_counts() -> None:
    _, da = cube()
    found = zonal_stats(da, ZONES, zones_crs=32633)
    assert list(found.columns) == ["zone", "time", "band", *STATS]
    assert len(found) == len(ZONES) * len(TIMES) * len(BANDS)
    assert found["count"].dtype.kind == "i"
    small, outside, cloudy = (found[found.zone == k] for k in (4, 5, 6))
    assert (small["count"] == 0).all()
    assert small["valid_fraction"].isna().all()  # no pixel centre inside
    assert (outside["count"] == 0).all()
    assert (cloudy["count"] == 0).all()
    assert (cloudy["valid_fraction"] == 0).all()
    assert cloudy["mean"].isna().all()


def test_an_index_without_band_or_time() -> None:
    data, da = cube()
    ndvi = da.isel(time=0, band=0, drop=True).rename("NDVI")
    found = zonal_stats(ndvi, ZONES[:3], zones_crs=32633, stats=["mean", "count"])
    assert list(found.columns) == ["zone", "band", "mean", "count"]
    assert set(found.band) == {"NDVI"}
    expected = reference(data, ZONES[:3])
    expected = expected[(expected.time == TIMES[0]) & (expected.band == "B04")]
    np.testing.assert_allclose(found["mean"], expected["mean"], rtol=1e-6)


def test_zones_in_lonlat_are_reprojected_and_ids_come_from_a_column() -> None:
    data, da = cube()
    frame = gpd.GeoDataFrame({"field": list("abc")}, geometry=ZONES[:3], crs=32633)
    found = zonal_stats(da, frame.to_crs(4326), id_column="field", stats=["count"])
    assert list(dict.fromkeys(found.zone)) == ["a", "b", "c"]
    lonlat = read_zones(frame.to_crs(4326)).to_crs(GRID.crs).geometries
    expected = reference(data, list(lonlat))
    assert found["count"].tolist() == expected["count"].tolist()


def test_each_chunk_is_read_once_whatever_the_number_of_zones() -> None:
    reads: list[tuple[int, ...]] = []
    lock = threading.Lock()
    _, da = cube()
    values = da.values

    def block(block_info: Any = None) -> np.ndarray:
        (t, b, y, x) = block_info[None]["array-location"]
        with lock:
            reads.append((t[0], b[0], y[0], x[0]))
        return values[t[0] : t[1], b[0] : b[1], y[0] : y[1], x[0] : x[1]]

    chunks = (1, 2, 45, 60)
    lazy = dask.array.map_blocks(
        block,
        chunks=tuple(dask.array.core.normalize_chunks(chunks, values.shape)),
        dtype=np.float32,
        meta=np.empty((0, 0, 0, 0), np.float32),
    )
    da_lazy = da.copy(data=lazy)
    rng = np.random.default_rng(1)
    corners = rng.uniform([X0, Y0], [X0 + 1150, Y0 + 850], (500, 2))
    many = [box(x, y, x + 40, y + 40) for x, y in corners]
    zonal_stats(da_lazy, many, zones_crs=32633)
    n_chunks = int(np.prod(lazy.numblocks))
    assert len(reads) == len(set(reads)) <= n_chunks


@settings(max_examples=25)
@given(
    rows=st.integers(5, 90),
    cols=st.integers(5, 120),
    boxes=st.lists(
        st.tuples(
            st.floats(-100, 1150), st.floats(-100, 850), st.floats(5, 400), st.floats(5, 400)
        ),
        min_size=1,
        max_size=12,
    ),
)
def test_any_blocking_and_zones_agree_with_the_reference(
    rows: int, cols: int, boxes: list[tuple[float, float, float, float]]
) -> None:
    data, da = cube(seed=2)
    zones = [box(X0 + x, Y0 + y, X0 + x + w, Y0 + y + h) for x, y, w, h in boxes]
    found = zonal_stats(da.chunk({"y": rows, "x": cols}), zones, zones_crs=32633, stats=ALL_STATS)
    assert_frames_match(found, reference(data, zones))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"stats": ["mean", "mode"]}, "unknown statistic"),
        ({"stats": []}, "unknown statistic"),
    ],
)
def test_bad_stats_are_refused(kwargs: dict[str, Any], message: str) -> None:
    _, da = cube()
    with pytest.raises(InputError, match=message):
        zonal_stats(da, ZONES, zones_crs=32633, **kwargs)


def test_other_dims_and_non_arrays_are_refused() -> None:
    _, da = cube()
    with pytest.raises(InputError, match="member is not one of them"):
        zonal_stats(da.expand_dims(member=[0]), ZONES, zones_crs=32633)
    with pytest.raises(InputError, match="georeferenced DataArray"):
        zonal_stats(np.zeros((3, 3)), ZONES)  # type: ignore[arg-type]
