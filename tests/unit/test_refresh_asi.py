"""scripts/refresh_asi.py: the diff it prints and the files it writes."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import shutil
from pathlib import Path
from types import ModuleType

import pytest

import s2raster.indices

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "refresh_asi.py"
DATA = Path(s2raster.indices.__file__).parent / "data"


@pytest.fixture(scope="module")
def refresh() -> ModuleType:
    spec = importlib.util.spec_from_file_location("refresh_asi", SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def target(tmp_path: Path) -> Path:
    folder = tmp_path / "data"
    shutil.copytree(DATA, folder)
    return folder


def test_spyndex_copy_lacks_the_fixes(
    refresh: ModuleType, target: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import spyndex  # noqa: F401

    before = {p.name: p.read_bytes() for p in target.iterdir()}
    assert refresh.main(["--from-spyndex", "--dry-run", "--target", str(target)]) == 0
    out = capsys.readouterr().out
    assert "indices: 280 -> 280" in out
    assert (
        "changed GARI formula: '(N - (G - lmb * (B - R))) / (N + (G - lmb * (B - R)))' -> " in out
    )
    assert "WARNING GARI loses ASI's 2026-07 fix" in out
    assert "WARNING SARVI loses" in out
    assert {p.name: p.read_bytes() for p in target.iterdir()} == before  # dry run


def test_refresh_from_a_local_release(
    refresh: ModuleType, target: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    release = tmp_path / "output"
    release.mkdir()
    indices = json.loads((DATA / "spectral-indices-dict.json").read_text("utf-8"))
    table = indices["SpectralIndices"]
    table["NEWI"] = {**table["NDVI"], "short_name": "NEWI", "formula": "(N - G) / (N + G)"}
    del table["AFRI1600"]
    table["NDVI"] = {**table["NDVI"], "formula": "(N - R) / (N + R + 0)"}
    (release / "spectral-indices-dict.json").write_text(json.dumps(indices), "utf-8")
    argv = ["--from", str(release), "--commit", "abc123", "--date", "2026-09-01"]
    assert refresh.main([*argv, "--target", str(target)]) == 0
    out = capsys.readouterr().out
    assert "added   NEWI: (N - G) / (N + G)" in out
    assert "removed AFRI1600" in out
    assert "changed NDVI formula: '(N - R)/(N + R)' -> '(N - R) / (N + R + 0)'" in out
    source = json.loads((target / "SOURCE.json").read_text("utf-8"))
    assert (source["commit"], source["date"], source["indices"]) == ("abc123", "2026-09-01", 280)
    for name, digest in source["sha256"].items():
        assert hashlib.sha256((target / name).read_bytes()).hexdigest() == digest
    assert (target / "constants.json").read_bytes() == (DATA / "constants.json").read_bytes()


def test_no_catalogue_there(refresh: ModuleType, tmp_path: Path) -> None:
    with pytest.raises(SystemExit, match=r"no spectral-indices-dict\.json"):
        refresh.main(["--from", str(tmp_path), "--target", str(tmp_path)])
