"""The record/replay HTTP transport given to the SDK's own `httpx2.Client`.

A replayed reply goes through the real SDK parser and `MessageStream`, exactly as a live one does.
What is recorded and how it is keyed is `fixture`'s; this module only answers requests from a
fixture, from the live API, or from the live API while recording, and says in one line what a
request the fixture does not hold differs by. Imported only when a client is built.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from typing import Any, Literal

import anthropic
import httpx2

from .fixture import Exchange, Fixture, request_body
from .settings import API_KEY_ENV, FIXTURE_MODES
from .sse import sse_bytes

__all__ = ["RecordReplayTransport", "ReplayMiss", "Mode"]

Mode = Literal["off", "auto", "replay", "record"]


class ReplayMiss(anthropic.AnthropicError):
    """No recording matches a request in a mode that may not go live.

    An `AnthropicError`, because the SDK retries any other exception raised by a transport: a miss
    must fail at once, not after the retry back-off.
    """

    def __init__(self, message: str, difference: str = "") -> None:
        super().__init__(message)
        self.difference = difference


class RecordReplayTransport(httpx2.BaseTransport):
    """Answers the SDK's requests from a fixture, from `live`, or from `live` while recording.

    - replay: from the fixture only; a miss raises `ReplayMiss`; `live` is never called.
    - auto: from the fixture when it holds the request, else through `live` unrecorded
      (with no `live`, i.e. no API key, a miss raises `ReplayMiss`).
    - record: always through `live`, writing each exchange once its body has been read or closed.
    - off: straight through `live`.
    """

    def __init__(self, fixture: Fixture, mode: Mode, live: httpx2.BaseTransport | None = None) -> None:
        if mode not in FIXTURE_MODES:
            raise ValueError(f"unknown replay mode {mode!r}; expected one of {', '.join(FIXTURE_MODES)}")
        if mode in ("record", "off") and live is None:
            raise ValueError(f"replay mode {mode!r} needs a live transport to send requests to")
        self.fixture = fixture
        self.mode = mode
        self.live = live

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        if self.mode == "off":
            return self._live(request)
        method, path = request.method, request.url.path
        body = request_body(request.read(), request.headers.get("content-type", ""))
        if self.mode == "record":
            return self._record(request, method, path, body)
        recorded = self.fixture.find(method, path, body)
        if recorded is not None:
            return _response(recorded)
        if self.mode == "auto" and self.live is not None:
            return self._live(request)
        raise self._miss(method, path, body)

    def close(self) -> None:
        if self.live is not None:
            self.live.close()

    def _live(self, request: httpx2.Request) -> httpx2.Response:
        assert self.live is not None  # __init__ refuses "record" and "off" without one; "auto" checks
        return self.live.handle_request(request)

    def _record(self, request: httpx2.Request, method: str, path: str, body: Any) -> httpx2.Response:
        response = self._live(request)
        content_type = response.headers.get("content-type", "").partition(";")[0].strip()
        retry_after = response.headers.get("retry-after")

        def keep(content: bytes, ended: bool) -> None:
            exchange = Exchange.from_live(method, path, body, response.status_code, content_type, retry_after, content)
            # A stream abandoned midway (Ctrl-C, a dropped read) is not what the API said: keep it only
            # if it ran to its end or had already sent its final event (an `error` event makes the
            # SDK close the stream without reading on).
            if ended or exchange.finished:
                self.fixture.put(exchange)
                try:
                    self.fixture.save()
                except OSError as error:
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
        if difference:
            message += f"; nearest differs at {difference}"
        return ReplayMiss(message, difference)


def _response(exchange: Exchange) -> httpx2.Response:
    headers = {"content-type": exchange.content_type}
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
