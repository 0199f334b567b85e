"""A local fake of the Claude API, for tests that must never touch the real one.

The server speaks the real wire format (HTTP/1.1, JSON bodies, Server-Sent Events
streamed with chunked transfer encoding), so the official ``anthropic`` SDK runs its
real request building, retry, error mapping, pagination and stream parsing code against it::

    with FakeAPI() as fake:
        fake.script(Turn(text="Hello!"), Turn(status=529))
        client = anthropic.Anthropic(api_key="sk-ant-test", base_url=fake.base_url, max_retries=0)
        with client.messages.stream(model="claude-x", max_tokens=64,
                                    messages=[{"role": "user", "content": "Hi"}]) as s:
            assert s.get_final_text() == "Hello!"
        assert fake.requests[-1].json["messages"][0]["content"] == "Hi"

Shapes follow anthropic 2.15's types (``types/*.py``, ``types/messages/*.py``); where a rule
or a message's wording is not derivable from them, the code says "on belief".

Endpoints:

* ``POST /v1/messages`` -- a JSON ``Message``, or an SSE stream when the body has
  ``"stream": true``.  Each request consumes one scripted :class:`Turn` (FIFO); with
  the queue empty it is ``fake.respond(body)``'s answer if that is set, else
  ``"Echo: <text of the last user message>"`` (under ``output_config.format``: the JSON
  schema's smallest instance).  See :class:`Turn` for
  thinking, tool calls, web searches and fetches, cited text and the faults.
* ``POST /v1/messages/count_tokens`` -- ``{"input_tokens": estimate_tokens(body)}``.
* ``GET /v1/models`` (``limit``, ``after_id``, ``before_id``, ``lifecycle[]``) and
  ``GET /v1/models/{model_id}`` -- the catalogue as ``SyncPage[ModelInfo]`` / ``ModelInfo``,
  newest first; an unknown id is a 404 (fake_models.py).
* ``POST /v1/files`` (multipart), ``GET /v1/files``, ``GET /v1/files/{id}``,
  ``DELETE /v1/files/{id}`` -- ``FileMetadata`` / ``SyncPageCursor`` / ``DeletedFile``
  (fake_files.py).  No beta header is required: anthropic 2.15 sends none.
* ``POST /v1/messages/batches``, ``GET /v1/messages/batches[/{id}]``,
  ``GET /v1/messages/batches/{id}/results`` (JSONL), ``POST .../{id}/cancel``,
  ``DELETE .../{id}`` -- Message Batches (fake_batches.py).
* anything else -- a real-shaped 404 ``not_found_error``.

With ``strict=True`` (the default) requests the real API would reject for their shape
get a real-shaped 400 ``invalid_request_error`` (or 401 with no credentials) whose
message names the rule; ``FakeAPI.rejected`` counts them.  Validation runs before a
turn is consumed, so a rejected request leaves the script untouched.  The rules
(fake_validation.py) cover roles, content blocks, cache breakpoints, thinking, tools and
``tool_choice``, ``tool_use``/``tool_result`` pairing, documents and their sources (``file``
sources must name an uploaded file), ``output_config`` (effort, JSON-schema format), and for
a model in the catalogue its limits and capabilities (thinking types, effort levels,
``max_tokens``, input length, structured outputs, retired models).  A model not in the
catalogue is only checked for shape.

``FakeAPI(...)`` arguments and attributes:

* ``strict`` -- validate as above (default True).
* ``models`` -- the catalogue, ``FakeModel``s (default :data:`DEFAULT_MODELS`); ``fake.models``
  maps id -> model.
* ``batch_polls`` -- retrieves a new batch reports ``in_progress`` before it ends (default 1).
  ``fake.batch_reply(params) -> str | Turn | None`` answers each batch request (default the
  echo); ``fake.batch_outcomes`` (custom_id -> ``"errored"`` / ``"expired"`` /
  ``"canceled"`` / an error dict / a ``Turn``, or ``f(custom_id, params)``) overrides it.
* ``fake.respond(body) -> str | Turn | None`` answers a ``POST /v1/messages`` when no turn is
  scripted (``None``: the echo), so concurrent requests get answers that depend on what they ask,
  not on their order.
* ``latency`` -- seconds each ``POST /v1/messages`` waits before it is answered (default 0): the
  model's time to the first byte, for measuring clients that overlap requests.
* ``max_concurrent`` -- ``POST /v1/messages`` requests beyond N in flight get a 429
  ``rate_limit_error`` (default no limit); ``fake.peak_concurrency`` is the most seen at once,
  refused ones included, ``fake.in_flight`` the number now.  ``fake.rate_limits`` sets the
  limits every 429's ``anthropic-ratelimit-*`` headers report.
* ``fake.requests`` (every :class:`RecordedRequest`), ``fake.rejected``, ``fake.pending``
  (scripted turns left), ``fake.files`` (``metadata``, ``content``, ``expire(id)``),
  ``fake.batches`` (``batches``: id -> ``Batch``).
"""

from __future__ import annotations

import collections
import dataclasses
import datetime
import json
import re
import socket
import threading
from collections.abc import Callable, Iterable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from fake_batches import BatchStore, reply_turn
from fake_common import Rejection, invalid, rfc3339
from fake_content import (
    FAKE_SIGNATURE,
    IMAGE_TOKENS,
    STREAM_FAULTS,
    Reply,
    ScriptError,
    Turn,
    build_reply,
    estimate_tokens,
)
from fake_files import FileStore
from fake_models import DEFAULT_MODELS, FakeModel, get_model, list_models
from fake_validation import validate_request

__all__ = [
    "FakeAPI",
    "Turn",
    "RecordedRequest",
    "FakeModel",
    "DEFAULT_MODELS",
    "estimate_tokens",
    "validate_request",
    "FAKE_SIGNATURE",
    "IMAGE_TOKENS",
    "STREAM_FAULTS",
]


@dataclasses.dataclass
class RecordedRequest:
    """A request the server received.  ``headers`` keys are lower-case; ``json`` is
    the parsed body (``None`` if absent or not JSON).  Also readable as ``req["json"]``."""

    method: str
    path: str
    headers: dict[str, str]
    json: Any
    query: str = ""

    def __getitem__(self, key: str) -> Any:
        return getattr(self, key)


@dataclasses.dataclass
class _Call:
    """One request as a route handler sees it."""

    method: str
    path: str
    headers: dict[str, str]
    query: dict[str, list[str]]
    raw: bytes
    body: Any
    request_id: str
    params: tuple[str, ...] = ()


# --------------------------------------------------------------------------- server


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, fake: FakeAPI) -> None:
        self.fake = fake
        super().__init__(("127.0.0.1", 0), _Handler)


class _Abort(Exception):
    """The connection is gone (client hung up, or the server is stopping)."""


#: (method, path pattern, handler method name); groups of the pattern become ``_Call.params``.
_ROUTES: list[tuple[str, re.Pattern[str], str]] = [
    (method, re.compile(pattern), name)
    for method, pattern, name in [
        ("POST", r"/v1/messages", "_messages"),
        ("POST", r"/v1/messages/count_tokens", "_count_tokens"),
        ("POST", r"/v1/messages/batches", "_batch_create"),
        ("GET", r"/v1/messages/batches", "_batch_list"),
        ("GET", r"/v1/messages/batches/([^/]+)", "_batch_get"),
        ("GET", r"/v1/messages/batches/([^/]+)/results", "_batch_results"),
        ("POST", r"/v1/messages/batches/([^/]+)/cancel", "_batch_cancel"),
        ("DELETE", r"/v1/messages/batches/([^/]+)", "_batch_delete"),
        ("GET", r"/v1/models", "_models"),
        ("GET", r"/v1/models/([^/]+)", "_model"),
        ("POST", r"/v1/files", "_file_upload"),
        ("GET", r"/v1/files", "_file_list"),
        ("GET", r"/v1/files/([^/]+)", "_file_get"),
        ("DELETE", r"/v1/files/([^/]+)", "_file_delete"),
    ]
]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "FakeClaudeAPI/1.0"
    timeout = 10  # a silent client cannot hold a thread forever
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        pass

    def setup(self) -> None:
        super().setup()
        self.server.fake._track(self.connection, True)

    def finish(self) -> None:
        try:
            super().finish()
        except OSError:
            pass
        finally:
            self.server.fake._track(self.connection, False)

    # -- plumbing

    def _read_body(self) -> bytes:
        if self.headers.get("transfer-encoding", "").lower() == "chunked":
            parts = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    self.rfile.readline()
                    return b"".join(parts)
                parts.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("content-length") or 0)
        return self.rfile.read(length) if length else b""

    def _send_bytes(
        self, status: int, data: bytes, content_type: str, request_id: str, extra: dict[str, str] | None = None
    ) -> None:
        self.close_connection = True
        self.send_response(status)
        self.send_header("content-type", content_type)
        self.send_header("content-length", str(len(data)))
        self.send_header("request-id", request_id)
        self.send_header("connection", "close")
        for key, value in (extra or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)

    def _send_json(self, status: int, payload: Any, request_id: str, extra: dict[str, str] | None = None) -> None:
        self._send_bytes(status, json.dumps(payload).encode(), "application/json", request_id, extra)

    def _send_error(
        self, status: int, error_type: str, message: str, request_id: str, extra: dict[str, str] | None = None
    ) -> None:
        self._send_rejection(Rejection(status, error_type, message), request_id, extra)

    def _send_rejection(self, rej: Rejection, request_id: str, extra: dict[str, str] | None = None) -> None:
        self._send_json(rej.status, rej.body(request_id), request_id, extra)

    def _write_chunk(self, data: bytes) -> None:
        if self.server.fake._stopping.is_set():
            raise _Abort
        try:
            self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        except OSError as exc:
            raise _Abort from exc

    def _drop(self) -> None:
        """Close the connection abruptly: no terminating chunk, no more bytes."""
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    # -- HTTP verbs

    def do_POST(self) -> None:  # noqa: N802 - stdlib naming
        self._handle("POST")

    def do_GET(self) -> None:  # noqa: N802
        self._handle("GET")

    def do_DELETE(self) -> None:  # noqa: N802
        self._handle("DELETE")

    def _handle(self, method: str) -> None:
        fake = self.server.fake
        split = urlsplit(self.path)
        raw = self._read_body()
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
        headers = {k.lower(): v for k, v in self.headers.items()}
        fake._record(RecordedRequest(method=method, path=split.path, headers=headers, json=body, query=split.query))
        call = _Call(method, split.path, headers, parse_qs(split.query), raw, body, fake._next_id("req"))

        route = self._route(method, split.path.rstrip("/"), call)
        if route is None:
            self._send_error(404, "not_found_error", f"Not found: {method} {split.path}", call.request_id)
            return
        try:
            if fake.strict:
                if not headers.get("x-api-key") and not headers.get("authorization"):
                    raise Rejection(401, "authentication_error", "x-api-key header is required")
                if raw and body is None and not headers.get("content-type", "").startswith("multipart/"):
                    raise invalid("request body is not valid JSON")
            route(call)
        except Rejection as rej:
            fake._reject()
            self._send_rejection(rej, call.request_id)
        except Exception as exc:  # noqa: BLE001 - a malformed script or a bug in the fake: loud, not a dropped connection
            self._send_error(500, "api_error", f"FakeAPI error: {exc!r}", call.request_id)

    def _route(self, method: str, path: str, call: _Call) -> Callable[[_Call], None] | None:
        for route_method, pattern, name in _ROUTES:
            match = pattern.fullmatch(path)
            if match and route_method == method:
                call.params = match.groups()
                return getattr(self, name)
        return None

    # -- /v1/messages

    def _validated(self, call: _Call, endpoint: str) -> dict[str, Any]:
        """The body, once the real API would accept it (strict mode); a dict in any case."""
        fake = self.server.fake
        if fake.strict:
            validate_request(call.body, endpoint=endpoint, models=fake.models, files=fake.files)
        return call.body if isinstance(call.body, dict) else {}

    def _count_tokens(self, call: _Call) -> None:
        body = self._validated(call, "count_tokens")
        self._send_json(200, {"input_tokens": estimate_tokens(body)}, call.request_id)

    def _messages(self, call: _Call) -> None:
        """Counted in flight from arrival to the last byte, refused ones too (``peak_concurrency``)."""
        fake = self.server.fake
        admitted = fake._enter()
        try:
            if admitted:
                self._answer(call)
            else:
                rej = Rejection(429, "rate_limit_error", CONCURRENCY_MESSAGE)
                self._send_rejection(rej, call.request_id, fake._ratelimit_headers("requests", None))
        finally:
            fake._leave()

    def _answer(self, call: _Call) -> None:
        fake = self.server.fake
        body = self._validated(call, "messages")
        if fake.latency and fake._stopping.wait(fake.latency):
            raise _Abort
        turn = fake._next_turn(body)
        if turn.status is not None:
            self._send_turn_error(turn, call.request_id)
            return
        try:
            reply = build_reply(turn, body, fake._next_id, fake.models, fake.files)
        except ScriptError as exc:
            self._send_error(500, "api_error", f"FakeAPI script error: {exc}", call.request_id)
            return
        if body.get("stream") is True:
            try:
                self._stream(turn, reply, call.request_id)
            except _Abort:
                self._drop()
        elif turn.drop_after is not None:
            self._drop()
        else:
            self._send_json(200, reply.message(), call.request_id)

    # -- /v1/models

    def _models(self, call: _Call) -> None:
        self._send_json(200, list_models(self.server.fake.models, call.query), call.request_id)

    def _model(self, call: _Call) -> None:
        self._send_json(200, get_model(self.server.fake.models, unquote(call.params[0])), call.request_id)

    # -- /v1/messages/batches

    def _batch_create(self, call: _Call) -> None:
        fake = self.server.fake
        batch = fake.batches.create(fake._next_id("msgbatch"), call.body, len(call.raw), fake.base_url)
        self._send_json(200, batch, call.request_id)

    def _batch_list(self, call: _Call) -> None:
        fake = self.server.fake
        self._send_json(200, fake.batches.list(call.query, fake.base_url), call.request_id)

    def _batch_get(self, call: _Call) -> None:
        fake = self.server.fake
        self._send_json(200, fake.batches.retrieve(call.params[0], fake.base_url), call.request_id)

    def _batch_cancel(self, call: _Call) -> None:
        fake = self.server.fake
        self._send_json(200, fake.batches.cancel(call.params[0], fake.base_url), call.request_id)

    def _batch_delete(self, call: _Call) -> None:
        self._send_json(200, self.server.fake.batches.delete(call.params[0]), call.request_id)

    def _batch_results(self, call: _Call) -> None:
        data = self.server.fake.batches.results(call.params[0])
        self._send_bytes(200, data, "application/x-jsonl", call.request_id)  # the content type is on belief

    # -- /v1/files

    def _file_upload(self, call: _Call) -> None:
        fake = self.server.fake
        metadata = fake.files.upload(fake._next_id("file"), call.headers.get("content-type", ""), call.raw)
        self._send_json(200, metadata, call.request_id)

    def _file_list(self, call: _Call) -> None:
        self._send_json(200, self.server.fake.files.list(call.query), call.request_id)

    def _file_get(self, call: _Call) -> None:
        self._send_json(200, self.server.fake.files.get(unquote(call.params[0])), call.request_id)

    def _file_delete(self, call: _Call) -> None:
        self._send_json(200, self.server.fake.files.delete(unquote(call.params[0])), call.request_id)

    def _send_turn_error(self, turn: Turn, request_id: str) -> None:
        extra = {}
        if turn.status == 429:
            extra = self.server.fake._ratelimit_headers(turn.rate_limited, turn.retry_after)
        if turn.retry_after is not None:
            ra = turn.retry_after
            extra["retry-after"] = str(int(ra)) if float(ra).is_integer() else str(ra)
        self._send_rejection(turn.rejection(), request_id, extra)

    def _stream(self, turn: Turn, reply: Reply, request_id: str) -> None:
        fake = self.server.fake
        self.close_connection = True
        self.send_response(200)
        self.send_header("content-type", "text/event-stream; charset=utf-8")
        self.send_header("cache-control", "no-cache")
        self.send_header("transfer-encoding", "chunked")
        self.send_header("request-id", request_id)
        self.send_header("connection", "close")
        self.end_headers()

        frames = _with_fault([_sse(name, data) for name, data in reply.events()], turn)
        for sent, frame in enumerate(frames):
            if turn.drop_after is not None and sent >= turn.drop_after:
                self.wfile.flush()
                self._drop()
                return
            if turn.error_event_after is not None and sent >= turn.error_event_after:
                self._write_chunk(_sse("error", turn.rejection("overloaded_error").body()))
                break
            if sent and turn.delay and fake._stopping.wait(turn.delay):
                raise _Abort
            self._write_chunk(frame)
        self._write_chunk(b"")  # the terminating zero-length chunk


#: The real API's words for a request over the concurrency limit (as remembered: on belief).
CONCURRENCY_MESSAGE = (
    "Number of concurrent connections has exceeded your rate limit. "
    "Please try again later or contact sales to discuss your options for a rate limit increase."
)

#: The limits every 429 reports in its ``anthropic-ratelimit-<kind>-{limit,remaining,reset}``
#: headers (header names as the API's rate-limit docs give them; the SDK reads none of them).
DEFAULT_RATE_LIMITS = {"requests": 50, "tokens": 100_000, "input-tokens": 80_000, "output-tokens": 20_000}


def _sse(name: str, data: dict[str, Any]) -> bytes:
    return f"event: {name}\ndata: {json.dumps(data)}\n\n".encode()


_DELTA = b'event: content_block_delta\ndata: {"type": "content_block_delta", "index": 0, "delta": '
_FAULT_FRAMES = {
    "invalid_utf8": _DELTA + b'{"type": "text_delta", "text": "\xff\xfe"}}\n\n',
    "invalid_json": _DELTA + b'{"type": "text_de\n\n',
    "unknown_index": _sse(
        "content_block_delta", {"type": "content_block_delta", "index": 99, "delta": {"type": "text_delta", "text": "?"}}
    ),
}


def _with_fault(frames: list[bytes], turn: Turn) -> list[bytes]:
    """The stream's frames with ``turn.stream_fault`` applied."""
    if turn.stream_fault == "no_message_start":
        return frames[1:]
    if turn.stream_fault == "no_message_stop":
        return frames[:-1]
    if turn.stream_fault is not None:
        frames.insert(min(turn.fault_after, len(frames)), _FAULT_FRAMES[turn.stream_fault])
    return frames


class FakeAPI:
    """A threaded fake Messages API on ``127.0.0.1`` (a free port).

    ``start()``/``stop()`` or use as a context manager.  ``requests`` lists every
    :class:`RecordedRequest`; ``rejected`` counts requests refused by validation.
    """

    def __init__(
        self,
        *,
        strict: bool = True,
        models: Iterable[FakeModel] | None = None,
        batch_polls: int = 1,
        max_concurrent: int | None = None,
        latency: float = 0.0,
    ) -> None:
        self.strict = strict
        #: The catalogue, by id: what ``/v1/models`` lists and what strict ``/v1/messages`` enforces.
        self.models: dict[str, FakeModel] = {m.id: m for m in (DEFAULT_MODELS if models is None else models)}
        #: Uploaded files (``files.metadata``, ``files.content``; ``files.expire(id)``).
        self.files = FileStore()
        #: Retrieves that report a new batch ``in_progress`` before it ends.
        self.batch_polls = batch_polls
        #: custom_id -> outcome, or ``f(custom_id, params) -> outcome | None`` (see fake_batches).
        self.batch_outcomes: dict[str, Any] | Callable[[str, dict[str, Any]], Any] | None = None
        #: ``f(params) -> str | Turn | None``: each batch request's answer (default: the echo).
        self.batch_reply: Callable[[dict[str, Any]], Any] | None = None
        self.batches = BatchStore(self)
        #: ``f(body) -> str | Turn | None``: the answer to a live request when no turn is scripted.
        self.respond: Callable[[dict[str, Any]], Any] | None = None
        #: Seconds each ``POST /v1/messages`` waits before it is answered.
        self.latency = latency
        #: ``POST /v1/messages`` requests answered beyond this many at once get a 429 (None: no limit).
        self.max_concurrent = max_concurrent
        #: The most ``POST /v1/messages`` requests in flight at one moment, refused ones included.
        self.peak_concurrency = 0
        self.in_flight = 0
        #: kind -> limit, for the ``anthropic-ratelimit-*`` headers of every 429.
        self.rate_limits = dict(DEFAULT_RATE_LIMITS)
        self.requests: list[RecordedRequest] = []
        self.rejected = 0
        self._turns: collections.deque[Turn] = collections.deque()
        self._lock = threading.Lock()
        self._ids: dict[str, int] = collections.defaultdict(int)
        self._stopping = threading.Event()
        self._connections: set[socket.socket] = set()
        self._idle = threading.Condition(self._lock)
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle

    @property
    def base_url(self) -> str:
        if self._server is None:
            raise RuntimeError("FakeAPI is not started")
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> FakeAPI:
        if self._server is not None:
            raise RuntimeError("FakeAPI already started")
        self._stopping.clear()
        self._server = _Server(self)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.01}, name="FakeAPI", daemon=True
        )
        self._thread.start()
        return self

    def stop(self, timeout: float = 2.0) -> None:
        """Stop serving, abort in-flight responses and close the socket (bounded by ``timeout``)."""
        server, self._server = self._server, None
        if server is None:
            return
        self._stopping.set()
        server.shutdown()
        server.server_close()
        with self._lock:
            for conn in list(self._connections):
                try:
                    conn.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
            self._idle.wait_for(lambda: not self._connections, timeout=timeout)
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def __enter__(self) -> FakeAPI:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- scripting

    def script(self, *turns: Turn) -> FakeAPI:
        """Queue turns, consumed one per ``POST /v1/messages`` (FIFO)."""
        for turn in turns:
            if not isinstance(turn, Turn):
                raise TypeError(f"expected Turn, got {type(turn).__name__}")
        with self._lock:
            self._turns.extend(turns)
        return self

    @property
    def asked(self) -> list[RecordedRequest]:
        """The requests that went to the model (`POST /v1/messages`), not lookups, counts or batches."""
        with self._lock:
            return [request for request in self.requests if request.method == "POST" and request.path == "/v1/messages"]

    @property
    def pending(self) -> int:
        """Scripted turns not yet consumed."""
        with self._lock:
            return len(self._turns)

    # -- used by the handler

    def _next_turn(self, body: dict[str, Any]) -> Turn:
        with self._lock:
            if self._turns:
                return self._turns.popleft()
        return reply_turn(self.respond, body)

    def _next_id(self, prefix: str) -> str:
        with self._lock:
            self._ids[prefix] += 1
            return f"{prefix}_fake_{self._ids[prefix]}"

    def _record(self, request: RecordedRequest) -> None:
        with self._lock:
            self.requests.append(request)

    def _enter(self) -> bool:
        """One more request in flight; False when that is over ``max_concurrent``."""
        with self._lock:
            self.in_flight += 1
            self.peak_concurrency = max(self.peak_concurrency, self.in_flight)
            return self.max_concurrent is None or self.in_flight <= self.max_concurrent

    def _leave(self) -> None:
        with self._lock:
            self.in_flight -= 1

    def _ratelimit_headers(self, exhausted: str, retry_after: float | None) -> dict[str, str]:
        """The limit ``exhausted`` has nothing left until ``retry_after`` (default 60 s) from now."""
        now = datetime.datetime.now(datetime.timezone.utc)
        later = now + datetime.timedelta(seconds=60 if retry_after is None else retry_after)
        headers = {}
        for kind, limit in self.rate_limits.items():
            spent = kind == exhausted
            headers[f"anthropic-ratelimit-{kind}-limit"] = str(limit)
            headers[f"anthropic-ratelimit-{kind}-remaining"] = "0" if spent else str(limit)
            headers[f"anthropic-ratelimit-{kind}-reset"] = rfc3339(later if spent else now)
        return headers

    def _reject(self) -> None:
        with self._lock:
            self.rejected += 1

    def _track(self, conn: socket.socket, active: bool) -> None:
        with self._lock:
            if active:
                self._connections.add(conn)
            else:
                self._connections.discard(conn)
                self._idle.notify_all()
