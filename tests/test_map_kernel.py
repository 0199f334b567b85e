"""A batch job in a real kernel: interrupted while it polls (as the stop button does), the batch runs on;
the kernel restarts, and `%claude_map --resume` collects the answers from the job file it left."""

from __future__ import annotations

import json
import os

import pytest
from fakeapi import FakeAPI
from jupyter_client.manager import start_new_kernel

DEADLINE = 60.0
SETUP = "%load_ext claude_magic\n%config ClaudeMagics.display = 'text'"


@pytest.fixture
def kernel(fake_api: FakeAPI, tmp_path):
    env = {key: value for key, value in os.environ.items() if key != "CLAUDE_MAGIC_FIXTURE_MODE"}
    env.update(ANTHROPIC_BASE_URL=fake_api.base_url, ANTHROPIC_API_KEY="sk-ant-test-map-kernel-key")
    manager, client = start_new_kernel(kernel_name="python3", env=env, cwd=str(tmp_path))
    try:
        client.execute_interactive(SETUP, timeout=DEADLINE)
        yield manager, client
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)


def displayed_until(client, msg_id: str, text: str) -> None:
    """Read the cell's outputs until one shows `text` (each read bounded by DEADLINE)."""
    while True:
        message = client.get_iopub_msg(timeout=DEADLINE)
        if message["parent_header"].get("msg_id") != msg_id:
            continue
        assert message["msg_type"] != "error", message["content"]
        if text in message["content"].get("data", {}).get("text/plain", ""):
            return


def test_an_interrupted_batch_is_collected_after_a_kernel_restart(kernel, fake_api, tmp_path):
    manager, client = kernel
    fake_api.batch_polls = 100_000  # the batch stays in progress until the test lets it end
    fake_api.batch_reply = lambda params: params["messages"][0]["content"][0]["text"].upper()
    client.execute_interactive("import pandas as pd\nreviews = pd.DataFrame({'text': [f'review {i}' for i in range(8)]})",
                               timeout=DEADLINE)
    msg_id = client.execute("%%claude_map reviews -o out --batch\nSay {text}")
    displayed_until(client, msg_id, "requests submitted")
    manager.interrupt_kernel()
    reply = client.get_shell_msg(timeout=DEADLINE)
    assert reply["content"]["status"] == "error" and reply["content"]["ename"] == "ClaudeError"
    assert "run on at the API. %claude_map --resume out collects" in reply["content"]["evalue"]
    job = json.loads((tmp_path / "claude_map-out.json").read_text())
    (batch_id,) = [batch["id"] for batch in job["batches"]]
    assert fake_api.batches.batches[batch_id].status == "in_progress"

    manager.restart_kernel(now=True)
    client.wait_for_ready(timeout=DEADLINE)
    client.execute_interactive(SETUP, timeout=DEADLINE)
    fake_api.batches.batches[batch_id].polls_left = 0  # the batch ends while no kernel is watching
    resumed = client.execute_interactive("%claude_map --resume", timeout=DEADLINE,
                                         user_expressions={"answers": "' | '.join(out)", "fresh": "'reviews' in dir()"})
    assert resumed["content"]["status"] == "ok"
    values = resumed["content"]["user_expressions"]
    assert values["fresh"]["data"]["text/plain"] == "False"  # a new kernel: the frame is gone, the job file is not
    preview = [f"Echo: Say review {i}" for i in range(3)]  # answered live, before the batch
    batched = [f"SAY REVIEW {i}" for i in range(3, 8)]
    assert values["answers"]["data"]["text/plain"] == repr(" | ".join(preview + batched))
    assert not (tmp_path / "claude_map-out.json").exists()
