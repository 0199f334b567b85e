"""What an object becomes as text in a prompt: a bounded summary that says what it left out.

Strings are cut at `max_string_chars`; DataFrames and Series become their shape, dtypes, nulls, head
and tail rows and numeric statistics; arrays their shape, statistics and edge values; anything else
a repr that stops writing once its budget is spent. The size of a summary does not grow with the
number of rows. pandas and numpy are recognised through `sys.modules` and imported only inside the
functions that summarise their objects, so a user who never imported them never pays for them.
"""

from __future__ import annotations

import collections
import math
import sys
from dataclasses import dataclass
from typing import Any

from .errors import guarded

__all__ = ["Limits", "describe", "summarize", "cut_text", "STRING_CUT"]

# Above this many values per column, quartiles come from an evenly spaced sample: exact quantiles of
# 10^7 values cost about 0.1 s a column, which would break the one-second budget for a large frame.
QUANTILE_SAMPLE = 1_000_000
MAX_CELL_WIDTH = 50  # characters of one cell in the rows table: long text cells are cut there
# Unique values are counted exactly up to this many rows, and in an evenly spaced sample above: an
# exact count of 10^7 values costs about 0.1 s a column.
UNIQUE_SAMPLE = 200_000
MAX_LEVELS = 8  # of a categorical column's levels, this many are named
MAX_LEVEL_CHARS = 30
MAX_REPR_DEPTH = 6

STRING_CUT = "[... {cut:,} more characters cut]"
_REPR_CUT = "[repr truncated: {shown:,} of {total:,} characters shown]"
_SUMMARY_CUT = "[summary truncated: {shown:,} of {total:,} characters shown]"

_STAT_NAMES = ("count", "mean", "std", "min", "25%", "50%", "75%", "max")  # as describe() names them
_BRACKETS: dict[type, tuple[str, str]] = {
    list: ("[", "]"), tuple: ("(", ")"), set: ("{", "}"), frozenset: ("frozenset({", "})"), dict: ("{", "}"),
    collections.deque: ("deque([", "])"),
}


@dataclass(frozen=True)
class Limits:
    max_rows: int = 10  # head + tail rows shown for frames
    max_columns: int = 20
    max_chars: int = 20_000  # per object text: summaries and reprs
    max_string_chars: int = 100_000  # a string is the user's own text (a document, say): more room


def describe(obj: Any, limits: Limits = Limits(), *, label: str = "obj") -> str:
    """The text context of an object: a bounded summary or repr (`label` names it in errors)."""
    return summarize(obj, limits, label)[0]


def summarize(obj: Any, limits: Limits, label: str) -> tuple[str, str | None]:
    """The object's text and, if it was cut, a one-line note saying so."""
    if isinstance(obj, str):
        return cut_text(obj, limits.max_string_chars, STRING_CUT)
    summary = _summary_of(obj)
    if summary is None:
        return _repr_summary(obj, limits, label)
    # A frame's cells, index or subclass may fail to print, as any repr may.
    text = guarded(lambda frame: summary(frame, limits), obj, label, what="summarising")
    return cut_text(text, limits.max_chars, _SUMMARY_CUT)


def cut_text(text: str, limit: int, marker: str) -> tuple[str, str | None]:
    if len(text) <= limit:
        return text, None
    mark = marker.format(shown=limit, total=len(text), cut=len(text) - limit)
    return f"{text[:limit]}\n{mark}", f"cut to the first {limit:,} of {len(text):,} characters"


def _summary_of(obj: Any) -> Any:
    """The summary function for a DataFrame, Series or array; None for anything else."""
    pandas = sys.modules.get("pandas")
    numpy = sys.modules.get("numpy")
    if pandas is not None and isinstance(obj, pandas.DataFrame):
        return lambda frame, limits: _frame_summary(
            frame, limits, f"pandas.DataFrame: {frame.shape[0]:,} rows × {frame.shape[1]:,} columns"
        )
    if pandas is not None and isinstance(obj, pandas.Series):
        return lambda series, limits: _frame_summary(
            series.to_frame(), limits, f"pandas.Series {series.name!r}: {len(series):,} values, dtype {series.dtype}"
        )
    if numpy is not None and isinstance(obj, numpy.ndarray):
        return _array_summary
    return None


def _repr_summary(obj: Any, limits: Limits, label: str) -> tuple[str, str | None]:
    # Room for the closing "... <N more>" marker, so the final cut only falls on a single huge item.
    bounded = _BoundedRepr(limits.max_chars - 100)
    text, note = cut_text(guarded(bounded, obj, label), limits.max_chars, _REPR_CUT)
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
    lines = [title, "columns (dtype, nulls, and unique values, levels, share true or range):"]
    for index, (position, column, (nulls, _)) in enumerate(zip(positions, columns, profiles, strict=True)):
        if index and position != positions[index - 1] + 1:
            lines.append(f"  ... {position - positions[index - 1] - 1:,} columns not shown ...")
        lines.append(f"  {frame.columns[position]}: {column.dtype}, nulls {nulls:,}, {_facts(column)}")
    if len(frame) > UNIQUE_SAMPLE:
        lines.append(f"  (≥: counted in at most {UNIQUE_SAMPLE:,} evenly spaced rows)")
    lines += _rows_section(frame, limits)
    lines += _numeric_section(frame, positions, profiles)
    return "\n".join(lines)


def _facts(column: Any) -> str:
    """What a column's dtype says most about: a category's levels, a bool's share of True, a date's
    range; for the rest, how many distinct values it holds."""
    kind = getattr(column.dtype, "kind", "O")
    if str(column.dtype) == "category":
        levels = [str(level)[:MAX_LEVEL_CHARS] for level in column.cat.categories[:MAX_LEVELS]]
        more = len(column.cat.categories) - len(levels)
        return f"{len(column.cat.categories):,} levels: " + ", ".join(levels) + (f", … {more:,} more" if more else "")
    if kind == "b":
        share = column.mean()
        return f"true {share:.1%}" if share == share else "true n/a"  # NaN when every value is missing
    if kind == "M":
        low, high = column.min(), column.max()
        return f"from {low} to {high}" if low == low else "no dates"
    sample = column.iloc[:: -(-len(column) // UNIQUE_SAMPLE)] if len(column) > UNIQUE_SAMPLE else column
    try:
        unique = sample.nunique()
    except TypeError:  # unhashable cells (lists, dicts): nothing to count
        return "unique n/a"
    return f"unique {'≥' if sample is not column else ''}{unique:,}"


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
