"""`{name}` expansion: what a cell's text becomes before it is sent.

This module decides which braces in the cell text are references to the user's variables and which
are dict literals, JSON, LaTeX, format specs or code that must go exactly as typed, and puts each
referenced object where it stands: its own text (strings, numbers), a bounded summary (`summaries`),
an image block (`images`) or, for a path to a PDF, a document block (`documents`). A reference is resolved by walking getattr/getitem over the parsed
reference: nothing the user typed is ever evaluated or formatted with `str.format`.
"""

from __future__ import annotations

import keyword
import numbers
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import documents, images
from .conversation import check_text
from .errors import ContextError, guarded, one_line
from .markdown import fence_split
from .sent import Sent, image_kind, kind_of, tokens_of
from .summaries import STRING_CUT, Limits, cut_text, summarize

__all__ = ["Expansion", "Limits", "Reference", "expand_prompt", "object_blocks", "template_pieces", "fill_template",
           "resolve_reference", "type_name", "AS_TYPED"]

# How a brace that is not expanded can be sent as typed without a note.
AS_TYPED = "sent as typed (--raw, or a code span or fence, keeps braces without this note)"

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

Part = str | dict[str, Any]


@dataclass
class Expansion:
    blocks: list[dict[str, Any]]  # API content blocks in prompt order; adjacent text merged, none blank
    notes: list[str]  # one-line notes for the user (unbound names, truncations)
    sent: list[Sent] = field(default_factory=list)  # what each expanded reference became


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
    return Expansion(_merge(expander.parts), list(dict.fromkeys(expander.notes)), expander.sent)


def object_blocks(label: str, obj: Any, limits: Limits = Limits()) -> tuple[list[dict[str, Any]], Sent]:
    """The blocks for `-w NAME`: the object's text, image or document, labelled with its name; and what they are."""
    if documents.is_document_like(obj):
        doc = _document(label, obj)
        return [doc.block], doc.sent(f"-w {label}")
    parts, _ = _value_parts(label, obj, limits, inline=False)
    return _merge(parts), Sent(f"-w {label}", _kind(obj, parts), tokens_of(parts))


@dataclass(frozen=True)
class Reference:
    """A `{root.chain}` reference of a template, as `expand_prompt` would read it."""

    root: str
    chain: str = ""

    @property
    def label(self) -> str:
        return self.root + self.chain


def template_pieces(text: str) -> list[str | Reference]:
    """`text` split as `expand_prompt` reads it: literal text (code spans and fences as typed, doubled
    braces made single) and the references between, to be filled many times (`fill_template`)."""
    pieces: list[str | Reference] = []
    for chunk, is_code in _code_split(text):
        copied = 0
        for at, match in ([] if is_code else _scan(chunk)):
            if match is None:
                pieces.append(chunk[copied:at + 1])
                copied = at + 2
            else:
                pieces += [chunk[copied:at], Reference(match["root"], match["chain"])]
                copied = match.end()
        pieces.append(chunk[copied:])
    return [piece for piece in pieces if piece != ""]


def fill_template(pieces: list[str | Reference], values: Mapping[str, Any], limits: Limits = Limits()) -> list[dict[str, Any]]:
    """The content blocks of `pieces` with each reference replaced by its value in `values`, as
    `expand_prompt` would put it; a reference whose lookup fails raises (the caller knows why it asked)."""
    parts: list[Part] = []
    for piece in pieces:
        if isinstance(piece, str):
            parts.append(piece)
        else:
            parts += _value_parts(piece.label, _resolve(values[piece.root], piece.chain), limits, inline=True)[0]
    return _merge(parts)
def resolve_reference(reference: str, namespace: Mapping[str, Any]) -> Any:
    """The object a reference written as between `{` and `}` names (`df`, `df.columns`, `rows[0]`,
    `cfg['epochs']`), walked as `{name}` walks it: never evaluated. LookupError if it names nothing."""
    match = _REFERENCE.fullmatch(reference.strip() + "}")
    if match is None or keyword.iskeyword(match["root"]):
        raise LookupError(f"{reference!r} is not a variable name, nor name.attr, name[0] or name['key']")
    if match["root"] not in namespace:
        raise LookupError(f"there is no variable named {match['root']!r}")
    try:
        return _resolve(namespace[match["root"]], match["chain"])
    except Exception as error:
        raise LookupError(f"{reference}: {type(error).__name__}: {one_line(str(error), 80)}") from None


def _kind(obj: Any, parts: list[Part]) -> str:
    image = next((part for part in parts if isinstance(part, dict)), None)
    if image is None:
        return kind_of(obj)
    return image_kind(image)


# --- splitting off Markdown code ------------------------------------------------------------------


def _code_split(text: str) -> Iterator[tuple[str, bool]]:
    """(chunk, is_code) pieces of `text`: fenced blocks and inline code spans are code."""
    for segment in fence_split(text):
        yield from [(segment.text, True)] if segment.fence else _span_split(segment.text)


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
        self.sent: list[Sent] = []

    def prose(self, text: str) -> None:
        """Copy `text`, replacing the references `_scan` finds; everything else stays as typed."""
        copied = 0
        for at, reference in _scan(text):
            if reference is None:
                self.parts.append(text[copied:at + 1])  # the doubled brace gives one literal brace
                copied = at + 2
            elif reference["root"] not in self.namespace:
                self.notes.append(f"{text[at:reference.end()]} is not a variable here; {AS_TYPED}")
            elif (parts := self.reference(reference)) is not None:
                self.parts += [text[copied:at], *parts]
                copied = reference.end()
        self.parts.append(text[copied:])

    def reference(self, match: re.Match[str]) -> list[Part] | None:
        """What the reference becomes, or None (with a note) if its lookup fails: a pasted
        `{cfg['epochs']}` is more likely text than a reference to a key that is not there."""
        label = match[0][:-1]
        try:
            obj = _resolve(self.namespace[match["root"]], match["chain"])
        except Exception as error:
            self.notes.append(f"{{{label}}}: {type(error).__name__}: {one_line(str(error), 80)}; {AS_TYPED}")
            return None
        if documents.is_document_like(obj):
            doc = _document(f"{{{label}}}", obj)
            self.sent.append(doc.sent(f"{{{label}}}"))
            return [doc.block]
        parts, note = _value_parts(label, obj, self.limits, inline=True)
        if note:
            self.notes.append(f"{{{label}}}: {note}")
        self.sent.append(Sent(f"{{{label}}}", _kind(obj, parts), tokens_of(parts)))
        return parts


def _scan(text: str) -> Iterator[tuple[int, re.Match[str] | None]]:
    """Where `text` (prose, not code) has a doubled brace, `(at, None)`, or an identifier-shaped
    reference, `(at, match)` with `at` its opening brace. Everything else is skipped as typed: LaTeX
    escapes and arguments, lone closing braces, dict literals, JSON and format specs."""
    position = 0
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
            yield at, None
            position = at + 2
        elif (reference := _REFERENCE.match(text, at + 1)) and not keyword.iskeyword(reference["root"]):
            yield at, reference
            position = reference.end()
        else:  # a dict literal, JSON, a format spec: kept whole, so its `}}` stays as typed too
            position = _group_end(text, at) or at + 1


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


def _resolve(obj: Any, chain: str) -> Any:
    """Walk `.attr`, `[0]` and `['key']` steps with getattr and getitem: never eval."""
    for step in _STEP.finditer(chain):
        if step["attr"]:
            obj = getattr(obj, step["attr"])
        else:
            obj = obj[int(step["index"])] if step["index"] else obj[step["key"][1:-1]]
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
    """An object's parts and an optional truncation note, refused if their text cannot be sent (a
    lone surrogate) whichever way the object came: `{name}`, `-w` or a map's row."""
    parts, note = _parts_of(label, obj, limits, inline=inline)
    where = f"{{{label}}}" if inline else f"-w {label}"
    for part in parts:
        if isinstance(part, str):
            check_text(part, where)
    return parts, note


def _parts_of(label: str, obj: Any, limits: Limits, *, inline: bool) -> tuple[list[Part], str | None]:
    """Inline strings and numbers are the text itself ("Translate {sentence}"); everything else is
    wrapped in a tag naming the variable, so the model can tell where it begins and ends."""
    if images.is_image_like(obj):
        opening, closing = _tags(label, obj)
        try:
            return [opening, images.image_block(obj), closing], None
        except ContextError as error:
            raise ContextError(f"{{{label}}}: {error}" if inline else f"{label}: {error}") from None
    if inline and isinstance(obj, str):
        text, note = cut_text(obj, limits.max_string_chars, STRING_CUT)
        return [text], note
    if inline and (isinstance(obj, numbers.Number) or obj is None):
        return [guarded(str, obj, label)], None
    text, note = summarize(obj, limits, label)
    opening, closing = _tags(label, obj)
    return [f"{opening}\n{text}\n{closing}"], note


def _document(label: str, path: Any) -> documents.Document:
    try:
        return documents.path_document(Path(path))
    except ContextError as error:
        raise ContextError(f"{label}: {error}") from None


def _tags(label: str, obj: Any) -> tuple[str, str]:
    name = label.replace('"', "&quot;")
    return f'<variable name="{name}" type="{type_name(obj)}">', "</variable>"


def type_name(obj: Any) -> str:
    """The type as a reader knows it: `list`, `pandas.DataFrame`."""
    kind = type(obj)
    package = kind.__module__.split(".")[0]
    return kind.__qualname__ if package == "builtins" else f"{package}.{kind.__qualname__}"
