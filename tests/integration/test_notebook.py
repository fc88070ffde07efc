"""The notebooks: stored without outputs, and they run (offline, on the emulator)."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"


@dataclass(frozen=True)
class Expected:
    """What a notebook run on the emulator must leave: a file, and text in its outputs."""

    output: str
    texts: tuple[str, ...]


EXPECTED = {
    "01-quickstart.ipynb": Expected("quickstart-ndvi.tif", ("EPSG:32633", "synthetic: 1")),
    "02-time-series.ipynb": Expected(
        "season-ndvi-median.tif", ("EPSG:32633", "synthetic: 1", "clear on that date")
    ),
}


def test_every_notebook_is_checked() -> None:
    checked = {*EXPECTED, "03-fields.ipynb"}  # 03: tests/integration/test_notebook_fields.py
    assert sorted(p.name for p in NOTEBOOKS.glob("*.ipynb")) == sorted(checked)


@pytest.fixture(params=sorted(EXPECTED), scope="module")
def notebook(request: pytest.FixtureRequest) -> tuple[str, object]:
    name = str(request.param)
    return name, nbformat.read(NOTEBOOKS / name, as_version=4)


def test_notebook_is_stored_without_outputs(notebook: tuple[str, object]) -> None:
    for cell in notebook[1].cells:  # type: ignore[attr-defined]
        if cell.cell_type == "code":
            assert cell.outputs == [], f"clear the outputs of: {cell.source[:60]!r}"
            assert cell.execution_count is None


def test_notebook_defaults_to_the_emulator(notebook: tuple[str, object]) -> None:
    sources = [c.source for c in notebook[1].cells if c.cell_type == "code"]  # type: ignore[attr-defined]
    assert sources[0].startswith("USE_EMULATOR = True")


def test_notebook_runs_on_the_emulator(
    notebook: tuple[str, object], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import ipykernel  # noqa: F401  (registers accessors)
    import nbclient

    name, book = notebook
    monkeypatch.setenv("MPLBACKEND", "Agg")  # the plots are drawn, not displayed
    for variable in ("IPYTHONDIR", "MPLCONFIGDIR", "JUPYTER_RUNTIME_DIR"):  # not in $HOME
        monkeypatch.setenv(variable, str(tmp_path / variable.lower()))
    client = nbclient.NotebookClient(
        copy.deepcopy(book),
        kernel_name="python3",  # jupyter_client runs "python" as sys.executable
        timeout=300,
        resources={"metadata": {"path": str(tmp_path)}},
    )
    executed = client.execute()
    expected = EXPECTED[name]
    assert (tmp_path / expected.output).is_file()
    text = "\n".join(
        o.get("text", "") for c in executed.cells if c.cell_type == "code" for o in c.outputs
    )
    for wanted in expected.texts:
        assert wanted in text
