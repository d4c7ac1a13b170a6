"""One large log audited as `partitions:` groups of its cases, in parallel, merged into the one
report the whole log gives.

A case belongs to partition crc32(case id) mod K, whatever the machine or the executor. One
split task reads the log once and writes each partition's events, with the whole log's end (for
the open-case rule) and case order; each partition task audits its events; the audit's findings
are per case and its metrics add up (alignment costs are summed, not fitness values averaged),
so the merge rebuilds exactly the tables of an audit of the whole log: cases and events in the
same order, variants renumbered over the whole log, step counts summed, the per-step times
measured again on the merged events. Events and parts are handed over as pickles in a private
folder beside the report (the workers share OUT).
"""

from __future__ import annotations

import pickle
import zlib
from pathlib import Path

import numpy as np
import pandas as pd

from sopaudit.auditing.files import read_inputs
from sopaudit.auditing.result import AuditResult
from sopaudit.auditing.run import audit, case_metrics, sort_findings
from sopaudit.batch.filters import job_filter
from sopaudit.batch.plan import AuditJob
from sopaudit.core.columns import ACTIVITY, CASE, ROW, TIME
from sopaudit.standards.timing import check_step_times

RANK = "_case_rank"


def partition_numbers(cases: pd.Series, k: int) -> np.ndarray:
    """The partition (0..k-1) of each row's case: crc32 of the case id as UTF-8 text, mod k."""
    codes, uniques = pd.factorize(cases.astype("string"))
    per_case = np.fromiter((zlib.crc32(str(c).encode("utf-8")) % k for c in uniques), dtype=np.int64,
                           count=len(uniques))
    return per_case[codes]


def part_path(parts_dir: str | Path, p: int) -> Path:
    return Path(parts_dir) / f"part-{p:04d}.pickle"


def events_path(parts_dir: str | Path, p: int) -> Path:
    return Path(parts_dir) / f"events-{p:04d}.pickle"


def whole_path(parts_dir: str | Path) -> Path:
    return Path(parts_dir) / "whole.pickle"


def split_log(job: AuditJob, parts_dir: str) -> int:
    """Read the job's log once and write each partition's events into parts_dir, with what every
    partition shares (the SOP, calendar and the whole log's end) and, for the merge, the log's
    LogInfo; returns the number of events."""
    sop, log, info, calendar = read_inputs(job.log, job.sop, _mapping(job), job.tz, job.closures,
                                           job.cuti_bersama_working, job_filter(job))
    _dump(whole_path(parts_dir), {"info": info, "calendar": calendar})
    end = log[TIME].max()
    # The whole log's case order (the order an audit of the whole log lists its cases in).
    order = log[[CASE, TIME, ROW]].sort_values([CASE, TIME, ROW], kind="mergesort")[CASE].astype("string")
    rank = pd.Series(np.arange(order.nunique()), index=pd.unique(order))
    del order
    number = partition_numbers(log[CASE], job.partitions)
    for p in range(job.partitions):
        part = log[number == p]
        ranks = rank.reindex(pd.unique(part[CASE].astype("string"))) if len(part) else rank.iloc[:0]
        _dump(events_path(parts_dir, p), {"events": part, "sop": sop, "calendar": calendar, "end": end,
                                         "rank": ranks})
    return len(log)


def audit_partition(job: AuditJob, p: int, parts_dir: str) -> int:
    """Audit partition `p` (its events written by `split_log`) into parts_dir; returns its number
    of events."""
    given = _load(events_path(parts_dir, p))
    events_path(parts_dir, p).unlink()  # its events are held here now
    part = given["events"]
    result = None
    if len(part):
        result = audit(part, given["sop"], calendar=given["calendar"], processes=1, accepted=job.accepted,
                       roles=job.roles, open_days=job.open_days, log_end=given["end"])
    _dump(part_path(parts_dir, p), {"result": result, "rank": given["rank"]})
    return len(part)


def _dump(path: Path, value: dict) -> None:
    with open(path, "wb") as fh:
        pickle.dump(value, fh, protocol=pickle.HIGHEST_PROTOCOL)


def _load(path: Path) -> dict:
    # Our own files, written a moment ago by the tasks of this audit.
    with open(path, "rb") as fh:
        return pickle.load(fh)  # noqa: S301


def _mapping(job: AuditJob) -> dict:
    return {"case": job.case, "activity": job.activity, "time": job.time, "resource": job.resource,
            "mapping": job.mapping, "query": job.query}


def load_parts(parts_dir: str | Path, k: int) -> tuple[list[AuditResult], pd.Series, object, object]:
    """The partition results (the non-empty ones), the case ranks, LogInfo and calendar."""
    results, ranks = [], []
    for p in range(k):
        part = _load(part_path(parts_dir, p))
        ranks.append(part["rank"])
        if part["result"] is not None:
            results.append(part["result"])
    whole = _load(whole_path(parts_dir))
    return results, pd.concat(ranks), whole["info"], whole["calendar"]


def _sum_numeric(frames: list[pd.DataFrame], key: str) -> pd.DataFrame:
    """Rows in the same order in every frame (one per SOP step or list entry): numbers summed."""
    frames = [f for f in frames if len(f)]
    if not frames:
        return pd.DataFrame()
    out = frames[0].copy()
    for f in frames[1:]:
        if not f[key].equals(out[key]):
            raise RuntimeError(f"partitions disagree on the rows of a table keyed by {key}")  # pragma: no cover
    for col in out.columns:
        if pd.api.types.is_numeric_dtype(out[col]) and not pd.api.types.is_bool_dtype(out[col]) and col != key:
            out[col] = sum(f[col].to_numpy() for f in frames)
            out[col] = out[col].astype(frames[0][col].dtype)
    return out


def _concat(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """Concatenate, leaving out empty tables (whose column types may differ)."""
    full = [f for f in frames if len(f)]
    return pd.concat(full, ignore_index=True) if full else frames[0].iloc[:0].copy()


def merge_results(parts: list[AuditResult], ranks: pd.Series, calendar) -> AuditResult:
    """The audit of the whole log, from the audits of its partitions."""
    first = parts[0]
    rank = ranks.to_dict()
    log = _concat([r.log for r in parts])
    log = (log.assign(**{RANK: log[CASE].astype("string").map(rank).astype(np.int64)})
           .sort_values([RANK, TIME, ROW], kind="mergesort").drop(columns=[RANK]).reset_index(drop=True))

    # Each case's activities, in the log's case order (the log is sorted by case: cut at changes).
    case_col = log[CASE].astype("string").to_numpy(dtype=object)
    starts = np.flatnonzero(case_col[1:] != case_col[:-1]) + 1
    acts = log[ACTIVITY].to_numpy(dtype=object)
    traces = pd.Series([tuple(a) for a in np.split(acts, starts)], index=case_col[np.r_[0, starts]], dtype=object)
    variant_list = sorted(set(traces))
    variant_ids = {v: i + 1 for i, v in enumerate(variant_list)}
    case_vid = pd.Series([variant_ids[v] for v in traces], index=traces.index.astype("string"), dtype=np.int64)

    cases = _concat([r.cases for r in parts])
    cases = (cases.assign(**{RANK: cases["case_id"].map(rank).astype(np.int64)})
             .sort_values(RANK, kind="mergesort").drop(columns=[RANK]).reset_index(drop=True))
    cases["variant_id"] = cases["case_id"].map(case_vid).astype(cases["variant_id"].dtype)

    deviations = _concat([r.deviations for r in parts])
    has_vid = deviations["variant_id"].notna()
    deviations.loc[has_vid, "variant_id"] = deviations.loc[has_vid, "case_id"].map(case_vid)
    deviations = sort_findings(deviations.assign(variant_id=deviations["variant_id"].astype("Int64")))

    fitness: dict[str, float] = {}
    for r in parts:
        fitness.update(zip(r.variants["variant"], r.variants["fitness"], strict=True))
    joined = [" → ".join(v) for v in variant_list]
    variants = pd.DataFrame({
        "variant_id": np.arange(1, len(variant_list) + 1),
        "variant": joined,
        "cases": np.bincount(case_vid.to_numpy(), minlength=len(variant_list) + 1)[1:],
        "fitness": [fitness[v] for v in joined],
    }).sort_values(["cases", "variant_id"], ascending=[False, True], kind="mergesort").reset_index(drop=True)

    service = _concat([r.service for r in parts])
    if len(service):
        service = (service.assign(**{RANK: service["case_id"].astype("string").map(rank).astype(np.int64)})
                   .sort_values(RANK, kind="mergesort").drop(columns=[RANK]).reset_index(drop=True))
    _, timing = check_step_times(log, first.sop, calendar)

    metrics = case_metrics(len(log), cases, deviations, len(variant_list),
                           sum(r.metrics["alignment_cost"] for r in parts),
                           sum(r.metrics["alignment_bwc"] for r in parts))
    metrics["precision"] = None
    # variants the aligner gave up on, numbered as in the merged variants table
    unaligned: dict[str, dict] = {}
    for r in parts:
        for u in r.metrics.get("unaligned_variants", []):
            entry = unaligned.setdefault(u["variant"], {**u, "cases": 0})
            entry["cases"] += u["cases"]
    merged_id = dict(zip(variants["variant"], variants["variant_id"], strict=True))
    metrics["unaligned_variants"] = sorted(({**u, "variant_id": int(merged_id[v])} for v, u in unaligned.items()),
                                           key=lambda u: u["variant_id"])
    metrics["unaligned_cases"] = sum(u["cases"] for u in unaligned.values())
    provenance = dict(first.provenance)
    provenance["seconds"] = round(sum(r.provenance["seconds"] for r in parts), 3)
    provenance["partitions"] = len(parts)
    accepted = _sum_numeric([r.accepted for r in parts], "line") if len(first.accepted) else first.accepted
    return AuditResult(cases=cases, deviations=deviations, steps=_sum_numeric([r.steps for r in parts], "step"),
                       variants=variants, metrics=metrics, provenance=provenance, log=log, sop=first.sop,
                       rejected=list(first.rejected), quality=dict(first.quality), accepted=accepted,
                       timing=timing, service=service,
                       role_coverage=(_sum_numeric([r.role_coverage for r in parts], "step")
                                      if len(first.role_coverage) else first.role_coverage))
