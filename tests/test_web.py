"""--web: the server tools for one turn, the searches listed under the answer, their uses and cost in the footer."""

from __future__ import annotations

import pytest
from fakeapi import FakeModel, Turn
from shell import magics

from claude_magic.catalog import ModelFacts
from claude_magic.errors import ClaudeError
from claude_magic.pricing import Usage, cost, footer, price_for
from claude_magic.web import MAX_USES, refusal, web_tools

SEARCH = {"query": "median household income 2025", "results": [{"url": "https://stats.example/income", "title": "Income tables"}]}
CITED = {"text": "The median was $80,000", "citations": [
    {"type": "web_search_result_location", "url": "https://stats.example/income", "cited_text": "Median: $80,000."}]}


def test_the_tools_are_search_and_fetch_capped_per_turn():
    assert [tool["name"] for tool in web_tools()] == ["web_search", "web_fetch"]
    assert all(tool["max_uses"] == MAX_USES for tool in web_tools())
    assert refusal(ModelFacts("m", features=frozenset({"web_search"}))) == ""
    assert "cannot use the web search tool" in refusal(ModelFacts("m"))


def test_searches_cost_ten_dollars_a_thousand_and_the_footer_counts_them():
    usage = Usage(input_tokens=1_000_000, web_searches=3, web_fetches=2)
    assert cost(usage, price_for("claude-opus-5-5")) == pytest.approx(4 + 0.03)
    line = footer("claude-opus-5-5", usage, 4.03, 4.03)
    assert "· 3 web searches ($0.0300) · 2 web fetches · $4.03 this turn" in line


def test_web_turn_sends_the_tools_lists_searches_and_sources_and_bills_them(ip, fake_api, capsys):
    fake_api.script(Turn(web_searches=[SEARCH], web_fetches=[{"url": "https://stats.example/notes", "text": "n"}],
                         text=[CITED, "."]))
    ip.run_cell_magic("claude", "--web -o reply", "What was the median household income in 2025?")
    body = [r.json for r in fake_api.requests if r.path == "/v1/messages"][-1]
    assert body["tools"] == web_tools() and fake_api.rejected == 0
    out = capsys.readouterr().out
    assert "[searching the web for median household income 2025]" in out
    assert "[1] “Median: $80,000.” — Income tables, https://stats.example/income" in out
    assert "Searched the web for: “median household income 2025”" in out and "Fetched: https://stats.example/notes" in out
    assert "· 1 web search ($0.0100) · 1 web fetch · " in out
    reply = ip.user_ns["reply"]
    assert (reply.usage.web_searches, reply.usage.web_fetches) == (1, 1)
    assert reply.cost == pytest.approx(cost(Usage(reply.usage.input_tokens, reply.usage.output_tokens), price_for("claude-opus-5-5")) + 0.01)
    ip.run_cell_magic("claude", "", "And in 2024?")  # only for the turn that asked
    assert "tools" not in fake_api.requests[-1].json


def test_web_on_a_model_without_server_tools_is_refused_before_sending(ip, fake_api):
    fake_api.models["claude-plain-1"] = FakeModel("claude-plain-1", "Plain", "2026-01-01T00:00:00Z", server_tools=frozenset())
    with pytest.raises(ClaudeError, match="^--web: claude-plain-1 cannot use the web search tool"):
        ip.run_cell_magic("claude", "--web -m claude-plain-1", "search")
    assert not [r for r in fake_api.requests if r.path == "/v1/messages"]


def test_the_dry_run_says_the_web_is_on(ip, fake_api, capsys):
    ip.run_cell_magic("claude", "--web --dry-run", "look it up")
    assert "· web search and fetch on, billed per search" in capsys.readouterr().out


def test_an_answer_still_paused_mid_search_is_kept_without_the_search_it_never_ran(ip, fake_api, capsys):
    """An answer the API paused before running a search ends in a `server_tool_use` with no result.
    Resumed, the request may end so; kept in the history, every later request is a 400. After its
    resumptions a still-paused answer is kept, so the call it never ran is left out."""
    paused = [Turn(text=f"Looking, part {i}.", stop_reason="pause_turn") for i in range(3)]
    fake_api.script(*paused, Turn(text="Still looking.", web_searches=[{**SEARCH, "pending": True}], stop_reason="pause_turn"))
    ip.run_cell_magic("claude", "--web", "What was the median household income in 2025?")
    assert "paused this answer again after it was resumed" in capsys.readouterr().out
    assert fake_api.rejected == 0
    kept = magics(ip).session.conversations.get().messages[-1]["content"]
    assert [block["type"] for block in kept] == ["text"] * 4
    ip.run_cell_magic("claude", "", "Where would you look?")
    assert fake_api.rejected == 0


def test_under_a_schema_fetched_pages_are_not_cited(ip, fake_api):
    """Citations and a structured-output format do not go together (the Citations guide), so a
    --web --schema turn asks for no citations of the pages it fetches."""
    ip.user_ns["verdict"] = ["rising", "falling"]
    ip.run_cell_magic("claude", "--web --schema verdict", "Is household income rising?")
    body = [r.json for r in fake_api.requests if r.path == "/v1/messages"][-1]
    fetch = next(tool for tool in body["tools"] if tool["name"] == "web_fetch")
    assert fetch["citations"] == {"enabled": False} and body["output_config"]["format"]
    assert fake_api.rejected == 0
