"""Re-create the demo notebooks' outputs and fixtures.

`python notebooks/record_demos.py` executes each demo notebook (and the course's lesson, in
`course/`) in record mode and saves it with its outputs. By default the answers come from the
scripted replies below, served by the local fake API (tests/fakeapi.py) in the real wire format, so
this needs no key and no network: turns in order, or for the map demo, answers that depend on what
each request asks (its requests run concurrently and in batches, in no fixed order). With `--live`
(and ANTHROPIC_API_KEY set) the real API answers instead. It also writes the handout PDF that 06
reads (`data/handout.pdf`, drawn with matplotlib, byte for byte the same each time): nothing is
downloaded.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

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
        model="claude-haiku-5-5",
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
    Turn(text="2**10 = **1024**.", model="claude-haiku-5-5", usage={"input_tokens": 14, "output_tokens": 9}),
]

DATA_AND_PLOTS = [
    Turn(
        text=(
            "**East** is growing fastest: from 64k in January to 118k in June, up 84%, and it rose every "
            "single month. North is roughly flat (+8%) and West is drifting down (143k → 133k).\n\n"
            "Two things look odd:\n\n"
            "- **South in April is −12k.** Every other South month is between 97k and 108k, so this is more "
            "likely a refund booked as revenue, or a sign error, than a real collapse.\n"
            "- **West in April is missing.** The summary counts one null in `West`, so its mean and spread "
            "are computed from five months.\n\n"
            "I would check both April entries with whoever owns the source data before comparing regions."
        ),
        usage={"input_tokens": 612, "output_tokens": 164},
    ),
    Turn(
        text=(
            "The chart shows four regions from January to June 2026. East climbs steadily from about 64k to "
            "118k; North hovers around 120–130k; West drifts down from about 143k to 133k; South sits near "
            "100k except for a plunge below zero in April.\n\n"
            "To make it clearer:\n\n"
            "1. **Deal with the April outlier.** South's dip stretches the y-axis down to −12k and squashes "
            "every other line. Fix the value, or mark the point and start the axis near 50k.\n"
            "2. **Show West's missing April.** The line simply breaks there, which is easy to miss.\n"
            "3. **Label the lines at their right-hand ends** instead of using a legend, so readers don't have "
            "to match colours."
        ),
        usage={"input_tokens": 1_431, "output_tokens": 171},
    ),
    Turn(
        text=(
            "*East's revenue nearly doubled between January and June 2026 while the other regions stayed "
            "flat or slipped slightly; South's April dip is a data error under review.*"
        ),
        usage={"input_tokens": 2_960, "output_tokens": 43},
    ),
    Turn(
        text="**June** (2026-06), with 488k in total: North 129k + South 108k + East 118k + West 133k.",
        model="claude-haiku-5-5",
        usage={"input_tokens": 540, "output_tokens": 38},
    ),
    Turn(
        text=(
            "The f-string names `grwth`, but the variable is `growth`: Python looks the misspelt name up, "
            "finds nothing, and raises a `NameError`.\n\n"
            "```python\ngrowth = sales[\"East\"].iloc[-1] / sales[\"East\"].iloc[0] - 1\n"
            "print(f\"East grew {growth:.0%} in six months\")\n```"
        ),
        usage={"input_tokens": 430, "output_tokens": 52},
    ),
]

THINKING_AND_COST = [
    Turn(
        thinking=(
            "Let the ball cost b. Then the bat costs b + 1.00, and together b + (b + 1.00) = 1.10, so "
            "2b = 0.10 and b = 0.05. Check: ball 0.05, bat 1.05, total 1.10, and the bat is exactly 1.00 "
            "more. The intuitive answer, 0.10, would make the bat 1.10 and the total 1.20."
        ),
        text=(
            "The ball costs **$0.05**.\n\n"
            "If the ball costs $b$, the bat costs $b + 1.00$, so $2b + 1.00 = 1.10$ and $b = 0.05$. "
            "The tempting answer, $0.10, would make the bat $1.10 and the total $1.20."
        ),
        usage={"input_tokens": 48, "output_tokens": 152},
    ),
    Turn(
        text=(
            "Overfitting is when a model learns the noise in its training data along with the signal, so it "
            "scores well on that data and worse on new data."
        ),
        usage={"input_tokens": 19, "output_tokens": 34},
    ),
    Turn(
        text=(
            "- **Incidents fell** from 31 in week 1 to 9 in week 52; the steepest drop followed the new "
            "inspection routine in week 30.\n"
            "- **Output rose** about 18% over the year, with the only dip in weeks 23–26 (the line-3 refit).\n"
            "- **Overtime** peaked in the spring (weeks 14–20) and halved after two hires in week 21.\n"
            "- **Supplier delays** were the most common cause of lost hours until week 30, then machine "
            "faults.\n"
            "- **Energy use per unit** went down 11%, mostly after the compressor upgrade in week 40."
        ),
        usage={"input_tokens": 12, "cache_creation_input_tokens": 10_412, "output_tokens": 186},
    ),
    Turn(
        text="Week 3, with 34 incidents, most of them minor slips reported during the cold spell.",
        usage={"input_tokens": 14, "cache_read_input_tokens": 10_412, "cache_creation_input_tokens": 206, "output_tokens": 24},
    ),
    Turn(
        text="Week 50, with 6 incidents, none of them lost-time.",
        usage={"input_tokens": 9, "cache_read_input_tokens": 10_618, "cache_creation_input_tokens": 42, "output_tokens": 15},
    ),
    Turn(
        text=(
            "From week 30 every shift began with a ten-minute inspection walk, and near-misses were logged "
            "the same day. Incidents averaged 22 a week before and 12 a week after."
        ),
        usage={"input_tokens": 12, "cache_read_input_tokens": 10_660, "cache_creation_input_tokens": 30, "output_tokens": 44},
    ),
]

# The course's lesson, answered in the tutor style its claude_magic.toml sets (on Sonnet, which the
# course picks): questions and hints, never the finished function.
LESSON = [
    Turn(
        text=(
            "Let's get you there yourself: it is a short function. Two questions first:\n\n"
            "1. What does the list look like after `sorted(scores)`?\n"
            "2. It has 6 values. Which positions hold the middle?\n\n"
            "Write just the sorting step, print it, and tell me what you see."
        ),
        model="claude-sonnet-4-6",
        usage={"input_tokens": 180, "output_tokens": 70},
    ),
    Turn(
        text=(
            "Good start: sorting first is exactly right, and for a list of odd length this returns the middle "
            "value.\n\nNow count along `sorted(scores)`: with 6 values, `len(ordered) // 2` is 3, so you get "
            "`ordered[3]`. Which value sits at position 2? And what does the exercise say to do when there are "
            "*two* middle values?"
        ),
        model="claude-sonnet-4-6",
        usage={"input_tokens": 330, "output_tokens": 95},
    ),
    Turn(
        text=(
            "Yes: 78 and 85 are the middle pair, and their mean is 81.5; your odd case still works too.\n\n"
            "One more check to decide for yourself: what should `median([])` do? Try it."
        ),
        model="claude-sonnet-4-6",
        usage={"input_tokens": 470, "output_tokens": 60},
    ),
    Turn(
        text=(
            "**Question.** The list `[3, 9, 4, 100]` has one very large value. What is its median, and why does "
            "it describe this list better than the mean does?"
        ),
        model="claude-sonnet-4-6",
        usage={"input_tokens": 560, "output_tokens": 45},
    ),
]
# The map demo: a review's label from its words, an invoice line's fields, as structured output.
POSITIVE, NEGATIVE = ("love", "Great", "Best"), ("broke", "Terrible", "stopped")
INVOICES = {
    "Paid Acme Ltd 1,200.50 EUR for consulting": {"company": "Acme Ltd", "amount": 1200.5, "currency": "EUR"},
    "Globex invoice no. 7: USD 89.99": {"company": "Globex", "amount": 89.99, "currency": "USD"},
    "GBP 15 to Initech for stationery": {"company": "Initech", "amount": 15, "currency": "GBP"},
    "Umbrella Corp billed JPY 3,000": {"company": "Umbrella Corp", "amount": 3000, "currency": "JPY"},
}
FAILING_PROMPT = "p100"  # overloaded in its batch and again in the retry: the demo's one failed prompt


def map_answer(body: dict[str, Any]) -> str | None:
    text = body["messages"][-1]["content"][0]["text"]
    if text.startswith("Review of a"):
        label = "positive" if any(w in text for w in POSITIVE) else "negative" if any(w in text for w in NEGATIVE) else "neutral"
        return json.dumps({"label": label})
    line = text.split(": ", 1)[1]
    return json.dumps(INVOICES[line])


def map_demo(fake: FakeAPI) -> None:
    fake.batch_polls = 2
    fake.respond = fake.batch_reply = map_answer
    fake.batch_outcomes = {FAILING_PROMPT: {"type": "overloaded_error", "message": "Overloaded"}}

HANDOUT = HERE / "data" / "handout.pdf"
HANDOUT_PAGES = [
    ("Week 3: Confidence intervals", [
        "A 95% confidence interval comes from a procedure that, over many repeated samples, captures the true "
        "mean 95% of the time.",
        "Its width shrinks with the square root of the sample size: four times the data halves the width.",
    ]),
    ("Reading an interval", [
        "Do not say that the true mean lies in this particular interval with probability 95%: once computed, the "
        "interval either contains it or it does not.",
        "Report the interval with its units and the sample size, for example: mean 5.4 kg (95% CI 5.1 to 5.7, n = 40).",
    ]),
]


def cited(text: str, page: int, paragraph: int) -> dict:
    """A text segment citing the handout's `paragraph` (0-based) on `page`."""
    passage = HANDOUT_PAGES[page - 1][1][paragraph]
    return {"text": text, "citations": [{"type": "page_location", "cited_text": passage, "start_page_number": page}]}


DOCUMENTS_AND_WEB = [
    Turn(
        text=[
            "The handout treats it as a statement about the method, not about one interval: ",
            cited("over many repeated samples, 95% of the intervals it produces capture the true mean", 1, 0),
            ". It also notes that ",
            cited("four times the data halves the interval's width", 1, 1),
            ".",
        ],
        usage={"input_tokens": 22, "cache_creation_input_tokens": 3_324, "output_tokens": 64},
    ),
    Turn(
        text=[
            "Avoid saying that ",
            cited("the true mean lies in this particular interval with probability 95%", 2, 0),
            ": once computed, an interval either contains the mean or it does not. ",
            cited("Give the interval with its units and the sample size", 2, 1),
            " instead.",
        ],
        usage={"input_tokens": 16, "cache_read_input_tokens": 3_324, "cache_creation_input_tokens": 102, "output_tokens": 61},
    ),
    Turn(
        web_searches=[{"query": "ASA statement on p-values definition", "results": [
            {"url": "https://www.amstat.org/asa-statement-on-p-values", "title": "ASA Statement on Statistical Significance and P-Values"},
        ]}],
        text=[
            {"text": "The ASA statement defines a p-value as the probability, under a specified statistical model, that "
                     "a summary of the data would be equal to or more extreme than its observed value",
             "citations": [{"type": "web_search_result_location", "url": "https://www.amstat.org/asa-statement-on-p-values",
                            "cited_text": "a p-value is the probability under a specified statistical model that a "
                                          "statistical summary of the data would be equal to or more extreme than its "
                                          "observed value."}]},
            ". It adds that a p-value does not measure the probability that a hypothesis is true.",
        ],
        usage={"input_tokens": 2_418, "output_tokens": 83},
    ),
]

EXPLORE_WITH_TOOLS = [
    Turn(text="I'll start by seeing what is defined.", tool_uses=[{"name": "list_variables", "input": {}}]),
    Turn(tool_uses=[{"name": "describe_variable", "input": {"name": "trips"}}]),
    Turn(
        text=(
            "`trips` (10 trips × 3 columns) has two problems:\n\n"
            "- **Trip 8 is 0.0 km long but cost 48.0**, the highest fare in the table, for 2 minutes. Either the "
            "distance was not recorded or this is a cancellation fee booked as a trip; it will distort any "
            "fare-per-km figure (division by zero).\n"
            "- **Trip 9 has no `minutes`**: one null, so speed or duration statistics cover 9 trips, not 10.\n\n"
            "Everything else looks consistent: fares rise steadily with distance."
        ),
    ),
    Turn(text="Let me look at it.", tool_uses=[{"name": "view_image", "input": {}}]),
    Turn(
        text=(
            "Yes. The points climb along one straight line from the origin (about 2.5 per km), and one point sits "
            "far off it, at the left edge: 0 km and 48, which is trip 8. Nothing else stands out, so the plot and "
            "the summary tell the same story."
        ),
    ),
    Turn(
        text="I'll compute the fare per km for every trip.",
        tool_uses=[{"name": "run_code", "input": {"code": (
            'per_km = trips["fare"] / trips["distance_km"]\n'
            "per_km[per_km > 4]"
        )}}],
    ),
    Turn(
        text=(
            "Two trips cost more than 4 per km:\n\n"
            "| trip | distance | fare | per km |\n|---|---|---|---|\n"
            "| 3 | 0.8 km | 5.0 | 6.25 |\n| 8 | 0.0 km | 48.0 | infinite |\n\n"
            "Trip 3 is a short ride, where a minimum fare makes the rate high; trip 8 is the zero-distance record. "
            "The fare per km of every trip is now in `per_km`."
        ),
    ),
]

SCRIPTS: dict[str, list[Turn]] = {
    "01_quickstart.ipynb": QUICKSTART,
    "02_data_and_plots.ipynb": DATA_AND_PLOTS,
    "03_thinking_and_cost.ipynb": THINKING_AND_COST,
    "course/lesson.ipynb": LESSON,
    "04_explore_with_tools.ipynb": EXPLORE_WITH_TOOLS,
    "05_map_a_dataframe.ipynb": [],
    "06_documents_and_web.ipynb": DOCUMENTS_AND_WEB,
}
# Demos whose fake answers by what is asked rather than in turn.
CONFIGURE: dict[str, Callable[[FakeAPI], None]] = {"05_map_a_dataframe.ipynb": map_demo}


def write_handout(path: Path) -> None:
    """A two-page course handout as a PDF with real text (TrueType fonts), the same bytes every time."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.backends.backend_pdf import PdfPages

    path.parent.mkdir(exist_ok=True)
    with matplotlib.rc_context({"pdf.fonttype": 42}), PdfPages(
        path, metadata={"Creator": "notebooks/record_demos.py", "CreationDate": None, "Producer": None}
    ) as pdf:
        for title, paragraphs in HANDOUT_PAGES:
            figure = plt.figure(figsize=(8.27, 11.69))
            figure.text(0.1, 0.92, title, fontsize=18, weight="bold")
            top = 0.86
            for paragraph in paragraphs:
                wrapped = textwrap.fill(paragraph, 78)
                figure.text(0.1, top, wrapped, fontsize=11, va="top")
                top -= 0.02 * (wrapped.count("\n") + 1) + 0.03
            pdf.savefig(figure)
            plt.close(figure)


def record(name: str, base_url: str | None) -> None:
    path = HERE / name
    notebook = nbformat.read(path, as_version=4)
    os.environ["CLAUDE_MAGIC_FIXTURE_MODE"] = "record"
    if base_url:
        os.environ["ANTHROPIC_BASE_URL"] = base_url
        os.environ["ANTHROPIC_API_KEY"] = "sk-ant-scripted-demo-not-a-key"
    for fixture in (path.parent / "fixtures").glob(f"{path.stem}.json"):
        fixture.unlink()
    # The kernel starts in the notebook's folder, as Jupyter's does: that is where a course file is found.
    client = NotebookClient(
        notebook, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}},
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
    write_handout(HANDOUT)
    for name in args.names:
        if args.live:
            record(name, None)
            continue
        with FakeAPI() as server:
            server.script(*SCRIPTS[name])
            CONFIGURE.get(name, lambda fake: None)(server)
            record(name, server.base_url)
            if server.pending:
                raise SystemExit(f"{name}: {server.pending} scripted replies were not asked for")


if __name__ == "__main__":
    main()
