"""The fake Claude API's Message Batches (tests/fakeapi.py), shaped as anthropic 2.15's
``types/messages/*``: create, retrieve (each retrieve is a poll), list, cancel, delete and the
JSONL results.

A batch reports ``in_progress`` for ``FakeAPI.batch_polls`` retrieves, then ends.  Only then are
its requests answered: each by ``FakeAPI.batch_outcomes`` when that names it, else by
``FakeAPI.batch_reply`` (or the echo), through the same reply builder as live turns.  As the
batch docs say, each request's ``params`` are validated asynchronously: a body the Messages API
would refuse becomes an ``errored`` result, not a refused batch (only the envelope -- the
``requests`` list, ``custom_id`` and total size -- is checked on creation).
"""

from __future__ import annotations

import dataclasses
import datetime
import json
import random
import re
import threading
from typing import Any

from fake_common import ERROR_MESSAGES, Rejection, invalid, not_found, paginate, rfc3339
from fake_content import ScriptError, Turn, build_reply
from fake_validation import validate_request

MAX_REQUESTS = 100_000
#: The documented 256 MB limit on a batch's body (taken as MiB).
MAX_BYTES = 256 * 1024 * 1024
CUSTOM_ID = re.compile(r"[a-zA-Z0-9_-]{1,64}")
OUTCOMES = ("succeeded", "errored", "canceled", "expired")


@dataclasses.dataclass
class Batch:
    id: str
    requests: list[dict[str, Any]]
    polls_left: int
    created_at: datetime.datetime
    status: str = "in_progress"
    cancel_initiated_at: datetime.datetime | None = None
    ended_at: datetime.datetime | None = None
    results: list[dict[str, Any]] | None = None  # in results order, once ended


def _check_envelope(body: Any, size: int) -> list[dict[str, Any]]:
    if size > MAX_BYTES:
        raise Rejection(413, "request_too_large", f"Request exceeds the maximum allowed number of bytes ({MAX_BYTES}).")
    requests = body.get("requests") if isinstance(body, dict) else None
    if not isinstance(requests, list):
        raise invalid("requests: Field required")
    if not 1 <= len(requests) <= MAX_REQUESTS:
        bound = "at least 1 item" if not requests else f"at most {MAX_REQUESTS} items"
        raise invalid(f"requests: List should have {bound} after validation, not {len(requests)}")
    seen: set[str] = set()
    for i, request in enumerate(requests):
        custom_id = request.get("custom_id") if isinstance(request, dict) else None
        if not isinstance(custom_id, str) or not CUSTOM_ID.fullmatch(custom_id):
            raise invalid(f"requests.{i}.custom_id: String should match pattern '^[a-zA-Z0-9_-]{{1,64}}$'")
        if custom_id in seen:
            raise invalid(f"requests.{i}.custom_id: {custom_id!r} is used by an earlier request; custom_id values must be unique")  # on belief
        seen.add(custom_id)
        if not isinstance(request.get("params"), dict):
            raise invalid(f"requests.{i}.params: Field required")
    return requests


def _errored(error_type: str, message: str | None = None) -> dict[str, Any]:
    """An ``errored`` result; its ``error`` is an ``ErrorResponse``."""
    message = message or ERROR_MESSAGES.get(error_type, "Error (fake)")
    return {"type": "errored", "error": Rejection(0, error_type, message).body()}


class BatchStore:
    """The batches of one ``FakeAPI`` (``fake``: its scripting attributes and reply parts)."""

    def __init__(self, fake: Any) -> None:
        self.fake = fake
        self.batches: dict[str, Batch] = {}
        self._lock = threading.RLock()

    # -- endpoints

    def create(self, batch_id: str, body: Any, size: int, base_url: str) -> dict[str, Any]:
        requests = _check_envelope(body, size)
        batch = Batch(batch_id, requests, self.fake.batch_polls, datetime.datetime.now(datetime.timezone.utc))
        with self._lock:
            self.batches[batch_id] = batch
        return self._json(batch, base_url)

    def retrieve(self, batch_id: str, base_url: str) -> dict[str, Any]:
        with self._lock:
            batch = self._get(batch_id)
            if batch.status != "ended":
                if batch.status == "canceling" or batch.polls_left <= 0:
                    self._finish(batch)
                else:
                    batch.polls_left -= 1
            return self._json(batch, base_url)

    def list(self, query: dict[str, list[str]], base_url: str) -> dict[str, Any]:
        """Newest first, as ``SyncPage[MessageBatch]``; listing is not a poll."""
        with self._lock:
            items = [self._json(b, base_url) for b in reversed(self.batches.values())]
        return paginate(items, query)

    def cancel(self, batch_id: str, base_url: str) -> dict[str, Any]:
        with self._lock:
            batch = self._get(batch_id)
            if batch.status == "ended":
                raise invalid(f"Message Batch {batch_id} has already ended and cannot be canceled")  # on belief
            if batch.status == "in_progress":
                batch.status, batch.cancel_initiated_at = "canceling", datetime.datetime.now(datetime.timezone.utc)
            return self._json(batch, base_url)

    def delete(self, batch_id: str) -> dict[str, Any]:
        with self._lock:
            batch = self._get(batch_id)
            if batch.status != "ended":  # "can only be deleted once they've finished processing"
                raise invalid(f"Message Batch {batch_id} is still processing: cancel it and let it end before deleting it")
            del self.batches[batch_id]
        return {"id": batch_id, "type": "message_batch_deleted"}

    def results(self, batch_id: str) -> bytes:
        """The ``.jsonl`` results, one ``MessageBatchIndividualResponse`` a line."""
        with self._lock:
            batch = self._get(batch_id)
            if batch.results is None:
                raise invalid(f"Message Batch {batch_id} has not ended yet: its results are not available")  # on belief
            return b"".join(json.dumps(line).encode() + b"\n" for line in batch.results)

    # -- processing

    def _get(self, batch_id: str) -> Batch:
        if batch_id not in self.batches:
            raise not_found(f"Message Batch not found: {batch_id}")  # wording on belief
        return self.batches[batch_id]

    def _finish(self, batch: Batch) -> None:
        canceled = batch.status == "canceling"
        lines = [
            {"custom_id": r["custom_id"], "result": self._result(r["custom_id"], r["params"], canceled)}
            for r in batch.requests
        ]
        order = list(range(len(lines)))
        random.Random(batch.id).shuffle(order)
        if order == sorted(order):  # "not guaranteed to be in the same order": make sure they are not
            order.reverse()
        batch.results = [lines[i] for i in order]
        batch.status, batch.ended_at = "ended", datetime.datetime.now(datetime.timezone.utc)

    def _outcome(self, custom_id: str, params: dict[str, Any]) -> Any:
        outcomes = self.fake.batch_outcomes
        return outcomes(custom_id, params) if callable(outcomes) else (outcomes or {}).get(custom_id)

    def _result(self, custom_id: str, params: dict[str, Any], canceled: bool) -> dict[str, Any]:
        """What one request came to: an outcome the script names (``"errored"``,
        ``"expired"``, ``"canceled"``, an error object, or a :class:`Turn` to answer with),
        canceled when the batch was canceled before it ran, else its answer."""
        outcome = self._outcome(custom_id, params)
        if outcome is None and canceled:
            outcome = "canceled"
        if outcome in ("expired", "canceled"):
            return {"type": outcome}
        if outcome == "errored":
            return _errored("api_error")
        if isinstance(outcome, dict):
            return _errored(outcome["type"], outcome.get("message"))
        if outcome not in (None, "succeeded") and not isinstance(outcome, Turn):
            raise ValueError(f"batch outcome for {custom_id!r} must be one of {OUTCOMES}, an error dict or a Turn")
        return self._answer(params, outcome if isinstance(outcome, Turn) else None)

    def _answer(self, params: dict[str, Any], turn: Turn | None) -> dict[str, Any]:
        fake = self.fake
        try:
            if fake.strict:
                if params.get("stream"):
                    raise invalid("stream: a batch request cannot be streamed")
                validate_request(params, endpoint="messages", models=fake.models, files=fake.files)
            turn = turn or reply_turn(fake.batch_reply, params)
            if turn.status is not None:
                rej = turn.rejection()
                return _errored(rej.error_type, rej.message)
            message = build_reply(turn, params, fake._next_id, fake.models, fake.files).message()
        except Rejection as rej:
            return _errored(rej.error_type, rej.message)
        except ScriptError as exc:
            return _errored("api_error", f"FakeAPI script error: {exc}")
        message["usage"]["service_tier"] = "batch"
        return {"type": "succeeded", "message": message}

    def _json(self, batch: Batch, base_url: str) -> dict[str, Any]:
        """The batch as a ``MessageBatch``: counts stay ``processing`` until the whole batch ends."""
        counts = dict.fromkeys(("processing", *OUTCOMES), 0)
        if batch.results is None:
            counts["processing"] = len(batch.requests)
        for line in batch.results or []:
            counts[line["result"]["type"]] += 1
        ended = batch.status == "ended"
        return {
            "id": batch.id,
            "type": "message_batch",
            "processing_status": batch.status,
            "request_counts": counts,
            "created_at": rfc3339(batch.created_at),
            "expires_at": rfc3339(batch.created_at + datetime.timedelta(hours=24)),
            "ended_at": rfc3339(batch.ended_at) if batch.ended_at else None,
            "cancel_initiated_at": rfc3339(batch.cancel_initiated_at) if batch.cancel_initiated_at else None,
            "archived_at": None,
            "results_url": f"{base_url}/v1/messages/batches/{batch.id}/results" if ended else None,
        }


def reply_turn(reply_for: Any, params: dict[str, Any]) -> Turn:
    """``reply_for(params)`` (``FakeAPI.batch_reply`` or ``FakeAPI.respond``) as a turn: a str is
    the answer's text, a Turn is used as is, ``None`` (or no function) is the default echo."""
    reply = reply_for(params) if reply_for is not None else None
    if reply is None or isinstance(reply, Turn):
        return reply or Turn()
    return Turn(text=str(reply))
