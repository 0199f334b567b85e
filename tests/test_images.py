"""Figures and images -> bounded, deterministic image blocks; URLs; the figure stash."""

from __future__ import annotations

import base64
import io

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
from PIL import Image  # noqa: E402

from claude_magic import images  # noqa: E402
from claude_magic.errors import ContextError  # noqa: E402
from claude_magic.images import (  # noqa: E402
    MAX_BYTES,
    MAX_LONG_EDGE,
    MAX_PIXELS,
    image_block,
    is_image_like,
    open_figures,
    path_or_url_block,
    url_block,
)


@pytest.fixture(autouse=True)
def no_open_figures():
    plt.close("all")
    yield
    plt.close("all")


def decoded(block: dict) -> tuple[bytes, Image.Image]:
    assert block["type"] == "image" and block["source"]["type"] == "base64"
    data = base64.b64decode(block["source"]["data"])
    return data, Image.open(io.BytesIO(data))


def assert_bounded(image: Image.Image) -> None:
    assert max(image.size) <= MAX_LONG_EDGE
    assert image.width * image.height <= MAX_PIXELS


def encoded(image: Image.Image, fmt: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def photo(width: int, height: int) -> Image.Image:
    """Smooth colour gradients plus sensor-like noise: many colours, compresses badly as PNG."""
    rng = np.random.default_rng(1)
    y, x = np.mgrid[0:height, 0:width]
    base = np.stack([np.sin(x / 50) * 60 + 120, np.cos(y / 70) * 60 + 120, (x + y) / (width + height) * 255], -1)
    return Image.fromarray((base + rng.normal(0, 20, base.shape)).clip(0, 255).astype("uint8"))


def line_figure(width_in: float, height_in: float, dpi: float):
    figure = plt.figure(figsize=(width_in, height_in), dpi=dpi)
    figure.add_subplot().plot(np.sin(np.linspace(0, 10, 500)))
    return figure


# --- figures -------------------------------------------------------------------------------------


def test_large_figure_is_rendered_directly_at_a_bounded_size():
    figure = line_figure(30, 20, 100)  # 3000 x 2000 px
    data, image = decoded(image_block(figure))
    assert data.startswith(b"\x89PNG")
    assert_bounded(image)
    assert image.size == (1313, 875)  # the 1.15 MP bound binds before the long-edge one
    # Rendered at the reduced dpi rather than drawn big and shrunk.
    assert image.info["dpi"][0] == pytest.approx(100 * 1313 / 3000, abs=0.1)


def test_wide_figure_is_bounded_by_its_long_edge():
    _, image = decoded(image_block(line_figure(40, 5, 100)))
    assert image.size == (MAX_LONG_EDGE, 196)


def test_small_figure_keeps_its_own_size():
    _, image = decoded(image_block(line_figure(6.4, 4.8, 100)))
    assert image.size == (640, 480)


def test_retina_figure_is_bounded():
    _, image = decoded(image_block(line_figure(6.4, 4.8, 200)))  # 1280 x 960 = 1.23 MP
    assert_bounded(image)
    assert image.width > 1200


def test_figure_bytes_are_deterministic_and_carry_no_version():
    figure = line_figure(8, 6, 100)
    first = image_block(figure)
    assert image_block(figure) == first
    data, _ = decoded(first)
    assert b"Software" not in data and b"atplotlib" not in data


def test_a_tight_bbox_setting_does_not_change_the_size():
    figure = line_figure(6.4, 4.8, 100)
    with matplotlib.rc_context({"savefig.bbox": "tight"}):
        _, image = decoded(image_block(figure))
    assert image.size == (640, 480)


def test_axes_and_closed_figures_render():
    figure = line_figure(4, 3, 100)
    axes = figure.axes[0]
    plt.close(figure)
    assert image_block(axes) == image_block(figure)
    assert decoded(image_block(axes))[1].size == (400, 300)


# --- images, bytes and files ---------------------------------------------------------------------


def test_big_photo_becomes_a_bounded_jpeg_under_the_limit():
    block = image_block(photo(3000, 2000))
    data, image = decoded(block)
    assert block["source"]["media_type"] == "image/jpeg" and data.startswith(b"\xff\xd8")
    assert_bounded(image)
    assert image.size == (1313, 875)
    assert len(block["source"]["data"]) < MAX_BYTES


def test_jpeg_photo_stays_jpeg_and_is_oriented_by_exif():
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise on display
    source = encoded(photo(400, 200), "JPEG", quality=90, exif=exif)
    block = image_block(source)
    assert block["source"]["media_type"] == "image/jpeg"
    assert decoded(block)[1].size == (200, 400)


def test_graphics_stay_png_even_when_large():
    stripes = Image.new("RGB", (3000, 3000), "white")
    stripes.paste((30, 90, 200), (0, 0, 3000, 1000))
    data, image = decoded(image_block(stripes))
    assert data.startswith(b"\x89PNG")
    assert_bounded(image)


def test_transparency_is_kept_as_png():
    logo = Image.new("RGBA", (50, 50), (255, 0, 0, 0))
    logo.paste((255, 0, 0, 255), (10, 10, 40, 40))
    _, image = decoded(image_block(logo))
    assert image.mode == "RGBA"
    assert image.getpixel((0, 0))[3] == 0 and image.getpixel((20, 20)) == (255, 0, 0, 255)


def test_animated_gif_sends_its_first_frame():
    red, blue = Image.new("RGB", (30, 30), "red"), Image.new("RGB", (30, 30), "blue")
    buffer = io.BytesIO()
    red.save(buffer, "GIF", save_all=True, append_images=[blue], duration=100, loop=0)
    data, image = decoded(image_block(buffer.getvalue()))
    assert data.startswith(b"\x89PNG")
    assert image.convert("RGB").getpixel((15, 15)) == (255, 0, 0)


@pytest.mark.parametrize("fmt", ["TIFF", "WEBP"])
def test_other_formats_are_converted(fmt):
    source = encoded(Image.new("RGB", (64, 48), "green"), fmt, **({"lossless": True} if fmt == "WEBP" else {}))
    assert is_image_like(source)
    data, image = decoded(image_block(source))
    assert data.startswith(b"\x89PNG") and image.size == (64, 48)


def test_bmp_file_is_converted(tmp_path):
    path = tmp_path / "icon.bmp"
    Image.new("L", (16, 16), 128).save(path)
    assert is_image_like(path)
    data, image = decoded(image_block(path))
    assert data.startswith(b"\x89PNG") and image.getpixel((0, 0)) == 128


def test_same_input_gives_the_same_bytes():
    source = encoded(photo(300, 200), "PNG")
    assert image_block(source) == image_block(source)


def test_metadata_is_not_carried_over():
    info = Image.Exif()
    info[0x010F] = "SecretCam"  # camera make
    source = encoded(photo(200, 100), "JPEG", exif=info)
    data, _ = decoded(image_block(source))
    assert b"SecretCam" not in data


@pytest.mark.parametrize(
    "data",
    [
        b"\x89PNG\r\n\x1a\n" + b"\x00garbage" * 20,
        encoded(Image.new("RGB", (300, 300), "red"), "JPEG")[:200],
        b"GIF89a not really",
    ],
)
def test_corrupt_image_bytes_are_a_one_line_context_error(data):
    with pytest.raises(ContextError) as caught:
        image_block(data)
    message = str(caught.value)
    assert message.startswith("the data is not an image Pillow can read (")
    assert "\n" not in message


@pytest.mark.parametrize("svg", [b'<svg xmlns="http://www.w3.org/2000/svg"/>', b'<?xml version="1.0"?>\n<svg/>'])
def test_svg_bytes_are_refused_with_a_way_out(svg):
    assert is_image_like(svg)
    with pytest.raises(ContextError, match=r"^the data is SVG, .*rasterise it first, e\.g\. fig\.savefig"):
        image_block(svg)


def test_svg_file_is_refused(tmp_path):
    path = tmp_path / "chart.svg"
    path.write_text("<svg/>")
    with pytest.raises(ContextError, match=r"chart\.svg' is SVG, which the API does not take: rasterise"):
        path_or_url_block(str(path))


def test_missing_and_non_image_files_are_named(tmp_path):
    with pytest.raises(ContextError, match=r"^no such image file: '.*nope\.png'$"):
        path_or_url_block(str(tmp_path / "nope.png"))
    notes = tmp_path / "notes.txt"
    notes.write_text("not a picture")
    with pytest.raises(ContextError, match=r"^'.*notes\.txt' is not an image Pillow can read"):
        path_or_url_block(str(notes))
    with pytest.raises(ContextError, match=r"^cannot read '.*'"):
        path_or_url_block(str(tmp_path))


def test_image_file_is_read(tmp_path):
    path = tmp_path / "shot.png"
    Image.new("RGB", (2000, 500), "white").save(path)
    _, image = decoded(path_or_url_block(str(path)))
    assert image.size == (MAX_LONG_EDGE, 392)


def test_an_image_that_cannot_fit_is_refused(monkeypatch):
    monkeypatch.setattr(images, "MAX_BYTES", 1_000)
    with pytest.raises(ContextError, match=r"^the image is still [\d,]+ bytes as JPEG, over the API's 1,000\.$"):
        image_block(photo(300, 200))


def test_what_counts_as_image_like(tmp_path):
    figure = line_figure(2, 2, 50)
    assert is_image_like(figure) and is_image_like(figure.axes[0])
    assert is_image_like(Image.new("RGB", (1, 1)))
    assert is_image_like(encoded(Image.new("RGB", (1, 1)), "PNG"))
    assert is_image_like(bytearray(encoded(Image.new("RGB", (1, 1)), "JPEG")))
    assert is_image_like(tmp_path / "photo.JPG")
    assert not is_image_like("photo.png")  # a plain string is text
    assert not is_image_like(b"just bytes")
    assert not is_image_like(tmp_path / "data.csv")
    assert not is_image_like([figure])


def test_not_an_image_is_refused():
    with pytest.raises(ContextError, match=r"^a list is not an image"):
        image_block([1, 2])


# --- URLs ----------------------------------------------------------------------------------------


def test_http_urls_become_url_sources():
    url = "https://example.com/cat.png?size=large"
    expected = {"type": "image", "source": {"type": "url", "url": url}}
    assert url_block(url) == expected
    assert path_or_url_block(url) == expected


@pytest.mark.parametrize("url", ["ftp://example.com/cat.png", "file:///tmp/cat.png", "https:///cat.png", "cat.png"])
def test_other_urls_are_refused(url):
    with pytest.raises(ContextError, match=r"^only http\(s\) image URLs can be sent"):
        url_block(url)


def test_ftp_through_the_image_option_is_refused():
    with pytest.raises(ContextError, match="only http"):
        path_or_url_block("ftp://example.com/cat.png")


# --- open figures --------------------------------------------------------------------------------


def test_open_figures_are_the_latest_that_hold_something():
    figures = [line_figure(1, 1, 20) for _ in range(12)]
    plt.figure()  # empty, as plt.gcf() makes one in a later cell: nothing to show
    assert open_figures() == figures[-8:]
    plt.close("all")
    assert open_figures() == []


def test_odd_paths_and_empty_images_are_one_line():
    from PIL import Image

    from claude_magic.errors import ContextError
    from claude_magic.images import image_block, path_or_url_block

    with pytest.raises(ContextError, match="no such image file"):
        path_or_url_block("~no-such-user-here/x.png")
    with pytest.raises(ContextError, match="nothing to send"):
        image_block(Image.new("RGB", (0, 0)))


def test_a_figure_that_cannot_draw_or_an_image_that_cannot_encode_is_one_line(tmp_path):
    figure, axes = plt.subplots()
    axes.set_title(r"$\foo{$")  # mathtext fails only when the figure is drawn
    with pytest.raises(ContextError, match=r"^drawing the figure failed: ValueError: ") as error:
        image_block(figure)
    assert "\n" not in str(error.value)
    plt.close(figure)
    path = tmp_path / "photo.png"
    Image.new("RGB", (8, 8)).save(path)
    with open(path, "rb") as handle:
        lazy = Image.open(handle)  # read lazily, from a file closed below
    with pytest.raises(ContextError, match=r"^encoding the image failed: ValueError: "):
        image_block(lazy)
