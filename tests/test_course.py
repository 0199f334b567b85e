"""The course file: finding and reading it, its precedence under IPython config, its locks, and
`%config ClaudeMagics` saying where each value came from (through a real InteractiveShell)."""

from __future__ import annotations

import logging
import textwrap
from pathlib import Path

import pytest
from fakeapi import Turn
from shell import magics

from claude_magic.course import COURSE_FILE, Provenance, find, read
from claude_magic.errors import ClaudeError
from claude_magic.magics import ClaudeMagics

NAMES = ClaudeMagics.class_trait_names(config=True)

COURSE = """
model = "sonnet"
style = "tutor"
budget_usd = 2.0
system = "This is Statistics 101."
fixture = "fixtures/lesson.json"
locked = ["model", "style", "budget_usd"]

[styles]
examiner = "Ask one exam question at a time."
"""


def write(folder: Path, text: str, name: str = COURSE_FILE) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


# -- finding and reading ---------------------------------------------------------------------------


def test_the_nearest_course_file_at_or_above_the_start_wins(tmp_path):
    outer = write(tmp_path, 'model = "haiku"')
    inner = write(tmp_path / "course", 'model = "sonnet"')
    (tmp_path / "course" / "week1").mkdir()
    assert find(tmp_path / "course" / "week1") == inner
    assert find(tmp_path) == outer


def test_a_pyproject_counts_only_with_our_table(tmp_path):
    outer = write(tmp_path, '[tool.claude_magic]\nmodel = "haiku"\n', "pyproject.toml")
    # A project's own pyproject.toml that merely mentions the package is passed over.
    write(tmp_path / "course", '[tool.setuptools.package-data]\nclaude_magic = ["py.typed"]\n', "pyproject.toml")
    assert find(tmp_path / "course") == outer
    assert read(outer, NAMES, tmp_path / "course").values == {"model": "haiku"}
    write(tmp_path / "course", 'model = "sonnet"')  # beside a pyproject.toml, claude_magic.toml comes first
    assert find(tmp_path / "course") == tmp_path / "course" / COURSE_FILE


def test_reading_a_course_file(tmp_path):
    course = read(write(tmp_path / "course", COURSE), NAMES, tmp_path / "course" / "week1")
    assert course.values == {
        "model": "sonnet", "style": "tutor", "budget_usd": 2.0, "system": "This is Statistics 101.",
        # relative to the course file, so a notebook in a subfolder finds it
        "fixture": str(tmp_path / "course" / "fixtures" / "lesson.json"),
        "styles": {"examiner": "Ask one exam question at a time."},
    }
    assert course.locked == ("model", "style", "budget_usd")
    assert course.shown == "../claude_magic.toml" and course.notes == ()


def test_unknown_keys_are_one_line_each_and_the_rest_apply(tmp_path):
    course = read(write(tmp_path, 'modle = "sonnet"\nbudget_usd = 1\nlocked = ["style", "colour"]\n'), NAMES, tmp_path)
    assert course.values == {"budget_usd": 1} and course.locked == ("style",)
    assert course.notes == (
        "claude_magic.toml: 'modle', which is not a setting (did you mean 'model'?); it is ignored, the other settings apply.",
        "claude_magic.toml: locked names 'colour', which is not a setting; it is ignored.",
    )


@pytest.mark.parametrize(
    "text, note",
    [
        ('model = "sonnet\n', "claude_magic.toml cannot be read, so no course settings apply:"),
        ('locked = "model"\n', "claude_magic.toml: locked must be a list of setting names"),
    ],
)
def test_a_broken_file_or_lock_list_is_one_note(tmp_path, text, note):
    course = read(write(tmp_path, text), NAMES, tmp_path)
    assert course.locked == () and len(course.notes) == 1 and course.notes[0].startswith(note)
    assert "\n" not in course.notes[0]


def test_a_folder_that_cannot_be_searched_means_no_course(tmp_path, monkeypatch):
    def refuse(self):
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "is_file", refuse)
    assert find(tmp_path) is None


def test_without_a_course_file_nothing_is_locked_and_everything_is_a_default(tmp_path):
    provenance = Provenance.load(NAMES, tmp_path)
    assert provenance.course is None and provenance.locked == frozenset()
    assert provenance.describe("model") == "From: the default"
    assert provenance.admit("model", "haiku", "claude-opus-4-6")


# -- through a real shell ----------------------------------------------------------------------------


@pytest.fixture
def course(ip, fake_api, tmp_path, monkeypatch):
    """A course folder with the notebook one level down, and the extension loaded there afresh."""
    write(tmp_path / "course", COURSE)
    (tmp_path / "course" / "week1").mkdir()
    monkeypatch.chdir(tmp_path / "course" / "week1")
    return tmp_path / "course"


def reload(ip, fake_api, **config):
    ip.run_line_magic("unload_ext", "claude_magic")
    for name, value in {"base_url": fake_api.base_url, "display": "text", "max_retries": 0, **config}.items():
        setattr(ip.config.ClaudeMagics, name, value)
    ip.run_line_magic("load_ext", "claude_magic")
    return magics(ip)


def test_the_course_applies_at_load_under_ipython_config(ip, fake_api, course, capsys):
    loaded = reload(ip, fake_api, system="My own prompt.", model="haiku")
    assert (loaded.model, loaded.style, loaded.budget_usd) == ("sonnet", "tutor", 2.0)
    assert loaded.system == "My own prompt."  # IPython config overrides what the course leaves open...
    assert loaded.fixture == str(course / "fixtures" / "lesson.json")
    # ...but not what it locks, and says so in one line.
    assert "note: ClaudeMagics.model from IPython config is not used: ../claude_magic.toml locks it." in capsys.readouterr().out


def test_a_locked_setting_refuses_config_in_one_line(ip, fake_api, course, caplog):
    loaded = reload(ip, fake_api)
    with caplog.at_level(logging.ERROR):
        ip.run_line_magic("config", "ClaudeMagics.budget_usd = 100.0")
    assert loaded.budget_usd == 2.0
    assert caplog.messages == ["ClaudeMagics.budget_usd is locked by ../claude_magic.toml (a course setting), so it stays 2.0."]
    ip.run_line_magic("config", "ClaudeMagics.budget_usd = 2.0")  # the same value is no change
    ip.run_line_magic("config", 'ClaudeMagics.system = "Be brief."')  # an unlocked one changes
    assert loaded.system == "Be brief." and loaded.budget_usd == 2.0


def test_config_says_where_each_value_came_from(ip, fake_api, course, capsys):
    reload(ip, fake_api)
    ip.run_line_magic("config", "ClaudeMagics.max_tokens = 500")
    capsys.readouterr()
    ip.run_line_magic("config", "ClaudeMagics")
    help_text = capsys.readouterr().out
    sections = {block.split("=")[0]: block for block in help_text.split("\nClaudeMagics.")[1:]}
    assert "From: ../claude_magic.toml (locked: %config and flags cannot change it)" in sections["model"]
    assert "From: ../claude_magic.toml\n" in sections["system"] + "\n"
    assert "From: IPython config" in sections["display"]
    assert "From: %config" in sections["max_tokens"]
    assert "From: the default" in sections["cache_ttl"]


@pytest.mark.parametrize(
    "flags, words",
    [
        ("-m opus", "-m: this course fixes model ('sonnet', locked by ../claude_magic.toml); run the cell without -m."),
        ("-S none", "-S: this course fixes style ('tutor'"),
    ],
)
def test_a_flag_for_a_locked_setting_is_refused_before_sending(ip, fake_api, course, flags, words):
    reload(ip, fake_api)
    result = ip.run_cell(f"%%claude {flags}\nJust give me the answer.")
    assert isinstance(result.error_in_exec, ClaudeError) and str(result.error_in_exec).startswith(words)
    assert fake_api.requests == []


def test_a_map_cannot_change_a_locked_model_either(ip, fake_api, course):
    import pandas as pd

    reload(ip, fake_api)
    ip.user_ns["reviews"] = pd.DataFrame({"text": ["good", "bad"]})
    result = ip.run_cell("%%claude_map reviews -m opus --live\nLabel: {text}")
    assert isinstance(result.error_in_exec, ClaudeError)
    assert str(result.error_in_exec).startswith("-m: this course fixes model ('sonnet', locked by ../claude_magic.toml)")
    assert fake_api.requests == []


def test_a_flag_repeating_the_locked_value_is_fine_and_unlocked_flags_work(ip, fake_api, course, monkeypatch):
    monkeypatch.setenv("CLAUDE_MAGIC_FIXTURE_MODE", "off")  # the course's fixture is not the point here
    reload(ip, fake_api)
    fake_api.script(Turn(text="What have you tried?"))
    from claude_magic.models import resolve

    sonnet = resolve("sonnet")  # the id the course's alias stands for, written out
    ip.run_cell_magic("claude", f"-m {sonnet} -S tutor -s 'Answer in French.' --max-tokens 300", "Help?")
    body = next(r.json for r in reversed(fake_api.requests) if r.path == "/v1/messages")
    assert body["model"] == sonnet and body["max_tokens"] == 300
    assert body["system"].startswith("You are a patient tutor.") and body["system"].endswith("\n\nAnswer in French.")


def test_system_locked_refuses_s(ip, fake_api, tmp_path, monkeypatch):
    write(tmp_path, 'system = "You are the TA of Statistics 101."\nlocked = ["system", "max_tokens"]\n')
    monkeypatch.chdir(tmp_path)
    reload(ip, fake_api)
    with pytest.raises(ClaudeError, match="^-s: this course fixes system"):
        ip.run_cell_magic("claude", "-s 'Ignore the course.'", "hi")
    with pytest.raises(ClaudeError, match="^--max-tokens: this course fixes max_tokens"):
        ip.run_cell_magic("claude", "--max-tokens 10", "hi")
    assert fake_api.requests == []


def test_reloading_reads_the_file_again(ip, fake_api, course):
    assert reload(ip, fake_api).model == "sonnet"
    write(course, 'model = "haiku"\n')
    loaded = reload(ip, fake_api)
    assert loaded.model == "haiku" and loaded.style == "" and loaded.settings().locked == ()
    loaded.model = "opus"  # nothing locked any more
    assert loaded.model == "opus"


def test_unknown_keys_are_named_at_load_and_the_rest_apply(ip, fake_api, tmp_path, monkeypatch, capsys):
    write(tmp_path, 'modle = "haiku"\nbudget_usd = "two"\nstyle = "tutor"\n')
    monkeypatch.chdir(tmp_path)
    loaded = reload(ip, fake_api)
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "note: claude_magic.toml: 'modle', which is not a setting (did you mean 'model'?); it is ignored, the other settings apply."
    assert out[1].startswith("note: claude_magic.toml: budget_usd = 'two' is not used:") and len(out) == 2
    from claude_magic.settings import DEFAULT_MODEL

    assert (loaded.style, loaded.budget_usd, loaded.model) == ("tutor", 0.0, DEFAULT_MODEL)


def test_a_notebook_below_the_course_replays_the_course_fixture(ip, fake_api, course, monkeypatch):
    monkeypatch.setenv("CLAUDE_MAGIC_FIXTURE_MODE", "record")
    reload(ip, fake_api)
    fake_api.script(Turn(text="What do you already know about the median?"))
    ip.run_cell_magic("claude", "", "What is a median?")
    assert (course / "fixtures" / "lesson.json").is_file()
    monkeypatch.setenv("CLAUDE_MAGIC_FIXTURE_MODE", "replay")
    monkeypatch.chdir(course)  # another notebook of the same course, one folder up
    reload(ip, fake_api)
    fake_api.stop()
    reply = ip.run_cell("%%claude -o reply\nWhat is a median?")
    assert reply.error_in_exec is None and ip.user_ns["reply"].text == "What do you already know about the median?"
