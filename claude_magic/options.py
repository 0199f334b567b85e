"""Reading a `%claude` line: its options, and the prompt that follows them as typed.

The prompt of a line magic is free text: it may hold quotes, dashes, braces and a final question
mark that IPython's own input handling would mangle. So the line reaches the magic untouched
(`protect_line_magics`), the options are read from its front only, as far as they go, and the
prompt is the rest of the line exactly as typed.
"""

from __future__ import annotations

import argparse
import re
import shlex
from collections.abc import Callable
from typing import Any, TypeVar

from IPython.core.error import UsageError
from IPython.core.magic_arguments import argument, magic_arguments

from .settings import EFFORTS

__all__ = ["claude_options", "map_options", "split_line", "parse_options", "option_values", "map_values", "protect_line_magics"]

F = TypeVar("F", bound=Callable[..., Any])

# The options of %claude and %%claude, in the order `%claude?` lists them. Help strings are
# printf-style for argparse: %%%% shows as %% in the help.
CLAUDE_OPTIONS: tuple[tuple[tuple[str, ...], dict[str, Any]], ...] = (
    (("-m", "--model"), dict(help="Model id or alias: opus, sonnet, haiku. Example: %%%%claude -m haiku")),
    (("-s", "--system"), dict(help='System prompt of the conversation from this turn on. Example: -s "Answer in French."')),
    (("-S", "--style"), dict(metavar="NAME", help="A style for this turn: a named system-prompt preset (tutor, ClaudeMagics.styles; none for no style), combined with -s; %%claude_styles lists them. Example: -S tutor")),
    (("-n", "--new"), dict(action="store_true", help="Start a fresh conversation with this turn. Example: %%%%claude -n")),
    (("-c", "--chat"), dict(metavar="NAME", help="Use the named conversation instead of the kernel's own. Example: -c review")),
    (("-w", "--with"), dict(dest="with_", nargs="+", metavar="NAME", help="Attach variables as context. Example: %%%%claude -w df model")),
    (("-f", "--fig"), dict(action="store_true", help="Attach what the most recent image-showing cell showed (any plot or image). Example: %%%%claude -f")),
    (("-i", "--image"), dict(dest="images", action="append", metavar="PATH_OR_URL", help="Attach an image file or URL; repeatable. Example: -i chart.png")),
    (("-d", "--doc"), dict(dest="docs", action="append", metavar="PATH_OR_URL", help="Attach a PDF or a text file (.txt, .md, .csv) with citations on; repeatable. Example: -d paper.pdf")),
    (("-x", "--error"), dict(action="store_true", help="Attach the last error: the failing cell's source and its traceback. Example: %%%%claude -x why?")),
    (("-k", "--kernel"), dict(action="store_true", help="Let Claude look into this kernel with read-only tools: variables, summaries, figures, cells, the last error. Example: %%%%claude -k")),
    (("--run",), dict(action="store_true", help="With -k (implied): also a tool that runs Python in your namespace, after you approve each run (ClaudeMagics.run_code). Example: %%%%claude --run")),
    (("-t", "--think"), dict(action="store_true", help="Let Claude think first; the thinking shows in a collapsible section. Example: %%%%claude -t")),
    (("-e", "--effort"), dict(choices=EFFORTS, help="How much effort Claude spends: low, medium, high, xhigh, max (each model takes some: see %%claude_models). Example: -e low")),
    (("--web",), dict(action="store_true", help="Let Claude search the web and fetch pages for this turn ($10 per 1,000 searches). Example: %%%%claude --web")),
    (("--max-tokens",), dict(type=int, metavar="N", help="Output limit for this turn. Example: --max-tokens 8000")),
    (("-o", "--out"), dict(metavar="NAME", help="Store the reply (.text, .thinking, .usage, .cost, .stop_reason, .message) in NAME. Example: -o answer")),
    (("--code",), dict(action="store_true", help="Put the reply's Python code into a new cell below. Example: %%%%claude --code")),
    (("--schema",), dict(metavar="NAME", help="Structured output: NAME holds a list of labels, a JSON schema dict or a pydantic model; the reply gains .data. Example: --schema Verdict")),
    (("--raw",), dict(action="store_true", help="Send the text exactly as written: no {name} expansion. Example: %%%%claude --raw")),
    (("--dry-run",), dict(action="store_true", help="Show what would be sent, its token count and cost; send nothing. Example: %%%%claude --dry-run")),
    (("prompt",), dict(nargs="*", help="The prompt (line magic), or the cell below %%%%claude. Example: %%claude what is 2**10?")),
)


# The options of %%claude_map FRAME and %claude_map --resume [JOB].
MAP_OPTIONS: tuple[tuple[tuple[str, ...], dict[str, Any]], ...] = (
    (("frame",), dict(nargs="?", metavar="FRAME", help="The DataFrame: one request per row, the cell a template of {column} names. Example: %%%%claude_map reviews")),
    (("-o", "--out"), dict(metavar="NAME", help="Store the answers in NAME (aligned to FRAME's index) and the failed rows' reasons in NAME_errors. Example: -o sentiment")),
    (("--schema",), dict(metavar="NAME", help="Typed answers: NAME holds a list of labels, a JSON schema dict or a pydantic model. Example: --schema labels")),
    (("--batch",), dict(action="store_true", help="Send through Message Batches: half price, results usually within the hour.")),
    (("--live",), dict(action="store_true", help="Send live requests, several at once: answers in seconds, list price.")),
    (("-m", "--model"), dict(help="Model id or alias: opus, sonnet, haiku. Example: -m haiku")),
    (("-s", "--system"), dict(help='Instructions every row shares, sent as one cached system block. Example: -s "Answer with one word."')),
    (("--dry-run",), dict(action="store_true", help="Show the plan and what it would cost; send nothing.")),
    (("--resume",), dict(nargs="?", const="", metavar="JOB", help="Collect a batch job's answers, also after a kernel restart (JOB: the newest). Example: %%claude_map --resume sentiment")),
)


def _decorated(magic: F, table: tuple[tuple[tuple[str, ...], dict[str, Any]], ...]) -> F:
    for flags, spec in reversed(table):
        magic = argument(*flags, **spec)(magic)
    return magic_arguments()(magic)


def claude_options(magic: F) -> F:
    """IPython's `magic_arguments` for `magic`, from `CLAUDE_OPTIONS`, so `%claude?` documents them."""
    return _decorated(magic, CLAUDE_OPTIONS)


def map_options(magic: F) -> F:
    """The same for `%%claude_map`, from `MAP_OPTIONS`."""
    return _decorated(magic, MAP_OPTIONS)


def map_values(args: argparse.Namespace) -> dict[str, Any]:
    """The fields of a `map_run.MapRequest` from `%%claude_map`'s parsed options."""
    if args.batch and args.live:
        raise UsageError("--batch and --live exclude each other: give one, or neither to let the size decide.")
    engine = "batch" if args.batch else "live" if args.live else "auto"
    return {"frame": args.frame or "", "out": args.out, "schema": args.schema, "engine": engine,
            "model": args.model, "system": args.system, "dry_run": args.dry_run}


def option_values(args: argparse.Namespace) -> dict[str, Any]:
    """The options a user gave (not the prompt), lists made tuples so the request can be frozen."""
    return {
        name: tuple(value) if isinstance(value, list) else value
        for name, value in vars(args).items()
        if name != "prompt" and value is not None
    }

# A token is a run of quoted strings and other non-space characters; a lone quote that never closes
# is taken as an ordinary character, since it can only belong to the prompt.
_TOKEN = re.compile(r"""(?:"[^"]*"|'[^']*'|[^\s"']|["'])+""")


def split_line(line: str, parser: argparse.ArgumentParser, is_name: Callable[[str], bool]) -> tuple[str, str]:
    """Return (the option part of `line`, the prompt part).

    An option taking any number of values (`-w df s`) takes the tokens that name variables
    (`is_name`), so `%claude -w df what is this` attaches `df` and asks "what is this".
    """
    tokens = list(_TOKEN.finditer(line))
    index = 0
    while index < len(tokens) and _is_option(tokens[index].group()):
        if tokens[index].group() == "--":
            return line[: tokens[index].start()], line[tokens[index].end():].strip()
        token = tokens[index].group()
        action = None if "=" in token else _action(parser, token)
        index += 1 + _values_taken(action, [t.group() for t in tokens[index + 1:]], is_name)
    end = tokens[index].start() if index < len(tokens) else len(line)
    return line[:end], line[end:].strip()


# "-5 degrees is cold?" and "- what is a dash?" are prompts: a lone dash or a negative number is no flag.
_NOT_A_FLAG = re.compile(r"-(?:$|\.?\d)")


def _is_option(token: str) -> bool:
    return token.startswith("-") and not _NOT_A_FLAG.match(token)


def _action(parser: argparse.ArgumentParser, token: str) -> argparse.Action | None:
    return parser._option_string_actions.get(token)  # argparse keeps no public lookup by flag


def _values_taken(action: argparse.Action | None, rest: list[str], is_name: Callable[[str], bool]) -> int:
    if action is None or action.nargs == 0:
        return 0
    if action.nargs in ("+", "*"):
        count = 0
        while count < len(rest) and is_name(rest[count]):
            count += 1
        return count
    if action.nargs in (None, "?"):
        return 1 if rest and not rest[0].startswith("-") else 0
    return int(action.nargs)


def parse_options(parser: argparse.ArgumentParser, options: str) -> Any:
    """Parse the option part with shell quoting (`-s "Be brief."` gives `Be brief.`); IPython's
    own parser keeps the quotes. A bad option is a UsageError, from the magic's parser."""
    try:
        return parser.parse_args(shlex.split(options))
    except ValueError as error:
        raise UsageError(f"Cannot read the options {options.strip()!r}: {error}.") from None


_LINE_MAGIC = re.compile(r"^%claude[ \t]+(?P<rest>\S.*?)[ \t]*$")


def protect_line_magics(lines: list[str]) -> list[str]:
    """An IPython input transformer: turn `%claude <prompt>` lines into the magic's call.

    IPython reads a line ending in `?` as a help request, so `%claude what is 2**10?` would search
    for `**10` instead of asking. Rewritten first, the line reaches the magic as typed.
    `%claude?` (help itself) and cell magics are left alone.
    """
    if lines and lines[0].startswith("%%"):
        return lines
    rewritten, in_string = [], False
    for line in lines:
        rewritten.append(line if in_string else _call(line))
        # A line inside a triple-quoted string is text, not a magic (an odd count opens or closes one).
        in_string ^= (line.count('"""') + line.count("'''")) % 2 == 1
    return rewritten


def _call(line: str) -> str:
    match = _LINE_MAGIC.match(line.rstrip("\n"))
    if match is None:
        return line
    newline = "\n" if line.endswith("\n") else ""
    return f"get_ipython().run_line_magic('claude', {match['rest']!r}){newline}"
