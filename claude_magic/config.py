"""The settings of `%config ClaudeMagics`: every one a trait with its help, validated when it is set.

`ClaudeMagics` takes its traits from `ClaudeConfig`, so `%config ClaudeMagics` lists them all and
`c.ClaudeMagics.model = ...` in `ipython_config.py` sets them; their defaults are `settings.DEFAULTS`,
and each turn reads them as a frozen `settings.Settings`. A new setting is a field of `Settings` and a
trait here, with the same name.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from traitlets import Dict, Enum, Float, HasTraits, Int, TraitError, TraitType, Unicode, validate
from traitlets.config import Configurable

from .settings import CACHE_TTLS, DEFAULTS, DISPLAY_MODES, FIXTURE_MODES, RUN_CODE_MODES

if TYPE_CHECKING:
    from .course import Provenance

__all__ = ["ClaudeConfig"]


class ClaudeConfig(Configurable):
    """The traits of `ClaudeMagics` (configure them under that name, not this one)."""

    model = Unicode(DEFAULTS.model, help="Model id or alias (opus, sonnet, haiku) for new turns.").tag(config=True)
    max_tokens = Int(DEFAULTS.max_tokens, help="Output token limit of a turn (override per turn with --max-tokens).").tag(config=True)
    system = Unicode(DEFAULTS.system, help="System prompt of new conversations (override per conversation with -s).").tag(config=True)
    display = Enum(
        DISPLAY_MODES, default_value=DEFAULTS.display,
        help="How answers stream: widget (live view), markdown (no widget manager), text (terminal), or auto.",
    ).tag(config=True)
    fixture = Unicode(
        DEFAULTS.fixture, help="Path of a recorded-response fixture (JSON); empty for none. Relative to the kernel's directory.",
    ).tag(config=True)
    fixture_mode = Enum(
        FIXTURE_MODES, default_value=DEFAULTS.fixture_mode,
        help="With a fixture: auto (replay what is recorded, else call the API if a key is set), replay "
        "(strict: a miss is an error, never the network), record (call the API and write the fixture), "
        "update (replay what is recorded, call the API for the rest and record it), off. "
        "The environment variable CLAUDE_MAGIC_FIXTURE_MODE overrides it.",
    ).tag(config=True)
    cache_ttl = Enum(CACHE_TTLS, default_value=DEFAULTS.cache_ttl, help="Prompt cache lifetime: 5m or 1h.").tag(config=True)
    max_retries = Int(DEFAULTS.max_retries, help="Retries the SDK makes on 429, 529, 5xx and connection errors.").tag(config=True)
    timeout = Float(DEFAULTS.timeout, help="Seconds before a request times out.").tag(config=True)
    max_retry_wait = Float(
        DEFAULTS.max_retry_wait,
        help="Seconds at most to wait before a retry when the server asks (retry-after); a longer wait fails the turn at once.",
    ).tag(config=True)
    base_url = Unicode(DEFAULTS.base_url, help="API base URL; empty to let the SDK use ANTHROPIC_BASE_URL or its default.").tag(config=True)
    prices = Dict(
        help='Extra prices in $ per million tokens, by model id prefix: {"my-model": {"input": 3, "output": 15}}.',
    ).tag(config=True)
    budget_usd = Float(
        DEFAULTS.budget_usd,
        help="Stop sending once this kernel has spent this many dollars (0: no budget). The footer shows what is left.",
    ).tag(config=True)
    max_rows = Int(DEFAULTS.max_rows, help="DataFrame rows shown (first and last) when a frame is put in a prompt.").tag(config=True)
    max_columns = Int(DEFAULTS.max_columns, help="DataFrame columns shown before the rest are summarised.").tag(config=True)
    max_chars = Int(DEFAULTS.max_chars, help="Characters at most of one object's summary or repr in a prompt.").tag(config=True)
    max_string_chars = Int(DEFAULTS.max_string_chars, help="Characters at most of one string variable in a prompt.").tag(config=True)
    style = Unicode(DEFAULTS.style, help="Style of every turn, a system-prompt preset put before the system prompt: tutor, one of ClaudeMagics.styles, or empty for none (-S NAME for one turn; %claude_styles lists them).").tag(config=True)
    styles = Dict(value_trait=Unicode(), key_trait=Unicode(), help='More styles, {"name": "system prompt text"}; a course file\'s [styles] table sets them.').tag(config=True)

    # Set by the magics before traitlets loads any config: the course file's values, locks and origins.
    _provenance: Provenance | None = None

    def __setattr__(self, name: str, value: Any) -> None:
        # Every change of a setting (IPython config, %config, code) passes the course's locks and is remembered.
        provenance = self.__dict__.get("_provenance")
        if provenance is None or name not in provenance.names:
            super().__setattr__(name, value)
        elif provenance.admit(name, value, getattr(self, name)):
            super().__setattr__(name, value)
            provenance.record(name)

    @classmethod
    def class_get_trait_help(cls, trait: TraitType[Any, Any], inst: HasTraits | None = None, helptext: str | None = None) -> str:
        """A setting's help; for `%config ClaudeMagics` (which passes the instance) also where its value came from."""
        text = super().class_get_trait_help(trait, inst, helptext)
        provenance = getattr(inst, "_provenance", None)
        return f"{text}\n    {provenance.describe(str(trait.name))}" if provenance is not None else text
    run_code = Enum(
        RUN_CODE_MODES, default_value=DEFAULTS.run_code,
        help="Code Claude runs with --run: ask (approve each run on the kernel's input prompt; refused where no "
        "one can answer, as under nbclient, nbval, papermill), always (run without asking), never.",
    ).tag(config=True)
    max_tool_calls = Int(
        DEFAULTS.max_tool_calls, help="Tool calls a -k turn may make; then Claude is asked to answer with what it has.",
    ).tag(config=True)
    tool_result_tokens = Int(
        DEFAULTS.tool_result_tokens, help="Tokens at most of one tool result (about four characters a token); the result says what it cut.",
    ).tag(config=True)

    @validate("prices")
    def _valid_prices(self, proposal: Any) -> dict[str, Any]:
        from .pricing import parse_prices

        try:
            parse_prices(proposal["value"])
        except (KeyError, TypeError, ValueError) as error:
            raise TraitError(
                'ClaudeMagics.prices takes {"model-id-prefix": {"input": 3, "output": 15}} '
                f"($ per million tokens): {error}"
            ) from None
        return proposal["value"]

    @validate("budget_usd")
    def _not_negative(self, proposal: Any) -> float:
        if proposal["value"] < 0:
            raise TraitError("ClaudeMagics.budget_usd must be 0 (no budget) or a positive number of dollars.")
        return proposal["value"]

    @validate("timeout", "max_retry_wait")
    def _seconds(self, proposal: Any) -> float:
        name, value = proposal["trait"].name, proposal["value"]
        # NaN compares false both ways, so it is refused with the rest; an endless wait for a retry is
        # the user's call, an endless timeout is not one httpx2 takes.
        if name == "timeout" and not 0 < value < float("inf"):
            raise TraitError(f"ClaudeMagics.timeout must be a number of seconds above 0, not {value}.")
        if not value >= 0:
            raise TraitError(f"ClaudeMagics.max_retry_wait must be a number of seconds, 0 or more, not {value}.")
        return value

    @validate("max_tokens", "max_retries", "max_rows", "max_columns", "max_chars", "max_string_chars", "max_tool_calls",
              "tool_result_tokens")
    def _positive(self, proposal: Any) -> int:
        if proposal["value"] < (0 if proposal["trait"].name == "max_retries" else 1):
            raise TraitError(f"ClaudeMagics.{proposal['trait'].name} must be a positive whole number.")
        return proposal["value"]
