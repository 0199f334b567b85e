"""Styles: the presets, how they combine with the system prompt, `-S`, `ClaudeMagics.style` and
`%claude_styles` through a real InteractiveShell against the fake API."""

from __future__ import annotations

import pytest
from shell import magics

from claude_magic.errors import ClaudeError
from claude_magic.settings import Settings
from claude_magic.styles import BUILTIN, TUTOR, compose, style_text, styles_report


def system_sent(fake_api, index=-1):
    return fake_api.requests[index].json.get("system")


def test_a_style_is_its_text_and_none_is_nothing():
    assert style_text("tutor", {}) == TUTOR
    assert style_text("none", {}) == style_text("", {}) == ""
    assert style_text("terse", {"terse": "One sentence."}) == "One sentence."
    assert style_text("tutor", {"tutor": "Our own tutor."}) == "Our own tutor."  # a course may replace a built-in


def test_an_unknown_style_names_the_ones_there_are():
    with pytest.raises(ClaudeError, match=r"^There is no style 'socratic': use tutor, terse, none \(%claude_styles"):
        style_text("socratic", {"terse": "One sentence."})


@pytest.mark.parametrize(
    "style, system, sent",
    [
        ("", "Be brief.", "Be brief."),  # no style: the system prompt exactly as before
        ("Teach.", "", "Teach."),
        ("Teach.", "Be brief.", "Teach.\n\nBe brief."),
        ("", "", ""),
        ("", "  ", ""),
    ],
)
def test_the_style_goes_before_the_system_prompt(style, system, sent):
    assert compose(style, system) == sent


def test_the_tutor_asks_for_hints_before_answers_and_no_full_solutions():
    text = BUILTIN["tutor"].lower()
    for words in ("question", "hints before answers", "never write a complete solution", "keep code short"):
        assert words in text


def test_the_report_lists_every_style_and_the_one_in_force():
    settings = Settings(style="tutor", styles={"terse": "One sentence."}, origins={"style": "claude_magic.toml"}, locked=("style",))
    markdown, plain = styles_report(settings)
    assert plain.startswith("tutor · built in · in force for every turn: ClaudeMagics.style, locked by claude_magic.toml\n    You are a patient tutor.")
    assert "terse · from ClaudeMagics.styles\n    One sentence." in plain
    assert "**terse** · from ClaudeMagics.styles\n\n> One sentence." in markdown


# -- through the shell -------------------------------------------------------------------------------


def test_a_configured_style_shapes_every_turn_and_combines_with_s(ip, fake_api):
    magics(ip).style = "tutor"
    ip.run_cell_magic("claude", "", "How do I compute a median?")
    assert system_sent(fake_api) == TUTOR
    ip.run_cell_magic("claude", "-s 'Answer in French.'", "And a mean?")
    assert system_sent(fake_api) == TUTOR + "\n\nAnswer in French."
    ip.run_cell_magic("claude", "", "And a mode?")  # -s holds for the conversation, the style for every turn
    assert system_sent(fake_api) == TUTOR + "\n\nAnswer in French."
    assert magics(ip).session.conversations.get().system == "Answer in French."  # the conversation keeps only its own


def test_s_style_is_for_one_turn(ip, fake_api):
    magics(ip).styles = {"terse": "One sentence."}
    ip.run_cell_magic("claude", "-S terse", "What is a median?")
    assert system_sent(fake_api) == "One sentence."
    ip.run_cell_magic("claude", "", "And a mean?")
    assert system_sent(fake_api) is None
    magics(ip).style = "tutor"
    ip.run_cell_magic("claude", "-S none", "And a mode?")
    assert system_sent(fake_api) is None


def test_the_line_magic_takes_s_style_too(ip, fake_api):
    result = ip.run_cell("%claude -S tutor what is a median?")
    assert result.error_in_exec is None and system_sent(fake_api) == TUTOR
    assert fake_api.requests[-1].json["messages"][0]["content"][0]["text"] == "what is a median?"


def test_an_unknown_style_sends_nothing(ip, fake_api):
    result = ip.run_cell("%%claude -S socratic\nhello")
    assert isinstance(result.error_in_exec, ClaudeError) and "no style 'socratic'" in str(result.error_in_exec)
    assert fake_api.requests == [] and magics(ip).session.conversations.get().turns == 0


def test_styles_lists_them(ip, capsys):
    magics(ip).styles = {"terse": "One sentence."}
    ip.run_line_magic("claude_styles", "")
    out = capsys.readouterr().out
    assert "tutor · built in" in out and "terse · from ClaudeMagics.styles" in out and "-S NAME" in out


def test_the_style_trait_and_flag_are_documented(ip):
    help_lines = [action.help for action in magics(ip).claude.parser._actions if "-S" in action.option_strings]
    assert help_lines and "Example: -S tutor" in help_lines[0]
    assert "-S NAME" in type(magics(ip)).style.help
