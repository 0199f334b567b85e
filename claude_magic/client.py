"""Building the request and streaming it through the SDK.

Owns everything between a committed-to-be user message and a complete SDK `Message`: which
arguments go to `messages.stream`, which SDK client (and which transport: the network, or a
recorded fixture) carries them, and the stream loop that forwards deltas to the live view and
refuses a reply whose stream never reached `message_stop`. `anthropic` is imported here, on the
first turn, never at `%load_ext`.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from . import models
from .conversation import Message
from .errors import ClaudeError

if TYPE_CHECKING:
    import anthropic

API_KEY_ENV = "ANTHROPIC_API_KEY"
FIXTURE_MODES = ("off", "auto", "replay", "record")
AUTH_TOKEN_ENV = "ANTHROPIC_AUTH_TOKEN"
FIXTURE_MODE_ENV = "CLAUDE_MAGIC_FIXTURE_MODE"
# The SDK refuses to build a request without credentials; a replayed request never leaves the
# machine, so it carries this placeholder instead of a key.
REPLAY_ONLY_KEY = "replay-only-no-key"
MIN_THINKING_BUDGET = 1024
SDK_LOGGER = "anthropic._base_client"
COMPACTION_BETA = "compact-2026-01-12"

NO_KEY_MESSAGE = (
    f"No API key: set {API_KEY_ENV} in the environment that starts Jupyter, or run %claude_key "
    "to type it in without it being shown or saved."
)


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


@dataclass(frozen=True)
class Connection:
    """Everything that decides which SDK client a turn uses."""

    api_key: str | None = field(repr=False)  # a traceback's locals must never show it
    base_url: str | None = None
    max_retries: int = 2
    timeout: float = 600.0
    fixture: str = ""
    fixture_mode: str = "auto"

    def effective_mode(self) -> str:
        """`off` without a fixture; the environment variable overrides config so CI can force
        strict replay on notebooks that say `auto`."""
        if not self.fixture:
            return "off"
        return os.environ.get(FIXTURE_MODE_ENV) or self.fixture_mode


def resolve_api_key(entered: str | None) -> str | None:
    return entered or os.environ.get(API_KEY_ENV) or None


class ClientCache:
    """Keeps one SDK client per connection setting, so turns reuse its connection pool."""

    def __init__(self) -> None:
        self._key: tuple[Any, ...] | None = None
        self._client: anthropic.Anthropic | None = None
        self.retries = RetryWatch()

    def get(self, connection: Connection) -> anthropic.Anthropic:
        key = _fingerprint(connection)
        if self._client is None or key != self._key:
            self.close()
            self._client, self._key = make_client(connection, self.retries), key
        return self._client

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
        self._client = self._key = None


def _fingerprint(connection: Connection) -> tuple[Any, ...]:
    # The key itself is not kept around in the cache key; its digest tells a changed key apart.
    digest = hashlib.sha256((connection.api_key or "").encode()).hexdigest()
    return (digest, connection.base_url, connection.max_retries, connection.timeout,
            connection.fixture, connection.effective_mode())


def make_client(connection: Connection, retries: RetryWatch | None = None) -> anthropic.Anthropic:
    import anthropic

    mode = connection.effective_mode()
    has_auth = bool(connection.api_key or os.environ.get(AUTH_TOKEN_ENV))
    if mode in ("off", "record") and not has_auth:
        raise ClaudeError(NO_KEY_MESSAGE)
    kwargs: dict[str, Any] = {"max_retries": connection.max_retries, "timeout": connection.timeout}
    if connection.base_url:
        kwargs["base_url"] = connection.base_url
    # The SDK's own default HTTP client, with our one seam: the fixture transport and the retry watch.
    http: dict[str, Any] = {"event_hooks": {"response": [retries.response]}} if retries else {}
    if mode != "off":
        http["transport"] = _fixture_transport(connection, mode, has_auth)
    if http:
        kwargs["http_client"] = anthropic.DefaultHttpxClient(**http)
    api_key = connection.api_key or (None if has_auth or mode == "off" else REPLAY_ONLY_KEY)
    return anthropic.Anthropic(api_key=api_key, **kwargs)


def _fixture_transport(connection: Connection, mode: str, live_allowed: bool) -> Any:
    import httpx2

    from .replay import Fixture, RecordReplayTransport

    if mode not in FIXTURE_MODES:
        raise ClaudeError(f"{FIXTURE_MODE_ENV}={mode!r} is not a fixture mode: use one of {', '.join(FIXTURE_MODES)}.")
    try:
        fixture = Fixture.load(connection.fixture)
    except ValueError as error:
        raise ClaudeError(str(error)) from None
    live = httpx2.HTTPTransport() if live_allowed and mode != "replay" else None
    return RecordReplayTransport(fixture, mode, live=live)


class StreamSink(Protocol):
    def status(self, message: str) -> None: ...
    def thinking(self, delta: str) -> None: ...
    def text(self, delta: str) -> None: ...


class IncompleteStream(Exception):
    """The stream ended before `message_stop`: the SDK hands such a message back as if whole."""


# A turn the API pauses (long server-side work) is resumed this many times at most.
MAX_CONTINUATIONS = 3


class TurnStream:
    """One turn's streamed requests: forwards deltas to the sink, keeps what arrived (so a failed
    turn can still show its partial answer), and resumes a turn the API paused."""

    def __init__(self, sink: StreamSink, retries: RetryWatch) -> None:
        self.sink = sink
        self.retries = retries
        self.text: list[str] = []
        self.thinking: list[str] = []
        self.messages: list[Any] = []  # one per request; more than one when a pause was resumed
        self._cut: Any = None

    def run(self, client: anthropic.Anthropic, request: dict[str, Any]) -> Any:
        """The reply, its content gathered across resumed pauses; `self.messages` has each part."""
        with self.retries.notices(self.sink):
            message = self._stream(client, request)
            for _ in range(MAX_CONTINUATIONS):
                if message.stop_reason != "pause_turn":
                    break
                self.sink.status("paused by the API; resuming")
                so_far = {"role": "assistant", "content": _resumable([b.to_dict(mode="json") for b in self.content()])}
                message = self._stream(client, {**request, "messages": [*request["messages"], so_far]})
        if len(self.messages) > 1:
            message = message.model_copy(update={"content": self.content()})
        return message

    def content(self) -> list[Any]:
        return [block for message in self.messages for block in message.content]

    def billed(self) -> list[Any]:
        """Every reply the API bills for: the complete parts, and the one cut short if it had begun."""
        return [*self.messages, *([self._cut] if self._cut is not None else [])]

    def _stream(self, client: anthropic.Anthropic, request: dict[str, Any]) -> Any:
        started = complete = False
        with _messages_api(client, request).stream(**request) as stream:
            try:
                for event in stream:
                    started = True
                    complete = self._forward(event) or complete
                if not complete:
                    raise IncompleteStream("the connection dropped before the answer was complete")
            except BaseException:
                # What arrived is billed: keep its usage (the input, and the output so far).
                self._cut = stream.current_message_snapshot if started else None
                raise
            message = stream.get_final_message()
        self.messages.append(message)
        return message

    def _forward(self, event: Any) -> bool:
        """Pass one event on to the sink; True once the stream has said its last word."""
        if event.type == "text":
            self.text.append(event.text)
            self.sink.text(event.text)
        elif event.type == "thinking":
            self.thinking.append(event.thinking)
            self.sink.thinking(event.thinking)
        elif event.type == "compaction":
            self.sink.status("compacting earlier turns")
        return event.type == "message_stop"


def _resumable(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The paused reply as the assistant's turn so far, which the API carries on from; it refuses a
    final assistant text that ends in white space, so that is trimmed."""
    if blocks and blocks[-1]["type"] == "text":
        blocks[-1] = {**blocks[-1], "text": blocks[-1]["text"].rstrip()}
    return blocks


def _messages_api(client: anthropic.Anthropic, request: dict[str, Any]) -> Any:
    """The beta endpoint for requests that use a beta (compaction), the stable one otherwise."""
    return client.beta.messages if "betas" in request else client.messages


# The SDK's own log line before it sleeps for a retry; its arguments are the URL and the seconds.
_RETRY_LOG = "Retrying request to %s in %f seconds"
_STATUS_WORDS = {429: "rate limited", 529: "overloaded"}


class RetryWatch:
    """Tells the live status line when and why the SDK retries ("rate limited (429), retrying in 4 s").

    The SDK decides and waits, honouring retry-after; this only listens: the HTTP client's response
    hook notes each status, and the SDK's INFO line about the retry gives the wait.
    """

    def __init__(self) -> None:
        self.status: int | None = None

    def response(self, response: Any) -> None:
        self.status = response.status_code

    @contextmanager
    def notices(self, sink: StreamSink) -> Iterator[None]:
        self.status = None
        handler = _RetryLogHandler(self, sink)
        logger = logging.getLogger(SDK_LOGGER)
        saved = logger.level, logger.propagate
        if not logger.isEnabledFor(logging.INFO):
            # INFO, not DEBUG: at DEBUG the SDK dumps every request. And records the user did not
            # ask for must not reach their handlers.
            logger.setLevel(logging.INFO)
            logger.propagate = False
        logger.addHandler(handler)
        try:
            yield
        finally:
            logger.removeHandler(handler)
            logger.setLevel(saved[0])  # setLevel, not assignment: it clears the loggers' level caches
            logger.propagate = saved[1]

    def reason(self) -> str:
        if self.status is None or self.status < 400:
            return "connection failed"
        return f"{_STATUS_WORDS.get(self.status, 'server error')} ({self.status})"


class _RetryLogHandler(logging.Handler):
    def __init__(self, watch: RetryWatch, sink: StreamSink) -> None:
        super().__init__(logging.INFO)
        self.watch, self.sink = watch, sink

    def emit(self, record: logging.LogRecord) -> None:
        # Matched on the template, so no other record is ever formatted.
        if record.msg == _RETRY_LOG and isinstance(record.args, tuple) and len(record.args) == 2:
            self.sink.status(f"{self.watch.reason()}, retrying in {float(record.args[1]):.0f} s")
            self.watch.status = None


# The request's arguments that the token-counting endpoint takes too.
_COUNTED = ("model", "messages", "system", "thinking", "output_config", "cache_control", "betas", "context_management")


def count_tokens(client: anthropic.Anthropic, request: dict[str, Any]) -> int:
    """Input tokens of `request`, counted by the API (sends nothing to the model)."""
    counted = {key: request[key] for key in _COUNTED if key in request}
    return _messages_api(client, request).count_tokens(**counted).input_tokens


def estimate_tokens(request: dict[str, Any]) -> int:
    """A rough count when the API cannot be asked: four characters a token, ~1,600 an image."""
    images = text = 0
    for message in request["messages"]:
        for block in message["content"] if isinstance(message["content"], list) else [{"type": "text", "text": message["content"]}]:
            images += block.get("type") == "image"
            text += len(block.get("text", "") or block.get("thinking", ""))
    return (text + len(request.get("system", ""))) // 4 + 1_600 * images
