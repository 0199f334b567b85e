"""Whole turns through `Session`, with no shell: the real SDK against the fake API or a fixture.

Each test prepares a `TurnRequest` under a `Settings` snapshot, sends it into a view that only
records what it was told, and checks the conversation, the ledger and what reached the server.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pytest
from fakeapi import FakeAPI, Turn

from claude_magic.errors import ClaudeError
from claude_magic.output import Final
from claude_magic.session import Session, TurnRequest
from claude_magic.settings import Settings

KEY = "sk-ant-test-session-key-0123456789"


@dataclass
class RecordingView:
    """A `TurnView` that keeps what it was told."""

    started: str = ""
    sent: str = ""
    text_deltas: list[str] = field(default_factory=list)
    thinking_deltas: list[str] = field(default_factory=list)
    statuses: list[str] = field(default_factory=list)
    final: Final | None = None
    failed: str | None = None

    def start(self, model: str, sent: str = "") -> None:
        self.started, self.sent = model, sent

    def status(self, message: str) -> None:
        self.statuses.append(message)

    def thinking(self, delta: str) -> None:
        self.thinking_deltas.append(delta)

    def text(self, delta: str) -> None:
        self.text_deltas.append(delta)

    def finish(self, final: Final) -> None:
        self.final = final

    def fail(self, footer: str) -> None:
        self.failed = footer


@pytest.fixture
def settings(fake_api: FakeAPI, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("ANTHROPIC_API_KEY", KEY)
    return Settings(base_url=fake_api.base_url, max_retries=0, display="text")


@pytest.fixture
def session():
    session = Session()
    yield session
    session.close()


def turn(session: Session, settings: Settings, text: str, namespace: dict | None = None, **options):
    notes: list[str] = []
    view = RecordingView()
    prepared = session.prepare(TurnRequest(text=text, **options), settings, namespace or {}, notes.append)
    return prepared, view, notes


def send(session: Session, settings: Settings, text: str, **options):
    prepared, view, _ = turn(session, settings, text, **options)
    return session.send(prepared, view), view


def test_a_turn_streams_into_the_view_and_commits(session, settings, fake_api):
    fake_api.script(Turn(text="Paris.", thinking="Geography.", usage={"input_tokens": 1000, "output_tokens": 200}))
    reply, view = send(session, settings, "Capital of France?", think=True)
    assert view.started == "claude-opus-5-5" and "".join(view.text_deltas) == "Paris."
    assert "".join(view.thinking_deltas) == "Geography."  # the default model hides thinking unless asked
    assert view.final is not None and view.final.text == "Paris." and "$0.0080" in view.final.footer
    assert reply.text == "Paris." and reply.cost == pytest.approx(0.008)
    chat = session.conversations.get()
    assert chat.turns == 1 and chat.messages[1]["content"][0]["type"] == "thinking"
    assert session.ledger.total == pytest.approx(0.008)


def test_preparing_sends_nothing_and_notes_unbound_names(session, settings, fake_api):
    prepared, _, notes = turn(session, settings, "Hello {nobody}, meet {who}.", {"who": "Ada"})
    # It asks the Models API what the model can do, once; nothing goes to the model.
    assert [r.path for r in fake_api.requests] == ["/v1/models/claude-opus-5-5"]
    assert session.conversations.get().turns == 0
    assert prepared.request["messages"][0]["content"] == [{"type": "text", "text": "Hello {nobody}, meet Ada."}]
    assert notes == ["{nobody} is not a variable here; sent as typed (--raw, or a code span or fence, keeps braces without this note)"]
    assert prepared.sent == "sent: {who} (text, 3 characters, ~1 tokens)"


@pytest.mark.parametrize(
    "fault, words",
    [
        (Turn(status=529), "overloaded"),
        (Turn(status=401), "rejected the key"),
        (Turn(text="partial answer", drop_after=5, usage={"input_tokens": 400}), "connection dropped"),
        (Turn(text="partial answer", error_event_after=5), "overloaded"),
    ],
)
def test_a_failed_turn_commits_nothing_keeps_its_partial_and_is_one_line(session, settings, fake_api, fault, words):
    send(session, settings, "first")
    before = session.conversations.get().messages
    fake_api.script(fault)
    prepared, view, _ = turn(session, settings, "second", new=True, system="Pirate.")
    with pytest.raises(ClaudeError, match=words) as caught:
        session.send(prepared, view)
    assert "\n" not in str(caught.value)
    assert view.failed == "claude-opus-5-5 · incomplete"
    chat = session.conversations.get()
    assert chat.messages == before and chat.system == ""


def test_a_dropped_turn_is_billed_for_what_the_api_reported(session, settings, fake_api):
    fake_api.script(Turn(text="partial answer " * 10, drop_after=6, usage={"input_tokens": 2000}))
    with pytest.raises(ClaudeError):
        send(session, settings, "hi")
    ((chat, model), spend), = session.ledger.spends.items()
    assert (chat, model) == ("default", "claude-opus-5-5") and spend.usage.input_tokens == 2000
    assert session.conversations.get().turns == 0


def test_a_paused_turn_is_resumed_within_the_same_turn(session, settings, fake_api):
    fake_api.script(
        Turn(text="First half, ", stop_reason="pause_turn", usage={"input_tokens": 10, "output_tokens": 5}),
        Turn(text="second half.", usage={"input_tokens": 20, "output_tokens": 6}),
    )
    reply, view = send(session, settings, "long job")
    assert reply.text == "First half, second half." and reply.usage.input_tokens == 30
    assert view.statuses == ["paused by the API; resuming"] and len(fake_api.asked) == 2
    assert session.conversations.get().turns == 1


def test_the_budget_refuses_before_anything_is_sent(session, settings, fake_api):
    budgeted = Settings(**{**settings.__dict__, "budget_usd": 0.003})
    fake_api.script(Turn(text="one", usage={"input_tokens": 1000, "output_tokens": 200}))
    _, view = send(session, budgeted, "spend")
    assert view.final is not None and view.final.footer.endswith("$0.0050 over budget")  # $0.0080 spent
    prepared, view, _ = turn(session, budgeted, "more")
    with pytest.raises(ClaudeError, match="Budget reached"):
        session.send(prepared, view)
    assert len(fake_api.asked) == 1 and view.started == ""


def test_a_dry_run_counts_with_the_api_and_commits_nothing(session, settings, fake_api):
    prepared, _, _ = turn(session, settings, "x" * 400, dry_run=True)
    run = session.dry_run(prepared)
    assert run.counted == "counted by the API" and run.input_tokens == 101
    assert [request.path for request in fake_api.requests] == ["/v1/models/claude-opus-5-5", "/v1/messages/count_tokens"]
    assert session.conversations.get().turns == 0


def test_a_turn_replays_from_a_fixture_with_no_key_and_no_server(session, settings, fake_api, tmp_path: Path, monkeypatch):
    recorded = Settings(**{**settings.__dict__, "fixture": str(tmp_path / "f.json")})
    monkeypatch.setenv("CLAUDE_MAGIC_FIXTURE_MODE", "record")
    fake_api.script(Turn(text="Recorded."))
    send(session, recorded, "remember")
    fake_api.stop()
    monkeypatch.setenv("CLAUDE_MAGIC_FIXTURE_MODE", "replay")
    monkeypatch.delenv("ANTHROPIC_API_KEY")
    replaying = Session()
    reply, _ = send(replaying, recorded, "remember")
    assert reply.text == "Recorded." and replaying.conversations.get().turns == 1
    prepared, view, _ = turn(replaying, recorded, "never recorded")
    with pytest.raises(ClaudeError, match="cell 'never recorded': no recorded response"):
        replaying.send(prepared, view)
    replaying.close()


def test_bad_requests_are_refused_before_sending(session, settings, fake_api):
    for options, words in [
        (dict(out="2bad"), "-o needs a variable name"),
        (dict(dry_run=True, code=True), "--dry-run sends nothing"),
        (dict(max_tokens=0), "positive"),
        (dict(model="haikuu"), "did you mean haiku"),
        (dict(with_=("missing",)), "no variable named 'missing'"),
    ]:
        with pytest.raises(ClaudeError, match=words):
            turn(session, settings, "hi", **options)
    assert fake_api.requests == []


def test_a_fixture_recorded_without_the_model_lookup_still_replays_and_says_so_once(
    session, settings, fake_api, tmp_path: Path, monkeypatch
):
    import json

    path = tmp_path / "old.json"
    recorded = Settings(**{**settings.__dict__, "fixture": str(path)})
    monkeypatch.setenv("CLAUDE_MAGIC_FIXTURE_MODE", "record")
    fake_api.script(Turn(text="One."), Turn(text="Two."))
    send(session, recorded, "one")
    send(session, recorded, "two")
    document = json.loads(path.read_text())
    assert [e["request"]["method"] for e in document["exchanges"]] == ["GET", "POST", "POST"]
    document["exchanges"] = [e for e in document["exchanges"] if e["request"]["method"] == "POST"]  # as before 13
    path.write_text(json.dumps(document))
    fake_api.stop()
    monkeypatch.setenv("CLAUDE_MAGIC_FIXTURE_MODE", "replay")
    replaying = Session()
    notes = []
    for text in ("one", "two"):
        prepared, view, said = turn(replaying, recorded, text)
        assert replaying.send(prepared, view).text in ("One.", "Two.")
        notes += said
    assert notes == [
        "could not ask the Models API what claude-opus-5-5 can do (the fixture holds no answer); going by the built-in table."
    ]
    replaying.close()
