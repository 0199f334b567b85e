"""The reply object a turn hands back (`-o NAME`) and the names it may be stored under, and the code
blocks in an answer (`--code`).

A reply's `.text` carries the footnote markers of what it cites (`citations`); `.citations` lists
the sources, and `.sources` the lines shown under the answer (the citations and any web searches).
"""

from __future__ import annotations

import builtins
import keyword
import re
from dataclasses import dataclass, field
from typing import Any

from .citations import Citation, annotated, web_activity
from .errors import ClaudeError
from .markdown import fence_split
from .pricing import Usage, format_cost

__all__ = ["Reply", "CodeBlock", "code_blocks", "runnable_code", "reply_note", "stop_note", "check_out_name"]

_RUNNABLE = {"", "python", "py", "python3", "ipython", "ipython3"}
# What IPython puts in the user's namespace for itself (its `user_ns_hidden`, IPython 8 and 9), and
# the names of its output and input history: _, __, ___, _7, _i, _ii, _iii, _i7.
IPYTHON_NAMES = frozenset({"In", "Out", "get_ipython", "exit", "quit", "_ih", "_oh", "_dh"})
_HISTORY_NAME = re.compile(r"_+|_i{1,3}|_i?\d+")


@dataclass(frozen=True)
class CodeBlock:
    language: str
    code: str


@dataclass
class Reply:
    """One complete answer: `.text`, `.thinking`, `.usage`, `.cost`, `.citations`, `.message` (the SDK's
    Message), and under `--schema` its `.data`: the answer parsed (a label, a dict, or a pydantic model
    instance)."""

    text: str
    thinking: str
    model: str
    usage: Usage
    cost: float | None
    stop_reason: str | None
    message: Any = field(repr=False)
    citations: list[Citation] = field(default_factory=list)
    sources: tuple[str, ...] = ()
    data: Any = None

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
    if stop_reason == "pause_turn":
        # Resumed as often as the turn loop allows, and paused again: kept as it stands, and said.
        return "The API paused this answer again after it was resumed, so it may be unfinished: ask Claude to continue."
    if stop_reason == "model_context_window_exceeded":
        return (
            "Stopped: the conversation filled the model's context window, so the answer may be cut short. "
            "Start a fresh conversation with -n, or go on with a model that compacts (%claude_models)."
        )
    return ""


def check_out_name(name: str) -> None:
    """Refuse an `-o NAME` that storing the reply under would break the kernel or the user's code: no
    identifier, a keyword, a __dunder__ name, one of IPython's own names, or a built-in's."""
    if not name.isidentifier():
        raise ClaudeError(f"-o needs a variable name, not {name!r}.")
    if keyword.iskeyword(name):
        why = f"{name!r} is a Python keyword, which no variable can be named"
    elif name.startswith("__") and name.endswith("__"):
        why = "names like __this__ belong to Python itself"
    elif name in IPYTHON_NAMES or _HISTORY_NAME.fullmatch(name):
        why = "IPython keeps its own things under that name (as it does In, Out, _, _i1, get_ipython, exit)"
    elif hasattr(builtins, name):
        why = f"it would hide Python's built-in {name}"
    else:
        return
    raise ClaudeError(f"-o {name}: {why}. Pick another name; nothing was sent.")
