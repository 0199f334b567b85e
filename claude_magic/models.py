"""Model names and what each model can do.

Owns the aliases a user may type after `-m` and the per-model facts the request builder needs
(adaptive thinking or a token budget, context window). One table, matched by id prefix, so dated
snapshot ids (`claude-haiku-4-5-20251001`) get their family's facts.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass

from .errors import ClaudeError
from .settings import DEFAULT_MODEL

__all__ = ["ALIASES", "DEFAULT_MODEL", "ModelInfo", "ContextPlan", "resolve", "info", "context_plan"]

ALIASES: dict[str, str] = {
    "opus": "claude-opus-4-6",
    "sonnet": "claude-sonnet-4-6",
    "haiku": "claude-haiku-4-5",
}


@dataclass(frozen=True)
class ModelInfo:
    adaptive_thinking: bool
    compaction: bool = False  # the compact_20260112 context edit (a beta)
    context_window: int = 200_000


_MODELS: dict[str, ModelInfo] = {
    "claude-opus-4-6": ModelInfo(adaptive_thinking=True, compaction=True),
    "claude-sonnet-4-6": ModelInfo(adaptive_thinking=True),
    "claude-opus-4-5": ModelInfo(adaptive_thinking=False),
    "claude-sonnet-4-5": ModelInfo(adaptive_thinking=False),
    "claude-haiku-4-5": ModelInfo(adaptive_thinking=False),
}

# Unknown ids are assumed to be older models: budget thinking is the form every thinking model takes.
_UNKNOWN = ModelInfo(adaptive_thinking=False)


def resolve(name: str) -> str:
    """The model id for an alias or id; ids pass through so new models work without a release.

    A bare word that is no alias is a typo, not an id (ids have dashes and version numbers)."""
    name = name.strip()
    if name.lower() in ALIASES:
        return ALIASES[name.lower()]
    if name.isalpha():
        close = difflib.get_close_matches(name.lower(), ALIASES, n=1)
        hint = f"did you mean {close[0]}? " if close else ""
        raise ClaudeError(f"Unknown model {name!r}: {hint}Use opus, sonnet, haiku or a model id such as {DEFAULT_MODEL}.")
    return name


def info(model: str) -> ModelInfo:
    return _MODELS.get(longest_prefix(model, _MODELS), _UNKNOWN)


def longest_prefix(model: str, table: Mapping[str, object]) -> str:
    """The longest key of `table` that `model` starts with, or "" if none does."""
    matches = [key for key in table if model.startswith(key)]
    return max(matches, key=len, default="")


# From half the window on, turns go through the compaction beta, so the API can summarise earlier
# turns before the conversation outgrows the window; past WARN_FROM a model without it gets a warning.
COMPACT_FROM = 0.5
WARN_FROM = 0.8


@dataclass(frozen=True)
class ContextPlan:
    compact: bool = False
    warning: str = ""
    refusal: str = ""


def context_plan(model: str, context_tokens: int, compacted: bool) -> ContextPlan:
    """How a conversation of `context_tokens` (its last request and reply) continues on `model`."""
    facts = info(model)
    if facts.compaction and (compacted or context_tokens >= COMPACT_FROM * facts.context_window):
        return ContextPlan(compact=True)
    if compacted:
        return ContextPlan(refusal=(
            f"This conversation was compacted, and {model} cannot read compaction summaries: "
            "continue it with -m opus, or start a fresh one with -n."
        ))
    if context_tokens >= WARN_FROM * facts.context_window:
        return ContextPlan(warning=(
            f"This conversation holds about {context_tokens:,} of {model}'s {facts.context_window:,} "
            "tokens and this model cannot compact it: start a fresh one with -n soon, or go on with -m opus."
        ))
    return ContextPlan()
