"""Documents in a turn (`-d PATH_OR_URL`, `{name}` of a path to a PDF): PDF and text files become
`document` blocks with citations on, checked against the API's documented limits before sending.

A PDF goes as base64, read with pypdf (imported only then) for its page count and to refuse an
encrypted or unreadable file; or by URL, which the API fetches itself (http and https only). A text,
Markdown or CSV file goes as a plain-text document. The limits are the PDF support page's: a request
of at most 32 MB and 100 PDF pages, counting every document the conversation sends again; no
passwords or encryption. A document stays in the conversation and goes again with later turns,
where prompt caching reads it at a fraction of the price; one of 1 MB or more goes once through the
Files API (`Uploads`), and every request names it by file_id instead, so requests stay small.
"""

from __future__ import annotations

import base64
import hashlib
import io
import os
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from .errors import ContextError, one_line
from .images import is_http_url, path_or_url, read_file
from .sent import Sent

if TYPE_CHECKING:
    import anthropic

__all__ = [
    "Document", "Uploads", "PageCounts", "document", "path_document", "is_document_like", "describe", "check_request",
    "uploads_on_send", "pdf_pages", "MAX_REQUEST_BYTES", "MAX_PDF_PAGES", "UPLOAD_FROM",
]

Block = dict[str, Any]

MAX_REQUEST_BYTES = 32 * 1024 * 1024
MAX_PDF_PAGES = 100
UPLOAD_FROM = 1024 * 1024  # bytes of a document from which it goes through the Files API
UPLOAD_LIFETIME = 30 * 24 * 3600  # seconds an upload is kept: a month of a notebook's sessions
# "About 7,000 tokens for a 3-page PDF" (the PDF support page): each page is its text and an image.
TOKENS_PER_PAGE = 2_300
TEXT_SUFFIXES = (".txt", ".text", ".md", ".markdown", ".csv", ".tsv")
_NOT_A_DOCUMENT = "a document is a PDF or a text file (.txt, .md, .csv, .tsv); attach images with -i, variables with -w"


@dataclass(frozen=True)
class Document:
    """One document block and what it is: "PDF" or "text", its pages (PDFs) and bytes."""

    block: Block
    kind: str
    pages: int | None
    size: int

    @property
    def tokens(self) -> int:
        if self.kind == "text":
            return max(1, len(self.block["source"]["data"]) // 4)
        return (self.pages or 0) * TOKENS_PER_PAGE

    def sent(self, label: str) -> Sent:
        return Sent(label, _kind(self.kind, self.pages, self.size), self.tokens)


def document(spec: str) -> Document:
    """The document for `-d PATH_OR_URL`: anything with a scheme is a URL, the rest a file path."""
    target = path_or_url(spec, "no such file")
    return _url_document(target) if isinstance(target, str) else path_document(target)


def is_document_like(obj: Any) -> bool:
    """Whether a `{name}` or `-w` object is a document: a path-like (not a str) to a PDF."""
    return isinstance(obj, os.PathLike) and Path(obj).suffix.lower() == ".pdf"


def path_document(path: Path) -> Document:
    data = read_file(path, "no such file")
    if data.startswith(b"%PDF-") or path.suffix.lower() == ".pdf":
        pages = pdf_pages(data, f"'{path}'")
        source = {"type": "base64", "media_type": "application/pdf", "data": base64.b64encode(data).decode("ascii")}
        return Document(_block(source, path.name), "PDF", pages, len(data))
    if path.suffix.lower() not in TEXT_SUFFIXES:
        raise ContextError(f"'{path}' is not a document: {_NOT_A_DOCUMENT}.")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ContextError(f"'{path}' is not UTF-8 text: save it as UTF-8, or convert it to PDF.") from None
    if not text.strip():
        raise ContextError(f"'{path}' is empty: there is nothing to send.")
    return Document(_block({"type": "text", "media_type": "text/plain", "data": text}, path.name), "text", None, len(data))


def _url_document(url: str) -> Document:
    if not is_http_url(url):
        raise ContextError(f"{url!r}: the API fetches only http(s) URLs; download the file and give its path.")
    parts = urllib.parse.urlsplit(url)
    title = PurePosixPath(urllib.parse.unquote(parts.path)).name or parts.netloc
    return Document(_block({"type": "url", "url": url}, title), "PDF", None, 0)


def _block(source: dict[str, Any], title: str) -> Block:
    return {"type": "document", "source": source, "title": title, "citations": {"enabled": True}}


def pdf_pages(data: bytes, name: str) -> int:
    """The page count of a PDF the API can read; one line saying why not, otherwise."""
    try:
        import pypdf
    except ImportError:
        raise ContextError("reading PDFs needs pypdf: pip install pypdf (or claude-magic[pdf]).") from None
    try:
        reader = pypdf.PdfReader(io.BytesIO(data))
        encrypted = reader.is_encrypted
        pages = 0 if encrypted else len(reader.pages)
    except Exception as error:  # a damaged file can fail anywhere in the parser: it is unreadable either way
        raise ContextError(f"{name} is not a PDF that can be read ({one_line(str(error), 100)}).") from None
    if encrypted:
        raise ContextError(f"{name} is encrypted or password-protected, which the API does not take: save an open copy.")
    if pages == 0:
        raise ContextError(f"{name} has no pages: there is nothing to send.")
    if pages > MAX_PDF_PAGES:
        raise ContextError(f"{name} has {pages:,} pages; the API takes at most {MAX_PDF_PAGES} a request: split it.")
    return pages


def _kind(kind: str, pages: int | None, size: int) -> str:
    if kind == "text":
        return f"text document, {size:,} bytes"
    if pages is None:
        return "PDF by URL"
    return f"PDF, {pages:,} page{'s' if pages != 1 else ''}, {_size(size)}"


def _size(size: int) -> str:
    return f"{size / 1024 / 1024:.1f} MB" if size >= 1024 * 1024 else f"{max(1, size // 1024):,} KB"


# --------------------------------------------------------------------------- sizes, pages, uploads


def _raw_size(source: dict[str, Any]) -> int:
    if source["type"] == "base64":
        return len(source["data"]) * 3 // 4
    return len(source["data"].encode("utf-8")) if source["type"] == "text" else 0


def uploads_on_send(block: Block) -> bool:
    """Whether a document goes through the Files API when its turn is sent (it is large)."""
    return block.get("type") == "document" and _raw_size(block["source"]) >= UPLOAD_FROM


class PageCounts:
    """The page counts of the PDFs a session has sent, by content digest or file id, so that a
    conversation's documents are not parsed again on every turn."""

    def __init__(self) -> None:
        self._pages: dict[str, int] = {}

    def of(self, block: Block) -> int | None:
        """A document block's pages; None for a PDF by URL (the API fetches it) or a text document."""
        source = block["source"]
        if source["type"] == "base64":
            key = _digest(source["data"].encode("ascii"))
            if key not in self._pages:
                self._pages[key] = pdf_pages(base64.b64decode(source["data"]), f"the document {block.get('title')!r}")
            return self._pages[key]
        return self._pages.get(source["file_id"]) if source["type"] == "file" else None

    def learn(self, file_id: str, pages: int) -> None:
        self._pages[file_id] = pages


def describe(block: Block, counts: PageCounts) -> str:
    """A document block in a few words, for the dry run: what, how many pages, about how many tokens."""
    source = block["source"]
    title = block.get("title") or "untitled"
    if source["type"] == "url":
        return f"document {title}: PDF by URL <{source['url']}> (its pages are counted when the API fetches it)"
    if source["type"] == "file":
        return f"document {title}: uploaded file {source['file_id']}"
    pages = counts.of(block)
    kind = "text" if source["type"] == "text" else "PDF"
    doc = Document(block, kind, pages, _raw_size(source))
    via = "; goes once through the Files API when sent" if uploads_on_send(block) else ""
    return f"document {title}: {_kind(kind, pages, doc.size)}, ~{doc.tokens:,} tokens{via}"


def _documents(messages: list[Any]) -> Iterator[Block]:
    for message in messages:
        content = message["content"]
        if isinstance(content, list):
            yield from (block for block in content if block.get("type") == "document")


def check_request(messages: list[Any], counts: PageCounts) -> None:
    """Refuse, in one line, a request past the API's PDF page or size limit (documents the
    conversation sends again included; a large document is counted as the file id it becomes)."""
    pages = sum(counts.of(block) or 0 for block in _documents(messages))
    if pages > MAX_PDF_PAGES:
        raise ContextError(
            f"this request would hold {pages:,} PDF pages with the conversation's earlier documents; the API takes "
            f"at most {MAX_PDF_PAGES}: start a fresh conversation with -n, or send fewer pages."
        )
    size = sum(_raw_size(block["source"]) * 4 // 3 for block in _documents(messages) if not uploads_on_send(block))
    if size > MAX_REQUEST_BYTES:
        raise ContextError(
            f"this request would be about {size / 1024 / 1024:.0f} MB of documents; the API takes at most 32 MB: "
            "start a fresh conversation with -n, or send less."
        )


class Uploads:
    """Large documents sent once through the Files API (`client.files`), by content digest, while
    the client stays the same; later requests name them by file id."""

    def __init__(self) -> None:
        self._client: Any = None
        self._ids: dict[str, str] = {}

    def replaced(self, client: anthropic.Anthropic, content: list[Block], counts: PageCounts) -> list[Block]:
        """`content` with each large inline document named by the file id of its upload."""
        if client is not self._client:
            self._client, self._ids = client, {}
        return [self._by_file(client, block, counts) if uploads_on_send(block) else block for block in content]

    def _by_file(self, client: anthropic.Anthropic, block: Block, counts: PageCounts) -> Block:
        source = block["source"]
        pdf = source["type"] == "base64"
        data = base64.b64decode(source["data"]) if pdf else source["data"].encode("utf-8")
        key = _digest(data)
        if key not in self._ids:
            mime = "application/pdf" if pdf else "text/plain"
            upload = client.files.upload(file=(block.get("title") or "document", data, mime),
                                         expires_in_seconds=UPLOAD_LIFETIME)
            self._ids[key] = upload.id
        if pdf:
            counts.learn(self._ids[key], counts.of(block) or 0)
        return {**block, "source": {"type": "file", "file_id": self._ids[key]}}


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
