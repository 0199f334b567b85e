"""What a turn shows: the protocol of a live view, and the static output a turn leaves behind.

A live view (`display`, `widgets`) is told of a turn's progress through `TurnView`; when the turn
ends it leaves `to_markdown(final)` with its `to_plain` twin, which is all a saved notebook keeps.
Plain text in, text out: no IPython here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from .markdown import literal

__all__ = ["Final", "TurnView", "to_markdown", "to_plain", "has_answer"]


@dataclass(frozen=True)
class Final:
    """What a turn leaves behind."""

    text: str
    thinking: str = ""
    footer: str = ""
    note: str = ""


class TurnView(Protocol):
    """The live view of one turn: `start`, then any number of deltas and status notices, then
    `finish` (the turn completed) or `fail` (it did not: the view keeps what streamed, marked with
    `footer` and `note`; the caller raises its error after)."""

    def start(self, model: str) -> None: ...

    def status(self, message: str) -> None: ...

    def thinking(self, delta: str) -> None: ...

    def text(self, delta: str) -> None: ...

    def finish(self, final: Final) -> None: ...

    def fail(self, footer: str, note: str) -> None: ...


def to_markdown(final: Final) -> str:
    """The saved output: thinking collapsed in `<details>`, the answer, the note, a small footer."""
    parts = []
    if final.thinking.strip():
        thinking = final.thinking.strip("\n")
        parts.append(f"<details><summary>Thinking</summary>\n\n{thinking}\n\n</details>")
    if final.text.strip():
        parts.append(final.text.strip("\n"))
    if final.note:
        parts.append(literal(final.note))
    if final.footer:
        parts.append(f"<sub>{literal(final.footer)}</sub>")
    return "\n\n".join(parts)


def to_plain(final: Final) -> str:
    """The `text/plain` twin of `to_markdown`: the answer, then the note and footer lines."""
    tail = "\n".join(line for line in (final.note, final.footer) if line)
    return "\n\n".join(part for part in (final.text.strip("\n"), tail) if part)


def has_answer(final: Final) -> bool:
    return bool(final.text.strip() or final.thinking.strip())
