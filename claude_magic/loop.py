"""The requests of one turn: stream each into the live view, resume a paused turn, gather the parts.

A turn may take several requests (today: a turn the API paused is resumed; tool calls will loop
here too). `TurnLoop.run` streams them one after another and hands back the reply, its content
gathered across the parts; nothing here touches the conversation, so a turn that fails anywhere
leaves it as it was. A stream that never reaches `message_stop` is a failed request, though the
SDK would hand its truncated message back as if it were whole. What the SDK warns of while it builds
a request (a deprecated model) goes to `warn` as one line, not to stderr as a Python warning. A text
block that cites its sources gets its footnote markers (`citations.Footnotes`) as it ends, and a web
search or fetch the API runs is said on the status line.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .citations import Footnotes
from .client import RetryWatch, messages_api
from .output import TurnView

if TYPE_CHECKING:
    import anthropic

__all__ = ["TurnLoop", "IncompleteStream", "MAX_CONTINUATIONS"]

# A turn the API pauses (long server-side work) is resumed this many times at most.
MAX_CONTINUATIONS = 3


class IncompleteStream(Exception):
    """The stream ended before `message_stop`: the SDK hands such a message back as if whole."""


class TurnLoop:
    """One turn's streamed requests; `messages` holds each complete reply, in order."""

    def __init__(self, view: TurnView, retries: RetryWatch, warn: Callable[[str], None]) -> None:
        self.view = view
        self.retries = retries
        self.warn = warn
        self.messages: list[Any] = []
        self.cut: Any = None  # the SDK's snapshot of a reply cut short, once one began and failed
        self.footnotes = Footnotes()  # numbered across the turn's parts, as the reply numbers them

    def run(self, client: anthropic.Anthropic, request: dict[str, Any]) -> Any:
        """The reply, its content gathered across resumed pauses."""
        with self.retries.notices(self.view):
            message = self._stream(client, request)
            for _ in range(MAX_CONTINUATIONS):
                if message.stop_reason != "pause_turn":
                    break
                self.view.status("paused by the API; resuming")
                so_far = {"role": "assistant", "content": _resumable([b.to_dict(mode="json") for b in self.content()])}
                message = self._stream(client, {**request, "messages": [*request["messages"], so_far]})
        if len(self.messages) > 1:
            message = message.model_copy(update={"content": self.content()})
        return message

    def content(self) -> list[Any]:
        return [block for message in self.messages for block in message.content]

    def billed(self) -> list[Any]:
        """Every reply the API bills for: the complete parts, and the one cut short if it had begun."""
        return [*self.messages, *([self.cut] if self.cut is not None else [])]

    def _stream(self, client: anthropic.Anthropic, request: dict[str, Any]) -> Any:
        started = complete = False
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            manager = messages_api(client, request).stream(**request)
        for warning in caught:
            self.warn(" ".join(str(warning.message).split()))
        with manager as stream:
            try:
                for event in stream:
                    started = True
                    complete = self._forward(event) or complete
                if not complete:
                    raise IncompleteStream("the connection dropped before the answer was complete")
            except BaseException:
                # What arrived is billed: keep its usage (the input, and the output so far).
                self.cut = stream.current_message_snapshot if started else None
                raise
            message = stream.get_final_message()
        self.messages.append(message)
        return message

    def _forward(self, event: Any) -> bool:
        """Pass one event on to the view; True once the stream has said its last word."""
        if event.type == "text":
            self.view.text(event.text)
        elif event.type == "thinking":
            self.view.thinking(event.thinking)
        elif event.type == "compaction":
            self.view.status("compacting earlier turns")
        elif event.type == "content_block_stop":
            self._ended(event.content_block)
        return event.type == "message_stop"

    def _ended(self, block: Any) -> None:
        if block.type == "text" and block.citations:
            self.view.text(self.footnotes.mark(block.citations))
        elif block.type == "server_tool_use" and block.name in _TOOL_WORDS:
            word, key = _TOOL_WORDS[block.name]
            self.view.status(f"{word} {(block.input or {}).get(key, '')}".rstrip())


# What the status line says while the API runs a server tool, and which input it names.
_TOOL_WORDS = {"web_search": ("searching the web for", "query"), "web_fetch": ("fetching", "url")}


def _resumable(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The paused reply as the assistant's turn so far, which the API carries on from; it refuses a
    final assistant text that ends in white space, so that is trimmed."""
    if blocks and blocks[-1]["type"] == "text":
        blocks[-1] = {**blocks[-1], "text": blocks[-1]["text"].rstrip()}
    return blocks
