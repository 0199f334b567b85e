"""One turn at a time in a conversation, whatever thread asks.

Two turns of one conversation at once (two threads, `asyncio.gather` over `to_thread`) would each
send the history without the other and both commit, so the history would claim an order that never
happened. `TurnLocks.exclusive(chat)` holds a conversation from preparing a turn to its commit: a
second turn waits, says so, and is then prepared on the history the first left.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from .errors import ClaudeError

__all__ = ["TurnLocks"]

Notify = Callable[[str], None]


class TurnLocks:
    """A lock per conversation name (`default` names the unnamed one)."""

    def __init__(self, default: str) -> None:
        self._default = default
        self._locks: dict[str, _TurnLock] = {}
        self._guard = threading.Lock()

    @contextmanager
    def exclusive(self, chat: str | None, notify: Notify) -> Iterator[None]:
        name = chat or self._default
        with self._guard:
            lock = self._locks.setdefault(name, _TurnLock())
        with lock.held(name, notify):
            yield


class _TurnLock:
    """A conversation's turn lock, which knows its holder: a turn that starts a turn of the same
    conversation from inside itself (code run by a tool, say) would wait for itself forever."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._holder: int | None = None

    @contextmanager
    def held(self, name: str, notify: Notify) -> Iterator[None]:
        if self._holder == threading.get_ident():
            raise ClaudeError(f"A turn of conversation {name!r} is already running here; ask this one with -c and another name.")
        if not self._lock.acquire(blocking=False):
            notify(f"waiting for the turn running in conversation {name!r} to finish.")
            self._lock.acquire()
        self._holder = threading.get_ident()
        try:
            yield
        finally:
            self._holder = None
            self._lock.release()
