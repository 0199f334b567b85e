"""A kernel's Claude session and the turn: prepare, send, commit, with no IPython in sight.

`Session` holds what outlives a cell: the conversations, the ledger of spending, the SDK client,
what each model can do (`capabilities`, asked once per model), the cell log, the documents sent
(pages counted, large ones uploaded once) and a key typed with `%claude_key`. A turn is a `TurnRequest` (what the user
asked, typed) under a `Settings` snapshot. `prepare` decides everything that can be decided, and
refused, before anything is sent (with `-k`, the kernel's tools: `kernel_tools`); `send` runs the
turn's requests (`loop`) into a live view and commits the whole exchange at the end, tool calls and
all, or nothing: a failed, dropped or interrupted turn leaves every conversation as it was, says
what code Claude already ran, and is still billed for what the API reported. A reply that must not
be kept (a refusal, a tool call no tool answers) is not committed either. One turn at a time runs
in a conversation (`exclusive`): a second one, from another thread, waits for it and then sees it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from . import models, web
from .attachments import attachments
from .capabilities import Capabilities, refusal
from .catalog import ModelFacts
from .cells import CellLog
from .client import ClientCache, Connection, count_tokens, resolve_api_key
from .context import Limits, expand_prompt
from .conversation import (
    DEFAULT_CHAT,
    Conversation,
    Conversations,
    Message,
    check_text,
    user_message,
)
from .course import refuse_locked_flags
from .documents import PageCounts, Uploads, check_request, uploads_on_send
from .errors import ClaudeError, one_line
from .failures import turn_failure
from .guidance import budget_stop
from .locks import TurnLocks
from .loop import TurnLoop
from .output import Final, TurnView
from .pricing import Ledger, PriceTable, Usage, footer, format_cost, streamed_tokens, usage_from_api
from .reply import Reply, check_out_name, reply_note
from .reports import DryRun
from .request import TurnOptions, build_request, cites, estimate_tokens
from .schema import Schema, named_schema
from .sent import sent_line
from .settings import Settings
from .styles import compose, style_text
from .tools import Toolbox, ran_note
from .turn_checks import check_documents, check_size, kept_reply, max_tokens_of, parse_data, replaces_last

if TYPE_CHECKING:
    from .kernel_tools import KernelTools

__all__ = ["Session", "TurnRequest", "PreparedTurn", "FIX_PROMPT", "limits_of"]

# What %claude_fix asks, with the last error attached (-x) and the fix offered as a cell (--code).
FIX_PROMPT = (
    "The cell in the error above failed. In two or three sentences, say what went wrong and why; then "
    "give the corrected cell as a single Python code block I can run."
)

Notify = Callable[[str], None]


@dataclass(frozen=True)
class TurnRequest:
    """One `%%claude` cell, as typed: its prompt and its options."""

    text: str
    model: str | None = None
    system: str | None = None
    new: bool = False
    chat: str | None = None
    with_: tuple[str, ...] = ()
    fig: bool = False
    images: tuple[str, ...] = ()
    docs: tuple[str, ...] = ()
    web: bool = False
    style: str | None = None
    think: bool = False
    effort: str | None = None
    max_tokens: int | None = None
    out: str | None = None
    code: bool = False
    raw: bool = False
    dry_run: bool = False
    error: bool = False
    kernel: bool = False  # -k: Claude may call the kernel's read-only tools
    run: bool = False  # --run (implies -k): and run code, once approved
    schema: str | None = None  # the variable holding the answer's schema (--schema)
    cell_id: str | None = None  # the notebook cell that asks, where the frontend says (Lab, Notebook 7)


@dataclass(frozen=True)
class PreparedTurn:
    chat: Conversation
    system: str  # as resolved for this conversation: "" is "none", and stays so
    user: Message
    options: TurnOptions
    request: dict[str, Any]
    prompt: str
    settings: Settings
    prices: PriceTable
    sent: str  # what was attached, in one line
    cell_id: str | None
    replace_last: bool  # this cell asked the conversation's latest turn: its new answer replaces it
    notify: Notify  # where the turn's notes go, from preparing it to its end
    schema: Schema | None = None
    toolbox: Toolbox | None = None  # the tools Claude may call this turn (-k)


class Session:
    """See the module docstring."""

    def __init__(self, cells: CellLog | None = None) -> None:
        self.conversations = Conversations()
        self.clients = ClientCache()
        self.ledger = Ledger()
        self.cells = cells or CellLog()
        self.entered_key: str | None = None
        self.capabilities = Capabilities()
        self.pages = PageCounts()  # of the PDFs this kernel sent, so a conversation's are not read again
        self.uploads = Uploads()
        self._inserted_code: dict[str, str] = {}  # by cell id: what --code last put below that cell
        self._noted: set[str] = set()  # notes said once a kernel
        self._kernel_tools: KernelTools | None = None  # made on the first -k turn
        # One turn at a time in a conversation: `with session.exclusive(chat, notify): prepare; send`.
        self.exclusive = TurnLocks(DEFAULT_CHAT).exclusive

    def prepare(self, ask: TurnRequest, settings: Settings, namespace: Mapping[str, Any], notify: Notify) -> PreparedTurn:
        """Everything about a turn that can be decided, and refused, before anything is sent."""
        if ask.out is not None:
            check_out_name(ask.out)
        schema = named_schema(namespace, ask.schema)
        if ask.dry_run and (ask.out or ask.code):
            raise ClaudeError("--dry-run sends nothing, so there is no reply for -o or --code: drop one or the other.")
        refuse_locked_flags(ask, settings, models.resolve)
        for flag, value, wanted in (("-m", ask.model, "a model id or alias (opus, sonnet, haiku)"), ("-c", ask.chat, "a conversation name")):
            if value is not None and not value.strip():
                raise ClaudeError(f"{flag} needs {wanted}, not an empty string; leave {flag} out for the default.")
        check_text(ask.text, "the prompt")
        name = ask.chat or DEFAULT_CHAT
        # A fresh conversation (-n) and a new system prompt (-s) take effect only when a turn
        # completes: a failed turn or a dry run leaves everything as it was.
        chat = Conversation(name=name) if ask.new else self.conversations.get(name)
        system = next(s for s in (ask.system, chat.system, settings.system) if s is not None)
        check_text(system, "the system prompt")
        style = style_text(settings.style if ask.style is None else ask.style, settings.styles)
        model = models.resolve(ask.model or settings.model)
        max_tokens = max_tokens_of(ask.max_tokens, settings)
        limits = limits_of(settings)
        attached, sent = attachments(
            namespace, limits, self.cells, names=ask.with_, figures=ask.fig, images=ask.images, docs=ask.docs,
            error=ask.error,
        )
        expansion = expand_prompt(ask.text, namespace, raw=ask.raw, limits=limits)
        for note in expansion.notes:
            notify(note)
        user = user_message([*attached, *expansion.blocks])
        for block in user["content"]:  # what the checks above did not name: the last error (-x), say
            check_text(block.get("text", ""), "this turn's message")
        replace_last = replaces_last(chat, None if ask.new else ask.cell_id, notify)
        prices = PriceTable(settings.prices)
        facts = self._checked_model(ask, model, max_tokens, settings, prices, notify)
        messages = chat.request_messages(user, replace_last=replace_last)
        check_documents(messages, facts)
        plan = models.context_plan(facts, chat.context_tokens, chat.compacted)
        if plan.refusal:
            raise ClaudeError(plan.refusal)
        if plan.warning:
            notify(plan.warning)
        toolbox, tools = self._tools(ask, settings, namespace, chat.tool_names(replace_last=replace_last))
        options = TurnOptions(
            model=model, max_tokens=max_tokens, system=compose(style, system) or None, cache_ttl=settings.cache_ttl,
            think=ask.think, effort=ask.effort, compact=plan.compact,
            output_format=schema.output_format() if schema else None, tools=tuple(tools), web=ask.web, facts=facts,
        )
        if schema and facts.supports("citations") and cites(messages):
            notify("under --schema the documents go without citations this turn (the API takes one or the other).")
        request = build_request(messages, options)
        check_size(request, user, notify)
        check_request(request["messages"], self.pages)
        return PreparedTurn(
            chat, system, user, options, request, ask.text, settings, prices,
            sent_line([*sent, *expansion.sent]), ask.cell_id, replace_last, notify, schema, toolbox,
        )

    def _checked_model(
        self, ask: TurnRequest, model: str, max_tokens: int, settings: Settings, prices: PriceTable, notify: Notify,
    ) -> ModelFacts:
        """What `model` can do, once it is clear it would take this turn; a missing price is said once."""
        facts = self.model_facts(model, settings, notify, offline_ok=ask.dry_run)
        refused = refusal(facts, think=ask.think, effort=ask.effort, max_tokens=max_tokens) or (
            web.refusal(facts) if ask.web else ""
        )
        if refused:
            raise ClaudeError(refused)
        if prices.price(model) is None:
            self.note_once(f"no price is published for {model}: footers show its tokens and \"cost n/a\" "
                           "(ClaudeMagics.prices can add one).", notify)
        return facts

    def model_facts(self, model: str, settings: Settings, notify: Notify, offline_ok: bool = True) -> ModelFacts:
        """What `model` can do, asked of the Models API the first time (`capabilities`). Without a
        client (no key, an unreadable fixture) that is an error, unless `offline_ok` (a dry run)."""
        return self.capabilities.facts(model, *self._client_or_why(settings, offline_ok), notify=notify)

    def lineup(self, settings: Settings, notify: Notify) -> tuple[list[ModelFacts], str]:
        """The models the API offers now (`%claude_models`), or the built-in table, and which it is."""
        return self.capabilities.listing(*self._client_or_why(settings, True), notify=notify)

    def _client_or_why(self, settings: Settings, offline_ok: bool) -> tuple[Any, str]:
        try:
            return self.clients.get(self.connection(settings)), ""
        except ClaudeError as error:
            if not offline_ok:
                raise
            return None, one_line(str(error), 100)

    def note_once(self, message: str, notify: Notify) -> None:
        if message not in self._noted:
            self._noted.add(message)
            notify(message)

    def send(self, turn: PreparedTurn, view: TurnView) -> Reply:
        """Stream the turn into `view`; commit it whole, or leave everything as it was."""
        self.check_budget(turn.settings)
        client = self.clients.get(self.connection(turn.settings))
        model = turn.options.model
        view.start(model, turn.sent)
        loop = TurnLoop(
            view, self.clients.retries, lambda warning: self.note_once(warning, turn.notify), turn.toolbox,
            turn.settings.max_tool_calls, guard=lambda: self._check_spent(turn, loop),
        )
        try:
            user, request = self._with_uploads(client, turn, view)
            reply = self._reply(loop.run(client, request), loop.messages, turn)
            last = usage_from_api(loop.messages[-1].usage, turn.settings.cache_ttl)
            turn.chat.commit_exchange(
                [user, *loop.exchange, kept_reply(reply.message)], reply.usage, reply.cost, context=last,
                system=turn.system, cell_id=turn.cell_id, replace_last=turn.replace_last,
            )
        except BaseException as error:
            failure = turn_failure(error, model=model, prompt=turn.prompt, settings=turn.settings)
            refused = bool(loop.messages) and loop.messages[-1].stop_reason == "refusal"
            view.fail(f"{model} · {'declined, not kept' if refused else 'incomplete'}")
            self._bill(turn, loop)
            if failure is None:
                raise
            ran = ran_note(loop.calls)
            failure = ClaudeError(f"{failure} {ran}") if ran else failure
        else:
            self.conversations.put(turn.chat)
            self.ledger.add(turn.chat.name, reply.model, reply.usage, reply.cost)
            note = " ".join(part for part in (reply_note(reply, turn.options.max_tokens), parse_data(reply, turn.schema)) if part)
            view.finish(Final(reply.text, reply.thinking, self._footer(reply, turn), note, turn.sent, reply.sources, loop.steps))
            return reply
        # Raised here, not in the handler, so the one line carries no context: the SDK's error holds
        # the server's own text, unscrubbed.
        raise failure

    def _with_uploads(self, client: Any, turn: PreparedTurn, view: TurnView) -> tuple[Message, dict[str, Any]]:
        """The turn's message and request with each large document sent once through the Files API
        and named by its file id (`documents.Uploads`); as prepared when there is none."""
        content = turn.user["content"]
        if not isinstance(content, list) or not any(uploads_on_send(block) for block in content):
            return turn.user, turn.request
        view.status("uploading documents (Files API)")
        user: Message = {**turn.user, "content": self.uploads.replaced(client, content, self.pages)}
        return user, {**turn.request, "messages": [*turn.request["messages"][:-1], user]}

    def dry_run(self, turn: PreparedTurn) -> DryRun:
        """What `turn` would send and cost, counted by the API where it can be asked."""
        request, options = turn.request, turn.options
        try:
            tokens, counted = count_tokens(self.clients.get(self.connection(turn.settings)), request), "counted by the API"
        except Exception as error:
            failure = turn_failure(error, model=options.model, prompt="", settings=turn.settings)
            if failure is None:
                raise
            tokens, counted = estimate_tokens(request), f"an estimate: {failure}"
        return DryRun(
            model=options.model, blocks=turn.user["content"], earlier_messages=len(request["messages"]) - 1,
            system=options.system, max_tokens=options.max_tokens, input_tokens=tokens, counted=counted,
            input_cost=format_cost(turn.prices.cost(options.model, Usage(input_tokens=tokens))),
            output_cost=format_cost(turn.prices.cost(options.model, Usage(output_tokens=options.max_tokens))),
            web=options.web, tools=tuple(tool["name"] for tool in options.tools),
        )

    def connection(self, settings: Settings) -> Connection:
        return Connection(
            api_key=resolve_api_key(self.entered_key),
            base_url=settings.base_url or None,
            max_retries=settings.max_retries,
            timeout=settings.timeout,
            max_retry_wait=settings.max_retry_wait,
            fixture=settings.fixture,
            fixture_mode=settings.fixture_mode,
        )

    def code_to_insert(self, cell_id: str | None, code: str) -> bool:
        """Whether `--code` should put `code` in a new cell: not when this cell put the same code
        there the last time it ran (re-running it would stack copies)."""
        if cell_id is None:
            return True
        fresh = self._inserted_code.get(cell_id) != code
        self._inserted_code[cell_id] = code
        return fresh

    def close(self) -> None:
        self.clients.close()

    def check_budget(self, settings: Settings) -> None:
        """Refuse, before anything is sent, a turn or a job of a kernel that has spent its budget."""
        if settings.budget_usd and self.ledger.total >= settings.budget_usd:
            raise ClaudeError(budget_stop(self.ledger.total, settings))

    def _tools(
        self, ask: TurnRequest, settings: Settings, namespace: Mapping[str, Any], used: set[str],
    ) -> tuple[Toolbox | None, list[dict[str, Any]]]:
        """The turn's toolbox (with -k) and the tool definitions it sends: the toolbox's, or, in a
        conversation that has used tools, the ones its history calls (the API refuses tool blocks
        without them), the same bytes so the prefix stays cached; a call in such a turn is refused."""
        if not (ask.kernel or ask.run or used):
            return None, []
        from . import kernel_tools

        run = ask.run or kernel_tools.RUN_CODE in used
        if not (ask.kernel or ask.run):
            return None, kernel_tools.definitions(run=run)
        if ask.run and settings.run_code == "never":
            raise ClaudeError("--run: ClaudeMagics.run_code is 'never', so Claude may not run code here; drop --run, or set it to 'ask'.")
        if self._kernel_tools is None or self._kernel_tools.namespace is not namespace:
            self._kernel_tools = kernel_tools.KernelTools(namespace, self.cells)
        # Once a conversation has called run_code it stays defined (refused without --run), as its history needs.
        toolbox = kernel_tools.turn_tools(self._kernel_tools, settings, limits_of(settings), run=ask.run, defined=run)
        return toolbox, toolbox.definitions

    def _check_spent(self, turn: PreparedTurn, loop: TurnLoop) -> None:
        """Between a turn's requests: stop once what the kernel and this turn have spent reaches the budget."""
        budget = turn.settings.budget_usd
        if not budget:
            return
        spent = self.ledger.total + (self._reply(loop.messages[-1], loop.messages, turn).cost or 0.0)
        if spent >= budget:
            raise ClaudeError(budget_stop(spent, turn.settings, mid_turn=True))

    def _reply(self, message: Any, parts: list[Any], turn: PreparedTurn) -> Reply:
        """The reply object; a turn of several requests (tool steps, resumed pauses) bills each of its
        `parts` (as its own request: a tiered price is chosen by each request's prompt), and its
        thinking is all of theirs."""
        usages = [usage_from_api(part.usage, turn.settings.cache_ttl) for part in parts]
        costs = [turn.prices.cost(part.model, usage) for part, usage in zip(parts, usages)]
        total = None if None in costs else sum(cost or 0.0 for cost in costs)
        reply = Reply.of(message, sum(usages, Usage()), total)
        thinking = ("".join(block.thinking for block in part.content if block.type == "thinking") for part in parts)
        return replace(reply, thinking="\n\n".join(text for text in thinking if text))

    def _bill(self, turn: PreparedTurn, loop: TurnLoop) -> None:
        """A turn that failed after the API started answering is billed all the same: its complete
        parts as reported, and the part cut short for its input and the output it had streamed (the
        API reports output tokens only at the end, so a cut part's are estimated from its text)."""
        for part in loop.billed():
            usage = usage_from_api(part.usage, turn.settings.cache_ttl)
            if part is loop.cut:
                usage = replace(usage, output_tokens=max(usage.output_tokens, streamed_tokens(part)))
            self.ledger.add(turn.chat.name, part.model, usage, turn.prices.cost(part.model, usage))

    def _footer(self, reply: Reply, turn: PreparedTurn) -> str:
        budget = turn.settings.budget_usd
        budget_left = budget - self.ledger.total if budget else None
        return footer(reply.model, reply.usage, reply.cost, turn.chat.spend.known_cost, budget_left)


def limits_of(settings: Settings) -> Limits:
    """The bounds of object summaries in prompts, from the settings."""
    return Limits(
        max_rows=settings.max_rows, max_columns=settings.max_columns, max_chars=settings.max_chars,
        max_string_chars=settings.max_string_chars,
    )
