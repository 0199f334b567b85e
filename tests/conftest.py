"""Shared pytest fixtures for the claude_magic test suite.

No test may reach the real API: the key is removed from the environment and fixtures are forced into
strict replay, for this process and for the notebook kernels nbval starts from it.
"""

from __future__ import annotations

import os

import pytest

os.environ.pop("ANTHROPIC_API_KEY", None)
os.environ.pop("ANTHROPIC_AUTH_TOKEN", None)
os.environ["CLAUDE_MAGIC_FIXTURE_MODE"] = "replay"

TEST_KEY = "sk-ant-test-key-0123456789abcdef"


@pytest.fixture
def fake_api():
    """A started ``FakeAPI`` (tests/fakeapi.py) on 127.0.0.1, stopped after the test.

    Point the real SDK at it: ``anthropic.Anthropic(api_key="sk-ant-test",
    base_url=fake_api.base_url, max_retries=0)``; script replies with
    ``fake_api.script(Turn(...))`` (``from fakeapi import Turn``).
    """
    import sys
    from pathlib import Path

    here = str(Path(__file__).resolve().parent)
    if here not in sys.path:  # pytest's default import mode already adds it
        sys.path.insert(0, here)
    from fakeapi import FakeAPI

    server = FakeAPI()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def ip(fake_api, monkeypatch):
    """The real InteractiveShell with the extension loaded, talking to the fake API, text display."""
    from IPython.core.interactiveshell import InteractiveShell

    monkeypatch.setenv("ANTHROPIC_API_KEY", TEST_KEY)
    shell = InteractiveShell.instance()
    names_before = set(shell.user_ns)
    shell.run_line_magic("load_ext", "claude_magic")
    magics = shell.magics_manager.registry["ClaudeMagics"]
    magics.base_url = fake_api.base_url
    magics.display = "text"
    magics.max_retries = 0
    try:
        yield shell
    finally:
        shell.run_line_magic("unload_ext", "claude_magic")
        shell.config.pop("ClaudeMagics", None)  # %config writes here; the next test starts clean
        for name in set(shell.user_ns) - names_before:  # the shell is shared: leave no variables behind
            del shell.user_ns[name]
