"""What a reader is told when a notebook cannot answer: a question its fixture does not hold, a spent budget.

Each is one line, worded for whoever meets it. A student running a handed-out notebook with no key
(`auto` with no key, or `replay` chosen by the notebook or its course) reads that the notebook answers
only its recorded questions and how to get live answers, if the course allows them; whoever forced
strict replay through CLAUDE_MAGIC_FIXTURE_MODE (CI, an author checking a recording) reads where the
request first differs from the nearest recording. A follow-up that misses only because an earlier
turn of its conversation missed says so in both. A budget stop says what was spent and who set the
limit.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from .errors import one_line
from .pricing import format_cost
from .settings import API_KEY_ENV, FIXTURE_MODE_ENV, Settings

if TYPE_CHECKING:
    from .transport import ReplayMiss  # the SDK comes with it: imported when a miss has happened

__all__ = ["miss_message", "budget_stop"]

KEY_HINT = f"set {API_KEY_ENV} before starting Jupyter, or run %claude_key"


def miss_message(miss: ReplayMiss, prompt: str, settings: Settings) -> str:
    """The one line for a request the fixture does not hold, asked by the cell `prompt`."""
    cell = f"cell {one_line(prompt, 40)!r}: " if prompt.strip() else ""
    if miss.mode == "replay" and os.environ.get(FIXTURE_MODE_ENV) == "replay":
        # Whoever forced strict replay is checking a recording: what differs is what they need.
        why = f"{miss.summary}; it was recorded after {miss.missing_turn!r}, a turn this conversation does not have"
        return (
            f"{cell}{why if miss.missing_turn else miss}. "
            f"{FIXTURE_MODE_ENV}=replay keeps the API out: unset it, with {API_KEY_ENV} set or %claude_key run, for a live answer."
        )
    if miss.missing_turn:
        said = (
            f"this follow-up was recorded after {miss.missing_turn!r}, which this conversation has not had "
            "(that cell had no recorded answer, failed, or has not run): run the cells in order from that one"
        )
    else:
        said = (
            f"this notebook answers only the questions recorded with it ({miss.fixture}), and this one is not "
            "among them, as asked here"
        )
    return f"{cell}{said}. {_live_hint(miss, settings)}"


def _live_hint(miss: ReplayMiss, settings: Settings) -> str:
    if miss.mode != "replay":
        return f"For a live answer, {KEY_HINT}."
    if "fixture_mode" in settings.locked:
        return f"This course keeps its notebooks to their recorded answers (fixture_mode is locked by {settings.origins.get('fixture_mode', 'the course file')})."
    return f"For live answers, %config ClaudeMagics.fixture_mode = \"auto\" and {KEY_HINT}."


def budget_stop(spent: float, settings: Settings, *, mid_turn: bool = False) -> str:
    """The one line of a turn refused, or stopped between its requests (`mid_turn`), because the
    kernel has spent its budget: how much, and whose limit."""
    when = " mid-turn, with this turn's requests so far" if mid_turn else ""
    used = f"Budget reached{when}: this kernel has spent {format_cost(spent)} of its {format_cost(settings.budget_usd)}"
    kept = " Nothing was added to the conversation." if mid_turn else ""
    origin = settings.origins.get("budget_usd", "")
    if "budget_usd" in settings.locked:
        return f"{used}, the limit this course sets (budget_usd, locked by {origin}); ask whoever runs the course for more.{kept}"
    if origin not in ("", "%config"):
        return f"{used}, the limit set by {origin} (ClaudeMagics.budget_usd). Raise it with %config to go on.{kept}"
    return f"{used} (ClaudeMagics.budget_usd). Raise it to go on.{kept}"
