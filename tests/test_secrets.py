"""The API key never leaks (issue 5).

A realistic session runs with a distinctive key against the fake API, and everything it leaves
anywhere a person, a file or a log could see is collected: stdout and stderr, every display message
(live views and their updates, in every display mode), every widget's state and every comm message a
frontend would receive, every log record of the SDK and the HTTP stack at DEBUG, the reply object's
repr, str, Markdown and `message.model_dump_json()`, the conversations as JSON, one-line errors and
their tracebacks, `%config ClaudeMagics`, the magics' settings, the user namespace, the next cell
`--code` fills in, and a fixture recorded in the session. None may hold the key or a recognisable
piece of it.
"""

from __future__ import annotations

import getpass
import json
import logging
import os
import traceback
from typing import Any

import comm
import ipywidgets
import pytest
from comm.base_comm import BaseComm
from fakeapi import Turn
from IPython.utils.capture import capture_output
from shell import magics

import claude_magic.live
from claude_magic.errors import ClaudeError

# Shaped like a real key (sk-ant-api03-, URL-safe characters, AA), distinctive in every part.
KEY = "sk-ant-api03-SECRET" + "Qz7Wv2Lr5Tn8Xb4Hk9Mp3Jd6Gs1Fc0Ya-Ue_Oi8Rt2Yw5Pq" + "Nd4Kj7Hv1Lm9Bz3Cx6Vs0Ga2Ef5Rh8Tk1Ju4Mi7" + "AA"
# Pieces that give the key away on their own: its tail, and a run from its middle.
PIECES = (KEY, KEY[-20:], KEY[30:50])
LOGGERS = ("", "anthropic", "httpx2", "httpcore2", "httpx", "httpcore", "claude_magic")


def leaks(artifacts: dict[str, str]) -> dict[str, str]:
    """The artifacts holding any piece of the key, with the piece found."""
    found = {}
    for label, text in artifacts.items():
        for piece in PIECES:
            if piece in text:
                found[label] = piece
                break
    return found


def test_the_scan_finds_a_key_where_there_is_one():
    assert leaks({"fine": "sk-ant-…redacted", "tail": f"x{KEY[-20:]}y", "middle": KEY[28:55]}) == {
        "tail": KEY[-20:], "middle": KEY[30:50],
    }


class RecordingComm(BaseComm):
    """A comm that keeps every message a frontend would receive (the default one drops them)."""

    sent: list[dict[str, Any]] = []

    def publish_msg(self, msg_type, data=None, metadata=None, buffers=None, **keys):
        RecordingComm.sent.append(
            {"msg_type": msg_type, "data": data, "metadata": metadata, "buffers": [bytes(b) for b in buffers or ()]}
        )


class Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))  # the exception text too, when a record has one


@pytest.fixture
def debug_logs():
    """Every log record of the session, formatted, from the root and the HTTP stack's loggers at DEBUG."""
    handler = Collect()
    saved = []
    for name in LOGGERS:
        logger = logging.getLogger(name)
        saved.append((logger, logger.level))
        logger.setLevel(logging.DEBUG)
        logger.addHandler(handler)
    try:
        yield handler.lines
    finally:
        for logger, level in saved:
            logger.removeHandler(handler)
            logger.setLevel(level)


@pytest.fixture
def widget_states(monkeypatch):
    """The final state of every widget made while the test runs; `RecordingComm.sent` holds every
    message sent. Taken when a view starts closing its widgets: a container whose children are
    closed cannot be serialised any more."""
    made: list[Any] = []
    states: list[tuple[str, dict[str, Any]]] = []
    taken: set[int] = set()
    close = ipywidgets.Widget.close

    def closing(widget: Any) -> None:
        for open_widget in made:
            if id(open_widget) not in taken and open_widget.comm is not None:
                taken.add(id(open_widget))
                states.append((type(open_widget).__name__, open_widget.get_state()))
        close(widget)

    RecordingComm.sent = []
    monkeypatch.setattr(comm, "create_comm", RecordingComm)
    monkeypatch.setattr(ipywidgets.Widget, "_widget_construction_callback", made.append)
    monkeypatch.setattr(ipywidgets.Widget, "close", closing)
    yield states
    assert len(taken) == len(made), "every widget the views made was closed"


def as_text(value: Any) -> str:
    return json.dumps(value, default=repr, ensure_ascii=False)


def error_texts(label: str, error: BaseException) -> dict[str, str]:
    return {
        f"{label}: str": str(error),
        f"{label}: repr": repr(error),
        f"{label}: traceback": "".join(traceback.format_exception(error)),
        f"{label}: shown": "\n".join(error._render_traceback_()),
        f"{label}: cause": repr(error.__cause__) + str(error.__cause__) + repr(error.__context__) + str(error.__context__),
    }


def test_the_key_never_leaks(ip, fake_api, monkeypatch, tmp_path, capsys, debug_logs, widget_states):
    monkeypatch.setenv("ANTHROPIC_API_KEY", KEY)
    for name in ("reply", "thought", "widget_reply"):
        monkeypatch.setitem(ip.user_ns, name, None)  # removed again after the test
    monkeypatch.setattr(ip, "rl_next_input", None, raising=False)
    m = magics(ip)
    artifacts: dict[str, str] = {}

    def cell(source: str, *, fails: bool = False) -> None:
        result = ip.run_cell(source)
        if fails:
            assert isinstance(result.error_in_exec, ClaudeError), result.error_in_exec
            artifacts.update(error_texts(source, result.error_in_exec))
        else:
            assert result.error_in_exec is None, result.error_in_exec

    with capture_output(stdout=False, stderr=False, display=True) as shown:
        # Plain turns, -o, thinking, a named chat, the line form.
        fake_api.script(Turn(text="I am Claude, here to help.", usage={"input_tokens": 12, "output_tokens": 7}))
        cell("%%claude -o reply\nHello, who are you?")
        fake_api.script(Turn(text="Still me.", thinking="The user asks again; answer briefly."))
        cell("%%claude -t -o thought\nAnd now?")
        cell("%%claude -c side -s 'Be terse.'\nA side question.")
        cell("%claude -m haiku what is 2**10?")

        # Failures, one of them with verbose tracebacks on.
        fake_api.script(Turn(status=401))
        cell("%%claude\nThis one is refused.", fails=True)
        ip.run_line_magic("xmode", "Verbose")
        try:
            fake_api.script(Turn(status=500))
            cell("%%claude\nThis one meets a server error.", fails=True)
        finally:
            ip.run_line_magic("xmode", "Context")
        fake_api.script(Turn(text="A partial answer that never ends", drop_after=6))
        cell("%%claude\nThis one is cut off.", fails=True)
        fake_api.script(Turn(text="An answer the server gives up on", error_event_after=5))
        cell("%%claude\nThis one ends in an error event.", fails=True)

        # --code.
        fake_api.script(Turn(text="Here:\n\n```python\nprint('hello')\n```\n"))
        cell("%%claude --code\nWrite hello world.")
        assert ip.rl_next_input == "print('hello')"
        artifacts["next cell"] = ip.rl_next_input

        # Recording a fixture: a reply and an error.
        fixture = tmp_path / "session.json"
        m.fixture = str(fixture)
        monkeypatch.setenv("CLAUDE_MAGIC_FIXTURE_MODE", "record")
        fake_api.script(Turn(text="Recorded reply."))
        cell("%%claude -c rec\nRecord this.")
        fake_api.script(Turn(status=500))
        cell("%%claude -c rec\nAnd record this failure.", fails=True)
        monkeypatch.setenv("CLAUDE_MAGIC_FIXTURE_MODE", "replay")
        m.fixture = ""

        # The live views: widgets (a turn with thinking and enough text for many blocks, and a
        # failed one), then plain Markdown displays.
        m.display = "widget"
        monkeypatch.setattr(claude_magic.live, "PUSH_INTERVAL", 0.0)  # every delta reaches the widgets
        long_answer = "\n\n".join(f"Paragraph {i}: " + "word " * 50 for i in range(12))
        fake_api.script(Turn(text=long_answer, thinking="Plan the paragraphs. " * 5, chunk_chars=40))
        cell("%%claude -t -o widget_reply\nWrite twelve paragraphs.")
        fake_api.script(Turn(text="This answer will be cut " * 5, drop_after=7))
        cell("%%claude\nCut this one off too.", fails=True)
        m.display = "markdown"
        fake_api.script(Turn(text="Shown as **Markdown**."))
        cell("%%claude\nOnce more, in Markdown.")
        m.display = "text"

        # What the reply objects show when evaluated in a cell.
        cell("reply")
        cell("thought")

        ip.run_line_magic("config", "ClaudeMagics")

    # The session used the key: a leak would have had something to leak.
    assert fake_api.requests and all(
        request.headers.get("x-api-key") == KEY or request.headers.get("authorization") == f"Bearer {KEY}"
        for request in fake_api.requests
    )
    assert fake_api.rejected == 0
    assert fixture.exists() and widget_states and RecordingComm.sent and debug_logs

    out = capsys.readouterr()
    artifacts["stdout"] = out.out
    artifacts["stderr"] = out.err
    assert "I am Claude" in out.out  # the text view printed here
    assert "ClaudeMagics.model" in out.out
    for index, output in enumerate(shown.outputs):
        artifacts[f"display {index}"] = as_text(output.data)
    for index, (kind, state) in enumerate(widget_states):
        artifacts[f"widget {index} {kind}"] = as_text(state)
    for index, message in enumerate(RecordingComm.sent):
        artifacts[f"comm message {index}"] = as_text(message)
    for index, line in enumerate(debug_logs):
        artifacts[f"log {index}"] = line

    for name in ("reply", "thought", "widget_reply"):
        reply = ip.user_ns[name]
        artifacts[f"{name}: repr"] = repr(reply)
        artifacts[f"{name}: str"] = str(reply)
        artifacts[f"{name}: markdown"] = reply._repr_markdown_()
        artifacts[f"{name}: formats"] = as_text(ip.display_formatter.format(reply))
        artifacts[f"{name}: message json"] = reply.message.model_dump_json()
        artifacts[f"{name}: message repr"] = repr(reply.message)
        artifacts[f"{name}: usage"] = repr(reply.usage) + repr(reply.cost)
    for chat in m.session.conversations:
        artifacts[f"conversation {chat.name}"] = json.dumps(chat.messages) + repr(chat)
    artifacts["history export"] = json.dumps(m.session.conversations.get().messages)

    artifacts["magics repr"] = repr(m)
    artifacts["magics settings"] = as_text(m.trait_values())
    artifacts["shell config"] = as_text(ip.config)
    artifacts["client cache"] = as_text(vars(m.session.clients))
    artifacts["user namespace"] = as_text({k: repr(v) for k, v in ip.user_ns.items() if k != "__builtins__"})
    artifacts["fixture"] = fixture.read_text()

    # What was collected is what a leak would have gone into.
    collected = "\n".join(artifacts.values())
    assert "Paragraph 11" in artifacts["widget_reply: str"] and "Shown as **Markdown**" in collected
    assert any("Paragraph 0" in text for label, text in artifacts.items() if label.startswith("widget "))
    assert any("Paragraph 0" in text for label, text in artifacts.items() if label.startswith("comm message"))
    assert "Request options" in collected and "HTTP Request: POST" in collected
    assert "The API rejected the key (401)" in collected
    assert "Reply('I am Claude, here to help.'" in artifacts["stdout"] + artifacts["display 0"] + collected

    assert not leaks(artifacts)
    recorded = fixture.read_text().lower()
    assert "authorization" not in recorded and "x-api-key" not in recorded and "bearer" not in recorded
    assert "Recorded reply." in fixture.read_text()


def test_claude_key_keeps_the_key_in_memory_only(ip, fake_api, monkeypatch, capsys):
    monkeypatch.delenv("ANTHROPIC_API_KEY")
    prompts = []

    def typed(prompt: str = "Password: ", stream: Any = None) -> str:
        prompts.append(prompt)
        return f"  {KEY}\n"

    monkeypatch.setattr(getpass, "getpass", typed)
    result = ip.run_cell("%claude_key")
    assert result.error_in_exec is None and prompts
    ip.run_cell_magic("claude", "", "hello with the typed key")
    headers = fake_api.requests[-1].headers
    assert headers.get("x-api-key") == KEY or headers.get("authorization") == f"Bearer {KEY}"

    # The typed key wins over the environment's, and is never put there.
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-the-environment-key-0000")
    ip.run_cell_magic("claude", "", "and again")
    headers = fake_api.requests[-1].headers
    assert headers.get("x-api-key") == KEY or headers.get("authorization") == f"Bearer {KEY}"
    assert not any(KEY in value for value in os.environ.values())

    ip.run_line_magic("config", "ClaudeMagics")
    m = magics(ip)
    artifacts = {
        "getpass prompt": "".join(prompts),
        "output": "".join(capsys.readouterr()),
        "user namespace": as_text({k: repr(v) for k, v in ip.user_ns.items() if k != "__builtins__"}),
        "user namespace str": as_text({k: str(v) for k, v in ip.user_ns.items() if k != "__builtins__"}),
        "magics repr": repr(m),
        "magics settings": as_text(m.trait_values()),
        "shell config": as_text(ip.config),
        "client cache": as_text(vars(m.session.clients)),
        "conversations": as_text([chat.messages for chat in m.session.conversations]),
    }
    assert "Key set" in artifacts["output"]
    assert not leaks(artifacts)


def test_an_empty_key_entry_is_one_line(ip, fake_api, monkeypatch):
    monkeypatch.setattr(getpass, "getpass", lambda prompt="", stream=None: "   ")
    result = ip.run_cell("%claude_key")
    assert isinstance(result.error_in_exec, ClaudeError) and "\n" not in str(result.error_in_exec)


def test_a_key_pasted_into_a_prompt_is_scrubbed_from_the_fixture(ip, fake_api, monkeypatch, tmp_path):
    """README: "anything shaped like a key is scrubbed". The fake echoes the prompt back, streamed in
    small deltas as the real API streams, so the key reaches the fixture in the request and in pieces
    across the reply's events."""
    fixture = tmp_path / "pasted.json"
    magics(ip).fixture = str(fixture)
    monkeypatch.setenv("CLAUDE_MAGIC_FIXTURE_MODE", "record")
    ip.run_cell_magic("claude", "--raw", f'Why does this fail? client = Anthropic(api_key="{KEY}")')
    recorded = fixture.read_text()
    document = json.loads(recorded)
    # What a reader of the fixture gets by joining the recorded reply's text deltas.
    streamed = "".join(
        event["data"]["delta"].get("text", "")
        for exchange in document["exchanges"]
        for event in exchange["response"].get("events", [])
        if event["event"] == "content_block_delta"
    )
    assert streamed.startswith("Echo: Why does this fail?")
    assert not leaks({"fixture": recorded, "reply as recorded": streamed})


@pytest.mark.parametrize("mode", ["widget", "markdown", "text"])
@pytest.mark.parametrize("cut", [False, True], ids=["whole", "cut off"])
def test_a_key_claude_echoes_never_reaches_the_screen_while_it_streams(ip, fake_api, monkeypatch, capsys, widget_states, mode, cut):
    """A key pasted into a prompt comes back in Claude's answer, in pieces, as a stream splits it; the
    live view shows every delta as it comes (in the thinking too), and a turn cut off keeps what it
    streamed on screen. None of it may show the key, not even before the saved output replaces it."""
    m = magics(ip)
    m.display = mode
    monkeypatch.setattr(claude_magic.live, "PUSH_INTERVAL", 0.0)  # every delta reaches the view
    answer = f'Your client = Anthropic(api_key="{KEY}") line shows the key; rotate it. ' + "More advice. " * 20
    fake_api.script(Turn(text=answer, thinking=f"They pasted {KEY} in the prompt.", chunk_chars=5,
                         drop_after=90 if cut else None))
    with capture_output(stdout=False, stderr=False, display=True) as shown:
        result = ip.run_cell(f'%%claude -t --raw\nWhy does client = Anthropic(api_key="{KEY}") fail?')
    assert (result.error_in_exec is not None) == cut
    artifacts = {f"display {index}": as_text(output.data) for index, output in enumerate(shown.outputs)}
    artifacts.update({f"comm message {index}": as_text(message) for index, message in enumerate(RecordingComm.sent)})
    artifacts.update({f"widget {index}": as_text(state) for index, (_, state) in enumerate(widget_states)})
    artifacts["stdout"] = capsys.readouterr().out
    collected = "\n".join(artifacts.values())
    assert "sk-ant-…redacted" in collected and "shows the key" in collected  # the answer was on screen
    assert not leaks(artifacts)
