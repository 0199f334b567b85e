"""Reply objects, code blocks and stop-reason notes."""

from __future__ import annotations

from claude_magic.pricing import Usage
from claude_magic.reply import CodeBlock, Reply, code_blocks, runnable_code, stop_note

ANSWER = """Here you go:

```python
import math

print(math.pi)
```

Run it with:

~~~bash
python pi.py
~~~

````
x = 1
````
"""


def test_code_blocks_with_languages_and_fence_styles():
    assert code_blocks(ANSWER) == [
        CodeBlock("python", "import math\n\nprint(math.pi)"),
        CodeBlock("bash", "python pi.py"),
        CodeBlock("", "x = 1"),
    ]


def test_runnable_code_keeps_python_only():
    assert runnable_code(ANSWER) == "import math\n\nprint(math.pi)\n\nx = 1"
    assert runnable_code("no code here") == ""


def test_reply_repr_is_short_and_holds_no_message_dump():
    reply = Reply("x" * 100, "", "claude-opus-4-6", Usage(10, 20), 0.0123, "end_turn", message=object())
    text = repr(reply)
    assert text.startswith("Reply('xxx") and "..." in text and "$0.0123" in text and "object at" not in text
    assert str(reply) == "x" * 100 and reply._repr_markdown_() == "x" * 100


def test_stop_notes():
    assert "--max-tokens 4,096" in stop_note("max_tokens", 1024)
    assert "declined" in stop_note("refusal", 1024)
    assert stop_note("end_turn", 1024) == ""
