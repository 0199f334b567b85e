"""Where a request the fixture does not hold parts from the recordings, in one line.

A replay miss is useful only if it says what changed: the nearest recording (same endpoint, then the
longest shared run of messages, then the most equal fields) and the first JSON path where the two
differ, values clipped around where they part; or, for a follow-up, the earlier question its
conversation lacks. Plain JSON values in, text out.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from .errors import one_line

__all__ = ["nearest_difference", "missing_turn", "clip"]

_WIDTH = 40  # characters of a value shown in a miss message
_ABSENT = object()


def nearest_difference(recorded: Iterable[Any], method: str, path: str, sent: Any) -> str:
    """Where `sent` (canonical) first differs from the most similar of `recorded`, or ""."""
    recordings = list(recorded)
    if not recordings:
        return ""
    method = method.upper()
    nearest = max(recordings, key=lambda e: _similarity(e, method, path, sent))
    if nearest.method != method:
        return f"method: recorded {nearest.method} but sent {method}"
    if nearest.path != path:
        return f"path: recorded {nearest.path} but sent {path}"
    return _first_difference(nearest.body, sent, "")


def missing_turn(recorded: Iterable[Any], method: str, path: str, sent: Any) -> str:
    """For a follow-up asked after fewer turns than it was recorded after: the first recorded
    question this conversation lacks (an earlier cell that missed, failed or was not run); else ""."""
    messages = sent.get("messages") if isinstance(sent, dict) else None
    if not isinstance(messages, list) or not messages:
        return ""
    for exchange in recorded:
        old = exchange.body.get("messages") if isinstance(exchange.body, dict) else None
        if (
            (exchange.method, exchange.path) == (method.upper(), path)
            and isinstance(old, list) and len(old) > len(messages)
            and old[-1] == messages[-1] and old[: len(messages) - 1] == messages[:-1]
        ):
            return _question(old[len(messages) - 1])
    return ""


def _similarity(exchange: Any, method: str, path: str, sent: Any) -> tuple[bool, int, int]:
    """Same endpoint first, then the longest shared run of messages, then the most equal fields."""
    recorded = exchange.body
    if not (isinstance(recorded, dict) and isinstance(sent, dict)):
        return (exchange.method == method and exchange.path == path, 0, 0)
    shared = 0
    for old, new in zip(recorded.get("messages") or [], sent.get("messages") or []):
        if old != new:
            break
        shared += 1
    equal = sum(1 for key, value in sent.items() if recorded.get(key, _ABSENT) == value)
    return (exchange.method == method and exchange.path == path, shared, equal)


def _first_difference(recorded: Any, sent: Any, where: str) -> str:
    """`where: recorded X but sent Y` for the first JSON path where the two differ, or ""."""
    if isinstance(recorded, dict) and isinstance(sent, dict):
        keys = [*sent, *(key for key in recorded if key not in sent)]
        children = (
            (f"{where}.{key}" if where else str(key), recorded.get(key, _ABSENT), sent.get(key, _ABSENT))
            for key in keys
        )
    elif isinstance(recorded, list) and isinstance(sent, list):
        length = max(len(recorded), len(sent))
        children = ((f"{where}[{i}]", _item(recorded, i), _item(sent, i)) for i in range(length))
    elif type(recorded) is type(sent) and recorded == sent:  # type too: JSON true is not 1
        return ""
    else:
        return f"{where or 'body'}: recorded {_show(recorded, sent)} but sent {_show(sent, recorded)}"
    for child, old, new in children:
        found = _first_difference(old, new, child)
        if found:
            return found
    return ""


def _question(message: Any) -> str:
    content = message.get("content") if isinstance(message, dict) else None
    if isinstance(content, str):
        return one_line(content, _WIDTH)
    texts = [block["text"] for block in content or [] if isinstance(block, dict) and isinstance(block.get("text"), str)]
    return one_line(" ".join(texts), _WIDTH) if texts else "(a question with attachments only)"


def _item(items: list[Any], index: int) -> Any:
    return items[index] if index < len(items) else _ABSENT


def _show(value: Any, other: Any) -> str:
    if value is _ABSENT:
        return "nothing"
    if isinstance(value, str):
        parted = _common_prefix(value, other) if isinstance(other, str) else 0
        return repr(clip(value, parted))  # repr escapes newlines: the message stays one line
    # ASCII-only, so no exotic line separator can break the one-line message either.
    return clip(json.dumps(value, sort_keys=True, separators=(",", ":")), 0)


def _common_prefix(a: str, b: str) -> int:
    return next((i for i, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))


def clip(text: str, parted: int = 0) -> str:
    # Show the window where two long values part, or two prompts that differ late would print alike.
    start = 0 if len(text) <= _WIDTH or parted < _WIDTH - 10 else parted - 10
    shown = text[start : start + _WIDTH]
    return ("…" if start else "") + shown + ("…" if start + _WIDTH < len(text) else "")
