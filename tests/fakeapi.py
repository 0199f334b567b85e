"""A local fake of the Claude Messages API, for tests that must never touch the real one.

The server speaks the real wire format (HTTP/1.1, JSON bodies, Server-Sent Events
streamed with chunked transfer encoding), so the official ``anthropic`` SDK runs its
real request building, retry, error mapping and stream parsing code against it::

    with FakeAPI() as fake:
        fake.script(Turn(text="Hello!"), Turn(status=529))
        client = anthropic.Anthropic(api_key="sk-ant-test", base_url=fake.base_url, max_retries=0)
        with client.messages.stream(model="claude-x", max_tokens=64,
                                    messages=[{"role": "user", "content": "Hi"}]) as s:
            assert s.get_final_text() == "Hello!"
        assert fake.requests[-1].json["messages"][0]["content"] == "Hi"

Endpoints:

* ``POST /v1/messages`` -- a JSON ``Message``, or an SSE stream when the body has
  ``"stream": true``.  Each request consumes one scripted :class:`Turn` (FIFO); with
  the queue empty the reply is ``"Echo: <text of the last user message>"``.
* ``POST /v1/messages/count_tokens`` -- ``{"input_tokens": estimate_tokens(body)}``.
* anything else -- a real-shaped 404 ``not_found_error``.

With ``strict=True`` (the default) requests the real API would reject for their shape
get a real-shaped 400 ``invalid_request_error`` (or 401 with no credentials) whose
message names the rule; ``FakeAPI.rejected`` counts them.  Validation runs before a
turn is consumed, so a rejected request leaves the script untouched.
"""

from __future__ import annotations

import collections
import dataclasses
import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

__all__ = ["FakeAPI", "Turn", "RecordedRequest", "estimate_tokens", "FAKE_SIGNATURE"]

#: The ``signature`` given to every thinking block.
FAKE_SIGNATURE = "fake-signature-EqQBCkYIBRgCKkB0ZXN0aW5nLW9ubHk="

#: Tokens charged for each image block by :func:`estimate_tokens`.
IMAGE_TOKENS = 1600

#: The largest number of ``cache_control`` breakpoints the API accepts.
MAX_CACHE_BREAKPOINTS = 4

_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    402: "billing_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    504: "timeout_error",
    529: "overloaded_error",
}

_ERROR_MESSAGES = {
    "invalid_request_error": "Invalid request (fake)",
    "authentication_error": "invalid x-api-key",
    "billing_error": "Your credit balance is too low to access the Anthropic API.",
    "permission_error": "Your API key does not have permission to use the specified resource.",
    "not_found_error": "Not found",
    "request_too_large": "Request exceeds the maximum allowed number of bytes.",
    "rate_limit_error": "This request would exceed the rate limit for your organization (fake).",
    "api_error": "Internal server error",
    "timeout_error": "Request timed out",
    "overloaded_error": "Overloaded",
}

_USAGE_KEYS = ("input_tokens", "output_tokens", "cache_creation_input_tokens", "cache_read_input_tokens")


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
    stop_reason: str = "end_turn"
    model: str | None = None
    status: int | None = None
    error_type: str | None = None
    error_message: str | None = None
    retry_after: float | None = None
    drop_after: int | None = None
    error_event_after: int | None = None
    compaction: str | None = None

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
            unknown = set(self.usage) - set(_USAGE_KEYS)
            if unknown:
                raise ValueError(f"unknown usage keys: {sorted(unknown)}")


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


class _Rejection(Exception):
    def __init__(self, status: int, error_type: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.error_type = error_type
        self.message = message


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


def _last_user_text(body: dict[str, Any]) -> str:
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


# --------------------------------------------------------------------------- validation


def _count_cache_control(value: Any) -> int:
    """Every dict carrying a non-null ``cache_control`` below ``value``."""
    if isinstance(value, dict):
        own = 1 if value.get("cache_control") is not None else 0
        return own + sum(_count_cache_control(v) for k, v in value.items() if k != "cache_control")
    if isinstance(value, list):
        return sum(_count_cache_control(v) for v in value)
    return 0


def _invalid(message: str) -> _Rejection:
    return _Rejection(400, "invalid_request_error", message)


def _check_text_blocks(blocks: list[Any], where: str) -> None:
    for j, block in enumerate(blocks):
        if not isinstance(block, dict) or "type" not in block:
            raise _invalid(f"{where}.{j}: content blocks must be objects with a `type`")
        if block["type"] == "text":
            if not isinstance(block.get("text"), str):
                raise _invalid(f"{where}.{j}.text: Field required")
            if block["text"] == "":
                raise _invalid(f"{where}.{j}: text content blocks must be non-empty")
            if not block["text"].strip():
                raise _invalid(f"{where}.{j}.text: text content blocks must contain non-whitespace text")
        if block["type"] == "tool_result" and isinstance(block.get("content"), list):
            _check_text_blocks(block["content"], f"{where}.{j}.content")


def validate_request(body: Any, *, endpoint: str) -> None:
    """Raise :class:`_Rejection` for a body the real API would reject for its shape."""
    if not isinstance(body, dict):
        raise _invalid("request body must be a JSON object")
    if not isinstance(body.get("model"), str) or not body["model"]:
        raise _invalid("model: Field required")
    if endpoint == "messages":
        max_tokens = body.get("max_tokens")
        if max_tokens is None:
            raise _invalid("max_tokens: Field required")
        if not isinstance(max_tokens, int) or isinstance(max_tokens, bool):
            raise _invalid("max_tokens: Input should be a valid integer")
        if max_tokens < 1:
            raise _invalid("max_tokens: Input should be greater than or equal to 1")
        if "stream" in body and not isinstance(body["stream"], bool):
            raise _invalid("stream: Input should be a valid boolean")

    messages = body.get("messages")
    if not isinstance(messages, list):
        raise _invalid("messages: Field required")
    if not messages:
        raise _invalid("messages: at least one message is required")
    previous = None
    for i, message in enumerate(messages):
        if not isinstance(message, dict):
            raise _invalid(f"messages.{i}: Input should be an object")
        role = message.get("role")
        if role not in ("user", "assistant"):
            raise _invalid(f"messages.{i}.role: Input should be 'user' or 'assistant'")
        if i == 0 and role != "user":
            raise _invalid('messages: first message must use the "user" role')
        if role == previous:
            raise _invalid(
                f'messages: roles must alternate between "user" and "assistant", '
                f'but found multiple "{role}" roles in a row (messages.{i})'
            )
        previous = role
        content = message.get("content")
        final_assistant = role == "assistant" and i == len(messages) - 1
        if isinstance(content, str):
            if content == "" and not final_assistant:
                raise _invalid(
                    f"messages.{i}: all messages must have non-empty content "
                    "except for the optional final assistant message"
                )
        elif isinstance(content, list):
            if not content and not final_assistant:
                raise _invalid(
                    f"messages.{i}: all messages must have non-empty content "
                    "except for the optional final assistant message"
                )
            _check_text_blocks(content, f"messages.{i}.content")
            if any(isinstance(b, dict) and b.get("type") == "compaction" for b in content) and "context_management" not in body:
                raise _invalid(f"messages.{i}.content: a compaction block needs the compaction beta (context_management)")
        else:
            raise _invalid(f"messages.{i}.content: Field required")
        if final_assistant:
            trailing = content if isinstance(content, str) else ""
            if isinstance(content, list) and content and isinstance(content[-1], dict):
                trailing = str(content[-1].get("text", "")) if content[-1].get("type") == "text" else ""
            if trailing and trailing != trailing.rstrip():
                raise _invalid("messages: final assistant content cannot end with trailing whitespace")

    system = body.get("system")
    if system is not None:
        if isinstance(system, list):
            _check_text_blocks(system, "system")
        elif not isinstance(system, str):
            raise _invalid("system: Input should be a valid string or list of text blocks")

    breakpoints = (
        _count_cache_control(system)
        + _count_cache_control(messages)
        + _count_cache_control(body.get("tools"))
        + (1 if body.get("cache_control") is not None else 0)
    )
    if breakpoints > MAX_CACHE_BREAKPOINTS:
        raise _invalid(
            f"A maximum of {MAX_CACHE_BREAKPOINTS} blocks with cache_control may be provided. Found {breakpoints}."
        )

    thinking = body.get("thinking")
    if isinstance(thinking, dict) and thinking.get("type") == "enabled":
        budget = thinking.get("budget_tokens")
        if not isinstance(budget, int) or isinstance(budget, bool):
            raise _invalid("thinking.enabled.budget_tokens: Field required")
        if budget < 1024:
            raise _invalid("thinking.enabled.budget_tokens: Input should be greater than or equal to 1024")
        if endpoint == "messages" and budget >= body["max_tokens"]:
            raise _invalid("`max_tokens` must be greater than `thinking.budget_tokens`")
        temperature = body.get("temperature")
        if temperature is not None and temperature != 1:
            raise _invalid("`temperature` may only be set to 1 when thinking is enabled")


# --------------------------------------------------------------------------- server


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, fake: FakeAPI) -> None:
        self.fake = fake
        super().__init__(("127.0.0.1", 0), _Handler)


class _Abort(Exception):
    """The connection is gone (client hung up, or the server is stopping)."""


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

    def _send_json(self, status: int, payload: Any, request_id: str, extra: dict[str, str] | None = None) -> None:
        data = json.dumps(payload).encode()
        self.close_connection = True
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.send_header("request-id", request_id)
        self.send_header("connection", "close")
        for key, value in (extra or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)

    def _send_error(
        self, status: int, error_type: str, message: str, request_id: str, extra: dict[str, str] | None = None
    ) -> None:
        body = {"type": "error", "error": {"type": error_type, "message": message}, "request_id": request_id}
        self._send_json(status, body, request_id, extra)

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
        request_id = fake._next_id("req")

        route = split.path.rstrip("/")
        if method != "POST" or route not in ("/v1/messages", "/v1/messages/count_tokens"):
            self._send_error(404, "not_found_error", f"Not found: {method} {split.path}", request_id)
            return
        endpoint = "messages" if route == "/v1/messages" else "count_tokens"

        if fake.strict:
            try:
                if not headers.get("x-api-key") and not headers.get("authorization"):
                    raise _Rejection(401, "authentication_error", "x-api-key header is required")
                if raw and body is None:
                    raise _invalid("request body is not valid JSON")
                validate_request(body, endpoint=endpoint)
            except _Rejection as rej:
                fake._reject()
                self._send_error(rej.status, rej.error_type, rej.message, request_id)
                return
        body = body if isinstance(body, dict) else {}

        if endpoint == "count_tokens":
            self._send_json(200, {"input_tokens": estimate_tokens(body)}, request_id)
            return

        turn = fake._next_turn()
        if turn.status is not None:
            error_type = turn.error_type or _ERROR_TYPES.get(turn.status, "api_error")
            message = turn.error_message or _ERROR_MESSAGES.get(error_type, "Error (fake)")
            extra = {}
            if turn.retry_after is not None:
                ra = turn.retry_after
                extra["retry-after"] = str(int(ra)) if float(ra).is_integer() else str(ra)
            self._send_error(turn.status, error_type, message, request_id, extra)
            return

        text = turn.text if turn.text is not None else f"Echo: {_last_user_text(body)}"
        usage = {
            "input_tokens": estimate_tokens(body),
            "output_tokens": (len(turn.thinking or "") + len(text)) // 4 + 1,
            "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": 0,
        }
        usage.update(turn.usage or {})
        message_id = fake._next_id("msg")
        model = turn.model or str(body.get("model", "claude-fake"))

        if body.get("stream") is True:
            try:
                self._stream(turn, text, usage, message_id, model, request_id)
            except _Abort:
                self._drop()
            return

        if turn.drop_after is not None:
            self._drop()
            return
        content: list[dict[str, Any]] = []
        if turn.thinking is not None:
            content.append({"type": "thinking", "thinking": turn.thinking, "signature": FAKE_SIGNATURE})
        content.append({"type": "text", "text": text})
        message = {
            "id": message_id,
            "type": "message",
            "role": "assistant",
            "model": model,
            "content": content,
            "stop_reason": turn.stop_reason,
            "stop_sequence": None,
            "usage": usage,
        }
        self._send_json(200, message, request_id)

    def _stream(
        self, turn: Turn, text: str, usage: dict[str, int], message_id: str, model: str, request_id: str
    ) -> None:
        fake = self.server.fake
        self.close_connection = True
        self.send_response(200)
        self.send_header("content-type", "text/event-stream; charset=utf-8")
        self.send_header("cache-control", "no-cache")
        self.send_header("transfer-encoding", "chunked")
        self.send_header("request-id", request_id)
        self.send_header("connection", "close")
        self.end_headers()

        sent = 0
        for name, data in _events(turn, text, usage, message_id, model):
            if turn.drop_after is not None and sent >= turn.drop_after:
                self.wfile.flush()
                self._drop()
                return
            if turn.error_event_after is not None and sent >= turn.error_event_after:
                error = {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}
                self._write_chunk(_sse("error", error))
                break
            if sent and turn.delay and fake._stopping.wait(turn.delay):
                raise _Abort
            self._write_chunk(_sse(name, data))
            sent += 1
        self._write_chunk(b"")  # the terminating zero-length chunk


def _sse(name: str, data: dict[str, Any]) -> bytes:
    return f"event: {name}\ndata: {json.dumps(data)}\n\n".encode()


def _chunks(text: str, size: int) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)]


def _events(turn: Turn, text: str, usage: dict[str, int], message_id: str, model: str):
    """The SSE events of one streamed reply, as (event name, data) pairs."""
    start_usage = {
        "input_tokens": usage["input_tokens"],
        "output_tokens": 1,
        "cache_creation_input_tokens": usage["cache_creation_input_tokens"],
        "cache_read_input_tokens": usage["cache_read_input_tokens"],
    }
    message = {
        "id": message_id,
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": [],
        "stop_reason": None,
        "stop_sequence": None,
        "usage": start_usage,
    }
    yield "message_start", {"type": "message_start", "message": message}
    index = 0
    blocks: list[tuple[dict[str, Any], list[dict[str, Any]]]] = []
    if turn.compaction is not None:
        # As the compaction beta streams it: an empty block, then the whole summary in one delta.
        summary = {"type": "compaction_delta", "content": turn.compaction, "encrypted_content": None}
        blocks.append(({"type": "compaction", "content": None}, [summary]))
    if turn.thinking is not None:
        deltas = [{"type": "thinking_delta", "thinking": c} for c in _chunks(turn.thinking, turn.chunk_chars)]
        deltas.append({"type": "signature_delta", "signature": FAKE_SIGNATURE})
        blocks.append(({"type": "thinking", "thinking": "", "signature": ""}, deltas))
    blocks.append(
        ({"type": "text", "text": ""}, [{"type": "text_delta", "text": c} for c in _chunks(text, turn.chunk_chars)])
    )
    for index, (start, deltas) in enumerate(blocks):
        yield "content_block_start", {"type": "content_block_start", "index": index, "content_block": start}
        if index == 0:
            yield "ping", {"type": "ping"}
        for delta in deltas:
            yield "content_block_delta", {"type": "content_block_delta", "index": index, "delta": delta}
        yield "content_block_stop", {"type": "content_block_stop", "index": index}
    yield "message_delta", {
        "type": "message_delta",
        "delta": {"stop_reason": turn.stop_reason, "stop_sequence": None},
        "usage": {"output_tokens": usage["output_tokens"]},
    }
    yield "message_stop", {"type": "message_stop"}


class FakeAPI:
    """A threaded fake Messages API on ``127.0.0.1`` (a free port).

    ``start()``/``stop()`` or use as a context manager.  ``requests`` lists every
    :class:`RecordedRequest`; ``rejected`` counts requests refused by validation.
    """

    def __init__(self, *, strict: bool = True) -> None:
        self.strict = strict
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
    def pending(self) -> int:
        """Scripted turns not yet consumed."""
        with self._lock:
            return len(self._turns)

    # -- used by the handler

    def _next_turn(self) -> Turn:
        with self._lock:
            return self._turns.popleft() if self._turns else Turn()

    def _next_id(self, prefix: str) -> str:
        with self._lock:
            self._ids[prefix] += 1
            return f"{prefix}_fake_{self._ids[prefix]}"

    def _record(self, request: RecordedRequest) -> None:
        with self._lock:
            self.requests.append(request)

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
