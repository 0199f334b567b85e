"""Request validation for the fake Claude API (tests/fakeapi.py): the shape rules the real API
enforces, as real-shaped errors.

Rules whose exact wording or existence cannot be derived from the ``anthropic`` SDK's types are
marked "on belief" where they are made: they follow the documented behaviour as remembered.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator
from typing import Any

from fake_common import invalid, not_found
from fake_content import estimate_tokens

#: The largest number of ``cache_control`` breakpoints the API accepts.
MAX_CACHE_BREAKPOINTS = 4

# --------------------------------------------------------------------------- messages


def _count_cache_control(value: Any) -> int:
    """Every dict carrying a non-null ``cache_control`` below ``value``."""
    if isinstance(value, dict):
        own = 1 if value.get("cache_control") is not None else 0
        return own + sum(_count_cache_control(v) for k, v in value.items() if k != "cache_control")
    if isinstance(value, list):
        return sum(_count_cache_control(v) for v in value)
    return 0


def _check_text(block: dict[str, Any], where: str) -> None:
    if not isinstance(block.get("text"), str):
        raise invalid(f"{where}.text: Field required")
    if block["text"] == "":
        raise invalid(f"{where}: text content blocks must be non-empty")
    if not block["text"].strip():
        raise invalid(f"{where}.text: text content blocks must contain non-whitespace text")


def _check_tool_use(block: dict[str, Any], where: str) -> None:
    for key, kind, name in (("id", str, "string"), ("name", str, "string"), ("input", dict, "object")):
        if not isinstance(block.get(key), kind):
            raise invalid(f"{where}.tool_use.{key}: Input should be a valid {name}")


def _check_tool_result(block: dict[str, Any], where: str) -> None:
    if not isinstance(block.get("tool_use_id"), str):
        raise invalid(f"{where}.tool_result.tool_use_id: Field required")
    content = block.get("content")
    if isinstance(content, list):
        _check_blocks(content, f"{where}.content")
    elif content is not None and not isinstance(content, str):
        raise invalid(f"{where}.tool_result.content: Input should be a valid string or list of content blocks")


#: Each document source type (``DocumentBlockParam.source``): its fields, a literal or a type.
_DOCUMENT_SOURCES: dict[str, dict[str, Any]] = {
    "base64": {"media_type": "application/pdf", "data": str},
    "text": {"media_type": "text/plain", "data": str},
    "content": {"content": (str, list)},
    "url": {"url": str},
    "file": {"file_id": str},
}


def _is_pdf(data: str) -> bool:
    try:
        return base64.b64decode(data, validate=True).startswith(b"%PDF-")
    except ValueError:
        return False


def _check_source(source: Any, where: str) -> None:
    if not isinstance(source, dict):
        raise invalid(f"{where}.source: Field required")
    kind = source.get("type")
    if kind not in _DOCUMENT_SOURCES:
        tags = ", ".join(f"'{t}'" for t in _DOCUMENT_SOURCES)
        raise invalid(f"{where}.source: Input tag '{kind}' found using 'type' does not match any of the expected tags: {tags}")
    for key, expected in _DOCUMENT_SOURCES[kind].items():
        value = source.get(key)
        if isinstance(expected, str) and value != expected:
            raise invalid(f"{where}.source.{kind}.{key}: Input should be '{expected}'")
        if not isinstance(expected, str) and not isinstance(value, expected):
            raise invalid(f"{where}.source.{kind}.{key}: Field required")
    if kind == "base64" and not _is_pdf(source["data"]):
        raise invalid(f"{where}.source.base64.data: The PDF specified was not valid.")  # on belief
    if kind == "url" and not source["url"].startswith(("https://", "http://")):
        raise invalid(f"{where}.source.url.url: the URL must use http or https")  # on belief
    if kind == "content" and isinstance(source["content"], list):
        _check_blocks(source["content"], f"{where}.source.content")


def _check_document(block: dict[str, Any], where: str) -> None:
    _check_source(block.get("source"), f"{where}.document")
    citations = block.get("citations")
    if citations is not None and not (isinstance(citations, dict) and isinstance(citations.get("enabled", False), bool)):
        raise invalid(f"{where}.document.citations.enabled: Input should be a valid boolean")
    for key in ("title", "context"):
        if block.get(key) is not None and not isinstance(block[key], str):
            raise invalid(f"{where}.document.{key}: Input should be a valid string")


_BLOCK_CHECKS = {
    "text": _check_text,
    "tool_use": _check_tool_use,
    "tool_result": _check_tool_result,
    "document": _check_document,
}


def _file_blocks(blocks: list[Any], where: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every block below ``blocks`` whose source is a ``file``, with its path."""
    for j, block in enumerate(blocks):
        if not isinstance(block, dict):
            continue
        if (block.get("source") or {}).get("type") == "file":
            yield f"{where}.{j}", block
        if isinstance(block.get("content"), list):
            yield from _file_blocks(block["content"], f"{where}.{j}.content")


def _check_file_refs(body: dict[str, Any], files: Any) -> None:
    """A ``file`` source names a file the Files API holds, of a kind its block can show."""
    for i, message in enumerate(body["messages"]):
        content = message.get("content")
        for where, block in _file_blocks(content if isinstance(content, list) else [], f"messages.{i}.content"):
            mime = files.usable(block["source"]["file_id"], f"{where}.source.file_id")["mime_type"]
            fits = mime in ("application/pdf", "text/plain") if block["type"] == "document" else mime.startswith("image/")
            if not fits:  # on belief
                raise invalid(f"{where}: a {block['type']} block cannot hold a file of type {mime}")


def _check_blocks(blocks: list[Any], where: str) -> None:
    for j, block in enumerate(blocks):
        if not isinstance(block, dict) or "type" not in block:
            raise invalid(f"{where}.{j}: content blocks must be objects with a `type`")
        check = _BLOCK_CHECKS.get(block["type"])
        if check is not None:
            check(block, f"{where}.{j}")


def _check_top(body: dict[str, Any], endpoint: str) -> None:
    if not isinstance(body.get("model"), str) or not body["model"]:
        raise invalid("model: Field required")
    if endpoint != "messages":
        return
    max_tokens = body.get("max_tokens")
    if max_tokens is None:
        raise invalid("max_tokens: Field required")
    if not isinstance(max_tokens, int) or isinstance(max_tokens, bool):
        raise invalid("max_tokens: Input should be a valid integer")
    if max_tokens < 1:
        raise invalid("max_tokens: Input should be greater than or equal to 1")
    if "stream" in body and not isinstance(body["stream"], bool):
        raise invalid("stream: Input should be a valid boolean")


def _check_message(i: int, message: Any, previous: str | None, body: dict[str, Any], last: bool) -> str:
    if not isinstance(message, dict):
        raise invalid(f"messages.{i}: Input should be an object")
    role = message.get("role")
    if role not in ("user", "assistant"):
        raise invalid(f"messages.{i}.role: Input should be 'user' or 'assistant'")
    if i == 0 and role != "user":
        raise invalid('messages: first message must use the "user" role')
    if role == previous:
        raise invalid(
            f'messages: roles must alternate between "user" and "assistant", '
            f'but found multiple "{role}" roles in a row (messages.{i})'
        )
    content = message.get("content")
    final_assistant = role == "assistant" and last
    if not isinstance(content, (str, list)):
        raise invalid(f"messages.{i}.content: Field required")
    if not content and not final_assistant:
        raise invalid(
            f"messages.{i}: all messages must have non-empty content "
            "except for the optional final assistant message"
        )
    if isinstance(content, list):
        _check_blocks(content, f"messages.{i}.content")
        if any(isinstance(b, dict) and b.get("type") == "compaction" for b in content) and "context_management" not in body:
            raise invalid(f"messages.{i}.content: a compaction block needs the compaction beta (context_management)")
    if role == "assistant" and not last and isinstance(content, list):
        _check_server_results(i, content)
    if final_assistant:
        trailing = content if isinstance(content, str) else ""
        if isinstance(content, list) and content and isinstance(content[-1], dict):
            trailing = str(content[-1].get("text", "")) if content[-1].get("type") == "text" else ""
        if trailing and trailing != trailing.rstrip():
            raise invalid("messages: final assistant content cannot end with trailing whitespace")
    return role


def _check_server_results(i: int, content: list[Any]) -> None:
    """A server tool call in an earlier assistant turn has its result in the same turn; only the
    final assistant message (a paused answer being resumed) may leave one pending.  The wording is
    the API's, as quoted in AnswerDotAI/lisette#108 (and anthropics/anthropic-sdk-python#961, whose
    advice is this package's: drop the orphaned call)."""
    blocks = [block for block in content if isinstance(block, dict)]
    answered = {block.get("tool_use_id") for block in blocks if str(block.get("type", "")).endswith("_tool_result")}
    for block in blocks:
        if block.get("type") == "server_tool_use" and block.get("id") not in answered:
            raise invalid(
                f"messages.{i}: `{block.get('name')}` tool use with id `{block.get('id')}` was found without a "
                f"corresponding `{block.get('name')}_tool_result` block"
            )


def _check_messages(body: dict[str, Any]) -> None:
    messages = body.get("messages")
    if not isinstance(messages, list):
        raise invalid("messages: Field required")
    if not messages:
        raise invalid("messages: at least one message is required")
    previous = None
    for i, message in enumerate(messages):
        previous = _check_message(i, message, previous, body, i == len(messages) - 1)


def _check_system(body: dict[str, Any]) -> None:
    system = body.get("system")
    if isinstance(system, list):
        _check_blocks(system, "system")
    elif system is not None and not isinstance(system, str):
        raise invalid("system: Input should be a valid string or list of text blocks")


def _check_cache_breakpoints(body: dict[str, Any]) -> None:
    breakpoints = (
        _count_cache_control(body.get("system"))
        + _count_cache_control(body.get("messages"))
        + _count_cache_control(body.get("tools"))
        + (1 if body.get("cache_control") is not None else 0)
    )
    if breakpoints > MAX_CACHE_BREAKPOINTS:
        raise invalid(
            f"A maximum of {MAX_CACHE_BREAKPOINTS} blocks with cache_control may be provided. Found {breakpoints}."
        )


def _check_thinking(body: dict[str, Any], endpoint: str) -> None:
    thinking = body.get("thinking")
    if not isinstance(thinking, dict) or thinking.get("type") != "enabled":
        return
    budget = thinking.get("budget_tokens")
    if not isinstance(budget, int) or isinstance(budget, bool):
        raise invalid("thinking.enabled.budget_tokens: Field required")
    if budget < 1024:
        raise invalid("thinking.enabled.budget_tokens: Input should be greater than or equal to 1024")
    if endpoint == "messages" and budget >= body["max_tokens"]:
        raise invalid("`max_tokens` must be greater than `thinking.budget_tokens`")
    temperature = body.get("temperature")
    if temperature is not None and temperature != 1:
        raise invalid("`temperature` may only be set to 1 when thinking is enabled")


# --------------------------------------------------------------------------- tools

#: The server and Anthropic-defined tool types of anthropic 2.15's ``ToolUnionParam``, with the
#: ``name`` each requires (``None``: a toolset, named freely).
SERVER_TOOL_NAMES: dict[str, str | None] = {
    "bash_20250124": "bash",
    **{f"code_execution_{v}": "code_execution" for v in ("20250522", "20250825", "20260120", "20260521")},
    "browser_toolset_20260801": None,
    "computer_toolset_20260801": None,
    "memory_20250818": "memory",
    "text_editor_20250124": "str_replace_editor",
    "text_editor_20250429": "str_replace_based_edit_tool",
    "text_editor_20250728": "str_replace_based_edit_tool",
    **{f"web_search_{v}": "web_search" for v in ("20250305", "20260209", "20260318")},
    **{f"web_fetch_{v}": "web_fetch" for v in ("20250910", "20260209", "20260309", "20260318")},
    "tool_search_tool_bm25_20251119": "tool_search_tool_bm25",
    "tool_search_tool_bm25": "tool_search_tool_bm25",
    "tool_search_tool_regex_20251119": "tool_search_tool_regex",
    "tool_search_tool_regex": "tool_search_tool_regex",
}

_TOOL_NAME = re.compile(r"[a-zA-Z0-9_-]{1,128}")


def _check_custom_tool(tool: dict[str, Any], where: str) -> None:
    name = tool.get("name")
    if not isinstance(name, str) or not _TOOL_NAME.fullmatch(name):
        raise invalid(f"{where}.custom.name: String should match pattern '^[a-zA-Z0-9_-]{{1,128}}$'")
    schema = tool.get("input_schema")
    if not isinstance(schema, dict):
        raise invalid(f"{where}.custom.input_schema: Field required")
    if schema.get("type") != "object":
        raise invalid(f"{where}.custom.input_schema.type: Input should be 'object'")


def _check_server_tool(tool: dict[str, Any], where: str) -> None:
    kind = tool["type"]
    expected = SERVER_TOOL_NAMES[kind]
    if expected is not None and tool.get("name") != expected:
        raise invalid(f"{where}.{kind}.name: Input should be '{expected}'")
    if tool.get("allowed_domains") and tool.get("blocked_domains"):  # as the SDK's docstrings say
        raise invalid(f"{where}.{kind}: `allowed_domains` cannot be used alongside `blocked_domains`")


def _check_tools(body: dict[str, Any]) -> None:
    tools = body.get("tools")
    if tools is None:
        return
    if not isinstance(tools, list):
        raise invalid("tools: Input should be a valid list")
    for i, tool in enumerate(tools):
        if not isinstance(tool, dict):
            raise invalid(f"tools.{i}: Input should be an object")
        kind = tool.get("type")
        if kind in (None, "custom"):
            _check_custom_tool(tool, f"tools.{i}")
        elif kind in SERVER_TOOL_NAMES:
            _check_server_tool(tool, f"tools.{i}")
        else:
            raise invalid(f"tools.{i}: Input tag '{kind}' found using 'type' does not match any of the expected tags")
    names = [tool.get("name") for tool in tools if tool.get("name") is not None]
    if len(names) != len(set(names)):
        raise invalid("tools: Tool names must be unique.")


def _check_tool_choice(body: dict[str, Any]) -> None:
    choice = body.get("tool_choice")
    if choice is None:
        return
    kind = choice.get("type") if isinstance(choice, dict) else None
    if kind not in ("auto", "any", "tool", "none"):
        raise invalid("tool_choice.type: Input should be 'auto', 'any', 'tool' or 'none'")
    names = {tool.get("name") for tool in body.get("tools") or [] if isinstance(tool, dict)}
    if kind == "tool" and choice.get("name") not in names:
        raise invalid(f"tool_choice.name: no tool named {choice.get('name')!r} in `tools`")  # wording on belief
    thinking = (body.get("thinking") or {}).get("type")
    if kind in ("any", "tool") and thinking in ("enabled", "adaptive"):
        raise invalid("Thinking may not be enabled when tool_choice forces tool use.")  # on belief


def _blocks_of(message: dict[str, Any], kind: str) -> list[tuple[int, dict[str, Any]]]:
    content = message.get("content")
    if not isinstance(content, list):
        return []
    return [(j, b) for j, b in enumerate(content) if b.get("type") == kind]


def _check_results(i: int, message: dict[str, Any], pending: list[str]) -> None:
    """The user message ``i`` answers the ``pending`` tool_use ids of the message before it."""
    results = _blocks_of(message, "tool_result")
    if [j for j, _ in results] != list(range(len(results))):
        raise invalid(f"messages.{i}: `tool_result` blocks must come first in the user message content")  # on belief
    answered = [block["tool_use_id"] for _, block in results]
    missing = [tool_id for tool_id in pending if tool_id not in answered]
    if missing:
        raise invalid(
            f"messages.{i - 1}: `tool_use` ids were found without `tool_result` blocks immediately after: "
            f"{', '.join(missing)}. Each `tool_use` block must have a corresponding `tool_result` block in the next message."
        )
    for j, block in results:
        if block["tool_use_id"] not in pending:
            raise invalid(
                f"messages.{i}.content.{j}: unexpected `tool_use_id` found in `tool_result` blocks: "
                f"{block['tool_use_id']}. Each `tool_result` block must have a corresponding `tool_use` block in the previous message."
            )


def _check_tool_pairing(body: dict[str, Any]) -> None:
    """Every ``tool_use`` is answered, first thing in the very next user message, by a
    ``tool_result`` with its id; a ``tool_result`` answers only such a ``tool_use``.  The
    messages' wording is on belief, except the first (given in the API's docs)."""
    messages = body["messages"]
    uses_tools = any(_blocks_of(m, "tool_use") or _blocks_of(m, "tool_result") for m in messages)
    if uses_tools and not body.get("tools"):
        raise invalid("Requests which include `tool_use` or `tool_result` blocks must define tools.")
    pending: list[str] = []
    for i, message in enumerate(messages):
        wrong = "tool_result" if message["role"] == "assistant" else "tool_use"
        if _blocks_of(message, wrong):
            j = _blocks_of(message, wrong)[0][0]
            raise invalid(f"messages.{i}.content.{j}: `{wrong}` blocks are not allowed in {message['role']} messages")
        if message["role"] == "user":
            _check_results(i, message, pending)
        pending = [block["id"] for _, block in _blocks_of(message, "tool_use")]
    if pending:
        _check_results(len(messages), {"content": []}, pending)


_THINKING_TYPES = ("enabled", "disabled", "adaptive", "between_tools")
_EFFORTS = ("low", "medium", "high", "xhigh", "max")


def _quoted(values: tuple[str, ...]) -> str:
    """``'a', 'b' or 'c'`` -- how the API's validation errors list a literal's values."""
    quoted = [f"'{v}'" for v in values]
    return ", ".join(quoted[:-1]) + " or " + quoted[-1]


def _check_config_literals(body: dict[str, Any]) -> None:
    """``thinking.type`` / ``thinking.display`` / ``output_config.effort`` take only the SDK's literals."""
    thinking = body.get("thinking")
    if thinking is not None:
        if not isinstance(thinking, dict) or thinking.get("type") not in _THINKING_TYPES:
            raise invalid(f"thinking.type: Input should be {_quoted(_THINKING_TYPES)}")
        if thinking.get("display") not in (None, "summarized", "omitted"):
            raise invalid(f"thinking.{thinking['type']}.display: Input should be 'summarized' or 'omitted'")
    config = body.get("output_config")
    if config is None:
        return
    if not isinstance(config, dict):
        raise invalid("output_config: Input should be an object")
    if config.get("effort") not in (None, *_EFFORTS):
        raise invalid(f"output_config.effort: Input should be {_quoted(_EFFORTS)}")
    _check_output_format(config.get("format"))


def _check_citations_without_format(body: dict[str, Any]) -> None:
    """Documented (Citations, "Feature compatibility"): citations on any document or search result
    together with ``output_config.format`` is a 400.  The wording is on belief."""
    if not (body.get("output_config") or {}).get("format"):
        return
    for i, message in enumerate(body["messages"]):
        content = message.get("content")
        for j, block in enumerate(content if isinstance(content, list) else []):
            cited = isinstance(block, dict) and block.get("type") in ("document", "search_result")
            if cited and (block.get("citations") or {}).get("enabled"):
                raise invalid(f"messages.{i}.content.{j}: citations cannot be enabled when output_config.format is set")


def _check_output_format(output_format: Any) -> None:
    """``{"type": "json_schema", "schema": {...}}`` with an object schema at the root.  That
    the root must be an object is on belief (the SDK only sends what pydantic gives it)."""
    if output_format is None:
        return
    if not isinstance(output_format, dict) or output_format.get("type") != "json_schema":
        raise invalid("output_config.format.type: Input should be 'json_schema'")
    schema = output_format.get("schema")
    if not isinstance(schema, dict):
        raise invalid("output_config.format.schema: Field required")
    if schema.get("type") != "object":
        raise invalid("output_config.format.schema: the schema's root must have type 'object'")


def _check_model_limits(body: dict[str, Any], model: Any, endpoint: str) -> None:
    """A catalogue model (a ``fake_models.FakeModel``) exists, and the request fits its limits."""
    if model.lifecycle == "retired":
        raise not_found(f"model: {model.id}")
    max_tokens = body.get("max_tokens")
    if endpoint == "messages" and max_tokens > model.max_tokens:
        raise invalid(
            f"max_tokens: {max_tokens} > {model.max_tokens}, which is the maximum allowed number "
            f"of output tokens for {model.id}"
        )
    tokens = estimate_tokens(body)
    if tokens > model.max_input_tokens:
        raise invalid(f"prompt is too long: {tokens} tokens > {model.max_input_tokens} maximum")


def _check_model_features(body: dict[str, Any], model: Any) -> None:
    """The request asks only for what ``ModelInfo.capabilities`` lists (wording on belief)."""
    kind = (body.get("thinking") or {}).get("type")
    if kind is not None and kind not in model.thinking:
        hint = ' Use "thinking.type.adaptive" and "output_config.effort" to control thinking behavior.'
        raise invalid(f'"thinking.type.{kind}" is not supported for this model.' + (hint if "adaptive" in model.thinking else ""))
    config = body.get("output_config") or {}
    effort = config.get("effort")
    if effort is not None and not model.efforts:
        raise invalid(f"output_config.effort: {model.id} does not support the effort parameter")
    if effort is not None and effort not in model.efforts:
        raise invalid(f"output_config.effort: {effort!r} is not supported by {model.id}; use {_quoted(model.efforts)}")
    if config.get("format") and "structured_outputs" not in model.features:
        raise invalid(f"output_config.format: {model.id} does not support structured outputs")


def validate_request(
    body: Any, *, endpoint: str, models: dict[str, Any] | None = None, files: Any = None
) -> None:
    """Raise :class:`Rejection` for a body the real API would reject for its shape.

    ``endpoint`` is ``"messages"`` or ``"count_tokens"`` (which has no ``max_tokens``).  A
    ``model`` found in ``models`` (id -> ``FakeModel``) must also suit that model; ``file``
    sources must name files in ``files`` (a ``fake_files.FileStore``), when given."""
    if not isinstance(body, dict):
        raise invalid("request body must be a JSON object")
    _check_top(body, endpoint)
    _check_messages(body)
    _check_system(body)
    _check_cache_breakpoints(body)
    _check_config_literals(body)
    _check_citations_without_format(body)
    _check_tools(body)
    _check_tool_pairing(body)
    _check_tool_choice(body)
    if files is not None:
        _check_file_refs(body, files)
    _check_thinking(body, endpoint)
    model = (models or {}).get(body["model"])
    if model is not None:
        _check_model_limits(body, model, endpoint)
        _check_model_features(body, model)
