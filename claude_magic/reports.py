"""Static reports as (Markdown, plain text): what a dry run would send, and what the kernel spent."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .markdown import literal
from .pricing import PRICES_SOURCE, Ledger, Spend, format_cost

__all__ = ["DryRun", "dry_run_report", "usage_report"]

# A dry run shows this much of a long text block: enough to recognise it, not a document's worth.
DRY_RUN_TEXT = 1_200


@dataclass(frozen=True)
class DryRun:
    """What a turn would send: the new message's blocks, the context around them, the estimate."""

    model: str
    blocks: list[dict[str, Any]]
    earlier_messages: int
    system: str | None
    max_tokens: int
    input_tokens: int
    counted: str  # how the token count was had: "counted by the API", or why it is an estimate
    input_cost: str
    output_cost: str
    web: bool = False  # the web search and fetch tools are on
    tools: tuple[str, ...] = ()  # the names of the tools defined (-k, or a conversation that used them)


def dry_run_report(run: DryRun) -> tuple[str, str]:
    head = (
        f"Dry run: nothing was sent. {run.model} · {run.earlier_messages} earlier messages · "
        f"system prompt: {'yes' if run.system else 'none'} · max_tokens {run.max_tokens:,}"
        + (" · web search and fetch on, billed per search" if run.web else "")
        + (f" · tools: {', '.join(run.tools)}" if run.tools else "")
    )
    tail = (
        f"{run.input_tokens:,} input tokens ({run.counted}) · {run.input_cost} to send · "
        f"output at most {run.max_tokens:,} tokens, up to {run.output_cost}"
    )
    views = [_block_views(block) for block in run.blocks]
    markdown = [f"**{literal(head)}**", *(md for md, _ in views), literal(tail)]
    plain = [head, *(text for _, text in views), tail]
    return "\n\n".join(markdown), "\n\n".join(plain)


def _block_views(block: dict[str, Any]) -> tuple[str, str]:
    """One block of a dry run as (Markdown, plain): text quoted as typed, an image as a thumbnail, a
    document as what it is (pages, tokens)."""
    if block["type"] == "document":
        from .documents import PageCounts, describe

        described = describe(block, PageCounts())
        return literal(f"[{described}]"), f"[{described}]"
    if block["type"] == "text":
        shown = _shortened(block["text"])
        quoted = "\n".join("> " + line if line else ">" for line in _literal_block(shown).splitlines())
        return quoted, shown
    source = block["source"]
    if source["type"] == "url":
        return f"image from <{source['url']}>", f"[image from {source['url']}]"
    from .images import thumbnail

    thumb = thumbnail(block)
    caption = f"image {thumb.width}×{thumb.height} px, {source['media_type']}, {thumb.sent_bytes:,} bytes"
    return f'<img src="data:image/png;base64,{thumb.png_base64}" alt="image"/> {caption}', f"[{caption}]"


def _shortened(text: str) -> str:
    if len(text) <= DRY_RUN_TEXT:
        return text
    return f"{text[:DRY_RUN_TEXT]}\n[… {len(text) - DRY_RUN_TEXT:,} more characters]"


def _literal_block(text: str) -> str:
    """Text shown as sent, line by line (the prompt is shown, not rendered)."""
    return "\n".join(literal(line) for line in text.splitlines())


def usage_report(ledger: Ledger) -> tuple[str, str]:
    """Tokens and cost by conversation and model, and the kernel's total."""
    header = ("chat", "model", "turns", "in", "out", "cache read", "cache written", "cost")
    rows = [_row(chat, model, spend) for (chat, model), spend in sorted(ledger.spends.items())]
    rows.append(_row("kernel", "all", sum(ledger.spends.values(), Spend())))
    markdown = "\n".join(
        ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        + ["| " + " | ".join(literal(cell) for cell in row) + " |" for row in rows]
    )
    widths = [max(len(cell) for cell in column) for column in zip(header, *rows)]
    plain = "\n".join("  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip() for row in (header, *rows))
    source = f"Prices: {PRICES_SOURCE}, and ClaudeMagics.prices."
    return f"{markdown}\n\n{literal(source)}", f"{plain}\n\n{source}"


def _row(chat: str, model: str, spend: Spend) -> tuple[str, ...]:
    usage = spend.usage
    return (
        chat, model, f"{spend.turns:,}", f"{usage.input_tokens:,}", f"{usage.output_tokens:,}",
        f"{usage.cache_read_tokens:,}", f"{usage.cache_write_tokens:,}", format_cost(spend.known_cost),
    )
