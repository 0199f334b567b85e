"""A map job's plan and result: the template read by context's rules, repeats merged, answers put back."""

from __future__ import annotations

import pandas as pd
import pytest

from claude_magic.context import Limits
from claude_magic.engines import Outcome
from claude_magic.errors import ClaudeError
from claude_magic.mapping import (
    MAX_JOB_ROWS,
    Template,
    answer_of,
    decode_index,
    encode_index,
    frame_of,
    join,
    make_plan,
    replan,
    request_body,
    shared_settings,
)
from claude_magic.schema import schema_of

FRAME = pd.DataFrame({"text": ["good", "bad", "good"], "stars": [5, 1, 5]}, index=["r1", "r2", "r3"])


def rendered(template: str, frame: pd.DataFrame = FRAME) -> list[str]:
    plan = make_plan(frame, Template.parse(template, list(frame.columns), "reviews"), "reviews", Limits())
    return ["".join(block["text"] for block in prompt) for prompt in plan.prompts]


def test_each_column_named_is_filled_and_everything_else_stays_as_typed():
    template = 'Review: {text} ({stars} stars). Answer like {"label": "x"}; `{text}` is code; {{text}} is literal.'
    assert rendered(template)[0] == (
        'Review: good (5 stars). Answer like {"label": "x"}; `{text}` is code; {text} is literal.'
    )


def test_rows_with_the_same_prompt_share_one_request():
    plan = make_plan(FRAME, Template.parse("Is {text} good?", ["text", "stars"], "reviews"), "reviews", Limits())
    assert len(plan.prompts) == 2 and plan.prompt_of_row == [0, 1, 0] and plan.custom_ids == ["p0", "p1"]
    other = make_plan(FRAME, Template.parse("Is {text} good? {stars}", ["text", "stars"], "reviews"), "reviews", Limits())
    assert other.prompts_sha256({}) != plan.prompts_sha256({})


def test_a_template_naming_a_missing_column_is_one_line_listing_the_columns():
    with pytest.raises(ClaudeError, match=r"names \{txt\}, which is not a column of reviews \(its columns: text, stars\)"):
        Template.parse("Label {txt}", ["text", "stars"], "reviews")


def test_a_template_naming_no_column_would_ask_the_same_of_every_row():
    with pytest.raises(ClaudeError, match=r"names no column of reviews.*such as \{text\}"):
        Template.parse('Answer {"a": 1}', ["text"], "reviews")


@pytest.mark.parametrize("value, why", [
    (pd.DataFrame({"text": []}), "has no rows"),
    ([1, 2], "is a list, not a pandas DataFrame"),
    (pd.DataFrame({"text": ["x"] * (MAX_JOB_ROWS + 1)}), f"a job takes at most {MAX_JOB_ROWS:,}"),
])
def test_frames_that_cannot_be_mapped_are_refused_in_one_line(value, why):
    with pytest.raises(ClaudeError, match=why):
        frame_of({"reviews": value}, "reviews")
    with pytest.raises(ClaudeError, match="not a variable here"):
        frame_of({}, "reviews")


def test_a_row_that_cannot_be_rendered_names_the_row():
    frame = pd.DataFrame({"code": ["ABC-123", "X"]}, index=["a", "b"])
    with pytest.raises(ClaudeError, match=r"Row 'b' of parts: IndexError: string index out of range"):
        make_plan(frame, Template.parse("Part {code[4]}", ["code"], "parts"), "parts", Limits())


def test_a_row_holding_text_that_is_not_unicode_names_the_row_before_anything_is_sent():
    frame = pd.DataFrame({"text": ["fine", "bad \ud800 bytes"]}, index=["a", "b"])
    with pytest.raises(ClaudeError, match=r"^Row 'b' of reviews: InvariantError: \{text\} holds a lone surrogate"):
        make_plan(frame, Template.parse("Label: {text}", ["text"], "reviews"), "reviews", Limits())


def test_the_shared_settings_cache_the_instructions_with_the_ttl_asked_for():
    shared = shared_settings("claude-x", 100, "Be brief.", schema_of(["a"], "l"), "1h")
    assert shared["system"] == [{"type": "text", "text": "Be brief.", "cache_control": {"type": "ephemeral", "ttl": "1h"}}]
    assert shared["output_config"]["format"]["type"] == "json_schema"
    assert "cache_control" not in shared  # no automatic caching: no two rows share more than the system block
    assert shared_settings("claude-x", 100, "  ", None, "5m") == {"model": "claude-x", "max_tokens": 100}
    body = request_body([{"type": "text", "text": "hi"}], shared)
    assert body["messages"] == [{"role": "user", "content": [{"type": "text", "text": "hi"}]}]


def succeeded(text: str, stop: str = "end_turn") -> Outcome:
    return Outcome("succeeded", text, stop)


def test_answers_become_a_typed_series_aligned_to_the_index_with_the_failures_beside():
    schema = schema_of(["pos", "neg"], "labels")
    answers = [answer_of(succeeded('{"label": "pos"}'), schema, 10), answer_of(Outcome.failed("expired", "expired: late", retryable=True), schema, 10)]
    result, errors = join(FRAME.index, [0, 1, 0], answers, schema, "sentiment")
    assert result.name == "sentiment" and list(result.index) == ["r1", "r2", "r3"]
    assert list(result.cat.categories) == ["pos", "neg"]
    assert result.tolist()[0] == "pos" and pd.isna(result["r2"]) and result["r3"] == "pos"
    assert errors.to_dict() == {"r2": "expired: late"} and errors.name == "sentiment_errors"
    assert result.attrs["errors"] is errors


def test_several_fields_make_a_dataframe_with_a_nullable_column_each():
    schema = schema_of({"type": "object", "properties": {"company": {"type": "string"}, "amount": {"type": "number"},
                                                          "count": {"type": "integer"}}, "required": ["company"]}, "spec")
    answers = [answer_of(succeeded('{"company": "A", "amount": 2, "count": 3}'), schema, 10),
               answer_of(succeeded("not json"), schema, 10)]
    result, errors = join(pd.RangeIndex(2), [0, 1], answers, schema, None)
    assert list(result.columns) == ["company", "amount", "count"]
    assert [str(dtype) for dtype in result.dtypes] == ["string", "Float64", "Int64"]
    assert result.loc[0, "amount"] == 2.0 and result.loc[1].isna().all()
    assert errors[1].startswith("the answer did not parse: the answer is not JSON")


@pytest.mark.parametrize("outcome, why", [
    (None, "not sent: the job was interrupted"),
    (succeeded("Sorry", "refusal"), "Claude declined"),
    (succeeded("Once upon", "max_tokens"), "cut at the 64-token limit"),
    (Outcome.failed("errored", "overloaded_error: Overloaded", retryable=True), "overloaded_error: Overloaded"),
])
def test_what_has_no_answer_says_why(outcome, why):
    value, reason = answer_of(outcome, None, 64)
    assert value is None and why in reason


def test_plain_answers_are_a_string_series():
    result, errors = join(pd.RangeIndex(1), [0], [answer_of(succeeded("Hello"), None, 10)], None, "out")
    assert result.dtype == "string" and result[0] == "Hello" and errors.empty


@pytest.mark.parametrize("index", [pd.RangeIndex(3, 9, 2, name="n"), pd.Index(["a", "b"], name="key"), pd.Index([10, 20])])
def test_an_index_survives_the_job_file(index):
    assert decode_index(encode_index(index)).equals(index)


def test_a_job_is_planned_again_only_if_its_frame_makes_the_same_prompts():
    template = "Is {text} good?"
    plan = make_plan(FRAME, Template.parse(template, list(FRAME.columns), "reviews"), "reviews", Limits())
    digest = plan.prompts_sha256({"model": "m"})
    assert replan({"reviews": FRAME}, "reviews", template, {"model": "m"}, digest, Limits()).prompts == plan.prompts
    changed = FRAME.assign(text=["good", "bad", "worse"])
    assert replan({"reviews": changed}, "reviews", template, {"model": "m"}, digest, Limits()) is None
    assert replan({}, "reviews", template, {"model": "m"}, digest, Limits()) is None
