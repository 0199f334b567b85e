"""What a turn sends besides its prompt, said in one short line: each `{name}`, `-w`, figure and image.

`Sent` names one attachment with its kind, its size and about how many tokens it costs; `sent_line`
joins them into the line the live view and the saved output show, so a reader of the notebook knows
what Claude saw. Token counts are estimates: four characters a token, and the API's own rule for
images (width × height / 750).
"""

from __future__ import annotations

import base64
import struct
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

__all__ = ["Sent", "sent_line", "kind_of", "tokens_of", "image_size", "image_kind"]

_IMAGE_TOKEN_PIXELS = 750


@dataclass(frozen=True)
class Sent:
    label: str  # how the user named it: "{df}", "-w model", "-f", "-i chart.png"
    kind: str  # "DataFrame 1,000 × 5", "image 640 × 480 px"
    tokens: int


def sent_line(items: Iterable[Sent]) -> str:
    parts = [f"{item.label} ({item.kind}{f', ~{item.tokens:,} tokens' if item.tokens else ''})" for item in items]
    return "sent: " + " · ".join(parts) if parts else ""


def kind_of(obj: Any) -> str:
    """A few words on what `obj` is and how big: enough to recognise it, never its contents."""
    pandas, numpy = sys.modules.get("pandas"), sys.modules.get("numpy")
    if pandas is not None and isinstance(obj, pandas.DataFrame):
        return f"DataFrame {obj.shape[0]:,} × {obj.shape[1]:,}"
    if pandas is not None and isinstance(obj, pandas.Series):
        return f"Series of {len(obj):,}"
    if numpy is not None and isinstance(obj, numpy.ndarray):
        return f"array {' × '.join(f'{n:,}' for n in obj.shape)} {obj.dtype}"
    if isinstance(obj, str):
        return f"text, {len(obj):,} characters"
    if isinstance(obj, dict):
        return f"dict of {len(obj):,}"
    if isinstance(obj, (list, tuple, set, frozenset)):
        return f"{type(obj).__name__} of {len(obj):,}"
    return type(obj).__name__


def tokens_of(parts: Iterable[str | dict[str, Any]]) -> int:
    """About how many input tokens text pieces and content blocks cost."""
    total = 0
    for part in parts:
        if isinstance(part, str):
            total += len(part) // 4
        elif part.get("type") == "text":
            total += len(part["text"]) // 4
        elif part.get("type") == "image":
            width, height = image_size(part)
            total += max(1, width * height // _IMAGE_TOKEN_PIXELS)
    return max(total, 1)


def image_kind(block: dict[str, Any]) -> str:
    """`image 600 × 350 px`, or `image by URL` where the API fetches it and its size is not known here."""
    width, height = image_size(block)
    return f"image {width:,} × {height:,} px" if width else "image by URL"


def image_size(block: dict[str, Any]) -> tuple[int, int]:
    """Width and height of a base64 image block, read from its header; (0, 0) for a URL or unknown."""
    source = block.get("source", {})
    if source.get("type") != "base64":
        return 0, 0
    head = base64.b64decode(source["data"][:65_536])
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        width, height = struct.unpack(">II", head[16:24])
        return width, height
    return _jpeg_size(head)


def _jpeg_size(data: bytes) -> tuple[int, int]:
    at = 2
    while at + 9 < len(data) and data[at] == 0xFF:
        marker, length = data[at + 1], struct.unpack(">H", data[at + 2 : at + 4])[0]
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):  # a start-of-frame segment
            height, width = struct.unpack(">HH", data[at + 5 : at + 9])
            return width, height
        at += 2 + length
    return 0, 0
