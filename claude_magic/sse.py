"""Server-sent events as a fixture stores them: `{"event": name, "data": json}` items.

Parsing a recorded body into events, writing events back as the bytes the API sends, and finding
the key-shaped text no pattern can see while it is split across deltas. Plain text and JSON only.
"""

from __future__ import annotations

import json
from typing import Any

from .errors import SECRET

__all__ = ["parse_sse", "sse_bytes"]

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
