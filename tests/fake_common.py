"""What every part of the fake Claude API (tests/fakeapi.py) shares: real-shaped errors,
RFC 3339 timestamps and list pagination."""

from __future__ import annotations

import datetime
from typing import Any

ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    402: "billing_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    504: "timeout_error",
    529: "overloaded_error",
}

ERROR_MESSAGES = {
    "invalid_request_error": "Invalid request (fake)",
    "authentication_error": "invalid x-api-key",
    "billing_error": "Your credit balance is too low to access the Anthropic API.",
    "permission_error": "Your API key does not have permission to use the specified resource.",
    "not_found_error": "Not found",
    "request_too_large": "Request exceeds the maximum allowed number of bytes.",
    "rate_limit_error": "This request would exceed the rate limit for your organization (fake).",
    "api_error": "Internal server error",
    "timeout_error": "Request timed out",
    "overloaded_error": "Overloaded",
}


class Rejection(Exception):
    """A request the real API would refuse: answered with ``status`` and a real-shaped error body."""

    def __init__(self, status: int, error_type: str, message: str, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.error_type = error_type
        self.message = message
        self.details = details  # ``error.details``, whose ``error_code`` picks the SDK's error class

    def body(self, request_id: str | None = None) -> dict[str, Any]:
        """The real-shaped error body (an ``ErrorResponse``)."""
        error: dict[str, Any] = {"type": self.error_type, "message": self.message}
        if self.details is not None:
            error["details"] = self.details
        body: dict[str, Any] = {"type": "error", "error": error}
        if request_id is not None:
            body["request_id"] = request_id
        return body


def invalid(message: str) -> Rejection:
    return Rejection(400, "invalid_request_error", message)


def not_found(message: str) -> Rejection:
    return Rejection(404, "not_found_error", message)


def rfc3339(moment: datetime.datetime) -> str:
    return moment.astimezone(datetime.timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


# --------------------------------------------------------------------------- lists


def _one(query: dict[str, list[str]], name: str) -> str | None:
    values = query.get(name)
    return values[-1] if values else None


def page_limit(query: dict[str, list[str]]) -> int:
    raw = _one(query, "limit")
    if raw is None:
        return 20
    try:
        limit = int(raw)
    except ValueError:
        raise invalid("limit: Input should be a valid integer") from None
    if not 1 <= limit <= 1000:
        raise invalid("limit: Input should be greater than or equal to 1 and less than or equal to 1000")
    return limit


def paginate(items: list[dict[str, Any]], query: dict[str, list[str]]) -> dict[str, Any]:
    """One page of ``items`` (already in list order) as ``SyncPage`` reads it: ``limit``
    (1..1000, default 20), and at most one of the cursors ``after_id`` / ``before_id``.

    ``has_more`` looks in the direction of travel: past the page's end, or with ``before_id``
    before its start -- which is where the SDK's next page (``before_id=first_id``) goes."""
    limit = page_limit(query)
    after, before = _one(query, "after_id"), _one(query, "before_id")
    if after and before:
        raise invalid("Only one of `before_id` and `after_id` may be provided")  # wording on belief
    ids = [item["id"] for item in items]
    for name, cursor in (("after_id", after), ("before_id", before)):
        if cursor and cursor not in ids:
            raise invalid(f"{name}: no object with id {cursor!r}")  # wording on belief
    if before:
        end = ids.index(before)
        start = max(0, end - limit)
        page, has_more = items[start:end], start > 0
    else:
        start = ids.index(after) + 1 if after else 0
        page, has_more = items[start : start + limit], start + limit < len(items)
    return {
        "data": page,
        "has_more": has_more,
        "first_id": page[0]["id"] if page else None,
        "last_id": page[-1]["id"] if page else None,
    }
