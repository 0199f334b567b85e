"""The reply object a turn hands back (`-o NAME`), and the code blocks in an answer (`--code`).

A reply's `.text` carries the footnote markers of what it cites (`citations`); `.citations` lists
the sources, and `.sources` the lines shown under the answer (the citations and any web searches).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .citations import Citation, annotated, web_activity
from .markdown import fence_split
from .pricing import Usage, format_cost

__all__ = ["Reply", "CodeBlock", "code_blocks", "runnable_code", "reply_note", "stop_note"]

_RUNNABLE = {"", "python", "py", "python3", "ipython", "ipython3"}


@dataclass(frozen=True)
class CodeBlock:
    language: str
    code: str


@dataclass
class Reply:
    """One complete answer: `.text`, `.thinking`, `.usage`, `.cost`, `.citations`, `.message` (the SDK's Message)."""

    text: str
    thinking: str
    model: str
    usage: Usage
    cost: float | None
    stop_reason: str | None
    message: Any = field(repr=False)
    citations: list[Citation] = field(default_factory=list)
    sources: tuple[str, ...] = ()

    @classmethod
    def of(cls, message: Any, usage: Usage, cost: float | None) -> Reply:
        """The reply to a complete SDK `Message`, billed `usage` at `cost`."""
        text, citations = annotated(message.content)
        return cls(
            text=text,
            thinking="".join(block.thinking for block in message.content if block.type == "thinking"),
            model=message.model, usage=usage, cost=cost, stop_reason=message.stop_reason, message=message,
            citations=citations, sources=(*(c.line() for c in citations), *web_activity(message.content)),
        )

    @property
    def code(self) -> list[CodeBlock]:
        return code_blocks(self.text)

    def __str__(self) -> str:
        return self.text

    def __repr__(self) -> str:
        preview = self.text if len(self.text) <= 60 else self.text[:57] + "..."
        return (
            f"Reply({preview!r}, model={self.model!r}, stop_reason={self.stop_reason!r}, "
            f"tokens={self.usage.input_tokens}+{self.usage.output_tokens}, cost={format_cost(self.cost)})"
        )

    def _repr_markdown_(self) -> str:
        return self.text


def code_blocks(markdown: str) -> list[CodeBlock]:
    """The answer's closed fenced code blocks (an unclosed one was cut short: it is no code to run)."""
    return [
        CodeBlock(segment.fence.language, segment.code.rstrip("\n"))
        for segment in fence_split(markdown)
        if segment.fence is not None and segment.closed
    ]


def runnable_code(markdown: str) -> str:
    """The answer's Python code blocks joined into one cell's source."""
    return "\n\n".join(block.code for block in code_blocks(markdown) if block.language in _RUNNABLE)


def reply_note(reply: Reply, max_tokens: int) -> str:
    """What the user should know about how the answer came about; empty when nothing unusual."""
    notes = [stop_note(reply.stop_reason, max_tokens)]
    if any(getattr(block, "type", "") == "compaction" for block in reply.message.content):
        notes.append("Earlier turns were summarised by the API (compaction) to keep this conversation in its context window.")
    return " ".join(note for note in notes if note)


def stop_note(stop_reason: str | None, max_tokens: int) -> str:
    """What the user should know about how the answer ended; empty when it ended normally."""
    if stop_reason == "max_tokens":
        return (
            f"Stopped at the {max_tokens:,}-token limit: re-run with --max-tokens {max_tokens * 4:,} "
            "for a longer answer, or ask Claude to continue."
        )
    if stop_reason == "refusal":
        return "Claude declined to answer this request (stop reason: refusal)."
    if stop_reason == "model_context_window_exceeded":
        return (
            "Stopped: the conversation filled the model's context window, so the answer may be cut short. "
            "Start a fresh conversation with -n, or go on with a model that compacts (%claude_models)."
        )
    return ""
