"""Figure 8 of `benchmarks/bench.py`: what a tool step of `%%claude -k` costs, and what it reads from cache.

Overhead: a `%%claude -k` turn in which Claude calls `list_variables` STEPS times before it answers,
against the same loop written directly on the SDK (stream, append the reply, answer each call with
the same listing, ready-made, stream again, until the answer), both against the zero-delay fake; and
the same two with no tool step. So ours pays for making the listing, and the raw loop does not. The overhead per step is what ours adds to a step beyond the raw loop,
the turn's fixed overhead taken out: ((ours - raw) with STEPS steps - (ours - raw) with none) / STEPS.

Cache: the request bodies of such a turn and of the plain turn that follows, as our client really
sends them, through figure 6's model of the API's cache: the tool definitions are the same in every
body, so each request reads the previous one's whole prompt from cache and writes only what is new.
Run it through `python benchmarks/bench.py` (it reuses that module's helpers).
"""

from __future__ import annotations

import itertools
from functools import partial
from typing import Any

import bench
from bench import MAX_TOKENS, MODEL, Row, Timing, fastest, ms, quiet, shell_with_magic, timing
from fakeapi import FakeAPI, Turn

STEPS = 5
STEP_TARGET_SECONDS = 0.003  # what a tool step may add beyond the raw loop's
TURN_TARGET_SECONDS = 0.005  # as figure 3: a -k turn with no call, above the raw SDK's
CACHE_READ_TARGET = 0.80  # of the prompt of the turn's later requests, read from cache
WARMUP = 2
QUESTION = "Which of my variables has missing values? Look before you answer."
ANSWER = bench.markdown_answer(600, seed=2)
CALL = {"name": "list_variables", "input": {}}

_CHATS = itertools.count()


def namespace() -> dict[str, Any]:
    """A notebook's worth of variables: a frame, an array, a few scalars and lists."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(0)
    return {
        "frame": pd.DataFrame(rng.normal(size=(1_000, 6)), columns=list("abcdef")),
        "values": rng.normal(size=500), "names": [f"n{i}" for i in range(50)], "rate": 0.25, "label": "sales",
    }


def script(fake: FakeAPI, steps: int) -> None:
    fake.script(*[Turn(tool_uses=[CALL]) for _ in range(steps)], Turn(text=ANSWER))


def magic_turn(shell: Any, fake: FakeAPI, steps: int) -> Timing:
    """One `%%claude -k` turn on a fresh conversation, Claude calling `steps` tools first."""
    script(fake, steps)
    with quiet(), timing() as result:
        shell.run_cell_magic("claude", f"-k -c tools_{next(_CHATS)}", QUESTION)
    return result[0]


def listing(names: dict[str, Any]) -> str:
    """What `list_variables` answers on `names`: the raw loop sends the same bytes."""
    from claude_magic.cells import CellLog
    from claude_magic.kernel_tools import KernelTools

    return KernelTools(names, CellLog()).list_variables().content[0]["text"]


def sdk_turn(client: Any, fake: FakeAPI, answer: str, tools: list[dict[str, Any]], steps: int) -> Timing:
    """The same turn as a loop on the SDK alone: stream, answer the calls, stream again."""
    script(fake, steps)
    messages: list[dict[str, Any]] = [bench.user_turn(QUESTION)]
    request = {"model": MODEL, "max_tokens": MAX_TOKENS, "tools": tools, "cache_control": {"type": "ephemeral"}}
    with timing() as result:
        while True:
            with client.messages.stream(**request, messages=messages) as stream:
                for _ in stream:
                    pass
                message = stream.get_final_message()
            if message.stop_reason != "tool_use":
                break
            messages.append({"role": "assistant", "content": [block.to_dict(mode="json") for block in message.content]})
            results = [{"type": "tool_result", "tool_use_id": block.id, "content": [{"type": "text", "text": answer}]}
                       for block in message.content if block.type == "tool_use"]
            messages.append({"role": "user", "content": results})
    return result[0]


def overheads(fake: FakeAPI, repeats: int) -> dict[int, tuple[Timing, Timing]]:
    """(ours, raw) fastest of `repeats`, interleaved, for 0 and STEPS tool steps."""
    import anthropic

    from claude_magic.kernel_tools import definitions

    shell = shell_with_magic()
    shell.user_ns.update(namespace())
    answer = listing(shell.user_ns)
    found: dict[int, tuple[Timing, Timing]] = {}
    with anthropic.Anthropic(max_retries=0) as client:
        for steps in (0, STEPS):
            ours: list[Timing] = []
            raw: list[Timing] = []
            sides = [(ours, partial(magic_turn, shell, fake, steps)),
                     (raw, partial(sdk_turn, client, fake, answer, definitions(run=False), steps))]
            for i in range(WARMUP + repeats):
                for timings, turn in sides if i % 2 else reversed(sides):
                    timings.append(turn())
            found[steps] = fastest(ours[WARMUP:]), fastest(raw[WARMUP:])
    fake.requests.clear()
    return found


def cache_reads(fake: FakeAPI) -> tuple[float, float, float, bool]:
    """Figure 6's cache model over a STEPS-step -k turn and the plain turn after it: (share of the
    later requests' prompt read from cache, cached $, uncached $, tools the same in every body)."""
    from claude_magic.pricing import Usage, cost, price_for

    shell = shell_with_magic()
    shell.user_ns.update(namespace())
    fake.requests.clear()
    script(fake, STEPS)
    fake.script(Turn(text=ANSWER))
    with quiet():
        shell.run_cell_magic("claude", "-k -n -c tools_cache", QUESTION)
        shell.run_cell_magic("claude", "-c tools_cache", "And which has the most rows?")
    bodies = [request.json for request in fake.requests]
    fake.requests.clear()
    turns = bench.cache_model(bodies)[1:]
    price = price_for(MODEL)
    cached = sum(cost(Usage(input_tokens=t.uncached, cache_read_tokens=t.read, cache_write_5m_tokens=t.written), price)
                 for t in turns)
    uncached = sum(cost(Usage(input_tokens=t.total), price) for t in turns)
    same_tools = all(body["tools"] == bodies[0]["tools"] for body in bodies)
    return sum(t.read for t in turns) / sum(t.total for t in turns), cached, uncached, same_tools


def bench_tools(fake: FakeAPI, repeats: int) -> list[Row]:
    bench.heading(f"10. Tool steps: a %%claude -k turn with {STEPS} list_variables calls against the same loop on "
                  f"the SDK (fastest of {repeats} per side, interleaved)")
    found = overheads(fake, repeats)
    (ours0, raw0), (ours, raw) = found[0], found[STEPS]
    turn = ours0.wall - raw0.wall
    step = ((ours.wall - raw.wall) - turn) / STEPS
    print(f"no tool step: %%claude -k {ms(ours0.wall)}, SDK {ms(raw0.wall)}; {STEPS} steps: %%claude -k "
          f"{ms(ours.wall)}, SDK loop {ms(raw.wall)}; per step beyond the turn's own overhead: {ms(step)} "
          f"({ms(((ours.cpu - raw.cpu) - (ours0.cpu - raw0.cpu)) / STEPS)} CPU)")
    share, cached, uncached, same_tools = cache_reads(fake)
    print(f"cache model over the turn's requests 2-{STEPS + 1} and the next turn: {share:.0%} of their prompt read "
          f"from cache; ${cached:.4f} cached vs ${uncached:.4f} uncached; tool definitions identical in every body: "
          f"{'yes' if same_tools else 'NO'}")
    return [
        Row("10 -k turn overhead, no tool call", ms(ours0.wall), ms(raw0.wall), f"{turn * 1000:+.1f} ms",
            f"+ < {ms(TURN_TARGET_SECONDS)}", turn < TURN_TARGET_SECONDS),
        Row(f"10 overhead per tool step ({STEPS} steps)", ms(ours.wall), f"{ms(raw.wall)} (SDK loop)",
            f"{step * 1000:+.1f} ms/step", f"+ < {ms(STEP_TARGET_SECONDS)}", step < STEP_TARGET_SECONDS),
        Row("10 cache reads, tool steps (model)", f"{share:.0%} read, ${cached:.4f}", f"${uncached:.4f} uncached",
            f"{cached / uncached:.0%}", f">= {CACHE_READ_TARGET:.0%} read", share >= CACHE_READ_TARGET and same_tools),
    ]
