"""What a map job shows, as (Markdown, plain text): its plan, the live preview, the estimate, the batches
it submitted, and its result with the rows that failed and what the job cost.

Only what a replay reproduces exactly goes here (no clock, no elapsed time): these are the outputs a
saved notebook keeps. Plain data in, text out.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .errors import one_line
from .markdown import literal
from .pricing import Usage, format_cost

__all__ = ["PlanFacts", "plan_report", "dry_run_lines", "preview_report", "estimate_line", "submitted_line",
           "summary_report", "map_footer", "ERRORS_LISTED"]

ERRORS_LISTED = 10  # failed rows listed under the cell; the rest are in NAME_errors
_SHOWN = 100  # characters of an answer in the preview


@dataclass(frozen=True)
class PlanFacts:
    frame: str
    rows: int
    prompts: int
    engine: str
    why: str  # why this engine, when auto chose it
    model: str
    schema: str  # the schema described, or ""
    system: bool
    input_tokens: int  # the whole job's, estimated from the sample
    counted: str  # how: "counted by the API on 3" or why it is a rough estimate
    input_cost: float | None


def plan_report(facts: PlanFacts) -> tuple[str, str]:
    repeats = facts.rows - facts.prompts
    head = (
        f"claude_map {facts.frame}: {facts.rows:,} rows, {facts.prompts:,} distinct prompts"
        + (f" ({repeats:,} row{' repeats' if repeats == 1 else 's repeat'} another's prompt)" if repeats else "")
        + f" · {facts.engine}{f' ({facts.why})' if facts.why else ''} · {facts.model}"
        + (f" · {facts.schema}" if facts.schema else "")
        + f" · system prompt: {'yes, cached' if facts.system else 'none'}"
    )
    prices = "batch prices" if facts.engine == "batch" else "list prices"
    tail = (
        f"input about {facts.input_tokens:,} tokens ({facts.counted}) · "
        f"{format_cost(facts.input_cost)} at {prices}"
    )
    return f"**{literal(head)}**\n\n{literal(tail)}", f"{head}\n{tail}"


def dry_run_lines(max_tokens: int, prompts: int, output_cost: float | None, preview: int) -> tuple[str, str]:
    line = (
        f"Dry run: nothing was sent. Output at most {max_tokens:,} tokens a prompt, up to "
        f"{format_cost(output_cost)}; a run first answers {min(preview, prompts)} prompts live and "
        "estimates the output from them."
    )
    return literal(line), line


def preview_report(rows: list[tuple[Any, str]]) -> tuple[str, str]:
    """The preview's (row label, answer or reason) pairs as a small table."""
    head = f"Preview, answered live ({len(rows)} prompt{'s' if len(rows) != 1 else ''}):"
    cells = [(one_line(str(label), 40), one_line(text, _SHOWN)) for label, text in rows]
    markdown = [literal(head), "", "| row | answer |", "|---|---|"] + [f"| {literal(a)} | {literal(b)} |" for a, b in cells]
    plain = [head] + [f"  {a}: {b}" for a, b in cells]
    return "\n".join(markdown), "\n".join(plain)


def estimate_line(left: int, cost: float | None, batch: bool, usage: Usage, per_prompt: int,
                  spent: float, budget: float) -> tuple[str, str]:
    prices = "batch prices" if batch else "list prices"
    line = (
        f"Estimate for the other {left:,} prompts: about {format_cost(cost)} at {prices} (about "
        f"{usage.input_tokens:,} input and {usage.output_tokens:,} output tokens, {per_prompt:,} a prompt in the preview)"
    )
    if budget:
        line += f" · the kernel has spent {format_cost(spent)} of its {format_cost(budget)} budget"
    return literal(line), line


def submitted_line(batch_id: str, requests: int, job_file: str, job: str) -> tuple[str, str]:
    line = (f"batch {batch_id}: {requests:,} request{'s' if requests != 1 else ''} submitted; {job_file} holds the job, so an interrupt "
            f"or a restart loses nothing (%claude_map --resume {job} collects it)")
    return literal(line), line


def summary_report(name: str | None, rows: int, prompts: int, failed: list[tuple[Any, str]], kind: str,
                   footer: str, retried: bool) -> tuple[str, str]:
    """The job's result: where it is, the failed rows (the first few), and the footer."""
    answered = rows - len(failed)
    stored = f"stored in {name} ({kind}) and {name}_errors" if name else f"the cell's value ({kind}), its .attrs['errors']"
    head = f"{answered:,} of {rows:,} rows answered, from {prompts:,} prompts · {stored}"
    lines = [head]
    if failed:
        after = " after one retry" if retried else ""
        lines.append(f"{len(failed):,} row{'s' if len(failed) != 1 else ''} failed{after}:")
        lines += [f"- row {one_line(str(label), 40)}: {reason}" for label, reason in failed[:ERRORS_LISTED]]
        if len(failed) > ERRORS_LISTED:
            lines.append(f"- … and {len(failed) - ERRORS_LISTED:,} more, in {name + '_errors' if name else 'the errors'}")
    markdown = [f"**{literal(head)}**"]
    if failed:
        markdown.append("\n".join(literal(line) for line in lines[1:]))
    markdown.append(f"<sub>{literal(footer)}</sub>")
    return "\n\n".join(markdown), "\n".join([*lines, footer])


def map_footer(model: str, usage: Usage, cost: float | None, batch_prompts: int, kernel: float) -> str:
    prices = f"{batch_prompts:,} prompts at batch prices" if batch_prompts else "list prices"
    return (
        f"{model} · {usage.input_tokens:,} in / {usage.output_tokens:,} out tokens · "
        f"cache {usage.cache_read_tokens:,} read / {usage.cache_write_tokens:,} written · "
        f"{format_cost(cost)} this job ({prices}) · kernel {format_cost(kernel)}"
    )
