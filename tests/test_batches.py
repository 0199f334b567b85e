"""The batch engine against the fake API's Message Batches: split, created, polled until ended, joined
by custom_id whatever order the results come in, each kind of outcome said in one line."""

from __future__ import annotations

import anthropic
import pytest
from fakeapi import FakeAPI, Turn

from claude_magic.batches import BatchEngine, request_bytes, split
from claude_magic.engines import Tally

MODEL = "claude-opus-4-6"


def body(text: str) -> dict:
    return {"model": MODEL, "max_tokens": 64, "messages": [{"role": "user", "content": [{"type": "text", "text": text}]}]}


def client(fake: FakeAPI) -> anthropic.Anthropic:
    return anthropic.Anthropic(api_key="sk-ant-test-batches", base_url=fake.base_url, max_retries=0)


def test_split_keeps_each_batch_under_both_limits_and_in_order():
    requests = [(f"p{i}", body("x" * (i * 10))) for i in range(10)]
    by_count = split(requests, max_requests=3)
    assert [len(part) for part in by_count] == [3, 3, 3, 1]
    assert [key for part in by_count for key, _ in part] == [f"p{i}" for i in range(10)]
    room = 64 + request_bytes(*requests[0]) + request_bytes(*requests[1])
    by_size = split(requests, max_bytes=room + 1)
    assert len(by_size[0]) == 2
    assert all(sum(request_bytes(*r) for r in part) <= room for part in by_size if len(part) > 1)


def test_a_batch_is_polled_until_it_ends_and_its_unordered_results_are_joined(fake_api):
    fake_api.batch_polls = 3
    fake_api.batch_reply = lambda params: params["messages"][0]["content"][0]["text"].upper()
    requests = {f"p{i}": body(f"word {i}") for i in range(6)}
    created, slept, seen = [], [], []
    engine = BatchEngine(client(fake_api), sleep=slept.append)
    ids = engine.submit(requests, lambda batch_id, keys: created.append((batch_id, keys)))
    assert created == [(ids[0], list(requests))]  # told as soon as the batch exists
    engine.wait(ids, 6, lambda tally, note: seen.append(tally))
    polls = [r for r in fake_api.requests if r.method == "GET" and r.path.endswith(ids[0])]
    assert len(polls) == 4 and len(seen) == 4  # three in progress, then ended
    assert slept == [1.0, 1.5, 2.25]  # longer and longer between polls
    assert seen[-1] == Tally(total=6, submitted=6, succeeded=6)
    results = engine.collect(ids[0])
    lines = fake_api.batches.results(ids[0]).decode().splitlines()
    assert [line.split('"custom_id": "')[1].split('"')[0] for line in lines] != list(requests)  # not in order
    assert {key: outcome.text for key, outcome in results.items()} == {f"p{i}": f"WORD {i}" for i in range(6)}
    assert all(outcome.batch and outcome.usage.output_tokens > 0 for outcome in results.values())


def test_each_kind_of_failure_is_a_reason_and_says_whether_to_try_again(fake_api):
    fake_api.batch_outcomes = {
        "p0": "errored", "p1": "expired", "p2": "canceled",
        "p3": {"type": "invalid_request_error", "message": "max_tokens: too large"},
        "p4": Turn(status=529),
    }
    engine = BatchEngine(client(fake_api), sleep=lambda seconds: None)
    ids = engine.submit({f"p{i}": body(str(i)) for i in range(5)}, lambda *created: None)
    engine.wait(ids, 5, lambda *progress: None)
    outcomes = engine.collect(ids[0])
    assert {key: (o.status, o.retryable) for key, o in outcomes.items()} == {
        "p0": ("errored", True), "p1": ("expired", True), "p2": ("canceled", False),
        "p3": ("errored", False), "p4": ("errored", True),
    }
    assert outcomes["p3"].error == "invalid_request_error: max_tokens: too large"
    assert outcomes["p4"].error == "overloaded_error: Overloaded"
    assert "24 hours" in outcomes["p1"].error


def test_a_job_too_big_for_one_batch_becomes_several(fake_api, monkeypatch):
    import claude_magic.batches as batches

    monkeypatch.setattr(batches, "MAX_BATCH_REQUESTS", 2)
    engine = BatchEngine(client(fake_api), sleep=lambda seconds: None)
    created = []
    ids = engine.submit({f"p{i}": body(str(i)) for i in range(5)}, lambda batch_id, keys: created.append(keys))
    assert created == [["p0", "p1"], ["p2", "p3"], ["p4"]] and len(set(ids)) == 3
    engine.wait(ids, 5, lambda *progress: None)
    assert sorted(key for batch_id in ids for key in engine.collect(batch_id)) == [f"p{i}" for i in range(5)]


def test_an_interrupt_stops_the_polling_and_leaves_the_batch_running(fake_api):
    fake_api.batch_polls = 100

    def interrupt(seconds: float) -> None:
        raise KeyboardInterrupt

    engine = BatchEngine(client(fake_api), sleep=interrupt)
    ids = engine.submit({"p0": body("x")}, lambda *created: None)
    with pytest.raises(KeyboardInterrupt):
        engine.wait(ids, 1, lambda *progress: None)
    assert fake_api.batches.batches[ids[0]].status == "in_progress"
