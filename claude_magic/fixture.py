"""The fixture file format: recorded exchanges as readable, stable, key-free JSON.

This module owns how a request is keyed (its method, path and canonical body, base64 data and
uploaded files replaced by a digest), how a response (a streamed reply, a JSON body, an error status) is stored, what may never
be written (keys, auth headers: no header is stored at all, and key-shaped text is scrubbed), and where
a request the fixture does not hold first differs from the nearest recording. Pure JSON: the HTTP
transport that replays these is `transport`.
"""

from __future__ import annotations

import email.parser
import email.policy
import hashlib
import json
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import one_line
from .sse import REDACTED, SECRET, parse_sse

__all__ = ["Exchange", "Fixture", "canonical_body", "request_body", "FORMAT", "VERSION"]

FORMAT = "claude_magic-fixture"
VERSION = 1

_DIGEST = "sha256:"
_WIDTH = 40  # characters of a value shown in a miss message
_BODY_KINDS = ("events", "json", "text")
# A stream closed before its end is kept only if it had already said its last word.
_FINAL_EVENTS = ("message_stop", "error")


# ----------------------------------------------------------------------------------- request keys


def canonical_body(value: Any) -> Any:
    """The request JSON with each base64 `data` string replaced by its sha256 digest.

    Fixtures stay small and readable, and matching stays exact. Idempotent, so a body that is already
    canonical (one read from a fixture) comes back unchanged.
    """
    if isinstance(value, list):
        return [canonical_body(item) for item in value]
    if not isinstance(value, dict):
        return value
    out = {key: canonical_body(item) for key, item in value.items()}
    data = out.get("data")
    if out.get("type") == "base64" and isinstance(data, str) and not data.startswith(_DIGEST):
        out["data"] = _DIGEST + hashlib.sha256(data.encode("utf-8")).hexdigest()
    return out


def request_body(content: bytes, content_type: str = "") -> Any:
    """The request body as JSON; a multipart upload (the Files API) as its parts, each file by its
    name, type and digest, since the boundary between parts is random on every request."""
    if not content:
        return None
    if content_type.startswith("multipart/form-data"):
        return {"multipart": _parts(content, content_type)}
    try:
        return json.loads(content)
    except ValueError:
        return content.decode("utf-8", "replace")


def _parts(content: bytes, content_type: str) -> dict[str, Any]:
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        b"Content-Type: " + content_type.encode("latin-1") + b"\r\n\r\n" + content
    )
    parts: dict[str, Any] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True)
        data = payload if isinstance(payload, bytes) else b""
        filename = part.get_filename()
        parts[str(name)] = data.decode("utf-8", "replace") if filename is None else {
            "filename": filename, "content_type": part.get_content_type(),
            "data": _DIGEST + hashlib.sha256(data).hexdigest(),
        }
    return parts


def _key(method: str, path: str, body: Any) -> str:
    return json.dumps([method.upper(), path, canonical_body(body)], sort_keys=True, ensure_ascii=False)


# -------------------------------------------------------------------------------------- exchanges


@dataclass
class Exchange:
    """One request (method, URL path, canonical body) and the response it got.

    The response body is exactly one of: `events` (a streamed reply, as `{"event", "data"}` items),
    `json_body` (stored as "json") or `text` (a body that was neither, such as a proxy's error page).
    No headers are kept but an error's `retry-after`.
    """

    method: str
    path: str
    body: Any
    status: int = 200
    content_type: str = "application/json"
    events: list[dict[str, Any]] | None = None
    json_body: Any = None
    text: str | None = None
    retry_after: str | None = None

    def __post_init__(self) -> None:
        self.method = self.method.upper()
        self.body = canonical_body(self.body)

    @property
    def key(self) -> str:
        return _key(self.method, self.path, self.body)

    @property
    def finished(self) -> bool:
        """Whether a streamed reply reached its last event (a truncated one did not)."""
        return self.events is not None and bool(self.events) and self.events[-1]["event"] in _FINAL_EVENTS

    @classmethod
    def from_live(
        cls, method: str, path: str, body: Any, status: int, content_type: str, retry_after: str | None, content: bytes
    ) -> Exchange:
        """The exchange as a live response gave it; `content` is the body as the SDK read it."""
        exchange = cls(method, path, body, status, content_type, retry_after=retry_after if status >= 400 else None)
        if content_type == "text/event-stream":
            exchange.events = parse_sse(content)
        else:
            try:
                exchange.json_body = json.loads(content)
            except ValueError:
                exchange.text = content.decode("utf-8", "replace")
        return exchange

    def body_bytes(self) -> bytes:
        """A JSON or text response's body as the API sent it (a stream is sent event by event)."""
        body = self.text if self.text is not None else json.dumps(self.json_body, ensure_ascii=False)
        return body.encode("utf-8")

    def to_json(self) -> dict[str, Any]:
        response: dict[str, Any] = {"status": self.status, "content_type": self.content_type}
        if self.events is not None:
            response["events"] = self.events
        elif self.text is not None:
            response["text"] = self.text
        else:
            response["json"] = self.json_body
        if self.retry_after is not None:
            response["retry_after"] = self.retry_after
        request = {"method": self.method, "path": self.path, "body": self.body}
        return {"request": request, "response": response}

    @classmethod
    def from_json(cls, item: Any) -> Exchange:
        request, response = item["request"], item["response"]
        kinds = [kind for kind in _BODY_KINDS if kind in response]
        if len(kinds) != 1:
            raise ValueError("a response needs exactly one of 'events', 'json' or 'text'")
        events = response.get("events")
        if events is not None:
            _check_events(events)
        return cls(
            method=str(request["method"]),
            path=str(request["path"]),
            body=request.get("body"),
            status=int(response["status"]),
            content_type=str(response["content_type"]),
            events=events,
            json_body=response.get("json"),
            text=response.get("text"),
            retry_after=response.get("retry_after"),
        )


def _check_events(events: Any) -> None:
    # Checked at load: a malformed event found mid-replay would surface as a non-API exception,
    # which the SDK retries instead of reporting.
    if not isinstance(events, list):
        raise ValueError("'events' is not a list")
    for event in events:
        if not (isinstance(event, dict) and isinstance(event.get("event"), str)):
            raise ValueError(f"an event has no name: {_clip(json.dumps(event), 0)}")
        if "data" not in event and not isinstance(event.get("text"), str):
            raise ValueError(f"event {event['event']!r} has neither 'data' nor 'text'")


# ---------------------------------------------------------------------------------------- fixture


class Fixture:
    """The exchanges of one fixture file, in first-recorded order, keyed by request."""

    def __init__(self, path: str | os.PathLike[str], exchanges: Iterable[Exchange] = ()) -> None:
        self.path = Path(path)
        # A dict keeps first-insertion order even when a key is re-assigned: re-recording an
        # exchange replaces it in place, so the file's order stays stable.
        self._exchanges: dict[str, Exchange] = {}
        for exchange in exchanges:
            self.put(exchange)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Fixture:
        """Read a fixture; a missing file is an empty one (record mode will create it)."""
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return cls(path)
        except (OSError, UnicodeDecodeError) as exc:
            raise ValueError(f"{path} is not a readable claude_magic fixture: {one_line(str(exc))}") from None
        try:
            return cls(path, _exchanges_of(json.loads(text)))
        except (ValueError, KeyError, TypeError) as exc:
            detail = f"missing {exc}" if isinstance(exc, KeyError) else str(exc)
            raise ValueError(f"{path} is not a readable claude_magic fixture: {one_line(detail)}") from None

    def __len__(self) -> int:
        return len(self._exchanges)

    def find(self, method: str, path: str, body: Any) -> Exchange | None:
        """The recording for this request; `body` may be raw or canonical."""
        return self._exchanges.get(_key(method, path, body))

    def nearest_difference(self, method: str, path: str, body: Any) -> str:
        """Where this request first differs from the most similar recording, in one line."""
        if not self._exchanges:
            return ""
        sent = canonical_body(body)
        method = method.upper()
        nearest = max(self._exchanges.values(), key=lambda e: _similarity(e, method, path, sent))
        if nearest.method != method:
            return f"method: recorded {nearest.method} but sent {method}"
        if nearest.path != path:
            return f"path: recorded {nearest.path} but sent {path}"
        return _first_difference(nearest.body, sent, "")

    def put(self, exchange: Exchange) -> None:
        self._exchanges[exchange.key] = exchange

    def save(self) -> None:
        """Write atomically, so a crash mid-write never leaves a half fixture behind."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        try:
            tmp.write_text(self._dumps(), encoding="utf-8", newline="\n")
            os.replace(tmp, self.path)
        finally:
            tmp.unlink(missing_ok=True)

    def _dumps(self) -> str:
        exchanges = [exchange.to_json() for exchange in self._exchanges.values()]
        document = {"format": FORMAT, "version": VERSION, "exchanges": exchanges}
        text = json.dumps(document, indent=1, sort_keys=True, ensure_ascii=False) + "\n"
        # Headers are never stored, but a key can still sit in a prompt or a reply.
        return SECRET.sub(REDACTED, text)


def _exchanges_of(document: Any) -> list[Exchange]:
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise ValueError(f"its 'format' is not {FORMAT!r}")
    if document.get("version") != VERSION:
        raise ValueError(f"version {document.get('version')!r} is not {VERSION}, the one this version reads")
    exchanges = document.get("exchanges")
    if not isinstance(exchanges, list):
        raise ValueError("'exchanges' is not a list")
    out = []
    for index, item in enumerate(exchanges):
        try:
            out.append(Exchange.from_json(item))
        except (ValueError, KeyError, TypeError) as exc:
            detail = f"missing {exc}" if isinstance(exc, KeyError) else str(exc)
            raise ValueError(f"exchange {index}: {detail}") from None
    return out


# ------------------------------------------------------------------------------ miss descriptions

_ABSENT = object()


def _similarity(exchange: Exchange, method: str, path: str, sent: Any) -> tuple[bool, int, int]:
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


def _item(items: list[Any], index: int) -> Any:
    return items[index] if index < len(items) else _ABSENT


def _show(value: Any, other: Any) -> str:
    if value is _ABSENT:
        return "nothing"
    if isinstance(value, str):
        parted = _common_prefix(value, other) if isinstance(other, str) else 0
        return repr(_clip(value, parted))  # repr escapes newlines: the message stays one line
    # ASCII-only, so no exotic line separator can break the one-line message either.
    return _clip(json.dumps(value, sort_keys=True, separators=(",", ":")), 0)


def _common_prefix(a: str, b: str) -> int:
    return next((i for i, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))


def _clip(text: str, parted: int) -> str:
    # Show the window where two long values part, or two prompts that differ late would print alike.
    start = 0 if len(text) <= _WIDTH or parted < _WIDTH - 10 else parted - 10
    shown = text[start : start + _WIDTH]
    return ("…" if start else "") + shown + ("…" if start + _WIDTH < len(text) else "")
