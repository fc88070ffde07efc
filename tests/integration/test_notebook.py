"""The quick-start notebook: stored without outputs, and it runs (offline, on the emulator)."""

from __future__ import annotations

import copy
from pathlib import Path

import nbformat
import pytest

NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "01-quickstart.ipynb"


@pytest.fixture(scope="module")
def notebook() -> object:
    return nbformat.read(NOTEBOOK, as_version=4)


def test_notebook_is_stored_without_outputs(notebook: object) -> None:
    for cell in notebook.cells:  # type: ignore[attr-defined]
        if cell.cell_type == "code":
            assert cell.outputs == [], f"clear the outputs of: {cell.source[:60]!r}"
            assert cell.execution_count is None


def test_notebook_defaults_to_the_emulator(notebook: object) -> None:
    sources = [c.source for c in notebook.cells if c.cell_type == "code"]  # type: ignore[attr-defined]
    assert sources[0].startswith("USE_EMULATOR = True")


def test_notebook_runs_on_the_emulator(
    notebook: object, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import ipykernel  # noqa: F401  (registers accessors)
    import nbclient

    monkeypatch.setenv("MPLBACKEND", "Agg")  # the plots are drawn, not displayed
    for name in ("IPYTHONDIR", "MPLCONFIGDIR", "JUPYTER_RUNTIME_DIR"):  # not in $HOME
        monkeypatch.setenv(name, str(tmp_path / name.lower()))
    client = nbclient.NotebookClient(
        copy.deepcopy(notebook),
        kernel_name="python3",  # jupyter_client runs "python" as sys.executable
        timeout=300,
        resources={"metadata": {"path": str(tmp_path)}},
    )
    executed = client.execute()
    out = tmp_path / "quickstart-ndvi.tif"
    assert out.is_file()
    text = "\n".join(
        o.get("text", "") for c in executed.cells if c.cell_type == "code" for o in c.outputs
    )
    assert "EPSG:32633" in text
    assert "synthetic: 1" in text
