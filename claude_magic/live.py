"""What the notebook's live views share: pacing, the growing texts, and the swap for static output.

A live view shows itself under a fresh display id, coalesces pushes by the clock and by how much is
new, keeps a status line and a line per tool call (a call's first line also takes the text Claude
wrote before it out of the answer, into the turn's steps), and at the end leaves the answer as a new
static output and reduces its own display to a fixed placeholder, so a saved notebook holds no
widget reference and no time.
`widgets.WidgetView` and `display.MarkdownView` fill in how a push is drawn.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

from IPython.display import display, update_display

from .chunker import MarkdownChunker
from .errors import scrub
from .output import Final, has_answer, to_markdown, to_plain
from .tools import Step, ToolCall

__all__ = ["LiveView", "GrowingText", "PLACEHOLDER", "PUSH_INTERVAL"]

# What the live display leaves in the saved notebook once the answer has its own output. Empty, so a
# frontend without widgets (GitHub, nbviewer, nbconvert) shows nothing where the live view was.
PLACEHOLDER = ""

# Twenty pushes a second look continuous; per-token pushes cost 25x the messages for nothing.
PUSH_INTERVAL = 0.05
# A push resends what is still growing (the tail, or without widgets the whole text) plus about this
# many bytes of message. A push waits until the new text is at least 1/PUSH_RATIO of that, so the
# bytes sent stay within a small multiple of the answer however fast or slow it streams...
PUSH_OVERHEAD = 200
PUSH_RATIO = 4


class GrowingText:
    """One growing text of a turn (the answer or the thinking) as a view consumes it: the text as it
    came (what a failed turn leaves on screen) and its finished Markdown blocks."""

    def __init__(self) -> None:
        self._chunker = MarkdownChunker()
        self._pieces: list[str] = []
        self.blocks: list[str] = []
        self.length = 0
        self.changed = False
        self._taken = 0

    def add(self, delta: str) -> None:
        self._pieces.append(delta)
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
    def text(self) -> str:
        return "".join(self._pieces)

    @property
    def tail(self) -> str:
        return self._chunker.tail

    @property
    def tail_length(self) -> int:
        return self._chunker.tail_length

    def markdown(self) -> str:
        return "\n\n".join(block for block in (*self.blocks, self.tail) if block)


class LiveView:
    """The shared half of the notebook views (see the module docstring)."""

    max_wait: float  # a slow stream still moves: the longest a push waits, set by each view

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._display_id = uuid.uuid4().hex
        self._answer = GrowingText()
        self._thought = GrowingText()
        self._steps: list[Step] = []
        self._model = ""
        self._sent = ""
        self._phase = "waiting…"
        self._notice = ""
        self._started = 0.0
        self._pushed = float("-inf")
        self._length_pushed = 0

    def start(self, model: str, sent: str = "") -> None:
        self._model, self._sent = model, sent
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

    def tool(self, call: ToolCall) -> None:
        # Rare (a few a turn), and a call may wait for approval: shown at once.
        known = [index for index, step in enumerate(self._steps) if isinstance(step, ToolCall) and step.id == call.id]
        if known:
            self._steps[known[0]] = call
        else:
            if self._answer.text.strip():
                self._steps.append(self._answer.text)
            self._answer = GrowingText()
            self._steps.append(call)
            self._answer_restarted()
        self._phase = {"running": f"running {call.name}…", "waiting": "waiting for your approval…"}.get(call.status, "waiting…")
        self._push()

    def finish(self, final: Final) -> None:
        # The pending deltas are not pushed: the static output that replaces the view holds them.
        # It comes first, so the cell never shrinks to the placeholder and grows again.
        display({"text/markdown": to_markdown(final), "text/plain": to_plain(final)}, raw=True)
        self._retire()

    def fail(self, footer: str) -> None:
        # With nothing streamed there is nothing to keep: the caller's one-line error says it all,
        # once; the partial answer only says it is incomplete.
        partial = Final(self._answer.text, self._thought.text, footer, sent=self._sent, steps=self._steps)
        if has_answer(partial):
            self.finish(partial)
        else:
            self._retire()

    def _retire(self) -> None:
        update_display({"text/plain": PLACEHOLDER}, raw=True, display_id=self._display_id)
        self._close()

    def _arrive(self, stream: GrowingText, delta: str, phase: str) -> None:
        stream.add(delta)
        # The first words of the thinking or of the answer show at once: that is when the wait ends.
        first = phase != self._phase
        self._phase = phase
        self._notice = ""
        if first or self._due(stream):
            self._push()

    def _due(self, stream: GrowingText) -> bool:
        waited = self._clock() - self._pushed
        if waited < PUSH_INTERVAL:
            return False
        fresh = self._length() - self._length_pushed
        return waited >= self.max_wait or fresh * PUSH_RATIO >= self._resent(stream) + PUSH_OVERHEAD

    def _push(self) -> None:
        self._pushed = self._clock()
        self._length_pushed = self._length()
        self._render()

    def _length(self) -> int:
        return self._answer.length + self._thought.length

    def _status_line(self) -> str:
        elapsed = self._clock() - self._started
        # A notice may quote Claude (a web search's query): scrubbed, as every text a view shows.
        return scrub(f"{self._model} · {self._notice or self._phase} · {elapsed:.0f} s")

    def _resent(self, stream: GrowingText) -> int:
        """Characters a push sends again."""
        raise NotImplementedError

    def _show(self) -> None:
        raise NotImplementedError

    def _render(self) -> None:
        raise NotImplementedError

    def _answer_restarted(self) -> None:
        """The answer's text moved into the steps: a view that draws it piecemeal starts afresh."""

    def _close(self) -> None:
        """Releases what the live display holds; a plain display holds nothing."""
