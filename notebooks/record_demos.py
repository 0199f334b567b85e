"""Re-create the demo notebooks' outputs and fixtures.

`python notebooks/record_demos.py` executes each demo notebook in record mode and saves it with its
outputs. By default the answers come from the scripted replies below, served by the local fake API
(tests/fakeapi.py) in the real wire format, so this needs no key and no network. With
`--live` (and ANTHROPIC_API_KEY set) the real API answers instead.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))

from fakeapi import FakeAPI, Turn  # noqa: E402

QUICKSTART = [
    Turn(
        text=(
            "A **p-value** is the probability of seeing data at least as extreme as yours *if the null "
            "hypothesis were true*. A small p-value says your data would be surprising under that "
            "hypothesis; it does not say how likely the hypothesis is."
        ),
        usage={"input_tokens": 21, "output_tokens": 58},
    ),
    Turn(
        text=(
            "Here is a one-sample t-test: is the mean of these measurements different from 5?\n\n"
            "```python\nfrom scipy import stats\n\nsample = [5.1, 4.9, 5.6, 5.8, 5.3, 5.7, 5.2]\n"
            "result = stats.ttest_1samp(sample, popmean=5)\nprint(f\"t = {result.statistic:.2f}, "
            "p = {result.pvalue:.3f}\")\n```\n\n"
            "With these numbers p is about 0.02: if the true mean were 5, a sample this far from it "
            "would turn up only about 2% of the time."
        ),
        usage={"input_tokens": 97, "output_tokens": 141},
    ),
    Turn(
        text=(
            "Nothing yet: this is the start of our conversation, so I have no earlier messages to "
            "refer to. What would you like to talk about?"
        ),
        usage={"input_tokens": 15, "output_tokens": 33},
    ),
    Turn(
        text=(
            "The sample mean is itself estimated from the data, so the deviations from it are a little "
            "smaller than deviations from the true mean would be. Dividing by *n − 1* instead of *n* "
            "makes up for that, giving an unbiased estimate of the variance."
        ),
        usage={"input_tokens": 52, "output_tokens": 61},
    ),
    Turn(
        text=(
            "**Question.** A study reports p = 0.03. Which statement is correct?\n\n"
            "1. There is a 3% chance the null hypothesis is true.\n"
            "2. If the null hypothesis were true, data this extreme would occur about 3% of the time.\n"
            "3. The effect is large.\n\n"
            "**Answer:** 2"
        ),
        model="claude-haiku-4-5",
        usage={"input_tokens": 24, "output_tokens": 72},
    ),
    Turn(
        text=(
            "Because only one quantity, the mean, was estimated from the same data before computing the "
            "spread: each estimated parameter costs one degree of freedom."
        ),
        usage={"input_tokens": 130, "output_tokens": 35},
    ),
    Turn(
        text=(
            "- **“The probability that the null hypothesis is true.”** It is computed assuming the null "
            "is true.\n"
            "- **“1 − p is the probability the effect is real.”** Same mistake, turned around.\n"
            "- **“Not significant means no effect.”** A large p can come from a small sample as easily "
            "as from no effect."
        ),
        usage={"input_tokens": 182, "output_tokens": 96},
    ),
    Turn(text="2**10 = **1024**.", model="claude-haiku-4-5", usage={"input_tokens": 14, "output_tokens": 9}),
]

SCRIPTS: dict[str, list[Turn]] = {
    "01_quickstart.ipynb": QUICKSTART,
}


def record(name: str, base_url: str | None) -> None:
    path = HERE / name
    notebook = nbformat.read(path, as_version=4)
    os.environ["CLAUDE_MAGIC_FIXTURE_MODE"] = "record"
    if base_url:
        os.environ["ANTHROPIC_BASE_URL"] = base_url
        os.environ["ANTHROPIC_API_KEY"] = "sk-ant-scripted-demo-not-a-key"
    for fixture in (HERE / "fixtures").glob(f"{path.stem}.json"):
        fixture.unlink()
    client = NotebookClient(
        notebook, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(HERE)}},
        store_widget_state=False, record_timing=False,
    )
    client.execute()
    nbformat.write(notebook, path)
    print(f"recorded {name}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--live", action="store_true", help="let the real API answer (needs ANTHROPIC_API_KEY)")
    parser.add_argument("names", nargs="*", default=sorted(SCRIPTS), help="notebooks to record")
    args = parser.parse_args()
    for name in args.names:
        if args.live:
            record(name, None)
            continue
        with FakeAPI() as server:
            server.script(*SCRIPTS[name])
            record(name, server.base_url)
            if server.pending:
                raise SystemExit(f"{name}: {server.pending} scripted replies were not asked for")


if __name__ == "__main__":
    main()
