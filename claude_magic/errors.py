"""One-line, user-facing errors: the leaf every other module may import.

Everything the user can get wrong, and every way the API can fail, ends as a `ClaudeError`: a
`UsageError` subclass that IPython shows as a single line (through `_render_traceback_`) instead of
a traceback wall, that still marks the cell as failed (so nbval and papermill notice), and that
stays an ordinary `Exception` a user can catch. Turning SDK and transport exceptions into these
lines is `failures`' work, above the client.
"""

from __future__ import annotations

from IPython.core.error import UsageError

__all__ = ["ClaudeError", "ContextError", "InvariantError", "one_line"]


class ClaudeError(UsageError):
    """A failure the user can act on, shown as one line."""

    def _render_traceback_(self) -> list[str]:
        return [f"\x1b[0;31mClaudeError\x1b[0m: {self}"]


class ContextError(ClaudeError):
    """An object, file or URL named in a prompt that cannot be sent."""


class InvariantError(ClaudeError):
    """A history that the API would reject; raised before anything is sent, shown as one line."""


def one_line(text: str, limit: int = 200) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
