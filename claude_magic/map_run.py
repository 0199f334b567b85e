"""A map job from plan to result: `%%claude_map`, `%claude_map --resume` and `claude_magic.map`.

`MapRun.run` decides everything it can before spending (the frame, the template, the schema, one
prompt per row with repeats merged, the engine) and shows the plan with the API's token count on a
sample; a dry run stops there. Otherwise it answers the first few prompts live as a preview, estimates
the rest from them, refuses a job whose estimate would pass the budget, and sends the rest through the
live engine or Message Batches, writing a batch job's file as soon as its first batch exists. Prompts
whose requests errored or expired are sent once more; then the answers are joined to the frame's
index, billed to the kernel's ledger (batch requests at batch prices) and shown with the rows that
failed and what it all cost. `resume` picks a batch job up from its file, in this kernel or a new one.
No IPython here: everything shown goes through a `progress.Screen`.
"""

from __future__ import annotations

import hashlib
import statistics
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import models
from .batches import MAX_BATCH_BYTES, BatchEngine
from .client import count_tokens
from .course import refuse_locked_flags
from .engines import Interrupted, Outcome, custom_id, prompt_number
from .errors import ClaudeError
from .failures import turn_failure
from .jobs import Job, find_job, job_path
from .live_engine import LiveEngine
from .map_report import (
    PlanFacts,
    dry_run_lines,
    estimate_line,
    map_footer,
    plan_report,
    preview_report,
    submitted_line,
    summary_report,
)
from .mapping import (
    MAX_REQUEST_BYTES,
    Template,
    answer_of,
    choose_engine,
    decode_index,
    encode_index,
    frame_of,
    join,
    make_plan,
    replan,
    request_bodies,
    shared_settings,
    shown,
)
from .pricing import PriceTable, Usage, format_cost
from .progress import Screen
from .reply import check_out_name
from .request import estimate_tokens
from .schema import Schema, named_schema, saved_schema
from .session import Session, limits_of
from .settings import Settings

__all__ = ["MapRun", "MapRequest", "MapResult", "PartialResult", "ENGINES", "PREVIEW", "AUTO_BATCH_FROM"]

PREVIEW = 3  # prompts answered live first: the output estimate, and a first look at the answers
SAMPLE = 3  # prompts whose input the API counts for the estimate
AUTO_BATCH_FROM = 100  # auto: Message Batches for more distinct prompts than this, live requests up to it
ENGINES = ("auto", "live", "batch")
LIVE_CHAT, BATCH_CHAT = "claude_map", "claude_map (batch)"  # their rows in %claude_usage


@dataclass(frozen=True)
class MapRequest:
    """One `%%claude_map` cell, as typed. `job` names the job file: None for -o NAME or else the
    frame's name, "" for one named by the job's digest (what `claude_magic.map` uses)."""

    frame: str
    template: str
    out: str | None = None
    schema: str | None = None
    engine: str = "auto"
    model: str | None = None
    system: str | None = None
    dry_run: bool = False
    job: str | None = None


@dataclass
class MapResult:
    value: Any  # the Series or DataFrame, with .attrs["errors"]
    errors: Any
    out: str | None


class PartialResult(ClaudeError):
    """An interrupted live job: the one-line error, and the answers it had (`result`)."""

    def __init__(self, message: str, result: MapResult) -> None:
        super().__init__(message)
        self.result = result


@dataclass
class _Job:
    """A job in this kernel: what its file keeps, and what it does not (the schema object, the bodies)."""

    file: Job
    schema: Schema | None
    requests: dict[str, dict[str, Any]]  # by custom_id; empty when resumed without the frame
    index: Any
    engine: str = "batch"
    why: str = ""
    retried: bool = False
    outcomes: dict[str, Outcome] = field(default_factory=dict)


class MapRun:
    def __init__(self, session: Session, settings: Settings, screen: Screen, directory: Path) -> None:
        self.session, self.settings, self.screen, self.directory = session, settings, screen, directory
        self.prices = PriceTable(settings.prices)

    # ------------------------------------------------------------------------------ a new job

    def run(self, ask: MapRequest, namespace: Mapping[str, Any]) -> MapResult | None:
        job = self._prepare(ask, namespace)
        path = job_path(self.directory, job.file.name)
        if path.exists() and not ask.dry_run:
            return self._earlier(path, job)
        tokens, counted = self._input_tokens(job)
        batch = job.engine == "batch"
        prompts, max_tokens = job.file.prompts, self.settings.max_tokens
        facts = PlanFacts(
            ask.frame, len(job.file.prompt_of_row), prompts, job.engine, job.why, job.file.model,
            job.schema.describe() if job.schema else "", "system" in job.file.shared, tokens, counted,
            self._cost(job, Usage(input_tokens=tokens), batch),
        )
        self.screen.show(*plan_report(facts))
        if ask.dry_run:
            bound = self._cost(job, Usage(output_tokens=max_tokens * prompts), batch)
            self.screen.show(*dry_run_lines(max_tokens, prompts, bound, PREVIEW))
            return None
        self.session.check_budget(self.settings)  # spent already, whatever this job would cost
        self._check_budget(facts.input_cost, "its input alone")
        job.outcomes = self._preview(job)
        rest = {key: body for key, body in job.requests.items() if key not in job.outcomes}
        if rest:
            self._estimate(job, rest, tokens / prompts)
            job.outcomes.update(self._batches(job, rest, 1) if batch else self._live(job, rest, "live"))
        self._retry(job)
        return self._finish(job)

    def _prepare(self, ask: MapRequest, namespace: Mapping[str, Any]) -> _Job:
        """Everything decided, and refused, before anything is sent."""
        if ask.out is not None:
            check_out_name(ask.out)
        refuse_locked_flags(ask, self.settings, models.resolve)  # -m and -s, as for %%claude
        if ask.engine not in ENGINES:
            raise ClaudeError(f"engine={ask.engine!r}: use one of {', '.join(ENGINES)}.")
        frame = frame_of(namespace, ask.frame)
        schema = named_schema(namespace, ask.schema)
        template = Template.parse(ask.template, list(frame.columns), ask.frame)
        plan = make_plan(frame, template, ask.frame, limits_of(self.settings))
        model = models.resolve(ask.model or self.settings.model)
        system = ask.system if ask.system is not None else self.settings.system
        engine, why = choose_engine(ask.engine, len(plan.prompts), AUTO_BATCH_FROM)
        ttl = "1h" if engine == "batch" else self.settings.cache_ttl
        shared = shared_settings(model, self.settings.max_tokens, system, schema, ttl)
        requests = request_bodies(plan, shared, MAX_BATCH_BYTES if engine == "batch" else MAX_REQUEST_BYTES)
        digest = plan.prompts_sha256(shared)
        name = ask.job or ask.out or (ask.frame if ask.job is None else f"map-{digest[:8]}")
        file = Job(
            name=name, frame=ask.frame, out=ask.out, model=model, template=ask.template,
            template_sha256=hashlib.sha256(ask.template.encode("utf-8")).hexdigest(), prompts_sha256=digest,
            shared=shared, schema=schema.to_json() if schema else None, schema_name=ask.schema,
            index=encode_index(plan.index), prompt_of_row=plan.prompt_of_row, prompts=len(plan.prompts),
        )
        return _Job(file, schema, requests, plan.index, engine, why)

    def _earlier(self, path: Path, job: _Job) -> MapResult:
        """A job file of the same name: this very job, sent before (collect it), or another one."""
        saved = Job.load(path)
        if saved.prompts_sha256 != job.file.prompts_sha256:
            raise ClaudeError(
                f"Another job named {saved.name!r} still has batches at the API ({path.name}): collect it with "
                f"%claude_map --resume {saved.name}, or give this one another -o NAME."
            )
        self.screen.note(f"this job was sent before ({path.name}): collecting its batches instead of sending it again.")
        job.file = saved
        return self._collect(job)

    def _input_tokens(self, job: _Job) -> tuple[int, str]:
        """The whole job's input tokens, from the API's count of a sample (or a rough estimate)."""
        sample = list(job.requests.values())[:SAMPLE]
        try:
            client = self._client()
            counts = [count_tokens(client, body) for body in sample]
            how = f"counted by the API on {len(sample)} of {job.file.prompts:,} prompts"
        except Exception as error:
            failure = turn_failure(error, model=job.file.model, prompt=job.file.template, settings=self.settings)
            if failure is None or isinstance(error, KeyboardInterrupt):
                raise
            counts, how = [estimate_tokens(body) for body in sample], f"a rough estimate: {failure}"
        return round(statistics.fmean(counts) * job.file.prompts), how

    def _preview(self, job: _Job) -> dict[str, Outcome]:
        first = dict(list(job.requests.items())[:PREVIEW])
        outcomes = self._live(job, first, "preview")
        rows = []
        for key in first:
            value, reason = answer_of(outcomes.get(key), job.schema, self.settings.max_tokens)
            rows.append((job.index[job.file.prompt_of_row.index(prompt_number(key))], reason or shown(value)))
        self.screen.show(*preview_report(rows))
        failed = [outcome for outcome in outcomes.values() if outcome.status != "succeeded"]
        if len(failed) == len(outcomes) and not any(outcome.retryable for outcome in failed):
            raise ClaudeError(f"Every request of the preview failed, so nothing more was sent: {failed[0].error}")
        return outcomes

    def _estimate(self, job: _Job, rest: dict[str, Any], input_per_prompt: float) -> None:
        answered = [outcome.usage.output_tokens for outcome in job.outcomes.values() if outcome.status == "succeeded"]
        per_prompt = round(statistics.fmean(answered)) if answered else self.settings.max_tokens
        usage = Usage(input_tokens=round(input_per_prompt * len(rest)), output_tokens=per_prompt * len(rest))
        batch = job.engine == "batch"
        cost = self._cost(job, usage, batch)
        self.screen.show(*estimate_line(len(rest), cost, batch, usage, per_prompt, self.session.ledger.total, self.settings.budget_usd))
        self._check_budget(cost, f"the other {len(rest):,} prompts")

    # --------------------------------------------------------------------------- the engines

    def _live(self, job: _Job, requests: dict[str, dict[str, Any]], label: str) -> dict[str, Outcome]:
        engine = LiveEngine(self._client(), max_retries=self.settings.max_retries, cache_ttl=self.settings.cache_ttl)
        bar = self.screen.progress(label)
        try:
            outcomes = engine.run(requests, bar.update)
        except Interrupted as stop:
            bar.close()
            self._bill(stop.outcomes)
            job.outcomes.update(stop.outcomes)
            result = self._finish(job, interrupted=True)
            answered = sum(outcome.status == "succeeded" for outcome in job.outcomes.values())
            where = f" and {job.file.out}_errors" if job.file.out else ""
            raise PartialResult(
                f"Interrupted: {answered:,} of {job.file.prompts:,} prompts answered; the answers are in "
                f"{job.file.out or 'the exception’s .result'}{where}, the rest marked 'not sent'. Re-run the cell to send them all.",
                result,
            ) from None
        except BaseException as error:
            bar.close()
            raise self._failure(error, job) from None
        bar.close()
        self._bill(outcomes)
        return outcomes

    def _batches(self, job: _Job, requests: dict[str, dict[str, Any]], round_: int) -> dict[str, Outcome]:
        """Submit `requests` as this job's `round_` of batches, the job file written as each is created."""
        job.file.answered = {key: outcome for key, outcome in job.outcomes.items() if not outcome.batch}
        engine = BatchEngine(self._client())

        def created(batch_id: str, keys: list[str]) -> None:
            job.file.batches.append({"id": batch_id, "custom_ids": keys, "round": round_})
            path = job.file.save(self.directory)
            self.screen.show(*submitted_line(batch_id, len(keys), path.name, job.file.name))

        try:
            ids = engine.submit(requests, created)
        except BaseException as error:
            if isinstance(error, KeyboardInterrupt) and job.file.batches:
                raise self._interrupted(job) from None
            raise self._failure(error, job) from None
        return self._wait_collect(job, ids, len(requests))

    def _wait_collect(self, job: _Job, ids: list[str], total: int) -> dict[str, Outcome]:
        engine = BatchEngine(self._client())
        bar = self.screen.progress("batch")
        try:
            engine.wait(ids, total, bar.update)
            outcomes = {key: outcome for batch_id in ids for key, outcome in engine.collect(batch_id).items()}
        except KeyboardInterrupt:
            raise self._interrupted(job) from None
        except Exception as error:
            raise self._failure(error, job) from None
        finally:
            bar.close()
        self._bill(outcomes)
        return outcomes

    def _retry(self, job: _Job) -> None:
        """Send once more what errored or expired for a reason a second try may not meet."""
        again = [key for key, outcome in job.outcomes.items() if outcome.status != "succeeded" and outcome.retryable]
        if not again or job.retried or job.file.retried:
            return
        job.retried = True
        bodies = {key: job.requests[key] for key in again if key in job.requests}
        if len(bodies) < len(again):
            self.screen.note(f"{job.file.frame} is not here as it was, so {len(again) - len(bodies):,} failed prompts are reported, not retried.")
        if not bodies:
            return
        self.screen.note(f"{len(bodies):,} prompt{'s' if len(bodies) != 1 else ''} errored or expired: sending {'them' if len(bodies) != 1 else 'it'} once more.")
        sent = self._batches(job, bodies, 2) if job.engine == "batch" else self._live(job, bodies, "retry")
        job.outcomes.update(sent)

    # ------------------------------------------------------------------------------- resuming

    def resume(self, name: str | None, namespace: Mapping[str, Any], out: str | None = None) -> MapResult:
        """Collect a batch job from its file; errored rows are retried if the frame is here as it was."""
        saved = Job.load(find_job(self.directory, name))
        if out is not None:
            check_out_name(out)
            saved.out = out
        schema = saved_schema(saved.schema, saved.schema_name, namespace) if saved.schema else None
        plan = replan(namespace, saved.frame, saved.template, saved.shared, saved.prompts_sha256, limits_of(self.settings))
        requests = request_bodies(plan, saved.shared, MAX_BATCH_BYTES) if plan else {}
        self.screen.note(f"resuming {saved.name}: batch{'es' if len(saved.batches) != 1 else ''} {', '.join(saved.batch_ids)}.")
        return self._collect(_Job(saved, schema, requests, plan.index if plan else decode_index(saved.index)))

    def _collect(self, job: _Job) -> MapResult:
        job.outcomes = dict(job.file.answered)
        submitted = {key for batch in job.file.batches for key in batch["custom_ids"]}
        for round_ in sorted({batch["round"] for batch in job.file.batches}):
            batches = [batch for batch in job.file.batches if batch["round"] == round_]
            total = sum(len(batch["custom_ids"]) for batch in batches)
            job.outcomes.update(self._wait_collect(job, [batch["id"] for batch in batches], total))
        job.retried = job.file.retried
        self._retry(job)
        unsent = job.file.prompts - len(submitted | set(job.file.answered))
        if unsent:
            self.screen.note(f"{unsent:,} prompts were never submitted (the cell was interrupted while sending): re-run it to send them.")
        return self._finish(job)

    # ------------------------------------------------------------------------------ the result

    def _finish(self, job: _Job, interrupted: bool = False) -> MapResult:
        file, max_tokens = job.file, self.settings.max_tokens
        answers = [answer_of(job.outcomes.get(custom_id(prompt)), job.schema, max_tokens) for prompt in range(file.prompts)]
        value, errors = join(job.index, file.prompt_of_row, answers, job.schema, file.out)
        outcomes = [outcome for _, outcome in sorted(job.outcomes.items(), key=lambda item: prompt_number(item[0]))]
        usage = sum((outcome.usage for outcome in outcomes), Usage())
        costs = [self.prices.cost(outcome.model or file.model, outcome.usage, batch=outcome.batch) for outcome in outcomes]
        cost = None if None in costs else sum(cost for cost in costs if cost is not None)
        footer = map_footer(file.model, usage, cost, sum(outcome.batch for outcome in outcomes), self.session.ledger.total)
        kind = f"DataFrame, {len(value.columns)} columns" if hasattr(value, "columns") else f"Series, {value.dtype}"
        failed = list(errors.items())
        self.screen.show(*summary_report(file.out, len(file.prompt_of_row), file.prompts, failed, kind, footer, job.retried))
        if not interrupted:
            job_path(self.directory, file.name).unlink(missing_ok=True)
        return MapResult(value, errors, file.out)

    # --------------------------------------------------------------------------------- helpers

    def _client(self) -> Any:
        return self.session.clients.get(self.session.connection(self.settings))

    def _cost(self, job: _Job, usage: Usage, batch: bool) -> float | None:
        return self.prices.cost(job.file.model, usage, batch=batch)

    def _bill(self, outcomes: Mapping[str, Outcome]) -> None:
        """Add what came back to the kernel's ledger, one line per engine and model."""
        groups: dict[tuple[bool, str], list[Outcome]] = {}
        for outcome in outcomes.values():
            if outcome.status == "succeeded":
                groups.setdefault((outcome.batch, outcome.model), []).append(outcome)
        for (batch, model), group in groups.items():
            usage = sum((outcome.usage for outcome in group), Usage())
            self.session.ledger.add(BATCH_CHAT if batch else LIVE_CHAT, model, usage, self.prices.cost(model, usage, batch=batch))

    def _check_budget(self, estimate: float | None, what: str) -> None:
        budget, spent = self.settings.budget_usd, self.session.ledger.total
        if budget and estimate is not None and spent + estimate > budget:
            raise ClaudeError(
                f"Budget: {what} would cost about {format_cost(estimate)}, which would take this kernel past its "
                f"{format_cost(budget)} (ClaudeMagics.budget_usd; {format_cost(spent)} spent). Nothing more was "
                "sent: raise the budget, or map fewer rows."
            )

    def _interrupted(self, job: _Job) -> ClaudeError:
        ids = ", ".join(job.file.batch_ids)
        return ClaudeError(
            f"Interrupted; the batches ({ids}) run on at the API. %claude_map --resume {job.file.name} collects "
            f"the answers, in this kernel or after a restart ({job_path(self.directory, job.file.name).name} holds the job)."
        )

    def _failure(self, error: BaseException, job: _Job) -> BaseException:
        if isinstance(error, KeyboardInterrupt):
            return ClaudeError("Interrupted before anything was submitted; nothing is waiting at the API.")
        return turn_failure(error, model=job.file.model, prompt=job.file.template, settings=self.settings) or error
