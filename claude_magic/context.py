"""`{name}` expansion and objects -> content blocks.

This module owns what a prompt becomes before it is sent: which braces in the cell text are references
to the user's variables, and which are dict literals, JSON, LaTeX, format specs or code that must go
exactly as typed; and what a referenced object becomes: its own text (strings, numbers), a bounded
summary (DataFrames, Series, arrays, anything else through a bounded repr), or an image block (figures,
images, via `images`). A reference is resolved by walking getattr/getitem over the parsed reference:
nothing the user typed is ever evaluated or formatted with `str.format`.

pandas and numpy are recognised through `sys.modules` and imported only inside the functions that
summarise their objects, so a user who never imported them never pays for them.
"""

from __future__ import annotations

import collections
import keyword
import math
import numbers
import re
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from . import images
from .errors import ContextError, one_line

# Above this many values per column, quartiles come from an evenly spaced sample: exact quantiles of
# 10^7 values cost about 0.1 s a column, which would break the one-second budget for a large frame.
QUANTILE_SAMPLE = 1_000_000
MAX_CELL_WIDTH = 50  # characters of one cell in the rows table: long text cells are cut there
MAX_REPR_DEPTH = 6

_STRING_CUT = "[... {cut:,} more characters cut]"
_REPR_CUT = "[repr truncated: {shown:,} of {total:,} characters shown]"
_SUMMARY_CUT = "[summary truncated: {shown:,} of {total:,} characters shown]"

_FENCE = re.compile(r" {0,3}(`{3,}|~{3,})")
_TICKS = re.compile(r"`+")
_SPECIAL = re.compile(r"[{}\\]")
_BRACE = re.compile(r"\\.|[{}]", re.DOTALL)
_REFERENCE = re.compile(
    r"""(?P<root>[^\W\d]\w*)
        (?P<chain>(?:\.[^\W\d]\w* | \[(?:-?\d+ | '[^'\\\n]*' | "[^"\\\n]*")\])*)
        \}""",
    re.VERBOSE,
)
_STEP = re.compile(r"""\.(?P<attr>[^\W\d]\w*) | \[(?P<index>-?\d+)\] | \[(?P<key>'[^']*'|"[^"]*")\]""", re.VERBOSE)
# A brace right after a LaTeX command, a sub/superscript mark, or another LaTeX argument is LaTeX.
_LATEX_BEFORE = re.compile(r"(?:\\[A-Za-z]+\*?|[\^_])$")
_STAT_NAMES = ("count", "mean", "std", "min", "25%", "50%", "75%", "max")  # as describe() names them
_BRACKETS: dict[type, tuple[str, str]] = {
    list: ("[", "]"), tuple: ("(", ")"), set: ("{", "}"), frozenset: ("frozenset({", "})"), dict: ("{", "}"),
    collections.deque: ("deque([", "])"),
}

Part = str | dict[str, Any]


@dataclass(frozen=True)
class Limits:
    max_rows: int = 10  # head + tail rows shown for frames
    max_columns: int = 20
    max_chars: int = 20_000  # per object text: summaries and reprs
    max_string_chars: int = 100_000  # a string is the user's own text (a document, say): more room


@dataclass
class Expansion:
    blocks: list[dict[str, Any]]  # API content blocks in prompt order; adjacent text merged, none blank
    notes: list[str]  # one-line notes for the user (unbound names, truncations)


def expand_prompt(text: str, namespace: Mapping[str, Any], *, raw: bool = False, limits: Limits = Limits()) -> Expansion:
    """The content blocks a cell's text becomes, with `{name}` references replaced by their objects."""
    if raw:
        return Expansion(_merge([text]), [])
    expander = _Expander(namespace, limits)
    for chunk, is_code in _code_split(text):
        if is_code:
            expander.parts.append(chunk)
        else:
            expander.prose(chunk)
    return Expansion(_merge(expander.parts), list(dict.fromkeys(expander.notes)))


def object_blocks(label: str, obj: Any, limits: Limits = Limits()) -> list[dict[str, Any]]:
    """The blocks for `-w NAME`: the object's text or image, labelled with its name."""
    parts, _ = _value_parts(label, obj, limits, inline=False)
    return _merge(parts)


def describe(obj: Any, limits: Limits = Limits(), *, label: str = "obj") -> str:
    """The text context of an object: a bounded summary or repr (`label` names it in errors)."""
    return _describe(obj, limits, label)[0]


# --- splitting off Markdown code ------------------------------------------------------------------


def _code_split(text: str) -> Iterator[tuple[str, bool]]:
    """(chunk, is_code) pieces of `text`: fenced blocks and inline code spans are code."""
    for chunk, fenced in _fence_split(text):
        yield from [(chunk, True)] if fenced else _span_split(chunk)


def _fence_split(text: str) -> list[tuple[str, bool]]:
    """CommonMark fences: ``` or ~~~ (3+), closed by a line of at least as many of the same; an
    unclosed fence runs to the end."""
    pieces: list[tuple[str, bool]] = []
    start = position = 0
    opener = ""
    for line in text.splitlines(keepends=True):
        fence = _FENCE.match(line)
        rest = line[fence.end():] if fence else ""
        if not opener and fence and not (fence[1][0] == "`" and "`" in rest):
            pieces.append((text[start:position], False))
            start, opener = position, fence[1]
        elif opener and fence and fence[1][0] == opener[0] and len(fence[1]) >= len(opener) and not rest.strip():
            pieces.append((text[start:position + len(line)], True))
            start, opener = position + len(line), ""
        position += len(line)
    pieces.append((text[start:], bool(opener)))
    return [(chunk, fenced) for chunk, fenced in pieces if chunk]


def _span_split(text: str) -> Iterator[tuple[str, bool]]:
    """Inline code spans: a backtick run closed by the next run of the same length; an unmatched run
    is plain text."""
    start = position = 0
    while opening := _TICKS.search(text, position):
        closing = next((run for run in _TICKS.finditer(text, opening.end()) if len(run[0]) == len(opening[0])), None)
        if closing is None:
            position = opening.end()
            continue
        yield text[start:opening.start()], False
        yield text[opening.start():closing.end()], True
        start = position = closing.end()
    yield text[start:], False


# --- expanding references in prose ---------------------------------------------------------------


class _Expander:
    """One expansion's output: text and image parts in order, and notes."""

    def __init__(self, namespace: Mapping[str, Any], limits: Limits) -> None:
        self.namespace = namespace
        self.limits = limits
        self.parts: list[Part] = []
        self.notes: list[str] = []

    def prose(self, text: str) -> None:
        """Scan for braces; everything not replaced is copied from `text` exactly as typed."""
        copied = position = 0
        latex_end = -1  # where the last LaTeX argument ended: a brace right there is the next argument
        while special := _SPECIAL.search(text, position):
            at, char = special.start(), special[0]
            if char == "\\":  # \{ \} and \\ are LaTeX escapes: keep them and the character after
                position = at + 2
            elif char == "}" and not text.startswith("}}", at):
                position = at + 1
            elif char == "{" and (at == latex_end or _LATEX_BEFORE.search(text, max(0, at - 32), at)):
                position = latex_end = _group_end(text, at) or at + 1
            elif text.startswith(("{{", "}}"), at):
                self.parts.append(text[copied:at + 1])  # the doubled brace gives one literal brace
                copied = position = at + 2
            elif (reference := _REFERENCE.match(text, at + 1)) and not keyword.iskeyword(reference["root"]):
                if reference["root"] in self.namespace:
                    self.parts.append(text[copied:at])
                    self.reference(reference)
                    copied = reference.end()
                else:
                    self.notes.append(f"{text[at:reference.end()]} is not a variable here; sent as typed")
                position = reference.end()
            else:  # a dict literal, JSON, a format spec: kept whole, so its `}}` stays as typed too
                position = _group_end(text, at) or at + 1
        self.parts.append(text[copied:])

    def reference(self, match: re.Match[str]) -> None:
        label = match[0][:-1]
        obj = _resolve(self.namespace[match["root"]], match["chain"], label)
        parts, note = _value_parts(label, obj, self.limits, inline=True)
        self.parts.extend(parts)
        if note:
            self.notes.append(f"{{{label}}}: {note}")


def _group_end(text: str, start: int) -> int | None:
    """The end of the balanced brace group opening at `start`, or None if it never closes."""
    depth = 0
    for token in _BRACE.finditer(text, start):
        if token[0] == "{":
            depth += 1
        elif token[0] == "}":
            depth -= 1
            if depth == 0:
                return token.end()
    return None


def _resolve(obj: Any, chain: str, label: str) -> Any:
    """Walk `.attr`, `[0]` and `['key']` steps with getattr and getitem: never eval."""
    for step in _STEP.finditer(chain):
        try:
            if step["attr"]:
                obj = getattr(obj, step["attr"])
            else:
                obj = obj[int(step["index"])] if step["index"] else obj[step["key"][1:-1]]
        except Exception as error:
            raise ContextError(f"{{{label}}}: {type(error).__name__}: {one_line(str(error))}") from None
    return obj


def _merge(parts: list[Part]) -> list[dict[str, Any]]:
    """Content blocks: adjacent text joined, blank text dropped (the API refuses it)."""
    blocks: list[dict[str, Any]] = []
    text: list[str] = []
    for part in [*parts, None]:
        if isinstance(part, str):
            text.append(part)
            continue
        joined = "".join(text)
        text.clear()
        if joined.strip():
            blocks.append({"type": "text", "text": joined})
        if part is not None:
            blocks.append(part)
    return blocks


# --- what an object becomes ----------------------------------------------------------------------


def _value_parts(label: str, obj: Any, limits: Limits, *, inline: bool) -> tuple[list[Part], str | None]:
    """An object's parts and an optional truncation note. Inline strings and numbers are the text
    itself ("Translate {sentence}"); everything else is wrapped in a tag naming the variable, so the
    model can tell where it begins and ends."""
    if images.is_image_like(obj):
        opening, closing = _tags(label, obj)
        try:
            return [opening, images.image_block(obj), closing], None
        except ContextError as error:
            raise ContextError(f"{{{label}}}: {error}" if inline else f"{label}: {error}") from None
    if inline and isinstance(obj, str):
        text, note = _cut(obj, limits.max_string_chars, _STRING_CUT)
        return [text], note
    if inline and (isinstance(obj, numbers.Number) or obj is None):
        return [_guarded(str, obj, label)], None
    text, note = _describe(obj, limits, label)
    opening, closing = _tags(label, obj)
    return [f"{opening}\n{text}\n{closing}"], note


def _tags(label: str, obj: Any) -> tuple[str, str]:
    name = label.replace('"', "&quot;")
    return f'<variable name="{name}" type="{_type_name(obj)}">', "</variable>"


def _type_name(obj: Any) -> str:
    kind = type(obj)
    package = kind.__module__.split(".")[0]
    return kind.__qualname__ if package == "builtins" else f"{package}.{kind.__qualname__}"


def _describe(obj: Any, limits: Limits, label: str) -> tuple[str, str | None]:
    if isinstance(obj, str):
        return _cut(obj, limits.max_string_chars, _STRING_CUT)
    pandas = sys.modules.get("pandas")
    numpy = sys.modules.get("numpy")
    if pandas is not None and isinstance(obj, pandas.DataFrame):
        text = _frame_summary(obj, limits, f"pandas.DataFrame: {obj.shape[0]:,} rows × {obj.shape[1]:,} columns")
    elif pandas is not None and isinstance(obj, pandas.Series):
        title = f"pandas.Series {obj.name!r}: {len(obj):,} values, dtype {obj.dtype}"
        text = _frame_summary(obj.to_frame(), limits, title)
    elif numpy is not None and isinstance(obj, numpy.ndarray):
        text = _array_summary(obj, limits)
    else:
        return _repr_summary(obj, limits, label)
    return _cut(text, limits.max_chars, _SUMMARY_CUT)


def _cut(text: str, limit: int, marker: str) -> tuple[str, str | None]:
    if len(text) <= limit:
        return text, None
    mark = marker.format(shown=limit, total=len(text), cut=len(text) - limit)
    return f"{text[:limit]}\n{mark}", f"cut to the first {limit:,} of {len(text):,} characters"


def _guarded(render: Any, obj: Any, label: str) -> str:
    try:
        return render(obj)
    except Exception as error:
        raise ContextError(f"repr({label}) failed: {type(error).__name__}: {one_line(str(error))}") from None


def _repr_summary(obj: Any, limits: Limits, label: str) -> tuple[str, str | None]:
    # Room for the closing "... <N more>" marker, so the final cut only falls on a single huge item.
    bounded = _BoundedRepr(limits.max_chars - 100)
    text, note = _cut(_guarded(bounded, obj, label), limits.max_chars, _REPR_CUT)
    return text, note or ("long containers shortened" if bounded.shortened else None)


def _brackets(obj: Any) -> tuple[str, str] | None:
    """How a container's bounded repr opens and closes; a subclass (defaultdict, Counter, ...) is named,
    so it too is cut as it is written rather than repr'd whole first."""
    for kind, (opening, closing) in _BRACKETS.items():
        if isinstance(obj, kind):
            return (opening, closing) if type(obj) is kind else (f"{type(obj).__name__}({opening}", f"{closing})")
    return None


class _BoundedRepr:
    """repr that stops writing container items once its character budget is spent, so a list of 10^7
    items costs what a list of a few thousand does. Unlike `reprlib` it keeps dict and set order (reprlib
    sorts them: O(n log n)), says how many items it left out, and lets a failing repr raise."""

    def __init__(self, budget: int) -> None:
        self.budget = budget
        self.shortened = False

    def __call__(self, obj: Any, depth: int = 0) -> str:
        brackets = _brackets(obj)
        if brackets is None or not obj:
            return self._leaf(obj)
        if depth == MAX_REPR_DEPTH:  # also what stops a list that contains itself
            self.shortened = True
            return f"{brackets[0]}...{brackets[1]}"
        is_dict = isinstance(obj, dict)
        parts = []
        for count, item in enumerate(obj.items() if is_dict else obj):
            if self.budget <= 0:
                self.shortened = True
                parts.append(f"... <{len(obj) - count:,} more>")
                break
            parts.append(f"{self(item[0], depth + 1)}: {self(item[1], depth + 1)}" if is_dict else self(item, depth + 1))
            self.budget -= 4 if is_dict else 2  # the ", " between items, and a dict's ": "
        trailing_comma = "," if type(obj) is tuple and len(obj) == 1 else ""
        return brackets[0] + ", ".join(parts) + trailing_comma + brackets[1]

    def _leaf(self, obj: Any) -> str:
        if isinstance(obj, (str, bytes, bytearray)) and len(obj) > self.budget:
            self.shortened = True
            text = repr(obj[:max(self.budget, 0)]) + "..."
        else:
            text = repr(obj)
        self.budget -= len(text)
        return text


# --- pandas and numpy summaries ------------------------------------------------------------------


def _frame_summary(frame: Any, limits: Limits, title: str) -> str:
    """Shape, dtypes and nulls, head and tail rows, and numeric statistics, for at most `max_columns`
    columns (the first and last halves). Only the shown columns are read, once each, so the time is
    linear in rows, and the size grows only with the digits of row labels and counts."""
    positions = _shown_positions(frame.shape[1], limits.max_columns)
    columns = [frame.iloc[:, position] for position in positions]
    profiles = [_profile(column) for column in columns]
    lines = [title, "columns (dtype, nulls):"]
    for index, (position, column, (nulls, _)) in enumerate(zip(positions, columns, profiles, strict=True)):
        if index and position != positions[index - 1] + 1:
            lines.append(f"  ... {position - positions[index - 1] - 1:,} columns not shown ...")
        lines.append(f"  {frame.columns[position]}: {column.dtype}, nulls {nulls:,}")
    lines += _rows_section(frame, limits)
    lines += _numeric_section(frame, positions, profiles)
    return "\n".join(lines)


def _shown_positions(count: int, limit: int) -> list[int]:
    # The same halves pandas' to_string(max_cols=limit) shows, so every section names the same columns.
    half = max(1, limit // 2)
    return list(range(count)) if count <= 2 * half else [*range(half), *range(count - half, count)]


def _profile(column: Any) -> tuple[int, list[float] | None]:
    """A column's null count, and its statistics if it is numeric (bool and complex are not)."""
    if getattr(column.dtype, "kind", "O") not in "iuf":
        return int(column.isna().sum()), None
    import numpy

    values = column.to_numpy(dtype="float64", na_value=numpy.nan)
    stats = _stats(values, ddof=1)
    return len(values) - int(stats[0]), stats


def _stats(values: Any, *, ddof: int) -> list[float]:
    """count, mean, std, min, 25%, 50%, 75%, max of a float array, ignoring NaN."""
    import numpy

    missing = numpy.isnan(values)
    present = values[~missing] if missing.any() else values
    count = present.size
    if count == 0:
        return [0.0] + [math.nan] * 7
    sample = present[:: -(-count // QUANTILE_SAMPLE)]
    with numpy.errstate(all="ignore"):  # inf in the data gives nan statistics, not warnings
        mean = float(present.mean())
        deviations = present - mean
        # ndarray.std is about 10x slower than a dot product of the deviations on 10^7 values.
        std = math.sqrt(float(numpy.dot(deviations, deviations)) / (count - ddof)) if count > ddof else math.nan
        quartiles = numpy.percentile(sample, [25, 50, 75])
    return [float(count), mean, std, float(present.min()), *map(float, quartiles), float(present.max())]


def _rows_section(frame: Any, limits: Limits) -> list[str]:
    rows = len(frame)
    half = max(1, limits.max_rows // 2)
    options: dict[str, Any] = {"max_cols": limits.max_columns, "max_colwidth": MAX_CELL_WIDTH}
    if rows <= 2 * half:
        return [f"rows (all {rows:,}):", frame.to_string(**options)]
    # Take one middle row more than is shown, so to_string truncates and draws its own "..." row
    # between head and tail; only these few rows are ever formatted.
    sample = frame.iloc[[*range(half + 1), *range(rows - half, rows)]]
    text = sample.to_string(max_rows=2 * half, min_rows=2 * half, **options)
    return [f"rows (first {half} and last {half} of {rows:,}):", text]


def _numeric_section(frame: Any, positions: list[int], profiles: list[tuple[int, list[float] | None]]) -> list[str]:
    numeric = [(position, stats) for position, (_, stats) in zip(positions, profiles, strict=True) if stats is not None]
    if not numeric:
        return []
    import pandas

    cells = {index: _stat_cells(stats) for index, (_, stats) in enumerate(numeric)}
    table = pandas.DataFrame(cells, index=list(_STAT_NAMES[1:]))
    table.columns = [frame.columns[position] for position, _ in numeric]
    # No count row: it is the row count less the nulls listed above, and would only repeat it.
    lines = ["numeric columns (mean, std, min, quartiles, max):", table.to_string()]
    if any(stats[0] > QUANTILE_SAMPLE for _, stats in numeric):
        lines.append(f"(quartiles from at most {QUANTILE_SAMPLE:,} evenly spaced values)")
    return lines


def _stat_cells(stats: list[float]) -> list[str]:
    """mean..max of a column to four significant digits of its largest value and two of its spread:
    finer digits are noise, and unlike pandas' shared format (which widens every column to fit
    "10000000.000000") the width does not grow with the row count."""
    values = stats[1:]
    magnitude = max((abs(value) for value in values if math.isfinite(value)), default=0.0)
    decimals = max(_decimals(magnitude, 4), _decimals(stats[2], 2))
    return [f"{value:.{decimals}f}" for value in values]


def _decimals(value: float, digits: int) -> int:
    """Decimal places that show `digits` significant digits of `value` (0 to 12)."""
    if not math.isfinite(value) or value == 0:
        return 0
    return min(12, max(0, digits - 1 - math.floor(math.log10(abs(value)))))


def _array_summary(array: Any, limits: Limits) -> str:
    import numpy

    lines = [f"numpy.ndarray: shape {array.shape}, dtype {array.dtype}"]
    if array.dtype.kind in "iuf" and array.size:
        stats = _stats(numpy.asarray(array, dtype="float64").ravel(), ddof=0)
        summary = ", ".join(f"{name} {value:.6g}" for name, value in zip(_STAT_NAMES, stats, strict=True))
        lines.append(f"{summary}, NaN {array.size - int(stats[0]):,}")
    shown = array
    if array.ndim > 3 and array.size:  # edge items of every axis would be (2 * edgeitems) ** ndim values
        shown = array[(0,) * (array.ndim - 2)]
        lines.append(f"values of array[{', '.join(['0'] * (array.ndim - 2))}, :, :]:")
    edge = max(1, limits.max_rows // 2)
    lines.append(numpy.array2string(shown, threshold=limits.max_rows * limits.max_columns, edgeitems=edge, max_line_width=120))
    return "\n".join(lines)
