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
