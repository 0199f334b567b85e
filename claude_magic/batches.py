"""The batch engine of a map job: Message Batches, split to fit the API's limits, polled until they end,
and their results read back by `custom_id` (they come in no particular order).

Everything goes through the session's own SDK client (`client.messages.batches`), so a fixture records
creation, every poll and the JSON Lines results, and replays them in order. Polls wait longer and
longer between them (a batch takes minutes to hours), but never for an answer the fixture gave: a
replayed job runs in the time it takes to read it. An interrupt stops the polling, not the batch.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from .engines import FINAL_ERRORS, Outcome, Tally
from .errors import one_line

if TYPE_CHECKING:
    import anthropic

__all__ = ["BatchEngine", "split", "request_bytes", "MAX_BATCH_REQUESTS", "MAX_BATCH_BYTES"]

# The API's limits on one batch: whichever comes first.
MAX_BATCH_REQUESTS = 100_000
MAX_BATCH_BYTES = 256_000_000  # "256 MB": read as decimal megabytes, the smaller reading
_ENVELOPE_BYTES = 64  # `{"requests": [...]}` around the requests, with room to spare
POLL_FIRST = 1.0  # seconds before the second poll; each wait is POLL_GROWTH times the last
POLL_GROWTH = 1.5
POLL_MAX = 60.0

Progress = Callable[[Tally, str], None]
Created = Callable[[str, list[str]], None]


def request_bytes(key: str, body: dict[str, Any]) -> int:
    """The bytes one request adds to a batch's body (with the comma between requests)."""
    return len(json.dumps({"custom_id": key, "params": body}, ensure_ascii=False).encode("utf-8")) + 2


def split(requests: Iterable[tuple[str, dict[str, Any]]], max_requests: int | None = None,
          max_bytes: int | None = None) -> list[list[tuple[str, dict[str, Any]]]]:
    """`requests` cut into consecutive batches of at most `max_requests` requests and `max_bytes`
    bytes each (by default the API's limits). A single request too large for any batch is the
    caller's to refuse beforehand."""
    max_requests = max_requests or MAX_BATCH_REQUESTS
    max_bytes = max_bytes or MAX_BATCH_BYTES
    batches: list[list[tuple[str, dict[str, Any]]]] = []
    size = max_bytes
    for request in requests:
        grows = request_bytes(*request)
        if not batches or len(batches[-1]) >= max_requests or size + grows > max_bytes - _ENVELOPE_BYTES:
            batches.append([])
            size = 0
        batches[-1].append(request)
        size += grows
    return batches


class BatchEngine:
    """Submits, polls and collects the batches of one job."""

    def __init__(self, client: anthropic.Anthropic, *, sleep: Callable[[float], None] | None = None,
                 cache_ttl: str = "1h") -> None:
        self.client = client
        self.sleep = sleep or time.sleep
        self.cache_ttl = cache_ttl

    def submit(self, requests: dict[str, dict[str, Any]], created: Created) -> list[str]:
        """Create the batches; `created(batch_id, custom_ids)` is called as soon as each exists."""
        ids = []
        for part in split(requests.items()):
            # The bodies are the plain dicts every request here is; the SDK's TypedDict only types them.
            batch = self.client.messages.batches.create(
                requests=[{"custom_id": key, "params": body} for key, body in part]  # type: ignore[typeddict-item]
            )
            created(batch.id, [key for key, _ in part])
            ids.append(batch.id)
        return ids

    def wait(self, batch_ids: list[str], total: int, progress: Progress) -> None:
        """Poll until every batch has ended (Ctrl-C stops the polling; the batches go on)."""
        open_ids, counts, pause = list(batch_ids), {}, POLL_FIRST
        while True:
            replayed = True
            for batch_id in list(open_ids):
                raw = self.client.messages.batches.with_raw_response.retrieve(batch_id)
                batch = raw.parse()
                replayed = replayed and _was_replayed(raw.headers)
                counts[batch_id] = batch.request_counts
                if batch.processing_status == "ended":
                    open_ids.remove(batch_id)
            progress(_tally(counts.values(), total), "")
            if not open_ids:
                return
            if not replayed:  # an answer from the fixture was recorded long ago: no need to wait again
                self.sleep(pause)
                pause = min(POLL_MAX, pause * POLL_GROWTH)

    def collect(self, batch_id: str) -> dict[str, Outcome]:
        """The results of an ended batch, by custom_id."""
        outcomes = {}
        for item in self.client.messages.batches.results(batch_id):
            outcomes[item.custom_id] = self._outcome(item.result)
        return outcomes

    def _outcome(self, result: Any) -> Outcome:
        if result.type == "succeeded":
            return Outcome.of_message(result.message, batch=True, cache_ttl=self.cache_ttl)
        if result.type == "errored":
            error = result.error.error
            detail = one_line(f"{error.type}: {error.message}", 160)
            return Outcome.failed("errored", detail, retryable=error.type not in FINAL_ERRORS, batch=True)
        if result.type == "expired":
            return Outcome.failed("expired", "expired: the batch did not reach it within 24 hours", retryable=True, batch=True)
        return Outcome.failed("canceled", "canceled before it ran", retryable=False, batch=True)


def _tally(counts: Iterable[Any], total: int) -> Tally:
    tally = Tally(total=total, submitted=total)
    for count in counts:
        tally.succeeded += count.succeeded
        tally.errored += count.errored
        tally.expired += count.expired
        tally.canceled += count.canceled
    return tally


def _was_replayed(headers: Any) -> bool:
    from .transport import REPLAYED_HEADER

    return headers.get(REPLAYED_HEADER) == "1"
