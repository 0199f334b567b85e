"""The settings a turn runs under: their defaults, their allowed values, and a frozen snapshot.

`ClaudeMagics` declares one trait per field of `Settings` (with the defaults from `DEFAULTS`), so
`%config ClaudeMagics` is where a user sets them; each turn then takes a `Settings` snapshot, and
nothing below the magics ever sees traitlets. This module imports nothing heavy: `%load_ext` needs it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from .errors import ClaudeError

__all__ = ["Settings", "DEFAULTS", "DISPLAY_MODES", "FIXTURE_MODES", "CACHE_TTLS", "RUN_CODE_MODES", "fixture_mode"]

# The newest Opus with a known price, as the guide advises; models.ALIASES["opus"] is the same model.
DEFAULT_MODEL = "claude-opus-5-5"
DISPLAY_MODES = ("auto", "widget", "markdown", "text")
FIXTURE_MODES = ("off", "auto", "replay", "record", "update")
CACHE_TTLS = ("5m", "1h")
EFFORTS = ("low", "medium", "high", "xhigh", "max")  # each model takes some of them
RUN_CODE_MODES = ("ask", "always", "never")

API_KEY_ENV = "ANTHROPIC_API_KEY"
AUTH_TOKEN_ENV = "ANTHROPIC_AUTH_TOKEN"
FIXTURE_MODE_ENV = "CLAUDE_MAGIC_FIXTURE_MODE"


@dataclass(frozen=True)
class Settings:
    """One turn's view of `%config ClaudeMagics`; the defaults here are the traits' defaults."""

    model: str = DEFAULT_MODEL
    max_tokens: int = 4096
    system: str = ""
    display: str = "auto"
    fixture: str = ""
    fixture_mode: str = "auto"
    cache_ttl: str = "5m"
    max_retries: int = 2
    timeout: float = 600.0
    max_retry_wait: float = 60.0
    base_url: str = ""
    prices: dict[str, Any] = field(default_factory=dict)
    budget_usd: float = 0.0
    max_rows: int = 10
    max_columns: int = 20
    max_chars: int = 20_000
    max_string_chars: int = 100_000
    style: str = ""
    styles: dict[str, str] = field(default_factory=dict)
    # Not traits: where each set value came from ("claude_magic.toml", "IPython config", "%config"),
    # and the settings the course file locks, for the messages that say who set a limit.
    origins: dict[str, str] = field(default_factory=dict)
    locked: tuple[str, ...] = ()
    run_code: str = "ask"
    max_tool_calls: int = 10
    tool_result_tokens: int = 5_000

    @classmethod
    def of(cls, values: dict[str, Any]) -> Settings:
        """The snapshot of a configurable's trait values (other keys are ignored)."""
        return cls(**{name: values[name] for name in cls.__dataclass_fields__ if name in values})


DEFAULTS = Settings()


def check_fixture_mode(mode: str, where: str) -> str:
    if mode not in FIXTURE_MODES:
        raise ClaudeError(f"{where}={mode!r} is not a fixture mode: use one of {', '.join(FIXTURE_MODES)}.")
    return mode


def fixture_mode(fixture: str, configured: str) -> str:
    """The mode in force: `off` without a fixture; the environment variable overrides the setting,
    so CI can force strict replay on notebooks that say `auto`."""
    if not fixture:
        return "off"
    from_env = os.environ.get(FIXTURE_MODE_ENV)
    return check_fixture_mode(from_env, FIXTURE_MODE_ENV) if from_env else configured
