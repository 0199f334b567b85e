"""The read-only tools of -k, called as the turn loop calls them, on a namespace and a cell log."""

from __future__ import annotations

import base64
import io
import json
import os
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from claude_magic.cells import CellLog
from claude_magic.context import Limits, object_blocks
from claude_magic.kernel_tools import SPECS, KernelTools, definitions, user_variables
from claude_magic.tools import ToolCall


def png(width: int = 40, height: int = 20) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), "blue").save(buffer, "PNG")
    return buffer.getvalue()


def run_cell(log: CellLog, source: str, *, printed: str = "", shows: tuple = (), error: BaseException | None = None):
    log.started(SimpleNamespace(raw_cell=source, cell_id=None))
    if printed:
        log._printed(printed)
    for data in shows:
        log.displayed({"msg_type": "display_data", "content": {"data": data}})
    log.finished(SimpleNamespace(execution_count=99, error_in_exec=error, error_before_exec=None))


@pytest.fixture
def namespace() -> dict:
    from collections import OrderedDict  # an imported class: not the user's

    def helper(x):  # made in a cell: the user's
        return x

    helper.__module__ = "__main__"
    return {
        "__builtins__": __builtins__, "In": [""], "Out": {}, "_": None, "_i1": "x", "exit": exit, "get_ipython": print,
        "np": np, "pd": pd, "os": os, "OrderedDict": OrderedDict, "loads": json.loads,
        "sales": pd.DataFrame({"north": [1.0, 2.0, None], "south": [3, 4, 5]}),
        "values": np.arange(12.0).reshape(3, 4), "names": ["a", "b"], "threshold": 0.5, "helper": helper,
        "_private": 1, "picture": Image.new("RGB", (30, 10), "red"),
    }


def tools(namespace: dict, log: CellLog | None = None, result_tokens: int = 5_000) -> KernelTools:
    return KernelTools(namespace, log or CellLog()).for_turn(Limits(), result_tokens=result_tokens)


def call(box: KernelTools, tool: str, **arguments):
    return box.call(ToolCall("toolu_1", tool, arguments), lambda call: None)


def text_of(outcome) -> str:
    return "\n".join(block["text"] for block in outcome.content if block["type"] == "text")


def test_the_definitions_are_the_same_bytes_every_turn_and_the_sdk_tools_send_them():
    box = tools({})
    assert box.definitions == definitions(run=False) == [spec.definition for spec in SPECS]
    assert json.dumps(definitions(run=True)) == json.dumps(definitions(run=True))
    assert [d["name"] for d in definitions(run=True)][-1] == "run_code"


def test_variables_are_the_users_own_with_type_shape_and_size(namespace):
    assert [name for name, _ in user_variables(namespace)] == ["sales", "values", "names", "threshold", "helper", "picture"]
    outcome = call(tools(namespace), "list_variables")
    lines = text_of(outcome).splitlines()
    assert lines[0] == "6 variables (name, type, shape or length, approximate size):"
    assert lines[1].split() == ["sales", "pandas.DataFrame", "3", "×", "2", "180", "B"]
    assert lines[2].split() == ["values", "numpy.ndarray", "3", "×", "4", "96", "B"]
    assert lines[3].split()[:3] == ["names", "list", "2"]
    assert outcome.summary == "6 variables" and outcome.status == "done"


def test_describe_gives_the_same_bounded_summary_as_braces(namespace):
    outcome = call(tools(namespace), "describe_variable", name="sales")
    blocks, _ = object_blocks("sales", namespace["sales"], Limits())
    assert list(outcome.content) == blocks
    assert "nulls 1" in text_of(outcome) and outcome.summary.startswith("DataFrame 3 × 2, ~")
    assert call(tools(namespace), "describe_variable", name="sales.columns").status == "done"
    image = call(tools(namespace), "describe_variable", name="picture")
    assert [block["type"] for block in image.content] == ["text", "image", "text"]


@pytest.mark.parametrize(
    "arguments, reason",
    [
        ({"name": "nope"}, "there is no variable named 'nope'; list_variables shows what there is."),
        ({"name": "sales.nope"}, "sales.nope: AttributeError"),
        ({"name": "1 + 1"}, "is not a variable name"),
        ({}, "Invalid input for describe_variable: name: Missing required argument."),
        ({"name": 3}, "Invalid input for describe_variable: name: Input should be a valid string."),
    ],
)
def test_a_bad_call_is_a_one_line_error_result(namespace, arguments, reason):
    outcome = call(tools(namespace), "describe_variable", **arguments)
    assert outcome.status == "error" and reason in outcome.summary and "\n" not in outcome.summary
    assert text_of(outcome) == outcome.summary


def test_an_unknown_tool_and_a_tool_that_raises_answer_with_why(namespace):
    assert call(tools(namespace), "rm_rf").summary == "There is no tool named 'rm_rf' this turn."
    assert call(tools(namespace), "run_code", code="1").summary == "There is no tool named 'run_code' this turn."

    class Broken:
        def __repr__(self):
            raise RuntimeError("no repr\nfor you")

    namespace["broken"] = Broken()
    outcome = call(tools(namespace), "describe_variable", name="broken")
    assert outcome.status == "error" and outcome.summary == "repr(broken) failed: RuntimeError: no repr for you"


def test_view_image_shows_a_variable_or_what_a_cell_displayed(namespace):
    log = CellLog()
    run_cell(log, "show(a)", shows=({"image/png": base64.b64encode(png(40, 20)).decode()},))
    run_cell(log, "x = 1")
    box = tools(namespace, log)
    shown = call(box, "view_image")
    assert shown.summary == "image 40 × 20 px" and text_of(shown) == "What the cell 2 back showed:"
    assert call(box, "view_image", cells_back=1).summary == "the cell 1 back showed no image (a plot, an IPython Image, a PIL image)."
    assert call(box, "view_image", name="picture").summary == "image 30 × 10 px"
    assert "not a figure or image: describe_variable reads it" in call(box, "view_image", name="sales").summary


def test_cells_are_listed_and_read_by_how_far_back_they_ran():
    log = CellLog()
    try:
        {}["price"]
    except KeyError as error:
        run_cell(log, "d = {}\nd['price']", error=error)
    run_cell(log, "print('hi')", printed="hi\n", shows=({"image/png": png()},))
    box = tools({}, log)
    listing = text_of(call(box, "list_cells")).splitlines()
    assert listing[1:] == [
        "1 back: print('hi') · 3 characters of text output, 1 image",
        "2 back: d = {} (+1 lines) · raised KeyError: 'price'",
    ]
    cell = call(box, "read_cell")
    assert cell.summary == "the cell 1 back, 3 characters of text output, 1 image"
    assert "Source:\nprint('hi')\n\nText output:\nhi\n\nIt showed 1 image(s): view_image with cells_back=1" in text_of(cell)
    failed = text_of(call(box, "read_cell", cells_back=2))
    assert "It raised:\nTraceback (most recent call last):" in failed and "99" not in failed  # no execution count
    assert call(box, "read_cell", execution_count=99).summary.startswith("the cell 1 back")
    assert "No cell ran 5 cells back (this kernel remembers 2)" in call(box, "read_cell", cells_back=5).summary
    assert call(box, "read_cell", cells_back=0).summary.startswith("Invalid input for read_cell")  # the schema's minimum


def test_the_last_error_comes_with_its_source_and_traceback():
    log = CellLog()
    assert call(tools({}, log), "last_error").summary.startswith("No cell has failed in this kernel yet")
    try:
        _ = 1 / 0
    except ZeroDivisionError as error:
        run_cell(log, "1 / 0", error=error)
    outcome = call(tools({}, log), "last_error")
    assert outcome.summary == "ZeroDivisionError: division by zero"
    assert text_of(outcome).startswith("<error>\nThe cell's source:\n1 / 0\n\nWhat it raised:\nTraceback")


def test_a_result_over_its_budget_is_cut_and_says_so(namespace):
    namespace["long"] = "word " * 10_000
    outcome = call(tools(namespace, result_tokens=100), "describe_variable", name="long")
    assert outcome.summary.endswith("(cut to its budget)")
    assert text_of(outcome).endswith("[cut: 49,646 characters over this result's budget of about 100 tokens]")


def test_reading_changes_nothing_in_the_namespace(namespace):
    before = {name: id(value) for name, value in namespace.items()}
    box = tools(namespace)
    for name, arguments in [("list_variables", {}), ("describe_variable", {"name": "sales"}), ("list_cells", {}),
                            ("view_image", {"name": "picture"})]:
        call(box, name, **arguments)
    assert {name: id(value) for name, value in namespace.items()} == before
    assert namespace["sales"]["north"].isna().sum() == 1
