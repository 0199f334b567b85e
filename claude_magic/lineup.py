"""`%claude_models`: the models on offer as a table, in Markdown and plain text.

One row a model, in the order given (the Models API's, newest first): its line, context window and
output limit, the thinking and effort it takes, what else it supports, its price per million tokens,
and whether an alias or the default names it. Plain data in, text out.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from .catalog import ModelFacts
from .markdown import literal
from .models import ALIASES, resolve
from .pricing import Price, PriceTable
from .settings import Settings

__all__ = ["models_report", "lineup_report"]

_HEADER = ("model", "line", "context", "max out", "thinking", "effort", "also", "$ in / out per MTok", "")
# How the table names each feature, in ModelFacts.features' terms.
_FEATURE_WORDS = {
    "image_input": "images", "pdf_input": "PDFs", "citations": "citations", "structured_outputs": "schemas",
    "batch": "batch", "web_search": "web", "compaction": "compaction",
}


def lineup_report(listed: Iterable[ModelFacts], source: str, settings: Settings) -> tuple[str, str]:
    """`%claude_models`: the table of `listed`, priced and marked as `settings` would use them."""
    return models_report(listed, PriceTable(settings.prices), ALIASES, resolve(settings.model), source)


def models_report(
    listed: Iterable[ModelFacts], prices: PriceTable, aliases: Mapping[str, str], default: str, source: str,
) -> tuple[str, str]:
    """The table, and a line saying where its facts come from."""
    rows = [_row(facts, prices.price(facts.id), aliases, default) for facts in listed]
    markdown = "\n".join(
        ["| " + " | ".join(literal(cell) for cell in _HEADER) + " |", "|" + "---|" * len(_HEADER)]
        + ["| " + " | ".join(literal(cell) for cell in row) + " |" for row in rows]
    )
    widths = [max(len(cell) for cell in column) for column in zip(_HEADER, *rows)]
    plain = "\n".join("  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip() for row in (_HEADER, *rows))
    legend = (f"{source} Prices: claude_magic/pricing.py (each row names its source and date) and ClaudeMagics.prices; "
              "aliases from the package's dated table.")
    return f"{markdown}\n\n{literal(legend)}", f"{plain}\n\n{legend}"


def _row(facts: ModelFacts, price: Price | None, aliases: Mapping[str, str], default: str) -> tuple[str, ...]:
    names = [f"= {alias}" for alias, model in aliases.items() if model == facts.id]
    names += ["default"] if facts.id == default else []
    names += [facts.lifecycle] if facts.lifecycle != "active" else []
    also = [word for feature, word in _FEATURE_WORDS.items() if facts.supports(feature)]
    return (
        facts.id, facts.line or "", _tokens(facts.max_input_tokens), _tokens(facts.max_tokens), _thinking(facts),
        "/".join(facts.efforts) or "none", ", ".join(also), _price(price), ", ".join(names),
    )


def _thinking(facts: ModelFacts) -> str:
    kinds = [word for kind, word in (("adaptive", "adaptive"), ("enabled", "budget")) if kind in facts.thinking]
    if not kinds:
        return "none"
    return " + ".join(kinds) + ("" if "disabled" in facts.thinking else ", always on")


def _tokens(count: int) -> str:
    if count >= 1_000_000 and count % 1_000_000 == 0:
        return f"{count // 1_000_000}M"
    return f"{count // 1_000}K" if count % 1_000 == 0 else f"{count:,}"


def _price(price: Price | None) -> str:
    if price is None:
        return "cost n/a"
    text = f"{_dollars(price.input)} / {_dollars(price.output)}"
    if price.above is not None:
        limit, long = price.above
        text += f" (over {_tokens(limit)}: {_dollars(long.input)} / {_dollars(long.output)})"
    return text


def _dollars(amount: float) -> str:
    return f"${amount:g}" if amount == int(amount) else f"${amount:.2f}"
