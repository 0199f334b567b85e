"""The dollar rule on a corpus of money and math measured in JupyterLab, Notebook 7 and VS Code's parser.

tests/data/dollar_corpus.json holds each item as an answer would write it, how many math formulas a
correct rendering has, and the rule's output that rendered correctly in all of them (measured with a
real browser; the browser test re-checks a mixed answer in JupyterLab).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from claude_magic.dollars import DOLLAR as D
from claude_magic.dollars import encode_dollars

CORPUS = json.loads((Path(__file__).parent / "data" / "dollar_corpus.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("item", CORPUS, ids=[item["item"] for item in CORPUS])
def test_the_corpus_encodes_as_measured_and_again_changes_nothing(item):
    encoded = encode_dollars(item["markdown"])
    assert encoded == item["encoded"]
    assert encode_dollars(encoded) == encoded


@pytest.mark.parametrize(
    "source, expected",
    [
        ("It costs $5 and $10.", f"It costs {D}5 and {D}10."),
        ("$x^2$ and $5", f"$x^2$ and {D}5"),
        ("# Price: $5 vs $6", f"# Price: {D}5 vs {D}6"),
        ("[buy for $5](https://x.test/?p=$5) and $6", f"[buy for {D}5](https://x.test/?p=$5) and {D}6"),
        ('<a title="$5">x</a> $6', f'<a title="$5">x</a> {D}6'),
        ("<https://x.test/$5> $6", f"<https://x.test/$5> {D}6"),
        ("Para.\n\n    code $5 and $6\n    more $7\n\nafter $7", f"Para.\n\n    code $5 and $6\n    more $7\n\nafter {D}7"),
        ("- item $5\n\n    continued $6", f"- item {D}5\n\n    continued {D}6"),
        ("~~~\n$5 and $6\n~~~\n$7", f"~~~\n$5 and $6\n~~~\n{D}7"),
        ("````md\n```\n$5\n```\n````\n$7", f"````md\n```\n$5\n```\n````\n{D}7"),
        ("1. Run:\n\n    ```bash\n    echo $HOME\n    ```\n\n2. Pay $5", f"1. Run:\n\n    ```bash\n    echo $HOME\n    ```\n\n2. Pay {D}5"),
        ("unclosed $$ here", f"unclosed {D}{D} here"),
        ("costs $5\nand $x$ is", f"costs {D}5\nand $x$ is"),
        (r"already \$5", f"already {D}5"),
        ("`$a` and `` $b ` $c `` $d", f"`$a` and `` $b ` $c `` {D}d"),
        ("| a | $x$ | $5 |\n|---|---|---|", f"| a | $x$ | {D}5 |\n|---|---|---|"),
        ("$a | b$", "$a | b$"),
        ("| $a | b$ |", f"| {D}a | b{D} |"),
        ("\\begin{align} a &= \\$5 \\end{align} costs $5", f"\\begin{{align}} a &= \\$5 \\end{{align}} costs {D}5"),
        ("$$\na = 1\n$$\ncosts $5", f"$$\na = 1\n$$\ncosts {D}5"),
        ("$ 5 and $ 6", f"{D} 5 and {D} 6"),
        ("a$x$b", f"a{D}x{D}b"),
        (r"\(a+b\) and \[c\]", "$a+b$ and $$c$$"),
        ("no dollars at all", "no dollars at all"),
    ],
)
def test_the_rule_at_its_edges(source, expected):
    assert encode_dollars(source) == expected
    assert encode_dollars(expected) == expected
