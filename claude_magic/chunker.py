"""Growing Markdown, cut where it can be shown in pieces: what the live view streams.

`MarkdownChunker` takes an answer delta by delta and hands back the blocks that are finished (each
renders the same alone as inside the whole text, so it is shown once and never resent) and a
display-ready tail, in which an open fence, code span or `**` is closed so a reader never sees raw
backticks or code rendered as prose.
"""

from __future__ import annotations

import re

from .markdown import Fence

__all__ = ["MarkdownChunker"]

# A block shorter than this (a heading, a one-line paragraph) joins the next one: each block costs
# a widget, about half a kilobyte to open, whatever its size.
MIN_BLOCK_CHARS = 200
# A code block longer than this is cut into fenced pieces while it streams, so the part that is
# resent on every push stays small.
MAX_FENCE_LINES = 40
# Likewise a long list or table with no blank line in it (a tight list) is cut before an item or a
# row once the block is this long; a table's pieces each repeat its header, so they render as tables.
MAX_BLOCK_LINES = 12
# And a line of prose longer than this (an answer with no line breaks at all) is cut between words,
# where no code span, `**` or link is open: while it streams it shows as paragraphs of about this size.
MAX_LINE_CHARS = 600
# Where a long line may be cut: the marks that open and close what must not be cut, and a space
# before a letter (so the rest cannot start a list item, a heading, a fence or a quote).
_BREAK_TOKENS = re.compile(r"`+|\*\*|\]\(|[\[\])]| (?=[^\W\d_])")
_LIST_ITEM = re.compile(r"(?:[-*+]|\d{1,9}[.)])\s")
_TABLE_DELIMITER = re.compile(r"\|?\s*:?-+:?\s*(\|\s*:?-+:?\s*)*\|?\s*$")
_INLINE_MARK = re.compile(r"`+|\*\*")


def _inline_tail(partial: str) -> str:
    """The line being written, as it may be shown."""
    # Until a word arrives, a line such as "-", "##" or "---" is only a marker, and "-" or "==="
    # under a paragraph would turn it into a heading for a moment.
    return _close_inline(partial) if re.search(r"\w", partial) else ""


def _close_inline(line: str) -> str:
    """`line` with its open code span or `**` closed; a mark with nothing after it yet is dropped."""
    code, code_at, strong_at = "", -1, -1
    for match in _INLINE_MARK.finditer(line):
        mark = match.group()
        if code:
            code = "" if mark == code else code
        elif mark == "**":
            strong_at = -1 if strong_at >= 0 else match.start()
        else:
            code, code_at = mark, match.start()
    if code:
        closer = code + ("**" if 0 <= strong_at < code_at else "")
        return _end_mark(line, code_at, code, closer)
    if strong_at >= 0:
        return _end_mark(line, strong_at, "**", "**")
    return line


def _end_mark(line: str, at: int, mark: str, closer: str) -> str:
    if line[at + len(mark) :].strip():
        return line.rstrip() + closer
    return _close_inline(line[:at])


class MarkdownChunker:
    """Splits Markdown that grows at its end into finished blocks and an unfinished tail.

    A block ends at a blank line outside a fenced code block when the next line starts at the left
    margin (an indented one continues a list item or a code block). Blocks shorter than
    `min_block_chars` join the next one. A tight list or a table longer than `max_block_lines` is cut
    before an item or a row (a table's pieces repeat its header). A code block longer than
    `max_fence_lines` is cut into pieces that each open and close with the same fence line, and a line
    of prose longer than `max_line_chars` between two words, so the tail stays bounded.
    """

    def __init__(
        self, *, min_block_chars: int = MIN_BLOCK_CHARS, max_fence_lines: int = MAX_FENCE_LINES,
        max_block_lines: int = MAX_BLOCK_LINES, max_line_chars: int = MAX_LINE_CHARS,
    ) -> None:
        self._min_block_chars = min_block_chars
        self._max_fence_lines = max_fence_lines
        self._max_block_lines = max_block_lines
        self._max_line_chars = max_line_chars
        self._lines: list[str] = []
        self._chars = 0
        self._partial: list[str] = []
        self._partial_chars = 0
        self._cut_line_at = max_line_chars  # the length of the partial line at which to try cutting it
        self._fence: Fence | None = None
        self._fence_lines = 0
        self._after_blank = False

    def feed(self, delta: str) -> list[str]:
        """Adds `delta`; returns the blocks it finished, in order."""
        *complete, rest = delta.split("\n")
        finished: list[str] = []
        if complete:
            complete[0] = "".join(self._partial) + complete[0]
            self._partial, self._partial_chars, self._cut_line_at = [], 0, self._max_line_chars
            finished = [block for line in complete if (block := self._add_line(line)) is not None]
        if rest:
            # The first character of a line decides whether the blank lines before it ended a block;
            # deciding then keeps a finished paragraph out of the tail while the next one streams.
            if (block := self._settle(rest)) is not None:
                finished.append(block)
            self._partial.append(rest)
            self._partial_chars += len(rest)
            if self._partial_chars >= self._cut_line_at and (block := self._cut_long_line()) is not None:
                finished.append(block)
        return finished

    @property
    def tail(self) -> str:
        """The unfinished block as it should be shown now."""
        partial = "".join(self._partial)
        fence = self._fence_after(partial)
        shown = partial if self._fence is not None or fence is not None else _inline_tail(partial)
        lines = [*self._lines, shown] if shown else list(self._lines)
        if fence is not None:
            lines.append(fence.closing)
        return "\n".join(lines)

    @property
    def tail_length(self) -> int:
        """About the length of `tail`, without building it (it is asked on every delta)."""
        return self._chars + self._partial_chars

    def _fence_after(self, partial: str) -> Fence | None:
        """The fence left open if the partial line were complete."""
        if self._fence is None:
            return Fence.opened_by(partial)
        return None if partial and self._fence.closed_by(partial) else self._fence

    def _add_line(self, line: str) -> str | None:
        if self._fence is not None:
            return self._add_code_line(line, self._fence)
        if not line.strip():
            self._after_blank = bool(self._lines)
            return None
        block = self._settle(line) or self._cut_long_block(line)
        self._fence, self._fence_lines = Fence.opened_by(line), 0
        self._append(line)
        return block

    def _cut_long_block(self, line: str) -> str | None:
        """Cuts a long list or table before `line` if `line` starts an item or a row."""
        if len(self._lines) < self._max_block_lines:
            return None
        header = self._lines[:2] if _is_table(self._lines) else []
        if not (_LIST_ITEM.match(line) or (header and line.lstrip().startswith("|"))):
            return None
        block = self._cut()
        for header_line in header:
            self._append(header_line)
        return block

    def _cut_long_line(self) -> str | None:
        """Cuts the finished words of a long line of prose into a block, so the tail stays short.
        If the line cannot be cut yet (a code span open all along it, say), the next try waits for
        as much text again: each try reads the line once, so the work stays linear."""
        partial = "".join(self._partial)
        # Past four times the length, whatever is open is cut too: a backtick never closed is text.
        anywhere = self._partial_chars >= 4 * self._max_line_chars
        at = None if self._fence is not None or not _is_prose(partial) else _last_break(partial, anywhere)
        if at is None:
            self._cut_line_at = self._partial_chars + self._max_line_chars
            return None
        self._append(partial[:at])
        block = self._cut()
        rest = partial[at + 1 :]  # the space at the cut goes: the block ends there
        self._partial, self._partial_chars = [rest], len(rest)
        self._cut_line_at = len(rest) + self._max_line_chars
        return block

    def _settle(self, start: str) -> str | None:
        """After blank lines, cuts the block if the line now starting begins a new one."""
        if not self._after_blank:
            return None
        self._after_blank = False
        if start[0].isspace() or self._chars < self._min_block_chars:
            self._lines.append("")
            return None
        return self._cut()

    def _add_code_line(self, line: str, fence: Fence) -> str | None:
        self._append(line)
        if fence.closed_by(line):
            self._fence = None
            return None
        self._fence_lines += 1
        if self._fence_lines < self._max_fence_lines:
            return None
        self._append(fence.closing)
        block = self._cut()
        self._append(fence.opening)
        self._fence_lines = 0
        return block

    def _append(self, line: str) -> None:
        self._lines.append(line)
        self._chars += len(line) + 1

    def _cut(self) -> str:
        block = "\n".join(self._lines)
        self._lines = []
        self._chars = 0
        return block


def _is_prose(line: str) -> bool:
    """Whether a line may be cut: not a table row, indented code, a fence, or a heading's marks."""
    return not line.lstrip().startswith(("|", "#")) and not line.startswith(("    ", "\t")) and Fence.opened_by(line) is None


def _last_break(line: str, anywhere: bool = False) -> int | None:
    """The last space in `line` where it may be cut: before a letter, with no code span, `**`,
    link text or link target open before it (unless `anywhere`)."""
    code, strong, depth, target = "", False, 0, False
    found = None
    for match in _BREAK_TOKENS.finditer(line):
        token = match.group()
        if anywhere:
            found = match.start() if token == " " else found
        elif code:
            code = "" if token == code else code
        elif token[0] == "`":
            code = token
        elif token == "**":
            strong = not strong
        elif token in ("[", "](", "]"):
            depth = depth + 1 if token == "[" else max(depth - 1, 0)
            target = target or token == "]("
        elif token == ")":
            target = False
        elif not (strong or depth or target):
            found = match.start()
    return found


def _is_table(lines: list[str]) -> bool:
    return len(lines) >= 2 and lines[0].lstrip().startswith("|") and bool(_TABLE_DELIMITER.match(lines[1].strip()))
