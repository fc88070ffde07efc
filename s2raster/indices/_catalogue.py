"""The vendored Awesome Spectral Indices (ASI) catalogue, restricted to Sentinel-2.

The JSON files in ``data/`` are ASI's ``output/`` files (``spectral-indices-dict.json``,
``constants.json``, ``bands.json``), pinned; ``data/SOURCE.json`` records where and when they
came from (``scripts/refresh_asi.py`` refreshes them). An index is offered when every band it
uses has a Sentinel-2 band in ASI's platform table (:data:`ASI_TO_S2`) and its other symbols
are ASI constants or ASI kernel terms (``kNN``, ``kNR``, ...).

Constants default to ASI's ``constants.json``, except those in :data:`DEFAULT_OVERRIDES`.
ASI leaves the wavelength constants (``lambdaN``, ...) without default: "select the central
wavelength according to your sensor" (ASI maintainer, awesome-spectral-indices issue #63); here
they default to the Sentinel-2A centre wavelengths of ASI's ``bands.json``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

__all__ = [
    "ASI_TO_S2",
    "DEFAULT_OVERRIDES",
    "KERNELS",
    "S2_BANDS",
    "SpectralIndex",
    "constant_defaults",
    "constants_table",
    "entries",
    "excluded",
    "source",
]

#: ASI band symbol -> Sentinel-2 band (ASI's platform band table for Sentinel-2).
ASI_TO_S2: Mapping[str, str] = {
    "A": "B01",
    "B": "B02",
    "G": "B03",
    "R": "B04",
    "RE1": "B05",
    "RE2": "B06",
    "RE3": "B07",
    "N": "B08",
    "N2": "B8A",
    "WV": "B09",
    "S1": "B11",
    "S2": "B12",
}
#: The Sentinel-2 reflectance bands, in band order.
S2_BANDS = (
    "B01", "B02", "B03", "B04", "B05", "B06", "B07", "B08", "B8A", "B09", "B10", "B11", "B12",
)  # fmt: skip
#: s2raster's defaults where they differ from ASI's one value per constant: SAVI's L is
#: Huete (1988)'s 0.5 (ASI's L = 1.0 is EVI's), as s2raster's SAVI always had.
DEFAULT_OVERRIDES: Mapping[str, Mapping[str, float]] = {"SAVI": {"L": 0.5}}
#: s2raster names that differ from ASI's short names (ASI's NDREI is offered as NDRE).
RENAMED: Mapping[str, str] = {"NDREI": "NDRE"}
#: ASI's kernels k(a, b) (spyndex.computeKernel; Camps-Valls et al. 2021, kNDVI).
KERNELS: Mapping[str, str] = {
    "RBF": "exp((-1.0 * (a - b) ** 2.0) / (2.0 * sigma ** 2.0))",
    "linear": "a * b",
    "poly": "((a * b) + c) ** p",
}
#: Wavelength constant -> the ASI band whose centre wavelength it is.
_WAVELENGTHS = {"lambdaG": "G", "lambdaN": "N", "lambdaN2": "N2", "lambdaR": "R"}
_WAVELENGTHS |= {"lambdaS1": "S1", "lambdaS2": "S2"}


@dataclass(frozen=True)
class SpectralIndex:
    """One catalogue index, as s2raster offers it.

    ``formula`` is ASI's (with ASI's symbols); ``bands`` are the Sentinel-2 bands it reads,
    in order of first use (as ASI lists them); ``constants`` maps each constant it uses to
    its default (``None``: no default, the caller must give it); ``kernel_terms`` are ASI
    kernel symbols such as ``kNR`` = k(N, R), each a pair of ASI symbols.
    """

    name: str
    asi_name: str
    long_name: str
    formula: str
    bands: tuple[str, ...]
    constants: Mapping[str, float | None]
    kernel_terms: Mapping[str, tuple[str, str]] = field(default_factory=dict)
    application_domain: str = ""
    reference: str = ""
    contributor: str | None = None
    date_of_addition: str | None = None
    platforms: tuple[str, ...] = ()


def _read(name: str) -> Any:
    text = resources.files("s2raster.indices").joinpath("data").joinpath(name).read_text("utf-8")
    return json.loads(text)


@cache
def source() -> Mapping[str, Any]:
    """Where the vendored catalogue came from (``data/SOURCE.json``)."""
    data: Mapping[str, Any] = _read("SOURCE.json")
    return data


@cache
def constants_table() -> Mapping[str, Mapping[str, Any]]:
    """ASI's constants (``default``, ``description``), wavelength defaults filled in."""
    table: dict[str, dict[str, Any]] = {k: dict(v) for k, v in _read("constants.json").items()}
    bands = _read("bands.json")
    for constant, symbol in _WAVELENGTHS.items():
        entry = table.setdefault(constant, {"short_name": constant, "description": ""})
        if entry.get("default") is None:
            entry["default"] = float(bands[symbol]["platforms"]["sentinel2a"]["wavelength"])
            entry["description"] = (
                f"{entry.get('description', '')} (default: Sentinel-2A {ASI_TO_S2[symbol]})"
            ).strip()
    return table


@cache
def constant_defaults() -> Mapping[str, float | None]:
    """Each ASI constant's default (``None``: none)."""
    return {k: v.get("default") for k, v in constants_table().items()}


@cache
def entries() -> Mapping[str, SpectralIndex]:
    """Every index offered, by s2raster name, in ASI's order."""
    out: dict[str, SpectralIndex] = {}
    for asi_name, record in _read("spectral-indices-dict.json")["SpectralIndices"].items():
        entry = _entry(asi_name, record)
        if entry is not None:
            out[entry.name] = entry
    return out


@cache
def excluded() -> Mapping[str, str]:
    """ASI indices not offered, by ASI name, with the reason."""
    out: dict[str, str] = {}
    for asi_name, record in _read("spectral-indices-dict.json")["SpectralIndices"].items():
        if _entry(asi_name, record) is None:
            out[asi_name] = _why_not(record)
    return out


def _entry(asi_name: str, record: Mapping[str, Any]) -> SpectralIndex | None:
    table = constants_table()
    symbols = [str(s) for s in record["bands"]]
    kernel_terms = {s: _kernel_pair(s) for s in symbols if s.startswith("k") and s not in table}
    plain = [s for s in symbols if s not in kernel_terms]
    if any(pair is None for pair in kernel_terms.values()) or any(
        s not in ASI_TO_S2 and s not in table for s in plain
    ):
        return None
    pairs = {k: v for k, v in kernel_terms.items() if v is not None}
    used = plain + [s for pair in pairs.values() for s in pair]
    bands = dict.fromkeys(ASI_TO_S2[s] for s in used if s in ASI_TO_S2)
    name = RENAMED.get(asi_name, asi_name)
    overrides = DEFAULT_OVERRIDES.get(name, {})
    constants = {
        s: overrides.get(s, table[s]["default"]) for s in dict.fromkeys(used) if s in table
    }
    if pairs:
        constants.setdefault("sigma", table["sigma"]["default"])
    return SpectralIndex(
        name=name,
        asi_name=asi_name,
        long_name=str(record["long_name"]),
        formula=str(record["formula"]),
        bands=tuple(bands),
        constants=constants,
        kernel_terms=pairs,
        application_domain=str(record.get("application_domain", "")),
        reference=str(record.get("reference", "")),
        contributor=record.get("contributor"),
        date_of_addition=record.get("date_of_addition"),
        platforms=tuple(record.get("platforms", ())),
    )


def _kernel_pair(symbol: str) -> tuple[str, str] | None:
    """``kNR`` -> ``("N", "R")``: both halves ASI band symbols (or the constant ``L``)."""
    body = symbol[1:]
    for cut in range(1, len(body)):
        a, b = body[:cut], body[cut:]
        if a in ASI_TO_S2 and (b in ASI_TO_S2 or b in constants_table()):
            return a, b
    return None


def _why_not(record: Mapping[str, Any]) -> str:
    missing = [
        str(s)
        for s in record["bands"]
        if s not in ASI_TO_S2 and s not in constants_table() and not str(s).startswith("k")
    ]
    return (
        f"needs {', '.join(missing)}, which Sentinel-2 does not measure"
        if missing
        else "uses symbols s2raster cannot map to Sentinel-2"
    )
