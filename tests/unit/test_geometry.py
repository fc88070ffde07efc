"""Areas and zones from every input users hold; bad geometries refused with a clear message."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import geopandas as gpd
import pytest
import shapely
from hypothesis import given
from hypothesis import strategies as st
from shapely.geometry import MultiPolygon, Point, Polygon, box, mapping

from s2raster.errors import InputError
from s2raster.geometry import Area, geojson, read_area, read_zones

FIELD = box(13.83, 45.86, 13.84, 45.87)
OTHER = box(13.85, 45.86, 13.86, 45.87)
UTM_FIELD = box(410_000, 5_080_000, 410_500, 5_080_400)


def feature(geometry: Any, **properties: Any) -> dict[str, Any]:
    return {"type": "Feature", "properties": properties, "geometry": mapping(geometry)}


def collection(*features: dict[str, Any]) -> dict[str, Any]:
    return {"type": "FeatureCollection", "features": list(features)}


class GeoInterface:
    def __init__(self, geometry: Any) -> None:
        self.__geo_interface__ = mapping(geometry)


@pytest.mark.parametrize(
    "value",
    [
        FIELD,
        mapping(FIELD),
        feature(FIELD, name="a"),
        collection(feature(FIELD)),
        GeoInterface(FIELD),
        [FIELD],
        gpd.GeoSeries([FIELD], crs="EPSG:4326"),
        gpd.GeoDataFrame({"name": ["a"]}, geometry=[FIELD], crs="EPSG:4326"),
    ],
    ids=["shapely", "geometry", "feature", "collection", "geo_intf", "list", "series", "frame"],
)
def test_every_kind_of_input_reads_as_the_same_lonlat_area(value: Any) -> None:
    area = read_area(value)
    assert area.crs == "EPSG:4326"
    assert area.geometry.equals(FIELD)


@pytest.mark.parametrize("suffix", [".geojson", ".gpkg", ".shp"])
def test_vector_files_are_read_in_their_crs(tmp_path: Path, suffix: str) -> None:
    frame = gpd.GeoDataFrame({"field": ["a", "b"]}, geometry=[UTM_FIELD, UTM_FIELD.buffer(-50)])
    path = tmp_path / f"fields{suffix}"
    frame.set_crs("EPSG:32633").to_file(path)
    zones = read_zones(path, id_column="field")
    assert zones.crs == "EPSG:32633"
    assert zones.ids == ("a", "b")
    assert zones.geometries[0].equals(UTM_FIELD)
    assert read_area(str(path)).geometry.equals(UTM_FIELD)  # the union


def test_geojson_files_in_lonlat_are_epsg_4326(tmp_path: Path) -> None:
    path = tmp_path / "fields.geojson"
    path.write_text(json.dumps(collection(feature(FIELD), feature(OTHER))))
    zones = read_zones(path)
    assert zones.crs == "EPSG:4326"
    assert zones.ids == (0, 1)


def test_frames_keep_their_crs_and_index() -> None:
    frame = gpd.GeoDataFrame(
        {"code": [7, 9]}, geometry=[UTM_FIELD, UTM_FIELD.buffer(-20)], index=[10, 20]
    )
    zones = read_zones(frame.set_crs(32633))
    assert (zones.crs, zones.ids) == ("EPSG:32633", (10, 20))
    assert read_zones(frame.set_crs(32633), id_column="code").ids == (7, 9)


def test_shapely_input_honours_its_crs() -> None:
    area = read_area(UTM_FIELD, crs="EPSG:32633")
    assert area.crs == "EPSG:32633"
    lonlat = area.to_crs("EPSG:4326")
    assert 13 < lonlat.bounds[0] < 14
    assert lonlat.to_crs(32633).geometry.equals_exact(UTM_FIELD, 1e-6)


def test_a_legacy_geojson_crs_member_is_honoured() -> None:
    value = {
        **mapping(UTM_FIELD),
        "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::32633"}},
    }
    assert read_area(value).crs == "EPSG:32633"


def test_features_union_keeps_multipolygons_and_holes() -> None:
    holed = FIELD.difference(Point(13.835, 45.865).buffer(0.002))
    area = read_area(collection(feature(holed), feature(OTHER)))
    assert area.geometry.geom_type == "MultiPolygon"
    assert area.geometry.area == pytest.approx(holed.area + OTHER.area)
    assert len(area.geometry.geoms[0].interiors) + len(area.geometry.geoms[1].interiors) == 1


def test_zone_ids_from_a_property_must_be_unique_and_present() -> None:
    value = collection(feature(FIELD, name="a"), feature(OTHER, name="b"))
    assert read_zones(value, id_column="name").ids == ("a", "b")
    with pytest.raises(InputError, match="'code' is not a property of feature 0"):
        read_zones(value, id_column="code")
    same = collection(feature(FIELD, name="a"), feature(OTHER, name="a"))
    with pytest.raises(InputError, match="unique"):
        read_zones(same, id_column="name")


BOWTIE = Polygon([(13.8, 45.8), (13.9, 45.9), (13.9, 45.8), (13.8, 45.9)])


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (Polygon(), "empty"),
        (feature(FIELD) | {"geometry": None}, "empty"),
        (collection(), "no features"),
        (Point(13.8, 45.8), "Point, not a polygon"),
        (shapely.LineString([(13.8, 45.8), (13.9, 45.9)]), "LineString, not a polygon"),
        (BOWTIE, r"not a valid polygon \(Self-intersection.*make_valid=True"),
        (UTM_FIELD, "outside lon/lat: give their CRS"),
        ({"type": "Polygon", "coordinates": "nope"}, "not a valid GeoJSON geometry"),
        ({"coordinates": []}, "needs a 'type'"),
        (42, "cannot read a geometry from int"),
        ("missing.geojson", "does not exist"),
        (gpd.GeoSeries([FIELD]), "has no CRS"),
    ],
)
def test_bad_geometries_are_refused_with_the_reason(value: Any, message: str) -> None:
    with pytest.raises(InputError, match=message):
        read_area(value)


def test_make_valid_repairs_an_invalid_polygon() -> None:
    area = read_area(BOWTIE, make_valid=True)
    assert area.geometry.is_valid
    assert area.geometry.geom_type == "MultiPolygon"
    assert area.geometry.area == pytest.approx(0.005)


def test_mixed_crs_lists_are_refused() -> None:
    frame = gpd.GeoSeries([UTM_FIELD], crs="EPSG:32633")
    with pytest.raises(InputError, match="different CRSs"):
        read_zones([FIELD, frame])


def test_clip_and_geojson_lists() -> None:
    area = Area(box(0, 0, 10, 10), "EPSG:32633")
    assert area.clip((5, 5, 20, 20)).equals(box(5, 5, 10, 10))  # type: ignore[union-attr]
    assert area.clip((20, 20, 30, 30)) is None
    assert area.clip((10, 0, 20, 10)) is None  # touching edge only: no polygon
    text = geojson(MultiPolygon([box(0, 0, 1, 1)]))
    assert isinstance(text["coordinates"][0][0][0], list)
    assert json.loads(json.dumps(text)) == text


@given(
    st.one_of(
        st.integers(),
        st.floats(),
        st.text(max_size=20),
        st.lists(st.integers(), max_size=3),
        st.dictionaries(st.text(max_size=5), st.integers(), max_size=3),
    )
)
def test_arbitrary_input_is_refused_as_input_error(value: Any) -> None:
    with pytest.raises(InputError):
        read_area(value)
