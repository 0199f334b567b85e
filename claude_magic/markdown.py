"""Markdown as text: fenced code blocks, code spans, and text that must show exactly as written.

One fence rule serves every reader of Markdown here (the live view's chunker, the `{name}`
expansion that leaves code alone, `--code` that takes code out of an answer): a line of three or
more backticks or tildes at any indentation opens a fence (inside list items answers indent
them), and a line of at least as many of the same character, and nothing else, closes it. A backtick
fence's info string holds no backtick, which is what tells it from an inline code span.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["Fence", "Segment", "fence_split", "close_open_blocks", "code_span", "fenced", "literal", "DOLLAR"]

# A literal dollar that no renderer's math pass pairs (see `dollars`, which applies the rule).
DOLLAR = "<span>&#36;</span>"

_FENCE_OPEN = re.compile(r"(?P<indent>[ \t]*)(?P<marker>`{3,}(?=[^`]*$)|~{3,})(?P<info>.*)")


@dataclass(frozen=True)
class Fence:
    """The opening line of a fenced code block, and how it is closed."""

    opening: str
    indent: str
    marker: str
    info: str

    @classmethod
    def opened_by(cls, line: str) -> Fence | None:
        match = _FENCE_OPEN.fullmatch(line.rstrip("\r\n"))
        if match is None:
            return None
        return cls(line.rstrip("\r\n"), match["indent"], match["marker"], match["info"].strip())

    @property
    def closing(self) -> str:
        return self.indent + self.marker

    @property
    def language(self) -> str:
        return self.info.split(" ")[0].lower()

    def closed_by(self, line: str) -> bool:
        stripped = line.strip()
        return stripped.startswith(self.marker) and stripped == self.marker[0] * len(stripped)


@dataclass(frozen=True)
class Segment:
    """A piece of a Markdown text: prose, or a fenced block (`fence` set) with its lines."""

    text: str
    fence: Fence | None = None
    closed: bool = False

    @property
    def code(self) -> str:
        """A fenced block's code, without its fence lines and their indentation."""
        lines = self.text.splitlines()[1 : -1 if self.closed else None]
        width = len(self.fence.indent) if self.fence else 0
        return "\n".join(line[min(width, len(line) - len(line.lstrip())) :] for line in lines)


def fence_split(text: str) -> list[Segment]:
    """`text` cut into prose and fenced blocks, in order; an unclosed fence runs to the end."""
    segments: list[Segment] = []
    start = position = 0
    fence: Fence | None = None
    for line in text.splitlines(keepends=True):
        if fence is None and (opened := Fence.opened_by(line)) is not None:
            segments.append(Segment(text[start:position]))
            start, fence = position, opened
        elif fence is not None and fence.closed_by(line):
            segments.append(Segment(text[start : position + len(line)], fence, closed=True))
            start, fence = position + len(line), None
        position += len(line)
    segments.append(Segment(text[start:], fence))
    return [segment for segment in segments if segment.text]


def close_open_blocks(text: str) -> str:
    """`text` with a fence or `<details>` it left open closed, so what follows it (a note, a footer)
    is not swallowed into a code block or a collapsed section: a reply cut at max_tokens does that."""
    segments = fence_split(text)
    last = segments[-1] if segments else None
    if last is not None and last.fence is not None and not last.closed:
        text = text.rstrip("\n") + "\n" + last.fence.closing
        segments = fence_split(text)
    prose = "".join(segment.text for segment in segments if segment.fence is None)
    unclosed = len(re.findall(r"<details\b", prose)) - len(re.findall(r"</details>", prose))
    return text + "\n\n</details>" * max(unclosed, 0)


def code_span(text: str) -> str:
    """`text` as an inline code span, with enough backticks that none inside closes it."""
    ticks = "`" * (max((len(run) for run in re.findall(r"`+", text)), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{ticks}{pad}{text}{pad}{ticks}"


def fenced(text: str, language: str = "") -> str:
    """`text` as a fenced code block, its fence longer than any backtick run inside it."""
    ticks = "`" * max(3, max((len(run) for run in re.findall(r"`+", text)), default=0) + 1)
    return f"{ticks}{language}\n{text.rstrip(chr(10))}\n{ticks}"


# Characters that can start Markdown syntax inside a line; `_` only at a word's edge (max_tokens is safe).
_MARKDOWN_ACTIVE = re.compile(r"([\\`*\[\]<~|]|(?<![A-Za-z0-9])_|_(?![A-Za-z0-9]))")


def literal(text: str) -> str:
    """Markdown that shows plain `text` as written: its Markdown marks escaped, and each dollar
    written as DOLLAR, since a backslash does not stop Jupyter's math pass from pairing `$`."""
    return _MARKDOWN_ACTIVE.sub(r"\\\1", text).replace("$", DOLLAR)
