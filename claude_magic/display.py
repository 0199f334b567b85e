"""Choosing a turn's live view, the two views without widgets, and static reports.

`make_view` picks the view for the frontend: `widgets.WidgetView` in a notebook with widgets, a
`MarkdownView` (one Markdown display, updated) without a widget manager, and a `TextView` that
prints the deltas in terminal IPython. Every notebook view ends in the same static output
(`output.to_markdown`), so a saved notebook reads the same whichever view drew it live.
"""

from __future__ import annotations

import importlib.util
import sys
import time
from collections.abc import Callable
from typing import Any

from IPython.display import display, update_display

from .errors import ClaudeError, scrub
from .live import PLACEHOLDER, GrowingText, LiveView
from .output import Final, TurnView, to_markdown
from .settings import DISPLAY_MODES
from .tools import ToolCall

__all__ = ["make_view", "resolve_mode", "show", "MarkdownView", "TextView"]

# The Markdown view resends everything on a push, so it waits longer between pushes.
MARKDOWN_MAX_WAIT = 2.0


def resolve_mode(mode: str, shell: Any, *, interactive: bool = True) -> str:
    """The mode to use. "auto" is "widget" in a kernel that can load ipywidgets and whose frontend
    names its cells (JupyterLab, Notebook 7: someone is watching); "markdown" in a kernel driven
    headless (nbclient, nbconvert, papermill name no cells), which would otherwise save the state of
    every widget it saw into the notebook; "text" outside a kernel."""
    if mode not in DISPLAY_MODES:
        raise ValueError(f"display mode must be one of {', '.join(DISPLAY_MODES)}, not {mode!r}")
    if mode == "widget" and not _has_widgets():
        raise ClaudeError("display 'widget' needs ipywidgets: pip install ipywidgets, or set ClaudeMagics.display = 'markdown'.")
    if mode != "auto":
        return mode
    if not _in_kernel(shell):
        return "text"
    return "widget" if interactive and _has_widgets() else "markdown"


def _has_widgets() -> bool:
    # Asked only when it decides something: a spec search every turn costs time and memory.
    return "ipywidgets" in sys.modules or importlib.util.find_spec("ipywidgets") is not None


def _in_kernel(shell: Any) -> bool:
    # A shell can only be a kernel's if ipykernel is already imported; never import it here.
    zmqshell = sys.modules.get("ipykernel.zmqshell")
    return zmqshell is not None and isinstance(shell, zmqshell.ZMQInteractiveShell)


def make_view(
    mode: str, *, shell: Any = None, interactive: bool = True, clock: Callable[[], float] = time.monotonic
) -> TurnView:
    resolved = resolve_mode(mode, shell, interactive=interactive)
    if resolved == "widget":
        from .widgets import WidgetView

        return WidgetView(clock)
    if resolved == "markdown":
        return MarkdownView(clock)
    return TextView()


class MarkdownView(LiveView):
    """The live view for a frontend without a widget manager: one Markdown display, updated.

    Each push resends the whole text, so pushes thin out once the text is long. The status line
    stands where the footer will be, so the live view already has the final output's layout.
    """

    max_wait = MARKDOWN_MAX_WAIT

    def _show(self) -> None:
        # The first display is already what the saved notebook keeps: the live content only ever
        # travels in updates, which nbval ignores.
        display({"text/plain": PLACEHOLDER}, raw=True, display_id=self._display_id)
        self._push()

    def _render(self) -> None:
        live = to_markdown(
            Final(self._answer.markdown(), self._thought.markdown(), self._status_line(), sent=self._sent, steps=self._steps),
            live=True,
        )
        update_display({"text/markdown": live, "text/plain": PLACEHOLDER}, raw=True, display_id=self._display_id)

    def _resent(self, stream: GrowingText) -> int:
        return self._length()


_DIM = "\x1b[2m"
_UNDIM = "\x1b[22m"


class TextView:
    """Terminal IPython: answer deltas printed as they arrive, thinking dimmed under a header,
    then the answer's sources, the note and the footer. The terminal shows no Markdown, so nothing is shown twice."""

    def __init__(self) -> None:
        self._section = ""
        self._answered = False
        self._at_line_start = True
        self._waiting = False

    def start(self, model: str, sent: str = "") -> None:
        if sent:
            self._line(sent, dim=True)
        # On a terminal, a transient line that the first output erases.
        if sys.stdout.isatty():
            sys.stdout.write(f"{_DIM}{model} · waiting…{_UNDIM}")
            sys.stdout.flush()
            self._waiting = True

    def status(self, message: str) -> None:
        self._line(f"[{message}]", dim=True)

    def thinking(self, delta: str) -> None:
        if self._section != "thinking":
            self._begin("thinking")
            self._line("[thinking]", dim=True)
        # Noted before it is written: an interrupt can land inside the write, and what was shown counts.
        self._answered = self._answered or bool(delta.strip())
        self._write(delta, dim=True)

    def text(self, delta: str) -> None:
        if self._section != "text":
            self._begin("text")
        self._answered = self._answered or bool(delta.strip())
        self._write(delta)

    def tool(self, call: ToolCall) -> None:
        # A terminal cannot redraw a line once more has been printed: each call is printed when it ends.
        if call.status not in ("running", "waiting"):
            self._section = "tools"
            self._line(call.line, dim=True)

    def finish(self, final: Final) -> None:
        for source in final.sources:
            self._line(source)
        if final.note:
            self._line(final.note)
        if final.footer:
            self._line(final.footer, dim=True)

    def fail(self, footer: str) -> None:
        if self._answered:
            self.finish(Final("", footer=footer))
        elif not self._at_line_start or self._waiting:
            self._line("")

    def _begin(self, section: str) -> None:
        if self._section:
            self._line("")
        self._section = section

    def _line(self, text: str, *, dim: bool = False) -> None:
        if not self._at_line_start:
            self._write("\n")
        self._write(scrub(text) + "\n", dim=dim)

    def _write(self, text: str, *, dim: bool = False) -> None:
        out = sys.stdout
        erase, self._waiting = self._waiting, False
        # The state moves before the write: a Ctrl-C can land inside it, and the lines after it
        # (the footer of an interrupted answer) must still start on a line of their own.
        if text:
            self._at_line_start = text.endswith("\n")
        styled = dim and text.strip() and out.isatty()
        out.write(("\r\x1b[K" if erase else "") + (f"{_DIM}{text}{_UNDIM}" if styled else text))
        out.flush()


def show(markdown: str, plain: str) -> None:
    """A static report: Markdown in a notebook, its plain twin in a terminal."""
    display({"text/markdown": markdown, "text/plain": plain}, raw=True)
