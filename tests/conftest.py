"""Shared pytest fixtures for the claude_magic test suite."""

from __future__ import annotations

import pytest


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
