"""`%%claude` and `%claude`: options, configuration, and the orchestration of one turn.

This module parses and wires; the decisions live in plain modules: what a prompt becomes
(`context`), what the history may hold (`conversation`), what is sent and how it streams
(`client`), what is shown (`display`) and what it costs (`pricing`).
"""

from __future__ import annotations

import getpass
from dataclasses import dataclass
from typing import Any

from IPython.core.magic import Magics, line_cell_magic, line_magic, magics_class, no_var_expand
from IPython.core.magic_arguments import argument, magic_arguments
from traitlets import Dict, Enum, Float, Int, TraitError, Unicode, validate

from . import models
from .client import (
    API_KEY_ENV,
    FIXTURE_MODES,
    ClientCache,
    Connection,
    TurnOptions,
    TurnStream,
    build_request,
    count_tokens,
    estimate_tokens,
    resolve_api_key,
)
from .context import Limits, expand_prompt, object_blocks
from .conversation import DEFAULT_CHAT, Conversation, Conversations, assistant_message, user_message
from .display import DISPLAY_MODES, DryRun, Final, dry_run_report, make_view, show
from .errors import ClaudeError, turn_failure
from .images import FigureStash, image_block, path_or_url_block
from .options import parse_options, split_line
from .pricing import Ledger, Usage, cost, footer, format_cost, parse_prices, price_for, usage_from_api
from .reply import Reply, reply_note, runnable_code, stop_note

EFFORTS = ("low", "medium", "high", "max")


@dataclass(frozen=True)
class PreparedTurn:
    chat: Conversation
    system: str  # as resolved for this conversation: "" is "none", and stays so
    user: dict[str, Any]
    options: TurnOptions
    request: dict[str, Any]


@magics_class
class ClaudeMagics(Magics):
    """Claude in the notebook. Every setting here is also `%config ClaudeMagics.<name>`."""

    model = Unicode(models.DEFAULT_MODEL, help="Model id or alias (opus, sonnet, haiku) for new turns.").tag(config=True)
    max_tokens = Int(4096, help="Output token limit of a turn (override per turn with --max-tokens).").tag(config=True)
    system = Unicode("", help="System prompt of new conversations (override per conversation with -s).").tag(config=True)
    display = Enum(
        DISPLAY_MODES, default_value="auto",
        help="How answers stream: widget (live view), markdown (no widget manager), text (terminal), or auto.",
    ).tag(config=True)
    fixture = Unicode(
        "", help="Path of a recorded-response fixture (JSON); empty for none. Relative to the kernel's directory.",
    ).tag(config=True)
    fixture_mode = Enum(
        FIXTURE_MODES, default_value="auto",
        help="With a fixture: auto (replay what is recorded, else call the API if a key is set), replay "
        "(strict: a miss is an error, never the network), record (call the API and write the fixture), "
        "off. The environment variable CLAUDE_MAGIC_FIXTURE_MODE overrides it.",
    ).tag(config=True)
    cache_ttl = Enum(("5m", "1h"), default_value="5m", help="Prompt cache lifetime: 5m or 1h.").tag(config=True)
    max_retries = Int(2, help="Retries the SDK makes on 429, 529, 5xx and connection errors.").tag(config=True)
    timeout = Float(600.0, help="Seconds before a request times out.").tag(config=True)
    base_url = Unicode("", help="API base URL; empty to let the SDK use ANTHROPIC_BASE_URL or its default.").tag(config=True)
    prices = Dict(
        help='Extra prices in $ per million tokens, by model id prefix: {"my-model": {"input": 3, "output": 15}}.',
    ).tag(config=True)
    budget_usd = Float(
        0.0, help="Stop sending once this kernel has spent this many dollars (0: no budget). The footer shows what is left.",
    ).tag(config=True)
    max_rows = Int(10, help="DataFrame rows shown (first and last) when a frame is put in a prompt.").tag(config=True)
    max_columns = Int(20, help="DataFrame columns shown before the rest are summarised.").tag(config=True)
    max_chars = Int(20_000, help="Characters at most of one object's summary or repr in a prompt.").tag(config=True)
    max_string_chars = Int(100_000, help="Characters at most of one string variable in a prompt.").tag(config=True)

    def __init__(self, shell: Any = None, **kwargs: Any) -> None:
        super().__init__(shell=shell, **kwargs)
        self.conversations = Conversations()
        self.clients = ClientCache()
        self.ledger = Ledger()
        self.figures = FigureStash()
        self._entered_key: str | None = None
        # Ahead of the inline backend's own post_execute hook, which closes the cell's figures.
        self.shell.events.callbacks["post_execute"].insert(0, self._keep_figures)

    def _keep_figures(self) -> None:
        # Runs after every cell: a failure here must never spoil the user's own output, and
        # losing the stash only costs -f its fallback.
        try:
            self.figures.capture()
        except Exception:
            self.figures.clear()

    @validate("prices")
    def _valid_prices(self, proposal: Any) -> dict[str, Any]:
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

    @magic_arguments()
    @argument("-m", "--model", help="Model id or alias: opus, sonnet, haiku. Example: %%%%claude -m haiku")
    @argument("-s", "--system", help='System prompt of the conversation from this turn on. Example: -s "Answer in French."')
    @argument("-n", "--new", action="store_true", help="Start a fresh conversation with this turn. Example: %%%%claude -n")
    @argument("-c", "--chat", metavar="NAME", help="Use the named conversation instead of the kernel's own. Example: -c review")
    @argument("-w", "--with", dest="with_", nargs="+", metavar="NAME", help="Attach variables as context. Example: %%%%claude -w df model")
    @argument("-f", "--fig", action="store_true", help="Attach the open matplotlib figures, or those the previous cell showed. Example: %%%%claude -f")
    @argument("-i", "--image", action="append", metavar="PATH_OR_URL", help="Attach an image file or URL; repeatable. Example: -i chart.png")
    @argument("-t", "--think", action="store_true", help="Let Claude think first; the thinking shows in a collapsible section. Example: %%%%claude -t")
    @argument("-e", "--effort", choices=EFFORTS, help="How much effort Claude spends: low, medium, high, max. Example: -e low")
    @argument("--max-tokens", type=int, metavar="N", help="Output limit for this turn. Example: --max-tokens 8000")
    @argument("-o", "--out", metavar="NAME", help="Store the reply (.text, .thinking, .usage, .cost, .stop_reason, .message) in NAME. Example: -o answer")
    @argument("--code", action="store_true", help="Put the reply's Python code into a new cell below. Example: %%%%claude --code")
    @argument("--raw", action="store_true", help="Send the text exactly as written: no {name} expansion. Example: %%%%claude --raw")
    @argument("--dry-run", action="store_true", help="Show what would be sent, its token count and cost; send nothing. Example: %%%%claude --dry-run")
    @argument("prompt", nargs="*", help="The prompt (line magic), or the cell below %%%%claude. Example: %%claude what is 2**10?")
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
        Configuration: %config ClaudeMagics (model, max_tokens, system, display, fixture, budget_usd, ...).
        """
        # On a cell's first line every word is an option's; in a line magic -w takes the words that
        # name variables and the prompt starts at the first that does not.
        is_name = self._is_variable if cell is None else str.isidentifier
        options, prompt = split_line(line, self.claude.parser, is_name)
        args = parse_options(self.claude.parser, options)
        text = "\n".join(part for part in (prompt, cell) if part and part.strip()).strip()
        self._run_turn(args, text)

    @line_magic
    def claude_key(self, line: str) -> None:
        """Type the API key without showing it; it is kept in memory for this kernel only."""
        key = getpass.getpass("Anthropic API key (not shown, not saved): ").strip()
        if not key:
            kept = "the key entered earlier stays in use" if self._entered_key else f"{API_KEY_ENV} is used if set"
            raise ClaudeError(f"No key entered; {kept}.")
        self._entered_key = key
        print("Key set for this kernel.")

    def _is_variable(self, token: str) -> bool:
        return token.isidentifier() and token in self.shell.user_ns

    @line_magic
    def claude_usage(self, line: str) -> None:
        """Tokens and cost of this kernel's turns, by conversation and model."""
        if not self.ledger.spends:
            print("No turns yet.")
            return
        show(*self.ledger.table())

    def _run_turn(self, args: Any, text: str) -> None:
        turn = self._prepare(args, text)
        if args.dry_run:
            return self._dry_run(turn)
        self._check_budget()
        reply = self._send(turn, text)
        self._deliver(args, reply)

    def _prepare(self, args: Any, text: str) -> PreparedTurn:
        """Everything about a turn that can be decided, and refused, before anything is sent."""
        if args.out is not None and not args.out.isidentifier():
            raise ClaudeError(f"-o needs a variable name, not {args.out!r}.")
        if args.dry_run and (args.out or args.code):
            raise ClaudeError("--dry-run sends nothing, so there is no reply for -o or --code: drop one or the other.")
        name = args.chat or DEFAULT_CHAT
        # A fresh conversation (-n) and a new system prompt (-s) take effect only when a turn
        # completes: a failed turn or a dry run leaves everything as it was.
        chat = Conversation(name=name) if args.new else self.conversations.get(name)
        system = next(s for s in (args.system, chat.system, self.system) if s is not None)
        model = models.resolve(args.model or self.model)
        user = user_message([*self._attachments(args), *self._prompt_blocks(text, raw=args.raw)])
        plan = models.context_plan(model, chat.context_tokens, chat.compacted)
        if plan.refusal:
            raise ClaudeError(plan.refusal)
        if plan.warning:
            print(f"note: {plan.warning}")
        options = TurnOptions(
            model=model, max_tokens=self._max_tokens(args), system=system or None, cache_ttl=self.cache_ttl,
            think=args.think, effort=args.effort, compact=plan.compact,
        )
        return PreparedTurn(chat, system, user, options, build_request(chat.request_messages(user), options))

    def _send(self, turn: PreparedTurn, text: str) -> Reply:
        """Stream the turn into a live view; commit it whole, or leave everything as it was."""
        client = self.clients.get(self._connection())
        model = turn.options.model
        view = make_view(self.display, shell=self.shell)
        view.start(model)
        stream = TurnStream(view, self.clients.retries)
        try:
            reply = self._reply(stream.run(client, turn.request), stream.messages)
            last = usage_from_api(stream.messages[-1].usage, self.cache_ttl)
            turn.chat.commit(turn.user, self._assistant(reply.message), reply.usage, reply.cost, context=last)
        except BaseException as error:
            failure = turn_failure(error, model=model, prompt=text)
            view.fail(self._partial(stream, model, failure or error))
            self._bill_partial(turn.chat.name, model, stream)
            if failure is None:
                raise
            raise failure from None
        turn.chat.system = turn.system
        self.conversations.put(turn.chat)
        self.ledger.add(turn.chat.name, reply.model, reply.usage, reply.cost)
        note = reply_note(reply, turn.options.max_tokens)
        view.finish(Final(reply.text, reply.thinking, self._footer(reply, turn.chat), note))
        return reply

    def _dry_run(self, turn: PreparedTurn) -> None:
        request, options = turn.request, turn.options
        try:
            tokens, counted = count_tokens(self.clients.get(self._connection()), request), "counted by the API"
        except Exception as error:
            failure = turn_failure(error, model=options.model, prompt="")
            if failure is None:
                raise
            tokens, counted = estimate_tokens(request), f"an estimate: {failure}"
        price = price_for(options.model, self.prices)
        show(*dry_run_report(DryRun(
            model=options.model, blocks=turn.user["content"], earlier_messages=2 * turn.chat.turns,
            system=options.system, max_tokens=options.max_tokens, input_tokens=tokens, counted=counted,
            input_cost=format_cost(cost(Usage(input_tokens=tokens), price)),
            output_cost=format_cost(cost(Usage(output_tokens=options.max_tokens), price)),
        )))

    def _bill_partial(self, chat: str, model: str, stream: TurnStream) -> None:
        """A turn that failed after the API started answering is billed all the same: count what the
        API had reported (its input, and the output so far) so the usage and the budget see it."""
        for part in stream.billed():
            usage = usage_from_api(part.usage, self.cache_ttl)
            self.ledger.add(chat, part.model, usage, cost(usage, price_for(part.model, self.prices)))

    def _check_budget(self) -> None:
        if self.budget_usd and self.ledger.total >= self.budget_usd:
            raise ClaudeError(
                f"Budget reached: this kernel has spent {format_cost(self.ledger.total)} of its "
                f"{format_cost(self.budget_usd)} (ClaudeMagics.budget_usd). Raise it to go on."
            )

    def _max_tokens(self, args: Any) -> int:
        if args.max_tokens is None:
            return self.max_tokens
        if args.max_tokens < 1:
            raise ClaudeError(f"--max-tokens must be a positive whole number, not {args.max_tokens}.")
        return args.max_tokens

    def _limits(self) -> Limits:
        return Limits(
            max_rows=self.max_rows, max_columns=self.max_columns, max_chars=self.max_chars,
            max_string_chars=self.max_string_chars,
        )

    def _attachments(self, args: Any) -> list[dict[str, Any]]:
        """Blocks for -w, -f and -i, placed before the prompt: Claude reads context best first."""
        blocks: list[dict[str, Any]] = []
        for name in args.with_ or ():
            if name not in self.shell.user_ns:
                raise ClaudeError(f"-w {name}: there is no variable named {name!r} here.")
            blocks += object_blocks(name, self.shell.user_ns[name], self._limits())
        if args.fig:
            figures = self.figures.figures()
            if not figures:
                raise ClaudeError("-f: no matplotlib figure is open, and the previous cell showed none. Plot first.")
            blocks += [image_block(figure) for figure in figures]
        blocks += [path_or_url_block(spec) for spec in args.image or ()]
        return blocks

    def _prompt_blocks(self, text: str, *, raw: bool) -> list[dict[str, Any]]:
        expansion = expand_prompt(text, self.shell.user_ns, raw=raw, limits=self._limits())
        for note in expansion.notes:
            print(f"note: {note}")
        return expansion.blocks

    def _connection(self) -> Connection:
        return Connection(
            api_key=resolve_api_key(self._entered_key),
            base_url=self.base_url or None,
            max_retries=self.max_retries,
            timeout=self.timeout,
            fixture=self.fixture,
            fixture_mode=self.fixture_mode,
        )

    def _reply(self, message: Any, parts: list[Any]) -> Reply:
        """The reply object; a resumed pause bills each of its `parts`."""
        usage = sum((usage_from_api(part.usage, self.cache_ttl) for part in parts), Usage())
        return Reply(
            text="".join(block.text for block in message.content if block.type == "text"),
            thinking="".join(block.thinking for block in message.content if block.type == "thinking"),
            model=message.model, usage=usage, cost=cost(usage, price_for(message.model, self.prices)),
            stop_reason=message.stop_reason, message=message,
        )

    @staticmethod
    def _assistant(message: Any) -> dict[str, Any]:
        assistant = assistant_message(block.to_dict(mode="json") for block in message.content)
        if assistant is None:
            why = stop_note(message.stop_reason, 0) if message.stop_reason == "refusal" else (
                f"The reply held no text (stop reason: {message.stop_reason}). Try a larger --max-tokens."
            )
            raise ClaudeError(f"{why} Nothing was added to the conversation.")
        return assistant

    def _footer(self, reply: Reply, chat: Conversation) -> str:
        budget_left = self.budget_usd - self.ledger.total if self.budget_usd else None
        return footer(reply.model, reply.usage, reply.cost, chat.spend.known_cost, budget_left)

    def _partial(self, stream: TurnStream, model: str, error: BaseException) -> Final:
        return Final("".join(stream.text), "".join(stream.thinking), f"{model} · incomplete", f"⚠ {error}")

    def _deliver(self, args: Any, reply: Reply) -> None:
        if args.out:
            self.shell.user_ns[args.out] = reply
        if args.code:
            code = runnable_code(reply.text)
            if code:
                self.shell.set_next_input(code, replace=False)
            else:
                print("note: the reply has no Python code block to put in a cell.")

    def close(self) -> None:
        self.shell.events.unregister("post_execute", self._keep_figures)
        self.clients.close()
