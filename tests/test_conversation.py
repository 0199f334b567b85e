"""The conversation's invariants, without a shell or the network."""

from __future__ import annotations

import pytest

from claude_magic.conversation import (
    Conversation,
    Conversations,
    InvariantError,
    assistant_message,
    check_messages,
    merge_text,
    unanswered_server_calls,
    user_message,
)
from claude_magic.errors import ClaudeError
from claude_magic.pricing import Usage

REPLY = {"role": "assistant", "content": [{"type": "text", "text": "Paris."}]}


def ask(text: str) -> dict:
    return user_message([{"type": "text", "text": text}])


def test_history_starts_with_user_and_alternates():
    chat = Conversation()
    chat.commit(ask("Capital of France?"), REPLY, Usage(10, 2), 0.001)
    chat.commit(ask("And of Spain?"), REPLY, Usage(20, 2), 0.002)
    roles = [m["role"] for m in chat.messages]
    assert roles == ["user", "assistant", "user", "assistant"]
    assert chat.turns == 2
    assert chat.spend.usage == Usage(30, 4) and chat.spend.turns == 2
    assert chat.spend.known_cost == pytest.approx(0.003)


def test_request_messages_leave_the_history_unchanged():
    chat = Conversation()
    chat.commit(ask("one"), REPLY, Usage(), 0.0)
    request = chat.request_messages(ask("two"))
    assert len(request) == 3 and request[-1]["content"][0]["text"] == "two"
    assert len(chat.messages) == 2


def test_an_uncommitted_turn_leaves_no_trace():
    """A failed call never reaches commit, so the next request is built from the old history."""
    chat = Conversation()
    chat.commit(ask("one"), REPLY, Usage(), 0.0)
    before = chat.messages
    chat.request_messages(ask("this call will fail"))
    assert chat.messages == before
    assert chat.request_messages(ask("retry"))[-2:] == [before[-1], ask("retry")]


def test_messages_copy_cannot_change_the_history():
    chat = Conversation()
    chat.commit(ask("one"), REPLY, Usage(), 0.0)
    chat.messages[0]["content"][0]["text"] = "tampered"
    chat.messages.append(ask("extra"))
    assert chat.messages[0]["content"][0]["text"] == "one" and chat.turns == 1


def test_commit_refuses_a_broken_pair_and_keeps_nothing():
    chat = Conversation()
    with pytest.raises(InvariantError):
        chat.commit(ask("one"), {"role": "user", "content": "no"}, Usage(), 0.0)
    assert chat.messages == [] and chat.spend.turns == 0


@pytest.mark.parametrize(
    "messages, problem",
    [
        ([], "at least one"),
        ([{"role": "assistant", "content": "hi"}], "messages[0] should be a user"),
        ([{"role": "user", "content": "a"}, {"role": "user", "content": "b"}], "messages[1] should be a assistant"),
        ([{"role": "user", "content": "  "}], "messages[0] is empty"),
        ([{"role": "user", "content": []}], "messages[0] is empty"),
        ([{"role": "user", "content": [{"type": "text", "text": ""}]}], "empty text block"),
    ],
)
def test_check_messages_names_the_problem(messages, problem):
    with pytest.raises(InvariantError, match=problem.replace("[", r"\[").replace("]", r"\]")):
        check_messages(messages)


def test_user_message_merges_text_and_drops_empty_blocks():
    image = {"type": "image", "source": {"type": "url", "url": "https://x/y.png"}}
    blocks = [{"type": "text", "text": "Look at "}, {"type": "text", "text": "this:"}, {"type": "text", "text": " "}, image]
    assert user_message(blocks)["content"] == [{"type": "text", "text": "Look at this:"}, image]


def test_an_empty_prompt_is_a_one_line_error():
    with pytest.raises(ClaudeError, match="cell is empty"):
        user_message([{"type": "text", "text": " \n\t"}])


def test_blocks_with_extra_keys_are_not_merged():
    cached = {"type": "text", "text": "b", "cache_control": {"type": "ephemeral"}}
    assert merge_text([{"type": "text", "text": "a"}, cached]) == [{"type": "text", "text": "a"}, cached]


def test_assistant_blocks_pass_back_as_received():
    thinking = {"type": "thinking", "thinking": "Let me see.", "signature": "sig=="}
    compaction = {"type": "compaction", "content": "Summary so far"}
    blocks = [thinking, compaction, {"type": "text", "text": ""}, {"type": "text", "text": "Done."}]
    message = assistant_message(blocks)
    assert message["content"] == [thinking, compaction, {"type": "text", "text": "Done."}]
    assert message["content"][0] is thinking or message["content"][0] == thinking


def test_an_assistant_reply_with_nothing_left_is_none():
    assert assistant_message([{"type": "text", "text": "  "}]) is None


def test_conversations_by_name_and_new():
    chats = Conversations()
    default = chats.get()
    default.commit(ask("one"), REPLY, Usage(), 0.0)
    assert chats.get() is default
    assert chats.get("review") is not default
    fresh = Conversation()
    chats.put(fresh)
    assert fresh.turns == 0 and chats.get() is fresh
    assert chats.get("review").name == "review"


def test_more_than_a_hundred_images_in_a_request_is_refused_before_sending():
    image = {"type": "image", "source": {"type": "url", "url": "https://example.com/a.png"}}
    chat = Conversation()
    chat.commit(user_message([image] * 60 + [{"type": "text", "text": "look"}]), REPLY, Usage(), 0.0)
    with pytest.raises(InvariantError, match="101 images"):
        chat.request_messages(user_message([image] * 41 + [{"type": "text", "text": "and these"}]))
    assert len(chat.request_messages(user_message([image] * 40 + [{"type": "text", "text": "ok"}]))) == 3


def test_invariant_errors_are_one_line_claude_errors():
    assert issubclass(InvariantError, ClaudeError)


def test_context_size_is_the_last_requests_not_the_sum_of_a_resumed_turn():
    chat = Conversation()
    chat.commit(ask("long job"), REPLY, Usage(30_000, 100), 0.2, context=Usage(20_000, 60))
    assert chat.context_tokens == 20_060 and chat.spend.usage == Usage(30_000, 100)
    chat.commit(ask("next"), REPLY, Usage(21_000, 10), 0.1)
    assert chat.context_tokens == 21_010


# -- exchanges with tool calls ---------------------------------------------------------------------------

CALL = {"role": "assistant", "content": [{"type": "text", "text": "Let me look."},
                                         {"type": "tool_use", "id": "toolu_1", "name": "list_variables", "input": {}}]}
RESULT = {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_1", "content": "df: DataFrame"}]}


def test_an_exchange_with_tool_calls_is_committed_whole_as_one_turn():
    chat = Conversation()
    chat.commit_exchange([ask("what is df?"), CALL, RESULT, REPLY], Usage(30, 6), 0.01)
    assert [m["role"] for m in chat.messages] == ["user", "assistant", "user", "assistant"]
    assert chat.turns == 1 and chat.tool_names() == {"list_variables"}
    chat.commit(ask("thanks"), REPLY, Usage(), 0.0)
    assert chat.turns == 2 and chat.tool_names(replace_last=True) == {"list_variables"}
    assert len(chat.request_messages(ask("more"), replace_last=True)) == 5


@pytest.mark.parametrize(
    "exchange, problem",
    [
        ([ask("q"), CALL], "final reply"),  # a dangling tool_use
        ([ask("q"), CALL, RESULT], "exchange runs from a user message"),  # ends on the results
        ([ask("q"), CALL, ask("no results"), REPLY], "must answer each tool call"),
        ([ask("q"), CALL, {"role": "user", "content": [{"type": "text", "text": "first"}, *RESULT["content"]]}, REPLY],
         "must answer each tool call"),  # results must come first
        ([ask("q"), REPLY, RESULT, REPLY], "must answer each tool call"),  # a result for no call
        ([ask("q"), {"role": "assistant", "content": RESULT["content"]}, ask("x"), REPLY], "holds tool results"),
        ([{"role": "user", "content": CALL["content"]}, REPLY], "holds tool calls"),
    ],
)
def test_commit_refuses_an_exchange_that_breaks_tool_pairing_and_keeps_nothing(exchange, problem):
    chat = Conversation()
    chat.commit(ask("before"), REPLY, Usage(), 0.0)
    with pytest.raises(InvariantError, match=problem):
        chat.commit_exchange(exchange, Usage(1, 1), 0.1)
    assert chat.turns == 1 and chat.spend.turns == 1


def test_a_request_may_end_on_tool_results_or_a_paused_reply_but_a_history_may_not():
    check_messages([ask("q"), CALL, RESULT])
    check_messages([ask("q"), REPLY])
    with pytest.raises(InvariantError, match="final reply"):
        check_messages([ask("q"), CALL, RESULT], complete=True)


def test_images_inside_tool_results_count_towards_the_limit():
    image = {"type": "image", "source": {"type": "url", "url": "https://example.com/a.png"}}
    result = {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_1", "content": [image] * 101}]}
    with pytest.raises(InvariantError, match="101 images"):
        check_messages([ask("q"), CALL, result])


def test_a_tool_call_is_never_kept_without_its_result():
    chat = Conversation()
    with pytest.raises(InvariantError, match="no tool call left unanswered"):
        chat.commit(ask("what is df?"), CALL, Usage(), 0.0)
    assert chat.turns == 0
    with pytest.raises(InvariantError, match="must answer each tool call"):
        check_messages([ask("what is df?"), CALL, ask("and?")])
    check_messages([ask("what is df?"), CALL, RESULT])  # answered, as the tool loop answers it


def test_text_that_is_not_unicode_is_named_and_refused():
    from claude_magic.conversation import check_text

    check_text("fine, even with ✓ and 𝔘𝔫𝔦𝔠𝔬𝔡𝔢", "the prompt")
    with pytest.raises(InvariantError, match=r"^\{s\} holds a lone surrogate \(\\udc80 at character 2\)"):
        check_text("ab\udc80", "{s}")


def test_a_server_tool_call_without_its_result_may_end_a_request_but_never_stay_in_a_history():
    search = {"type": "server_tool_use", "id": "srvtoolu_1", "name": "web_search", "input": {"query": "q"}}
    found = {"type": "web_search_tool_result", "tool_use_id": "srvtoolu_1", "content": []}
    paused = {"role": "assistant", "content": [{"type": "text", "text": "Looking."}, search]}
    check_messages([ask("q"), paused])  # resuming a paused answer sends it back as it stands
    assert unanswered_server_calls(paused) == [search]
    with pytest.raises(InvariantError, match=r"messages\[1\] holds a server tool call \(web_search\) with no result"):
        check_messages([ask("q"), paused], complete=True)
    with pytest.raises(InvariantError, match="with no result"):
        check_messages([ask("q"), paused, ask("and?")])
    answered = {"role": "assistant", "content": [search, found, {"type": "text", "text": "Found it."}]}
    check_messages([ask("q"), answered, ask("and?")])
    assert unanswered_server_calls(answered) == []
