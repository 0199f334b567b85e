"""What the fake Claude API (tests/fakeapi.py) answers: the scripted :class:`Turn`, token
estimates, and the reply built from a turn -- once, then sent whole as a JSON ``Message`` or
as the SSE events that stream it.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Iterator
from typing import Any

#: The ``signature`` given to every thinking block.
FAKE_SIGNATURE = "fake-signature-EqQBCkYIBRgCKkB0ZXN0aW5nLW9ubHk="

#: Tokens charged for each image block by :func:`estimate_tokens`.
IMAGE_TOKENS = 1600

USAGE_KEYS = ("input_tokens", "output_tokens", "cache_creation_input_tokens", "cache_read_input_tokens")


@dataclasses.dataclass
class Turn:
    """One scripted reply to a ``POST /v1/messages`` request.

    ``text=None`` means the default echo reply.  ``usage`` may give any subset of
    ``input_tokens``, ``output_tokens``, ``cache_creation_input_tokens`` and
    ``cache_read_input_tokens``; the rest default to ``estimate_tokens(request)``,
    ``(len(thinking) + len(text)) // 4 + 1``, 0 and 0.

    Faults, checked in this order:

    * ``status`` -- answer with that HTTP status and a real-shaped error body
      (``error_type`` defaults from the status, e.g. 429 ``rate_limit_error``,
      529 ``overloaded_error``); ``retry_after`` adds a ``retry-after`` header.
    * ``drop_after`` -- stream only N SSE events (``ping`` counts), then close the
      connection abruptly, in the middle of the chunked body.  For a non-streamed
      request the connection is closed without any response.
    * ``error_event_after`` -- stream N SSE events, then an ``event: error``
      (``overloaded_error``), then end the response cleanly.  Ignored when not streamed.
    * ``compaction`` -- a summary streamed first as a ``compaction`` block, as the
      compaction beta does when it compacts earlier context.
    """

    text: str | None = None
    thinking: str | None = None
    chunk_chars: int = 8
    delay: float = 0.0
    usage: dict[str, int] | None = None
    stop_reason: str | None = None
    model: str | None = None
    status: int | None = None
    error_type: str | None = None
    error_message: str | None = None
    retry_after: float | None = None
    drop_after: int | None = None
    error_event_after: int | None = None
    compaction: str | None = None
    tool_uses: list[dict[str, Any]] | None = None

    def __post_init__(self) -> None:
        if self.chunk_chars < 1:
            raise ValueError("chunk_chars must be >= 1")
        if self.delay < 0:
            raise ValueError("delay must be >= 0")
        for name in ("drop_after", "error_event_after"):
            value = getattr(self, name)
            if value is not None and value < 0:
                raise ValueError(f"{name} must be >= 0")
        if self.usage is not None:
            unknown = set(self.usage) - set(USAGE_KEYS)
            if unknown:
                raise ValueError(f"unknown usage keys: {sorted(unknown)}")
        for use in self.tool_uses or []:
            if not isinstance(use.get("name"), str) or not isinstance(use.get("input", {}), dict):
                raise ValueError("each tool use needs a str 'name' and a dict 'input'")

    @property
    def final_stop_reason(self) -> str:
        """``stop_reason``, else ``tool_use`` when the turn calls tools, else ``end_turn``."""
        return self.stop_reason or ("tool_use" if self.tool_uses else "end_turn")


# --------------------------------------------------------------------------- tokens


def _block_text_chars(block: Any) -> int:
    """Characters of text in one content block (images are charged separately)."""
    if isinstance(block, str):
        return len(block)
    if not isinstance(block, dict):
        return 0
    kind = block.get("type")
    if kind == "text":
        return len(str(block.get("text", "")))
    if kind == "thinking":
        return len(str(block.get("thinking", "")))
    if kind == "tool_use":
        return len(str(block.get("name", ""))) + len(json.dumps(block.get("input", {}), sort_keys=True))
    if kind == "tool_result":
        content = block.get("content", "")
        if isinstance(content, list):
            return sum(_block_text_chars(b) for b in content)
        return len(str(content))
    if kind == "document":
        source = block.get("source") or {}
        if source.get("type") == "text":
            return len(str(source.get("data", "")))
    return 0


def _count_images(value: Any) -> int:
    if isinstance(value, dict):
        if value.get("type") == "image":
            return 1
        return sum(_count_images(v) for v in value.values())
    if isinstance(value, list):
        return sum(_count_images(v) for v in value)
    return 0


def estimate_tokens(body: dict[str, Any]) -> int:
    """Deterministic input-token estimate of a Messages request body.

    ``(characters of all system, message and tool text) // 4 + 1``, plus
    :data:`IMAGE_TOKENS` per image block.  Tools count as their JSON dump.
    """
    chars = 0
    system = body.get("system")
    if isinstance(system, str):
        chars += len(system)
    elif isinstance(system, list):
        chars += sum(_block_text_chars(b) for b in system)
    images = 0
    for message in body.get("messages") or []:
        if not isinstance(message, dict):
            continue
        content = message.get("content")
        if isinstance(content, str):
            chars += len(content)
        elif isinstance(content, list):
            chars += sum(_block_text_chars(b) for b in content)
            images += _count_images(content)
    for tool in body.get("tools") or []:
        chars += len(json.dumps(tool, sort_keys=True))
    return chars // 4 + 1 + IMAGE_TOKENS * images


def last_user_text(body: dict[str, Any]) -> str:
    for message in reversed(body.get("messages") or []):
        if isinstance(message, dict) and message.get("role") == "user":
            content = message.get("content")
            if isinstance(content, str):
                return content
            if isinstance(content, list):
                return "\n".join(
                    str(b.get("text", "")) for b in content if isinstance(b, dict) and b.get("type") == "text"
                )
            return ""
    return ""


# --------------------------------------------------------------------------- replies


@dataclasses.dataclass
class Block:
    """One content block of a reply: how its stream starts, the deltas that fill it, and
    the finished block a non-streamed ``Message`` carries."""

    start: dict[str, Any]
    deltas: list[dict[str, Any]]
    final: dict[str, Any]


@dataclasses.dataclass
class Reply:
    id: str
    model: str
    blocks: list[Block]
    stop_reason: str
    usage: dict[str, Any]

    def message(self) -> dict[str, Any]:
        """The reply as a non-streamed ``Message``."""
        return {
            "id": self.id,
            "type": "message",
            "role": "assistant",
            "model": self.model,
            "content": [block.final for block in self.blocks],
            "stop_reason": self.stop_reason,
            "stop_sequence": None,
            "usage": self.usage,
        }

    def events(self) -> Iterator[tuple[str, dict[str, Any]]]:
        """The SSE events of the streamed reply, as (event name, data) pairs."""
        start_usage = {key: self.usage[key] for key in USAGE_KEYS}
        start_usage["output_tokens"] = 1
        message = {**self.message(), "content": [], "stop_reason": None, "usage": start_usage}
        yield "message_start", {"type": "message_start", "message": message}
        for index, block in enumerate(self.blocks):
            yield "content_block_start", {"type": "content_block_start", "index": index, "content_block": block.start}
            if index == 0:
                yield "ping", {"type": "ping"}
            for delta in block.deltas:
                yield "content_block_delta", {"type": "content_block_delta", "index": index, "delta": delta}
            yield "content_block_stop", {"type": "content_block_stop", "index": index}
        yield "message_delta", {
            "type": "message_delta",
            "delta": {"stop_reason": self.stop_reason, "stop_sequence": None},
            "usage": {"output_tokens": self.usage["output_tokens"]},
        }
        yield "message_stop", {"type": "message_stop"}


def chunks(text: str, size: int) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)]


def _compaction_block(summary: str) -> Block:
    # As the compaction beta streams it: an empty block, then the whole summary in one delta.
    delta = {"type": "compaction_delta", "content": summary, "encrypted_content": None}
    return Block({"type": "compaction", "content": None}, [delta], {"type": "compaction", "content": summary})


def thinking_display(body: dict[str, Any], models: dict[str, Any] | None) -> str:
    """``"summarized"`` or ``"omitted"``: the request's ``thinking.display``, else the
    catalogue model's default, else summarized."""
    thinking = body.get("thinking")
    if isinstance(thinking, dict) and thinking.get("display") in ("summarized", "omitted"):
        return thinking["display"]
    model = (models or {}).get(body.get("model"))
    return model.thinking_display if model is not None else "summarized"


def _thinking_block(thinking: str, size: int, omitted: bool) -> Block:
    """With the display omitted, the block keeps only its signature, as the real API sends it."""
    shown = "" if omitted else thinking
    deltas = [{"type": "thinking_delta", "thinking": c} for c in chunks(shown, size)]
    deltas.append({"type": "signature_delta", "signature": FAKE_SIGNATURE})
    final = {"type": "thinking", "thinking": shown, "signature": FAKE_SIGNATURE}
    return Block({"type": "thinking", "thinking": "", "signature": ""}, deltas, final)


def _text_block(text: str, size: int) -> Block:
    deltas = [{"type": "text_delta", "text": c} for c in chunks(text, size)]
    return Block({"type": "text", "text": ""}, deltas, {"type": "text", "text": text})


def _tool_block(kind: str, tool_id: str, name: str, tool_input: dict[str, Any], size: int) -> Block:
    """A ``tool_use`` or ``server_tool_use`` block: it starts with an empty input, which
    ``input_json_delta`` deltas then fill with ``partial_json`` pieces of the input's JSON."""
    deltas = [{"type": "input_json_delta", "partial_json": c} for c in chunks(json.dumps(tool_input), size)]
    start = {"type": kind, "id": tool_id, "name": name, "input": {}}
    return Block(start, deltas, {**start, "input": tool_input})


def build_reply(
    turn: Turn, body: dict[str, Any], next_id: Callable[[str], str], models: dict[str, Any] | None = None
) -> Reply:
    """The reply ``turn`` scripts for the request ``body``; ``next_id(prefix)`` makes ids and
    ``models`` is the catalogue (id -> ``FakeModel``)."""
    text = turn.text
    if text is None and not turn.tool_uses:
        text = f"Echo: {last_user_text(body)}"
    blocks = []
    if turn.compaction is not None:
        blocks.append(_compaction_block(turn.compaction))
    if turn.thinking is not None:
        omitted = thinking_display(body, models) == "omitted"
        blocks.append(_thinking_block(turn.thinking, turn.chunk_chars, omitted))
    if text is not None:
        blocks.append(_text_block(text, turn.chunk_chars))
    for use in turn.tool_uses or []:
        tool_id = use.get("id") or next_id("toolu")
        blocks.append(_tool_block("tool_use", tool_id, use["name"], use.get("input", {}), turn.chunk_chars))
    written = len(turn.thinking or "") + len(text or "")
    written += sum(len(json.dumps(use.get("input", {}))) for use in turn.tool_uses or [])
    usage = {
        "input_tokens": estimate_tokens(body),
        "output_tokens": written // 4 + 1,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": 0,
    }
    usage.update(turn.usage or {})
    model = turn.model or str(body.get("model", "claude-fake"))
    return Reply(next_id("msg"), model, blocks, turn.final_stop_reason, usage)
