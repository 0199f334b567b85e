"""The live engine against the fake API: bounded concurrency, one back-off for all on a 429 that honours
retry-after and the rate-limit headers, retries where they can help, and an interrupt that keeps what came."""

from __future__ import annotations

import datetime

import anthropic
import pytest
from fakeapi import FakeAPI, Turn

from claude_magic.engines import Interrupted
from claude_magic.live_engine import LiveEngine, rate_limit_wait

MODEL = "claude-opus-4-6"
NOW = datetime.datetime(2026, 12, 1, 12, 0, 0, tzinfo=datetime.timezone.utc)


def body(text: str) -> dict:
    return {"model": MODEL, "max_tokens": 64, "messages": [{"role": "user", "content": [{"type": "text", "text": text}]}]}


def engine_for(fake: FakeAPI, **options) -> LiveEngine:
    client = anthropic.Anthropic(api_key="sk-ant-test-live", base_url=fake.base_url, max_retries=5)
    return LiveEngine(client, **options)


def messages_sent(fake: FakeAPI) -> int:
    return sum(1 for r in fake.requests if r.path == "/v1/messages")


def test_requests_overlap_up_to_the_bound_and_back_off_together_at_the_servers_limit():
    with FakeAPI(max_concurrent=3, latency=0.05) as fake:
        fake.rate_limits["requests"] = 600  # one request refills in 60 s / 600 = 0.1 s
        fake.respond = lambda body: body["messages"][0]["content"][0]["text"][::-1]
        engine = engine_for(fake, concurrency=8)
        outcomes = engine.run({f"p{i}": body(f"row {i:02}") for i in range(24)}, lambda tally, note: None)
        assert {key: o.text for key, o in outcomes.items()} == {f"p{i}": f"row {i:02}"[::-1] for i in range(24)}
        refused = messages_sent(fake) - 24
        assert 0 < refused < 24 and len(engine.throttle.waits) == refused
        assert all(0.05 < wait <= 0.1 for wait in engine.throttle.waits)  # read from the ratelimit headers
        assert 3 < fake.peak_concurrency <= 8  # overlapped, never past our own bound
        assert any("at most" in notice for notice in engine.notices)


def test_a_429_holds_back_for_its_retry_after(fake_api):
    fake_api.script(Turn(status=429, retry_after=0.3), Turn(text="Done."))
    engine = engine_for(fake_api)
    outcomes = engine.run({"p0": body("x")}, lambda tally, note: None)
    assert outcomes["p0"].text == "Done." and messages_sent(fake_api) == 2
    assert engine.throttle.waits == [pytest.approx(0.3, abs=0.01)]
    assert engine.throttle.limit == 4  # halved from 8, growing back one success at a time


def test_the_wait_comes_from_whichever_limit_ran_out():
    headers = {
        "anthropic-ratelimit-requests-limit": "50", "anthropic-ratelimit-requests-remaining": "10",
        "anthropic-ratelimit-requests-reset": "2026-12-01T12:01:00Z",
        "anthropic-ratelimit-input-tokens-limit": "10000", "anthropic-ratelimit-input-tokens-remaining": "0",
        "anthropic-ratelimit-input-tokens-reset": "2026-12-01T12:00:40Z",
    }
    assert rate_limit_wait(headers, 2_500, NOW) == pytest.approx(10.0)  # a quarter of the bucket: 40 s / 4
    assert rate_limit_wait({**headers, "retry-after": "12"}, 2_500, NOW) == 12.0
    assert rate_limit_wait({"retry-after-ms": "1500"}, 1, NOW) == 1.5
    assert rate_limit_wait({"retry-after": "3600"}, 1, NOW) == 60.0  # never more than a minute at once
    assert rate_limit_wait({}, 1, NOW) == 0.0


def test_a_request_the_api_refuses_is_not_sent_again(fake_api):
    fake_api.script(Turn(status=400, error_message="max_tokens: too large"))
    outcome = engine_for(fake_api).run({"p0": body("x")}, lambda tally, note: None)["p0"]
    assert outcome.status == "errored" and not outcome.retryable and "max_tokens: too large" in outcome.error
    assert messages_sent(fake_api) == 1


def test_server_errors_are_retried_as_often_as_the_sdk_would_then_reported(fake_api, monkeypatch):
    import claude_magic.live_engine as live_engine

    monkeypatch.setattr(live_engine.time, "sleep", lambda seconds: None)
    fake_api.script(*[Turn(status=529)] * 3)
    outcome = engine_for(fake_api, max_retries=2).run({"p0": body("x")}, lambda tally, note: None)["p0"]
    assert outcome.status == "errored" and outcome.retryable and "overloaded" in outcome.error
    assert messages_sent(fake_api) == 3


def test_an_interrupt_sends_nothing_more_and_keeps_the_answers_that_came(fake_api):
    fake_api.latency = 0.02

    def interrupt(tally, note):
        if tally.done:
            raise KeyboardInterrupt

    engine = engine_for(fake_api, concurrency=2)
    with pytest.raises(Interrupted) as caught:
        engine.run({f"p{i}": body(str(i)) for i in range(40)}, interrupt)
    kept = caught.value.outcomes
    assert kept and all(outcome.status == "succeeded" for outcome in kept.values())
    assert len(kept) <= messages_sent(fake_api) < 40
