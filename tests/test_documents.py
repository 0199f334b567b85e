"""-d and {name} documents: PDF and text blocks, the limits checked before sending, the Files API for
large ones, and replay of an upload from a fixture."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from fakeapi import Turn
from pdfs import make_pdf
from shell import magics

from claude_magic import documents
from claude_magic.documents import PageCounts, check_request, describe, document
from claude_magic.errors import ClaudeError, ContextError


def to_model(fake_api):
    return [r.json for r in fake_api.requests if r.path == "/v1/messages"]


def test_a_pdf_is_a_base64_document_with_citations_and_its_page_count(tmp_path):
    path = make_pdf(tmp_path / "paper.pdf", pages=4)
    doc = document(str(path))
    assert doc.block == {
        "type": "document", "title": "paper.pdf", "citations": {"enabled": True},
        "source": {"type": "base64", "media_type": "application/pdf", "data": base64.b64encode(path.read_bytes()).decode()},
    }
    assert (doc.kind, doc.pages, doc.tokens) == ("PDF", 4, 4 * documents.TOKENS_PER_PAGE)
    assert doc.sent("-d paper.pdf").kind.startswith("PDF, 4 pages, ")


@pytest.mark.parametrize("name", ["notes.md", "table.csv", "readme.txt"])
def test_text_markdown_and_csv_are_plain_text_documents(tmp_path, name):
    path = tmp_path / name
    path.write_text("a,b\n1,2\n", encoding="utf-8")
    doc = document(str(path))
    assert doc.block["source"] == {"type": "text", "media_type": "text/plain", "data": "a,b\n1,2\n"}
    assert doc.block["citations"] == {"enabled": True} and doc.block["title"] == name and doc.kind == "text"


def test_a_url_is_a_pdf_the_api_fetches_and_only_http_s(tmp_path):
    doc = document("https://example.org/papers/On%20Testing.pdf")
    assert doc.block["source"] == {"type": "url", "url": "https://example.org/papers/On%20Testing.pdf"}
    assert doc.block["title"] == "On Testing.pdf" and doc.pages is None
    for url in ("ftp://example.org/a.pdf", "file:///tmp/a.pdf", "s3://bucket/a.pdf"):
        with pytest.raises(ContextError, match="only http\\(s\\) URLs"):
            document(url)


@pytest.mark.parametrize(
    ("make", "words"),
    [
        (lambda d: make_pdf(d / "locked.pdf", password="secret"), "encrypted or password-protected"),
        (lambda d: _write(d / "broken.pdf", b"%PDF-1.7\nnot really a pdf"), "not a PDF that can be read"),
        (lambda d: make_pdf(d / "long.pdf", pages=101), "has 101 pages; the API takes at most 100"),
        (lambda d: _write(d / "sheet.xlsx", b"PK\x03\x04"), "is not a document: a document is a PDF or a text file"),
        (lambda d: _write(d / "latin.txt", "café".encode("latin-1")), "is not UTF-8 text"),
        (lambda d: _write(d / "empty.md", b"  \n"), "is empty"),
        (lambda d: d / "missing.pdf", "no such file"),
    ],
)
def test_what_cannot_be_sent_is_one_line(tmp_path, make, words):
    with pytest.raises(ContextError, match=words) as caught:
        document(str(make(tmp_path)))
    assert "\n" not in str(caught.value)


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def test_the_request_limits_count_the_conversations_earlier_documents(tmp_path, monkeypatch):
    counts = PageCounts()
    big = document(str(make_pdf(tmp_path / "a.pdf", pages=60))).block
    second = document(str(make_pdf(tmp_path / "b.pdf", pages=50))).block
    check_request([{"role": "user", "content": [big]}], counts)
    with pytest.raises(ContextError, match="110 PDF pages with the conversation's earlier documents"):
        check_request([{"role": "user", "content": [big]}, {"role": "assistant", "content": "ok"},
                       {"role": "user", "content": [second]}], counts)
    monkeypatch.setattr(documents, "MAX_REQUEST_BYTES", 1_000)
    small = document(str(make_pdf(tmp_path / "c.pdf", pages=1, padding=2_000))).block
    with pytest.raises(ContextError, match="MB of documents; the API takes at most 32 MB"):
        check_request([{"role": "user", "content": [small]}], counts)


def test_the_dry_run_description_says_pages_tokens_and_the_files_api(tmp_path, monkeypatch):
    block = document(str(make_pdf(tmp_path / "paper.pdf", pages=2))).block
    assert describe(block, PageCounts()).startswith("document paper.pdf: PDF, 2 pages, ")
    assert describe(block, PageCounts()).endswith(", ~4,600 tokens")
    monkeypatch.setattr(documents, "UPLOAD_FROM", 100)
    assert describe(block, PageCounts()).endswith("; goes once through the Files API when sent")


# -- through the magic, against the fake API -----------------------------------------------------------


def test_d_attaches_documents_before_the_prompt(ip, fake_api, tmp_path, capsys):
    pdf = make_pdf(tmp_path / "handout.pdf", pages=2)
    (tmp_path / "notes.md").write_text("# Notes\nThe mean is 5.2.\n", encoding="utf-8")
    ip.run_cell_magic("claude", f"-d {pdf} -d {tmp_path / 'notes.md'}", "Summarise both.")
    content = to_model(fake_api)[-1]["messages"][0]["content"]
    assert [block["type"] for block in content] == ["document", "document", "text"]
    assert content[0]["source"]["type"] == "base64" and content[1]["source"]["type"] == "text"
    assert f"sent: -d {pdf} (PDF, 2 pages, " in capsys.readouterr().out
    assert fake_api.rejected == 0


def test_a_path_to_a_pdf_in_braces_is_a_document_where_it_stands(ip, fake_api, tmp_path):
    ip.user_ns["paper"] = make_pdf(tmp_path / "paper.pdf", pages=1)
    ip.run_cell_magic("claude", "", "Read {paper} and say what it is about.")
    content = to_model(fake_api)[-1]["messages"][0]["content"]
    assert [block["type"] for block in content] == ["text", "document", "text"]
    assert content[0]["text"] == "Read " and content[1]["title"] == "paper.pdf"
    ip.user_ns["name"] = "paper.pdf"  # a plain string is text, not a path
    ip.run_cell_magic("claude", "-n", "{name}")
    assert to_model(fake_api)[-1]["messages"][0]["content"] == [{"type": "text", "text": "paper.pdf"}]


def test_bad_documents_are_refused_before_anything_is_sent(ip, fake_api, tmp_path):
    locked = make_pdf(tmp_path / "locked.pdf", password="pw")
    with pytest.raises(ClaudeError, match=f"^-d {locked}: '{locked}' is encrypted"):
        ip.run_cell_magic("claude", f"-d {locked}", "hi")
    ip.user_ns["scan"] = locked
    with pytest.raises(ClaudeError, match="^\\{scan\\}: .* is encrypted"):
        ip.run_cell_magic("claude", "", "{scan}")
    assert fake_api.requests == []


def test_a_model_that_reads_no_pdfs_is_refused(ip, fake_api, tmp_path):
    from fakeapi import FakeModel

    fake_api.models["claude-text-1"] = FakeModel("claude-text-1", "Text", "2026-01-01T00:00:00Z",
                                                 features=frozenset({"citations"}))
    with pytest.raises(ClaudeError, match="claude-text-1 does not read PDFs"):
        ip.run_cell_magic("claude", f"-m claude-text-1 -d {make_pdf(tmp_path / 'a.pdf')}", "hi")
    assert to_model(fake_api) == []


def test_the_dry_run_shows_each_document(ip, fake_api, tmp_path, capsys):
    ip.run_cell_magic("claude", f"--dry-run -d {make_pdf(tmp_path / 'a.pdf', pages=3)}", "hi")
    out = capsys.readouterr().out
    assert "[document a.pdf: PDF, 3 pages, " in out and "~6,900 tokens]" in out and to_model(fake_api) == []


def test_a_large_document_goes_once_through_the_files_api(ip, fake_api, tmp_path, monkeypatch):
    monkeypatch.setattr(documents, "UPLOAD_FROM", 10_000)
    pdf = make_pdf(tmp_path / "report.pdf", pages=2, padding=20_000)
    ip.run_cell_magic("claude", f"-d {pdf}", "one")
    ip.run_cell_magic("claude", "", "two")
    ip.run_cell_magic("claude", f"-n -d {pdf}", "again, fresh")
    uploads = [r for r in fake_api.requests if r.path == "/v1/files"]
    assert len(uploads) == 1  # the same content is not uploaded twice
    (file_id,) = fake_api.files.metadata
    assert fake_api.files.content[file_id] == pdf.read_bytes()
    sent = to_model(fake_api)
    assert sent[0]["messages"][0]["content"][0]["source"] == {"type": "file", "file_id": file_id}
    assert sent[1]["messages"][0]["content"][0]["source"] == {"type": "file", "file_id": file_id}  # history: by id
    assert sent[2]["messages"][0]["content"][0]["source"] == {"type": "file", "file_id": file_id}
    assert all(len(json.dumps(body)) < 2_000 for body in sent)


def test_an_upload_is_recorded_and_replays_from_the_fixture(ip, fake_api, tmp_path, monkeypatch):
    monkeypatch.setattr(documents, "UPLOAD_FROM", 10_000)
    pdf = make_pdf(tmp_path / "report.pdf", pages=2, padding=20_000)
    fixture = tmp_path / "docs.json"
    magics(ip).fixture = str(fixture)
    monkeypatch.setenv("CLAUDE_MAGIC_FIXTURE_MODE", "record")
    fake_api.script(Turn(text=["It is ", {"text": "a report", "citations": [{"type": "page_location", "cited_text": "Report"}]}]))
    ip.run_cell_magic("claude", f"-d {pdf} -o first", "what is it?")
    recorded = json.loads(fixture.read_text())["exchanges"]
    upload = next(e["request"] for e in recorded if e["request"]["path"] == "/v1/files")
    assert upload["body"]["multipart"]["file"]["filename"] == "report.pdf"
    assert upload["body"]["multipart"]["file"]["data"].startswith("sha256:")  # keyed by content, not by boundary
    fake_api.stop()
    monkeypatch.setenv("CLAUDE_MAGIC_FIXTURE_MODE", "replay")
    monkeypatch.delenv("ANTHROPIC_API_KEY")
    ip.run_line_magic("unload_ext", "claude_magic")
    ip.run_line_magic("load_ext", "claude_magic")
    magics(ip).fixture, magics(ip).display = str(fixture), "text"
    ip.run_cell_magic("claude", f"-d {pdf} -o again", "what is it?")
    assert ip.user_ns["again"].text == ip.user_ns["first"].text == "It is a report[1]"


def test_a_model_that_cannot_cite_gets_its_documents_without_citations(ip, fake_api, tmp_path):
    from fakeapi import FakeModel

    fake_api.models["claude-plain-1"] = FakeModel("claude-plain-1", "Plain", "2026-01-01T00:00:00Z",
                                                  features=frozenset({"pdf_input"}))
    ip.run_cell_magic("claude", f"-m claude-plain-1 -d {make_pdf(tmp_path / 'a.pdf')}", "hi")
    assert to_model(fake_api)[-1]["messages"][0]["content"][0]["citations"] == {"enabled": False}


def test_under_a_schema_the_documents_go_without_citations_and_later_turns_cite_again(ip, fake_api, tmp_path, capsys):
    """The API refuses citations on any document beside `output_config.format` (a 400), the
    conversation's earlier documents included; the fake enforces that rule."""
    ip.user_ns["verdict"] = ["relevant", "not relevant"]
    pdf = make_pdf(tmp_path / "paper.pdf", pages=1)
    ip.run_cell_magic("claude", f"-d {pdf} --schema verdict -o first", "Is this paper about statistics?")
    assert fake_api.rejected == 0 and ip.user_ns["first"].data in ("relevant", "not relevant")
    assert to_model(fake_api)[-1]["messages"][0]["content"][0]["citations"] == {"enabled": False}
    assert "under --schema the documents go without citations this turn" in capsys.readouterr().out
    ip.run_cell_magic("claude", "--schema verdict", "And for a biology course?")
    assert fake_api.rejected == 0
    ip.run_cell_magic("claude", "", "Quote its first sentence.")
    later = to_model(fake_api)[-1]
    assert "output_config" not in later and later["messages"][0]["content"][0]["citations"] == {"enabled": True}
    assert fake_api.rejected == 0


def test_a_document_from_an_earlier_turn_follows_the_model_the_conversation_moves_to(ip, fake_api, tmp_path):
    """Whether documents are cited, and whether a PDF may go at all, is decided for every message a
    turn sends, not only for the one that attached them."""
    from fakeapi import FakeModel

    fake_api.models["claude-plain-1"] = FakeModel("claude-plain-1", "Plain", "2026-01-01T00:00:00Z",
                                                  features=frozenset({"pdf_input"}))
    fake_api.models["claude-text-1"] = FakeModel("claude-text-1", "Text", "2026-01-01T00:00:00Z",
                                                 features=frozenset({"citations"}))
    ip.run_cell_magic("claude", f"-d {make_pdf(tmp_path / 'a.pdf')}", "What is it?")
    ip.run_cell_magic("claude", "-m claude-plain-1", "And in one word?")
    assert to_model(fake_api)[-1]["messages"][0]["content"][0]["citations"] == {"enabled": False}
    ip.run_cell_magic("claude", "", "Cite its first page.")  # back on a model that cites
    assert to_model(fake_api)[-1]["messages"][0]["content"][0]["citations"] == {"enabled": True}
    asked = len(to_model(fake_api))
    with pytest.raises(ClaudeError, match="claude-text-1 does not read PDFs"):
        ip.run_cell_magic("claude", "-m claude-text-1", "Once more?")
    assert len(to_model(fake_api)) == asked and fake_api.rejected == 0
