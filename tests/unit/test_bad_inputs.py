"""Validate before planning, planning before paying: random bad inputs into every entry point.

For each kind of bad input (a parameter and a family of wrong values) and each public entry
point that takes it, hypothesis draws values and checks that the call raises an
:class:`~s2raster.errors.S2RasterError` (the API) or prints one ``Error:`` line and exits
with status 2 (the CLI); that no request was sent (the fake service saw no catalog search
and no tile request); and that nothing was written.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from s2raster import load, load_plan
from s2raster._load import LoadStats
from s2raster.bands import BANDS
from s2raster.errors import S2RasterError
from s2raster.export import to_geotiff
from s2raster.plan import make_plan
from s2raster.testing import FakeFetch
from s2raster.truecolor import truecolor

AREA = (13.80, 45.80, 13.81, 45.806)
TIME = "2024-06-01/2024-06-30"
VALID_BANDS = {name.lower() for table in BANDS.values() for name in table}
SETTINGS = settings(
    max_examples=12,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

finite = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False)
not_finite = st.sampled_from([math.nan, math.inf, -math.inf])
junk_text = st.text(alphabet="abcxyz !?#{}", min_size=0, max_size=12)
not_a_number = st.one_of(junk_text, st.none(), st.lists(finite, max_size=2), st.just({}))
not_a_sequence = st.one_of(st.none(), st.integers(), finite, st.just({"minx": 1}))


def swapped(box: tuple[float, float, float, float]) -> tuple[float, ...]:
    x0, y0, x1, y1 = box
    return (x1, y0, x0, y1)


#: kind -> (parameter, strategy of bad values)
API_KINDS: dict[str, tuple[str, st.SearchStrategy[Any]]] = {
    "bbox-strings": ("bbox", st.tuples(junk_text, junk_text, junk_text, junk_text)),
    "bbox-not-a-sequence": ("bbox", not_a_sequence),
    "bbox-non-finite": (
        "bbox",
        st.tuples(not_finite, finite, finite, finite).map(lambda t: (t[1], t[0], t[2], t[3])),
    ),
    "bbox-wrong-length": (
        "bbox",
        st.lists(finite, max_size=8).filter(lambda v: len(v) != 4),
    ),
    "bbox-swapped": ("bbox", st.just(swapped(AREA))),
    "bbox-empty": ("bbox", finite.map(lambda v: (v, 1.0, v, 2.0))),
    "bbox-outside-lonlat": (
        "bbox",
        st.floats(min_value=181, max_value=1e6).map(lambda v: (10.0, 40.0, v, 41.0)),
    ),
    "bbox-booleans": ("bbox", st.just((True, False, True, True))),
    "time-junk": ("time", st.one_of(junk_text, st.integers(), st.none())),
    "time-reversed": ("time", st.just("2024-06-30/2024-06-01")),
    "bands-none-or-not-names": ("bands", st.one_of(st.none(), st.integers(), finite)),
    "bands-empty": ("bands", st.sampled_from([[], ()])),
    "bands-unknown": (
        "bands",
        st.lists(junk_text.filter(lambda t: t.strip().lower() not in VALID_BANDS), min_size=1),
    ),
    "bands-duplicate": ("bands", st.just(["B04", "b04"])),
    "bands-non-strings": ("bands", st.lists(st.integers(), min_size=1)),
    "resolution-not-positive": ("resolution", st.floats(max_value=0)),
    "resolution-non-finite": ("resolution", not_finite),
    "resolution-not-a-number": ("resolution", not_a_number),
    "resolution-too-coarse": ("resolution", st.floats(min_value=1501, max_value=1e9)),
    "resolution-degrees-for-metres": ("resolution", st.floats(min_value=1e-12, max_value=1e-4)),
    "crs-unknown": ("crs", st.one_of(junk_text.filter(bool), st.just(-1), st.just(3.5))),
    "bbox_crs-unknown": ("bbox_crs", st.one_of(junk_text, st.none(), st.just([4326]))),
    "collection-unknown": ("collection", st.one_of(junk_text, st.none(), st.just(["x"]))),
    "mosaicking-unknown": ("mosaicking", st.one_of(junk_text, st.none(), st.integers())),
    "max_cloud-out-of-range": (
        "max_cloud",
        st.one_of(st.floats(max_value=-0.001), st.floats(min_value=100.001), not_finite),
    ),
    "max_cloud-not-a-number": ("max_cloud", st.one_of(junk_text, st.just(True))),
    "tile_px-out-of-range": (
        "tile_px",
        st.one_of(st.integers(max_value=0), st.integers(min_value=2501), finite),
    ),
    "config-not-an-shconfig": ("config", st.one_of(junk_text, st.integers(), st.just({}))),
    "cache-wrong-type": ("cache", st.one_of(st.integers(), st.just([1]), finite)),
    "concurrency-not-positive-int": (
        "concurrency",
        st.one_of(st.integers(max_value=0), finite, junk_text, st.just(True)),
    ),
    "max_pu-invalid": (
        "max_pu",
        st.one_of(st.floats(max_value=-0.001), not_finite, junk_text, st.just(True)),
    ),
    "progress-not-callable": ("progress", st.one_of(st.integers(), junk_text.filter(bool))),
    "stats-wrong-type": ("stats", st.one_of(st.integers(), st.just({}), junk_text.filter(bool))),
    "size-invalid": (
        "size",
        st.one_of(
            st.tuples(st.integers(max_value=0), st.integers(1, 100)),
            st.tuples(st.integers(100_001, 10**9), st.just(None)),
            st.just((None, None)),
            st.tuples(junk_text, st.integers(1, 100)),
            st.lists(st.integers(1, 100), min_size=3, max_size=4).map(tuple),
            st.just((1.5, 2.0)),
            st.integers(max_value=0),
        ),
    ),
    "gain-invalid": ("gain", st.one_of(st.floats(max_value=0), not_finite, junk_text)),
    "plan-not-a-plan": ("plan", st.one_of(st.none(), junk_text, st.integers())),
    "path-not-a-path": ("path", st.one_of(st.none(), st.integers(), finite, st.binary())),
    "path-is-a-directory": ("path", st.just("<tmp>")),
    "path-folder-missing": ("path", junk_text.map(lambda t: f"<tmp>/missing {t}/out.tif")),
    "compress-unknown": ("compress", st.one_of(junk_text, st.integers())),
    "blocksize-invalid": (
        "blocksize",
        st.one_of(st.integers(max_value=15), st.integers(17, 31), junk_text),
    ),
    "predictor-invalid": ("predictor", st.one_of(st.integers(4, 100), junk_text, st.just(0))),
    "level-invalid": ("level", st.one_of(st.integers(max_value=-1), st.integers(23), junk_text)),
    "num_threads-invalid": ("num_threads", st.one_of(st.integers(max_value=0), junk_text)),
    "tags-not-a-mapping": ("tags", st.one_of(st.integers(), st.lists(st.integers(), min_size=1))),
    "band_names-wrong": ("band_names", st.one_of(st.integers(), st.just(["a", "b", "c"]))),
    "option-unknown": ("zlevel", st.integers()),
    "cog-not-bool": ("cog", st.one_of(junk_text.filter(bool), st.integers(2, 9))),
    "stac-not-bool": ("stac", st.one_of(junk_text.filter(bool), st.integers(2, 9))),
    "da-not-a-dataarray": ("da", st.one_of(st.none(), st.integers(), junk_text)),
}

#: entry point -> the parameters it takes
ENTRY_PARAMS: dict[str, set[str]] = {
    "make_plan": {
        "bbox",
        "time",
        "bands",
        "resolution",
        "crs",
        "bbox_crs",
        "collection",
        "mosaicking",
        "max_cloud",
        "tile_px",
    },
    "load": {
        "bbox",
        "time",
        "bands",
        "resolution",
        "crs",
        "bbox_crs",
        "collection",
        "mosaicking",
        "max_cloud",
        "tile_px",
        "config",
        "cache",
        "concurrency",
        "max_pu",
        "progress",
        "stats",
    },
    "load_plan": {"plan", "config", "cache", "concurrency", "max_pu", "progress", "stats"},
    "truecolor": {
        "bbox",
        "time",
        "size",
        "resolution",
        "crs",
        "bbox_crs",
        "collection",
        "mosaicking",
        "max_cloud",
        "config",
        "cache",
        "concurrency",
        "max_pu",
        "gain",
    },
    "to_geotiff": {
        "da",
        "path",
        "compress",
        "blocksize",
        "predictor",
        "level",
        "num_threads",
        "tags",
        "band_names",
        "zlevel",
        "cog",
        "stac",
        "stats",
    },
}

CASES = [
    (entry, kind)
    for entry, params in ENTRY_PARAMS.items()
    for kind, (param, _) in API_KINDS.items()
    if param in params
]


def call(entry: str, param: str, value: Any, fake: FakeFetch, tmp: Path) -> None:
    """Call ``entry`` with good arguments except ``param=value``."""
    if isinstance(value, str) and value.startswith("<tmp>"):
        value = value.replace("<tmp>", str(tmp))
    area = {"bbox": AREA, "time": TIME, "bands": ["B04"]}
    if entry == "make_plan":
        args = {**area, param: value}
        make_plan(args.pop("bbox"), args.pop("time"), args.pop("bands"), **args)
    elif entry == "load":
        args = {**area, "fetch": fake, "cache": tmp / "cache", param: value}
        load(args.pop("bbox"), args.pop("time"), args.pop("bands"), **args)
    elif entry == "load_plan":
        plan = make_plan(AREA, TIME, ["B04"])
        args = {"plan": plan, "fetch": fake, "cache": tmp / "cache", param: value}
        load_plan(args.pop("plan"), **args)
    elif entry == "truecolor":
        args = {"bbox": AREA, "time": TIME, "fetch": fake, "cache": False, param: value}
        truecolor(args.pop("bbox"), args.pop("time"), **args)
    else:
        da = load(AREA, TIME, ["B04"], fetch=fake, cache=False)
        fake.searches.clear()  # the load's catalog search is not what is tested here
        args = {"da": da, "path": tmp / "out.tif", param: value}
        to_geotiff(args.pop("da"), args.pop("path"), **args)


def snapshot(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


@pytest.mark.parametrize(("entry", "kind"), CASES, ids=[f"{e}-{k}" for e, k in CASES])
@SETTINGS
@given(data=st.data())
def test_api_refuses_before_any_request(
    entry: str, kind: str, data: st.DataObject, tmp_path_factory: pytest.TempPathFactory
) -> None:
    param, strategy = API_KINDS[kind]
    value = data.draw(strategy, label=param)
    # truecolor's time and resolution may be None (the last 30 days; the size decides)
    assume(not (entry == "truecolor" and param in ("time", "resolution") and value is None))
    tmp = tmp_path_factory.mktemp("bad")
    before = snapshot(tmp)
    fake = FakeFetch()
    with pytest.raises(S2RasterError) as caught:
        call(entry, param, value, fake, tmp)
    assert str(caught.value).strip()
    assert "\n" not in str(caught.value).strip() or entry == "to_geotiff"
    assert fake.calls == []  # no tile requested (nothing paid for)
    assert fake.searches == []  # not even a catalog search
    assert snapshot(tmp) == before  # nothing written


def test_every_api_kind_is_driven() -> None:
    driven = {kind for _, kind in CASES}
    assert driven == set(API_KINDS)
    print(f"bad-input kinds: {len(API_KINDS)} (API), {len(CLI_KINDS)} (CLI); cases: {len(CASES)}")


# -- the command line --------------------------------------------------------------------

BBOX = ["13.80", "45.80", "13.81", "45.806"]


def fetch_args(out: str, **change: list[str]) -> list[str]:
    options = {"--bbox": BBOX, "--time": [TIME], "--bands": ["B04"], "-o": [out], **change}
    return ["fetch", *[x for key, values in options.items() for x in (key, *values)], "-q"]


def truecolor_args(out: str, **change: list[str]) -> list[str]:
    options = {"--bbox": BBOX, "--time": [TIME], "-o": [out], **change}
    return ["truecolor", *[x for key, values in options.items() for x in (key, *values)], "-q"]


def number_text() -> st.SearchStrategy[str]:
    return st.one_of(junk_text.filter(lambda t: t.strip() != ""), st.just("nan"))


#: kind -> strategy of argument lists (``out`` is the output path to use)
CLI_KINDS: dict[str, Callable[[str], st.SearchStrategy[list[str]]]] = {
    "bbox-not-numbers": lambda out: number_text().map(
        lambda t: fetch_args(out, **{"--bbox": [t, *BBOX[1:]]})
    ),
    "bbox-swapped": lambda out: st.just(
        fetch_args(out, **{"--bbox": [BBOX[2], BBOX[1], BBOX[0], BBOX[3]]})
    ),
    "bbox-non-finite": lambda out: st.sampled_from(["nan", "inf", "-inf"]).map(
        lambda t: fetch_args(out, **{"--bbox": [*BBOX[:3], t]})
    ),
    "bbox-missing": lambda out: st.just(["fetch", "--time", TIME, "-o", out]),
    "time-junk": lambda out: junk_text.filter(bool).map(
        lambda t: fetch_args(out, **{"--time": [t]})
    ),
    "bands-unknown": lambda out: junk_text.filter(
        lambda t: t.strip().lower() not in VALID_BANDS and "," not in t
    ).map(lambda t: fetch_args(out, **{"--bands": [t or ","]})),
    "index-unknown": lambda out: st.sampled_from(["NOTANINDEX", "NDVI+", "(("]).map(
        lambda t: fetch_args(out, **{"--index": [t]})
    ),
    "resolution-degrees-for-metres": lambda out: st.sampled_from(["0.0001", "1e-7"]).map(
        lambda t: fetch_args(out, **{"--resolution": [t]})
    ),
    "resolution-not-positive": lambda out: st.sampled_from(["0", "-10", "nan", "x"]).map(
        lambda t: fetch_args(out, **{"--resolution": [t]})
    ),
    "crs-unknown": lambda out: st.sampled_from(["EPSG:0", "nonsense", "EPSG:99999999"]).map(
        lambda t: fetch_args(out, **{"--crs": [t]})
    ),
    "collection-unknown": lambda out: st.just(fetch_args(out, **{"--collection": ["landsat"]})),
    "mosaicking-unknown": lambda out: st.just(fetch_args(out, **{"--mosaicking": ["best"]})),
    "max-cloud-out-of-range": lambda out: st.sampled_from(["-1", "101", "x"]).map(
        lambda t: fetch_args(out, **{"--max-cloud": [t]})
    ),
    "concurrency-invalid": lambda out: st.sampled_from(["0", "-3", "65", "x"]).map(
        lambda t: fetch_args(out, **{"--concurrency": [t]})
    ),
    "max-pu-invalid": lambda out: st.sampled_from(["0", "-1", "x"]).map(
        lambda t: fetch_args(out, **{"--max-pu": [t]})
    ),
    "cache-max-size-invalid": lambda out: st.sampled_from(["x", "-1G", "12Q"]).map(
        lambda t: fetch_args(out, **{"--cache-max-size": [t]})
    ),
    "output-wrong-suffix": lambda out: st.sampled_from(["out.png", "out.jpg", "out"]).map(
        lambda name: fetch_args(str(Path(out).parent / name))
    ),
    "output-is-a-directory": lambda out: st.just(fetch_args(str(Path(out).parent))),
    "output-folder-missing": lambda out: st.just(fetch_args(str(Path(out).parent / "no/x.tif"))),
    "truecolor-size-invalid": lambda out: st.sampled_from(
        [["0", "10"], ["x", "10"], ["auto", "auto"]]
    ).map(lambda size: truecolor_args(str(Path(out).with_suffix(".png")), **{"--size": size})),
    "truecolor-gain-invalid": lambda out: st.sampled_from(["0", "-2", "nan", "x"]).map(
        lambda t: truecolor_args(str(Path(out).with_suffix(".png")), **{"--gain": [t]})
    ),
    "truecolor-size-and-resolution": lambda out: st.just(
        truecolor_args(
            str(Path(out).with_suffix(".png")), **{"--size": ["8", "8"], "--resolution": ["10"]}
        )
    ),
    "truecolor-output-suffix": lambda out: st.just(
        truecolor_args(str(Path(out).with_suffix(".gif")))
    ),
}


@contextlib.contextmanager
def offline_cli(monkeypatch: pytest.MonkeyPatch, fake: FakeFetch) -> Iterator[list[str]]:
    """The CLI's service is ``fake``; yields a list that records any session opened."""
    from sentinelhub.config import SHConfig

    import s2raster._load as pipeline
    import s2raster.cli.session as session

    opened: list[str] = []

    @contextlib.contextmanager
    def config(endpoint: object) -> Iterator[tuple[SHConfig, bool]]:
        opened.append("session")
        yield SHConfig(use_defaults=True), False

    with monkeypatch.context() as patch:
        patch.setattr(session, "service_config", config)
        patch.setattr(pipeline, "service", lambda config, fetch, concurrency: fake)
        yield opened


@pytest.mark.parametrize("kind", list(CLI_KINDS))
@SETTINGS
@given(data=st.data())
def test_cli_refuses_in_one_line_with_exit_2(
    kind: str,
    data: st.DataObject,
    tmp_path_factory: pytest.TempPathFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from s2raster.cli import cli

    tmp = tmp_path_factory.mktemp("cli")
    args = data.draw(CLI_KINDS[kind](str(tmp / "out.tif")), label="args")
    fake = FakeFetch()
    with offline_cli(monkeypatch, fake) as opened:
        result = CliRunner().invoke(cli, args)
    assert result.exit_code == 2, (args, result.output)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, (args, result.stderr)
    assert lines[0].startswith("Error: ")
    assert "Traceback" not in result.output
    assert opened == []  # no service opened
    assert (fake.calls, fake.searches) == ([], [])
    assert list(tmp.iterdir()) == []  # nothing written


def test_read_only_folder_is_named_before_any_request(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A read-only file system (EROFS from the probe file) is reported as such, not as
    "0.0 GB free", and before any request (root ignores permissions, so the errno is
    simulated where the probe creates its file)."""
    import errno

    import s2raster.output as output

    def read_only(folder: Path, prefix: str, suffix: str = ".tmp") -> tuple[int, Path]:
        raise OSError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr(output, "open_temp", read_only)
    fake = FakeFetch()
    da = load(AREA, TIME, ["B04"], fetch=fake, cache=False)
    with pytest.raises(S2RasterError, match="read-only"):
        to_geotiff(da, tmp_path / "out.tif")
    with offline_cli(monkeypatch, fake) as opened:
        from s2raster.cli import cli

        result = CliRunner().invoke(cli, fetch_args(str(tmp_path / "out.tif")))
    assert result.exit_code == 2
    assert "the file system is read-only" in result.stderr
    assert opened == []
    assert fake.calls == []


def test_permission_denied_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import errno

    import s2raster.output as output

    def denied(folder: Path, prefix: str, suffix: str = ".tmp") -> tuple[int, Path]:
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(output, "open_temp", denied)
    with pytest.raises(S2RasterError, match="permission denied"):
        output.check_output_path(tmp_path / "x.tif")


def test_full_disk_is_named_before_any_request(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import shutil

    usage = shutil.disk_usage(tmp_path)
    monkeypatch.setattr(shutil, "disk_usage", lambda p: usage._replace(free=10_000))
    fake = FakeFetch()
    plan = make_plan(AREA, TIME, ["B04"])
    from s2raster.job import fetch_to_file

    with pytest.raises(S2RasterError, match=r"10\.0 kB are free"):
        fetch_to_file(plan, tmp_path / "out.tif", fetch=fake, cache=False)
    assert (fake.calls, fake.searches) == ([], [])
    assert list(tmp_path.iterdir()) == []


def test_stats_of_a_load_are_untouched_by_refusals() -> None:
    stats = LoadStats()
    with pytest.raises(S2RasterError):
        load(AREA, TIME, ["B04"], fetch=FakeFetch(), resolution=-1, stats=stats)
    assert stats == LoadStats()
