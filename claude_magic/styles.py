"""Styles: named system-prompt presets (`ClaudeMagics.style`, `-S NAME`), and what `%claude_styles` lists.

A style's text goes before the conversation's own system prompt (`-s`, `ClaudeMagics.system`), so a
course can make Claude teach while a student still adds instructions of their own. `tutor` is built
in; `ClaudeMagics.styles` (a course file's `[styles]` table) adds more, or replaces a built-in one of
the same name. `none` means no style. Plain text in, text out.
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping

from .errors import ClaudeError
from .markdown import literal
from .settings import Settings

__all__ = ["BUILTIN", "NONE", "available", "style_text", "compose", "styles_report"]

NONE = "none"

TUTOR = (
    "You are a patient tutor. Your goal is that the student learns to solve the problem, not that the "
    "problem gets solved. Start with a question: what they have tried, what they expect, or what the "
    "next step could be. Give hints before answers, one step at a time, and let the student do the work. "
    "Never write a complete solution to an exercise or homework problem, even when asked for one: offer "
    "the next step, a hint, or the same idea shown on a different, smaller example. Keep code short: a "
    "few lines that show one idea, never a finished program. When the student shows an attempt, say "
    "first what is right, then point at one mistake with a question that leads them to it. Be brief "
    "and encouraging."
)

BUILTIN: dict[str, str] = {"tutor": TUTOR}


def available(extra: Mapping[str, str]) -> dict[str, str]:
    """Every style by name: the built-in ones, then `ClaudeMagics.styles` (which wins a shared name)."""
    return {**BUILTIN, **extra}


def style_text(name: str, extra: Mapping[str, str]) -> str:
    """The system-prompt text of style `name` ("" for none); an unknown name is a one-line error."""
    if not name or name == NONE:
        return ""
    styles = available(extra)
    if name not in styles:
        raise ClaudeError(f"There is no style {name!r}: use {', '.join([*styles, NONE])} (%claude_styles shows them).")
    return styles[name]


def compose(style: str, system: str) -> str:
    """The system prompt sent: the style's text, then the conversation's own prompt (either may be empty)."""
    return "\n\n".join(part for part in (style.strip(), system) if part.strip())


def styles_report(settings: Settings) -> tuple[str, str]:
    """The styles as (Markdown, plain text): each one's name, where it comes from, and its text."""
    markdown, plain = [], []
    for name, text in available(settings.styles).items():
        where = "built in" if name in BUILTIN and name not in settings.styles else "from ClaudeMagics.styles"
        if name == settings.style:
            where += f" · in force for every turn: ClaudeMagics.style, {_origin(settings)}"
        markdown.append(f"**{literal(name)}** · {literal(where)}\n\n" + "\n".join(f"> {literal(line)}" for line in text.splitlines()))
        plain.append(f"{name} · {where}\n" + textwrap.indent("\n".join(textwrap.fill(line, 96) for line in text.splitlines()), "    "))
    usage = f"-S NAME uses a style for one turn (-S {NONE}: no style); ClaudeMagics.style sets one for every turn."
    return "\n\n".join([*markdown, literal(usage)]), "\n\n".join([*plain, usage])


def _origin(settings: Settings) -> str:
    origin = settings.origins.get("style", "the default")
    return f"locked by {origin}" if "style" in settings.locked else f"from {origin}"
