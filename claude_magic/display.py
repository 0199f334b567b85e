"""How one turn looks: the live view while it streams, and the static output it leaves behind.

This module owns everything a turn shows. Live, in a notebook with widgets, a `WidgetView` shows a
status line, a collapsed thinking section and the answer rendered as Markdown, updated at most
twenty times a second; without a widget manager a `MarkdownView` does the same with plain display
updates; terminal IPython gets a `TextView` that prints the deltas. When the turn ends, the
notebook views leave the answer as an ordinary `text/markdown` output (`to_markdown`, with its
`to_plain` twin) and reduce the live display to a fixed `text/plain` placeholder, so a saved
notebook holds no widget reference and no time, and re-runs byte-identically under nbval.
"""

from __future__ import annotations

import html
import importlib.util
import re
import sys
import threading
import time
import uuid
from dataclasses import dataclass
from typing import Any, Callable, Protocol

from IPython.display import display, update_display

from .errors import ClaudeError

DISPLAY_MODES = ("auto", "widget", "markdown", "text")

# What the live display leaves in the saved notebook once the answer has its own output. Empty, so a
# frontend without widgets (GitHub, nbviewer, nbconvert) shows nothing where the live view was.
PLACEHOLDER = ""

WIDGET_MIMETYPE = "application/vnd.jupyter.widget-view+json"

# Twenty pushes a second look continuous; per-token pushes cost 25x the messages for nothing.
PUSH_INTERVAL = 0.05
# While nothing arrives the widget view's status line still counts the seconds, this often.
TICK_SECONDS = 1.0
# A push resends what is still growing (the tail, or without widgets the whole text) plus about this
# many bytes of message. A push waits until the new text is at least 1/PUSH_RATIO of that, so the
# bytes sent stay within a small multiple of the answer however fast or slow it streams...
PUSH_OVERHEAD = 200
PUSH_RATIO = 4
# ...but never longer than this, so a slow stream still moves (the widget view resends a small tail;
# the Markdown view resends everything, so it waits longer).
WIDGET_MAX_WAIT = 0.5
MARKDOWN_MAX_WAIT = 2.0

# A block shorter than this (a heading, a one-line paragraph) joins the next one: each block costs
# a widget, about half a kilobyte to open, whatever its size.
MIN_BLOCK_CHARS = 200
# A code block longer than this is cut into fenced pieces while it streams, so the part that is
# resent on every push stays small.
MAX_FENCE_LINES = 40
# Likewise a long list or table with no blank line in it (a tight list) is cut before an item or a
# row once the block is this long; a table's pieces each repeat its header, so they render as tables.
MAX_BLOCK_LINES = 12
_LIST_ITEM = re.compile(r"(?:[-*+]|\d{1,9}[.)])\s")
_TABLE_DELIMITER = re.compile(r"\|?\s*:?-+:?\s*(\|\s*:?-+:?\s*)*\|?\s*$")
# Finished blocks are grouped this many to a box: appending to one flat box resends its whole
# list of children each time, which grows with the square of the number of blocks.
BLOCKS_PER_GROUP = 8


@dataclass(frozen=True)
class Final:
    """What a turn leaves behind."""

    text: str
    thinking: str = ""
    footer: str = ""
    note: str = ""


def to_markdown(final: Final) -> str:
    """The saved output: thinking collapsed in `<details>`, the answer, the note, a small footer."""
    parts = []
    if final.thinking.strip():
        thinking = final.thinking.strip("\n")
        parts.append(f"<details><summary>Thinking</summary>\n\n{thinking}\n\n</details>")
    if final.text.strip():
        parts.append(final.text.strip("\n"))
    if final.note:
        parts.append(_literal(final.note))
    if final.footer:
        parts.append(f"<sub>{_literal(final.footer)}</sub>")
    return "\n\n".join(parts)


def _has_answer(final: Final) -> bool:
    return bool(final.text.strip() or final.thinking.strip())


def to_plain(final: Final) -> str:
    """The `text/plain` twin of `to_markdown`: the answer, then the note and footer lines."""
    tail = "\n".join(line for line in (final.note, final.footer) if line)
    return "\n\n".join(part for part in (final.text.strip("\n"), tail) if part)


# Characters that can start Markdown syntax inside a line; `_` only at a word's edge (max_tokens is safe).
_MARKDOWN_ACTIVE = re.compile(r"([\\`*\[\]<~]|(?<![A-Za-z0-9])_|_(?![A-Za-z0-9]))")
_DOLLAR_WORDS = re.compile(r"(\S*\$\S*)")


def _literal(text: str) -> str:
    """Markdown that shows plain `text` as written.

    A backslash does not protect `$` in Jupyter (its math pass runs before Markdown and pairs
    `$0.01 · chat $0.02` into a formula), so words with a dollar sign go into code spans, which
    every renderer and math pass leaves alone.
    """
    pieces = _DOLLAR_WORDS.split(text)
    return "".join(_code_span(piece) if "$" in piece else _MARKDOWN_ACTIVE.sub(r"\\\1", piece) for piece in pieces)


def _code_span(text: str) -> str:
    ticks = "`" * (max((len(run) for run in re.findall(r"`+", text)), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{ticks}{pad}{text}{pad}{ticks}"


# ---------------------------------------------------------------------------------------------
# Growing Markdown, cut where it can be shown in pieces


_FENCE_OPEN = re.compile(r"^(?P<indent>[ \t]*)(?P<marker>`{3,}(?=[^`]*$)|~{3,})")


@dataclass
class _Fence:
    """An open fenced code block: its opening line, how to close it, and its lines so far."""

    opening: str
    closing: str
    lines: int = 0

    @classmethod
    def opened_by(cls, line: str) -> _Fence | None:
        match = _FENCE_OPEN.match(line)
        if match is None:
            return None
        return cls(opening=line, closing=match["indent"] + match["marker"])

    def closed_by(self, line: str) -> bool:
        marker = self.closing.lstrip()
        stripped = line.strip()
        return stripped.startswith(marker) and stripped == marker[0] * len(stripped)


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
    margin (an indented one continues a list item or a code block); such a block renders the same
    alone as inside the whole text, so it can be shown once and never resent. Blocks shorter than
    `min_block_chars` join the next one. A tight list or a table longer than `max_block_lines` is cut
    before an item or a row (a table's pieces repeat its header). A code block longer than `max_fence_lines` is cut into
    pieces that each open and close with the same fence line, so the tail stays bounded. `tail` is
    display-ready: an open fence, code span or `**` is closed there, so a reader never sees raw
    backticks or code rendered as prose.
    """

    def __init__(
        self, *, min_block_chars: int = MIN_BLOCK_CHARS, max_fence_lines: int = MAX_FENCE_LINES,
        max_block_lines: int = MAX_BLOCK_LINES,
    ) -> None:
        self._min_block_chars = min_block_chars
        self._max_fence_lines = max_fence_lines
        self._max_block_lines = max_block_lines
        self._lines: list[str] = []
        self._chars = 0
        self._partial: list[str] = []
        self._fence: _Fence | None = None
        self._after_blank = False

    def feed(self, delta: str) -> list[str]:
        """Adds `delta`; returns the blocks it finished, in order."""
        *complete, rest = delta.split("\n")
        finished: list[str] = []
        if complete:
            complete[0] = "".join(self._partial) + complete[0]
            self._partial = []
            finished = [block for line in complete if (block := self._add_line(line)) is not None]
        if rest:
            # The first character of a line decides whether the blank lines before it ended a block;
            # deciding then keeps a finished paragraph out of the tail while the next one streams.
            if (block := self._settle(rest)) is not None:
                finished.append(block)
            self._partial.append(rest)
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

    def _fence_after(self, partial: str) -> _Fence | None:
        """The fence left open if the partial line were complete."""
        if self._fence is None:
            return _Fence.opened_by(partial)
        return None if partial and self._fence.closed_by(partial) else self._fence

    @property
    def tail_length(self) -> int:
        """About the length of `tail`, without building it (it is asked on every delta)."""
        return self._chars + sum(len(piece) for piece in self._partial)

    def _add_line(self, line: str) -> str | None:
        if self._fence is not None:
            return self._add_code_line(line, self._fence)
        if not line.strip():
            self._after_blank = bool(self._lines)
            return None
        block = self._settle(line) or self._cut_long_block(line)
        self._fence = _Fence.opened_by(line)
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

    def _settle(self, start: str) -> str | None:
        """After blank lines, cuts the block if the line now starting begins a new one."""
        if not self._after_blank:
            return None
        self._after_blank = False
        if start[0].isspace() or self._chars < self._min_block_chars:
            self._lines.append("")
            return None
        return self._cut()

    def _add_code_line(self, line: str, fence: _Fence) -> str | None:
        self._append(line)
        if fence.closed_by(line):
            self._fence = None
            return None
        fence.lines += 1
        if fence.lines < self._max_fence_lines:
            return None
        self._append(fence.closing)
        block = self._cut()
        self._append(fence.opening)
        fence.lines = 0
        return block

    def _append(self, line: str) -> None:
        self._lines.append(line)
        self._chars += len(line) + 1

    def _cut(self) -> str:
        block = "\n".join(self._lines)
        self._lines = []
        self._chars = 0
        return block


def _is_table(lines: list[str]) -> bool:
    return len(lines) >= 2 and lines[0].lstrip().startswith("|") and bool(_TABLE_DELIMITER.match(lines[1].strip()))


class _Stream:
    """One growing text of a turn (the answer or the thinking) as a view consumes it."""

    def __init__(self) -> None:
        self._chunker = MarkdownChunker()
        self.blocks: list[str] = []
        self.length = 0
        self.changed = False
        self._taken = 0

    def add(self, delta: str) -> None:
        self.blocks += self._chunker.feed(delta)
        self.length += len(delta)
        self.changed = True

    def take(self) -> list[str]:
        """The blocks finished since the last take."""
        fresh = self.blocks[self._taken :]
        self._taken = len(self.blocks)
        self.changed = False
        return fresh

    @property
    def tail(self) -> str:
        return self._chunker.tail

    @property
    def tail_length(self) -> int:
        return self._chunker.tail_length

    def markdown(self) -> str:
        return "\n\n".join(block for block in (*self.blocks, self.tail) if block)


# ---------------------------------------------------------------------------------------------
# The views


class TurnView(Protocol):
    """The live view of one turn: `start`, then any number of deltas and status notices, then
    `finish` (the turn completed) or `fail` (it did not; the caller raises its error after)."""

    def start(self, model: str) -> None: ...

    def status(self, message: str) -> None: ...

    def thinking(self, delta: str) -> None: ...

    def text(self, delta: str) -> None: ...

    def finish(self, final: Final) -> None: ...

    def fail(self, final: Final) -> None: ...


def resolve_mode(mode: str, shell: Any) -> str:
    """The mode to use: "auto" is "widget" in a kernel that can load ipywidgets, else "text"."""
    if mode not in DISPLAY_MODES:
        raise ValueError(f"display mode must be one of {', '.join(DISPLAY_MODES)}, not {mode!r}")
    has_widgets = importlib.util.find_spec("ipywidgets") is not None
    if mode == "widget" and not has_widgets:
        raise ClaudeError("display 'widget' needs ipywidgets: pip install ipywidgets, or set ClaudeMagics.display = 'markdown'.")
    if mode != "auto":
        return mode
    return "widget" if _in_kernel(shell) and has_widgets else "text"


def _in_kernel(shell: Any) -> bool:
    # A shell can only be a kernel's if ipykernel is already imported; never import it here.
    zmqshell = sys.modules.get("ipykernel.zmqshell")
    return zmqshell is not None and isinstance(shell, zmqshell.ZMQInteractiveShell)


def make_view(mode: str, *, shell: Any = None, clock: Callable[[], float] = time.monotonic) -> TurnView:
    resolved = resolve_mode(mode, shell)
    if resolved == "widget":
        return WidgetView(clock)
    if resolved == "markdown":
        return MarkdownView(clock)
    return TextView()


class _LiveView:
    """What the two notebook views share: a live display shown under a fresh display id, pushes
    coalesced by the clock, the status line, and the swap for the static output at the end."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._display_id = uuid.uuid4().hex
        self._answer = _Stream()
        self._thought = _Stream()
        self._model = ""
        self._phase = "waiting…"
        self._notice = ""
        self._started = 0.0
        self._pushed = float("-inf")
        self._length_pushed = 0

    def start(self, model: str) -> None:
        self._model = model
        self._started = self._clock()
        self._show()

    def status(self, message: str) -> None:
        # Rare, and it may announce a wait of seconds: shown at once.
        self._notice = message
        self._push()

    def thinking(self, delta: str) -> None:
        self._arrive(self._thought, delta, "thinking…")

    def text(self, delta: str) -> None:
        self._arrive(self._answer, delta, "streaming…")

    def finish(self, final: Final) -> None:
        # The pending deltas are not pushed: the static output that replaces the view holds them.
        # It comes first, so the cell never shrinks to the placeholder and grows again.
        display({"text/markdown": to_markdown(final), "text/plain": to_plain(final)}, raw=True)
        self._retire()

    def fail(self, final: Final) -> None:
        # With nothing streamed there is nothing to keep: the caller's one-line error says it all.
        if _has_answer(final):
            self.finish(final)
        else:
            self._retire()

    def _retire(self) -> None:
        update_display({"text/plain": PLACEHOLDER}, raw=True, display_id=self._display_id)
        self._close()

    def _arrive(self, stream: _Stream, delta: str, phase: str) -> None:
        stream.add(delta)
        # The first words of the thinking or of the answer show at once: that is when the wait ends.
        first = phase != self._phase
        self._phase = phase
        self._notice = ""
        if first or self._due(stream):
            self._push()

    def _due(self, stream: _Stream) -> bool:
        waited = self._clock() - self._pushed
        if waited < PUSH_INTERVAL:
            return False
        fresh = self._length() - self._length_pushed
        return waited >= self._max_wait() or fresh * PUSH_RATIO >= self._resent(stream) + PUSH_OVERHEAD

    def _push(self) -> None:
        self._pushed = self._clock()
        self._length_pushed = self._length()
        self._render()

    def _length(self) -> int:
        return self._answer.length + self._thought.length

    def _status_line(self) -> str:
        elapsed = self._clock() - self._started
        return f"{self._model} · {self._notice or self._phase} · {elapsed:.0f} s"

    def _resent(self, stream: _Stream) -> int:
        """Characters a push sends again."""
        raise NotImplementedError

    def _max_wait(self) -> float:
        raise NotImplementedError

    def _show(self) -> None:
        raise NotImplementedError

    def _render(self) -> None:
        raise NotImplementedError

    def _close(self) -> None:
        """Releases what the live display holds; a plain display holds nothing."""


class WidgetView(_LiveView):
    """The live view in a notebook with widgets: status line, collapsed thinking, the answer.

    Each finished Markdown block becomes its own small Output widget, sent once; only the tail is
    resent on a push, so the bytes sent grow with the answer, not with its square.
    """

    def _show(self) -> None:
        self._widgets = _Widgets()
        self._status_widget = self._widgets.status_line(self._status_line())
        self._answer_pane = _Pane(self._widgets)
        self._thinking_pane: _Pane | None = None
        self._root = self._widgets.vbox([self._status_widget, self._answer_pane.box])
        view = {"model_id": self._root.model_id, "version_major": 2, "version_minor": 0}
        display({WIDGET_MIMETYPE: view, "text/plain": PLACEHOLDER}, raw=True, display_id=self._display_id)
        self._ticker = _Ticker(self._tick)

    def _tick(self) -> None:
        """Moves the seconds on while nothing arrives (before the first token, or while the SDK
        waits to retry), so a long wait never looks frozen."""
        if self._clock() - self._pushed >= TICK_SECONDS:
            self._status_widget.value = html.escape(self._status_line())

    def _render(self) -> None:
        self._status_widget.value = html.escape(self._status_line())
        if self._thought.changed:
            self._thinking().update(self._thought)
        if self._answer.changed:
            self._answer_pane.update(self._answer)

    def _resent(self, stream: _Stream) -> int:
        return stream.tail_length

    def _max_wait(self) -> float:
        return WIDGET_MAX_WAIT

    def _thinking(self) -> _Pane:
        # Made on the first thinking delta, so a turn without thinking shows no empty section.
        if self._thinking_pane is None:
            self._thinking_pane = _Pane(self._widgets)
            section = self._widgets.accordion(self._thinking_pane.box, "Thinking")
            self._root.children = (self._status_widget, section, self._answer_pane.box)
        return self._thinking_pane

    def _close(self) -> None:
        self._ticker.stop()  # before the widgets go: it may be about to update one
        self._widgets.close()


class _Ticker:
    """Calls `tick` every TICK_SECONDS from a daemon thread until stopped. Only widget state changes
    from there (comm messages find their widget by id from any thread); nothing is displayed."""

    def __init__(self, tick: Callable[[], None]) -> None:
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(tick,), name="claude-status", daemon=True)
        self._thread.start()

    def _run(self, tick: Callable[[], None]) -> None:
        while not self._stopped.wait(TICK_SECONDS):
            tick()

    def stop(self) -> None:
        self._stopped.set()
        self._thread.join()


class _Widgets:
    """Makes the view's widgets and closes every one of them, styles and the layout included."""

    def __init__(self) -> None:
        import ipywidgets

        self._lib = ipywidgets
        self._made: list[Any] = []
        # One Layout for all: each widget's own would cost a kilobyte of state to open.
        self._layout = self._keep(ipywidgets.Layout())

    def status_line(self, text: str) -> Any:
        # Styled once through the widget's style, so an update carries only the text.
        style = {"text_color": "var(--jp-ui-font-color2, #757575)", "font_size": "var(--jp-ui-font-size0, 0.85em)"}
        return self._keep(self._lib.HTML(html.escape(text), style=style, layout=self._layout))

    def vbox(self, children: list[Any]) -> Any:
        return self._keep(self._lib.VBox(children, layout=self._layout))

    def accordion(self, child: Any, title: str) -> Any:
        return self._keep(self._lib.Accordion([child], titles=(title,), selected_index=None, layout=self._layout))

    def output(self, markdown: str = "") -> Any:
        return self._keep(self._lib.Output(outputs=_markdown_outputs(markdown), layout=self._layout))

    def close(self) -> None:
        for widget in reversed(self._made):
            widget.close()
        self._made.clear()

    def _keep(self, widget: Any) -> Any:
        self._made.append(widget)
        style = getattr(widget, "style", None)
        if isinstance(style, self._lib.Widget):
            self._made.append(style)
        return widget


class _Pane:
    """One growing text in widgets: groups of block Outputs, each sent once, then the tail Output,
    the only one re-set on each push."""

    def __init__(self, widgets: _Widgets) -> None:
        self._widgets = widgets
        self._tail = widgets.output()
        self._group: Any = None
        self.box = widgets.vbox([self._tail])

    def update(self, stream: _Stream) -> None:
        for block in stream.take():
            self._append(self._widgets.output(block))
        self._tail.outputs = _markdown_outputs(stream.tail)

    def _append(self, block: Any) -> None:
        if self._group is not None and len(self._group.children) < BLOCKS_PER_GROUP:
            self._group.children += (block,)
            return
        self._group = self._widgets.vbox([block])
        self.box.children = (*self.box.children[:-1], self._group, self._tail)


def _markdown_outputs(markdown: str) -> tuple[dict[str, Any], ...]:
    # No text/plain twin: only a frontend with a widget manager shows these, and every one of them
    # renders Markdown; the twin would add a fifth to the bytes of a turn.
    if not markdown:
        return ()
    return ({"output_type": "display_data", "data": {"text/markdown": markdown}, "metadata": {}},)


class MarkdownView(_LiveView):
    """The live view for a frontend without a widget manager: one Markdown display, updated.

    Each push resends the whole text, so pushes thin out once the text is long. The status line
    stands where the footer will be, so the live view already has the final output's layout.
    """

    def _show(self) -> None:
        # The first display is already what the saved notebook keeps: the live content only ever
        # travels in updates, which nbval ignores.
        display({"text/plain": PLACEHOLDER}, raw=True, display_id=self._display_id)
        self._push()

    def _render(self) -> None:
        live = to_markdown(Final(self._answer.markdown(), self._thought.markdown(), footer=self._status_line()))
        update_display({"text/markdown": live, "text/plain": PLACEHOLDER}, raw=True, display_id=self._display_id)

    def _resent(self, stream: _Stream) -> int:
        return self._length()

    def _max_wait(self) -> float:
        return MARKDOWN_MAX_WAIT


_DIM = "\x1b[2m"
_UNDIM = "\x1b[22m"


class TextView:
    """Terminal IPython: answer deltas printed as they arrive, thinking dimmed under a header,
    then the note and the footer. The terminal shows no Markdown, so nothing is shown twice."""

    def __init__(self) -> None:
        self._section = ""
        self._at_line_start = True
        self._waiting = False

    def start(self, model: str) -> None:
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
        self._write(delta, dim=True)

    def text(self, delta: str) -> None:
        if self._section != "text":
            self._begin("text")
        self._write(delta)

    def finish(self, final: Final) -> None:
        if final.note:
            self._line(final.note)
        if final.footer:
            self._line(final.footer, dim=True)

    def fail(self, final: Final) -> None:
        if _has_answer(final):
            self.finish(final)
        elif not self._at_line_start or self._waiting:
            self._line("")

    def _begin(self, section: str) -> None:
        if self._section:
            self._line("")
        self._section = section

    def _line(self, text: str, *, dim: bool = False) -> None:
        if not self._at_line_start:
            self._write("\n")
        self._write(text + "\n", dim=dim)

    def _write(self, text: str, *, dim: bool = False) -> None:
        out = sys.stdout
        if self._waiting:
            out.write("\r\x1b[K")
            self._waiting = False
        styled = dim and text.strip() and out.isatty()
        out.write(f"{_DIM}{text}{_UNDIM}" if styled else text)
        out.flush()
        if text:
            self._at_line_start = text.endswith("\n")


# ---------------------------------------------------------------------------------------------
# Reports: a dry run, the usage table


def show(markdown: str, plain: str) -> None:
    """A static report: Markdown in a notebook, its plain twin in a terminal."""
    display({"text/markdown": markdown, "text/plain": plain}, raw=True)


@dataclass(frozen=True)
class DryRun:
    """What a turn would send: the new message's blocks, the context around them, the estimate."""

    model: str
    blocks: list[dict[str, Any]]
    earlier_messages: int
    system: str | None
    max_tokens: int
    input_tokens: int
    counted: str  # how the token count was had: "counted by the API", or why it is an estimate
    input_cost: str
    output_cost: str


def dry_run_report(run: DryRun) -> tuple[str, str]:
    """The dry run as (Markdown, plain text)."""
    head = (
        f"Dry run: nothing was sent. {run.model} · {run.earlier_messages} earlier messages · "
        f"system prompt: {'yes' if run.system else 'none'} · max_tokens {run.max_tokens:,}"
    )
    tail = (
        f"{run.input_tokens:,} input tokens ({run.counted}) · {run.input_cost} to send · "
        f"output at most {run.max_tokens:,} tokens, up to {run.output_cost}"
    )
    views = [_block_views(block) for block in run.blocks]
    markdown = [f"**{_literal(head)}**", *(md for md, _ in views), _literal(tail)]
    plain = [head, *(text for _, text in views), tail]
    return "\n\n".join(markdown), "\n\n".join(plain)


def _block_views(block: dict[str, Any]) -> tuple[str, str]:
    """One block of a dry run as (Markdown, plain): text quoted as typed, an image as a thumbnail."""
    if block["type"] == "text":
        shown = _shortened(block["text"])
        quoted = "\n".join("> " + line if line else ">" for line in _literal_block(shown).splitlines())
        return quoted, shown
    source = block["source"]
    if source["type"] == "url":
        return f"image from <{source['url']}>", f"[image from {source['url']}]"
    from .images import thumbnail

    thumb = thumbnail(block)
    caption = f"image {thumb.width}×{thumb.height} px, {source['media_type']}, {thumb.sent_bytes:,} bytes"
    return f'<img src="data:image/png;base64,{thumb.png_base64}" alt="image"/> {caption}', f"[{caption}]"


# A dry run shows this much of a long text block: enough to recognise it, not a document's worth.
DRY_RUN_TEXT = 1_200


def _shortened(text: str) -> str:
    if len(text) <= DRY_RUN_TEXT:
        return text
    return f"{text[:DRY_RUN_TEXT]}\n[… {len(text) - DRY_RUN_TEXT:,} more characters]"


def _literal_block(text: str) -> str:
    """Text shown as sent, line by line (the prompt is shown, not rendered)."""
    return "\n".join(_literal(line) for line in text.splitlines())
