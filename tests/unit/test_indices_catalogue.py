"""Every catalogue index against an independent evaluation of ASI's formula, and spyndex.

The reference below reads the vendored ASI JSON itself and evaluates each formula string by
walking Python's ``ast`` with numpy (float64, and float32 for ill-conditioned pixels): no
code of s2raster.indices is involved but the result under test. "Within float32 rounding"
means: close to the float64 value (rtol 1e-4), or to the same formula evaluated naively in
float32 (rtol 1e-6) where the formula amplifies rounding (cancellation), with the same NaNs.
"""

from __future__ import annotations

import ast
import hashlib
import json
import math
import warnings
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import xarray as xr

import s2raster.indices
from s2raster import indices
from s2raster.errors import BandError, InputError
from s2raster.indices import _kernel

DATA = Path(s2raster.indices.__file__).parent / "data"
ASI: dict[str, dict[str, Any]] = json.loads(
    (DATA / "spectral-indices-dict.json").read_text("utf-8")
)["SpectralIndices"]
CONSTANTS: dict[str, dict[str, Any]] = json.loads((DATA / "constants.json").read_text("utf-8"))
BAND_TABLE: dict[str, Any] = json.loads((DATA / "bands.json").read_text("utf-8"))
S2 = {"A": "B01", "B": "B02", "G": "B03", "R": "B04", "RE1": "B05", "RE2": "B06", "RE3": "B07"}
S2 |= {"N": "B08", "N2": "B8A", "WV": "B09", "S1": "B11", "S2": "B12"}
ORDER = ["B01", "B02", "B03", "B04", "B05", "B06", "B07", "B08", "B8A", "B09", "B10", "B11", "B12"]
KERNEL_TERMS = {"kNN": ("N", "N"), "kNR": ("N", "R"), "kNB": ("N", "B"), "kNL": ("N", "L")}
KERNEL_TERMS |= {"kGG": ("G", "G"), "kGR": ("G", "R"), "kGB": ("G", "B")}


def computable(record: Mapping[str, Any]) -> bool:
    return all(s in S2 or s in CONSTANTS or s in KERNEL_TERMS for s in record["bands"])


OFFERED = {("NDRE" if k == "NDREI" else k): v for k, v in ASI.items() if computable(v)}


def default(index: str, symbol: str) -> float:
    if (index, symbol) == ("SAVI", "L"):
        return 0.5
    if symbol.startswith("lambda"):
        return float(BAND_TABLE[symbol[6:]]["platforms"]["sentinel2a"]["wavelength"])
    value = CONSTANTS[symbol]["default"]
    return 1.0 if value is None else float(value)  # PAR: given in the tests


# --- the independent reference ---------------------------------------------------------------

Value = Any  # np.ndarray or a Python float


def _binary(op: ast.operator, a: Value, b: Value) -> Value:
    if isinstance(a, float) and isinstance(b, float):  # Python numbers stay Python numbers
        try:
            return {ast.Add: a + b, ast.Sub: a - b, ast.Mult: a * b}[type(op)]
        except KeyError:
            if isinstance(op, ast.Div):
                return math.nan if b == 0 else a / b
            return math.nan if (a == 0 and b < 0) or (a < 0 and b != int(b)) else a**b
    with np.errstate(all="ignore"):
        if isinstance(op, ast.Add):
            return a + b
        if isinstance(op, ast.Sub):
            return a - b
        if isinstance(op, ast.Mult):
            return a * b
        if isinstance(op, ast.Div):
            return np.where(np.asarray(b) == 0, np.nan, a / b).astype(_dtype(a, b))
        assert isinstance(op, ast.Pow)
        bad = (np.asarray(a) == 0) & (np.asarray(b) < 0)
        return np.where(bad, np.nan, a**b).astype(_dtype(a, b))


def _dtype(a: Value, b: Value) -> Any:
    return next(x.dtype for x in (a, b) if isinstance(x, np.ndarray))


def _evaluate(node: ast.AST, env: Mapping[str, Value]) -> Value:
    if isinstance(node, ast.Constant):
        return float(node.value)  # type: ignore[arg-type]  # ASI: numbers only
    if isinstance(node, ast.Name):
        return env[node.id]
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        return -_evaluate(node.operand, env)
    if isinstance(node, ast.BinOp):
        return _binary(node.op, _evaluate(node.left, env), _evaluate(node.right, env))
    raise AssertionError(f"the reference does not know {ast.dump(node)}")


def reference(index: str, bands: Mapping[str, np.ndarray], **constants: float) -> np.ndarray:
    """ASI's formula of ``index`` on ``bands`` (S2 names), in the bands' dtype."""
    record = OFFERED[index]
    env: dict[str, Value] = {s: bands[b] for s, b in S2.items()}
    for symbol in record["bands"]:
        if symbol in CONSTANTS:
            env[symbol] = float(constants.get(symbol, default(index, symbol)))
    sigma = constants.get("sigma", default(index, "sigma"))
    for term in set(record["bands"]) & set(KERNEL_TERMS):
        a, b = KERNEL_TERMS[term]
        x = env[a]
        y = env[b] if b in env else float(constants.get(b, default(index, b)))
        with np.errstate(all="ignore"):
            env[term] = np.exp(-1.0 * (x - y) ** 2.0 / (2.0 * sigma**2.0))
    out = _evaluate(ast.parse(record["formula"], mode="eval").body, env)
    return np.broadcast_to(np.asarray(out), next(iter(bands.values())).shape)


def check_float32(got: np.ndarray, ref64: np.ndarray, ref32: np.ndarray, label: str) -> None:
    close64 = np.isclose(got, ref64, rtol=1e-4, atol=1e-6)
    close32 = np.isclose(got, ref32, rtol=1e-6, atol=1e-7)
    nan_ok = np.isnan(got) & (np.isnan(ref64) | np.isnan(ref32))
    ok = nan_ok | (~np.isnan(got) & (close64 | close32))
    bad = np.flatnonzero(~ok)
    assert bad.size == 0, (
        f"{label}: {bad.size} of {ok.size} pixels differ, e.g. got {got.flat[bad[0]]!r}, "
        f"float64 {ref64.flat[bad[0]]!r}, float32 {ref32.flat[bad[0]]!r}"
    )
    finite = np.isfinite(ref64)
    assert np.mean(close64[finite]) > 0.98, f"{label}: mostly only float32-close"


# --- data --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def random_bands() -> dict[str, np.ndarray]:
    """Reflectance-like values for every band, with NaN, zero and equal-band pixels."""
    rng = np.random.default_rng(7)
    values = rng.uniform(0.005, 0.8, size=(len(ORDER), 40, 50)).astype(np.float32)
    values[:, 0, 0] = np.nan
    values[:, 1, 1] = 0.0
    values[:, 2, 2] = 0.25
    values[ORDER.index("B08"), 3, 3] = np.nan
    return dict(zip(ORDER, values, strict=True))


def as_dataarray(bands: Mapping[str, np.ndarray]) -> xr.DataArray:
    stack = np.stack([bands[b] for b in ORDER])
    return xr.DataArray(stack, dims=("band", "y", "x"), coords={"band": ORDER})


def verify(index: str, bands: Mapping[str, np.ndarray], got: np.ndarray, **kw: float) -> None:
    ref64 = reference(index, {k: v.astype(np.float64) for k, v in bands.items()}, **kw)
    ref32 = reference(index, bands, **kw)
    check_float32(got, ref64, ref32, index)


def given_constants(index: str) -> dict[str, Any]:
    return {"PAR": 1500.0} if index == "NIRvP" else {}


@pytest.fixture(params=["tape", "loop"])
def engine(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """The numpy tape, or the numba loop that large blocks run (forced for small ones)."""
    if request.param == "loop":
        pytest.importorskip("numba")
        monkeypatch.setattr(_kernel, "NATIVE_MIN", 0)
    return str(request.param)


@pytest.mark.parametrize("index", sorted(OFFERED))
def test_index_on_random_reflectance(
    index: str, random_bands: dict[str, np.ndarray], engine: str
) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = indices.compute(index, as_dataarray(random_bands), **given_constants(index))
    assert result.dtype == np.float32
    assert result.name == index
    verify(index, random_bands, result.values, **given_constants(index))


@pytest.fixture(scope="module")
def scenes(shared_dir: Path) -> xr.DataArray:
    values = np.load(shared_dir / "golden" / "eolearn-reference-scenes-l1c.npy")
    return xr.DataArray(values, dims=("time", "y", "x", "band"), coords={"band": ORDER})


@pytest.mark.parametrize("index", sorted(OFFERED))
def test_index_on_real_reflectance(index: str, scenes: xr.DataArray) -> None:
    """Sentinel-2 L1C reflectance (eo-learn's reference scenes), band dimension last."""
    result = indices.compute(index, scenes, **given_constants(index))
    assert result.dims == ("time", "y", "x")
    bands = {b: scenes.sel(band=b).values for b in ORDER}
    verify(index, bands, result.values, **given_constants(index))


# --- against spyndex -----------------------------------------------------------------------------


def spyndex_disagreements() -> dict[str, str]:
    """Indices whose formula in spyndex's bundled catalogue differs from the pinned one."""
    import spyndex

    out = {}
    for index, record in OFFERED.items():
        theirs = spyndex.indices[record["short_name"]].formula  # spyndex drops the spaces
        if theirs != record["formula"].replace(" ", ""):
            out[index] = f"spyndex {theirs!r}, pinned {record['formula']!r}"
    return out


def test_spyndex_disagreements_are_the_known_fixes() -> None:
    """spyndex 0.12 bundles ASI of 2025-07: GARI and SARVI lack the weights added since."""
    assert set(spyndex_disagreements()) <= {"GARI", "SARVI"}


@pytest.mark.parametrize("index", sorted(OFFERED))
def test_index_against_spyndex(index: str, random_bands: dict[str, np.ndarray]) -> None:
    import spyndex

    record = OFFERED[index]
    clean = {
        b: np.where(np.isfinite(v) & (v > 0), v, np.float32(0.3)) for b, v in random_bands.items()
    }
    params: dict[str, Any] = {s: clean[b] for s, b in S2.items() if s in record["bands"]}
    for symbol in record["bands"]:
        if symbol in CONSTANTS:
            params[symbol] = given_constants(index).get(symbol, default(index, symbol))
        elif symbol in KERNEL_TERMS:
            a, b = KERNEL_TERMS[symbol]
            second = clean[S2[b]] if b in S2 else default(index, b)
            params[symbol] = spyndex.computeKernel(
                "RBF", {"a": clean[S2[a]], "b": second, "sigma": default(index, "sigma")}
            )
    with np.errstate(all="ignore"):
        expected = np.asarray(spyndex.computeIndex(record["short_name"], params))
    got = indices.compute(index, as_dataarray(clean), **given_constants(index)).values
    finite = np.isfinite(expected)
    assert finite.mean() > 0.5 or index in ("AVI", "SI")  # cube roots of negatives are NaN
    np.testing.assert_allclose(got[finite], expected[finite], rtol=2e-6, atol=1e-7)
    assert np.isnan(got[~finite]).all()


# --- upstream fixes -----------------------------------------------------------------------------


def test_gari_has_the_2026_07_fix() -> None:
    """ASI 2026-07 weights (B - R) by lmb in GARI's numerator and denominator (Gitelson 1996);
    spyndex's 2025-07 copy has '(N - (G - (B - R))) / (N + (G - (B - R)))'."""
    assert OFFERED["GARI"]["formula"] == "(N - (G - lmb * (B - R))) / (N + (G - lmb * (B - R)))"
    n, g, b, r, lmb = 0.5, 0.1, 0.05, 0.08, 1.7
    da = xr.DataArray(
        np.array([[[b]], [[g]], [[r]], [[n]]], np.float32),
        dims=("band", "y", "x"),
        coords={"band": ["B02", "B03", "B04", "B08"]},
    )
    fixed = (n - (g - lmb * (b - r))) / (n + (g - lmb * (b - r)))
    assert indices.compute("GARI", da, lmb=lmb).item() == pytest.approx(fixed, rel=1e-6)
    unweighted = (n - (g - (b - r))) / (n + (g - (b - r)))
    assert indices.compute("GARI", da).item() == pytest.approx(unweighted, rel=1e-6)  # lmb = 1
    assert "lmb" in indices.catalogue().loc["GARI", "constants"]


def test_sarvi_weights_the_blue_correction() -> None:
    assert "gamma * (R - B)" in OFFERED["SARVI"]["formula"]


# --- the catalogue itself ----------------------------------------------------------------------


def test_catalogue_table() -> None:
    table = indices.catalogue()
    assert len(table) == len(OFFERED) == 245
    assert set(table.index) == set(OFFERED)
    assert {"long_name", "formula", "s2_formula", "bands", "constants", "reference"} <= set(
        table.columns
    )
    evi = table.loc["EVI"]
    assert evi["formula"] == "g * (N - R) / (N + C1 * R - C2 * B + L)"
    assert evi["s2_formula"] == "g * (B08 - B04) / (B08 + C1 * B04 - C2 * B02 + L)"
    assert evi["constants"] == {"g": 2.5, "C1": 6.0, "C2": 7.5, "L": 1.0}
    assert table.loc["SAVI", "constants"] == {"L": 0.5}
    assert table.loc["NDRE", "asi_name"] == "NDREI"
    assert table.loc["NIRvP", "constants"] == {"PAR": None}
    assert table.loc["kNDVI", "s2_formula"].startswith("(k(B08, B08) - k(B08, B04))")
    assert table.attrs["source"]["commit"] == "926973262d11d37ba9cebdd56fbc0ff07fe367a9"


def test_every_asi_index_is_offered_or_explained() -> None:
    for name, record in ASI.items():
        if not computable(record):
            with pytest.raises(BandError, match="not computable from Sentinel-2"):
                indices.canonical_name(name)


def test_source_metadata_matches_the_files() -> None:
    source = json.loads((DATA / "SOURCE.json").read_text("utf-8"))
    for name, digest in source["sha256"].items():
        assert hashlib.sha256((DATA / name).read_bytes()).hexdigest() == digest
    assert source["indices"] == len(ASI)


def test_matches_the_shared_pinned_copy(shared_dir: Path) -> None:
    for name in ("spectral-indices-dict.json", "constants.json", "bands.json"):
        assert (DATA / name).read_bytes() == (shared_dir / "asi" / name).read_bytes()


@pytest.mark.parametrize(
    ("index", "constants", "expected"),
    [
        ("DVIplus", {}, {"lambdaN": 832.8, "lambdaR": 664.6, "lambdaG": 559.8}),
        ("NIRvH2", {"lambdaN": 833.0}, {"k": 0.0, "lambdaN": 833.0, "lambdaR": 664.6}),
    ],
)
def test_wavelength_constants(
    index: str, constants: dict[str, Any], expected: dict[str, float], random_bands: Any
) -> None:
    """ASI gives lambda* no default (sensor-specific): Sentinel-2A's centre wavelengths."""
    result = indices.compute(index, as_dataarray(random_bands), **constants)
    for symbol, value in expected.items():
        assert repr(value) in result.attrs["formula"] or symbol == "k"
    verify(index, random_bands, result.values, **constants)


def test_a_constant_without_default_is_asked_for(random_bands: Any) -> None:
    with pytest.raises(InputError, match=r"NIRvP needs constant PAR .*pass PAR="):
        indices.compute("NIRvP", as_dataarray(random_bands))


@pytest.mark.parametrize("kernel", ["RBF", "linear", "poly"])
def test_kernels(kernel: str, random_bands: dict[str, np.ndarray]) -> None:
    n, r = (random_bands[b].astype(np.float64) for b in ("B08", "B04"))
    k: dict[str, Callable[[Any, Any], Any]] = {
        "RBF": lambda a, b: np.exp(-((a - b) ** 2) / (2 * 0.3**2)),
        "linear": lambda a, b: a * b,
        "poly": lambda a, b: (a * b + 1.0) ** 3.0,
    }
    constants: dict[str, Any] = {"RBF": {"sigma": 0.3}, "linear": {}, "poly": {"p": 3.0}}[kernel]
    got = indices.compute("kNDVI", as_dataarray(random_bands), kernel=kernel, **constants)
    with np.errstate(all="ignore"):
        expected = (k[kernel](n, n) - k[kernel](n, r)) / (k[kernel](n, n) + k[kernel](n, r))
    expected[~np.isfinite(expected)] = np.nan
    np.testing.assert_allclose(got.values, expected, rtol=1e-4, atol=1e-5)
