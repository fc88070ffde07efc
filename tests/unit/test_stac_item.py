"""The STAC Item beside every export: valid against the STAC JSON Schemas in ../shared/stac
(resolved offline with a ``referencing`` registry), and read back by odc-stac with the
same grid, bands and values."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import xarray as xr

from s2raster._load import LoadStats, load
from s2raster.export import to_geotiff
from s2raster.indices import stack
from s2raster.stac import item_for_file, item_path
from s2raster.testing import FakeFetch

TIME = "2024-06-01/2024-06-30"
AREA = (14.45, 46.02, 14.47, 46.03)
BANDS = ["B02", "B03", "B04", "B08"]

#: pystac 1.15 writes STAC 1.1.0; ../shared has the 1.1.0-beta.1 core schema (see its
#: README: "the 1.1.0 release differs little") and 1.0.0's. Each pins ``stac_version`` to
#: its own version, so the Item is checked against both with that one field set to match.
CORES = ("stac-spec/v1.1.0-beta.1/item.json", "stac-spec/v1.0.0/item.json")
# The core schema refers to the GeoJSON schemas of geojson.org, not kept offline: these
# stand-ins check what a GeoJSON Feature must have (RFC 7946, section 3).
_GEOMETRY = {
    "type": "object",
    "required": ["type", "coordinates"],
    "properties": {
        "type": {
            "enum": [
                "Point",
                "MultiPoint",
                "LineString",
                "MultiLineString",
                "Polygon",
                "MultiPolygon",
            ]
        },
        "coordinates": {"type": "array"},
    },
}
_FEATURE = {
    "type": "object",
    "required": ["type", "geometry", "properties"],
    "properties": {
        "type": {"const": "Feature"},
        "geometry": {"oneOf": [{"type": "null"}, _GEOMETRY]},
        "properties": {"type": ["object", "null"]},
    },
}


@pytest.fixture(scope="module")
def validate(shared_dir: Path) -> Any:
    """Validate an Item dict against the core schema and each of its extensions."""
    from jsonschema import Draft7Validator
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT7

    stac = shared_dir / "stac"
    resources = []
    for path in sorted(stac.rglob("*.json")):
        contents = json.loads(path.read_text())
        resource = Resource.from_contents(contents, default_specification=DRAFT7)
        resources.append((str(contents["$id"]).rstrip("#"), resource))
        if "stac-spec" in path.parts:  # by file name too (common.json's $id has a typo)
            version = path.parent.name
            url = f"https://schemas.stacspec.org/{version}/item-spec/json-schema/{path.name}"
            resources.append((url, resource))
    for name, schema in (("Feature", _FEATURE), ("Geometry", _GEOMETRY)):
        resources.append(
            (f"https://geojson.org/schema/{name}.json", DRAFT7.create_resource(schema))
        )
    registry: Registry[Any] = Registry().with_resources(resources)

    def check(item: dict[str, Any]) -> list[str]:
        checked = []
        assert item["stac_version"] == "1.1.0"
        for name in CORES:
            core = json.loads((stac / name).read_text())
            version = Path(name).parent.name.removeprefix("v")
            Draft7Validator(core, registry=registry).validate({**item, "stac_version": version})
            checked.append(core["$id"])
        for uri in item["stac_extensions"]:
            schema = registry.contents(uri)
            Draft7Validator(schema, registry=registry).validate(item)
            checked.append(uri)
        return checked

    return check


@pytest.fixture(scope="module")
def bands_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("stac") / "four.tif"
    stats = LoadStats()
    da = load(
        AREA, TIME, BANDS, fetch=FakeFetch(fill=0.25, synthetic=True), cache=False, stats=stats
    )
    to_geotiff(da, out, stats=stats)
    return out


@pytest.fixture(scope="module")
def index_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("stac") / "indices.tif"
    da = load(AREA, TIME, BANDS, fetch=FakeFetch(), cache=False)
    to_geotiff(stack(da, ["NDVI", "NDWI"]), out)
    return out


def test_item_is_written_beside_the_file(bands_file: Path) -> None:
    assert item_path(bands_file).name == "four.json"
    assert item_path(bands_file).exists()
    assert sorted(p.name for p in bands_file.parent.iterdir()) == ["four.json", "four.tif"]


@pytest.mark.parametrize("which", ["bands_file", "index_file"])
def test_item_validates_against_the_stac_schemas(
    which: str, request: pytest.FixtureRequest, validate: Any
) -> None:
    path: Path = request.getfixturevalue(which)
    item = json.loads(item_path(path).read_text())
    checked = validate(item)
    assert len(checked) == 5  # 2 cores + projection v2.0.0 + eo v1.1.0 + raster v1.1.0
    assert any("projection/v2.0.0" in uri for uri in checked)


def test_item_fields(bands_file: Path) -> None:
    item = json.loads(item_path(bands_file).read_text())
    props = item["properties"]
    assert props["proj:code"] == "EPSG:32633"
    assert props["proj:shape"][0] > 0
    assert len(props["proj:transform"]) == 6
    assert props["datetime"] is None
    assert (props["start_datetime"], props["end_datetime"]) == (
        "2024-06-01T00:00:00Z",
        "2024-06-30T23:59:59Z",
    )
    assert props["s2raster:synthetic"] is True
    assert props["s2raster:processing_units_spent"] > 0
    assert len(props["s2raster:request_sha256"]) == 64
    assert "evaluatePixel" in props["s2raster:evalscript"]
    west, south, east, north = item["bbox"]
    assert west <= AREA[0] < AREA[2] <= east
    assert south <= AREA[1] < AREA[3] <= north
    asset = item["assets"]["data"]
    assert asset["type"] == "image/tiff; application=geotiff; profile=cloud-optimized"
    eo = {b["name"]: b for b in asset["eo:bands"]}
    assert list(eo) == BANDS
    assert eo["B04"]["common_name"] == "red"
    assert eo["B04"]["center_wavelength"] == pytest.approx(0.6646)
    assert eo["B08"]["full_width_half_max"] == pytest.approx(0.106)
    raster = asset["raster:bands"][0]
    assert (raster["data_type"], raster["nodata"], raster["unit"]) == (
        "float32",
        "nan",
        "reflectance",
    )
    assert raster["statistics"]["mean"] == pytest.approx(0.25)


def test_index_item_has_each_formula(index_file: Path) -> None:
    item = json.loads(item_path(index_file).read_text())
    eo = item["assets"]["data"]["eo:bands"]
    assert [b["name"] for b in eo] == ["NDVI", "NDWI"]
    assert eo[0]["description"].startswith("NDVI: ")
    assert "B08" in eo[0]["description"]
    assert eo[0]["description"] != eo[1]["description"]
    assert "center_wavelength" not in eo[0]


def test_odc_stac_loads_the_grid_and_bands_back(bands_file: Path) -> None:
    import odc.stac
    import rioxarray

    item = item_for_file(bands_file)
    item.assets["data"].href = str(bands_file)
    ds = odc.stac.load([item], bands=["B02", "B03", "B04", "B08"], chunks={})
    original = rioxarray.open_rasterio(bands_file)
    assert ds.odc.geobox.crs.epsg == 32633
    assert ds.odc.geobox.shape == original.shape[1:]
    assert ds.odc.geobox.affine.almost_equals(original.rio.transform())
    assert list(ds.data_vars) == BANDS
    for i, band in enumerate(BANDS):
        got = ds[band].isel(time=0).values
        np.testing.assert_array_equal(got, original.isel(band=i).values)
    assert isinstance(ds, xr.Dataset)


def test_stac_false_writes_no_item(tmp_path: Path) -> None:
    da = load(AREA, TIME, ["B04"], fetch=FakeFetch(), cache=False)
    to_geotiff(da, tmp_path / "b04.tif", stac=False)
    assert [p.name for p in tmp_path.iterdir()] == ["b04.tif"]
