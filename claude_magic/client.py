"""Which SDK client carries a turn, and what it says while it retries.

Owns the one seam between the package and the network: a `Connection` (key, base URL, retries,
timeout, fixture) decides the client; `ClientCache` keeps one so turns reuse its connection pool; the
fixture transport (`transport`) is given to the SDK's own HTTP client when a fixture is set; and
`RetryWatch` tells the live view when and why the SDK retries, and refuses a wait for a retry longer
than `max_retry_wait` (the SDK would sit through any `retry-after` a server sends). `anthropic` is
imported here, on the first turn, never at `%load_ext`.
"""

from __future__ import annotations

import email.utils
import functools
import hashlib
import logging
import os
import threading
import time
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

__all__ = [
    "Connection", "ClientCache", "RetryWatch", "retry_wait_too_long", "make_client", "count_tokens", "messages_api",
    "NO_KEY_MESSAGE",
]

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
    max_retry_wait: float = 60.0
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
        self._lock = threading.Lock()  # turns of different conversations may ask from two threads at once

    def get(self, connection: Connection) -> anthropic.Anthropic:
        key = _fingerprint(connection)
        with self._lock:
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
    return (digest, connection.base_url, connection.max_retries, connection.timeout, connection.max_retry_wait,
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
    http: dict[str, Any] = {}
    if retries:
        limit = connection.max_retry_wait if connection.max_retries else None  # with no retries, no wait
        http["event_hooks"] = {"response": [lambda response: retries.response(response, limit)]}
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


@functools.cache
def retry_wait_too_long() -> type[Exception]:
    """The error for a server asking a wait before the retry longer than `ClaudeMagics.max_retry_wait`.

    An `AnthropicError`, because the SDK wraps any other exception a response hook raises as a
    connection error, and retries it; made on first use, because the SDK is imported only then.
    """
    import anthropic

    return type("RetryWaitTooLong", (anthropic.AnthropicError,), {"__module__": __name__, "__doc__": retry_wait_too_long.__doc__})


class RetryWatch:
    """Tells the live status line when and why the SDK retries ("rate limited (429), retrying in 4 s").

    The SDK decides and waits, honouring retry-after; this listens: the HTTP client's response hook
    notes each status, and the SDK's INFO line about the retry gives the wait. The hook also refuses
    (`retry_wait_too_long`) a retry-after beyond the limit the user allows. Turns may run at once in
    several threads, each with its own view: what a response said is kept per thread, and each
    turn's view hears only the retries of its own thread.
    """

    def __init__(self) -> None:
        self._seen = threading.local()

    @property
    def status(self) -> int | None:
        return getattr(self._seen, "status", None)

    @status.setter
    def status(self, value: int | None) -> None:
        self._seen.status = value

    def response(self, response: Any, limit: float | None = None) -> None:
        self.status = response.status_code
        wait = _retry_after(response.headers) if limit is not None and _retryable(response) else None
        self._seen.asked = wait is not None
        if wait is not None and wait > cast(float, limit):
            raise _too_long(response.status_code, wait, cast(float, limit))

    @contextmanager
    def notices(self, view: TurnView) -> Iterator[None]:
        self.status = None
        handler = _RetryLogHandler(self, view)
        logger = logging.getLogger(SDK_LOGGER)
        with _SDK_LOG.listening():
            logger.addHandler(handler)
            try:
                yield
            finally:
                logger.removeHandler(handler)

    def reason(self) -> str:
        if self.status is None or self.status < 400:
            return "connection failed"
        return _status_phrase(self.status)

    def asked(self) -> bool:
        """Whether the last response named the wait itself (retry-after)."""
        return bool(getattr(self._seen, "asked", False))


class _RetryLogHandler(logging.Handler):
    def __init__(self, watch: RetryWatch, view: TurnView) -> None:
        super().__init__(logging.INFO)
        self.watch, self.view = watch, view
        self.thread = threading.get_ident()  # the SDK logs from the thread that makes the request

    def emit(self, record: logging.LogRecord) -> None:
        # Matched on the template, so no other record is ever formatted.
        if record.thread != self.thread or record.msg != _RETRY_LOG:
            return
        if isinstance(record.args, tuple) and len(record.args) == 2:
            seconds = cast(float, record.args[1])
            why = ", as the server asked" if self.watch.asked() else ""
            self.view.status(f"{self.watch.reason()}, retrying in {seconds:.0f} s{why}")
            self.watch.status = None


class _LoggerLease:
    """The SDK's logger at INFO and not propagating while any turn listens for its retry line, and as
    the user left it once none does. Counted, because turns in several threads overlap in any order.
    INFO, not DEBUG: at DEBUG the SDK dumps every request; and records the user did not ask for must
    not reach their handlers. One per process, as the logger is."""

    def __init__(self, name: str) -> None:
        self._name = name
        self._lock = threading.Lock()
        self._holders = 0
        self._saved: tuple[int, bool] | None = None

    @contextmanager
    def listening(self) -> Iterator[None]:
        logger = logging.getLogger(self._name)
        with self._lock:
            if self._holders == 0 and not logger.isEnabledFor(logging.INFO):
                self._saved = logger.level, logger.propagate
                logger.setLevel(logging.INFO)
                logger.propagate = False
            self._holders += 1
        try:
            yield
        finally:
            with self._lock:
                self._holders -= 1
                if self._holders == 0 and self._saved is not None:
                    # setLevel, not assignment: it clears the loggers' level caches
                    logger.setLevel(self._saved[0])
                    logger.propagate = self._saved[1]
                    self._saved = None


_SDK_LOG = _LoggerLease(SDK_LOGGER)


def _retryable(response: Any) -> bool:
    """Whether the SDK retries this response (its `_should_retry`: x-should-retry, 408, 409, 429, 5xx)."""
    told = response.headers.get("x-should-retry")
    if told in ("true", "false"):
        return told == "true"
    return response.status_code in (408, 409, 429) or response.status_code >= 500


def _retry_after(headers: Any) -> float | None:
    """The wait a response asks for, read as the SDK reads it: retry-after-ms, then retry-after in
    seconds or as an HTTP date."""
    for name, scale in (("retry-after-ms", 1000.0), ("retry-after", 1.0)):
        try:
            return float(headers.get(name)) / scale
        except (TypeError, ValueError):
            pass
    date = email.utils.parsedate_tz(headers.get("retry-after") or "")
    return float(email.utils.mktime_tz(date) - time.time()) if date else None


def _too_long(status: int, wait: float, limit: float) -> Exception:
    what = _status_phrase(status).capitalize()
    return retry_wait_too_long()(
        f"{what}: the server asks for a wait of {_duration(wait)} before a retry, longer than "
        f"ClaudeMagics.max_retry_wait ({limit:g} s). Re-run the cell later, or raise the setting to wait it out."
    )


def _status_phrase(status: int) -> str:
    """`rate limited (429)`, `server error (500)`."""
    return f"{_STATUS_WORDS.get(status, 'server error')} ({status})"


def _duration(seconds: float) -> str:
    for unit, size in (("days", 86_400), ("hours", 3_600), ("minutes", 60)):
        if seconds >= 2 * size:
            return f"{seconds / size:,.0f} {unit}"
    return f"{seconds:,.0f} s"
