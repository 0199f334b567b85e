"""Server-sent events as a fixture stores them: `{"event": name, "data": json}` items.

Parsing a recorded body into events, writing events back as the bytes the API sends, finding the
key-shaped text no pattern can see while it is split across deltas, and what in a recorded stream
the SDK could not read. Plain text and JSON only.
"""

from __future__ import annotations

import json
from typing import Any

from .errors import SECRET

__all__ = ["parse_sse", "sse_bytes", "unreadable_event"]

_DELTA_TEXT = {"text_delta": "text", "thinking_delta": "thinking"}


def parse_sse(content: bytes) -> list[dict[str, Any]]:
    """The events of a recorded stream; pings and empty events dropped, key-shaped text made whole."""
    text = content.decode("utf-8", "replace").replace("\r\n", "\n").replace("\r", "\n")
    events = []
    # What follows the last blank line is an unfinished event, which the SDK drops as well.
    for block in text.split("\n\n")[:-1]:
        name, data = None, []
        for line in block.split("\n"):
            field, _, value = line.partition(":")
            value = value[1:] if value.startswith(" ") else value
            if field == "event":
                name = value
            elif field == "data":
                data.append(value)
        # Pings and nameless or empty events carry nothing; the SDK skips them too.
        if name not in (None, "ping") and data:
            events.append(_event(name, "\n".join(data)))
    return _unsplit_secrets(events)


def sse_bytes(event: dict[str, Any]) -> bytes:
    data = event["text"] if "text" in event else json.dumps(event["data"], ensure_ascii=False)
    lines = "".join(f"data: {line}\n" for line in data.split("\n"))
    return f"event: {event['event']}\n{lines}\n".encode()


def unreadable_event(events: list[dict[str, Any]]) -> str | None:
    """The first event of a recorded stream that the SDK could not read, as `event 5
    (content_block_delta) names block 7, but 1 block started`; None if there is none."""
    blocks, started = 0, False
    for number, event in enumerate(events):
        name = event["event"]
        if name not in _STREAM_EVENTS:
            continue  # pings and events the SDK does not know: it skips them
        why = _event_problem(name, event.get("data"), blocks, started)
        if why:
            return f"event {number} ({name}) {why}"
        started = started or name == "message_start"
        blocks += name == "content_block_start"
    return None


# The events the SDK's message stream reads, and what it needs of each (anthropic's
# lib/streaming/_messages.py: accumulate_event).
_STREAM_EVENTS = (
    "message_start", "content_block_start", "content_block_delta", "content_block_stop", "message_delta",
    "message_stop", "error",
)


def _event_problem(name: str, data: Any, blocks: int, started: bool) -> str | None:
    if not isinstance(data, dict):
        return "holds no JSON object"
    if data.get("type") != name:
        return f"has the type {data.get('type')!r}"
    if name == "error":
        return None
    if started == (name == "message_start"):
        return "repeats message_start" if started else "comes before message_start"
    if name == "message_start":
        message = data.get("message")
        if isinstance(message, dict) and isinstance(message.get("content"), list) and isinstance(message.get("usage"), dict):
            return None
        return "holds no message with content and usage"
    if name == "content_block_start":
        return None if data.get("index") == blocks and isinstance(data.get("content_block"), dict) else (
            f"should start block {blocks} with a content_block"
        )
    if name in ("content_block_delta", "content_block_stop"):
        index = data.get("index")
        if not (isinstance(index, int) and 0 <= index < blocks):
            return f"names block {index!r}, but {blocks} block{'' if blocks == 1 else 's'} started"
    if name in ("content_block_delta", "message_delta") and not isinstance(data.get("delta"), dict):
        return "holds no delta"
    if name == "message_delta" and not isinstance(data.get("usage"), dict):
        return "holds no usage"
    return None


def _event(name: str, data: str) -> dict[str, Any]:
    try:
        return {"event": name, "data": json.loads(data)}
    except ValueError:
        return {"event": name, "text": data}


def _unsplit_secrets(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Join the deltas of any block whose text holds something shaped like a key into one delta.

    A key repeated in a reply streams in pieces no pattern can see; joined, the scrub on saving
    finds it. Only such blocks change: the rest keep their deltas as streamed.
    """
    texts: dict[int, list[str]] = {}
    for event in events:
        if (found := _delta_text(event)) is not None:
            texts.setdefault(found[0], []).append(found[1])
    leaking = {index for index, parts in texts.items() if SECRET.search("".join(parts))}
    joined, seen = [], set()
    for event in events:
        found = _delta_text(event)
        if found is None or found[0] not in leaking:
            joined.append(event)
        elif found[0] not in seen:
            seen.add(found[0])
            delta = event["data"]["delta"]
            whole = {**delta, _DELTA_TEXT[delta["type"]]: "".join(texts[found[0]])}
            joined.append({**event, "data": {**event["data"], "delta": whole}})
    return joined


def _delta_text(event: dict[str, Any]) -> tuple[int, str] | None:
    data = event.get("data")
    if event["event"] != "content_block_delta" or not isinstance(data, dict):
        return None
    delta = data.get("delta")
    if not isinstance(delta, dict) or delta.get("type") not in _DELTA_TEXT:
        return None
    return data["index"], delta[_DELTA_TEXT[delta["type"]]]
