"""The course file: settings that travel with a notebook, the course's locks, and where each value came from.

A `claude_magic.toml` in the kernel's directory or a parent (or a `[tool.claude_magic]` table in a
`pyproject.toml` there) sets `ClaudeMagics` settings for every notebook below it. Its top-level keys
are the setting names (`model = "sonnet"`), its `[styles]` table is the `styles` setting, and
`locked = ["model", ...]` fixes settings so that `%config` and flags in cells cannot change them: a
course setting, not a security boundary. The nearest file wins; a relative `fixture` in it is
relative to the file, so a notebook in a subfolder finds the course's fixture.

`Provenance` applies the file under IPython config (ipython_config.py overrides what the course
leaves unlocked) and keeps, per setting, where its value came from, for `%config ClaudeMagics` and
for the messages that say who set a limit. Imported by `%load_ext`, so nothing heavy: the TOML parser
is imported only when there is a course file to read.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable, Collection
from functools import cache
from pathlib import Path
from typing import Any, NamedTuple

from traitlets import HasTraits, TraitError

from .errors import ClaudeError, one_line
from .settings import Settings

__all__ = ["COURSE_FILE", "CourseFile", "Provenance", "find", "read", "refuse_locked_flags"]

COURSE_FILE = "claude_magic.toml"
PYPROJECT = "pyproject.toml"
LOCKED = "locked"
IPYTHON_CONFIG = "IPython config"
CONFIG_MAGIC = "%config"
DEFAULT = "the default"

# The turn's flags that stand for a setting: a lock on the setting refuses the flag.
FLAGS = {"model": "-m", "system": "-s", "style": "-S", "max_tokens": "--max-tokens"}

# A pyproject.toml is parsed only if it has our table: most have none, and the parser costs ~10 ms.
OUR_TABLE = r"""^[ \t]*(\[[ \t]*)?tool[ \t]*\.[ \t]*["']?claude_magic["']?[ \t]*[\].]"""

Notify = Callable[[str], None]


class CourseFile(NamedTuple):  # not a dataclass: %load_ext pays for making the class, and this is cheaper
    """What a course file says, read and checked; `notes` are its problems, one line each."""

    path: Path
    shown: str  # the path as the user sees it: relative to the kernel's directory
    values: dict[str, Any]
    locked: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()


def find(start: Path) -> Path | None:
    """The nearest course file at or above `start`: a claude_magic.toml, or a pyproject.toml with our table."""
    for folder in (start, *start.parents):
        candidate, pyproject = folder / COURSE_FILE, folder / PYPROJECT
        try:
            if candidate.is_file():
                return candidate
            if pyproject.is_file() and _has_our_table(_text(pyproject)):
                return pyproject
        except OSError:  # a folder we may not look into ends the search: %load_ext must not fail
            return None
    return None


def read(path: Path, names: Collection[str], start: Path) -> CourseFile:
    """The course file at `path`, checked against the setting `names`: an unknown key is a note and
    is left out, the rest apply. A file that cannot be parsed is one note and no settings."""
    shown = os.path.relpath(path, start)
    try:
        document = _toml(path)
    except (OSError, UnicodeDecodeError, ValueError) as error:  # a TOML syntax error is a ValueError
        return CourseFile(path, shown, {}, notes=(f"{shown} cannot be read, so no course settings apply: {one_line(str(error))}",))
    table = _our_table(document) if path.name == PYPROJECT else document
    values: dict[str, Any] = {}
    notes: list[str] = []
    for key, value in table.items():
        if key in names:
            values[key] = value
        elif key != LOCKED:
            notes.append(f"{shown}: {_unknown(key, names)}; it is ignored, the other settings apply.")
    fixture = values.get("fixture")
    if isinstance(fixture, str) and fixture:
        values["fixture"] = str(path.parent / Path(fixture).expanduser())  # an absolute path stays as it is
    locked = table.get(LOCKED, [])
    if not (isinstance(locked, list) and all(isinstance(name, str) for name in locked)):
        notes.append(f'{shown}: locked must be a list of setting names, like locked = ["model", "style"]; nothing is locked.')
        locked = []
    for name in [name for name in locked if name not in names]:
        notes.append(f"{shown}: locked names {_unknown(name, names)}; it is ignored.")
    return CourseFile(path, shown, values, tuple(name for name in locked if name in names), tuple(notes))


def refuse_locked_flags(ask: Any, settings: Settings, resolve_model: Callable[[str], str]) -> None:
    """A flag that would change a locked setting is refused in one line; one that repeats it is fine."""
    for name, flag in FLAGS.items():
        value, current = getattr(ask, name, None), getattr(settings, name)
        if value is None or name not in settings.locked:
            continue
        if (resolve_model(value) == resolve_model(current)) if name == "model" else value == current:
            continue
        where = settings.origins.get(name, "the course file")
        raise ClaudeError(f"{flag}: this course fixes {name} ({current!r}, locked by {where}); run the cell without {flag}.")


class Provenance:
    """Where each setting's value came from, and the course's locks on them.

    The owner (`ClaudeMagics`) asks `admit` before every change of a setting and calls `record`
    after it. While IPython config loads, a value for a locked setting is set aside quietly (and
    named once the course applies); afterwards, changing a locked setting raises a one-line
    `TraitError`, which `%config` prints as one line.
    """

    def __init__(self, names: Collection[str], course: CourseFile | None = None) -> None:
        self.names = frozenset(names)
        self.course = course
        self.locked = frozenset(course.locked) if course else frozenset()
        self.origins: dict[str, str] = {}
        self._source = IPYTHON_CONFIG  # who is setting values now: config at load, then %config
        self._set_aside: list[str] = []

    @classmethod
    def load(cls, names: Collection[str], start: Path | None = None) -> Provenance:
        """The course file for a kernel started in `start` (the notebook's directory; default: here)."""
        try:
            start = Path.cwd() if start is None else start
        except OSError:  # the kernel's directory was deleted under it
            return cls(names)
        path = find(start)
        return cls(names, read(path, names, start) if path else None)

    def admit(self, name: str, value: Any, current: Any) -> bool:
        if name not in self.locked or value == current:
            return True
        if self._source == IPYTHON_CONFIG:
            self._set_aside.append(name)
            return False
        raise TraitError(self.lock_message(name, current))

    def record(self, name: str) -> None:
        self.origins[name] = self._source

    def apply_course(self, owner: HasTraits, notify: Notify) -> None:
        """Once IPython config has loaded: the course's values under it, its locked values over it."""
        course = self.course
        self._source = CONFIG_MAGIC
        if course is None:
            return
        for note in course.notes:
            notify(note)
        for name, value in course.values.items():
            if name in self.origins and name not in self.locked:
                continue  # IPython config (ipython_config.py) overrides what the course leaves open
            try:
                owner.set_trait(name, value)  # validated, and past the locks, which are the course's own
            except TraitError as error:
                notify(f"{course.shown}: {name} = {value!r} is not used: {one_line(str(error))}")
                continue
            self.origins[name] = course.shown
        for name in self.locked:
            self.origins[name] = course.shown  # the course's value, or the default it leaves locked
        for name in dict.fromkeys(self._set_aside):
            notify(f"ClaudeMagics.{name} from IPython config is not used: {course.shown} locks it.")

    def lock_message(self, name: str, current: Any) -> str:
        shown = self.course.shown if self.course else "the course file"
        return f"ClaudeMagics.{name} is locked by {shown} (a course setting), so it stays {current!r}."

    def describe(self, name: str) -> str:
        """One line for `%config ClaudeMagics`: where the value came from."""
        origin = self.origins.get(name, DEFAULT)
        return f"From: {origin}" + (" (locked: %config and flags cannot change it)" if name in self.locked else "")

    def snapshot(self) -> dict[str, Any]:
        """The `Settings` fields that carry provenance."""
        return {"origins": dict(self.origins), "locked": tuple(sorted(self.locked))}


def _unknown(key: str, names: Collection[str]) -> str:
    import difflib  # only for a file with a mistake in it: not at every %load_ext

    close = difflib.get_close_matches(key, sorted(names), n=1)
    return f"{key!r}, which is not a setting" + (f" (did you mean {close[0]!r}?)" if close else "")


def _our_table(pyproject: dict[str, Any]) -> dict[str, Any]:
    tool = pyproject.get("tool")
    table = tool.get("claude_magic") if isinstance(tool, dict) else None
    return table if isinstance(table, dict) else {}


def _has_our_table(text: str) -> bool:
    return "claude_magic" in text and _our_table_pattern().search(text) is not None


@cache
def _our_table_pattern() -> re.Pattern[str]:
    return re.compile(OUR_TABLE, re.MULTILINE)


def _text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return ""


def _toml(path: Path) -> dict[str, Any]:
    if sys.version_info >= (3, 11):
        import tomllib
    else:
        import tomli as tomllib
    return tomllib.loads(path.read_text(encoding="utf-8"))
