"""Typed answers: a list of labels, a JSON schema dict or a pydantic model, sent as structured output.

`schema_of(obj, name)` tells the three kinds apart (anything else is a one-line error) and gives a
`Schema`: the `output_config.format` it sends (the SDK's own `transform_schema` makes a dict or a model
into a schema the API takes), how an answer's text parses into a value (`parse`: a label, a dict, a
model instance; `SchemaMismatch` when it does not) and the fields a table of answers has, each with
its JSON type. pydantic stays optional: it is looked for only among the modules already imported, as
a pydantic model can only exist once pydantic is.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .errors import ClaudeError, one_line

__all__ = ["Schema", "Field", "SchemaMismatch", "schema_of", "named_schema", "saved_schema", "LABEL_FIELD", "KINDS"]

# A list of labels is asked for as an object with this one field (the API wants an object at the root).
LABEL_FIELD = "label"
KINDS = ("labels", "json", "pydantic")
_SCALARS: dict[str, type | tuple[type, ...]] = {"string": str, "integer": int, "number": (int, float), "boolean": bool}
_EXAMPLE = '{"type": "object", "properties": {"amount": {"type": "number"}}, "required": ["amount"]}'


class SchemaMismatch(ValueError):
    """An answer that does not parse under its schema; the message is one line."""


@dataclass(frozen=True)
class Field:
    """One top-level field of a schema: its JSON type ("" for objects, arrays and mixtures) and the
    strings it is limited to, if any."""

    name: str
    kind: str = ""
    labels: tuple[str, ...] = ()
    required: bool = True


@dataclass(frozen=True)
class Schema:
    """See the module docstring. `model` is the pydantic class of a `pydantic` schema."""

    kind: str
    json_schema: dict[str, Any]
    fields: tuple[Field, ...]
    title: str = ""
    model: Any = None

    def output_format(self) -> dict[str, Any]:
        """The `output_config.format` of a request asking for answers of this schema."""
        return {"type": "json_schema", "schema": self.json_schema}

    def describe(self) -> str:
        """A few words for the plan: which kind, and its labels or fields."""
        if self.kind == "labels":
            return f"labels ({', '.join(self.fields[0].labels)})"
        kind = f"pydantic {self.title}" if self.kind == "pydantic" else "JSON schema"
        return f"{kind}: {', '.join(field.name for field in self.fields)}"

    def parse(self, text: str) -> Any:
        """The answer's value: a label, a dict, or a model instance. Raises `SchemaMismatch`."""
        if self.kind == "pydantic":
            try:
                return self.model.model_validate_json(text)
            except ValueError as error:  # pydantic's ValidationError is a ValueError
                raise SchemaMismatch(f"does not match {self.title}: {_first_problem(error)}") from None
        value = _json_object(text)
        for field in self.fields:
            _check_field(field, value)
        return value[LABEL_FIELD] if self.kind == "labels" else value

    def columns(self, value: Any) -> dict[str, Any]:
        """A parsed answer as one value per field (a missing optional field is None)."""
        if self.kind == "labels":
            return {LABEL_FIELD: value}
        if self.kind == "pydantic":
            value = value.model_dump()
        return {field.name: value.get(field.name) for field in self.fields}

    def to_json(self) -> dict[str, Any]:
        """What a job file keeps: enough to parse the answers in a kernel that no longer has `obj`."""
        return {"kind": self.kind, "title": self.title, "json_schema": self.json_schema}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Schema:
        """The schema a job file kept; a pydantic one comes back as its JSON schema (answers as dicts)."""
        if data["kind"] == "labels":
            return _labels_schema(list(data["json_schema"]["properties"][LABEL_FIELD]["enum"]))
        return _json_schema(data["json_schema"], "json", data.get("title", ""))


def schema_of(obj: Any, name: str) -> Schema:
    """The schema `obj` (the variable `name`) describes, or a one-line error saying what would do."""
    if isinstance(obj, (list, tuple)):
        return _labels_schema(obj, name)
    if isinstance(obj, dict):
        return _dict_schema(obj, name)
    base = _pydantic_base()
    if base is not None and isinstance(obj, type) and issubclass(obj, base):
        import anthropic

        try:
            json_schema = anthropic.transform_schema(obj)
        except Exception as error:  # a field pydantic cannot describe in JSON schema, say
            raise ClaudeError(f"--schema {name}: {obj.__name__} has no JSON schema ({type(error).__name__}: "
                              f"{one_line(str(error), 120)}).") from None
        return _json_schema(json_schema, "pydantic", obj.__name__, obj)
    if base is not None and isinstance(obj, base):
        raise ClaudeError(f"--schema {name} is an instance of {type(obj).__name__}: give the class itself.")
    raise ClaudeError(
        f"--schema {name} holds a value of type {type(obj).__name__}: give a list of labels, a JSON schema "
        "dict or a pydantic model class."
    )


def named_schema(namespace: Mapping[str, Any], name: str | None) -> Schema | None:
    """The schema the variable `name` holds (None for no --schema)."""
    if name is None:
        return None
    if name not in namespace:
        raise ClaudeError(f"--schema {name}: no such variable here.")
    return schema_of(namespace[name], name)


def saved_schema(data: dict[str, Any], name: str | None, namespace: Mapping[str, Any]) -> Schema:
    """A job file's schema: the variable that named it, if it is here unchanged (a pydantic model then
    gives model instances again), else as the file kept it."""
    if name is not None and name in namespace:
        try:
            here: Schema | None = schema_of(namespace[name], name)
        except ClaudeError:
            here = None
        if here is not None and here.json_schema == data["json_schema"]:
            return here
    return Schema.from_json(data)


def _pydantic_base() -> Any:
    pydantic = sys.modules.get("pydantic")
    return getattr(pydantic, "BaseModel", None)


def _labels_schema(labels: Any, name: str = "") -> Schema:
    if not labels or not all(isinstance(label, str) and label.strip() for label in labels):
        raise ClaudeError(f"--schema {name}: a list of labels needs at least one, each a non-empty string.")
    if len(set(labels)) != len(labels):
        raise ClaudeError(f"--schema {name}: the labels repeat; give each once.")
    schema = {
        "type": "object",
        "properties": {LABEL_FIELD: {"type": "string", "enum": list(labels)}},
        "required": [LABEL_FIELD],
        "additionalProperties": False,
    }
    return Schema("labels", schema, (Field(LABEL_FIELD, "string", tuple(labels)),))


def _dict_schema(obj: dict[str, Any], name: str) -> Schema:
    if obj.get("type") != "object" or not isinstance(obj.get("properties"), dict) or not obj["properties"]:
        raise ClaudeError(f"--schema {name}: a JSON schema needs an object with properties at its root, like {_EXAMPLE}.")
    import anthropic

    try:
        strict = anthropic.transform_schema(obj)
    except (ValueError, TypeError, AttributeError) as error:
        raise ClaudeError(f"--schema {name} is not a JSON schema the API takes: {one_line(str(error), 120)}") from None
    return _json_schema(strict, "json", str(obj.get("title", "")))


def _json_schema(schema: dict[str, Any], kind: str, title: str, model: Any = None) -> Schema:
    properties = schema.get("properties") or {}
    required = set(schema.get("required") or ())
    fields = tuple(_field(key, value, key in required) for key, value in properties.items())
    return Schema(kind, schema, fields, title, model)


def _field(name: str, spec: Any, required: bool) -> Field:
    """A property's JSON type, looking through the `anyOf` an optional field is written as."""
    variants = spec.get("anyOf", [spec]) if isinstance(spec, dict) else []
    kinds = [variant.get("type") for variant in variants if isinstance(variant, dict) and variant.get("type") != "null"]
    enum = spec.get("enum") if isinstance(spec, dict) else None
    if isinstance(enum, list) and enum and all(isinstance(item, str) for item in enum):
        return Field(name, "string", tuple(enum), required)
    kind = kinds[0] if len(kinds) == 1 and kinds[0] in _SCALARS else ""
    return Field(name, kind, required=required)


def _first_problem(error: ValueError) -> str:
    """pydantic's first complaint, as `field: message` (its own text runs to several lines)."""
    problems = error.errors() if hasattr(error, "errors") else []
    if not problems:
        return one_line(str(error), 120)
    where = ".".join(str(step) for step in problems[0].get("loc", ()))
    return one_line(f"{where}: {problems[0].get('msg', '')}" if where else str(problems[0].get("msg", "")), 120)


def _json_object(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except ValueError:
        raise SchemaMismatch(f"the answer is not JSON: {one_line(text, 80)!r}") from None
    if not isinstance(value, dict):
        raise SchemaMismatch(f"the answer is not a JSON object: {one_line(text, 80)!r}")
    return value


def _check_field(field: Field, value: dict[str, Any]) -> None:
    if field.name not in value:
        if field.required:
            raise SchemaMismatch(f"the answer has no {field.name!r}")
        return
    item = value[field.name]
    if item is None:
        return
    expected = _SCALARS.get(field.kind)
    # JSON true is no number: bool is an int subclass in Python, so it is told apart first.
    if expected is not None and (isinstance(item, bool) != (field.kind == "boolean") or not isinstance(item, expected)):
        raise SchemaMismatch(f"{field.name}: expected {field.kind}, got {one_line(json.dumps(item), 60)}")
    if field.labels and item not in field.labels:
        raise SchemaMismatch(f"{field.name}: {one_line(str(item), 60)!r} is not one of {', '.join(field.labels)}")
