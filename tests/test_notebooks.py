"""The demo notebooks: saved as static Markdown, and re-run byte for byte from their fixtures.

nbval (run by the test command on notebooks/) compares each cell's text outputs; this checks the
stronger promise, that executing a demo under its fixture rewrites the very same file, and what
the saved file must never hold.
"""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

# The demos, and the course folder's lesson (run in its own folder, where its claude_magic.toml is).
NOTEBOOKS = sorted(
    path for path in (Path(__file__).resolve().parent.parent / "notebooks").rglob("*.ipynb")
    if ".ipynb_checkpoints" not in path.parts
)


@pytest.fixture(params=NOTEBOOKS, ids=lambda path: path.name)
def notebook(request) -> Path:
    return request.param


def test_there_are_demo_notebooks():
    assert {"01_quickstart.ipynb", "lesson.ipynb"} <= {path.name for path in NOTEBOOKS}


def test_rerun_under_the_fixture_is_byte_identical(notebook, tmp_path):
    executed = nbformat.read(notebook, as_version=4)
    NotebookClient(
        executed, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(notebook.parent)}},
        store_widget_state=False, record_timing=False,
    ).execute()
    rerun = tmp_path / notebook.name
    nbformat.write(executed, rerun)
    assert rerun.read_text() == notebook.read_text()


def test_saved_outputs_are_static_markdown(notebook):
    cells = [cell for cell in nbformat.read(notebook, as_version=4).cells if cell.cell_type == "code"]
    outputs = [output for cell in cells for output in cell.outputs]
    assert not any("application/vnd.jupyter.widget-view+json" in output.get("data", {}) for output in outputs)
    for cell in cells:
        errors = [output for output in cell.outputs if output.output_type == "error"]
        expected = "raises-exception" in cell.metadata.get("tags", [])
        assert len(errors) == expected, f"{cell.source[:40]!r}: an error output only where the cell is tagged so"
        # Our errors are one line, never a traceback wall (a demo's own failing cell keeps Python's).
        assert all(len(error.traceback) == 1 for error in errors if error.ename == "ClaudeError")
    answers = [output for output in outputs if "text/markdown" in output.get("data", {})]
    assert answers and all("text/plain" in output["data"] for output in answers)


def test_fixtures_hold_no_credentials(notebook):
    fixture = notebook.parent / "fixtures" / f"{notebook.stem}.json"
    text = fixture.read_text()
    assert "sk-ant-" not in text
    assert "authorization" not in text.lower() and "x-api-key" not in text.lower()
    assert json.loads(text)["format"] == "claude_magic-fixture"


def test_the_kernelspec_is_what_jupyterlab_writes_so_opening_a_demo_changes_nothing(notebook):
    from jupyter_client.kernelspec import KernelSpecManager

    spec = KernelSpecManager().get_kernel_spec("python3")
    stored = nbformat.read(notebook, as_version=4).metadata.kernelspec
    assert dict(stored) == {"display_name": spec.display_name, "language": spec.language, "name": "python3"}


def test_executing_a_demo_headless_stores_no_widget_state(notebook, tmp_path):
    executed = nbformat.read(notebook, as_version=4)
    # nbclient's defaults, as `jupyter nbconvert --execute` and papermill run it.
    NotebookClient(executed, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(notebook.parent)}}).execute()
    assert "widgets" not in executed.metadata
