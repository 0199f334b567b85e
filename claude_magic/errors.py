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
