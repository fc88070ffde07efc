"""The evalscript and the Process API JSON of a tile request (pure functions).

:func:`evalscript` reads the asked bands in their natural units (REFLECTANCE for reflective
bands, DN for SCL, PERCENT for SNW/CLD, OPTICAL_DEPTH for AOT, DEGREES for angles) plus
``dataMask`` (always the last output band) and writes them as FLOAT32; with
``sample_type="UINT16"`` it reads reflective bands as DN instead (integers, DN / 10000 is the
reflectance: :data:`s2raster.bands.INTEGER_UNITS`) and writes UINT16, which the service
bills at half the processing units. :func:`payload` is the exact JSON
sentinelhub-py sends for a :class:`~s2raster.plan.TileRequest` (tested against
``request.download_list[0].post_values`` and the CDSE OpenAPI schema); it is also the
request part of the cache key. A request with a ``geometry`` sends it in
``input.bounds.geometry`` beside the tile's bbox (pixels outside it get ``dataMask`` 0).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from typing import Any

from s2raster.bands import DATA_MASK, band_table, integer_units
from s2raster.geometry import geojson
from s2raster.grid import Grid, Tile, crs_string
from s2raster.plan import TileRequest
from s2raster.query import Query
from s2raster.timerange import format_time

OUTPUT_ID = "default"
TIFF = "image/tiff"

_TEMPLATE = """//VERSION=3
function setup() {{
  return {{
    input: [{{ bands: {bands}, units: {units} }}],
    output: {{ id: "{output_id}", bands: {n_out}, sampleType: "{sample_type}" }},
  }};
}}

function evaluatePixel(sample) {{
  return [{values}];
}}
"""


def evalscript(
    bands: Sequence[str], collection: str = "sentinel-2-l2a", sample_type: str = "FLOAT32"
) -> str:
    """An evalscript V3 for ``bands`` (+ ``dataMask`` last), one ``default`` output of
    ``sample_type`` (``"FLOAT32"``: natural units; ``"UINT16"``: integer units)."""
    table = band_table(collection)
    names = [*bands, DATA_MASK.name]
    if sample_type == "FLOAT32":
        units = [table[name].units for name in names]
    else:
        units = [u for u, _ in integer_units(collection, bands)] + [DATA_MASK.units]
    return _TEMPLATE.format(
        bands=json.dumps(names),
        units=json.dumps(units),
        output_id=OUTPUT_ID,
        n_out=len(names),
        sample_type=sample_type,
        values=", ".join(f"sample.{name}" for name in names),
    )


def crs_uri(crs: str) -> str:
    """The OGC URI sentinelhub-py writes into ``input.bounds.properties.crs``."""
    return f"http://www.opengis.net/def/crs/EPSG/0/{crs_string(crs).split(':')[1]}"


def payload(request: TileRequest) -> dict[str, Any]:
    """The Process API JSON body of ``request``, as sentinelhub-py builds it."""
    query, grid = request.query, request.tile.grid
    data_filter: dict[str, Any] = {
        "timeRange": {"from": format_time(query.time_from), "to": format_time(query.time_to)},
        "mosaickingOrder": query.mosaicking,
    }
    if query.max_cloud is not None:
        data_filter["maxCloudCoverage"] = query.max_cloud
    bounds: dict[str, Any] = {
        "properties": {"crs": crs_uri(grid.crs)},
        "bbox": [float(v) for v in grid.bounds],
    }
    if request.geometry is not None:  # the tile's part of the area, in the grid's CRS
        bounds["geometry"] = geojson(request.geometry)
    return {
        "input": {
            "bounds": bounds,
            "data": [
                {
                    "type": query.collection,
                    "dataFilter": data_filter,
                    "processing": {
                        "upsampling": query.upsampling,
                        "downsampling": query.downsampling,
                    },
                }
            ],
        },
        "evalscript": evalscript(query.bands, query.collection, query.sample_type),
        "output": {
            "responses": [{"identifier": OUTPUT_ID, "format": {"type": TIFF}}],
            "width": grid.width,
            "height": grid.height,
        },
    }


def request_digest(grid: Grid, query: Query) -> str:
    """SHA-256 of the canonical JSON of the Process API payload for the whole ``grid``
    (as if one request covered it): it names a job (area, grid, time, bands, filters,
    evalscript) whatever its tiling, and goes into an export's provenance."""
    body = payload(TileRequest(Tile(0, 0, 0, 0, grid), query))
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), allow_nan=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()
