"""`%%claude` in a real JupyterLab, in a real Chromium, against the local fake API.

One notebook: `%load_ext claude_magic`, a `%%claude -t` cell, a matplotlib cell that ends in
`plt.show()`, a `%%claude -f` cell whose answer mixes dollar amounts with a formula, and a
`%%claude -k` cell in which Claude lists the kernel's variables before it answers, a `%%claude -d`
cell whose answer cites a page of a PDF, and a `%%claude_map` over a small DataFrame.
While the `-t` answer streams (slowly, from the fake server) the page must show it growing and a
"Thinking" accordion that fills and opens on a click; once it ends the answer is real rendered Markdown
with a token-and-dollar footer; the `-f` request carries the figure as an image block (the inline backend
closed it inside its cell) and the answer shows its money as money and its formula as math; and after a
save, a kernel shutdown and a reload the answers are still there as static Markdown with no widget
error. The `-k` cell shows its call as a live line with its status while the answer streams, and keeps
it in a collapsed "Tool calls" section above the answer, which opens on a click. The cited passage is
a numbered marker in the answer and a source line under it, with the PDF's name and page. The map shows a
progress bar (an ipywidgets bar and its line of counts) while its requests run, and leaves only its
static report. Screenshots go to artifacts/browser/ (mid-stream, final, after reload).

Run it with `pytest -m browser tests/browser` (the default `pytest` deselects it).
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import nbformat
import pytest
from fakeapi import Turn
from pdfs import make_pdf

pytestmark = pytest.mark.browser

NOTEBOOK = "demo.ipynb"

THINKING = (
    "The user wants the difference between a list and a tuple. I should cover mutability, "
    "hashability, typical uses and a short example, with headings so the answer is easy to scan. "
) * 6

ANSWER = """\
## Lists and tuples

Both are ordered sequences that can hold any objects, index from zero and slice the same way. The
difference that matters is **mutability**: a list can change after it is made, a tuple cannot.

## When to use which

- Use a **list** for a collection that grows or shrinks, such as rows read from a file.
- Use a **tuple** for a fixed record, such as a point `(x, y)` or a database row.
- A tuple of hashable items is itself hashable, so it can be a dictionary key.
- Tuples are slightly smaller in memory and a little faster to create.

## An example

```python
point = (3, 4)
path = [point, (5, 12)]
path.append((8, 15))
lengths = {p: (p[0] ** 2 + p[1] ** 2) ** 0.5 for p in path}
print(lengths[(3, 4)])  # 5.0
```

Changing `point[0]` raises a `TypeError`, while `path` grows happily. When in doubt, start with a
list and switch to a tuple once the shape of the data is settled.

A last point that surprises people: a tuple is only as immutable as what it holds. A tuple that
contains a list cannot be given a new element, but the list inside it can still be appended to, and
such a tuple is no longer hashable, so it cannot be a dictionary key or a member of a set. Reach for
`collections.namedtuple` or a frozen `dataclass` when the fields deserve names.
"""

FIGURE_ANSWER = """\
## The chart

- One line through three points, rising from 1 to 3 and falling back to 2; roughly $y = 2 + \\sin x$.
- The title reads "demo"; the axes carry no labels. If each point were a sale, the ball costs $0.05 and the bat $1.05.
"""

TOOLS_ANSWER = "You have one variable, `scores`: a list of five numbers. " * 12

CELLS = [
    "%load_ext claude_magic",
    "%%claude -t\nWhat is the difference between a list and a tuple in Python?",
    'import matplotlib.pyplot as plt\nplt.plot([1, 3, 2])\nplt.title("demo")\nplt.show()',
    "%%claude -f\nWhat does this chart show?",
    "scores = [3, 1, 4, 1, 5]",
    "%%claude -k\nWhich variables do I have?",
    "%%claude -d handout.pdf\nWhat does the handout say?",
    'import pandas as pd\nreviews = pd.DataFrame({"text": [f"review {i}" for i in range(30)]})',
    "%%claude_map reviews --live -o labels\nIs this review positive or negative? {text}",
]
THINK_CELL, PLOT_CELL, FIG_CELL, TOOLS_CELL, DOC_CELL, MAP_CELL = 1, 2, 3, 5, 6, 8
CITED = {"type": "page_location", "cited_text": "The effect is small.", "start_page_number": 2}
MAP_ROWS = 30

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_ERRORS = ("Loading widget", "Error displaying widget")
FOOTER = re.compile(r"\d[\d,]* in / \d[\d,]* out tokens · .*\$\d")

# Page helpers, evaluated in the browser. Cells are found in the DOM (the notebook's windowing is
# off in the test's Lab settings, so every cell is attached).
JS_CELL = "(i) => document.querySelectorAll('.jp-NotebookPanel .jp-Notebook .jp-Cell')[i]"
JS_LIVE = f"""(i) => {{
    const cell = ({JS_CELL})(i);
    const root = cell && cell.querySelector('.jp-OutputArea-output .widget-vbox');
    if (!root) return null;
    const accordion = root.querySelector('.widget-accordion');
    const contents = accordion && accordion.querySelector('.jupyter-widget-Collapse-contents');
    return {{
        running: (cell.querySelector('.jp-InputPrompt') || {{}}).textContent.includes('*'),
        status: root.firstElementChild ? root.firstElementChild.textContent : '',
        answer: root.lastElementChild.textContent.length,
        hasAccordion: !!accordion,
        thinkingTitle: accordion ? accordion.querySelector('.jupyter-widget-Collapse-header').textContent : '',
        thinking: contents ? contents.textContent.length : 0,
        thinkingVisible: !!contents && contents.offsetHeight > 0 && contents.innerText.trim().length > 0,
    }};
}}"""
JS_PROMPT = f"(i) => ((({JS_CELL})(i) || document).querySelector('.jp-InputPrompt') || {{}}).textContent || ''"
JS_RENDERED = f"""(i) => {{
    const cell = ({JS_CELL})(i);
    if (!cell) return null;
    // The cell's own Markdown output, not one inside a live widget's Output.
    const md = [...cell.querySelectorAll('.jp-OutputArea .jp-RenderedMarkdown')]
        .find(e => !e.closest('.widget-output'));
    if (!md) return null;
    return {{
        h2: [...md.querySelectorAll('h2')].map(h => h.textContent.replace('\u00b6', '').trim()),  // minus Lab's anchor
        li: md.querySelectorAll('li').length,
        code: [...md.querySelectorAll('pre code')].map(c => c.textContent),
        details: [...md.querySelectorAll('details summary')].map(s => s.textContent.trim()),
        footer: [...md.querySelectorAll('sub')].map(s => s.textContent).join(' '),
        math: md.querySelectorAll('mjx-container').length,
        text: md.innerText,
    }};
}}"""
JS_LIVE_TEXT = f"(i) => {{ const c = ({JS_CELL})(i); const r = c && c.querySelector('.jp-OutputArea-output .widget-vbox'); return r ? r.innerText : null; }}"
JS_PROGRESS = f"""(i) => {{
    const cell = ({JS_CELL})(i);
    const box = cell && cell.querySelector('.jp-OutputArea-output .widget-hbox');
    return box && box.querySelector('.progress, progress') ? box.innerText : null;
}}"""
JS_PANEL = "() => document.querySelector('.jp-NotebookPanel') && window.jupyterapp.shell.currentWidget"
JS_KERNEL_IDLE = f"""() => {{
    const panel = window.jupyterapp && window.jupyterapp.shell.currentWidget;
    return !!(panel && panel.sessionContext && panel.content && panel.content.widgets.length === {len(CELLS)}
        && panel.sessionContext.session && panel.sessionContext.session.kernel
        && panel.sessionContext.kernelDisplayStatus === 'idle');
}}"""


def run_command(page, command: str) -> None:
    # The function returns nothing, so Playwright does not wait for the command's promise
    # (run-all-cells resolves only when every cell has run).
    page.evaluate("(c) => { window.jupyterapp.commands.execute(c); }", command)


def write_notebook(path: Path) -> None:
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(source) for source in CELLS]
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}
    nbformat.write(notebook, path)


def shoot(page, path: Path, *, whole_notebook: bool = False) -> None:
    """A screenshot; `whole_notebook` first grows the viewport to the notebook's height (bounded)."""
    if whole_notebook:
        height = page.evaluate(
            """() => {
                const cells = document.querySelectorAll('.jp-NotebookPanel .jp-Notebook .jp-Cell');
                const last = cells[cells.length - 1];
                const scroller = document.querySelector('.jp-NotebookPanel .jp-WindowedPanel-outer');
                if (!last || !scroller) return 0;
                return last.getBoundingClientRect().bottom + scroller.scrollTop + 60;
            }"""
        )
        page.set_viewport_size({"width": 1400, "height": max(1500, min(int(height), 5000))})
        page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
    page.screenshot(path=str(path))
    print(f"screenshot: {path}")


def wait_live(page, condition: str, *, n: int = 0, timeout: float = 5_000) -> dict:
    """Waits until the -t cell's live view exists and `condition` (JS over its state `s` and `n`)
    holds; returns that state."""
    handle = page.wait_for_function(
        f"([i, n]) => {{ const s = ({JS_LIVE})(i); return s && ({condition}) ? s : null; }}",
        arg=[THINK_CELL, n],
        timeout=timeout,
    )
    return handle.json_value()


def widget_error_text(page) -> list[str]:
    body = page.evaluate("() => document.body.innerText")
    return [marker for marker in WIDGET_ERRORS if marker in body]


def test_claude_cells_in_jupyterlab(fake_api, lab, browser_session, artifacts):
    started = time.monotonic()
    page = browser_session.page
    fake_api.script(
        # About 310 SSE events 11 ms apart: ~3.4 s, the first ~1.5 s of it thinking.
        Turn(thinking=THINKING, text=ANSWER, chunk_chars=8, delay=0.011),
        Turn(text=FIGURE_ANSWER, chunk_chars=16, delay=0.01),
        Turn(text="Let me look.", tool_uses=[{"name": "list_variables", "input": {}}]),
        # Slow enough (~2 s) that the call's line is on screen while the answer streams.
        Turn(text=TOOLS_ANSWER, chunk_chars=8, delay=0.02),
        Turn(text=["The handout says ", {"text": "the effect is small", "citations": [CITED]}, "."]),
    )
    # The map's requests, once the script is spent. They do not stream, so the fake's latency (on
    # every request, half a second) paces them: the 27 after the preview, eight at a time, keep the
    # bar on screen for about two seconds.
    fake_api.respond = lambda body: "positive"
    fake_api.latency = 0.5
    write_notebook(lab.root / NOTEBOOK)
    make_pdf(lab.root / "handout.pdf", pages=3)

    page.goto(lab.url(f"lab/tree/{NOTEBOOK}"), wait_until="domcontentloaded", timeout=30_000)
    page.wait_for_function(JS_PANEL, timeout=30_000)
    page.wait_for_function(JS_KERNEL_IDLE, timeout=30_000)
    page.evaluate("() => { window.jupyterapp.shell.collapseLeft(); }")

    run_command(page, "notebook:run-all-cells")

    # ---- while the -t cell streams ----------------------------------------------------------
    wait_live(page, "true", timeout=20_000)
    live = wait_live(page, "s.hasAccordion", timeout=10_000)
    assert live["thinkingTitle"].strip() == "Thinking", live
    # Collapsed at first; a click on its title opens it, and it has thinking text in it.
    assert not live["thinkingVisible"], live
    cell = page.locator(".jp-NotebookPanel .jp-Notebook .jp-Cell").nth(THINK_CELL)
    cell.locator(".widget-accordion .jupyter-widget-Collapse-header").click(timeout=5_000)
    wait_live(page, "s.thinkingVisible")
    # It fills: more thinking arrives after it was first seen.
    thinking_seen = [live["thinking"], wait_live(page, "s.thinking > n", n=live["thinking"])["thinking"]]

    # The answer grows: each sample waits (bounded) for the length to pass the previous one.
    samples: list[int] = []
    statuses: list[str] = []
    loading_seen = False
    deadline = time.monotonic() + 20
    while len(samples) < 6:
        assert time.monotonic() < deadline, f"the answer stopped growing; lengths seen: {samples}"
        previous = samples[-1] if samples else 0
        state = wait_live(page, "s.answer > n + 40", n=previous, timeout=10_000)
        assert state["running"], f"the -t cell had finished by sample {len(samples) + 1}: {state}"
        samples.append(state["answer"])
        statuses.append(state["status"])
        loading_seen = loading_seen or bool(widget_error_text(page))
        if len(samples) == 3:
            shoot(page, artifacts / "1-mid-stream.png")
    thinking_live = page.evaluate(JS_LIVE, THINK_CELL)
    assert samples == sorted(samples) and len(set(samples)) == len(samples), samples
    assert any("streaming" in status for status in statuses), statuses
    assert thinking_live is not None and thinking_live["thinking"] >= len(THINKING.strip()) * 0.9, thinking_live

    # ---- while the -k cell streams: its call is a live line with its status ------------------
    tools_live = page.wait_for_function(
        f"(i) => {{ const t = ({JS_LIVE_TEXT})(i); return t && t.includes('list_variables') && t.includes('You have') ? t : null; }}",
        arg=TOOLS_CELL, timeout=30_000,
    ).json_value()
    assert "→ list_variables() · done · " in tools_live and "Let me look." in tools_live, tools_live

    # ---- while the map runs: a bar and its counts ---------------------------------------------
    bar = page.wait_for_function(
        f"(i) => {{ const t = ({JS_PROGRESS})(i); return t && t.includes('succeeded') ? t : null; }}",
        arg=MAP_CELL, timeout=30_000,
    ).json_value()
    assert re.search(r"\d+ requests: \d+ submitted, \d+ succeeded, 0 errored, 0 expired", bar), bar

    # ---- after the cells ran ------------------------------------------------------------------
    page.wait_for_function(f"(i) => ({JS_PROMPT})(i).includes('[{len(CELLS)}]')", arg=MAP_CELL, timeout=30_000)
    page.wait_for_function(JS_KERNEL_IDLE, timeout=10_000)
    assert page.evaluate(JS_PROGRESS, MAP_CELL) is None, "the map's progress bar is still on screen"
    map_output = page.locator(".jp-NotebookPanel .jp-Notebook .jp-Cell").nth(MAP_CELL).locator(".jp-OutputArea").inner_text()
    assert f"{MAP_ROWS} of {MAP_ROWS} rows answered" in map_output and "stored in labels" in map_output, map_output
    for index in (THINK_CELL, FIG_CELL, TOOLS_CELL):
        assert page.evaluate(JS_LIVE, index) is None, f"cell {index} still shows its live widget view"
    answer = page.evaluate(JS_RENDERED, THINK_CELL)
    assert answer is not None, "no rendered Markdown under the -t cell"
    assert answer["h2"] == ["Lists and tuples", "When to use which", "An example"], answer["h2"]
    assert answer["li"] == 4, answer
    assert len(answer["code"]) == 1 and "path.append((8, 15))" in answer["code"][0], answer["code"]
    assert answer["details"] == ["Thinking"], answer["details"]
    assert FOOTER.search(answer["footer"]), answer["footer"]
    figure_answer = page.evaluate(JS_RENDERED, FIG_CELL)
    assert figure_answer is not None and figure_answer["h2"] == ["The chart"], figure_answer
    assert figure_answer["li"] == 2 and FOOTER.search(figure_answer["footer"]), figure_answer
    # Money reads as money and the formula as math, once MathJax has typeset the page.
    page.wait_for_function(
        f"(i) => {{ const r = ({JS_RENDERED})(i); return r && r.math === 1; }}", arg=FIG_CELL, timeout=15_000
    )
    figure_answer = page.evaluate(JS_RENDERED, FIG_CELL)
    assert "the ball costs $0.05 and the bat $1.05." in figure_answer["text"], figure_answer["text"]
    assert re.search(r"sent: -f \(image \d[\d,]* × \d[\d,]* px, shown 1 cell back", figure_answer["footer"]), figure_answer["footer"]
    cited = page.evaluate(JS_RENDERED, DOC_CELL)
    assert cited is not None and "The handout says the effect is small[1]." in cited["text"], cited
    assert "[1] “The effect is small.” — handout.pdf, p. 2" in cited["text"], cited["text"]
    assert re.search(r"sent: -d handout.pdf \(PDF, 3 pages, ", cited["footer"]), cited["footer"]
    tools_answer = page.evaluate(JS_RENDERED, TOOLS_CELL)
    assert tools_answer is not None and tools_answer["details"] == ["Tool calls: 1"], tools_answer
    assert "You have one variable" in tools_answer["text"] and "list_variables" not in tools_answer["text"], tools_answer
    assert FOOTER.search(tools_answer["footer"]), tools_answer["footer"]
    calls = page.locator(".jp-NotebookPanel .jp-Notebook .jp-Cell").nth(TOOLS_CELL).locator("details")
    calls.locator("summary").click(timeout=5_000)
    page.wait_for_function("(d) => d.open", arg=calls.element_handle(timeout=5_000), timeout=5_000)
    assert "list_variables" in calls.inner_text(timeout=5_000) and "scores" in calls.inner_text(timeout=5_000)
    plot = page.locator(".jp-NotebookPanel .jp-Notebook .jp-Cell").nth(PLOT_CELL)
    assert plot.locator(".jp-OutputArea-output img").count() == 1, "the plotting cell shows no image"
    assert not widget_error_text(page), widget_error_text(page)
    shoot(page, artifacts / "2-final.png", whole_notebook=True)

    # What reached the fake API: the -t request asked for thinking, the -f request held the figure.
    posts = [r for r in fake_api.requests if r.method == "POST" and r.path == "/v1/messages"]
    assert len(posts) == 5 + MAP_ROWS, [r.path for r in fake_api.requests]
    assert posts[0].json.get("thinking", {}).get("type") in ("adaptive", "enabled"), posts[0].json.get("thinking")
    last_user = posts[1].json["messages"][-1]
    images = [b for b in last_user["content"] if isinstance(b, dict) and b.get("type") == "image"]
    assert len(images) == 1, last_user["content"]
    source = images[0]["source"]
    assert source["type"] == "base64" and source["media_type"] in ("image/png", "image/jpeg"), source["type"]
    assert len(source["data"]) > 1000, "the image block holds almost nothing"
    document = posts[4].json["messages"][-1]["content"][0]
    assert document["type"] == "document" and document["citations"] == {"enabled": True}, document["type"]
    results = [b for b in posts[3].json["messages"][-1]["content"] if b.get("type") == "tool_result"]
    assert len(results) == 1 and "scores" in json.dumps(results[0]), posts[3].json["messages"][-1]
    assert fake_api.rejected == 0 and fake_api.pending == 0

    # ---- save, shut the kernel down, reload ---------------------------------------------------
    run_command(page, "docmanager:save")
    page.wait_for_function("() => !window.jupyterapp.shell.currentWidget.context.model.dirty", timeout=10_000)
    saved = nbformat.read(lab.root / NOTEBOOK, as_version=4)
    run_command(page, "kernelmenu:shutdown")
    page.wait_for_function("() => !window.jupyterapp.shell.currentWidget.sessionContext.session", timeout=15_000)
    assert lab.api("GET", "kernels") == [], "the kernel is still running on the server"

    raw = (lab.root / NOTEBOOK).read_text()
    assert WIDGET_VIEW not in raw
    assert "widget-state" not in json.dumps(saved.metadata), saved.metadata
    outputs = [[o.get("data", {}) for o in saved.cells[i].outputs] for i in (THINK_CELL, FIG_CELL)]
    for data in outputs:
        markdown = [d["text/markdown"] for d in data if "text/markdown" in d]
        assert len(markdown) == 1 and "## " in markdown[0], data

    page.reload(wait_until="domcontentloaded", timeout=30_000)
    page.wait_for_function(JS_PANEL, timeout=30_000)
    page.wait_for_function(
        f"(i) => {{ const r = ({JS_RENDERED})(i); return r && r.h2.length === 3; }}", arg=THINK_CELL, timeout=20_000
    )
    page.wait_for_function(JS_KERNEL_IDLE, timeout=30_000)  # a fresh kernel: nothing it could show a widget from
    page.evaluate("() => { window.jupyterapp.shell.collapseLeft(); }")
    reloaded = page.evaluate(JS_RENDERED, THINK_CELL)
    assert reloaded["h2"] == answer["h2"] and reloaded["li"] == 4 and len(reloaded["code"]) == 1, reloaded
    assert reloaded["details"] == ["Thinking"], reloaded
    assert FOOTER.search(reloaded["footer"]), reloaded["footer"]
    after_reload = page.evaluate(JS_RENDERED, FIG_CELL)
    assert after_reload["h2"] == ["The chart"] and "the bat $1.05." in after_reload["text"], after_reload
    assert page.locator("h2:visible", has_text="When to use which").count() == 1
    assert not widget_error_text(page), widget_error_text(page)
    shoot(page, artifacts / "3-after-reload.png", whole_notebook=True)
    # The saved thinking is a closed <details> that opens on a click.
    details = page.locator(".jp-NotebookPanel .jp-Notebook .jp-Cell").nth(THINK_CELL).locator("details")
    details.locator("summary").click(timeout=5_000)
    page.wait_for_function("(d) => d.open", arg=details.element_handle(timeout=5_000), timeout=5_000)
    assert "The user wants the difference" in details.inner_text(timeout=5_000)

    # ---- the whole session ------------------------------------------------------------------
    assert not browser_session.page_errors, browser_session.page_errors
    assert not browser_session.console_errors, browser_session.console_errors
    assert not browser_session.outside_requests, browser_session.outside_requests
    print(f"thinking length at first sight, then after the click: {thinking_seen} of {len(THINKING.strip())}")
    print(f"answer text lengths while streaming: {samples} (Markdown source: {len(ANSWER.strip())} chars)")
    print(f"status lines: {statuses[0]!r} .. {statuses[-1]!r}; 'Loading widget' seen mid-stream: {loading_seen}")
    print(f"console warnings: {len(browser_session.console_warnings)}")
    for warning in browser_session.console_warnings:
        print(f"  {warning[:200]}")
    print(f"browser test took {time.monotonic() - started:.1f} s")
