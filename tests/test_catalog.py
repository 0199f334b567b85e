"""The built-in table of models: every model the SDK lists, matched by id, and the guess for the rest."""

from __future__ import annotations

import re
import typing

import pytest

from claude_magic.catalog import BUILT_IN, EFFORT_LEVELS, THINKING_TYPES, built_in, guess, table_key
from claude_magic.pricing import PRICES, price_for


def sdk_models() -> tuple[str, ...]:
    """The model ids the installed SDK lists (`anthropic.types.Model`'s literals)."""
    from anthropic.types.model import Model

    (literal,) = [arg for arg in typing.get_args(Model) if typing.get_origin(arg) is typing.Literal]
    return typing.get_args(literal)


# Verification-gated or unannounced: no price is published for them.
UNPRICED = {"claude-mythos-5-2", "claude-mythos-preview"}


@pytest.mark.parametrize("model", sdk_models())
def test_every_model_the_sdk_lists_has_facts_and_a_dated_price_or_none_published(model):
    facts = built_in(model)
    assert facts is not None and facts.id == model and facts.line and facts.source == "built-in"
    assert facts.thinking <= set(THINKING_TYPES) and set(facts.efforts) <= set(EFFORT_LEVELS)
    price = price_for(model)
    if model in UNPRICED:
        assert price is None
    else:
        assert price is not None and re.search(r"20\d\d-\d\d", price.source), price


def test_every_price_row_names_its_source_and_date():
    for model, price in PRICES.items():
        assert re.search(r"20\d\d-\d\d", price.source), model


def test_a_snapshot_id_is_its_model_and_a_later_version_is_not():
    table = {"claude-mythos-5": 1, "claude-haiku-4-5": 2, "my-model": 3}
    assert table_key("claude-haiku-4-5-20251001", table) == "claude-haiku-4-5"
    assert table_key("claude-mythos-5-2", table) == ""
    assert table_key("claude-mythos-5", table) == "claude-mythos-5"
    assert table_key("my-model-v2", table) == "my-model"
    assert table_key("my-modelx", table) == ""


def test_facts_match_what_the_model_pages_say():
    assert built_in("claude-haiku-4-5-20251001").efforts == ()  # Haiku 4.5 has no effort setting
    assert "adaptive" not in BUILT_IN["claude-opus-4-5"].thinking
    assert BUILT_IN["claude-opus-4-8"].thinking == {"adaptive", "disabled"}
    assert "xhigh" in BUILT_IN["claude-opus-4-7"].efforts and "xhigh" not in BUILT_IN["claude-opus-4-6"].efforts
    assert BUILT_IN["claude-opus-5-5"].max_input_tokens == 1_000_000
    assert BUILT_IN["claude-opus-4-5"].lifecycle == "deprecated"


def test_a_guess_refuses_nothing_and_sizes_the_window_small():
    facts = guess("claude-opus-9")
    assert facts.source == "guess" and facts.efforts == EFFORT_LEVELS and facts.thinks
    assert facts.max_input_tokens == 200_000 and facts.supports("pdf_input")
    assert built_in("claude-opus-9") is None
