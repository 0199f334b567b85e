"""`%%claude` and its companions: options, configuration, and delivering what a turn gives back.

This module parses and delivers; it decides nothing about a turn. A cell becomes a typed
`TurnRequest` under a `Settings` snapshot of the traits (`config`), and `session.Session` prepares and
sends it; what comes back is put where the user asked (`-o NAME`, `--code`). Everything but
IPython's magic machinery is imported on the first turn, so `%load_ext` stays instant.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from IPython.core.magic import Magics, line_cell_magic, line_magic, magics_class, no_var_expand

from .cells import CellLog
from .config import ClaudeConfig
from .course import Provenance
from .errors import ClaudeError, note
from .options import claude_options, map_options, map_values, option_values, parse_options, split_line
from .settings import API_KEY_ENV, Settings

if TYPE_CHECKING:
    from IPython.core.interactiveshell import InteractiveShell

    from .map_run import MapResult, MapRun
    from .reply import Reply
    from .session import Session

__all__ = ["ClaudeMagics"]


@magics_class
class ClaudeMagics(Magics, ClaudeConfig):
    """Claude in the notebook. Every setting (`config.ClaudeConfig`) is `%config ClaudeMagics.<name>`."""

    shell: InteractiveShell  # always given: the extension registers its magics with the running shell

    def __init__(self, shell: Any = None, **kwargs: Any) -> None:
        # The course file (claude_magic.toml here or above) applies under IPython config, so it is read first.
        self._provenance = Provenance.load(self.class_trait_names(config=True))
        super().__init__(shell=shell, **kwargs)
        self._provenance.apply_course(self, notify=note)
        self._session: Session | None = None
        self.cells = CellLog(is_cell=lambda filename: self.shell.compile.format_code_name(filename) is not None)
        self.cells.attach(self.shell)

    @property
    def session(self) -> Session:
        """The kernel's conversations, spending and client, made on first use."""
        if self._session is None:
            from .session import Session

            self._session = Session(self.cells)
        return self._session

    def settings(self) -> Settings:
        course = self._provenance.snapshot() if self._provenance is not None else {}
        return Settings.of({**self.trait_values(), **course})

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

            %%claude -k
            Look at my variables: which frame has missing values, and where?

            %%claude --dry-run -f
            What would this send?

        Spending: %claude_usage shows tokens and cost by conversation and model.
        Models: %claude_models shows what each model on offer supports and costs.
        Configuration: %config ClaudeMagics (model, style, system, fixture, budget_usd, ...); claude_magic.toml.
        """
        # On a cell's first line every word is an option's; in a line magic -w takes the words that
        # name variables and the prompt starts at the first that does not.
        is_name = self._is_variable if cell is None else str.isidentifier
        parser = _parser(ClaudeMagics.claude)
        options, prompt = split_line(line, parser, is_name)
        args = parse_options(parser, options)
        text = "\n".join(part for part in (prompt, cell) if part and part.strip()).strip()
        self._run_turn(text, option_values(args))

    @map_options
    @no_var_expand
    @line_cell_magic
    def claude_map(self, line: str, cell: str | None = None) -> Any:
        """One prompt over every row of a DataFrame: the cell is a template of {column} names.

        Examples::

            %%claude_map reviews -o sentiment --schema labels
            Is this review positive, negative or neutral? {text}

            %claude_map --resume sentiment

        Over 100 distinct prompts go through Message Batches (half price), fewer as live requests
        (--batch, --live). Answers go in NAME (-o), failed rows' reasons in NAME_errors.
        """
        from .map_run import MapRequest, PartialResult

        args = parse_options(_parser(ClaudeMagics.claude_map), line)
        run = self._map_run()
        try:
            if args.resume is not None:
                return self._deliver_map(run.resume(args.resume or None, self.shell.user_ns, out=args.out))
            if cell is None or not cell.strip():
                raise ClaudeError("%%claude_map FRAME takes its template from the cell below; %claude_map alone only does --resume.")
            return self._deliver_map(run.run(MapRequest(template=cell.strip(), **map_values(args)), self.shell.user_ns))
        except PartialResult as partial:
            self._deliver_map(partial.result)
            raise

    @line_magic
    def claude_fix(self, line: str) -> None:
        """Ask what went wrong in the last cell that failed, and get the fix as a new cell below.

        Example: `%claude_fix` after a cell raised, or `%claude_fix keep the plot style`.
        """
        from .session import FIX_PROMPT

        self._run_turn("\n\n".join(part for part in (FIX_PROMPT, line.strip()) if part), {"error": True, "code": True})

    @line_magic
    def claude_key(self, line: str) -> None:
        """Type the API key without showing it; it is kept in memory for this kernel only."""
        import getpass  # only here: it pulls in termios, which load_ext has no use for

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

    @line_magic
    def claude_models(self, line: str) -> None:
        """The models the API offers now: line, context window, thinking, effort, what else each
        supports and its price, with the aliases (opus, sonnet, haiku) and the default marked."""
        from .display import show
        from .lineup import lineup_report

        settings = self.settings()
        show(*lineup_report(*self.session.lineup(settings, notify=note), settings))

    def _is_variable(self, token: str) -> bool:
        return token.isidentifier() and token in self.shell.user_ns

    def _run_turn(self, text: str, options: dict[str, Any]) -> None:
        from .display import make_view, show
        from .reports import dry_run_report
        from .session import TurnRequest

        ask = TurnRequest(text=text, cell_id=self.cells.current_cell_id, **options)
        settings = self.settings()
        with self.session.exclusive(ask.chat, note):
            turn = self.session.prepare(ask, settings, self.shell.user_ns, notify=note)
            if ask.dry_run:
                show(*dry_run_report(self.session.dry_run(turn)))
                return
            view = make_view(settings.display, shell=self.shell, interactive=ask.cell_id is not None)
            reply = self.session.send(turn, view)
        self._deliver(ask, reply)

    def _map_run(self) -> MapRun:
        from pathlib import Path

        from .map_run import MapRun
        from .progress import NotebookScreen

        settings = self.settings()
        screen = NotebookScreen(settings.display, self.shell, interactive=self.cells.current_cell_id is not None)
        return MapRun(self.session, settings, screen, Path.cwd())

    def _deliver_map(self, result: MapResult | None) -> Any:
        """-o NAME gets the answers and NAME_errors the reasons; without it they are the cell's value."""
        if result is None or not result.out:
            return None if result is None else result.value
        self.shell.user_ns[result.out] = result.value
        self.shell.user_ns[f"{result.out}_errors"] = result.errors
        return None

    def _deliver(self, ask: Any, reply: Reply) -> None:
        from .reply import runnable_code

        if ask.out:
            self.shell.user_ns[ask.out] = reply
        if ask.code:
            code = runnable_code(reply.text)
            if not code:
                note("the reply has no Python code block to put in a cell.")
            elif self.session.code_to_insert(ask.cell_id, code):
                self.shell.set_next_input(code, replace=False)
            else:
                note("the same code is already in the cell below, from this cell's last run.")

    def close(self) -> None:
        self.cells.detach(self.shell)
        if self._session is not None:
            self._session.close()


def _parser(magic: Any) -> argparse.ArgumentParser:
    return magic.parser  # made by magic_arguments when the class was defined
