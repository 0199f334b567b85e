"""A map job's plan and its result: one prompt per row, identical prompts once, the answers put back.

The template is read by `context`'s own rules (`template_pieces`: literal braces, JSON and code spans
stay as typed), and each `{column}` must name one of the frame's columns: anything else is refused in
one line before a row is rendered. Each row's prompt is filled as `%%claude` would fill `{name}` from
a variable (text as itself, numbers as written, other objects as bounded summaries, images as image
blocks); rows whose prompts come out the same share one request. The answers come back as a Series
aligned to the frame's index, or a DataFrame with a typed column per field when the schema has
several; rows that failed hold a missing value and their reasons go in an errors Series.
pandas is imported when a job first needs it.
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .batches import request_bytes
from .context import Limits, Reference, fill_template, template_pieces
from .engines import Outcome, custom_id, prompt_number
from .errors import ClaudeError, one_line
from .schema import Schema, SchemaMismatch

__all__ = ["Template", "Plan", "frame_of", "make_plan", "replan", "shared_settings", "request_body", "request_bodies",
           "choose_engine", "shown", "answer_of", "join",
           "encode_index", "decode_index", "MAX_JOB_ROWS", "MAX_REQUEST_BYTES"]

# Rows a job may have: more than the batch queue takes at once (200,000 requests waiting, by
# third-party accounts of the limit) is better split by the user, who can see where.
MAX_JOB_ROWS = 200_000
MAX_REQUEST_BYTES = 32_000_000  # the Messages API's limit on one request's body
_DTYPES = {"string": "string", "integer": "Int64", "number": "Float64", "boolean": "boolean"}


@dataclass(frozen=True)
class Template:
    text: str
    pieces: tuple[str | Reference, ...]
    columns: tuple[str, ...]  # the columns it names, in order of first mention

    @classmethod
    def parse(cls, text: str, columns: Sequence[Any], frame: str) -> Template:
        pieces = tuple(template_pieces(text))
        named = tuple(dict.fromkeys(piece.root for piece in pieces if isinstance(piece, Reference)))
        known = [column for column in columns if isinstance(column, str)]
        missing = [name for name in named if name not in known]
        shown = ", ".join(known[:12]) + (", …" if len(known) > 12 else "")
        if missing:
            raise ClaudeError(
                f"The template names {{{missing[0]}}}, which is not a column of {frame} (its columns: {shown}); "
                "write {{ and }} for literal braces."
            )
        if not named:
            raise ClaudeError(f"The template names no column of {frame}, so every row would ask the same: "
                              f"put a column in braces, such as {{{known[0] if known else 'text'}}}.")
        return cls(text, pieces, named)

    def render(self, row: Mapping[str, Any], limits: Limits) -> list[dict[str, Any]]:
        return fill_template(list(self.pieces), row, limits)


@dataclass
class Plan:
    """A job's distinct prompts in first-seen order, and which one each row asks."""

    frame: str
    index: Any  # the frame's pandas Index
    prompts: list[list[dict[str, Any]]]
    prompt_of_row: list[int]

    @property
    def rows(self) -> int:
        return len(self.prompt_of_row)

    @property
    def custom_ids(self) -> list[str]:
        return [custom_id(prompt) for prompt in range(len(self.prompts))]

    def prompts_sha256(self, shared: dict[str, Any]) -> str:
        """A digest of everything the job sends, to tell whether a job file is this job's."""
        text = json.dumps([shared, self.prompts, self.prompt_of_row], sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(text.encode("utf-8")).hexdigest()


def make_plan(frame: Any, template: Template, name: str, limits: Limits) -> Plan:
    """Render every row; a row that cannot be rendered is a one-line error before anything is sent."""
    prompts: list[list[dict[str, Any]]] = []
    seen: dict[str, int] = {}
    prompt_of_row = []
    columns = list(template.columns)
    for position, values in enumerate(frame[columns].itertuples(index=False, name=None)):
        try:
            blocks = template.render(dict(zip(columns, values)), limits)
        except Exception as error:  # a value the template cannot take: which row, and why
            label = frame.index[position]
            raise ClaudeError(f"Row {label!r} of {name}: {type(error).__name__}: {one_line(str(error), 120)}") from None
        key = json.dumps(blocks, sort_keys=True, ensure_ascii=False)
        if key not in seen:
            seen[key] = len(prompts)
            prompts.append(blocks)
        prompt_of_row.append(seen[key])
    return Plan(name, frame.index, prompts, prompt_of_row)


def frame_of(namespace: Mapping[str, Any], name: str) -> Any:
    """The DataFrame `name` holds, refused in one line if it is none, is empty, or has too many rows."""
    if not name:
        raise ClaudeError("Name the DataFrame to map: %%claude_map FRAME, with the template in the cell below.")
    if name not in namespace:
        raise ClaudeError(f"{name} is not a variable here: %%claude_map needs the name of a DataFrame.")
    frame = namespace[name]
    pandas = sys.modules.get("pandas")  # a DataFrame exists only once pandas is imported
    if pandas is None or not isinstance(frame, pandas.DataFrame):
        raise ClaudeError(f"{name} is a {type(frame).__name__}, not a pandas DataFrame.")
    if len(frame) == 0:
        raise ClaudeError(f"{name} has no rows: there is nothing to map.")
    if len(frame) > MAX_JOB_ROWS:
        raise ClaudeError(f"{name} has {len(frame):,} rows; a job takes at most {MAX_JOB_ROWS:,}: map it in slices (df.iloc[:{MAX_JOB_ROWS}]).")
    return frame


def replan(namespace: Mapping[str, Any], frame: str, template: str, shared: dict[str, Any], digest: str,
           limits: Limits) -> Plan | None:
    """A job's plan made again, if its frame is here and still makes the very same prompts."""
    try:
        found = frame_of(namespace, frame)
        plan = make_plan(found, Template.parse(template, list(found.columns), frame), frame, limits)
    except ClaudeError:
        return None
    return plan if plan.prompts_sha256(shared) == digest else None


def shared_settings(model: str, max_tokens: int, system: str | None, schema: Schema | None, cache_ttl: str) -> dict[str, Any]:
    """What every request of a job has in common. The shared instructions (the system prompt) are one
    cached block; nothing else is cached, since no two rows share more than that."""
    body: dict[str, Any] = {"model": model, "max_tokens": max_tokens}
    if system and system.strip():
        cache_control = {"type": "ephemeral", **({"ttl": "1h"} if cache_ttl == "1h" else {})}
        body["system"] = [{"type": "text", "text": system, "cache_control": cache_control}]
    if schema is not None:
        body["output_config"] = {"format": schema.output_format()}
    return body


def request_body(prompt: list[dict[str, Any]], shared: dict[str, Any]) -> dict[str, Any]:
    return {**shared, "messages": [{"role": "user", "content": prompt}]}


def choose_engine(engine: str, prompts: int, batch_above: int) -> tuple[str, str]:
    """The engine for `prompts` distinct prompts, and why, when "auto" chose it."""
    if engine != "auto":
        return engine, ""
    if prompts > batch_above:
        return "batch", f"auto: over {batch_above} prompts; half price, most batches end within the hour"
    return "live", f"auto: {batch_above} prompts or fewer; answers in seconds"


def request_bodies(plan: Plan, shared: dict[str, Any], limit: int) -> dict[str, dict[str, Any]]:
    """Each distinct prompt's request, by custom_id; one over `limit` bytes is refused, naming its row."""
    requests = {key: request_body(prompt, shared) for key, prompt in zip(plan.custom_ids, plan.prompts)}
    for key, body in requests.items():
        if request_bytes(key, body) > limit:
            row = plan.index[plan.prompt_of_row.index(prompt_number(key))]
            raise ClaudeError(f"Row {row!r} of {plan.frame} makes a request over the API's {limit // 1_000_000} MB limit: shorten it.")
    return requests


def shown(value: Any) -> str:
    """A parsed answer in one line of text: a dict as its JSON, anything else as itself."""
    return json.dumps(value, ensure_ascii=False) if isinstance(value, dict) else str(value)


def answer_of(outcome: Outcome | None, schema: Schema | None, max_tokens: int) -> tuple[Any, str]:
    """A prompt's (value, "") or (None, the reason it has none)."""
    if outcome is None:
        return None, "not sent: the job was interrupted"
    if outcome.status != "succeeded":
        return None, outcome.error
    if outcome.stop_reason == "refusal":
        return None, "Claude declined to answer (stop reason: refusal)"
    if outcome.stop_reason == "max_tokens":
        return None, f"the answer was cut at the {max_tokens:,}-token limit: raise ClaudeMagics.max_tokens"
    if schema is None:
        return outcome.text, ""
    try:
        return schema.parse(outcome.text), ""
    except SchemaMismatch as error:
        return None, f"the answer did not parse: {error}"


def join(index: Any, prompt_of_row: list[int], answers: list[tuple[Any, str]], schema: Schema | None,
         name: str | None) -> tuple[Any, Any]:
    """(the result aligned to `index`, the errors Series); `answers` are `answer_of` each prompt."""
    import pandas as pd

    values = [answers[prompt][0] for prompt in prompt_of_row]
    failed = [position for position, prompt in enumerate(prompt_of_row) if answers[prompt][1]]
    reasons = [answers[prompt_of_row[position]][1] for position in failed]
    errors = pd.Series(reasons, index=index[failed], name=f"{name}_errors" if name else "errors", dtype="string")
    if schema is None:
        result = pd.Series(values, index=index, name=name, dtype="string")
    else:
        rows = [schema.columns(value) if value is not None else {} for value in values]
        columns = {field.name: _column(field, [row.get(field.name) for row in rows], index) for field in schema.fields}
        if len(columns) == 1:
            (result,) = columns.values()
            result.name = name or next(iter(columns))
        else:
            result = pd.DataFrame(columns, index=index)
    result.attrs["errors"] = errors
    return result, errors


def _column(field: Any, values: list[Any], index: Any) -> Any:
    import pandas as pd

    if field.labels:
        return pd.Series(pd.Categorical(values, categories=list(field.labels)), index=index, name=field.name)
    return pd.Series(values, index=index, name=field.name, dtype=_DTYPES.get(field.kind, "object"))


def encode_index(index: Any) -> dict[str, Any]:
    """A frame's index as JSON for a job file: a RangeIndex by its bounds, anything else label by label."""
    import pandas as pd

    name = index.name if isinstance(index.name, (str, int, type(None))) else str(index.name)
    if isinstance(index, pd.RangeIndex):
        return {"range": [index.start, index.stop, index.step], "name": name}
    return {"labels": json.loads(pd.Series(index).to_json(orient="values", date_format="iso")), "name": name}


def decode_index(data: dict[str, Any]) -> Any:
    import pandas as pd

    if "range" in data:
        return pd.RangeIndex(*data["range"], name=data.get("name"))
    return pd.Index(data["labels"], name=data.get("name"))
