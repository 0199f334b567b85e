"""What depends on a real kernel: its display hooks, the inline backend, cell ids and nbclient.

Each test starts an ipykernel through jupyter_client, talking to the fake API on 127.0.0.1, and
sends execute requests the way a frontend does; `cell_id` is sent as JupyterLab and Notebook 7 send
it (`metadata.cellId`), and left out as nbclient leaves it out.
"""

from __future__ import annotations

import base64
import io
import os
import queue
import time
from pathlib import Path

import nbformat
import pytest
from fakeapi import FakeAPI, Turn
from jupyter_client.manager import start_new_kernel
from nbclient import NotebookClient
from PIL import Image

DEADLINE = 60.0
REPO = Path(__file__).resolve().parents[1]


class Kernel:
    def __init__(self, client) -> None:
        self.client = client

    def run(self, code: str, cell_id: str | None = None, answers: list[str] | None = None) -> dict:
        """Run `code` as a frontend would; the reply with the cell's outputs as `outputs`. With
        `answers` the frontend has an input prompt, and types them in order as it is asked
        (the prompts it saw are in `prompts`)."""
        metadata = {"cellId": cell_id} if cell_id else {}
        content = {"code": code, "silent": False, "store_history": True, "user_expressions": {}, "allow_stdin": answers is not None}
        message = self.client.session.msg("execute_request", content, metadata=metadata)
        self.client.shell_channel.send(message)
        outputs, prompts = [], []
        deadline = time.monotonic() + DEADLINE
        while time.monotonic() < deadline:
            if answers is not None and self.client.stdin_channel.msg_ready():
                request = self.client.get_stdin_msg(timeout=DEADLINE)
                prompts.append(request["content"]["prompt"])
                self.client.input(answers.pop(0))
                continue
            try:
                iopub = self.client.get_iopub_msg(timeout=0.05 if answers is not None else DEADLINE)
            except queue.Empty:
                continue
            if iopub["parent_header"].get("msg_id") != message["header"]["msg_id"]:
                continue
            if iopub["msg_type"] == "status" and iopub["content"]["execution_state"] == "idle":
                break
            outputs.append(iopub)
        else:
            raise AssertionError(f"the kernel did not finish {code!r} within {DEADLINE} s")
        reply = self.client.get_shell_msg(timeout=DEADLINE)
        # A kernel slow to start answers more than one of wait_for_ready's kernel_info requests.
        while reply["parent_header"].get("msg_id") != message["header"]["msg_id"]:
            reply = self.client.get_shell_msg(timeout=DEADLINE)
        return {**reply["content"], "outputs": outputs, "prompts": prompts}

    def printed(self, code: str, cell_id: str | None = None) -> str:
        reply = self.run(code, cell_id)
        assert reply["status"] == "ok", reply
        return "".join(o["content"]["text"] for o in reply["outputs"] if o["msg_type"] == "stream")


@pytest.fixture
def kernel(fake_api: FakeAPI):
    env = {key: value for key, value in os.environ.items() if key != "CLAUDE_MAGIC_FIXTURE_MODE"}
    env.update(ANTHROPIC_BASE_URL=fake_api.base_url, ANTHROPIC_API_KEY="sk-ant-test-kernel-key-0123")
    manager, client = start_new_kernel(kernel_name="python3", env=env)
    kernel = Kernel(client)
    try:
        kernel.printed("%load_ext claude_magic\n%config ClaudeMagics.display = 'text'\n%config ClaudeMagics.max_retries = 0")
        kernel.printed("%matplotlib inline\nimport matplotlib.pyplot as plt")
        yield kernel
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)


def sent_images(fake_api: FakeAPI) -> list[tuple[int, int]]:
    """The pixel sizes of the images in the last request's new user message."""
    content = fake_api.asked[-1].json["messages"][-1]["content"]
    sizes = []
    for block in content:
        if block["type"] == "image":
            sizes.append(Image.open(io.BytesIO(base64.b64decode(block["source"]["data"]))).size)
    return sizes


def test_fig_sends_what_the_latest_image_cell_showed_never_an_older_figure(kernel, fake_api):
    kernel.printed("old = plt.figure(figsize=(2, 2), dpi=50); plt.plot([1, 2])")  # shown by the backend at cell end
    kernel.printed("plt.figure(figsize=(4, 3), dpi=50); plt.plot([3, 1, 2]); plt.show()")
    kernel.printed("x = 1  # a cell that shows nothing does not change what -f sends")
    out = kernel.printed("%%claude -f\nWhat does this show?")
    ((width, height),) = sent_images(fake_api)
    assert width > 1.2 * height  # the 4 × 3 figure plt.show() showed, not the square one before it
    assert f"sent: -f (image {width:,} × {height:,} px, shown 2 cells back" in out


@pytest.mark.parametrize(
    "showing",
    [
        "from IPython.display import Image, display\n"
        "import io; from PIL import Image as P; b = io.BytesIO(); P.new('RGB', (120, 80), 'red').save(b, 'PNG')\n"
        "display(Image(b.getvalue()))",
        "from PIL import Image as P\nP.new('RGB', (120, 80), 'blue')",  # a PIL image as the cell's result
        "import pandas as pd\npd.Series([1, 3, 2]).plot(figsize=(3, 2))",
    ],
    ids=["IPython.display.Image", "PIL result", "df.plot"],
)
def test_fig_sees_images_from_any_library(kernel, fake_api, showing):
    kernel.printed("plt.figure(figsize=(2, 4)); plt.plot([1, 2])")  # an older, tall figure
    kernel.printed(showing)
    kernel.printed("%%claude -f\nwhat is it?")
    ((width, height),) = sent_images(fake_api)
    assert width > height


def test_rerunning_the_cell_that_asked_the_latest_turn_replaces_it(kernel, fake_api):
    kernel.printed("%%claude\nfirst question", cell_id="cell-a")
    kernel.printed("%%claude\nsecond question", cell_id="cell-b")
    kernel.printed("%%claude\nsecond question, edited", cell_id="cell-b")
    history = fake_api.asked[-1].json["messages"]
    assert [m["content"][0]["text"] for m in history if m["role"] == "user"] == ["first question", "second question, edited"]
    out = kernel.printed("%%claude\nfirst question again", cell_id="cell-a")
    assert "this cell asked turn 1 of 2; its new answer is added at the end" in out
    assert len(fake_api.asked[-1].json["messages"]) == 5
    # nbclient sends no cell id: every run appends, as before.
    kernel.printed("%%claude\nheadless")
    kernel.printed("%%claude\nheadless")
    assert len(fake_api.asked[-1].json["messages"]) == 9


def test_a_rerun_code_cell_does_not_insert_the_same_code_twice(kernel, fake_api):
    fake_api.script(Turn(text="```python\nprint(1)\n```"), Turn(text="```python\nprint(1)\n```"))
    first = kernel.run("%%claude --code\ncode please", cell_id="cell-c")
    again = kernel.run("%%claude --code\ncode please", cell_id="cell-c")
    inserted = [[p for p in reply.get("payload", []) if p.get("source") == "set_next_input"] for reply in (first, again)]
    assert [len(payloads) for payloads in inserted] == [1, 0]
    assert "the same code is already in the cell below" in "".join(
        o["content"].get("text", "") for o in again["outputs"] if o["msg_type"] == "stream"
    )


def test_the_last_error_goes_with_x_and_claude_fix_offers_the_fix(kernel, fake_api):
    nothing = kernel.run("%claude_fix")
    assert nothing["status"] == "error" and "no cell has failed" in nothing["evalue"] and fake_api.asked == []
    failed = kernel.run("import pandas as pd\ndf = pd.DataFrame({'cost': [1, 2]})\ndf['price'].mean()")
    assert failed["status"] == "error"
    kernel.printed("%%claude -x\nwhy?")
    error, question = fake_api.asked[-1].json["messages"][-1]["content"][0]["text"].split("</error>\n\n")
    assert question == "why?"
    assert error.startswith("<error>\nThe cell's source:\n") and "df['price'].mean()" in error
    assert "KeyError: 'price'" in error and "\x1b[" not in error
    assert error.index("  cell, line 3, in <module>") < error.index("pandas/core/frame.py") and "interactiveshell.py" not in error
    fake_api.script(Turn(text="The column is `cost`.\n\n```python\ndf['cost'].mean()\n```"))
    fixed = kernel.run("%claude_fix")
    assert [p["text"] for p in fixed.get("payload", []) if p.get("source") == "set_next_input"] == ["df['cost'].mean()"]


def test_headless_execution_leaves_no_widget_state_in_the_notebook(fake_api, tmp_path, monkeypatch):
    monkeypatch.delenv("CLAUDE_MAGIC_FIXTURE_MODE")
    monkeypatch.setenv("ANTHROPIC_BASE_URL", fake_api.base_url)
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test-kernel-key-0123")
    notebook = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("%load_ext claude_magic"),
        nbformat.v4.new_code_cell("%%claude\nhello"),
    ])
    NotebookClient(notebook, kernel_name="python3", timeout=120).execute()  # nbclient's defaults: store_widget_state
    assert "widgets" not in notebook.metadata
    answer = notebook.cells[1].outputs[-1]
    assert answer["data"]["text/plain"].startswith("Echo: hello")


# -- -k and --run in a real kernel -------------------------------------------------------------------


def last_results(fake_api: FakeAPI) -> list[dict]:
    return [b for b in fake_api.asked[-1].json["messages"][-1]["content"] if b["type"] == "tool_result"]


def result_text(result: dict) -> str:
    return "\n".join(block["text"] for block in result["content"] if block["type"] == "text")


RUN = {"name": "run_code", "input": {"code": "approved_runs = approved_runs + 1\napproved_runs"}}


@pytest.mark.parametrize(
    "answers, runs, refused",
    [(["y", "y"], 2, 0), (["n", "yes"], 1, 1), (["a"], 2, 0)],
    ids=["yes each time", "no then yes", "all for the turn"],
)
def test_each_run_is_approved_on_the_kernels_input_prompt(kernel, fake_api, answers, runs, refused):
    kernel.printed("approved_runs = 0")
    fake_api.script(Turn(tool_uses=[RUN]), Turn(tool_uses=[RUN]), Turn(text="Done."))
    reply = kernel.run("%%claude --run\ncount twice", answers=list(answers))
    assert reply["status"] == "ok", reply
    assert reply["prompts"] == ["Run this code? [y]es / [n]o / [a]ll for this turn: "] * len(answers)
    assert kernel.printed("print(approved_runs)") == f"{runs}\n"
    first = [b for b in fake_api.asked[1].json["messages"][-1]["content"] if b["type"] == "tool_result"]
    results = first + last_results(fake_api)
    assert [result.get("is_error", False) for result in results].count(True) == refused
    printed = "".join(o["content"]["text"] for o in reply["outputs"] if o["msg_type"] == "stream")
    assert printed.count("Claude wants to run this code in your kernel:\n\napproved_runs = approved_runs + 1") == len(answers)


def test_headless_run_code_ask_is_refused_and_always_runs(kernel, fake_api):
    fake_api.script(Turn(tool_uses=[RUN]), Turn(text="Refused."))
    kernel.printed("approved_runs = 0\n%config ClaudeMagics.display = 'markdown'")
    kernel.run("%%claude --run\ncount")  # no input prompt, as under nbclient: refused
    (refused,) = last_results(fake_api)
    assert refused["is_error"] and "no one can approve code in this kernel" in result_text(refused)
    fake_api.script(Turn(tool_uses=[RUN]), Turn(text="Ran."))
    kernel.printed("%config ClaudeMagics.run_code = 'always'")
    kernel.run("%%claude --run\ncount")
    (ran,) = last_results(fake_api)
    assert "is_error" not in ran and result_text(ran) == "Its last expression's value:\n1"


def test_figures_the_code_shows_go_to_claude_not_into_the_cell(kernel, fake_api):
    kernel.printed("%config ClaudeMagics.run_code = 'always'")
    plot = {"name": "run_code", "input": {"code": "plt.figure(figsize=(3, 2), dpi=50)\nplt.plot([1, 2])\nplt.show()"}}
    fake_api.script(Turn(tool_uses=[plot]), Turn(text="A line."))
    reply = kernel.run("%%claude --run\nplot it")
    (result,) = last_results(fake_api)
    images = [block for block in result["content"] if block["type"] == "image"]
    width, height = Image.open(io.BytesIO(base64.b64decode(images[0]["source"]["data"]))).size
    assert len(images) == 1 and 1.3 < width / height < 1.7  # the 3 × 2 figure, as the inline backend drew it
    assert not [o for o in reply["outputs"] if "image/png" in o["content"].get("data", {})]  # nothing shown in the cell
    sent = len(fake_api.asked)
    refused = kernel.run("%%claude -f\nwhat did the last plot show?")  # Claude's picture is not the user's
    assert refused["status"] == "error" and "no cell has shown an image yet" in refused["evalue"]
    assert len(fake_api.asked) == sent


def test_read_cell_gives_what_a_cell_printed_and_displayed(kernel, fake_api):
    kernel.printed("print('rows: 3')\nimport pandas as pd\npd.DataFrame({'a': [1, 2, 3]})")
    fake_api.script(Turn(tool_uses=[{"name": "read_cell", "input": {"cells_back": 1}}]), Turn(text="Three rows."))
    kernel.printed("%%claude -k\nwhat did the last cell show?")
    text = result_text(last_results(fake_api)[0])
    assert "Text output:\nrows: 3\n   a\n0  1\n1  2\n2  3" in text
