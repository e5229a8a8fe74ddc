"""The notebooks run end to end (small draws: SKILLINFER_BAYES_QUICK=1)."""

from __future__ import annotations

from pathlib import Path

import pytest

NOTEBOOKS = sorted((Path(__file__).parent.parent / "notebooks").glob("*.ipynb"))


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_executes(path, monkeypatch, tmp_path):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    monkeypatch.setenv("SKILLINFER_BAYES_QUICK", "1")
    nb = nbformat.read(path, as_version=4)
    # the kernel must see quick mode (full settings would run for half an hour)
    nb.cells.insert(0, nbformat.v4.new_code_cell(
        "import os; print('quick mode:', os.environ.get('SKILLINFER_BAYES_QUICK'))"))
    client = nbclient.NotebookClient(
        nb, timeout=900, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    )
    client.execute()  # raises CellExecutionError at the first cell that fails
    # every code cell ran, in order (a kernel that died or a skipped cell leaves a gap)
    counts = [cell.get("execution_count") for cell in nb.cells if cell.cell_type == "code"]
    assert counts == list(range(1, len(counts) + 1))
    images = [
        out for cell in nb.cells if cell.cell_type == "code" for out in cell.get("outputs", [])
        if "image/png" in out.get("data", {})
    ]
    assert images, "the notebook's figures did not render"
    assert nb.cells[0]["outputs"][0]["text"].strip() == "quick mode: 1"
