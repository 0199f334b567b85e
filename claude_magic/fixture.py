"""The fixture file format: recorded exchanges as readable, stable, key-free JSON.

This module owns how a request is keyed (its method, path and canonical body, base64 data and
uploaded files replaced by a digest), how a response (a streamed reply, a JSON or JSON Lines body, an
error status) is stored, the order of the answers one request got when it was sent more than once (a
batch polled until it ends: the same GET, a different answer each time), what may never be written
(keys, auth headers: no header is stored at all, and key-shaped text is scrubbed, in the request as it
is keyed too, so a prompt that held a key still finds its recording), what a recorded stream must hold
for the SDK to read it (checked at load, so a hand-edited fixture fails in one line naming the
exchange), and how kernels recording into one file merge their recordings (taking turns through
`save_lock`). Where a request the fixture does not hold parts from it is `misses`'; the HTTP
transport that replays these is `transport`. Pure JSON here.
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

from .errors import one_line, scrub
from .misses import clip, missing_turn, nearest_difference
from .save_lock import saving
from .sse import parse_sse, unreadable_event

__all__ = ["Exchange", "Fixture", "canonical_body", "request_body", "request_key", "FORMAT", "VERSION"]

FORMAT = "claude_magic-fixture"
VERSION = 1

_DIGEST = "sha256:"
_BODY_KINDS = ("events", "json", "jsonl", "text")
# A stream closed before its end is kept only if it had already said its last word.
_FINAL_EVENTS = ("message_stop", "error")


# ----------------------------------------------------------------------------------- request keys


def canonical_body(value: Any) -> Any:
    """The request JSON with each base64 `data` string replaced by its sha256 digest, and key-shaped
    text scrubbed, as the fixture stores it.

    Fixtures stay small and readable, and matching stays exact: a request is looked up as it would be
    written. Idempotent, so a body that is already canonical (one read from a fixture) comes back unchanged.
    """
    if isinstance(value, str):
        return scrub(value)
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


def request_key(method: str, path: str, body: Any) -> str:
    """What tells one request from another: the same key is the same request."""
    return json.dumps([method.upper(), path, canonical_body(body)], sort_keys=True, ensure_ascii=False)


# -------------------------------------------------------------------------------------- exchanges


@dataclass
class Exchange:
    """One request (method, URL path, canonical body) and the response it got.

    The response body is exactly one of: `events` (a streamed reply, as `{"event", "data"}` items),
    `json_body` (stored as "json"), `jsonl` (JSON Lines, one item a line: a batch's results) or `text`
    (a body that was none of these, such as a proxy's error page).
    No headers are kept but an error's `retry-after`.
    """

    method: str
    path: str
    body: Any
    status: int = 200
    content_type: str = "application/json"
    events: list[dict[str, Any]] | None = None
    json_body: Any = None
    jsonl: list[Any] | None = None
    text: str | None = None
    retry_after: str | None = None

    def __post_init__(self) -> None:
        self.method = self.method.upper()
        self.body = canonical_body(self.body)

    @property
    def key(self) -> str:
        return request_key(self.method, self.path, self.body)

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
        elif content_type != "application/json" and (lines := _json_lines(content)) is not None:
            exchange.jsonl = lines
        else:
            try:
                exchange.json_body = json.loads(content)
            except ValueError:
                exchange.text = content.decode("utf-8", "replace")
        return exchange

    def body_bytes(self) -> bytes:
        """A JSON, JSON Lines or text response's body as the API sent it (a stream is sent event by event)."""
        if self.jsonl is not None:
            return "".join(json.dumps(line, ensure_ascii=False) + "\n" for line in self.jsonl).encode("utf-8")
        body = self.text if self.text is not None else json.dumps(self.json_body, ensure_ascii=False)
        return body.encode("utf-8")

    def to_json(self) -> dict[str, Any]:
        response: dict[str, Any] = {"status": self.status, "content_type": self.content_type}
        if self.events is not None:
            response["events"] = self.events
        elif self.jsonl is not None:
            response["jsonl"] = self.jsonl
        elif self.text is not None:
            response["text"] = self.text
        else:
            response["json"] = self.json_body
        if self.retry_after is not None:
            response["retry_after"] = self.retry_after
        request = {"method": self.method, "path": self.path, "body": self.body}
        return {"request": request, "response": response}

    def stream_problem(self) -> str | None:
        """What in a recorded stream the SDK could not read (`event 5 (content_block_delta) ...`), or
        None. Asked when the exchange is replayed, not at load: one exchange edited by hand, or
        recorded from a faulty server, fails the turn that replays it, not the whole fixture."""
        return unreadable_event(self.events or [])

    @classmethod
    def from_json(cls, item: Any) -> Exchange:
        request, response = item["request"], item["response"]
        kinds = [kind for kind in _BODY_KINDS if kind in response]
        if len(kinds) != 1:
            raise ValueError("a response needs exactly one of 'events', 'json', 'jsonl' or 'text'")
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
            jsonl=response.get("jsonl"),
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
            raise ValueError(f"an event has no name: {clip(json.dumps(event))}")
        if "data" not in event and not isinstance(event.get("text"), str):
            raise ValueError(f"event {event['event']!r} has neither 'data' nor 'text'")


def _json_lines(content: bytes) -> list[Any] | None:
    """The items of a JSON Lines body, or None if it is not one (or is empty)."""
    try:
        lines = [json.loads(line) for line in content.decode("utf-8").splitlines() if line.strip()]
    except ValueError:  # UnicodeDecodeError is one too
        return None
    return lines or None


# ---------------------------------------------------------------------------------------- fixture


class Fixture:
    """The exchanges of one fixture file, in first-recorded order, keyed by request.

    A request sent more than once in a session may have got a different answer each time (a batch
    polled until it ends): its answers are kept in order, and `occurrence` says which one is meant.
    Those given or `put` here are this fixture's own; `save` merges them into what the file holds by
    then, so kernels recording into one file at once keep each other's recordings.
    """

    def __init__(self, path: str | os.PathLike[str], exchanges: Iterable[Exchange] = ()) -> None:
        self.path = Path(path)
        # A dict keeps first-insertion order even when a key is re-assigned: re-recording an
        # exchange replaces it in place, so the file's order stays stable.
        self._exchanges: dict[str, list[Exchange]] = {}
        self._own: set[str] = set()
        for exchange in exchanges:
            self._own.add(exchange.key)
            self._exchanges.setdefault(exchange.key, []).append(exchange)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Fixture:
        """Read a fixture; a missing file is an empty one (record mode will create it)."""
        fixture = cls(path)
        fixture._exchanges = _grouped(_read(fixture.path))
        return fixture

    def __len__(self) -> int:
        return sum(len(answers) for answers in self._exchanges.values())

    def find(self, method: str, path: str, body: Any, occurrence: int = 0) -> Exchange | None:
        """The recording for this request the `occurrence`-th time it is sent (from 0; past the last
        recording, the last one again); `body` may be raw or canonical."""
        answers = self._exchanges.get(request_key(method, path, body))
        return answers[min(occurrence, len(answers) - 1)] if answers else None

    def index(self, exchange: Exchange) -> int:
        """Where `exchange` stands in the file (the number a reader counts to, from 0)."""
        return [id(item) for item in self._all()].index(id(exchange))

    def nearest_difference(self, method: str, path: str, body: Any) -> str:
        """Where this request first differs from the most similar recording, in one line."""
        return nearest_difference(self._firsts(), method, path, canonical_body(body))

    def missing_turn(self, method: str, path: str, body: Any) -> str:
        """The earlier question a follow-up was recorded after, if its conversation lacks it; else ""."""
        return missing_turn(self._firsts(), method, path, canonical_body(body))

    def put(self, exchange: Exchange, occurrence: int = 0, after: str | None = None) -> None:
        """Keep `exchange` as the answer to its request's `occurrence`-th sending; a first sending
        recorded again starts that request's answers afresh. A re-recorded request keeps its place; a
        new one goes right after the request keyed `after` (the one its run used last), or at the end:
        a re-recorded notebook's new exchanges land where its run asked them, where a reviewer looks."""
        key = exchange.key
        self._own.add(key)
        answers = self._exchanges.get(key)
        if answers is not None and occurrence > 0:
            if occurrence < len(answers):
                answers[occurrence] = exchange
            else:
                answers.append(exchange)
            return
        if answers is not None or after not in self._exchanges:
            self._exchanges[key] = [exchange]
            return
        items = list(self._exchanges.items())
        at = [existing for existing, _ in items].index(after) + 1
        self._exchanges = dict([*items[:at], (key, [exchange]), *items[at:]])

    def save(self) -> None:
        """Merge this fixture's own exchanges into the file as it is now, and write it atomically, so
        a crash mid-write never leaves a half fixture behind. Another kernel may have written the
        file since it was read: under the lock its recordings are read back and kept. A file that
        can no longer be read is a ValueError, and is not overwritten."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with saving(self.path.parent):
            on_disk = _grouped(_read(self.path))
            # This kernel's order and its own recordings; what another kernel wrote since, too.
            merged = {key: mine if key in self._own else on_disk.get(key, mine) for key, mine in self._exchanges.items()}
            merged.update((key, theirs) for key, theirs in on_disk.items() if key not in merged)
            self._exchanges = merged
            tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
            try:
                tmp.write_text(self._dumps(), encoding="utf-8", newline="\n")
                os.replace(tmp, self.path)
            finally:
                tmp.unlink(missing_ok=True)

    def _all(self) -> list[Exchange]:
        return [exchange for answers in self._exchanges.values() for exchange in answers]

    def _firsts(self) -> list[Exchange]:
        return [answers[0] for answers in self._exchanges.values()]

    def _dumps(self) -> str:
        exchanges = [exchange.to_json() for exchange in self._all()]
        document = {"format": FORMAT, "version": VERSION, "exchanges": exchanges}
        text = json.dumps(document, indent=1, sort_keys=True, ensure_ascii=False) + "\n"
        # Headers are never stored, but a key can still sit in a prompt or a reply.
        return scrub(text)


def _grouped(exchanges: Iterable[Exchange]) -> dict[str, list[Exchange]]:
    grouped: dict[str, list[Exchange]] = {}
    for exchange in exchanges:
        grouped.setdefault(exchange.key, []).append(exchange)
    return grouped


def _read(path: Path) -> list[Exchange]:
    """The exchanges of the file at `path`; none if there is no file yet."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path} is not a readable claude_magic fixture: {one_line(str(exc))}") from None
    try:
        return _exchanges_of(json.loads(text))
    except (ValueError, KeyError, TypeError) as exc:
        detail = f"missing {exc}" if isinstance(exc, KeyError) else str(exc)
        raise ValueError(f"{path} is not a readable claude_magic fixture: {one_line(detail)}") from None


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
