"""Issue 11: thirteen ways to break a turn, found by trying, each held here as one line and nothing lost.

Each fault is made where it happens: in the local fake API (malformed streams, refusals, a lone tool
call, a server's error text, retry-after), in a fixture file edited by hand, or in the cell a user
types (a lone surrogate, a DataFrame that cannot print, an -o name that would break the kernel), and
each is run through `%%claude` in a real InteractiveShell.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import traceback
from typing import Any

import pytest
from fakeapi import STREAM_FAULTS, Turn
from IPython.utils.capture import capture_output
from shell import chat, magics

from claude_magic.client import SDK_LOGGER
from claude_magic.conversation import Conversations
from claude_magic.display import TextView
from claude_magic.errors import ClaudeError

KEY = "sk-ant-api03-PASTED" + "Zq8Xv3Lr6Tn9Wb5Hk2Mp7Jd4Gs0Fc1Ya-Ue_Oi3Rt" + "AA"


def failed(ip, source: str) -> str:
    """The one-line error of a cell that must fail, checked to be one line."""
    result = ip.run_cell(source)
    assert isinstance(result.error_in_exec, ClaudeError), repr(result.error_in_exec)
    message = str(result.error_in_exec)
    assert message and "\n" not in message, message
    return message


def texts(message: dict[str, Any]) -> list[str]:
    return [block["text"] for block in message["content"] if block["type"] == "text"]


# -- 1. a lone surrogate, wherever text enters a request ----------------------------------------------


@pytest.mark.parametrize(
    "cell, where",
    [
        ("%%claude\nwhat is {s}?", "{s}"),
        ("%%claude -w s\nwhat is this?", "-w s"),
        ("%%claude\nhi \ud800 there", "the prompt"),
        ("%%claude -s \"Be \ud800 brief.\"\nhi", "the system prompt"),
        ("%%claude --dry-run\nwhat is {s}?", "{s}"),
        ("%%claude -w box\nwhat is this?", "-w box"),
    ],
)
def test_a_lone_surrogate_is_refused_in_one_line_before_sending(ip, fake_api, cell, where):
    class Box:
        def __repr__(self):
            return "Box(b \udc80)"  # repr() of a str escapes a surrogate; a repr of one's own need not

    ip.user_ns["s"] = "hi \ud800"
    ip.user_ns["box"] = Box()
    message = failed(ip, cell)
    assert message.startswith(f"{where} holds a lone surrogate (\\ud") and "cannot be sent" in message
    assert fake_api.requests == [] and chat(ip).turns == 0


def test_a_lone_surrogate_in_the_configured_system_prompt_is_refused(ip, fake_api):
    magics(ip).system = "Answer \udfff tersely."
    assert failed(ip, "%%claude\nhi").startswith("the system prompt holds a lone surrogate")
    assert fake_api.requests == []


# -- 2. a malformed stream -----------------------------------------------------------------------------


@pytest.mark.parametrize("fault", STREAM_FAULTS)
def test_a_malformed_stream_fails_in_one_line_keeps_the_partial_answer_and_commits_nothing(ip, fake_api, capsys, fault):
    ip.run_cell_magic("claude", "", "first")
    before = chat(ip).messages
    fake_api.script(Turn(text="The partial answer goes on and on.", stream_fault=fault, fault_after=6,
                         usage={"input_tokens": 500, "output_tokens": 40}))
    capsys.readouterr()
    message = failed(ip, "%%claude\nsecond")
    expected = "dropped mid-answer" if fault == "no_message_stop" else "stream could not be read"
    assert expected in message and "nothing was added" in message
    shown = capsys.readouterr()
    assert "Traceback" not in shown.out + shown.err
    if fault != "no_message_start":  # with no message_start the SDK makes no text of the deltas
        assert "The partial" in shown.out and "incomplete" in shown.out
    assert chat(ip).messages == before
    if fault != "no_message_start":  # what the API reported is billed
        assert sum(spend.usage.input_tokens for spend in magics(ip).session.ledger.spends.values()) >= 500
    ip.run_cell_magic("claude", "", "third")
    assert texts(fake_api.requests[-1].json["messages"][2]) == ["third"]


def test_an_error_in_the_view_itself_is_a_bug_and_keeps_its_traceback(ip, fake_api, monkeypatch):
    def broken(self, delta):
        raise IndexError("a bug in our own view")

    monkeypatch.setattr(TextView, "text", broken)
    result = ip.run_cell("%%claude\nhi")
    assert isinstance(result.error_in_exec, IndexError)
    assert chat(ip).turns == 0


# -- 3. a fixture edited by hand ----------------------------------------------------------------------


def recorded_fixture(ip, fake_api, tmp_path, monkeypatch):
    fixture = tmp_path / "edited.json"
    magics(ip).fixture = str(fixture)
    monkeypatch.setenv("CLAUDE_MAGIC_FIXTURE_MODE", "record")
    fake_api.script(Turn(text="Recorded and fine."))
    ip.run_cell_magic("claude", "", "the question")
    monkeypatch.setenv("CLAUDE_MAGIC_FIXTURE_MODE", "replay")
    magics(ip).session.conversations = Conversations()
    return fixture


def bad_index(events):
    delta = next(e for e in events if e["event"] == "content_block_delta")
    delta["data"]["index"] = 7


def start_as_string(events):
    events[0]["data"] = "message_start"


def no_start(events):
    del events[0]


@pytest.mark.parametrize(
    "edit, words",
    [
        (bad_index, "(content_block_delta) names block 7, but 1 block started"),
        (start_as_string, "(message_start) holds no JSON object"),
        (no_start, "(content_block_start) comes before message_start"),
    ],
)
def test_a_fixture_edited_by_hand_fails_in_one_line_naming_it_and_the_exchange(ip, fake_api, tmp_path, monkeypatch, edit, words):
    fixture = recorded_fixture(ip, fake_api, tmp_path, monkeypatch)
    document = json.loads(fixture.read_text())
    # The stream's exchange: a model's first turn also records the Models API's answer about it.
    index = next(i for i, exchange in enumerate(document["exchanges"]) if "events" in exchange["response"])
    edit(document["exchanges"][index]["response"]["events"])
    fixture.write_text(json.dumps(document))
    message = failed(ip, "%%claude\nthe question")
    assert message.startswith(f"cell 'the question': exchange {index} of edited.json cannot be replayed: its event")
    assert words in message
    assert chat(ip).turns == 0


# -- 4. a DataFrame that cannot print ------------------------------------------------------------------


def test_a_dataframe_whose_cells_or_to_string_raise_is_one_line(ip, fake_api):
    import pandas as pd

    class Unprintable:
        def __repr__(self):
            raise RuntimeError("this cell cannot be shown")

    class Stubborn(pd.DataFrame):
        def to_string(self, *args, **kwargs):
            raise ValueError("no string for you")

    ip.user_ns["cells"] = pd.DataFrame({"a": [Unprintable(), 2], "b": [1.0, 2.0]})
    ip.user_ns["stubborn"] = Stubborn({"a": [1, 2]})
    for cell, words in [
        ("%%claude -w cells\nwhat is this?", "summarising cells failed: RuntimeError: this cell cannot be shown"),
        ("%%claude\nwhat is {cells}?", "summarising cells failed: RuntimeError"),
        ("%%claude -w stubborn\nand this?", "summarising stubborn failed: ValueError: no string for you"),
    ]:
        assert words in failed(ip, cell)
    assert fake_api.requests == []


# -- 5. -o names that would break the kernel -------------------------------------------------------------


@pytest.mark.parametrize(
    "name, words",
    [
        ("__builtins__", "belong to Python itself"),
        ("__name__", "belong to Python itself"),
        ("get_ipython", "IPython keeps its own"),
        ("In", "IPython keeps its own"),
        ("Out", "IPython keeps its own"),
        ("exit", "IPython keeps its own"),
        ("_", "IPython keeps its own"),
        ("__", "belong to Python itself"),
        ("_i3", "IPython keeps its own"),
        ("_12", "IPython keeps its own"),
        ("_oh", "IPython keeps its own"),
        ("class", "Python keyword"),
        ("print", "built-in print"),
        ("2bad", "-o needs a variable name"),
    ],
)
def test_an_out_name_that_would_break_the_kernel_is_refused_before_sending(ip, fake_api, name, words):
    message = failed(ip, f"%%claude -o {name}\nhi")
    assert words in message and "nothing was sent" in message or "needs a variable name" in message
    assert fake_api.requests == []
    assert ip.run_cell("x = get_ipython(); y = len(In)").error_in_exec is None  # the kernel still works


def test_ipythons_own_names_are_all_refused(ip):
    from claude_magic.reply import check_out_name

    for name in ip.user_ns_hidden:
        with pytest.raises(ClaudeError):
            check_out_name(name)
    check_out_name("answer")
    check_out_name("_private")


# -- 6. two turns at once --------------------------------------------------------------------------------


def test_two_turns_on_one_conversation_run_one_after_the_other(ip, fake_api):
    fake_api.script(Turn(text="first answer, slowly", chunk_chars=2, delay=0.01), Turn(text="second answer"))

    async def both():
        return await asyncio.gather(
            asyncio.to_thread(ip.run_cell_magic, "claude", "", "question one"),
            asyncio.to_thread(ip.run_cell_magic, "claude", "", "question two"),
        )

    asyncio.run(both())
    assert fake_api.peak_concurrency == 1
    first, second = (request.json["messages"] for request in fake_api.asked)
    assert len(first) == 1 and len(second) == 3 and second[:2] == chat(ip).messages[:2]
    assert [texts(m) for m in chat(ip).messages[::2]] == [texts(first[0]), texts(second[2])]


def test_the_sdk_logger_is_restored_whatever_order_overlapping_turns_end_in(ip, fake_api, monkeypatch):
    """Turn a starts, turn b starts, a ends while b still runs, then b ends: the order that left the
    logger at INFO with propagate off when each turn saved and restored it alone."""
    logger = logging.getLogger(SDK_LOGGER)
    before = logger.level, logger.propagate
    started, a_done = threading.Barrier(2, timeout=10), threading.Event()
    original = TextView.text

    def text(self, delta):
        if not getattr(self, "_met", False):
            self._met = True
            started.wait()
            if threading.current_thread().name == "b":
                assert a_done.wait(10)
        original(self, delta)

    monkeypatch.setattr(TextView, "text", text)
    errors: list[BaseException] = []

    def turn(name: str) -> None:
        try:
            ip.run_cell_magic("claude", f"-c {name}", f"hello from {name}")
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            if name == "a":
                a_done.set()

    threads = [threading.Thread(target=turn, args=(name,), name=name) for name in "ab"]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)
    assert not errors and chat(ip, "a").turns == chat(ip, "b").turns == 1
    assert (logger.level, logger.propagate) == before


def test_a_turn_inside_a_turn_of_the_same_conversation_is_refused(ip, fake_api, monkeypatch):
    original = TextView.text
    inner: list[str] = []

    def text(self, delta):
        if not inner:
            inner.append(failed(ip, "%%claude\nfrom inside"))
        original(self, delta)

    monkeypatch.setattr(TextView, "text", text)
    ip.run_cell_magic("claude", "", "outside")
    assert "already running here" in inner[0] and chat(ip).turns == 1


# -- 8 and 9. keys in prompts and in a server's words ------------------------------------------------


def test_a_notebook_recorded_with_a_key_in_a_prompt_replays_and_shows_no_key(ip, fake_api, tmp_path, monkeypatch):
    fixture = tmp_path / "pasted.json"
    magics(ip).fixture = str(fixture)
    magics(ip).display = "markdown"
    monkeypatch.setenv("CLAUDE_MAGIC_FIXTURE_MODE", "record")
    cells = [f"%%claude --raw\nWhy does Anthropic(api_key=\"{KEY}\") fail?", "%%claude\nAnd what should I do?"]
    with capture_output() as recorded:
        for cell in cells:
            assert ip.run_cell(cell).error_in_exec is None
    assert KEY[-20:] not in fixture.read_text()

    monkeypatch.setenv("CLAUDE_MAGIC_FIXTURE_MODE", "replay")
    monkeypatch.delenv("ANTHROPIC_API_KEY")
    magics(ip).session.conversations = Conversations()
    fake_api.stop()
    with capture_output() as replayed:
        for cell in cells:
            assert ip.run_cell(cell).error_in_exec is None  # every turn finds its recording
        message = failed(ip, f"%%claude\nIs {KEY} still valid?")
    assert chat(ip).turns == 2 and "no recorded response" in message
    shown = [json.dumps(output.data, ensure_ascii=False) for output in [*recorded.outputs, *replayed.outputs]]
    assert any("Echo: Why does Anthropic" in text for text in shown)
    for text in [*shown, message, recorded.stdout, replayed.stdout]:
        assert KEY[-20:] not in text and KEY[20:40] not in text


@pytest.mark.parametrize(
    "turn",
    [Turn(status=403, error_message=f"key {KEY} may not use this model"),
     Turn(text="half", error_event_after=4, error_type="api_error", error_message=f"bad key {KEY}")],
    ids=["error status", "error event"],
)
def test_a_key_in_a_servers_error_text_is_never_shown(ip, fake_api, turn):
    fake_api.script(turn)
    result = ip.run_cell("%%claude\nhi")
    error = result.error_in_exec
    assert isinstance(error, ClaudeError) and "sk-ant-…redacted" in str(error)
    seen = [str(error), repr(error), "".join(traceback.format_exception(error)), *error._render_traceback_(),
            repr(error.__context__), repr(error.__cause__)]
    assert not any(KEY[-20:] in text for text in seen), seen


# -- 10. a refusal with partial text ---------------------------------------------------------------------


def test_a_refusal_with_partial_text_is_shown_marked_and_not_kept(ip, fake_api, capsys):
    ip.run_cell_magic("claude", "", "first")
    fake_api.script(Turn(text="I can start on this, but", stop_reason="refusal", usage={"input_tokens": 300}))
    capsys.readouterr()
    message = failed(ip, "%%claude\nsomething it refuses")
    assert "declined" in message and "partial answer, shown above, was not added" in message
    out = capsys.readouterr().out
    assert "I can start on this, but" in out and "declined, not kept" in out
    assert chat(ip).turns == 1
    ip.run_cell_magic("claude", "", "something else")
    assert len(fake_api.requests[-1].json["messages"]) == 3  # the refused turn is not sent again
    assert sum(spend.usage.input_tokens for spend in magics(ip).session.ledger.spends.values()) >= 300


# -- 11. a lone tool call ----------------------------------------------------------------------------------


def test_a_reply_that_only_calls_a_tool_none_was_offered_is_not_kept(ip, fake_api):
    fake_api.script(Turn(tool_uses=[{"name": "get_weather", "input": {"city": "Paris"}}]))
    message = failed(ip, "%%claude\nweather in Paris?")
    assert "get_weather" in message and "nothing was added to the conversation" in message
    assert chat(ip).turns == 0
    ip.run_cell_magic("claude", "", "and now?")  # the next turn is no 400
    assert fake_api.rejected == 0 and chat(ip).turns == 1


# -- 13. settings and empty options -------------------------------------------------------------------------


@pytest.mark.parametrize("name, value", [("timeout", -5), ("timeout", 0), ("timeout", float("nan")),
                                         ("timeout", float("inf")), ("max_retry_wait", -1)])
def test_seconds_settings_are_validated_when_set(ip, name, value):
    with pytest.raises(Exception, match=f"ClaudeMagics.{name} must be a number of seconds"):
        setattr(magics(ip), name, value)


def test_a_retry_after_longer_than_the_limit_fails_at_once_naming_the_wait_and_the_setting(ip, fake_api):
    magics(ip).max_retries = 2
    fake_api.script(Turn(status=429, retry_after=999_999), Turn(text="never asked"))
    message = failed(ip, "%%claude\nhi")
    assert message.startswith("Rate limited (429): the server asks for a wait of 12 days before a retry")
    assert "ClaudeMagics.max_retry_wait (60 s)" in message
    assert len(fake_api.asked) == 1 and chat(ip).turns == 0


def test_a_retry_after_within_the_limit_is_waited_for_and_said(ip, fake_api, capsys):
    magics(ip).max_retries = 1
    magics(ip).max_retry_wait = 1
    fake_api.script(Turn(status=529, retry_after=0.05), Turn(text="Made it."))
    ip.run_cell_magic("claude", "", "hi")
    assert "[overloaded (529), retrying in 0 s, as the server asked]" in capsys.readouterr().out


@pytest.mark.parametrize("flags, words", [("-m ''", "-m needs a model id"), ("-c ''", "-c needs a conversation name")])
def test_empty_model_or_chat_names_are_refused(ip, fake_api, flags, words):
    assert words in failed(ip, f"%%claude {flags}\nhi")
    assert fake_api.requests == []


# -- also noted: huge cells, pauses that do not end, nonsense usage ------------------------------------------


def test_a_cell_over_the_request_limit_is_refused_and_a_large_one_gets_a_note(ip, fake_api, capsys, monkeypatch):
    import claude_magic.turn_checks

    ip.run_cell_magic("claude", "", "x " * 60_000)
    assert "this turn sends 119,999 characters" in capsys.readouterr().out  # the cell, stripped
    monkeypatch.setattr(claude_magic.turn_checks, "MAX_REQUEST_CHARS", 200_000)
    message = failed(ip, "%%claude\n" + "y " * 50_000)
    assert "the API takes at most" in message and len(fake_api.asked) == 1


def test_a_turn_still_paused_after_its_resumptions_is_kept_with_a_note(ip, fake_api, capsys):
    fake_api.script(*[Turn(text=f"part {i} ", stop_reason="pause_turn") for i in range(4)])
    ip.run_cell_magic("claude", "", "long job")
    assert "paused this answer again after it was resumed" in capsys.readouterr().out
    assert len(fake_api.asked) == 4 and chat(ip).turns == 1


def test_negative_or_huge_usage_is_clamped(ip, fake_api):
    from claude_magic.pricing import MAX_REPORTED_TOKENS

    fake_api.script(Turn(text="odd", usage={"input_tokens": -50, "output_tokens": 10**15}))
    ip.run_cell_magic("claude", "-o reply", "hi")
    usage = ip.user_ns["reply"].usage
    assert (usage.input_tokens, usage.output_tokens) == (0, MAX_REPORTED_TOKENS)
