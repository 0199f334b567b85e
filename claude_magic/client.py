"""Which SDK client carries a turn, and what it says while it retries.

Owns the one seam between the package and the network: a `Connection` (key, base URL, retries,
timeout, fixture) decides the client; `ClientCache` keeps one so turns reuse its connection pool; the
fixture transport (`transport`) is given to the SDK's own HTTP client when a fixture is set; and
`RetryWatch` tells the live view when and why the SDK retries. `anthropic` is imported here, on the
first turn, never at `%load_ext`.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

from .errors import ClaudeError
from .output import TurnView
from .request import counted
from .settings import API_KEY_ENV, AUTH_TOKEN_ENV, fixture_mode

if TYPE_CHECKING:
    import anthropic

__all__ = ["Connection", "ClientCache", "RetryWatch", "make_client", "count_tokens", "messages_api", "NO_KEY_MESSAGE"]

# The SDK refuses to build a request without credentials; a replayed request never leaves the
# machine, so it carries this placeholder instead of a key.
REPLAY_ONLY_KEY = "replay-only-no-key"
SDK_LOGGER = "anthropic._base_client"

NO_KEY_MESSAGE = (
    f"No API key: set {API_KEY_ENV} in the environment that starts Jupyter, or run %claude_key "
    "to type it in without it being shown or saved."
)


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
        return fixture_mode(self.fixture, self.fixture_mode)


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
    if mode in ("off", "record", "update") and not has_auth:
        raise ClaudeError(NO_KEY_MESSAGE)
    kwargs: dict[str, Any] = {"max_retries": connection.max_retries, "timeout": connection.timeout}
    if connection.base_url:
        kwargs["base_url"] = connection.base_url
    # The SDK's own default HTTP client, with our one seam: the fixture transport and the retry watch.
    http: dict[str, Any] = {"event_hooks": {"response": [retries.response]}} if retries else {}
    if mode != "off":
        http["transport"] = _fixture_transport(connection.fixture, mode, has_auth)
    if http:
        kwargs["http_client"] = anthropic.DefaultHttpxClient(**http)
    api_key = connection.api_key or (None if has_auth or mode == "off" else REPLAY_ONLY_KEY)
    return anthropic.Anthropic(api_key=api_key, **kwargs)


def _fixture_transport(path: str, mode: Any, live_allowed: bool) -> Any:
    import httpx2

    from .fixture import Fixture
    from .transport import RecordReplayTransport

    try:
        fixture = Fixture.load(path)
    except ValueError as error:
        raise ClaudeError(str(error)) from None
    live = httpx2.HTTPTransport() if live_allowed and mode != "replay" else None
    return RecordReplayTransport(fixture, mode, live=live)


def messages_api(client: anthropic.Anthropic, request: dict[str, Any]) -> Any:
    """The beta endpoint for requests that use a beta (compaction), the stable one otherwise."""
    return client.beta.messages if "betas" in request else client.messages


def count_tokens(client: anthropic.Anthropic, request: dict[str, Any]) -> int:
    """Input tokens of `request`, counted by the API (sends nothing to the model)."""
    return messages_api(client, request).count_tokens(**counted(request)).input_tokens


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
    def notices(self, view: TurnView) -> Iterator[None]:
        self.status = None
        handler = _RetryLogHandler(self, view)
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
    def __init__(self, watch: RetryWatch, view: TurnView) -> None:
        super().__init__(logging.INFO)
        self.watch, self.view = watch, view

    def emit(self, record: logging.LogRecord) -> None:
        # Matched on the template, so no other record is ever formatted.
        if record.msg == _RETRY_LOG and isinstance(record.args, tuple) and len(record.args) == 2:
            seconds = cast(float, record.args[1])
            self.view.status(f"{self.watch.reason()}, retrying in {seconds:.0f} s")
            self.watch.status = None
