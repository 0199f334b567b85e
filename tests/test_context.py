"""`{name}` expansion: literal text kept, references resolved, objects placed where they stand."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from claude_magic.context import AS_TYPED, Expansion, Limits, expand_prompt, object_blocks
from claude_magic.errors import ContextError

NS = {"x": 5, "name": "Ada", "items": [10, 20, 30], "config": {"key": "value", "n": 3}}


def text_of(expansion: Expansion) -> str:
    assert all(block["type"] == "text" for block in expansion.blocks)
    return "".join(block["text"] for block in expansion.blocks)


def one_text(text: str, namespace=NS, **options) -> str:
    expansion = expand_prompt(text, namespace, **options)
    assert len(expansion.blocks) == 1, expansion.blocks
    return expansion.blocks[0]["text"]


@pytest.fixture
def image():
    from PIL import Image

    return Image.new("RGB", (40, 30), "red")


# --- what stays exactly as typed -----------------------------------------------------------------


@pytest.mark.parametrize(
    "literal",
    [
        '{"a": 1}',
        '{"a": {"b": 1}}',
        '{"x": [1, 2], "config": {"items": null}}',
        "{x: 1, name: 2}",
        "{x:>10}",
        "{x!r}",
        "{0} and {}",
        "{ x }",
        "{x + 1}",
        r"\frac{x}{name}",
        r"$\sum_{x}^{name} a_{x}$",
        r"\mathbf{x}{items}",
        r"\{ x \}",
        "{1, 2, 3}",
    ],
)
def test_literals_stay_exactly_as_typed_even_when_names_are_bound(literal):
    expansion = expand_prompt(f"before {literal} after", NS)
    assert text_of(expansion) == f"before {literal} after"
    assert expansion.notes == []


def test_multiline_json_is_kept_byte_for_byte():
    payload = '{\n  "model": "opus",\n  "options": {"x": {"name": 1}}\n}'
    assert one_text(f"Validate this:\n{payload}\nthanks") == f"Validate this:\n{payload}\nthanks"


@pytest.mark.parametrize(
    "code",
    [
        "`{x}`",
        "``a `{x}` b``",
        "```python\nprint(f'{x} {{y}}')\n```\n",
        "~~~\n{x} {{x}}\n~~~\n",
        "````\n```\n{x}\n```\n````\n",
    ],
)
def test_code_spans_and_fences_are_verbatim(code):
    assert one_text(f"see\n{code}then {{x}}") == f"see\n{code}then 5"


def test_an_unclosed_fence_runs_to_the_end():
    assert one_text("{x}\n```\n{x}\n{{x}}") == "5\n```\n{x}\n{{x}}"


def test_an_unmatched_backtick_is_plain_text():
    assert one_text("a ` b {x}") == "a ` b 5"


def test_doubled_braces_give_literal_braces():
    assert one_text("{{x}} and {{name}} and {{ and }}") == "{x} and {name} and { and }"
    assert one_text("{{{x}}}") == "{5}"


def test_unbound_identifier_is_kept_with_one_note_per_name():
    expansion = expand_prompt("Use {nme} and {nme} and {df.head}", NS)
    assert text_of(expansion) == "Use {nme} and {nme} and {df.head}"
    assert expansion.notes == [
        f"{{nme}} is not a variable here; {AS_TYPED}",
        f"{{df.head}} is not a variable here; {AS_TYPED}",
    ]


def test_keywords_are_not_references():
    expansion = expand_prompt("{None} {True} {for}", NS)
    assert text_of(expansion) == "{None} {True} {for}"
    assert expansion.notes == []


def test_raw_sends_the_text_exactly():
    text = "{x} {{x}} {nme}\n"
    assert expand_prompt(text, NS, raw=True) == Expansion([{"type": "text", "text": text}], [])


@pytest.mark.parametrize("text", ["", "   \n\t", "{{}}"[:0]])
def test_blank_prompt_gives_no_blocks(text):
    assert expand_prompt(text, NS).blocks == []
    assert expand_prompt(text, NS, raw=True).blocks == []


def test_a_blank_string_variable_gives_no_blocks():
    assert expand_prompt("{blank}", {"blank": "  \n"}).blocks == []


# --- references ----------------------------------------------------------------------------------


def test_strings_and_numbers_are_inserted_inline():
    assert one_text("Translate {name}, x={x}, pi={pi}, none={nothing}", {**NS, "pi": np.float64(3.5), "nothing": None}) == (
        "Translate Ada, x=5, pi=3.5, none=None"
    )


def test_one_pass_only_expanded_text_is_never_expanded_again():
    namespace = {**NS, "template": "Dear {name}, {{x}} `{x}`"}
    assert one_text("{template}", namespace) == "Dear {name}, {{x}} `{x}`"


def test_attribute_and_index_chains_are_walked():
    class Box:
        inner = {"rows": ["first", "second"]}

    namespace = {**NS, "box": Box(), 'd': {'say "hi"': "quoted"}}
    assert one_text("{items[0]} {items[-1]} {config['key']} {config[\"n\"]} {box.inner['rows'][1]}", namespace) == (
        "10 30 value 3 second"
    )
    assert one_text("{d['say \"hi\"']}", namespace) == "quoted"


@pytest.mark.parametrize(
    "reference, message",
    [
        ("{items[7]}", "{items[7]}: IndexError: list index out of range"),
        ("{config['nope']}", "{config['nope']}: KeyError: 'nope'"),
        ("{x.real.nothing}", "{x.real.nothing}: AttributeError: 'int' object has no attribute 'nothing'"),
    ],
)
def test_a_failing_lookup_is_sent_as_typed_with_a_note_naming_it(reference, message):
    """A pasted `{cfg['epochs']}` is text more often than a reference: it never blocks the turn."""
    expansion = expand_prompt(f"see {reference} and {{x}}", NS)
    assert text_of(expansion) == f"see {reference} and 5"
    assert expansion.notes == [f"{message}; {AS_TYPED}"]
    assert [item.label for item in expansion.sent] == ["{x}"]


def test_lookup_never_evaluates_code():
    called = []

    class Spy:
        def __getattr__(self, name):
            called.append(name)
            raise AttributeError(name)

    expansion = expand_prompt("{spy.__class__.__name__} {spy()} {__import__('os')}", {"spy": Spy()})
    assert text_of(expansion) == "Spy {spy()} {__import__('os')}"
    assert called == []


def test_non_trivial_objects_are_wrapped_in_a_named_tag():
    text = one_text("Check {items} please", NS)
    assert text == 'Check <variable name="items" type="list">\n[10, 20, 30]\n</variable> please'


def test_image_blocks_split_the_text_at_the_reference(image):
    expansion = expand_prompt("Compare {a}\nwith {b}.", {"a": image, "b": image})
    kinds = [block["type"] for block in expansion.blocks]
    assert kinds == ["text", "image", "text", "image", "text"]
    texts = [block["text"] for block in expansion.blocks if block["type"] == "text"]
    assert texts == [
        'Compare <variable name="a" type="PIL.Image">',
        '</variable>\nwith <variable name="b" type="PIL.Image">',
        "</variable>.",
    ]
    assert expansion.blocks[1]["source"]["media_type"] == "image/png"


def test_an_unreadable_image_names_the_reference(tmp_path):
    with pytest.raises(ContextError, match=r"^\{photo\}: no such image file: '.*missing\.png'$"):
        expand_prompt("{photo}", {"photo": tmp_path / "missing.png"})
    with pytest.raises(ContextError, match=r"^photo: no such image file: "):
        object_blocks("photo", tmp_path / "missing.png")


def test_long_strings_are_cut_with_a_marker_and_a_note():
    limits = Limits(max_string_chars=100)
    expansion = expand_prompt("{s}", {"s": "a" * 250}, limits=limits)
    assert text_of(expansion) == "a" * 100 + "\n[... 150 more characters cut]"
    assert expansion.notes == ["{s}: cut to the first 100 of 250 characters"]


def test_object_blocks_label_text_and_images(image):
    blocks, sent = object_blocks("name", "Ada")
    assert blocks == [{"type": "text", "text": '<variable name="name" type="str">\nAda\n</variable>'}]
    assert (sent.label, sent.kind) == ("-w name", "text, 3 characters")
    blocks, sent = object_blocks("img", image)
    assert [block["type"] for block in blocks] == ["text", "image", "text"]
    assert blocks[0]["text"] == '<variable name="img" type="PIL.Image">'
    assert sent.kind.startswith("image ") and sent.kind.endswith(" px") and sent.tokens > 1


# --- what objects become -------------------------------------------------------------------------


def test_importing_and_expanding_does_not_import_heavy_packages():
    script = textwrap.dedent(
        """
        import sys
        from claude_magic.context import expand_prompt
        from claude_magic.summaries import describe
        from claude_magic.images import open_figures, is_image_like
        expand_prompt("{a} {b} {c} {d}", {"a": [1], "b": b"abc", "c": "text", "d": 2.5})
        open_figures()
        print(sorted(m for m in ("pandas", "numpy", "matplotlib", "PIL") if m in sys.modules))
        """
    )
    root = Path(__file__).resolve().parents[1]
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=root, check=True)
    assert result.stdout.strip() == "[]"


def test_repr_raising_is_a_one_line_context_error():
    class Broken:
        def __repr__(self):
            raise RuntimeError("no repr\nfor you")

    with pytest.raises(ContextError) as caught:
        expand_prompt("see {thing}", {"thing": Broken()})
    assert str(caught.value) == "repr(thing) failed: RuntimeError: no repr for you"


def test_summary_is_cut_at_max_chars_with_a_marker():
    df = pd.DataFrame({"value": np.arange(100.0), "label": ["left", "right"] * 50})
    expansion = expand_prompt("{df}", {"df": df}, limits=Limits(max_chars=300))
    text = text_of(expansion)
    assert "\n[summary truncated: 300 of " in text
    assert len(text) < 450
    assert expansion.notes[0].startswith("{df}: cut to the first 300 of ")
