"""Prices, usage and the footer line."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from claude_magic.pricing import Ledger, Price, Usage, cost, footer, format_cost, price_for, usage_from_api
from claude_magic.reports import usage_report


def api_usage(**fields):
    base = dict(input_tokens=0, output_tokens=0, cache_read_input_tokens=None, cache_creation_input_tokens=None, cache_creation=None)
    return SimpleNamespace(**{**base, **fields})


@pytest.mark.parametrize(
    "model, expected",
    [
        ("claude-opus-4-6", Price(5, 25)),
        ("claude-sonnet-4-6", Price(3, 15)),
        ("claude-haiku-4-5", Price(1, 5)),
        ("claude-haiku-4-5-20251001", Price(1, 5)),
        ("claude-opus-4-1-20250805", Price(15, 75)),
    ],
)
def test_prices_match_by_longest_prefix(model, expected):
    assert price_for(model) == expected


def test_unknown_model_has_no_price_and_shows_cost_na():
    assert price_for("mystery-model") is None
    assert cost(Usage(100, 100), None) is None
    assert format_cost(None) == "cost n/a"


def test_configured_prices_add_and_override():
    extra = {"mystery-model": {"input": 2, "output": 8}, "claude-haiku-4-5": {"input": 9, "output": 9}}
    assert price_for("mystery-model-v2", extra) == Price(2, 8)
    assert price_for("claude-haiku-4-5", extra) == Price(9, 9)


def test_cost_counts_cache_writes_and_reads_at_their_rates():
    usage = Usage(input_tokens=1_000_000, output_tokens=1_000_000, cache_read_tokens=1_000_000,
                  cache_write_5m_tokens=1_000_000, cache_write_1h_tokens=1_000_000)
    # opus: 5 in + 25 out + 0.5 read + 6.25 write-5m + 10 write-1h
    assert cost(usage, Price(5, 25)) == pytest.approx(46.75)


def test_usage_from_api_uses_the_ttl_split_when_given():
    split = SimpleNamespace(ephemeral_5m_input_tokens=30, ephemeral_1h_input_tokens=70)
    usage = usage_from_api(api_usage(input_tokens=5, output_tokens=6, cache_read_input_tokens=7,
                                     cache_creation_input_tokens=100, cache_creation=split))
    assert usage == Usage(5, 6, 7, 30, 70)


@pytest.mark.parametrize("ttl, expected", [("5m", Usage(1, 2, 0, 40, 0)), ("1h", Usage(1, 2, 0, 0, 40))])
def test_usage_from_api_without_a_split_counts_writes_at_the_configured_ttl(ttl, expected):
    assert usage_from_api(api_usage(input_tokens=1, output_tokens=2, cache_creation_input_tokens=40), ttl) == expected


def test_usage_adds_up():
    assert Usage(1, 2, 3, 4, 5) + Usage(10, 20, 30, 40, 50) == Usage(11, 22, 33, 44, 55)


def test_footer_line():
    line = footer("claude-opus-4-6", Usage(1204, 312, 50, 10, 0), 0.0138, 0.0291)
    assert line == (
        "claude-opus-4-6 · 1,204 in / 312 out tokens · cache 50 read / 10 written · $0.0138 this turn · $0.0291 this chat"
    )
    assert footer("x", Usage(), None, None).endswith("cost n/a this turn · cost n/a this chat")
    assert footer("x", Usage(), 0.5, 0.5, budget_left=1.25).endswith("this chat · $1.25 of budget left")
    assert footer("x", Usage(), 0.5, 0.5, budget_left=-0.1).endswith("this chat · $0.1000 over budget")


def test_ledger_by_chat_and_model_and_its_table():
    ledger = Ledger()
    ledger.add("default", "claude-opus-4-6", Usage(100, 10), 0.00075)
    ledger.add("default", "claude-opus-4-6", Usage(200, 20), 0.0015)
    ledger.add("quiz", "mystery", Usage(5, 5), None)
    assert ledger.total == pytest.approx(0.00225)
    markdown, plain = usage_report(ledger)
    lines = markdown.splitlines()
    assert lines[0] == "| chat | model | turns | in | out | cache read | cache written | cost |"
    assert lines[2] == "| default | claude-opus-4-6 | 2 | 300 | 30 | 0 | 0 | <span>&#36;</span>0.0023 |"  # money, not math
    assert lines[3] == "| quiz | mystery | 1 | 5 | 5 | 0 | 0 | cost n/a |"
    assert lines[4] == "| kernel | all | 3 | 305 | 35 | 0 | 0 | cost n/a |"
    assert plain.splitlines()[1].split() == ["default", "claude-opus-4-6", "2", "300", "30", "0", "0", "$0.0023"]


def test_format_cost_large_amounts():
    assert format_cost(12345.678) == "$12,345.68"
