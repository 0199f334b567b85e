"""Record/replay through the real SDK: a fake API records, the fixture replays into the SDK's parser."""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import anthropic
import httpx2
import pytest

from claude_magic.fixture import Exchange, Fixture
from claude_magic.transport import REPLAYED_HEADER, RecordReplayTransport, ReplayMiss

KEY = "sk-ant-test-SECRETSECRET"
MODEL = "claude-sonnet-4-6"
QUESTION = [{"role": "user", "content": "What is the capital of France?"}]


# ------------------------------------------------------------------------------------ a fake API


def sse(events: list[tuple[str, dict[str, Any]]]) -> bytes:
    return b"".join(f"event: {name}\ndata: {json.dumps(data)}\n\n".encode() for name, data in events)


def reply_events(text: str = "The capital of France is Paris.", *, stop: bool = True) -> list[tuple[str, dict]]:
    """A Messages API stream as the API sends it: thinking with a signature, then text in chunks."""
    message = {
        "id": "msg_01AbCdEf",
        "type": "message",
        "role": "assistant",
        "model": MODEL,
        "content": [],
        "stop_reason": None,
        "stop_sequence": None,
        "usage": {"input_tokens": 25, "output_tokens": 1, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0},
    }
    events = [
        ("message_start", {"type": "message_start", "message": message}),
        ("ping", {"type": "ping"}),
        ("content_block_start", {"type": "content_block_start", "index": 0,
                                 "content_block": {"type": "thinking", "thinking": "", "signature": ""}}),
        ("content_block_delta", {"type": "content_block_delta", "index": 0,
                                 "delta": {"type": "thinking_delta", "thinking": "The user asks "}}),
        ("content_block_delta", {"type": "content_block_delta", "index": 0,
                                 "delta": {"type": "thinking_delta", "thinking": "about geography."}}),
        ("content_block_delta", {"type": "content_block_delta", "index": 0,
                                 "delta": {"type": "signature_delta", "signature": "EqQBCkYIBRgCKkB=="}}),
        ("content_block_stop", {"type": "content_block_stop", "index": 0}),
        ("content_block_start", {"type": "content_block_start", "index": 1,
                                 "content_block": {"type": "text", "text": ""}}),
    ]
    for start in range(0, len(text), 8):
        events.append(("content_block_delta", {"type": "content_block_delta", "index": 1,
                                               "delta": {"type": "text_delta", "text": text[start : start + 8]}}))
    if not stop:  # the connection dropped here
        return events
    return events + [
        ("content_block_stop", {"type": "content_block_stop", "index": 1}),
        ("message_delta", {"type": "message_delta", "delta": {"stop_reason": "end_turn", "stop_sequence": None},
                           "usage": {"output_tokens": 42}}),
        ("message_stop", {"type": "message_stop"}),
    ]


class Chunked(httpx2.SyncByteStream):
    """A body that arrives in small pieces, cut anywhere, like a real connection's reads."""

    def __init__(self, body: bytes, size: int = 7) -> None:
        self.body, self.size = body, size
        self.exhausted = False

    def __iter__(self) -> Iterator[bytes]:
        for start in range(0, len(self.body), self.size):
            yield self.body[start : start + self.size]
        self.exhausted = True


class Live(httpx2.BaseTransport):
    """The API: answers every request with `respond`, and keeps what it was sent."""

    def __init__(self, respond: Callable[[httpx2.Request], httpx2.Response]) -> None:
        self.respond = respond
        self.requests: list[httpx2.Request] = []

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        request.read()
        self.requests.append(request)
        return self.respond(request)


def streaming(body: bytes) -> Callable[[httpx2.Request], httpx2.Response]:
    volatile = {"request-id": "req_011CVolatile", "anthropic-ratelimit-tokens-remaining": "39000", "date": "today"}
    return lambda request: httpx2.Response(
        200, headers={"content-type": "text/event-stream; charset=utf-8", **volatile}, stream=Chunked(body)
    )


def unreachable() -> Live:
    return Live(lambda request: pytest.fail("the live API was called"))


class Counting(RecordReplayTransport):
    attempts = 0

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        self.attempts += 1
        return super().handle_request(request)


def client_for(transport: httpx2.BaseTransport, max_retries: int = 0) -> anthropic.Anthropic:
    return anthropic.Anthropic(
        api_key=KEY,
        base_url="http://127.0.0.1:9",
        max_retries=max_retries,
        http_client=httpx2.Client(transport=transport),
    )


def ask(client: anthropic.Anthropic, messages: list[dict] = QUESTION, **params: Any) -> anthropic.types.Message:
    with client.messages.stream(model=MODEL, max_tokens=1024, messages=messages, **params) as stream:
        return stream.get_final_message()


def record(path: Path, live: Live, messages: list[dict] = QUESTION, **params: Any) -> anthropic.types.Message:
    return ask(client_for(RecordReplayTransport(Fixture.load(path), "record", live)), messages, **params)


def replay(path: Path, mode: str = "replay", live: Live | None = None, **client: Any) -> anthropic.Anthropic:
    return client_for(RecordReplayTransport(Fixture.load(path), mode, live), **client)  # type: ignore[arg-type]


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "quickstart.json"


# ------------------------------------------------------------------------------- record and replay


def test_a_recorded_stream_replays_into_the_same_message_without_the_network(path: Path) -> None:
    recorded = record(path, Live(streaming(sse(reply_events()))))
    live = unreachable()

    replayed = ask(replay(path, live=live))

    assert replayed.model_dump() == recorded.model_dump()
    assert [block.type for block in replayed.content] == ["thinking", "text"]
    assert replayed.content[0].thinking == "The user asks about geography."
    assert replayed.content[0].signature == "EqQBCkYIBRgCKkB=="
    assert replayed.content[1].text == "The capital of France is Paris."
    assert (replayed.usage.input_tokens, replayed.usage.output_tokens) == (25, 42)
    assert replayed.stop_reason == "end_turn"
    assert live.requests == []


def test_the_file_holds_readable_events_and_no_pings(path: Path) -> None:
    record(path, Live(streaming(sse(reply_events()))))

    document = json.loads(path.read_text(encoding="utf-8"))
    (exchange,) = document["exchanges"]
    assert (document["format"], document["version"]) == ("claude_magic-fixture", 1)
    assert exchange["request"]["method"] == "POST"
    assert exchange["request"]["path"] == "/v1/messages"
    assert exchange["request"]["body"]["messages"] == QUESTION
    response = exchange["response"]
    assert response["status"] == 200
    assert response["content_type"] == "text/event-stream"
    names = [event["event"] for event in response["events"]]
    assert "ping" not in names
    assert names[0] == "message_start" and names[-1] == "message_stop"
    assert response["events"][0]["data"]["message"]["usage"]["input_tokens"] == 25


def test_recording_passes_bytes_on_as_they_arrive_and_writes_when_the_stream_ends(path: Path) -> None:
    body = Chunked(sse(reply_events()))
    live = Live(lambda request: httpx2.Response(200, headers={"content-type": "text/event-stream"}, stream=body))
    client = client_for(RecordReplayTransport(Fixture.load(path), "record", live))

    with client.messages.stream(model=MODEL, max_tokens=1024, messages=QUESTION) as stream:
        first = next(iter(stream))
        assert first.type == "message_start"
        assert not body.exhausted and not path.exists()
        stream.get_final_message()

    assert body.exhausted and len(Fixture.load(path)) == 1


class ChunkedSSE(BaseHTTPRequestHandler):
    """A real HTTP/1.1 server sending the stream in chunked encoding, 50 bytes at a time."""

    protocol_version = "HTTP/1.1"
    body = sse(reply_events())

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["content-length"]))
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.send_header("transfer-encoding", "chunked")
        self.end_headers()
        for start in range(0, len(self.body), 50):
            chunk = self.body[start : start + 50]
            self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        self.wfile.write(b"0\r\n\r\n")

    def log_message(self, *args: Any) -> None:
        pass


def test_recording_through_a_real_http_transport(path: Path) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), ChunkedSSE)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        transport = RecordReplayTransport(Fixture.load(path), "record", httpx2.HTTPTransport())
        client = anthropic.Anthropic(
            api_key=KEY, base_url=f"http://127.0.0.1:{server.server_port}", max_retries=0,
            http_client=httpx2.Client(transport=transport),
        )
        answers = [ask(client).content[1].text for _ in range(2)]
    finally:
        server.shutdown()
        server.server_close()

    assert answers == ["The capital of France is Paris."] * 2
    assert ask(replay(path)).content[1].text == "The capital of France is Paris."


def test_a_stream_abandoned_midway_is_not_recorded(path: Path) -> None:
    client = client_for(RecordReplayTransport(Fixture.load(path), "record", Live(streaming(sse(reply_events())))))

    with client.messages.stream(model=MODEL, max_tokens=1024, messages=QUESTION) as stream:
        next(iter(stream))

    assert not path.exists()


def test_a_truncated_recording_replays_truncated(path: Path) -> None:
    record(path, Live(streaming(sse(reply_events("The capital of France", stop=False)))))

    events = json.loads(path.read_text(encoding="utf-8"))["exchanges"][0]["response"]["events"]
    assert events[-1]["event"] == "content_block_delta"

    replayed = ask(replay(path))
    assert replayed.content[1].text == "The capital of France"
    assert replayed.stop_reason is None


def test_an_error_event_mid_stream_is_recorded_and_replayed(path: Path) -> None:
    overloaded = {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}
    body = sse([*reply_events()[:3], ("error", overloaded)])

    with pytest.raises(anthropic.APIStatusError, match="overloaded_error"):
        record(path, Live(streaming(body)))
    assert json.loads(path.read_text(encoding="utf-8"))["exchanges"][0]["response"]["events"][-1] == {
        "event": "error",
        "data": overloaded,
    }

    with pytest.raises(anthropic.APIStatusError, match="overloaded_error"):
        ask(replay(path, live=unreachable()))


def test_re_recording_a_request_replaces_it_in_place(path: Path) -> None:
    other = [{"role": "user", "content": "And of Spain?"}]
    record(path, Live(streaming(sse(reply_events("Paris.")))))
    record(path, Live(streaming(sse(reply_events("Madrid.")))), other)
    record(path, Live(streaming(sse(reply_events("Paris, France.")))))

    fixture = Fixture.load(path)
    assert len(fixture) == 2
    assert ask(replay(path)).content[1].text == "Paris, France."
    assert ask(replay(path), other).content[1].text == "Madrid."
    bodies = [e["request"]["body"]["messages"] for e in json.loads(path.read_text("utf-8"))["exchanges"]]
    assert bodies == [QUESTION, other]


def questions_in(path: Path) -> list[str]:
    return [e["request"]["body"]["messages"][-1]["content"] for e in json.loads(path.read_text("utf-8"))["exchanges"]]


def test_update_replays_what_is_recorded_and_records_only_what_is_new(path: Path) -> None:
    first, second, third = ([{"role": "user", "content": q}] for q in ("One?", "Two?", "Three?"))
    for messages in (first, second, third):
        record(path, Live(streaming(sse(reply_events(f"About {messages[0]['content']}")))), messages)
    before = path.read_text("utf-8")
    live = Live(streaming(sse(reply_events("About the edited two."))))
    client = replay(path, "update", live)

    assert ask(client, first).content[1].text == "About One?"  # held: from the fixture, not asked
    edited = [{"role": "user", "content": "Two, edited?"}]
    assert ask(client, edited).content[1].text == "About the edited two."
    assert ask(client, third).content[1].text == "About Three?"

    assert len(live.requests) == 1
    # The new recording sits after the one the run used before it, next to the one it replaces.
    assert questions_in(path) == ["One?", "Two, edited?", "Two?", "Three?"]
    now = json.loads(path.read_text("utf-8"))["exchanges"]
    assert [e for e in json.loads(before)["exchanges"] if e not in now] == []  # the others, unchanged


def test_a_new_recording_with_nothing_used_before_it_goes_at_the_end(path: Path) -> None:
    record(path, Live(streaming(sse(reply_events()))))
    client = replay(path, "update", Live(streaming(sse(reply_events("Madrid.")))))
    ask(client, [{"role": "user", "content": "And of Spain?"}])
    assert questions_in(path) == ["What is the capital of France?", "And of Spain?"]


# ------------------------------------------------------------------------------------------ misses


CONVERSATION = [
    {"role": "user", "content": [{"type": "text", "text": "Hello"}]},
    {"role": "assistant", "content": [{"type": "text", "text": "Hi! How can I help?"}]},
    {"role": "user", "content": [{"type": "text", "text": "What is the capital of France?"}]},
]


def changed_question(text: str) -> list[dict]:
    return [*CONVERSATION[:2], {"role": "user", "content": [{"type": "text", "text": text}]}]


def test_a_strict_miss_fails_at_once_naming_what_differs(path: Path) -> None:
    record(path, Live(streaming(sse(reply_events()))), CONVERSATION)
    live = unreachable()
    transport = Counting(Fixture.load(path), "replay", live)

    with pytest.raises(ReplayMiss) as caught:
        ask(client_for(transport, max_retries=2), changed_question("What is the capital of Spain?"))

    assert isinstance(caught.value, anthropic.AnthropicError)
    assert transport.attempts == 1 and live.requests == []
    assert caught.value.difference == (
        "messages[2].content[0].text: recorded 'What is the capital of France?' but sent 'What is the capital of Spain?'"
    )
    message = str(caught.value)
    assert message == (
        "no recorded response for this request in quickstart.json (1 recording); nearest differs at "
        + caught.value.difference
    )
    assert "\n" not in message


def test_auto_mode_passes_a_miss_to_the_api_and_records_nothing(path: Path) -> None:
    record(path, Live(streaming(sse(reply_events()))))
    before = path.read_bytes()
    live = Live(streaming(sse(reply_events("Madrid."))))
    client = replay(path, "auto", live)

    assert ask(client).content[1].text == "The capital of France is Paris."
    assert live.requests == []
    assert ask(client, [{"role": "user", "content": "And of Spain?"}]).content[1].text == "Madrid."

    assert len(live.requests) == 1
    assert live.requests[0].headers["authorization"] == f"Bearer {KEY}"  # passed on unchanged
    assert path.read_bytes() == before


def test_auto_mode_without_a_key_says_so(path: Path) -> None:
    record(path, Live(streaming(sse(reply_events()))))

    with pytest.raises(ReplayMiss, match="no ANTHROPIC_API_KEY is set") as caught:
        ask(replay(path, "auto"), [{"role": "user", "content": "And of Spain?"}])
    assert caught.value.difference.startswith("messages[0].content: recorded 'What is the capital of France?'")


def test_a_miss_on_an_empty_fixture_has_no_difference(path: Path) -> None:
    with pytest.raises(ReplayMiss) as caught:
        ask(replay(path))
    assert caught.value.difference == ""
    assert str(caught.value) == "no recorded response for this request in quickstart.json (0 recordings)"


def exchange(messages: list[dict], **params: Any) -> Exchange:
    body = {"model": MODEL, "max_tokens": 1024, "messages": messages, **params}
    return Exchange("POST", "/v1/messages", body, json_body={"type": "message"})


@pytest.mark.parametrize(
    ("sent", "difference"),
    [
        (
            [*CONVERSATION, {"role": "assistant", "content": "Paris."}],
            'messages[3]: recorded nothing but sent {"content":"Paris.","role":"assistant"}',
        ),
        (CONVERSATION[:2], 'messages[2]: recorded {"content":[{"text":"What is the capital… but sent nothing'),
        (
            changed_question("What is the capital of France?\nAnd of Spain?"),
            "messages[2].content[0].text: recorded 'What is the capital of France?' "
            "but sent '…of France?\\nAnd of Spain?'",
        ),
        (  # a long value is shown around the place where the two part
            changed_question("What is the capital of France? Answer in one word, then give its population."),
            "messages[2].content[0].text: recorded 'What is the capital of France?' "
            "but sent '…of France? Answer in one word, then give…'",
        ),
    ],
)
def test_the_nearest_recording_and_its_first_difference(sent: list[dict], difference: str) -> None:
    fixture = Fixture("f.json", [exchange([QUESTION[0]]), exchange(CONVERSATION), exchange(CONVERSATION[:1])])
    body = {"model": MODEL, "max_tokens": 1024, "messages": sent}

    assert fixture.find("POST", "/v1/messages", body) is None
    assert fixture.nearest_difference("POST", "/v1/messages", body) == difference


def test_a_difference_outside_the_messages() -> None:
    fixture = Fixture("f.json", [exchange(QUESTION)])
    body = {"model": "claude-opus-4-6", "max_tokens": 1024, "messages": QUESTION}

    assert fixture.nearest_difference("POST", "/v1/messages", body) == (
        "model: recorded 'claude-sonnet-4-6' but sent 'claude-opus-4-6'"
    )
    assert fixture.nearest_difference("POST", "/v1/messages/count_tokens", body) == (
        "path: recorded /v1/messages but sent /v1/messages/count_tokens"
    )


def follow_up(*questions: str) -> list[dict]:
    """A conversation of `questions`, each answered "A: <question>", ending with the last one asked."""
    messages: list[dict] = []
    for question in questions:
        messages += [{"role": "user", "content": [{"type": "text", "text": question}]},
                     {"role": "assistant", "content": [{"type": "text", "text": f"A: {question}"}]}]
    return messages[:-1]


def test_a_follow_up_missing_only_its_earlier_turn_names_that_turn() -> None:
    fixture = Fixture("f.json", [exchange(follow_up("Hello")), exchange(follow_up("Hello", "Define a median.", "And a mean?"))])
    asked = {"model": MODEL, "max_tokens": 1024, "messages": follow_up("Hello", "And a mean?")}

    assert fixture.find("POST", "/v1/messages", asked) is None
    assert fixture.missing_turn("POST", "/v1/messages", asked) == "Define a median."


@pytest.mark.parametrize(
    "sent",
    [
        follow_up("Hello", "Something else?"),  # a question nobody recorded
        follow_up("Hi there", "Define a median.", "And a mean?"),  # the same question after a different history
        follow_up("Hello", "Define a median.", "And a mean?"),  # recorded: nothing is missing
    ],
)
def test_no_missing_turn_unless_the_history_is_a_shorter_prefix(sent: list[dict]) -> None:
    fixture = Fixture("f.json", [exchange(follow_up("Hello", "Define a median.", "And a mean?"))])
    assert fixture.missing_turn("POST", "/v1/messages", {"model": MODEL, "max_tokens": 1024, "messages": sent}) == ""


def test_a_miss_carries_what_its_message_is_made_of(path: Path) -> None:
    record(path, Live(streaming(sse(reply_events()))), follow_up("Hello", "What is the capital of France?"))

    with pytest.raises(ReplayMiss) as caught:
        ask(replay(path, "auto"), follow_up("What is the capital of France?"))
    miss = caught.value
    assert (miss.fixture, miss.mode, miss.missing_turn) == ("quickstart.json", "auto", "Hello")
    assert str(miss) == f"{miss.summary}; nearest differs at {miss.difference}"


# ----------------------------------------------------------------------------- JSON and errors


def test_a_json_response_replays_gzip_undone(path: Path) -> None:
    body = gzip.compress(json.dumps({"input_tokens": 1234}).encode())
    live = Live(lambda request: httpx2.Response(
        200, headers={"content-type": "application/json", "content-encoding": "gzip"}, stream=Chunked(body)
    ))
    recording = client_for(RecordReplayTransport(Fixture.load(path), "record", live))
    assert recording.messages.count_tokens(model=MODEL, messages=QUESTION).input_tokens == 1234

    (saved,) = json.loads(path.read_text(encoding="utf-8"))["exchanges"]
    assert saved["request"]["path"] == "/v1/messages/count_tokens"
    assert saved["response"] == {"status": 200, "content_type": "application/json", "json": {"input_tokens": 1234}}
    assert replay(path).messages.count_tokens(model=MODEL, messages=QUESTION).input_tokens == 1234


def test_an_overloaded_response_replays_as_the_sdk_error_with_its_retry_after(path: Path) -> None:
    error = {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}
    live = httpx2.MockTransport(  # a body already read, as MockTransport hands it back
        lambda request: httpx2.Response(529, headers={"retry-after": "7", "request-id": "req_011C"}, json=error)
    )
    with pytest.raises(anthropic.InternalServerError):
        ask(client_for(RecordReplayTransport(Fixture.load(path), "record", live)))

    (saved,) = json.loads(path.read_text(encoding="utf-8"))["exchanges"]
    assert saved["response"] == {"status": 529, "content_type": "application/json", "json": error, "retry_after": "7"}

    with pytest.raises(anthropic.APIStatusError) as caught:
        ask(replay(path))
    assert isinstance(caught.value, anthropic.InternalServerError)
    assert caught.value.status_code == 529
    assert caught.value.body == error
    assert caught.value.response.headers["retry-after"] == "7"
    assert "request-id" not in caught.value.response.headers


# ------------------------------------------------------------------------------------ the file


def image_question(data: bytes) -> list[dict]:
    source = {"type": "base64", "media_type": "image/png", "data": base64.b64encode(data).decode()}
    return [{"role": "user", "content": [{"type": "image", "source": source}, {"type": "text", "text": "What is it?"}]}]


def test_image_data_is_stored_as_a_digest_and_still_matches(path: Path) -> None:
    png = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 40
    encoded = base64.b64encode(png).decode()
    record(path, Live(streaming(sse(reply_events("A gradient.")))), image_question(png))

    text = path.read_text(encoding="utf-8")
    assert encoded not in text
    assert f"sha256:{hashlib.sha256(encoded.encode()).hexdigest()}" in text
    assert ask(replay(path), image_question(png)).content[1].text == "A gradient."
    with pytest.raises(ReplayMiss, match=r"messages\[0\]\.content\[0\]\.source\.data: recorded 'sha256:"):
        ask(replay(path), image_question(png + b"!"))


def test_recording_the_same_exchanges_twice_gives_the_same_bytes(tmp_path: Path) -> None:
    first, second = tmp_path / "first.json", tmp_path / "second.json"
    for target in (first, second):
        record(target, Live(streaming(sse(reply_events()))))
        record(target, Live(streaming(sse(reply_events("Madrid.")))), [{"role": "user", "content": "And Spain?"}])
        record(target, Live(streaming(sse(reply_events()))))

    text = first.read_text(encoding="utf-8")
    assert first.read_bytes() == second.read_bytes()
    assert text == json.dumps(json.loads(text), indent=1, sort_keys=True, ensure_ascii=False) + "\n"
    assert not list(tmp_path.glob(".*.tmp"))


def test_the_file_holds_no_key_and_no_auth_header(path: Path) -> None:
    pasted = [{"role": "user", "content": "Why does sk-ant-api03-AbCdEfGhIjKlMnOp_qr-st fail?"}]
    live = Live(streaming(sse(reply_events())))
    record(path, live, pasted)

    assert live.requests[0].headers["authorization"] == f"Bearer {KEY}"  # the key was sent, so leaving it out is real
    text = path.read_text(encoding="utf-8")
    assert "SECRETSECRET" not in text and "AbCdEfGh" not in text
    assert "authorization" not in text.lower() and "x-api-key" not in text.lower()
    assert "req_011CVolatile" not in text and "ratelimit" not in text
    assert "sk-ant-…redacted" in text


@pytest.mark.parametrize(
    "content",
    [
        "{not json",
        '{"format": "something-else", "version": 1, "exchanges": []}',
        '{"format": "claude_magic-fixture", "version": 2, "exchanges": []}',
        '{"format": "claude_magic-fixture", "version": 1, "exchanges": [{"request": {}}]}',
        '{"format": "claude_magic-fixture", "version": 1, "exchanges": [{"request": '
        '{"method": "POST", "path": "/v1/messages"}, "response": {"status": 200, '
        '"content_type": "text/event-stream", "events": [{"data": {}}]}}]}',
    ],
)
def test_a_malformed_file_is_a_one_line_value_error_naming_it(path: Path, content: str) -> None:
    path.write_text(content, encoding="utf-8")

    with pytest.raises(ValueError, match="quickstart.json is not a readable claude_magic fixture") as caught:
        Fixture.load(path)
    assert "\n" not in str(caught.value)


def test_a_missing_file_is_an_empty_fixture(path: Path) -> None:
    fixture = Fixture.load(path)
    assert len(fixture) == 0 and fixture.path == path and not path.exists()


@pytest.mark.parametrize("mode", ["record", "update", "off"])
def test_modes_that_go_live_need_a_live_transport(path: Path, mode: str) -> None:
    with pytest.raises(ValueError, match=mode):
        RecordReplayTransport(Fixture.load(path), mode)  # type: ignore[arg-type]


def test_an_unknown_mode_is_refused(path: Path) -> None:
    with pytest.raises(ValueError, match="strict"):
        RecordReplayTransport(Fixture.load(path), "strict", unreachable())  # type: ignore[arg-type]


def test_off_goes_straight_to_the_api(path: Path) -> None:
    record(path, Live(streaming(sse(reply_events()))))
    live = Live(streaming(sse(reply_events("Live answer."))))

    assert ask(replay(path, "off", live)).content[1].text == "Live answer."
    assert len(live.requests) == 1


# ------------------------------------------------------------------------- issue 11: hardening


def exchange_for(text: str) -> Exchange:
    body = {"model": MODEL, "max_tokens": 64, "messages": [{"role": "user", "content": text}], "stream": True}
    events = [{"event": name, "data": data} for name, data in reply_events(f"Answer to {text}")]
    return Exchange("POST", "/v1/messages", body, content_type="text/event-stream", events=events)


def record_many(path: str, prefix: str, count: int, start: Any) -> None:
    """One kernel recording `count` exchanges into `path`, each saved as the transport saves it."""
    start.wait()
    fixture = Fixture.load(path)
    for i in range(count):
        fixture.put(exchange_for(f"{prefix} question {i}"))
        fixture.save()


@pytest.mark.parametrize("lock", ["flock", "lock file"])
def test_two_kernels_recording_into_one_fixture_keep_every_exchange(path: Path, lock: str, monkeypatch) -> None:
    import multiprocessing

    import claude_magic.save_lock

    if lock == "lock file":  # as on Windows, which has no fcntl; the forked kernels inherit it
        monkeypatch.setattr(claude_magic.save_lock, "fcntl", None)

    context = multiprocessing.get_context("fork")
    start = context.Barrier(2)
    kernels = [context.Process(target=record_many, args=(str(path), name, 25, start)) for name in ("one", "two")]
    for kernel in kernels:
        kernel.start()
    for kernel in kernels:
        kernel.join(60)
        assert kernel.exitcode == 0
    recorded = Fixture.load(path)
    assert len(recorded) == 50
    assert sorted(item.name for item in path.parent.iterdir()) == [path.name]  # no lock file left behind
    for name in ("one", "two"):
        for i in range(25):
            assert recorded.find("POST", "/v1/messages", exchange_for(f"{name} question {i}").body) is not None


def test_saving_keeps_what_another_kernel_wrote_since_this_one_read(path: Path) -> None:
    first, second = Fixture.load(path), Fixture.load(path)
    first.put(exchange_for("from the first"))
    first.save()
    second.put(exchange_for("from the second"))
    second.save()
    assert len(Fixture.load(path)) == 2 and len(second) == 2  # the second now replays the first's too
    path.write_text("{ not json")
    first.put(exchange_for("once more"))
    with pytest.raises(ValueError, match="not a readable claude_magic fixture"):
        first.save()  # a file that cannot be read is not overwritten
    assert path.read_text() == "{ not json"


def test_a_key_in_a_request_is_matched_as_it_was_scrubbed(path: Path) -> None:
    pasted = [{"role": "user", "content": f"Why does api_key={KEY}1234 fail?"}]
    record(path, Live(streaming(sse(reply_events()))), pasted)
    assert KEY not in path.read_text()
    assert ask(replay(path), pasted).content[1].text == "The capital of France is Paris."
    other = [{"role": "user", "content": f"Is {KEY}9999 still good?"}]
    with pytest.raises(ReplayMiss) as miss:
        ask(replay(path), other)
    assert KEY not in str(miss.value) and "sk-ant-…redacted" in str(miss.value)


@pytest.mark.parametrize(
    "edit, problem",
    [
        (lambda events: events[0].update(data="oops"), "event 0 (message_start) holds no JSON object"),
        (lambda events: events.pop(0), "event 0 (content_block_start) comes before message_start"),
        (lambda events: events[3]["data"].update(index=5), "event 3 (content_block_delta) names block 5, but 1 block started"),
        (lambda events: events[1]["data"].update(index=1), "event 1 (content_block_start) should start block 0"),
        (lambda events: events[-2]["data"].pop("usage"), "(message_delta) holds no usage"),
        (lambda events: events[-1]["data"].update(type="message_stopp"), "has the type 'message_stopp'"),
        (lambda events: events.insert(1, dict(events[0])), "event 1 (message_start) repeats message_start"),
        (lambda events: events[0]["data"]["message"].pop("usage"), "holds no message with content and usage"),
    ],
)
def test_a_recording_the_sdk_cannot_read_fails_on_replay_naming_the_exchange(path: Path, edit: Any, problem: str) -> None:
    from claude_magic.transport import BadRecording

    record(path, Live(streaming(sse(reply_events()))), [{"role": "user", "content": "first"}])
    record(path, Live(streaming(sse(reply_events()))))
    document = json.loads(path.read_text(encoding="utf-8"))
    edit(document["exchanges"][1]["response"]["events"])
    path.write_text(json.dumps(document), encoding="utf-8")
    transport = Counting(Fixture.load(path), "replay")
    with pytest.raises(BadRecording) as bad:
        ask(client_for(transport, max_retries=2))
    assert str(bad.value).startswith("exchange 1 of quickstart.json cannot be replayed: its ")
    assert problem in str(bad.value) and transport.attempts == 1  # not retried
    assert ask(replay(path), [{"role": "user", "content": "first"}]).stop_reason == "end_turn"  # the rest replays
# ------------------------------------------------------------------- the same request, sent again


def batch_json(status: str, batch_id: str = "msgbatch_01") -> dict[str, Any]:
    ended = status == "ended"
    return {
        "id": batch_id, "type": "message_batch", "processing_status": status,
        "request_counts": {"processing": 0 if ended else 2, "succeeded": 2 if ended else 0, "errored": 0, "canceled": 0, "expired": 0},
        "created_at": "2026-12-01T12:00:00Z", "expires_at": "2026-12-02T12:00:00Z",
        "ended_at": "2026-12-01T12:05:00Z" if ended else None, "cancel_initiated_at": None, "archived_at": None,
        "results_url": f"https://api.example/v1/messages/batches/{batch_id}/results" if ended else None,
    }


def polled(statuses: list[str], results: bytes = b"", content_type: str = "application/x-jsonl") -> Live:
    """A batch that reports `statuses` to successive retrieves (the last one from then on)."""
    seen = iter(statuses)
    last: list[str] = []

    def respond(request: httpx2.Request) -> httpx2.Response:
        if request.url.path.endswith("/results"):
            return httpx2.Response(200, headers={"content-type": content_type}, stream=Chunked(results))
        last[:] = [next(seen, last[0] if last else statuses[-1])]
        return httpx2.Response(200, json=batch_json(last[0]))

    return Live(respond)


def test_a_request_sent_again_replays_its_recordings_in_order(path: Path) -> None:
    recording = client_for(RecordReplayTransport(Fixture.load(path), "record", polled(["in_progress", "in_progress", "ended"])))
    assert [recording.messages.batches.retrieve("msgbatch_01").processing_status for _ in range(3)] == [
        "in_progress", "in_progress", "ended"]
    assert len(Fixture.load(path)) == 3

    client = replay(path)
    statuses = [client.messages.batches.retrieve("msgbatch_01").processing_status for _ in range(4)]
    assert statuses == ["in_progress", "in_progress", "ended", "ended"]  # past the last recording: the last
    raw = client.messages.batches.with_raw_response.retrieve("msgbatch_01")
    assert raw.headers[REPLAYED_HEADER] == "1"
    # a fresh session starts from the first recording again, as a re-run notebook does
    assert replay(path).messages.batches.retrieve("msgbatch_01").processing_status == "in_progress"


def test_recording_a_sequence_again_starts_it_afresh(path: Path) -> None:
    for statuses in (["in_progress", "in_progress", "ended"], ["ended"]):
        recording = client_for(RecordReplayTransport(Fixture.load(path), "record", polled(statuses)))
        recording.messages.batches.retrieve("msgbatch_01")
    assert len(Fixture.load(path)) == 1
    assert replay(path).messages.batches.retrieve("msgbatch_01").processing_status == "ended"


def test_a_status_the_sdk_retries_keeps_no_place_of_its_own(path: Path) -> None:
    answers = iter([
        httpx2.Response(429, headers={"retry-after-ms": "10"}, json={"type": "error", "error": {"type": "rate_limit_error", "message": "slow"}}),
        httpx2.Response(200, json=batch_json("ended")),
    ])
    recording = client_for(RecordReplayTransport(Fixture.load(path), "record", Live(lambda request: next(answers))), max_retries=1)
    assert recording.messages.batches.retrieve("msgbatch_01").processing_status == "ended"
    (saved,) = json.loads(path.read_text(encoding="utf-8"))["exchanges"]
    assert saved["response"]["status"] == 200  # replayed, the retry's back-off is not waited out again
    assert replay(path).messages.batches.retrieve("msgbatch_01").processing_status == "ended"


@pytest.mark.parametrize("content_type", ["application/x-jsonl", "application/binary", "application/octet-stream"])
def test_json_lines_results_are_kept_line_by_line_and_replay(path: Path, content_type: str) -> None:
    lines = [{"custom_id": f"p{i}", "result": {"type": "expired"}} for i in (2, 0, 1)]
    body = b"".join(json.dumps(line).encode() + b"\n" for line in lines)
    recording = client_for(RecordReplayTransport(Fixture.load(path), "record", polled(["ended"], body, content_type)))
    assert [item.custom_id for item in recording.messages.batches.results("msgbatch_01")] == ["p2", "p0", "p1"]

    saved = json.loads(path.read_text(encoding="utf-8"))["exchanges"]
    results = next(e["response"] for e in saved if e["request"]["path"].endswith("/results"))
    assert results == {"status": 200, "content_type": content_type, "jsonl": lines}
    assert [item.custom_id for item in replay(path).messages.batches.results("msgbatch_01")] == ["p2", "p0", "p1"]


def test_requests_recorded_from_several_threads_are_all_kept(path: Path) -> None:
    live = Live(lambda request: httpx2.Response(200, json={"input_tokens": len(request.content)}))
    client = client_for(RecordReplayTransport(Fixture.load(path), "record", live))
    questions = [[{"role": "user", "content": f"question {i}"}] for i in range(16)]
    threads = [threading.Thread(target=client.messages.count_tokens, kwargs={"model": MODEL, "messages": q}) for q in questions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(Fixture.load(path)) == 16
    counted = replay(path)
    assert all(counted.messages.count_tokens(model=MODEL, messages=q).input_tokens > 0 for q in questions)
