"""Request building and client choice, without the network."""

from __future__ import annotations

import pytest

from claude_magic.client import REPLAY_ONLY_KEY, ClientCache, Connection, make_client
from claude_magic.errors import ClaudeError
from claude_magic.request import TurnOptions, build_request
from claude_magic.settings import FIXTURE_MODE_ENV

MESSAGES = [{"role": "user", "content": [{"type": "text", "text": "hi"}]}]


def connection(**overrides) -> Connection:
    fields = dict(api_key=None, base_url="http://127.0.0.1:9", max_retries=0, timeout=5.0, fixture="", fixture_mode="auto")
    return Connection(**{**fields, **overrides})


def test_request_has_automatic_caching_and_no_empty_system():
    request = build_request(MESSAGES, TurnOptions(model="claude-opus-4-6", max_tokens=100, system="  "))
    assert request == {
        "model": "claude-opus-4-6",
        "max_tokens": 100,
        "messages": MESSAGES,
        "cache_control": {"type": "ephemeral"},
    }


def test_request_system_and_one_hour_cache():
    request = build_request(MESSAGES, TurnOptions(model="m", max_tokens=1, system="Be brief.", cache_ttl="1h"))
    assert request["system"] == "Be brief."
    assert request["cache_control"] == {"type": "ephemeral", "ttl": "1h"}


def test_environment_overrides_the_configured_fixture_mode(monkeypatch):
    monkeypatch.setenv(FIXTURE_MODE_ENV, "replay")
    assert connection(fixture="f.json", fixture_mode="auto").effective_mode() == "replay"
    assert connection(fixture="").effective_mode() == "off"


def test_no_key_and_no_fixture_is_a_one_line_error_naming_the_variable(monkeypatch):
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    monkeypatch.delenv("ANTHROPIC_AUTH_TOKEN", raising=False)
    with pytest.raises(ClaudeError, match="ANTHROPIC_API_KEY") as caught:
        make_client(connection())
    assert "\n" not in str(caught.value)


def test_replay_needs_no_key_and_never_holds_one(monkeypatch, tmp_path):
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    monkeypatch.delenv(FIXTURE_MODE_ENV, raising=False)
    client = make_client(connection(fixture=str(tmp_path / "f.json"), fixture_mode="replay"))
    assert client.api_key == REPLAY_ONLY_KEY


@pytest.mark.parametrize("mode", ["record", "update"])
def test_modes_that_record_need_a_key(monkeypatch, tmp_path, mode):
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    monkeypatch.delenv("ANTHROPIC_AUTH_TOKEN", raising=False)
    monkeypatch.setenv(FIXTURE_MODE_ENV, mode)
    with pytest.raises(ClaudeError, match="No API key"):
        make_client(connection(fixture=str(tmp_path / "f.json")))


def test_a_bad_mode_from_the_environment_is_named(monkeypatch, tmp_path):
    monkeypatch.setenv(FIXTURE_MODE_ENV, "replya")
    with pytest.raises(ClaudeError, match="replya"):
        make_client(connection(api_key="k", fixture=str(tmp_path / "f.json")))


def test_client_cache_reuses_until_settings_change():
    cache = ClientCache()
    first = cache.get(connection(api_key="k1"))
    assert cache.get(connection(api_key="k1")) is first
    second = cache.get(connection(api_key="k2"))
    assert second is not first
    assert cache.get(connection(api_key="k2", max_retries=3)) is not second
    cache.close()


@pytest.mark.parametrize(
    "model, max_tokens, expected",
    [
        ("claude-opus-4-6", 4096, {"type": "adaptive", "display": "summarized"}),
        ("claude-sonnet-4-6", 2000, {"type": "adaptive", "display": "summarized"}),
        ("claude-opus-4-8", 4096, {"type": "adaptive", "display": "summarized"}),
        ("claude-some-future-model", 4096, {"type": "adaptive", "display": "summarized"}),  # guessed
        ("claude-haiku-4-5", 4096, {"type": "enabled", "budget_tokens": 2048}),
        ("claude-haiku-4-5", 1500, {"type": "enabled", "budget_tokens": 1024}),
    ],
)
def test_thinking_is_adaptive_where_possible_else_a_valid_budget(model, max_tokens, expected):
    request = build_request(MESSAGES, TurnOptions(model=model, max_tokens=max_tokens, think=True))
    assert request["thinking"] == expected
    if expected["type"] == "enabled":
        assert 1024 <= expected["budget_tokens"] < max_tokens


def test_thinking_without_room_for_a_budget_says_what_to_do():
    with pytest.raises(ClaudeError, match="--max-tokens above 1,024"):
        build_request(MESSAGES, TurnOptions(model="claude-haiku-4-5", max_tokens=1024, think=True))


def test_effort_goes_in_output_config():
    request = build_request(MESSAGES, TurnOptions(model="m", max_tokens=10, effort="low"))
    assert request["output_config"] == {"effort": "low"} and "thinking" not in request


class Notices:
    def __init__(self):
        self.seen = []

    def status(self, message):
        self.seen.append(message)


def test_retry_watch_reads_only_the_sdks_retry_line_and_restores_the_logger():
    import logging
    from types import SimpleNamespace

    from claude_magic.client import SDK_LOGGER, RetryWatch

    class Unformattable:
        def __str__(self):
            raise AssertionError("a record other than the retry line was formatted")

    logger = logging.getLogger(SDK_LOGGER)
    level, propagate = logger.level, logger.propagate
    watch, sink = RetryWatch(), Notices()
    with watch.notices(sink):
        assert not logger.isEnabledFor(logging.DEBUG)  # the SDK would dump every request at DEBUG
        logger.info("Request options: %s", Unformattable())
        watch.response(SimpleNamespace(status_code=529))
        logger.info("Retrying request to %s in %f seconds", "/v1/messages", 3.6)
        logger.info("Retrying request to %s in %f seconds", "/v1/messages", 0.4)
    assert sink.seen == ["overloaded (529), retrying in 4 s", "connection failed, retrying in 0 s"]
    assert (logger.level, logger.propagate) == (level, propagate)
    assert not logger.isEnabledFor(logging.INFO)


def test_overlapping_watches_restore_the_logger_only_when_the_last_ends():
    import logging

    from claude_magic.client import SDK_LOGGER, RetryWatch

    logger = logging.getLogger(SDK_LOGGER)
    before = logger.level, logger.propagate
    first, second = RetryWatch().notices(Notices()), RetryWatch().notices(Notices())
    first.__enter__()
    second.__enter__()
    first.__exit__(None, None, None)  # the first ends while the second still listens
    assert logger.isEnabledFor(logging.INFO) and logger.propagate is False
    second.__exit__(None, None, None)
    assert (logger.level, logger.propagate) == before


def test_each_turns_view_hears_only_its_own_threads_retries():
    import logging
    import threading

    from claude_magic.client import SDK_LOGGER, RetryWatch

    watch, mine = RetryWatch(), Notices()
    logger = logging.getLogger(SDK_LOGGER)
    with watch.notices(mine):
        other = threading.Thread(target=lambda: logger.info("Retrying request to %s in %f seconds", "/v1", 2.0))
        other.start()
        other.join()
        logger.info("Retrying request to %s in %f seconds", "/v1", 1.0)
    assert mine.seen == ["connection failed, retrying in 1 s"]  # not the other thread's 2 s


@pytest.mark.parametrize(
    "headers, wait",
    [({"retry-after": "7"}, 7.0), ({"retry-after": "1.5"}, 1.5), ({"retry-after-ms": "250"}, 0.25),
     ({"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"}, None), ({}, None), ({"retry-after": "soon"}, None)],
)
def test_the_wait_a_response_asks_for_is_read_as_the_sdk_reads_it(headers, wait):
    from claude_magic.client import _retry_after

    found = _retry_after(headers)
    if wait is None and "retry-after" in headers and headers["retry-after"].endswith("GMT"):
        assert found is not None and found < 0  # a date in the past
    else:
        assert found == wait


def test_a_wait_beyond_the_limit_is_refused_only_when_the_sdk_would_retry():
    from types import SimpleNamespace

    from claude_magic.client import RetryWatch, retry_wait_too_long

    watch = RetryWatch()
    long_wait = {"retry-after": "86400"}
    with pytest.raises(retry_wait_too_long(), match="a wait of 24 hours before a retry, longer than ClaudeMagics.max_retry_wait"):
        watch.response(SimpleNamespace(status_code=503, headers=long_wait), 60.0)
    watch.response(SimpleNamespace(status_code=400, headers=long_wait), 60.0)  # not retried: no wait
    watch.response(SimpleNamespace(status_code=429, headers={**long_wait, "x-should-retry": "false"}), 60.0)
    watch.response(SimpleNamespace(status_code=429, headers={"retry-after": "30"}), 60.0)
    watch.response(SimpleNamespace(status_code=429, headers=long_wait), None)  # no retries: nothing to wait for
