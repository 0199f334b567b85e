"""A kernel's Claude session and the turn: prepare, send, commit, with no IPython in sight.

`Session` holds what outlives a cell: the conversations, the ledger of spending, the SDK client,
the figure stash and a key typed with `%claude_key`. A turn is a `TurnRequest` (what the user
asked, typed) under a `Settings` snapshot. `prepare` decides everything that can be decided, and
refused, before anything is sent (with `-k`, the kernel's tools: `kernel_tools`); `send` runs the
turn's requests (`loop`) into a live view and commits the whole exchange at the end, tool calls and
all, or nothing: a failed, dropped or interrupted turn leaves every conversation as it was, says
what code Claude already ran, and is still billed for what the API reported.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from . import models
from .attachments import attachments
from .cells import CellLog
from .client import ClientCache, Connection, count_tokens, resolve_api_key
from .context import Limits, expand_prompt
from .conversation import DEFAULT_CHAT, Conversation, Conversations, Message, assistant_message, tool_uses, user_message
from .errors import ClaudeError
from .failures import turn_failure
from .loop import TurnLoop
from .output import Final, TurnView
from .pricing import Ledger, PriceTable, Usage, footer, format_cost, streamed_tokens, usage_from_api
from .reply import Reply, reply_note, stop_note
from .reports import DryRun
from .request import TurnOptions, build_request, estimate_tokens
from .sent import sent_line
from .settings import Settings
from .tools import Toolbox, ran_note

if TYPE_CHECKING:
    from .kernel_tools import KernelTools

__all__ = ["Session", "TurnRequest", "PreparedTurn", "FIX_PROMPT"]

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
    toolbox: Toolbox | None = None  # the tools Claude may call this turn (-k)


class Session:
    """See the module docstring."""

    def __init__(self, cells: CellLog | None = None) -> None:
        self.conversations = Conversations()
        self.clients = ClientCache()
        self.ledger = Ledger()
        self.cells = cells or CellLog()
        self.entered_key: str | None = None
        self._inserted_code: dict[str, str] = {}  # by cell id: what --code last put below that cell
        self._kernel_tools: KernelTools | None = None  # made on the first -k turn

    def prepare(self, ask: TurnRequest, settings: Settings, namespace: Mapping[str, Any], notify: Notify) -> PreparedTurn:
        """Everything about a turn that can be decided, and refused, before anything is sent."""
        if ask.out is not None and not ask.out.isidentifier():
            raise ClaudeError(f"-o needs a variable name, not {ask.out!r}.")
        if ask.dry_run and (ask.out or ask.code):
            raise ClaudeError("--dry-run sends nothing, so there is no reply for -o or --code: drop one or the other.")
        name = ask.chat or DEFAULT_CHAT
        # A fresh conversation (-n) and a new system prompt (-s) take effect only when a turn
        # completes: a failed turn or a dry run leaves everything as it was.
        chat = Conversation(name=name) if ask.new else self.conversations.get(name)
        system = next(s for s in (ask.system, chat.system, settings.system) if s is not None)
        model = models.resolve(ask.model or settings.model)
        limits = _limits(settings)
        attached, sent = attachments(
            namespace, limits, self.cells, names=ask.with_, figures=ask.fig, images=ask.images, error=ask.error,
        )
        expansion = expand_prompt(ask.text, namespace, raw=ask.raw, limits=limits)
        for note in expansion.notes:
            notify(note)
        user = user_message([*attached, *expansion.blocks])
        replace_last = _replaces_last(chat, ask, notify)
        plan = models.context_plan(model, chat.context_tokens, chat.compacted)
        if plan.refusal:
            raise ClaudeError(plan.refusal)
        if plan.warning:
            notify(plan.warning)
        toolbox, tools = self._tools(ask, settings, namespace, chat.tool_names(replace_last=replace_last))
        options = TurnOptions(
            model=model, max_tokens=_max_tokens(ask, settings), system=system or None, cache_ttl=settings.cache_ttl,
            think=ask.think, effort=ask.effort, compact=plan.compact, tools=tuple(tools),
        )
        request = build_request(chat.request_messages(user, replace_last=replace_last), options)
        return PreparedTurn(
            chat, system, user, options, request, ask.text, settings, PriceTable(settings.prices),
            sent_line([*sent, *expansion.sent]), ask.cell_id, replace_last, toolbox,
        )

    def send(self, turn: PreparedTurn, view: TurnView) -> Reply:
        """Stream the turn into `view`; commit it whole, or leave everything as it was."""
        self._check_budget(turn.settings)
        client = self.clients.get(self.connection(turn.settings))
        model = turn.options.model
        view.start(model, turn.sent)
        loop = TurnLoop(
            view, self.clients.retries, turn.toolbox, turn.settings.max_tool_calls, guard=lambda: self._check_spent(turn, loop),
        )
        try:
            reply = self._reply(loop.run(client, turn.request), loop.messages, turn)
            last = usage_from_api(loop.messages[-1].usage, turn.settings.cache_ttl)
            turn.chat.commit_exchange(
                [turn.user, *loop.exchange, _assistant(reply.message)], reply.usage, reply.cost, context=last,
                system=turn.system, cell_id=turn.cell_id, replace_last=turn.replace_last,
            )
        except BaseException as error:
            failure = turn_failure(error, model=model, prompt=turn.prompt)
            view.fail(f"{model} · incomplete")
            self._bill(turn, loop)
            if failure is None:
                raise
            ran = ran_note(loop.calls)
            raise (ClaudeError(f"{failure} {ran}") if ran else failure) from None
        self.conversations.put(turn.chat)
        self.ledger.add(turn.chat.name, reply.model, reply.usage, reply.cost)
        note = reply_note(reply, turn.options.max_tokens)
        view.finish(Final(reply.text, reply.thinking, self._footer(reply, turn), note, turn.sent, loop.steps))
        return reply

    def dry_run(self, turn: PreparedTurn) -> DryRun:
        """What `turn` would send and cost, counted by the API where it can be asked."""
        request, options = turn.request, turn.options
        try:
            tokens, counted = count_tokens(self.clients.get(self.connection(turn.settings)), request), "counted by the API"
        except Exception as error:
            failure = turn_failure(error, model=options.model, prompt="")
            if failure is None:
                raise
            tokens, counted = estimate_tokens(request), f"an estimate: {failure}"
        return DryRun(
            model=options.model, blocks=turn.user["content"], earlier_messages=len(request["messages"]) - 1,
            system=options.system, max_tokens=options.max_tokens, input_tokens=tokens, counted=counted,
            input_cost=format_cost(turn.prices.cost(options.model, Usage(input_tokens=tokens))),
            output_cost=format_cost(turn.prices.cost(options.model, Usage(output_tokens=options.max_tokens))),
            tools=tuple(tool["name"] for tool in options.tools),
        )

    def connection(self, settings: Settings) -> Connection:
        return Connection(
            api_key=resolve_api_key(self.entered_key),
            base_url=settings.base_url or None,
            max_retries=settings.max_retries,
            timeout=settings.timeout,
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

    def _check_budget(self, settings: Settings) -> None:
        if settings.budget_usd and self.ledger.total >= settings.budget_usd:
            raise ClaudeError(
                f"Budget reached: this kernel has spent {format_cost(self.ledger.total)} of its "
                f"{format_cost(settings.budget_usd)} (ClaudeMagics.budget_usd). Raise it to go on."
            )

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
        toolbox = kernel_tools.turn_tools(self._kernel_tools, settings, _limits(settings), run=ask.run, defined=run)
        return toolbox, toolbox.definitions

    def _check_spent(self, turn: PreparedTurn, loop: TurnLoop) -> None:
        """Between a turn's requests: stop once what the kernel and this turn have spent reaches the budget."""
        budget = turn.settings.budget_usd
        if not budget:
            return
        spent = self.ledger.total + (self._reply(loop.messages[-1], loop.messages, turn).cost or 0.0)
        if spent >= budget:
            raise ClaudeError(
                f"Budget reached mid-turn: with this turn's requests so far the kernel has spent {format_cost(spent)} "
                f"of its {format_cost(budget)} (ClaudeMagics.budget_usd); nothing was added to the conversation."
            )

    def _reply(self, message: Any, parts: list[Any], turn: PreparedTurn) -> Reply:
        """The reply object; a turn of several requests (tool steps, resumed pauses) bills each of its
        `parts`, and its thinking is all of theirs."""
        usage = sum((usage_from_api(part.usage, turn.settings.cache_ttl) for part in parts), Usage())
        reply = Reply.of(message, usage, turn.prices.cost(message.model, usage))
        thinking = (("".join(block.thinking for block in part.content if block.type == "thinking")) for part in parts)
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


def _limits(settings: Settings) -> Limits:
    return Limits(
        max_rows=settings.max_rows, max_columns=settings.max_columns, max_chars=settings.max_chars,
        max_string_chars=settings.max_string_chars,
    )


def _replaces_last(chat: Conversation, ask: TurnRequest, notify: Notify) -> bool:
    """Whether this cell re-asks the conversation's latest turn (its answer is replaced); a re-run of
    an older cell's turn is asked again at the end, and the user is told."""
    index = None if ask.new else chat.turn_of(ask.cell_id)
    if index is None or index == chat.turns - 1:
        return index is not None
    notify(
        f"this cell asked turn {index + 1} of {chat.turns}; its new answer is added at the end, after the "
        "later turns (run it with -n to start a fresh conversation)."
    )
    return False


def _max_tokens(ask: TurnRequest, settings: Settings) -> int:
    if ask.max_tokens is None:
        return settings.max_tokens
    if ask.max_tokens < 1:
        raise ClaudeError(f"--max-tokens must be a positive whole number, not {ask.max_tokens}.")
    return ask.max_tokens


def _assistant(message: Any) -> Message:
    if any(tool_uses({"content": [block.to_dict(mode="json") for block in message.content]})):
        raise ClaudeError(
            f"The reply was cut off while calling a tool (stop reason: {message.stop_reason}): re-run with a larger "
            "--max-tokens. Nothing was added to the conversation."
        )
    assistant = assistant_message(block.to_dict(mode="json") for block in message.content)
    if assistant is None:
        why = stop_note(message.stop_reason, 0) if message.stop_reason == "refusal" else (
            f"The reply held no text (stop reason: {message.stop_reason}). Try a larger --max-tokens."
        )
        raise ClaudeError(f"{why} Nothing was added to the conversation.")
    return assistant
