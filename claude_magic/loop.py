"""The requests of one turn: stream each into the live view, resume a paused turn, run tool calls.

A turn may take several requests. A turn the API paused (long server-side work) is sent back to be
continued. A reply that calls tools (stop reason `tool_use`) has each call run by the turn's
`tools.Toolbox`, one live line each, and the reply and a user message of its results go back with
the whole history (no server-held thread, so a recorded session replays request by request) until
Claude answers. At most `max_calls` calls run; past that, or when the turn offers no tools (a
conversation that used tools keeps defining them), each call is answered that it was not run, and
Claude is told to answer with what it has (`tool_choice` none, for that last request only).
`TurnLoop.run` hands back the final reply, its content gathered across paused parts; `exchange`
holds the messages between the user's and the reply (the calls and their results) and `steps` what
the user reads of them. Nothing here touches the conversation, so a turn that fails anywhere leaves
it as it was. Each request streams through `stream.Streamer`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .client import RetryWatch
from .conversation import Message, assistant_message
from .errors import ClaudeError
from .output import TurnView
from .request import NO_TOOL_CALLS
from .stream import IncompleteStream, Streamer, UnreadableStream
from .tools import LIMIT_NOTE, NOT_OFFERED, Outcome, Step, Toolbox, ToolCall, results_message

if TYPE_CHECKING:
    import anthropic

__all__ = ["TurnLoop", "IncompleteStream", "UnreadableStream", "MAX_CONTINUATIONS", "KEPT_CALLING", "UNOFFERED_CALL"]

# A turn the API pauses (long server-side work) is resumed this many times at most.
MAX_CONTINUATIONS = 3
KEPT_CALLING = (
    "Claude kept calling tools after it was asked to answer with what it had; nothing was added to the "
    "conversation. Re-run the cell, or raise ClaudeMagics.max_tool_calls."
)
UNOFFERED_CALL = (
    "The reply called a tool ({names}) though none was offered; nothing was added to the conversation, "
    "which a call left unanswered would break. Re-run the cell."
)


class TurnLoop:
    """One turn's streamed requests; `messages` holds each complete reply, in order. `guard` is
    called before each request that follows a tool step (a budget check)."""

    def __init__(
        self, view: TurnView, retries: RetryWatch, warn: Callable[[str], None], toolbox: Toolbox | None = None,
        max_calls: int = 0, guard: Callable[[], None] | None = None,
    ) -> None:
        self.view = view
        self.retries = retries
        self.toolbox, self.max_calls, self.guard = toolbox, max_calls, guard
        self.streamer = Streamer(view, warn)
        self.messages = self.streamer.messages  # every complete reply, in order (each is billed)
        self.exchange: list[Message] = []
        self.steps: list[Step] = []
        self._used = 0  # calls run (refused ones included), against max_calls
        self._answer_asked = False  # the calls are spent and Claude was told to answer

    @property
    def calls(self) -> list[ToolCall]:
        """The turn's tool calls so far, in order."""
        return [step for step in self.steps if isinstance(step, ToolCall)]

    @property
    def cut(self) -> Any:
        """The SDK's snapshot of a reply cut short, once one began and failed."""
        return self.streamer.cut

    def run(self, client: anthropic.Anthropic, request: dict[str, Any]) -> Any:
        """The final reply, its content gathered across resumed pauses."""
        with self.retries.notices(self.view):
            while True:
                message = self._reply(client, request)
                if message.stop_reason != "tool_use":
                    return message
                if not request.get("tools"):
                    names = ", ".join(block.name for block in message.content if block.type == "tool_use")
                    raise ClaudeError(UNOFFERED_CALL.format(names=names))
                self._answer_calls(message)

    def billed(self) -> list[Any]:
        """Every reply the API bills for: the complete parts, and the one cut short if it had begun."""
        return [*self.messages, *([self.cut] if self.cut is not None else [])]

    def _reply(self, client: anthropic.Anthropic, request: dict[str, Any]) -> Any:
        """One assistant message, resumed while the API pauses it."""
        body = {**request, "messages": [*request["messages"], *self.exchange]}
        if self._answer_asked:
            body["tool_choice"] = dict(NO_TOOL_CALLS)
        parts = [self.streamer.stream(client, body)]
        for _ in range(MAX_CONTINUATIONS):
            if parts[-1].stop_reason != "pause_turn":
                break
            self.view.status("paused by the API; resuming")
            so_far = {"role": "assistant", "content": _resumable([b.to_dict(mode="json") for b in _content(parts)])}
            parts.append(self.streamer.stream(client, {**body, "messages": [*body["messages"], so_far]}))
        if len(parts) > 1:
            return parts[-1].model_copy(update={"content": _content(parts)})
        return parts[-1]

    def _answer_calls(self, message: Any) -> None:
        """Run (or refuse) the reply's calls, and add the reply and their results to the exchange."""
        if self._answer_asked:
            raise ClaudeError(KEPT_CALLING)
        text = "".join(block.text for block in message.content if block.type == "text")
        if text.strip():
            self.steps.append(text)
        calls = [self._call(block) for block in message.content if block.type == "tool_use"]
        note = ""
        if self.toolbox is None or self._used >= self.max_calls:
            note = NOT_OFFERED if self.toolbox is None else LIMIT_NOTE.format(limit=self.max_calls)
            self._answer_asked = True
        reply = assistant_message(block.to_dict(mode="json") for block in message.content)
        assert reply is not None  # it holds the calls
        self.exchange += [reply, results_message(calls, note)]
        if self.guard is not None:
            self.guard()

    def _call(self, block: Any) -> ToolCall:
        call = ToolCall(block.id, block.name, dict(block.input) if isinstance(block.input, dict) else {})
        if self.toolbox is None:
            outcome = Outcome.failed(NOT_OFFERED, "refused", "not run: this turn was asked without -k")
        elif self._used >= self.max_calls:
            spent = f"not run: this turn's {self.max_calls} tool calls are spent"
            outcome = Outcome.failed(LIMIT_NOTE.format(limit=self.max_calls), "refused", spent)
        else:
            self._used += 1
            self.view.tool(call)
            outcome = self.toolbox.call(call, self.view.tool)
        call = call.finished(outcome)
        self.view.tool(call)
        self.steps.append(call)
        return call


def _content(parts: list[Any]) -> list[Any]:
    return [block for message in parts for block in message.content]


def _resumable(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The paused reply as the assistant's turn so far, which the API carries on from; it refuses a
    final assistant text that ends in white space, so that is trimmed."""
    if blocks and blocks[-1]["type"] == "text":
        blocks[-1] = {**blocks[-1], "text": blocks[-1]["text"].rstrip()}
    return blocks
