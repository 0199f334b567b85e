"""Tests of claude_magic.display: the chunker, the static output, the three live views, and a
notebook executed by nbclient and checked by nbval (no browser)."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import comm
import nbformat
import pytest
from comm.base_comm import BaseComm
from IPython.core.displaypub import DisplayPublisher
from IPython.core.interactiveshell import InteractiveShell
from streaming import FakeClock, deltas_of, long_answer

from claude_magic import display as d
from claude_magic import widgets
from claude_magic.display import make_view
from claude_magic.live import PLACEHOLDER
from claude_magic.output import Final, to_markdown, to_plain
from claude_magic.widgets import WIDGET_MIMETYPE

REPO = Path(__file__).resolve().parents[1]
MODEL = "claude-opus-4-6"
FOOTER = "claude-opus-4-6 · 1,204 in · 312 out · cache 0 read / 0 written · $0.0138 · chat $0.0291"


# ---------------------------------------------------------------------------------------------
# Helpers: a clock the test moves, the comm messages widgets send, the displays published


@dataclass
class CommLog:
    messages: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)

    def of(self, kind: str) -> list[dict[str, Any]]:
        return [data for msg_type, _, data in self.messages if msg_type == kind]

    def updates(self, key: str | None = None) -> list[dict[str, Any]]:
        return [data for data in self.of("comm_msg") if key is None or key in data["state"]]

    def opened(self) -> set[str]:
        return {comm_id for msg_type, comm_id, _ in self.messages if msg_type == "comm_open"}

    def closed(self) -> set[str]:
        return {comm_id for msg_type, comm_id, _ in self.messages if msg_type == "comm_close"}

    def bytes_sent(self) -> int:
        # Measured as jupyter_client packs a message: UTF-8 JSON.
        return sum(len(json.dumps(data, ensure_ascii=False).encode()) for _, _, data in self.messages if data)


@pytest.fixture
def comms(monkeypatch: pytest.MonkeyPatch) -> CommLog:
    """Every comm message the widgets send, as a frontend would receive them."""
    log = CommLog()

    class RecordingComm(BaseComm):
        def publish_msg(self, msg_type: str, data: Any = None, *args: Any, **kwargs: Any) -> None:
            # Through JSON, as on the wire.
            log.messages.append((msg_type, self.comm_id, json.loads(json.dumps(data or {}))))

    monkeypatch.setattr(comm, "create_comm", lambda *args, **kwargs: RecordingComm(*args, **kwargs))
    return log


@dataclass
class Published:
    data: dict[str, Any]
    display_id: str | None
    update: bool


class RecordingPublisher(DisplayPublisher):
    def __init__(self) -> None:
        super().__init__()
        self.published: list[Published] = []

    def publish(self, data: Any, *args: Any, transient: Any = None, update: bool = False, **kwargs: Any) -> None:
        self.published.append(Published(data, (transient or {}).get("display_id"), update))


@pytest.fixture
def published(monkeypatch: pytest.MonkeyPatch) -> list[Published]:
    publisher = RecordingPublisher()
    monkeypatch.setattr(InteractiveShell.instance(), "display_pub", publisher)
    return publisher.published


def stream(view: Any, clock: FakeClock, deltas: list[str], step: float, *, kind: str = "text") -> None:
    feed = getattr(view, kind)
    for delta in deltas:
        clock.now += step
        feed(delta)


# ---------------------------------------------------------------------------------------------
# WidgetView


def test_widget_view_pushes_at_most_twenty_times_a_second_not_per_delta(
    comms: CommLog, published: list[Published]
) -> None:
    clock = FakeClock()
    view = make_view("widget", clock=clock)
    view.start(MODEL)
    text = long_answer(24)
    deltas = deltas_of(text, 2000)
    stream(view, clock, deltas, step=0.01)
    elapsed = 0.01 * len(deltas)

    tail_updates = len(comms.updates("outputs"))
    all_updates = len(comms.updates())
    print(f"\n{len(deltas)} deltas over {elapsed:.1f} s: {tail_updates} tail updates, {all_updates} updates in all")
    assert elapsed / widgets.WIDGET_MAX_WAIT <= tail_updates <= elapsed * 20 + 1
    assert all_updates < elapsed * 20 * 1.5
    view.finish(Final(text))


def widget_bytes(comms: CommLog, text: str, step: float) -> int:
    """Bytes of widget state a frontend receives for `text` streamed in 2,000 deltas `step` apart."""
    comms.messages.clear()
    clock = FakeClock()
    view = make_view("widget", clock=clock)
    view.start(MODEL)
    stream(view, clock, deltas_of(text, 2000), step)
    view.finish(Final(text))
    return comms.bytes_sent()


@pytest.mark.parametrize(
    "step, multiple",
    # Fast streams are bounded by the push rule; a slow one by the longest wait between pushes.
    [(0.002, 6), (0.01, 7), (0.05, 10)],
    ids=["replay speed", "API speed", "slow"],
)
def test_widget_view_sends_bytes_in_proportion_to_the_answer(
    comms: CommLog, published: list[Published], step: float, multiple: int
) -> None:
    text, long_text = long_answer(40), long_answer(80)
    sent = widget_bytes(comms, text, step)
    print(f"\n{len(text):,} chars in 2,000 deltas, {step * 1000:.0f} ms apart: {sent:,} bytes ({sent / len(text):.1f}x)")
    assert sent < multiple * len(text)
    # Doubling the answer doubles the bytes: never its square.
    long_sent = widget_bytes(comms, long_text, step * 2)  # same delta count, twice the time
    assert (long_sent / len(long_text)) / (sent / len(text)) < 1.15


def test_widget_view_ends_in_a_static_markdown_output_and_closes_its_widgets(
    comms: CommLog, published: list[Published]
) -> None:
    clock = FakeClock()
    view = make_view("widget", clock=clock)
    view.start(MODEL)
    stream(view, clock, ["Let me ", "think."], 0.1, kind="thinking")
    stream(view, clock, ["Hello ", "**world**.\n\n", "More."], 0.1)
    final = Final("Hello **world**.\n\nMore.", "Let me think.", FOOTER)
    view.finish(final)

    live, answer, restore = published
    root_id = live.data[WIDGET_MIMETYPE]["model_id"]
    assert live.data == {
        WIDGET_MIMETYPE: {"model_id": root_id, "version_major": 2, "version_minor": 0},
        "text/plain": PLACEHOLDER,
    }
    assert live.display_id and not live.update
    assert answer == Published({"text/markdown": to_markdown(final), "text/plain": to_plain(final)}, None, False)
    assert restore == Published({"text/plain": PLACEHOLDER}, live.display_id, True)
    assert root_id in comms.opened()
    assert comms.opened() == comms.closed()


def test_widget_view_fail_leaves_the_partial_answer_marked_incomplete(comms: CommLog, published: list[Published]) -> None:
    """Only marked: the one-line error that follows says why, once."""
    view = make_view("widget", clock=FakeClock())
    view.start(MODEL, "sent: {df} (DataFrame 3 × 2, ~40 tokens)")
    view.text("Half an ans")
    view.fail(f"{MODEL} · incomplete")
    assert [p.data for p in published[1:]] == [
        {
            "text/markdown": "<sub>sent: {df} (DataFrame 3 × 2, \\~40 tokens)</sub>\n\nHalf an ans\n\n"
            "<sub>claude-opus-4-6 · incomplete</sub>",
            "text/plain": "sent: {df} (DataFrame 3 × 2, ~40 tokens)\n\nHalf an ans\n\nclaude-opus-4-6 · incomplete",
        },
        {"text/plain": PLACEHOLDER},
    ]
    assert comms.opened() == comms.closed()


def test_widget_view_renders_markdown_while_it_streams(comms: CommLog, published: list[Published]) -> None:
    clock = FakeClock()
    view = make_view("widget", clock=clock)
    view.start(MODEL)
    intro = "Intro paragraph that is long enough to be a block of its own. " * 4
    stream(view, clock, [intro + "\n\n", "```python\nx = 1\n"], widgets.WIDGET_MAX_WAIT)

    tail = comms.updates("outputs")[-1]["state"]["outputs"]
    assert tail == [{"output_type": "display_data", "data": {"text/markdown": "```python\nx = 1\n```"}, "metadata": {}}]
    block = next(data for data in comms.of("comm_open") if data["state"].get("outputs"))
    assert block["state"]["outputs"][0]["data"]["text/markdown"].startswith("Intro paragraph")
    view.finish(Final("done"))


def test_widget_view_shows_thinking_in_a_collapsed_accordion_only_when_there_is_some(
    comms: CommLog, published: list[Published]
) -> None:
    def accordions() -> list[dict[str, Any]]:
        return [data["state"] for data in comms.of("comm_open") if data["state"]["_model_name"] == "AccordionModel"]

    clock = FakeClock()
    view = make_view("widget", clock=clock)
    view.start(MODEL)
    stream(view, clock, ["No thinking here."], 0.1)
    assert accordions() == []
    stream(view, clock, ["A thought."], 0.1, kind="thinking")
    (accordion,) = accordions()
    assert accordion["titles"] == ["Thinking"] and accordion["selected_index"] is None
    view.finish(Final("done"))


def test_status_notices_show_at_once_in_the_status_line(comms: CommLog, published: list[Published]) -> None:
    clock = FakeClock()
    view = make_view("widget", clock=clock)
    view.start(MODEL)
    clock.now += 3.2
    view.status("rate limited, retrying in 4 s")
    status = comms.updates("value")[-1]["state"]["value"]
    assert f"{MODEL} · rate limited, retrying in 4 s · 3 s" in status
    clock.now += 4
    view.text("Hi")
    assert f"{MODEL} · streaming… · 7 s" in comms.updates("value")[-1]["state"]["value"]
    view.finish(Final("Hi"))


# ---------------------------------------------------------------------------------------------
# MarkdownView and TextView


def test_markdown_view_updates_one_display_and_ends_with_a_new_one(published: list[Published]) -> None:
    clock = FakeClock()
    view = make_view("markdown", clock=clock)
    view.start(MODEL)
    text = long_answer(30)
    deltas = deltas_of(text, 2000)
    stream(view, clock, deltas, step=0.01)
    final = Final(text, footer=FOOTER)
    view.finish(final)

    first, *updates, answer, restore = published
    assert first == Published({"text/plain": PLACEHOLDER}, first.display_id, False)
    assert first.display_id and all(p.display_id == first.display_id and p.update for p in updates)
    assert all(p.data["text/plain"] == PLACEHOLDER for p in updates)
    assert updates[-1].data["text/markdown"].startswith(text[:200])
    assert answer == Published({"text/markdown": to_markdown(final), "text/plain": to_plain(final)}, None, False)
    assert restore == Published({"text/plain": PLACEHOLDER}, first.display_id, True)

    # Each push resends the whole text, so pushes thin out as it grows: the bytes stay linear.
    resent = sum(len(p.data["text/markdown"]) for p in updates)
    print(f"\nmarkdown view: {len(updates)} pushes in {0.01 * len(deltas):.1f} s, {resent / len(text):.1f}x the answer")
    assert len(updates) <= 0.01 * len(deltas) * 20 + 1
    assert resent < 12 * len(text)


def test_text_view_prints_thinking_then_answer_then_note_and_footer(capsys: pytest.CaptureFixture[str]) -> None:
    view = make_view("text")
    view.start(MODEL)
    view.thinking("Hmm, ")
    view.thinking("totals.")
    view.text("Use ")
    view.text("groupby.")
    view.finish(Final("Use groupby.", "Hmm, totals.", FOOTER, "Stopped at the limit."))
    assert capsys.readouterr().out == f"[thinking]\nHmm, totals.\n\nUse groupby.\nStopped at the limit.\n{FOOTER}\n"


def test_text_view_prints_status_notices_on_their_own_line(capsys: pytest.CaptureFixture[str]) -> None:
    view = make_view("text")
    view.start(MODEL)
    view.text("Par")
    view.status("connection dropped, retrying")
    view.fail(f"{MODEL} · incomplete")
    assert capsys.readouterr().out == f"Par\n[connection dropped, retrying]\n{MODEL} · incomplete\n"


# ---------------------------------------------------------------------------------------------
# Choosing a view


def test_auto_is_text_outside_a_kernel_and_widget_inside() -> None:
    from ipykernel.zmqshell import ZMQInteractiveShell

    assert d.resolve_mode("auto", None) == "text"
    assert d.resolve_mode("auto", InteractiveShell.instance()) == "text"
    assert d.resolve_mode("auto", ZMQInteractiveShell.__new__(ZMQInteractiveShell)) == "widget"
    assert d.resolve_mode("markdown", None) == "markdown"
    with pytest.raises(ValueError, match="display mode"):
        d.resolve_mode("html", None)


def test_importing_the_module_does_not_import_ipywidgets() -> None:
    code = "import sys, claude_magic.display; assert 'ipywidgets' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], cwd=REPO, check=True)


# ---------------------------------------------------------------------------------------------
# End to end: a notebook executed headless keeps no widget and passes nbval

CELL = """\
from claude_magic.display import make_view
from claude_magic.output import Final
view = make_view("widget")
view.start("claude-opus-4-6")
view.thinking("The user wants a sum.")
for delta in ["Use ", "**sum**", ":\\n\\n", "```python\\n", "total = df.x.sum()\\n", "```\\n"]:
    view.text(delta)
view.finish(Final(
    "Use **sum**:\\n\\n```python\\ntotal = df.x.sum()\\n```\\n",
    "The user wants a sum.",
    "claude-opus-4-6 · 10 in · 20 out · cache 0 read / 0 written · $0.0005 · chat $0.0005",
))
"""


def execute(path: Path) -> nbformat.NotebookNode:
    from nbclient import NotebookClient

    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(
        notebook, kernel_name="python3", timeout=120, store_widget_state=False, record_timing=False,
        resources={"metadata": {"path": str(path.parent)}},
    )
    client.execute()
    nbformat.write(notebook, path)
    return notebook


def test_an_executed_notebook_holds_only_the_placeholder_and_the_markdown_and_passes_nbval(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PYTHONPATH", str(REPO))
    path = tmp_path / "turn.ipynb"
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(CELL)])
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(notebook, path)

    outputs = execute(path).cells[0].outputs
    saved = path.read_text()
    assert WIDGET_MIMETYPE not in saved and "model_id" not in saved
    assert [(o.output_type, dict(o.data)) for o in outputs] == [
        ("display_data", {"text/plain": PLACEHOLDER}),
        ("display_data", {
            "text/markdown": "<details><summary>Thinking</summary>\n\nThe user wants a sum.\n\n</details>\n\n"
            "Use **sum**:\n\n```python\ntotal = df.x.sum()\n```\n\n"
            "<sub>claude-opus-4-6 · 10 in · 20 out · cache 0 read / 0 written · <span>&#36;</span>0.0005 · "
            "chat <span>&#36;</span>0.0005</sub>",
            "text/plain": "Use **sum**:\n\n```python\ntotal = df.x.sum()\n```\n\n"
            "claude-opus-4-6 · 10 in · 20 out · cache 0 read / 0 written · $0.0005 · chat $0.0005",
        }),
    ]
    assert execute(tmp_path / "turn.ipynb").cells[0].outputs == outputs  # a re-run stores the same

    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "--nbval", "-p", "no:cacheprovider", "-q", path.name],
        cwd=tmp_path, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed" in result.stdout


@pytest.mark.parametrize("shape", ["table", "tight list"])
def test_answers_without_blank_lines_still_cost_bytes_in_proportion(comms: CommLog, published: list[Published], shape: str) -> None:
    if shape == "table":
        text = "| n | square | cube |\n|---|---|---|\n" + "".join(f"| {i} | {i * i} | {i ** 3} |\n" for i in range(300))
    else:
        text = "".join(f"- point {i}: the value {i * 7} is what we measured\n" for i in range(200))
    sent = widget_bytes(comms, text, 0.03)  # 60 s: a realistic speed, where pushes are due by time
    print(f"\n{shape}: {len(text):,} chars, {sent:,} bytes ({sent / len(text):.1f}x)")
    assert sent < 12 * len(text)


def test_the_status_line_counts_seconds_while_nothing_arrives(comms: CommLog, published: list[Published]) -> None:
    clock = FakeClock()
    view = make_view("widget", clock=clock)
    view.start(MODEL)
    clock.now += 3
    view._tick()  # what the ticker thread does each second
    assert f"{MODEL} · waiting… · 3 s" in comms.updates("value")[-1]["state"]["value"]
    view.text("Hello")
    updates = len(comms.updates("value"))
    view._tick()  # a push just happened: nothing to move
    assert len(comms.updates("value")) == updates
    thread = view._ticker._thread
    view.finish(Final("Hello"))
    assert not thread.is_alive()


def test_widget_mode_without_ipywidgets_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    from claude_magic.errors import ClaudeError

    monkeypatch.setattr(d.importlib.util, "find_spec", lambda name: None)
    monkeypatch.delitem(sys.modules, "ipywidgets", raising=False)
    with pytest.raises(ClaudeError, match="needs ipywidgets"):
        d.resolve_mode("widget", None)
    assert d.resolve_mode("auto", None) == "text"


def test_an_answer_with_no_line_break_costs_bytes_in_proportion_and_each_push_stays_small(
    comms: CommLog, published: list[Published]
) -> None:
    words = "the median of `amount` resists outliers while the **mean** does not, as a [chart](https://x.io) shows".split()
    text = " ".join(words * 12_000)[:200_000]
    sent = widget_bytes(comms, text, 0.05)  # 100 s: a slow stream, where every push is due by time
    largest = max(len(json.dumps(update)) for update in comms.updates("outputs"))
    print(f"\none line: {len(text):,} chars, {sent:,} bytes ({sent / len(text):.1f}x), largest push {largest:,} bytes")
    assert sent < 12 * len(text)
    assert largest < 3_000  # the tail resent on a push is a short piece of the line, never the line
# ---------------------------------------------------------------------------------------------
# Tool calls in the live views


def tool_turn(view: Any, clock: FakeClock) -> tuple[Any, Any]:
    """A turn that writes, calls a tool (running, then done), and answers."""
    from claude_magic.tools import Outcome, ToolCall

    view.start(MODEL)
    stream(view, clock, ["Let me ", "look at df."], 0.1)
    call = ToolCall("toolu_1", "describe_variable", {"name": "df"})
    view.tool(call)
    done = call.finished(Outcome(({"type": "text", "text": "a frame"},), "DataFrame 3 × 2"))
    clock.now += 0.1
    view.tool(done)
    stream(view, clock, ["It has ", "two columns."], 0.1)
    return call, done


def test_widget_view_shows_a_line_per_call_and_starts_the_answer_afresh(comms: CommLog, published: list[Published]) -> None:
    clock = FakeClock()
    view = make_view("widget", clock=clock)
    call, done = tool_turn(view, clock)
    values = [u["state"]["value"] for u in comms.updates("value")]
    lines = [value for value in values if "describe_variable" in value and not value.startswith(MODEL)]
    assert lines[0] == "Let me look at df.<br>→ describe_variable(name=&#x27;df&#x27;) · running…"
    assert lines[-1] == "Let me look at df.<br>→ describe_variable(name=&#x27;df&#x27;) · done · DataFrame 3 × 2"
    status = [u["state"]["value"] for u in comms.updates("value") if u["state"]["value"].startswith(MODEL)]
    assert any("running describe_variable…" in line for line in status)
    tails = [u["state"]["outputs"] for u in comms.updates("outputs")]
    assert tails[-1][0]["data"]["text/markdown"].startswith("It has")  # the words before the call moved out
    final = Final("It has two columns.", steps=["Let me look at df.", done])
    view.finish(final)
    assert published[-2].data == {"text/markdown": to_markdown(final), "text/plain": to_plain(final)}
    assert comms.opened() == comms.closed()


def test_markdown_view_lists_the_calls_live_and_collapses_them_at_the_end(published: list[Published]) -> None:
    clock = FakeClock()
    view = make_view("markdown", clock=clock)
    call, done = tool_turn(view, clock)
    live = [p.data["text/markdown"] for p in published if p.update and "text/markdown" in p.data]
    assert any("→ describe_variable(name='df') · running…" in markdown for markdown in live)
    assert "Let me look at df.  \n→ describe_variable(name='df') · done · DataFrame 3 × 2\n\nIt has" in live[-1]
    view.fail(f"{MODEL} · incomplete")
    saved = published[-2].data["text/markdown"]
    assert saved.startswith("<details><summary>Tool calls: 1</summary>\n\nLet me look at df.\n\n**`describe_variable(name='df')`**")
    assert saved.endswith("</details>\n\nIt has two columns.\n\n<sub>claude-opus-4-6 · incomplete</sub>")


def test_the_terminal_prints_each_call_once_it_is_done(capsys: pytest.CaptureFixture[str]) -> None:
    view = make_view("text")
    tool_turn(view, FakeClock())
    view.finish(Final("", footer="footer"))
    assert capsys.readouterr().out == (
        "Let me look at df.\n→ describe_variable(name='df') · done · DataFrame 3 × 2\n\nIt has two columns.\nfooter\n"
    )
