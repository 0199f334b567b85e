"""The job file of a batch map: what a restarted kernel needs to collect the answers.

It is written beside the notebook (the kernel's working directory) as soon as a batch exists, and
again as each one is added: the batch ids and which prompt each custom_id is, which prompt each row
asked, the frame's index, the model, the template and its hash, the shared request settings, the
schema, and the answers already had (the live preview's). It holds no prompt text, so it stays small,
and no key. `%claude_map --resume` reads it; once the answers are delivered it is removed.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from .engines import Outcome
from .errors import ClaudeError

__all__ = ["Job", "job_path", "find_job", "FORMAT", "VERSION"]

FORMAT = "claude_magic-map-job"
VERSION = 1
PREFIX, SUFFIX = "claude_map-", ".json"


def job_path(directory: Path, name: str) -> Path:
    return directory / f"{PREFIX}{name}{SUFFIX}"


@dataclass
class Job:
    """See the module docstring. `batches` are `{"id", "custom_ids", "round"}`: round 2 retries."""

    name: str
    frame: str
    out: str | None
    model: str
    template: str
    template_sha256: str
    prompts_sha256: str
    shared: dict[str, Any]  # each request's settings but its messages: model, max_tokens, system, output_config
    schema: dict[str, Any] | None
    schema_name: str | None
    index: dict[str, Any]  # {"range": [start, stop, step]} or {"labels": [...]}
    prompt_of_row: list[int]
    prompts: int
    batches: list[dict[str, Any]] = field(default_factory=list)
    answered: dict[str, Outcome] = field(default_factory=dict)  # by custom_id: answers had before the batches

    def save(self, directory: Path) -> Path:
        """Write atomically: a kernel killed mid-write leaves the previous file, never half of one."""
        path = job_path(directory, self.name)
        document = {"format": FORMAT, "version": VERSION, **asdict(self)}
        document["answered"] = {key: outcome.to_json() for key, outcome in self.answered.items()}
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        try:
            tmp.write_text(json.dumps(document, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
            os.replace(tmp, path)
        except OSError as error:
            raise ClaudeError(f"Could not write the job file {path}: {error}. The batch runs on; its id is "
                              f"{self.batches[-1]['id'] if self.batches else 'not yet known'}.") from None
        finally:
            tmp.unlink(missing_ok=True)
        return path

    @classmethod
    def load(cls, path: Path) -> Job:
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
            if not isinstance(document, dict) or document.pop("format", None) != FORMAT or document.pop("version", None) != VERSION:
                raise ValueError(f"it is not a version-{VERSION} claude_map job file")
            document["answered"] = {key: Outcome.from_json(value) for key, value in document["answered"].items()}
            return cls(**document)
        except (OSError, ValueError, LookupError, TypeError, AttributeError) as error:
            raise ClaudeError(f"{path.name} is not a job file this version can read: {error}") from None

    @property
    def batch_ids(self) -> list[str]:
        return [batch["id"] for batch in self.batches]

    @property
    def retried(self) -> bool:
        return any(batch["round"] > 1 for batch in self.batches)


def find_job(directory: Path, name: str | None) -> Path:
    """The job file named `name`, or with no name the only (or newest) one in `directory`."""
    if name:
        path = job_path(directory, name)
        if not path.exists():
            raise ClaudeError(f"No job {name!r} here: {path.name} is not in {directory}.")
        return path
    found = sorted(directory.glob(f"{PREFIX}*{SUFFIX}"), key=lambda path: path.stat().st_mtime)
    if not found:
        raise ClaudeError(f"No claude_map job to resume in {directory}: a batch job leaves a {PREFIX}NAME{SUFFIX} file there.")
    return found[-1]
