"""Typed answers: the three kinds of schema, what each sends, and how an answer parses or fails to."""

from __future__ import annotations

import pydantic
import pytest

from claude_magic.errors import ClaudeError
from claude_magic.schema import Schema, SchemaMismatch, named_schema, saved_schema, schema_of


class Invoice(pydantic.BaseModel):
    company: str
    amount: float
    paid: bool | None = None


def test_labels_are_asked_for_as_an_enum_field_of_an_object():
    schema = schema_of(["positive", "negative"], "labels")
    assert schema.output_format() == {
        "type": "json_schema",
        "schema": {
            "type": "object",
            "properties": {"label": {"type": "string", "enum": ["positive", "negative"]}},
            "required": ["label"],
            "additionalProperties": False,
        },
    }
    assert schema.parse('{"label": "negative"}') == "negative"
    assert schema.describe() == "labels (positive, negative)"


@pytest.mark.parametrize("answer, why", [
    ('{"label": "meh"}', "'meh' is not one of positive, negative"),
    ('{"other": "positive"}', "the answer has no 'label'"),
    ("positive", "the answer is not JSON"),
    ('["positive"]', "not a JSON object"),
])
def test_an_answer_outside_the_labels_is_a_one_line_mismatch(answer, why):
    with pytest.raises(SchemaMismatch, match=why):
        schema_of(["positive", "negative"], "labels").parse(answer)


def test_a_json_schema_dict_goes_through_the_sdks_transform_and_checks_field_types():
    schema = schema_of({"type": "object", "properties": {"n": {"type": "integer", "minimum": 1}}, "required": ["n"]}, "spec")
    sent = schema.output_format()["schema"]
    assert sent["additionalProperties"] is False  # the API's strict form, made by anthropic.transform_schema
    assert "minimum" not in sent["properties"]["n"]
    assert schema.parse('{"n": 3}') == {"n": 3}
    for wrong in ('{"n": true}', '{"n": 2.5}', '{"n": "3"}'):
        with pytest.raises(SchemaMismatch, match="n: expected integer"):
            schema.parse(wrong)
    with pytest.raises(SchemaMismatch, match="no 'n'"):
        schema.parse("{}")


def test_a_pydantic_model_parses_into_an_instance_and_says_which_field_is_wrong():
    schema = schema_of(Invoice, "Invoice")
    assert schema.kind == "pydantic" and [f.name for f in schema.fields] == ["company", "amount", "paid"]
    assert [f.kind for f in schema.fields] == ["string", "number", "boolean"]
    assert not schema.fields[2].required
    invoice = schema.parse('{"company": "Acme", "amount": 12}')
    assert isinstance(invoice, Invoice) and invoice.amount == 12.0
    assert schema.columns(invoice) == {"company": "Acme", "amount": 12.0, "paid": None}
    with pytest.raises(SchemaMismatch, match=r"does not match Invoice: amount: Field required$"):
        schema.parse('{"company": "Acme"}')


@pytest.mark.parametrize("value, why", [
    (42, "holds a value of type int: give a list of labels, a JSON schema dict or a pydantic model class"),
    ([], "a list of labels needs at least one"),
    (["a", ""], "a list of labels needs at least one, each a non-empty string"),
    (["a", "a"], "the labels repeat"),
    ({"type": "string"}, "needs an object with properties at its root"),
    ({"type": "object", "properties": {"x": {"description": "no type"}}}, "is not a JSON schema the API takes"),
    (Invoice(company="A", amount=1), "is an instance of Invoice: give the class itself"),
])
def test_anything_else_is_refused_in_one_line(value, why):
    with pytest.raises(ClaudeError, match=why) as caught:
        schema_of(value, "spec")
    assert "\n" not in str(caught.value)


def test_a_named_schema_must_be_a_variable():
    assert named_schema({}, None) is None
    with pytest.raises(ClaudeError, match="--schema nope: no such variable here"):
        named_schema({}, "nope")


def test_a_saved_schema_comes_back_with_or_without_its_variable():
    schema = schema_of(Invoice, "Invoice")
    kept = schema.to_json()
    assert saved_schema(kept, "Invoice", {"Invoice": Invoice}).model is Invoice  # the class again: instances
    alone = saved_schema(kept, "Invoice", {})
    assert alone.kind == "json" and alone.parse('{"company": "A", "amount": 1}') == {"company": "A", "amount": 1}
    labels = Schema.from_json(schema_of(["x", "y"], "l").to_json())
    assert labels.kind == "labels" and labels.parse('{"label": "y"}') == "y"


def test_a_pydantic_model_with_no_json_schema_is_one_line():
    class Opaque:
        pass

    class Row(pydantic.BaseModel):
        model_config = pydantic.ConfigDict(arbitrary_types_allowed=True)
        blob: Opaque

    with pytest.raises(ClaudeError, match=r"^--schema Row: Row has no JSON schema \(PydanticInvalidForJsonSchema: ") as error:
        schema_of(Row, "Row")
    assert "\n" not in str(error.value)
