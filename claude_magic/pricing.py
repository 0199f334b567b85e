"""Prices and usage -> dollars, and what the kernel has spent.

One table of list prices per million tokens, each row with its source and date, matched by model id
(a dated snapshot id gets its model's price). Users add or override prices through
`%config ClaudeMagics.prices`, by id prefix. A model with no price costs `None` ("cost n/a" on
screen), never an exception.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .catalog import table_key

__all__ = ["Price", "PRICES", "PRICES_SOURCE", "BATCH_DISCOUNT", "WEB_SEARCH_PER_USE", "PriceTable", "Usage", "Spend",
           "Ledger", "usage_from_api", "price_for", "cost", "format_cost", "footer", "streamed_tokens", "parse_prices"]

PRICES_SOURCE = "the table in claude_magic/pricing.py, compiled 2026-12-01 (each row names its source and date)"

# Cache writes cost a multiple of the input price that depends on how long the entry lives;
# cache reads cost a tenth of it on most models (each price says its own).
CACHE_WRITE_5M = 1.25
CACHE_WRITE_1H = 2.0
CACHE_READ = 0.1
# Message Batches bill every token of a request at half the price (the cache multipliers apply on top).
BATCH_DISCOUNT = 0.5
# Web search, a server tool, is billed per use on top of its tokens: $10 per 1,000 searches (the web
# search tool's page; the pricing page summary of 2026-08-14). Web fetch costs only its tokens.
WEB_SEARCH_PER_USE = 10.0 / 1_000


@dataclass(frozen=True)
class Price:
    """US dollars per million tokens; `cache_read` is a multiple of the input price. `above` is
    (prompt tokens, the price of a request whose prompt is longer), for tiered models; the prompt
    counts input, cache reads and cache writes."""

    input: float
    output: float
    cache_read: float = CACHE_READ
    above: tuple[int, Price] | None = None
    source: str = field(default="", compare=False)


_PRICING = "platform.claude.com/docs/en/about-claude/pricing, 2026-09 snapshot"


def _page(model: str, note: str) -> str:
    return f"platform.claude.com/docs/en/models/{model}/overview ({note})"


# Anthropic's list prices. Where a figure comes from a third party, the row says so.
PRICES: dict[str, Price] = {
    "claude-fable-5-2": Price(8, 40, 0.025, source=(
        f"{_page('opus-5', 'lineup table; Fable 5.2 released 2026-11-09')}; cache rates from rightsize v0.10.2 release notes (third party), 2026-11-10")),
    "claude-haiku-5-5": Price(0.10, 0.50, above=(100_000, Price(0.50, 2.50)), source=(
        f"{_page('haiku-5-5', 'released 2026-10-07')}; the >100K cache rates from claudit v1.9.2 (third party), 2026-10-24")),
    "claude-sonnet-5-5": Price(2, 10, 0.05, source=(
        f"{_page('sonnet-5-5', 'released 2026-09-28')}; cache read cut to $0.10 from 2026-10-07 per claudit v1.9.2 (third party)")),
    "claude-opus-5-5": Price(4, 20, 0.05, source=_page("opus-5-5", "released 2026-09-22")),
    "claude-fable-5-1": Price(10, 50, 0.025, source=f"{_PRICING}; {_page('fable-5-1', 'released 2026-09-01')}"),
    "claude-mythos-5-1": Price(10, 50, 0.025, source=_PRICING),
    "claude-opus-5": Price(5, 25, source=f"{_PRICING}; {_page('opus-5', 'released 2026-07-24')}"),
    "claude-sonnet-5": Price(2, 10, source=_page("sonnet-5", "released 2026-06-30; the planned 2026-09 rise was cancelled")),
    "claude-fable-5": Price(10, 50, source=f"{_PRICING}; {_page('fable-5', 'released 2026-06-09')}"),
    "claude-mythos-5": Price(10, 50, source=f"{_PRICING}; {_page('fable-5', 'shares its pricing')}"),
    "claude-opus-4-8": Price(5, 25, source=f"{_PRICING}; {_page('opus-4-8', 'released 2026-05-28')}"),
    "claude-opus-4-7": Price(5, 25, source=_PRICING),
    "claude-opus-4-6": Price(5, 25, source=f"{_PRICING}; {_page('opus-4-6', 'released 2026-02-05')}"),
    "claude-sonnet-4-6": Price(3, 15, source=_page("sonnet-4-6", "released 2026-02-17")),
    "claude-opus-4-5": Price(5, 25, source=f"{_PRICING}; {_page('opus-4-5', 'released 2025-11-24')}"),
    "claude-haiku-4-5": Price(1, 5, source=(
        "platform.claude.com/docs/en/about-claude/models/overview (released 2025-10-15); cache rates per a summary "
        "of the pricing page of 2026-08-14 (third party)")),
    # Older models the SDK no longer lists, as the package's first table had them (2026-11-24).
    "claude-opus-4-1": Price(15, 75, source="Anthropic's pricing page, 2026-11-24"),
    "claude-opus-4": Price(15, 75, source="Anthropic's pricing page, 2026-11-24"),
    "claude-sonnet-4-5": Price(3, 15, source="Anthropic's pricing page, 2026-11-24"),
    "claude-sonnet-4": Price(3, 15, source="Anthropic's pricing page, 2026-11-24"),
    "claude-3-5-haiku": Price(0.8, 4, source="Anthropic's pricing page, 2026-11-24"),
    "claude-3-haiku": Price(0.25, 1.25, source="Anthropic's pricing page, 2026-11-24"),
}
# No price is published for claude-mythos-5-2 (verification-gated) or claude-mythos-preview.


@dataclass(frozen=True)
class Usage:
    """The token counts of one reply, flattened from the SDK's `Usage`, and its server-tool uses."""

    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_5m_tokens: int = 0
    cache_write_1h_tokens: int = 0
    web_searches: int = 0
    web_fetches: int = 0

    @property
    def cache_write_tokens(self) -> int:
        return self.cache_write_5m_tokens + self.cache_write_1h_tokens

    @property
    def context_tokens(self) -> int:
        """The tokens a reply leaves in the conversation's context: all its input and its output."""
        return self.input_tokens + self.cache_read_tokens + self.cache_write_tokens + self.output_tokens

    def __add__(self, other: Usage) -> Usage:
        return Usage(*(a + b for a, b in zip(self._counts(), other._counts())))

    def _counts(self) -> tuple[int, ...]:
        return (
            self.input_tokens,
            self.output_tokens,
            self.cache_read_tokens,
            self.cache_write_5m_tokens,
            self.cache_write_1h_tokens,
            self.web_searches,
            self.web_fetches,
        )


# No request reads or writes more tokens than this (context windows hold at most a few million): a
# count a server reports beyond it, or below zero, is not a count, and is held to this range.
MAX_REPORTED_TOKENS = 10**8


def usage_from_api(usage: Any, cache_ttl: str = "5m") -> Usage:
    """Flatten the SDK's usage object; cache writes not split by TTL count at `cache_ttl`'s rate.
    Counts are clamped to 0..MAX_REPORTED_TOKENS, so a server's nonsense cannot bill a kernel into
    its budget or below zero."""
    written = _count(usage.cache_creation_input_tokens)
    split = getattr(usage, "cache_creation", None)
    if split is not None:
        five = _count(split.ephemeral_5m_input_tokens)
        hour = _count(split.ephemeral_1h_input_tokens)
    else:
        five, hour = (0, written) if cache_ttl == "1h" else (written, 0)
    tools = getattr(usage, "server_tool_use", None)
    return Usage(
        input_tokens=_count(usage.input_tokens),
        output_tokens=_count(usage.output_tokens),
        cache_read_tokens=_count(usage.cache_read_input_tokens),
        cache_write_5m_tokens=five,
        cache_write_1h_tokens=hour,
        web_searches=(tools.web_search_requests or 0) if tools is not None else 0,
        web_fetches=(tools.web_fetch_requests or 0) if tools is not None else 0,
    )


def _count(value: Any) -> int:
    try:
        return min(max(int(value or 0), 0), MAX_REPORTED_TOKENS)
    except (TypeError, ValueError, OverflowError):  # not a number at all (a string, NaN, infinity)
        return 0


def streamed_tokens(message: Any) -> int:
    """About the output tokens of a reply's text and thinking so far, four characters a token: the API
    counts them only in its last event, which a reply cut short never sends."""
    chars = sum(len(getattr(block, "text", "") or getattr(block, "thinking", "") or "") for block in message.content)
    return -(-chars // 4)


def parse_prices(extra: Mapping[str, Mapping[str, float]]) -> dict[str, Price]:
    """User-configured prices; a KeyError, TypeError or ValueError says what is wrong."""
    prices = {name: Price(float(price["input"]), float(price["output"])) for name, price in extra.items()}
    if any(price.input < 0 or price.output < 0 for price in prices.values()):
        raise ValueError("prices cannot be negative")
    return prices


class PriceTable:
    """The built-in prices with the user's configured ones on top, parsed once. A user's key is an id
    prefix; the longest match wins, the user's on a tie."""

    def __init__(self, extra: Mapping[str, Mapping[str, float]] | None = None) -> None:
        self._extra = parse_prices(extra or {})

    def price(self, model: str) -> Price | None:
        own = max((key for key in self._extra if model.startswith(key)), key=len, default="")
        built_in = table_key(model, PRICES)
        if own and len(own) >= len(built_in):
            return self._extra[own]
        return PRICES[built_in] if built_in else None

    def cost(self, model: str, usage: Usage, *, batch: bool = False) -> float | None:
        """Dollars for `usage` on `model`; `batch`: at Message Batches prices."""
        dollars = cost(usage, self.price(model))
        return dollars * BATCH_DISCOUNT if batch and dollars is not None else dollars


def price_for(model: str, extra: Mapping[str, Mapping[str, float]] | None = None) -> Price | None:
    """The price of `model`: user-configured prices first, then the built-in table."""
    return PriceTable(extra).price(model)


def cost(usage: Usage, price: Price | None) -> float | None:
    """The dollars of one request's `usage` (a tiered price is chosen by that request's prompt)."""
    if price is None:
        return None
    if price.above is not None and usage.input_tokens + usage.cache_read_tokens + usage.cache_write_tokens > price.above[0]:
        price = price.above[1]
    input_rate = price.input / 1e6
    return (
        usage.input_tokens * input_rate
        + usage.cache_write_5m_tokens * input_rate * CACHE_WRITE_5M
        + usage.cache_write_1h_tokens * input_rate * CACHE_WRITE_1H
        + usage.cache_read_tokens * input_rate * price.cache_read
        + usage.output_tokens * price.output / 1e6
        + usage.web_searches * WEB_SEARCH_PER_USE
    )


def format_cost(dollars: float | None) -> str:
    if dollars is None:
        return "cost n/a"
    return f"${dollars:.4f}" if dollars < 1 else f"${dollars:,.2f}"


def footer(model: str, usage: Usage, turn_cost: float | None, chat_cost: float | None, budget_left: float | None = None) -> str:
    """The one line under an answer: tokens, this turn's cost, the conversation's so far, and where
    the kernel stands against its budget if one is set."""
    line = (
        f"{model} · {usage.input_tokens:,} in / {usage.output_tokens:,} out tokens · "
        f"cache {usage.cache_read_tokens:,} read / {usage.cache_write_tokens:,} written · {_tool_uses(usage)}"
        f"{format_cost(turn_cost)} this turn · {format_cost(chat_cost)} this chat"
    )
    if budget_left is None:
        return line
    if budget_left < 0:
        return f"{line} · {format_cost(-budget_left)} over budget"
    return f"{line} · {format_cost(budget_left)} of budget left"


def _tool_uses(usage: Usage) -> str:
    """The server-tool uses of a turn and what the searches cost, for the footer; "" when none."""
    uses = []
    if usage.web_searches:
        plural = "es" if usage.web_searches != 1 else ""
        uses.append(f"{usage.web_searches:,} web search{plural} ({format_cost(usage.web_searches * WEB_SEARCH_PER_USE)})")
    if usage.web_fetches:
        uses.append(f"{usage.web_fetches:,} web fetch{'es' if usage.web_fetches != 1 else ''}")
    return "".join(f"{use} · " for use in uses)


@dataclass
class Spend:
    turns: int = 0
    usage: Usage = field(default_factory=Usage)
    cost: float = 0.0
    cost_known: bool = True

    def add(self, usage: Usage, turn_cost: float | None) -> None:
        self.turns += 1
        self.usage = self.usage + usage
        self.cost += turn_cost or 0.0
        self.cost_known = self.cost_known and turn_cost is not None

    @property
    def known_cost(self) -> float | None:
        return self.cost if self.cost_known else None

    def __add__(self, other: Spend) -> Spend:
        return Spend(self.turns + other.turns, self.usage + other.usage, self.cost + other.cost,
                     self.cost_known and other.cost_known)


@dataclass
class Ledger:
    """What the kernel has spent, by conversation and model; it outlives `--new`."""

    spends: dict[tuple[str, str], Spend] = field(default_factory=dict)

    def add(self, chat: str, model: str, usage: Usage, turn_cost: float | None) -> None:
        self.spends.setdefault((chat, model), Spend()).add(usage, turn_cost)

    @property
    def total(self) -> float:
        """Dollars spent on the models with a known price."""
        return sum(spend.cost for spend in self.spends.values())
