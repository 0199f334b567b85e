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
        model="claude-haiku-4-5",
        usage={"input_tokens": 540, "output_tokens": 38},
    ),
    Turn(
        text=(
            "`sales` has no column `Nort`: the name is a typo for `North`, so pandas raises a `KeyError` "
            "when it looks the column up.\n\n```python\nsales[\"North\"].mean()\n```"
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
    "04_explore_with_tools.ipynb": EXPLORE_WITH_TOOLS,
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
