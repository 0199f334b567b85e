"""The fake Claude API's model catalogue (tests/fakeapi.py): ``GET /v1/models`` and
``GET /v1/models/{model_id}``, shaped as anthropic 2.15's ``types/model_info.py`` (and the
capability types it nests).

The default catalogue's dates and limits are illustrative test data, not the real models'.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from fake_common import invalid, not_found, paginate

THINKING_TYPES = ("adaptive", "between_tools", "disabled", "enabled")
EFFORT_LEVELS = ("low", "medium", "high", "xhigh", "max")
LIFECYCLES = ("active", "deprecated", "retired")
#: The plain ``{"supported": bool}`` capabilities of ``ModelCapabilities``.
FEATURES = ("batch", "citations", "code_execution", "image_input", "pdf_input", "structured_outputs")
CONTEXT_STRATEGIES = ("clear_thinking_20251015", "clear_tool_uses_20250919", "compact_20260112")
SERVER_TOOLS = ("code_execution", "web_search")


@dataclasses.dataclass(frozen=True)
class FakeModel:
    """One catalogue entry.  ``thinking`` lists the accepted ``thinking.type`` values and
    ``efforts`` the accepted ``output_config.effort`` levels (empty: no effort parameter).

    ``thinking_display`` is the display used when a request sets none: with ``"omitted"``
    thinking blocks come back empty, only signed.  It is not part of ``ModelInfo`` (the SDK
    says only that "the default depends on the model")."""

    id: str
    display_name: str
    created_at: str
    thinking: tuple[str, ...] = ("disabled", "enabled")
    efforts: tuple[str, ...] = ()
    thinking_display: str = "summarized"
    max_input_tokens: int = 200_000
    max_tokens: int = 64_000
    line: str | None = None
    lifecycle: str = "active"
    deprecated_at: str | None = None
    retires_at: str | None = None
    features: frozenset[str] = frozenset(FEATURES)
    context_management: frozenset[str] = frozenset(CONTEXT_STRATEGIES[:2])
    server_tools: frozenset[str] = frozenset(SERVER_TOOLS)

    def __post_init__(self) -> None:
        for name, values, allowed in [
            ("thinking", self.thinking, THINKING_TYPES),
            ("efforts", self.efforts, EFFORT_LEVELS),
            ("features", self.features, FEATURES),
            ("context_management", self.context_management, CONTEXT_STRATEGIES),
            ("server_tools", self.server_tools, SERVER_TOOLS),
        ]:
            if set(values) - set(allowed):
                raise ValueError(f"{name}: unknown {sorted(set(values) - set(allowed))}")
        if self.lifecycle not in LIFECYCLES or self.thinking_display not in ("summarized", "omitted"):
            raise ValueError("lifecycle or thinking_display out of range")

    def info(self) -> dict[str, Any]:
        """The model as ``GET /v1/models/{id}`` returns it (a ``ModelInfo``)."""
        return {
            "type": "model",
            "id": self.id,
            "display_name": self.display_name,
            "created_at": self.created_at,
            "capabilities": self._capabilities(),
            "max_input_tokens": self.max_input_tokens,
            "max_tokens": self.max_tokens,
            "line": self.line,
            "lifecycle": self.lifecycle,
            "deprecated_at": self.deprecated_at,
            "retires_at": self.retires_at,
        }

    def _capabilities(self) -> dict[str, Any]:
        thinks = "adaptive" in self.thinking or "enabled" in self.thinking
        return {
            **{name: _support(name in self.features) for name in FEATURES},
            "context_management": _group(self.context_management, CONTEXT_STRATEGIES),
            "effort": _group(self.efforts, EFFORT_LEVELS),
            "server_tools": _group(self.server_tools, SERVER_TOOLS),
            "thinking": {"supported": thinks, "types": {t: _support(t in self.thinking) for t in THINKING_TYPES}},
        }


def _support(flag: bool) -> dict[str, bool]:
    return {"supported": bool(flag)}


def _group(present: Any, names: tuple[str, ...]) -> dict[str, Any]:
    """``{"supported": any, name: {"supported": ...}, ...}`` -- the shape of the effort,
    server-tool and context-management capabilities."""
    return {"supported": bool(present), **{name: _support(name in present) for name in names}}


DEFAULT_MODELS: tuple[FakeModel, ...] = (
    FakeModel(
        "claude-haiku-5-5", "Claude Haiku 5.5", "2026-10-07T00:00:00Z",
        thinking=("adaptive", "disabled"), efforts=("low", "medium", "high", "max"), thinking_display="omitted",
        max_input_tokens=1_000_000, max_tokens=128_000, line="haiku",
    ),
    FakeModel(
        "claude-sonnet-5-5", "Claude Sonnet 5.5", "2026-09-28T00:00:00Z",
        thinking=("adaptive", "between_tools"), efforts=("low", "medium", "high", "max"), thinking_display="omitted",
        max_input_tokens=1_000_000, max_tokens=128_000, line="sonnet",
    ),
    FakeModel(
        # thinks always (no "disabled"), and hides its thinking unless asked for a summary
        "claude-opus-5-5", "Claude Opus 5.5", "2026-09-22T00:00:00Z",
        thinking=("adaptive",), efforts=("low", "medium", "high", "max"), thinking_display="omitted",
        max_input_tokens=1_000_000, max_tokens=128_000, line="opus", context_management=frozenset(CONTEXT_STRATEGIES),
    ),
    FakeModel(
        "claude-opus-4-8", "Claude Opus 4.8", "2026-06-02T00:00:00Z",
        thinking=("adaptive", "disabled"), efforts=EFFORT_LEVELS, thinking_display="omitted",
        max_input_tokens=1_000_000, max_tokens=128_000, line="opus",
        context_management=frozenset(CONTEXT_STRATEGIES),
    ),
    FakeModel(
        "claude-sonnet-4-6", "Claude Sonnet 4.6", "2026-02-17T00:00:00Z",
        thinking=("adaptive", "disabled", "enabled"), efforts=("low", "medium", "high", "max"), line="sonnet",
    ),
    FakeModel(
        "claude-opus-4-6", "Claude Opus 4.6", "2026-02-05T00:00:00Z",
        thinking=("adaptive", "disabled", "enabled"), efforts=("low", "medium", "high", "max"),
        max_tokens=128_000, line="opus", context_management=frozenset(CONTEXT_STRATEGIES),
    ),
    FakeModel(
        "claude-opus-4-5", "Claude Opus 4.5", "2025-11-24T00:00:00Z",
        efforts=("low", "medium", "high"), line="opus",
        # deprecated, retiring on the day anthropic 2.15's _data/deprecated_models.py names
        lifecycle="deprecated", deprecated_at="2026-04-22T00:00:00Z", retires_at="2027-01-22T00:00:00Z",
    ),
    FakeModel("claude-haiku-4-5", "Claude Haiku 4.5", "2025-10-15T00:00:00Z", line="haiku"),
)


def list_models(models: dict[str, FakeModel], query: dict[str, list[str]]) -> dict[str, Any]:
    """``GET /v1/models``: newest first; ``lifecycle[]`` filters (default active and deprecated)."""
    wanted = query.get("lifecycle[]") or query.get("lifecycle") or ["active", "deprecated"]
    for value in wanted:
        if value not in LIFECYCLES:
            raise invalid("lifecycle: Input should be 'active', 'deprecated' or 'retired'")
    chosen = [m for m in models.values() if m.lifecycle in wanted]
    chosen.sort(key=lambda m: m.created_at, reverse=True)
    return paginate([m.info() for m in chosen], query)


def get_model(models: dict[str, FakeModel], model_id: str) -> dict[str, Any]:
    """``GET /v1/models/{model_id}``; an unknown id is a 404 ``not_found_error``."""
    if model_id not in models:
        raise not_found(f"model: {model_id}")  # the real API's wording, on belief
    return models[model_id].info()
