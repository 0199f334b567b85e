"""`%%claude` and its companions: options, configuration, and delivering what a turn gives back.

This module parses and delivers; it decides nothing about a turn. A cell becomes a typed
`TurnRequest` under a `Settings` snapshot of the traits below, and `session.Session` prepares and
sends it; what comes back is put where the user asked (`-o NAME`, `--code`). Everything but
IPython's magic machinery is imported on the first turn, so `%load_ext` stays instant.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from typing import TYPE_CHECKING, Any

from IPython.core.magic import Magics, line_cell_magic, line_magic, magics_class, no_var_expand
from traitlets import Dict, Enum, Float, HasTraits, Int, TraitError, TraitType, Unicode, validate

from .course import Provenance
from .errors import ClaudeError
from .options import claude_options, option_values, parse_options, split_line
from .settings import API_KEY_ENV, CACHE_TTLS, DEFAULTS, DISPLAY_MODES, FIXTURE_MODES, Settings

if TYPE_CHECKING:
    from IPython.core.interactiveshell import InteractiveShell

    from .reply import Reply
    from .session import Session

__all__ = ["ClaudeMagics"]


@magics_class
class ClaudeMagics(Magics):
    """Claude in the notebook. Every setting here is also `%config ClaudeMagics.<name>`."""

    shell: InteractiveShell  # always given: the extension registers its magics with the running shell

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

    def __init__(self, shell: Any = None, **kwargs: Any) -> None:
        # The course file (claude_magic.toml here or above) applies under IPython config, so it is read first.
        self._provenance = Provenance.load(self.class_trait_names(config=True))
        super().__init__(shell=shell, **kwargs)
        self._provenance.apply_course(self, notify=_note)
        self._session: Session | None = None
        # Ahead of the inline backend's own post_execute hook, which closes the cell's figures.
        self.shell.events.callbacks["post_execute"].insert(0, self._keep_figures)

    @property
    def session(self) -> Session:
        """The kernel's conversations, spending and client, made on first use."""
        if self._session is None:
            from .session import Session

            self._session = Session()
        return self._session

    def settings(self) -> Settings:
        return Settings.of({**self.trait_values(), **self._provenance.snapshot()})

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
        return f"{text}\n    {inst._provenance.describe(str(trait.name))}" if isinstance(inst, ClaudeMagics) else text

    def _keep_figures(self) -> None:
        # Runs after every cell: a failure here must never spoil the user's own output, and
        # losing the stash only costs -f its fallback. Only a user of pyplot has figures to keep.
        if "matplotlib.pyplot" not in sys.modules:
            return
        try:
            self.session.figures.capture()
        except Exception:
            self.session.figures.clear()

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

    @validate("max_tokens", "max_retries", "max_rows", "max_columns", "max_chars", "max_string_chars")
    def _positive(self, proposal: Any) -> int:
        if proposal["value"] < (0 if proposal["trait"].name == "max_retries" else 1):
            raise TraitError(f"ClaudeMagics.{proposal['trait'].name} must be a positive whole number.")
        return proposal["value"]

    @claude_options
    @no_var_expand  # {name} is ours to expand, and $ in a prompt is just a dollar
    @line_cell_magic
    def claude(self, line: str, cell: str | None = None) -> None:
        """Ask Claude. The cell (or the rest of the line) is the prompt; {name} brings in a variable.

        Examples::

            %%claude
            Explain what this regular expression matches: ^\\d{3}-\\d{4}$

            %%claude -m haiku -o answer
            Summarise {df} in three bullet points.

            %claude -n -s "You are a terse statistics tutor." what is a p-value?

            %%claude --dry-run -f
            What would this send?

        Spending: %claude_usage shows tokens and cost by conversation and model.
        Configuration: %config ClaudeMagics (model, style, system, fixture, budget_usd, ...); claude_magic.toml.
        """
        # On a cell's first line every word is an option's; in a line magic -w takes the words that
        # name variables and the prompt starts at the first that does not.
        is_name = self._is_variable if cell is None else str.isidentifier
        parser = _parser(ClaudeMagics.claude)
        options, prompt = split_line(line, parser, is_name)
        args = parse_options(parser, options)
        text = "\n".join(part for part in (prompt, cell) if part and part.strip()).strip()
        from .session import TurnRequest

        self._run_turn(TurnRequest(text=text, **option_values(args)))

    @line_magic
    def claude_key(self, line: str) -> None:
        """Type the API key without showing it; it is kept in memory for this kernel only."""
        key = getpass.getpass("Anthropic API key (not shown, not saved): ").strip()
        if not key:
            kept = "the key entered earlier stays in use" if self.session.entered_key else f"{API_KEY_ENV} is used if set"
            raise ClaudeError(f"No key entered; {kept}.")
        self.session.entered_key = key
        print("Key set for this kernel.")

    @line_magic
    def claude_usage(self, line: str) -> None:
        """Tokens and cost of this kernel's turns, by conversation and model."""
        from .display import show
        from .reports import usage_report

        if not self.session.ledger.spends:
            print("No turns yet.")
            return
        show(*usage_report(self.session.ledger))

    @line_magic
    def claude_styles(self, line: str) -> None:
        """The styles -S NAME and ClaudeMagics.style can name, each with its text."""
        from .display import show
        from .styles import styles_report

        show(*styles_report(self.settings()))

    def _is_variable(self, token: str) -> bool:
        return token.isidentifier() and token in self.shell.user_ns

    def _run_turn(self, ask: Any) -> None:
        from .display import make_view, show
        from .reports import dry_run_report

        settings = self.settings()
        turn = self.session.prepare(ask, settings, self.shell.user_ns, notify=_note)
        if ask.dry_run:
            show(*dry_run_report(self.session.dry_run(turn)))
            return
        reply = self.session.send(turn, make_view(settings.display, shell=self.shell))
        self._deliver(ask, reply)

    def _deliver(self, ask: Any, reply: Reply) -> None:
        from .reply import runnable_code

        if ask.out:
            self.shell.user_ns[ask.out] = reply
        if ask.code:
            code = runnable_code(reply.text)
            if code:
                self.shell.set_next_input(code, replace=False)
            else:
                print("note: the reply has no Python code block to put in a cell.")

    def close(self) -> None:
        self.shell.events.unregister("post_execute", self._keep_figures)
        if self._session is not None:
            self._session.close()


def _note(message: str) -> None:
    print(f"note: {message}")


def _parser(magic: Any) -> argparse.ArgumentParser:
    return magic.parser  # made by magic_arguments when the class was defined
