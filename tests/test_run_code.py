"""--run: approval under each ClaudeMagics.run_code mode, and what a run gives back to Claude."""

from __future__ import annotations

import base64
from types import SimpleNamespace

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from claude_magic.cells import CellLog  # noqa: E402
from claude_magic.context import Limits  # noqa: E402
from claude_magic.run_code import APPROVAL_PROMPT, NO_PROMPT, Approval, CodeRunner  # noqa: E402
from claude_magic.sent import image_size  # noqa: E402


class Prompt:
    """Answers the approval prompt from a list, and notes what was shown and asked."""

    def __init__(self, *answers: str | BaseException) -> None:
        self.answers = list(answers)
        self.asked: list[str] = []
        self.shown: list[str] = []

    def ask(self, prompt: str) -> str:
        self.asked.append(prompt)
        answer = self.answers.pop(0)
        if isinstance(answer, BaseException):
            raise answer
        return answer


def runner(mode: str = "always", prompt: Prompt | None = None, namespace: dict | None = None) -> CodeRunner:
    prompt = prompt or Prompt()
    approval = Approval(mode, ask=prompt.ask, show=prompt.shown.append)
    return CodeRunner(namespace if namespace is not None else {}, CellLog(), Limits(), approval)


def texts(outcome) -> str:
    return "\n".join(block["text"] for block in outcome.content if block["type"] == "text")


def test_ask_shows_the_code_and_yes_runs_it():
    prompt = Prompt("y")
    namespace: dict = {}
    outcome = runner("ask", prompt, namespace).run_code("x = 41\nx + 1")
    assert prompt.shown == ["Claude wants to run this code in your kernel:\n\nx = 41\nx + 1\n"] and prompt.asked == [APPROVAL_PROMPT]
    assert namespace["x"] == 41 and outcome.status == "done" and outcome.ran
    assert texts(outcome) == "Its last expression's value:\n42" and outcome.summary == "result int"


@pytest.mark.parametrize("answer", ["n", "", "no thanks"])
def test_anything_but_yes_or_all_is_a_refusal_that_runs_nothing(answer):
    namespace: dict = {}
    outcome = runner("ask", Prompt(answer), namespace).run_code("x = 1")
    assert outcome.status == "refused" and not outcome.ran and "x" not in namespace
    assert texts(outcome) == "The user declined to run this code." and outcome.summary == "declined by you"


def test_all_approves_the_rest_of_the_turn_without_asking_again():
    prompt = Prompt("all")
    run = runner("ask", prompt)
    assert [run.run_code(f"v{i} = {i}").status for i in range(3)] == ["done"] * 3
    assert prompt.asked == [APPROVAL_PROMPT]


@pytest.mark.parametrize("no_stdin", [NotImplementedError("stdin"), EOFError(), OSError("reading from stdin while captured")])
def test_where_no_one_can_answer_ask_is_a_refusal(no_stdin):
    namespace: dict = {}
    outcome = runner("ask", Prompt(no_stdin), namespace).run_code("x = 1")
    assert outcome.status == "refused" and texts(outcome) == NO_PROMPT and "x" not in namespace
    assert "set ClaudeMagics.run_code = 'always'" in outcome.summary


def test_never_refuses_without_asking_and_always_runs_without_asking():
    prompt = Prompt()
    assert runner("never", prompt).run_code("x = 1").summary == "ClaudeMagics.run_code is 'never'"
    assert runner("always", prompt).run_code("x = 1").status == "done"
    assert prompt.asked == [] and prompt.shown == []


def test_an_interrupt_at_the_prompt_stops_the_turn():
    with pytest.raises(KeyboardInterrupt):
        runner("ask", Prompt(KeyboardInterrupt())).run_code("x = 1")


def test_what_it_prints_and_its_error_come_back_with_the_traceback():
    outcome = runner().run_code("import sys\nprint('to out')\nprint('to err', file=sys.stderr)\nd = {}\nd['price']")
    assert outcome.status == "error" and outcome.ran and outcome.summary == "raised KeyError, 2 lines printed"
    text = texts(outcome)
    assert text.startswith("Printed:\nto out\nto err\nIt raised:\nTraceback (most recent call last):\n")
    assert "  code, line 5, in <module>\n    d['price']\nKeyError: 'price'" in text
    assert "run_code.py" not in text  # our own frames are not the user's business


def test_a_syntax_error_and_a_system_exit_are_results_not_crashes():
    assert "SyntaxError" in texts(runner().run_code("x = (1,"))
    assert runner().run_code("raise SystemExit(3)").summary == "raised SystemExit"


def test_a_flood_of_output_is_kept_bounded():
    from claude_magic.run_code import MAX_OUTPUT_CHARS

    text = texts(runner().run_code("for i in range(100_000):\n    print('line', i)"))
    assert len(text) < MAX_OUTPUT_CHARS + 200 and "more characters not kept" in text


def test_figures_it_draws_come_back_as_images_and_are_closed():
    plt.close("all")
    before = plt.figure(figsize=(2, 2), dpi=50)
    before.canvas.draw()  # drawn: not stale, so only a change would send it
    outcome = runner(namespace={"plt": plt}).run_code("fig = plt.figure(figsize=(4, 2), dpi=50)\nplt.plot([1, 3, 2])")
    images = [block for block in outcome.content if block["type"] == "image"]
    assert [image_size(block) for block in images] == [(200, 100)] and outcome.summary == "result list, 1 image"
    assert plt.get_fignums() == [before.number]  # the new one is closed; the user's stays
    plt.close("all")


def test_what_it_displays_goes_to_claude_not_to_the_cell():
    log = CellLog()
    log.started(SimpleNamespace(raw_cell="%%claude --run", cell_id=None))
    png = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGP4z8AAAAMBAQDJ/pLvAAAAAElFTkSuQmCC")
    shown = []

    def display(data):  # as a kernel's display publisher runs its hooks
        message = log.displayed({"msg_type": "display_data", "content": {"data": data}})
        if message is not None:
            shown.append(message)

    code = CodeRunner({"show": display, "png": png}, log, Limits(), Approval("always"))
    outcome = code.run_code("show({'image/png': png})")
    assert [block["type"] for block in outcome.content] == ["image"] and shown == []
    log.finished(SimpleNamespace(execution_count=1, error_in_exec=None, error_before_exec=None))
    assert not log.cells[-1].shown  # -f will not take Claude's picture for the user's
