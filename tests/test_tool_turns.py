"""Turns with tool calls, through a real InteractiveShell against the fake API (strict validation on):
the loop, its limit, what the conversation keeps, and every way a turn can stop half-way."""

from __future__ import annotations

from typing import Any

import pytest
from fakeapi import FAKE_SIGNATURE, Turn
from IPython.core.displaypub import DisplayPublisher
from shell import magics

from claude_magic.errors import ClaudeError
from claude_magic.kernel_tools import definitions
from claude_magic.loop import KEPT_CALLING
from claude_magic.pricing import price_for
from claude_magic.run_code import NO_PROMPT
from claude_magic.settings import DEFAULT_MODEL
from claude_magic.tools import LIMIT_NOTE, NOT_OFFERED


def history(ip, chat: str = "default") -> list[dict[str, Any]]:
    return magics(ip).session.conversations.get(chat).messages


def shape(messages: list[dict[str, Any]]) -> list[tuple[str, list[str]]]:
    return [(m["role"], [block["type"] for block in m["content"]]) for m in messages]


def results(request) -> list[dict[str, Any]]:
    return [block for block in request.json["messages"][-1]["content"] if block["type"] == "tool_result"]


def result_text(result: dict[str, Any]) -> str:
    return "\n".join(block["text"] for block in result["content"] if block["type"] == "text")


LIST = {"name": "list_variables", "input": {}}


def test_a_kernel_turn_runs_the_calls_and_keeps_the_whole_exchange(ip, fake_api, capsys):
    ip.run_cell("import pandas as pd\nsales = pd.DataFrame({'north': [1.0, None]})")
    fake_api.script(
        Turn(text="Let me look.", tool_uses=[LIST, {"name": "describe_variable", "input": {"name": "sales"}}]),
        Turn(text="`sales` has one missing value in `north`."),
    )
    ip.run_cell_magic("claude", "-k", "what is in my data?")
    first, second = fake_api.asked
    assert fake_api.rejected == 0
    assert first.json["tools"] == second.json["tools"] == definitions(run=False)
    assert first.json["messages"] == second.json["messages"][:1]  # the whole history, every time
    listed, described = results(second)
    assert result_text(listed).startswith("1 variable (name, type") and "\nsales  pandas.DataFrame  2 × 1" in result_text(listed)
    assert "nulls 1" in result_text(described)
    assert shape(history(ip)) == [
        ("user", ["text"]), ("assistant", ["text", "tool_use", "tool_use"]), ("user", ["tool_result", "tool_result"]),
        ("assistant", ["text"]),
    ]
    out = capsys.readouterr().out
    assert "Let me look.\n→ list_variables() · done · 1 variable\n→ describe_variable(name='sales') · done · DataFrame 2 × 1" in out
    assert "\n\n`sales` has one missing value in `north`." in out


def test_a_turn_makes_at_most_max_tool_calls_then_claude_answers_with_what_it_has(ip, fake_api):
    magics(ip).max_tool_calls = 2
    fake_api.script(Turn(tool_uses=[LIST]), Turn(tool_uses=[LIST, LIST]), Turn(text="Here is what I found."))
    ip.run_cell_magic("claude", "-k", "dig deep")
    assert len(fake_api.asked) == 3 and fake_api.rejected == 0
    last = fake_api.asked[-1]
    assert last.json["tool_choice"] == {"type": "none"} and "tool_choice" not in fake_api.asked[1].json
    ran, refused = results(last)
    assert "is_error" not in ran and refused["is_error"] is True and result_text(refused) == LIMIT_NOTE.format(limit=2)
    assert last.json["messages"][-1]["content"][-1] == {"type": "text", "text": LIMIT_NOTE.format(limit=2)}
    assert len(history(ip)) == 6


def test_a_claude_that_keeps_calling_after_being_told_to_answer_fails_the_turn_and_keeps_nothing(ip, fake_api):
    magics(ip).max_tool_calls = 1
    fake_api.script(Turn(tool_uses=[LIST]), Turn(tool_uses=[LIST]), Turn(tool_uses=[LIST]))
    with pytest.raises(ClaudeError, match="kept calling tools"):
        ip.run_cell_magic("claude", "-k", "loop forever")
    assert history(ip) == [] and fake_api.pending == 1 and str(KEPT_CALLING)


def test_once_a_conversation_used_tools_later_turns_define_the_same_tools(ip, fake_api):
    fake_api.script(Turn(tool_uses=[LIST]), Turn(text="one"), Turn(text="two"))
    ip.run_cell_magic("claude", "-k", "look")
    ip.run_cell_magic("claude", "", "and without tools?")
    later = fake_api.asked[-1].json
    # The same bytes, and no tool_choice: the API caches messages under the tool_choice they came with.
    assert later["tools"] == fake_api.asked[0].json["tools"] and "tool_choice" not in later
    assert fake_api.rejected == 0
    ip.run_cell_magic("claude", "-n", "fresh")
    assert "tools" not in fake_api.asked[-1].json


def test_a_call_in_a_turn_without_k_is_refused_and_claude_is_told_to_answer(ip, fake_api):
    fake_api.script(Turn(tool_uses=[LIST]), Turn(text="one"), Turn(tool_uses=[LIST]), Turn(text="fine, no tools"))
    ip.run_cell_magic("claude", "-k", "look")
    ip.run_cell_magic("claude", "", "and now?")
    (refused,) = results(fake_api.asked[-1])
    assert refused["is_error"] and result_text(refused) == NOT_OFFERED
    assert "tool_choice" not in fake_api.asked[-2].json and fake_api.asked[-1].json["tool_choice"] == {"type": "none"}
    assert history(ip)[-1]["content"][0]["text"] == "fine, no tools"


def test_a_reply_calling_a_tool_no_request_offered_changes_nothing(ip, fake_api):
    fake_api.script(Turn(tool_uses=[LIST]))
    with pytest.raises(ClaudeError, match=r"called a tool \(list_variables\) though none was offered"):
        ip.run_cell_magic("claude", "", "hi")
    assert history(ip) == [] and len(fake_api.asked) == 1


@pytest.mark.parametrize(
    "fault, words",
    [(Turn(status=529), "overloaded"), (Turn(drop_after=4), "dropped"), (Turn(error_event_after=2), "overloaded")],
)
def test_a_fault_after_a_tool_step_keeps_nothing_and_says_which_code_already_ran(ip, fake_api, fault, words):
    magics(ip).run_code = "always"
    fake_api.script(Turn(text="first"))
    ip.run_cell_magic("claude", "", "before")
    before = history(ip)
    fake_api.script(Turn(tool_uses=[{"name": "run_code", "input": {"code": "ran_here = 1\nprint('x')"}}]), fault)
    with pytest.raises(ClaudeError, match=words) as raised:
        ip.run_cell_magic("claude", "--run", "change something")
    assert history(ip) == before
    assert "Claude's code had already run 1 time in this kernel, and what it did stays: `ran_here = 1`." in str(raised.value)
    assert "\n" not in str(raised.value) and ip.user_ns["ran_here"] == 1
    fake_api.script(Turn(text="after"))
    ip.run_cell_magic("claude", "", "next")
    assert shape(fake_api.asked[-1].json["messages"]) == [("user", ["text"]), ("assistant", ["text"]), ("user", ["text"])]


def test_an_interrupt_during_a_tool_keeps_nothing(ip, fake_api, monkeypatch):
    from claude_magic.kernel_tools import KernelTools

    def interrupted(self):
        raise KeyboardInterrupt

    monkeypatch.setattr(KernelTools, "list_variables", interrupted)
    fake_api.script(Turn(tool_uses=[LIST]))
    with pytest.raises(ClaudeError, match="Interrupted"):
        ip.run_cell_magic("claude", "-k", "look")
    assert history(ip) == []


def test_the_budget_stops_a_turn_between_its_requests(ip, fake_api, capsys):
    magics(ip).budget_usd = 0.001
    fake_api.script(Turn(tool_uses=[LIST], usage={"input_tokens": 1_000}))
    with pytest.raises(ClaudeError, match="Budget reached mid-turn"):
        ip.run_cell_magic("claude", "-k", "look")
    assert history(ip) == [] and len(fake_api.asked) == 1
    price = price_for(DEFAULT_MODEL)
    assert magics(ip).session.ledger.total == pytest.approx((1_000 * price.input + price.output) / 1e6)  # billed


def test_a_reply_cut_off_while_calling_a_tool_keeps_nothing(ip, fake_api):
    fake_api.script(Turn(text="Let me", tool_uses=[LIST], stop_reason="max_tokens"))
    with pytest.raises(ClaudeError, match="cut off while calling a tool"):
        ip.run_cell_magic("claude", "-k", "look")
    assert history(ip) == []


def test_run_is_refused_before_sending_when_run_code_is_never(ip, fake_api):
    magics(ip).run_code = "never"
    with pytest.raises(ClaudeError, match="run_code is 'never'"):
        ip.run_cell_magic("claude", "--run", "x")
    assert fake_api.asked == []


def test_with_no_one_to_approve_run_code_is_refused_and_claude_is_told(ip, fake_api, capsys):
    fake_api.script(Turn(tool_uses=[{"name": "run_code", "input": {"code": "touched = True"}}]), Turn(text="ok"))
    ip.run_cell_magic("claude", "--run", "go")  # pytest's stdin cannot answer: the ask is refused
    (refused,) = results(fake_api.asked[-1])
    assert refused["is_error"] and result_text(refused) == NO_PROMPT and "touched" not in ip.user_ns
    assert "→ run_code(code='touched = True') · refused · no one can approve here (set" in capsys.readouterr().out


def test_a_k_turn_after_run_still_defines_run_code_and_refuses_it(ip, fake_api):
    magics(ip).run_code = "always"
    run = {"name": "run_code", "input": {"code": "1 + 1"}}
    fake_api.script(Turn(tool_uses=[run]), Turn(text="2"), Turn(tool_uses=[run]), Turn(text="no"))
    ip.run_cell_magic("claude", "--run", "add")
    ip.run_cell_magic("claude", "-k", "again")
    assert fake_api.asked[-1].json["tools"] == definitions(run=True) and fake_api.rejected == 0
    (refused,) = results(fake_api.asked[-1])
    assert result_text(refused) == "run_code is not enabled this turn: the user asked without --run."


def test_thinking_goes_back_exactly_in_each_tool_step(ip, fake_api):
    fake_api.script(Turn(thinking="First I list.", tool_uses=[LIST]), Turn(thinking="Now I answer.", text="Done."))
    ip.run_cell_magic("claude", "-k -t -o reply", "look")
    step = fake_api.asked[-1].json["messages"][1]["content"][0]
    assert step == {"type": "thinking", "thinking": "First I list.", "signature": FAKE_SIGNATURE}
    assert ip.user_ns["reply"].thinking == "First I list.\n\nNow I answer." and ip.user_ns["reply"].text == "Done."


def test_a_dry_run_counts_the_tool_definitions(ip, fake_api, capsys):
    ip.run_cell_magic("claude", "--dry-run", "hello")
    plain = int(capsys.readouterr().out.split(" input tokens")[0].split()[-1].replace(",", ""))
    ip.run_cell_magic("claude", "-k --dry-run", "hello")
    out = capsys.readouterr().out
    with_tools = int(out.split(" input tokens")[0].split()[-1].replace(",", ""))
    assert "max_tokens 4,096 · tools: list_variables, describe_variable, view_image, list_cells, read_cell, last_error" in out
    assert fake_api.requests[-1].json["tools"] == definitions(run=False)
    assert with_tools > plain + 200


class Recorder(DisplayPublisher):
    def __init__(self) -> None:
        super().__init__()
        self.data: list[dict[str, Any]] = []

    def publish(self, data, metadata=None, source=None, *, transient=None, update=False, **kwargs) -> None:
        if not update:
            self.data.append(data)


def test_the_saved_answer_keeps_the_calls_collapsed_above_it(ip, fake_api, monkeypatch):
    recorder = Recorder()
    monkeypatch.setattr(ip, "display_pub", recorder)
    magics(ip).display = "markdown"
    ip.run_cell("numbers = [1, 2, 3]")
    fake_api.script(Turn(tool_uses=[{"name": "describe_variable", "input": {"name": "numbers"}}]), Turn(text="Three numbers."))
    ip.run_cell_magic("claude", "-k", "what is numbers?")
    saved = recorder.data[-1]["text/markdown"]
    assert saved.startswith("<details><summary>Tool calls: 1</summary>\n\n**`describe_variable(name='numbers')`** · done · list of 3")
    assert '<variable name="numbers" type="list">\n[1, 2, 3]\n</variable>' in saved
    assert saved.split("</details>\n\n")[1].startswith("Three numbers.")
    assert recorder.data[-1]["text/plain"].startswith("→ describe_variable(name='numbers') · done · list of 3")


def test_a_tool_result_holding_text_that_is_not_unicode_is_sent_with_it_replaced(ip, fake_api):
    """A file name decoded with surrogateescape reaches an error message, and `last_error` reads it:
    the SDK cannot encode a lone surrogate, so the result carries U+FFFD in its place."""
    ip.run_cell("name = b'caf\\xe9.csv'.decode('utf-8', 'surrogateescape')\nraise ValueError('cannot read ' + name)")
    fake_api.script(Turn(tool_uses=[{"name": "last_error", "input": {}}]), Turn(text="The file is missing."))
    ip.run_cell_magic("claude", "-k -o reply", "Why did that fail?")
    assert ip.user_ns["reply"].text == "The file is missing." and fake_api.rejected == 0
    sent = result_text(results(fake_api.asked[-1])[0])
    assert "caf\ufffd.csv" in sent and "\udce9" not in sent
