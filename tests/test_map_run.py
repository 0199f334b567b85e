"""%%claude_map and claude_magic.map through a real InteractiveShell, against the fake API on 127.0.0.1:
the plan, the preview, both engines, retries, the budget, bad input, interrupts and resuming."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from fakeapi import Turn
from IPython.core.error import UsageError
from shell import magics

import claude_magic
from claude_magic.errors import ClaudeError
from claude_magic.pricing import PriceTable
from claude_magic.settings import DEFAULT_MODEL

LABELS = ["positive", "negative", "neutral"]
TEXTS = ["great", "awful", "great", "fine", "lovely", "broken", "meh"]


def label_of(params: dict) -> str:
    """The scripted answer: a label that depends on the review, as JSON."""
    text = params["messages"][0]["content"][0]["text"]
    word = text.rsplit(" ", 1)[-1]
    label = "positive" if word in ("great", "lovely") else "negative" if word in ("awful", "broken") else "neutral"
    return json.dumps({"label": label})


def no_waiting(monkeypatch) -> list[float]:
    """The pauses between polls, noted instead of slept."""
    import types

    import claude_magic.batches as batches

    slept: list[float] = []
    monkeypatch.setattr(batches, "time", types.SimpleNamespace(sleep=slept.append))
    return slept


@pytest.fixture
def job(ip, fake_api, tmp_path, monkeypatch):
    """A shell with `reviews` and `labels`, answers that depend on the prompt, no waiting between polls,
    and job files in a directory of the test's own."""
    monkeypatch.chdir(tmp_path)
    no_waiting(monkeypatch)
    ip.user_ns["reviews"] = pd.DataFrame({"text": TEXTS}, index=[f"r{i}" for i in range(len(TEXTS))])
    ip.user_ns["labels"] = LABELS
    fake_api.batch_reply = fake_api.respond = label_of
    return ip


def paths(fake_api, method="POST"):
    return [r.path for r in fake_api.requests if r.method == method]


def test_a_batch_job_stores_typed_answers_aligned_to_the_frame(job, fake_api, capsys, tmp_path):
    job.run_cell_magic("claude_map", "reviews -o sentiment --schema labels --batch -s 'Label reviews.'", "Label: {text}")
    out = capsys.readouterr().out
    sentiment = job.user_ns["sentiment"]
    assert list(sentiment.index) == list(job.user_ns["reviews"].index)
    assert sentiment.tolist() == ["positive", "negative", "positive", "neutral", "positive", "negative", "neutral"]
    assert list(sentiment.cat.categories) == LABELS and job.user_ns["sentiment_errors"].empty
    # 7 rows, 6 distinct prompts: 3 counted, 3 answered live as the preview, the other 3 in one batch
    assert paths(fake_api).count("/v1/messages/count_tokens") == 3
    assert paths(fake_api).count("/v1/messages") == 3 and paths(fake_api).count("/v1/messages/batches") == 1
    batch = next(r.json for r in fake_api.requests if r.path == "/v1/messages/batches")
    assert [request["custom_id"] for request in batch["requests"]] == ["p3", "p4", "p5"]
    system = batch["requests"][0]["params"]["system"]
    assert system == [{"type": "text", "text": "Label reviews.", "cache_control": {"type": "ephemeral", "ttl": "1h"}}]
    assert "7 rows, 6 distinct prompts (1 row repeats another's prompt)" in out and "· batch ·" in out
    assert "Preview, answered live (3 prompts):" in out and "r0: positive" in out
    assert "Estimate for the other 3 prompts" in out and "batch msgbatch_fake_1: 3 requests submitted" in out
    assert "7 of 7 rows answered, from 6 prompts · stored in sentiment (Series, category)" in out
    assert not list(tmp_path.glob("claude_map-*.json"))  # delivered: the job file is gone


def test_the_kernels_spending_counts_batch_requests_at_batch_prices(job, fake_api, capsys):
    job.run_cell_magic("claude_map", "reviews -o sentiment --schema labels --batch", "Label: {text}")
    spends = magics(job).session.ledger.spends
    batch, live = spends[("claude_map (batch)", DEFAULT_MODEL)], spends[("claude_map", DEFAULT_MODEL)]
    assert batch.cost == pytest.approx(PriceTable().cost(DEFAULT_MODEL, batch.usage) / 2)
    assert live.cost == pytest.approx(PriceTable().cost(DEFAULT_MODEL, live.usage))
    out = capsys.readouterr().out
    assert f"this job (3 prompts at batch prices) · kernel ${batch.cost + live.cost:.4f}" in out
    job.run_line_magic("claude_usage", "")
    assert "claude_map (batch)" in capsys.readouterr().out


def test_errored_and_expired_prompts_are_sent_once_more_then_reported(job, fake_api, capsys):
    tries: dict[str, int] = {}

    def outcome(custom_id, params):
        tries[custom_id] = tries.get(custom_id, 0) + 1
        if custom_id == "p3":
            return "expired" if tries[custom_id] == 1 else None  # the retry succeeds
        return "errored" if custom_id == "p4" else None  # this one fails both times

    fake_api.batch_outcomes = outcome
    job.run_cell_magic("claude_map", "reviews -o sentiment --schema labels --batch", "Label: {text}")
    assert tries == {"p3": 2, "p4": 2, "p5": 1}
    assert job.user_ns["sentiment"]["r4"] == "positive" and pd.isna(job.user_ns["sentiment"]["r5"])
    assert job.user_ns["sentiment_errors"].to_dict() == {"r5": "api_error: Internal server error"}
    out = capsys.readouterr().out
    assert "2 prompts errored or expired: sending them once more." in out
    assert "1 row failed after one retry:\n- row r5: api_error: Internal server error" in out


def test_a_small_job_goes_live_and_sends_each_distinct_prompt_once(job, fake_api, capsys):
    job.user_ns["many"] = pd.DataFrame({"text": ["a", "b", "a", "b", "c"] * 4})
    fake_api.respond = None  # the fake's echo
    result = job.run_cell_magic("claude_map", "many", "Say {text}")
    assert paths(fake_api).count("/v1/messages") == 3 and "/v1/messages/batches" not in paths(fake_api)
    assert result.tolist() == ["Echo: Say a", "Echo: Say b", "Echo: Say a", "Echo: Say b", "Echo: Say c"] * 4
    assert result.dtype == "string" and result.attrs["errors"].empty
    assert "live (auto: 100 prompts or fewer; answers in seconds)" in capsys.readouterr().out


def test_a_schema_with_several_fields_gives_a_typed_dataframe(job, fake_api):
    job.user_ns["lines"] = pd.DataFrame({"line": ["Acme 12.50", "Globex 7"]})
    job.user_ns["Invoice"] = {"type": "object", "properties": {"company": {"type": "string"}, "amount": {"type": "number"}},
                              "required": ["company", "amount"]}

    def invoice(params):
        company, amount = params["messages"][0]["content"][0]["text"].split(": ")[1].split()
        return json.dumps({"company": company, "amount": float(amount)})

    fake_api.respond = invoice
    job.run_cell_magic("claude_map", "lines -o parsed --schema Invoice --live", "Extract: {line}")
    parsed = job.user_ns["parsed"]
    assert parsed.to_dict("list") == {"company": ["Acme", "Globex"], "amount": [12.5, 7.0]}
    assert str(parsed["amount"].dtype) == "Float64"


def test_a_dry_run_shows_the_plan_and_sends_nothing_but_the_count(job, fake_api, capsys):
    job.run_cell_magic("claude_map", "reviews --dry-run --schema labels", "Label: {text}")
    assert set(paths(fake_api)) == {"/v1/messages/count_tokens"}
    out = capsys.readouterr().out
    assert "counted by the API on 3 of 6 prompts" in out and "Dry run: nothing was sent." in out


@pytest.mark.parametrize("line, cell, why", [
    ("reviews", "Label: {txt}", r"The template names \{txt\}, which is not a column of reviews"),
    ("empty", "{text}", "empty has no rows"),
    ("labels", "{text}", "labels is a list, not a pandas DataFrame"),
    ("nowhere", "{text}", "nowhere is not a variable here"),
    ("reviews --schema reviews", "{text}", "--schema reviews holds a value of type DataFrame"),
    ("huge", "{text}", "huge has 200,001 rows; a job takes at most 200,000"),
    ("reviews -o 2x", "{text}", "-o needs a variable name"),
    ("reviews -o In", "{text}", "-o In: IPython keeps its own things under that name"),
    ("reviews", None, "takes its template from the cell below"),
])
def test_bad_input_is_one_line_and_sends_nothing(job, fake_api, line, cell, why):
    job.user_ns["empty"] = pd.DataFrame({"text": []})
    job.user_ns["huge"] = pd.DataFrame({"text": ["x"] * 200_001})
    with pytest.raises(ClaudeError, match=why) as caught:
        if cell is None:
            job.run_line_magic("claude_map", line)
        else:
            job.run_cell_magic("claude_map", line, cell)
    assert "\n" not in str(caught.value) and fake_api.requests == []


def test_batch_and_live_exclude_each_other(job, fake_api):
    with pytest.raises(UsageError, match="exclude each other"):
        job.run_cell_magic("claude_map", "reviews --batch --live", "{text}")


def test_a_preview_that_fails_entirely_stops_the_job(job, fake_api):
    fake_api.respond = lambda params: Turn(status=403, error_message="This key may not use claude-opus-4-6")
    with pytest.raises(ClaudeError, match="Every request of the preview failed, so nothing more was sent: This key may not"):
        job.run_cell_magic("claude_map", "reviews -o s --batch", "Label: {text}")
    assert paths(fake_api).count("/v1/messages") == 3 and "/v1/messages/batches" not in paths(fake_api)


def test_a_job_whose_estimate_passes_the_budget_is_refused_after_the_preview(job, fake_api):
    fake_api.respond = lambda params: json.dumps({"label": "neutral", "why": "x" * 4000})
    magics(job).budget_usd = 0.01
    with pytest.raises(ClaudeError, match=r"Budget: the other 3 prompts would cost about \$0\.\d+, which would take"):
        job.run_cell_magic("claude_map", "reviews -o s --schema labels --batch", "Label: {text}")
    assert "/v1/messages/batches" not in paths(fake_api) and paths(fake_api).count("/v1/messages") == 3


def test_a_job_whose_input_alone_passes_the_budget_sends_nothing(job, fake_api):
    magics(job).budget_usd = 0.000001
    with pytest.raises(ClaudeError, match="Budget: its input alone would cost"):
        job.run_cell_magic("claude_map", "reviews", "Label: {text}")
    assert set(paths(fake_api)) == {"/v1/messages/count_tokens"}


def test_a_kernel_that_has_spent_its_budget_runs_no_job_even_on_a_model_without_a_price(job, fake_api):
    from fakeapi import FakeModel

    fake_api.models["claude-unpriced-1"] = FakeModel("claude-unpriced-1", "Unpriced", "2026-01-01T00:00:00Z")
    magics(job).budget_usd = 0.0001
    job.run_cell_magic("claude", "", "Spend a little first. " * 40)
    with pytest.raises(ClaudeError, match=r"^Budget reached: this kernel has spent \$0\.\d+ of its \$0\.0001"):
        job.run_cell_magic("claude_map", "reviews -m claude-unpriced-1 --live", "Label: {text}")
    assert paths(fake_api).count("/v1/messages") == 1  # the first turn's only


def interrupt_while_polling(monkeypatch):
    """Ctrl-C as the batch's progress bar is drawn: the polling is where a job waits."""
    import claude_magic.progress as progress

    def update(bar, tally, notice=""):
        if bar.label == "batch":
            raise KeyboardInterrupt

    monkeypatch.setattr(progress._TextBar, "update", update)


def interrupt_a_batch_job(job, fake_api, monkeypatch, line: str, match: str = "Interrupted") -> None:
    """Runs `%%claude_map line` over a batch that never ends, and Ctrl-C while it polls."""
    fake_api.batch_polls = 1000
    with monkeypatch.context() as patch:
        interrupt_while_polling(patch)
        with pytest.raises(ClaudeError, match=match):
            job.run_cell_magic("claude_map", line, "Label: {text}")


def test_an_interrupted_batch_runs_on_and_a_restarted_kernel_collects_it(job, fake_api, monkeypatch, tmp_path, capsys):
    interrupt_a_batch_job(job, fake_api, monkeypatch, "reviews -o sentiment --schema labels --batch",
                          match=r"Interrupted; the batches \(msgbatch_fake_1\) run on at the API\. "
                                r"%claude_map --resume sentiment collects")
    saved = json.loads((tmp_path / "claude_map-sentiment.json").read_text())
    assert saved["batches"] == [{"id": "msgbatch_fake_1", "custom_ids": ["p3", "p4", "p5"], "round": 1}]
    assert sorted(saved["answered"]) == ["p0", "p1", "p2"] and saved["prompt_of_row"] == [0, 1, 0, 2, 3, 4, 5]
    assert "great" not in json.dumps(saved)  # no prompt text in the job file

    # a restart: a fresh extension and session, and no frame or schema in the namespace
    job.run_line_magic("unload_ext", "claude_magic")
    job.run_line_magic("load_ext", "claude_magic")
    magics(job).base_url, magics(job).display = fake_api.base_url, "text"
    del job.user_ns["reviews"], job.user_ns["labels"]
    fake_api.batches.batches["msgbatch_fake_1"].polls_left = 0
    capsys.readouterr()
    job.run_line_magic("claude_map", "--resume")
    assert job.user_ns["sentiment"].tolist() == ["positive", "negative", "positive", "neutral", "positive", "negative", "neutral"]
    assert list(job.user_ns["sentiment"].index) == [f"r{i}" for i in range(7)]
    assert "resuming sentiment: batch msgbatch_fake_1." in capsys.readouterr().out
    assert not (tmp_path / "claude_map-sentiment.json").exists()
    assert magics(job).session.ledger.spends[("claude_map (batch)", DEFAULT_MODEL)].usage.output_tokens > 0


def test_running_the_interrupted_cell_again_collects_instead_of_sending_again(job, fake_api, monkeypatch, capsys):
    interrupt_a_batch_job(job, fake_api, monkeypatch, "reviews -o sentiment --schema labels --batch")
    fake_api.batches.batches["msgbatch_fake_1"].polls_left = 0
    sent = len(fake_api.requests)
    job.run_cell_magic("claude_map", "reviews -o sentiment --schema labels --batch", "Label: {text}")
    assert "this job was sent before (claude_map-sentiment.json): collecting its batches" in capsys.readouterr().out
    assert [r.path for r in fake_api.requests[sent:] if r.method == "POST"] == []
    assert job.user_ns["sentiment"].notna().all()


def test_another_job_under_a_waiting_jobs_name_is_refused(job, fake_api, monkeypatch):
    interrupt_a_batch_job(job, fake_api, monkeypatch, "reviews -o sentiment --batch")
    with pytest.raises(ClaudeError, match="Another job named 'sentiment' still has batches at the API"):
        job.run_cell_magic("claude_map", "reviews -o sentiment --batch", "Rate: {text}")


def test_a_dry_run_of_a_waiting_job_only_shows_its_plan(job, fake_api, monkeypatch, tmp_path):
    interrupt_a_batch_job(job, fake_api, monkeypatch, "reviews -o sentiment --batch")
    sent = len(fake_api.requests)
    job.run_cell_magic("claude_map", "reviews -o sentiment --batch --dry-run", "Label: {text}")
    assert {r.path for r in fake_api.requests[sent:]} == {"/v1/messages/count_tokens"}
    assert (tmp_path / "claude_map-sentiment.json").exists()


def test_an_interrupted_live_job_keeps_the_answers_it_had(job, fake_api, monkeypatch):
    import claude_magic.progress as progress

    def update(bar, tally, notice=""):
        if bar.label == "live" and tally.done:
            raise KeyboardInterrupt

    monkeypatch.setattr(progress._TextBar, "update", update)
    job.user_ns["long"] = pd.DataFrame({"text": [f"row {i}" for i in range(30)]})
    fake_api.latency = 0.02
    with pytest.raises(ClaudeError, match=r"Interrupted: \d+ of 30 prompts answered; the answers are in out and out_errors"):
        job.run_cell_magic("claude_map", "long -o out --live", "Say {text}")
    out, errors = job.user_ns["out"], job.user_ns["out_errors"]
    assert out.notna().sum() >= 3 and set(errors) == {"not sent: the job was interrupted"}
    assert out.notna().sum() + len(errors) == 30


def test_resume_with_no_job_says_where_it_looked(job, tmp_path):
    with pytest.raises(ClaudeError, match=f"No claude_map job to resume in {tmp_path}"):
        job.run_line_magic("claude_map", "--resume")
    with pytest.raises(ClaudeError, match="No job 'gone' here"):
        job.run_line_magic("claude_map", "--resume gone")


def test_the_python_api_returns_the_answers_with_their_errors_attached(job, fake_api):
    fake_api.batch_outcomes = {"p0": {"type": "invalid_request_error", "message": "bad"}}
    result = claude_magic.map(job.user_ns["reviews"].head(2), "Label: {text}", schema=LABELS, engine="live")
    assert result.tolist() == ["positive", "negative"] and result.attrs["errors"].empty
    assert magics(job).session.ledger.spends[("claude_map", DEFAULT_MODEL)].turns == 1
    with pytest.raises(ClaudeError, match="engine='fast': use one of auto, live, batch"):
        claude_magic.map(job.user_ns["reviews"], "{text}", engine="fast")


def test_a_single_turn_with_a_schema_gains_data(ip, fake_api):
    import pydantic

    class Verdict(pydantic.BaseModel):
        verdict: str
        confidence: float

    ip.user_ns["Verdict"] = Verdict
    fake_api.script(Turn(text='{"verdict": "guilty", "confidence": 0.9}'), Turn(text='{"verdict": "innocent"}'))
    ip.run_cell_magic("claude", "--schema Verdict -o r", "Judge the case.")
    reply = ip.user_ns["r"]
    assert reply.data == Verdict(verdict="guilty", confidence=0.9)
    assert fake_api.requests[-1].json["output_config"]["format"]["schema"]["required"] == ["verdict", "confidence"]
    ip.run_cell_magic("claude", "--schema Verdict -o r2", "Again.")
    assert ip.user_ns["r2"].data is None and ip.user_ns["r2"].text == '{"verdict": "innocent"}'


def test_a_recorded_batch_job_replays_offline_without_waiting(job, fake_api, monkeypatch, tmp_path):
    fake_api.batch_polls = 2
    fixture = tmp_path / "map.json"
    magics(job).fixture = str(fixture)
    monkeypatch.setenv("CLAUDE_MAGIC_FIXTURE_MODE", "record")
    job.run_cell_magic("claude_map", "reviews -o first --schema labels --batch", "Label: {text}")
    exchanges = json.loads(fixture.read_text())["exchanges"]
    polls = [e["response"]["json"]["processing_status"] for e in exchanges
             if e["request"]["method"] == "GET" and e["request"]["path"] == "/v1/messages/batches/msgbatch_fake_1"]
    assert polls == ["in_progress", "in_progress", "ended", "ended"]  # the last: the SDK's own before the results
    assert [len(e["response"]["jsonl"]) for e in exchanges if "jsonl" in e["response"]] == [3]

    monkeypatch.setenv("CLAUDE_MAGIC_FIXTURE_MODE", "replay")
    monkeypatch.delenv("ANTHROPIC_API_KEY")
    job.run_line_magic("unload_ext", "claude_magic")
    job.run_line_magic("load_ext", "claude_magic")
    magics(job).fixture, magics(job).base_url, magics(job).display = str(fixture), "http://127.0.0.1:9", "text"
    slept = no_waiting(monkeypatch)
    sent = len(fake_api.requests)
    job.run_cell_magic("claude_map", "reviews -o second --schema labels --batch", "Label: {text}")
    assert len(fake_api.requests) == sent and slept == []  # nothing reached a server, and no poll waited
    assert job.user_ns["second"].tolist() == job.user_ns["first"].tolist()
