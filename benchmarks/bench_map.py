"""What a map job costs, in wall time and dollars per 1,000 rows, against a plain sequential SDK loop.

Run: `python benchmarks/bench_map.py [rows]` (also figure 8 of `benchmarks/bench.py`, which reuses the
functions here). Everything talks to the local fake API, started here with a fixed latency on every
live request (the model's time to its answer, scaled down), and answering each review with its label.
The same rows of reviews (repeating as real data does: 180 distinct texts) are labelled three ways:

- baseline: a plain loop of `client.messages.create`, one row after the other, every row sent, list price;
- live: `claude_magic.map(..., engine="live")`: requests overlapping (eight at once), repeats sent once;
- batch: `claude_magic.map(..., engine="batch")`: Message Batches, repeats sent once, half price. The
  fake ends a batch at its first poll and the pause between polls is set to 0, so this wall time is the
  client's own work (planning, the preview, building, joining); the real API takes minutes to hours.

The live engine also runs on rows that are all distinct, which shows the overlap alone. Dollars are
the usage the fake reports, at the package's price table. Nothing here is asserted: bench.py prints.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import time
import types
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
for _path in (REPO, REPO / "tests"):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

import pandas as pd  # noqa: E402
from fakeapi import FakeAPI  # noqa: E402

MODEL = "claude-opus-4-6"
LATENCY = 0.05  # seconds the fake takes over each live answer (the real API: seconds)
SYSTEM = "You label product reviews by their sentiment."
TEMPLATE = "Review of a {product}: {text}"
LABELS = ["positive", "negative", "neutral"]
POSITIVE, NEGATIVE = ("love", "Great", "Best"), ("broke", "Terrible", "stopped")
ROWS = 200  # rows measured; figures are given per 1,000
# Targets, per 1,000 rows, as ratios to the sequential loop over the same rows.
LIVE_WALL, DISTINCT_WALL, BATCH_WALL = 0.25, 0.35, 0.25
LIVE_DOLLARS, BATCH_DOLLARS = 1.0, 0.5


@dataclass(frozen=True)
class Measured:
    seconds: float
    dollars: float
    requests: int  # POST /v1/messages and batched requests the fake answered


@dataclass(frozen=True)
class MapFigures:
    rows: int
    distinct: int
    loop: Measured
    live: Measured
    batch: Measured
    distinct_loop: Measured
    distinct_live: Measured

    def per_1k(self, value: float) -> float:
        return value * 1000 / self.rows


def reviews(rows: int, *, distinct: bool = False) -> pd.DataFrame:
    """Reviews as notebooks/05 makes them: 180 texts that repeat, or `rows` all different."""
    products = ["kettle", "toaster", "blender", "desk lamp", "fan"]
    phrases = ["I love this {p}", "Great {p}, works perfectly", "Best {p} I have owned", "This {p} broke after a week",
               "Terrible {p}, I returned it", "The {p} stopped working", "The {p} is fine", "An ordinary {p}",
               "The {p} does the job"]
    details = ["", " for the price", " as a gift", " after a month"]
    combos = [(p, phrase.format(p=p) + d) for p in products for phrase in phrases for d in details]
    picked = [combos[i * 7 % len(combos)] for i in range(rows)]
    texts = [f"{text} (order {i})." if distinct else f"{text}." for i, (_, text) in enumerate(picked)]
    return pd.DataFrame({"product": [product for product, _ in picked], "text": texts})


def label(params: dict[str, Any]) -> str:
    text = params["messages"][-1]["content"][0]["text"]
    found = "positive" if any(w in text for w in POSITIVE) else "negative" if any(w in text for w in NEGATIVE) else "neutral"
    return json.dumps({"label": found})


@contextlib.contextmanager
def fake_and_shell() -> Iterator[tuple[FakeAPI, Any]]:
    """The fake (latency, labels) and an IPython shell with the extension loaded, pointed at it."""
    from IPython.core.interactiveshell import InteractiveShell

    import claude_magic.batches as batches

    saved_time = batches.time
    os.environ.setdefault("ANTHROPIC_API_KEY", "sk-ant-bench-not-a-real-key")
    with FakeAPI(latency=LATENCY) as fake:
        fake.respond = fake.batch_reply = label
        shell = InteractiveShell.instance()
        if "ClaudeMagics" not in shell.magics_manager.registry:
            shell.run_line_magic("load_ext", "claude_magic")
        magics = shell.magics_manager.registry["ClaudeMagics"]
        saved = magics.base_url, magics.display, magics.max_retries, magics.fixture
        magics.base_url, magics.display, magics.max_retries, magics.fixture = fake.base_url, "text", 0, ""
        batches.time = types.SimpleNamespace(sleep=lambda seconds: None)  # see the module docstring
        try:
            yield fake, magics
        finally:
            batches.time = saved_time
            magics.base_url, magics.display, magics.max_retries, magics.fixture = saved


def fresh(fake: FakeAPI) -> None:
    fake.requests.clear()
    fake.batches.batches.clear()


def answered(fake: FakeAPI) -> int:
    live = sum(1 for r in fake.requests if r.path == "/v1/messages")
    return live + sum(len(batch.requests) for batch in fake.batches.batches.values())


def run_map(fake: FakeAPI, magics: Any, frame: pd.DataFrame, engine: str) -> Measured:
    import claude_magic

    fresh(fake)
    spent = magics.session.ledger.total
    with open(os.devnull, "w") as sink, contextlib.redirect_stdout(sink):
        start = time.perf_counter()
        claude_magic.map(frame, TEMPLATE, schema=LABELS, engine=engine, system=SYSTEM)
        seconds = time.perf_counter() - start
    return Measured(seconds, magics.session.ledger.total - spent, answered(fake))


def run_loop(fake: FakeAPI, frame: pd.DataFrame) -> Measured:
    """The plain way: the SDK, one row after the other, the same request body for each."""
    import anthropic

    from claude_magic.pricing import PriceTable, usage_from_api
    from claude_magic.schema import schema_of

    fresh(fake)
    client = anthropic.Anthropic(base_url=fake.base_url, max_retries=0)
    output = {"format": schema_of(LABELS, "labels").output_format()}
    prices, dollars = PriceTable(), 0.0
    start = time.perf_counter()
    for product, text in frame.itertuples(index=False, name=None):
        prompt = TEMPLATE.format(product=product, text=text)
        message = client.messages.create(model=MODEL, max_tokens=4096, system=SYSTEM, output_config=output,  # type: ignore[arg-type]
                                         messages=[{"role": "user", "content": [{"type": "text", "text": prompt}]}])
        json.loads(message.content[0].text)
        dollars += prices.cost(MODEL, usage_from_api(message.usage)) or 0.0
    seconds = time.perf_counter() - start
    client.close()
    return Measured(seconds, dollars, answered(fake))


def measure(rows: int) -> MapFigures:
    frame, distinct = reviews(rows), reviews(rows, distinct=True)
    with fake_and_shell() as (fake, magics):
        run_map(fake, magics, frame.head(20), "live")  # warm: imports, the client, the first connections
        loop, live, batch = run_loop(fake, frame), run_map(fake, magics, frame, "live"), run_map(fake, magics, frame, "batch")
        distinct_loop, distinct_live = run_loop(fake, distinct), run_map(fake, magics, distinct, "live")
    return MapFigures(rows, frame["text"].nunique(), loop, live, batch, distinct_loop, distinct_live)


def print_figures(figures: MapFigures) -> None:
    per = figures.per_1k
    print(f"{figures.rows:,} rows ({figures.distinct:,} distinct), the fake answering each live request in {LATENCY * 1000:.0f} ms")
    for name, measured in (("loop", figures.loop), ("live", figures.live), ("batch", figures.batch),
                           ("loop, distinct rows", figures.distinct_loop), ("live, distinct rows", figures.distinct_live)):
        print(f"  {name:20} {per(measured.seconds):7.2f} s  ${per(measured.dollars):.4f}  per 1,000 rows  "
              f"({measured.requests:,} requests answered)")


if __name__ == "__main__":
    print_figures(measure(int(sys.argv[1]) if len(sys.argv) > 1 else ROWS))
