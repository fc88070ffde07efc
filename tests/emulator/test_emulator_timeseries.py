"""The emulator for time series: overpasses that follow the ground, tiles seconds apart,
passes on one solar day, UTC midnight, per-tile cloud cover, and what a Process request's
timeRange, mosaickingOrder and maxCloudCoverage select; the catalog as CDSE pages it."""

from __future__ import annotations

import io
import itertools
import json
from collections.abc import Iterator
from datetime import date, datetime, timedelta, timezone
from typing import Any

import numpy as np
import pytest
import rasterio
import requests
from affine import Affine

from s2raster.emulator import Emulator, earth
from s2raster.emulator.catalog._item import iso_ms

L2A = "sentinel-2-l2a"
UTM33 = "EPSG:32633"
BOX = (14.873, 44.85, 14.92, 44.88)  # one tile (33TVK), seen by relative orbits 79 and 122
TWO_TILES = (14.4, 46.0, 14.6, 46.1)  # across the 5100 km northing: 33TVM and 33TVL
SEARCH = "/api/v1/catalog/1.0.0/search"


def local_hours(acq: earth.Acquisition, lon: float) -> float:
    when = acq.datetime + timedelta(hours=lon / 15.0)
    return when.hour + when.minute / 60 + when.second / 3600


def solar_day(acq: earth.Acquisition, lon: float) -> date:
    return (acq.datetime + timedelta(hours=lon / 15.0)).date()


# -- the overpass model ------------------------------------------------------------------


@pytest.mark.parametrize("lon", [-120.0, -60.0, 0.0, 30.0, 100.0, 170.0])
def test_equator_is_crossed_near_half_past_ten_local_time(lon: float) -> None:
    box = (lon, 0.0, lon + 0.01, 0.01)
    found = earth.acquisitions(L2A, box, date(2024, 3, 1), date(2024, 3, 20))
    assert len(found) >= 3
    for acq in found:
        assert 10.25 <= local_hours(acq, lon) <= 10.75, acq.datetime
    # so the UTC time follows the longitude
    utc = found[0].datetime.hour + found[0].datetime.minute / 60
    off = (utc - (10.5 - lon / 15)) % 24
    assert min(off, 24 - off) < 0.5


def test_passes_lean_east_later_local_time_in_the_north() -> None:
    found = earth.acquisitions(L2A, BOX, date(2024, 6, 1), date(2024, 6, 30))
    hours = [local_hours(a, 14.9) for a in found]
    assert all(10.8 <= h <= 11.4 for h in hours)


def test_tiles_of_one_pass_are_seconds_apart_north_first() -> None:
    found = earth.acquisitions(L2A, TWO_TILES, date(2024, 6, 1), date(2024, 6, 10))
    by_pass = itertools.groupby(found, key=lambda a: a.pass_)
    for _, group in by_pass:
        tiles = list(group)
        assert [a.tile_id for a in tiles] == ["T33TVM", "T33TVL"]
        gap = tiles[1].datetime - tiles[0].datetime
        assert timedelta(seconds=5) < gap < timedelta(seconds=60)
        assert tiles[0].id.split("_")[2] == tiles[1].id.split("_")[2]  # one datatake
        assert tiles[0].datetime.microsecond % 1000 == 0


def test_ids_look_like_cdse_products() -> None:
    (acq,) = earth.acquisitions(L2A, BOX, date(2024, 6, 8), date(2024, 6, 8))
    assert acq.id == "S2B_MSIL2A_20240608T100351_N0510_R122_T33TVK_20240608T114512"
    assert iso_ms(acq.datetime) == "2024-06-08T10:08:15.132Z"


def test_two_passes_on_one_solar_day_in_the_high_north() -> None:
    lon = 11.93  # Ny-Alesund, 78.92 N: the swaths of 2A and 2B overlap there
    box = (lon, 78.92, lon + 0.02, 78.93)
    found = earth.acquisitions(L2A, box, date(2024, 6, 1), date(2024, 6, 1))
    assert [(iso_ms(a.datetime), a.platform, a.orbit) for a in found] == [
        ("2024-06-01T12:39:12.974Z", "sentinel-2a", 95),
        ("2024-06-01T13:29:02.946Z", "sentinel-2b", 24),
    ]
    assert found[1].datetime - found[0].datetime > timedelta(minutes=45)


def test_one_pass_across_utc_midnight() -> None:
    box = (169.4, 58.6, 169.9, 59.6)  # relative orbit 116, about 169.5 E
    found = [
        a
        for a in earth.acquisitions(L2A, box, date(2024, 6, 2), date(2024, 6, 3))
        if a.orbit == 116
    ]
    when = {a.tile_id: iso_ms(a.datetime) for a in found}
    assert when["T59VMG"] == "2024-06-02T23:59:45.492Z"
    assert when["T59VMF"] == "2024-06-03T00:00:00.231Z"
    assert len({a.pass_ for a in found}) == 1
    assert {solar_day(a, 169.5) for a in found} == {date(2024, 6, 3)}


def test_two_passes_of_one_solar_day_on_two_utc_days() -> None:
    lon = -157.0  # 79 N: passes near UTC midnight
    box = (lon, 79.0, lon + 0.05, 79.02)
    found = earth.acquisitions(L2A, box, date(2024, 6, 2), date(2024, 6, 3))
    day = [a for a in found if solar_day(a, lon) == date(2024, 6, 2)]
    assert [iso_ms(a.datetime) for a in day] == [
        "2024-06-02T23:53:52.575Z",
        "2024-06-03T00:43:42.280Z",
    ]


def test_near_the_antimeridian_the_utc_date_is_the_day_before() -> None:
    box = (178.4, -18.15, 178.45, -18.1)  # Fiji
    found = earth.acquisitions(L2A, box, date(2024, 6, 1), date(2024, 6, 20))
    assert found
    for acq in found:
        assert acq.datetime.hour == 22
        assert solar_day(acq, 178.4) == acq.datetime.date() + timedelta(days=1)


def test_tile_cloud_cover_matches_its_pixels() -> None:
    june = earth.acquisitions(L2A, BOX, date(2024, 6, 1), date(2024, 6, 20))
    found = [a for a in june if a.datetime.day in (8, 10, 18)]  # 0 %, 48 %, 73 %
    transform = Affine(1500.0, 0.0, 399_960.0, 0.0, -1500.0, 5_009_840.0)  # the whole tile
    bands = ["SCL", "CLD"]
    samples = earth.render(L2A, found, UTM33, transform, (73, 73), bands, units={})
    for acq, sample in zip(found, samples, strict=True):
        seen = sample["dataMask"] == 1
        assert seen.mean() > 0.1
        cloudy = np.isin(sample["SCL"][seen], [8, 9]).mean() * 100
        assert abs(cloudy - acq.cloud_cover) < 12, (acq.id, cloudy, acq.cloud_cover)
        if acq.cloud_cover == 0:
            assert not np.isin(sample["SCL"][seen], [3, 8, 9]).any()  # cirrus (10) may be
            assert sample["CLD"][seen].max() < 35


# -- Process requests over HTTP ----------------------------------------------------------

EVALSCRIPT = """//VERSION=3
function setup() {
  return { input: ["B04", "SCL", "dataMask"],
           output: { bands: 3, sampleType: "FLOAT32" }, mosaicking: "%s" };
}
function evaluatePixel(s) { var x = %s; return [x.B04, x.SCL, x.dataMask]; }
"""
GRID = Affine(60.0, 0.0, 486_000.0, 0.0, -60.0, 4_972_000.0)  # in tile 33TVK
SHAPE = (80, 80)


def process(
    emulator: Emulator, token: str, time_range: tuple[str, str], mosaicking: str = "SIMPLE",
    **data_filter: Any,
) -> np.ndarray:  # fmt: skip
    sample = "s" if mosaicking == "SIMPLE" else "s[0]"
    x0, y0 = GRID.c, GRID.f
    body = {
        "input": {
            "bounds": {
                "bbox": [x0, y0 - 60.0 * SHAPE[0], x0 + 60.0 * SHAPE[1], y0],
                "properties": {"crs": "http://www.opengis.net/def/crs/EPSG/0/32633"},
            },
            "data": [
                {
                    "type": L2A,
                    "dataFilter": {
                        "timeRange": {"from": time_range[0], "to": time_range[1]},
                        **data_filter,
                    },
                }
            ],
        },
        "output": {
            "width": SHAPE[1],
            "height": SHAPE[0],
            "responses": [{"identifier": "default", "format": {"type": "image/tiff"}}],
        },
        "evalscript": EVALSCRIPT % (mosaicking, sample),
    }
    response = requests.post(
        emulator.base_url + "/api/v1/process",
        data=json.dumps(body),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        timeout=120,
    )
    assert response.status_code == 200, response.text
    with rasterio.open(io.BytesIO(response.content)) as ds:
        return ds.read()


def pixels(acqs: list[earth.Acquisition]) -> dict[str, np.ndarray]:
    return earth.render(L2A, acqs, UTM33, GRID, SHAPE, ["B04", "SCL"], units={}, mosaic=True)[0]


def exactly(acq: earth.Acquisition) -> tuple[str, str]:
    return iso_ms(acq.datetime), iso_ms(acq.datetime)


@pytest.fixture(scope="module")
def june() -> list[earth.Acquisition]:
    return earth.acquisitions(L2A, BOX, date(2024, 6, 1), date(2024, 6, 30))


@pytest.mark.parametrize("mosaicking", ["SIMPLE", "ORBIT"])
def test_a_time_range_holding_one_acquisition_gives_its_pixels(
    emulator: Emulator, token: str, june: list[earth.Acquisition], mosaicking: str
) -> None:
    for acq in june[:3]:
        out = process(emulator, token, exactly(acq), mosaicking)
        expected = pixels([acq])
        assert np.array_equal(out[2], expected["dataMask"])
        assert np.array_equal(out[0], expected["B04"])
        assert np.array_equal(out[1], expected["SCL"])


def test_mosaicking_order_orders_the_scenes_of_the_range(
    emulator: Emulator, token: str, june: list[earth.Acquisition]
) -> None:
    span = ("2024-06-01T00:00:00Z", "2024-06-30T23:59:59Z")
    newest = process(emulator, token, span)
    assert np.array_equal(newest[0], pixels(earth.order(june, "mostRecent"))["B04"])
    oldest = process(emulator, token, span, mosaickingOrder="leastRecent")
    assert np.array_equal(oldest[0], pixels(earth.order(june, "leastRecent"))["B04"])
    clear = process(emulator, token, span, mosaickingOrder="leastCC")
    assert np.array_equal(clear[0], pixels(earth.order(june, "leastCC"))["B04"])
    assert not np.array_equal(newest[0], oldest[0])


def test_max_cloud_coverage_drops_tiles_by_their_cover(
    emulator: Emulator, token: str, june: list[earth.Acquisition]
) -> None:
    span = ("2024-06-01T00:00:00Z", "2024-06-30T23:59:59Z")
    out = process(emulator, token, span, maxCloudCoverage=10)
    kept = [a for a in june if a.cloud_cover <= 10]
    assert kept
    assert len(kept) < len(june)
    assert np.array_equal(out[0], pixels(earth.order(kept, "mostRecent"))["B04"])
    cloudy = min(june, key=lambda a: -a.cloud_cover)
    assert cloudy.cloud_cover > 50
    none = process(emulator, token, exactly(cloudy), maxCloudCoverage=cloudy.cloud_cover - 1)
    assert not none[2].any()


# -- the catalog over HTTP ---------------------------------------------------------------


def post(emulator: Emulator, token: str, body: dict[str, Any]) -> dict[str, Any]:
    response = requests.post(
        emulator.base_url + SEARCH,
        json=body,
        headers={"Authorization": f"Bearer {token}"},
        timeout=60,
    )
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def pages(emulator: Emulator, token: str, body: dict[str, Any]) -> Iterator[dict[str, Any]]:
    while True:
        page = post(emulator, token, body)
        yield page
        if "next" not in page["context"]:
            return
        body = {**body, "next": page["context"]["next"]}


SUMMER = {
    "collections": [L2A],
    "bbox": list(TWO_TILES),
    "datetime": "2024-06-01T00:00:00Z/2024-08-31T23:59:59Z",
}


def test_catalog_items_are_the_acquisitions_paged(emulator: Emulator, token: str) -> None:
    items = [f for page in pages(emulator, token, {**SUMMER, "limit": 7}) for f in page["features"]]
    expected = earth.acquisitions(L2A, TWO_TILES, date(2024, 6, 1), date(2024, 8, 31))
    assert [f["id"] for f in items] == [a.id for a in expected]
    first = items[0]
    assert first["properties"]["datetime"] == iso_ms(expected[0].datetime)
    assert first["properties"]["eo:cloud_cover"] == expected[0].cloud_cover
    assert first["properties"]["proj:epsg"] == 32633
    assert first["geometry"]["type"] == "MultiPolygon"
    assert first["assets"]["data"]["href"].startswith("s3://sentinel-s2-l2a/tiles/33/T/")


@pytest.mark.parametrize(
    ("flt", "lang"),
    [
        ("eo:cloud_cover < 20", "cql2-text"),
        ({"op": "<", "args": [{"property": "eo:cloud_cover"}, 20]}, "cql2-json"),
    ],
)
def test_catalog_filters_on_cloud_cover(
    emulator: Emulator, token: str, flt: Any, lang: str
) -> None:
    body = {**SUMMER, "filter": flt, "filter-lang": lang, "limit": 100}
    items = [f for page in pages(emulator, token, body) for f in page["features"]]
    expected = earth.acquisitions(L2A, TWO_TILES, date(2024, 6, 1), date(2024, 8, 31))
    assert [f["id"] for f in items] == [a.id for a in expected if a.cloud_cover < 20]


def test_catalog_fields_and_distinct_dates(emulator: Emulator, token: str) -> None:
    fields = {"include": ["id", "properties.datetime"], "exclude": []}
    page = post(emulator, token, {**SUMMER, "fields": fields, "limit": 3})
    assert all(set(f) == {"id", "type", "properties"} for f in page["features"])
    assert all(set(f["properties"]) == {"datetime"} for f in page["features"])
    dates = [
        d for p in pages(emulator, token, {**SUMMER, "distinct": "date"}) for d in p["features"]
    ]
    expected = earth.acquisitions(L2A, TWO_TILES, date(2024, 6, 1), date(2024, 8, 31))
    assert dates == sorted({a.datetime.date().isoformat() for a in expected})


def test_sentinelhub_catalog_pages_through_everything(emulator: Emulator) -> None:
    from sentinelhub import CRS, BBox, DataCollection, SentinelHubCatalog

    config = emulator.config()
    collection = DataCollection.SENTINEL2_L2A.define_from(
        "s2raster_emulator_ts", service_url=config.sh_base_url
    )
    search = SentinelHubCatalog(config=config).search(
        collection,
        bbox=BBox(TWO_TILES, crs=CRS.WGS84),
        time=("2024-06-01", "2024-08-31"),
        filter="eo:cloud_cover < 50",
        fields={"include": ["id", "properties.datetime", "properties.eo:cloud_cover"]},
        limit=5,
    )
    items = list(search)
    expected = earth.acquisitions(L2A, TWO_TILES, date(2024, 6, 1), date(2024, 8, 31))
    assert [i["id"] for i in items] == [a.id for a in expected if a.cloud_cover < 50]
    stamps = search.get_timestamps()
    assert stamps[0] == datetime.fromisoformat(items[0]["properties"]["datetime"][:-1]).replace(
        tzinfo=timezone.utc
    )
