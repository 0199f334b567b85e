"""What a turn shows: the protocol of a live view, and the static output a turn leaves behind.

A live view (`display`, `widgets`) is told of a turn's progress through `TurnView`; when the turn
ends it leaves `to_markdown(final)` with its `to_plain` twin, which is all a saved notebook keeps:
what was sent, the thinking and the tool calls collapsed (`tools.steps_markdown`), the answer, its
sources, a note and the footer. Neither holds anything shaped like an API key: an answer may quote a
key pasted into the prompt. Plain text in, text out: no IPython here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from .dollars import encode_dollars
from .errors import scrub
from .markdown import close_open_blocks, literal
from .tools import Step, ToolCall, step_lines, steps_markdown, steps_plain

__all__ = ["Final", "TurnView", "to_markdown", "to_plain", "has_answer"]


@dataclass(frozen=True)
class Final:
    """What a turn leaves behind."""

    text: str
    thinking: str = ""
    footer: str = ""
    note: str = ""
    sent: str = ""  # the one line saying what the turn attached (`sent.sent_line`)
    sources: tuple[str, ...] = ()  # under the answer: its numbered citations, the searches made
    steps: Sequence[Step] = ()  # the tool calls, and what Claude wrote before them


class TurnView(Protocol):
    """The live view of one turn: `start` (with the line saying what was attached), then any number
    of deltas, status notices and tool calls (`tool`, each time a call's status changes; a new call
    ends the text before it, which becomes one of the turn's steps), then `finish` (the turn
    completed) or `fail` (it did not: the view keeps what streamed, marked with `footer`; the caller
    raises its one-line error after)."""

    def start(self, model: str, sent: str = "") -> None: ...

    def status(self, message: str) -> None: ...

    def thinking(self, delta: str) -> None: ...

    def text(self, delta: str) -> None: ...

    def tool(self, call: ToolCall) -> None: ...

    def finish(self, final: Final) -> None: ...

    def fail(self, footer: str) -> None: ...


def to_markdown(final: Final, *, live: bool = False) -> str:
    """The saved output: what was sent, thinking and tool calls collapsed in `<details>`, the answer,
    its sources (citations and searches, each shown as written), the note, a small footer. Dollars
    that are not math read as money (`dollars`), and a fence or section the answer left open is closed
    before the note. `live`: as a live view shows it while it streams, each tool call one line."""
    parts = []
    if final.sent:
        parts.append(f"<sub>{literal(final.sent)}</sub>")
    if final.thinking.strip():
        thinking = close_open_blocks(encode_dollars(final.thinking.strip("\n")))
        parts.append(f"<details><summary>Thinking</summary>\n\n{thinking}\n\n</details>")
    if live and final.steps:
        parts.append("  \n".join(literal(line) for line in step_lines(final.steps)))
    elif final.steps:
        parts.append(steps_markdown(final.steps))
    if final.text.strip():
        parts.append(close_open_blocks(encode_dollars(final.text.strip("\n"))))
    if final.sources:
        parts.append("\n".join(f"- {literal(line)}" for line in final.sources))
    if final.note:
        parts.append(literal(final.note))
    if final.footer:
        parts.append(f"<sub>{literal(final.footer)}</sub>")
    return scrub("\n\n".join(parts))


def to_plain(final: Final) -> str:
    """The `text/plain` twin of `to_markdown`: what was sent, a line per tool call, the answer as
    written, its sources, the note and footer."""
    tail = "\n".join(line for line in (final.note, final.footer) if line)
    sources = "\n".join(final.sources)
    parts = (final.sent, steps_plain(final.steps), final.text.strip("\n"), sources, tail)
    return scrub("\n\n".join(part for part in parts if part))


def has_answer(final: Final) -> bool:
    return bool(final.text.strip() or final.thinking.strip() or final.steps)
