"""Model names: the aliases a user may type after `-m`, and how a long conversation goes on.

The aliases `opus`, `sonnet` and `haiku` name the newest model of each line, by release date, that
has a known price, as of the dated table shipped with the package (`catalog`, `pricing`): a notebook
written with `-m opus` means the same model until the package itself is upgraded, not whenever a
model is released. The context plan reads the model's real window (`catalog.ModelFacts`).
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from .catalog import BUILT_IN, ModelFacts
from .errors import ClaudeError
from .pricing import PRICES
from .settings import DEFAULT_MODEL

__all__ = ["ALIASES", "DEFAULT_MODEL", "ContextPlan", "resolve", "context_plan", "COMPACT_FROM", "WARN_FROM"]

ALIAS_LINES = ("opus", "sonnet", "haiku")


def _newest_priced(line: str) -> str:
    priced = [facts for facts in BUILT_IN.values() if facts.line == line and facts.id in PRICES]
    return max(priced, key=lambda facts: facts.released).id


ALIASES: dict[str, str] = {line: _newest_priced(line) for line in ALIAS_LINES}


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


# From half the window on, turns go through the compaction beta, so the API can summarise earlier
# turns before the conversation outgrows the window; past WARN_FROM a model without it gets a warning.
COMPACT_FROM = 0.5
WARN_FROM = 0.8


@dataclass(frozen=True)
class ContextPlan:
    compact: bool = False
    warning: str = ""
    refusal: str = ""


def context_plan(facts: ModelFacts, context_tokens: int, compacted: bool) -> ContextPlan:
    """How a conversation of `context_tokens` (its last request and reply) continues on `facts.id`."""
    window, model = facts.max_input_tokens, facts.id
    if facts.supports("compaction") and (compacted or context_tokens >= COMPACT_FROM * window):
        return ContextPlan(compact=True)
    if compacted:
        return ContextPlan(refusal=(
            f"This conversation was compacted, and {model} cannot read compaction summaries: continue it "
            "with a model that compacts (%claude_models shows which), or start a fresh one with -n."
        ))
    if context_tokens >= WARN_FROM * window:
        return ContextPlan(warning=(
            f"This conversation holds about {context_tokens:,} of {model}'s {window:,} tokens and this "
            "model cannot compact it: start a fresh one with -n soon, or go on with a model that compacts "
            "(%claude_models shows which)."
        ))
    return ContextPlan()
