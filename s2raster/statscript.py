"""The evalscript of a Statistical API request: bands or spectral indices, clouds masked.

:func:`outputs` sorts the names a user asks for into Sentinel-2 bands and the indices this
module can write in JavaScript (:data:`JS_INDICES`: the normalized differences of the
s2raster catalogue with their Sentinel-2 bands, EVI, EVI2 and SAVI with s2raster's
constants), and lists the input bands. :func:`statistics_evalscript` returns the script: one
``data`` output (FLOAT32) with one band per output (the service names them ``B0``, ``B1``...
in that order: :func:`band_key`), and the ``dataMask`` output the
Statistical API requires, 0 where the pixel is no data (outside the polygon or the scene),
cloudy (its ``SCL`` class in ``cloud_classes``, by default 3 cloud shadow, 8 cloud medium,
9 cloud high, 10 cirrus) or where a value is not finite (an index's zero denominator).
Sources: https://documentation.dataspace.copernicus.eu/APIs/SentinelHub/Statistical.html
(the ``dataMask`` output) and ``docs/architecture.md``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from s2raster.bands import band_table
from s2raster.clouds import CLOUD_CLASSES
from s2raster.errors import BandError
from s2raster.indices import bands_for, canonical_name

__all__ = [
    "CLOUD_CLASSES",
    "DATA_OUTPUT",
    "JS_INDICES",
    "Outputs",
    "band_key",
    "outputs",
    "statistics_evalscript",
]

DATA_OUTPUT = "data"


def _nd(a: str, b: str) -> str:
    return f"(s.{a} - s.{b}) / (s.{a} + s.{b})"


#: Index name -> its formula in JavaScript over the sample ``s`` (reflectance 0..1), the
#: same formulas and constants as :mod:`s2raster.indices` (ASI, SAVI's L = 0.5).
JS_INDICES: dict[str, str] = {
    "NDVI": _nd("B08", "B04"),
    "NDWI": _nd("B03", "B08"),
    "NDMI": _nd("B08", "B11"),
    "NBR": _nd("B08", "B12"),
    "NDRE": _nd("B08", "B05"),
    "GNDVI": _nd("B08", "B03"),
    "NDBI": _nd("B11", "B08"),
    "MNDWI": _nd("B03", "B11"),
    "NDSI": _nd("B03", "B11"),
    "NBR2": _nd("B11", "B12"),
    "EVI": "2.5 * (s.B08 - s.B04) / (s.B08 + 6.0 * s.B04 - 7.5 * s.B02 + 1.0)",
    "EVI2": "2.5 * (s.B08 - s.B04) / (s.B08 + 2.4 * s.B04 + 1.0)",
    "SAVI": "1.5 * (s.B08 - s.B04) / (s.B08 + s.B04 + 0.5)",
}


@dataclass(frozen=True)
class Outputs:
    """What a statistics request computes: output names (bands or indices) and input bands."""

    names: tuple[str, ...]
    indices: tuple[str, ...]
    input_bands: tuple[str, ...]


def outputs(
    names: str | Iterable[str], collection: str = "sentinel-2-l2a", *, cloud_mask: bool = True
) -> Outputs:
    """Sort ``names`` into bands and indices; the inputs they need (+ SCL to mask clouds)."""
    wanted = [names] if isinstance(names, str) else list(names)
    if not wanted:
        raise BandError("give at least one band or index, e.g. 'NDVI' or ['B04', 'B08']")
    table = band_table(collection)
    by_lower = {b.lower(): b for b in table if b != "dataMask"}
    found: list[str] = []
    indices: list[str] = []
    for name in wanted:
        band = by_lower.get(str(name).lower())
        if band is not None:
            found.append(band)
            continue
        key = _index_name(str(name))
        found.append(key)
        indices.append(key)
    if len(set(found)) != len(found):
        raise BandError(f"each band or index once, got {', '.join(found)}")
    bands = [b for b in found if b not in indices]
    needed = set(bands) | set(bands_for(indices) if indices else ())
    if cloud_mask:
        if "SCL" not in table:
            raise BandError(f"cloud_mask needs the SCL band, which {collection} has not")
        needed.add("SCL")
    ordered = tuple(b for b in table if b in needed)
    return Outputs(tuple(found), tuple(indices), ordered)


def _index_name(name: str) -> str:
    try:
        key = canonical_name(name)
    except BandError as exc:
        raise BandError(
            f"{name!r} is neither a band nor an index the Statistical API path supports: "
            f"give a band (B02, B04, ...) or one of {', '.join(JS_INDICES)}"
        ) from exc
    if key not in JS_INDICES:
        raise BandError(
            f"index {key} is not supported by the Statistical API path (supported: "
            f"{', '.join(JS_INDICES)}); compute it locally with zonal_stats instead"
        )
    return key


def band_key(position: int) -> str:
    """The service's name of band ``position`` of an output declared with ``bands: n``."""
    return f"B{position}"


_TEMPLATE = """//VERSION=3
function setup() {{
  return {{
    input: [{{ bands: {bands}, units: {units} }}],
    output: [
      {{ id: "{data}", bands: {n_out}, sampleType: "FLOAT32" }},
      {{ id: "dataMask", bands: 1, sampleType: "UINT8" }}
    ]
  }};
}}

const CLOUDS = {clouds};

function evaluatePixel(s) {{
  var values = [{values}];
  var ok = s.dataMask == 1{cloud_test};
  for (var i = 0; i < values.length; i++) {{
    if (!isFinite(values[i])) {{ ok = false; }}
  }}
  return {{ {data}: values, dataMask: [ok ? 1 : 0] }};
}}
"""


def statistics_evalscript(
    out: Outputs,
    collection: str = "sentinel-2-l2a",
    *,
    cloud_classes: Sequence[int] | None = CLOUD_CLASSES,
) -> str:
    """The evalscript for ``out``; ``cloud_classes`` None keeps cloudy pixels."""
    table = band_table(collection)
    inputs = [*out.input_bands, "dataMask"]
    clouds = sorted({int(c) for c in cloud_classes or ()})
    cloud_test = " && CLOUDS.indexOf(s.SCL) < 0" if cloud_classes is not None else ""
    values = [JS_INDICES[n] if n in out.indices else f"s.{n}" for n in out.names]
    return _TEMPLATE.format(
        bands=json.dumps(inputs),
        units=json.dumps([table[b].units for b in inputs]),
        data=DATA_OUTPUT,
        n_out=len(out.names),
        clouds=json.dumps(clouds),
        values=", ".join(values),
        cloud_test=cloud_test,
    )
