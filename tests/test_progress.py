"""The progress bar of a map job in each frontend: paced, timed only while live, gone from the saved notebook."""

from __future__ import annotations

import io

import pytest
from streaming import FakeClock
from test_display import Published, comms, published  # noqa: F401 - the fixtures, shared with the display tests

from claude_magic.engines import Tally
from claude_magic.live import PLACEHOLDER
from claude_magic.progress import make_progress, progress_line
from claude_magic.widgets import WIDGET_MIMETYPE


def run(bar, clock: FakeClock, total: int = 10, step: float = 0.05) -> None:
    """`total` requests finishing one at a time, `step` seconds apart."""
    for done in range(1, total + 1):
        clock.now += step
        bar.update(Tally(total=total, submitted=total, succeeded=done))


def test_the_line_says_what_is_done_what_failed_and_what_is_left():
    tally = Tally(total=1000, submitted=1000, succeeded=640, errored=2)
    assert progress_line("batch", tally, 35.4) == (
        "batch · 1,000 requests: 1,000 submitted, 640 succeeded, 2 errored, 0 expired · 35 s, about 20 s left"
    )
    done = Tally(total=2, submitted=2, succeeded=1, canceled=1)
    assert progress_line("live", done, 3, "rate limited (429)").endswith("1 canceled · 3 s · rate limited (429)")


def test_without_widgets_one_html_display_is_updated_a_few_times_a_second_then_emptied(published: list[Published]):  # noqa: F811
    clock = FakeClock()
    bar = make_progress("markdown", "batch", clock)
    run(bar, clock)
    bar.close()
    first, *updates, last = published
    assert first.data == {"text/plain": PLACEHOLDER} and not first.update  # what the saved notebook keeps
    assert all(p.update and p.display_id == first.display_id for p in [*updates, last])
    assert len(updates) == 3  # 0.5 s of work drawn every 0.25 s, and the end at once
    assert '<progress max="10" value="10"' in updates[-1].data["text/html"]
    assert updates[-1].data["text/plain"].startswith("batch · 10 requests: 10 submitted, 10 succeeded")
    assert last.data == {"text/plain": PLACEHOLDER}


def test_with_widgets_a_bar_is_drawn_and_every_widget_closed_at_the_end(comms, published: list[Published]):  # noqa: F811
    clock = FakeClock()
    bar = make_progress("widget", "live", clock)
    run(bar, clock)
    bar.close()
    assert published[0].data["text/plain"] == PLACEHOLDER and WIDGET_MIMETYPE in published[0].data
    assert published[-1].data == {"text/plain": PLACEHOLDER} and published[-1].update
    values = [u["state"]["value"] for u in comms.updates("value") if isinstance(u["state"]["value"], int)]
    assert values and values[-1] == 10 and len(values) < 10
    assert comms.opened() and comms.opened() == comms.closed()


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_in_a_terminal_one_line_is_rewritten_and_cleared(monkeypatch: pytest.MonkeyPatch):
    terminal = Terminal()
    monkeypatch.setattr("sys.stdout", terminal)
    clock = FakeClock()
    bar = make_progress("text", "batch", clock)
    run(bar, clock)
    bar.close()
    drawn = terminal.getvalue().split("\r\x1b[K")
    assert drawn[0] == "" and drawn[-1] == ""  # each draw replaces the last; the end leaves the line clean
    assert drawn[-2].startswith("█" * 24 + " batch · 10 requests")
    assert "\n" not in terminal.getvalue()


def test_where_output_is_no_terminal_nothing_is_drawn(capsys: pytest.CaptureFixture[str]):
    clock = FakeClock()
    bar = make_progress("text", "batch", clock)
    run(bar, clock)
    bar.close()
    assert capsys.readouterr().out == ""
