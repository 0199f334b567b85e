"""Random sessions against the fake API: whatever happens, the requests stay valid and each
conversation holds exactly its successful exchanges (issue 5).

Each example is a sequence of `%%claude` cells run through a real InteractiveShell against the fake
server on 127.0.0.1 (strict validation on, the SDK's retries off). A cell talks to the default chat
or to `-c a` / `-c b`, may start afresh (`-n`), may set the system prompt (`-s`), may think (`-t`),
may let Claude call the kernel's tools (`-k`, zero to two tool steps before the answer, issue 14),
and either succeeds or meets one fault, at any of its requests: a dropped stream, an SSE error
event, a 400/401/403/404/429/529/500, a Ctrl-C on the Nth answer delta (the real stream is closed
mid-way), or a stream the SDK cannot read (bytes that are not UTF-8, a data line that is not JSON, a
delta for a block that never started, no message_start, no message_stop). A turn with tool calls commits its whole exchange or nothing, and no request ever
holds a tool call without its result, or tool blocks without the tools defined (the same tools,
once a conversation has used them, so its prefix stays cached).
A model kept here says what every conversation must hold; after every cell it is compared with the
package's conversations, and every request the server received is compared with the model's history
at the time it was sent.
"""

from __future__ import annotations

import contextlib
import io
import math
from dataclasses import dataclass
from typing import Any
from unittest import mock

import pytest
from fake_content import build_reply
from fakeapi import FAKE_SIGNATURE, STREAM_FAULTS, FakeAPI, Turn
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from claude_magic.conversation import Conversations
from claude_magic.display import TextView
from claude_magic.errors import ClaudeError
from claude_magic.kernel_tools import definitions

TOOLS = definitions(run=False)

CHATS = (None, "a", "b")  # None: the kernel's default conversation
STATUSES = (400, 401, 403, 404, 429, 529, 500)
FAULTS = ("drop", "error_event", "interrupt", *STATUSES, *STREAM_FAULTS)

# A word of the one-line message each fault must produce.
EXPECTED_WORDS = {
    "drop": "dropped",
    "error_event": "overloaded",
    "interrupt": "Interrupted",
    **{status: str(status) for status in STATUSES},
    **{fault: "could not be read" for fault in STREAM_FAULTS},
    "no_message_stop": "dropped",
}

MAX_CACHE_BREAKPOINTS = 4

# Prompts go through the {name} expansion: no braces, so what is typed is what is sent.
PROMPT_ALPHABET = st.characters(
    codec="utf-8", categories=("L", "N", "Zs"), include_characters=".,;:!?'\"-_*#`$()[]\n\té✓"
)
REPLY_ALPHABET = st.characters(codec="utf-8", categories=("L", "N", "P", "S", "Zs"), include_characters="\n\t")


@dataclass(frozen=True)
class Cell:
    chat: str | None
    new: bool
    system: str | None  # -s
    think: bool
    outcome: Any  # "ok" or one of FAULTS
    prompt: str
    reply: str
    chunk_chars: int
    cut: int  # where a drop, error event or interrupt happens, reduced modulo what the stream allows
    kernel: bool = False  # -k
    steps: int = 0  # tool steps before the answer (with -k)
    fault_at: int = 0  # which request of the cell meets the fault, reduced modulo steps + 1

    def line(self) -> str:
        flags = []
        if self.chat:
            flags.append(f"-c {self.chat}")
        if self.new:
            flags.append("-n")
        if self.system is not None:
            flags.append(f'-s "{self.system}"')
        if self.think:
            flags.append("-t")
        if self.kernel:
            flags.append("-k")
        return " ".join(flags)


cells = st.builds(
    Cell,
    chat=st.sampled_from(CHATS),
    new=st.sampled_from((False, False, False, True)),
    system=st.sampled_from((None, None, None, "Be terse.", "Answer in French.")),
    think=st.sampled_from((False, False, True)),
    # Half the cells succeed, so conversations grow long enough to matter.
    outcome=st.one_of(st.just("ok"), st.sampled_from(FAULTS)),
    prompt=st.text(PROMPT_ALPHABET, max_size=30),
    reply=st.text(REPLY_ALPHABET, max_size=40),
    chunk_chars=st.integers(1, 12),
    cut=st.integers(0, 1000),
    kernel=st.booleans(),
    steps=st.integers(0, 2),
    fault_at=st.integers(0, 2),
)


# -- the session: one shell and one server for the whole module, reset per example -------------------


@dataclass
class Session:
    ip: Any
    magics: Any
    fake: FakeAPI


@pytest.fixture(scope="module")
def session():
    from IPython.core.interactiveshell import InteractiveShell

    fake = FakeAPI()
    fake.start()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("ANTHROPIC_API_KEY", "sk-ant-test-key-properties-0123456789")
        shell = InteractiveShell.instance()
        shell.run_line_magic("load_ext", "claude_magic")
        magics = shell.magics_manager.registry["ClaudeMagics"]
        magics.base_url = fake.base_url
        magics.display = "text"
        magics.max_retries = 0  # a fault fails at once
        try:
            yield Session(shell, magics, fake)
        finally:
            shell.run_line_magic("unload_ext", "claude_magic")
            shell.config.pop("ClaudeMagics", None)
            fake.stop()


def reset(s: Session) -> None:
    s.magics.session.conversations = Conversations()
    while s.fake.pending:  # left over only if a previous example failed midway
        s.fake._next_turn()
    s.fake.requests.clear()
    s.fake.rejected = 0


# -- what the API accepts, checked on every body the server received -------------------------------------


def cache_breakpoints(value: Any) -> int:
    if isinstance(value, dict):
        own = value.get("cache_control") is not None
        return own + sum(cache_breakpoints(v) for k, v in value.items() if k != "cache_control")
    if isinstance(value, list):
        return sum(cache_breakpoints(v) for v in value)
    return 0


def assert_valid_for_the_api(body: dict[str, Any]) -> None:
    messages = body["messages"]
    assert messages and messages[0]["role"] == "user", messages
    for index, message in enumerate(messages):
        assert message["role"] == ("user" if index % 2 == 0 else "assistant"), messages
        content = message["content"]
        assert content, f"messages[{index}] is empty"
        blocks = [{"type": "text", "text": content}] if isinstance(content, str) else content
        for block in blocks:
            if block["type"] == "text":
                assert block["text"].strip(), f"messages[{index}] has an empty text block"
    assert cache_breakpoints(body) <= MAX_CACHE_BREAKPOINTS, body


# -- the model ---------------------------------------------------------------------------------------------

# A message as the model sees it: (role, blocks), a block being ("text", text) or
# ("thinking", thinking, signature).
Projected = tuple[str, tuple[tuple[str, ...], ...]]


def project(message: dict[str, Any]) -> Projected:
    content = message["content"]
    if isinstance(content, str):
        content = [{"type": "text", "text": content}]
    blocks = []
    for block in content:
        if block["type"] == "thinking":
            blocks.append(("thinking", block["thinking"], block["signature"]))
        elif block["type"] == "tool_use":
            blocks.append(("tool_use", block["name"], block["id"]))
        elif block["type"] == "tool_result":
            blocks.append(("tool_result", block["tool_use_id"]))
        else:
            blocks.append((block["type"], block.get("text", "")))
    return message["role"], tuple(blocks)


def user(text: str) -> Projected:
    return "user", (("text", text),)


def assistant(text: str, thinking: str | None) -> Projected:
    blocks = (("thinking", thinking, FAKE_SIGNATURE),) if thinking is not None else ()
    return "assistant", (*blocks, ("text", text))


def event_count(turn: Turn) -> int:
    """The SSE events the fake sends for a complete streamed `turn`, as the fake builds them."""
    reply = build_reply(turn, {"model": "claude-opus-4-6", "messages": []}, lambda prefix: f"{prefix}_count")
    return len(list(reply.events()))


def tool_step(step: int, k: int, thinking: str | None) -> tuple[Turn, list[Projected]]:
    """The k-th tool step of cell `step`: Claude's call, and the two messages it adds to the exchange."""
    tool_id = f"toolu_{step}_{k}"
    turn = Turn(thinking=thinking, tool_uses=[{"name": "list_variables", "input": {}, "id": tool_id}])
    call = ("assistant", (*((("thinking", thinking, FAKE_SIGNATURE),) if thinking is not None else ()), ("tool_use", "list_variables", tool_id)))
    return turn, [call, ("user", (("tool_result", tool_id),))]


@dataclass(frozen=True)
class Chat:
    """What one conversation must hold: its successful exchanges and its system prompt."""

    messages: tuple[Projected, ...] = ()
    system: str | None = None

    @property
    def used_tools(self) -> bool:
        return any(block[0] == "tool_use" for _, blocks in self.messages for block in blocks)


Model = dict[str | None, Chat]


def fresh_model() -> Model:
    return {name: Chat() for name in CHATS}


def run_cell(s: Session, cell: Cell, step: int, model: Model) -> None:
    """Run one cell with its fault scripted, check everything, and advance `model`."""
    name = cell.chat
    prompt = f"Q{step} to {name or 'default'}: {cell.prompt}".strip()
    reply = f"A{step}: {cell.reply}"
    thinking = f"T{step}: pondering {cell.prompt!r}" if cell.think else None
    steps = cell.steps if cell.kernel else 0
    turns, exchange = [], []
    for k in range(steps):
        turn, added = tool_step(step, k, thinking)
        turns.append(turn)
        exchange += added
    turns.append(Turn(text=reply, thinking=thinking, chunk_chars=cell.chunk_chars))
    # The fault meets one of the cell's requests; an interrupt comes on an answer delta, so in the last.
    at = steps if cell.outcome in ("ok", "interrupt") else cell.fault_at % (steps + 1)
    turns = turns[: at + 1]
    faulted = turns[at]
    interrupt_at = None
    if cell.outcome in STATUSES:
        faulted.status = cell.outcome
    elif cell.outcome == "drop":
        faulted.drop_after = cell.cut % event_count(faulted)
    elif cell.outcome == "error_event":
        faulted.error_event_after = cell.cut % event_count(faulted)
    elif cell.outcome == "interrupt":
        interrupt_at = 1 + cell.cut % math.ceil(len(reply) / cell.chunk_chars)
    elif cell.outcome in STREAM_FAULTS:
        # After message_start: before it, the SDK drops a stray delta without a word, and rightly so.
        faulted.stream_fault, faulted.fault_after = cell.outcome, 1 + cell.cut % (event_count(faulted) - 1)
    s.fake.script(*turns)

    # What this request must carry: the chat as it was, or a fresh one after -n.
    before = dict(model)
    chat = Chat() if cell.new else before[name]
    system = cell.system if cell.system is not None else chat.system
    sent_before = len(s.fake.requests)

    shown = io.StringIO()
    with contextlib.ExitStack() as stack:
        stack.enter_context(contextlib.redirect_stdout(shown))
        stack.enter_context(contextlib.redirect_stderr(shown))
        if interrupt_at is not None:
            stack.enter_context(mock.patch.object(TextView, "text", interrupting(interrupt_at)))
        result = s.ip.run_cell(f"%%claude {cell.line()}\n{prompt}")

    # Each request is valid for the API, carries the whole exchange so far, and consumes its turn.
    assert s.fake.pending == 0
    assert s.fake.rejected == 0
    # (A model's first cell also asks the Models API what it can do, once: not a request to the model.)
    requests = [request for request in s.fake.requests[sent_before:] if request.path == "/v1/messages"]
    assert len(requests) == at + 1, requests
    for k, request in enumerate(requests):
        body = request.json
        assert_valid_for_the_api(body)
        assert [project(m) for m in body["messages"]] == [*chat.messages, user(prompt), *exchange[: 2 * k]]
        assert body.get("system") == system
        assert ("thinking" in body) == cell.think
        assert ("tools" in body) == (cell.kernel or chat.used_tools)
        assert body.get("tools", TOOLS) == TOOLS  # the same bytes every turn: the cached prefix holds
        assert "tool_choice" not in body  # no call is refused here, and only a refusal forces the answer

    assert result.error_before_exec is None
    if cell.outcome == "ok":
        assert result.error_in_exec is None, result.error_in_exec
        model[name] = Chat((*chat.messages, user(prompt), *exchange, assistant(reply, thinking)), system)
    else:
        error = result.error_in_exec
        assert isinstance(error, ClaudeError), repr(error)
        message = str(error)
        assert "\n" not in message and message.strip(), message
        assert EXPECTED_WORDS[cell.outcome] in message, message
        assert "Traceback" not in shown.getvalue(), shown.getvalue()
        # A failed or interrupted turn changes nothing, -n and -s included: every conversation is
        # as it was before the cell (README: "A failed or interrupted turn adds nothing").
        assert model == before

    for chat_name, expected in model.items():
        actual = s.magics.session.conversations.get(chat_name or "default")
        where = f"chat {chat_name or 'default'} after {cell}"
        assert [project(m) for m in actual.messages] == list(expected.messages), where
        assert (actual.system or None) == expected.system, where


def interrupting(at: int):
    """A TextView.text that raises KeyboardInterrupt, as Ctrl-C would, on the `at`-th answer delta."""
    original = TextView.text
    seen = 0

    def text(self: TextView, delta: str) -> None:
        nonlocal seen
        seen += 1
        if seen == at:
            raise KeyboardInterrupt
        original(self, delta)

    return text


# -- the property ------------------------------------------------------------------------------------------


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(cells, min_size=1, max_size=12))
def test_random_sessions_keep_requests_valid_and_conversations_exact(session, sequence):
    reset(session)
    model = fresh_model()
    for step, cell in enumerate(sequence):
        run_cell(session, cell, step, model)
        event(f"outcome: {cell.outcome}")
        event(f"tool steps: {cell.steps if cell.kernel else 0}")
    event(f"cells: {len(sequence)}")
    event(f"longest conversation: {max(len(chat.messages) // 2 for chat in model.values())} turns")


# -- a case the property found, pinned (on c4ee50d a failed `-n` cell emptied the conversation) -----------


@pytest.mark.parametrize("outcome", [529, "drop", "interrupt"])
def test_a_failed_fresh_start_keeps_the_conversation_and_its_system_prompt(session, outcome):
    reset(session)
    model = fresh_model()
    run_cell(session, Cell(None, False, "Be terse.", False, "ok", "first", "one", 8, 0), 0, model)
    run_cell(session, Cell(None, True, "Answer in French.", False, outcome, "second", "two words", 4, 5), 1, model)
    assert session.magics.session.conversations.get().turns == 1
    assert session.magics.session.conversations.get().system == "Be terse."


@pytest.mark.parametrize("outcome", [529, "drop", "error_event"])
def test_a_fault_between_tool_steps_keeps_nothing_and_later_turns_still_define_the_tools(session, outcome):
    reset(session)
    model = fresh_model()
    run_cell(session, Cell(None, False, None, True, "ok", "look", "seen", 5, 0, kernel=True, steps=1), 0, model)
    run_cell(session, Cell(None, False, None, False, outcome, "again", "no", 5, 7, kernel=True, steps=2, fault_at=1), 1, model)
    run_cell(session, Cell(None, False, None, False, "ok", "plain", "fine", 5, 0), 2, model)
    assert len(model[None].messages) == 6 and "tools" in session.fake.asked[-1].json
