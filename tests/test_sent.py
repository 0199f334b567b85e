"""The line that says what a turn attached: kinds, sizes and token estimates."""

from __future__ import annotations

import base64
import io

import numpy as np
import pandas as pd
from PIL import Image

from claude_magic.images import image_block
from claude_magic.sent import Sent, image_size, kind_of, sent_line, tokens_of


def test_kinds_name_what_an_object_is_and_how_big():
    assert kind_of(pd.DataFrame({"a": range(1000), "b": 1})) == "DataFrame 1,000 × 2"
    assert kind_of(pd.Series(range(5))) == "Series of 5"
    assert kind_of(np.zeros((3, 4))) == "array 3 × 4 float64"
    assert kind_of("hello") == "text, 5 characters"
    assert kind_of({"a": 1}) == "dict of 1" and kind_of([1, 2]) == "list of 2"
    assert kind_of(3.5) == "float"


def test_image_sizes_come_from_the_header_and_tokens_follow_the_apis_rule():
    for fmt, mode in (("PNG", "RGBA"), ("JPEG", "RGB")):
        buffer = io.BytesIO()
        Image.new(mode, (600, 500), "white").save(buffer, fmt)
        block = {"type": "image", "source": {"type": "base64", "media_type": "x", "data": base64.b64encode(buffer.getvalue()).decode()}}
        assert image_size(block) == (600, 500)
        assert tokens_of([block]) == 400  # 600 × 500 / 750
    assert image_size({"type": "image", "source": {"type": "url", "url": "https://x.test/a.png"}}) == (0, 0)
    width, height = image_size(image_block(Image.new("RGB", (3000, 100))))
    assert 1560 <= width <= 1568 and height == 52  # as the image was sent: downscaled


def test_the_line_lists_every_item_and_leaves_out_unknown_token_counts():
    assert sent_line([]) == ""
    assert sent_line([Sent("{df}", "DataFrame 3 × 2", 40), Sent("-i https://x.test/a.png", "image by URL", 0)]) == (
        "sent: {df} (DataFrame 3 × 2, ~40 tokens) · -i https://x.test/a.png (image by URL)"
    )
