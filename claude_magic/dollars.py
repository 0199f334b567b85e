"""Dollar signs in Markdown: money reads as money, math stays math, in every notebook renderer.

JupyterLab and Notebook 7 pair any two `$` in the source before Markdown runs, and MathJax pairs
them again in the rendered text, so "$0.05 and $1.05" becomes italic math. Measured in a real
browser (JupyterLab 4.6, Notebook 7.6, nbconvert's HTML) and against VS Code's own parser, one
spelling of a literal dollar survives all of them: `<span>&#36;</span>` (no raw `$` in the source,
and each dollar alone in its element, which MathJax does not pair across); GitHub's documentation
asks for a `<span>` around a literal dollar too. The rule, outside code (fences, indented blocks,
code spans), HTML tags, autolinks and link targets:

- math stays as written: `$$...$$`, `\\begin{env}...\\end{env}`, and inline `$...$` where the
  opening `$` follows no word character, escape or `$` and has a non-space after it, and the first
  unescaped `$` after it on the same line (or table cell) closes it: a non-space before it and no
  word character or `$` after it (so `$5 and $10` is never math: `$10`'s `1` follows the closer);
- `\\(...\\)` and `\\[...\\]` (one or two backslashes) become `$...$` and `$$...$$`: no renderer but
  Jupyter shows the bracket forms as math, and it only with two backslashes;
- every other dollar, including a `\\$` or `&#36;` the answer wrote itself, becomes DOLLAR.

The rule is idempotent. Only the `text/markdown` output gets it; `text/plain` keeps the answer as
written. Known misses: `$n$th` (a word right after the closer) is money to VS Code, so it is kept
literal everywhere; inline math broken across lines shows as dollars.
"""

from __future__ import annotations

import re

from .markdown import DOLLAR, fence_split

__all__ = ["DOLLAR", "encode_dollars"]

_ENTITY = re.compile(r"&(?:#36|#[xX]0*24|dollar);")
_HTML = re.compile(
    r"<(?:[A-Za-z][A-Za-z0-9-]*(?:\s[^<>]*)?/?|/[A-Za-z][A-Za-z0-9-]*\s*|[A-Za-z][A-Za-z0-9+.-]{1,31}:[^<>\s]*|!--[\s\S]*?--)>"
)
_BEGIN = re.compile(r"\\begin\{([A-Za-z]+\*?)\}")
_LIST_ITEM = re.compile(r"\s*(?:[-+*]|\d+[.)])\s")
_BRACKETS = ((r"\\(", r"\\)", "$"), (r"\\[", r"\\]", "$$"), ("\\(", "\\)", "$"), ("\\[", "\\]", "$$"))
_PUNCTUATION = set("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")


def encode_dollars(markdown: str) -> str:
    """`markdown` with every dollar that is not TeX math written as DOLLAR (see the module docstring)."""
    if "$" not in markdown and "&" not in markdown and "\\" not in markdown:
        return markdown
    return "".join(segment.text if segment.fence else _outside_fences(segment.text) for segment in fence_split(markdown))


def _outside_fences(text: str) -> str:
    """Prose between fences, its indented code blocks (after a blank line, outside a list) kept."""
    out: list[str] = []
    prose: list[str] = []
    in_code, previous_blank = False, True
    for line in text.splitlines(keepends=True):
        blank = not line.strip()
        if in_code and (blank or line.startswith("    ")):
            out.append(line)
        elif line.startswith("    ") and not blank and previous_blank and not _in_list(prose):
            out += [_Prose("".join(prose)).encoded(), line]
            prose, in_code = [], True
        else:
            prose.append(line)
            in_code = False
        previous_blank = blank
    out.append(_Prose("".join(prose)).encoded())
    return "".join(out)


def _in_list(lines: list[str]) -> bool:
    """Whether the last non-blank line belongs to a list (an indented line after it is list content)."""
    last = next((line for line in reversed(lines) if line.strip()), "")
    return bool(_LIST_ITEM.match(last)) or last.startswith("    ")


class _Prose:
    """One scan over Markdown prose (no fences), copying everything but literal dollars."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.at = 0
        self.line_start = 0
        self.out: list[str] = []

    def encoded(self) -> str:
        text = self.text
        while self.at < len(text):
            char = text[self.at]
            handled = {
                "\n": self._newline, "`": self._code_span, "<": self._tag, "]": self._link_target,
                "&": self._entity, "\\": self._backslash, "$": self._dollar,
            }.get(char)
            if handled is None or not handled():
                self._copy(1)
        return "".join(self.out)

    def _copy(self, length: int) -> bool:
        self.out.append(self.text[self.at : self.at + length])
        self.at += length
        return True

    def _put(self, replacement: str, length: int) -> bool:
        self.out.append(replacement)
        self.at += length
        return True

    def _newline(self) -> bool:
        self.line_start = self.at + 1
        return self._copy(1)

    def _code_span(self) -> bool:
        run = re.match(r"`+", self.text[self.at :])
        assert run is not None
        ticks = run.group()
        close = re.compile(rf"(?<!`){ticks}(?!`)").search(self.text, self.at + len(ticks))
        return self._copy((close.end() if close else self.at + len(ticks)) - self.at)

    def _tag(self) -> bool:
        if self.text.startswith(DOLLAR, self.at):
            return self._copy(len(DOLLAR))
        tag = _HTML.match(self.text, self.at)
        return tag is not None and self._copy(tag.end() - self.at)

    def _link_target(self) -> bool:
        if not self.text.startswith("](", self.at):
            return False
        close = self.text.find(")", self.at + 2)
        return close > 0 and "\n" not in self.text[self.at : close] and self._copy(close + 1 - self.at)

    def _entity(self) -> bool:
        entity = _ENTITY.match(self.text, self.at)
        return entity is not None and self._put(DOLLAR, entity.end() - self.at)

    def _backslash(self) -> bool:
        text, at = self.text, self.at
        for opener, closer, dollars in _BRACKETS:
            if text.startswith(opener, at):
                end = text.find(closer, at + len(opener))
                if end >= 0 and "\n\n" not in text[at:end]:
                    body = text[at + len(opener) : end]
                    return self._put(f"{dollars}{body.strip() if dollars == '$' else body}{dollars}", end + len(closer) - at)
        begin = _BEGIN.match(text, at)
        if begin is not None:
            end = text.find(f"\\end{{{begin.group(1)}}}", begin.end())
            if end >= 0:
                return self._copy(end + len(f"\\end{{{begin.group(1)}}}") - at)
        following = text[at + 1 : at + 2]
        if following == "$":
            return self._put(DOLLAR, 2)  # the answer's own \$: a literal dollar
        return self._copy(2 if following and following in _PUNCTUATION else 1)

    def _dollar(self) -> bool:
        text, at = self.text, self.at
        if text.startswith("$$", at):
            end = text.find("$$", at + 2)
            if end >= 0 and "\n\n" not in text[at:end] and text[at + 2 : end].strip():
                return self._copy(end + 2 - at)
            return self._put(DOLLAR * 2, 2)
        closer = self._inline_math_end()
        return self._copy(closer + 1 - at) if closer is not None else self._put(DOLLAR, 1)

    def _inline_math_end(self) -> int | None:
        """Where the inline math opening here closes, or None if this `$` opens none."""
        text, at = self.text, self.at
        before = text[at - 1] if at > self.line_start else ""
        after = text[at + 1 : at + 2]
        if before in ("\\", "$") or _is_word(before) or not after or after.isspace() or after == "$":
            return None
        stop, index = self._cell_end(at + 1), at + 1
        while index < stop and text[index] != "$":
            index += 2 if text[index] == "\\" else 1
        if index >= stop:
            return None
        following = text[index + 1 : index + 2]
        return index if not text[index - 1].isspace() and not _is_word(following) and following != "$" else None

    def _cell_end(self, position: int) -> int:
        """The end of the line, or of the table cell, that `position` is in."""
        text = self.text
        end = text.find("\n", position)
        end = len(text) if end < 0 else end
        line_start = text.rfind("\n", 0, position) + 1
        if not text[line_start:end].lstrip().startswith("|"):
            return end
        bar = re.compile(r"(?<!\\)\|").search(text, position, end)
        return bar.start() if bar else end


def _is_word(char: str) -> bool:
    return char.isalnum() or char == "_"
