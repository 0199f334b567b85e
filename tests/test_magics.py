"""%%claude and %claude through a real InteractiveShell, against the fake API on 127.0.0.1."""

from __future__ import annotations

import subprocess
import sys

import pytest
from fakeapi import FakeModel, Turn
from IPython.core.error import UsageError
from shell import magics

from claude_magic.conversation import Conversations
from claude_magic.errors import ClaudeError


def sent(fake_api, index=-1):
    return fake_api.requests[index].json


def texts(message):
    return [block["text"] for block in message["content"] if block["type"] == "text"]


# -- loading ---------------------------------------------------------------------------------------


def test_load_registers_both_forms_and_unload_removes_them(ip):
    assert "claude" in ip.magics_manager.magics["cell"]
    assert "claude" in ip.magics_manager.magics["line"]
    ip.run_line_magic("unload_ext", "claude_magic")
    assert "claude" not in ip.magics_manager.magics["cell"]
    assert "claude" not in ip.magics_manager.magics["line"]
    assert not any(type(c).__name__ == "ClaudeMagics" for c in ip.configurables)
    ip.run_line_magic("load_ext", "claude_magic")
    magics(ip).base_url = "http://127.0.0.1:9"


def test_loading_twice_keeps_one_instance_and_its_conversation(ip, fake_api):
    ip.run_cell_magic("claude", "", "hello")
    first = magics(ip)
    from claude_magic import load_ipython_extension

    load_ipython_extension(ip)
    assert magics(ip) is first and first.session.conversations.get().turns == 1
    assert sum(type(c).__name__ == "ClaudeMagics" for c in ip.configurables) == 1


def test_load_ext_imports_nothing_heavy():
    code = (
        "import sys\n"
        "from IPython.core.interactiveshell import InteractiveShell\n"
        "ip = InteractiveShell.instance()\n"
        "ip.run_line_magic('load_ext', 'claude_magic')\n"
        "assert 'claude' in ip.magics_manager.magics['cell']\n"
        "print(sorted(m for m in ('anthropic', 'httpx2', 'pandas', 'matplotlib', 'PIL', 'numpy', 'ipywidgets') if m in sys.modules))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


# -- one turn and the conversation ---------------------------------------------------------------


def test_a_cell_streams_its_answer_and_footer(ip, fake_api, capsys):
    fake_api.script(Turn(text="Paris is the capital.", usage={"input_tokens": 1000, "output_tokens": 200}))
    ip.run_cell_magic("claude", "", "What is the capital of France?")
    out = capsys.readouterr().out
    assert "Paris is the capital." in out
    assert "claude-opus-5-5 · 1,000 in / 200 out tokens" in out and "$0.0080 this turn" in out
    body = sent(fake_api)
    assert body["model"] == "claude-opus-5-5" and body["stream"] is True
    assert body["messages"] == [{"role": "user", "content": [{"type": "text", "text": "What is the capital of France?"}]}]
    assert body["cache_control"] == {"type": "ephemeral"}


def test_follow_ups_carry_the_history_and_new_starts_afresh(ip, fake_api):
    ip.run_cell_magic("claude", "", "My name is Ada.")
    ip.run_cell_magic("claude", "", "What is my name?")
    history = sent(fake_api)["messages"]
    assert [m["role"] for m in history] == ["user", "assistant", "user"]
    assert texts(history[1]) == ["Echo: My name is Ada."]
    ip.run_cell_magic("claude", "-n", "Fresh start.")
    assert len(sent(fake_api)["messages"]) == 1
    assert magics(ip).session.conversations.get().turns == 1


def test_named_chats_are_separate(ip, fake_api):
    ip.run_cell_magic("claude", "", "main one")
    ip.run_cell_magic("claude", "-c side", "side one")
    assert len(sent(fake_api)["messages"]) == 1
    ip.run_cell_magic("claude", "", "main two")
    assert texts(sent(fake_api)["messages"][0]) == ["main one"]


def test_system_prompt_stays_for_the_conversation(ip, fake_api):
    ip.run_cell_magic("claude", '-s "Answer in French."', "hello")
    ip.run_cell_magic("claude", "", "again")
    assert sent(fake_api)["system"] == "Answer in French."
    ip.run_cell_magic("claude", "-n", "fresh")
    assert "system" not in sent(fake_api)


def test_configured_system_model_and_max_tokens(ip, fake_api):
    ip.run_line_magic("config", 'ClaudeMagics.system = "Be terse."')
    ip.run_line_magic("config", 'ClaudeMagics.model = "sonnet"')
    ip.run_line_magic("config", "ClaudeMagics.max_tokens = 321")
    ip.run_cell_magic("claude", "", "hi")
    body = sent(fake_api)
    assert (body["system"], body["model"], body["max_tokens"]) == ("Be terse.", "claude-sonnet-5-5", 321)


def test_flags_model_alias_max_tokens_think_effort(ip, fake_api):
    ip.run_cell_magic("claude", "-m claude-haiku-4-5 --max-tokens 2000 -t", "hi")
    body = sent(fake_api)
    assert body["model"] == "claude-haiku-4-5" and body["max_tokens"] == 2000
    assert body["thinking"] == {"type": "enabled", "budget_tokens": 1024}  # a budget: it has no adaptive thinking
    ip.run_cell_magic("claude", "-m haiku -t", "hi")
    assert sent(fake_api)["model"] == "claude-haiku-5-5"
    assert sent(fake_api)["thinking"] == {"type": "adaptive", "display": "summarized"}
    ip.run_cell_magic("claude", "-m sonnet -e low", "hi")
    assert sent(fake_api)["output_config"] == {"effort": "low"}


def test_line_magic_keeps_the_prompt_as_typed(ip, fake_api):
    ip.run_line_magic("claude", "-m haiku what's  {'a': 1} -- here?")
    body = sent(fake_api)
    assert body["model"] == "claude-haiku-5-5"
    assert texts(body["messages"][0]) == ["what's  {'a': 1} -- here?"]


def test_raw_sends_braces_as_typed(ip, fake_api):
    ip.user_ns["x"] = 42
    ip.run_cell_magic("claude", "--raw", "{x} and {{y}}")
    assert texts(sent(fake_api)["messages"][0]) == ["{x} and {{y}}"]


def test_out_stores_the_reply_object(ip, fake_api):
    fake_api.script(Turn(text="Deep.", thinking="Hmm, let me think.", usage={"input_tokens": 10, "output_tokens": 20}))
    ip.run_cell_magic("claude", "-t -o reply", "think")
    reply = ip.user_ns["reply"]
    assert reply.text == "Deep." and reply.thinking == "Hmm, let me think."
    assert (reply.usage.input_tokens, reply.usage.output_tokens) == (10, 20)
    assert reply.cost == pytest.approx(10 * 4e-6 + 20 * 20e-6)
    assert reply.stop_reason == "end_turn" and reply.message.content[0].type == "thinking"


def test_thinking_blocks_go_back_exactly_as_received(ip, fake_api):
    fake_api.script(Turn(text="Yes.", thinking="Considering."))
    ip.run_cell_magic("claude", "-t", "first")
    ip.run_cell_magic("claude", "-t", "second")
    thinking = sent(fake_api)["messages"][1]["content"][0]
    assert thinking["type"] == "thinking" and thinking["thinking"] == "Considering."
    assert thinking["signature"]


def test_code_goes_into_the_next_cell(ip, fake_api):
    fake_api.script(Turn(text="Try:\n\n```python\nprint(1)\n```\n\n```bash\nls\n```\n"))
    ip.run_cell_magic("claude", "--code", "code please")
    assert ip.rl_next_input == "print(1)"


def test_max_tokens_stop_is_explained(ip, fake_api, capsys):
    fake_api.script(Turn(text="Once upon a", stop_reason="max_tokens"))
    ip.run_cell_magic("claude", "--max-tokens 5", "story")
    assert "--max-tokens 20" in capsys.readouterr().out
    assert magics(ip).session.conversations.get().turns == 1


def test_unknown_model_shows_tokens_and_cost_na(ip, fake_api, capsys):
    ip.run_cell_magic("claude", "-m mystery-model", "hi")
    assert "cost n/a" in capsys.readouterr().out


# -- bad input and failures -------------------------------------------------------------------------


def test_unknown_flag_is_a_usage_error(ip):
    with pytest.raises(UsageError):
        ip.run_cell_magic("claude", "--frobnicate", "hi")


def test_empty_cell_is_one_line_and_sends_nothing(ip, fake_api):
    with pytest.raises(ClaudeError, match="empty"):
        ip.run_cell_magic("claude", "", "   \n")
    assert fake_api.requests == []


def test_bad_max_tokens(ip, fake_api):
    with pytest.raises(ClaudeError, match="positive"):
        ip.run_cell_magic("claude", "--max-tokens 0", "hi")
    with pytest.raises(UsageError):
        ip.run_cell_magic("claude", "--max-tokens lots", "hi")
    assert fake_api.requests == []


def test_help_documents_every_option_with_examples(ip):
    doc = magics(ip).claude.__doc__
    for flag in ("--model", "--system", "--new", "--chat", "--max-tokens", "--out", "--code", "--raw", "--think", "--effort"):
        assert flag in doc
    assert "Examples" in doc and "%%claude -m haiku" in doc
    for action in magics(ip).claude.parser._actions:
        assert "Example:" in action.help, action.dest


def test_config_lists_settings_with_help(ip, capsys):
    ip.run_line_magic("config", "ClaudeMagics")
    out = capsys.readouterr().out
    for name in ("model", "max_tokens", "system", "display", "fixture", "fixture_mode", "prices"):
        assert f"ClaudeMagics.{name}" in out


def test_invalid_config_value_says_what_is_allowed(ip):
    with pytest.raises(Exception, match="display"):
        magics(ip).display = "hologram"
    with pytest.raises(Exception, match="positive"):
        magics(ip).max_tokens = -1


@pytest.mark.parametrize(
    "turn, words",
    [
        (Turn(status=401), "ANTHROPIC_API_KEY"),
        (Turn(status=403), "403"),
        (Turn(status=404), "model id"),
        (Turn(status=429, retry_after=7), "429"),
        (Turn(status=529), "overloaded"),
        (Turn(status=500), "500"),
        (Turn(status=400, error_message="bad thing"), "bad thing"),
        (Turn(text="partial answer here", drop_after=6), "connection dropped"),
        (Turn(text="partial answer here", error_event_after=6), "overloaded"),
    ],
)
def test_failures_are_one_line_and_leave_the_conversation_as_it_was(ip, fake_api, turn, words, capsys):
    ip.run_cell_magic("claude", "", "first")
    before = magics(ip).session.conversations.get().messages
    fake_api.script(turn)
    result = ip.run_cell("%%claude\nsecond")
    assert isinstance(result.error_in_exec, ClaudeError)
    message = str(result.error_in_exec)
    assert words in message and "\n" not in message
    shown = capsys.readouterr()
    assert "Traceback" not in shown.out + shown.err
    assert magics(ip).session.conversations.get().messages == before
    ip.run_cell_magic("claude", "", "third")
    assert texts(sent(fake_api)["messages"][2]) == ["third"]


def test_no_key_names_the_variable_and_sends_nothing(ip, fake_api, monkeypatch):
    monkeypatch.delenv("ANTHROPIC_API_KEY")
    with pytest.raises(ClaudeError, match="ANTHROPIC_API_KEY"):
        ip.run_cell_magic("claude", "", "hi")
    assert fake_api.requests == []
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-later-key-000000")
    ip.run_cell_magic("claude", "", "hi")
    assert fake_api.requests[-1].headers["authorization"].endswith("sk-ant-later-key-000000")


def test_interrupt_commits_nothing_and_the_next_turn_works(ip, fake_api, monkeypatch):
    ip.run_cell_magic("claude", "", "first")
    before = magics(ip).session.conversations.get().messages
    from claude_magic.loop import TurnLoop

    def interrupted(self, client, request):
        self.view.text("half an ans")
        raise KeyboardInterrupt

    with monkeypatch.context() as patch:
        patch.setattr(TurnLoop, "run", interrupted)
        with pytest.raises(ClaudeError, match="Interrupted"):
            ip.run_cell_magic("claude", "", "second")
    assert magics(ip).session.conversations.get().messages == before
    ip.run_cell_magic("claude", "", "third")
    assert len(sent(fake_api)["messages"]) == 3


# -- recorded responses ------------------------------------------------------------------------------


def test_record_then_replay_with_no_key_and_no_server(ip, fake_api, tmp_path, monkeypatch, capsys):
    fixture = tmp_path / "demo.json"
    magics(ip).fixture = str(fixture)
    monkeypatch.setenv("CLAUDE_MAGIC_FIXTURE_MODE", "record")
    fake_api.script(Turn(text="Recorded answer."))
    ip.run_cell_magic("claude", "", "remember this")
    recorded = fixture.read_text()
    assert "Recorded" in recorded and "test-key" not in recorded
    capsys.readouterr()

    monkeypatch.setenv("CLAUDE_MAGIC_FIXTURE_MODE", "replay")
    monkeypatch.delenv("ANTHROPIC_API_KEY")
    magics(ip).session.conversations = Conversations()
    fake_api.stop()
    ip.run_cell_magic("claude", "", "remember this")
    assert "Recorded answer." in capsys.readouterr().out
    assert fixture.read_text() == recorded


def test_a_replay_miss_names_the_cell_and_the_difference(ip, fake_api, tmp_path, monkeypatch):
    fixture = tmp_path / "demo.json"
    magics(ip).fixture = str(fixture)
    monkeypatch.setenv("CLAUDE_MAGIC_FIXTURE_MODE", "record")
    ip.run_cell_magic("claude", "", "What is the capital of France?")
    monkeypatch.setenv("CLAUDE_MAGIC_FIXTURE_MODE", "replay")
    magics(ip).session.conversations = Conversations()
    sent_before = len(fake_api.requests)
    result = ip.run_cell("%%claude\nWhat is the capital of Spain?")
    message = str(result.error_in_exec)
    assert message.startswith("cell 'What is the capital of Spain?'") and "messages[0].content[0].text" in message and "Spain" in message
    assert len(fake_api.requests) == sent_before
    assert magics(ip).session.conversations.get().turns == 0


def test_a_line_question_is_asked_not_taken_for_help(ip, fake_api):
    result = ip.run_cell("%claude -m haiku What is 2**10 in $ terms?")
    assert result.error_in_exec is None
    assert texts(sent(fake_api)["messages"][0]) == ["What is 2**10 in $ terms?"]


def test_unload_removes_the_input_transformer(ip):
    from claude_magic.options import protect_line_magics

    assert protect_line_magics in ip.input_transformers_cleanup
    ip.run_line_magic("unload_ext", "claude_magic")
    assert protect_line_magics not in ip.input_transformers_cleanup
    ip.run_line_magic("load_ext", "claude_magic")


# -- context: -w, -f, -i and {name} ------------------------------------------------------------------


def test_with_attaches_variables_before_the_prompt(ip, fake_api):
    ip.user_ns["notes"] = "Sales rose 4% in May."
    ip.user_ns["counts"] = [3, 1, 4]
    ip.run_line_magic("claude", "-w notes counts summarise")
    content = sent(fake_api)["messages"][0]["content"]
    joined = "".join(texts({"content": content}))
    assert joined.index("Sales rose 4% in May.") < joined.index("[3, 1, 4]") < joined.index("summarise")


def test_with_an_unknown_name_is_one_line_and_sends_nothing(ip, fake_api):
    with pytest.raises(ClaudeError, match="no variable named 'nope'"):
        ip.run_cell_magic("claude", "-w nope", "hi")
    assert fake_api.requests == []


def test_braces_expand_bound_names_and_keep_the_rest(ip, fake_api, capsys):
    ip.user_ns["city"] = "Lyon"
    ip.run_cell_magic("claude", "", 'Weather in {city}? Reply as {"temp": 1} and mention {nowhere}.')
    assert texts(sent(fake_api)["messages"][0]) == ['Weather in Lyon? Reply as {"temp": 1} and mention {nowhere}.']
    assert "nowhere" in capsys.readouterr().out


def test_fig_attaches_the_figure_the_previous_cell_showed(ip, fake_api):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ip.run_cell("import matplotlib.pyplot as plt\nfig = plt.figure(figsize=(4, 3)); plt.plot([1, 2, 3])")
    plt.close("all")  # what the inline backend does at the end of the plotting cell
    ip.run_cell_magic("claude", "-f", "What does this plot show?")
    content = sent(fake_api)["messages"][0]["content"]
    assert content[0]["type"] == "image" and content[0]["source"]["media_type"] == "image/png"
    assert content[-1] == {"type": "text", "text": "What does this plot show?"}
    ip.user_ns.pop("fig", None)


def test_fig_with_nothing_plotted_says_so(ip, fake_api):
    with pytest.raises(ClaudeError, match="no cell has shown an image yet"):
        ip.run_cell_magic("claude", "-f", "what is this?")
    assert fake_api.requests == []


def test_image_files_and_urls(ip, fake_api, tmp_path):
    from PIL import Image

    path = tmp_path / "dot.png"
    Image.new("RGB", (40, 30), "red").save(path)
    ip.run_cell_magic("claude", f"-i {path} -i https://example.com/cat.jpg", "compare")
    content = sent(fake_api)["messages"][0]["content"]
    assert content[0]["source"]["type"] == "base64"
    assert content[1]["source"] == {"type": "url", "url": "https://example.com/cat.jpg"}


@pytest.mark.parametrize("spec, words", [("missing.png", "missing.png"), ("ftp://example.com/a.png", "ftp")])
def test_bad_images_are_one_line_and_send_nothing(ip, fake_api, spec, words):
    result = ip.run_cell(f"%%claude -i {spec}\nlook")
    assert isinstance(result.error_in_exec, ClaudeError) and words in str(result.error_in_exec)
    assert fake_api.requests == [] and magics(ip).session.conversations.get().turns == 0


def test_a_variable_whose_repr_raises(ip, fake_api):
    class Broken:
        def __repr__(self):
            raise RuntimeError("no repr for you")

    ip.user_ns["broken"] = Broken()
    with pytest.raises(ClaudeError, match="broken"):
        ip.run_cell_magic("claude", "", "what is {broken}?")
    assert fake_api.requests == []


def test_unload_removes_the_cell_hooks(ip):
    cells = magics(ip).cells
    assert cells.started in ip.events.callbacks["pre_run_cell"] and cells.finished in ip.events.callbacks["post_run_cell"]
    ip.run_line_magic("unload_ext", "claude_magic")
    assert cells.started not in ip.events.callbacks["pre_run_cell"]
    assert cells.finished not in ip.events.callbacks["post_run_cell"]
    ip.run_line_magic("load_ext", "claude_magic")


# -- dry run, budget, usage --------------------------------------------------------------------------


def test_dry_run_shows_blocks_tokens_and_cost_and_changes_nothing(ip, fake_api, capsys, tmp_path):
    from PIL import Image

    ip.run_cell_magic("claude", "", "first")
    before = magics(ip).session.conversations.get().messages
    path = tmp_path / "dot.png"
    Image.new("RGB", (400, 300), "red").save(path)
    ip.run_cell_magic("claude", f"--dry-run -n -s Terse. -i {path}", "What colour is this?")
    out = capsys.readouterr().out
    assert "Dry run: nothing was sent. claude-opus-5-5 · 0 earlier messages · system prompt: yes" in out
    assert "What colour is this?" in out and "[image 400×300 px, image/png" in out
    assert "input tokens (counted by the API)" in out and "output at most 4,096 tokens, up to $0.0819" in out
    paths = [r.path for r in fake_api.requests]
    assert paths == ["/v1/models/claude-opus-5-5", "/v1/messages", "/v1/messages/count_tokens"]  # one lookup a model
    assert magics(ip).session.conversations.get().messages == before and magics(ip).session.conversations.get().system == ""


def test_dry_run_without_a_key_estimates(ip, fake_api, capsys, monkeypatch):
    monkeypatch.delenv("ANTHROPIC_API_KEY")
    ip.run_cell_magic("claude", "--dry-run", "x" * 400)
    out = capsys.readouterr().out
    assert "100 input tokens (an estimate: No API key" in out
    assert fake_api.requests == []


def test_a_failed_new_turn_keeps_the_old_conversation(ip, fake_api):
    ip.run_cell_magic("claude", "", "keep me")
    fake_api.script(Turn(status=500))
    with pytest.raises(ClaudeError):
        ip.run_cell_magic("claude", "-n -s Pirate.", "fresh")
    chat = magics(ip).session.conversations.get()
    assert chat.turns == 1 and chat.system == ""
    ip.run_cell_magic("claude", "", "still here?")
    assert len(sent(fake_api)["messages"]) == 3 and "system" not in sent(fake_api)


def test_budget_stops_turns_once_reached_and_the_footer_shows_what_is_left(ip, fake_api, capsys):
    magics(ip).budget_usd = 0.016
    fake_api.script(Turn(text="one", usage={"input_tokens": 1000, "output_tokens": 200}))
    ip.run_cell_magic("claude", "", "spend")
    assert "$0.0080 of budget left" in capsys.readouterr().out
    fake_api.script(Turn(text="two", usage={"input_tokens": 1000, "output_tokens": 200}))
    ip.run_cell_magic("claude", "", "spend more")
    assert "$0.0000 of budget left" in capsys.readouterr().out
    result = ip.run_cell("%%claude\none more")
    assert isinstance(result.error_in_exec, ClaudeError)
    assert "Budget reached" in str(result.error_in_exec) and "$0.0160" in str(result.error_in_exec)
    assert len(fake_api.asked) == 2 and magics(ip).session.conversations.get().turns == 2


def test_budget_must_not_be_negative(ip):
    with pytest.raises(Exception, match="budget_usd"):
        magics(ip).budget_usd = -1


def test_usage_by_conversation_and_model(ip, fake_api, capsys):
    ip.run_line_magic("claude_usage", "")
    assert "No turns yet." in capsys.readouterr().out
    fake_api.script(
        Turn(text="a", usage={"input_tokens": 100, "output_tokens": 10}),
        Turn(text="b", usage={"input_tokens": 50, "output_tokens": 5}),
        Turn(text="c", model="claude-haiku-4-5", usage={"input_tokens": 10, "output_tokens": 1}),
    )
    ip.run_cell_magic("claude", "", "a")
    ip.run_cell_magic("claude", "-n", "b")
    ip.run_cell_magic("claude", "-c quiz -m claude-haiku-4-5", "c")
    capsys.readouterr()
    ip.run_line_magic("claude_usage", "")
    rows = [line.split() for line in capsys.readouterr().out.splitlines()]
    assert ["default", "claude-opus-5-5", "2", "150", "15", "0", "0", "$0.0009"] in rows
    assert ["quiz", "claude-haiku-4-5", "1", "10", "1", "0", "0", "$0.0000"] in rows
    assert ["kernel", "all", "3", "160", "16", "0", "0", "$0.0009"] in rows


# -- retries, pauses, long conversations -------------------------------------------------------------


def test_retries_are_announced_in_the_status_line(ip, fake_api, capsys):
    magics(ip).max_retries = 2
    fake_api.script(Turn(status=429, retry_after=0.02), Turn(status=529, retry_after=0.02), Turn(text="Made it."))
    ip.run_cell_magic("claude", "", "hello")
    out = capsys.readouterr().out
    assert "[rate limited (429), retrying in 0 s, as the server asked]" in out
    assert "[overloaded (529), retrying in 0 s, as the server asked]" in out
    assert "Made it." in out and len(fake_api.asked) == 3
    import logging

    assert logging.getLogger("anthropic._base_client").propagate is True


def test_a_paused_turn_is_resumed_and_kept_whole(ip, fake_api, capsys):
    fake_api.script(
        Turn(text="First half, ", stop_reason="pause_turn", usage={"input_tokens": 10, "output_tokens": 5}),
        Turn(text="second half.", usage={"input_tokens": 20, "output_tokens": 6}),
    )
    ip.run_cell_magic("claude", "-o reply", "long job")
    resumed = fake_api.requests[-1].json["messages"]
    assert resumed[-1] == {"role": "assistant", "content": [{"type": "text", "text": "First half,"}]}
    reply = ip.user_ns["reply"]
    assert reply.text == "First half, second half." and reply.usage.input_tokens == 30
    history = magics(ip).session.conversations.get().messages
    assert texts(history[1]) == ["First half, ", "second half."]
    assert "paused by the API; resuming" in capsys.readouterr().out


def test_long_conversations_go_through_compaction_and_keep_its_block(ip, fake_api, capsys):
    magics(ip).model = "claude-opus-4-6"  # a 200,000-token window in the fake's catalogue
    fake_api.script(Turn(text="Long answer.", usage={"input_tokens": 99_000, "output_tokens": 2_000}))
    ip.run_cell_magic("claude", "", "a big document")
    assert "context_management" not in sent(fake_api)
    fake_api.script(Turn(text="Still with you.", compaction="Summary: a big document was discussed."))
    ip.run_cell_magic("claude", "", "go on")
    body = sent(fake_api)
    assert body["context_management"] == {"edits": [{"type": "compact_20260112"}]}
    assert "compact-2026-01-12" in fake_api.requests[-1].headers["anthropic-beta"]
    assert "summarised by the API (compaction)" in capsys.readouterr().out
    block = magics(ip).session.conversations.get().messages[-1]["content"][0]
    assert block == {"type": "compaction", "content": "Summary: a big document was discussed.", "encrypted_content": None}
    ip.run_cell_magic("claude", "", "and now?")
    assert sent(fake_api)["messages"][3]["content"][0] == block and "context_management" in sent(fake_api)


def test_compaction_starts_at_half_the_models_own_window(ip, fake_api):
    fake_api.script(Turn(text="x", usage={"input_tokens": 150_000, "output_tokens": 10}))
    ip.run_cell_magic("claude", "", "one")  # claude-opus-5-5: a 1,000,000-token window
    ip.run_cell_magic("claude", "", "two")
    assert "context_management" not in sent(fake_api)
    fake_api.script(Turn(text="x", usage={"input_tokens": 500_000, "output_tokens": 10}))
    ip.run_cell_magic("claude", "", "three")
    ip.run_cell_magic("claude", "", "four")
    assert sent(fake_api)["context_management"] == {"edits": [{"type": "compact_20260112"}]}


def test_a_compacted_conversation_cannot_move_to_a_model_without_compaction(ip, fake_api):
    fake_api.script(Turn(text="x", usage={"input_tokens": 150_000, "output_tokens": 10}), Turn(text="y", compaction="S."))
    ip.run_cell_magic("claude", "-m claude-opus-4-6", "one")
    ip.run_cell_magic("claude", "-m claude-opus-4-6", "two")
    with pytest.raises(ClaudeError, match="cannot read compaction summaries: continue it with a model that compacts"):
        ip.run_cell_magic("claude", "-m haiku", "three")


def test_a_nearly_full_conversation_on_a_model_without_compaction_warns(ip, fake_api, capsys):
    fake_api.script(Turn(text="x", usage={"input_tokens": 170_000, "output_tokens": 10}))
    ip.run_cell_magic("claude", "-m claude-haiku-4-5", "one")
    capsys.readouterr()
    ip.run_cell_magic("claude", "-m claude-haiku-4-5", "two")
    assert "note: This conversation holds about 170,010 of claude-haiku-4-5's 200,000 tokens" in capsys.readouterr().out


def test_a_prompt_too_long_says_to_start_fresh(ip, fake_api):
    fake_api.script(Turn(status=400, error_message="prompt is too long: 210000 tokens > 200000 maximum"))
    with pytest.raises(ClaudeError, match="no longer fits the model's context window"):
        ip.run_cell_magic("claude", "", "hi")


def test_a_bad_out_name_is_refused_before_sending(ip, fake_api):
    with pytest.raises(ClaudeError, match="-o needs a variable name"):
        ip.run_cell_magic("claude", "-o 2bad", "hi")
    assert fake_api.requests == []


def test_an_unknown_model_alias_is_refused_before_sending(ip, fake_api):
    with pytest.raises(ClaudeError, match="did you mean haiku"):
        ip.run_cell_magic("claude", "-m haikuu", "hi")
    assert fake_api.requests == []


def test_an_unreachable_api_is_one_line(ip, fake_api):
    magics(ip).base_url = "http://127.0.0.1:9"  # the discard port: nothing listens
    with pytest.raises(ClaudeError, match="Could not reach the API"):
        ip.run_cell_magic("claude", "", "hi")


def test_a_timeout_is_one_line_and_names_the_setting(ip, fake_api):
    magics(ip).timeout = 0.2
    fake_api.script(Turn(text="slow answer", delay=0.6))
    with pytest.raises(ClaudeError, match="timed out.*ClaudeMagics.timeout"):
        ip.run_cell_magic("claude", "", "hi")
    assert magics(ip).session.conversations.get().turns == 0


def test_errors_are_ordinary_exceptions_and_no_handler_is_installed(ip):
    assert issubclass(ClaudeError, Exception)
    assert ip.CustomTB is None or getattr(ip.CustomTB, "__module__", "").split(".")[0] != "claude_magic"
    assert ip.custom_exceptions == ()


# -- found in review ---------------------------------------------------------------------------------


def test_bad_prices_are_refused_when_set_not_after_a_paid_turn(ip):
    with pytest.raises(Exception, match="ClaudeMagics.prices takes"):
        magics(ip).prices = {"claude-opus": {"input": 3}}
    with pytest.raises(Exception, match="ClaudeMagics.prices takes"):
        magics(ip).prices = {"claude-opus": {"input": "three", "output": 1}}


def test_a_fixture_that_cannot_be_written_keeps_the_answer(ip, fake_api, tmp_path, monkeypatch, capsys):
    magics(ip).fixture = "/proc/self/claude-fixture.json"  # reads as missing; cannot be written, even by root
    monkeypatch.setenv("CLAUDE_MAGIC_FIXTURE_MODE", "record")
    ip.run_cell_magic("claude", "", "keep this")
    assert magics(ip).session.conversations.get().turns == 1
    assert "was not written" in capsys.readouterr().err


def test_a_fixture_path_that_is_a_folder_is_one_line(ip, fake_api, tmp_path):
    magics(ip).fixture = str(tmp_path)
    result = ip.run_cell("%%claude\nhi")
    assert isinstance(result.error_in_exec, ClaudeError) and "not a readable claude_magic fixture" in str(result.error_in_exec)


def test_the_connection_repr_never_shows_the_key(ip):
    import os

    assert os.environ["ANTHROPIC_API_KEY"] not in repr(magics(ip).session.connection(magics(ip).settings()))


def test_a_configured_system_prompt_does_not_change_a_running_conversation(ip, fake_api):
    ip.run_cell_magic("claude", "", "one")
    magics(ip).system = "Be a pirate."
    ip.run_cell_magic("claude", "", "two")
    assert "system" not in sent(fake_api)
    ip.run_cell_magic("claude", "-c side -s Terse.", "a")
    ip.run_cell_magic("claude", "-c side -s ''", "b")
    ip.run_cell_magic("claude", "-c side", "c")
    assert "system" not in sent(fake_api)
    ip.run_cell_magic("claude", "-n", "fresh")
    assert sent(fake_api)["system"] == "Be a pirate."


def test_unload_removes_every_magic(ip):
    ip.run_line_magic("unload_ext", "claude_magic")
    assert not {"claude", "claude_key", "claude_usage"} & set(ip.magics_manager.magics["line"])
    ip.run_line_magic("load_ext", "claude_magic")


def test_a_dropped_turn_still_counts_what_the_api_billed(ip, fake_api):
    fake_api.script(Turn(text="partial answer " * 20, drop_after=8, usage={"input_tokens": 1000, "output_tokens": 50}))
    with pytest.raises(ClaudeError):
        ip.run_cell_magic("claude", "", "hi")
    assert magics(ip).session.conversations.get().turns == 0
    (spend,) = magics(ip).session.ledger.spends.values()
    assert spend.usage.input_tokens == 1000 and spend.cost > 0


def test_a_refusal_with_nothing_to_keep_says_so(ip, fake_api):
    fake_api.script(Turn(text="", stop_reason="refusal"))
    with pytest.raises(ClaudeError, match="declined"):
        ip.run_cell_magic("claude", "", "something bad")
    assert magics(ip).session.conversations.get().turns == 0


def test_dry_run_with_out_or_code_is_refused(ip, fake_api):
    with pytest.raises(ClaudeError, match="--dry-run sends nothing"):
        ip.run_cell_magic("claude", "--dry-run -o answer", "hi")
    assert fake_api.requests == []


def test_settings_from_ipython_config_apply_at_load(ip, fake_api):
    """What `c.ClaudeMagics.model = ...` in ipython_config.py does: config present before loading."""
    ip.run_line_magic("unload_ext", "claude_magic")
    ip.config.ClaudeMagics.model = "haiku"
    ip.config.ClaudeMagics.display = "text"
    ip.config.ClaudeMagics.base_url = fake_api.base_url
    ip.run_line_magic("load_ext", "claude_magic")
    ip.run_cell_magic("claude", "", "hi")
    assert sent(fake_api)["model"] == "claude-haiku-5-5"


# -- the first hour (issue 10) -------------------------------------------------------------------------


def test_x_attaches_the_failing_cell_and_its_traceback_before_the_prompt(ip, fake_api):
    with pytest.raises(ClaudeError, match="no cell has failed"):
        ip.run_cell_magic("claude", "-x", "why?")
    result = ip.run_cell("ratios = {'a': 1}\nratios['b'] / 2")
    assert isinstance(result.error_in_exec, KeyError)
    ip.run_cell_magic("claude", "-x", "why did that fail?")
    (attached,) = texts(sent(fake_api)["messages"][0])
    assert "ratios['b'] / 2" in attached and "KeyError: 'b'" in attached
    assert attached.endswith("</error>\n\nwhy did that fail?")


def test_claude_fix_asks_about_the_last_error_and_offers_the_fix_as_a_cell(ip, fake_api):
    ip.run_cell("1 / 0")
    fake_api.script(Turn(text="Division by zero.\n\n```python\n1 / 1\n```"))
    ip.run_line_magic("claude_fix", "")
    (asked,) = texts(sent(fake_api)["messages"][0])
    assert "ZeroDivisionError" in asked and "corrected cell" in asked
    assert ip.rl_next_input == "1 / 1"


def test_a_reference_that_cannot_be_looked_up_is_sent_as_typed_and_never_blocks(ip, fake_api, capsys):
    ip.user_ns["cfg"] = {"lr": 0.1}
    ip.run_cell_magic("claude", "", "Tune {cfg['epochs']} and {cfg['lr']}")
    assert texts(sent(fake_api)["messages"][0]) == ["Tune {cfg['epochs']} and 0.1"]
    out = capsys.readouterr().out
    assert "{cfg['epochs']}: KeyError: 'epochs'; sent as typed (--raw" in out
    assert "sent: {cfg['lr']} (float" in out


def test_what_was_sent_is_listed_above_the_answer(ip, fake_api, capsys):
    import pandas as pd

    ip.user_ns["df"] = pd.DataFrame({"a": range(1000), "b": 1.0})
    ip.user_ns["notes"] = "x" * 400
    ip.run_cell_magic("claude", "-w notes", "Describe {df}.")
    out = capsys.readouterr().out
    assert "sent: -w notes (text, 400 characters, ~" in out and "{df} (DataFrame 1,000 × 2, ~" in out
    assert out.index("sent:") < out.index("Echo:")


def test_a_dropped_turn_bills_the_output_it_streamed(ip, fake_api):
    fake_api.script(Turn(text="word " * 200, drop_after=60, usage={"input_tokens": 100}))
    with pytest.raises(ClaudeError):
        ip.run_cell_magic("claude", "", "hi")
    (spend,) = magics(ip).session.ledger.spends.values()
    assert spend.usage.output_tokens > 50  # about 55 deltas of 8 characters, not the 1 message_start reports


def test_past_the_budget_the_footer_says_how_much_over(ip, fake_api, capsys):
    magics(ip).budget_usd = 0.003
    fake_api.script(Turn(text="one", usage={"input_tokens": 1000, "output_tokens": 200}))
    ip.run_cell_magic("claude", "", "spend")
    assert "$0.0050 over budget" in capsys.readouterr().out




# -- today's models (issue 13) --------------------------------------------------------------------------


def test_thinking_on_an_adaptive_only_model_that_hides_it_works_and_shows(ip, fake_api, capsys):
    # claude-opus-4-8 in the fake answers 400 to "enabled" and sends no thinking text unless asked.
    fake_api.script(Turn(text="42.", thinking="Six times seven."))
    ip.run_cell_magic("claude", "-m claude-opus-4-8 -t -o reply", "6 x 7?")
    assert sent(fake_api)["thinking"] == {"type": "adaptive", "display": "summarized"}
    assert ip.user_ns["reply"].thinking == "Six times seven." and fake_api.rejected == 0


def test_every_effort_a_model_takes_is_sent_and_others_are_refused_before_sending(ip, fake_api):
    ip.run_cell_magic("claude", "-m claude-opus-4-8 -e xhigh", "hi")
    assert sent(fake_api)["output_config"] == {"effort": "xhigh"}
    before = len(fake_api.asked)
    with pytest.raises(ClaudeError, match=r"^-e xhigh: claude-opus-4-6 takes low, medium, high or max, not xhigh\.$"):
        ip.run_cell_magic("claude", "-m claude-opus-4-6 -e xhigh", "hi")
    with pytest.raises(ClaudeError, match="claude-haiku-4-5 has no effort setting"):
        ip.run_cell_magic("claude", "-m claude-haiku-4-5 -e low", "hi")
    assert len(fake_api.asked) == before and fake_api.rejected == 0


def test_a_warm_turn_asks_the_models_api_nothing(ip, fake_api):
    for prompt in ("one", "two", "three"):
        ip.run_cell_magic("claude", "", prompt)
    ip.run_cell_magic("claude", "-m haiku", "four")
    ip.run_cell_magic("claude", "-m haiku", "five")
    assert [r.path for r in fake_api.requests if r.method == "GET"] == [
        "/v1/models/claude-opus-5-5", "/v1/models/claude-haiku-5-5"
    ]


def test_a_deprecated_model_is_one_note_line_once_and_nothing_on_stderr(ip, fake_api, capsys):
    ip.run_cell_magic("claude", "-m claude-opus-4-5", "one")
    ip.run_cell_magic("claude", "-m claude-opus-4-5", "two")
    out, err = capsys.readouterr()
    notes = [line for line in out.splitlines() if line.startswith("note:")]
    assert notes == [
        "note: The model 'claude-opus-4-5' is deprecated and will reach end-of-life on January 22nd, 2027. "
        "Please migrate to a newer model. Visit https://docs.anthropic.com/en/docs/resources/model-deprecations "
        "for more information."
    ]
    assert err == ""


def test_the_context_window_stop_is_said_plainly(ip, fake_api, capsys):
    fake_api.script(Turn(text="The answer began", stop_reason="model_context_window_exceeded"))
    ip.run_cell_magic("claude", "", "go")
    assert "Stopped: the conversation filled the model's context window" in capsys.readouterr().out


def test_a_model_without_a_price_says_cost_na_and_notes_it_once(ip, fake_api, capsys):
    fake_api.models["claude-mythos-5-2"] = FakeModel(
        "claude-mythos-5-2", "Claude Mythos 5.2", "2026-11-09T00:00:00Z", thinking=("adaptive",), line="mythos",
    )
    ip.run_cell_magic("claude", "-m claude-mythos-5-2", "one")
    ip.run_cell_magic("claude", "-m claude-mythos-5-2", "two")
    out = capsys.readouterr().out
    assert out.count('note: no price is published for claude-mythos-5-2: footers show its tokens and "cost n/a"') == 1
    assert out.count("cost n/a this turn") == 2


def test_an_unknown_model_is_guessed_and_said_once(ip, fake_api, capsys):
    ip.run_cell_magic("claude", "-m claude-opus-9 -t", "one")
    ip.run_cell_magic("claude", "-m claude-opus-9", "two")
    out = capsys.readouterr().out
    assert out.count("note: could not ask the Models API what claude-opus-9 can do (it answered 404") == 1
    assert fake_api.requests[-2].json["thinking"] == {"type": "adaptive", "display": "summarized"}
