"""Generate the JavaScript per-pixel loop for one evalscript run.

The loop reads band ``b`` of sample ``k`` at pixel ``i`` from ``ins[b][k * n + i]`` (one
typed array per band, scene-major, ``n`` pixels in the block) and writes band ``j`` of an
output at ``outs[o][j * n + i]`` (band-major, so Python sees ``(bands, pixels)`` directly).
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from s2raster.emulator.runtime._js import NS

_UNROLL = 8


def driver(bands: Sequence[str], outputs: Sequence[tuple[str, int]], *, multi: bool) -> str:
    """JavaScript defining ``__s2r.drive(n, ns)`` for these input bands and outputs.

    ``outputs`` are ``(id, band count)`` pairs; ``multi`` means ORBIT/TILE mosaicking (an
    array of ``ns`` samples per pixel) rather than SIMPLE (one sample object).
    """
    ins = "".join(f"  var i{b} = S.ins[{b}];\n" for b in range(len(bands)))
    outs = "".join(f"  var o{o} = S.outs[{o}];\n" for o in range(len(outputs)))
    return (
        f"{NS}.drive = function (n, ns) {{\n"
        f"  var S = {NS}, ep = evaluatePixel, fail = S.fail;\n"
        "  var sc = S.scenes, im = S.inputMetadata, cd = S.customData, om = S.outputMetadata;\n"
        f"{ins}{outs}"
        "  for (var i = 0; i < n; i++) {\n"
        f"{_sample(bands, multi=multi)}"
        "    var r = ep(s, sc, im, cd, om);\n"
        "    if (r === undefined) continue;\n"
        f"{_store(outputs)}"
        "  }\n"
        "};\n"
    )


def _sample(bands: Sequence[str], *, multi: bool) -> str:
    if not multi:
        return f"    var s = {_object(bands, 'i')};\n"
    return (
        "    var s = new Array(ns);\n"
        f"    for (var k = 0, j = i; k < ns; k++, j += n) s[k] = {_object(bands, 'j')};\n"
    )


def _object(bands: Sequence[str], index: str) -> str:
    props = ", ".join(f"{json.dumps(name)}: i{b}[{index}]" for b, name in enumerate(bands))
    return "{" + props + "}"


def _store(outputs: Sequence[tuple[str, int]]) -> str:
    if len(outputs) == 1:
        out_id, n_bands = outputs[0]
        return (
            "    var v = r;\n"
            '    if (r === null || typeof r !== "object") '
            f"fail({_js('Script must return an array.')});\n"
            '    if (typeof r.length !== "number") {\n'
            f"      v = r[{json.dumps(out_id)}];\n"
            f"      {_check_array(out_id)}\n"
            "    }\n"
            f"{_write(0, out_id, n_bands)}"
        )
    ids = ", ".join(json.dumps(o) for o, _ in outputs)
    code = (
        '    if (r === null || typeof r !== "object" || typeof r.length === "number") '
        f"fail({_js(f'With several outputs evaluatePixel must return an object keyed by output id ({ids}).')});\n"  # noqa: E501
    )
    for o, (out_id, n_bands) in enumerate(outputs):
        code += f"    var v = r[{json.dumps(out_id)}];\n    {_check_array(out_id)}\n"
        code += _write(o, out_id, n_bands)
    return code


def _check_array(out_id: str) -> str:
    message = _js(f"evaluatePixel returned no array of values for output {json.dumps(out_id)}.")
    return (
        'if (v === undefined || v === null || typeof v !== "object" || '
        f'typeof v.length !== "number") fail({message});'
    )


def _write(o: int, out_id: str, n_bands: int) -> str:
    prefix = f"Output {json.dumps(out_id)} has {n_bands} band(s) but evaluatePixel returned "
    fail = f"fail({_js(prefix)} + v.length + {_js(' value(s).')})"
    code = f"    if (v.length !== {n_bands}) {fail};\n"
    if n_bands <= _UNROLL:
        stores = " ".join(f"o{o}[{_offset(b)}i] = v[{b}];" for b in range(n_bands))
        return code + f"    {stores}\n"
    return code + f"    for (var b = 0; b < {n_bands}; b++) o{o}[b * n + i] = v[b];\n"


def _offset(band: int) -> str:
    if band == 0:
        return ""
    return "n + " if band == 1 else f"{band} * n + "


def _js(text: str) -> str:
    return json.dumps(text)
