"""Run the audits of a plan: on a local process pool or on a dask.distributed cluster.

Each audit is `run_job(job, out)`, a plain function of plain values: it runs the single-audit
path (`sopaudit.auditing.files.audit_files`) into a temporary folder that replaces OUT/<name>
when the report is complete, and returns a record (status, error, metrics). A failing audit is
a record with its error; it never stops the others. An audit with `partitions: K` is one
`run_split` task (reading the log once), K `run_partition` tasks and then one `merge_job`
(batch/partition.py). Records come back in plan order whatever order the workers finish in, so
the batch's outputs do not depend on the executor.
"""

from __future__ import annotations

import json
import logging
import os
import platform
import resource
import shutil
import time
import traceback
import uuid
from collections.abc import Callable
from pathlib import Path

from sopaudit.batch.filters import job_filter
from sopaudit.batch.plan import AuditJob, fingerprint
from sopaudit.core.errors import SopAuditError
from sopaudit.core.outdir import PARTIAL, replaced_folder

logger = logging.getLogger(__name__)

ENTRY_FILE = "batch-entry.json"  # in OUT/<name>/: the fingerprint the report was made from
# The numbers of summary.json that batch.json, the index and the history carry per audit.
SUMMARY_KEYS = ("cases", "events", "variants", "finished_cases", "incomplete_cases", "conforming_cases",
                "case_conformance_rate", "fitness", "deviations", "accepted_deviations", "deviations_by_kind",
                "service_standard", "top_deviations", "period", "sop", "inputs", "rows_rejected")


def _peak_rss_mb() -> float:
    kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # kilobytes on Linux
    return round(kb / 1024, 1)


def summary_metrics(summary: dict) -> dict:
    return {k: summary.get(k) for k in SUMMARY_KEYS}


def _error(job: AuditJob, exc: Exception) -> str:
    if isinstance(exc, SopAuditError):
        return f"{job.where}: audit '{job.name}': {exc}"
    # A bug or an unreadable file: recorded with its traceback in the log, the batch goes on.
    logger.warning("audit %s failed:\n%s", job.name, traceback.format_exc())
    return f"{job.where}: audit '{job.name}': internal error {type(exc).__name__}: {exc}"


def _worker() -> dict:
    return {"host": platform.node(), "pid": os.getpid(), "peak_rss_mb": _peak_rss_mb()}


def _recorded(job: AuditJob, out_root: str, fprint: str | None, write: Callable[[Path], object]) -> dict:
    """Run `write(tmp)` into a temporary folder that becomes OUT/<name>; the batch record."""
    started = time.time()
    record = {"name": job.name, "office": job.office, "status": "failed", "error": None,
              "fingerprint": fprint, "parameters": job.parameters()}
    target = Path(out_root) / job.name
    try:
        with replaced_folder(target) as tmp:
            write(tmp)
            (tmp / ENTRY_FILE).write_text(json.dumps({"name": job.name, "fingerprint": fprint}, indent=2) + "\n",
                                          encoding="utf-8")
        summary = json.loads((target / "summary.json").read_text(encoding="utf-8"))
        record.update(status="ok", metrics=summary_metrics(summary))
    except Exception as exc:
        record["error"] = _error(job, exc)
    record["seconds"] = round(time.time() - started, 3)
    record["worker"] = _worker()
    return record


def run_job(job: AuditJob, out_root: str, fprint: str | None = None) -> dict:
    """Audit one plan entry into OUT/<name> (atomically); returns its batch record."""
    from sopaudit.auditing.files import audit_files

    mapping = {"case": job.case, "activity": job.activity, "time": job.time, "resource": job.resource,
               "mapping": job.mapping, "query": job.query}
    # One process per audit: the batch runs audits side by side, not alignments.
    return _recorded(job, out_root, fprint, lambda tmp: audit_files(
        job.log, job.sop, tmp, mapping, job.tz, job.lang, job.formats, job.closures, job.cuti_bersama_working,
        select=job_filter(job), processes=1, accepted=job.accepted, precision=job.precision, roles=job.roles,
        open_days=job.open_days))


def run_split(job: AuditJob, parts_dir: str) -> dict:
    """Read the log of a partitioned audit and write its partitions' events; {"events",
    "seconds", "worker"} or {"error"}."""
    from sopaudit.batch.partition import split_log

    started = time.time()
    try:
        events = split_log(job, parts_dir)
    except Exception as exc:
        return {"error": _error(job, exc)}
    return {"events": events, "seconds": round(time.time() - started, 3), "worker": _worker()}


def run_partition(job: AuditJob, p: int, parts_dir: str) -> dict:
    """Audit partition `p` of a partitioned audit; {"events", "seconds", "worker"} or {"error"}."""
    from sopaudit.batch.partition import audit_partition

    started = time.time()
    try:
        events = audit_partition(job, p, parts_dir)
    except Exception as exc:
        return {"partition": p, "error": _error(job, exc)}
    return {"partition": p, "events": events, "seconds": round(time.time() - started, 3), "worker": _worker()}


def merge_job(job: AuditJob, out_root: str, parts_dir: str, fprint: str | None = None) -> dict:
    """Merge the partitions of an audit into its report folder; returns its batch record."""
    from sopaudit.auditing.files import write_outputs
    from sopaudit.batch.partition import load_parts, merge_results

    def write(tmp: Path) -> None:
        parts, ranks, info, calendar = load_parts(parts_dir, job.partitions)
        if not parts:
            raise SopAuditError(f"{job.log}: no event to audit in any partition")
        write_outputs(merge_results(parts, ranks, calendar), info, tmp, job.formats, job.lang)

    try:
        return _recorded(job, out_root, fprint, write)
    finally:
        shutil.rmtree(parts_dir, ignore_errors=True)


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
    """Run `jobs` and return their records in the order of `jobs`.

    An audit with `partitions: K` is a split task, then K partition tasks, then one merge task
    once all of them are done; the others are one task each. Tasks go to a local process pool
    (workers > 1), to a Dask cluster (`scheduler`), or run one after another in this process."""
    fingerprints = fingerprints or {}
    on_done = on_done or (lambda r: None)
    if not jobs:
        return []
    n_tasks = sum(job.partitions if job.partitions > 1 else 1 for job in jobs)
    if scheduler:
        backend = _DaskBackend(scheduler)
    elif workers > 1 and n_tasks > 1:
        backend = _PoolBackend(min(workers, n_tasks))
    else:
        backend = _InProcessBackend()
    records: dict[str, dict] = {}
    parts: dict[str, list[dict]] = {}
    split: dict[str, dict] = {}
    pending: dict = {}
    out = str(out_root)
    try:
        for job in jobs:
            fp = fingerprints.get(job.name)
            if job.partitions > 1:
                parts_dir = Path(out_root) / f"{PARTIAL}{uuid.uuid4().hex[:12]}-parts-{job.name}"
                parts_dir.mkdir(parents=True)
                parts[job.name] = []
                fut = backend.submit(run_split, job, str(parts_dir), key=f"{job.name}-split")
                pending[fut] = ("split", job, str(parts_dir))
            else:
                pending[backend.submit(run_job, job, out, fp, key=job.name)] = ("audit", job, None)
        while pending:
            for fut in backend.wait_any(list(pending)):
                kind, job, parts_dir = pending.pop(fut)
                fp = fingerprints.get(job.name)
                try:
                    value = fut.result()
                except Exception as exc:  # the worker died (killed, out of memory) or was lost
                    value = {"error": f"{job.where}: audit '{job.name}': the worker running it was lost "
                                      f"({type(exc).__name__}: {exc})"}
                if kind == "split":
                    if not value.get("error"):  # the log is split: its parts can be audited
                        split[job.name] = value
                        for p in range(job.partitions):
                            fut = backend.submit(run_partition, job, p, parts_dir, key=f"{job.name}-part{p}")
                            pending[fut] = ("part", job, parts_dir)
                        continue
                    shutil.rmtree(parts_dir, ignore_errors=True)
                if kind == "part":
                    parts[job.name].append(value)
                    if len(parts[job.name]) < job.partitions:
                        continue
                    errors = [v["error"] for v in sorted(parts[job.name], key=lambda v: v.get("partition", -1))
                              if v.get("error")]
                    if not errors:
                        fut = backend.submit(merge_job, job, out, parts_dir, fp, key=f"{job.name}-merge")
                        pending[fut] = ("merge", job, parts_dir)
                        continue
                    shutil.rmtree(parts_dir, ignore_errors=True)
                    value = {"error": errors[0]}
                if "status" not in value:  # a lost worker or a failed partition
                    value = {"name": job.name, "office": job.office, "status": "failed", "error": value["error"],
                             "fingerprint": fp, "parameters": job.parameters(), "seconds": None, "worker": None}
                if job.name in parts:
                    value["partitions"] = sorted((v for v in parts[job.name] if not v.get("error")),
                                                 key=lambda v: v["partition"])
                    if job.name in split:
                        value["split"] = split[job.name]
                records[job.name] = value
                on_done(value)
    finally:
        backend.close()
    return [records[job.name] for job in jobs]


class _InProcessBackend:
    """One worker: the tasks one after another in this process (no pool to start)."""

    def submit(self, fn, *args, key: str):
        from concurrent.futures import Future

        fut = Future()
        try:
            fut.set_result(fn(*args))
        except Exception as exc:  # pragma: no cover - the task functions catch their errors
            fut.set_exception(exc)
        return fut

    def wait_any(self, futures):
        return futures

    def close(self) -> None:
        pass


class _PoolBackend:
    def __init__(self, workers: int):
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        # spawn: a fresh interpreter per worker, no inherited threads or locks from the parent.
        self.pool = ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"))

    def submit(self, fn, *args, key: str):
        return self.pool.submit(fn, *args)

    def wait_any(self, futures):
        from concurrent.futures import FIRST_COMPLETED, wait

        return wait(futures, return_when=FIRST_COMPLETED).done

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)


class _DaskBackend:
    def __init__(self, scheduler: str):
        from distributed import Client

        try:
            self.client = Client(scheduler, timeout="20s", set_as_default=False)
        except (OSError, TimeoutError) as exc:
            raise SopAuditError(f"cannot reach the Dask scheduler at {scheduler} ({exc}); start it with "
                                f"`dask scheduler` and its workers with `dask worker {scheduler}`") from None
        self.token = uuid.uuid4().hex[:8]

    def submit(self, fn, *args, key: str):
        # retries=0: an audit that killed its worker is reported, not run again on the next one.
        return self.client.submit(fn, *args, key=f"sopaudit-{key}-{self.token}", pure=False, retries=0)

    def wait_any(self, futures):
        from distributed import wait

        with self.client.as_current():  # the batch's client, not a process-wide default
            return wait(futures, return_when="FIRST_COMPLETED").done

    def close(self) -> None:
        self.client.close()


def plan_fingerprints(jobs: list[AuditJob]) -> dict[str, str | None]:
    return {job.name: fingerprint(job) for job in jobs}
