"""One streamed request of a turn: its events into the live view, and its failures made plain.

A stream that never reaches `message_stop` is a failed request, though the SDK would hand its
truncated message back as if it were whole; so is one the SDK cannot read (bytes that are not
UTF-8, data that is not JSON, events out of order), which it reports with plain Python exceptions
that say nothing of a stream. What the SDK warns of while it builds a request (a deprecated model)
goes to `warn` as one line, not to stderr as a Python warning. A text block that cites its sources
gets its footnote markers (`citations.Footnotes`) as it ends, and a web search or fetch the API runs
is said on the status line. What arrived of a request cut short is kept (`cut`) for billing. The
view gets the deltas scrubbed of key-shaped text (`errors.KeyScreen`), so a key pasted into a prompt
and echoed back never reaches the screen, even for the moment before the saved output replaces it.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, TypeVar

from .citations import Footnotes
from .client import messages_api
from .errors import KeyScreen
from .output import TurnView

if TYPE_CHECKING:
    import anthropic

__all__ = ["Streamer", "IncompleteStream", "UnreadableStream"]

# What the SDK raises when a stream's bytes or events are not what it expects (UnicodeDecodeError and
# JSONDecodeError are ValueErrors; a delta for a block that never started, an IndexError; events
# before message_start, an AssertionError or RuntimeError; odd shapes, TypeError or AttributeError).
_MALFORMED = (ValueError, LookupError, AssertionError, RuntimeError, TypeError, AttributeError)
_END = object()
T = TypeVar("T")
# What the status line says while the API runs a server tool, and which input it names.
_TOOL_WORDS = {"web_search": ("searching the web for", "query"), "web_fetch": ("fetching", "url")}


class IncompleteStream(Exception):
    """The stream ended before `message_stop`: the SDK hands such a message back as if whole."""


class UnreadableStream(Exception):
    """The SDK could not read the stream; the message says what it met."""


class Streamer:
    """Streams a turn's requests one at a time into `view`; `messages` holds each complete reply."""

    def __init__(self, view: TurnView, warn: Callable[[str], None]) -> None:
        self.view = view
        self.warn = warn
        self.messages: list[Any] = []
        self.cut: Any = None  # the SDK's snapshot of a reply cut short, once one began and failed
        self.footnotes = Footnotes()  # numbered across the turn's parts, as the reply numbers them
        self._thought = self._thinking_gap = False
        self._screens = {"text": KeyScreen(), "thinking": KeyScreen()}

    def stream(self, client: anthropic.Anthropic, request: dict[str, Any]) -> Any:
        """The complete reply to `request`; a stream that fails raises, its partial kept in `cut`."""
        started = complete = False
        self._thinking_gap = self._thought
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            manager = messages_api(client, request).stream(**request)
        for warning in caught:
            self.warn(" ".join(str(warning.message).split()))
        with manager as stream:
            events: Iterator[Any] = iter(stream)
            following = functools.partial(next, events, _END)  # made once a stream, not once an event
            try:
                while (event := _read(following)) is not _END:
                    started = True
                    complete = self._forward(event) or complete
                if not complete:
                    raise IncompleteStream("the connection dropped before the answer was complete")
                message = _read(stream.get_final_message)
            except BaseException:
                # What arrived is billed: keep its usage (the input, and the output so far).
                self.cut = _snapshot(stream) if started else None
                self._release()
                raise
        self.messages.append(message)
        return message

    def _forward(self, event: Any) -> bool:
        """Pass one event on to the view; True once the stream has said its last word."""
        if event.type == "text":
            self._show("text", event.text)
        elif event.type == "thinking":
            if self._thinking_gap:  # a later request's thinking is a new paragraph of the section
                self.view.thinking("\n\n")
                self._thinking_gap = False
            self._thought = True
            self._show("thinking", event.thinking)
        elif event.type == "compaction":
            self.view.status("compacting earlier turns")
        elif event.type == "content_block_stop":
            self._release()
            if hasattr(event, "content_block"):
                # The SDK adds the finished block, unless the stream never said what message it is.
                self._ended(event.content_block)
        return event.type == "message_stop"

    def _show(self, kind: str, delta: str) -> None:
        if shown := self._screens[kind].feed(delta):
            getattr(self.view, kind)(shown)

    def _release(self) -> None:
        """What the screens held back, now that its block has ended."""
        for kind, screen in self._screens.items():
            if held := screen.flush():
                getattr(self.view, kind)(held)

    def _ended(self, block: Any) -> None:
        if block.type == "text" and block.citations:
            self.view.text(self.footnotes.mark(block.citations))
        elif block.type == "server_tool_use" and block.name in _TOOL_WORDS:
            word, key = _TOOL_WORDS[block.name]
            self.view.status(f"{word} {(block.input or {}).get(key, '')}".rstrip())


def _read(step: Callable[[], T]) -> T:
    """`step()`, a read of the SDK's stream, with the SDK's complaints about what it read made an
    `UnreadableStream`. An exception raised in this package's own code (the fixture transport) is a
    bug, and keeps its traceback."""
    try:
        return step()
    except _MALFORMED as error:
        if _raised_here(error):
            raise
        raise UnreadableStream(f"{type(error).__name__}: {error}") from error


def _raised_here(error: BaseException) -> bool:
    traceback = error.__traceback__
    while traceback is not None and traceback.tb_next is not None:
        traceback = traceback.tb_next
    return traceback is not None and traceback.tb_frame.f_globals.get("__name__", "").startswith(f"{__package__}.")


def _snapshot(stream: Any) -> Any:
    """The reply so far, for billing; None if the stream never said what message it is."""
    try:
        return stream.current_message_snapshot
    except AssertionError:  # the SDK asserts there is one: no message_start arrived
        return None
