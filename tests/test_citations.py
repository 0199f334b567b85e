"""Citations as numbered footnotes (live and saved), reply.citations, and what the web tools did."""

from __future__ import annotations

from types import SimpleNamespace as NS

from fakeapi import Turn
from pdfs import make_pdf
from shell import magics

from claude_magic.citations import Citation, Footnotes, annotated, web_activity
from claude_magic.output import Final, to_markdown, to_plain


def page(cited, first, end, index=0, title="paper.pdf"):
    return NS(type="page_location", cited_text=cited, document_index=index, document_title=title,
              start_page_number=first, end_page_number=end)


def chars(cited, first, end, index=1, title=None):
    return NS(type="char_location", cited_text=cited, document_index=index, document_title=title,
              start_char_index=first, end_char_index=end)


def text(value, citations=None):
    return NS(type="text", text=value, citations=citations)


def test_each_source_is_numbered_once_in_order_of_first_appearance():
    notes = Footnotes()
    assert notes.mark([page("A.", 2, 3)]) == "[1]"
    assert notes.mark([chars("B", 0, 1), page("A.", 2, 3)]) == "[2][1]"
    assert notes.mark(None) == "" and notes.mark([]) == ""
    assert [c.number for c in notes.cited] == [1, 2]


def test_the_answer_carries_markers_and_each_line_says_where():
    content = [text("The effect "), text("is small", [page("Small effect.", 2, 4)]), text(" and "),
               text("the mean is 5.2", [chars("The mean is 5.2", 9, 24)]), text(".")]
    answer, cited = annotated(content)
    assert answer == "The effect is small[1] and the mean is 5.2[2]."
    assert cited == [Citation(1, "Small effect.", "paper.pdf", "pp. 2–3"), Citation(2, "The mean is 5.2", "document 2", "characters 9–24")]
    assert cited[0].line() == "[1] “Small effect.” — paper.pdf, pp. 2–3"
    assert annotated([text("x", [page("P.", 5, 6)])])[1][0].where == "p. 5"


def test_web_citations_name_the_page_and_its_url():
    web = NS(type="web_search_result_location", cited_text="P is ...", url="https://stats.example/p", title="P-values")
    (cited,) = annotated([text("P", [web])])[1]
    assert cited.line() == "[1] “P is ...” — P-values, https://stats.example/p" and cited.url == "https://stats.example/p"


def test_searches_fetches_and_failures_are_listed():
    content = [
        NS(type="server_tool_use", name="web_search", input={"query": "p-value"}),
        NS(type="web_search_tool_result", content=[]),
        NS(type="server_tool_use", name="web_fetch", input={"url": "https://a.example/x"}),
        NS(type="web_fetch_tool_result", content=NS(error_code="url_not_accessible")),
    ]
    assert web_activity(content) == ["Searched the web for: “p-value”", "Fetched: https://a.example/x",
                                     "web fetch failed: url_not_accessible"]


def test_sources_are_shown_as_written_under_the_answer():
    final = Final("Small[1].", sources=("[1] “$5 *each*” — paper.pdf, p. 2",), footer="f")
    markdown = to_markdown(final)
    assert markdown.split("\n\n")[1] == "- \\[1\\] “<span>&#36;</span>5 \\*each\\*” — paper.pdf, p. 2"
    assert to_plain(final) == "Small[1].\n\n[1] “$5 *each*” — paper.pdf, p. 2\n\nf"


def test_citations_stream_as_footnotes_and_reply_lists_them(ip, fake_api, tmp_path, capsys):
    pdf = make_pdf(tmp_path / "handout.pdf", pages=3)
    fake_api.script(Turn(text=[
        "The handout says ", {"text": "the effect is small", "citations": [
            {"type": "page_location", "cited_text": "The effect is small.", "start_page_number": 2}]}, ".",
    ]))
    ip.run_cell_magic("claude", f"-d {pdf} -o reply", "What does it say?")
    out = capsys.readouterr().out
    assert "The handout says the effect is small[1].\n[1] “The effect is small.” — handout.pdf, p. 2\n" in out
    reply = ip.user_ns["reply"]
    assert reply.text == "The handout says the effect is small[1]."
    assert reply.citations == [Citation(1, "The effect is small.", "handout.pdf", "p. 2")]
    history = magics(ip).session.conversations.get().messages[1]
    assert "[1]" not in "".join(b["text"] for b in history["content"])  # the markers are not sent back
