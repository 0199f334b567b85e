"""A turn's tool calls, whatever the tools: each call's record, its bounded result, and how it shows.

A `Toolbox` (today `kernel_tools.KernelTools`) defines the tools a turn offers and runs a call,
giving back an `Outcome`: content blocks for Claude, a one-line summary, and whether it was done,
refused or failed. `ToolCall` is one call as it goes (running, waiting for approval, then done,
refused or error); `bounded` keeps a result within its token budget and says what it cut;
`ToolCall.result_block` is the `tool_result` the API gets, `ToolCall.line` the compact line the
live view shows, and `steps_markdown` the collapsed section a saved answer keeps above itself, static
so that a replayed notebook rewrites it byte for byte. Plain data: no SDK, no IPython.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from .conversation import unicode_only
from .dollars import encode_dollars
from .markdown import close_open_blocks, code_span, fenced, literal
from .sent import image_size, tokens_of

__all__ = [
    "Outcome", "ToolCall", "Toolbox", "Step", "Progress", "bounded", "steps_markdown", "steps_plain", "step_lines",
    "first_line", "ran_note", "results_message", "LIMIT_NOTE", "NOT_OFFERED", "FAILED", "SHOWN_CHARS",
]

Block = dict[str, Any]

FAILED = ("refused", "error")
# Of a result's text, the saved answer shows this much; Claude got it all (within the budget).
SHOWN_CHARS = 1_500
_STATUS_WORDS = {"running": "running…", "waiting": "waiting for approval"}
_ARGUMENT_CHARS = 40

# What Claude is told when the turn's tool calls are spent, and when a call is not answered.
LIMIT_NOTE = (
    "You have used all {limit} tool calls this turn allows. Do not call any more tools: answer now "
    "with what you have found, and say what you could not check."
)
NOT_OFFERED = "Tools are not enabled for this turn (it was asked without -k). Answer without them."


@dataclass(frozen=True)
class Outcome:
    """What a tool gives back: content for Claude, a one-line summary for the user, its status
    (done, refused or error), and whether it ran code in the kernel (whose effects stay)."""

    content: tuple[Block, ...]
    summary: str
    status: str = "done"
    ran: bool = False

    def __post_init__(self) -> None:
        # What a tool read from the kernel may hold text that is not Unicode (a file name decoded with
        # surrogateescape, in an error say), which no request and no screen can carry: replaced, as
        # Python's own errors="replace" would, wherever the outcome came from.
        content = tuple({**block, "text": unicode_only(block["text"])} if block.get("type") == "text" else block
                        for block in self.content)
        object.__setattr__(self, "content", content)
        object.__setattr__(self, "summary", unicode_only(self.summary))

    @classmethod
    def failed(cls, reason: str, status: str = "error", summary: str = "") -> Outcome:
        """Claude reads `reason`; the user's line says `summary` (else the reason)."""
        return cls(({"type": "text", "text": reason},), summary or reason, status)


@dataclass(frozen=True)
class ToolCall:
    """One call of a tool in a turn, from the moment Claude asks for it to its result."""

    id: str
    name: str
    input: dict[str, Any] = field(default_factory=dict)
    status: str = "running"  # running, waiting (for approval), done, refused, error
    summary: str = ""
    content: tuple[Block, ...] = ()
    ran: bool = False

    def finished(self, outcome: Outcome) -> ToolCall:
        return replace(self, status=outcome.status, summary=outcome.summary, content=outcome.content, ran=outcome.ran)

    @property
    def result_block(self) -> Block:
        content = list(self.content) or [{"type": "text", "text": self.summary or "(no output)"}]
        block: Block = {"type": "tool_result", "tool_use_id": self.id, "content": content}
        return {**block, "is_error": True} if self.status in FAILED else block

    @property
    def signature(self) -> str:
        """`describe_variable(name='sales')`; code shows only its first line."""
        arguments = ", ".join(f"{key}={_argument(value)}" for key, value in self.input.items())
        return f"{self.name}({arguments})"

    @property
    def line(self) -> str:
        status = _STATUS_WORDS.get(self.status, self.status)
        return " · ".join(part for part in (f"→ {self.signature}", status, self.summary) if part)


# A turn's steps as the user reads them: a call, or what Claude wrote before its calls.
Step = ToolCall | str
Progress = Callable[[ToolCall], None]


class Toolbox(Protocol):
    """The tools a turn offers: their definitions (sent with every request) and how a call runs.
    `call` reports a status change (waiting for approval, running) through `progress`."""

    definitions: list[Block]

    def call(self, call: ToolCall, progress: Progress) -> Outcome: ...


def results_message(calls: Sequence[ToolCall], note: str = "") -> dict[str, Any]:
    """The user message that answers a reply's calls: every result first, then any note."""
    content = [call.result_block for call in calls] + ([{"type": "text", "text": note}] if note else [])
    return {"role": "user", "content": content}


def bounded(content: Sequence[Block], tokens: int) -> tuple[list[Block], str]:
    """`content` within about `tokens` tokens (four characters a token; images by their size), and
    a note of what was cut, which is also appended for Claude to read ("" if nothing was)."""
    kept: list[Block] = []
    room = tokens
    cut_chars = cut_images = 0
    for block in content:
        if block.get("type") == "text":
            text = block["text"]
            shown = text[: max(room, 0) * 4]
            cut_chars += len(text) - len(shown)
            if shown.strip():
                kept.append({**block, "text": shown})
            room -= -(-len(shown) // 4)
        elif tokens_of([block]) <= room:
            kept.append(block)
            room -= tokens_of([block])
        else:
            cut_images += 1
    if not (cut_chars or cut_images):
        return kept, ""
    parts = [f"{cut_chars:,} characters"] * bool(cut_chars) + [f"{cut_images} image{'s' * (cut_images > 1)}"] * bool(cut_images)
    note = f"[cut: {' and '.join(parts)} over this result's budget of about {tokens:,} tokens]"
    return [*kept, {"type": "text", "text": note}], note


def ran_note(calls: Sequence[ToolCall]) -> str:
    """What a failed turn must say about code it already ran: its effects stay in the kernel."""
    ran = [call for call in calls if call.ran]
    if not ran:
        return ""
    firsts = "; ".join(code_span(first_line(str(call.input.get("code", "")))) for call in ran[:3])
    more = f" and {len(ran) - 3} more" if len(ran) > 3 else ""
    return (
        f"Claude's code had already run {len(ran)} time{'s' * (len(ran) > 1)} in this kernel, and what it "
        f"did stays: {firsts}{more}."
    )


def step_lines(steps: Sequence[Step]) -> list[str]:
    """The compact lines a live view shows: one per call, and what Claude wrote before them."""
    return [step.line if isinstance(step, ToolCall) else step.strip() for step in steps if str(step).strip()]


def steps_plain(steps: Sequence[Step]) -> str:
    return "\n".join(step_lines(steps))


def steps_markdown(steps: Sequence[Step]) -> str:
    """The calls, collapsed: for each, its input and its result (text bounded, images by size)."""
    calls = [step for step in steps if isinstance(step, ToolCall)]
    if not calls:
        return ""
    parts = [f"<details><summary>Tool calls: {len(calls)}</summary>"]
    for step in steps:
        if isinstance(step, str):
            if step.strip():
                parts.append(close_open_blocks(encode_dollars(step.strip("\n"))))
            continue
        parts.append(_call_markdown(step))
    parts.append("</details>")
    return "\n\n".join(parts)


def _call_markdown(call: ToolCall) -> str:
    status = literal(" · ".join(part for part in (call.status, call.summary) if part))
    code = call.input.get("code") if call.name == "run_code" else None
    if isinstance(code, str):
        parts = [f"**{code_span(call.name)}** · {status}", fenced(code, "python")]
    else:
        parts = [f"**{code_span(call.signature)}** · {status}"]
    text = "\n".join(block["text"] for block in call.content if block.get("type") == "text")
    if len(text) > SHOWN_CHARS:
        text = f"{text[:SHOWN_CHARS]}\n[… {len(text) - SHOWN_CHARS:,} more characters, which Claude read]"
    images = [image_size(block) for block in call.content if block.get("type") == "image"]
    text += "".join(f"\n[image {width:,} × {height:,} px]" for width, height in images)
    if text.strip() and text.strip() != call.summary:
        parts.append(fenced(text.strip("\n"), "text"))
    return "\n\n".join(parts)


def _argument(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    first = first_line(text)
    shown = first[:_ARGUMENT_CHARS] + ("…" if len(first) > _ARGUMENT_CHARS or first != text.strip() else "")
    return repr(shown) if isinstance(value, str) else shown


def first_line(text: str) -> str:
    """The first line of `text` that is not blank, stripped ("" if none)."""
    return next((line.strip() for line in text.splitlines() if line.strip()), "")
