"""Shared pytest fixtures for the claude_magic test suite."""

from __future__ import annotations

import pytest


@pytest.fixture
def fake_api():
    """A started :class:`tests.fakeapi.FakeAPI` on 127.0.0.1, stopped after the test.

    Point the real SDK at it: ``anthropic.Anthropic(api_key="sk-ant-test",
    base_url=fake_api.base_url, max_retries=0)``.
    """
    from fakeapi import FakeAPI  # tests/ is on sys.path (rootdir-relative, no __init__.py)

    server = FakeAPI()
    server.start()
    try:
        yield server
    finally:
        server.stop()
