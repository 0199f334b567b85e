"""The static output a turn leaves: thinking collapsed, the answer, the note and the footer."""

from __future__ import annotations

from claude_magic.output import Final, to_markdown, to_plain

FOOTER = "claude-opus-4-6 · 1,204 in · 312 out · cache 0 read / 0 written · $0.0138 · chat $0.0291"


FINAL = Final(
    text="Use **groupby**:\n\n```python\ndf.groupby('a').sum()\n```\n",
    thinking="The user wants totals per group.",
    footer=FOOTER,
    note="Stopped at the 1,024-token limit: re-run with --max-tokens 4,096 for a longer answer.",
)


def test_to_markdown_puts_thinking_collapsed_first_then_answer_note_and_footer() -> None:
    assert to_markdown(FINAL) == (
        "<details><summary>Thinking</summary>\n\n"
        "The user wants totals per group.\n\n"
        "</details>\n\n"
        "Use **groupby**:\n\n```python\ndf.groupby('a').sum()\n```\n\n"
        "Stopped at the 1,024-token limit: re-run with --max-tokens 4,096 for a longer answer.\n\n"
        "<sub>claude-opus-4-6 · 1,204 in · 312 out · cache 0 read / 0 written · <span>&#36;</span>0.0138 · "
        "chat <span>&#36;</span>0.0291</sub>"
    )


def test_to_plain_has_the_answer_note_and_footer_without_thinking() -> None:
    assert to_plain(FINAL) == (
        "Use **groupby**:\n\n```python\ndf.groupby('a').sum()\n```\n\n"
        "Stopped at the 1,024-token limit: re-run with --max-tokens 4,096 for a longer answer.\n"
        + FOOTER
    )


def test_to_markdown_without_thinking_or_note() -> None:
    assert to_markdown(Final("Hi.", footer="m · cost n/a")) == "Hi.\n\n<sub>m · cost n/a</sub>"


def test_plain_text_in_note_and_footer_is_escaped() -> None:
    markdown = to_markdown(Final("", note="⚠ *not* [a link] in max_tokens", footer="x"))
    assert markdown.startswith("⚠ \\*not\\* \\[a link\\] in max_tokens\n\n")


def test_money_reads_as_money_and_math_as_math_in_the_markdown_only():
    final = Final("The ball costs $0.05 and $x^2$ is math.", footer="m · $0.0100 this turn")
    assert to_markdown(final) == (
        "The ball costs <span>&#36;</span>0.05 and $x^2$ is math.\n\n<sub>m · <span>&#36;</span>0.0100 this turn</sub>"
    )
    assert to_plain(final) == "The ball costs $0.05 and $x^2$ is math.\n\nm · $0.0100 this turn"


def test_an_answer_cut_inside_a_fence_or_a_section_is_closed_before_the_note_and_footer():
    cut = Final("Here:\n\n<details><summary>Steps</summary>\n\n```python\nx = 1", footer="m", note="Stopped at the limit.")
    assert to_markdown(cut) == (
        "Here:\n\n<details><summary>Steps</summary>\n\n```python\nx = 1\n```\n\n</details>\n\nStopped at the limit.\n\n<sub>m</sub>"
    )


def test_what_was_sent_comes_first():
    final = Final("Answer.", footer="m", sent="sent: {df} (DataFrame 10 × 2, ~50 tokens)")
    assert to_markdown(final).startswith("<sub>sent: {df} (DataFrame 10 × 2, \\~50 tokens)</sub>\n\nAnswer.")
    assert to_plain(final) == "sent: {df} (DataFrame 10 × 2, ~50 tokens)\n\nAnswer.\n\nm"
