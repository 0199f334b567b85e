"""The kernel's tools for `-k`: Claude reads the user's variables, figures, cells and last error.

Each tool is a method of `KernelTools`, made an SDK tool with `anthropic.beta_tool` (which checks
Claude's input against the method's signature) under a definition written out here (`SPECS`), so
the definitions sent are the same bytes every turn: the conversation's prefix reads from cache, and
a recorded session replays. A tool refuses with the SDK's `ToolError`, which becomes a one-line
`is_error` result, as does anything else a tool raises. The read-only tools change nothing in the
kernel: they read the namespace and the cell log (`cells.CellLog`) and summarise what they find as
`{name}` would (`context`, `summaries`, `images`). With `--run`, `run_code` (`run_code.CodeRunner`)
is one more. Execution counts never appear in a result: they differ between runners (nbval counts
nothing), so cells are named by how many cells back they ran.
"""

from __future__ import annotations

import inspect
import sys
import types
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Annotated, Any, cast

import pydantic
from anthropic.lib.tools import ToolError, beta_tool

from . import images
from .attachments import NO_ERROR, error_block, shown_blocks
from .cells import CellLog, CellRecord
from .context import Limits, object_blocks, resolve_reference, type_name
from .errors import ClaudeError, ContextError, one_line
from .run_code import Approval, CodeRunner
from .sent import image_kind
from .settings import DEFAULTS, Settings
from .tools import Outcome, Progress, ToolCall, bounded, first_line

__all__ = ["KernelTools", "Spec", "SPECS", "RUN_CODE", "definitions", "turn_tools", "user_variables", "code_line", "IPYTHON_NAMES"]

RUN_CODE = "run_code"
# The names IPython itself puts in the namespace (besides the private `_` ones).
IPYTHON_NAMES = frozenset({"In", "Out", "exit", "quit", "get_ipython"})
MAX_LISTED = 200  # variables listed at most; the result's budget may cut sooner
MAX_CELLS_LISTED = 20
FIRST_LINE_CHARS = 80

# How the SDK checks Claude's input (the schemas below say the same to Claude).
Positive = Annotated[int, pydantic.Field(ge=1)]
_NOTHING: dict[str, Any] = {"type": "object", "properties": {}}
_CELLS_BACK = {"type": "integer", "minimum": 1, "description": "1 is the cell that ran just before the one asking"}


@dataclass(frozen=True)
class Spec:
    name: str
    description: str
    input_schema: dict[str, Any]

    @property
    def definition(self) -> dict[str, Any]:
        return {"name": self.name, "description": self.description, "input_schema": self.input_schema}


SPECS: tuple[Spec, ...] = (
    Spec(
        "list_variables",
        "List the user's variables in this Jupyter kernel: name, type, shape or length, and approximate size "
        "in memory. Private names, modules, IPython's own names and imported functions and classes are left out.",
        _NOTHING,
    ),
    Spec(
        "describe_variable",
        "Describe one variable with a bounded summary: a DataFrame's shape, dtypes, nulls, first and last rows "
        "and statistics; an array's shape and statistics; otherwise a truncated repr. A figure or image comes "
        "back as an image.",
        {"type": "object", "properties": {"name": {
            "type": "string", "description": "a variable, attribute or item: df, df.columns, results['auc'], rows[0]",
        }}, "required": ["name"]},
    ),
    Spec(
        "view_image",
        "Look at a figure or image: a variable (a matplotlib figure or axes, a PIL image, image bytes, an image "
        "file path), or what a notebook cell displayed (without name: the latest cell that showed an image, or "
        "the one cells_back cells back).",
        {"type": "object", "properties": {"name": {"type": "string"}, "cells_back": _CELLS_BACK}},
    ),
    Spec(
        "list_cells",
        "List the notebook cells that ran most recently, newest first: how many cells back each ran, its first "
        "line, and what it left (text output, images, an error).",
        _NOTHING,
    ),
    Spec(
        "read_cell",
        "Read a notebook cell that ran: its source, its text output (what it printed and the text of what it "
        "displayed) and its error if it raised. Give cells_back (preferred), or the execution_count the user "
        "named (In [N]); without either, the cell just before this one.",
        {"type": "object", "properties": {"cells_back": _CELLS_BACK, "execution_count": {"type": "integer", "minimum": 1}}},
    ),
    Spec(
        "last_error",
        "Read the last error in this kernel: the source of the cell that raised, and its traceback.",
        _NOTHING,
    ),
)

RUN_SPEC = Spec(
    RUN_CODE,
    "Run Python code in the user's kernel, in the namespace the other tools read, after the user approves it. "
    "Returns what it printed, the value of its last expression, the images it displayed or figures it drew, "
    "and its error with the traceback. Its effects stay (assignments, changed objects, files): keep to reading "
    "unless the user asked for changes.",
    {"type": "object", "properties": {"code": {"type": "string"}}, "required": ["code"]},
)


def definitions(*, run: bool) -> list[dict[str, Any]]:
    """The tool definitions a turn sends: the read-only tools, and `run_code` with `run`."""
    return [spec.definition for spec in (*SPECS, *((RUN_SPEC,) if run else ()))]


def turn_tools(tools: KernelTools, settings: Settings, limits: Limits, *, run: bool, defined: bool) -> KernelTools:
    """`tools` set for a `-k` turn; with `run`, `run_code` under `settings.run_code`; `defined`:
    run_code's definition is sent (the history calls it) even when it does not run."""
    runner = None
    if run:
        if not isinstance(tools.namespace, dict):
            raise ClaudeError("--run needs the kernel's own namespace, a dict, to run code in.")
        runner = CodeRunner(tools.namespace, tools.cells, limits, Approval(settings.run_code))
    return tools.for_turn(limits, result_tokens=settings.tool_result_tokens, runner=runner, offer_run=defined)


def user_variables(namespace: Mapping[str, Any]) -> list[tuple[str, Any]]:
    """The user's own variables, in the order they were made."""
    return [(name, value) for name, value in namespace.items() if _is_users(name, value)]


def _is_users(name: str, value: Any) -> bool:
    if name.startswith("_") or name in IPYTHON_NAMES or isinstance(value, types.ModuleType):
        return False
    # A function or class that came in with an import belongs to its module, not to the user.
    made_here = getattr(value, "__module__", "__main__") == "__main__"
    return made_here or not (inspect.isclass(value) or inspect.isroutine(value))


class KernelTools:
    """The tools on one kernel (see the module docstring), made once: the SDK's `beta_tool` builds a
    pydantic validator for each, about 0.3 ms apiece. `for_turn` sets what a turn allows; it is the
    turn's `Toolbox`."""

    def __init__(self, namespace: Mapping[str, Any], cells: CellLog) -> None:
        self.namespace, self.cells = namespace, cells
        self.limits, self.result_tokens = Limits(), DEFAULTS.tool_result_tokens
        self.runner: CodeRunner | None = None
        self.definitions = definitions(run=False)
        self._tools = {
            spec.name: beta_tool(getattr(self, spec.name), name=spec.name, description=spec.description, input_schema=spec.input_schema)
            for spec in (*SPECS, RUN_SPEC)
        }

    def for_turn(
        self, limits: Limits, *, result_tokens: int, runner: CodeRunner | None = None, offer_run: bool = False,
    ) -> KernelTools:
        """These tools for one turn: its limits, and `run_code` with a runner (defined but refused
        with only `offer_run`)."""
        self.limits, self.result_tokens, self.runner = limits, result_tokens, runner
        self.definitions = definitions(run=runner is not None or offer_run)
        return self

    def call(self, call: ToolCall, progress: Progress) -> Outcome:
        """Run `call`; whatever goes wrong is a one-line `is_error` result, never a raise (but an
        interrupt, which stops the turn)."""
        tool = self._tools.get(call.name)
        if tool is None or all(definition["name"] != call.name for definition in self.definitions):
            return Outcome.failed(f"There is no tool named {call.name!r} this turn.")
        if self.runner is not None:
            self.runner.progress = lambda status: progress(replace(call, status=status))
        try:
            outcome = cast(Outcome, tool.call(call.input))  # the SDK hands back what the method returned
        except ToolError as error:
            return Outcome.failed(one_line(str(error), 300))
        except Exception as error:  # a tool that raises answers with why, and the turn goes on
            return Outcome.failed(_reason(call.name, error))
        content, cut = bounded(outcome.content, self.result_tokens)
        return replace(outcome, content=tuple(content), summary=outcome.summary + (" (cut to its budget)" if cut else ""))

    # --- the tools: each returns an Outcome, or raises ToolError with the reason ------------------

    def run_code(self, code: str) -> Outcome:
        if self.runner is None:
            return Outcome.failed("run_code is not enabled this turn: the user asked without --run.", "refused", "not run: no --run")
        return self.runner.run_code(code)

    def list_variables(self) -> Outcome:
        found = user_variables(self.namespace)
        rows = [(name, type_name(value), _shape(value), _size(value)) for name, value in found[:MAX_LISTED]]
        if not rows:
            return Outcome(({"type": "text", "text": "The user has defined no variables yet."},), "no variables")
        widths = [max(len(row[i]) for row in rows) for i in range(3)]
        lines = ["  ".join([*(cell.ljust(width) for cell, width in zip(row, widths)), row[3]]).rstrip() for row in rows]
        more = f"\n… and {len(found) - MAX_LISTED:,} more" if len(found) > MAX_LISTED else ""
        count = f"{len(found):,} variable{'s' * (len(found) != 1)}"
        text = f"{count} (name, type, shape or length, approximate size):\n" + "\n".join(lines) + more
        return Outcome(({"type": "text", "text": text},), count)

    def describe_variable(self, name: str) -> Outcome:
        obj = self._lookup(name)
        try:
            blocks, sent = object_blocks(name, obj, self.limits)
        except ContextError as error:
            raise ToolError(str(error)) from None
        return Outcome(tuple(blocks), f"{sent.kind}, ~{sent.tokens:,} tokens")

    def view_image(self, name: str | None = None, cells_back: Positive | None = None) -> Outcome:
        if name is not None:
            obj = self._lookup(name)
            if not images.is_image_like(obj):
                raise ToolError(f"{name} is a {type_name(obj)}, not a figure or image: describe_variable reads it.")
            blocks = _images(lambda: [images.image_block(obj)])
            return Outcome(({"type": "text", "text": f"{name}:"}, *blocks), _image_summary(blocks))
        found = self.cells.find(cells_back=cells_back) if cells_back else self.cells.last_shown()
        if found is None or not found[0].shown:
            where = f"the cell {cells_back} back showed" if cells_back else "no cell has shown"
            raise ToolError(f"{where} no image (a plot, an IPython Image, a PIL image).")
        record, back = found
        blocks = _images(lambda: shown_blocks(record))
        return Outcome(({"type": "text", "text": f"What the cell {back} back showed:"}, *blocks), _image_summary(blocks))

    def list_cells(self) -> Outcome:
        cells = list(reversed(self.cells.cells))[:MAX_CELLS_LISTED]
        if not cells:
            return Outcome(({"type": "text", "text": "No cell has finished running yet."},), "no cells")
        lines = [f"{back} back: {code_line(record.source)} · {_what_it_left(record)}" for back, record in enumerate(cells, 1)]
        text = "The most recent cells, newest first (cells back: first line · what it left):\n" + "\n".join(lines)
        return Outcome(({"type": "text", "text": text},), f"{len(cells)} cells")

    def read_cell(self, cells_back: Positive | None = None, execution_count: Positive | None = None) -> Outcome:
        if cells_back is None and execution_count is None:
            cells_back = 1
        found = self.cells.find(cells_back=cells_back, execution_count=execution_count)
        if found is None:
            which = f"{cells_back} cells back" if cells_back else f"with execution count {execution_count}"
            raise ToolError(f"No cell ran {which} (this kernel remembers {len(self.cells.cells)}); list_cells shows them.")
        record, back = found
        return Outcome(({"type": "text", "text": _cell_text(record, back)},), f"the cell {back} back, {_what_it_left(record)}")

    def last_error(self) -> Outcome:
        error = self.cells.last_error
        if error is None:
            raise ToolError(NO_ERROR[0].upper() + NO_ERROR[1:])
        return Outcome((error_block(error),), error.summary)

    def _lookup(self, name: str) -> Any:
        try:
            return resolve_reference(name, self.namespace)
        except LookupError as error:
            raise ToolError(f"{error}; list_variables shows what there is.") from None



def code_line(source: str) -> str:
    """A cell's first non-blank line, bounded, as a reader recognises it."""
    first = first_line(source) or "(empty)"
    lines = len(source.strip().splitlines())
    shown = first if len(first) <= FIRST_LINE_CHARS else first[: FIRST_LINE_CHARS - 1] + "…"
    return shown + (f" (+{lines - 1} lines)" if lines > 1 else "")


def _what_it_left(record: CellRecord) -> str:
    output = record.output
    parts = [f"{output.text_length:,} characters of text output"] if output.text_length else []
    if record.shown:
        count = len(record.images) or len(record.figures)
        parts.append(f"{count} image{'s' * (count > 1)}")
    if record.error is not None:
        parts.append(f"raised {record.error.summary}")
    return ", ".join(parts) or "no output"


def _cell_text(record: CellRecord, back: int) -> str:
    output = record.output
    parts = [f"The cell {back} back.", f"Source:\n{record.source.rstrip() or '(empty)'}"]
    if output.text:
        cut = f"\n[… {output.text_cut:,} more characters not kept]" if output.text_cut else ""
        parts.append(f"Text output:\n{output.text.rstrip()}{cut}")
    else:
        parts.append("Text output: none")
    if record.shown:
        parts.append(f"It showed {len(record.images) or len(record.figures)} image(s): view_image with cells_back={back} shows them.")
    if record.error is not None:
        parts.append(f"It raised:\n{record.error.traceback}")
    return "\n\n".join(parts)


def _images(make: Callable[[], list[dict[str, Any]]]) -> list[dict[str, Any]]:
    try:
        return make()
    except ContextError as error:
        raise ToolError(str(error)) from None


def _image_summary(blocks: list[dict[str, Any]]) -> str:
    return ", ".join(map(image_kind, blocks))


def _reason(name: str, error: Exception) -> str:
    """One line on why a call failed: what was wrong with Claude's input, or what the tool raised."""
    cause = error.__cause__
    if isinstance(cause, pydantic.ValidationError):
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'input'}: {e['msg']}" for e in cause.errors()[:3])
        return f"Invalid input for {name}: {problems}."
    return f"{name} failed: {type(error).__name__}: {one_line(str(error), 200)}"


def _shape(value: Any) -> str:
    try:
        shape = getattr(value, "shape", None)
        if isinstance(shape, tuple) and all(isinstance(n, int) for n in shape):
            return " × ".join(f"{n:,}" for n in shape) or "scalar"
        if hasattr(value, "__len__") and not inspect.isclass(value):
            return f"{len(value):,}"
    except Exception:
        pass
    return ""


def _size(value: Any) -> str:
    """About how much memory `value` holds: an array's or frame's buffers (not the objects an object
    column points to), else the object itself."""
    try:
        pandas = sys.modules.get("pandas")
        if pandas is not None and isinstance(value, (pandas.DataFrame, pandas.Series)):
            used = value.memory_usage(index=True)
            size = int(used.sum() if hasattr(used, "sum") else used)
        else:
            size = int(getattr(value, "nbytes", None) or sys.getsizeof(value))
    except Exception:
        return "?"
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1000 or unit == "GB":
            return f"{size:,} {unit}" if unit == "B" else f"{size:,.1f} {unit}"
        size /= 1000  # type: ignore[assignment]
    return "?"
