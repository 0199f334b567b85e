"""The live view's Markdown chunker: finished blocks and a display-ready tail, however the text arrives."""

from __future__ import annotations

import pytest
from streaming import long_answer

from claude_magic.chunker import MarkdownChunker


def chunk(text: str, **options: int) -> tuple[list[str], str]:
    chunker = MarkdownChunker(**options)
    blocks = [block for char in text for block in chunker.feed(char)]
    return blocks, chunker.tail


def test_paragraphs_are_cut_at_blank_lines() -> None:
    blocks, tail = chunk("First paragraph,\nstill first.\n\n\nSecond.\n\nThird, unfinished", min_block_chars=0)
    assert blocks == ["First paragraph,\nstill first.", "Second."]
    assert tail == "Third, unfinished"


def test_blocks_and_tail_are_the_text_however_it_was_split() -> None:
    text = long_answer(12)
    whole = MarkdownChunker()
    blocks, tail = chunk(text)
    assert whole.feed(text) == blocks
    assert whole.tail == tail
    assert "\n\n".join([*blocks, tail]) == text.rstrip("\n")


def test_blank_lines_inside_a_fence_do_not_cut() -> None:
    blocks, tail = chunk("```python\nx = 1\n\n\ny = 2\n```\n\nAfter.\n\nNext", min_block_chars=0)
    assert blocks == ["```python\nx = 1\n\n\ny = 2\n```", "After."]
    assert tail == "Next"


def test_a_longer_fence_is_closed_only_by_as_many_marks() -> None:
    blocks, tail = chunk("````markdown\n```python\n\nx\n```\n\n````\n\nNext", min_block_chars=0)
    assert blocks == ["````markdown\n```python\n\nx\n```\n\n````"]


def test_an_indented_line_after_a_blank_line_continues_the_block() -> None:
    text = "1. Install:\n\n   ```bash\n   pip install x\n   ```\n\n2. Run it:\n\n       indented code\n\nDone"
    blocks, tail = chunk(text, min_block_chars=0)
    assert blocks == ["1. Install:\n\n   ```bash\n   pip install x\n   ```", "2. Run it:\n\n       indented code"]
    assert tail == "Done"


def test_a_block_is_finished_as_soon_as_the_next_one_starts() -> None:
    chunker = MarkdownChunker(min_block_chars=0)
    assert chunker.feed("First.\n\n") == []
    assert chunker.feed("S") == ["First."]
    assert chunker.tail == "S"


def test_a_long_fence_is_cut_and_reopened_with_the_same_info_string() -> None:
    code = "".join(f"line {i}\n" for i in range(7))
    blocks, tail = chunk("Intro:\n~~~ python title=x\n" + code, min_block_chars=0, max_fence_lines=3)
    assert blocks == [
        "Intro:\n~~~ python title=x\nline 0\nline 1\nline 2\n~~~",
        "~~~ python title=x\nline 3\nline 4\nline 5\n~~~",
    ]
    assert tail == "~~~ python title=x\nline 6\n~~~"


def test_the_tail_closes_an_open_fence() -> None:
    chunker = MarkdownChunker()
    chunker.feed("Look:\n```python\nx = 1\n")
    assert chunker.tail == "Look:\n```python\nx = 1\n```"
    chunker.feed("``")
    assert chunker.tail == "Look:\n```python\nx = 1\n``\n```"
    chunker.feed("`")
    assert chunker.tail == "Look:\n```python\nx = 1\n```"


def test_the_tail_closes_a_fence_whose_opening_line_is_still_arriving() -> None:
    chunker = MarkdownChunker()
    chunker.feed("Look:\n```pyt")
    assert chunker.tail == "Look:\n```pyt\n```"


@pytest.mark.parametrize(
    ("partial", "shown"),
    [
        ("Use `df.gro", "Use `df.gro`"),
        ("Use `", "Use "),
        ("This is **impor", "This is **impor**"),
        ("**bold `co", "**bold `co`**"),
        ("2 * 3 and `a` b", "2 * 3 and `a` b"),
        ("-", ""),
        ("---", ""),
    ],
)
def test_the_tail_never_shows_a_bare_mark(partial: str, shown: str) -> None:
    chunker = MarkdownChunker()
    chunker.feed("A paragraph\n" + partial)
    assert chunker.tail == ("A paragraph\n" + shown).rstrip("\n")


def test_short_blocks_join_the_next_one() -> None:
    blocks, tail = chunk("## Heading\n\n" + "x" * 30 + "\n\nnext", min_block_chars=20)
    assert blocks == ["## Heading\n\n" + "x" * 30]
    assert tail == "next"


def test_a_long_tight_list_is_cut_before_an_item() -> None:
    text = "".join(f"- item {i}\n" for i in range(60)) + "- last"
    blocks, tail = chunk(text, max_block_lines=24)
    assert [block.count("\n") + 1 for block in blocks] == [24, 24]
    assert all(block.startswith("- item") for block in blocks) and tail.startswith("- item 48")
    assert "\n".join([*blocks, tail]) == text


def test_a_long_table_is_cut_before_a_row_and_repeats_its_header() -> None:
    header = "| n | square |\n|---|---|\n"
    text = header + "".join(f"| {i} | {i * i} |\n" for i in range(50)) + "| 50 | 2500 |"
    blocks, tail = chunk(text, max_block_lines=24)
    assert len(blocks) == 2 and all(block.startswith(header) for block in [*blocks[1:], tail])
    rows = [line for part in [*blocks, tail] for line in part.splitlines() if not line.startswith(("| n", "|---"))]
    assert rows == [line for line in text.splitlines()[2:]]


def words_line(chars: int) -> str:
    words = "the `median` resists **outliers** and a [link text](https://example.com/a b) stays whole".split()
    line = " ".join(words * (chars // 60))[:chars]
    return line.rsplit(" ", 1)[0]  # ends with a whole word


def test_a_long_line_is_cut_between_words_and_the_tail_stays_short() -> None:
    text = words_line(200_000)
    chunker = MarkdownChunker()
    blocks = []
    longest_tail = 0
    for start in range(0, len(text), 7):
        blocks += chunker.feed(text[start : start + 7])
        longest_tail = max(longest_tail, chunker.tail_length)
    assert longest_tail < 2 * 600 and len(blocks) > 200
    assert " ".join([*blocks, chunker.tail]) == text  # nothing lost: each cut took one space
    for block in blocks:  # never inside a code span, strong text or a link
        assert block.count("`") % 2 == 0 and block.count("**") % 2 == 0
        assert block.count("[") == block.count("]") and block.count("](") == block.count(")")
        assert block[0].isalpha()  # the rest of a line never starts as a list item, heading or fence


def test_a_line_that_cannot_be_cut_cleanly_is_cut_anyway_once_very_long() -> None:
    text = "`" + "an unclosed code span " * 1000
    blocks, tail = chunk(text)
    assert blocks and len(tail) < 4 * 600 + 100


@pytest.mark.parametrize("line", ["| a | b |" + " cell" * 300, "    code" + " x" * 400, "```python" + " y" * 400])
def test_table_rows_code_and_fences_are_not_cut_as_prose(line: str) -> None:
    blocks, _ = chunk(line)
    assert blocks == []
