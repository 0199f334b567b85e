"""Conversations and their invariants.

A `Conversation` is the history the API sees: alternating user and assistant messages, starting with
a user turn, every `tool_use` answered by its `tool_result` in the next message, and no text that is
not Unicode (`check_text`). It changes in exactly one place, `commit_exchange` (or `commit` for the plain pair), which
takes a whole exchange at once: the user message, any tool calls and their results, and the complete
reply. A turn that fails anywhere before that (an API error, a dropped stream, an interrupt, a budget
stop between tool calls) leaves the history as it was, because nothing was appended yet; and no
`tool_use` is ever kept without the `tool_result` that answers it. Each turn remembers the notebook
cell that asked it, so re-running that cell can replace its turn.
`Conversations` holds the kernel's default conversation and any named ones.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from .errors import ClaudeError, InvariantError
from .pricing import Spend, Usage

__all__ = ["Conversation", "Conversations", "Turn", "DEFAULT_CHAT", "InvariantError", "user_message",
           "assistant_message", "check_messages", "check_text", "merge_text", "tool_uses", "unanswered_server_calls",
           "unicode_only"]

DEFAULT_CHAT = "default"

Block = dict[str, Any]
Message = dict[str, Any]


# The API refuses a request with more images than this, counting the whole history.
MAX_IMAGES = 100
# Half of a UTF-16 pair with no other half: valid in a Python str, but no UTF-8 encodes it.
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


@dataclass(frozen=True, slots=True)  # slots: a long conversation holds one per turn
class Turn:
    """One committed exchange: its messages (the user's first, the reply last) and the cell that asked."""

    messages: tuple[Message, ...]
    cell_id: str | None = None


@dataclass
class Conversation:
    name: str = DEFAULT_CHAT
    system: str | None = None
    spend: Spend = field(default_factory=Spend)
    _turns: list[Turn] = field(default_factory=list)
    _last_usage: Usage = field(default_factory=Usage)

    @property
    def _messages(self) -> list[Message]:
        return self._kept(replace_last=False)

    @property
    def messages(self) -> list[Message]:
        """A copy of the history: callers may not change it behind `commit`'s back."""
        return copy.deepcopy(self._messages)

    @property
    def turns(self) -> int:
        return len(self._turns)

    def turn_of(self, cell_id: str | None) -> int | None:
        """The index of the latest turn the cell `cell_id` asked, if any."""
        if cell_id is None:
            return None
        return next((i for i in reversed(range(len(self._turns))) if self._turns[i].cell_id == cell_id), None)

    @property
    def context_tokens(self) -> int:
        """The size of the context the last exchange used (0 before the first)."""
        return self._last_usage.context_tokens

    @property
    def compacted(self) -> bool:
        """Whether the history holds a compaction summary, which only the compaction beta reads."""
        return any(
            block.get("type") == "compaction"
            for message in self._messages
            if isinstance(message["content"], list)
            for block in message["content"]
        )

    def request_messages(self, user: Message, *, replace_last: bool = False) -> list[Message]:
        """The history (without its last turn, if that is being replaced) plus the new user message,
        checked, without changing the history."""
        messages = [*self._kept(replace_last), user]
        check_messages(messages)
        return messages

    def tool_names(self, *, replace_last: bool = False) -> set[str]:
        """The names of the tools the history (without its last turn, if that is being replaced) has
        called: the API refuses a request that holds tool blocks but defines no tools."""
        return {block["name"] for message in self._kept(replace_last) for block in tool_uses(message)}

    def commit(
        self, user: Message, assistant: Message, usage: Usage, cost: float | None, context: Usage | None = None,
        system: str | None = None, cell_id: str | None = None, replace_last: bool = False,
    ) -> None:
        """`commit_exchange` of a plain exchange: one question, one answer."""
        self.commit_exchange([user, assistant], usage, cost, context, system, cell_id, replace_last)

    def commit_exchange(
        self, messages: list[Message], usage: Usage, cost: float | None, context: Usage | None = None,
        system: str | None = None, cell_id: str | None = None, replace_last: bool = False,
    ) -> None:
        """Append one complete exchange (in place of the last turn, if `replace_last`), or nothing at
        all if it would break an invariant. `messages` run from the user's message to the final reply,
        with any tool calls and their results between. `usage` is what the exchange cost; `context` the
        usage of its last request, which measures the context (the same unless it took several
        requests, each billed); `system` the system prompt the exchange ran under, which the
        conversation keeps from now on ("" for none); `cell_id` the notebook cell that asked it."""
        if len(messages) < 2 or len(messages) % 2:
            raise InvariantError("an exchange runs from a user message to the assistant's final reply")
        check_messages([*self._kept(replace_last), *messages], complete=True)
        if replace_last and self._turns:
            self._turns.pop()
        self._turns.append(Turn(tuple(copy.deepcopy(message) for message in messages), cell_id))
        self.spend.add(usage, cost)
        self._last_usage = context or usage
        if system is not None:
            self.system = system

    def _kept(self, replace_last: bool) -> list[Message]:
        turns = self._turns[:-1] if replace_last else self._turns
        return [message for turn in turns for message in turn.messages]


def user_message(blocks: Iterable[Block]) -> Message:
    """A user message from content blocks: adjacent text merged, empty text dropped."""
    content = merge_text(blocks)
    if not content:
        raise ClaudeError("Nothing to send: the cell is empty. Write a prompt under %%claude.")
    return {"role": "user", "content": content}


def assistant_message(blocks: Iterable[Block]) -> Message | None:
    """The reply as the API wants it back: every block as received (thinking and compaction
    blocks keep their signatures), minus empty text, which the API rejects. None if nothing is left."""
    content = [block for block in blocks if not _is_empty_text(block)]
    return {"role": "assistant", "content": content} if content else None


def merge_text(blocks: Iterable[Block]) -> list[Block]:
    merged: list[Block] = []
    for block in blocks:
        if _is_empty_text(block):
            continue
        if block["type"] == "text" and merged and _is_plain_text(merged[-1]) and _is_plain_text(block):
            merged[-1] = {"type": "text", "text": merged[-1]["text"] + block["text"]}
        else:
            merged.append(block)
    return merged


def check_messages(messages: list[Message], *, complete: bool = False) -> None:
    """Raise InvariantError unless `messages` is a history the API accepts for shape: roles alternate
    from a user turn, nothing is empty, and each `tool_use` is answered by a `tool_result` first thing
    in the next message. A `complete` history (one to keep) also ends with the assistant's reply and
    leaves no `tool_use` unanswered; a request may end on an answer still being written (a paused turn),
    and only that last answer may hold a server tool call with no result yet."""
    if not messages:
        raise InvariantError("a request needs at least one message")
    pending: list[str] = []
    for index, message in enumerate(messages):
        expected = "user" if index % 2 == 0 else "assistant"
        if message.get("role") != expected:
            raise InvariantError(f"messages[{index}] should be a {expected} turn")
        content = message.get("content")
        if not content or (isinstance(content, str) and not content.strip()):
            raise InvariantError(f"messages[{index}] is empty")
        if isinstance(content, list) and any(_is_empty_text(block) for block in content):
            raise InvariantError(f"messages[{index}] has an empty text block")
        _check_answers(index, message, pending)
        pending = [block["id"] for block in tool_uses(message)]
        unanswered = unanswered_server_calls(message)
        if unanswered and (complete or index < len(messages) - 1):
            raise InvariantError(f"messages[{index}] holds a server tool call ({unanswered[0]['name']}) with no result")
    if complete and (pending or len(messages) % 2):
        raise InvariantError(f"messages[{len(messages) - 1}] should be the assistant's final reply, with no tool call left unanswered")
    images = sum(_image_count(message) for message in messages)
    if images > MAX_IMAGES:
        raise InvariantError(
            f"this conversation would send {images} images; the API takes at most {MAX_IMAGES}. "
            "Start a fresh one with -n."
        )


def check_text(text: str, where: str) -> None:
    """Refuse `text`, named `where` ("the prompt", "{s}"), if it holds a lone surrogate, which cannot
    be sent: the SDK would fail deep inside its JSON encoding."""
    found = _LONE_SURROGATE.search(text)
    if found is not None:
        raise InvariantError(
            f"{where} holds a lone surrogate ({found[0].encode('unicode_escape').decode()} at character "
            f"{found.start():,}), which is not Unicode text and cannot be sent. Fix the text; bytes decoded "
            "with errors='surrogateescape' can be decoded with errors='replace' instead."
        )


def unicode_only(text: str) -> str:
    """`text` with each lone surrogate replaced by U+FFFD, so that it can be sent and shown."""
    return _LONE_SURROGATE.sub("\ufffd", text)


def tool_uses(message: Message) -> list[Block]:
    """The message's client tool calls (`tool_use` blocks), in order."""
    content = message.get("content")
    return [block for block in content if block.get("type") == "tool_use"] if isinstance(content, list) else []


def unanswered_server_calls(message: Message) -> list[Block]:
    """The message's server tool calls (`server_tool_use`, a web search say) with no result after
    them: what an answer the API paused mid-call holds, which only a request resuming it may send."""
    content = message.get("content")
    blocks = content if isinstance(content, list) else []
    answered = {block.get("tool_use_id") for block in blocks if str(block.get("type", "")).endswith("_tool_result")}
    return [block for block in blocks if block.get("type") == "server_tool_use" and block.get("id") not in answered]


def _check_answers(index: int, message: Message, pending: list[str]) -> None:
    """The user message at `index` answers exactly the `pending` calls of the reply before it, its
    results first; an assistant message holds no results."""
    content = message.get("content")
    blocks = content if isinstance(content, list) else []
    results = [block.get("tool_use_id") for block in blocks if block.get("type") == "tool_result"]
    if message.get("role") == "assistant":
        if results:
            raise InvariantError(f"messages[{index}] is the assistant's, but holds tool results")
        return
    if tool_uses(message):
        raise InvariantError(f"messages[{index}] is the user's, but holds tool calls")
    first = [block.get("tool_use_id") for block in blocks[: len(results)] if block.get("type") == "tool_result"]
    if sorted(results) != sorted(pending) or first != results:
        raise InvariantError(f"messages[{index}] must answer each tool call of the reply before it, first thing, and only those")


def _image_count(message: Message) -> int:
    return _images_in(message.get("content"))


def _images_in(content: Any) -> int:
    """Images in a content list, those inside tool results included."""
    if not isinstance(content, list):
        return 0
    return sum(block.get("type") == "image" or _images_in(block.get("content")) for block in content)


def _is_empty_text(block: Block) -> bool:
    return block.get("type") == "text" and not str(block.get("text", "")).strip()


def _is_plain_text(block: Block) -> bool:
    return block.get("type") == "text" and set(block) == {"type", "text"}


class Conversations:
    """The kernel's conversations by name."""

    def __init__(self) -> None:
        self._chats: dict[str, Conversation] = {}

    def get(self, name: str = DEFAULT_CHAT) -> Conversation:
        if name not in self._chats:
            self._chats[name] = Conversation(name=name)
        return self._chats[name]

    def put(self, chat: Conversation) -> None:
        """Install `chat` under its name, replacing any conversation there (how `--new` lands)."""
        self._chats[chat.name] = chat

    def __iter__(self) -> Iterator[Conversation]:
        return iter(self._chats.values())
