"""The dated table of models shipped with the package, and what a model can do (`ModelFacts`).

What a model accepts comes from the Models API (`capabilities`); this table is the fallback for when
the API cannot be asked (offline, a fixture recorded without the lookup), and the one place that says
which line and release date each model of SDK 2.15's list has, which the aliases are chosen from.
Facts are from Anthropic's model pages as of `CHECKED`; an id the table does not know gets `guess`,
which refuses nothing the API might accept and sizes the context window small. Plain data: no SDK.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace

from .settings import EFFORTS

__all__ = [
    "ModelFacts", "BUILT_IN", "CHECKED", "THINKING_TYPES", "EFFORT_LEVELS", "FEATURES", "built_in", "guess",
    "table_key",
]

CHECKED = "2026-12-01"

THINKING_TYPES = ("adaptive", "enabled", "disabled", "between_tools")
EFFORT_LEVELS = EFFORTS  # every level the API knows; each model takes some of them
# What a model may support, named as the Models API's capabilities are (web_search is a server tool;
# compaction is the compact_20260112 context edit).
FEATURES = ("image_input", "pdf_input", "citations", "structured_outputs", "batch", "web_search", "compaction")


@dataclass(frozen=True)
class ModelFacts:
    """What one model accepts and how much it holds; `source` says where that was learnt:
    "api" (the Models API), "built-in" (this table) or "guess"."""

    id: str
    line: str | None = None
    released: str = ""  # ISO date
    thinking: frozenset[str] = frozenset({"disabled"})  # the thinking.type values it accepts
    efforts: tuple[str, ...] = ()  # the effort levels it accepts, low to max; () for no effort setting
    max_input_tokens: int = 200_000
    max_tokens: int = 64_000
    features: frozenset[str] = frozenset()
    lifecycle: str = "active"
    display_name: str = ""
    source: str = "built-in"

    @property
    def thinks(self) -> bool:
        return bool(self.thinking & {"adaptive", "enabled"})

    def supports(self, feature: str) -> bool:
        return feature in self.features


_ALL = frozenset(FEATURES) - {"compaction"}
_LOW_TO_MAX = ("low", "medium", "high", "max")
_ADAPTIVE_ONLY = frozenset({"adaptive"})  # thinking always on: "disabled" is refused too
_BUDGET_ONLY = frozenset({"enabled", "disabled"})


def _model(id: str, line: str, released: str, thinking: Iterable[str], efforts: tuple[str, ...],
           window: int = 1_000_000, out: int = 128_000, extra: frozenset[str] = frozenset(),
           lifecycle: str = "active") -> ModelFacts:
    return ModelFacts(id, line, released, frozenset(thinking), efforts, window, out, _ALL | extra, lifecycle)


# From the models overview and each model's page on platform.claude.com, and the effort page (which
# levels each takes: xhigh only where that page lists it). Windows are max_input_tokens, outputs
# max_tokens. claude-mythos-preview's window is not published: it gets the conservative 200K.
BUILT_IN: dict[str, ModelFacts] = {facts.id: facts for facts in (
    _model("claude-fable-5-2", "fable", "2026-11-09", _ADAPTIVE_ONLY, _LOW_TO_MAX),
    _model("claude-mythos-5-2", "mythos", "2026-11-09", _ADAPTIVE_ONLY, _LOW_TO_MAX),
    _model("claude-haiku-5-5", "haiku", "2026-10-07", {"adaptive", "disabled"}, _LOW_TO_MAX),
    _model("claude-sonnet-5-5", "sonnet", "2026-09-28", {"adaptive", "between_tools"}, _LOW_TO_MAX),
    _model("claude-opus-5-5", "opus", "2026-09-22", _ADAPTIVE_ONLY, _LOW_TO_MAX),
    _model("claude-fable-5-1", "fable", "2026-09-01", _ADAPTIVE_ONLY, _LOW_TO_MAX),
    _model("claude-mythos-5-1", "mythos", "2026-09-01", _ADAPTIVE_ONLY, _LOW_TO_MAX),
    _model("claude-opus-5", "opus", "2026-07-24", {"adaptive", "disabled"}, EFFORT_LEVELS),
    _model("claude-sonnet-5", "sonnet", "2026-06-30", {"adaptive", "disabled"}, EFFORT_LEVELS),
    _model("claude-fable-5", "fable", "2026-06-09", _ADAPTIVE_ONLY, EFFORT_LEVELS),
    _model("claude-mythos-5", "mythos", "2026-06-09", _ADAPTIVE_ONLY, EFFORT_LEVELS),
    _model("claude-opus-4-8", "opus", "2026-05-28", {"adaptive", "disabled"}, EFFORT_LEVELS),
    _model("claude-opus-4-7", "opus", "2026-04-16", _ADAPTIVE_ONLY, EFFORT_LEVELS),
    _model("claude-mythos-preview", "mythos", "", _ADAPTIVE_ONLY, _LOW_TO_MAX, window=200_000,
           lifecycle="deprecated"),
    _model("claude-sonnet-4-6", "sonnet", "2026-02-17", {"adaptive", "enabled", "disabled"}, _LOW_TO_MAX),
    _model("claude-opus-4-6", "opus", "2026-02-05", {"adaptive", "enabled", "disabled"}, _LOW_TO_MAX,
           extra=frozenset({"compaction"})),
    _model("claude-opus-4-5", "opus", "2025-11-24", _BUDGET_ONLY, ("low", "medium", "high"), window=200_000,
           out=64_000, lifecycle="deprecated"),
    _model("claude-haiku-4-5", "haiku", "2025-10-15", _BUDGET_ONLY, (), window=200_000, out=64_000),
)}

# A dated snapshot id (claude-haiku-4-5-20251001) is its model; claude-mythos-5-2 is not claude-mythos-5.
_SNAPSHOT = re.compile(r"-\d{8}$")
_NEXT_VERSION = re.compile(r"-\d{1,2}(?:-|$)")


def table_key(model: str, table: Mapping[str, object]) -> str:
    """The key of `table` that names `model`: the id itself, else the longest key `model` extends by
    something other than a version number (a snapshot date, a user's own suffix); "" if none does."""
    matches = [key for key in table if model == key or (model.startswith(key) and _extends(model[len(key):]))]
    return max(matches, key=len, default="")


def _extends(rest: str) -> bool:
    return rest.startswith("-") and (bool(_SNAPSHOT.fullmatch(rest)) or not _NEXT_VERSION.match(rest))


def built_in(model: str) -> ModelFacts | None:
    """The table's facts for `model` (a snapshot id gets its model's), or None."""
    key = table_key(model, BUILT_IN)
    return replace(BUILT_IN[key], id=model) if key else None


def guess(model: str) -> ModelFacts:
    """Facts for an id nobody here knows: every thinking type and effort level (the API is the judge
    of those), every feature, and a 200K window, so warnings about its size come early, not late."""
    return ModelFacts(model, thinking=frozenset(THINKING_TYPES), efforts=EFFORT_LEVELS, features=frozenset(FEATURES),
                      source="guess")
