"""The Evalscript V3 utility functions and visualizers, from the documented examples.

Expected values are the examples of the Sentinel Hub "Utilities" page
(https://documentation.dataspace.copernicus.eu/APIs/SentinelHub/Evalscript/Utilities.html)
and "Utility Functions" page (.../Evalscript/Functions.html), where the two agree or where
the newer one corrects the older (the ColorRampVisualizer example ``process(300)`` reads
``[0, 1, 0]`` on the newer page, a typo: the older one and the ramp give ``[0, 0, 1]``).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from typing import Any

import pytest
from py_mini_racer import JSEvalException, MiniRacer

from s2raster.emulator.runtime._js import NS, library

Js = Callable[[str], Any]


def with_library() -> MiniRacer:
    """A fresh V8 context with the library installed as the runtime installs it (its
    state object: ``__state``)."""
    ctx = MiniRacer()
    ctx.eval(f"var {NS} = {{}}, __state = {NS};")
    ctx.eval(library())
    return ctx


@pytest.fixture(scope="module")
def racer() -> MiniRacer:
    return with_library()


@pytest.fixture
def js(racer: MiniRacer) -> Js:
    """Evaluate a JavaScript expression with the library installed; its value via JSON."""

    def evaluate(expression: str) -> Any:
        text = racer.eval(f"JSON.stringify(({expression}), (k, v) => Number.isNaN(v) ? 'NaN' : v)")
        return None if text is None else json.loads(text)

    return evaluate


def n(value: float) -> float:
    return value / 255


# --- helper functions ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("index(0.6, 0.4)", pytest.approx(0.2)),
        ("index(0.5, -0.5)", 0),
        ("inverse(2.0)", 0.5),
        ("inverse(5.0)", 0.2),
        ("inverse(0)", 1.7976931348623157e308),
        ("JAVA_DOUBLE_MAX_VAL", 1.7976931348623157e308),
        ("int2rgb(255)", [0, 0, 255]),
        ("int2rgb(256)", [0, 1, 0]),
        ("int2rgb(65537)", [1, 0, 1]),
        ("rgb2int([0, 0, 255])", 255),
        ("rgb2int([0, 1, 0])", 256),
        ("rgb2int([1, 0, 1])", 65537),
        ("normalizeRGB([255, 0, 51])", [1, 0, 0.2]),
        ("combine([100, 0, 0], [0, 100, 0], 1)", [100, 0, 0]),
        ("combine([100, 0, 0], [0, 100, 0], 0)", [0, 100, 0]),
        ("combine([100, 0, 0], [0, 100, 0], 0.5)", [50, 50, 0]),
    ],
)
def test_documented_helpers(js: Js, expression: str, expected: Any) -> None:
    assert js(expression) == expected


TABLE = "[1, 3, 5, 7, 10], [100, 300, 500, 700, 900]"


@pytest.mark.parametrize(
    ("value", "expected"), [(5, 500), (1, 100), (2, 300), (12, 900), (0, 100), (10, 900)]
)
def test_value_map(js: Js, value: float, expected: float) -> None:
    assert js(f"valueMap({value}, {TABLE})") == expected


RAMP = "[-10, -5, 0, 5, 10], [-1000, -50, 0, 50, 1000]"


@pytest.mark.parametrize(
    ("value", "expected"),
    [(0, 0), (-10, -1000), (9, 810), (-20, -1000), (20, 1000), (-7.5, -525), (2.5, 25)],
)
def test_value_interpolate(js: Js, value: float, expected: float) -> None:
    assert js(f"valueInterpolate({value}, {RAMP})") == pytest.approx(expected)


def test_value_interpolate_colors(js: Js) -> None:
    colors = "[[0,0,0],[0.1,0.2,0.5],[0.25,0.4,0.5],[0.4,0.6,0.5],[0.75,0.8,0.5],[1,1,0.5]]"
    got = js(f"valueInterpolate(0.1, [0, 0.2, 0.4, 0.6, 0.8, 1], {colors})")
    assert got == pytest.approx([0.05, 0.1, 0.25])
    assert js(f"colorBlend(0.1, [0, 0.2, 0.4, 0.6, 0.8, 1], {colors})") == pytest.approx(got)


@pytest.mark.parametrize("name", ["valueMap", "valueInterpolate", "colorBlend"])
def test_table_helpers_without_a_table_give_the_value(js: Js, name: str) -> None:
    assert js(f"{name}(50)") == 50


@pytest.mark.parametrize("name", ["valueMap", "valueInterpolate", "colorBlend"])
def test_nan_falls_to_the_last_value(js: Js, name: str) -> None:
    assert js(f"{name}(NaN, [0, 1], [[0, 0, 0], [1, 1, 1]])") == [1, 1, 1]


@pytest.mark.parametrize("name", ["valueMap", "valueInterpolate", "colorBlend"])
def test_table_helpers_check_their_tables(js: Js, name: str) -> None:
    with pytest.raises(JSEvalException, match=f"{name}: intervals and values must be"):
        js(f"{name}(1, [0, 1, 2], [0, 1])")
    with pytest.raises(JSEvalException, match=f"{name}: intervals and values must be"):
        js(f"{name}(1, [], [])")


def test_tables_are_never_handed_out(js: Js) -> None:
    """A script pushing dataMask onto a helper's answer must not change the table."""
    js("(globalThis.__t = [[1, 0, 0], [0, 0, 1]], 0)")
    js("valueMap(5, [0, 10], __t).push(1)")
    js("valueInterpolate(-1, [0, 10], __t).push(1)")
    assert js("__t") == [[1, 0, 0], [0, 0, 1]]


def test_v1_functions_are_refused_clearly(js: Js) -> None:
    with pytest.raises(JSEvalException, match=r"Invalid script! setInputComponents\(\) is a"):
        js("setInputComponents([])")
    with pytest.raises(JSEvalException, match=r"output: \{bands: n\}"):
        js("setOutputComponentCount(3)")


def test_console_log_is_kept(js: Js) -> None:
    js("console.log('ndvi', 0.5, {a: [1]}), console.warn('w'), 0")
    logged = js("__state.console()")
    assert logged["lines"][-2:] == ['ndvi 0.5 {"a":[1]}', "w"]


# --- visualizers --------------------------------------------------------------------


def test_color_map_visualizer(js: Js) -> None:
    js("(globalThis.__cm = new ColorMapVisualizer([[200, 0xff0000], [300, 0x0000ff]]), 0)")
    for value, expected in [(199, [1, 0, 0]), (200, [1, 0, 0]), (250, [1, 0, 0])]:
        assert js(f"__cm.process({value})") == expected
    assert js("__cm.process(299)") == [1, 0, 0]
    assert js("__cm.process(300)") == [0, 0, 1]
    assert js("__cm.process(NaN)") == [0, 0, 1]


def test_default_color_map(js: Js) -> None:
    cm = "ColorMapVisualizer.createDefaultColorMap()"
    assert js(f"{cm}.process(-5)") == [0, 0, 0]
    assert js(f"{cm}.process(0.05)") == [n(0x66), 0, 0]
    assert js(f"{cm}.process(0.95)") == [0, n(0x66), 0]


@pytest.mark.parametrize(("low", "high"), [("0xff0000", "0x0000ff"), ("[1, 0, 0]", "[0, 0, 1]")])
def test_color_ramp_visualizer(js: Js, low: str, high: str) -> None:
    js(f"(globalThis.__cr = new ColorRampVisualizer([[200, {low}], [300, {high}]]), 0)")
    assert js("__cr.process(199)") == [1, 0, 0]
    assert js("__cr.process(200)") == [1, 0, 0]
    assert js("__cr.process(300)") == [0, 0, 1]
    assert js("__cr.process(301)") == [0, 0, 1]
    if low.startswith("0x"):  # 8-bit channels, rounded: the documented values
        assert js("__cr.process(250)") == [0.5019607843137255, 0, 0.5019607843137255]
        assert js("__cr.process(299)") == [0.011764705882352941, 0, 0.9882352941176471]
    else:
        assert js("__cr.process(250)") == pytest.approx([0.5, 0, 0.5])


@pytest.mark.parametrize(
    ("factory", "expected"),
    [
        (
            "createRedTemperature",
            {
                0.0: [0, 0, 0],
                0.3: [0.43137254901960786, 0, 0],
                0.5: [0.7176470588235294, 0.047058823529411764, 0],
                0.8: [1, 0.6196078431372549, 0.2],
                1.0: [1, 1, 1],
            },
        ),
        (
            "createWhiteGreen",
            {
                0.0: [0, 0, 0],
                0.3: [0, 0.2980392156862745, 0],
                0.5: [0.16862745098039217, 0.5019607843137255, 0],
                0.8: [0.6666666666666666, 0.8, 0.3333333333333333],
                1.0: [1, 1, 1],
            },
        ),
        (
            "createBlueRed",
            {
                0.0: [0, 0, 0.5019607843137255],
                0.3: [0, 0.7019607843137254, 1],
                0.5: [0.5019607843137255, 1, 0.5019607843137255],
                0.8: [1, 0.2980392156862745, 0],
                1.0: [0.5019607843137255, 0, 0],
            },
        ),
    ],
)
@pytest.mark.parametrize("cls", ["ColorRampVisualizer", "ColorGradientVisualizer"])
def test_documented_ramps(js: Js, cls: str, factory: str, expected: dict[float, list]) -> None:
    for value, rgb in expected.items():
        assert js(f"{cls}.{factory}(0.0, 1.0).process({value})") == rgb


def test_ramp_min_max_override_and_inverse(js: Js) -> None:
    ramp = "[[0, 0x000000], [0.5, 0x800000], [1, 0xff0000]]"
    assert js(f"new ColorRampVisualizer({ramp}, 10, 20).process(15)") == [n(0x80), 0, 0]
    assert js(f"new ColorRampVisualizer({ramp}, 10, 20).process(5)") == [0, 0, 0]
    assert js(f"new ColorRampVisualizer({ramp}).inverse().process(0)") == [1, 0, 0]
    assert js(f"new ColorRampVisualizer({ramp}).inverse().process(1)") == [0, 0, 0]


def test_ramp_order_does_not_matter_and_nan_is_the_last_color(js: Js) -> None:
    ramp = "[[1, 0xffffff], [0, 0x000000]]"
    assert js(f"new ColorRampVisualizer({ramp}).process(0.5)") == [n(128)] * 3
    assert js(f"new ColorRampVisualizer({ramp}).process(NaN)") == [1, 1, 1]


def test_ocean_color_runs_from_low_to_high(js: Js) -> None:
    assert js("ColorRampVisualizer.createOceanColor(0, 10).process(0)") == pytest.approx(
        [n(147), 0, n(108)]
    )
    assert js("ColorRampVisualizer.createOceanColor(0, 10).process(10)") == pytest.approx(
        [n(105), 0, 0]
    )


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("new ColorRampVisualizer()", "ColorRampVisualizer: give a non-empty array"),
        ("new ColorRampVisualizer([[0, 'red']])", "the color must be 0xRRGGBB"),
        ("new ColorRampVisualizer([[0, 0x0], [1, [1, 0]]])", "the same number of values"),
        ("new ColorMapVisualizer([['a', 0x0]])", "with a numeric value"),
        ("new HighlightCompressVisualizer(0.4, 0.4)", "two different finite numbers"),
    ],
)
def test_visualizers_check_their_arguments(js: Js, expression: str, message: str) -> None:
    with pytest.raises(JSEvalException, match=message):
        js(expression)


@pytest.mark.parametrize(
    ("value", "expected"),
    [(0, 0), (0.1, 0), (0.25, 0.5), (0.376, 0.92), (0.4, 0.9259), (0.7, 1), (1.1, 1)],
)
def test_highlight_compress_visualizer(js: Js, value: float, expected: float) -> None:
    got = js(f"new HighlightCompressVisualizer(0.1, 0.4).process({value})")
    assert got == pytest.approx(expected, abs=5e-5)
    single = js(f"new HighlightCompressVisualizerSingle(0.1, 0.4).process({value})")
    assert single == [pytest.approx(got)]


def test_process_list_and_defaults(js: Js) -> None:
    viz = "new HighlightCompressVisualizer(0.0, 0.4)"
    assert js(f"{viz}.processList([0.2, 0.4, 0, 1])") == pytest.approx([0.5, 0.925926, 0, 1])
    assert js("new HighlightCompressVisualizerSingle().process(0.3)") == [0.3]
    assert js("new HighlightCompressVisualizerSingle(-1, 1).processList([0, 1])") == [0.5, 1]
    assert js("new DefaultVisualizer(0, 0.4).processList([0.2, 0.8, -1])") == [0.5, 1, 0]
    assert js("new DefaultVisualizer(0, 1, 1, 0, 0.5).process(0.25)") == 0.5
    assert js("new DefaultVisualizer(0, 1, 2, 0.1).process(0.2)") == pytest.approx(0.5)
    assert js("new HighlightCompressVisualizer().process(NaN)") == "NaN"


def test_identity(js: Js) -> None:
    assert js("new Identity().process(0.3)") == [0.3]
    assert js("new Identity().process([1, 2])") == [1, 2]
    assert js("new Identity().processList([1, 2])") == [1, 2]


def test_scripts_may_redefine_every_helper() -> None:
    """Public scripts bring their own index() or visualizer classes: no clash."""
    racer = with_library()
    racer.eval("const index = (a, b) => 42; class ColorRampVisualizer { process() { return 7; } }")
    assert racer.eval("index(1, 2)") == 42
    assert racer.eval("new ColorRampVisualizer().process(1)") == 7
    assert math.isclose(racer.eval("globalThis.index(0.6, 0.4)"), 0.2)
