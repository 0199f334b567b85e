"""How kernels saving into one folder take turns: one at a time reads, merges and writes a fixture.

Where there is `flock` (POSIX) the lock is on the folder itself, so nothing is left beside the
fixture and a kernel that dies mid-save releases it with its descriptor. Where there is none
(Windows) a lock file made with `O_EXCL` stands in, removed when the save ends; one left by a kernel
that died mid-save is waited on for `WAIT_SECONDS`, then the save fails in one line naming it.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None  # type: ignore[assignment]

__all__ = ["saving", "LOCK_FILE", "WAIT_SECONDS"]

LOCK_FILE = ".claude_magic-saving.lock"
# A save takes milliseconds; a lock file older than a wait this long was left by a kernel that died.
WAIT_SECONDS = 10.0
_POLL_SECONDS = 0.01


@contextmanager
def saving(folder: Path) -> Iterator[None]:
    """Holds the folder's save lock while the block runs."""
    if fcntl is None:
        with _lock_file(folder / LOCK_FILE):
            yield
        return
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        yield
    finally:
        os.close(descriptor)  # closing the descriptor releases the lock


@contextmanager
def _lock_file(path: Path) -> Iterator[None]:
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        try:
            descriptor = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
            break
        except FileExistsError:
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"{path} has been there for over {WAIT_SECONDS:.0f} s: a kernel stopped while saving. "
                    "Delete it if no kernel is recording."
                ) from None
            time.sleep(_POLL_SECONDS)  # another kernel is saving: a save takes milliseconds
    try:
        yield
    finally:
        os.close(descriptor)  # closed before it is removed, as Windows requires
        path.unlink(missing_ok=True)
