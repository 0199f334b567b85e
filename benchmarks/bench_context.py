"""What context costs: DataFrame summaries by row count, and a large figure as an image block.

Run: `python benchmarks/bench_context.py`. Targets: a 10^7 x 10 frame summarised in under 1 s with a
token estimate within 10% of a 10^3-row frame's; a 3000 x 2000 px figure captured and encoded in under
300 ms at about 1,600 image tokens (width * height / 750).
"""

from __future__ import annotations

import base64
import io
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

# Runnable from a checkout without installing the package.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import matplotlib  # noqa: E402

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from PIL import Image  # noqa: E402

from claude_magic.context import describe  # noqa: E402
from claude_magic.images import FigureStash, image_block  # noqa: E402

REPEATS = 3


def best_time(action: Callable[[], Any]) -> tuple[float, Any]:
    """The fastest of a few runs (the others measure the machine's noise), and the result."""
    timings = []
    for _ in range(REPEATS):
        start = time.perf_counter()
        result = action()
        timings.append(time.perf_counter() - start)
    return min(timings), result


def frame(rows: int) -> pd.DataFrame:
    """Ten columns of the usual kinds: floats (one with gaps), integers and strings."""
    rng = np.random.default_rng(0)
    data: dict[str, Any] = {f"x{i}": rng.standard_normal(rows) for i in range(7)}
    data["x0"][::100] = np.nan
    data["count"] = rng.integers(0, 1_000, rows)
    data["id"] = np.arange(rows)
    data["side"] = np.where(rng.random(rows) > 0.5, "left", "right")
    return pd.DataFrame(data)


def bench_frames() -> None:
    print("DataFrame summary, 10 columns")
    print(f"{'rows':>12}  {'time':>9}  {'chars':>7}  {'tokens':>7}  {'vs 10^3':>8}")
    baseline = None
    for power in range(3, 8):
        df = frame(10**power)
        seconds, text = best_time(partial(describe, df))
        tokens = len(text) / 4
        baseline = baseline or tokens
        print(f"{10**power:>12,}  {seconds * 1000:>7.1f}ms  {len(text):>7,}  {tokens:>7,.0f}  {tokens / baseline:>8.3f}")
        del df
    print(f"target: 10^7 rows under 1 s, tokens within 10% of 10^3 rows' (ratio {tokens / baseline:.3f}): "
          f"{'met' if seconds < 1 and abs(tokens / baseline - 1) <= 0.1 else 'MISSED'}")


def big_figure() -> Any:
    figure = plt.figure(figsize=(30, 20), dpi=100)  # 3000 x 2000 px
    axes = figure.subplots(2, 2).ravel()
    rng = np.random.default_rng(0)
    axes[0].plot(np.cumsum(rng.standard_normal((2_000, 5)), axis=0))
    axes[1].scatter(*rng.standard_normal((2, 5_000)), s=4, alpha=0.5)
    axes[2].hist(rng.standard_normal(100_000), bins=100)
    axes[3].imshow(rng.random((200, 300)), cmap="viridis")
    return figure


def capture_and_encode() -> dict[str, Any]:
    """What `-f` costs after a cell that drew the figure: stash it, the backend closes it, encode it."""
    stash = FigureStash()
    stash.capture()
    plt.close("all")
    return image_block(stash.figures()[0])


def bench_figure() -> None:
    timings = []
    for _ in range(REPEATS):
        big_figure()  # drawn by "the user's cell", outside the timing
        start = time.perf_counter()
        block = capture_and_encode()
        timings.append(time.perf_counter() - start)
    seconds = min(timings)
    data = base64.b64decode(block["source"]["data"])
    width, height = Image.open(io.BytesIO(data)).size
    tokens = width * height / 750
    print("\nFigure 3000 x 2000 px: capture + encode")
    print(f"  {seconds * 1000:.0f} ms, {block['source']['media_type']} {width} x {height} px, "
          f"{len(data):,} bytes ({len(block['source']['data']):,} base64), ~{tokens:,.0f} tokens")
    print(f"target: under 300 ms, about 1,600 tokens: {'met' if seconds < 0.3 and tokens <= 1_600 else 'MISSED'}")


if __name__ == "__main__":
    bench_frames()
    bench_figure()
