"""Tool calls whatever the tool: results within their budget, the tool_result the API gets, the lines
and the collapsed section the user reads."""

from __future__ import annotations

import base64
import io

from PIL import Image

from claude_magic.output import Final, to_markdown, to_plain
from claude_magic.tools import SHOWN_CHARS, Outcome, ToolCall, bounded, ran_note, results_message, steps_markdown


def png_block(width: int, height: int) -> dict:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), "red").save(buffer, "PNG")
    data = base64.b64encode(buffer.getvalue()).decode()
    return {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": data}}


def text(value: str) -> dict:
    return {"type": "text", "text": value}


def test_a_result_within_its_budget_is_left_alone():
    content = [text("a" * 400), png_block(100, 100)]
    assert bounded(content, 200) == (content, "")


def test_a_long_result_is_cut_to_its_budget_and_says_what_it_cut():
    kept, note = bounded([text("a" * 10_000), text("b" * 100)], 1_000)
    assert [len(block["text"]) for block in kept[:-1]] == [4_000]
    assert note == "[cut: 6,100 characters over this result's budget of about 1,000 tokens]"
    assert kept[-1] == text(note)  # Claude reads it too


def test_images_past_the_budget_are_left_out_and_counted():
    big = png_block(1000, 1000)  # 1,333 tokens by the API's rule
    kept, note = bounded([text("here:"), big, big], 2_000)
    assert [block["type"] for block in kept] == ["text", "image", "text"]
    assert "1 image over" in note


def test_the_result_block_pairs_with_its_call_and_marks_failures():
    call = ToolCall("toolu_1", "describe_variable", {"name": "df"})
    done = call.finished(Outcome((text("df is a DataFrame"),), "DataFrame 3 × 2"))
    assert done.result_block == {"type": "tool_result", "tool_use_id": "toolu_1", "content": [text("df is a DataFrame")]}
    refused = call.finished(Outcome.failed("The user declined to run this code.", "refused"))
    assert refused.result_block["is_error"] is True
    message = results_message([done, refused], "Answer now.")
    assert [block["type"] for block in message["content"]] == ["tool_result", "tool_result", "text"]


def test_a_call_is_one_line_with_its_status():
    call = ToolCall("toolu_1", "run_code", {"code": "import pandas as pd\ndf = pd.read_csv('a.csv')"})
    assert call.line == "→ run_code(code='import pandas as pd…') · running…"
    assert call.finished(Outcome((), "3 lines printed")).line == "→ run_code(code='import pandas as pd…') · done · 3 lines printed"
    waiting = ToolCall("toolu_2", "view_image", {"cells_back": 2}, status="waiting")
    assert waiting.line == "→ view_image(cells_back=2) · waiting for approval"


def test_the_saved_section_is_collapsed_above_the_answer_with_inputs_and_bounded_results():
    code = ToolCall("toolu_2", "run_code", {"code": "print('$5')"}).finished(
        Outcome((text("Printed:\n$5"),), "1 line printed", ran=True)
    )
    listing = ToolCall("toolu_1", "list_variables").finished(Outcome((text("x" * 5_000), png_block(64, 32)), "1 variable"))
    final = Final("The answer.", steps=["Let me look at what costs $5.", listing, code])
    markdown = to_markdown(final)
    section, answer = markdown.split("</details>\n\n")
    assert answer == "The answer."
    assert section.startswith("<details><summary>Tool calls: 2</summary>\n\nLet me look at what costs <span>&#36;</span>5.")
    assert "**`list_variables()`** · done · 1 variable" in section
    assert f"[… {5_000 - SHOWN_CHARS:,} more characters, which Claude read]\n[image 64 × 32 px]" in section
    assert "**`run_code`** · done · 1 line printed\n\n```python\nprint('$5')\n```\n\n```text\nPrinted:\n$5\n```" in section
    assert to_plain(final) == (
        "Let me look at what costs $5.\n→ list_variables() · done · 1 variable\n"
        "→ run_code(code=\"print('$5')\") · done · 1 line printed\n\nThe answer."
    )
    assert steps_markdown(["Only words, no calls."]) == ""


def test_a_fence_inside_a_result_cannot_close_the_section_early():
    call = ToolCall("toolu_1", "read_cell").finished(Outcome((text("Source:\n```python\nx = 1\n```"),), "the cell 1 back"))
    section = steps_markdown([call])
    assert "````text\nSource:\n```python\nx = 1\n```\n````" in section


def test_a_failed_turn_names_the_code_that_already_ran():
    ran = [ToolCall(f"toolu_{i}", "run_code", {"code": f"x{i} = {i}\nmore"}, ran=True) for i in range(4)]
    read = ToolCall("toolu_9", "list_variables")
    assert ran_note([read]) == ""
    assert ran_note([read, *ran]) == (
        "Claude's code had already run 4 times in this kernel, and what it did stays: `x0 = 0`; `x1 = 1`; `x2 = 2` and 1 more."
    )
