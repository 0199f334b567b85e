"""The record/replay HTTP transport given to the SDK's own `httpx2.Client`.

A replayed reply goes through the real SDK parser and `MessageStream`, exactly as a live one does.
What is recorded and how it is keyed is `fixture`'s; this module only answers requests from a
fixture, from the live API, or from the live API while recording, and says in one line what a
request the fixture does not hold differs by. A request sent again (a batch polled until it ends) is
answered with its recordings in the order they were made. Imported only when a client is built.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Iterator
from typing import Any, Literal

import anthropic
import httpx2

from .fixture import Exchange, Fixture, request_body, request_key
from .settings import API_KEY_ENV, FIXTURE_MODES
from .sse import sse_bytes

__all__ = ["RecordReplayTransport", "ReplayFailure", "ReplayMiss", "BadRecording", "Mode", "REPLAYED_HEADER"]

Mode = Literal["off", "auto", "replay", "record"]

# Set on every response answered from the fixture: a client that waits between polls need not wait
# for answers that were recorded long ago.
REPLAYED_HEADER = "x-claude-magic-replayed"


class ReplayFailure(anthropic.AnthropicError):
    """A request the fixture cannot answer, in a mode that may not go live.

    An `AnthropicError`, because the SDK retries any other exception raised by a transport: it must
    fail at once, not after the retry back-off.
    """



class ReplayMiss(ReplayFailure):
    """No recording matches the request."""

    def __init__(self, summary: str, difference: str = "", *, fixture: str = "", mode: str = "replay", missing_turn: str = "") -> None:
        super().__init__(f"{summary}; nearest differs at {difference}" if difference else summary)
        self.summary = summary
        self.difference = difference
        self.fixture = fixture  # the fixture file's name
        self.mode = mode
        self.missing_turn = missing_turn  # the earlier question a follow-up was recorded after, if that is why


class BadRecording(ReplayFailure):
    """The recording that matches holds a stream the SDK could not read (edited by hand, say)."""


class RecordReplayTransport(httpx2.BaseTransport):
    """Answers the SDK's requests from a fixture, from `live`, or from `live` while recording.

    - replay: from the fixture only; a miss raises `ReplayMiss`; `live` is never called.
    - auto: from the fixture when it holds the request, else through `live` unrecorded
      (with no `live`, i.e. no API key, a miss raises `ReplayMiss`).
    - record: always through `live`, writing each exchange once its body has been read or closed.
    - update: from the fixture when it holds the request, else through `live`, recording it: after an
      edit only the changed requests are asked, and the fixture's diff is theirs.
    - off: straight through `live`.

    The n-th time a request is sent it gets its n-th recording (recorded the same way), except that a
    status the SDK retries (429, 5xx...) keeps no place of its own: the retry takes it, so a replay
    does not wait out the back-off again. Safe to share between threads.
    """

    def __init__(self, fixture: Fixture, mode: Mode, live: httpx2.BaseTransport | None = None) -> None:
        if mode not in FIXTURE_MODES:
            raise ValueError(f"unknown replay mode {mode!r}; expected one of {', '.join(FIXTURE_MODES)}")
        if mode in ("record", "update", "off") and live is None:
            raise ValueError(f"replay mode {mode!r} needs a live transport to send requests to")
        self.fixture = fixture
        self.mode = mode
        self.live = live
        self._last: str | None = None  # the key of the request this run used last: new ones go after it
        self._sent: dict[str, int] = {}  # request key -> the answers it has had so far
        self._lock = threading.Lock()

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        if self.mode == "off":
            return self._live(request)
        method, path = request.method, request.url.path
        body = request_body(request.read(), request.headers.get("content-type", ""))
        if self.mode == "record":
            return self._record(request, method, path, body)
        key = request_key(method, path, body)
        with self._lock:
            recorded = self.fixture.find(method, path, body, self._sent.get(key, 0))
            if recorded is not None:
                self._answered(key, recorded.status)
                self._last = key
        if recorded is not None:
            problem = recorded.stream_problem()
            if problem:
                raise BadRecording(
                    f"exchange {self.fixture.index(recorded)} of {self.fixture.path.name} cannot be replayed: its "
                    f"{problem}. Record it again, or restore the file"
                )
            return _response(recorded)
        if self.mode == "update":
            return self._record(request, method, path, body)
        if self.mode == "auto" and self.live is not None:
            return self._live(request)
        raise self._miss(method, path, body)

    def close(self) -> None:
        if self.live is not None:
            self.live.close()

    def _live(self, request: httpx2.Request) -> httpx2.Response:
        assert self.live is not None  # __init__ refuses "record" and "off" without one; "auto" checks
        return self.live.handle_request(request)

    def _answered(self, key: str, status: int) -> None:
        if not _retried(status):
            self._sent[key] = self._sent.get(key, 0) + 1

    def _record(self, request: httpx2.Request, method: str, path: str, body: Any) -> httpx2.Response:
        response = self._live(request)
        content_type = response.headers.get("content-type", "").partition(";")[0].strip()
        retry_after = response.headers.get("retry-after")
        key = request_key(method, path, body)
        with self._lock:
            occurrence = self._sent.get(key, 0)
            self._answered(key, response.status_code)

        def keep(content: bytes, ended: bool) -> None:
            exchange = Exchange.from_live(method, path, body, response.status_code, content_type, retry_after, content)
            # A stream abandoned midway (Ctrl-C, a dropped read) is not what the API said: keep it only
            # if it ran to its end or had already sent its final event (an `error` event makes the
            # SDK close the stream without reading on).
            if ended or exchange.finished:
                with self._lock:  # requests sent from several threads share the file
                    self.fixture.put(exchange, occurrence, after=self._last)
                    self._last = exchange.key
                    try:
                        self.fixture.save()
                    except (OSError, ValueError) as error:
                        # The answer is paid for and good: the turn keeps it; only the recording is lost.
                        print(f"note: the fixture {self.fixture.path} was not written: {error}", file=sys.stderr)

        if response.is_stream_consumed:  # a transport that returns a body already read (MockTransport)
            keep(response.content, True)
        else:
            headers, stream = response.headers, response.stream
            assert isinstance(stream, httpx2.SyncByteStream)  # a sync client's transport gives a sync body
            response.stream = _Tee(stream, lambda raw, ended: keep(_decoded(raw, headers), ended))
        return response

    def _miss(self, method: str, path: str, body: Any) -> ReplayMiss:
        count = len(self.fixture)
        message = (
            f"no recorded response for this request in {self.fixture.path.name} "
            f"({count} recording{'' if count == 1 else 's'})"
        )
        if self.mode == "auto":
            message += f" and no {API_KEY_ENV} is set to ask the API"
        difference = self.fixture.nearest_difference(method, path, body)
        missing = self.fixture.missing_turn(method, path, body)
        return ReplayMiss(message, difference, fixture=self.fixture.path.name, mode=self.mode, missing_turn=missing)


def _retried(status: int) -> bool:
    """The statuses the SDK retries (its `_should_retry`): 408, 409, 429 and every 5xx."""
    return status in (408, 409, 429) or status >= 500


def _response(exchange: Exchange) -> httpx2.Response:
    headers = {"content-type": exchange.content_type, REPLAYED_HEADER: "1"}
    if exchange.retry_after is not None:
        headers["retry-after"] = exchange.retry_after
    if exchange.events is not None:
        # One chunk per event, as the API sends them, so a stream replays as a stream.
        return httpx2.Response(exchange.status, headers=headers, content=[sse_bytes(e) for e in exchange.events])
    return httpx2.Response(exchange.status, headers=headers, content=exchange.body_bytes())


class _Tee(httpx2.SyncByteStream):
    """Hands the live body on chunk by chunk, as it arrives, while keeping a copy to record."""

    def __init__(self, stream: httpx2.SyncByteStream, done: Callable[[bytes, bool], None]) -> None:
        self._stream = stream
        self._done = done
        self._chunks: list[bytes] = []
        self._finished = False

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self._stream:
            self._chunks.append(chunk)
            yield chunk
        self._finish(ended=True)

    def close(self) -> None:
        try:
            self._stream.close()
        finally:
            self._finish(ended=False)

    def _finish(self, ended: bool) -> None:
        if not self._finished:
            self._finished = True
            self._done(b"".join(self._chunks), ended)


def _decoded(raw: bytes, headers: httpx2.Headers) -> bytes:
    """The body as the SDK sees it: a gzip or deflate encoding undone, as httpx2 does for the caller."""
    encoding = headers.get("content-encoding")
    if not encoding:
        return raw
    return httpx2.Response(200, headers={"content-encoding": encoding}, content=raw).content
