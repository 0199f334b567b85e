"""Interrupting a real kernel mid-stream: the stream stops at once, one line says so, nothing is kept.

The magic tests interrupt from inside the process; this sends the kernel a real SIGINT through
jupyter_client while the fake API is still streaming, as the notebook's stop button does.
"""

from __future__ import annotations

import os
import time

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


def wait_for_answer_text(client, msg_id: str) -> str:
    """Read iopub until the answer starts to arrive (bounded by DEADLINE)."""
    deadline = time.monotonic() + DEADLINE
    while time.monotonic() < deadline:
        message = client.get_iopub_msg(timeout=DEADLINE)
        if message["parent_header"].get("msg_id") == msg_id and message["msg_type"] == "stream":
            return message["content"]["text"]
    raise AssertionError("the answer never started streaming")


def test_a_kernel_interrupt_stops_the_stream_and_keeps_nothing(kernel, fake_api):
    manager, client = kernel
    fake_api.script(Turn(text="Once upon a time " * 200, delay=0.02), Turn(text="Fresh answer."))
    msg_id = client.execute("%%claude\ntell me a long story")
    wait_for_answer_text(client, msg_id)
    interrupted_at = time.monotonic()
    manager.interrupt_kernel()
    reply = client.get_shell_msg(timeout=DEADLINE)
    stopped_after = time.monotonic() - interrupted_at

    assert reply["content"]["status"] == "error"
    assert reply["content"]["ename"] == "ClaudeError"
    assert "Interrupted" in reply["content"]["evalue"] and len(reply["content"]["traceback"]) == 1
    assert stopped_after < 2.0  # the story had ~3,400 characters, 8 a delta, 20 ms apart: 8 s left

    second = client.execute_interactive("%%claude\nand now?", timeout=DEADLINE)
    assert second["content"]["status"] == "ok"
    assert [m["role"] for m in fake_api.requests[-1].json["messages"]] == ["user"]
