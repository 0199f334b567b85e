"""What a reader is told when a notebook cannot answer: replay misses worded for a student or for
whoever checks a recording, a follow-up after a miss, and a budget stop that names who set it."""

from __future__ import annotations

import pytest
from fakeapi import Turn
from shell import magics

from claude_magic.conversation import Conversations
from claude_magic.errors import ClaudeError
from claude_magic.guidance import budget_stop, miss_message
from claude_magic.settings import Settings
from claude_magic.transport import ReplayMiss

SUMMARY = "no recorded response for this request in lesson.json (2 recordings)"
DIFFERENCE = "messages[0].content[0].text: recorded 'What is a median?' but sent 'What is a mode?'"
KEY_HINT = "For a live answer, set ANTHROPIC_API_KEY before starting Jupyter, or run %claude_key."
NOT_RECORDED = "this notebook answers only the questions recorded with it (lesson.json), and this one is not among them, as asked here."


def miss(mode: str, missing_turn: str = "") -> ReplayMiss:
    return ReplayMiss(SUMMARY, DIFFERENCE, fixture="lesson.json", mode=mode, missing_turn=missing_turn)


@pytest.fixture
def student(monkeypatch):
    """No CLAUDE_MAGIC_FIXTURE_MODE: the notebook's own mode is in force, as on a student's machine."""
    monkeypatch.delenv("CLAUDE_MAGIC_FIXTURE_MODE", raising=False)


def test_a_student_with_no_key_reads_one_friendly_line(student):
    message = miss_message(miss("auto"), "What is a mode?", Settings())
    assert message == f"cell 'What is a mode?': {NOT_RECORDED} {KEY_HINT}"


def test_replay_chosen_by_the_notebook_says_how_to_switch_it(student):
    message = miss_message(miss("replay"), "What is a mode?", Settings(fixture_mode="replay"))
    assert message.endswith('For live answers, %config ClaudeMagics.fixture_mode = "auto" and set ANTHROPIC_API_KEY before starting Jupyter, or run %claude_key.')
    assert "recorded '" not in message  # no diff for a student


def test_replay_locked_by_the_course_says_live_answers_are_not_part_of_it(student):
    settings = Settings(fixture_mode="replay", origins={"fixture_mode": "claude_magic.toml"}, locked=("fixture_mode",))
    message = miss_message(miss("replay"), "What is a mode?", settings)
    assert message.endswith("This course keeps its notebooks to their recorded answers (fixture_mode is locked by claude_magic.toml).")


def test_forced_strict_replay_shows_the_difference(monkeypatch):
    monkeypatch.setenv("CLAUDE_MAGIC_FIXTURE_MODE", "replay")
    message = miss_message(miss("replay"), "What is a mode?", Settings())
    assert message == (
        f"cell 'What is a mode?': {SUMMARY}; nearest differs at {DIFFERENCE}. "
        "CLAUDE_MAGIC_FIXTURE_MODE=replay keeps the API out: unset it, with ANTHROPIC_API_KEY set or %claude_key run, for a live answer."
    )


def test_a_follow_up_after_a_miss_says_so_instead_of_a_difference(student, monkeypatch):
    friendly = miss_message(miss("auto", "What is a median?"), "And a mean?", Settings())
    assert friendly.startswith(
        "cell 'And a mean?': this follow-up was recorded after 'What is a median?', which this conversation has not had"
    )
    assert friendly.endswith(KEY_HINT) and DIFFERENCE not in friendly
    monkeypatch.setenv("CLAUDE_MAGIC_FIXTURE_MODE", "replay")
    strict = miss_message(miss("replay", "What is a median?"), "And a mean?", Settings())
    assert strict.startswith(f"cell 'And a mean?': {SUMMARY}; it was recorded after 'What is a median?', a turn this conversation does not have.")
    assert DIFFERENCE not in strict


def test_a_miss_without_a_cell_has_no_cell_prefix(student):
    assert miss_message(miss("auto"), "", Settings()).startswith("this notebook answers only")


@pytest.mark.parametrize(
    "origins, locked, said",
    [
        # What demo 03 shows: the user's own limit, and they may raise it.
        ({}, (), "Budget reached: this kernel has spent $0.0946 of its $0.0900 (ClaudeMagics.budget_usd). Raise it to go on."),
        ({"budget_usd": "%config"}, (), "Budget reached: this kernel has spent $0.0946 of its $0.0900 (ClaudeMagics.budget_usd). Raise it to go on."),
        ({"budget_usd": "IPython config"}, (), "Budget reached: this kernel has spent $0.0946 of its $0.0900, the limit set by IPython config (ClaudeMagics.budget_usd). Raise it with %config to go on."),
        (
            {"budget_usd": "../claude_magic.toml"}, ("budget_usd",),
            "Budget reached: this kernel has spent $0.0946 of its $0.0900, the limit this course sets "
            "(budget_usd, locked by ../claude_magic.toml); ask whoever runs the course for more.",
        ),
    ],
)
def test_a_budget_stop_says_what_was_spent_and_who_set_the_limit(origins, locked, said):
    assert budget_stop(0.0946, Settings(budget_usd=0.09, origins=origins, locked=locked)) == said


# -- through the shell -------------------------------------------------------------------------------


@pytest.fixture
def recorded(ip, fake_api, tmp_path, monkeypatch):
    """A two-turn conversation recorded into lesson.json; then a student's kernel: no key, no forced mode."""
    magics(ip).fixture = str(tmp_path / "lesson.json")
    monkeypatch.setenv("CLAUDE_MAGIC_FIXTURE_MODE", "record")
    fake_api.script(Turn(text="What do you already know?"), Turn(text="How would you add them up?"))
    ip.run_cell_magic("claude", "", "What is a median?")
    ip.run_cell_magic("claude", "", "And a mean?")
    monkeypatch.delenv("CLAUDE_MAGIC_FIXTURE_MODE")
    monkeypatch.delenv("ANTHROPIC_API_KEY")
    magics(ip).session.conversations = Conversations()
    return len(fake_api.requests)


def test_a_student_question_off_the_recorded_path_is_one_line_and_sends_nothing(ip, fake_api, recorded):
    result = ip.run_cell("%%claude\nWhat is a mode?")
    assert isinstance(result.error_in_exec, ClaudeError)
    assert str(result.error_in_exec) == f"cell 'What is a mode?': {NOT_RECORDED} {KEY_HINT}"
    assert len(fake_api.requests) == recorded and magics(ip).session.conversations.get().turns == 0


def test_the_follow_up_after_a_missed_question_names_the_question(ip, fake_api, recorded):
    ip.run_cell("%%claude\nWhat is a median, exactly?")  # the student edited the first question: a miss
    result = ip.run_cell("%%claude\nAnd a mean?")
    assert str(result.error_in_exec).startswith(
        "cell 'And a mean?': this follow-up was recorded after 'What is a median?', which this conversation has not had"
    )
    ip.run_cell_magic("claude", "", "What is a median?")  # back on the recorded path, both answer again
    ip.run_cell_magic("claude", "-o reply", "And a mean?")
    assert ip.user_ns["reply"].text == "How would you add them up?" and len(fake_api.requests) == recorded


def test_a_course_budget_stop_names_the_course(ip, fake_api, tmp_path, monkeypatch):
    (tmp_path / "claude_magic.toml").write_text('budget_usd = 0.01\nlocked = ["budget_usd"]\n', encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    ip.run_line_magic("unload_ext", "claude_magic")
    ip.config.ClaudeMagics.base_url = fake_api.base_url
    ip.config.ClaudeMagics.display = "text"
    ip.run_line_magic("load_ext", "claude_magic")
    fake_api.script(Turn(text="one", usage={"input_tokens": 1000, "output_tokens": 400}))
    ip.run_cell_magic("claude", "", "spend")
    result = ip.run_cell("%%claude\nmore")
    assert str(result.error_in_exec) == (
        "Budget reached: this kernel has spent $0.0120 of its $0.0100, the limit this course sets "
        "(budget_usd, locked by claude_magic.toml); ask whoever runs the course for more."
    )
    assert [r.path for r in fake_api.requests].count("/v1/messages") == 1
