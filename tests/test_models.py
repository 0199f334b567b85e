"""Model aliases, and how a long conversation goes on."""

from __future__ import annotations

import pytest

from claude_magic import models
from claude_magic.catalog import BUILT_IN, ModelFacts
from claude_magic.errors import ClaudeError
from claude_magic.pricing import PRICES
from claude_magic.settings import DEFAULT_MODEL


def test_aliases_resolve_and_ids_pass_through():
    assert models.resolve("opus") == "claude-opus-5-5"
    assert models.resolve(" Sonnet ") == "claude-sonnet-5-5"
    assert models.resolve("haiku") == "claude-haiku-5-5"
    assert models.resolve("claude-some-future-model") == "claude-some-future-model"


@pytest.mark.parametrize("line", models.ALIAS_LINES)
def test_each_alias_is_the_newest_model_of_its_line_with_a_known_price(line):
    alias = BUILT_IN[models.ALIASES[line]]
    assert alias.line == line and alias.id in PRICES
    newer = [f.id for f in BUILT_IN.values() if f.line == line and f.released > alias.released]
    assert all(model not in PRICES for model in newer), newer


def test_the_default_is_the_newest_opus_with_a_price():
    assert DEFAULT_MODEL == models.ALIASES["opus"]


def test_a_bare_word_that_is_no_alias_is_a_typo():
    with pytest.raises(ClaudeError, match="Unknown model 'opsu': did you mean opus?"):
        models.resolve("opsu")
    with pytest.raises(ClaudeError, match="Unknown model 'gpt'"):
        models.resolve("gpt")


def facts(window: int, compaction: bool) -> ModelFacts:
    return ModelFacts("claude-x", max_input_tokens=window, features=frozenset({"compaction"} if compaction else ()))


def test_the_plan_reads_the_models_own_window():
    assert models.context_plan(facts(1_000_000, True), 400_000, False) == models.ContextPlan()
    assert models.context_plan(facts(1_000_000, True), 500_000, False).compact
    assert models.context_plan(facts(200_000, True), 100_000, False).compact
    warned = models.context_plan(facts(1_000_000, False), 800_000, False)
    assert "800,000 of claude-x's 1,000,000 tokens" in warned.warning and not warned.compact
    assert models.context_plan(facts(1_000_000, False), 700_000, False) == models.ContextPlan()


def test_a_compacted_conversation_needs_a_model_that_compacts():
    assert models.context_plan(facts(200_000, True), 10, True).compact
    assert "cannot read compaction summaries" in models.context_plan(facts(200_000, False), 10, True).refusal
