"""Recorded responses: the fixture file format and the record/replay HTTP transport.

This module owns everything about fixtures: how a request is keyed, how a response (a streamed reply,
a JSON body, an error status) is stored and replayed, what may never be written (keys, auth headers),
and the one-line error for a request the fixture does not hold. The transport sits under the SDK's own
`httpx2.Client`, so a replayed reply goes through the real SDK parser and `MessageStream`, exactly as a
live one does.

Imported only when a client is built, never at `%load_ext`, so importing anthropic here costs nothing
at start-up.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import anthropic
import httpx2

from .client import API_KEY_ENV, FIXTURE_MODES
from .errors import one_line

Mode = Literal["off", "auto", "replay", "record"]
MODES: tuple[str, ...] = FIXTURE_MODES

FORMAT = "claude_magic-fixture"
VERSION = 1

_DIGEST = "sha256:"
_SECRET = re.compile(r"sk-ant-[A-Za-z0-9_-]{8,}")
_REDACTED = "sk-ant-…redacted"
_WIDTH = 40  # characters of a value shown in a miss message
_BODY_KINDS = ("events", "json", "text")
# A stream closed before its end is kept only if it had already said its last word.
_FINAL_EVENTS = ("message_stop", "error")


class ReplayMiss(anthropic.AnthropicError):
    """No recording matches a request in a mode that may not go live.

    An `AnthropicError`, because the SDK retries any other exception raised by a transport: a miss
    must fail at once, not after the retry back-off.
    """

    def __init__(self, message: str, difference: str = "") -> None:
        super().__init__(message)
        self.difference = difference


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


def _request_body(content: bytes) -> Any:
    if not content:
        return None
    try:
        return json.loads(content)
    except ValueError:
        return content.decode("utf-8", "replace")


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
        return bool(self.events) and self.events[-1]["event"] in _FINAL_EVENTS

    @classmethod
    def from_live(
        cls, method: str, path: str, body: Any, status: int, headers: httpx2.Headers, content: bytes
    ) -> Exchange:
        content_type = headers.get("content-type", "").partition(";")[0].strip()
        retry_after = headers.get("retry-after") if status >= 400 else None
        exchange = cls(method, path, body, status, content_type, retry_after=retry_after)
        if content_type == "text/event-stream":
            exchange.events = _parse_sse(content)
        else:
            try:
                exchange.json_body = json.loads(content)
            except ValueError:
                exchange.text = content.decode("utf-8", "replace")
        return exchange

    def to_response(self) -> httpx2.Response:
        headers = {"content-type": self.content_type}
        if self.retry_after is not None:
            headers["retry-after"] = self.retry_after
        if self.events is not None:
            # One chunk per event, as the API sends them, so a stream replays as a stream.
            return httpx2.Response(self.status, headers=headers, content=[_sse_bytes(e) for e in self.events])
        body = self.text if self.text is not None else json.dumps(self.json_body, ensure_ascii=False)
        return httpx2.Response(self.status, headers=headers, content=body.encode("utf-8"))

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


def _parse_sse(content: bytes) -> list[dict[str, Any]]:
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


_DELTA_TEXT = {"text_delta": "text", "thinking_delta": "thinking"}


def _unsplit_secrets(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Join the deltas of any block whose text holds something shaped like a key into one delta.

    A key repeated in a reply streams in pieces no pattern can see; joined, the scrub on saving
    finds it. Only such blocks change: the rest keep their deltas as streamed.
    """
    texts: dict[int, list[str]] = {}
    for event in events:
        if (found := _delta_text(event)) is not None:
            texts.setdefault(found[0], []).append(found[1])
    leaking = {index for index, parts in texts.items() if _SECRET.search("".join(parts))}
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
    delta = data.get("delta") if isinstance(data, dict) else None
    if event["event"] != "content_block_delta" or not isinstance(delta, dict) or delta.get("type") not in _DELTA_TEXT:
        return None
    return data["index"], delta[_DELTA_TEXT[delta["type"]]]


def _event(name: str, data: str) -> dict[str, Any]:
    try:
        return {"event": name, "data": json.loads(data)}
    except ValueError:
        return {"event": name, "text": data}


def _sse_bytes(event: dict[str, Any]) -> bytes:
    data = event["text"] if "text" in event else json.dumps(event["data"], ensure_ascii=False)
    lines = "".join(f"data: {line}\n" for line in data.split("\n"))
    return f"event: {event['event']}\n{lines}\n".encode("utf-8")


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
        return _SECRET.sub(_REDACTED, text)


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


# -------------------------------------------------------------------------------------- transport


class _Tee(httpx2.SyncByteStream):
    """Hands the live body on chunk by chunk, as it arrives, while keeping a copy to record."""

    def __init__(self, stream: httpx2.SyncByteStream, done: Callable[[bytes, bool], None]) -> None:
        self._stream = stream
        self._done = done
        self._chunks: list[bytes] = []
        self._finished = False

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self._stream:
            self._chunks.append(chunk)
            yield chunk
        self._finish(ended=True)

    def close(self) -> None:
        try:
            self._stream.close()
        finally:
            self._finish(ended=False)

    def _finish(self, ended: bool) -> None:
        if not self._finished:
            self._finished = True
            self._done(b"".join(self._chunks), ended)


class RecordReplayTransport(httpx2.BaseTransport):
    """Answers the SDK's requests from a fixture, from `live`, or from `live` while recording.

    - replay: from the fixture only; a miss raises `ReplayMiss`; `live` is never called.
    - auto: from the fixture when it holds the request, else through `live` unrecorded
      (with no `live`, i.e. no API key, a miss raises `ReplayMiss`).
    - record: always through `live`, writing each exchange once its body has been read or closed.
    - off: straight through `live`.
    """

    def __init__(self, fixture: Fixture, mode: Mode, live: httpx2.BaseTransport | None = None) -> None:
        if mode not in MODES:
            raise ValueError(f"unknown replay mode {mode!r}; expected one of {', '.join(MODES)}")
        if mode in ("record", "off") and live is None:
            raise ValueError(f"replay mode {mode!r} needs a live transport to send requests to")
        self.fixture = fixture
        self.mode = mode
        self.live = live

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        if self.mode == "off":
            return self._live(request)
        method, path, body = request.method, request.url.path, _request_body(request.read())
        if self.mode == "record":
            return self._record(request, method, path, body)
        recorded = self.fixture.find(method, path, body)
        if recorded is not None:
            return recorded.to_response()
        if self.mode == "auto" and self.live is not None:
            return self._live(request)
        raise self._miss(method, path, body)

    def close(self) -> None:
        if self.live is not None:
            self.live.close()

    def _live(self, request: httpx2.Request) -> httpx2.Response:
        assert self.live is not None  # __init__ refuses "record" and "off" without one; "auto" checks
        return self.live.handle_request(request)

    def _record(self, request: httpx2.Request, method: str, path: str, body: Any) -> httpx2.Response:
        response = self._live(request)

        def keep(content: bytes, ended: bool) -> None:
            exchange = Exchange.from_live(method, path, body, response.status_code, response.headers, content)
            # A stream abandoned midway (Ctrl-C, a dropped read) is not what the API said: keep it only
            # if it ran to its end or had already sent its final event (an `error` event makes the
            # SDK close the stream without reading on).
            if ended or exchange.finished:
                self.fixture.put(exchange)
                try:
                    self.fixture.save()
                except OSError as error:
                    # The answer is paid for and good: the turn keeps it; only the recording is lost.
                    print(f"note: the fixture {self.fixture.path} was not written: {error}", file=sys.stderr)

        if response.is_stream_consumed:  # a transport that returns a body already read (MockTransport)
            keep(response.content, True)
        else:
            headers = response.headers
            response.stream = _Tee(response.stream, lambda raw, ended: keep(_decoded(raw, headers), ended))
        return response

    def _miss(self, method: str, path: str, body: Any) -> ReplayMiss:
        count = len(self.fixture)
        message = (
            f"no recorded response for this request in {self.fixture.path.name} "
            f"({count} recording{'' if count == 1 else 's'})"
        )
        if self.mode == "auto":
            message += f" and no {API_KEY_ENV} is set to ask the API"
        difference = self.fixture.nearest_difference(method, path, body)
        if difference:
            message += f"; nearest differs at {difference}"
        return ReplayMiss(message, difference)


def _decoded(raw: bytes, headers: httpx2.Headers) -> bytes:
    """The body as the SDK sees it: a gzip or deflate encoding undone, as httpx2 does for the caller."""
    encoding = headers.get("content-encoding")
    if not encoding:
        return raw
    return httpx2.Response(200, headers={"content-encoding": encoding}, content=raw).content
