"""Helpers for driving a live view as a stream would, shared by the display tests and the benchmark."""

from __future__ import annotations


class FakeClock:
    """Time that moves only when the caller moves it, so a view's pacing is exact."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def deltas_of(text: str, count: int) -> list[str]:
    """`text` cut into `count` deltas of nearly equal length."""
    bounds = [len(text) * i // count for i in range(count + 1)]
    return [text[start:end] for start, end in zip(bounds, bounds[1:])]


def long_answer(paragraphs: int) -> str:
    """A multi-paragraph answer shaped like a real one: headings, prose, lists and code."""
    parts = []
    for i in range(paragraphs):
        if i % 6 == 0:
            parts.append(f"## Step {i // 6 + 1}")
        if i % 5 == 4:
            parts.append("```python\n" + "\n".join(f"total_{j} = frame[{j}].sum() * {i}" for j in range(15)) + "\n```")
        elif i % 5 == 2:
            parts.append("\n".join(f"- item {j}: the column `c{j}` holds **{j * i}** rows" for j in range(5)))
        else:
            parts.append(" ".join(f"word{j}" for j in range(60)) + ".")
    return "\n\n".join(parts) + "\n"
