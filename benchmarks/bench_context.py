"""What context costs: DataFrame summaries by row count, and a large figure as an image block.

Run: `python benchmarks/bench_context.py` (also figure 5 of `benchmarks/bench.py`, which reuses the
functions here). Targets: a 10^7 x 10 frame summarised in under 1 s with a token estimate within 15% of
a 10^3-row frame's (what grows is the digits of row labels and counts, and the line saying unique
values were counted in a sample); a 3000 x 2000 px figure captured and encoded in under 300 ms at about 1,600 image
tokens (width * height / 750). The figure's baseline is matplotlib's own full-size PNG of it.
"""

from __future__ import annotations

import base64
import io
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
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

from claude_magic.images import image_block, open_figures  # noqa: E402
from claude_magic.summaries import describe  # noqa: E402

REPEATS = 3
ROW_POWERS = range(3, 8)
FRAME_SECONDS = 1.0  # target for the largest frame
# Target: tokens within this fraction of the smallest frame's. It was 10% until the column facts
# (unique counts, with a line saying a large frame's are sampled) took 10^7 rows to 1.12x.
FRAME_TOKEN_DRIFT = 0.15
FIGURE_SECONDS = 0.3
FIGURE_TOKENS = 1_600
FIGURE_PIXELS = (3000, 2000)


def best_time(action: Callable[[], Any], repeats: int = REPEATS) -> tuple[float, Any]:
    """The fastest of a few runs (the others measure the machine's noise), and the result."""
    timings = []
    for _ in range(repeats):
        start = time.perf_counter()
        result = action()
        timings.append(time.perf_counter() - start)
    return min(timings), result


def image_tokens(width: int, height: int) -> float:
    """The API's estimate of an image's input tokens."""
    return width * height / 750


# ---------------------------------------------------------------------------------------------
# DataFrame summaries


@dataclass(frozen=True)
class FrameResult:
    rows: int
    seconds: float
    chars: int

    @property
    def tokens(self) -> float:
        return self.chars / 4


def frame(rows: int) -> pd.DataFrame:
    """Ten columns of the usual kinds: floats (one with gaps), integers and strings."""
    rng = np.random.default_rng(0)
    data: dict[str, Any] = {f"x{i}": rng.standard_normal(rows) for i in range(7)}
    data["x0"][::100] = np.nan
    data["count"] = rng.integers(0, 1_000, rows)
    data["id"] = np.arange(rows)
    data["side"] = np.where(rng.random(rows) > 0.5, "left", "right")
    return pd.DataFrame(data)


def frame_summaries(repeats: int = REPEATS) -> list[FrameResult]:
    """`describe` of a 10-column frame at each power of ten of rows."""
    results = []
    for power in ROW_POWERS:
        df = frame(10**power)
        seconds, text = best_time(partial(describe, df), repeats)
        results.append(FrameResult(10**power, seconds, len(text)))
        del df
    return results


def token_drift(results: list[FrameResult]) -> float:
    """The largest frame's tokens over the smallest's."""
    return results[-1].tokens / results[0].tokens


def frames_met(results: list[FrameResult]) -> bool:
    return results[-1].seconds < FRAME_SECONDS and abs(token_drift(results) - 1) <= FRAME_TOKEN_DRIFT


def print_frames(results: list[FrameResult]) -> None:
    print("DataFrame summary, 10 columns")
    print(f"{'rows':>12}  {'time':>9}  {'chars':>7}  {'tokens':>7}  {'vs 10^3':>8}")
    for result in results:
        print(f"{result.rows:>12,}  {result.seconds * 1000:>7.1f}ms  {result.chars:>7,}  {result.tokens:>7,.0f}  "
              f"{result.tokens / results[0].tokens:>8.3f}")
    print(f"target: 10^7 rows under 1 s, tokens within {FRAME_TOKEN_DRIFT:.0%} of 10^3 rows' (ratio {token_drift(results):.3f}): "
          f"{'met' if frames_met(results) else 'MISSED'}")


# ---------------------------------------------------------------------------------------------
# A large figure


@dataclass(frozen=True)
class FigureResult:
    seconds: float
    media_type: str
    width: int
    height: int
    encoded_bytes: int
    base64_chars: int
    baseline_seconds: float  # matplotlib's own full-size PNG of the same figure
    baseline_bytes: int

    @property
    def tokens(self) -> float:
        return image_tokens(self.width, self.height)


def big_figure() -> Any:
    width, height = FIGURE_PIXELS
    figure = plt.figure(figsize=(width / 100, height / 100), dpi=100)
    axes = figure.subplots(2, 2).ravel()
    rng = np.random.default_rng(0)
    axes[0].plot(np.cumsum(rng.standard_normal((2_000, 5)), axis=0))
    axes[1].scatter(*rng.standard_normal((2, 5_000)), s=4, alpha=0.5)
    axes[2].hist(rng.standard_normal(100_000), bins=100)
    axes[3].imshow(rng.random((200, 300)), cmap="viridis")
    return figure


def capture_and_encode() -> dict[str, Any]:
    """What `-f` costs for a figure a cell left open (a non-inline backend): find it, render it bounded."""
    block = image_block(open_figures()[-1])
    plt.close("all")
    return block


def full_size_png() -> bytes:
    """The baseline: the figure as matplotlib saves it, at its own size."""
    buffer = io.BytesIO()
    plt.gcf().savefig(buffer, format="png")
    plt.close("all")
    return buffer.getvalue()


def timed_after_drawing(action: Callable[[], Any], repeats: int) -> tuple[float, Any]:
    """The fastest of `repeats` runs of `action`, each after a fresh figure drawn untimed."""
    timings, result = [], None
    for _ in range(repeats):
        big_figure()  # drawn by "the user's cell", outside the timing
        start = time.perf_counter()
        result = action()
        timings.append(time.perf_counter() - start)
    return min(timings), result


def figure_capture(repeats: int = REPEATS) -> FigureResult:
    seconds, block = timed_after_drawing(capture_and_encode, repeats)
    baseline_seconds, png = timed_after_drawing(full_size_png, repeats)
    data = base64.b64decode(block["source"]["data"])
    width, height = Image.open(io.BytesIO(data)).size
    return FigureResult(
        seconds, block["source"]["media_type"], width, height, len(data), len(block["source"]["data"]),
        baseline_seconds, len(png),
    )


def figure_met(result: FigureResult) -> bool:
    return result.seconds < FIGURE_SECONDS and result.tokens <= FIGURE_TOKENS


def print_figure(result: FigureResult) -> None:
    print(f"\nFigure {FIGURE_PIXELS[0]} x {FIGURE_PIXELS[1]} px: capture + encode")
    print(f"  {result.seconds * 1000:.0f} ms, {result.media_type} {result.width} x {result.height} px, "
          f"{result.encoded_bytes:,} bytes ({result.base64_chars:,} base64), ~{result.tokens:,.0f} tokens")
    print(f"  baseline, matplotlib's full-size PNG: {result.baseline_seconds * 1000:.0f} ms, "
          f"{result.baseline_bytes:,} bytes (the API would scale it down itself, after the upload)")
    print(f"target: under 300 ms, about 1,600 tokens: {'met' if figure_met(result) else 'MISSED'}")


if __name__ == "__main__":
    print_frames(frame_summaries())
    print_figure(figure_capture())
