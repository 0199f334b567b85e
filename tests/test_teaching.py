"""A teacher's workflow end to end, in real kernels (nbclient), each started in the notebook's folder
as Jupyter starts one: write a lesson in a course folder, record it once "with a key" (the fake API,
through the real record path), hand it out, a student runs it with no key, the teacher edits one
question and records again, and the fixture's diff is that question's exchanges and nothing else.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import nbformat
import pytest
from fakeapi import FakeAPI, Turn
from nbclient import NotebookClient
from nbformat.v4 import new_code_cell, new_notebook

from claude_magic.styles import TUTOR

COURSE = """
model = "sonnet"
style = "tutor"
fixture = "fixtures/lesson.json"
locked = ["model", "style"]
"""

QUESTIONS = ["What is a median?", "How is it different from the mean?"]


@pytest.fixture
def lesson(tmp_path: Path) -> Path:
    """A course folder, and a lesson one folder down that sets nothing itself."""
    course = tmp_path / "course"
    (course / "week1").mkdir(parents=True)
    (course / "claude_magic.toml").write_text(textwrap.dedent(COURSE), encoding="utf-8")
    cells = [
        new_code_cell("%load_ext claude_magic"),
        new_code_cell(f"%%claude\n{QUESTIONS[0]}"),
        new_code_cell(f"%%claude\n{QUESTIONS[1]}"),  # a follow-up: it carries the turn above
        new_code_cell("%%claude -n\nWhat is a quartile?"),  # a conversation of its own
    ]
    path = course / "week1" / "lesson.ipynb"
    nbformat.write(new_notebook(cells=cells, metadata={"kernelspec": {"name": "python3", "display_name": "Python 3"}}), path)
    return path


def run(path: Path) -> nbformat.NotebookNode:
    notebook = nbformat.read(path, as_version=4)
    NotebookClient(
        notebook, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}},
        store_widget_state=False, record_timing=False,
    ).execute()
    nbformat.write(notebook, path)
    return notebook


def as_teacher(monkeypatch: pytest.MonkeyPatch, fake_api: FakeAPI) -> None:
    monkeypatch.setenv("CLAUDE_MAGIC_FIXTURE_MODE", "update")
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-teacher-test-key-0123456789")
    monkeypatch.setenv("ANTHROPIC_BASE_URL", fake_api.base_url)


def as_student(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("CLAUDE_MAGIC_FIXTURE_MODE", "ANTHROPIC_API_KEY", "ANTHROPIC_BASE_URL"):
        monkeypatch.delenv(name, raising=False)


def answers(notebook: nbformat.NotebookNode) -> list[str]:
    return [output["data"]["text/markdown"] for cell in notebook.cells for output in cell.outputs if "text/markdown" in output.get("data", {})]


def exchanges(fixture: Path) -> list[dict]:
    return json.loads(fixture.read_text(encoding="utf-8"))["exchanges"]


def test_record_hand_out_edit_and_record_again(lesson, fake_api, monkeypatch):
    fixture = lesson.parent.parent / "fixtures" / "lesson.json"

    # 1. The teacher records the lesson once.
    as_teacher(monkeypatch, fake_api)
    fake_api.script(Turn(text="What do you get when you sort the values?"), Turn(text="Which one moves with an outlier?"),
                    Turn(text="What would a quarter of the way along be?"))
    recorded = answers(run(lesson))
    assert len(fake_api.asked) == 3 and len(exchanges(fixture)) == 4
    from claude_magic.models import resolve

    assert all(request.json["model"] == resolve("sonnet") and request.json["system"] == TUTOR for request in fake_api.asked)

    # 2. A student runs the handed-out notebook with no key: every answer from the fixture, none asked.
    as_student(monkeypatch)
    assert answers(run(lesson)) == recorded and len(fake_api.asked) == 3

    # 3. The teacher edits the first question and records again: only what changed is asked.
    before = fixture.read_text(encoding="utf-8")
    notebook = nbformat.read(lesson, as_version=4)
    notebook.cells[1].source = "%%claude\nWhat is a median, in one sentence?"
    nbformat.write(notebook, lesson)
    as_teacher(monkeypatch, fake_api)
    fake_api.script(Turn(text="Sort them first: what sits in the middle?"), Turn(text="Which one moves with an outlier?"))
    rerecorded = answers(run(lesson))
    asked = [request.json["messages"][-1]["content"][0]["text"] for request in fake_api.asked[3:]]
    assert asked == ["What is a median, in one sentence?", QUESTIONS[1]]  # the edit, and the follow-up carrying it
    assert rerecorded[2] == recorded[2]  # the quartile, its own conversation, replayed as it was

    # The fixture's diff: the two new exchanges added; every earlier one byte for byte where it was.
    old, new = json.loads(before)["exchanges"], exchanges(fixture)
    assert [e for e in old if e not in new] == [] and len(new) == len(old) + 2
    assert [e for e in new if e in old] == old  # and in the same order: the diff only adds
    assert "What is a median, in one sentence?" in json.dumps(new)

    # 4. Students get the edited lesson, still with no key.
    as_student(monkeypatch)
    assert answers(run(lesson)) == rerecorded and len(fake_api.asked) == 5
