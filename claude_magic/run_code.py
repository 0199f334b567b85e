"""`--run`: Python that Claude wrote, run in the user's namespace once the user approves it.

`Approval` decides each run under `ClaudeMagics.run_code`: `ask` shows the code and asks on the
kernel's input prompt (yes, no, or all: yes to the rest of this turn); `always` runs without asking;
`never` refuses. Where no one can answer (nbclient, nbval and papermill give the kernel no stdin, so
`input()` raises IPython's StdinNotImplementedError) an `ask` is a refusal, which goes back to Claude
as such. `CodeRunner.run_code` runs approved code as a cell would, but outside IPython's cell
machinery (no execution count, no history, no cell events): what it prints (stdout and stderr), the
value of its last expression, what it displays and the figures it draws all go to Claude, bounded,
and none of it to the user's cell output; an error comes back with its traceback (`tracebacks`).
New matplotlib figures it leaves open are closed once seen, so they do not pop up after the answer.
An interrupt stops the code and the turn.
"""

from __future__ import annotations

import ast
import builtins
import contextlib
import io
import linecache
import sys
from collections.abc import Callable
from typing import Any

from . import images
from .cells import CellLog, ShownImage
from .context import Limits
from .errors import ContextError
from .summaries import summarize
from .tools import Outcome
from .tracebacks import format_error

__all__ = ["Approval", "CodeRunner", "APPROVAL_PROMPT", "MAX_OUTPUT_CHARS"]

APPROVAL_PROMPT = "Run this code? [y]es / [n]o / [a]ll for this turn: "
MAX_OUTPUT_CHARS = 50_000  # of what one run prints, kept (the result's token budget cuts it further)
MAX_IMAGES = 4

DECLINED = "The user declined to run this code."
NO_PROMPT = (
    "Not run: no one can approve code in this kernel (it has no input prompt, as under nbclient, nbval or "
    "papermill). The user can set ClaudeMagics.run_code = 'always' to allow it."
)
NEVER = "Not run: the user does not allow code from Claude here (ClaudeMagics.run_code is 'never')."


def _ask(prompt: str) -> str:
    # Looked up at each call: inside a cell ipykernel puts its own input() (the frontend's prompt) there.
    return builtins.input(prompt)


class Approval:
    """One turn's approvals: `refusal(code)` is None when the code may run, else why not."""

    def __init__(self, mode: str, ask: Callable[[str], str] = _ask, show: Callable[[str], None] = print) -> None:
        self.mode, self.ask, self.show = mode, ask, show
        self.all = False  # "all": yes to every run left in this turn

    def refusal(self, code: str) -> tuple[str, str] | None:
        """None to run; else (what Claude is told, what the user's line says)."""
        if self.mode == "never":
            return NEVER, "ClaudeMagics.run_code is 'never'"
        if self.mode == "always" or self.all:
            return None
        self.show(f"Claude wants to run this code in your kernel:\n\n{code.rstrip()}\n")
        try:
            answer = self.ask(APPROVAL_PROMPT).strip().lower()
        except (NotImplementedError, EOFError, OSError):  # no stdin: nbclient's StdinNotImplementedError, pytest's OSError
            return NO_PROMPT, "no one can approve here (set ClaudeMagics.run_code = 'always' to allow)"
        if answer in ("a", "all"):
            self.all = True
        elif answer not in ("y", "yes"):
            return DECLINED, "declined by you"
        return None


class CodeRunner:
    """The `run_code` tool of one turn. `progress(status)` is told when it waits and when it runs."""

    def __init__(self, namespace: dict[str, Any], cells: CellLog, limits: Limits, approval: Approval) -> None:
        self.namespace, self.cells, self.limits, self.approval = namespace, cells, limits, approval
        self.progress: Callable[[str], None] = lambda status: None
        self.runs = 0

    def run_code(self, code: str) -> Outcome:
        if self.approval.mode == "ask" and not self.approval.all:
            self.progress("waiting")
        refused = self.approval.refusal(code)
        if refused is not None:
            return Outcome(({"type": "text", "text": refused[0]},), refused[1], "refused")
        self.progress("running")
        self.runs += 1
        return _Run(code, f"<claude code {self.runs}>", self).outcome()


class _Output(io.TextIOBase):
    """stdout and stderr of a run: the first MAX_OUTPUT_CHARS kept, the rest counted."""

    def __init__(self) -> None:
        self.pieces: list[str] = []
        self.length = 0

    def write(self, text: str) -> int:
        room = MAX_OUTPUT_CHARS - min(self.length, MAX_OUTPUT_CHARS)
        if room:
            self.pieces.append(text[:room])
        self.length += len(text)
        return len(text)

    def text(self) -> str:
        kept = "".join(self.pieces)
        return kept + (f"\n[… {self.length - len(kept):,} more characters not kept]" if self.length > len(kept) else "")


class _Run:
    """One approved run: executed at once, its outcome gathered."""

    def __init__(self, code: str, filename: str, runner: CodeRunner) -> None:
        self.code, self.filename, self.runner = code, filename, runner
        self.output = _Output()
        self.value: Any = None
        self.error: BaseException | None = None
        # Tracebacks read a frame's line from linecache, as they do for cells.
        linecache.cache[filename] = (len(code), None, code.splitlines(keepends=True), filename)
        # Figures it made, and figures it changed (that were drawn, and are stale now).
        stale_before = {id(figure): figure.stale for figure in images.open_figures()}
        with runner.cells.capturing() as shown, contextlib.redirect_stdout(self.output), contextlib.redirect_stderr(self.output):
            self._execute(runner.namespace)
        self.shown = shown
        self.figures = [f for f in images.open_figures() if id(f) not in stale_before or (f.stale and not stale_before[id(f)])]
        self._close([figure for figure in self.figures if id(figure) not in stale_before])

    def _execute(self, namespace: dict[str, Any]) -> None:
        try:
            tree = ast.parse(self.code, self.filename)
            last = tree.body[-1] if tree.body else None
            if isinstance(last, ast.Expr):  # as in a cell, the last expression gives the value
                tree.body.pop()
            exec(compile(tree, self.filename, "exec"), namespace)
            if isinstance(last, ast.Expr):
                self.value = eval(compile(ast.Expression(last.value), self.filename, "eval"), namespace)
        except (Exception, SystemExit) as error:  # the code's own failure is its result; an interrupt stops the turn
            self.error = error

    @staticmethod
    def _close(figures: list[Any]) -> None:
        pyplot = sys.modules.get("matplotlib.pyplot")
        if pyplot is not None:
            for figure in figures:
                pyplot.close(figure)

    def outcome(self) -> Outcome:
        printed = self.output.text()
        content: list[dict[str, Any]] = []
        summary: list[str] = []
        if printed.strip():
            content.append({"type": "text", "text": f"Printed:\n{printed.rstrip()}"})
            lines = len(printed.splitlines())
            summary.append(f"{lines:,} line{'s' * (lines != 1)} printed")
        content += self._value_blocks(summary)
        pictures = self._pictures()
        content += pictures
        if pictures:
            summary.append(f"{len(pictures)} image{'s' * (len(pictures) > 1)}")
        if self.error is not None:
            traceback = format_error(self.error, lambda name: name == self.filename, where="code")
            content.append({"type": "text", "text": f"It raised:\n{traceback}"})
            summary.insert(0, f"raised {type(self.error).__name__}")
        if not content:
            content.append({"type": "text", "text": "The code ran; it printed and returned nothing."})
        return Outcome(tuple(content), ", ".join(summary) or "ran, no output", "error" if self.error else "done", ran=True)

    def _value_blocks(self, summary: list[str]) -> list[dict[str, Any]]:
        if self.value is None or self.error is not None:
            return []
        summary.append(f"result {type(self.value).__name__}")
        if images.is_image_like(self.value):
            return []  # sent among the pictures
        text, _ = summarize(self.value, self.runner.limits, "the result")
        return [{"type": "text", "text": f"Its last expression's value:\n{text}"}]

    def _pictures(self) -> list[dict[str, Any]]:
        """What it displayed, the figures it drew, and an image its last expression gave."""
        value = self.value if images.is_image_like(self.value) and self.error is None else None
        drawn = self.figures + [value] * (value is not None and getattr(value, "figure", value) not in self.figures)
        blocks = []
        for item in [*self.shown.images, *drawn][:MAX_IMAGES]:
            try:
                shown = isinstance(item, ShownImage)
                blocks.append(images.bytes_block(item.data, "an image the code showed") if shown else images.image_block(item))
            except ContextError as error:
                blocks.append({"type": "text", "text": f"[an image it showed could not be sent: {error}]"})
        return blocks
