"""Small PDFs made on the spot with pypdf, for the document tests: nothing is downloaded."""

from __future__ import annotations

import io
import random
from pathlib import Path

import pypdf


def make_pdf(path: Path, pages: int = 3, *, password: str | None = None, padding: int = 0) -> Path:
    """A PDF of `pages` blank pages at `path`; encrypted with `password`; `padding` bytes bigger
    (an attached file), to make one large enough for the Files API."""
    writer = pypdf.PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=612, height=792)
    if padding:
        writer.add_attachment("padding.bin", random.Random(0).randbytes(padding))  # incompressible
    if password is not None:
        writer.encrypt(password)
    buffer = io.BytesIO()
    writer.write(buffer)
    path.write_bytes(buffer.getvalue())
    return path
