"""What the notebook did: each cell's id and source, what it printed and showed, and the last error.

`CellLog` listens to IPython's `pre_run_cell` and `post_run_cell` events, to the kernel's display
hooks (which see every image a cell shows, from any library: matplotlib with or without
`plt.show()`, `df.plot()`, seaborn, `IPython.display.Image`, a displayed PIL image) and to what the
kernel's stdout and stderr are given (as their `echo`, which ipykernel's streams write to at once,
in the writing thread). `-f` attaches what the most recent image-showing cell showed, `-x` the last
error, `-k`'s tools read cells by how far back they ran, and a re-run cell is known by its cell id.
While Claude's code runs (`capturing`), what it displays is taken for Claude and kept out of the
cell's output. Everything here runs after every cell, display and print, so it is cheap, bounded
and never raises into the user's output. Imported at `%load_ext`: nothing heavy.
"""

from __future__ import annotations

import sys
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from .tracebacks import format_error

__all__ = ["CellLog", "CellRecord", "CellError", "ShownImage", "Capture", "IMAGE_TYPES", "MAX_TEXT_PER_CELL"]

IMAGE_TYPES = ("image/png", "image/jpeg", "image/gif", "image/webp", "image/svg+xml")
# What one cell may leave here, and how many cells are kept: a bounded memory of the notebook.
MAX_IMAGES_PER_CELL = 8
MAX_CELLS = 50
MAX_TEXT_PER_CELL = 10_000  # characters of printed and displayed text kept per cell; the rest is counted


# Immutable records are NamedTuples: a frozen dataclass costs ~0.8 ms to build at import, and
# `%load_ext` imports this module.
class ShownImage(NamedTuple):
    """One image a cell displayed, as the frontend received it."""

    mimetype: str
    data: bytes


class CellError(NamedTuple):
    """A cell that raised: its source, and the traceback as plain text."""

    source: str
    summary: str  # "KeyError: 'price'"
    traceback: str


@dataclass
class Capture:
    """What a cell printed and displayed as text, and the images it displayed: bounded."""

    images: list[ShownImage] = field(default_factory=list)
    pieces: list[str] = field(default_factory=list)
    text_length: int = 0  # of all the text given, kept or not

    def add_text(self, text: str) -> None:
        room = MAX_TEXT_PER_CELL - min(self.text_length, MAX_TEXT_PER_CELL)
        if room and text:
            self.pieces.append(text[:room])
        self.text_length += len(text)

    def add_images(self, images: list[ShownImage]) -> None:
        self.images += images[: MAX_IMAGES_PER_CELL - len(self.images)]

    @property
    def text(self) -> str:
        return "".join(self.pieces)

    @property
    def text_cut(self) -> int:
        """Characters of text given but not kept."""
        return self.text_length - min(self.text_length, MAX_TEXT_PER_CELL)


@dataclass
class CellRecord:
    count: int | None
    cell_id: str | None
    source: str
    output: Capture = field(default_factory=Capture)
    figures: list[Any] = field(default_factory=list)  # open matplotlib figures it drew (non-inline backends)
    error: CellError | None = None

    @property
    def images(self) -> list[ShownImage]:
        return self.output.images

    @property
    def shown(self) -> bool:
        return bool(self.images or self.figures)


class CellLog:
    """See the module docstring. `is_cell` tells a cell's code by its file name."""

    def __init__(self, is_cell: Callable[[str], bool] = lambda filename: False) -> None:
        self._is_cell = is_cell
        self._current: CellRecord | None = None
        self.cells: deque[CellRecord] = deque(maxlen=MAX_CELLS)
        self.last_error: CellError | None = None
        self._figures_seen: tuple[int, ...] = ()
        self._capture: Capture | None = None
        self._tees: list[tuple[Any, _Tee]] = []

    @property
    def current_cell_id(self) -> str | None:
        return self._current.cell_id if self._current is not None else None

    def last_shown(self) -> tuple[CellRecord, int] | None:
        """The most recent finished cell that showed an image or drew a figure, and how many cells
        back it ran (1: the one before the running cell)."""
        return next(((cell, back) for back, cell in enumerate(reversed(self.cells), 1) if cell.shown), None)

    def find(self, *, cells_back: int | None = None, execution_count: int | None = None) -> tuple[CellRecord, int] | None:
        """A finished cell by how many cells back it ran (1: the one before the running cell), or
        by its execution count (the latest cell with that count: a runner that stores no history,
        such as nbval, gives every cell the same one), and how far back it is."""
        for back, cell in enumerate(reversed(self.cells), 1):
            if back == cells_back or (cells_back is None and cell.count == execution_count):
                return cell, back
        return None

    @contextmanager
    def capturing(self) -> Iterator[Capture]:
        """While the block runs, what is displayed is taken into the Capture and kept from the
        frontend: Claude's code shows nothing in the user's cell, and no cell is said to show it."""
        self._capture = capture = Capture()
        try:
            yield capture
        finally:
            self._capture = None

    def attach(self, shell: Any) -> None:
        """Listen to `shell`: its cell events, the display hooks of a kernel (which see every image a
        cell shows; a terminal has none) and what its streams print."""
        shell.events.register("pre_run_cell", self.started)
        shell.events.register("post_run_cell", self.finished)
        for hooks in _display_hooks(shell):
            hooks.register_hook(self.displayed)
        self.watch_streams()

    def detach(self, shell: Any) -> None:
        shell.events.unregister("pre_run_cell", self.started)
        shell.events.unregister("post_run_cell", self.finished)
        for hooks in _display_hooks(shell):
            hooks.unregister_hook(self.displayed)
        self.unwatch_streams()

    def watch_streams(self) -> None:
        """Note what the kernel's stdout and stderr print, per cell. A terminal's streams have no
        `echo` and are left alone."""
        iostream = sys.modules.get("ipykernel.iostream")
        for stream in (sys.stdout, sys.stderr):
            if iostream is not None and isinstance(stream, iostream.OutStream):
                tee = _Tee(self._printed, stream.echo)
                stream.echo = tee
                self._tees.append((stream, tee))

    def unwatch_streams(self) -> None:
        for stream, tee in self._tees:
            if stream.echo is tee:  # anyone who replaced it since keeps theirs
                stream.echo = tee.previous
        self._tees.clear()

    # The event callbacks: each swallows its own failures, since a hook that raises breaks the cell.

    def started(self, info: Any) -> None:
        try:
            self._current = CellRecord(None, getattr(info, "cell_id", None), str(getattr(info, "raw_cell", "") or ""))
        except Exception:
            self._current = None

    def displayed(self, message: Any) -> Any:
        """A display hook: notes the images and text of a display or result message and returns it
        untouched, or None (which stops it) while capturing."""
        target = self._capture or (self._current.output if self._current is not None else None)
        try:
            if target is not None:
                images = _images_of(message)
                target.add_images(images)
                if not images:
                    target.add_text(_plain_text(message))
        except Exception:
            pass
        return None if self._capture is not None else message

    def _printed(self, text: str) -> None:
        if self._current is not None and self._capture is None:
            self._current.output.add_text(text)

    def finished(self, result: Any) -> None:
        record, self._current = self._current, None
        if record is None:
            return
        try:
            record.count = getattr(result, "execution_count", None)
            error = getattr(result, "error_in_exec", None) or getattr(result, "error_before_exec", None)
            if error is not None and not _is_ours(error):
                record.error = CellError(record.source, _summary(error), format_error(error, self._is_cell))
                self.last_error = record.error
            record.figures = self._drawn_figures()
            self.cells.append(record)
        except Exception:
            pass

    def _drawn_figures(self) -> list[Any]:
        """Figures left open that are new or changed since the last cell: with a non-inline backend
        they are on screen but never displayed (the inline backend closes its figures at cell end)."""
        from .images import open_figures

        figures = open_figures()
        seen, self._figures_seen = self._figures_seen, tuple(id(figure) for figure in figures)
        changed = self._figures_seen != seen or any(getattr(figure, "stale", False) for figure in figures)
        return figures[-MAX_IMAGES_PER_CELL:] if changed else []


def _images_of(message: Any) -> list[ShownImage]:
    if not isinstance(message, dict) or message.get("msg_type") not in ("display_data", "execute_result"):
        return []
    data = message.get("content", {}).get("data", {})
    images = []
    for mimetype in IMAGE_TYPES:
        payload = data.get(mimetype)
        # A kernel hands a hook raw bytes (the session base64-encodes them when it sends) or a
        # base64 string, as the formatter made it; SVG is text.
        if isinstance(payload, bytes):
            images.append(ShownImage(mimetype, payload))
        elif isinstance(payload, str):
            import base64  # only once a figure is shown: load_ext stays lean

            raw = payload.encode("utf-8") if mimetype == "image/svg+xml" else base64.b64decode(payload)
            images.append(ShownImage(mimetype, raw))
        if payload is not None:
            break  # one picture in several formats is one picture: the first format wins
    return images


def _plain_text(message: Any) -> str:
    if not isinstance(message, dict) or message.get("msg_type") not in ("display_data", "execute_result"):
        return ""
    text = message.get("content", {}).get("data", {}).get("text/plain", "")
    return f"{text}\n" if isinstance(text, str) and text else ""


class _Tee:
    """Stands as a kernel stream's `echo`: given everything written, passed on to the echo it replaced."""

    def __init__(self, note: Callable[[str], None], previous: Any) -> None:
        self.note, self.previous = note, previous

    def write(self, text: str) -> int:
        try:
            self.note(text)
        except Exception:
            pass
        return self.previous.write(text) if self.previous is not None else len(text)

    def flush(self) -> None:
        if self.previous is not None:
            self.previous.flush()


def _is_ours(error: BaseException) -> bool:
    # A refused %%claude turn or a bad magic flag is not the user's code failing.
    usage_error = getattr(sys.modules.get("IPython.core.error"), "UsageError", ())
    return isinstance(error, usage_error)


def _summary(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0]}" if text else type(error).__name__


def _display_hooks(shell: Any) -> list[Any]:
    return [hooks for hooks in (shell.display_pub, shell.displayhook) if hasattr(hooks, "register_hook")]
