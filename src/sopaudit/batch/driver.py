"""`run_batch`: a plan from start to finish: resume, run, history, index and batch.json."""

from __future__ import annotations

import datetime as dt
import os
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sopaudit.batch.index import (
    batch_document,
    render_index_html,
    write_batch_json,
    write_index_xlsx,
)
from sopaudit.batch.plan import Plan, load_plan
from sopaudit.batch.run import execute, plan_fingerprints, resumable
from sopaudit.core.outdir import remove_partials, write_staged
from sopaudit.history.store import HistoryError, append_runs, read_runs, store_url
from sopaudit.history.trend import trend_svg, trend_table


@dataclass
class BatchOutcome:
    """What a batch did: batch.json's content, and the history error if it could not be written."""

    doc: dict
    out: Path
    history_error: str | None = None

    @property
    def records(self) -> list[dict]:
        return self.doc["audits"]

    def under(self, rate: float | None) -> list[dict]:
        """The audits (not failed) whose case conformance rate is below `rate`."""
        if rate is None:
            return []
        return [r for r in self.records if r["status"] != "failed"
                and (r["metrics"].get("case_conformance_rate") or 0.0) < rate]


def run_batch(plan: str | Path | Plan, out: str | Path, *, workers: int | None = None, scheduler: str | None = None,
              resume: bool = False, history: str | None = None,
              on_start: Callable[[int, int, str], None] | None = None,
              on_done: Callable[[dict], None] | None = None) -> BatchOutcome:
    """Run every audit of `plan` into `out` (docs/batch.md); failed audits are recorded, not raised.

    `workers`: local processes (default: the cores); `scheduler`: a dask.distributed address
    instead; `resume`: skip unchanged audits with a complete report; `history`: the store's
    SQLAlchemy URL (default sqlite:///OUT/history.sqlite). `on_start(to_run, unchanged,
    executor)` and `on_done(record)` report progress."""
    plan = plan if isinstance(plan, Plan) else load_plan(plan)
    out = Path(out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    remove_partials(out)
    fingerprints = plan_fingerprints(plan.jobs)
    skipped = {}
    if resume:
        for job in plan.jobs:
            record = resumable(job, out, fingerprints[job.name])
            if record is not None:
                skipped[job.name] = record
    todo = [job for job in plan.jobs if job.name not in skipped]
    workers = workers or os.cpu_count() or 1
    n_procs = min(workers, max(len(todo), 1))
    executor = (f"dask {scheduler}" if scheduler else f"local pool, {n_procs} processes" if n_procs > 1
                else "this process")
    if on_start is not None:
        on_start(len(todo), len(skipped), executor)
    for record in skipped.values():
        if on_done is not None:
            on_done(record)
    ran = execute(todo, out, workers=workers, scheduler=scheduler, fingerprints=fingerprints, on_done=on_done)
    by_name = {**skipped, **{r["name"]: r for r in ran}}
    records = [by_name[job.name] for job in plan.jobs]
    run_at = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    doc = batch_document(plan.title, run_at, str(plan.path), executor, records)
    store = history or store_url(out / "history.sqlite")
    outcome = BatchOutcome(doc, out)
    trend = None
    try:
        append_runs(store, uuid.uuid4().hex, run_at, str(plan.path), records)
        trend = trend_svg(trend_table(read_runs(store)), plan.lang)
    except HistoryError as exc:
        outcome.history_error = str(exc)
    write_batch_json(doc, out / "batch.json")
    write_index_xlsx(doc, out / "index.xlsx", plan.lang)
    write_staged(out / "index.html", render_index_html(doc, plan.lang, trend))
    return outcome
