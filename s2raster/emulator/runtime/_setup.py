"""What an evalscript's ``setup()`` asks for, checked and normalised (pure Python).

The JavaScript side only runs ``setup()`` and hands its result over as JSON; this module
turns that into a :class:`ScriptSetup` or raises :class:`EvalscriptError` with a message
saying what is wrong in the script.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from s2raster.bands import BANDS
from s2raster.emulator.errors import EvalscriptError
from s2raster.emulator.runtime._sampletype import SAMPLE_TYPES, check_sample_type

MOSAICKING = ("SIMPLE", "ORBIT", "TILE")
#: Optional evalscript functions the runtime calls when the script defines them.
OPTIONAL_FUNCTIONS = ("preProcessScenes", "filterScenes", "updateOutput", "updateOutputMetadata")


@dataclass(frozen=True)
class OutputSpec:
    """One raster output of an evalscript: id, band count, sampleType, nodataValue."""

    id: str
    bands: int
    sample_type: str = "AUTO"
    nodata_value: float | None = None


@dataclass(frozen=True)
class ScriptSetup:
    """The checked result of ``setup()``.

    ``input_bands`` in order of first appearance (unique); ``units`` maps each band to the
    units asked for, or to the band's default units where the script names none and the
    band table knows it; ``functions`` names the optional functions the script defines.
    """

    input_bands: tuple[str, ...]
    units: dict[str, str]
    outputs: tuple[OutputSpec, ...]
    mosaicking: str = "SIMPLE"
    functions: frozenset[str] = field(default_factory=frozenset)

    def output(self, output_id: str) -> OutputSpec:
        """The output called ``output_id``; :class:`EvalscriptError` when there is none."""
        for spec in self.outputs:
            if spec.id == output_id:
                return spec
        ids = ", ".join(repr(s.id) for s in self.outputs)
        raise EvalscriptError(
            f"Output {output_id!r} is not defined in the evalscript; its outputs are: {ids}.",
            code="COMMON_BAD_PAYLOAD",
        )


def build_setup(raw: Any, functions: Sequence[str] = ()) -> ScriptSetup:
    """Check the JSON value returned by ``setup()`` and build the :class:`ScriptSetup`."""
    if not isinstance(raw, Mapping):
        raise EvalscriptError("setup() must return an object with 'input' and 'output'.")
    bands, units = _inputs(raw.get("input"))
    outputs = _outputs(raw.get("output"))
    mosaicking = str(raw.get("mosaicking") or "SIMPLE").upper()
    if mosaicking not in MOSAICKING:
        raise EvalscriptError(
            f"Unknown mosaicking {raw.get('mosaicking')!r}; use one of: {', '.join(MOSAICKING)}."
        )
    return ScriptSetup(bands, units, outputs, mosaicking, frozenset(functions))


def _inputs(raw: Any) -> tuple[tuple[str, ...], dict[str, str]]:
    if isinstance(raw, Mapping):
        raw = [raw]
    if not isinstance(raw, list) or not raw:
        raise EvalscriptError(
            "setup() must return 'input': a list of band names or of {bands: [...]} objects."
        )
    bands: list[str] = []
    units: dict[str, str] = {}
    for item in raw:
        for band, unit in _input_item(item):
            if band not in bands:
                bands.append(band)
            if unit is not None:
                units[band] = unit
    for band in bands:
        if band not in units and (default := _default_units(band)) is not None:
            units[band] = default
    return tuple(bands), units


def _input_item(item: Any) -> list[tuple[str, str | None]]:
    if isinstance(item, str):
        return [(item, None)]
    if not isinstance(item, Mapping) or not isinstance(item.get("bands"), list):
        raise EvalscriptError(f"Invalid input {item!r}: give a band name or {{bands: [...]}}.")
    names = item["bands"]
    if not all(isinstance(b, str) and b for b in names):
        raise EvalscriptError(f"Invalid input bands {names!r}: band names must be strings.")
    raw_units = item.get("units")
    if raw_units is None:
        return [(b, None) for b in names]
    if isinstance(raw_units, str):
        return [(b, raw_units.upper()) for b in names]
    if (
        isinstance(raw_units, list)
        and len(raw_units) == len(names)
        and all(isinstance(u, str) for u in raw_units)
    ):
        return [(b, u.upper()) for b, u in zip(names, raw_units, strict=True)]
    raise EvalscriptError(
        f"Invalid units {raw_units!r} for bands {names!r}: give one string, or one per band."
    )


def _default_units(band: str) -> str | None:
    for table in BANDS.values():
        if band in table:
            return table[band].units
    return None


def _outputs(raw: Any) -> tuple[OutputSpec, ...]:
    items = raw if isinstance(raw, list) else [raw]
    if raw is None or not items:
        raise EvalscriptError("setup() must return 'output': an object or a list of objects.")
    outputs = tuple(_output(item) for item in items)
    ids = [o.id for o in outputs]
    if len(set(ids)) != len(ids):
        raise EvalscriptError(f"Output ids must be unique; got {ids}.")
    if "userdata" in ids:
        raise EvalscriptError("'userdata' is reserved for outputMetadata.userData; rename it.")
    return outputs


def _output(item: Any) -> OutputSpec:
    if not isinstance(item, Mapping):
        raise EvalscriptError(f"Invalid output {item!r}: give {{id, bands, sampleType}}.")
    out_id = item.get("id", "default")
    if not isinstance(out_id, str) or not out_id:
        raise EvalscriptError(f"Invalid output id {out_id!r}: it must be a non-empty string.")
    raw_bands = item.get("bands")
    bands = _whole(raw_bands)
    if bands is None:
        raise EvalscriptError(
            f"Output {out_id!r}: 'bands' must be a whole number, got {raw_bands!r}."
        )
    if not 1 <= bands <= 1024:
        raise EvalscriptError(f"Output {out_id!r}: 'bands' must be 1..1024, got {bands!r}.")
    try:
        sample_type = check_sample_type(item.get("sampleType") or "AUTO")
    except ValueError:
        valid = ", ".join(SAMPLE_TYPES)
        raise EvalscriptError(
            f"Output {out_id!r}: unknown sampleType {item.get('sampleType')!r}; use {valid}."
        ) from None
    return OutputSpec(out_id, bands, sample_type, _nodata(out_id, item.get("nodataValue")))


def _whole(value: Any) -> int | None:
    """``value`` as an int if it is a finite whole number (JSON has no int/float split)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return int(value) if math.isfinite(value) and value == int(value) else None


def _nodata(out_id: str, value: Any) -> float | None:
    if value is None:
        return None
    if value in ("NaN", "Infinity", "-Infinity"):  # how the JS side hands over non-finite
        return float(str(value).replace("Infinity", "inf"))
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise EvalscriptError(f"Output {out_id!r}: nodataValue must be a number, got {value!r}.")
    return float(value)
