"""The fields notebook (03): stored without outputs, on the emulator by default, and it runs:
statistics per field, the season plot, one clipped field, local = service, a CSV."""

from __future__ import annotations

import copy
from pathlib import Path

import nbformat
import pandas as pd
import pytest

NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "03-fields.ipynb"


@pytest.fixture(scope="module")
def notebook() -> object:
    return nbformat.read(NOTEBOOK, as_version=4)


def test_fields_notebook_is_stored_without_outputs(notebook: object) -> None:
    for cell in notebook.cells:  # type: ignore[attr-defined]
        if cell.cell_type == "code":
            assert cell.outputs == [], f"clear the outputs of: {cell.source[:60]!r}"
            assert cell.execution_count is None


def test_fields_notebook_defaults_to_the_emulator(notebook: object) -> None:
    sources = [c.source for c in notebook.cells if c.cell_type == "code"]  # type: ignore[attr-defined]
    assert sources[0].startswith("USE_EMULATOR = True")


def test_fields_notebook_runs_on_the_emulator(
    notebook: object, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import ipykernel  # noqa: F401  (the kernel nbclient starts)
    import nbclient

    monkeypatch.setenv("MPLBACKEND", "Agg")
    for name in ("IPYTHONDIR", "MPLCONFIGDIR", "JUPYTER_RUNTIME_DIR"):
        monkeypatch.setenv(name, str(tmp_path / name.lower()))
    client = nbclient.NotebookClient(
        copy.deepcopy(notebook),
        kernel_name="python3",
        timeout=300,
        resources={"metadata": {"path": str(tmp_path)}},
    )
    executed = client.execute()
    text = "\n".join(
        o.get("text", "") for c in executed.cells if c.cell_type == "code" for o in c.outputs
    )
    assert "synthetic: 1" in text
    table = pd.read_csv(tmp_path / "fields-ndvi.csv")
    assert set(table.zone) == {"rectangle", "with-pond", "irregular", "strips"}
    assert (table.synthetic == 1).all()
    assert (table["count"] > 0).any()
    lines = text.splitlines()
    local = next(line for line in lines if line.startswith("local:"))
    service = next(line for line in lines if line.startswith("service:"))
    assert local.split(maxsplit=1)[1] == service.split(maxsplit=1)[1]  # same mean and count
