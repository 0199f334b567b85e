"""Interrupting a real kernel mid-stream: the stream stops at once, one line says so, nothing is kept.

The magic tests interrupt from inside the process; this sends the kernel a real SIGINT through
jupyter_client while the fake API is still streaming, as the notebook's stop button does.
"""

from __future__ import annotations

import os

import pytest
from fakeapi import FakeAPI, Turn
from jupyter_client.manager import start_new_kernel

DEADLINE = 30.0


@pytest.fixture
def kernel(fake_api: FakeAPI):
    env = {key: value for key, value in os.environ.items() if key != "CLAUDE_MAGIC_FIXTURE_MODE"}
    env.update(ANTHROPIC_BASE_URL=fake_api.base_url, ANTHROPIC_API_KEY="sk-ant-test-interrupt-key")
    manager, client = start_new_kernel(kernel_name="python3", env=env)
    try:
        client.execute_interactive("%load_ext claude_magic\n%config ClaudeMagics.display = 'text'", timeout=DEADLINE)
        yield manager, client
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)


def shown_until(client, msg_id: str, *, idle: bool) -> str:
    """The answer text the cell printed, read from iopub until its first piece (or until the cell
    went idle); every read is bounded by DEADLINE."""
    shown = ""
    while True:
        message = client.get_iopub_msg(timeout=DEADLINE)
        if message["parent_header"].get("msg_id") != msg_id:
            continue
        if message["msg_type"] == "stream" and message["content"]["name"] == "stdout":
            shown += message["content"]["text"]
            if not idle:
                return shown
        if message["msg_type"] == "status" and message["content"]["execution_state"] == "idle":
            return shown


def test_a_kernel_interrupt_stops_the_stream_and_keeps_nothing(kernel, fake_api):
    manager, client = kernel
    story = "Once upon a time " * 200  # 425 deltas, 20 ms apart: about 8 s of streaming
    fake_api.script(Turn(text=story, delay=0.02), Turn(text="Fresh answer."))
    msg_id = client.execute("%%claude\ntell me a long story")
    shown = shown_until(client, msg_id, idle=False)
    manager.interrupt_kernel()
    shown += shown_until(client, msg_id, idle=True)
    reply = client.get_shell_msg(timeout=DEADLINE)

    assert reply["content"]["status"] == "error"
    assert reply["content"]["ename"] == "ClaudeError"
    assert "Interrupted" in reply["content"]["evalue"] and len(reply["content"]["traceback"]) == 1
    answer = shown.split("\nclaude-opus-5-5 · incomplete")[0]
    assert answer and story.startswith(answer) and len(answer) < len(story) / 2  # stopped, far from the end
    assert "· incomplete" in shown and "Interrupted" not in shown  # the partial stays, marked; the error says why, once

    second = client.execute_interactive("%%claude\nand now?", timeout=DEADLINE)
    assert second["content"]["status"] == "ok"
    assert [m["role"] for m in fake_api.requests[-1].json["messages"]] == ["user"]
