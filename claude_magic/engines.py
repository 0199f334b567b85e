"""What the two engines of a map job share: one request's outcome, and the tally a progress bar shows.

An `Outcome` is what became of one distinct prompt: its answer's text, stop reason and usage when it
succeeded, or a one-line reason when it errored, expired or was canceled, with whether a second try
could help. It holds no SDK object, so a job file can keep one. `Interrupted` carries what a stopped
engine had gathered. No SDK, no IPython here.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from .pricing import Usage, usage_from_api

__all__ = ["Outcome", "Tally", "Interrupted", "FINAL_ERRORS", "custom_id", "prompt_number"]

# The API's error types that the same request sent again would meet again.
FINAL_ERRORS = frozenset({
    "invalid_request_error", "authentication_error", "permission_error", "not_found_error",
    "request_too_large", "billing_error",
})


def custom_id(prompt: int) -> str:
    """The `custom_id` of a job's `prompt`-th distinct prompt (the API allows `[a-zA-Z0-9_-]{1,64}`)."""
    return f"p{prompt}"


def prompt_number(key: str) -> int:
    """Which distinct prompt a `custom_id` is (the inverse of `custom_id`)."""
    return int(key[1:])


@dataclass(frozen=True)
class Outcome:
    """See the module docstring. `status` is the batch result type: succeeded, errored, expired or
    canceled (a live request that failed is errored too)."""

    status: str
    text: str = ""
    stop_reason: str | None = None
    model: str = ""
    usage: Usage = field(default_factory=Usage)
    error: str = ""
    retryable: bool = False
    batch: bool = False  # billed at Message Batches prices

    @classmethod
    def of_message(cls, message: Any, *, batch: bool, cache_ttl: str = "5m") -> Outcome:
        """A succeeded request's outcome; the text is that of its text blocks, whatever came first."""
        text = "".join(block.text for block in message.content if block.type == "text")
        usage = usage_from_api(message.usage, cache_ttl)
        return cls("succeeded", text, message.stop_reason, message.model, usage, batch=batch)

    @classmethod
    def failed(cls, status: str, error: str, *, retryable: bool, batch: bool = False) -> Outcome:
        return cls(status, error=error, retryable=retryable, batch=batch)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Outcome:
        return cls(**{**data, "usage": Usage(**data.get("usage", {}))})


@dataclass
class Tally:
    """How far a job's requests have got, for its progress bar."""

    total: int
    submitted: int = 0
    succeeded: int = 0
    errored: int = 0
    expired: int = 0
    canceled: int = 0

    @property
    def done(self) -> int:
        return self.succeeded + self.errored + self.expired + self.canceled

    def add(self, outcome: Outcome) -> None:
        setattr(self, outcome.status, getattr(self, outcome.status) + 1)


class Interrupted(Exception):
    """The user stopped an engine; `outcomes` are the requests it had finished, by custom_id."""

    def __init__(self, outcomes: dict[str, Outcome]) -> None:
        super().__init__("interrupted")
        self.outcomes = outcomes
