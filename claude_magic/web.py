"""`--web`: the web search and web fetch server tools for one turn.

The API runs both tools itself, within the turn; the reply carries what was searched and fetched
(`citations.web_activity` lists it) and `usage.server_tool_use` counts the uses, billed per search
(`pricing.WEB_SEARCH_PER_USE`; fetching costs only its tokens). The first versions of each tool are
used, which every model with server tools takes. Uses are capped per turn, so a turn's searches cost
at most MAX_USES cents; fetched pages may be cited, like documents.
"""

from __future__ import annotations

from typing import Any

from .catalog import ModelFacts

__all__ = ["web_tools", "refusal", "MAX_USES"]

MAX_USES = 5


def web_tools(*, cite: bool = True) -> list[dict[str, Any]]:
    """The two tools; fetched pages are cited unless `cite` is off (a turn under --schema, where the
    API takes no citations beside a structured-output format)."""
    return [
        {"type": "web_search_20250305", "name": "web_search", "max_uses": MAX_USES},
        {"type": "web_fetch_20250910", "name": "web_fetch", "max_uses": MAX_USES, "citations": {"enabled": cite}},
    ]


def refusal(facts: ModelFacts) -> str:
    """Why `--web` cannot go with this model (the Models API names web search among its server
    tools; SDK 2.15 reports no capability for web fetch, which goes with it); "" when it can."""
    if facts.supports("web_search"):
        return ""
    return f"--web: {facts.id} cannot use the web search tool; pick a model that can (%claude_models), or drop --web."
