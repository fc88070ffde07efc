"""The evalscript runtime: setup parsing, the pixel loop in V8, sampleTypes, hooks, limits."""

from __future__ import annotations

import subprocess
import sys
import threading
from dataclasses import dataclass
from datetime import datetime, timezone

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from s2raster.emulator.errors import EmulatorError, RequestError
from s2raster.emulator.runtime import (
    EvalscriptError,
    EvalscriptLimitError,
    OutputSpec,
    parse_setup,
    run,
    select_scenes,
)
from s2raster.emulator.runtime._sampletype import convert, dtype_of
from s2raster.emulator.runtime._scenes import as_orbit, scene_from_acquisition
from s2raster.emulator.runtime._setup import build_setup

TRUE_COLOR = """//VERSION=3
function setup() {
  return {
    input: ["B02", "B03", "B04"],
    output: { bands: 3 }
  };
}

function evaluatePixel(sample) {
  return [2.5 * sample.B04, 2.5 * sample.B03, 2.5 * sample.B02];
}
"""


def script(setup_body: str, evaluate: str = "return [0];", extra: str = "") -> str:
    return (
        "//VERSION=3\n"
        f"function setup() {{ return {setup_body}; }}\n"
        f"function evaluatePixel(sample, scenes, inputMetadata, customData, outputMetadata) "
        f"{{ {evaluate} }}\n{extra}"
    )


def bands(names: list[str], shape: tuple[int, int], seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {name: rng.random(shape, dtype=np.float32) for name in names}


def orbit(day: int, sh_id: int) -> dict[str, object]:
    date = f"2024-06-{day:02d}T00:00:00Z"
    tile = {"date": f"2024-06-{day:02d}T10:00:00Z", "shId": sh_id, "cloudCoverage": 1.5}
    return {"dateFrom": date, "dateTo": date, "tiles": [tile]}


# --- setup() -------------------------------------------------------------------------


def test_true_color_setup_defaults() -> None:
    setup = parse_setup(TRUE_COLOR)
    assert setup.input_bands == ("B02", "B03", "B04")
    assert setup.units == dict.fromkeys(("B02", "B03", "B04"), "REFLECTANCE")
    assert setup.outputs == (OutputSpec("default", 3, "AUTO", None),)
    assert setup.mosaicking == "SIMPLE"
    assert setup.functions == frozenset()


@pytest.mark.parametrize(
    ("input_js", "expected_bands", "expected_units"),
    [
        ('["B04", "B08"]', ("B04", "B08"), {"B04": "REFLECTANCE", "B08": "REFLECTANCE"}),
        ('[{bands: ["B04", "SCL"], units: "DN"}]', ("B04", "SCL"), {"B04": "DN", "SCL": "DN"}),
        (
            '[{bands: ["B02", "B08"], units: ["reflectance", "DN"]}]',
            ("B02", "B08"),
            {"B02": "REFLECTANCE", "B08": "DN"},
        ),
        (
            '[{bands: ["B04"]}, {bands: ["B04", "dataMask"], units: "DN"}]',
            ("B04", "dataMask"),
            {"B04": "DN", "dataMask": "DN"},
        ),
        ('{bands: ["AOT"]}', ("AOT",), {"AOT": "OPTICAL_DEPTH"}),
    ],
)
def test_input_variants(
    input_js: str, expected_bands: tuple[str, ...], expected_units: dict[str, str]
) -> None:
    setup = parse_setup(script(f"{{input: {input_js}, output: {{bands: 1}}}}"))
    assert setup.input_bands == expected_bands
    assert setup.units == expected_units


def test_output_array_and_constants() -> None:
    setup = parse_setup(
        script(
            '{input: ["B04"], mosaicking: Mosaicking.ORBIT, output: ['
            '{id: "a", bands: 2, sampleType: SampleType.UINT16, nodataValue: 0},'
            '{id: "b", bands: 1, sampleType: "float32", nodataValue: NaN},'
            '{id: "c", bands: 3, sampleType: "INT8"}]}'
        )
    )
    a, b, c = setup.outputs
    assert a == OutputSpec("a", 2, "UINT16", 0.0)
    assert (b.id, b.bands, b.sample_type) == ("b", 1, "FLOAT32")
    assert b.nodata_value is not None
    assert np.isnan(b.nodata_value)
    assert c == OutputSpec("c", 3, "INT8", None)
    assert setup.mosaicking == "ORBIT"


def test_optional_functions_and_lexical_declarations() -> None:
    text = (
        "//VERSION=3\n"
        'const setup = () => ({input: ["B04"], output: {bands: 1}});\n'
        "let evaluatePixel = (s) => [s.B04];\n"
        "function preProcessScenes(c) { return c; }\n"
        "function updateOutputMetadata(s, i, o) {}\n"
    )
    setup = parse_setup(text)
    assert setup.functions == {"preProcessScenes", "updateOutputMetadata"}


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        (TRUE_COLOR.replace("//VERSION=3\n", ""), "//VERSION=3"),
        ("//VERSION=3\nfunction setup() { return [; }\n", "evalscript.js:2: SyntaxError"),
        ("//VERSION=3\nfunction evaluatePixel(s) { return [0]; }", "function setup()"),
        (
            '//VERSION=3\nfunction setup() { return {input: ["B04"], output: {bands: 1}}; }',
            "function evaluatePixel()",
        ),
        (script("{input: undefinedThing, output: {bands: 1}}"), "ReferenceError"),
        (script("undefined"), "must return an object"),
        (script('{input: ["B04"]}'), "'output'"),
        (script("{output: {bands: 1}}"), "'input'"),
        (script('{input: ["B04"], output: {bands: 1, sampleType: "UINT32"}}'), "UINT32"),
        (script('{input: ["B04"], output: {bands: 0}}'), "'bands'"),
        (script('{input: ["B04"], output: {bands: "3"}}'), "'bands'"),
        (script('{input: ["B04"], output: [{bands: 1}, {bands: 2}]}'), "unique"),
        (script('{input: [{bands: ["B04", "B08"], units: ["DN"]}], output: {bands: 1}}'), "units"),
        (script('{input: ["B04"], output: {bands: 1}, mosaicking: "DAILY"}'), "mosaicking"),
        (script('{input: ["B04"], output: {bands: 1, nodataValue: "x"}}'), "nodataValue"),
        (script("{input: [3], output: {bands: 1}}"), "Invalid input"),
    ],
)
def test_bad_scripts(text: str, fragment: str) -> None:
    with pytest.raises(EvalscriptError) as info:
        parse_setup(text)
    assert fragment in info.value.message
    assert info.value.status == 400
    assert info.value.code == "RENDERER_EXCEPTION"
    assert isinstance(info.value, RequestError)


# --- SIMPLE --------------------------------------------------------------------------


def test_true_color_runs_to_auto_uint8() -> None:
    setup = parse_setup(TRUE_COLOR)
    sample = bands(["B02", "B03", "B04"], (5, 4))
    result = run(TRUE_COLOR, setup, [sample], [], (5, 4))
    out = result.outputs["default"]
    assert out.dtype == np.uint8
    assert out.shape == (3, 5, 4)
    stack = np.stack([sample["B04"], sample["B03"], sample["B02"]]).astype(np.float64)
    expected = np.clip(np.floor(2.5 * stack * 255 + 0.5), 0, 255)
    np.testing.assert_array_equal(out, expected)
    assert result.userdata is None
    assert result.n_samples == 1


@pytest.mark.parametrize("block_px", [1, 7, 20, 1 << 20])
def test_blocks_give_the_same_result(block_px: int) -> None:
    text = script(
        '{input: ["B04", "B08"], output: {bands: 2, sampleType: "FLOAT32"}}',
        "return [index(sample.B08, sample.B04), sample.B04];",
    )
    sample = bands(["B04", "B08"], (5, 4), seed=1)
    result = run(text, parse_setup(text), [sample], [], (5, 4), block_px=block_px)
    b4, b8 = sample["B04"].astype(np.float64), sample["B08"].astype(np.float64)
    np.testing.assert_array_equal(
        result.outputs["default"][0], ((b8 - b4) / (b8 + b4)).astype(np.float32)
    )
    np.testing.assert_array_equal(result.outputs["default"][1], sample["B04"])


@pytest.mark.parametrize(
    ("sample_type", "values", "expected"),
    [
        ("AUTO", [-0.1, 0.0, 0.5, 0.998, 1.0, 1.5, "NaN"], [0, 0, 128, 254, 255, 255, 0]),
        ("UINT8", [40.6, 310, -3, 2.5, 254.49, "NaN", "Infinity"], [41, 255, 0, 3, 254, 0, 255]),
        ("UINT16", [65535.4, 70000, -1, 1.5, 0.49], [65535, 65535, 0, 2, 0]),
        ("INT8", [-128.6, 127.5, -2.5, -2.6, 3.5], [-128, 127, -2, -3, 4]),
        ("INT16", [-40000, 40000, -0.5, 1234.5, -32768.4], [-32768, 32767, 0, 1235, -32768]),
        ("FLOAT32", [0.1, -7.25, 1e30, "NaN"], [np.float32(0.1), -7.25, np.float32(1e30), np.nan]),
    ],
)
def test_sample_types_round_and_clamp(
    sample_type: str, values: list[object], expected: list[float]
) -> None:
    js_values = ", ".join(str(v) for v in values)
    text = script(
        f'{{input: ["B04"], output: {{bands: {len(values)}, sampleType: "{sample_type}"}}}}',
        f"return [{js_values}];",
    )
    result = run(text, parse_setup(text), [bands(["B04"], (2, 3))], [], (2, 3))
    out = result.outputs["default"]
    assert out.dtype == dtype_of(sample_type)
    np.testing.assert_array_equal(out[:, 1, 2], np.array(expected, dtype=out.dtype))
    py_values = np.array(
        [
            float(v) if not isinstance(v, str) else float(v.replace("Infinity", "inf"))
            for v in values
        ]
    )
    np.testing.assert_array_equal(convert(py_values, sample_type), np.array(expected, out.dtype))


def test_several_outputs_from_an_object_and_userdata() -> None:
    text = script(
        '{input: ["B04", "B08"], output: [{id: "ndvi", bands: 1, sampleType: "FLOAT32"},'
        ' {id: "mask", bands: 1, sampleType: "UINT8"}]}',
        "var v = index(sample.B08, sample.B04);return {ndvi: [v], mask: [v > 0.5 ? 1 : 0]};",
        "function updateOutputMetadata(scenes, inputMetadata, outputMetadata) {"
        " outputMetadata.userData = {factor: inputMetadata.normalizationFactor, n: 2}; }",
    )
    sample = {"B04": np.array([[0.1, 0.4]], np.float32), "B08": np.array([[0.5, 0.4]], np.float32)}
    result = run(text, parse_setup(text), [sample], [], (1, 2))
    np.testing.assert_allclose(result.outputs["ndvi"][0], [[0.4 / 0.6, 0.0]], rtol=1e-6)
    np.testing.assert_array_equal(result.outputs["mask"][0], [[1, 0]])
    assert result.userdata == {"factor": 0.0001, "n": 2}


def test_undefined_return_leaves_zeros_and_typed_arrays_are_accepted() -> None:
    text = script(
        '{input: ["B04"], output: {bands: 2, sampleType: "UINT8"}}',
        "if (sample.B04 < 0.5) return; return new Float32Array([7, 9]);",
    )
    sample = {"B04": np.array([[0.2, 0.7]], np.float32)}
    out = run(text, parse_setup(text), [sample], [], (1, 2)).outputs["default"]
    np.testing.assert_array_equal(out[:, 0, :], [[0, 7], [0, 9]])


@pytest.mark.parametrize(
    ("evaluate", "fragment"),
    [
        ("return 3;", "Script must return an array."),
        ("return [1, 2];", "has 1 band(s) but evaluatePixel returned 2 value(s)"),
        ("return {other: [1]};", 'no array of values for output "default"'),
        ("return [sample.B04.foo.bar];", "evalscript.js:3: TypeError"),
        ("throw new Error('no luck');", "Error: no luck"),
    ],
)
def test_evaluate_pixel_errors(evaluate: str, fragment: str) -> None:
    text = script('{input: ["B04"], output: {bands: 1}}', evaluate)
    with pytest.raises(EvalscriptError) as info:
        run(text, parse_setup(text), [bands(["B04"], (2, 2))], [], (2, 2))
    assert fragment in info.value.message
    assert not isinstance(info.value, EvalscriptLimitError)


def test_several_outputs_need_an_object() -> None:
    text = script('{input: ["B04"], output: [{id: "a", bands: 1}, {id: "b", bands: 1}]}')
    with pytest.raises(EvalscriptError, match="object keyed by output id"):
        run(text, parse_setup(text), [bands(["B04"], (1, 1))], [], (1, 1))


def test_missing_band_is_an_emulator_error() -> None:
    with pytest.raises(EmulatorError, match="B04"):
        run(TRUE_COLOR, parse_setup(TRUE_COLOR), [bands(["B02", "B03"], (1, 1))], [], (1, 1))


# --- ORBIT / TILE --------------------------------------------------------------------

ORBIT_SCRIPT = script(
    '{input: [{bands: ["B04", "dataMask"], units: "DN"}], mosaicking: "ORBIT",'
    ' output: [{id: "first", bands: 1, sampleType: "FLOAT32"},'
    ' {id: "count", bands: 1, sampleType: "UINT8"}]}',
    "var n = 0; for (var i = 0; i < sample.length; i++) n += sample[i].dataMask;"
    "return {first: [sample.length ? sample[0].B04 : -1], count: [n]};",
    "function preProcessScenes(collections) {"
    "  var limit = new Date(collections.from.getTime() + 4 * 86400000);"
    "  collections.scenes.orbits = collections.scenes.orbits.filter(function (o) {"
    "    return !o.tiles && new Date(o.dateFrom) > limit; });"
    "  collections.scenes.orbits.sort(function (a, b) {"
    "    return new Date(a.dateFrom) - new Date(b.dateFrom); });"
    "  return collections; }\n"
    "function updateOutputMetadata(scenes, inputMetadata, outputMetadata) {"
    "  outputMetadata.userData = scenes.orbits.map(function (o) {"
    "    return [o.dateFrom, o.tiles[0].shId]; }); }",
)


def orbit_samples(days: list[int], shape: tuple[int, int]) -> list[dict[str, np.ndarray]]:
    return [
        {"B04": np.full(shape, 100.0 * d, np.float32), "dataMask": np.ones(shape, np.float32)}
        for d in days
    ]


def test_orbit_samples_scenes_and_preprocess() -> None:
    days = [11, 6, 1]  # mostRecent first, as the emulator orders them
    setup = parse_setup(ORBIT_SCRIPT)
    assert setup.functions == {"preProcessScenes", "updateOutputMetadata"}
    time_range = (
        datetime(2024, 6, 1, tzinfo=timezone.utc),
        datetime(2024, 6, 30, tzinfo=timezone.utc),
    )
    scenes = [orbit(d, 1000 + d) for d in days]
    result = run(
        ORBIT_SCRIPT, setup, orbit_samples(days, (2, 3)), scenes, (2, 3), time_range=time_range
    )
    assert result.n_samples == 2
    np.testing.assert_array_equal(result.outputs["first"], np.full((1, 2, 3), 600.0))
    np.testing.assert_array_equal(result.outputs["count"], np.full((1, 2, 3), 2))
    assert result.userdata == [["2024-06-06T00:00:00Z", 1006], ["2024-06-11T00:00:00Z", 1011]]
    assert select_scenes(ORBIT_SCRIPT, setup, scenes, time_range=time_range) == [1, 0]


def test_orbit_without_preprocess_and_no_scenes() -> None:
    setup = parse_setup(ORBIT_SCRIPT)
    scenes = [orbit(d, d) for d in (3, 2)]
    kept = run(
        ORBIT_SCRIPT, setup, orbit_samples([3, 2], (1, 2)), scenes, (1, 2), apply_preprocess=False
    )
    assert kept.n_samples == 2
    np.testing.assert_array_equal(kept.outputs["first"], [[[300.0, 300.0]]])
    empty = run(ORBIT_SCRIPT, setup, [], [], (1, 2))
    assert empty.n_samples == 0
    np.testing.assert_array_equal(empty.outputs["first"], [[[-1.0, -1.0]]])


def test_update_output_sets_bands_per_scene_and_tile_mosaicking() -> None:
    text = script(
        '{input: ["B02"], mosaicking: "TILE",'
        ' output: {id: "my_output", bands: 1, sampleType: "UINT16"}}',
        "return {my_output: sample.map(function (s) { return s.B02; })};",
        "function updateOutput(output, collection) {"
        " output.my_output.bands = collection.scenes.length; }\n"
        "function updateOutputMetadata(scenes, i, o) {"
        " o.userData = scenes.tiles.map(function (t) { return t.date; }); }",
    )
    setup = parse_setup(text)
    tiles = [{"date": f"2024-06-0{d}T10:00:00Z", "shId": d} for d in (1, 2, 3)]
    samples = [{"B02": np.full((2, 2), 10.0 * d, np.float32)} for d in (1, 2, 3)]
    result = run(text, setup, samples, tiles, (2, 2), block_px=2)
    assert result.outputs["my_output"].shape == (3, 2, 2)
    np.testing.assert_array_equal(result.outputs["my_output"][:, 0, 0], [10, 20, 30])
    assert result.userdata == [t["date"] for t in tiles]


def test_preprocess_must_keep_given_objects() -> None:
    text = ORBIT_SCRIPT.replace("return collections; }", "return {scenes: {orbits: [{}]}}; }")
    with pytest.raises(EvalscriptError, match="preProcessScenes"):
        run(text, parse_setup(text), orbit_samples([1], (1, 1)), [orbit(1, 1)], (1, 1))


@dataclass(frozen=True)
class FakeAcquisition:
    id: str
    datetime: datetime
    cloud_cover: float
    tile_id: str


def test_scene_dicts_are_documented_shape() -> None:
    acq = FakeAcquisition(
        "S2B_X", datetime(2020, 9, 15, 10, 17, 52, tzinfo=timezone.utc), 2.094, "33TVM"
    )
    scene = scene_from_acquisition(acq)
    assert (scene["dateFrom"], scene["dateTo"]) == ("2020-09-15T00:00:00Z", "2020-09-15T23:59:59Z")
    (tile,) = scene["tiles"]
    assert tile["date"] == "2020-09-15T10:17:52Z"
    assert tile["dataPath"] == "s3://sentinel-s2-l2a/tiles/33/T/VM/2020/9/15/0"
    assert tile["cloudCoverage"] == 2.09
    assert isinstance(tile["shId"], int)
    glue_style = {"id": "S2B_X", "date": "2020-09-15T10:17:52.250000Z", "tileId": "T33TVM"}
    converted = as_orbit(glue_style)
    assert converted["dateFrom"] == "2020-09-15T00:00:00Z"
    assert converted["tiles"][0]["date"] == "2020-09-15T10:17:52Z"
    assert converted["tiles"][0]["dataPath"] == tile["dataPath"]


# --- limits and concurrency -----------------------------------------------------------


def run_script(text: str, *, timeout: float) -> None:
    setup = parse_setup(text, timeout=timeout)
    run(text, setup, [bands(["B04"], (2, 2))], [], (2, 2), timeout=timeout)


@pytest.mark.parametrize(
    ("evaluate", "extra"),
    [
        ("while (true) {}", ""),
        ("return [0];", "while (true) {}"),  # runaway top-level code
    ],
)
def test_runaway_script_is_stopped_by_the_time_limit(evaluate: str, extra: str) -> None:
    text = script('{input: ["B04"], output: {bands: 1}}', evaluate, extra)
    with pytest.raises(EvalscriptLimitError, match=r"time limit of 0\.5 s"):
        run_script(text, timeout=0.5)


@pytest.mark.parametrize(
    "evaluate",
    [
        "var a = []; while (true) { a.push(new Array(1e5).fill(Math.random())); }",
        "var a = new Float64Array(1e9); return [a[0]];",
        "keep.push(new Float64Array(1e6)); return [0];",
        "return [new ArrayBuffer(8).transfer(4e9).byteLength];",
    ],
)
def test_huge_allocations_are_stopped_by_the_memory_limit(evaluate: str) -> None:
    text = script('{input: ["B04"], output: {bands: 1}}', evaluate, "var keep = [];")
    with pytest.raises(EvalscriptLimitError, match="memory limit of 32 MiB"):
        run(text, parse_setup(text), [bands(["B04"], (20, 20))], [], (20, 20), memory_mb=32)


#: V8 first started from threads of a fresh process, as ``s2raster emulator`` does: on a CPU
#: with memory protection keys this crashed the process (SIGSEGV) until V8 got
#: ``--no-memory-protection-keys`` (see :mod:`s2raster.emulator.runtime._engine`).
FRESH_THREADS = """
import threading
from s2raster.emulator.runtime._engine import Engine

results = []

def work():
    for _ in range(15):
        with Engine("let a = 0; for (let i = 0; i < 1e5; i++) a += i;") as engine:
            results.append(engine.eval("a"))

threads = [threading.Thread(target=work) for _ in range(4)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
print(len(results), all(r == 4999950000 for r in results))
"""


def test_v8_started_from_threads_of_a_fresh_process_does_not_crash() -> None:
    done = subprocess.run(
        [sys.executable, "-c", FRESH_THREADS], capture_output=True, text=True, timeout=120
    )
    assert (done.returncode, done.stdout.strip()) == (0, "60 True"), done.stderr[-2000:]


def test_concurrent_runs_do_not_share_state() -> None:
    results: dict[int, np.ndarray] = {}
    errors: list[BaseException] = []

    def work(k: int) -> None:
        text = script(
            '{input: ["B04"], output: {bands: 1, sampleType: "FLOAT32"}}',
            f"counter += 1; return [sample.B04 * {k} + counter * 0];",
            "var counter = 0;",
        )
        try:
            sample = {"B04": np.full((30, 40), 1.5, np.float32)}
            results[k] = run(text, parse_setup(text), [sample], [], (30, 40), block_px=100)
            results[k] = results[k].outputs["default"]
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(1, 5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    for k in range(1, 5):
        np.testing.assert_array_equal(results[k], np.full((1, 30, 40), 1.5 * k, np.float32))


# --- properties (no engine) ----------------------------------------------------------

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.floats() | st.integers() | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)
SETUP_LIKE = st.fixed_dictionaries(
    {},
    optional={
        "input": JSON_VALUES | st.lists(st.sampled_from(["B04", "B08"]), max_size=3),
        "output": JSON_VALUES
        | st.fixed_dictionaries(
            {"bands": JSON_VALUES | st.integers(-2, 5)},
            optional={"id": JSON_VALUES, "sampleType": st.sampled_from(["AUTO", "x", "uint8"])},
        ),
        "mosaicking": JSON_VALUES | st.sampled_from(["SIMPLE", "orbit", "TILE"]),
    },
)


@given(raw=JSON_VALUES | SETUP_LIKE)
def test_any_setup_value_gives_a_setup_or_an_evalscript_error(raw: object) -> None:
    try:
        setup = build_setup(raw)
    except EvalscriptError as exc:
        message = exc.message
        assert message
        return
    assert setup.input_bands
    assert all(o.bands >= 1 for o in setup.outputs)


@given(
    values=st.lists(st.floats(allow_nan=True, allow_infinity=True, width=64), max_size=20),
    sample_type=st.sampled_from(["AUTO", "UINT8", "UINT16", "INT8", "INT16"]),
)
def test_integer_sample_types_stay_in_range_and_round_like_java(
    values: list[float], sample_type: str
) -> None:
    arr = np.array(values, dtype=np.float64)
    out = convert(arr, sample_type)
    info = np.iinfo(dtype_of(sample_type))
    assert out.dtype == dtype_of(sample_type)
    assert out.shape == arr.shape
    with np.errstate(over="ignore"):
        scaled = arr * 255 if sample_type == "AUTO" else arr
    for value, got in zip(scaled, out, strict=True):
        if np.isnan(value):
            assert got == 0
        else:
            assert got == min(max(np.floor(value + 0.5), info.min), info.max)
