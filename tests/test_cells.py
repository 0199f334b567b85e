"""The cell log: what each cell showed and what failed, from IPython's events and the display hooks."""

from __future__ import annotations

import base64
from types import SimpleNamespace

from claude_magic.cells import MAX_IMAGES_PER_CELL, CellLog

PNG = b"\x89PNG\r\n\x1a\n" + b"fake"


def run_cell(log: CellLog, source: str, count: int, *, shows=(), error: BaseException | None = None, cell_id=None):
    log.started(SimpleNamespace(raw_cell=source, cell_id=cell_id))
    for message in shows:
        assert log.displayed(message) is message  # a hook hands every message on untouched
    log.finished(SimpleNamespace(execution_count=count, error_in_exec=error, error_before_exec=None))


def display(data: dict, kind: str = "display_data") -> dict:
    return {"msg_type": kind, "content": {"data": data, "metadata": {}}}


def test_the_last_image_showing_cell_is_kept_and_a_cell_that_shows_nothing_changes_nothing():
    log = CellLog()
    run_cell(log, "plot()", 1, shows=[display({"image/png": base64.b64encode(PNG).decode(), "text/plain": "<Figure>"})])
    run_cell(log, "x = 1", 2)
    shown, back = log.last_shown()
    assert (shown.count, back) == (1, 2) and [image.data for image in shown.images] == [PNG]
    run_cell(log, "Image(...)", 3, shows=[display({"image/jpeg": b"\xff\xd8\xffjpeg"}, "execute_result")])
    shown, back = log.last_shown()
    assert (shown.count, back) == (3, 1) and shown.images[0].mimetype == "image/jpeg"


def test_one_picture_in_several_formats_is_one_image_and_a_cell_keeps_at_most_eight():
    log = CellLog()
    both = display({"image/png": PNG, "image/svg+xml": "<svg/>"})
    run_cell(log, "many()", 1, shows=[both] * 20 + [{"msg_type": "stream", "content": {"text": "hi"}}])
    shown, _ = log.last_shown()
    assert len(shown.images) == MAX_IMAGES_PER_CELL and {image.mimetype for image in shown.images} == {"image/png"}


def test_the_last_error_is_the_users_not_a_refused_magic():
    from IPython.core.error import UsageError

    log = CellLog()
    try:
        {}["price"]
    except KeyError as error:
        run_cell(log, "d['price']", 4, error=error)
    run_cell(log, "%%claude --frobnicate", 5, error=UsageError("unrecognized arguments"))
    assert log.last_error is not None
    assert log.last_error.summary == "KeyError: 'price'" and log.last_error.source == "d['price']"


def test_the_current_cell_id_is_the_running_cells():
    log = CellLog()
    assert log.current_cell_id is None
    log.started(SimpleNamespace(raw_cell="x", cell_id="abc"))
    assert log.current_cell_id == "abc"


def test_a_hook_never_raises_into_the_users_output():
    log = CellLog()
    log.started(SimpleNamespace(raw_cell="x", cell_id=None))
    broken = display({"image/png": "not base64!"})
    assert log.displayed(broken) is broken
    assert log.displayed(None) is None
    log.finished(object())  # no execution_count, no error attributes
    assert log.last_error is None


def test_what_a_cell_printed_and_displayed_as_text_is_kept_bounded():
    from claude_magic.cells import MAX_TEXT_PER_CELL

    log = CellLog()
    log.started(SimpleNamespace(raw_cell="print(df)", cell_id=None))
    log._printed("hello\n")
    log.displayed(display({"text/plain": "   a\n0  1"}, "execute_result"))
    log.displayed(display({"image/png": PNG, "text/plain": "<Figure size 640x480>"}))  # the image, not its repr
    log._printed("x" * (2 * MAX_TEXT_PER_CELL))
    log.finished(SimpleNamespace(execution_count=7, error_in_exec=None, error_before_exec=None))
    output = log.cells[-1].output
    assert output.text.startswith("hello\n   a\n0  1\nxxx") and len(output.text) == MAX_TEXT_PER_CELL
    assert output.text_cut == 2 * MAX_TEXT_PER_CELL + len("hello\n   a\n0  1\n") - MAX_TEXT_PER_CELL
    assert "<Figure" not in output.text and len(output.images) == 1


def test_what_is_displayed_while_capturing_is_taken_and_kept_from_the_frontend():
    log = CellLog()
    log.started(SimpleNamespace(raw_cell="%%claude --run", cell_id=None))
    with log.capturing() as captured:
        assert log.displayed(display({"image/png": PNG})) is None  # stopped: the frontend never sees it
        log._printed("not the cell's")
    assert log.displayed(display({"text/plain": "shown"})) is not None
    log.finished(SimpleNamespace(execution_count=8, error_in_exec=None, error_before_exec=None))
    assert [image.data for image in captured.images] == [PNG]
    assert log.cells[-1].output.text == "shown\n" and not log.cells[-1].shown


def test_cells_are_found_by_how_far_back_or_by_execution_count():
    log = CellLog()
    for count, source in ((1, "a"), (2, "b"), (2, "c")):  # a runner storing no history repeats counts
        run_cell(log, source, count)
    assert log.find(cells_back=1)[0].source == "c" and log.find(cells_back=3) == (log.cells[0], 3)
    assert log.find(execution_count=2) == (log.cells[-1], 1)
    assert log.find(cells_back=4) is None and log.find(execution_count=9) is None


def test_the_kernels_streams_are_watched_through_their_echo_and_given_back():
    import sys
    from types import ModuleType

    class OutStream:  # stands in for ipykernel's
        def __init__(self) -> None:
            self.echo = None

    fake = ModuleType("ipykernel.iostream")
    fake.OutStream = OutStream  # type: ignore[attr-defined]
    saved = sys.modules.get("ipykernel.iostream"), sys.stdout, sys.stderr
    sys.modules["ipykernel.iostream"], sys.stdout, sys.stderr = fake, OutStream(), OutStream()
    try:
        log = CellLog()
        log.watch_streams()
        log.started(SimpleNamespace(raw_cell="print(1)", cell_id=None))
        assert sys.stdout.echo.write("1\n") == 2
        log.unwatch_streams()
        assert sys.stdout.echo is None and sys.stderr.echo is None
    finally:
        module, sys.stdout, sys.stderr = saved
        if module is not None:
            sys.modules["ipykernel.iostream"] = module
        else:
            del sys.modules["ipykernel.iostream"]
    log.finished(SimpleNamespace(execution_count=1, error_in_exec=None, error_before_exec=None))
    assert log.cells[-1].output.text == "1\n"
