"""The optional evalscript functions around the pixel loop, run in an :class:`Engine`.

``preProcessScenes(collections)`` filters (or sorts) the scenes before any pixel is
evaluated; ``updateOutput(output, collection)`` may change the band counts of the outputs;
``updateOutputMetadata(scenes, inputMetadata, outputMetadata)`` runs last and is where
``outputMetadata.userData`` is usually set.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from s2raster.emulator.errors import EvalscriptError
from s2raster.emulator.runtime._engine import Engine
from s2raster.emulator.runtime._js import CONSOLE_JSON, NS, literal
from s2raster.emulator.runtime._scenes import iso, scene_date

#: ``inputMetadata.serviceVersion`` of the emulator (the service gives e.g. "4.263.0").
SERVICE_VERSION = "s2raster-emulator"
#: REFLECTANCE = DN * this, for Sentinel-2.
REFLECTANCE_FACTOR = 0.0001


def input_metadata(units: Mapping[str, str]) -> dict[str, Any]:
    """``inputMetadata`` for bands asked in ``units``: ``normalizationFactor`` is 0.0001
    when a band comes in REFLECTANCE and 1 when all come in DN (or other units), as the
    service answers (sentinelhub-py's test_multipart_tar, 2026: DN bands give 1)."""
    reflectance = any(unit == "REFLECTANCE" for unit in units.values())
    factor = REFLECTANCE_FACTOR if reflectance else 1
    return {"serviceVersion": SERVICE_VERSION, "normalizationFactor": factor}


_PREPROCESS = """
(function (S, key, listed, range) {
  var items = listed.map(function (o, k) {
    var c = Object.assign({}, o); delete c.tiles; c.__idx = k; return c;
  });
  var col = {scenes: {}};
  col.scenes[key] = items;
  if (range) { col.from = new Date(range[0]); col.to = new Date(range[1]); }
  var r = preProcessScenes(col);
  var got = r && r.scenes && r.scenes[key];
  if (!Array.isArray(got)) {
    S.fail("preProcessScenes must return the collections object with scenes." + key +
           " as an array.");
  }
  return JSON.stringify(got.map(function (o) { return o ? o.__idx : null; }));
})(%s, %s, %s, %s)
"""

_FILTER_SCENES = """
(function (S, key, listed, range, metadata) {
  var scenes = listed.map(function (o, k) {
    var c = Object.assign({}, o); delete c.tiles;
    c.date = new Date(key === "orbits" ? o.dateFrom : o.date); c.__idx = k; return c;
  });
  var meta = Object.assign({}, metadata, {from: new Date(range[0]), to: new Date(range[1])});
  var got = filterScenes(scenes, meta);
  if (!Array.isArray(got)) {
    S.fail("filterScenes(scenes, inputMetadata) must return an array of the scenes given.");
  }
  return JSON.stringify(got.map(function (o) { return o ? o.__idx : null; }));
})(%s, %s, %s, %s, %s)
"""

_UPDATE_OUTPUT = """
(function (outs, dates) {
  var output = {};
  outs.forEach(function (o) { output[o[0]] = {bands: o[1]}; });
  var collection = {scenes: dates.map(function (d) { return {date: new Date(d)}; })};
  updateOutput(output, collection);
  return JSON.stringify(outs.map(function (o) { return output[o[0]] && output[o[0]].bands; }));
})(%s, %s)
"""

_USERDATA = """
(function (S) {
  if (typeof updateOutputMetadata === "function") {
    updateOutputMetadata(S.scenes, S.inputMetadata, S.outputMetadata);
  }
  var u = S.outputMetadata.userData;
  return u === undefined ? "null" : JSON.stringify(u);
})(%s)
"""


def preprocess(
    engine: Engine,
    mosaicking: str,
    scenes: Sequence[Mapping[str, Any]],
    time_range: tuple[datetime, datetime] | None,
) -> list[int]:
    """Indices into ``scenes`` of those ``preProcessScenes`` keeps, in its order."""
    key = "orbits" if mosaicking == "ORBIT" else "tiles"
    rng: list[str] | None = None
    if mosaicking == "ORBIT":
        rng = _range(scenes, time_range)
    code = _PREPROCESS % (NS, literal(key), literal([dict(s) for s in scenes]), literal(rng))
    kept = engine.json(code)
    message = f"preProcessScenes must return scenes.{key} taken from the ones it was given"
    return _indices(kept, len(scenes), message)


def filter_scenes(
    engine: Engine,
    mosaicking: str,
    scenes: Sequence[Mapping[str, Any]],
    time_range: tuple[datetime, datetime] | None,
    metadata: Mapping[str, Any],
) -> list[int]:
    """Indices into ``scenes`` of those the older ``filterScenes(scenes, inputMetadata)``
    keeps: each scene with ``date`` (a Date; an orbit's ``dateFrom``) besides its fields,
    ``inputMetadata`` with the request's ``from`` and ``to`` (Dates), as public mosaics use
    it (``scene.date.getTime() >= inputMetadata.to.getTime() - ...``)."""
    key = "orbits" if mosaicking == "ORBIT" else "tiles"
    rng = _range(scenes, time_range)
    listed = literal([dict(s) for s in scenes])
    kept = engine.json(_FILTER_SCENES % (NS, literal(key), listed, literal(rng), literal(metadata)))
    return _indices(kept, len(scenes), "filterScenes must return scenes from those it was given")


def _indices(kept: Any, n: int, message: str) -> list[int]:
    if not isinstance(kept, list) or not all(
        isinstance(k, int) and not isinstance(k, bool) and 0 <= k < n for k in kept
    ):
        raise EvalscriptError(f"{message} (filter or sort them; do not build new objects).")
    return kept


def _range(
    scenes: Sequence[Mapping[str, Any]], time_range: tuple[datetime, datetime] | None
) -> list[str]:
    if time_range is not None:
        return [iso(time_range[0]), iso(time_range[1])]
    dates = sorted(scene_date(s) for s in scenes) or ["1970-01-01T00:00:00Z"]
    return [dates[0], dates[-1]]


def update_output(
    engine: Engine, outputs: Sequence[tuple[str, int]], dates: Sequence[str]
) -> list[tuple[str, int]]:
    """The ``(id, bands)`` of each output after ``updateOutput`` ran."""
    got = engine.json(_UPDATE_OUTPUT % (literal([list(o) for o in outputs]), literal(list(dates))))
    result: list[tuple[str, int]] = []
    if not isinstance(got, list) or len(got) != len(outputs):
        raise EvalscriptError("updateOutput must keep the outputs of setup().")
    for (out_id, _), bands in zip(outputs, got, strict=True):
        if isinstance(bands, bool) or not isinstance(bands, int) or not 1 <= bands <= 1024:
            raise EvalscriptError(
                f"updateOutput set the bands of output {out_id!r} to {bands!r}; "
                "it must be a whole number 1..1024."
            )
        result.append((out_id, bands))
    return result


def init_state(engine: Engine, scenes: Mapping[str, Any], metadata: Mapping[str, Any]) -> None:
    """Set the ``scenes``, ``inputMetadata``, ``customData``, ``outputMetadata`` objects;
    each listed scene gets its ``__idx`` (its sample's index), as the service's do."""
    numbered = {
        key: [{**dict(scene), "__idx": k} for k, scene in enumerate(listed)]
        for key, listed in scenes.items()
    }
    engine.eval(
        f"{NS}.scenes = {literal(numbered)}; {NS}.inputMetadata = {literal(dict(metadata))};"
        f" {NS}.customData = {{}}; {NS}.outputMetadata = {{}}; 0"
    )


def console(engine: Engine) -> tuple[str, ...]:
    """What the script wrote with ``console.log`` (a last line counts the lines dropped);
    nothing if the engine cannot answer any more (a script stopped by a limit)."""
    try:
        got = engine.json(CONSOLE_JSON)
    except (EvalscriptError, RuntimeError):
        return ()
    if not isinstance(got, dict):
        return ()
    lines = tuple(str(line) for line in got.get("lines") or ())
    dropped = got.get("dropped") or 0
    return (*lines, f"... {dropped} more console line(s) dropped") if dropped else lines


def userdata(engine: Engine) -> Any:
    """Run ``updateOutputMetadata`` (if defined) and return ``outputMetadata.userData``."""
    return engine.json(_USERDATA % NS)
