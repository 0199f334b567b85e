"""Kernels saving into one folder take turns: flock where there is one, a lock file where not."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

import claude_magic.save_lock
from claude_magic.save_lock import LOCK_FILE, saving


@pytest.fixture(params=["flock", "lock file"])
def lock(request, monkeypatch) -> str:
    if request.param == "lock file":
        monkeypatch.setattr(claude_magic.save_lock, "fcntl", None)
    return request.param


def test_one_save_at_a_time_and_nothing_left_behind(tmp_path: Path, lock: str) -> None:
    inside, overlaps = [0], []

    def save() -> None:
        for _ in range(50):
            with saving(tmp_path):
                inside[0] += 1
                overlaps.append(inside[0])
                inside[0] -= 1

    savers = [threading.Thread(target=save) for _ in range(4)]
    for saver in savers:
        saver.start()
    for saver in savers:
        saver.join()
    assert len(overlaps) == 200 and max(overlaps) == 1
    assert list(tmp_path.iterdir()) == []


def test_a_lock_file_a_crashed_kernel_left_fails_the_save_in_one_line_naming_it(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(claude_magic.save_lock, "fcntl", None)
    monkeypatch.setattr(claude_magic.save_lock, "WAIT_SECONDS", 0.05)
    (tmp_path / LOCK_FILE).write_text("")
    with pytest.raises(TimeoutError, match=r"\.claude_magic-saving\.lock has been there for over 0 s: a kernel stopped") as error:
        with saving(tmp_path):
            pytest.fail("the lock was taken")
    assert "\n" not in str(error.value) and "Delete it if no kernel is recording" in str(error.value)
    assert (tmp_path / LOCK_FILE).exists()  # not another kernel's to remove


def test_a_save_that_fails_still_releases_the_lock(tmp_path: Path, lock: str) -> None:
    with pytest.raises(OSError), saving(tmp_path):
        raise OSError("disk full")
    with saving(tmp_path):
        pass
    assert list(tmp_path.iterdir()) == []
