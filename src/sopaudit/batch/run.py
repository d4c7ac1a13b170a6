"""Run the audits of a plan: on a local process pool or on a dask.distributed cluster.

Each audit is `run_job(job, out)`, a plain function of plain values: it runs the single-audit
path (`sopaudit.auditing.files.audit_files`) into a temporary folder that replaces OUT/<name>
when the report is complete, and returns a record (status, error, metrics). A failing audit is
a record with its error; it never stops the others. Records come back in plan order whatever
order the workers finish in, so the batch's outputs do not depend on the executor.
"""

from __future__ import annotations

import json
import logging
import os
import platform
import resource
import time
import traceback
from collections.abc import Callable
from pathlib import Path

from sopaudit.batch.outdir import atomic_dir
from sopaudit.batch.plan import AuditJob, fingerprint
from sopaudit.core.errors import SopAuditError

logger = logging.getLogger(__name__)

ENTRY_FILE = "batch-entry.json"  # in OUT/<name>/: the fingerprint the report was made from
# The numbers of summary.json that batch.json, the index and the history carry per audit.
SUMMARY_KEYS = ("cases", "events", "variants", "finished_cases", "incomplete_cases", "conforming_cases",
                "case_conformance_rate", "fitness", "deviations", "accepted_deviations", "deviations_by_kind",
                "service_standard", "top_deviations", "period", "sop", "inputs", "rows_rejected")


def _select(job: AuditJob):
    """The plan's `filter:` as a function of the log (whole cases only), or None."""
    if not job.filter:
        return None

    def select(log):
        from sopaudit.discovery.mining import filter_log

        f = job.filter
        view = log
        attribute = f.get("attribute")
        if attribute is not None:
            if attribute not in log.columns:
                raise SopAuditError(f"{job.where}: the filter attribute '{attribute}' is not a column of the log "
                                    f"{job.log}; its columns are {', '.join(map(str, log.columns))}")
            # Plan values are text; compare the column as text so office code 12 matches '12'.
            view = log.assign(**{attribute: log[attribute].astype("string")})
        kept = filter_log(view, start=f.get("from"), end=f.get("to"), attribute=attribute, values=f.get("values"))
        if kept.empty:
            raise SopAuditError(f"{job.where}: no case of {job.log} passes the filter {f}; widen the period or "
                                "check the attribute values")
        return log.loc[kept.index]

    return select


def _peak_rss_mb() -> float:
    kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # kilobytes on Linux
    return round(kb / 1024, 1)


def summary_metrics(summary: dict) -> dict:
    return {k: summary.get(k) for k in SUMMARY_KEYS}


def run_job(job: AuditJob, out_root: str, fprint: str | None = None) -> dict:
    """Audit one plan entry into OUT/<name> (atomically); returns its batch record."""
    from sopaudit.auditing.files import audit_files

    started = time.time()
    record = {"name": job.name, "office": job.office, "status": "failed", "error": None,
              "fingerprint": fprint, "parameters": job.parameters()}
    target = Path(out_root) / job.name
    try:
        with atomic_dir(target) as tmp:
            mapping = {"case": job.case, "activity": job.activity, "time": job.time, "resource": job.resource,
                       "mapping": job.mapping, "query": job.query}
            # One process per audit: the batch runs audits side by side, not alignments.
            audit_files(job.log, job.sop, tmp, mapping, job.tz, job.lang, job.formats, job.closures,
                        job.cuti_bersama_working, select=_select(job), processes=1, accepted=job.accepted,
                        precision=job.precision, roles=job.roles, open_days=job.open_days)
            (tmp / ENTRY_FILE).write_text(json.dumps({"name": job.name, "fingerprint": fprint}, indent=2) + "\n",
                                          encoding="utf-8")
        summary = json.loads((target / "summary.json").read_text(encoding="utf-8"))
        record.update(status="ok", metrics=summary_metrics(summary))
    except SopAuditError as exc:
        record["error"] = f"{job.where}: audit '{job.name}': {exc}"
    except Exception as exc:  # a bug or an unreadable file: recorded, the batch goes on
        logger.warning("audit %s failed:\n%s", job.name, traceback.format_exc())
        record["error"] = f"{job.where}: audit '{job.name}': internal error {type(exc).__name__}: {exc}"
    record["seconds"] = round(time.time() - started, 3)
    record["worker"] = {"host": platform.node(), "pid": os.getpid(), "peak_rss_mb": _peak_rss_mb()}
    return record


def resumable(job: AuditJob, out_root: Path, fprint: str | None) -> dict | None:
    """The record of an audit `--resume` can skip: same fingerprint, complete report; else None."""
    folder = out_root / job.name
    try:
        entry = json.loads((folder / ENTRY_FILE).read_text(encoding="utf-8"))
        summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if fprint is None or entry.get("fingerprint") != fprint:
        return None
    return {"name": job.name, "office": job.office, "status": "skipped", "error": None, "fingerprint": fprint,
            "parameters": job.parameters(), "metrics": summary_metrics(summary), "seconds": 0.0, "worker": None}


def execute(jobs: list[AuditJob], out_root: Path, *, workers: int = 1, scheduler: str | None = None,
            fingerprints: dict[str, str | None] | None = None,
            on_done: Callable[[dict], None] | None = None) -> list[dict]:
    """Run `jobs` and return their records in the order of `jobs`."""
    fingerprints = fingerprints or {}
    if not jobs:
        return []
    args = [(job, str(out_root), fingerprints.get(job.name)) for job in jobs]
    runner = _on_dask if scheduler else _on_pool if workers > 1 and len(jobs) > 1 else _in_process
    records = runner(args, workers, scheduler, on_done or (lambda r: None))
    by_name = {r["name"]: r for r in records}
    return [by_name[job.name] for job in jobs]


def _lost(job: AuditJob, fprint, exc: BaseException) -> dict:
    return {"name": job.name, "office": job.office, "status": "failed", "fingerprint": fprint,
            "parameters": job.parameters(), "seconds": None, "worker": None,
            "error": f"{job.where}: audit '{job.name}': the worker running it was lost ({type(exc).__name__}: {exc})"}


def _in_process(args, workers, scheduler, on_done) -> list[dict]:
    """One worker: the audits one after another in this process (no pool to start)."""
    records = []
    for a in args:
        records.append(run_job(*a))
        on_done(records[-1])
    return records


def _on_pool(args, workers, scheduler, on_done) -> list[dict]:
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed

    # spawn: a fresh interpreter per worker, no inherited threads or locks from the parent.
    ctx = multiprocessing.get_context("spawn")
    records = []
    with ProcessPoolExecutor(max_workers=max(1, min(workers, len(args))), mp_context=ctx) as pool:
        futures = {pool.submit(run_job, *a): a for a in args}
        for fut in as_completed(futures):
            try:
                record = fut.result()
            except Exception as exc:  # the worker process died (killed, out of memory)
                job, _, fprint = futures[fut]
                record = _lost(job, fprint, exc)
            records.append(record)
            on_done(record)
    return records


def _on_dask(args, workers, scheduler, on_done) -> list[dict]:
    from distributed import Client, as_completed

    try:
        client = Client(scheduler, timeout="20s", set_as_default=False)
    except (OSError, TimeoutError) as exc:
        raise SopAuditError(f"cannot reach the Dask scheduler at {scheduler} ({exc}); start it with "
                            "`dask scheduler` and its workers with `dask worker {scheduler}`") from None
    records = []
    try:
        futures = {client.submit(run_job, *a, key=f"sopaudit-audit-{a[0].name}-{os.urandom(4).hex()}",
                                 pure=False, retries=0): a for a in args}
        for fut in as_completed(list(futures), loop=client.loop):
            try:
                record = fut.result()
            except Exception as exc:
                job, _, fprint = futures[fut]
                record = _lost(job, fprint, exc)
            records.append(record)
            on_done(record)
    finally:
        client.close()
    return records


def plan_fingerprints(jobs: list[AuditJob]) -> dict[str, str | None]:
    return {job.name: fingerprint(job) for job in jobs}
