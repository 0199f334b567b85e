"""Citations -> numbered footnotes, and what the web tools did in a turn.

A text block the API cites carries its citations. The answer shows `[n]` after that block's text,
live (the loop marks each block as it ends) and in the saved output, and lists each source once under
the answer: the cited passage with the document's title and page (a PDF), character range (a text
document) or block range, or the web page's title and URL. `Footnotes` numbers them in the order
they first appear, so the live view and the reply agree. `web_activity` lists the searches Claude
made and the pages it fetched. Plain objects in (the SDK's content blocks), text out.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from .errors import one_line

__all__ = ["Citation", "Footnotes", "annotated", "web_activity"]

QUOTE_CHARS = 160  # of a cited passage shown under the answer


@dataclass(frozen=True)
class Citation:
    """One cited source, as `reply.citations` lists it: its footnote number, the passage, the
    document's or page's title, where in it ("p. 2", "pp. 2–3", "chars 10–52"), and a URL for the web."""

    number: int
    cited_text: str
    title: str
    where: str
    url: str | None = None

    def line(self) -> str:
        where = f", {self.where}" if self.where else ""
        return f"[{self.number}] “{one_line(self.cited_text, QUOTE_CHARS)}” — {self.title}{where}"


class Footnotes:
    """Numbers for citations, one per distinct source passage, in the order they first appear."""

    def __init__(self) -> None:
        self._cited: dict[tuple[Any, ...], Citation] = {}

    def mark(self, citations: Iterable[Any] | None) -> str:
        """The markers for one text block's citations: "[1][2]", or "" when it cites nothing."""
        numbers = []
        for citation in citations or ():
            key = _key(citation)
            if key not in self._cited:
                self._cited[key] = _citation(len(self._cited) + 1, citation)
            if self._cited[key].number not in numbers:
                numbers.append(self._cited[key].number)
        return "".join(f"[{number}]" for number in numbers)

    @property
    def cited(self) -> list[Citation]:
        return list(self._cited.values())


def annotated(content: Iterable[Any]) -> tuple[str, list[Citation]]:
    """A reply's answer text with its footnote markers, and the citations they number."""
    notes = Footnotes()
    text = "".join(block.text + notes.mark(block.citations) for block in content if block.type == "text")
    return text, notes.cited


def web_activity(content: Iterable[Any]) -> list[str]:
    """One line for the searches a reply made and one for the pages it fetched, and a line for
    each tool call that failed (its error code)."""
    searches: list[str] = []
    fetches: list[str] = []
    failures: list[str] = []
    for block in content:
        if block.type == "server_tool_use" and block.name in ("web_search", "web_fetch"):
            target = (block.input or {}).get("query" if block.name == "web_search" else "url", "")
            (searches if block.name == "web_search" else fetches).append(str(target))
        error = getattr(getattr(block, "content", None), "error_code", None)
        if block.type in ("web_search_tool_result", "web_fetch_tool_result") and error:
            failures.append(f"{block.type.removesuffix('_tool_result').replace('_', ' ')} failed: {error}")
    lines = []
    if searches:
        lines.append("Searched the web for: " + "; ".join(f"“{one_line(query, 80)}”" for query in searches))
    if fetches:
        lines.append("Fetched: " + "; ".join(fetches))
    return lines + failures


def _key(citation: Any) -> tuple[Any, ...]:
    source = getattr(citation, "url", None) or getattr(citation, "document_index", None)
    span = tuple(getattr(citation, name, None) for name in _SPANS.get(citation.type, ()))
    return (citation.type, source, *span, citation.cited_text)


_SPANS = {
    "page_location": ("start_page_number", "end_page_number"),
    "char_location": ("start_char_index", "end_char_index"),
    "content_block_location": ("start_block_index", "end_block_index"),
    "search_result_location": ("search_result_index", "start_block_index", "end_block_index"),
}


def _citation(number: int, citation: Any) -> Citation:
    kind = citation.type
    if kind == "web_search_result_location":
        return Citation(number, citation.cited_text, citation.title or citation.url, citation.url, citation.url)
    if kind == "search_result_location":
        return Citation(number, citation.cited_text, citation.title or citation.source, citation.source)
    title = citation.document_title or f"document {citation.document_index + 1}"
    return Citation(number, citation.cited_text, title, _where(citation))


def _where(citation: Any) -> str:
    """Where in its document a passage is; the API's end page and block indexes are exclusive."""
    if citation.type == "page_location":
        first, last = citation.start_page_number, citation.end_page_number - 1
        return f"p. {first}" if last <= first else f"pp. {first}–{last}"
    if citation.type == "char_location":
        return f"characters {citation.start_char_index:,}–{citation.end_char_index:,}"
    first, last = citation.start_block_index, citation.end_block_index - 1
    return f"block {first}" if last <= first else f"blocks {first}–{last}"
