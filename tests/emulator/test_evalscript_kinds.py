"""Every kind of script the Process API takes: V3 (version line after comments), simple
scripts (as SIMPLE V3 with the documented defaults), and V1/V2 refused in clear words."""

from __future__ import annotations

import numpy as np
import pytest

from s2raster.emulator.runtime import EvalscriptError, OutputSpec, parse_setup, run
from s2raster.emulator.runtime._kinds import as_v3, version_line
from s2raster.emulator.runtime._simple import bands_of

V3_BODY = """function setup() { return { input: ["B04"], output: { bands: 1 } }; }
function evaluatePixel(s) { return [s.B04]; }
"""


@pytest.mark.parametrize(
    ("header", "version"),
    [
        ("//VERSION=3\n", 3),
        ("// VERSION = 3\n", 3),
        ("//VERSION=3 (auto-converted from 1)\n", 3),
        ("\n\n  //VERSION=3\r\n", 3),
        ("// NDVI, by someone\n// licence: CC-BY\n\n//VERSION=3\n", 3),
        ("/* a block\n   comment */\n//VERSION=3\n", 3),
        ("/* a block */ //VERSION=3\n", 3),
        ("//VERSION=2\n", 2),
        ("// no version line\n", None),
        ("var x = 1;\n//VERSION=3\n", None),
    ],
)
def test_version_line(header: str, version: int | None) -> None:
    assert version_line(header + V3_BODY) == version


def test_v3_scripts_run_unchanged() -> None:
    script = "// title\n\n//VERSION=3\n" + V3_BODY
    assert as_v3(script) is script
    assert parse_setup(script).outputs == (OutputSpec("default", 1, "AUTO", None),)


@pytest.mark.parametrize(
    ("script", "words"),
    [
        ("//VERSION=2\n" + V3_BODY, "evalscript V2 (//VERSION=2): evalscript V1/V2 are no longer"),
        ("//VERSION=1\n" + V3_BODY, "evalscript V1 (//VERSION=1)"),
        ("var a = 1;\n//VERSION=3\n" + V3_BODY, "must come before any code"),
        (V3_BODY, "has no //VERSION=3 line before its code"),
        (
            "function setup(ds) { setInputComponents([ds.B02]); setOutputComponentCount(1); }\n"
            "function evaluatePixel(samples) { return [samples[0].B02]; }\n",
            "setInputComponents()/setOutputComponentCount() belong to evalscript V1/V2",
        ),
        ("var setup = function () {};\nvar evaluatePixel = () => [0];\n", "reads as an"),
    ],
)
def test_v1_and_v2_are_refused_in_clear_words(script: str, words: str) -> None:
    with pytest.raises(EvalscriptError, match=r"^Invalid script! ") as refusal:
        parse_setup(script)
    assert words in refusal.value.message
    assert refusal.value.status == 400


def test_bands_of_a_simple_script() -> None:
    script = "// uses B02 in a comment\nvar x = B8A + B04 * 2; /* B12 */ return [x, B04, dataMask];"
    assert bands_of(script) == ["B8A", "B04", "dataMask"]
    assert bands_of("return [sample.B04, myB04, B04x, B04];") == ["B04"]


@pytest.mark.parametrize(
    ("script", "bands"),
    [
        ("return [2.5 * B04, 2.5 * B03, 2.5 * B02];", 3),
        ("[B08, B04]", 2),
        ("B08 - B04", 1),
        (
            "var ndvi = index(B08, B04);\nreturn colorBlend(ndvi, [0, 1], [[1, 0, 0], [0, 1, 0]]);",
            3,
        ),
        ("let B04x = B04 * 2;\nlet v = B04x + 1;\n[v]", 1),
        ("function gain(v) { return 2 * v; }\nreturn [gain(B04), gain(B03)];", 2),
    ],
)
def test_simple_scripts_get_the_documented_v3_setup(script: str, bands: int) -> None:
    setup = parse_setup(script)
    assert setup.outputs == (OutputSpec("default", bands, "AUTO", None),)
    assert setup.mosaicking == "SIMPLE"
    assert set(setup.input_bands) == set(bands_of(script))
    assert all(setup.units[b] == "REFLECTANCE" for b in setup.input_bands)


def test_simple_scripts_take_each_band_in_its_default_units() -> None:
    setup = parse_setup("return [SCL / 11, B04, dataMask];")
    assert setup.units == {"SCL": "DN", "B04": "REFLECTANCE", "dataMask": "DN"}


def test_a_simple_script_computes_per_pixel() -> None:
    script = "let B04 = 0.5; return [B08 - B04, B03];"  # a let may shadow a band name
    setup = parse_setup(script)
    shape = (2, 3)
    b08 = np.full(shape, 0.75, np.float32)
    b03 = np.full(shape, 0.2, np.float32)
    sample = {"B08": b08, "B04": np.zeros(shape, np.float32), "B03": b03}
    result = run(script, setup, [sample], [], shape)
    assert result.outputs["default"].shape == (2, *shape)
    assert (result.outputs["default"][0] == round(0.25 * 255)).all()
    assert (result.outputs["default"][1] == round(0.2 * 255)).all()


@pytest.mark.parametrize(
    ("script", "words"),
    [
        ("return 'red';", 'got "red"'),
        ("var nothing = B04;", "got nothing"),
        ("return [B04,", "SyntaxError"),
    ],
)
def test_simple_scripts_must_give_values(script: str, words: str) -> None:
    with pytest.raises(EvalscriptError, match=words):
        parse_setup(script)
