"""Figures and images -> bounded image content blocks.

This module owns everything pictorial that goes into a request: recognising an image-like object,
rendering a matplotlib figure, reading image bytes and files with Pillow, downscaling to the size the
API actually looks at (1568 px on the long edge, about 1.15 megapixels), choosing PNG or JPEG, and
keeping the result under the API's 5 MB limit; and finding the matplotlib figures still open.

matplotlib and Pillow are imported only when an image is actually made; recognising one goes through
`sys.modules`, so a user who never imported matplotlib never pays for it.
"""

from __future__ import annotations

import base64
import io
import math
import os
import sys
import urllib.parse
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import ContextError, guarded, one_line

__all__ = ["Thumbnail", "bytes_block", "image_block", "is_image_like", "open_figures", "path_or_url", "path_or_url_block",
           "read_file", "thumbnail", "url_block", "is_http_url"]

MAX_LONG_EDGE = 1568
MAX_PIXELS = 1_150_000
MAX_BYTES = 5 * 1024 * 1024
MAX_FIGURES = 8

JPEG_QUALITY = 85
# PNG above this many bytes per pixel is a photograph in all but name: JPEG serves it better.
PNG_BYTES_PER_PIXEL = 1.0

_SIGNATURES = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF87a", b"GIF89a", b"II*\x00", b"MM\x00*")
_IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".gif", ".webp", ".bmp", ".tif", ".tiff", ".svg"}
_RASTERISE_HINT = (
    "is SVG, which the API does not take: rasterise it first, "
    "e.g. fig.savefig(path, format='png') or cairosvg.svg2png(url=path, write_to='out.png')."
)


def is_image_like(obj: Any) -> bool:
    """Whether `obj` becomes an image block: a figure, axes, PIL image, image bytes or image path.

    Only `os.PathLike` objects count as paths: a plain string is text (a user writes "Translate {s}").
    """
    if _figure_of(obj) is not None or _is_pil_image(obj):
        return True
    if isinstance(obj, (bytes, bytearray, memoryview)):
        return _sniff(_head(obj))
    return isinstance(obj, os.PathLike) and Path(obj).suffix.lower() in _IMAGE_SUFFIXES


def image_block(obj: Any) -> dict[str, Any]:
    """A base64 image block for an image-like object, bounded in pixels and bytes."""
    figure = _figure_of(obj)
    # A user's figure or image may fail to draw or to encode in any way: one line, as for a repr.
    if figure is not None:
        return guarded(_figure_block, figure, "the figure", what="drawing")
    if _is_pil_image(obj):
        return guarded(_pil_block, obj, "the image", what="encoding")
    if isinstance(obj, (bytes, bytearray, memoryview)):
        return bytes_block(bytes(obj), "the data")
    if isinstance(obj, os.PathLike):
        return _path_block(Path(obj))
    raise ContextError(f"a {type(obj).__name__} is not an image (figure, axes, PIL image, image bytes or file).")


def url_block(url: str) -> dict[str, Any]:
    """An image block the API fetches itself; only http(s) URLs, which is all it fetches."""
    if not is_http_url(url):
        raise ContextError(f"only http(s) image URLs can be sent, not {url!r}: download it and attach the file.")
    return {"type": "image", "source": {"type": "url", "url": url}}


def is_http_url(url: str) -> bool:
    """Whether the API would fetch `url` itself: http or https, with a host."""
    parts = urllib.parse.urlsplit(url)
    return parts.scheme.lower() in ("http", "https") and bool(parts.netloc)


def path_or_url_block(spec: str) -> dict[str, Any]:
    """The block for `-i PATH_OR_URL`."""
    target = path_or_url(spec, "no such image file")
    return url_block(target) if isinstance(target, str) else _path_block(target)


def path_or_url(spec: str, missing: str) -> str | Path:
    """What `-i` or `-d` names: anything with a scheme is a URL (kept as a str), the rest a file path;
    `missing` starts the error for a `~user` that does not exist."""
    if "://" in spec:
        return spec
    try:
        return Path(spec).expanduser()
    except RuntimeError:
        raise ContextError(f"{missing}: '{spec}'") from None


def open_figures(limit: int = MAX_FIGURES) -> list[Any]:
    """The open matplotlib figures that hold something, oldest first, at most `limit`.

    Only a user who imported pyplot has figures; importing it here would cost them a second. An empty
    figure (the one `plt.gcf()` makes in a later cell) is nothing to show.
    """
    helpers = sys.modules.get("matplotlib._pylab_helpers")
    if "matplotlib.pyplot" not in sys.modules or helpers is None:
        return []
    # Gcf.get_fig_manager and plt.figure(num) would make a figure current; reading the list does not.
    managers = sorted(helpers.Gcf.get_all_fig_managers(), key=lambda manager: manager.num)
    figures = [manager.canvas.figure for manager in managers if len(manager.canvas.figure.get_children()) > 1]
    return figures[-limit:]


def _figure_of(obj: Any) -> Any | None:
    """The root Figure of a Figure, SubFigure or Axes; None for anything else."""
    figure_module = sys.modules.get("matplotlib.figure")
    # matplotlib.figure imports matplotlib.axes, so the second lookup cannot miss.
    if figure_module is None or not isinstance(obj, (figure_module.FigureBase, sys.modules["matplotlib.axes"].Axes)):
        return None
    while obj is not None and not isinstance(obj, figure_module.Figure):
        obj = obj.figure
    return obj


def _is_pil_image(obj: Any) -> bool:
    image_module = sys.modules.get("PIL.Image")
    return image_module is not None and isinstance(obj, image_module.Image)


def _head(data: bytes | bytearray | memoryview) -> bytes:
    return bytes(memoryview(data)[:4096])


def _sniff(head: bytes) -> bool:
    return head.startswith(_SIGNATURES) or (head[:4] == b"RIFF" and head[8:12] == b"WEBP") or _is_svg(head)


def _is_svg(head: bytes) -> bool:
    text = head.lstrip().lower()
    return text.startswith(b"<svg") or (text.startswith((b"<?xml", b"<!doctype svg")) and b"<svg" in text)


def _scale(width: float, height: float) -> float:
    """The factor (at most 1) that brings a picture within the long-edge and pixel-count bounds."""
    if width < 1 or height < 1:
        raise ContextError(f"the image is {width:g}×{height:g} pixels: there is nothing to send.")
    return min(1.0, MAX_LONG_EDGE / max(width, height), math.sqrt(MAX_PIXELS / (width * height)))


def _figure_block(figure: Any) -> dict[str, Any]:
    import matplotlib

    width, height = figure.get_size_inches()
    # figure.dpi already includes any device pixel ratio (retina), so this is the size the user saw,
    # and rendering straight at the bounded dpi avoids drawing big only to shrink it.
    dpi = figure.dpi * _scale(width * figure.dpi, height * figure.dpi)
    buffer = io.BytesIO()
    # A user's savefig.bbox = "tight" would change the size after we chose it; no Software tag keeps
    # the bytes the same across matplotlib versions, so recorded request bodies still match.
    with matplotlib.rc_context({"savefig.bbox": "standard"}):
        figure.savefig(buffer, format="png", dpi=dpi, metadata={"Software": None})
    png = buffer.getvalue()
    if _fits(png):
        return _block(png, "image/png")
    return bytes_block(png, "the figure")


def _path_block(path: Path) -> dict[str, Any]:
    if path.suffix.lower() == ".svg":
        raise ContextError(f"'{path}' {_RASTERISE_HINT}")
    return bytes_block(read_file(path, "no such image file"), f"'{path}'")


def read_file(path: Path, missing: str) -> bytes:
    """A file's bytes, or one line saying why not; `missing` starts the line for a file not there."""
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise ContextError(f"{missing}: '{path}'") from None
    except OSError as error:
        raise ContextError(f"cannot read '{path}': {error.strerror or error}") from None


def bytes_block(data: bytes, name: str) -> dict[str, Any]:
    """The bounded image block of encoded image bytes (`name` says whose, in errors)."""
    if _is_svg(_head(data)):
        raise ContextError(f"{name} {_RASTERISE_HINT}")
    Image = _pillow()

    try:
        image = Image.open(io.BytesIO(data))
        # JPEG can decode at 1/2, 1/4 or 1/8 scale: a 24 MP photo then loads in a fraction of the time.
        image.draft(image.mode, _target_size(*image.size))
        image.load()
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as error:
        raise ContextError(f"{name} is not an image Pillow can read ({one_line(str(error), 120)}).") from None
    return _pil_block(image)


def _pillow() -> Any:
    """PIL.Image, or a one-line error: reading image files needs Pillow, which the data extra brings."""
    try:
        from PIL import Image
    except ImportError:
        raise ContextError("attaching image files needs Pillow: pip install pillow (or claude-magic[data]).") from None
    return Image


def _pil_block(image: Any) -> dict[str, Any]:
    """Orient, downscale and re-encode; an animated image gives its current (on opening, first) frame."""
    from PIL import ImageOps

    source_format = image.format
    image = _downscale(_normalise_mode(ImageOps.exif_transpose(image)))
    # A JPEG source is a photograph: re-encoding it as PNG would only make it several times larger.
    png = None if source_format == "JPEG" else _save(image, "PNG")
    if png is not None and _png_serves(image, png):
        return _block(png, "image/png")
    jpeg = _save(_flatten(image), "JPEG", quality=JPEG_QUALITY, optimize=True)
    if not _fits(jpeg):
        raise ContextError(f"the image is still {len(jpeg):,} bytes as JPEG, over the API's {MAX_BYTES:,}.")
    return _block(jpeg, "image/jpeg")


def _normalise_mode(image: Any) -> Any:
    """RGB, RGBA or L: modes both encoders take and LANCZOS can resample (palettes cannot)."""
    if image.mode in ("RGB", "RGBA", "L"):
        return image
    has_alpha = "A" in image.mode or "a" in image.mode or "transparency" in image.info
    return image.convert("RGBA" if has_alpha else "RGB")


def _target_size(width: int, height: int) -> tuple[int, int]:
    scale = _scale(width, height)
    return max(1, int(width * scale)), max(1, int(height * scale))


def _downscale(image: Any) -> Any:
    from PIL import Image

    size = _target_size(*image.size)
    return image if size == image.size else image.resize(size, Image.Resampling.LANCZOS)


def _png_serves(image: Any, png: bytes) -> bool:
    """PNG for transparency, few colours (plots, screenshots) or whenever it is compact; else JPEG."""
    if not _fits(png):
        return False
    few_colours = image.getcolors(256) is not None
    return image.mode == "RGBA" or few_colours or len(png) <= PNG_BYTES_PER_PIXEL * image.width * image.height


def _flatten(image: Any) -> Any:
    """JPEG has no alpha: composite onto white, which is what a notebook page shows behind it."""
    from PIL import Image

    if image.mode != "RGBA":
        return image
    background = Image.new("RGB", image.size, "white")
    background.paste(image, mask=image.getchannel("A"))
    return background


def _save(image: Any, fmt: str, **options: Any) -> bytes:
    buffer = io.BytesIO()
    # Only the colour profile is carried over: other metadata (EXIF, text chunks) only costs bytes.
    image.save(buffer, fmt, icc_profile=image.info.get("icc_profile"), **options)
    return buffer.getvalue()


def _fits(data: bytes) -> bool:
    # The API's limit applies to the base64 text, which is 4/3 of the bytes.
    return 4 * math.ceil(len(data) / 3) <= MAX_BYTES


def _block(data: bytes, media_type: str) -> dict[str, Any]:
    encoded = base64.standard_b64encode(data).decode("ascii")
    return {"type": "image", "source": {"type": "base64", "media_type": media_type, "data": encoded}}


THUMBNAIL_EDGE = 160


@dataclass(frozen=True)
class Thumbnail:
    """A small PNG of an image block, for showing what would be sent."""

    png_base64: str
    width: int
    height: int
    sent_bytes: int


def thumbnail(block: dict[str, Any]) -> Thumbnail:
    """A thumbnail of a base64 image block, with the size of the image as it would be sent."""
    from PIL import Image

    data = base64.standard_b64decode(block["source"]["data"])
    with Image.open(io.BytesIO(data)) as image:
        width, height = image.size
        small = _normalise_mode(image.copy())
    small.thumbnail((THUMBNAIL_EDGE, THUMBNAIL_EDGE))
    png = base64.standard_b64encode(_save(small, "PNG")).decode("ascii")
    return Thumbnail(png, width, height, len(data))
