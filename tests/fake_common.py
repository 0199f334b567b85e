"""What every part of the fake Claude API (tests/fakeapi.py) shares: real-shaped errors and
RFC 3339 timestamps."""

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
