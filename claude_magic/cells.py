"""What the notebook did: each cell's id and source, the images it showed, and the last error.

`CellLog` listens to IPython's `pre_run_cell` and `post_run_cell` events and to the kernel's display
hooks (which see every image a cell shows, from any library: matplotlib with or without
`plt.show()`, `df.plot()`, seaborn, `IPython.display.Image`, a displayed PIL image). `-f` attaches
what the most recent image-showing cell showed, `-x` the last error, and a re-run cell is known by
its cell id. Everything here runs after every cell and every display, so it is cheap, bounded and
never raises into the user's output. Imported at `%load_ext`: nothing heavy.
"""

from __future__ import annotations

import base64
import sys
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .tracebacks import format_error

__all__ = ["CellLog", "CellRecord", "CellError", "ShownImage", "IMAGE_TYPES"]

IMAGE_TYPES = ("image/png", "image/jpeg", "image/gif", "image/webp", "image/svg+xml")
# What one cell may leave here, and how many cells are kept: a bounded memory of the notebook.
MAX_IMAGES_PER_CELL = 8
MAX_CELLS = 50


@dataclass(frozen=True)
class ShownImage:
    """One image a cell displayed, as the frontend received it."""

    mimetype: str
    data: bytes


@dataclass(frozen=True)
class CellError:
    """A cell that raised: which, its source, and the traceback as plain text."""

    count: int | None
    source: str
    summary: str  # "KeyError: 'price'"
    traceback: str


@dataclass
class CellRecord:
    count: int | None
    cell_id: str | None
    source: str
    images: list[ShownImage] = field(default_factory=list)
    figures: list[Any] = field(default_factory=list)  # open matplotlib figures it drew (non-inline backends)
    error: CellError | None = None

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

    @property
    def current_cell_id(self) -> str | None:
        return self._current.cell_id if self._current is not None else None

    def last_shown(self) -> tuple[CellRecord, int] | None:
        """The most recent finished cell that showed an image or drew a figure, and how many cells
        back it ran (1: the one before the running cell)."""
        return next(((cell, back) for back, cell in enumerate(reversed(self.cells), 1) if cell.shown), None)

    # The event callbacks: each swallows its own failures, since a hook that raises breaks the cell.

    def started(self, info: Any) -> None:
        try:
            self._current = CellRecord(None, getattr(info, "cell_id", None), str(getattr(info, "raw_cell", "") or ""))
        except Exception:
            self._current = None

    def displayed(self, message: Any) -> Any:
        """A display hook: notes the images in a display or result message, returns it untouched."""
        try:
            if self._current is not None and len(self._current.images) < MAX_IMAGES_PER_CELL:
                self._current.images += _images_of(message)
        except Exception:
            pass
        return message

    def finished(self, result: Any) -> None:
        record, self._current = self._current, None
        if record is None:
            return
        try:
            record.count = getattr(result, "execution_count", None)
            error = getattr(result, "error_in_exec", None) or getattr(result, "error_before_exec", None)
            if error is not None and not _is_ours(error):
                record.error = CellError(record.count, record.source, _summary(error), format_error(error, self._is_cell))
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
            raw = payload.encode("utf-8") if mimetype == "image/svg+xml" else base64.b64decode(payload)
            images.append(ShownImage(mimetype, raw))
        if payload is not None:
            break  # one picture in several formats is one picture: the first format wins
    return images


def _is_ours(error: BaseException) -> bool:
    # A refused %%claude turn or a bad magic flag is not the user's code failing.
    usage_error = getattr(sys.modules.get("IPython.core.error"), "UsageError", ())
    return isinstance(error, usage_error)


def _summary(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0]}" if text else type(error).__name__
