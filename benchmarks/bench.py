"""Every speed and size figure of claude_magic, each beside a baseline measured in the same run.

Run: `python benchmarks/bench.py` (a few minutes) or `python benchmarks/bench.py --quick` (under a
minute, fewer repetitions). It prints each figure's details, then one table: figure | ours | baseline |
ratio | target | ok/MISSED. It always exits 0: speed is checked here, by a reader, never by timed
assertions in the tests. On a noisy machine trust the ratios more than the absolute times.

Everything that needs the API talks to the local fake in `tests/fakeapi.py`, bound to 127.0.0.1 and
streaming at a fixed rate; nothing else is ever contacted.

1. `%load_ext claude_magic` in a fresh process, against `import anthropic` in a fresh process; and
   in a course folder (its claude_magic.toml read and applied), against the same without one.
2. Time to the first answer character on screen for a fresh kernel's first `%%claude` cell, against a
   raw-SDK script streaming the same request from a fresh process.
3. Steady-state cost of a turn above the raw SDK's own streamed call, at 1 and 50 turns of history;
   and the requests a warm turn sends (what a model can do is asked of the Models API once a kernel).
4. The live widget view of a 2,000-token answer: updates, messages, bytes and CPU, against one
   widget value set per delta (driven directly, on a fake clock); and of a 200,000-character answer
   with no line break at all, against the same baseline.
5. Context: DataFrame summaries by row count and a large figure (`bench_context.py`).
6. Prompt caching over 12 turns about a 40,000-character document: a model of the API's billing
   applied to the request bodies our client really sends, against the same turns uncached.
7. Memory growth over 200 turns, against the size of the conversation itself and the raw SDK.
8. A map job per 1,000 rows, wall time and dollars, live and batch engines, against a plain sequential
   SDK loop over the same rows (`bench_map.py`).
9. Documents: the bytes a later turn sends when the conversation holds a large PDF (the Files API's
   file id) against sending it inline again, and a warm turn's time with a 100-page PDF in the history.
10. Tool steps (`bench_tools.py`): a `%%claude -k` turn's overhead per tool call against the same loop
   written on the SDK, and the cache reads of its requests (figure 6's model).
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import itertools
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
# Runnable from a checkout: the package, the fake API in tests/, and bench_context next to this file.
for _path in (REPO, REPO / "tests", REPO / "benchmarks"):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

from fakeapi import FakeAPI, Turn, estimate_tokens  # noqa: E402
from streaming import FakeClock, deltas_of  # noqa: E402

MODEL = "claude-opus-5-5"  # the package's default, so both sides ask for the same model
MAX_TOKENS = 4096
TEST_KEY = "sk-ant-bench-not-a-real-key"
NO_BYTECODE_HERE = bool(os.environ.get("PYTHONDONTWRITEBYTECODE"))
JUPYTER_AI_LOAD_SECONDS = 1.3  # jupyter-ai's magics, from the field notes on this machine; not measured here


@dataclass(frozen=True)
class Settings:
    """How much each figure repeats; --quick trades precision for time."""

    fresh_runs: int  # fresh processes per side, figures 1 and 2 (median)
    steady_turns: int  # timed turns per side and history length, figure 3 (fastest)
    view_repeats: int  # figure 4 (fastest CPU time)
    context_repeats: int  # figure 5 (fastest)
    memory_turns: int = 200  # figure 7
    map_rows: int = 200  # figure 8 (given per 1,000 rows)


FULL = Settings(fresh_runs=11, steady_turns=40, view_repeats=3, context_repeats=3)
QUICK = Settings(fresh_runs=5, steady_turns=15, view_repeats=1, context_repeats=1, map_rows=100)


@dataclass(frozen=True)
class Row:
    """One line of the final table."""

    figure: str
    ours: str
    baseline: str
    ratio: str
    target: str
    ok: bool


# ---------------------------------------------------------------------------------------------
# Helpers


def median(values: list[float]) -> float:
    return statistics.median(values)


def ms(seconds: float) -> str:
    return f"{seconds * 1000:,.1f} ms"


def kib(size: float) -> str:
    return f"{size / 1024:,.1f} KiB"


def ratio(ours: float, baseline: float) -> str:
    return f"{ours / baseline:.2f}x" if baseline else "n/a"


def heading(title: str) -> None:
    print(f"\n== {title}")


@contextlib.contextmanager
def bench_environment() -> Iterator[None]:
    """The environment of this process and of every process it starts: a dummy key, no proxy for
    127.0.0.1, no fixture mode, and bytecode cached in a temporary directory. A user's installed
    package has its bytecode compiled; with PYTHONDONTWRITEBYTECODE set, every fresh process would
    compile our sources again, and figure 1 would time the compiler. `fake_api` adds the address."""
    saved = dict(os.environ)
    with tempfile.TemporaryDirectory(prefix="claude-magic-bench-pyc-") as pycache:
        for name in ("ANTHROPIC_AUTH_TOKEN", "CLAUDE_MAGIC_FIXTURE_MODE", "PYTHONDONTWRITEBYTECODE"):
            os.environ.pop(name, None)
        os.environ.update({
            "ANTHROPIC_API_KEY": TEST_KEY,
            "NO_PROXY": "127.0.0.1,localhost",
            "no_proxy": "127.0.0.1,localhost",
            "PYTHONPYCACHEPREFIX": pycache,
            "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
        })
        try:
            yield
        finally:
            os.environ.clear()
            os.environ.update(saved)


@contextlib.contextmanager
def fake_api() -> Iterator[FakeAPI]:
    """The fake Messages API on 127.0.0.1, made the SDK's default address for this process and its
    children, so no request can go anywhere else."""
    with FakeAPI() as fake:
        os.environ["ANTHROPIC_BASE_URL"] = fake.base_url
        try:
            yield fake
        finally:
            del os.environ["ANTHROPIC_BASE_URL"]


def run_fresh(code: str, *args: str, env: dict[str, str] | None = None, cwd: Path = REPO) -> Any:
    """Runs `code` in a fresh interpreter started in `cwd`; its last line of output, as JSON."""
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code), *args],
        capture_output=True, text=True, env=env, cwd=cwd, timeout=300,
    )
    if result.returncode != 0:
        raise RuntimeError(f"child process failed:\n{result.stderr.strip()}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def markdown_answer(chars: int, seed: int = 0) -> str:
    """A deterministic answer shaped like a real one: headings, prose, lists and code blocks."""
    words = ("the frame holds one row per sale and its amount column is in euros so a groupby over region "
             "then a sum gives totals that a bar chart shows well while the median resists outliers").split()
    parts: list[str] = []
    i = seed
    while sum(len(part) + 2 for part in parts) < chars:
        if i % 7 == 0:
            parts.append(f"## Step {i // 7 + 1}: {words[i % len(words)]} and {words[(i * 3) % len(words)]}")
        elif i % 7 == 3:
            parts.append("\n".join(f"- `col_{j}` holds **{(i * j) % 97}** values; {' '.join(words[j:j + 6])}"
                                   for j in range(4)))
        elif i % 7 == 5:
            lines = [f"total_{j} = frame.groupby('region')['amount_{j}'].sum()  # step {i}" for j in range(10)]
            parts.append("```python\nimport pandas as pd\n\n" + "\n".join(lines) + "\n```")
        else:
            start = (i * 5) % len(words)
            sentence = " ".join((words * 3)[start:start + 45])
            parts.append(sentence[0].upper() + sentence[1:] + ".")
        i += 1
    return "\n\n".join(parts)


def user_turn(text: str) -> dict[str, Any]:
    """A user message as our magic builds it for plain text."""
    return {"role": "user", "content": [{"type": "text", "text": text}]}


def assistant_turn(text: str) -> dict[str, Any]:
    return {"role": "assistant", "content": [{"type": "text", "text": text}]}


def shell_with_magic() -> Any:
    """This process's InteractiveShell with the extension loaded, text display, no retries.
    The API key and base URL come from the environment (`bench_environment`, `fake_api`)."""
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    if "ClaudeMagics" not in shell.magics_manager.registry:
        shell.run_line_magic("load_ext", "claude_magic")
    magics = shell.magics_manager.registry["ClaudeMagics"]
    magics.display = "text"
    magics.max_retries = 0
    return shell


def magics_of(shell: Any) -> Any:
    return shell.magics_manager.registry["ClaudeMagics"]


@contextlib.contextmanager
def quiet() -> Iterator[None]:
    """stdout to a null sink: the answers a turn prints are not what is measured."""
    with open(os.devnull, "w") as sink, contextlib.redirect_stdout(sink):
        yield


# ---------------------------------------------------------------------------------------------
# 1. %load_ext in a fresh process

LOAD_EXT = """
    import time
    from IPython.core.interactiveshell import InteractiveShell
    shell = InteractiveShell.instance()
    start = time.perf_counter()
    shell.run_line_magic("load_ext", "claude_magic")
    print(time.perf_counter() - start)
"""

IMPORT_SDK = """
    import time
    start = time.perf_counter()
    import anthropic
    print(time.perf_counter() - start)
"""

# Issue 12 asked for 10 ms, when `import anthropic` took 0.67 s on this machine; the machine's speed
# varies from day to day (1.2 s for the same import on another), so the target is that share of it.
LOAD_TARGET_SHARE = 0.015
# A kernel started in a course folder also finds, parses and applies its claude_magic.toml.
COURSE_FOLDER = REPO / "notebooks" / "course"
COURSE_LOAD_TARGET = 1.5  # times load_ext elsewhere
LOAD_VS_JUPYTER_AI = 20


def without_bytecode_cache() -> dict[str, str]:
    """An environment that writes no bytecode: an editable checkout's sources are compiled on every
    import (installed packages keep the bytecode pip wrote)."""
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    env.pop("PYTHONPYCACHEPREFIX", None)
    return env


def runs(timings: list[float]) -> str:
    return ", ".join(f"{t * 1000:.0f}" for t in timings) + " ms"


def bench_load(settings: Settings) -> list[Row]:
    heading(f"1. %load_ext claude_magic in a fresh process (median of {settings.fresh_runs})")
    run_fresh(LOAD_EXT), run_fresh(IMPORT_SDK)  # compiles the bytecode, as installing would
    ours, sdk, uncached, in_course = [], [], [], []
    for _ in range(settings.fresh_runs):  # interleaved, so both sides see the same machine noise
        ours.append(run_fresh(LOAD_EXT))
        sdk.append(run_fresh(IMPORT_SDK))
        uncached.append(run_fresh(LOAD_EXT, env=without_bytecode_cache()))
        in_course.append(run_fresh(LOAD_EXT, cwd=COURSE_FOLDER))
    load, baseline, course = median(ours), median(sdk), median(in_course)
    print(f"load_ext: {ms(load)} ({runs(ours)})")
    print(f"load_ext in {COURSE_FOLDER.relative_to(REPO)} (reads its claude_magic.toml): {ms(course)} ({runs(in_course)})")
    print(f"import anthropic: {ms(baseline)} ({runs(sdk)})")
    print(f"load_ext with PYTHONDONTWRITEBYTECODE=1 (set where this ran: {'yes' if NO_BYTECODE_HERE else 'no'}), "
          f"compiling our sources every time: {ms(median(uncached))} ({runs(uncached)}); not in the table")
    print(f'jupyter-ai\'s magics: "{JUPYTER_AI_LOAD_SECONDS} s on this machine" (field notes; quoted, not measured)')
    speedup = JUPYTER_AI_LOAD_SECONDS / load
    return [
        Row("1 load_ext vs import anthropic", ms(load), ms(baseline), f"{load / baseline:.1%}",
            f"<= {LOAD_TARGET_SHARE:.1%} ({ms(LOAD_TARGET_SHARE * baseline)})", load <= LOAD_TARGET_SHARE * baseline),
        Row("1 load_ext in a course folder", ms(course), f"{ms(load)} (none)", ratio(course, load),
            f"<= {COURSE_LOAD_TARGET:.1f}x", course <= COURSE_LOAD_TARGET * load),
        Row("1 load_ext vs jupyter-ai (quoted)", ms(load), f'"{JUPYTER_AI_LOAD_SECONDS:.1f} s"',
            f"{speedup:.0f}x faster", f">= {LOAD_VS_JUPYTER_AI}x faster", speedup >= LOAD_VS_JUPYTER_AI),
    ]


# ---------------------------------------------------------------------------------------------
# 2. First answer on screen from a fresh kernel

# stdout becomes a sink that notes when the first visible character reaches it.
FIRST_TEXT_PRELUDE = """
    import os, sys, time

    class FirstText:
        def __init__(self):
            self.sink, self.at = open(os.devnull, "w"), None
        def write(self, text):
            if self.at is None and text.strip():
                self.at = time.perf_counter()
            return self.sink.write(text)
        def flush(self):
            self.sink.flush()
        def isatty(self):
            return False

    screen = sys.stdout
    model, prompt = sys.argv[1], sys.argv[2]
"""

FIRST_TEXT_MAGIC = FIRST_TEXT_PRELUDE + """
    from IPython.core.interactiveshell import InteractiveShell
    shell = InteractiveShell.instance()
    shell.run_line_magic("load_ext", "claude_magic")
    shell.run_line_magic("config", "ClaudeMagics.display = 'text'")
    shell.run_line_magic("config", "ClaudeMagics.max_retries = 0")
    sys.stdout = FirstText()
    start = time.perf_counter()
    shell.run_cell("%%claude\\n" + prompt).raise_error()
    print(sys.stdout.at - start, file=screen)
"""

FIRST_TEXT_SDK = FIRST_TEXT_PRELUDE + """
    sys.stdout = FirstText()
    start = time.perf_counter()
    import anthropic
    client = anthropic.Anthropic(max_retries=0)
    request = {"role": "user", "content": [{"type": "text", "text": prompt}]}
    with client.messages.stream(model=model, max_tokens=4096, messages=[request],
                                cache_control={"type": "ephemeral"}) as stream:
        for event in stream:
            if event.type == "text":
                sys.stdout.write(event.text)
                sys.stdout.flush()
    print(sys.stdout.at - start, file=screen)
"""

FIRST_TOKEN_DELAY = 0.3  # the fake's time to first text: three event gaps (block start, ping, delta)
FIRST_TEXT_TOLERANCE = 0.10
FIRST_PROMPT = "Explain what a p-value is, in two sentences."
FIRST_ANSWER = "A p-value is the probability of data at least this extreme if the null hypothesis were true."


def first_text_turn() -> Turn:
    # The whole answer in one delta, so the stream is seven events and the run stays short.
    return Turn(text=FIRST_ANSWER, chunk_chars=len(FIRST_ANSWER), delay=FIRST_TOKEN_DELAY / 3)


def run_first_text(fake: FakeAPI, code: str) -> float:
    fake.script(first_text_turn())
    seconds = run_fresh(code, MODEL, FIRST_PROMPT)
    if fake.pending:
        raise RuntimeError("the child process did not make its request")
    return seconds


def bench_first_text(fake: FakeAPI, settings: Settings) -> list[Row]:
    heading(f"2. First answer text on screen, fresh process, fake first-token delay {ms(FIRST_TOKEN_DELAY)} "
            f"(median of {settings.fresh_runs})")
    run_first_text(fake, FIRST_TEXT_MAGIC), run_first_text(fake, FIRST_TEXT_SDK)  # bytecode, as installed
    ours, sdk = [], []
    for _ in range(settings.fresh_runs):
        ours.append(run_first_text(fake, FIRST_TEXT_MAGIC))
        sdk.append(run_first_text(fake, FIRST_TEXT_SDK))
    first, baseline = median(ours), median(sdk)
    print(f"%%claude cell (run_cell, from cell start): {ms(first)} ({runs(ours)})")
    print(f"raw SDK script (from before import anthropic): {ms(baseline)} ({runs(sdk)})")
    print(f"both include the fake's {ms(FIRST_TOKEN_DELAY)} wait; above it: ours {ms(first - FIRST_TOKEN_DELAY)}, "
          f"SDK {ms(baseline - FIRST_TOKEN_DELAY)}")
    return [Row("2 first answer text, fresh kernel", ms(first), ms(baseline), ratio(first, baseline),
                f"<= {1 + FIRST_TEXT_TOLERANCE:.2f}x", first <= baseline * (1 + FIRST_TEXT_TOLERANCE))]


# ---------------------------------------------------------------------------------------------
# 3. Steady-state overhead per turn

STEADY_HISTORIES = (1, 50)
STEADY_TARGET_SECONDS = 0.005  # "a few milliseconds"
STEADY_FLAT_SECONDS = 0.002  # 50 turns of history may cost at most this much more than 1
STEADY_WARMUP = 3
STEADY_ANSWER = markdown_answer(800, seed=1)

Exchange = tuple[dict[str, Any], dict[str, Any]]


@dataclass(frozen=True)
class Timing:
    wall: float
    cpu: float  # this thread's: the client's work, without the fake server's threads


@contextlib.contextmanager
def timing() -> Iterator[list[Timing]]:
    """`with timing() as result:` leaves one `Timing` of the block in `result`. The garbage of the
    untimed set-up is collected first, so that no side pays for the other's."""
    result: list[Timing] = []
    gc.collect()
    wall, cpu = time.perf_counter(), time.thread_time()
    yield result
    result.append(Timing(time.perf_counter() - wall, time.thread_time() - cpu))


def steady_prompt(i: int) -> str:
    return f"Question {i}: which of the columns should I group by, and why? Answer briefly."


def history(turns: int) -> list[Exchange]:
    return [(user_turn(steady_prompt(i)), assistant_turn(STEADY_ANSWER)) for i in range(turns)]


_CHAT_NUMBERS = itertools.count()


def magic_turn(shell: Any, fake: FakeAPI, exchanges: list[Exchange]) -> Timing:
    """One `%%claude` turn on a fresh named conversation holding `exchanges`, set up untimed."""
    from claude_magic.pricing import Usage

    name = f"steady_{next(_CHAT_NUMBERS)}"
    chat = magics_of(shell).session.conversations.get(name)
    for user, assistant in exchanges:
        chat.commit(user, assistant, Usage(), 0.0)
    fake.script(Turn(text=STEADY_ANSWER))
    with quiet(), timing() as result:
        shell.run_cell_magic("claude", f"-c {name}", steady_prompt(len(exchanges)))
    return result[0]


def sdk_turn(client: Any, fake: FakeAPI, exchanges: list[Exchange]) -> Timing:
    """The same request through the SDK alone: stream it and consume every event."""
    messages = [message for exchange in exchanges for message in exchange]
    messages.append(user_turn(steady_prompt(len(exchanges))))
    fake.script(Turn(text=STEADY_ANSWER))
    request = {"model": MODEL, "max_tokens": MAX_TOKENS, "messages": messages, "cache_control": {"type": "ephemeral"}}
    with timing() as result, client.messages.stream(**request) as stream:
        for _ in stream:
            pass
        stream.get_final_message()
    return result[0]


@dataclass(frozen=True)
class Overhead:
    """The fastest turn of each side: the machine's noise only ever adds time, so the minimum is
    the steadiest estimate of the work itself (as `timeit` has it)."""

    ours: Timing
    sdk: Timing

    @property
    def wall(self) -> float:
        return self.ours.wall - self.sdk.wall

    @property
    def cpu(self) -> float:
        return self.ours.cpu - self.sdk.cpu


def fastest(timings: list[Timing]) -> Timing:
    return Timing(min(t.wall for t in timings), min(t.cpu for t in timings))


def steady_overhead(shell: Any, client: Any, fake: FakeAPI, turns: int, repeats: int) -> Overhead:
    exchanges = history(turns)
    ours: list[Timing] = []
    sdk: list[Timing] = []
    sides = [(ours, partial(magic_turn, shell, fake, exchanges)), (sdk, partial(sdk_turn, client, fake, exchanges))]
    for i in range(STEADY_WARMUP + repeats):  # interleaved, in alternating order
        for timings, turn in sides if i % 2 else reversed(sides):
            timings.append(turn())
    fake.requests.clear()
    return Overhead(fastest(ours[STEADY_WARMUP:]), fastest(sdk[STEADY_WARMUP:]))


def requests_per_turn(shell: Any, fake: FakeAPI) -> Row:
    """The requests of a warm turn (the model asked about before) against the SDK's one; the first
    turn of a model in a kernel also asks the Models API what it can do, once."""
    from claude_magic.capabilities import Capabilities

    magics_of(shell).session.capabilities = Capabilities()  # as a fresh kernel's: nothing asked yet
    counts = []
    for _ in range(3):
        before = len(fake.requests)
        magic_turn(shell, fake, [])
        counts.append(len(fake.requests) - before)
    print(f"requests per turn: first {counts[0]} (the Models API lookup and the turn), then {counts[1:]}")
    return Row("3 requests, warm turn (first turn)", f"{counts[-1]} ({counts[0]})", "1", "", "1 (2)",
               counts[1:] == [1, 1] and counts[0] == 2)


def bench_steady(fake: FakeAPI, settings: Settings) -> list[Row]:
    import anthropic

    heading(f"3. Steady-state turn, warm, zero-delay fake, {len(STEADY_ANSWER):,}-char answers "
            f"(fastest of {settings.steady_turns} per side, interleaved)")
    shell = shell_with_magic()
    rows, overheads = [], {}
    with anthropic.Anthropic(max_retries=0) as client:
        for turns in STEADY_HISTORIES:
            result = overheads[turns] = steady_overhead(shell, client, fake, turns, settings.steady_turns)
            print(f"{turns:>3} turns of history: %%claude {ms(result.ours.wall)} ({ms(result.ours.cpu)} CPU), "
                  f"SDK stream {ms(result.sdk.wall)} ({ms(result.sdk.cpu)} CPU); "
                  f"overhead {ms(result.wall)} wall, {ms(result.cpu)} CPU (main thread)")
            rows.append(Row(f"3 turn overhead, {turns} turns of history", ms(result.ours.wall), ms(result.sdk.wall),
                            f"{result.wall * 1000:+.1f} ms", f"+ < {ms(STEADY_TARGET_SECONDS)}",
                            result.wall < STEADY_TARGET_SECONDS))
    rows.append(requests_per_turn(shell, fake))
    first, last = overheads[STEADY_HISTORIES[0]], overheads[STEADY_HISTORIES[-1]]
    growth = last.wall - first.wall
    print(f"overhead growth {STEADY_HISTORIES[0]} -> {STEADY_HISTORIES[-1]} turns: {growth * 1000:+.2f} ms wall, "
          f"{(last.cpu - first.cpu) * 1000:+.2f} ms CPU")
    rows.append(Row(f"3 overhead growth, {STEADY_HISTORIES[0]} -> {STEADY_HISTORIES[-1]} turns",
                    f"{growth * 1000:+,.1f} ms", "0 ms", "", f"< +{ms(STEADY_FLAT_SECONDS)}",
                    growth < STEADY_FLAT_SECONDS))
    return rows


# ---------------------------------------------------------------------------------------------
# 4. The live widget view of a long answer

VIEW_CHARS = 8_000
VIEW_DELTAS = 2_000
VIEW_SECONDS = 10.0  # 200 deltas a second, as the API streams a long answer
VIEW_UPDATES_PER_SECOND = 20 * 1.1  # "at most about 20"
# "A small multiple" of the final answer, linear in it (the naive view: about 1,000x). 2x of it is the
# saved output itself, which by contract holds the answer twice (Markdown and its plain twin).
VIEW_BYTES_MULTIPLE = 12
VIEW_CPU_PER_1K_TOKENS = 0.1
ONE_LINE_CHARS = 200_000  # an answer with no line break: the tail must not grow with it


@dataclass
class Frontend:
    """What the frontend receives: messages, the bytes of their content (UTF-8 JSON, as the kernel
    packs it; each message's header, a few hundred bytes, is not counted), and the distinct instants
    at which anything arrived: the updates a reader sees."""

    clock: FakeClock
    messages: int = 0
    bytes: int = 0
    instants: set[float] = field(default_factory=set)
    by_kind: dict[str, tuple[int, int]] = field(default_factory=dict)  # kind -> (messages, bytes)

    def receive(self, kind: str, content: dict[str, Any]) -> None:
        size = len(json.dumps(content, ensure_ascii=False).encode())
        self.messages += 1
        self.bytes += size
        self.instants.add(self.clock.now)
        count, total = self.by_kind.get(kind, (0, 0))
        self.by_kind[kind] = (count + 1, total + size)


@contextlib.contextmanager
def recording_frontend(clock: FakeClock) -> Iterator[Frontend]:
    """Every widget comm message and display message of this process goes to a `Frontend`."""
    import comm
    from comm.base_comm import BaseComm
    from IPython.core.displaypub import DisplayPublisher
    from IPython.core.interactiveshell import InteractiveShell

    frontend = Frontend(clock)

    class RecordingComm(BaseComm):
        def publish_msg(self, msg_type: str, data: Any = None, metadata: Any = None, buffers: Any = None,
                        **keys: Any) -> None:
            frontend.receive(msg_type, {"comm_id": self.comm_id, "data": data or {}})

    class RecordingPublisher(DisplayPublisher):
        def publish(self, data: Any, metadata: Any = None, source: Any = None, *, transient: Any = None,
                    update: bool = False, **keys: Any) -> None:
            frontend.receive("display_data", {"data": data, "metadata": metadata or {}, "transient": transient or {}})

    shell = InteractiveShell.instance()
    saved = comm.create_comm, shell.display_pub
    comm.create_comm = lambda *args, **kwargs: RecordingComm(*args, **kwargs)
    shell.display_pub = RecordingPublisher()
    try:
        yield frontend
    finally:
        comm.create_comm, shell.display_pub = saved


def widget_view(clock: FakeClock, deltas: list[str], answer: str, step: float) -> None:
    """Ours: the `WidgetView` a notebook turn uses, from start to the static output."""
    from claude_magic.output import Final
    from claude_magic.widgets import WidgetView

    view = WidgetView(clock)
    view.start(MODEL)
    for delta in deltas:
        clock.now += step
        view.text(delta)
    view.finish(Final(answer, footer=f"{MODEL} · 10 in · 2,000 out"))


def naive_view(clock: FakeClock, deltas: list[str], answer: str, step: float) -> None:
    """The baseline: one HTML widget whose value is set to the whole text on every delta."""
    import ipywidgets
    from IPython.display import display

    widget = ipywidgets.HTML()
    display(widget)
    text = ""
    for delta in deltas:
        clock.now += step
        text += delta
        widget.value = text
    widget.close()


@dataclass(frozen=True)
class ViewResult:
    updates_per_second: float
    messages: int
    bytes: int
    by_kind: dict[str, tuple[int, int]]
    cpu: float


def measure_view(view: Callable[[FakeClock, list[str], str, float], None], answer: str, repeats: int) -> ViewResult:
    deltas = deltas_of(answer, VIEW_DELTAS)
    step = VIEW_SECONDS / len(deltas)
    results = []
    for _ in range(repeats + 1):  # the first run warms imports and caches
        clock = FakeClock()
        with recording_frontend(clock) as frontend:
            gc.collect()
            start = time.process_time()
            view(clock, deltas, answer, step)
            cpu = time.process_time() - start
        results.append(ViewResult(len(frontend.instants) / VIEW_SECONDS, frontend.messages, frontend.bytes,
                                  frontend.by_kind, cpu))
    return min(results[1:], key=lambda result: result.cpu)


def one_line_answer(chars: int) -> str:
    """Prose with no line break at all, with the inline marks a real answer has."""
    words = ("the median of `amount` resists outliers while the **mean** does not, so compare both "
             "before you trust a [summary](https://example.com/stats) of the sales").split()
    return " ".join(itertools.islice(itertools.cycle(words), chars // 6))[:chars]


def compare_views(title: str, answer: str, settings: Settings) -> tuple[ViewResult, ViewResult]:
    """Ours and the naive view on `answer`, printed."""
    tokens = len(answer) / 4
    heading(f"4. Live widget view: {title}, {len(answer):,} chars (~{tokens:,.0f} tokens) in {VIEW_DELTAS:,} "
            f"deltas over {VIEW_SECONDS:.0f} s on a fake clock (fastest of {settings.view_repeats})")
    ours = measure_view(widget_view, answer, settings.view_repeats)
    naive = measure_view(naive_view, answer, settings.view_repeats)
    answer_bytes = len(answer.encode())
    for name, result in (("WidgetView", ours), ("naive HTML", naive)):
        print(f"{name:>10}: {result.updates_per_second:.1f} updates/s, {result.messages:,} messages, "
              f"{kib(result.bytes)} ({result.bytes / answer_bytes:.1f}x the answer), CPU {ms(result.cpu)}")
        print(" " * 12 + "; ".join(f"{kind} {count:,} = {total / answer_bytes:.1f}x"
                                   for kind, (count, total) in sorted(result.by_kind.items())))
    return ours, naive


def view_cost_rows(label: str, answer: str, ours: ViewResult, naive: ViewResult) -> list[Row]:
    answer_bytes = len(answer.encode())
    per_1k = 1000 / (len(answer) / 4)
    return [
        Row(f"4 {label}bytes / answer bytes", f"{ours.bytes / answer_bytes:.1f}x ({kib(ours.bytes)})",
            f"{naive.bytes / answer_bytes:.0f}x ({kib(naive.bytes)})", ratio(ours.bytes, naive.bytes),
            f"<= {VIEW_BYTES_MULTIPLE}x answer", ours.bytes <= VIEW_BYTES_MULTIPLE * answer_bytes),
        Row(f"4 {label}CPU per 1k tokens", ms(ours.cpu * per_1k), ms(naive.cpu * per_1k), ratio(ours.cpu, naive.cpu),
            f"< {ms(VIEW_CPU_PER_1K_TOKENS)}", ours.cpu * per_1k < VIEW_CPU_PER_1K_TOKENS),
    ]


def bench_view(settings: Settings) -> list[Row]:
    from IPython.core.interactiveshell import InteractiveShell

    InteractiveShell.instance()  # display() publishes through the shell, as in a kernel
    answer = markdown_answer(VIEW_CHARS)
    ours, naive = compare_views("paragraphs", answer, settings)
    line = one_line_answer(ONE_LINE_CHARS)
    line_ours, line_naive = compare_views("one line", line, settings)
    return [
        Row("4 view updates per second", f"{ours.updates_per_second:.1f}/s", f"{naive.updates_per_second:.1f}/s",
            ratio(ours.updates_per_second, naive.updates_per_second), f"<= {VIEW_UPDATES_PER_SECOND:.0f}/s",
            ours.updates_per_second <= VIEW_UPDATES_PER_SECOND),
        Row("4 view messages sent", f"{ours.messages:,}", f"{naive.messages:,}", ratio(ours.messages, naive.messages),
            "(reported)", True),
        *view_cost_rows("view ", answer, ours, naive),
        *view_cost_rows("one-line view ", line, line_ours, line_naive),
    ]


# ---------------------------------------------------------------------------------------------
# 5. Context


def power_of_ten(count: int) -> str:
    """10^7 for 10,000,000."""
    return f"10^{len(str(count)) - 1}"


def bench_context(settings: Settings) -> list[Row]:
    import bench_context as context

    heading(f"5. Context (benchmarks/bench_context.py, fastest of {settings.context_repeats})")
    frames = context.frame_summaries(settings.context_repeats)
    context.print_frames(frames)
    figure = context.figure_capture(settings.context_repeats)
    context.print_figure(figure)
    small, large = frames[0], frames[-1]
    drift = context.token_drift(frames)
    large_rows, small_rows = power_of_ten(large.rows), power_of_ten(small.rows)
    return [
        Row(f"5 summary of {large_rows} x 10 frame", ms(large.seconds), f"{ms(small.seconds)} ({small_rows})",
            ratio(large.seconds, small.seconds), f"< {context.FRAME_SECONDS:.0f} s",
            large.seconds < context.FRAME_SECONDS),
        Row(f"5 summary tokens, {large_rows} rows", f"{large.tokens:,.0f}", f"{small.tokens:,.0f} ({small_rows})",
            f"{drift:.2f}x", f"<= {1 + context.FRAME_TOKEN_DRIFT:.2f}x", abs(drift - 1) <= context.FRAME_TOKEN_DRIFT),
        Row("5 figure 3000x2000 capture+encode", f"{ms(figure.seconds)}, {figure.tokens:,.0f} tok",
            f"{ms(figure.baseline_seconds)} (full PNG)", ratio(figure.seconds, figure.baseline_seconds),
            f"< {ms(context.FIGURE_SECONDS)}, <= {context.FIGURE_TOKENS:,} tok", context.figure_met(figure)),
    ]


# ---------------------------------------------------------------------------------------------
# 6. Prompt caching: a model of the API's billing over our real request bodies

CACHE_DOC_CHARS = 40_000
CACHE_TURNS = 12
CACHE_TARGET = 0.20
CACHE_QUESTIONS = (
    "Summarise this document in five bullet points.",
    "Which section argues most strongly for the change, and how?",
    "List every number the document cites, with its context.",
    "What are the two weakest claims?",
    "Rewrite the introduction for a general audience.",
    "Which risks does it mention but not address?",
    "Draft three questions a reviewer would ask.",
    "How does section 3 relate to section 7?",
    "What would a skeptic say about the conclusion?",
    "Give a one-paragraph abstract.",
    "Which terms need a glossary entry?",
    "Suggest a title, and explain it in one line.",
)


def cache_document() -> str:
    """A long Markdown document (no braces, so the prompt goes as typed)."""
    return markdown_answer(CACHE_DOC_CHARS, seed=3)[:CACHE_DOC_CHARS]


def cached_bodies(fake: FakeAPI) -> list[dict[str, Any]]:
    """The request bodies of 12 turns about the document, exactly as our magic sent them."""
    shell = shell_with_magic()
    bodies = []
    for turn, question in enumerate(CACHE_QUESTIONS[:CACHE_TURNS]):
        prompt = f"{cache_document()}\n\n{question}" if turn == 0 else question
        fake.script(Turn(text=markdown_answer(1_200, seed=turn)))
        with quiet():
            shell.run_cell_magic("claude", "-c cache_bench" + (" -n" if turn == 0 else ""), prompt)
        bodies.append(fake.requests[-1].json)
    return bodies


@dataclass(frozen=True)
class CacheTurn:
    """One turn's input tokens, as the model of the API's cache bills them."""

    total: int
    read: int
    written: int
    uncached: int


def prompt_tokens(body: dict[str, Any]) -> int:
    """tokens ~ characters / 4 of the tool definitions, system prompt and messages (the fake API's estimate)."""
    return estimate_tokens({key: body.get(key) for key in ("tools", "system", "messages")})


def cached_prefix(body: dict[str, Any], previous: dict[str, Any]) -> int:
    """The tokens of `previous` that `body` reads from cache. The prefix is the tool definitions, the
    system prompt, then the messages: `body` reads all of it if it starts with everything `previous`
    sent; if only tool_choice changed (which the API says affects the messages alone), the tools and
    the system prompt; nothing if the model, tools or system prompt changed."""
    if any(body.get(key) != previous.get(key) for key in ("model", "tools", "system", "cache_control")):
        return 0
    if body.get("tool_choice") != previous.get("tool_choice"):
        return prompt_tokens({"tools": body.get("tools"), "system": body.get("system"), "messages": []})
    count = len(previous["messages"])
    return prompt_tokens(previous) if body["messages"][:count] == previous["messages"] else 0


def cache_model(bodies: list[dict[str, Any]]) -> list[CacheTurn]:
    """The model: with automatic (top-level) cache_control the breakpoint is the end of the request,
    so each turn writes its whole prompt; the next turn reads that prefix if it starts with it and
    writes only its new suffix. Without cache_control nothing is cached."""
    turns, previous = [], None
    for body in bodies:
        total = prompt_tokens(body)
        if body.get("cache_control") is None:
            turns.append(CacheTurn(total, 0, 0, total))
        else:
            read = cached_prefix(body, previous) if previous is not None else 0
            turns.append(CacheTurn(total, read, total - read, 0))
        previous = body
    return turns


def bench_cache(fake: FakeAPI) -> list[Row]:
    from claude_magic.pricing import Usage, cost, price_for

    heading(f"6. Prompt caching over {CACHE_TURNS} turns about a {CACHE_DOC_CHARS:,}-char document")
    print("A MODEL of the API's caching, not a measurement: the fake server does not cache. The request bodies\n"
          "are the real ones our client sent; tokens ~ chars/4; turn k reads the prefix turn k-1 wrote (if the\n"
          "body starts with it) and writes the rest at 1.25x; reads at 0.1x; all within the 5-minute lifetime.\n"
          "Input tokens only: output is billed the same either way.")
    bodies = cached_bodies(fake)
    fake.requests.clear()
    price = price_for(bodies[0]["model"])
    turns = cache_model(bodies)
    print(f"{'turn':>4}  {'input tok':>9}  {'read':>7}  {'written':>7}  {'cached $':>9}  {'uncached $':>10}")
    cached_cost = uncached_cost = 0.0
    for k, turn in enumerate(turns, start=1):
        with_cache = cost(Usage(input_tokens=turn.uncached, cache_read_tokens=turn.read,
                                cache_write_5m_tokens=turn.written), price)
        without = cost(Usage(input_tokens=turn.total), price)
        print(f"{k:>4}  {turn.total:>9,}  {turn.read:>7,}  {turn.written:>7,}  {with_cache:>9.4f}  {without:>10.4f}")
        if k > 1:
            cached_cost += with_cache
            uncached_cost += without
    share = cached_cost / uncached_cost
    print(f"turns 2-{CACHE_TURNS}: ${cached_cost:.4f} cached vs ${uncached_cost:.4f} uncached ({share:.0%}) "
          f"at {bodies[0]['model']} input prices")
    return [Row(f"6 cache bill, turns 2-{CACHE_TURNS} (model)", f"${cached_cost:.4f}", f"${uncached_cost:.4f}",
                f"{share:.0%}", f"<= {CACHE_TARGET:.0%}", share <= CACHE_TARGET)]


# ---------------------------------------------------------------------------------------------
# 7. Memory over many turns

# Both sides: five warm-up turns (imports, the client, first allocations) on a conversation of
# their own, then WARM_TURNS turns on the measured conversation, then the measured turns on it;
# after a full collection, the growth of the resident set, or with "traced" the growth of the
# Python heap as tracemalloc sees it (which inflates the resident set), against what the
# conversation grew by. The turns on the measured conversation before the measurement keep
# one-off costs out of it: measured from its first turn, the resident set of either side jumps
# about 1 MB in its first hundred turns and then grows at the same rate, so the ratio at 200
# turns said more about allocator arenas than about what a turn keeps.
MEMORY_PRELUDE = """
    import gc, json, os, sys, tracemalloc
    import psutil

    turns, model, traced = int(sys.argv[1]), sys.argv[2], sys.argv[3] == "traced"
    WARM_TURNS = 100
    screen, sys.stdout = sys.stdout, open(os.devnull, "w")

    def question(i):
        return f"Question {i}: what is {i} squared, in one line?"

    def deep_size(value, seen=None):
        # The bytes of a JSON-like value's own objects: dicts, lists, strings, numbers.
        seen = set() if seen is None else seen
        if id(value) in seen:
            return 0
        seen.add(id(value))
        size = sys.getsizeof(value)
        if isinstance(value, dict):
            size += sum(deep_size(key, seen) + deep_size(item, seen) for key, item in value.items())
        elif isinstance(value, list):
            size += sum(deep_size(item, seen) for item in value)
        return size

    def used():
        gc.collect()
        return tracemalloc.get_traced_memory()[0] if traced else psutil.Process().memory_info().rss

    def measure(turn, conversation):
        for i in range(5):
            turn(i, "warmup")
        for i in range(WARM_TURNS):
            turn(i, "measured")
        if traced:
            tracemalloc.start()
        history = conversation()
        size, objects = len(json.dumps(history)), deep_size(history)
        del history
        before = used()
        for i in range(WARM_TURNS, WARM_TURNS + turns):
            turn(i, "measured")
        growth = used() - before
        history = conversation()
        result = {"growth": growth, "size": len(json.dumps(history)) - size, "objects": deep_size(history) - objects}
        print(json.dumps(result), file=screen)
"""

MEMORY_MAGIC = MEMORY_PRELUDE + """
    from IPython.core.interactiveshell import InteractiveShell
    shell = InteractiveShell.instance()
    shell.run_line_magic("load_ext", "claude_magic")
    shell.run_line_magic("config", "ClaudeMagics.display = 'text'")
    shell.run_line_magic("config", "ClaudeMagics.max_retries = 0")
    conversations = shell.magics_manager.registry["ClaudeMagics"].session.conversations

    def turn(i, chat):
        shell.run_cell_magic("claude", f"-c {chat} -m {model}", question(i))

    measure(turn, lambda: conversations.get("measured").messages)
"""

MEMORY_SDK = MEMORY_PRELUDE + """
    import anthropic
    client = anthropic.Anthropic(max_retries=0)
    chats = {"warmup": [], "measured": []}

    def turn(i, chat):
        messages = chats[chat]
        messages.append({"role": "user", "content": [{"type": "text", "text": question(i)}]})
        with client.messages.stream(model=model, max_tokens=4096, messages=messages,
                                    cache_control={"type": "ephemeral"}) as stream:
            for _ in stream:
                pass
            reply = stream.get_final_message()
        messages.append({"role": "assistant", "content": [block.to_dict(mode="json") for block in reply.content]})

    measure(turn, lambda: chats["measured"])
"""

# Growth bounded by the conversation's own size: what the Python heap gains over the turns, against
# the conversation's own objects (its JSON text is five times smaller than Python's dicts of it).
MEMORY_TARGET = 1.25
MEMORY_VS_SDK = 1.5  # and not much above what the SDK alone grows by, keeping the same history


def bench_memory(fake: FakeAPI, settings: Settings) -> list[Row]:
    turns = settings.memory_turns
    heading(f"7. Resident memory over {turns} turns, after 100 on the same conversation (fresh processes, zero-delay fake, echo answers)")
    ours = run_fresh(MEMORY_MAGIC, str(turns), MODEL, "rss")
    sdk = run_fresh(MEMORY_SDK, str(turns), MODEL, "rss")
    traced = run_fresh(MEMORY_MAGIC, str(turns), MODEL, "traced")
    fake.requests.clear()  # the fake keeps every body it received; not ours to measure
    growth, size = ours["growth"], ours["size"]
    print(f"%%claude: RSS growth {kib(growth)}; its conversation as JSON {kib(size)} ({growth / size:.1f}x)")
    print(f"raw SDK loop keeping the same history: RSS growth {kib(sdk['growth'])} "
          f"(conversation {kib(sdk['size'])})")
    heap, objects = traced["growth"], traced["objects"]
    print(f"%%claude, Python heap only (tracemalloc, a separate run): {kib(heap)}; the conversation's own "
          f"dicts, lists and strings {kib(objects)} ({objects / size:.1f}x its JSON)")
    return [
        Row(f"7 heap growth / conversation, {turns} turns", kib(heap), f"{kib(objects)} (objects)", ratio(heap, objects),
            f"<= {MEMORY_TARGET}x conversation", heap <= MEMORY_TARGET * objects),
        Row(f"7 RSS growth vs raw SDK loop, {turns} turns", kib(growth), kib(sdk["growth"]),
            ratio(growth, sdk["growth"]), f"<= {MEMORY_VS_SDK}x SDK", growth <= MEMORY_VS_SDK * sdk["growth"]),
    ]


# ---------------------------------------------------------------------------------------------
# 8. A map job: live and batch engines against a sequential SDK loop (bench_map.py)


def bench_map(settings: Settings) -> list[Row]:
    import bench_map as mapping

    heading(f"8. Map a DataFrame (benchmarks/bench_map.py, {settings.map_rows} rows, given per 1,000)")
    figures = mapping.measure(settings.map_rows)
    mapping.print_figures(figures)
    per = figures.per_1k

    def wall(name: str, ours: Any, loop: Any, target: float) -> Row:
        return Row(f"8 map wall / 1k rows, {name}", f"{per(ours.seconds):,.2f} s", f"{per(loop.seconds):,.2f} s (loop)",
                   ratio(ours.seconds, loop.seconds), f"<= {target:.2f}x", ours.seconds <= target * loop.seconds)

    def dollars(name: str, ours: Any, loop: Any, target: float) -> Row:
        return Row(f"8 map $ / 1k rows, {name}", f"${per(ours.dollars):.4f}", f"${per(loop.dollars):.4f} (loop)",
                   ratio(ours.dollars, loop.dollars), f"<= {target:.2f}x", ours.dollars <= target * loop.dollars)

    return [
        wall("live", figures.live, figures.loop, mapping.LIVE_WALL),
        wall("live, distinct rows", figures.distinct_live, figures.distinct_loop, mapping.DISTINCT_WALL),
        wall("batch (client side)", figures.batch, figures.loop, mapping.BATCH_WALL),
        dollars("live", figures.live, figures.loop, mapping.LIVE_DOLLARS),
        dollars("batch", figures.batch, figures.loop, mapping.BATCH_DOLLARS),
    ]


# 9. Documents

DOC_PADDING = 2 * 1024 * 1024  # a 2 MB PDF: over the Files API threshold
DOC_BYTES_TARGET = 0.01  # a later turn sends under 1% of what re-sending the PDF inline would
DOC_TURN_TARGET = 0.005  # with a 100-page PDF in the history, a warm turn costs under 5 ms above the SDK


def doc_turn(shell: Any, fake: FakeAPI, options: str, prompt: str) -> tuple[dict[str, Any], float]:
    """One turn: the request that went to the model, and the turn's wall time."""
    fake.script(Turn(text="Noted."))
    with quiet(), timing() as result:
        shell.run_cell_magic("claude", options, prompt)
    return next(r.json for r in reversed(fake.requests) if r.path == "/v1/messages"), result[0].wall


def sdk_stream(client: Any, fake: FakeAPI, body: dict[str, Any]) -> float:
    """The same request through the SDK alone."""
    fake.script(Turn(text="Noted."))
    request = {key: value for key, value in body.items() if key != "stream"}
    with timing() as result, client.messages.stream(**request) as stream:
        for _ in stream:
            pass
    return result[0].wall


def bench_documents(fake: FakeAPI, settings: Settings) -> list[Row]:
    import anthropic
    from pdfs import make_pdf

    heading("9. Documents: a 2 MB PDF over the Files API; a warm turn with a 100-page PDF in the history")
    shell = shell_with_magic()
    with tempfile.TemporaryDirectory(prefix="claude-magic-bench-docs-") as folder:
        large = make_pdf(Path(folder) / "large.pdf", pages=2, padding=DOC_PADDING)
        pages = make_pdf(Path(folder) / "pages.pdf", pages=100)
        doc_turn(shell, fake, f"-c docs_large -n -d {large}", "read this")
        later = len(json.dumps(doc_turn(shell, fake, "-c docs_large", "and then?")[0]))
        size = len(large.read_bytes())
        doc_turn(shell, fake, f"-c docs_pages -n -d {pages}", "read this")
        ours, sdk = [], []
        with anthropic.Anthropic(max_retries=0) as client:
            for i in range(settings.steady_turns):
                body, wall = doc_turn(shell, fake, "-c docs_pages", f"question {i}")
                ours.append(wall)
                sdk.append(sdk_stream(client, fake, body))
    fake.requests.clear()
    inline, with_pdf, baseline = size * 4 // 3, min(ours), min(sdk)
    print(f"turn 2 with a {kib(size)} PDF in the history: {kib(later)} sent (the PDF inline: {kib(inline)})")
    print(f"warm turn with a 100-page PDF in the history: {ms(with_pdf)}; the SDK sending the same request: "
          f"{ms(baseline)} (fastest of {settings.steady_turns}; history grows by a turn each time)")
    return [
        Row("9 request bytes, turn 2, 2 MB PDF", kib(later), f"{kib(inline)} (inline)", f"{later / inline:.2%}",
            f"< {DOC_BYTES_TARGET:.0%} of inline", later < DOC_BYTES_TARGET * inline),
        Row("9 turn overhead, 100-page PDF in history", ms(with_pdf), ms(baseline), f"{(with_pdf - baseline) * 1000:+.1f} ms",
            f"+ < {ms(DOC_TURN_TARGET)}", with_pdf - baseline < DOC_TURN_TARGET),
    ]


# 10. Tool steps (bench_tools.py)


def bench_tools(fake: FakeAPI, settings: Settings) -> list[Row]:
    import bench_tools as tools

    return tools.bench_tools(fake, settings.steady_turns)


# ---------------------------------------------------------------------------------------------
# The run


def guarded(name: str, bench: Callable[[], list[Row]]) -> list[Row]:
    """A figure that fails prints its error and a MISSED row; the others still run."""
    try:
        return bench()
    except Exception as error:  # the benchmark must always finish
        traceback.print_exc()
        return [Row(name, f"error: {type(error).__name__}", "", "", "runs", False)]


def print_table(rows: list[Row]) -> None:
    header = ("figure", "ours", "baseline", "ratio", "target", "")
    cells = [header, *[(r.figure, r.ours, r.baseline, r.ratio, r.target, "ok" if r.ok else "MISSED") for r in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    lines = [" | ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() for row in cells]
    lines.insert(1, "-+-".join("-" * width for width in widths))
    print("\n" + "\n".join(lines))


def run(settings: Settings) -> list[Row]:
    rows: dict[int, list[Row]] = {}
    with bench_environment():
        rows[1] = guarded("1 load_ext", lambda: bench_load(settings))
        rows[4] = guarded("4 live view", lambda: bench_view(settings))  # before the server's threads exist
        with fake_api() as fake:
            rows[2] = guarded("2 first answer", lambda: bench_first_text(fake, settings))
            rows[3] = guarded("3 steady state", lambda: bench_steady(fake, settings))
            rows[6] = guarded("6 caching", lambda: bench_cache(fake))
            rows[7] = guarded("7 memory", lambda: bench_memory(fake, settings))
            rows[9] = guarded("9 documents", lambda: bench_documents(fake, settings))
            rows[10] = guarded("10 tool steps", lambda: bench_tools(fake, settings))
        rows[8] = guarded("8 map", lambda: bench_map(settings))  # its own fake, with a latency
        rows[5] = guarded("5 context", lambda: bench_context(settings))  # last: its large frames stay in the heap
    return [row for figure in sorted(rows) for row in rows[figure]]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions: under a minute")
    args = parser.parse_args(argv)
    settings = QUICK if args.quick else FULL
    print(f"claude_magic benchmarks ({'quick' if args.quick else 'full'}): Python {platform.python_version()}, "
          f"{os.cpu_count()} CPUs, {platform.platform()}")
    started = time.perf_counter()
    rows = run(settings)
    print_table(rows)
    missed = sum(not row.ok for row in rows)
    print(f"\n{len(rows) - missed} ok, {missed} MISSED, in {time.perf_counter() - started:.0f} s. "
          "Ratios hold on a noisy machine; absolute times do not.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
