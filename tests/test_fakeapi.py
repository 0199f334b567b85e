"""Tests of the fake Claude API server (tests/fakeapi.py and its fake_*.py parts), driven
through the real SDK: messages, models, files, batches, tools, citations, structured outputs
and rate limits.  Shapes are checked against the SDK's own types with ``strictly`` (the client
only constructs its models, it never validates them).

Besides checking the fake, these pin down how ``anthropic`` itself reacts to the
faults the fake can inject (dropped streams, in-stream error events, error statuses,
``retry-after``, malformed frames), so the rest of the suite can rely on those behaviours.
"""

from __future__ import annotations

import base64
import concurrent.futures
import datetime
import json
import re
import threading
from typing import Literal
from urllib.parse import parse_qs

import anthropic
import httpx2
import pydantic
import pytest
from fakeapi import FAKE_SIGNATURE, IMAGE_TOKENS, FakeAPI, FakeModel, Turn, estimate_tokens
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

MODEL = "claude-fake-1"
USER = [{"role": "user", "content": "Hello there"}]


def client_for(fake: FakeAPI, **kwargs) -> anthropic.Anthropic:
    kwargs.setdefault("max_retries", 0)
    return anthropic.Anthropic(api_key="sk-ant-test", base_url=fake.base_url, **kwargs)


def messages_requests(fake: FakeAPI) -> list:
    return [r for r in fake.requests if r.path == "/v1/messages"]


# --------------------------------------------------------------------------- happy paths


def test_stream_accumulates_text_usage_and_stop_reason(fake_api):
    text = "The quick brown fox jumps over the lazy dog."
    fake_api.script(Turn(text=text, chunk_chars=5))
    client = client_for(fake_api)
    with client.messages.stream(model=MODEL, max_tokens=256, messages=USER) as stream:
        pieces = list(stream.text_stream)
        final = stream.get_final_message()
        assert stream.request_id == "req_fake_1"
        assert stream.response.headers["content-type"].startswith("text/event-stream")

    assert pieces == [text[i : i + 5] for i in range(0, len(text), 5)]
    assert final.id == "msg_fake_1"
    assert final.model == MODEL  # defaults to the request's model
    assert final.stop_reason == "end_turn"
    assert [b.type for b in final.content] == ["text"]
    assert final.content[0].text == text
    body = messages_requests(fake_api)[0].json
    assert final.usage.input_tokens == estimate_tokens(body) == len("Hello there") // 4 + 1
    assert final.usage.output_tokens == len(text) // 4 + 1
    assert final.usage.cache_creation_input_tokens == 0
    assert final.usage.cache_read_input_tokens == 0


def test_stream_scripted_usage_stop_reason_and_model(fake_api):
    usage = {
        "input_tokens": 11,
        "output_tokens": 22,
        "cache_creation_input_tokens": 33,
        "cache_read_input_tokens": 44,
    }
    fake_api.script(Turn(text="cut", usage=usage, stop_reason="max_tokens", model="claude-other"))
    with client_for(fake_api).messages.stream(model=MODEL, max_tokens=256, messages=USER) as stream:
        final = stream.get_final_message()
    assert final.stop_reason == "max_tokens"
    assert final.model == "claude-other"
    assert {k: getattr(final.usage, k) for k in usage} == usage


def test_default_reply_echoes_last_user_message_and_turns_are_fifo(fake_api):
    fake_api.script(Turn(text="first"), Turn(text="second"))
    client = client_for(fake_api)
    messages = [
        {"role": "user", "content": "one"},
        {"role": "assistant", "content": "two"},
        {"role": "user", "content": [{"type": "text", "text": "three"}, {"type": "text", "text": "four"}]},
    ]
    replies = []
    for _ in range(3):
        with client.messages.stream(model=MODEL, max_tokens=64, messages=messages) as stream:
            replies.append(stream.get_final_text())
    assert replies == ["first", "second", "Echo: three\nfour"]
    assert fake_api.pending == 0


def test_respond_answers_by_what_is_asked_once_the_script_is_spent(fake_api):
    fake_api.script(Turn(text="scripted"))
    fake_api.respond = lambda body: None if "echo" in body["messages"][0]["content"] else Turn(text=body["messages"][0]["content"].upper())
    client = client_for(fake_api)
    answers = [client.messages.create(model=MODEL, max_tokens=64, messages=[{"role": "user", "content": text}]).content[0].text
               for text in ("first", "second", "echo me")]
    assert answers == ["scripted", "SECOND", "Echo: echo me"]


def test_latency_holds_each_answer_and_counts_it_in_flight():
    with FakeAPI(latency=0.2) as fake:
        client = client_for(fake)
        with concurrent.futures.ThreadPoolExecutor(4) as pool:
            list(pool.map(lambda i: client.messages.create(model=MODEL, max_tokens=8, messages=USER), range(4)))
        assert fake.peak_concurrency == 4  # held long enough for all four to be in flight together


def test_thinking_turn_streams_thinking_block_with_signature(fake_api):
    fake_api.script(Turn(thinking="Let me work this out carefully.", text="42", chunk_chars=4))
    with client_for(fake_api).messages.stream(
        model=MODEL,
        max_tokens=2048,
        thinking={"type": "enabled", "budget_tokens": 1024},
        messages=USER,
    ) as stream:
        events = list(stream)
        final = stream.get_final_message()

    thinking_chunks = [e.thinking for e in events if e.type == "thinking"]
    assert "".join(thinking_chunks) == "Let me work this out carefully."
    assert len(thinking_chunks) == 8
    assert [e.signature for e in events if e.type == "signature"] == [FAKE_SIGNATURE]
    assert [b.type for b in final.content] == ["thinking", "text"]
    assert final.content[0].thinking == "Let me work this out carefully."
    assert final.content[0].signature == FAKE_SIGNATURE
    assert final.content[1].text == "42"


def test_non_stream_create(fake_api):
    fake_api.script(Turn(text="Plain reply", thinking="hmm", usage={"output_tokens": 7}))
    message = client_for(fake_api).messages.create(model=MODEL, max_tokens=100, messages=USER)
    assert message.id == "msg_fake_1"
    assert message.model == MODEL
    assert [b.type for b in message.content] == ["thinking", "text"]
    assert message.content[0].signature == FAKE_SIGNATURE
    assert message.content[1].text == "Plain reply"
    assert message.stop_reason == "end_turn"
    assert message.usage.output_tokens == 7
    assert message.usage.input_tokens == estimate_tokens(messages_requests(fake_api)[0].json)
    assert message._request_id == "req_fake_1"


def test_count_tokens(fake_api):
    client = client_for(fake_api)
    result = client.messages.count_tokens(
        model=MODEL,
        system="You are terse.",  # 14 chars
        messages=[
            {
                "role": "user",
                "content": [
                    {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "iVBORw0KGgo="}},
                    {"type": "text", "text": "What is this?"},  # 13 chars
                ],
            }
        ],
    )
    assert result.input_tokens == (14 + 13) // 4 + 1 + IMAGE_TOKENS
    assert fake_api.requests[-1].path == "/v1/messages/count_tokens"
    assert fake_api.pending == 0  # count_tokens consumes no turn


def test_requests_record_method_path_headers_and_body(fake_api):
    client_for(fake_api).messages.create(
        model=MODEL, max_tokens=50, system="sys", messages=USER, metadata={"user_id": "u1"}
    )
    (request,) = fake_api.requests
    assert request.method == "POST"
    assert request.path == "/v1/messages"
    # anthropic 2.x sends the key as a bearer token, not x-api-key (the fake accepts either)
    assert request.headers["authorization"] == "Bearer sk-ant-test"
    assert "anthropic-version" in request.headers
    assert request.json == {
        "model": MODEL,
        "max_tokens": 50,
        "system": "sys",
        "messages": USER,
        "metadata": {"user_id": "u1"},
    }
    assert request["json"] is request.json


def test_raw_wire_format(fake_api):
    """The exact SSE event sequence, as the real API streams it."""
    fake_api.script(Turn(text="abcdefghij", thinking="xyz", chunk_chars=8))
    body = {
        "model": MODEL,
        "max_tokens": 2000,
        "stream": True,
        "thinking": {"type": "enabled", "budget_tokens": 1024},
        "messages": USER,
    }
    with httpx2.Client() as http:
        response = http.post(f"{fake_api.base_url}/v1/messages", json=body, headers={"x-api-key": "k"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    assert response.headers["request-id"] == "req_fake_1"
    frames = [f for f in response.text.split("\n\n") if f]
    events = []
    for frame in frames:
        name_line, data_line = frame.split("\n")
        name = name_line.removeprefix("event: ")
        data = json.loads(data_line.removeprefix("data: "))
        assert data["type"] == name
        events.append((name, data))
    names = [n for n, _ in events]
    assert names == [
        "message_start",
        "content_block_start",
        "ping",
        "content_block_delta",  # thinking "xyz"
        "content_block_delta",  # signature
        "content_block_stop",
        "content_block_start",
        "content_block_delta",  # "abcdefgh"
        "content_block_delta",  # "ij"
        "content_block_stop",
        "message_delta",
        "message_stop",
    ]
    start = events[0][1]["message"]
    assert start["content"] == [] and start["stop_reason"] is None and start["stop_sequence"] is None
    assert start["usage"]["output_tokens"] == 1
    assert set(start["usage"]) == {
        "input_tokens",
        "output_tokens",
        "cache_creation_input_tokens",
        "cache_read_input_tokens",
    }
    assert events[3][1]["delta"] == {"type": "thinking_delta", "thinking": "xyz"}
    assert events[4][1]["delta"] == {"type": "signature_delta", "signature": FAKE_SIGNATURE}
    assert events[7][1]["delta"] == {"type": "text_delta", "text": "abcdefgh"}
    assert events[10][1] == {
        "type": "message_delta",
        "delta": {"stop_reason": "end_turn", "stop_sequence": None},
        "usage": {"output_tokens": (3 + 10) // 4 + 1},
    }


def test_unknown_path_is_a_real_shaped_404(fake_api):
    with httpx2.Client() as http:
        response = http.get(f"{fake_api.base_url}/v1/nope", headers={"x-api-key": "k"})
    assert response.status_code == 404
    assert response.json()["error"]["type"] == "not_found_error"


# --------------------------------------------------------------------------- faults


@pytest.mark.parametrize(
    ("status", "error_class", "error_type"),
    [
        (429, anthropic.RateLimitError, "rate_limit_error"),
        (529, anthropic.OverloadedError, "overloaded_error"),
        (500, anthropic.InternalServerError, "api_error"),
        (401, anthropic.AuthenticationError, "authentication_error"),
        (403, anthropic.PermissionDeniedError, "permission_error"),
        (404, anthropic.NotFoundError, "not_found_error"),
        (400, anthropic.BadRequestError, "invalid_request_error"),
    ],
)
@pytest.mark.parametrize("streamed", [False, True])
def test_status_faults_raise_matching_sdk_errors(fake_api, status, error_class, error_type, streamed):
    fake_api.script(Turn(status=status, retry_after=3 if status == 429 else None))
    client = client_for(fake_api)
    with pytest.raises(error_class) as info:
        if streamed:
            with client.messages.stream(model=MODEL, max_tokens=64, messages=USER) as stream:
                stream.get_final_message()
        else:
            client.messages.create(model=MODEL, max_tokens=64, messages=USER)
    err = info.value
    assert type(err) is error_class
    assert err.status_code == status
    assert err.body["type"] == "error"
    assert err.body["error"]["type"] == error_type
    assert err.request_id == "req_fake_1"
    if status == 429:
        assert err.response.headers["retry-after"] == "3"
    assert len(fake_api.requests) == 1  # max_retries=0


def test_529_maps_to_overloaded_error_a_subclass_of_internal_server_error():
    assert issubclass(anthropic.OverloadedError, anthropic.InternalServerError)


def test_retry_after_is_honoured_by_sdk_retries(fake_api, monkeypatch):
    fake_api.script(Turn(status=429, retry_after=0.01), Turn(text="after the wait"))
    client = client_for(fake_api, max_retries=1)
    waits = []
    real = client._calculate_retry_timeout

    def spy(*args, **kwargs):
        waits.append(real(*args, **kwargs))
        return waits[-1]

    monkeypatch.setattr(client, "_calculate_retry_timeout", spy)
    with client.messages.stream(model=MODEL, max_tokens=64, messages=USER) as stream:
        assert stream.get_final_text() == "after the wait"
    assert waits == [0.01]  # exactly what the header said, not the 0.375-0.5 s backoff
    assert len(messages_requests(fake_api)) == 2


def test_retry_after_zero_falls_back_to_sdk_backoff(fake_api, monkeypatch):
    """``retry-after: 0`` is not taken literally: the SDK only honours values > 0 and
    otherwise backs off 0.5 s * jitter.  The spy records that, then skips the wait."""
    fake_api.script(Turn(status=429, retry_after=0), Turn(text="ok"))
    client = client_for(fake_api, max_retries=1)
    waits = []
    real = client._calculate_retry_timeout

    def spy(*args, **kwargs):
        waits.append(real(*args, **kwargs))
        return 0.0

    monkeypatch.setattr(client, "_calculate_retry_timeout", spy)
    reply = client.messages.create(model=MODEL, max_tokens=64, messages=USER)
    assert reply.content[0].text == "ok"
    assert len(messages_requests(fake_api)) == 2
    assert fake_api.requests[0].headers.get("x-stainless-retry-count") == "0"
    assert fake_api.requests[1].headers.get("x-stainless-retry-count") == "1"
    assert len(waits) == 1 and 0.375 <= waits[0] <= 0.5


def test_dropped_stream_raises_httpx_remote_protocol_error(fake_api):
    """Observed SDK behaviour: a connection closed mid-stream is NOT ended quietly and
    NOT wrapped in an ``anthropic`` error -- iteration raises the transport's own
    ``httpx2.RemoteProtocolError`` (incomplete chunked read) after the events that did
    arrive.  There is no ``message_stop``."""
    fake_api.script(Turn(text="abcdefghijklmnopqrstuvwxyz", chunk_chars=4, drop_after=5))
    seen = []
    with pytest.raises(httpx2.RemoteProtocolError, match="incomplete chunked read") as info:
        with client_for(fake_api).messages.stream(model=MODEL, max_tokens=64, messages=USER) as stream:
            for event in stream:
                seen.append(event.type)
    assert not isinstance(info.value, anthropic.APIError)
    # 5 wire events: message_start, content_block_start, ping (skipped), 2 text deltas
    assert seen == ["message_start", "content_block_start", "content_block_delta", "text", "content_block_delta", "text"]
    assert "message_stop" not in seen


def test_dropped_stream_raw_events_also_raise(fake_api):
    fake_api.script(Turn(text="abcdefgh", chunk_chars=2, drop_after=3))
    client = client_for(fake_api)
    seen = []
    with pytest.raises(httpx2.RemoteProtocolError):
        for event in client.messages.create(model=MODEL, max_tokens=64, messages=USER, stream=True):
            seen.append(event.type)
    assert seen == ["message_start", "content_block_start"]


def test_dropped_non_streamed_request_is_a_connection_error(fake_api):
    fake_api.script(Turn(drop_after=0))
    with pytest.raises(anthropic.APIConnectionError):
        client_for(fake_api).messages.create(model=MODEL, max_tokens=64, messages=USER)


def test_error_event_raises_plain_api_status_error(fake_api):
    """Observed SDK behaviour: an in-stream ``event: error`` raises ``APIStatusError``
    itself (not ``OverloadedError``: the HTTP status was 200), with the event's JSON as
    ``body`` and ``status_code == 200``."""
    fake_api.script(Turn(text="abcdefghijklmnop", chunk_chars=4, error_event_after=4))
    seen = []
    with pytest.raises(anthropic.APIStatusError) as info:
        with client_for(fake_api).messages.stream(model=MODEL, max_tokens=64, messages=USER) as stream:
            for event in stream:
                seen.append(event.type)
    err = info.value
    assert type(err) is anthropic.APIStatusError
    assert not isinstance(err, anthropic.InternalServerError)
    assert err.status_code == 200
    assert err.body == {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}
    assert err.request_id == "req_fake_1"
    assert seen == ["message_start", "content_block_start", "content_block_delta", "text"]


def test_slow_stream_delay_between_events(fake_api):
    fake_api.script(Turn(text="ab", chunk_chars=1, delay=0.01))
    with client_for(fake_api).messages.stream(model=MODEL, max_tokens=64, messages=USER) as stream:
        assert stream.get_final_text() == "ab"


def test_stop_aborts_a_slow_stream_promptly():
    import time

    fake = FakeAPI().start()
    fake.script(Turn(text="x" * 100, chunk_chars=1, delay=5))
    client = client_for(fake)
    stream = client.messages.create(model=MODEL, max_tokens=64, messages=USER, stream=True)
    assert next(iter(stream)).type == "message_start"
    started = time.monotonic()
    fake.stop()
    assert time.monotonic() - started < 1
    with pytest.raises(httpx2.RemoteProtocolError):
        list(stream)


# --------------------------------------------------------------------------- validation


def _rejected_with(fake: FakeAPI, match: str, **params) -> anthropic.BadRequestError:
    params.setdefault("model", MODEL)
    params.setdefault("max_tokens", 64)
    with pytest.raises(anthropic.BadRequestError, match=match) as info:
        client_for(fake).messages.create(**params)
    assert info.value.body["error"]["type"] == "invalid_request_error"
    return info.value


def test_validation_rejects_non_alternating_roles(fake_api):
    fake_api.script(Turn(text="never used"))
    _rejected_with(
        fake_api,
        "roles must alternate",
        messages=[{"role": "user", "content": "a"}, {"role": "user", "content": "b"}],
    )
    assert fake_api.rejected == 1
    assert fake_api.pending == 1  # a rejected request consumes no turn


def test_validation_rejects_more_than_four_cache_breakpoints(fake_api):
    cc = {"type": "ephemeral"}
    _rejected_with(
        fake_api,
        "A maximum of 4 blocks with cache_control may be provided. Found 5.",
        system=[{"type": "text", "text": "sys", "cache_control": cc}],
        tools=[{"name": "t", "input_schema": {"type": "object"}, "cache_control": cc}],
        messages=[
            {"role": "user", "content": [{"type": "text", "text": "a", "cache_control": cc}]},
            {"role": "assistant", "content": [{"type": "text", "text": "b", "cache_control": cc}]},
            {"role": "user", "content": [{"type": "text", "text": "c", "cache_control": cc}]},
        ],
    )
    # four is fine
    client_for(fake_api).messages.create(
        model=MODEL,
        max_tokens=64,
        system=[{"type": "text", "text": "sys", "cache_control": cc}],
        messages=[
            {"role": "user", "content": [{"type": "text", "text": "a", "cache_control": cc}]},
            {"role": "assistant", "content": [{"type": "text", "text": "b", "cache_control": cc}]},
            {"role": "user", "content": [{"type": "text", "text": "c", "cache_control": cc}]},
        ],
    )
    assert fake_api.rejected == 1


@pytest.mark.parametrize(
    ("match", "params"),
    [
        ("first message must use the \"user\" role", {"messages": [{"role": "assistant", "content": "hi"}]}),
        ("text content blocks must be non-empty", {"messages": [{"role": "user", "content": [{"type": "text", "text": ""}]}]}),
        ("non-whitespace text", {"messages": [{"role": "user", "content": [{"type": "text", "text": " \n"}]}]}),
        ("must have non-empty content", {"messages": [{"role": "user", "content": ""}]}),
        ("must have non-empty content", {"messages": [{"role": "user", "content": []}]}),
        ("at least one message", {"messages": []}),
        ("greater than or equal to 1024", {"max_tokens": 4096, "thinking": {"type": "enabled", "budget_tokens": 512}, "messages": USER}),
        ("must be greater than `thinking.budget_tokens`", {"max_tokens": 1024, "thinking": {"type": "enabled", "budget_tokens": 1024}, "messages": USER}),
        ("max_tokens: Input should be greater than or equal to 1", {"max_tokens": 0, "messages": USER}),
    ],
)
def test_validation_rules(fake_api, match, params):
    _rejected_with(fake_api, match, **params)
    assert fake_api.rejected == 1


def test_validation_allows_empty_final_assistant_prefill(fake_api):
    reply = client_for(fake_api).messages.create(
        model=MODEL, max_tokens=64, messages=USER + [{"role": "assistant", "content": ""}]
    )
    assert reply.content[0].text == "Echo: Hello there"
    assert fake_api.rejected == 0


def test_validation_missing_max_tokens_and_credentials(fake_api):
    with httpx2.Client() as http:
        url = f"{fake_api.base_url}/v1/messages"
        no_max = http.post(url, json={"model": MODEL, "messages": USER}, headers={"x-api-key": "k"})
        no_key = http.post(url, json={"model": MODEL, "max_tokens": 5, "messages": USER})
    assert no_max.status_code == 400
    assert no_max.json()["error"] == {"type": "invalid_request_error", "message": "max_tokens: Field required"}
    assert no_max.headers["request-id"]
    assert no_key.status_code == 401
    assert no_key.json()["error"]["type"] == "authentication_error"
    assert fake_api.rejected == 2


def test_non_strict_accepts_anything_shaped_like_json():
    with FakeAPI(strict=False) as fake:
        reply = client_for(fake).messages.create(
            model=MODEL, max_tokens=64, messages=[{"role": "user", "content": "a"}, {"role": "user", "content": "b"}]
        )
        assert reply.content[0].text == "Echo: b"
        assert fake.rejected == 0


_text = st.text(alphabet=st.characters(codec="utf-8"), min_size=1, max_size=20).filter(str.strip)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    texts=st.lists(_text, min_size=1, max_size=6),
    breakpoints=st.integers(min_value=0, max_value=6),
)
def test_property_rejected_iff_too_many_breakpoints(fake_api, texts, breakpoints):
    messages = [
        {"role": "user" if i % 2 == 0 else "assistant", "content": [{"type": "text", "text": t}]}
        for i, t in enumerate(texts)
    ]
    if messages[-1]["role"] == "assistant":
        messages.append({"role": "user", "content": "end"})
    blocks = [m["content"][0] for m in messages if isinstance(m["content"], list)]
    placed = min(breakpoints, len(blocks))
    for block in blocks[:placed]:
        block["cache_control"] = {"type": "ephemeral"}
    before = fake_api.rejected
    client = client_for(fake_api)
    try:
        client.messages.create(model=MODEL, max_tokens=64, messages=messages)
        accepted = True
    except anthropic.BadRequestError:
        accepted = False
    assert accepted == (placed <= 4)
    assert fake_api.rejected - before == (0 if accepted else 1)


# --------------------------------------------------------------------------- shapes


def strictly(cls, data):
    """``data`` validated as the SDK type ``cls`` (the client itself only constructs, never
    validates), with no field the type does not declare, at any depth."""
    obj = cls.model_validate(data)
    _no_extras(obj, cls.__name__)
    return obj


def _no_extras(obj, where: str) -> None:
    if isinstance(obj, pydantic.BaseModel):
        assert not obj.model_extra, f"{where}: fields the SDK does not declare: {sorted(obj.model_extra)}"
        for name in type(obj).model_fields:
            _no_extras(getattr(obj, name), f"{where}.{name}")
    elif isinstance(obj, list):
        for i, item in enumerate(obj):
            _no_extras(item, f"{where}.{i}")
    elif isinstance(obj, dict):
        for key, value in obj.items():
            _no_extras(value, f"{where}.{key}")


def raw_get(fake: FakeAPI, path: str, **params) -> httpx2.Response:
    with httpx2.Client() as http:
        return http.get(f"{fake.base_url}{path}", params=params, headers={"x-api-key": "k"})


# --------------------------------------------------------------------------- models


def test_models_list_pages_newest_first_through_sdk_auto_pagination(fake_api):
    client = client_for(fake_api)
    first = client.models.list(limit=2)
    assert [m.id for m in first.data] == ["claude-haiku-5-5", "claude-sonnet-5-5"]
    assert (first.has_more, first.first_id, first.last_id) == (True, "claude-haiku-5-5", "claude-sonnet-5-5")
    everything = [m.id for m in client.models.list(limit=2)]  # follows after_id=last_id to the end
    assert everything == [
        "claude-haiku-5-5", "claude-sonnet-5-5", "claude-opus-5-5", "claude-opus-4-8", "claude-sonnet-4-6",
        "claude-opus-4-6", "claude-opus-4-5", "claude-haiku-4-5",
    ]
    queries = [r.query for r in fake_api.requests if r.path == "/v1/models"]
    assert queries[-2:] == ["limit=2&after_id=claude-opus-4-8", "limit=2&after_id=claude-opus-4-6"]
    last = client.models.list(limit=2, after_id="claude-opus-4-5")
    assert ([m.id for m in last.data], last.has_more, last.has_next_page()) == (["claude-haiku-4-5"], False, False)


def test_models_list_before_id_pages_backwards(fake_api):
    client = client_for(fake_api)
    page = client.models.list(limit=2, before_id="claude-haiku-4-5")
    assert [m.id for m in page.data] == ["claude-opus-4-6", "claude-opus-4-5"]
    assert page.has_more is True
    earlier = page.get_next_page()  # the SDK goes on with before_id=first_id
    assert [m.id for m in earlier.data] == ["claude-opus-4-8", "claude-sonnet-4-6"]
    assert earlier.has_more is True
    assert parse_qs(fake_api.requests[-1].query) == {"limit": ["2"], "before_id": ["claude-opus-4-6"]}


def test_models_list_raw_page_is_exactly_a_sync_page(fake_api):
    raw = raw_get(fake_api, "/v1/models", limit=1).json()
    assert set(raw) == {"data", "has_more", "first_id", "last_id"}
    page = strictly(anthropic.pagination.SyncPage[anthropic.types.ModelInfo], raw)
    assert page.first_id == page.last_id == "claude-haiku-5-5"
    empty = raw_get(fake_api, "/v1/models", after_id="claude-haiku-4-5").json()
    assert empty == {"data": [], "has_more": False, "first_id": None, "last_id": None}


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"limit": 0}, "limit"),
        ({"limit": 1001}, "limit"),
        ({"after_id": "claude-opus-4-6", "before_id": "claude-opus-4-5"}, "Only one of"),
        ({"after_id": "claude-nope"}, "after_id"),
    ],
)
def test_models_list_bad_parameters_are_400(fake_api, params, match):
    response = raw_get(fake_api, "/v1/models", **params)
    assert response.status_code == 400
    assert match in response.json()["error"]["message"]


def test_model_info_has_every_field_and_capability_the_sdk_declares(fake_api):
    client = client_for(fake_api)
    for model_id in ("claude-opus-4-8", "claude-opus-4-6", "claude-haiku-4-5", "claude-opus-4-5"):
        raw = raw_get(fake_api, f"/v1/models/{model_id}").json()
        assert set(raw) == set(anthropic.types.ModelInfo.model_fields)
        info = strictly(anthropic.types.ModelInfo, raw)
        caps = info.capabilities
        assert set(raw["capabilities"]) == set(type(caps).model_fields)  # "keys are always present"
        for name in ("effort", "thinking", "server_tools", "context_management"):
            group = getattr(caps, name)
            assert set(raw["capabilities"][name]) == set(type(group).model_fields)
        assert client.models.retrieve(model_id) == info


def test_default_catalogue_capabilities(fake_api):
    client = client_for(fake_api)
    newest = client.models.retrieve("claude-opus-4-8")
    types = newest.capabilities.thinking.types
    assert (types.adaptive.supported, types.enabled.supported, types.disabled.supported) == (True, False, True)
    assert newest.capabilities.effort.xhigh.supported and newest.capabilities.effort.max.supported
    assert (newest.max_input_tokens, newest.max_tokens, newest.line, newest.lifecycle) == (1_000_000, 128_000, "opus", "active")
    opus = client.models.retrieve("claude-opus-4-6")
    assert opus.capabilities.thinking.types.enabled.supported and opus.capabilities.thinking.types.adaptive.supported
    assert opus.capabilities.effort.low.supported and not opus.capabilities.effort.xhigh.supported
    assert opus.capabilities.context_management.compact_20260112.supported
    haiku = client.models.retrieve("claude-haiku-4-5")
    assert haiku.capabilities.thinking.supported and not haiku.capabilities.thinking.types.adaptive.supported
    assert haiku.capabilities.effort.supported is False
    assert not any(getattr(haiku.capabilities.effort, level).supported for level in ("low", "medium", "high", "max"))
    old = client.models.retrieve("claude-opus-4-5")
    assert old.lifecycle == "deprecated" and old.retires_at.year == 2027


def test_unknown_model_id_is_a_real_shaped_404(fake_api):
    with pytest.raises(anthropic.NotFoundError) as info:
        client_for(fake_api).models.retrieve("claude-nope-9")
    assert info.value.body["error"] == {"type": "not_found_error", "message": "model: claude-nope-9"}
    strictly(anthropic.types.shared.ErrorResponse, info.value.body)


def test_custom_catalogue_lifecycle_filter_and_retired_model():
    models = [
        FakeModel("claude-a-1", "A", "2026-01-01T00:00:00Z"),
        FakeModel("claude-b-1", "B", "2025-01-01T00:00:00Z", lifecycle="retired"),
    ]
    with FakeAPI(models=models) as fake:
        client = client_for(fake)
        assert [m.id for m in client.models.list()] == ["claude-a-1"]  # retired only when asked for
        assert [m.id for m in client.models.list(lifecycle=["retired"])] == ["claude-b-1"]
        assert fake.requests[-1].query == "lifecycle%5B%5D=retired"  # the SDK's brackets array format
        assert client.models.retrieve("claude-b-1").lifecycle == "retired"
        with pytest.raises(anthropic.NotFoundError, match="model: claude-b-1"):
            client.messages.create(model="claude-b-1", max_tokens=10, messages=USER)
    with FakeAPI(models=[]) as fake:
        assert list(client_for(fake).models.list()) == []


@pytest.mark.parametrize(
    ("model", "params", "match"),
    [
        ("claude-opus-4-8", {"thinking": {"type": "enabled", "budget_tokens": 2048}}, r'"thinking.type.enabled" is not supported for this model. Use "thinking.type.adaptive"'),
        ("claude-haiku-4-5", {"thinking": {"type": "adaptive"}}, r"""'"thinking.type.adaptive" is not supported for this model.'}"""),
        ("claude-opus-4-6", {"output_config": {"effort": "xhigh"}}, "'xhigh' is not supported by claude-opus-4-6"),
        ("claude-haiku-4-5", {"output_config": {"effort": "low"}}, "claude-haiku-4-5 does not support the effort parameter"),
        ("claude-haiku-4-5", {"max_tokens": 64_001}, "max_tokens: 64001 > 64000, which is the maximum"),
        ("claude-fake-1", {"output_config": {"effort": "extreme"}}, "Input should be 'low', 'medium', 'high', 'xhigh' or 'max'"),
        ("claude-fake-1", {"thinking": {"type": "sometimes"}}, "thinking.type: Input should be"),
        ("claude-fake-1", {"thinking": {"type": "adaptive", "display": "full"}}, "display: Input should be 'summarized' or 'omitted'"),
    ],
)
def test_catalogue_is_enforced_for_known_models(fake_api, model, params, match):
    fake_api.script(Turn(text="unused"))
    params.setdefault("max_tokens", 4096)
    with pytest.raises(anthropic.BadRequestError, match=match):
        # an explicit timeout: the SDK refuses a large non-streamed max_tokens before sending otherwise
        client_for(fake_api).messages.create(model=model, messages=USER, timeout=30, **params)
    assert fake_api.pending == 1 and fake_api.rejected == 1


@pytest.mark.parametrize(
    ("model", "params"),
    [
        ("claude-opus-4-8", {"thinking": {"type": "adaptive"}, "output_config": {"effort": "xhigh"}}),
        ("claude-sonnet-4-6", {"thinking": {"type": "enabled", "budget_tokens": 2048}, "output_config": {"effort": "max"}}),
        ("claude-haiku-4-5", {"thinking": {"type": "enabled", "budget_tokens": 2048}}),
        ("claude-unknown-7", {"thinking": {"type": "between_tools"}, "output_config": {"effort": "xhigh"}, "max_tokens": 900_000}),
    ],
)
def test_catalogue_accepts_what_each_model_lists(fake_api, model, params):
    params.setdefault("max_tokens", 4096)
    reply = client_for(fake_api).messages.create(model=model, messages=USER, timeout=30, **params)
    assert reply.content[-1].text == "Echo: Hello there"


def test_prompt_longer_than_the_models_input_limit_is_refused():
    with FakeAPI(models=[FakeModel("claude-tiny-1", "Tiny", "2026-01-01T00:00:00Z", max_input_tokens=10)]) as fake:
        client = client_for(fake)
        client.messages.create(model="claude-tiny-1", max_tokens=5, messages=[{"role": "user", "content": "x" * 36}])
        with pytest.raises(anthropic.BadRequestError, match="prompt is too long: 11 tokens > 10 maximum"):
            client.messages.create(model="claude-tiny-1", max_tokens=5, messages=[{"role": "user", "content": "x" * 40}])


def _thinking_stream(fake, model, thinking):
    fake.script(Turn(thinking="secret reasoning", text="done", chunk_chars=6))
    with client_for(fake).messages.stream(model=model, max_tokens=4096, thinking=thinking, messages=USER) as stream:
        events = list(stream)
        return events, stream.get_final_message()


@pytest.mark.parametrize(
    ("model", "thinking", "shown"),
    [
        ("claude-opus-4-8", {"type": "adaptive"}, False),  # the model's default display is omitted
        ("claude-opus-4-8", {"type": "adaptive", "display": "omitted"}, False),
        ("claude-opus-4-8", {"type": "adaptive", "display": "summarized"}, True),
        ("claude-opus-4-6", {"type": "adaptive"}, True),
        ("claude-sonnet-4-6", {"type": "enabled", "budget_tokens": 1024, "display": "omitted"}, False),
        ("claude-unknown-7", {"type": "adaptive"}, True),
    ],
)
def test_thinking_display_omitted_streams_only_a_signature(fake_api, model, thinking, shown):
    events, final = _thinking_stream(fake_api, model, thinking)
    deltas = [e.delta.type for e in events if e.type == "content_block_delta" and e.index == 0]
    assert deltas == (["thinking_delta"] * 3 if shown else []) + ["signature_delta"]
    block = final.content[0]
    assert (block.type, block.thinking, block.signature) == ("thinking", "secret reasoning" if shown else "", FAKE_SIGNATURE)
    assert final.usage.output_tokens == (len("secret reasoning") + len("done")) // 4 + 1  # omitted thinking is still billed
    fake_api.script(Turn(thinking="secret reasoning", text="done"))
    plain = client_for(fake_api).messages.create(model=model, max_tokens=4096, thinking=thinking, messages=USER)
    assert plain.content[0].thinking == block.thinking


# --------------------------------------------------------------------------- tool use

WEATHER_TOOL = {
    "name": "get_weather",
    "description": "Weather for a city.",
    "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
}


def raw_post(fake: FakeAPI, path: str, body) -> httpx2.Response:
    with httpx2.Client() as http:
        return http.post(f"{fake.base_url}{path}", json=body, headers={"x-api-key": "k"})


def test_tool_use_streams_input_json_deltas_and_stops_for_tool_use(fake_api):
    tool_input = {"city": "Paris", "units": "celsius"}
    fake_api.script(Turn(text="Let me check.", tool_uses=[{"name": "get_weather", "input": tool_input}], chunk_chars=7))
    client = client_for(fake_api)
    with client.messages.stream(model=MODEL, max_tokens=256, tools=[WEATHER_TOOL], messages=USER) as stream:
        events = list(stream)
        final = stream.get_final_message()
    starts = [e.content_block for e in events if e.type == "content_block_start"]
    assert [b.type for b in starts] == ["text", "tool_use"]
    assert starts[1].input == {} and starts[1].id == "toolu_fake_1"
    pieces = [e.partial_json for e in events if e.type == "input_json"]
    assert len(pieces) > 3 and all(len(p) <= 7 for p in pieces)
    assert json.loads("".join(pieces)) == tool_input
    assert [e.snapshot for e in events if e.type == "input_json"][-1] == tool_input  # the SDK's partial parse
    assert final.stop_reason == "tool_use"
    assert [(b.type, getattr(b, "text", None)) for b in final.content] == [("text", "Let me check."), ("tool_use", None)]
    use = final.content[1]
    assert (use.id, use.name, use.input) == ("toolu_fake_1", "get_weather", tool_input)
    written = len("Let me check.") + len(json.dumps(tool_input))
    assert final.usage.output_tokens == written // 4 + 1


def test_tool_use_non_streamed_message_is_exactly_a_message(fake_api):
    fake_api.script(Turn(tool_uses=[{"name": "get_weather", "input": {"city": "Oslo"}, "id": "toolu_given"}]))
    raw = raw_post(fake_api, "/v1/messages", {"model": MODEL, "max_tokens": 64, "tools": [WEATHER_TOOL], "messages": USER})
    message = strictly(anthropic.types.Message, raw.json())
    assert [b.type for b in message.content] == ["tool_use"]  # no text block unless scripted
    assert message.content[0].id == "toolu_given" and message.stop_reason == "tool_use"


def _tool_history(tool_id="toolu_1", result_first=True, result_id=None):
    result = {"type": "tool_result", "tool_use_id": result_id or tool_id, "content": "18°C"}
    note = {"type": "text", "text": "Here you go."}
    return [
        {"role": "user", "content": "Weather in Paris?"},
        {"role": "assistant", "content": [{"type": "tool_use", "id": tool_id, "name": "get_weather", "input": {"city": "Paris"}}]},
        {"role": "user", "content": [result, note] if result_first else [note, result]},
    ]


def test_tool_result_round_trip_is_accepted(fake_api):
    client = client_for(fake_api)
    reply = client.messages.create(model=MODEL, max_tokens=64, tools=[WEATHER_TOOL], messages=_tool_history())
    assert reply.content[0].text == "Echo: Here you go."
    assert fake_api.rejected == 0


@pytest.mark.parametrize(
    ("match", "params"),
    [
        ("Requests which include `tool_use` or `tool_result` blocks must define tools.", {"messages": _tool_history()}),
        ("must define tools", {"tools": [], "messages": _tool_history()}),
        ("messages.1: `tool_use` ids were found without `tool_result` blocks immediately after: toolu_1",
         {"tools": [WEATHER_TOOL], "messages": _tool_history()[:2] + [{"role": "user", "content": "never mind"}]}),
        ("messages.1: `tool_use` ids were found without `tool_result` blocks immediately after: toolu_1",
         {"tools": [WEATHER_TOOL], "messages": _tool_history()[:2]}),
        ("messages.2: `tool_result` blocks must come first", {"tools": [WEATHER_TOOL], "messages": _tool_history(result_first=False)}),
        ("unexpected `tool_use_id` found in `tool_result` blocks: toolu_other",
         {"tools": [WEATHER_TOOL], "messages": [_tool_history()[1] | {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_other"}]}]}),
        ("`tool_use` blocks are not allowed in user messages",
         {"tools": [WEATHER_TOOL], "messages": [{"role": "user", "content": _tool_history()[1]["content"]}]}),
        ("tools.0.custom.name: String should match pattern", {"tools": [WEATHER_TOOL | {"name": "get weather"}], "messages": USER}),
        ("tools.0.custom.input_schema.type: Input should be 'object'",
         {"tools": [WEATHER_TOOL | {"input_schema": {"type": "array"}}], "messages": USER}),
        ("tools.0.custom.input_schema: Field required", {"tools": [{"name": "t"}], "messages": USER}),
        ("Tool names must be unique", {"tools": [WEATHER_TOOL, WEATHER_TOOL], "messages": USER}),
        ("Input tag 'telepathy_20990101'", {"tools": [{"type": "telepathy_20990101", "name": "x"}], "messages": USER}),
        ("tools.0.web_search_20250305.name: Input should be 'web_search'",
         {"tools": [{"type": "web_search_20250305", "name": "search"}], "messages": USER}),
        ("cannot be used alongside", {"tools": [{"type": "web_search_20250305", "name": "web_search", "allowed_domains": ["a.org"], "blocked_domains": ["b.org"]}], "messages": USER}),
        ("tool_choice.name", {"tools": [WEATHER_TOOL], "tool_choice": {"type": "tool", "name": "nope"}, "messages": USER}),
        ("Thinking may not be enabled when tool_choice forces tool use.",
         {"max_tokens": 4096, "thinking": {"type": "enabled", "budget_tokens": 1024}, "tools": [WEATHER_TOOL], "tool_choice": {"type": "any"}, "messages": USER}),
    ],
)
def test_tool_validation_rules(fake_api, match, params):
    fake_api.script(Turn(text="unused"))
    _rejected_with(fake_api, re.escape(match), **params)
    assert fake_api.pending == 1


def test_tool_only_reply_without_tools_is_a_fault_the_next_request_pays_for(fake_api):
    """The fake sends a scripted tool call even when the request defined no tools (the real
    API would not): a client that keeps such a reply in its history gets a 400 next turn."""
    fake_api.script(Turn(tool_uses=[{"name": "rm_rf", "input": {"path": "/"}}]))
    client = client_for(fake_api)
    with client.messages.stream(model=MODEL, max_tokens=64, messages=USER) as stream:
        final = stream.get_final_message()
    assert [b.type for b in final.content] == ["tool_use"] and final.stop_reason == "tool_use"
    history = USER + [{"role": "assistant", "content": [b.model_dump(exclude_none=True) for b in final.content]}]
    with pytest.raises(anthropic.BadRequestError, match="must define tools"):
        client.messages.create(model=MODEL, max_tokens=64, messages=history + [{"role": "user", "content": "and?"}])


# --------------------------------------------------------------------------- server tools

WEB_SEARCH = {"type": "web_search_20250305", "name": "web_search", "max_uses": 3}
WEB_FETCH = {"type": "web_fetch_20250910", "name": "web_fetch", "citations": {"enabled": True}}
SEARCH = {
    "query": "capital of France",
    "results": [
        {"url": "https://a.example/paris", "title": "Paris facts", "page_age": "2 days ago"},
        {"url": "https://b.example/", "title": "B"},
    ],
}
CITED = ["Short answer: ", {"text": "Paris is the capital.", "citations": [
    {"type": "web_search_result_location", "url": "https://a.example/paris", "cited_text": "Paris is the capital of France."}
]}]


def _content(message) -> list[dict]:
    """A message's content without the ids each reply makes afresh (or a parsed text's extra field)."""
    drop = {"id", "tool_use_id", "parsed_output"}
    return [{k: v for k, v in b.model_dump().items() if k not in drop} for b in message.content]


def _stream_final(fake, **params):
    params.setdefault("model", MODEL)
    params.setdefault("max_tokens", 512)
    params.setdefault("messages", USER)
    with client_for(fake).messages.stream(**params) as stream:
        events = list(stream)
        return events, stream.get_final_message()


def test_web_search_streams_calls_results_and_cited_text(fake_api):
    fake_api.script(Turn(web_searches=[SEARCH], text=CITED, chunk_chars=6))
    events, final = _stream_final(fake_api, tools=[WEB_SEARCH])
    assert [b.type for b in final.content] == ["server_tool_use", "web_search_tool_result", "text", "text"]
    call, result, plain, cited = final.content
    assert (call.id, call.name, call.input) == ("srvtoolu_fake_1", "web_search", {"query": "capital of France"})
    assert result.tool_use_id == call.id
    assert [(r.url, r.title, r.page_age) for r in result.content] == [
        ("https://a.example/paris", "Paris facts", "2 days ago"), ("https://b.example/", "B", None)]
    assert all(r.encrypted_content for r in result.content)
    assert plain.text == "Short answer: " and plain.citations is None
    (citation,) = cited.citations
    assert (citation.type, citation.url, citation.title) == ("web_search_result_location", "https://a.example/paris", "Paris facts")
    assert citation.cited_text == "Paris is the capital of France." and citation.encrypted_index
    assert [e.citation for e in events if e.type == "citation"] == [citation]  # one citations_delta
    assert final.stop_reason == "end_turn"
    assert final.usage.server_tool_use.web_search_requests == 1
    assert final.usage.server_tool_use.web_fetch_requests == 0

    fake_api.script(Turn(web_searches=[SEARCH], text=CITED))
    raw = raw_post(fake_api, "/v1/messages", {"model": MODEL, "max_tokens": 512, "tools": [WEB_SEARCH], "messages": USER})
    message = strictly(anthropic.types.Message, raw.json())
    assert _content(message) == _content(final)  # stream and JSON carry the same reply
    assert message.usage.server_tool_use == final.usage.server_tool_use


def test_web_search_beyond_max_uses_and_scripted_errors_are_error_results(fake_api):
    searches = [{"query": "one", "error": "unavailable"}, SEARCH, {"query": "three", "results": []}]
    fake_api.script(Turn(web_searches=searches, text="Done."))
    _, final = _stream_final(fake_api, tools=[WEB_SEARCH | {"max_uses": 2}])
    results = [b.content for b in final.content if b.type == "web_search_tool_result"]
    assert results[0].type == "web_search_tool_result_error" and results[0].error_code == "unavailable"
    assert [r.url for r in results[1]] == ["https://a.example/paris", "https://b.example/"]
    assert results[2].error_code == "max_uses_exceeded"
    assert final.usage.server_tool_use.web_search_requests == 1  # only the search that ran


def test_web_fetch_returns_the_page_as_a_document(fake_api):
    page = {"url": "https://docs.example/page", "text": "The page text.", "title": "Docs"}
    fake_api.script(Turn(web_fetches=[page], text="Fetched."))
    _, final = _stream_final(fake_api, tools=[WEB_FETCH])
    call, result, _text = final.content
    assert (call.type, call.name, call.input) == ("server_tool_use", "web_fetch", {"url": page["url"]})
    fetched = result.content
    assert (result.type, fetched.type, fetched.url) == ("web_fetch_tool_result", "web_fetch_result", page["url"])
    assert fetched.content.source.data == "The page text." and fetched.content.title == "Docs"
    assert fetched.content.citations.enabled is True
    assert final.usage.server_tool_use.web_fetch_requests == 1 and final.usage.server_tool_use.web_search_requests == 0
    raw = raw_post(fake_api, "/v1/messages", {"model": MODEL, "max_tokens": 64, "tools": [WEB_FETCH], "messages": USER})
    strictly(anthropic.types.Message, raw.json())  # no fetch scripted: server_tool_use counts zero
    assert raw.json()["usage"]["server_tool_use"] == {"web_search_requests": 0, "web_fetch_requests": 0}


@pytest.mark.parametrize(
    ("turn", "tools", "match"),
    [
        (Turn(web_searches=[SEARCH]), [WEATHER_TOOL], "scripts web_search calls but the request defines no web_search tool"),
        (Turn(web_fetches=[{"url": "https://x.example"}]), None, "no web_fetch tool"),
        (Turn(text=CITED), [WEB_SEARCH], "which no scripted web search found"),
    ],
)
def test_a_turn_no_real_reply_could_hold_is_a_loud_script_error(fake_api, turn, tools, match):
    fake_api.script(turn)
    params = {"tools": tools} if tools else {}
    with pytest.raises(anthropic.InternalServerError, match=f"FakeAPI script error: .*{match}"):
        client_for(fake_api).messages.create(model=MODEL, max_tokens=64, messages=USER, **params)


# --------------------------------------------------------------------------- files

PDF = base64.b64encode(b"%PDF-1.4\n1 0 obj << >> endobj\n%%EOF\n").decode()


def test_files_upload_retrieve_list_and_delete(fake_api):
    client = client_for(fake_api)
    uploaded = client.files.upload(file=("notes.txt", b"hello world", "text/plain"))
    assert (uploaded.id, uploaded.type, uploaded.filename) == ("file_fake_1", "file", "notes.txt")
    assert (uploaded.mime_type, uploaded.size_bytes, uploaded.downloadable, uploaded.expires_at) == ("text/plain", 11, False, None)
    upload_request = fake_api.requests[-1]
    assert upload_request.headers["content-type"].startswith("multipart/form-data; boundary=")
    assert "anthropic-beta" not in upload_request.headers  # anthropic 2.15: the Files API needs no beta
    assert fake_api.files.content["file_fake_1"] == b"hello world"

    raw = raw_get(fake_api, "/v1/files/file_fake_1").json()
    assert set(raw) == set(anthropic.types.FileMetadata.model_fields)
    assert client.files.retrieve_metadata("file_fake_1") == strictly(anthropic.types.FileMetadata, raw)

    later = client.beta.files.upload(file=("dir/sub/report.pdf", base64.b64decode(PDF), "application/octet-stream"),
                                     expires_in_seconds=3600)
    assert (later.filename, later.mime_type) == ("report.pdf", "application/pdf")  # last path part; type from the name
    assert (later.expires_at - later.created_at).total_seconds() == 3600
    assert [f.id for f in client.files.list()] == ["file_fake_2", "file_fake_1"]  # newest first
    assert [f.id for f in client.files.list(limit=1)] == ["file_fake_2", "file_fake_1"]  # follows next_page

    deleted = client.files.delete("file_fake_1")
    assert strictly(anthropic.types.DeletedFile, deleted.model_dump()) == deleted
    assert (deleted.id, deleted.type) == ("file_fake_1", "file_deleted")
    with pytest.raises(anthropic.NotFoundError, match="file_fake_1"):
        client.files.retrieve_metadata("file_fake_1")
    with pytest.raises(anthropic.NotFoundError):
        client.files.delete("file_fake_1")


def test_file_upload_refuses_an_expiry_out_of_range(fake_api):
    with pytest.raises(anthropic.BadRequestError, match="expires_in_seconds: Input should be between 3600 and 7776000"):
        client_for(fake_api).files.upload(file=("a.txt", b"x", "text/plain"), expires_in_seconds=60)
    assert fake_api.files.metadata == {}


def test_files_list_refuses_cursors_and_limits_it_never_issued(fake_api):
    assert raw_get(fake_api, "/v1/files", page="elsewhere").status_code == 400
    assert raw_get(fake_api, "/v1/files", limit=0).status_code == 400
    assert raw_get(fake_api, "/v1/files", limit=1000).json() == {"data": [], "next_page": None}


# --------------------------------------------------------------------------- documents and citations


def _doc(source, **extra):
    return {"type": "document", "source": source, **extra}


def _ask(*blocks, question="Summarise."):
    return [{"role": "user", "content": [*blocks, {"type": "text", "text": question}]}]


def test_every_document_source_is_accepted(fake_api):
    client = client_for(fake_api)
    file_id = client.files.upload(file=("a.pdf", base64.b64decode(PDF), "application/pdf")).id
    blocks = [
        _doc({"type": "base64", "media_type": "application/pdf", "data": PDF}, title="Report", context="Q3", citations={"enabled": True}),
        _doc({"type": "text", "media_type": "text/plain", "data": "Plain words."}, citations={"enabled": False}),
        _doc({"type": "content", "content": [{"type": "text", "text": "First chunk."}]}),
        _doc({"type": "url", "url": "https://example.com/paper.pdf"}),
        _doc({"type": "file", "file_id": file_id}, title=None),
    ]
    reply = client.messages.create(model=MODEL, max_tokens=64, messages=_ask(*blocks))
    assert reply.content[0].text == "Echo: Summarise."
    assert fake_api.rejected == 0


@pytest.mark.parametrize(
    ("block", "match"),
    [
        (_doc({"type": "base64", "media_type": "application/msword", "data": PDF}), "source.base64.media_type: Input should be 'application/pdf'"),
        (_doc({"type": "base64", "media_type": "application/pdf", "data": "bm90IGEgcGRm"}), "The PDF specified was not valid."),
        (_doc({"type": "base64", "media_type": "application/pdf", "data": "%%%"}), "The PDF specified was not valid."),
        (_doc({"type": "text", "media_type": "text/html", "data": "<p>"}), "source.text.media_type: Input should be 'text/plain'"),
        (_doc({"type": "text", "media_type": "text/plain"}), "source.text.data: Field required"),
        (_doc({"type": "url", "url": "ftp://example.com/a.pdf"}), "must use http or https"),
        (_doc({"type": "scroll", "data": "x"}), "Input tag 'scroll' found using 'type'"),
        ({"type": "document"}, "messages.0.content.0.document.source: Field required"),
        (_doc({"type": "text", "media_type": "text/plain", "data": "x"}, citations={"enabled": "yes"}), "citations.enabled: Input should be a valid boolean"),
        (_doc({"type": "text", "media_type": "text/plain", "data": "x"}, title=7), "document.title: Input should be a valid string"),
        (_doc({"type": "file", "file_id": "file_missing"}), "source.file_id: File not found: file_missing"),
    ],
)
def test_document_validation_rules(fake_api, block, match):
    _rejected_with(fake_api, re.escape(match), messages=_ask(block))


def test_a_document_naming_an_image_file_or_an_expired_file_is_refused(fake_api):
    client = client_for(fake_api)
    image_id = client.files.upload(file=("dot.png", b"\x89PNG\r\n", "image/png")).id
    _rejected_with(fake_api, "a document block cannot hold a file of type image/png",
                   messages=_ask(_doc({"type": "file", "file_id": image_id})))
    text_id = client.files.upload(file=("a.txt", b"words", "text/plain")).id
    fake_api.files.expire(text_id)
    with pytest.raises(anthropic.NotFoundError) as info:
        client.messages.create(model=MODEL, max_tokens=64, messages=_ask(_doc({"type": "file", "file_id": text_id})))
    assert isinstance(info.value, anthropic.types.FileExpiredError)  # chosen by error.details.error_code
    assert info.value.error_code == "file_expired"


def test_pdf_citations_stream_as_page_locations(fake_api):
    report = _doc({"type": "base64", "media_type": "application/pdf", "data": PDF}, title="Q3 report", citations={"enabled": True})
    cited = ["The report says ", {"text": "revenue grew.", "citations": [
        {"type": "page_location", "cited_text": "Revenue grew 5% in Q3.", "start_page_number": 2}]}]
    fake_api.script(Turn(text=cited, chunk_chars=5))
    events, final = _stream_final(fake_api, messages=_ask(report))
    assert [(b.type, b.text) for b in final.content] == [("text", "The report says "), ("text", "revenue grew.")]
    (citation,) = final.content[1].citations
    assert isinstance(citation, anthropic.types.CitationPageLocation)
    assert (citation.document_index, citation.document_title, citation.start_page_number, citation.end_page_number) == (0, "Q3 report", 2, 3)
    assert citation.cited_text == "Revenue grew 5% in Q3." and citation.file_id is None
    deltas = [e.delta.type for e in events if e.type == "content_block_delta" and e.index == 1]
    assert deltas == ["citations_delta", "text_delta", "text_delta", "text_delta"]
    fake_api.script(Turn(text=cited))
    raw = raw_post(fake_api, "/v1/messages", {"model": MODEL, "max_tokens": 64, "messages": _ask(report)})
    assert _content(strictly(anthropic.types.Message, raw.json())) == _content(final)


def test_text_citations_are_char_locations_counted_across_messages(fake_api):
    client = client_for(fake_api)
    file_id = client.files.upload(file=("facts.txt", b"Water boils at 100 C. Ice melts at 0 C.", "text/plain")).id
    first = _doc({"type": "text", "media_type": "text/plain", "data": "The sky is blue. Grass is green."}, citations={"enabled": True}, title="Colours")
    second = _doc({"type": "file", "file_id": file_id}, citations={"enabled": True})
    messages = [
        {"role": "user", "content": [first, {"type": "text", "text": "Read this."}]},
        {"role": "assistant", "content": "Done."},
        {"role": "user", "content": [second, {"type": "text", "text": "And this."}]},
    ]
    fake_api.script(Turn(text=[{"text": "Grass is green and ice melts at zero.", "citations": [
        {"type": "char_location", "cited_text": "Grass is green.", "document_index": 0},
        {"type": "char_location", "cited_text": "Ice melts at 0 C.", "document_index": 1},
    ]}]))
    _, final = _stream_final(fake_api, messages=messages)
    grass, ice = final.content[0].citations
    assert (grass.type, grass.start_char_index, grass.end_char_index, grass.document_title) == ("char_location", 17, 32, "Colours")
    assert (ice.document_index, ice.start_char_index, ice.end_char_index, ice.file_id) == (1, 22, 39, file_id)


@pytest.mark.parametrize(
    ("citation", "doc_extra", "match"),
    [
        ({"type": "char_location", "cited_text": "blue"}, {}, "does not enable citations"),
        ({"type": "page_location", "cited_text": "blue"}, {"citations": {"enabled": True}}, "cited by char_location, not page_location"),
        ({"type": "char_location", "cited_text": "purple"}, {"citations": {"enabled": True}}, "does not contain 'purple'"),
        ({"type": "char_location", "cited_text": "blue", "document_index": 3}, {"citations": {"enabled": True}}, "names document 3, but the request has 1"),
        ({"type": "made_up_location", "cited_text": "blue"}, {"citations": {"enabled": True}}, "unknown citation type"),
    ],
)
def test_citations_no_real_reply_could_hold_are_script_errors(fake_api, citation, doc_extra, match):
    doc = _doc({"type": "text", "media_type": "text/plain", "data": "The sky is blue."}, **doc_extra)
    fake_api.script(Turn(text=[{"text": "Blue.", "citations": [citation]}]))
    with pytest.raises(anthropic.InternalServerError, match=re.escape(match)):
        client_for(fake_api).messages.create(model=MODEL, max_tokens=64, messages=_ask(doc))


def test_a_malformed_script_is_a_loud_500_not_a_dropped_connection(fake_api):
    doc = _doc({"type": "text", "media_type": "text/plain", "data": "The sky is blue."}, citations={"enabled": True})
    fake_api.script(Turn(text=[{"text": "Blue.", "citations": [{"type": "char_location"}]}]))  # no cited_text
    with pytest.raises(anthropic.InternalServerError, match=r"FakeAPI error: KeyError\('cited_text'\)"):
        client_for(fake_api).messages.create(model=MODEL, max_tokens=64, messages=_ask(doc))


# --------------------------------------------------------------------------- structured outputs


class City(pydantic.BaseModel):
    name: str
    population: int
    tags: list[str] = []


class Trip(pydantic.BaseModel):
    origin: City
    stops: list[City]
    mode: Literal["train", "plane"]
    note: str | None = None


def test_messages_parse_validates_a_scripted_json_reply(fake_api):
    fake_api.script(Turn(text=json.dumps({"name": "Lyon", "population": 520_000, "tags": ["food"]})))
    parsed = client_for(fake_api).messages.parse(model=MODEL, max_tokens=256, messages=USER, output_format=City)
    assert parsed.parsed_output == City(name="Lyon", population=520_000, tags=["food"])
    sent = messages_requests(fake_api)[-1].json["output_config"]["format"]
    assert sent["type"] == "json_schema" and sent["schema"]["type"] == "object"
    assert sent["schema"]["additionalProperties"] is False  # the SDK's strict transform, accepted as sent


def test_structured_default_reply_is_the_smallest_valid_instance(fake_api):
    client = client_for(fake_api)
    trip = client.messages.parse(model=MODEL, max_tokens=256, messages=USER, output_format=Trip).parsed_output
    assert trip == Trip(origin=City(name="", population=0), stops=[], mode="train")
    with client.messages.stream(model=MODEL, max_tokens=256, messages=USER, output_format=City) as stream:
        assert stream.get_final_message().parsed_output == City(name="", population=0)


def test_structured_output_invalid_scripted_json_surfaces_as_the_sdks_validation_error(fake_api):
    """The fake sends what the turn scripts, so a test can see what a client does with JSON
    that does not match (the real API constrains decoding, but a max_tokens cut still breaks it)."""
    fake_api.script(Turn(text='{"name": "Lyon", "popul', stop_reason="max_tokens"))
    with pytest.raises(pydantic.ValidationError):
        client_for(fake_api).messages.parse(model=MODEL, max_tokens=256, messages=USER, output_format=City)


@pytest.mark.parametrize(
    ("output_config", "match"),
    [
        ({"format": {"type": "json", "schema": {"type": "object"}}}, "output_config.format.type: Input should be 'json_schema'"),
        ({"format": {"type": "json_schema"}}, "output_config.format.schema: Field required"),
        ({"format": {"type": "json_schema", "schema": {"type": "array", "items": {"type": "string"}}}}, "root must have type 'object'"),
    ],
)
def test_structured_output_format_validation(fake_api, output_config, match):
    _rejected_with(fake_api, re.escape(match), messages=USER, output_config=output_config)


def test_citations_beside_a_structured_output_format_are_refused_as_documented(fake_api):
    schema = {"format": {"type": "json_schema", "schema": {"type": "object", "properties": {}}}}
    document = {"type": "document", "source": {"type": "text", "media_type": "text/plain", "data": "Notes."}}
    cited = [{"role": "user", "content": [{**document, "citations": {"enabled": True}}, {"type": "text", "text": "Sum up."}]}]
    _rejected_with(fake_api, "citations cannot be enabled when output_config.format is set", messages=cited, output_config=schema)
    uncited = [{"role": "user", "content": [{**document, "citations": {"enabled": False}}, {"type": "text", "text": "Sum up."}]}]
    client_for(fake_api).messages.create(model=MODEL, max_tokens=64, messages=uncited, output_config=schema)
    assert fake_api.rejected == 1


def test_structured_outputs_on_a_model_without_them_is_refused():
    plain = FakeModel("claude-plain-1", "Plain", "2026-01-01T00:00:00Z", features=frozenset({"batch"}))
    with FakeAPI(models=[plain]) as fake:
        with pytest.raises(anthropic.BadRequestError, match="does not support structured outputs"):
            client_for(fake).messages.parse(model="claude-plain-1", max_tokens=64, messages=USER, output_format=City)
        assert client_for(fake).models.retrieve("claude-plain-1").capabilities.structured_outputs.supported is False


# --------------------------------------------------------------------------- message batches


def _rows(n, prefix="row", **params):
    params.setdefault("model", MODEL)
    params.setdefault("max_tokens", 64)
    return [
        {"custom_id": f"{prefix}-{i}", "params": {**params, "messages": [{"role": "user", "content": f"question {i}"}]}}
        for i in range(n)
    ]


def _raw_json(response):
    return response.http_response.json()


def test_batch_lifecycle_polls_then_ends_with_results_out_of_order():
    with FakeAPI(batch_polls=2) as fake:
        client = client_for(fake)
        rows = _rows(5)
        created = client.messages.batches.create(requests=rows)
        assert (created.id, created.type, created.processing_status) == ("msgbatch_fake_1", "message_batch", "in_progress")
        assert created.request_counts.model_dump() == {"processing": 5, "succeeded": 0, "errored": 0, "canceled": 0, "expired": 0}
        assert created.results_url is None and created.ended_at is None
        assert (created.expires_at - created.created_at).total_seconds() == 24 * 3600
        polls = [client.messages.batches.with_raw_response.retrieve(created.id) for _ in range(3)]
        raw = [_raw_json(p) for p in polls]
        assert [r["processing_status"] for r in raw] == ["in_progress", "in_progress", "ended"]
        for item in raw:
            assert set(item) == set(anthropic.types.messages.MessageBatch.model_fields)
            strictly(anthropic.types.messages.MessageBatch, item)
        ended = polls[-1].parse()
        assert ended.request_counts.succeeded == 5 and ended.request_counts.processing == 0
        assert ended.ended_at is not None
        assert ended.results_url == f"{fake.base_url}/v1/messages/batches/{created.id}/results"

        results = list(client.messages.batches.results(created.id))
        assert [r.custom_id for r in results] != [r["custom_id"] for r in rows]  # "not in request order"
        assert sorted(r.custom_id for r in results) == sorted(r["custom_id"] for r in rows)
        by_id = {r.custom_id: r.result for r in results}
        for row in rows:
            result = by_id[row["custom_id"]]
            assert result.type == "succeeded"
            assert result.message.content[0].text == f"Echo: {row['params']['messages'][0]['content']}"
            assert result.message.usage.input_tokens == estimate_tokens(row["params"])
            assert result.message.usage.service_tier == "batch"
        lines = raw_get(fake, f"/v1/messages/batches/{created.id}/results").text.splitlines()
        assert len(lines) == 5
        for line in lines:
            strictly(anthropic.types.messages.MessageBatchIndividualResponse, json.loads(line))


def test_batch_of_a_thousand_rows_with_scripted_answers_and_outcomes():
    with FakeAPI(batch_polls=0) as fake:
        fake.batch_reply = lambda params: params["messages"][0]["content"].upper()
        fake.batch_outcomes = {
            "row-3": "errored",
            "row-7": "expired",
            "row-9": {"type": "invalid_request_error", "message": "row 9 is malformed"},
            "row-11": Turn(text="special", usage={"output_tokens": 99}),
        }
        client = client_for(fake)
        batch = client.messages.batches.create(requests=_rows(1000))
        ended = client.messages.batches.retrieve(batch.id)  # batch_polls=0: the first poll ends it
        assert ended.processing_status == "ended"
        counts = ended.request_counts
        assert (counts.succeeded, counts.errored, counts.expired, counts.canceled, counts.processing) == (997, 2, 1, 0, 0)
        by_id = {r.custom_id: r.result for r in client.messages.batches.results(batch.id)}
        assert len(by_id) == 1000
        assert by_id["row-0"].message.content[0].text == "QUESTION 0"
        assert by_id["row-999"].message.content[0].text == "QUESTION 999"
        assert by_id["row-3"].error.error.type == "api_error"
        assert by_id["row-7"].type == "expired"
        assert (by_id["row-9"].error.error.type, by_id["row-9"].error.error.message) == ("invalid_request_error", "row 9 is malformed")
        assert by_id["row-11"].message.content[0].text == "special" and by_id["row-11"].message.usage.output_tokens == 99
        assert fake.pending == 0  # batches consume no live turns


def test_batch_usage_counts_like_a_live_turn(fake_api):
    client = client_for(fake_api)
    row = _rows(1)[0]
    live = client.messages.create(**row["params"])
    fake_api.batch_polls = 0
    batch = client.messages.batches.create(requests=[row])
    client.messages.batches.retrieve(batch.id)
    (result,) = client.messages.batches.results(batch.id)
    usage = result.result.message.usage
    assert (usage.input_tokens, usage.output_tokens) == (live.usage.input_tokens, live.usage.output_tokens)
    assert result.result.message.content == live.content


def test_batch_outcomes_callback_and_params_validated_asynchronously(fake_api):
    fake_api.batch_polls = 0
    fake_api.batch_outcomes = lambda custom_id, params: "canceled" if custom_id.endswith("5") else None
    rows = _rows(6)
    rows[1]["params"]["messages"].append({"role": "user", "content": "twice"})
    rows[2]["params"] = {**rows[2]["params"], "model": "claude-opus-4-8", "max_tokens": 4096,
                         "thinking": {"type": "enabled", "budget_tokens": 2048}}
    rows[3]["params"]["stream"] = True
    client = client_for(fake_api)
    batch = client.messages.batches.create(requests=rows)  # accepted: params are checked when the batch runs
    client.messages.batches.retrieve(batch.id)
    by_id = {r.custom_id: r.result for r in client.messages.batches.results(batch.id)}
    assert by_id["row-0"].type == "succeeded" and by_id["row-4"].type == "succeeded"
    assert by_id["row-5"].type == "canceled"
    assert "roles must alternate" in by_id["row-1"].error.error.message
    assert '"thinking.type.enabled" is not supported' in by_id["row-2"].error.error.message
    assert "cannot be streamed" in by_id["row-3"].error.error.message
    assert {by_id[k].error.error.type for k in ("row-1", "row-2", "row-3")} == {"invalid_request_error"}


@pytest.mark.parametrize(
    ("requests", "match"),
    [
        ([], "requests: List should have at least 1 item after validation, not 0"),
        ([{"custom_id": "row 1", "params": {}}], "requests.0.custom_id: String should match pattern"),
        ([{"custom_id": "x" * 65, "params": {}}], "requests.0.custom_id: String should match pattern"),
        ([{"custom_id": "a", "params": {}}, {"custom_id": "a", "params": {}}], "requests.1.custom_id: 'a' is used by an earlier request"),
        ([{"custom_id": "a"}], "requests.0.params: Field required"),
        ([{"custom_id": f"r{i}", "params": {}} for i in range(100_001)], "List should have at most 100000 items after validation, not 100001"),
    ],
)
def test_batch_envelope_validation(fake_api, requests, match):
    with pytest.raises(anthropic.BadRequestError, match=re.escape(match)):
        client_for(fake_api).messages.batches.create(requests=requests)
    assert fake_api.batches.batches == {}


def test_batch_body_over_the_size_limit_is_413(fake_api, monkeypatch):
    import fake_batches

    monkeypatch.setattr(fake_batches, "MAX_BYTES", 2000)
    client = client_for(fake_api)
    client.messages.batches.create(requests=_rows(2))
    with pytest.raises(anthropic.RequestTooLargeError) as info:
        client.messages.batches.create(requests=_rows(40))
    assert info.value.status_code == 413 and info.value.body["error"]["type"] == "request_too_large"


def test_batch_cancel_cancels_what_had_not_run():
    with FakeAPI(batch_polls=5) as fake:
        fake.batch_outcomes = {"row-0": "succeeded"}  # finished before the cancel arrived
        client = client_for(fake)
        batch = client.messages.batches.create(requests=_rows(3))
        canceling = client.messages.batches.cancel(batch.id)
        assert canceling.processing_status == "canceling" and canceling.cancel_initiated_at is not None
        ended = client.messages.batches.retrieve(batch.id)
        assert ended.processing_status == "ended"
        assert (ended.request_counts.succeeded, ended.request_counts.canceled) == (1, 2)
        by_id = {r.custom_id: r.result.type for r in client.messages.batches.results(batch.id)}
        assert by_id == {"row-0": "succeeded", "row-1": "canceled", "row-2": "canceled"}
        with pytest.raises(anthropic.BadRequestError, match="already ended"):
            client.messages.batches.cancel(batch.id)


def test_batch_results_before_the_end_and_delete_rules(fake_api):
    client = client_for(fake_api)
    batch = client.messages.batches.create(requests=_rows(2))
    with pytest.raises(anthropic.AnthropicError, match="No `results_url`"):  # the SDK checks first
        client.messages.batches.results(batch.id)  # (that retrieve was the one in-progress poll)
    assert raw_get(fake_api, f"/v1/messages/batches/{batch.id}/results").status_code == 400
    with pytest.raises(anthropic.BadRequestError, match="still processing"):
        client.messages.batches.delete(batch.id)
    assert client.messages.batches.retrieve(batch.id).processing_status == "ended"
    deleted = client.messages.batches.delete(batch.id)
    assert (deleted.id, deleted.type) == (batch.id, "message_batch_deleted")
    with pytest.raises(anthropic.NotFoundError):
        client.messages.batches.retrieve(batch.id)


def test_batch_list_pages_newest_first_without_polling(fake_api):
    client = client_for(fake_api)
    ids = [client.messages.batches.create(requests=_rows(1)).id for _ in range(3)]
    page = client.messages.batches.list(limit=2)
    assert [b.id for b in page.data] == ids[:0:-1] and page.has_more
    assert [b.id for b in client.messages.batches.list(limit=2)] == ids[::-1]
    assert {b.processing_status for b in client.messages.batches.list()} == {"in_progress"}
    with pytest.raises(anthropic.NotFoundError):
        client.messages.batches.retrieve("msgbatch_nope")


# --------------------------------------------------------------------------- rate limits


def test_a_429_carries_retry_after_and_the_rate_limit_headers(fake_api):
    fake_api.script(Turn(status=429, retry_after=7), Turn(status=429, rate_limited="output-tokens"))
    client = client_for(fake_api)
    with pytest.raises(anthropic.RateLimitError) as info:
        client.messages.create(model=MODEL, max_tokens=64, messages=USER)
    headers = info.value.response.headers
    assert headers["retry-after"] == "7"
    assert (headers["anthropic-ratelimit-requests-limit"], headers["anthropic-ratelimit-requests-remaining"]) == ("50", "0")
    reset = datetime.datetime.fromisoformat(headers["anthropic-ratelimit-requests-reset"].replace("Z", "+00:00"))
    wait = (reset - datetime.datetime.now(datetime.timezone.utc)).total_seconds()
    assert 5 <= wait <= 7
    assert headers["anthropic-ratelimit-tokens-remaining"] == headers["anthropic-ratelimit-tokens-limit"] == "100000"
    for kind in ("input-tokens", "output-tokens"):
        assert {f"anthropic-ratelimit-{kind}-{part}" for part in ("limit", "remaining", "reset")} <= set(headers)

    fake_api.rate_limits["output-tokens"] = 8000
    with pytest.raises(anthropic.RateLimitError) as info:
        client.messages.create(model=MODEL, max_tokens=64, messages=USER)
    headers = info.value.response.headers
    assert headers["anthropic-ratelimit-output-tokens-remaining"] == "0"
    assert headers["anthropic-ratelimit-output-tokens-limit"] == "8000"
    assert headers["anthropic-ratelimit-requests-remaining"] == "50"
    assert "retry-after" not in headers


def _concurrently(fake, n, **client_kwargs):
    """``n`` slow streamed requests released at once; each outcome, in thread order."""
    barrier = threading.Barrier(n)
    client = client_for(fake, **client_kwargs)

    def one(_):
        barrier.wait()
        try:
            with client.messages.stream(model=MODEL, max_tokens=64, messages=USER) as stream:
                return stream.get_final_text()
        except anthropic.RateLimitError as err:
            return err

    with concurrent.futures.ThreadPoolExecutor(n) as pool:
        return list(pool.map(one, range(n)))


def test_max_concurrent_refuses_requests_beyond_the_limit():
    with FakeAPI(max_concurrent=2) as fake:
        fake.script(*[Turn(text="x" * 20, chunk_chars=1, delay=0.05) for _ in range(4)])
        outcomes = _concurrently(fake, 4)
        served = [o for o in outcomes if isinstance(o, str)]
        refused = [o for o in outcomes if isinstance(o, anthropic.RateLimitError)]
        assert (len(served), len(refused)) == (2, 2)
        assert all(o == "x" * 20 for o in served)
        for err in refused:
            assert err.body["error"]["type"] == "rate_limit_error"
            assert "concurrent connections has exceeded your rate limit" in err.body["error"]["message"]
            assert err.response.headers["anthropic-ratelimit-requests-remaining"] == "0"
        assert fake.pending == 2  # a refused request consumes no turn
        assert fake.peak_concurrency >= 3 and fake.in_flight == 0


def test_peak_concurrency_shows_whether_a_client_stays_bounded(fake_api):
    fake_api.script(*[Turn(text="abcd", chunk_chars=1, delay=0.05) for _ in range(6)])
    assert all(o == "abcd" for o in _concurrently(fake_api, 6))
    assert fake_api.peak_concurrency == 6

    fake_api.peak_concurrency = 0
    fake_api.script(*[Turn(text="abcd", chunk_chars=1, delay=0.05) for _ in range(9)])
    client = client_for(fake_api)

    def one(_):
        with client.messages.stream(model=MODEL, max_tokens=64, messages=USER) as stream:
            return stream.get_final_text()

    with concurrent.futures.ThreadPoolExecutor(3) as pool:  # a client bounded to three at once
        assert list(pool.map(one, range(9))) == ["abcd"] * 9
    assert fake_api.peak_concurrency == 3 and fake_api.in_flight == 0


# --------------------------------------------------------------------------- malformed streams


def _events_until_failure(fake, turn):
    fake.script(turn)
    seen = []
    with pytest.raises(Exception) as info:
        with client_for(fake).messages.stream(model=MODEL, max_tokens=64, messages=USER) as stream:
            for event in stream:
                seen.append(event.type)
            stream.get_final_message()
    return info.value, seen


@pytest.mark.parametrize(
    ("fault", "error", "match"),
    [
        ("invalid_utf8", UnicodeDecodeError, "can't decode byte 0xff"),
        ("invalid_json", json.JSONDecodeError, "Unterminated string"),
        ("unknown_index", IndexError, "list index out of range"),
    ],
)
def test_malformed_frames_raise_plain_python_errors_not_anthropic_ones(fake_api, fault, error, match):
    """Observed SDK behaviour: a frame it cannot decode, parse or place raises the decoder's
    own exception mid-iteration, after the frames before it -- never an ``anthropic.APIError``."""
    err, seen = _events_until_failure(fake_api, Turn(text="hello world", stream_fault=fault))
    assert type(err) is error and re.search(match, str(err))
    assert not isinstance(err, anthropic.APIError)
    assert seen == ["message_start", "content_block_start"]  # fault_after=3: after the ping


def test_a_delta_for_an_unknown_block_passes_raw_iteration_unnoticed(fake_api):
    fake_api.script(Turn(text="hi", stream_fault="unknown_index", fault_after=4))
    events = list(client_for(fake_api).messages.create(model=MODEL, max_tokens=64, messages=USER, stream=True))
    assert [(e.type, getattr(e, "index", None)) for e in events][2:4] == [("content_block_delta", 0), ("content_block_delta", 99)]


def test_a_stream_without_message_start_yields_events_but_no_final_message(fake_api):
    """Observed: the SDK passes events through until a ``message_start`` arrives, so iteration
    succeeds; only ``get_final_message()`` fails, with a bare ``AssertionError``."""
    err, seen = _events_until_failure(fake_api, Turn(text="hi", stream_fault="no_message_start"))
    assert type(err) is AssertionError
    assert seen[0] == "content_block_start" and "message_start" not in seen and seen[-1] == "message_stop"


def test_a_stream_ending_without_message_stop_is_not_noticed_by_the_sdk(fake_api):
    """Observed: the chunked body ends cleanly after ``message_delta``; the SDK returns the
    accumulated message as if complete -- only a client that waits for message_stop can tell."""
    fake_api.script(Turn(text="hello", stream_fault="no_message_stop"))
    with client_for(fake_api).messages.stream(model=MODEL, max_tokens=64, messages=USER) as stream:
        seen = [event.type for event in stream]
        final = stream.get_final_message()
    assert seen[-1] == "message_delta" and "message_stop" not in seen
    assert (final.stop_reason, final.content[0].text) == ("end_turn", "hello")


def test_error_texts_carry_what_the_turn_scripts(fake_api):
    secret = "sk-ant-api03-leaked-key-0123456789"
    fake_api.script(
        Turn(status=500, error_message=f"upstream said: {secret}"),
        Turn(text="abcdefgh", chunk_chars=2, error_event_after=3, error_type="api_error", error_message=f"boom {secret}"),
    )
    client = client_for(fake_api)
    with pytest.raises(anthropic.InternalServerError) as info:
        client.messages.create(model=MODEL, max_tokens=64, messages=USER)
    assert secret in info.value.message and info.value.body["error"]["message"] == f"upstream said: {secret}"
    with pytest.raises(anthropic.APIStatusError) as info:
        with client.messages.stream(model=MODEL, max_tokens=64, messages=USER) as stream:
            stream.get_final_message()
    assert info.value.body == {"type": "error", "error": {"type": "api_error", "message": f"boom {secret}"}}


def test_turn_rejects_unknown_stream_faults():
    with pytest.raises(ValueError, match="stream_fault must be one of"):
        Turn(stream_fault="gremlins")

