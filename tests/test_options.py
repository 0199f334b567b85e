"""Splitting a %claude line into options and the prompt as typed."""

from __future__ import annotations

import argparse

import pytest

from claude_magic.options import split_line


@pytest.fixture
def parser():
    parser = argparse.ArgumentParser()
    parser.add_argument("-m", "--model")
    parser.add_argument("-n", "--new", action="store_true")
    parser.add_argument("-w", "--with", nargs="+")
    parser.add_argument("-i", "--image", action="append")
    return parser


def bound(token: str) -> bool:
    return token in {"df", "s"}


@pytest.mark.parametrize(
    "line, options, prompt",
    [
        ("what's up?", "", "what's up?"),
        ("-m haiku what's  up -- really?", "-m haiku ", "what's  up -- really?"),
        ("-n -m=haiku hi", "-n -m=haiku ", "hi"),
        ('-m "claude-x" {"a": 1}', '-m "claude-x" ', '{"a": 1}'),
        ("-w df s describe them", "-w df s ", "describe them"),
        ("-w df -n compare", "-w df -n ", "compare"),
        ("-n -- -1 is negative", "-n ", "-1 is negative"),
        ("-i a.png -i b.png compare", "-i a.png -i b.png ", "compare"),
        ("-n", "-n", ""),
    ],
)
def test_split_line(parser, line, options, prompt):
    assert split_line(line, parser, bound) == (options, prompt)


def test_parse_options_unquotes_like_a_shell(parser):
    from claude_magic.options import parse_options

    parser.add_argument("-s", "--system")
    assert parse_options(parser, '-s "Be brief." -m haiku').system == "Be brief."


def test_parse_options_unclosed_quote_is_a_usage_error(parser):
    from IPython.core.error import UsageError

    from claude_magic.options import parse_options

    with pytest.raises(UsageError, match="Cannot read the options"):
        parse_options(parser, '-m "haiku')


@pytest.mark.parametrize(
    "lines, expected",
    [
        (["%claude what is 2**10?\n"], ["get_ipython().run_line_magic('claude', 'what is 2**10?')\n"]),
        (["%claude -m haiku it's {x}?"], ["get_ipython().run_line_magic('claude', \"-m haiku it's {x}?\")"]),
        (["%claude?\n"], ["%claude?\n"]),
        (["%claude\n"], ["%claude\n"]),
        (["%%claude\n", "%claude inside a cell body\n"], ["%%claude\n", "%claude inside a cell body\n"]),
        (["x = 1\n", "%claude why?\n"], ["x = 1\n", "get_ipython().run_line_magic('claude', 'why?')\n"]),
    ],
)
def test_protect_line_magics(lines, expected):
    from claude_magic.options import protect_line_magics

    assert protect_line_magics(lines) == expected


@pytest.mark.parametrize(
    "line, prompt",
    [("-5 degrees is cold?", "-5 degrees is cold?"), ("- what is a dash", "- what is a dash"), ("-n -.5 is small", "-.5 is small")],
)
def test_a_negative_number_or_a_lone_dash_starts_the_prompt(parser, line, prompt):
    assert split_line(line, parser, bound)[1] == prompt


def test_lines_inside_a_triple_quoted_string_are_left_alone():
    from claude_magic.options import protect_line_magics

    lines = ['s = """\n', "%claude inside a string\n", '"""\n', "%claude outside?\n"]
    assert protect_line_magics(lines) == lines[:3] + ["get_ipython().run_line_magic('claude', 'outside?')\n"]
