"""The progress bar of a map job, and the screen a job writes its plan and results on.

`make_progress` picks the bar the frontend can draw, as `display.make_view` picks a turn's view: in a
notebook with widgets (JupyterLab, Notebook 7, VS Code) an ipywidgets bar; without a widget manager
(or driven headless) one HTML display with a `<progress>` element, updated under its display id; in
terminal IPython one line rewritten in place. Each shows submitted, succeeded, errored and expired
requests, the elapsed time and an estimate of what is left, at most a few times a second, and leaves
nothing timed in the saved notebook: when the job ends its display is reduced to the empty
placeholder, and the job's results are static outputs of their own.
"""

from __future__ import annotations

import html
import sys
import time
import uuid
from collections.abc import Callable
from typing import Any, Protocol

from IPython.display import display, update_display

from .display import resolve_mode, show
from .engines import Tally
from .errors import note
from .live import PLACEHOLDER

__all__ = ["Progress", "Screen", "NotebookScreen", "make_progress", "progress_line", "UPDATE_SECONDS"]

UPDATE_SECONDS = 0.25  # a bar redrawn more often than this only costs messages
_BAR = 24  # characters of the text bar


class Progress(Protocol):
    """One job's bar: `update` as often as the engine likes (it draws at its own pace), `close` at the end."""

    def update(self, tally: Tally, notice: str = "") -> None: ...

    def close(self) -> None: ...


class Screen(Protocol):
    """Where a job shows itself: static reports, one-line notes, and progress bars."""

    def show(self, markdown: str, plain: str) -> None: ...

    def note(self, message: str) -> None: ...

    def progress(self, label: str) -> Progress: ...


class NotebookScreen:
    """The `Screen` of a notebook or terminal IPython, with the display mode of `%config ClaudeMagics.display`."""

    def __init__(self, mode: str, shell: Any = None, interactive: bool = True) -> None:
        self.mode = resolve_mode(mode, shell, interactive=interactive)

    def show(self, markdown: str, plain: str) -> None:
        show(markdown, plain)

    def note(self, message: str) -> None:
        note(message)

    def progress(self, label: str) -> Progress:
        return make_progress(self.mode, label)


def progress_line(label: str, tally: Tally, elapsed: float, notice: str = "") -> str:
    """`batch · 1,000 requests: 1,000 submitted, 640 succeeded, 2 errored, 0 expired · 35 s, about 20 s left`"""
    counts = [f"{tally.submitted:,} submitted", f"{tally.succeeded:,} succeeded", f"{tally.errored:,} errored",
              f"{tally.expired:,} expired"] + ([f"{tally.canceled:,} canceled"] if tally.canceled else [])
    left = ""
    if 0 < tally.done < tally.total:
        left = f", about {elapsed / tally.done * (tally.total - tally.done):.0f} s left"
    line = f"{label} · {tally.total:,} requests: {', '.join(counts)} · {elapsed:.0f} s{left}"
    return f"{line} · {notice}" if notice else line


def make_progress(mode: str, label: str, clock: Callable[[], float] = time.monotonic) -> Progress:
    """The bar for a resolved display mode: "widget", "markdown" or "text"."""
    if mode == "widget":
        return _WidgetBar(label, clock)
    if mode == "markdown":
        return _HtmlBar(label, clock)
    return _TextBar(label, clock)


class _Bar:
    """What the three bars share: the pacing and the line."""

    def __init__(self, label: str, clock: Callable[[], float]) -> None:
        self.label = label
        self._clock = clock
        self._started = clock()
        self._drawn = float("-inf")
        self._display_id = uuid.uuid4().hex

    def update(self, tally: Tally, notice: str = "") -> None:
        now = self._clock()
        if now - self._drawn < UPDATE_SECONDS and tally.done < tally.total:
            return
        self._drawn = now
        self._draw(tally, progress_line(self.label, tally, now - self._started, notice))

    def _draw(self, tally: Tally, line: str) -> None:
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError


class _HtmlBar(_Bar):
    """One display, updated: an HTML `<progress>` bar that every notebook frontend draws."""

    def __init__(self, label: str, clock: Callable[[], float]) -> None:
        super().__init__(label, clock)
        display({"text/plain": PLACEHOLDER}, raw=True, display_id=self._display_id)

    def _draw(self, tally: Tally, line: str) -> None:
        bar = f'<progress max="{max(tally.total, 1)}" value="{tally.done}" style="width: 16em"></progress>'
        update_display({"text/html": f"{bar} <small>{html.escape(line)}</small>", "text/plain": line},
                       raw=True, display_id=self._display_id)

    def close(self) -> None:
        update_display({"text/plain": PLACEHOLDER}, raw=True, display_id=self._display_id)


class _WidgetBar(_Bar):
    """An ipywidgets bar and its line, closed at the end so the notebook keeps no widget state."""

    def __init__(self, label: str, clock: Callable[[], float]) -> None:
        super().__init__(label, clock)
        import ipywidgets

        self._bar = ipywidgets.IntProgress(value=0, min=0, max=1)
        self._line = ipywidgets.HTML()
        self._box = ipywidgets.HBox([self._bar, self._line])
        view = {"model_id": self._box.model_id, "version_major": 2, "version_minor": 0}
        display({"application/vnd.jupyter.widget-view+json": view, "text/plain": PLACEHOLDER},
                raw=True, display_id=self._display_id)

    def _draw(self, tally: Tally, line: str) -> None:
        self._bar.max = max(tally.total, 1)
        self._bar.value = tally.done
        self._line.value = f"<small>{html.escape(line)}</small>"

    def close(self) -> None:
        update_display({"text/plain": PLACEHOLDER}, raw=True, display_id=self._display_id)
        for widget in (self._box, self._line, self._bar, self._bar.style, self._bar.layout,
                       self._line.style, self._line.layout, self._box.layout):
            widget.close()


class _TextBar(_Bar):
    """Terminal IPython: one line rewritten in place; where output is no terminal, nothing until the end."""

    def __init__(self, label: str, clock: Callable[[], float]) -> None:
        super().__init__(label, clock)
        self._shown = False

    def _draw(self, tally: Tally, line: str) -> None:
        if not sys.stdout.isatty():
            return
        filled = _BAR * tally.done // max(tally.total, 1)
        sys.stdout.write(f"\r\x1b[K{'█' * filled}{'░' * (_BAR - filled)} {line}")
        sys.stdout.flush()
        self._shown = True

    def close(self) -> None:
        if self._shown:
            sys.stdout.write("\r\x1b[K")
            sys.stdout.flush()
