"""Tracebacks as Claude gets them: the user's frames, a few library frames near the error, no colour."""

from __future__ import annotations

import linecache

from claude_magic.tracebacks import LIBRARY_FRAMES, MAX_TRACEBACK_CHARS, format_error

CELL = "<cell-5>"


def is_cell(filename: str) -> bool:
    return filename == CELL


def raised(code: str) -> BaseException:
    namespace: dict = {}
    try:
        exec(compile(code, CELL, "exec"), namespace)
    except BaseException as error:  # noqa: BLE001 - any error the user's code raises
        return error
    raise AssertionError("the code did not raise")


def deep(depth: int) -> None:
    if depth == 0:
        raise ValueError("\x1b[31mred\x1b[0m bottom")
    deep(depth - 1)


def test_user_frames_stay_and_library_depth_is_cut():
    code = "x = 1\ndeep(10)"
    linecache.cache[CELL] = (len(code), None, code.splitlines(keepends=True), CELL)  # as IPython caches a cell
    namespace = {"deep": deep}
    try:
        exec(compile(code, CELL, "exec"), namespace)
    except ValueError as caught:
        text = format_error(caught, is_cell)
    lines = text.splitlines()
    assert lines[0] == "Traceback (most recent call last):"
    assert lines[1] == "  cell, line 2, in <module>" and lines[2] == "    deep(10)"
    assert "library frames left out" in text
    assert text.count(", in deep") == LIBRARY_FRAMES
    assert lines[-1] == "ValueError: red bottom"  # colour codes stripped


def test_a_syntax_error_keeps_its_caret_lines():
    text = format_error(raised("x = (1,"), is_cell)
    assert "SyntaxError" in text.splitlines()[-1]


def test_the_text_is_bounded():
    text = format_error(ValueError("x" * 50_000), is_cell)
    assert len(text) < MAX_TRACEBACK_CHARS + 100 and "characters of traceback cut" in text


def test_a_library_file_is_named_by_its_import_path_not_this_machines_environment():
    import json
    import pathlib

    try:
        json.loads("{not json")
    except ValueError as caught:
        text = format_error(caught, is_cell)
    assert 'File "json/decoder.py"' in text
    assert str(pathlib.Path(json.__file__).parent.parent) not in text


def test_frames_of_code_claude_ran_can_say_so():
    code = "1 / 0"
    linecache.cache[CELL] = (len(code), None, [code], CELL)
    assert "  code, line 1, in <module>" in format_error(raised(code), is_cell, where="code").splitlines()
