"""The job file of a batch map: written whole, read back as it was, found by name or as the newest."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from claude_magic.engines import Outcome
from claude_magic.errors import ClaudeError
from claude_magic.jobs import Job, find_job, job_path
from claude_magic.pricing import Usage


def a_job(name: str = "sentiment") -> Job:
    return Job(
        name=name, frame="reviews", out=name, model="claude-opus-4-6", template="Label: {text}",
        template_sha256="ab" * 32, prompts_sha256="cd" * 32, shared={"model": "claude-opus-4-6", "max_tokens": 64},
        schema=None, schema_name=None, index={"range": [0, 3, 1], "name": None}, prompt_of_row=[0, 1, 0], prompts=2,
        batches=[{"id": "msgbatch_01", "custom_ids": ["p1"], "round": 1}],
        answered={"p0": Outcome("succeeded", "positive", "end_turn", "claude-opus-4-6", Usage(10, 2))},
    )


def test_a_job_file_reads_back_as_it_was_written(tmp_path: Path):
    job = a_job()
    path = job.save(tmp_path)
    assert path == job_path(tmp_path, "sentiment") == tmp_path / "claude_map-sentiment.json"
    assert Job.load(path) == job
    assert json.loads(path.read_text())["format"] == "claude_magic-map-job"
    assert [p.name for p in tmp_path.iterdir()] == ["claude_map-sentiment.json"]  # no temporary file left
    assert job.batch_ids == ["msgbatch_01"] and not job.retried


def test_without_a_name_the_newest_job_is_the_one(tmp_path: Path):
    older, newer = a_job("older").save(tmp_path), a_job("newer").save(tmp_path)
    os.utime(older, (1_000, 1_000))
    assert find_job(tmp_path, None) == newer and find_job(tmp_path, "older") == older


@pytest.mark.parametrize("edit", [
    lambda document: {"format": "something-else"},
    lambda document: None,
    lambda document: {**document, "answered": []},
], ids=["another format", "null", "answered a list"])
def test_a_file_that_is_no_job_is_one_line(tmp_path: Path, edit):
    path = a_job("broken").save(tmp_path)
    path.write_text(json.dumps(edit(json.loads(path.read_text()))))
    with pytest.raises(ClaudeError, match="claude_map-broken.json is not a job file this version can read"):
        Job.load(path)


def test_a_job_file_that_cannot_be_written_says_which_batch_to_look_for(tmp_path: Path):
    with pytest.raises(ClaudeError, match="Could not write the job file .*its id is msgbatch_01"):
        a_job().save(tmp_path / "missing-directory")
