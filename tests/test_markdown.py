"""One fence rule for every reader of Markdown: the live view, {name} protection and --code agree."""

from __future__ import annotations

import pytest

from claude_magic.chunker import MarkdownChunker
from claude_magic.context import expand_prompt
from claude_magic.markdown import Fence, fence_split, literal
from claude_magic.reply import code_blocks

NESTED = "1. Load it:\n\n    ```python\n    df = load({x})\n    ```\n\n2. Done.\n"


def test_a_fence_inside_a_list_item_is_code_to_every_reader():
    assert [segment.fence is not None for segment in fence_split(NESTED)] == [False, True, False]
    assert expand_prompt(NESTED, {"x": 1}).blocks == [{"type": "text", "text": NESTED}]
    (block,) = code_blocks(NESTED)
    assert (block.language, block.code) == ("python", "df = load({x})")
    chunker = MarkdownChunker(min_block_chars=0)
    for char in NESTED[: NESTED.index("df =") + 4]:
        chunker.feed(char)
    assert chunker.tail.endswith("    ```")  # the live view closes the open fence it is in


@pytest.mark.parametrize(
    "line, fence",
    [
        ("```python", True),
        ("~~~~", True),
        ("   ```", True),
        ("``", False),
        ("```js `x`", False),  # a backtick in the info string: an inline code span, not a fence
        ("text ```", False),
    ],
)
def test_what_opens_a_fence(line, fence):
    assert (Fence.opened_by(line) is not None) is fence


def test_a_fence_closes_only_on_as_many_of_the_same_marks():
    fence = Fence.opened_by("````")
    assert fence is not None
    assert not fence.closed_by("```") and not fence.closed_by("~~~~") and fence.closed_by("  `````  ")


def test_an_unclosed_fence_runs_to_the_end_and_is_no_code_to_run():
    text = "Intro\n```python\nprint(1)\n"
    assert fence_split(text)[-1].fence is not None and not fence_split(text)[-1].closed
    assert code_blocks(text) == []


def test_literal_text_keeps_dollars_and_markdown_marks_inert():
    assert literal("a_b *x* $0.01 | 5") == "a_b \\*x\\* <span>&#36;</span>0.01 \\| 5"
