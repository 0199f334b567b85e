"""SDK and transport exceptions -> one-line `ClaudeError`s that say what to do.

Sits above the client: it knows the SDK's error classes, httpx2's transport errors, a stream that
ended early or could not be read (`stream.IncompleteStream`, `stream.UnreadableStream`), a wait for a
retry longer than the user allows (`client.retry_wait_too_long`) and a fixture that cannot answer
(`transport.ReplayFailure`). Anything else that escapes a turn is a bug, and keeps its traceback.
Whatever a server said is scrubbed of key-shaped text (`errors.one_line`, `ClaudeError`). The SDK is
imported only once an error needs translating: a session that has not yet sent anything has not paid for it.
"""

from __future__ import annotations

from .errors import ClaudeError, one_line
from .settings import API_KEY_ENV, Settings
from .stream import IncompleteStream, UnreadableStream

__all__ = ["turn_failure", "is_api_failure", "api_error_message"]


def turn_failure(error: BaseException, *, model: str, prompt: str, settings: Settings) -> ClaudeError | None:
    """The one-line error for a turn that did not complete; None for anything that is a bug,
    which should surface with its traceback. A replay miss is worded for its reader (`guidance`)."""
    if isinstance(error, ClaudeError):
        return error
    if isinstance(error, KeyboardInterrupt):
        return ClaudeError("Interrupted; the conversation is as it was before this cell.")
    if not is_api_failure(error):
        return None
    from .guidance import miss_message
    from .transport import ReplayFailure, ReplayMiss

    if isinstance(error, ReplayMiss):
        return ClaudeError(miss_message(error, prompt, settings))
    message = api_error_message(error, model=model)
    if isinstance(error, ReplayFailure):
        message = f"cell {one_line(prompt, 40)!r}: {message}"
    return ClaudeError(message)


def is_api_failure(error: BaseException) -> bool:
    """Errors of the call itself: SDK errors, a dropped or truncated stream."""
    import anthropic
    import httpx2

    return isinstance(error, (anthropic.AnthropicError, httpx2.TransportError, IncompleteStream, UnreadableStream))


def api_error_message(error: BaseException, *, model: str = "") -> str:
    """One line saying what went wrong with a call and what to do about it."""
    import anthropic
    import httpx2

    from .client import retry_wait_too_long
    from .transport import ReplayFailure

    detail = _api_detail(error)
    if isinstance(error, (ReplayFailure, retry_wait_too_long())):
        return str(error)
    if isinstance(error, UnreadableStream):
        return (
            f"The answer's stream could not be read ({one_line(str(error), 120)}); nothing was added to the "
            "conversation. Re-run the cell."
        )
    if isinstance(error, (anthropic.APITimeoutError, httpx2.TimeoutException)):
        return "The request timed out: re-run, or raise ClaudeMagics.timeout (seconds)."
    if isinstance(error, (IncompleteStream, httpx2.TransportError)):
        return "The connection dropped mid-answer; nothing was added to the conversation. Re-run the cell."
    if isinstance(error, anthropic.AuthenticationError):
        return f"The API rejected the key (401): check {API_KEY_ENV}, or run %claude_key to enter another."
    if isinstance(error, anthropic.PermissionDeniedError):
        return f"This key may not do that (403): {detail}"
    if isinstance(error, anthropic.NotFoundError):
        return f"Not found (404): is {model!r} a model id? Try -m opus, sonnet or haiku. {detail}".rstrip()
    if isinstance(error, anthropic.RateLimitError):
        wait = error.response.headers.get("retry-after")
        when = f"in {one_line(wait, 20)} s" if wait else "in a minute"
        return f"Rate limited (429) after the retries ran out: re-run {when}, or raise ClaudeMagics.max_retries."
    if isinstance(error, anthropic.APIStatusError) and error.status_code == 529 or _event_type(error) == "overloaded_error":
        return "Claude is overloaded (529) after the retries ran out: re-run in a minute, or try -m sonnet."
    if isinstance(error, anthropic.BadRequestError) and "prompt is too long" in detail:
        return (
            "This conversation no longer fits the model's context window: start a fresh one with -n, "
            "or continue with -m opus, which compacts long conversations."
        )
    if isinstance(error, anthropic.BadRequestError):
        return f"The API refused the request (400): {detail}"
    if isinstance(error, anthropic.APIStatusError):
        return f"API error ({error.status_code}): {detail} Re-run the cell; nothing was added to the conversation."
    if isinstance(error, anthropic.APIConnectionError):
        return "Could not reach the API: check the network (and ANTHROPIC_BASE_URL if you set it)."
    return f"{type(error).__name__}: {detail}"


def _api_detail(error: BaseException) -> str:
    message = getattr(error, "message", None) or str(error)
    body = getattr(error, "body", None)
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        message = body["error"].get("message") or message
    return one_line(str(message), 200)


def _event_type(error: BaseException) -> str | None:
    body = getattr(error, "body", None)
    return body.get("error", {}).get("type") if isinstance(body, dict) else None
