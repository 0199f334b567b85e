"""An exception as bounded plain text for Claude: the user's own frames first, library depth cut.

A pandas KeyError raised ten frames deep in pandas says little about those ten frames; what helps is
the user's line that started it and the few frames where it was raised. So every frame in a cell
(`is_cell` tells them by their code's file name) is kept, library frames are cut to the last few,
and the whole stays within a character budget. A cell frame says "cell", not "In[5]": execution
counts differ between runners (nbval counts nothing), and a recorded request must not. No ANSI
colour: the text is formatted here, not by IPython. A library file is named by its import path
(`pandas/core/frame.py`), not where this machine installed it, for the same reason.
"""

from __future__ import annotations

import os
import re
import sys
import traceback
from collections.abc import Callable
from types import TracebackType

__all__ = ["format_error", "LIBRARY_FRAMES", "MAX_TRACEBACK_CHARS"]

# Of the frames outside the user's cells, this many nearest the error are kept.
LIBRARY_FRAMES = 3
MAX_TRACEBACK_CHARS = 6_000
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")

IsCell = Callable[[str], bool]


def format_error(error: BaseException, is_cell: IsCell, where: str = "cell") -> str:
    """`error` with its traceback, as plain text of at most MAX_TRACEBACK_CHARS characters; the
    frames `is_cell` tells are the user's own, named `where` ("cell", or "code" Claude ran)."""
    lines = ["Traceback (most recent call last):", *_frames(error.__traceback__, is_cell, where)]
    lines += _exception_lines(error)
    cause = error.__cause__ or (None if error.__suppress_context__ else error.__context__)
    if cause is not None and _one_exception(cause) != lines[-1]:
        lines.append(f"(raised while handling {_one_exception(cause)})")
    return _bounded("\n".join(_ANSI.sub("", line) for line in lines))


def _frames(tb: TracebackType | None, is_cell: IsCell, label: str) -> list[str]:
    frames = list(traceback.extract_tb(tb))
    in_cell = [is_cell(frame.filename) for frame in frames]
    # The frames above the first cell are IPython running it: nothing the user wrote or called.
    first = in_cell.index(True) if True in in_cell else 0
    frames, in_cell = frames[first:], in_cell[first:]
    library = [index for index, cell in enumerate(in_cell) if not cell]
    dropped = set(library[:-LIBRARY_FRAMES]) if len(library) > LIBRARY_FRAMES else set()
    lines: list[str] = []
    skipped = 0
    for index, (frame, cell) in enumerate(zip(frames, in_cell)):
        if index in dropped:
            skipped += 1
            continue
        if skipped:
            lines.append(f"  ... {skipped} library frame{'s' if skipped > 1 else ''} left out ...")
            skipped = 0
        where = label if cell else f'File "{_import_path(frame.filename)}"'
        lines.append(f"  {where}, line {frame.lineno}, in {frame.name}")
        if frame.line:
            lines.append(f"    {frame.line.strip()}")
    return lines


def _import_path(filename: str) -> str:
    """`filename` relative to the import root it was found under (site-packages, the standard
    library); as given when it is under none."""
    roots = [root for root in sys.path if root and filename.startswith(os.path.join(root, ""))]
    return os.path.relpath(filename, max(roots, key=len)) if roots else filename


def _exception_lines(error: BaseException) -> list[str]:
    # SyntaxError and friends carry their own caret lines.
    return [line.rstrip("\n") for line in traceback.format_exception_only(type(error), error)]


def _one_exception(error: BaseException) -> str:
    return " ".join(_exception_lines(error)[-1:]) or type(error).__name__


def _bounded(text: str) -> str:
    if len(text) <= MAX_TRACEBACK_CHARS:
        return text
    half = MAX_TRACEBACK_CHARS // 2
    return f"{text[:half]}\n[... {len(text) - 2 * half:,} characters of traceback cut ...]\n{text[-half:]}"
