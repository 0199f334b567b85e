"""One-line, user-facing errors: the leaf every other module may import.

Everything the user can get wrong, and every way the API can fail, ends as a `ClaudeError`: a
`UsageError` subclass that IPython shows as a single line (through `_render_traceback_`) instead of
a traceback wall, that still marks the cell as failed (so nbval and papermill notice), and that
stays an ordinary `Exception` a user can catch. Turning SDK and transport exceptions into these
lines is `failures`' work, above the client. Key-shaped text (`SECRET`) is scrubbed from every such
line, whoever supplied it (a pasted prompt, a server's error text), and from saved outputs (`scrub`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TypeVar

from IPython.core.error import UsageError

__all__ = ["ClaudeError", "ContextError", "InvariantError", "KeyScreen", "guarded", "note", "one_line", "scrub", "SECRET", "REDACTED"]

T = TypeVar("T")
R = TypeVar("R")

# What an Anthropic API key looks like, and what stands in its place wherever text is shown or saved.
SECRET = re.compile(r"sk-ant-[A-Za-z0-9_-]{8,}")
REDACTED = "sk-ant-…redacted"


# The end of a text that may be a key still arriving: every prefix of "sk-ant-", or one and what follows.
_KEY_SO_FAR = re.compile(r"(?:sk-ant-[A-Za-z0-9_-]*|sk-ant|sk-an|sk-a|sk-|sk|s)\Z")


def scrub(text: str) -> str:
    """`text` with anything shaped like an API key replaced by `REDACTED`."""
    return SECRET.sub(REDACTED, text)


def note(message: str) -> None:
    """A one-line `note:` under the cell; scrubbed, since a note may quote a prompt that holds a key."""
    print(f"note: {scrub(message)}")


class KeyScreen:
    """Scrubs a text that arrives in pieces, as a stream's deltas do, before any of it is shown.

    A key split across pieces matches no pattern in either, and shown piece by piece its tail would
    follow a redacted head; so what may be the start of a key is held back until the text plainly
    goes on (or `flush` says it has ended), and only then scrubbed and let through.
    """

    def __init__(self) -> None:
        self._held = ""

    def feed(self, piece: str) -> str:
        """What of the text so far can be shown now, scrubbed."""
        text = self._held + piece
        match = _KEY_SO_FAR.search(text)
        cut = match.start() if match else len(text)
        self._held = text[cut:]
        return scrub(text[:cut])

    def flush(self) -> str:
        """What was held back, scrubbed: the text has ended."""
        held, self._held = self._held, ""
        return scrub(held)


class ClaudeError(UsageError):
    """A failure the user can act on, shown as one line, with no key in it."""

    def __init__(self, message: object = "") -> None:
        super().__init__(scrub(str(message)))

    def _render_traceback_(self) -> list[str]:
        return [f"\x1b[0;31mClaudeError\x1b[0m: {self}"]


class ContextError(ClaudeError):
    """An object, file or URL named in a prompt that cannot be sent."""


class InvariantError(ClaudeError):
    """A history that the API would reject; raised before anything is sent, shown as one line."""


def one_line(text: str, limit: int = 200) -> str:
    """`text` on one line, at most `limit` characters, scrubbed before it is cut (a cut key would
    no longer look like one)."""
    text = " ".join(scrub(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def guarded(render: Callable[[T], R], obj: T, label: str, *, what: str = "repr") -> R:
    """`render(obj)`; whatever it raises (a user's object may raise anything) becomes one line. A
    `ContextError` already is one, and passes as it is."""
    try:
        return render(obj)
    except ContextError:
        raise
    except Exception as error:
        shown = f"repr({label})" if what == "repr" else f"{what} {label}"
        raise ContextError(f"{shown} failed: {type(error).__name__}: {one_line(str(error))}") from None
