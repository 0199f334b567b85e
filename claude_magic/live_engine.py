"""The live engine of a map job: one request per prompt, several at once, backing off together on 429s.

Requests go out from a small thread pool through the session's own SDK client (so a fixture records
and replays them), with the SDK's retries off: a worker that meets a 429 would otherwise sleep on its
own while the others go on hitting the limit. Instead a `Throttle` shared by all of them bounds how many
are in flight and, on a 429, halves that number and holds every worker back for the wait the response
asks for (its `retry-after`, or the time its exhausted `anthropic-ratelimit-*` limit takes to refill
this request's share). Successes widen the window again, one request at a time. Server errors and
dropped connections are retried with a growing pause, as often as the SDK would. The main thread only
waits and reports progress, so Ctrl-C stops the job there: queued prompts are not sent, and what has
come back is kept.
"""

from __future__ import annotations

import datetime
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import TYPE_CHECKING, Any

from .engines import Interrupted, Outcome, Tally
from .failures import api_error_message
from .request import estimate_tokens

if TYPE_CHECKING:
    import anthropic

__all__ = ["LiveEngine", "Throttle", "LIVE_CONCURRENCY", "rate_limit_wait"]

LIVE_CONCURRENCY = 8
RATE_LIMIT_RETRIES = 8  # a prompt refused for the rate this many times is that row's error
MAX_WAIT = 60.0  # the longest one back-off holds every worker
PROGRESS_SECONDS = 0.25  # how often the main thread reports while it waits
INTERRUPT_GRACE = 10.0  # how long an interrupt waits for requests already in flight
# Above this many output tokens the SDK refuses a request that does not stream.
NONSTREAMING_MAX_TOKENS = 21_333
_TOKEN_LIMITS = {"tokens", "input-tokens", "output-tokens"}

Progress = Callable[[Tally, str], None]


class _Stopped(Exception):
    """The job was interrupted before this request was sent."""


def rate_limit_wait(headers: Mapping[str, str], tokens: int, now: datetime.datetime) -> float:
    """Seconds to hold back after a 429: its `retry-after` (or `retry-after-ms`), and no less than
    the time any exhausted limit takes to refill one request (`requests`) or `tokens` tokens, read from
    `anthropic-ratelimit-<kind>-{limit,remaining,reset}` (a limit refills evenly until its reset)."""
    waits = [_seconds(headers.get("retry-after")), (_seconds(headers.get("retry-after-ms")) or 0) / 1000]
    for name, value in headers.items():
        if not (name.startswith("anthropic-ratelimit-") and name.endswith("-remaining")) or value.strip() != "0":
            continue
        kind = name[len("anthropic-ratelimit-"):-len("-remaining")]
        limit, reset = _seconds(headers.get(f"anthropic-ratelimit-{kind}-limit")), headers.get(f"anthropic-ratelimit-{kind}-reset")
        if not limit or reset is None:
            continue
        try:
            until = (datetime.datetime.fromisoformat(reset.replace("Z", "+00:00")) - now).total_seconds()
        except ValueError:
            continue
        share = min(1.0, tokens / limit) if kind in _TOKEN_LIMITS else 1 / limit
        waits.append(until * share)
    return min(MAX_WAIT, max(0.0, *(wait for wait in waits if wait is not None)))


def _seconds(value: str | None) -> float | None:
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


class Throttle:
    """How many requests may be in flight, and until when all must wait (see the module docstring)."""

    def __init__(self, limit: int, notify: Callable[[str], None] = lambda message: None) -> None:
        self.ceiling = self.limit = limit
        self.in_flight = 0
        self.waits: list[float] = []  # every back-off asked for, in seconds
        self._hold_until = 0.0
        self._streak = 0
        self._stopped = False
        self._notify = notify
        self._ready = threading.Condition()

    def acquire(self) -> None:
        """Wait for a place in the window (raises `_Stopped` once the job is interrupted)."""
        with self._ready:
            while True:
                if self._stopped:
                    raise _Stopped
                ahead = self._hold_until - time.monotonic()
                if ahead <= 0 and self.in_flight < self.limit:
                    self.in_flight += 1
                    return
                self._ready.wait(ahead if ahead > 0 else None)

    def release(self, succeeded: bool) -> None:
        with self._ready:
            self.in_flight -= 1
            self._streak = self._streak + 1 if succeeded else 0
            if self._streak >= self.limit and self.limit < self.ceiling:
                self.limit, self._streak = self.limit + 1, 0
            self._ready.notify_all()

    def back_off(self, seconds: float, why: str) -> None:
        """Halve the window and hold everyone back for `seconds`."""
        with self._ready:
            self.waits.append(seconds)
            self.limit, self._streak = max(1, self.limit // 2), 0
            self._hold_until = max(self._hold_until, time.monotonic() + seconds)
            self._ready.notify_all()
        self._notify(f"{why}: all requests wait {seconds:.1f} s; at most {self.limit} at once now")

    def stop(self) -> None:
        with self._ready:
            self._stopped = True
            self._ready.notify_all()


class LiveEngine:
    """Sends `requests` (custom_id -> request body) and gathers an `Outcome` for each."""

    def __init__(self, client: anthropic.Anthropic, *, concurrency: int = LIVE_CONCURRENCY, max_retries: int = 2,
                 cache_ttl: str = "5m") -> None:
        self.client = client.with_options(max_retries=0)  # the throttle retries, for all workers at once
        self.concurrency = concurrency
        self.max_retries = max_retries
        self.cache_ttl = cache_ttl
        self.notices: list[str] = []
        self.throttle = Throttle(concurrency, self.notices.append)

    def run(self, requests: Mapping[str, dict[str, Any]], progress: Progress) -> dict[str, Outcome]:
        tally = Tally(total=len(requests))
        outcomes: dict[str, Outcome] = {}
        pool = ThreadPoolExecutor(max_workers=min(self.concurrency, max(1, len(requests))), thread_name_prefix="claude-map")
        futures: dict[Future[Outcome], str] = {pool.submit(self._one, body): key for key, body in requests.items()}
        try:
            pending = set(futures)
            while pending:
                done, pending = wait(pending, timeout=PROGRESS_SECONDS, return_when=FIRST_COMPLETED)
                self._gather(done, futures, outcomes, tally)
                tally.submitted = tally.done + self.throttle.in_flight
                progress(tally, self.notices[-1] if self.notices else "")
        except KeyboardInterrupt:
            self.throttle.stop()
            pool.shutdown(wait=False, cancel_futures=True)
            wait([future for future in futures if future.running()], timeout=INTERRUPT_GRACE)
            self._gather({f for f in futures if f.done() and not f.cancelled()}, futures, outcomes, tally)
            kept = {key: outcomes[key] for key in requests if key in outcomes and outcomes[key].status != "canceled"}
            raise Interrupted(kept) from None
        except BaseException:  # a failure no row can own (a replay miss, a bug): send nothing more
            self.throttle.stop()
            pool.shutdown(wait=False, cancel_futures=True)
            raise
        finally:
            pool.shutdown(wait=False)
        # In the order asked, not the order answered: sums over them then come out the same every run.
        return {key: outcomes[key] for key in requests}

    def _gather(self, done: set[Future[Outcome]], futures: dict[Future[Outcome], str],
                outcomes: dict[str, Outcome], tally: Tally) -> None:
        for future in done:
            key = futures[future]
            if key not in outcomes:
                outcomes[key] = future.result()
                tally.add(outcomes[key])

    def _one(self, body: dict[str, Any]) -> Outcome:
        import anthropic

        failures = rate_limited = 0
        while True:
            try:
                self.throttle.acquire()
            except _Stopped:
                return Outcome.failed("canceled", "not sent: the job was interrupted", retryable=True)
            succeeded = False
            try:
                message = _send(self.client, body)
                succeeded = True
                return Outcome.of_message(message, batch=False, cache_ttl=self.cache_ttl)
            except anthropic.RateLimitError as error:
                rate_limited += 1
                if rate_limited > RATE_LIMIT_RETRIES:
                    return Outcome.failed("errored", api_error_message(error), retryable=True)
                now = datetime.datetime.now(datetime.timezone.utc)
                wait_for = rate_limit_wait(error.response.headers, estimate_tokens(body) + body["max_tokens"], now)
                self.throttle.back_off(wait_for or 2.0 ** min(rate_limited, 5) / 4, "rate limited (429)")
            except (anthropic.APIConnectionError, anthropic.APIStatusError) as error:
                status = getattr(error, "status_code", None)
                retryable = status is None or status in (408, 409) or status >= 500
                failures += 1
                if not retryable or failures > self.max_retries:
                    return Outcome.failed("errored", api_error_message(error, model=body["model"]), retryable=retryable)
                time.sleep(min(MAX_WAIT, 0.5 * 2 ** failures))  # this worker only: the others are not to blame
            finally:
                self.throttle.release(succeeded)


def _send(client: anthropic.Anthropic, body: dict[str, Any]) -> Any:
    """One request, plain; streamed only where the SDK refuses a long plain one."""
    if body["max_tokens"] <= NONSTREAMING_MAX_TOKENS:
        return client.messages.create(**body)
    with client.messages.stream(**body) as stream:
        return stream.get_final_message()
