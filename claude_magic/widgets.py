"""The live view in a notebook with widgets: status line, collapsed thinking, tool calls, the answer.

Each finished Markdown block becomes its own small Output widget, sent once; only the tail is
resent on a push, so the bytes sent grow with the answer, not with its square. ipywidgets is
imported when the first view is drawn.
"""

from __future__ import annotations

import html
import threading
from collections.abc import Callable
from typing import Any

from IPython.display import display

from .dollars import encode_dollars
from .errors import scrub
from .live import PLACEHOLDER, GrowingText, LiveView
from .tools import step_lines

__all__ = ["WidgetView", "WIDGET_MIMETYPE"]

WIDGET_MIMETYPE = "application/vnd.jupyter.widget-view+json"
# While nothing arrives the status line still counts the seconds, this often.
TICK_SECONDS = 1.0
# The widget view resends only a small tail, so it may push often.
WIDGET_MAX_WAIT = 0.5
# Finished blocks are grouped this many to a box: appending to one flat box resends its whole
# list of children each time, which grows with the square of the number of blocks.
BLOCKS_PER_GROUP = 8


class WidgetView(LiveView):
    """See the module docstring."""

    max_wait = WIDGET_MAX_WAIT

    def _show(self) -> None:
        self._widgets = _Widgets()
        self._status_widget = self._widgets.status_line(self._status_line())
        self._answer_pane = _Pane(self._widgets)
        self._thinking_pane: _Pane | None = None
        self._thinking_section: Any = None
        self._steps_widget: Any = None  # made at the first tool call: one line per call
        self._steps_shown: list[Any] = []  # the steps as the steps widget shows them
        # What was sent stands under the status line from the start, as in the saved output.
        self._head = [self._status_widget, *([self._widgets.status_line(self._sent)] if self._sent else [])]
        self._root = self._widgets.vbox([*self._head, self._answer_pane.box])
        view = {"model_id": self._root.model_id, "version_major": 2, "version_minor": 0}
        display({WIDGET_MIMETYPE: view, "text/plain": PLACEHOLDER}, raw=True, display_id=self._display_id)
        self._ticker = _Ticker(self._tick)

    def _tick(self) -> None:
        """Moves the seconds on while nothing arrives (before the first token, or while the SDK
        waits to retry), so a long wait never looks frozen."""
        if self._clock() - self._pushed >= TICK_SECONDS:
            self._status_widget.value = html.escape(self._status_line())

    def _render(self) -> None:
        self._status_widget.value = html.escape(self._status_line())
        # The steps change only when a call does; rebuilt on every push they would cost the whole
        # text Claude wrote before its calls, again and again.
        if self._steps != self._steps_shown:
            self._steps_shown = list(self._steps)
            self._steps_lines().value = "<br>".join(html.escape(scrub(line)) for line in step_lines(self._steps))
        if self._thought.changed:
            self._thinking().update(self._thought)
        if self._answer.changed:
            self._answer_pane.update(self._answer)

    def _resent(self, stream: GrowingText) -> int:
        return stream.tail_length

    def _thinking(self) -> _Pane:
        # Made on the first thinking delta, so a turn without thinking shows no empty section.
        if self._thinking_pane is None:
            self._thinking_pane = _Pane(self._widgets)
            self._thinking_section = self._widgets.accordion(self._thinking_pane.box, "Thinking")
            self._arrange()
        return self._thinking_pane

    def _steps_lines(self) -> Any:
        if self._steps_widget is None:
            self._steps_widget = self._widgets.status_line("")
            self._arrange()
        return self._steps_widget

    def _answer_restarted(self) -> None:
        self._answer_pane = _Pane(self._widgets)
        self._arrange()

    def _arrange(self) -> None:
        sections = (self._thinking_section, self._steps_widget)
        self._root.children = (*self._head, *(section for section in sections if section is not None), self._answer_pane.box)

    def _close(self) -> None:
        self._ticker.stop()  # before the widgets go: it may be about to update one
        self._widgets.close()


class _Ticker:
    """Calls `tick` every TICK_SECONDS from a daemon thread until stopped. Only widget state changes
    from there (comm messages find their widget by id from any thread); nothing is displayed."""

    def __init__(self, tick: Callable[[], None]) -> None:
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(tick,), name="claude-status", daemon=True)
        self._thread.start()

    def _run(self, tick: Callable[[], None]) -> None:
        while not self._stopped.wait(TICK_SECONDS):
            tick()

    def stop(self) -> None:
        self._stopped.set()
        self._thread.join()


class _Widgets:
    """Makes the view's widgets and closes every one of them, styles and the layout included."""

    def __init__(self) -> None:
        import ipywidgets

        self._lib = ipywidgets
        self._made: list[Any] = []
        # One Layout for all: each widget's own would cost a kilobyte of state to open.
        self._layout = self._keep(ipywidgets.Layout())

    def status_line(self, text: str) -> Any:
        # Styled once through the widget's style, so an update carries only the text.
        style = {"text_color": "var(--jp-ui-font-color2, #757575)", "font_size": "var(--jp-ui-font-size0, 0.85em)"}
        return self._keep(self._lib.HTML(html.escape(text), style=style, layout=self._layout))

    def vbox(self, children: list[Any]) -> Any:
        return self._keep(self._lib.VBox(children, layout=self._layout))

    def accordion(self, child: Any, title: str) -> Any:
        return self._keep(self._lib.Accordion([child], titles=(title,), selected_index=None, layout=self._layout))

    def output(self, markdown: str = "") -> Any:
        return self._keep(self._lib.Output(outputs=_markdown_outputs(markdown), layout=self._layout))

    def close(self) -> None:
        for widget in reversed(self._made):
            widget.close()
        self._made.clear()

    def _keep(self, widget: Any) -> Any:
        self._made.append(widget)
        style = getattr(widget, "style", None)
        if isinstance(style, self._lib.Widget):
            self._made.append(style)
        return widget


class _Pane:
    """One growing text in widgets: groups of block Outputs, each sent once, then the tail Output,
    the only one re-set on each push."""

    def __init__(self, widgets: _Widgets) -> None:
        self._widgets = widgets
        self._tail = widgets.output()
        self._group: Any = None
        self.box = widgets.vbox([self._tail])

    def update(self, stream: GrowingText) -> None:
        for block in stream.take():
            self._append(self._widgets.output(encode_dollars(block)))
        self._tail.outputs = _markdown_outputs(encode_dollars(stream.tail))

    def _append(self, block: Any) -> None:
        if self._group is not None and len(self._group.children) < BLOCKS_PER_GROUP:
            self._group.children += (block,)
            return
        self._group = self._widgets.vbox([block])
        self.box.children = (*self.box.children[:-1], self._group, self._tail)


def _markdown_outputs(markdown: str) -> tuple[dict[str, Any], ...]:
    # No text/plain twin: only a frontend with a widget manager shows these, and every one of them
    # renders Markdown; the twin would add a fifth to the bytes of a turn.
    if not markdown:
        return ()
    return ({"output_type": "display_data", "data": {"text/markdown": markdown}, "metadata": {}},)
