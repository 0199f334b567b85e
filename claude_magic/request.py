"""What goes to `messages.stream` for a turn: the request body, thinking, and token counts.

Owns the arguments of one API request given a conversation's messages and the turn's options:
automatic prompt caching, the system prompt, thinking (adaptive, or a budget the API accepts),
effort, the compaction beta for long conversations, and the tool definitions (the same every
turn, ahead of everything else in the cached prefix); and a rough token count for when the
API cannot be asked. No SDK here: the body is plain data.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from . import models
from .conversation import Message
from .errors import ClaudeError

__all__ = ["TurnOptions", "build_request", "thinking_config", "counted", "estimate_tokens", "COMPACTION_BETA", "NO_TOOL_CALLS"]

MIN_THINKING_BUDGET = 1024
COMPACTION_BETA = "compact-2026-01-12"
# The request's arguments that the token-counting endpoint takes too.
_COUNTED = (
    "model", "messages", "system", "thinking", "output_config", "cache_control", "betas", "context_management", "tools",
    "tool_choice",
)
# Sent when a turn's calls are spent (or it offers none), so that Claude answers. Only then: the API
# caches the messages under the tool_choice they were sent with, so a conversation that used tools
# keeps defining them, unchanged, in every later turn, and sends no tool_choice.
NO_TOOL_CALLS = {"type": "none"}


@dataclass(frozen=True)
class TurnOptions:
    """What one turn asks of the model, after config and flags are merged."""

    model: str
    max_tokens: int
    system: str | None = None
    cache_ttl: str = "5m"
    think: bool = False
    effort: str | None = None
    compact: bool = False
    tools: tuple[dict[str, Any], ...] = ()  # tool definitions


def build_request(messages: list[Message], options: TurnOptions) -> dict[str, Any]:
    """The keyword arguments of `client.messages.stream` for this turn.

    Caching is automatic (top-level `cache_control`): the breakpoint follows the last cacheable
    block, so each turn of a growing conversation reads the previous turns' prefix from cache.
    """
    cache_control: dict[str, str] = {"type": "ephemeral"}
    if options.cache_ttl == "1h":
        cache_control["ttl"] = "1h"
    request: dict[str, Any] = {
        "model": options.model,
        "max_tokens": options.max_tokens,
        "messages": messages,
        "cache_control": cache_control,
    }
    if options.system and options.system.strip():
        request["system"] = options.system
    if options.think:
        request["thinking"] = thinking_config(options.model, options.max_tokens)
    if options.effort:
        request["output_config"] = {"effort": options.effort}
    if options.tools:
        request["tools"] = list(options.tools)
    if options.compact:
        request["betas"] = [COMPACTION_BETA]
        request["context_management"] = {"edits": [{"type": "compact_20260112"}]}
    return request


def thinking_config(model: str, max_tokens: int) -> dict[str, Any]:
    """Adaptive thinking where the model has it; elsewhere a budget the API accepts
    (at least 1,024 tokens and below max_tokens), half the output limit."""
    if models.info(model).adaptive_thinking:
        return {"type": "adaptive"}
    if max_tokens <= MIN_THINKING_BUDGET:
        raise ClaudeError(
            f"Thinking on {model} needs room: use --max-tokens above {MIN_THINKING_BUDGET:,} (it is {max_tokens:,})."
        )
    return {"type": "enabled", "budget_tokens": max(MIN_THINKING_BUDGET, max_tokens // 2)}


def counted(request: dict[str, Any]) -> dict[str, Any]:
    """The arguments of `count_tokens` for `request`: the ones that endpoint takes."""
    return {key: request[key] for key in _COUNTED if key in request}


def estimate_tokens(request: dict[str, Any]) -> int:
    """A rough count when the API cannot be asked: four characters a token, ~1,600 an image."""
    images = text = 0
    blocks = [block for message in request["messages"] for block in _blocks(message["content"])]
    while blocks:
        block = blocks.pop()
        images += block.get("type") == "image"
        text += len(block.get("text", "") or block.get("thinking", ""))
        blocks += _blocks(block.get("content")) if block.get("type") == "tool_result" else []
    text += len(json.dumps(request["tools"])) if "tools" in request else 0
    return (text + len(request.get("system", ""))) // 4 + 1_600 * images


def _blocks(content: Any) -> list[dict[str, Any]]:
    return content if isinstance(content, list) else [{"type": "text", "text": content or ""}]
