"""What each model can do, from the Models API (the fake's catalogue), cached, with the fallback said once."""

from __future__ import annotations

import anthropic
import pytest
from fakeapi import FakeAPI, FakeModel

from claude_magic.capabilities import Capabilities, facts_from_api, refusal
from claude_magic.catalog import ModelFacts


def client_for(fake: FakeAPI) -> anthropic.Anthropic:
    return anthropic.Anthropic(api_key="sk-ant-test", base_url=fake.base_url, max_retries=0)


def lookups(fake: FakeAPI) -> list[str]:
    return [r.path for r in fake.requests if r.path.startswith("/v1/models")]


def test_facts_come_from_the_models_api(fake_api):
    client = client_for(fake_api)
    opus = facts_from_api(client.models.retrieve("claude-opus-4-8"))
    assert opus.source == "api" and opus.thinking == {"adaptive", "disabled"} and opus.line == "opus"
    assert opus.efforts == ("low", "medium", "high", "xhigh", "max")
    assert (opus.max_input_tokens, opus.max_tokens) == (1_000_000, 128_000)
    assert opus.supports("compaction") and opus.supports("web_search") and opus.supports("pdf_input")
    haiku = facts_from_api(client.models.retrieve("claude-haiku-4-5"))
    assert haiku.efforts == () and haiku.thinking == {"enabled", "disabled"} and not haiku.supports("compaction")
    assert facts_from_api(client.models.retrieve("claude-opus-4-5")).lifecycle == "deprecated"


def test_a_model_is_asked_about_once_per_client(fake_api):
    capabilities, notes = Capabilities(), []
    client = client_for(fake_api)
    for _ in range(3):
        capabilities.facts("claude-opus-4-6", client, "", notify=notes.append)
    assert lookups(fake_api) == ["/v1/models/claude-opus-4-6"] and notes == []
    capabilities.facts("claude-opus-4-6", client_for(fake_api), "", notify=notes.append)  # another key or URL
    assert len(lookups(fake_api)) == 2


def test_when_the_api_cannot_be_asked_the_table_stands_in_and_says_so_once():
    capabilities, notes = Capabilities(), []
    with FakeAPI(models=[]) as empty:  # a catalogue that knows nothing: every lookup is a 404
        client = client_for(empty)
        for _ in range(2):
            facts = capabilities.facts("claude-opus-4-7", client, "", notify=notes.append)
    assert facts.source == "built-in" and "xhigh" in facts.efforts
    assert notes == [
        "could not ask the Models API what claude-opus-4-7 can do (it answered 404: no such model for this key); "
        "going by the built-in table."
    ]
    unknown = capabilities.facts("claude-opus-9", None, "no API key", notify=notes.append)
    assert unknown.source == "guess" and notes[-1].endswith("(no API key); going by a guess (the built-in table does not list it).")


def test_the_listing_fills_the_cache_and_falls_back_to_the_table(fake_api):
    capabilities, notes = Capabilities(), []
    client = client_for(fake_api)
    listed, source = capabilities.listing(client, "", notify=notes.append)
    assert [f.id for f in listed][:3] == ["claude-haiku-5-5", "claude-sonnet-5-5", "claude-opus-5-5"]
    assert source == "Models: as the Models API lists them now." and notes == []
    capabilities.facts("claude-opus-4-8", client, "", notify=notes.append)
    assert lookups(fake_api) == ["/v1/models"]  # what the listing said is kept
    listed, source = Capabilities().listing(None, "no API key", notify=notes.append)
    assert "built-in table of 2026-12-01" in source and "claude-fable-5-2" in [f.id for f in listed]
    assert notes == ["could not ask the Models API which models it offers (no API key); showing the built-in table."]


def test_a_model_with_no_capabilities_reported_is_guessed_with_its_window():
    with FakeAPI(models=[FakeModel("claude-new-1", "New", "2026-11-01T00:00:00Z", max_input_tokens=300_000)]) as fake:
        info = client_for(fake).models.retrieve("claude-new-1")
    facts = facts_from_api(info.model_copy(update={"capabilities": None}))
    assert facts.source == "guess" and facts.max_input_tokens == 300_000


OPUS_4_6 = ModelFacts("claude-opus-4-6", thinking=frozenset({"adaptive", "enabled", "disabled"}),
                      efforts=("low", "medium", "high", "max"), max_tokens=128_000)


@pytest.mark.parametrize(
    ("facts", "think", "effort", "max_tokens", "expected"),
    [
        (OPUS_4_6, True, "max", 4096, ""),
        (OPUS_4_6, False, "xhigh", 4096, "-e xhigh: claude-opus-4-6 takes low, medium, high or max, not xhigh."),
        (ModelFacts("claude-haiku-4-5", thinking=frozenset({"enabled"})), False, "low", 4096,
         "-e low: claude-haiku-4-5 has no effort setting; drop -e, or pick a model that has one (%claude_models)."),
        (ModelFacts("claude-plain"), True, None, 4096,
         "-t: claude-plain does not think; drop -t, or pick a model that does (%claude_models)."),
        (OPUS_4_6, False, None, 200_000,
         "max_tokens 200,000: claude-opus-4-6 writes at most 128,000 tokens a turn; use --max-tokens 128000."),
    ],
)
def test_what_a_model_would_refuse_is_said_in_one_line(facts, think, effort, max_tokens, expected):
    assert refusal(facts, think=think, effort=effort, max_tokens=max_tokens) == expected
