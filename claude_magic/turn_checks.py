"""What a turn must pass before it is sent, and what of a reply may be kept.

The checks `session.prepare` runs that need no client: the output limit, whether a re-run cell
replaces its turn, a request's size, the documents a model can read; and, once the reply is in,
whether it may join the conversation (a refusal, a cut-off tool call or an empty reply may not) and
what its `--schema` answer parsed to. Plain data in; one-line errors out.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .catalog import ModelFacts
from .conversation import Conversation, Message, assistant_message, tool_uses, unanswered_server_calls
from .errors import ClaudeError, ContextError
from .reply import Reply, stop_note
from .request import MAX_REQUEST_CHARS, request_chars
from .schema import Schema, SchemaMismatch
from .settings import Settings

__all__ = ["check_documents", "check_size", "kept_reply", "max_tokens_of", "parse_data", "replaces_last", "LARGE_TURN_CHARS"]

Notify = Callable[[str], None]

# A cell that sends more than this many characters gets a note: every later turn sends them again.
LARGE_TURN_CHARS = 100_000


def check_documents(messages: list[Message], facts: ModelFacts) -> None:
    """A PDF only for a model that reads PDFs, in this turn's message or an earlier one it sends again.
    (Whether documents are cited, the request decides: `request.build_request`.)"""
    pdfs = [block for message in messages if isinstance(message["content"], list) for block in message["content"]
            if block["type"] == "document" and block["source"]["type"] != "text"]
    if pdfs and not facts.supports("pdf_input"):
        raise ContextError(f"{facts.id} does not read PDFs; pick a model that does (%claude_models).")


def replaces_last(chat: Conversation, cell_id: str | None, notify: Notify) -> bool:
    """Whether the cell `cell_id` re-asks the conversation's latest turn (its answer is replaced); a
    re-run of an older cell's turn is asked again at the end, and the user is told."""
    index = chat.turn_of(cell_id)
    if index is None or index == chat.turns - 1:
        return index is not None
    notify(
        f"this cell asked turn {index + 1} of {chat.turns}; its new answer is added at the end, after the "
        "later turns (run it with -n to start a fresh conversation)."
    )
    return False


def max_tokens_of(asked: int | None, settings: Settings) -> int:
    """The turn's output limit: --max-tokens if given (a positive number), else the setting."""
    if asked is None:
        return settings.max_tokens
    if asked < 1:
        raise ClaudeError(f"--max-tokens must be a positive whole number, not {asked}.")
    return asked


def parse_data(reply: Reply, schema: Schema | None) -> str:
    """Give the reply its `.data` under the turn's schema; a note when the answer does not parse."""
    if schema is None:
        return ""
    try:
        reply.data = schema.parse(reply.text)
    except SchemaMismatch as error:
        return f"The answer did not parse under --schema, so .data is None: {error}."
    return ""


def kept_reply(message: Any) -> Message:
    """The reply as the conversation keeps it; refused when it must not be kept. A refused turn stays
    out, as the API asks (kept, later turns would be refused too), and so does a call to a tool with
    no result for it: every later request would be rejected. A server tool call the API paused before
    running (an answer still paused after its resumptions) is left out, for the same reason."""
    blocks = [block.to_dict(mode="json") for block in message.content]
    dangling = unanswered_server_calls({"content": blocks})
    blocks = [block for block in blocks if not any(block is call for call in dangling)]
    if any(tool_uses({"content": blocks})):
        # The loop sends every call's result before it returns: a call left in the final reply was cut off.
        raise ClaudeError(
            f"The reply was cut off while calling a tool (stop reason: {message.stop_reason}): re-run with a larger "
            "--max-tokens. Nothing was added to the conversation."
        )
    assistant = assistant_message(blocks)
    if message.stop_reason == "refusal":
        kept = "Its partial answer, shown above, was" if assistant else "Nothing was"
        raise ClaudeError(f"{stop_note('refusal', 0)} {kept} not added to the conversation, so later turns are not refused for it.")
    if assistant is None:
        why = stop_note(message.stop_reason, 0) if message.stop_reason == "model_context_window_exceeded" else (
            f"The reply held no text (stop reason: {message.stop_reason}). Try a larger --max-tokens."
        )
        raise ClaudeError(f"{why} Nothing was added to the conversation.")
    return assistant


def check_size(request: dict[str, Any], user: Message, notify: Notify) -> None:
    """Refuse a request over the API's size limit; note a cell so large that every later turn of the
    conversation pays for sending it again."""
    total = request_chars(request)
    if total > MAX_REQUEST_CHARS:
        raise ClaudeError(
            f"This turn would send {total / 1e6:,.0f} million characters; the API takes at most {MAX_REQUEST_CHARS // 10**6} MB "
            "a request. Attach less, or start a fresh conversation with -n."
        )
    new = request_chars({"messages": [user]})
    if new > LARGE_TURN_CHARS:
        notify(
            f"this turn sends {new:,} characters (about {new // 4:,} tokens), and every later turn of this conversation "
            "sends them again (read from the prompt cache, at a tenth of the price, while it lasts): start a fresh "
            "conversation with -n when you are done with it."
        )
