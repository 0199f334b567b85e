"""Model names and what each model can do.

Owns the aliases a user may type after `-m` and the per-model facts the request builder needs
(adaptive thinking or a token budget, context window). One table, matched by id prefix, so dated
snapshot ids (`claude-haiku-4-5-20251001`) get their family's facts.
"""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_MODEL = "claude-opus-4-6"

ALIASES: dict[str, str] = {
    "opus": "claude-opus-4-6",
    "sonnet": "claude-sonnet-4-6",
    "haiku": "claude-haiku-4-5",
}


@dataclass(frozen=True)
class ModelInfo:
    adaptive_thinking: bool
    context_window: int = 200_000


_MODELS: dict[str, ModelInfo] = {
    "claude-opus-4-6": ModelInfo(adaptive_thinking=True),
    "claude-sonnet-4-6": ModelInfo(adaptive_thinking=True),
    "claude-opus-4-5": ModelInfo(adaptive_thinking=False),
    "claude-sonnet-4-5": ModelInfo(adaptive_thinking=False),
    "claude-haiku-4-5": ModelInfo(adaptive_thinking=False),
}

# Unknown ids are assumed to be older models: budget thinking is the form every thinking model takes.
_UNKNOWN = ModelInfo(adaptive_thinking=False)


def resolve(name: str) -> str:
    """The model id for an alias or id; ids pass through so new models work without a release."""
    name = name.strip()
    return ALIASES.get(name.lower(), name)


def info(model: str) -> ModelInfo:
    return _MODELS.get(longest_prefix(model, _MODELS), _UNKNOWN)


def longest_prefix(model: str, table: dict[str, object]) -> str:
    """The longest key of `table` that `model` starts with, or "" if none does."""
    matches = [key for key in table if model.startswith(key)]
    return max(matches, key=len, default="")
