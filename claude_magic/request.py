"""What goes to `messages.stream` for a turn: the request body, thinking, and token counts.

Owns the arguments of one API request given a conversation's messages and the turn's options:
automatic prompt caching, the system prompt, thinking (adaptive with its summary shown, or a budget
the API accepts, as the model's facts say), effort, structured output, the tool definitions (the
kernel's tools of `-k`, the same every turn and ahead of everything else in the cached prefix, and
the web tools of `--web`), and the compaction beta for long conversations; and a rough token count
for when the API cannot be asked. Documents are cited where the model cites and no structured-output
schema is asked for, since the API refuses the two together. No SDK here: the body is plain data.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from .catalog import ModelFacts, built_in, guess
from .conversation import Message
from .errors import ClaudeError
from .web import web_tools

__all__ = ["TurnOptions", "build_request", "thinking_config", "cites", "counted", "estimate_tokens", "request_chars",
           "COMPACTION_BETA", "MAX_REQUEST_CHARS", "NO_TOOL_CALLS"]

MIN_THINKING_BUDGET = 1024
# The Messages API refuses a request body over 32 MB (its documented request size limit).
MAX_REQUEST_CHARS = 32 * 10**6
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
    output_format: dict[str, Any] | None = None  # structured output: `{"type": "json_schema", "schema": ...}`
    tools: tuple[dict[str, Any], ...] = ()  # the kernel's tool definitions (-k, or a conversation that used them)
    web: bool = False  # the web search and fetch server tools, for this turn
    facts: ModelFacts | None = field(default=None, compare=False)  # None: the built-in table's, or a guess

    @property
    def model_facts(self) -> ModelFacts:
        return self.facts or built_in(self.model) or guess(self.model)


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
        "messages": messages if _cites(options) else [_uncited(message) for message in messages],
        "cache_control": cache_control,
    }
    if options.system and options.system.strip():
        request["system"] = options.system
    if options.think:
        request["thinking"] = thinking_config(options.model_facts, options.max_tokens)
    output_config = {"effort": options.effort, "format": options.output_format}
    if any(output_config.values()):
        request["output_config"] = {key: value for key, value in output_config.items() if value}
    tools = [*options.tools, *(web_tools(cite=_cites(options)) if options.web else [])]
    if tools:
        request["tools"] = tools
    if options.compact:
        request["betas"] = [COMPACTION_BETA]
        request["context_management"] = {"edits": [{"type": "compact_20260112"}]}
    return request


def _cites(options: TurnOptions) -> bool:
    """Whether this turn's documents and fetched pages are cited: where the model cites, and not beside
    a structured-output format, which with citations is a 400 (Citations, "Feature compatibility").
    Decided for every message the turn sends, so a document from an earlier turn follows the model."""
    return options.model_facts.supports("citations") and not options.output_format


def cites(messages: list[Message]) -> bool:
    """Whether any document in `messages` asks for citations."""
    return any(map(_cited, _message_blocks(messages)))


def _uncited(message: Message) -> Message:
    """`message` with its documents' citations off, copied only if that changes something."""
    content = message["content"]
    if isinstance(content, str) or not any(map(_cited, content)):
        return message
    blocks = [{**block, "citations": {"enabled": False}} if _cited(block) else block for block in content]
    return {**message, "content": blocks}


def _cited(block: dict[str, Any]) -> bool:
    return block.get("type") == "document" and bool((block.get("citations") or {}).get("enabled"))


def thinking_config(facts: ModelFacts, max_tokens: int) -> dict[str, Any]:
    """Thinking that works and shows: adaptive where the model has it, with its summary asked for
    (newer models omit the thinking text unless asked, and every adaptive model takes the ask);
    elsewhere a budget the API accepts (at least 1,024 tokens and below max_tokens), half the limit."""
    if "adaptive" in facts.thinking:
        return {"type": "adaptive", "display": "summarized"}
    if max_tokens <= MIN_THINKING_BUDGET:
        raise ClaudeError(
            f"Thinking on {facts.id} needs room: use --max-tokens above {MIN_THINKING_BUDGET:,} (it is {max_tokens:,})."
        )
    return {"type": "enabled", "budget_tokens": max(MIN_THINKING_BUDGET, max_tokens // 2)}


def counted(request: dict[str, Any]) -> dict[str, Any]:
    """The arguments of `count_tokens` for `request`: the ones that endpoint takes."""
    return {key: request[key] for key in _COUNTED if key in request}


def estimate_tokens(request: dict[str, Any]) -> int:
    """A rough count when the API cannot be asked: four characters a token, ~1,600 an image."""
    blocks = list(_blocks(request))
    images = sum(block.get("type") == "image" for block in blocks)
    tools = len(json.dumps(request["tools"])) if "tools" in request else 0
    return (sum(map(_text_chars, blocks)) + tools) // 4 + 1_600 * images


def request_chars(request: dict[str, Any]) -> int:
    """About the size of the request's body: the characters of its text and of its images' base64
    data (a lower bound of its bytes, each character at least one)."""
    return sum(_text_chars(block) + len(block.get("source", {}).get("data", "") or "") for block in _blocks(request))


def _blocks(request: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every content block of the request (those inside tool results too), its system prompt as one."""
    yield {"type": "text", "text": request.get("system", "")}
    yield from _message_blocks(request["messages"])


def _message_blocks(messages: list[Message]) -> Iterator[dict[str, Any]]:
    for message in messages:
        yield from _content(message["content"])


def _content(content: Any) -> Iterator[dict[str, Any]]:
    for block in content if isinstance(content, list) else [{"type": "text", "text": content or ""}]:
        yield block
        if block.get("type") == "tool_result":
            yield from _content(block.get("content"))


def _text_chars(block: dict[str, Any]) -> int:
    return len(block.get("text", "") or block.get("thinking", "") or "")
