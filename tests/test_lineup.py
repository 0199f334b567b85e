"""%claude_models: the models on offer as a table, from the API, the fixture, or the built-in table."""

from __future__ import annotations

from claude_magic.catalog import ModelFacts
from claude_magic.lineup import models_report
from claude_magic.pricing import PriceTable


def test_the_table_marks_aliases_the_default_and_prices():
    listed = [
        ModelFacts("claude-opus-5-5", "opus", thinking=frozenset({"adaptive"}), efforts=("low", "max"),
                   max_input_tokens=1_000_000, max_tokens=128_000, features=frozenset({"pdf_input", "compaction"})),
        ModelFacts("claude-haiku-5-5", "haiku", thinking=frozenset({"adaptive", "disabled"})),
        ModelFacts("claude-mythos-5-2", "mythos", lifecycle="deprecated"),
    ]
    markdown, plain = models_report(listed, PriceTable(), {"opus": "claude-opus-5-5"}, "claude-opus-5-5", "Models: test.")
    rows = plain.splitlines()
    assert rows[1].split() == ["claude-opus-5-5", "opus", "1M", "128K", "adaptive,", "always", "on", "low/max",
                               "PDFs,", "compaction", "$4", "/", "$20", "=", "opus,", "default"]
    assert "$0.10 / $0.50 (over 100K: $0.50 / $2.50)" in rows[2] and "adaptive " in rows[2]
    assert rows[3].split()[-3:] == ["cost", "n/a", "deprecated"] and "none" in rows[3]
    assert plain.endswith("Models: test. Prices: claude_magic/pricing.py (each row names its source and date) and "
                          "ClaudeMagics.prices; aliases from the package's dated table.")
    assert "$" not in markdown  # every dollar is written so that no renderer reads it as math
    assert markdown.splitlines()[2].startswith("| claude-opus-5-5 | opus | 1M | 128K |")


def test_claude_models_lists_what_the_api_offers(ip, fake_api, capsys):
    ip.run_line_magic("claude_models", "")
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0].split()[:3] == ["model", "line", "context"]
    assert [line.split()[0] for line in lines[1:9]] == [
        "claude-haiku-5-5", "claude-sonnet-5-5", "claude-opus-5-5", "claude-opus-4-8", "claude-sonnet-4-6",
        "claude-opus-4-6", "claude-opus-4-5", "claude-haiku-4-5",
    ]
    assert lines[3].endswith("= opus, default") and "deprecated" in lines[7]
    assert "Models: as the Models API lists them now." in out
    assert [r.path for r in fake_api.requests] == ["/v1/models"]
    ip.run_cell_magic("claude", "-m claude-opus-4-8", "hi")  # the listing told what it can do: no lookup
    assert [r.path for r in fake_api.requests] == ["/v1/models", "/v1/messages"]


def test_claude_models_replays_from_a_fixture_and_falls_back_offline(ip, fake_api, capsys, tmp_path, monkeypatch):
    magics = ip.magics_manager.registry["ClaudeMagics"]
    magics.fixture = str(tmp_path / "models.json")
    monkeypatch.setenv("CLAUDE_MAGIC_FIXTURE_MODE", "record")
    ip.run_line_magic("claude_models", "")
    recorded = capsys.readouterr().out
    fake_api.stop()
    monkeypatch.setenv("CLAUDE_MAGIC_FIXTURE_MODE", "replay")
    monkeypatch.delenv("ANTHROPIC_API_KEY")
    ip.run_line_magic("claude_models", "")
    assert capsys.readouterr().out == recorded
    magics.fixture = str(tmp_path / "empty.json")
    ip.run_line_magic("claude_models", "")
    out = capsys.readouterr().out
    assert out.startswith("note: could not ask the Models API which models it offers (the fixture holds no answer)")
    assert "claude-fable-5-2" in out and "Models: the package's built-in table of 2026-12-01." in out
