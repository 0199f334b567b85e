"""What the fake Claude API (tests/fakeapi.py) answers: the scripted :class:`Turn`, token
estimates, and the reply built from a turn -- once, then sent whole as a JSON ``Message`` or
as the SSE events that stream it.
"""

from __future__ import annotations

import base64
import dataclasses
import io
import json
from collections.abc import Callable, Iterator
from typing import Any

from fake_common import ERROR_MESSAGES, ERROR_TYPES, Rejection

#: The ``signature`` given to every thinking block.
FAKE_SIGNATURE = "fake-signature-EqQBCkYIBRgCKkB0ZXN0aW5nLW9ubHk="

#: Tokens charged for each image block, and each page of a base64 PDF, by :func:`estimate_tokens`.
IMAGE_TOKENS = 1600

#: ``Turn.stream_fault`` values: a frame that is not valid UTF-8, a data line that is not
#: JSON, a delta for a block index that does not exist (each sent after ``fault_after``
#: frames), a stream without its ``message_start``, and one that ends cleanly after
#: ``message_delta`` with no ``message_stop``.
STREAM_FAULTS = ("invalid_utf8", "invalid_json", "unknown_index", "no_message_start", "no_message_stop")

USAGE_KEYS = ("input_tokens", "output_tokens", "cache_creation_input_tokens", "cache_read_input_tokens")


@dataclasses.dataclass
class Turn:
    """One scripted reply to a ``POST /v1/messages`` request (or, through
    ``FakeAPI.batch_outcomes`` / ``batch_reply``, to one request of a batch).

    What the reply holds, in the order it is sent:

    * ``compaction`` -- a summary streamed first as a ``compaction`` block, as the
      compaction beta does when it compacts earlier context.
    * ``thinking`` -- a signed thinking block.  With the thinking display omitted (the
      request's ``thinking.display``, else the catalogue model's default) it carries only
      the signature, its text empty.
    * ``web_searches`` -- ``[{"query": ..., "results": [{"url", "title", "page_age"?}]}]``
      or ``{"query": ..., "error": "<web_search_tool_result_error code>"}``; each a
      ``server_tool_use`` block and a ``web_search_tool_result``.  Needs a ``web_search_*``
      tool in the request; calls past its ``max_uses`` get ``max_uses_exceeded``.  A call with
      ``"pending": True`` is the ``server_tool_use`` alone, as an answer the API paused
      (``stop_reason="pause_turn"``) before running the call ends.
    * ``web_fetches`` -- ``[{"url": ..., "text": ..., "title"?}]`` or ``{"url", "error"}``;
      each a ``server_tool_use`` and a ``web_fetch_tool_result`` holding the page as a
      text document.  Needs a ``web_fetch_*`` tool.
    * ``text`` -- a str, or a list of segments (each a str or ``{"text": ...,
      "citations": [...]}``), each its own text block.  A citation gives its ``type``
      (``page_location``, ``char_location``, ``content_block_location`` -- of the
      request's ``document_index``-th document -- or ``web_search_result_location`` of a
      scripted result's ``url``) and ``cited_text``; the fake fills in titles, file ids,
      indexes and encrypted fields.  ``None`` means the default: nothing when the turn
      calls tools, the schema's smallest instance under ``output_config.format``, else
      ``"Echo: <text of the last user message>"``.
    * ``tool_uses`` -- ``[{"name": ..., "input": {...}, "id"?}]``, ``tool_use`` blocks
      filled by ``input_json_delta``; ids default to ``toolu_fake_N``.  Sent even when the
      request defined no tools (the real API would not): a fault for the client to handle.

    ``chunk_chars`` sizes every delta, ``delay`` (seconds) paces the events.
    ``stop_reason`` defaults to ``tool_use`` when the turn calls tools, else ``end_turn``;
    ``model`` defaults to the request's.  ``usage`` may give any subset of ``input_tokens``,
    ``output_tokens``, ``cache_creation_input_tokens`` and ``cache_read_input_tokens``; the
    rest default to ``estimate_tokens(request)``, (characters of thinking, text and tool
    input JSON) // 4 + 1, 0 and 0.  With a web search or fetch tool in the request, usage
    also counts ``server_tool_use`` requests.

    Faults, checked in this order:

    * ``status`` -- answer with that HTTP status and a real-shaped error body
      (``error_type`` defaults from the status, e.g. 429 ``rate_limit_error``,
      529 ``overloaded_error``; ``error_message`` from the type); ``retry_after`` adds a
      ``retry-after`` header.  A 429 also carries the ``anthropic-ratelimit-*`` headers,
      with the limit ``rate_limited`` names (``requests``, ``tokens``, ``input-tokens``,
      ``output-tokens``) spent.
    * ``drop_after`` -- stream only N SSE events (``ping`` counts), then close the
      connection abruptly, in the middle of the chunked body.  For a non-streamed
      request the connection is closed without any response.
    * ``error_event_after`` -- stream N SSE events, then an ``event: error`` (``error_type``
      and ``error_message``, default ``overloaded_error``), then end the response cleanly.
    * ``stream_fault`` -- one of :data:`STREAM_FAULTS`; the inserted kinds come after
      ``fault_after`` frames (default 3: after ``message_start``, the first block's start
      and the ``ping``).

    Stream faults are ignored when the request is not streamed.  A turn that scripts what no
    real reply to its request could hold (a search without the tool, a citation of a
    document that does not enable citations) is answered with a 500 ``FakeAPI script error``.
    """

    text: str | list[str | dict[str, Any]] | None = None
    thinking: str | None = None
    chunk_chars: int = 8
    delay: float = 0.0
    usage: dict[str, int] | None = None
    stop_reason: str | None = None
    model: str | None = None
    status: int | None = None
    error_type: str | None = None
    error_message: str | None = None
    retry_after: float | None = None
    drop_after: int | None = None
    error_event_after: int | None = None
    compaction: str | None = None
    tool_uses: list[dict[str, Any]] | None = None
    web_searches: list[dict[str, Any]] | None = None
    web_fetches: list[dict[str, Any]] | None = None
    rate_limited: str = "requests"
    stream_fault: str | None = None
    fault_after: int = 3

    def __post_init__(self) -> None:
        if self.chunk_chars < 1:
            raise ValueError("chunk_chars must be >= 1")
        if self.delay < 0:
            raise ValueError("delay must be >= 0")
        if self.stream_fault not in (None, *STREAM_FAULTS):
            raise ValueError(f"stream_fault must be one of {STREAM_FAULTS}")
        for name in ("drop_after", "error_event_after", "fault_after"):
            value = getattr(self, name)
            if value is not None and value < 0:
                raise ValueError(f"{name} must be >= 0")
        if self.usage is not None:
            unknown = set(self.usage) - set(USAGE_KEYS)
            if unknown:
                raise ValueError(f"unknown usage keys: {sorted(unknown)}")
        self._check_scripted_content()

    def _check_scripted_content(self) -> None:
        for use in self.tool_uses or []:
            if not isinstance(use.get("name"), str) or not isinstance(use.get("input", {}), dict):
                raise TypeError("each tool use needs a str 'name' and a dict 'input'")
        for key, items in (("query", self.web_searches), ("url", self.web_fetches)):
            if any(not isinstance(item.get(key), str) for item in items or []):
                raise TypeError(f"each scripted server tool call needs a str {key!r}")
        segments = self.text if isinstance(self.text, list) else []
        if any(not isinstance(s, str) and not isinstance(s.get("text"), str) for s in segments):
            raise TypeError("text segments are str or {'text': str, 'citations': [...]}")

    def rejection(self, default_type: str | None = None) -> Rejection:
        """The error this turn answers with: its ``error_type`` (else ``default_type``, else the
        one its status implies) and ``error_message`` (else that type's usual text)."""
        status = self.status or 500
        error_type = self.error_type or default_type or ERROR_TYPES.get(status, "api_error")
        return Rejection(status, error_type, self.error_message or ERROR_MESSAGES.get(error_type, "Error (fake)"))

    @property
    def final_stop_reason(self) -> str:
        """``stop_reason``, else ``tool_use`` when the turn calls tools, else ``end_turn``."""
        return self.stop_reason or ("tool_use" if self.tool_uses else "end_turn")


# --------------------------------------------------------------------------- tokens


def _block_text_chars(block: Any) -> int:
    """Characters of text in one content block (images are charged separately)."""
    if isinstance(block, str):
        return len(block)
    if not isinstance(block, dict):
        return 0
    kind = block.get("type")
    if kind == "text":
        return len(str(block.get("text", "")))
    if kind == "thinking":
        return len(str(block.get("thinking", "")))
    if kind == "tool_use":
        return len(str(block.get("name", ""))) + len(json.dumps(block.get("input", {}), sort_keys=True))
    if kind == "tool_result":
        content = block.get("content", "")
        if isinstance(content, list):
            return sum(_block_text_chars(b) for b in content)
        return len(str(content))
    if kind == "document":
        source = block.get("source") or {}
        if source.get("type") == "text":
            return len(str(source.get("data", "")))
    return 0


def _count_images(value: Any) -> int:
    """Images, and the pages of base64 PDF documents (each page is read as an image and its text,
    as the PDF support page describes; the text is not counted here)."""
    if isinstance(value, dict):
        if value.get("type") == "image":
            return 1
        source = value.get("source") if value.get("type") == "document" else None
        if isinstance(source, dict) and source.get("type") == "base64":
            return _pdf_pages(str(source.get("data", "")))
        return sum(_count_images(v) for v in value.values())
    if isinstance(value, list):
        return sum(_count_images(v) for v in value)
    return 0


def _pdf_pages(data: str) -> int:
    import pypdf  # the test extra's; only a request with a PDF needs it

    try:
        return len(pypdf.PdfReader(io.BytesIO(base64.b64decode(data))).pages)
    except Exception:  # noqa: BLE001 - validation refuses what is no PDF; an estimate of one is 0 pages
        return 0


def estimate_tokens(body: dict[str, Any]) -> int:
    """Deterministic input-token estimate of a Messages request body.

    ``(characters of all system, message and tool text) // 4 + 1``, plus
    :data:`IMAGE_TOKENS` per image block and per page of a base64 PDF document (on belief:
    each page goes as an image and its text).  Tools count as their JSON dump.
    """
    chars = 0
    system = body.get("system")
    if isinstance(system, str):
        chars += len(system)
    elif isinstance(system, list):
        chars += sum(_block_text_chars(b) for b in system)
    images = 0
    for message in body.get("messages") or []:
        if not isinstance(message, dict):
            continue
        content = message.get("content")
        if isinstance(content, str):
            chars += len(content)
        elif isinstance(content, list):
            chars += sum(_block_text_chars(b) for b in content)
            images += _count_images(content)
    for tool in body.get("tools") or []:
        chars += len(json.dumps(tool, sort_keys=True))
    return chars // 4 + 1 + IMAGE_TOKENS * images


def last_user_text(body: dict[str, Any]) -> str:
    for message in reversed(body.get("messages") or []):
        if isinstance(message, dict) and message.get("role") == "user":
            content = message.get("content")
            if isinstance(content, str):
                return content
            if isinstance(content, list):
                return "\n".join(
                    str(b.get("text", "")) for b in content if isinstance(b, dict) and b.get("type") == "text"
                )
            return ""
    return ""


# --------------------------------------------------------------------------- replies


class ScriptError(Exception):
    """A scripted turn that cannot answer this request (e.g. web search results for a request
    without the web search tool): a mistake in the test, answered with a loud 500."""


@dataclasses.dataclass
class Block:
    """One content block of a reply: how its stream starts, the deltas that fill it, and
    the finished block a non-streamed ``Message`` carries."""

    start: dict[str, Any]
    deltas: list[dict[str, Any]]
    final: dict[str, Any]


@dataclasses.dataclass
class Reply:
    id: str
    model: str
    blocks: list[Block]
    stop_reason: str
    usage: dict[str, Any]

    def message(self) -> dict[str, Any]:
        """The reply as a non-streamed ``Message``."""
        return {
            "id": self.id,
            "type": "message",
            "role": "assistant",
            "model": self.model,
            "content": [block.final for block in self.blocks],
            "stop_reason": self.stop_reason,
            "stop_sequence": None,
            "usage": self.usage,
        }

    def events(self) -> Iterator[tuple[str, dict[str, Any]]]:
        """The SSE events of the streamed reply, as (event name, data) pairs."""
        start_usage = {key: self.usage[key] for key in USAGE_KEYS}
        start_usage["output_tokens"] = 1
        message = {**self.message(), "content": [], "stop_reason": None, "usage": start_usage}
        yield "message_start", {"type": "message_start", "message": message}
        for index, block in enumerate(self.blocks):
            yield "content_block_start", {"type": "content_block_start", "index": index, "content_block": block.start}
            if index == 0:
                yield "ping", {"type": "ping"}
            for delta in block.deltas:
                yield "content_block_delta", {"type": "content_block_delta", "index": index, "delta": delta}
            yield "content_block_stop", {"type": "content_block_stop", "index": index}
        yield "message_delta", {
            "type": "message_delta",
            "delta": {"stop_reason": self.stop_reason, "stop_sequence": None},
            "usage": {key: self.usage[key] for key in ("output_tokens", "server_tool_use") if key in self.usage},
        }
        yield "message_stop", {"type": "message_stop"}


def chunks(text: str, size: int) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)]


def _compaction_block(summary: str) -> Block:
    # As the compaction beta streams it: an empty block, then the whole summary in one delta.
    delta = {"type": "compaction_delta", "content": summary, "encrypted_content": None}
    return Block({"type": "compaction", "content": None}, [delta], {"type": "compaction", "content": summary})


def thinking_display(body: dict[str, Any], models: dict[str, Any] | None) -> str:
    """``"summarized"`` or ``"omitted"``: the request's ``thinking.display``, else the
    catalogue model's default, else summarized."""
    thinking = body.get("thinking")
    if isinstance(thinking, dict) and thinking.get("display") in ("summarized", "omitted"):
        return thinking["display"]
    model = (models or {}).get(body.get("model"))
    return model.thinking_display if model is not None else "summarized"


def _thinking_block(thinking: str, size: int, omitted: bool) -> Block:
    """With the display omitted, the block keeps only its signature, as the real API sends it."""
    shown = "" if omitted else thinking
    deltas = [{"type": "thinking_delta", "thinking": c} for c in chunks(shown, size)]
    deltas.append({"type": "signature_delta", "signature": FAKE_SIGNATURE})
    final = {"type": "thinking", "thinking": shown, "signature": FAKE_SIGNATURE}
    return Block({"type": "thinking", "thinking": "", "signature": ""}, deltas, final)


def _text_block(text: str, size: int, citations: list[dict[str, Any]] | None) -> Block:
    """A text block; a cited one streams its citations as ``citations_delta`` deltas before
    its text (the order is on belief; the SDK's accumulator takes either)."""
    deltas = [{"type": "citations_delta", "citation": c} for c in citations or []]
    deltas += [{"type": "text_delta", "text": c} for c in chunks(text, size)]
    final = {"type": "text", "text": text, **({"citations": citations} if citations else {})}
    return Block({"type": "text", "text": ""}, deltas, final)


def _tool_block(kind: str, tool_id: str, name: str, tool_input: dict[str, Any], size: int) -> Block:
    """A ``tool_use`` or ``server_tool_use`` block: it starts with an empty input, which
    ``input_json_delta`` deltas then fill with ``partial_json`` pieces of the input's JSON."""
    deltas = [{"type": "input_json_delta", "partial_json": c} for c in chunks(json.dumps(tool_input), size)]
    start = {"type": kind, "id": tool_id, "name": name, "input": {}}
    return Block(start, deltas, {**start, "input": tool_input})


def _whole(block: dict[str, Any]) -> Block:
    """A block that arrives complete in its ``content_block_start`` (server tool results)."""
    return Block(block, [], block)


def _opaque(kind: str, value: str) -> str:
    """A stand-in for the API's encrypted fields: stable, and recognisably fake."""
    return base64.b64encode(f"fake-{kind}:{value}".encode()).decode()


def server_tool(body: dict[str, Any], name: str) -> dict[str, Any] | None:
    """The request's server tool named ``name`` (``web_search``, ``web_fetch``), if any."""
    for tool in body.get("tools") or []:
        if isinstance(tool, dict) and str(tool.get("type", "")).startswith(f"{name}_"):
            return tool
    return None


class _ReplyBuilder:
    """The blocks of one reply, in a fixed order: compaction, thinking, server tool calls with
    their results, text, then client tool calls (the real API may interleave text and calls)."""

    def __init__(self, turn: Turn, body: dict[str, Any], next_id: Callable[[str], str], models: Any, files: Any) -> None:
        self.turn, self.body, self.next_id, self.models, self.files = turn, body, next_id, models, files
        self.size = turn.chunk_chars
        self.blocks: list[Block] = []
        self.found: dict[str, dict[str, Any]] = {}  # url -> web search result, for citations
        self.counts = {"web_search_requests": 0, "web_fetch_requests": 0}

    def build(self) -> Reply:
        turn = self.turn
        if turn.compaction is not None:
            self.blocks.append(_compaction_block(turn.compaction))
        if turn.thinking is not None:
            omitted = thinking_display(self.body, self.models) == "omitted"
            self.blocks.append(_thinking_block(turn.thinking, self.size, omitted))
        self._server_calls("web_search", turn.web_searches, self._search_result)
        self._server_calls("web_fetch", turn.web_fetches, self._fetch_result)
        segments = self._segments()
        for text, citations in segments:
            cited = [self._cite(c) for c in citations or []]
            self.blocks.append(_text_block(text, self.size, cited))
        for use in turn.tool_uses or []:
            tool_id = use.get("id") or self.next_id("toolu")
            self.blocks.append(_tool_block("tool_use", tool_id, use["name"], use.get("input", {}), self.size))
        written = len(turn.thinking or "") + sum(len(text) for text, _ in segments)
        written += sum(len(json.dumps(use.get("input", {}))) for use in turn.tool_uses or [])
        return Reply(self.next_id("msg"), turn.model or str(self.body.get("model", "claude-fake")),
                     self.blocks, turn.final_stop_reason, self._usage(written))

    def _usage(self, written: int) -> dict[str, Any]:
        usage: dict[str, Any] = {
            "input_tokens": estimate_tokens(self.body),
            "output_tokens": written // 4 + 1,
            "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": 0,
        }
        if server_tool(self.body, "web_search") or server_tool(self.body, "web_fetch"):
            usage["server_tool_use"] = dict(self.counts)
        usage.update(self.turn.usage or {})
        return usage

    def _segments(self) -> list[tuple[str, list[dict[str, Any]] | None]]:
        text = self.turn.text
        if text is None and self.turn.tool_uses:
            return []
        if text is None:
            schema = output_schema(self.body)
            default = json.dumps(example_of(schema)) if schema else f"Echo: {last_user_text(self.body)}"
            return [(default, None)]
        if isinstance(text, str):
            return [(text, None)]
        return [(s, None) if isinstance(s, str) else (s["text"], s.get("citations")) for s in text]

    def _server_calls(self, name: str, calls: list[dict[str, Any]] | None, result: Callable[..., Any]) -> None:
        """Each scripted call as a ``server_tool_use`` block and its result; calls beyond the
        tool's ``max_uses`` get the ``max_uses_exceeded`` error the API documents."""
        if not calls:
            return
        tool = server_tool(self.body, name)
        if tool is None:
            raise ScriptError(f"the Turn scripts {name} calls but the request defines no {name} tool")
        max_uses = tool.get("max_uses")
        for n, call in enumerate(calls):
            tool_id = self.next_id("srvtoolu")
            argument = {"query": call["query"]} if name == "web_search" else {"url": call["url"]}
            self.blocks.append(_tool_block("server_tool_use", tool_id, name, argument, self.size))
            if call.get("pending"):
                continue
            error = "max_uses_exceeded" if max_uses is not None and n >= max_uses else call.get("error")
            if error is None:
                self.counts[f"{name}_requests"] += 1
            content = {"type": f"{name}_tool_result_error", "error_code": error} if error else result(call, tool)
            self.blocks.append(_whole({"type": f"{name}_tool_result", "tool_use_id": tool_id, "content": content}))

    def _search_result(self, call: dict[str, Any], tool: dict[str, Any]) -> list[dict[str, Any]]:
        results = []
        for found in call.get("results", []):
            result = {
                "type": "web_search_result",
                "url": found["url"],
                "title": found.get("title", found["url"]),
                "encrypted_content": found.get("encrypted_content") or _opaque("content", found["url"]),
                "page_age": found.get("page_age"),
            }
            self.found[found["url"]] = result
            results.append(result)
        return results

    def _fetch_result(self, call: dict[str, Any], tool: dict[str, Any]) -> dict[str, Any]:
        document = {
            "type": "document",
            "source": {"type": "text", "media_type": "text/plain", "data": call.get("text", "")},
            "title": call.get("title"),
            "citations": {"enabled": bool((tool.get("citations") or {}).get("enabled"))},
        }
        retrieved = call.get("retrieved_at", "2026-01-01T00:00:00Z")
        return {"type": "web_fetch_result", "url": call["url"], "retrieved_at": retrieved, "content": document}

    def _cite(self, citation: dict[str, Any]) -> dict[str, Any]:
        kind = citation.get("type")
        if kind == "web_search_result_location":
            result = self.found.get(citation.get("url", ""))
            if result is None:
                raise ScriptError(f"a citation names {citation.get('url')!r}, which no scripted web search found")
            return {
                "type": kind,
                "url": result["url"],
                "title": result["title"],
                "encrypted_index": _opaque("index", result["url"]),
                "cited_text": citation["cited_text"],
            }
        if kind in ("page_location", "char_location", "content_block_location"):
            return self._cite_document(citation)
        raise ScriptError(f"unknown citation type {kind!r}")

    def _document_kind(self, source: dict[str, Any]) -> tuple[str, str]:
        """How a document is cited (PDFs by page, plain text by character, custom content by
        block, as ``TextBlock.citations`` documents it), and its text when it has one."""
        kind = source.get("type")
        if kind == "file":
            file_id = source.get("file_id")
            if self.files is None or file_id not in self.files.metadata:
                raise ScriptError(f"a citation names file {file_id!r}, which the fake does not hold")
            if self.files.metadata[file_id]["mime_type"] == "text/plain":
                return "char_location", self.files.content[file_id].decode("utf-8", "replace")
            return "page_location", ""
        if kind == "text":
            return "char_location", str(source.get("data", ""))
        return ("content_block_location", "") if kind == "content" else ("page_location", "")

    def _cite_document(self, citation: dict[str, Any]) -> dict[str, Any]:
        """A citation of the request's ``document_index``-th document (counted over all messages,
        in order -- on belief); indexes the script leaves out are filled in."""
        kind, index = citation["type"], citation.get("document_index", 0)
        docs = documents(self.body)
        if not 0 <= index < len(docs):
            raise ScriptError(f"a citation names document {index}, but the request has {len(docs)}")
        doc = docs[index]
        if not (doc.get("citations") or {}).get("enabled"):
            raise ScriptError(f"a citation names document {index}, which does not enable citations")
        expected, text = self._document_kind(doc["source"])
        if kind != expected:
            raise ScriptError(f"document {index} is cited by {expected}, not {kind}")
        quote = citation["cited_text"]
        cited = {"type": kind, "cited_text": quote, "document_index": index,
                 "document_title": doc.get("title"), "file_id": doc["source"].get("file_id")}
        if kind == "char_location":
            start = citation.get("start_char_index", text.find(quote))
            if start < 0:
                raise ScriptError(f"document {index} does not contain {quote!r}")
            return cited | {"start_char_index": start, "end_char_index": citation.get("end_char_index", start + len(quote))}
        name = "page_number" if kind == "page_location" else "block_index"
        first = citation.get(f"start_{name}", 1 if kind == "page_location" else 0)
        return cited | {f"start_{name}": first, f"end_{name}": citation.get(f"end_{name}", first + 1)}


def output_schema(body: dict[str, Any]) -> dict[str, Any] | None:
    """The JSON schema of ``output_config.format``, when the request asks for structured output."""
    output_format = (body.get("output_config") or {}).get("format")
    return output_format.get("schema") if isinstance(output_format, dict) else None


_EMPTY = {"string": "", "integer": 0, "number": 0, "boolean": False, "null": None, "array": []}


def example_of(schema: dict[str, Any], defs: dict[str, Any] | None = None) -> Any:
    """The smallest value ``schema`` accepts, for the usual schema shapes: an object carries
    its required properties only; ``$ref`` follows ``#/$defs/...``."""
    defs = {**(defs or {}), **schema.get("$defs", {})}
    if "$ref" in schema:
        return example_of(defs[schema["$ref"].rsplit("/", 1)[-1]], defs)
    if "const" in schema:
        return schema["const"]
    if schema.get("enum"):
        return schema["enum"][0]
    for key in ("anyOf", "oneOf", "allOf"):
        if schema.get(key):
            return example_of(schema[key][0], defs)
    kind = schema.get("type", "object")
    kind = kind[0] if isinstance(kind, list) else kind
    if kind == "object":
        properties = schema.get("properties", {})
        return {name: example_of(properties.get(name, {}), defs) for name in schema.get("required", [])}
    return _EMPTY.get(kind)


def documents(body: dict[str, Any]) -> list[dict[str, Any]]:
    """The request's ``document`` blocks, in message order: what ``document_index`` counts."""
    found = []
    for message in body.get("messages") or []:
        content = message.get("content") if isinstance(message, dict) else None
        if isinstance(content, list):
            found += [b for b in content if isinstance(b, dict) and b.get("type") == "document"]
    return found


def build_reply(
    turn: Turn, body: dict[str, Any], next_id: Callable[[str], str], models: Any = None, files: Any = None
) -> Reply:
    """The reply ``turn`` scripts for the request ``body``; ``next_id(prefix)`` makes ids,
    ``models`` is the catalogue (id -> ``FakeModel``) and ``files`` the ``FileStore``.  Raises
    :class:`ScriptError` when the turn scripts what no real reply to this request could hold."""
    return _ReplyBuilder(turn, body, next_id, models, files).build()
