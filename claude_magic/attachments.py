"""The blocks a turn attaches before its prompt: `-w` variables, `-f` figures, `-i` images, `-d`
documents, `-x` the error.

Each comes with a `sent.Sent` saying what it is, for the line under the cell. `-f` takes what the
most recent image-showing cell showed (`cells.CellLog`), from any library, or the figures a
non-inline backend left open; never an older cell's. `-x` takes the last cell that failed: its
source and its traceback, plain and bounded. Claude reads context best before the question, so
these all go first.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .cells import CellError, CellLog, CellRecord
from .context import Limits, object_blocks
from .documents import document
from .errors import ClaudeError, ContextError
from .images import bytes_block, image_block, path_or_url_block
from .sent import Sent, image_kind, image_size, tokens_of

__all__ = ["attachments", "error_block", "shown_blocks", "NO_ERROR"]

Block = dict[str, Any]

NO_ERROR = "no cell has failed in this kernel yet, so there is no error to attach; nothing was sent."
NO_FIGURE = (
    "-f: no cell has shown an image yet (a plot, an IPython Image, a PIL image) and no figure is open. "
    "Show one first, or attach a file with -i."
)


def attachments(
    namespace: Mapping[str, Any], limits: Limits, cells: CellLog, *, names: tuple[str, ...] = (),
    figures: bool = False, images: tuple[str, ...] = (), docs: tuple[str, ...] = (), error: bool = False,
) -> tuple[list[Block], list[Sent]]:
    """The blocks for `-w names`, `-f`, `-i images`, `-d docs` and `-x`, in that order, and what each is."""
    blocks: list[Block] = []
    sent: list[Sent] = []
    for name in names:
        if name not in namespace:
            raise ClaudeError(f"-w {name}: there is no variable named {name!r} here.")
        parts, what = object_blocks(name, namespace[name], limits)
        blocks += _separated(parts)
        sent.append(what)
    if figures:
        shown = cells.last_shown()
        if shown is None:
            raise ClaudeError(NO_FIGURE)
        images_shown = shown_blocks(shown[0])
        blocks += images_shown
        sent += [_image_sent("-f", block, f", shown {_cells_back(shown[1])}") for block in images_shown]
    for spec in images:
        block = path_or_url_block(spec)
        blocks.append(block)
        sent.append(_image_sent(f"-i {spec}", block, ""))
    for spec in docs:
        try:
            doc = document(spec)
        except ContextError as why:
            raise ContextError(f"-d {spec}: {why}") from None
        blocks.append(doc.block)
        sent.append(doc.sent(f"-d {spec}"))
    if error:
        if cells.last_error is None:
            raise ClaudeError(f"-x: {NO_ERROR}")
        block = error_block(cells.last_error)
        blocks += _separated([block])
        sent.append(Sent("-x", cells.last_error.summary, tokens_of([block])))
    return blocks, sent


def _separated(blocks: list[Block]) -> list[Block]:
    """An attachment's blocks with a blank line after its text, which the text that follows (the next
    attachment, or the prompt) is merged onto."""
    if blocks and blocks[-1]["type"] == "text":
        return [*blocks[:-1], {**blocks[-1], "text": blocks[-1]["text"] + "\n\n"}]
    return blocks


def error_block(error: CellError) -> Block:
    """The failing cell and its traceback, as one text block Claude can tell apart from the question."""
    text = f"<error>\nThe cell's source:\n{error.source.rstrip()}\n\nWhat it raised:\n{error.traceback}\n</error>"
    return {"type": "text", "text": text}


def shown_blocks(record: CellRecord) -> list[Block]:
    """The images a cell showed (or, with a non-inline backend, the figures it drew) as image blocks."""
    if record.images:
        return [bytes_block(image.data, "the image a cell showed") for image in record.images]
    return [image_block(figure) for figure in record.figures]


def _image_sent(label: str, block: Block, where: str) -> Sent:
    if not image_size(block)[0]:
        return Sent(label, image_kind(block), 0)  # the API fetches it: its size is not known here
    return Sent(label, image_kind(block) + where, tokens_of([block]))


def _cells_back(back: int) -> str:
    # Relative, not In[N]: execution counts differ between runners, and a saved output must not.
    return "1 cell back" if back == 1 else f"{back} cells back"
