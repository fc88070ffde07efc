"""The emulator's synthetic Earth: acquisitions, ground consistency, spectra, units, mosaics."""

from __future__ import annotations

import itertools
import re
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pytest
from affine import Affine
from hypothesis import given, settings
from hypothesis import strategies as st
from pyproj import Transformer

from s2raster.emulator import earth
from s2raster.emulator.earth import _scenes as scenes
from s2raster.emulator.earth import _spectra as sp
from s2raster.emulator.earth._orbit import imaging
from s2raster.emulator.earth._surface import Cells, static_surface
from s2raster.emulator.errors import BandError, RequestError
from s2raster.grid import Grid

L2A, L1C = "sentinel-2-l2a", "sentinel-2-l1c"
# A 10 km box in UTM 33N with forest, crops, lakes and a village.
X0, Y0 = 490_000.0, 4_970_000.0
UTM33 = "EPSG:32633"
ID = re.compile(r"^S2[ABC]_MSIL(2A|1C)_\d{8}T\d{6}_N\d{4}_R\d{3}_T\d{2}[C-X][A-Z]{2}_\d{8}T\d{6}$")


def grid_box(crs: str, transform: Affine, shape: tuple[int, int]) -> tuple[float, ...]:
    """The lon/lat box of a grid (its outline, densified)."""
    t = np.linspace(0.0, 1.0, 9)
    h, w = shape
    cols = np.concatenate([t * w, np.full(9, w), t * w, np.zeros(9)])
    rows = np.concatenate([np.zeros(9), t * h, np.full(9, h), t * h])
    xs = transform.c + transform.a * cols + transform.b * rows
    ys = transform.f + transform.d * cols + transform.e * rows
    try:
        lon, lat = Transformer.from_crs(crs, "EPSG:4326", always_xy=True).transform(xs, ys)
    except Exception:  # a CRS the emulator is to refuse
        return BOX
    return (min(lon), min(lat), max(lon), max(lat))


def acqs(day: date, box: tuple[float, ...], collection: str = L2A) -> list[scenes.Acquisition]:
    """The acquisitions sensed on ``day`` of the tiles under ``box``."""
    found = scenes.acquisitions(collection, box, day, day, touching=False)
    assert found, (day, box)
    return found


def acq(day: date, collection: str = L2A) -> scenes.Acquisition:
    """The acquisition of the tile of the test box (X0, Y0) on ``day``."""
    (found,) = scenes.acquisitions(collection, BOX, day, day)
    return found


# Dates of passes over the test box (X0, Y0): relative orbits 122 and 79 alternate.
CLEAR = date(2024, 6, 8)  # R122, tile cloud cover 0 %, no cirrus
CLOUDY = date(2024, 6, 20)  # R079, 43 %
WINTER = date(2024, 1, 5)  # R122, 0 %
ZONES = date(2024, 8, 4)  # R079 over the 18 deg E boundary of zones 33 and 34, 0 %
SOUTH = date(2024, 6, 4)  # R064 over 31.6 deg S, 15 deg E
BOX = (14.873, 44.85, 14.92, 44.88)


def render(
    day: date,
    bands: list[str],
    *,
    crs: str = UTM33,
    transform: Affine | None = None,
    shape: tuple[int, int] = (200, 200),
    collection: str = L2A,
    **options: object,
) -> dict[str, np.ndarray]:
    """The mosaic of the acquisitions of ``day`` on the grid."""
    transform = transform or Affine(20.0, 0.0, X0, 0.0, -20.0, Y0)
    units = options.pop("units", {})
    found = acqs(day, grid_box(crs, transform, shape), collection)
    out = earth.render(
        collection, found, crs, transform, shape, bands, units=units, mosaic=True, **options
    )
    assert len(out) == 1
    return out[0]


def ndvi(d: dict[str, np.ndarray]) -> np.ndarray:
    return (d["B08"] - d["B04"]) / (d["B08"] + d["B04"] + 1e-6)


# --- acquisitions -----------------------------------------------------------------------


def test_acquisitions_five_day_revisit_per_orbit() -> None:
    found = scenes.acquisitions(L2A, BOX, date(2024, 6, 1), date(2024, 6, 30))
    assert {a.orbit for a in found} == {79, 122}  # the box lies where two tracks overlap
    for orbit in (79, 122):
        mine = [a for a in found if a.orbit == orbit]
        days = [a.datetime.date() for a in mine]
        assert all(b - a == timedelta(days=5) for a, b in itertools.pairwise(days))
        platforms = [a.platform for a in mine]
        assert set(platforms) == {"sentinel-2a", "sentinel-2b"}
        assert all(a != b for a, b in itertools.pairwise(platforms))
    for a in found:
        assert a.datetime.tzinfo is not None
        assert a.datetime.utcoffset() == timedelta(0)
        assert ID.match(a.id), a.id
        assert 0 <= a.cloud_cover <= 100
        assert a.tile_id == "T33TVK"
        assert a.tile_id in a.id
        assert f"_R{a.orbit:03d}_" in a.id


def test_acquisitions_are_the_same_for_any_bbox_and_range() -> None:
    a = scenes.acquisitions(L2A, BOX, date(2024, 6, 1), date(2024, 6, 30))
    b = scenes.acquisitions(L2A, (14.0, 44.5, 15.5, 45.5), date(2024, 6, 10), date(2024, 7, 5))
    seen = {x.id: x for x in b}
    late = [x for x in a if x.datetime.day >= 10]
    assert late
    for x in late:
        y = seen[x.id]
        assert (y.datetime, y.cloud_cover, y.footprint) == (x.datetime, x.cloud_cover, x.footprint)
    end = datetime(2024, 6, 30, 23, 59, 59, 999999)
    naive = scenes.acquisitions(L2A, BOX, datetime(2024, 6, 1), end)
    assert naive == a


def test_acquisitions_ten_day_revisit_before_sentinel_2b() -> None:
    found = scenes.acquisitions(L2A, BOX, date(2016, 6, 1), date(2016, 7, 31))
    for orbit in (79, 122):
        days = [a.datetime.date() for a in found if a.orbit == orbit]
        assert len(days) >= 5
        assert all(b - a == timedelta(days=10) for a, b in itertools.pairwise(days))
    assert {a.platform for a in found} == {"sentinel-2a"}


def test_acquisitions_l1c_ids_and_validation() -> None:
    assert "_MSIL1C_" in acq(CLEAR, L1C).id
    with pytest.raises(RequestError, match="reversed"):
        scenes.acquisitions(L2A, (0, 0, 1, 1), date(2024, 6, 30), date(2024, 6, 1))
    with pytest.raises(RequestError, match="collection"):
        scenes.acquisitions("sentinel-1", (0, 0, 1, 1), date(2024, 6, 1), date(2024, 6, 2))
    with pytest.raises(RequestError, match="lon/lat"):
        scenes.acquisitions(L2A, (0, 0, 200, 1), date(2024, 6, 1), date(2024, 6, 2))


def _fake(day: int, cc: float) -> scenes.Acquisition:
    when = datetime(2024, 6, day, 10, tzinfo=timezone.utc)
    return scenes.Acquisition(f"a{day}", when, cc, "sentinel-2a", 1, "T33TVM")


def test_order_as_the_service() -> None:
    a, b, c, d = _fake(1, 10.0), _fake(6, 50.0), _fake(11, 10.0), _fake(16, 80.0)
    items = [b, d, a, c]
    assert scenes.order(items, "mostRecent") == [d, c, b, a]
    assert scenes.order(items, "leastRecent") == [a, b, c, d]
    assert scenes.order(items, "leastCC") == [c, a, b, d]  # ties: newest first
    assert scenes.order(items, "mostRecent", 50.0) == [c, b, a]
    assert scenes.order(items, "leastCC", 0.0) == []
    with pytest.raises(RequestError, match="mosaickingOrder"):
        scenes.order(items, "newest")


# --- ground consistency -----------------------------------------------------------------

CONSISTENCY_BANDS = ["B02", "B05", "B09", "SCL", "AOT", "viewZenithMean", "sunZenithAngles"]


@pytest.mark.parametrize("crs", [None, "EPSG:4326", "EPSG:3857", "EPSG:32633"])
@pytest.mark.parametrize("method", ["NEAREST", "BILINEAR", "BICUBIC"])
def test_tiles_equal_the_whole_bitwise(crs: str | None, method: str) -> None:
    # Across the 18 deg E boundary of UTM zones 33 and 34.
    grid = Grid.from_bbox((17.985, 45.0, 18.01, 45.012), crs=crs, resolution=10.0)
    kw = {"upsampling": method, "downsampling": method, "units": {}, "mosaic": True}
    found = acqs(ZONES, (17.9, 44.9, 18.1, 45.1))
    assert {a.tile_id for a in found} >= {"T33TYK", "T34TBQ"}
    whole = earth.render(L2A, found, grid.crs, grid.transform, grid.shape, CONSISTENCY_BANDS, **kw)[
        0
    ]
    assert whole["dataMask"].all()
    tiles = grid.tiles(max_px=70)
    assert len(tiles) > 4
    for tile in tiles:
        g = tile.grid
        part = earth.render(L2A, found, g.crs, g.transform, g.shape, CONSISTENCY_BANDS, **kw)[0]
        for band, values in part.items():
            assert np.array_equal(values, whole[band][tile.slices]), (
                band,
                tile.index_row,
                tile.index_col,
            )


@settings(max_examples=15, deadline=None)
@given(
    row=st.integers(0, 80),
    col=st.integers(0, 80),
    height=st.integers(1, 30),
    width=st.integers(1, 30),
)
def test_any_window_equals_the_whole(row: int, col: int, height: int, width: int) -> None:
    grid = Grid.from_bbox((15.0, 45.0, 15.01, 45.01), crs="EPSG:4326", resolution=10.0)
    bands = ["B04", "B11", "B01", "dataMask"]
    found = acqs(CLEAR, (14.99, 44.99, 15.02, 45.02))
    whole = earth.render(
        L2A, found, grid.crs, grid.transform, grid.shape, bands, units={}, mosaic=True
    )[0]
    assert whole["dataMask"].all()
    sub = grid.window(row, col, height, width)
    part = earth.render(
        L2A, found, sub.crs, sub.transform, sub.shape, bands, units={}, mosaic=True
    )[0]
    for band in bands:
        assert np.array_equal(part[band], whole[band][row : row + height, col : col + width])


@pytest.mark.parametrize(
    ("utm", "other"),
    [
        ("EPSG:32633", "EPSG:4326"),
        ("EPSG:32633", "EPSG:3857"),
        ("EPSG:32733", "EPSG:4326"),
        ("EPSG:32633", "EPSG:32634"),
    ],
)
def test_same_ground_point_same_value_in_any_crs(utm: str, other: str) -> None:
    y0 = Y0 if utm == "EPSG:32633" else 6_500_000.0
    day = CLEAR if utm == "EPSG:32633" else SOUTH
    transform = Affine(10.0, 0.0, X0, 0.0, -10.0, y0)
    bands = ["B04", "B11", "B01", "SCL", "CLD"]
    ref = render(day, bands, crs=utm, transform=transform, shape=(300, 300))
    rng = np.random.default_rng(7)
    rows, cols = rng.integers(0, 300, 12), rng.integers(0, 300, 12)
    xs, ys = X0 + 10.0 * (cols + 0.5), y0 - 10.0 * (rows + 0.5)  # centres of 10 m cells
    px, py = Transformer.from_crs(utm, other, always_xy=True).transform(xs, ys)
    step = 1e-6 if other == "EPSG:4326" else 0.1
    for k in range(rows.size):
        t = Affine(step, 0.0, px[k] - step / 2, 0.0, -step, py[k] + step / 2)
        one = render(day, bands, crs=other, transform=t, shape=(1, 1))
        for band in bands:
            assert one[band][0, 0] == ref[band][rows[k], cols[k]], (band, k)


def test_same_cell_whatever_the_resolution() -> None:
    fine = render(
        CLEAR, ["B11", "B01"], transform=Affine(10.0, 0, X0, 0, -10.0, Y0), shape=(120, 120)
    )
    coarse = render(CLEAR, ["B11", "B01"], shape=(60, 60))
    assert np.array_equal(coarse["B11"], fine["B11"][::2, ::2])
    sixty = render(CLEAR, ["B01"], transform=Affine(60.0, 0, X0, 0, -60.0, Y0), shape=(20, 20))
    assert np.array_equal(sixty["B01"], fine["B01"][3::6, 3::6])


def test_render_is_deterministic() -> None:
    bands = ["B02", "B8A", "SCL", "CLD", "SNW", "AOT", "sunAzimuthAngles"]
    a, b = render(CLOUDY, bands), render(CLOUDY, bands)
    assert set(a) == {*bands, "dataMask"}
    for band in a:
        assert a[band].dtype == np.float32
        assert a[band].shape == (200, 200)
        assert np.array_equal(a[band], b[band])


# --- spectra and classes ----------------------------------------------------------------


def test_spectral_tables_look_real() -> None:
    def table_ndvi(cls: int, f: float) -> float:
        red = sum(x * (1, f)[k] for k, x in enumerate(sp.class_tables("B04")))[cls]
        nir = sum(x * (1, f)[k] for k, x in enumerate(sp.class_tables("B08")))[cls]
        return float((nir - red) / (nir + red))

    assert 0.75 <= table_ndvi(sp.FOREST, 1.0) <= 0.85
    assert 0.8 <= table_ndvi(sp.CROP, 0.97) <= 0.9
    assert table_ndvi(sp.CROP, 0.08) < 0.3
    assert table_ndvi(sp.WATER, 0.0) < -0.3
    assert sp.snow("B03") > 0.8
    assert sp.snow("B11") < 0.15
    assert sp.cloud("B09") > 0.3
    assert sp.cloud("B10") > 0.03
    assert sp.cloud("B01") > 0.4


def test_forest_water_and_scl_in_a_clear_summer_scene() -> None:
    d = render(CLEAR, ["B03", "B04", "B08", "B11", "SCL"], shape=(500, 500))
    ci = np.arange(int(X0) // 20, int(X0) // 20 + 500)
    cj = np.arange(int(Y0) // 20 - 1, int(Y0) // 20 - 501, -1)
    cls = static_surface(Cells(33, ci, cj)).cls
    clear = d["SCL"] < 7
    v = ndvi(d)
    forest = (cls == sp.FOREST) & clear
    water = (cls == sp.WATER) & clear
    assert forest.mean() > 0.3
    assert water.mean() > 0.02
    assert 0.75 <= float(np.median(v[forest])) <= 0.87
    assert np.mean(v[water] < 0) > 0.95
    assert np.mean(d["SCL"][water] == 6) > 0.95
    assert np.mean(d["SCL"][forest] == 4) > 0.95


def test_crop_phenology_by_season_and_hemisphere() -> None:
    north_summer, north_winter = sp.crop_table(200, False), sp.crop_table(15, False)
    south_summer, south_winter = sp.crop_table(15, True), sp.crop_table(200, True)
    assert north_summer.max() > 0.9
    assert north_winter.mean() < north_summer.mean() - 0.2
    assert np.allclose(south_summer, sp.crop_table(15 + 182, False), atol=0.05)
    assert south_winter.mean() < south_summer.mean() - 0.2
    ci = np.arange(int(X0) // 20, int(X0) // 20 + 200)
    cj = np.arange(int(Y0) // 20 - 1, int(Y0) // 20 - 201, -1)
    crop = static_surface(Cells(33, ci, cj)).cls == sp.CROP
    summer, winter = ndvi(render(CLEAR, ["B04", "B08"])), ndvi(render(WINTER, ["B04", "B08"]))
    assert float(np.median(summer[crop])) > 0.6 > 0.45 > float(np.median(winter[crop]))


def test_snow_bright_in_green_dark_in_swir() -> None:
    # Mountains of zone 29 in winter.
    x, y = Transformer.from_crs("EPSG:4326", "EPSG:32629", always_xy=True).transform(-9.0, 39.2)
    t = Affine(60.0, 0.0, np.floor(x / 60) * 60, 0.0, -60.0, np.floor(y / 60) * 60)
    d = render(date(2024, 2, 8), ["B03", "B11", "SCL", "SNW"], crs="EPSG:32629", transform=t)
    snow = d["SCL"] == 11
    assert snow.mean() > 0.3
    assert float(np.median(d["B03"][snow])) > 0.6
    assert float(np.median(d["B11"][snow])) < 0.15
    assert float(np.median(d["SNW"][snow])) >= 80


def test_clouds_shadows_and_scl() -> None:
    t = Affine(60.0, 0.0, X0, 0.0, -60.0, Y0)
    d = render(CLOUDY, ["B02", "B08", "SCL", "CLD"], transform=t, shape=(400, 400))
    scl, cld = d["SCL"], d["CLD"]
    assert set(np.unique(scl)) >= {3, 4, 8, 9}
    assert np.all(np.isin(scl[cld >= 65], [9]))
    assert np.all(np.isin(scl[(cld >= 35) & (cld < 65)], [8]))
    assert float(np.median(d["B02"][scl == 9])) > 0.35
    assert float(np.median(d["B08"][scl == 3])) < float(np.median(d["B08"][scl == 4]))
    assert np.all((cld >= 0) & (cld <= 100))


def test_clear_date_has_few_clouds() -> None:
    d = render(CLEAR, ["SCL"], transform=Affine(60.0, 0.0, X0, 0.0, -60.0, Y0), shape=(300, 300))
    assert np.mean(np.isin(d["SCL"], [8, 9, 10])) < 0.05


# --- units, quantisation, harmonisation --------------------------------------------------


def test_values_are_quantised() -> None:
    bands = ["B02", "B05", "B09", "SCL", "AOT"]
    dn = render(CLOUDY, bands, units={"B02": "DN", "B05": "DN", "B09": "DN", "AOT": "DN"})
    refl = render(CLOUDY, bands, units={"AOT": "OPTICAL_DEPTH"})
    for band in bands:
        assert np.array_equal(dn[band], np.rint(dn[band])), band
    for band in ("B02", "B05", "B09"):
        assert np.allclose(refl[band] * 10000, dn[band], atol=0.01)
        assert np.array_equal(refl[band], dn[band] / np.float32(10000))
    assert np.allclose(refl["AOT"] * 1000, dn["AOT"], atol=0.01)
    assert float(refl["AOT"].min()) >= 0.05
    assert float(refl["AOT"].max()) <= 0.6


def test_harmonize_values() -> None:
    bands = ["B04", "B12"]
    units = {"B04": "DN", "B12": "DN"}
    harm = render(CLEAR, bands, units=units)
    raw = render(CLEAR, bands, units=units, harmonize=False)
    positive = harm["B12"] > 0
    assert np.array_equal(raw["B12"][positive], harm["B12"][positive] + 1000)
    assert np.all(raw["B12"] >= 0)
    assert np.all(harm["B12"] >= 0)
    assert np.any(raw["B12"] < 1000)  # dark water: negative physical values
    refl_raw = render(CLEAR, bands, harmonize=False)
    refl = render(CLEAR, bands)
    assert float(refl_raw["B12"].min()) < 0 <= float(refl["B12"].min())
    old = date(2021, 8, 18)  # processing baseline < 04.00: no offset
    assert np.array_equal(
        render(old, bands, units=units, harmonize=False)["B04"],
        render(old, bands, units=units)["B04"],
    )


def test_units_are_checked() -> None:
    with pytest.raises(RequestError, match="units"):
        render(CLEAR, ["B04"], units={"B04": "DEGREES"})
    with pytest.raises(RequestError, match="units"):
        render(CLEAR, ["SCL"], units={"SCL": "REFLECTANCE"})
    pct = render(CLOUDY, ["CLD", "SNW"], units={"CLD": "PERCENT", "SNW": "PERCENT"})
    dn = render(CLOUDY, ["CLD", "SNW"])
    assert np.array_equal(pct["CLD"], dn["CLD"])
    assert np.array_equal(pct["SNW"], dn["SNW"])


def test_invalid_requests() -> None:
    with pytest.raises(BandError):
        render(CLEAR, ["B10"])  # L1C only
    with pytest.raises(BandError):
        render(CLEAR, ["SCL"], collection=L1C)
    with pytest.raises(RequestError, match="resampling"):
        render(CLEAR, ["B04"], upsampling="CUBIC")
    with pytest.raises(RequestError, match="CRS"):
        render(CLEAR, ["B04"], crs="EPSG:0")
    with pytest.raises(RequestError, match="north-up"):
        render(CLEAR, ["B04"], transform=Affine(10.0, 1.0, X0, 0.0, -10.0, Y0))


# --- swaths and mosaics -----------------------------------------------------------------

WIDE = Affine(300.0, 0.0, 200_000.0, 0.0, -300.0, 5_300_000.0)  # 600 km wide at 300 m
FIRST, SECOND = date(2024, 8, 14), date(2024, 8, 17)  # R079, then R122 (further west)


def test_outside_the_swath_is_no_data_in_every_band() -> None:
    shape = (400, 2000)
    found = acqs(FIRST, grid_box(UTM33, WIDE, shape))
    bands = ["B04", "B12", "SCL", "AOT", "sunZenithAngles"]
    d = earth.render(L2A, found, UTM33, WIDE, shape, bands, units={}, mosaic=True)[0]
    hole = d["dataMask"] == 0
    assert 0.3 < hole.mean() < 0.8  # one 290 km swath in a 600 km wide grid
    for band, values in d.items():
        assert np.all(values[hole] == 0), band
        assert not np.any(np.signbit(values[hole])), band
    cols = np.arange(shape[1])
    xs, ys = WIDE.c + 300.0 * (cols + 0.5), np.full(cols.size, WIDE.f - 300.0 * 200.5)
    lon, lat = Transformer.from_crs(UTM33, "EPSG:4326", always_xy=True).transform(xs, ys)
    across, _ = imaging(found[0].pass_, np.asarray(lon), np.asarray(lat))
    inside = np.abs(across) <= 145.0
    sure = np.abs(np.abs(across) - 145.0) > 1.0  # a pixel or more from the edge
    assert np.array_equal(d["dataMask"][200][sure] == 1, inside[sure])


EAST = Affine(300.0, 0.0, 400_000.0, 0.0, -300.0, 5_300_000.0)  # 13.7 to 17.6 deg E


def test_mosaic_fills_gaps_from_the_next_acquisition() -> None:
    shape = (200, 1000)
    box = grid_box(UTM33, EAST, shape)
    first, second = acqs(FIRST, box), acqs(SECOND, box)
    both = [*first, *second]
    bands = ["B04", "B08", "SCL"]
    kw = {"units": {}, "upsampling": "NEAREST", "downsampling": "NEAREST"}
    groups = [list(range(len(first))), list(range(len(first), len(both)))]
    single = earth.render(L2A, both, UTM33, EAST, shape, bands, groups=groups, **kw)
    mosaic = earth.render(L2A, both, UTM33, EAST, shape, bands, mosaic=True, **kw)
    assert len(single) == 2
    assert len(mosaic) == 1
    hole = single[0]["dataMask"] == 0
    assert hole.any()
    assert (mosaic[0]["dataMask"] == 1).sum() > (single[0]["dataMask"] == 1).sum()
    for band in bands:
        expected = np.where(hole, single[1][band], single[0][band])
        assert np.array_equal(mosaic[0][band], expected), band
    alone = earth.render(L2A, first, UTM33, EAST, shape, bands, mosaic=True, **kw)[0]
    assert np.array_equal(alone["dataMask"], single[0]["dataMask"])
    assert np.all(alone["B04"][hole] == 0)


def test_an_acquisition_gives_only_its_own_tile() -> None:
    shape = (200, 1000)
    found = acqs(FIRST, grid_box(UTM33, EAST, shape))
    per_tile = earth.render(L2A, found, UTM33, EAST, shape, ["B04"], units={})
    total = sum((d["dataMask"] == 1).astype(int) for d in per_tile)
    covered = int((total >= 1).sum())
    assert all(0 < int((d["dataMask"] == 1).sum()) < covered for d in per_tile)
    # Neighbouring MGRS tiles overlap by 9.8 km, as real ones: a strip of 33 px at 300 m.
    assert total.max() == 2
    assert int((total > 1).sum(axis=1).max()) <= 34
    mosaic = earth.render(L2A, found, UTM33, EAST, shape, ["B04"], units={}, mosaic=True)[0]
    assert np.array_equal(total >= 1, mosaic["dataMask"] == 1)


def test_mosaic_of_nothing_is_empty() -> None:
    out = earth.render(L2A, [], UTM33, WIDE, (5, 5), ["B04"], units={}, mosaic=True)
    assert len(out) == 1
    assert not out[0]["dataMask"].any()
    assert not out[0]["B04"].any()
    assert earth.render(L2A, [], UTM33, WIDE, (5, 5), ["B04"], units={}) == []


# --- resampling -------------------------------------------------------------------------


def test_nearest_is_blocky_bilinear_is_smooth() -> None:
    t = Affine(10.0, 0.0, X0, 0.0, -10.0, Y0)
    near = render(CLEAR, ["B05", "SCL"], transform=t, shape=(100, 100))
    bil = render(CLEAR, ["B05", "SCL"], transform=t, shape=(100, 100), upsampling="BILINEAR")
    cub = render(CLEAR, ["B05"], transform=t, shape=(100, 100), upsampling="BICUBIC")
    b = near["B05"]
    assert np.array_equal(b[0::2, 0::2], b[1::2, 1::2])
    assert np.array_equal(b[0::2, :], b[1::2, :])
    step_near = np.abs(np.diff(b, axis=1))
    step_bil = np.abs(np.diff(bil["B05"], axis=1))
    assert np.mean(step_near == 0) > 0.45 > np.mean(step_bil == 0)
    assert float(step_bil.max()) < float(step_near.max())
    assert not np.array_equal(cub["B05"], bil["B05"])
    # Bilinear stays within the 2x2 neighbouring 20 m cells.
    assert float(bil["B05"].min()) >= float(b.min())
    assert float(bil["B05"].max()) <= float(b.max())
    assert np.array_equal(bil["SCL"], near["SCL"])  # classes are never interpolated


def test_downsampling_reads_the_cell_under_the_pixel_centre() -> None:
    bands = ["B04", "B05", "SCL", "dataMask"]
    fine = render(CLEAR, bands, transform=Affine(10.0, 0, X0, 0, -10.0, Y0), shape=(120, 120))
    coarse_t = Affine(30.0, 0, X0, 0, -30.0, Y0)  # pixel centres inside 10 m cells
    coarse = render(CLEAR, bands, transform=coarse_t, shape=(40, 40))
    for band in bands:
        assert np.array_equal(coarse[band], fine[band][1::3, 1::3]), band
    # Off cell centres, BILINEAR differs from NEAREST; coarse pixels (point mode) and
    # fine ones (block mode) at the same centres agree bitwise.
    kw = {"upsampling": "BILINEAR", "downsampling": "BILINEAR"}
    fine_b = render(
        CLEAR,
        ["B04", "B05"],
        transform=Affine(10.0, 0, X0 + 3, 0, -10.0, Y0 - 3),
        shape=(120, 120),
        **kw,
    )
    coarse_b = render(
        CLEAR,
        ["B04", "B05"],
        transform=Affine(30.0, 0, X0 + 3, 0, -30.0, Y0 - 3),
        shape=(40, 40),
        **kw,
    )
    coarse_n = render(
        CLEAR, ["B04"], transform=Affine(30.0, 0, X0 + 3, 0, -30.0, Y0 - 3), shape=(40, 40)
    )
    for band in ("B04", "B05"):
        assert np.array_equal(coarse_b[band], fine_b[band][1::3, 1::3]), band
    assert not np.array_equal(coarse_b["B04"], coarse_n["B04"])


# --- angles, L1C ------------------------------------------------------------------------


def test_angle_bands() -> None:
    bands = ["sunZenithAngles", "sunAzimuthAngles", "viewZenithMean", "viewAzimuthMean"]
    summer = render(CLEAR, bands, shape=(50, 50))
    winter = render(date(2024, 12, 15), bands, shape=(50, 50))
    assert 20 < float(summer["sunZenithAngles"].mean()) < 35
    assert 60 < float(winter["sunZenithAngles"].mean()) < 75
    assert 100 < float(summer["sunAzimuthAngles"].mean()) < 180
    assert np.all((summer["viewZenithMean"] >= 0) & (summer["viewZenithMean"] <= 11))
    assert np.all((summer["viewAzimuthMean"] >= 0) & (summer["viewAzimuthMean"] < 360))
    assert float(np.ptp(summer["sunZenithAngles"])) < 0.5  # smooth over 4 km


def test_l1c_is_toa_with_b10() -> None:
    bands = ["B01", "B02", "B04", "B09", "B10"]
    toa = render(CLEAR, bands, collection=L1C)
    boa = render(CLEAR, ["B01", "B02", "B04"])
    assert float(np.median(toa["B10"])) < 0.01
    assert float(np.median(toa["B01"])) > float(np.median(boa["B01"])) + 0.03  # haze
    assert float(np.median(toa["B02"])) > float(np.median(boa["B02"]))


def test_l1c_spectra_within_real_ranges(golden: Path) -> None:
    real = np.load(golden / "eolearn-reference-scenes-l1c.npy").reshape(-1, 13)
    names = [
        "B01",
        "B02",
        "B03",
        "B04",
        "B05",
        "B06",
        "B07",
        "B08",
        "B8A",
        "B09",
        "B10",
        "B11",
        "B12",
    ]
    synthetic = render(CLEAR, names, collection=L1C, shape=(300, 300))
    vegetated = render(CLEAR, ["SCL"], shape=(300, 300))["SCL"] == 4
    for k, band in enumerate(names):
        lo, hi = np.percentile(real[:, k], [1, 99])
        median = float(np.median(synthetic[band][vegetated]))
        assert lo * 0.8 <= median <= hi * 1.2, (band, median, lo, hi)
