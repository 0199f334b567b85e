"""What a map job shows: the plan, the preview, the result, as Markdown with a plain twin."""

from __future__ import annotations

from claude_magic.map_report import ERRORS_LISTED, PlanFacts, plan_report, preview_report, summary_report


def test_the_plan_says_rows_prompts_engine_and_cost_and_escapes_markdown():
    facts = PlanFacts("_frame", 1000, 412, "batch", "auto: over 100 prompts", "claude-opus-4-6", "labels (a, b)",
                      True, 41_200, "counted by the API on 3 of 412 prompts", 0.103)
    markdown, plain = plan_report(facts)
    assert plain.splitlines() == [
        "claude_map _frame: 1,000 rows, 412 distinct prompts (588 rows repeat another's prompt) · batch "
        "(auto: over 100 prompts) · claude-opus-4-6 · labels (a, b) · system prompt: yes, cached",
        "input about 41,200 tokens (counted by the API on 3 of 412 prompts) · $0.1030 at batch prices",
    ]
    assert "\\_frame" in markdown and "&#36;" in markdown  # an underscore and a dollar shown as typed


def test_the_preview_is_a_table_with_answers_on_one_line():
    markdown, plain = preview_report([("r0", "positive"), ("r|1", "two\nlines")])
    assert "| r\\|1 | two lines |" in markdown and plain.endswith("  r|1: two lines")


def test_the_summary_lists_the_first_failures_and_says_where_the_rest_are():
    failed = [(f"r{i}", "expired: late") for i in range(ERRORS_LISTED + 2)]
    markdown, plain = summary_report("out", 20, 20, failed, "Series, string", "footer", retried=True)
    lines = plain.splitlines()
    assert lines[0] == "8 of 20 rows answered, from 20 prompts · stored in out (Series, string) and out_errors"
    assert lines[1] == "12 rows failed after one retry:" and lines[2] == "- row r0: expired: late"
    assert lines[-2] == "- … and 2 more, in out_errors" and lines[-1] == "footer"
    assert markdown.endswith("<sub>footer</sub>")
