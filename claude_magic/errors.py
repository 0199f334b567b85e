"""One-line, user-facing errors.

Everything the user can get wrong, and every way the API can fail, ends as a `ClaudeError`: a
`UsageError` subclass that IPython shows as a single line (through `_render_traceback_`) instead of
a traceback wall, that still marks the cell as failed (so nbval and papermill notice), and that
stays an ordinary `Exception` a user can catch.
"""

from __future__ import annotations

from IPython.core.error import UsageError


class ClaudeError(UsageError):
    """A failure the user can act on, shown as one line."""

    def _render_traceback_(self) -> list[str]:
        return [f"\x1b[0;31mClaudeError\x1b[0m: {self}"]


class ContextError(ClaudeError):
    """An object, file or URL named in a prompt that cannot be sent."""


def turn_failure(error: BaseException, *, model: str, prompt: str) -> ClaudeError | None:
    """The one-line error for a turn that did not complete; None for anything that is a bug,
    which should surface with its traceback."""
    if isinstance(error, ClaudeError):
        return error
    if isinstance(error, KeyboardInterrupt):
        return ClaudeError("Interrupted; the conversation is as it was before this cell.")
    if not is_api_failure(error):
        return None
    from .replay import ReplayMiss

    message = api_error_message(error, model=model)
    if isinstance(error, ReplayMiss):
        message = f"cell {one_line(prompt, 40)!r}: {message}"
    return ClaudeError(message)


def is_api_failure(error: BaseException) -> bool:
    """Errors of the call itself: SDK errors, a dropped or truncated stream."""
    import anthropic
    import httpx2

    from .client import IncompleteStream

    return isinstance(error, (anthropic.AnthropicError, httpx2.TransportError, IncompleteStream))


def api_error_message(error: BaseException, *, model: str = "") -> str:
    """One line saying what went wrong with a call and what to do about it."""
    import anthropic
    import httpx2

    from .client import API_KEY_ENV, IncompleteStream
    from .replay import ReplayMiss

    detail = _api_detail(error)
    if isinstance(error, ReplayMiss):
        return str(error)
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
        when = f"in {wait} s" if wait else "in a minute"
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


def one_line(text: str, limit: int = 200) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
