"""Prices and usage -> dollars, and what the kernel has spent.

One table of list prices per million tokens, with its source and date, matched by model-id prefix.
Users add or override prices through `%config ClaudeMagics.prices`. A model with no price costs
`None` ("cost n/a" on screen), never an exception.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .models import longest_prefix

__all__ = ["Price", "PRICES", "PRICES_SOURCE", "BATCH_DISCOUNT", "PriceTable", "Usage", "Spend", "Ledger", "usage_from_api",
           "price_for", "cost", "format_cost", "footer", "streamed_tokens"]

PRICES_SOURCE = "Anthropic's list prices (claude-api guide and pricing page), checked 2026-11-24"

# Cache writes cost a multiple of the input price that depends on how long the entry lives;
# cache reads cost a tenth of it.
CACHE_WRITE_5M = 1.25
CACHE_WRITE_1H = 2.0
CACHE_READ = 0.1
# Message Batches bill every token of a request at half the price (the cache multipliers apply on top).
BATCH_DISCOUNT = 0.5


@dataclass(frozen=True)
class Price:
    """US dollars per million tokens."""

    input: float
    output: float


PRICES: dict[str, Price] = {
    "claude-opus-4-6": Price(5.0, 25.0),
    "claude-opus-4-5": Price(5.0, 25.0),
    "claude-opus-4-1": Price(15.0, 75.0),
    "claude-opus-4": Price(15.0, 75.0),
    "claude-sonnet-4-6": Price(3.0, 15.0),
    "claude-sonnet-4-5": Price(3.0, 15.0),
    "claude-sonnet-4": Price(3.0, 15.0),
    "claude-haiku-4-5": Price(1.0, 5.0),
    "claude-3-5-haiku": Price(0.8, 4.0),
    "claude-3-haiku": Price(0.25, 1.25),
}


@dataclass(frozen=True)
class Usage:
    """The token counts of one reply, flattened from the SDK's `Usage`."""

    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_5m_tokens: int = 0
    cache_write_1h_tokens: int = 0

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
    return Usage(
        input_tokens=_count(usage.input_tokens),
        output_tokens=_count(usage.output_tokens),
        cache_read_tokens=_count(usage.cache_read_input_tokens),
        cache_write_5m_tokens=five,
        cache_write_1h_tokens=hour,
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
    """The built-in prices with the user's configured ones on top, parsed once."""

    def __init__(self, extra: Mapping[str, Mapping[str, float]] | None = None) -> None:
        self._table: dict[str, Price] = {**PRICES, **parse_prices(extra or {})}

    def price(self, model: str) -> Price | None:
        key = longest_prefix(model, self._table)
        return self._table[key] if key else None

    def cost(self, model: str, usage: Usage, *, batch: bool = False) -> float | None:
        """Dollars for `usage` on `model`; `batch`: at Message Batches prices."""
        dollars = cost(usage, self.price(model))
        return dollars * BATCH_DISCOUNT if batch and dollars is not None else dollars


def price_for(model: str, extra: Mapping[str, Mapping[str, float]] | None = None) -> Price | None:
    """The price of `model`: user-configured prices first, then the built-in table."""
    return PriceTable(extra).price(model)


def cost(usage: Usage, price: Price | None) -> float | None:
    if price is None:
        return None
    input_rate = price.input / 1e6
    return (
        usage.input_tokens * input_rate
        + usage.cache_write_5m_tokens * input_rate * CACHE_WRITE_5M
        + usage.cache_write_1h_tokens * input_rate * CACHE_WRITE_1H
        + usage.cache_read_tokens * input_rate * CACHE_READ
        + usage.output_tokens * price.output / 1e6
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
        f"cache {usage.cache_read_tokens:,} read / {usage.cache_write_tokens:,} written · "
        f"{format_cost(turn_cost)} this turn · {format_cost(chat_cost)} this chat"
    )
    if budget_left is None:
        return line
    if budget_left < 0:
        return f"{line} · {format_cost(-budget_left)} over budget"
    return f"{line} · {format_cost(budget_left)} of budget left"


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
