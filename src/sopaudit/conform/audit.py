"""`audit(log, sop)`: align every variant once, classify, and build the AuditResult tables."""

from __future__ import annotations

import datetime as dt
import logging
import os
import time

import numpy as np
import pandas as pd

from .. import __version__
from ..errors import InputFileError
from ..eventlog import ACTIVITY, CASE, LABEL, RESOURCE, ROW, TIME, log_info
from ..result import AuditResult
from ..sop.compile import compile_sop
from ..sop.model import SOP
from .align import align_variants
from ..kinds import ALL_KINDS, DEVIATING
from .classify import classify, end_reached

logger = logging.getLogger(__name__)

DEVIATION_COLUMNS = [
    "case_id", "kind", "step", "step_name", "detail", "related", "expected_after",
    "event_row", "event_time", "resource", "event_pos", "variant_id", "detail_code",
    # time findings: the measured value, the limit and their unit
    "measured", "limit", "unit",
    # accepted deviations (allow-list): listed, but they do not lower the conformance rate
    "accepted", "accepted_reason",
]


def map_activities(log: pd.DataFrame, sop: SOP) -> pd.DataFrame:
    """A copy of the log whose activities are SOP step ids where a name, id or alias matches;
    unmatched labels stay as recorded (they become `unexpected` findings)."""
    out = log.copy()
    if LABEL not in out.columns:
        out[LABEL] = out[ACTIVITY]
    aliases = sop.alias_map()
    labels = out[LABEL].astype("string")
    out[ACTIVITY] = labels.map(lambda v: aliases.get(v, v)).astype("string")
    if ROW not in out.columns:
        out[ROW] = np.arange(1, len(out) + 1)
    return out


def _check_log(log: pd.DataFrame) -> None:
    missing = [c for c in (CASE, ACTIVITY, TIME) if c not in log.columns]
    if missing:
        raise InputFileError(
            f"the event log lacks the column(s) {', '.join(missing)}; it has {', '.join(map(str, log.columns))}. "
            "Read it with sopaudit.read_log or rename the columns to pm4py's names."
        )
    if log.empty:
        raise InputFileError("the event log is empty; there is nothing to audit")


def audit(log: pd.DataFrame, sop: SOP, *, processes: int | None = None) -> AuditResult:
    """Check every case of `log` against `sop` and return the findings as tables.

    `processes` sets the worker processes for the alignments (default: the machine's cores).
    The input DataFrame is never modified.
    """
    _check_log(log)
    started = time.time()
    info = log_info(log)
    events = map_activities(log, sop)
    events = events.sort_values([CASE, TIME, ROW], kind="mergesort").reset_index(drop=True)
    events["sopaudit:pos"] = events.groupby(CASE, sort=False).cumcount()
    net = compile_sop(sop)
    sop_steps = net.labels

    traces = _traces(events)
    variant_list = sorted(set(traces))
    variant_ids = {v: i + 1 for i, v in enumerate(variant_list)}
    procs = processes if processes is not None else (os.cpu_count() or 1)
    aligned = align_variants(variant_list, net, processes=procs)

    # One row per (variant, finding); expanded to cases by a merge, not a loop over cases.
    vf_rows = []
    for v in variant_list:
        for f in classify(aligned[v], sop_steps):
            vf_rows.append((variant_ids[v], f.kind, f.step, f.pos, f.detail, "; ".join(f.related),
                            f.expected_after, f.code))
    vf = pd.DataFrame(vf_rows, columns=["variant_id", "kind", "step", "event_pos", "detail", "related",
                                        "expected_after", "detail_code"])
    case_variant = pd.DataFrame({"case_id": traces.index.astype("string"),
                                 "variant_id": [variant_ids[v] for v in traces]})
    dev = case_variant.merge(vf, on="variant_id", how="inner")
    ev_keys = events[[CASE, "sopaudit:pos", ROW, TIME] + ([RESOURCE] if RESOURCE in events else [])]
    ev_keys = ev_keys.rename(columns={CASE: "case_id", "sopaudit:pos": "event_pos", ROW: "event_row",
                                      TIME: "event_time", RESOURCE: "resource"})
    dev["event_pos"] = dev["event_pos"].astype("Int64")
    ev_keys = ev_keys.assign(case_id=ev_keys["case_id"].astype("string"),
                             event_pos=ev_keys["event_pos"].astype("Int64"))
    dev = dev.merge(ev_keys, on=["case_id", "event_pos"], how="left")
    dev["event_row"] = dev["event_row"].astype("Int64")
    names = {s.id: s.name for s in sop.steps}
    dev["step_name"] = dev["step"].map(lambda s: names.get(s, s))
    if "resource" not in dev:
        dev["resource"] = pd.NA
    dev = dev.assign(measured=np.nan, limit=np.nan, unit="", accepted=False, accepted_reason="")
    dev = dev.sort_values(["case_id", "event_pos", "kind", "step"], kind="mergesort", na_position="last")
    deviations = dev[DEVIATION_COLUMNS].reset_index(drop=True)

    cases = _cases_table(events, traces, variant_ids, aligned, deviations)
    steps = _steps_table(sop, traces, aligned, deviations, cases)
    variants = pd.DataFrame({
        "variant_id": [variant_ids[v] for v in variant_list],
        "variant": [" → ".join(v) for v in variant_list],
    })
    variants["cases"] = variants["variant_id"].map(cases["variant_id"].value_counts()).astype(int)
    variants["fitness"] = [aligned[v].fitness for v in variant_list]
    variants = variants.sort_values(["cases", "variant_id"], ascending=[False, True]).reset_index(drop=True)

    metrics = _metrics(events, cases, deviations, aligned, traces)
    provenance = {
        "tool": "sopaudit",
        "tool_version": __version__,
        "run_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "seconds": round(time.time() - started, 3),
        "inputs": [
            {"role": "log", "path": info.path, "sha256": info.sha256},
            {"role": "sop", "path": sop.source, "sha256": sop.sha256},
        ],
        "sop": {"code": sop.header.code, "title": sop.header.title, "version": sop.header.version},
        "parameters": {"costs": "log move 1, visible model move 1, synchronous and silent moves 0",
                       "timezone": info.tz},
        "log_rows_read": info.rows_read,
        "log_rows_rejected": len(info.rejected),
    }
    logger.info("audited %d cases (%d variants) in %.1f s", len(cases), len(variant_list), time.time() - started)
    return AuditResult(cases=cases, deviations=deviations, steps=steps, variants=variants,
                       metrics=metrics, provenance=provenance, log=events.drop(columns=["sopaudit:pos"]),
                       sop=sop, rejected=list(info.rejected))


def _traces(events: pd.DataFrame) -> pd.Series:
    """case id -> tuple of activities, for a log sorted by case (one pass, no per-case groupby)."""
    cases = events[CASE].to_numpy(dtype=object)
    acts = events[ACTIVITY].to_numpy(dtype=object)
    starts = np.flatnonzero(cases[1:] != cases[:-1]) + 1
    return pd.Series([tuple(a) for a in np.split(acts, starts)],
                     index=pd.Index(cases[np.r_[0, starts]], name=CASE), dtype=object)


def _cases_table(events, traces, variant_ids, aligned, deviations) -> pd.DataFrame:
    g = events.groupby(CASE, sort=True)
    cases = pd.DataFrame({
        "case_id": traces.index.astype("string"),
        "variant_id": [variant_ids[v] for v in traces],
        "n_events": g.size().to_numpy(),
        "start": g[TIME].min().to_numpy(),
        "end": g[TIME].max().to_numpy(),
        "fitness": [aligned[v].fitness for v in traces],
        "end_reached": [end_reached(aligned[v]) for v in traces],
    })
    counts = deviations.pivot_table(index="case_id", columns="kind", values="step", aggfunc="size", fill_value=0)
    for kind in ALL_KINDS:
        col = counts[kind] if kind in counts.columns else pd.Series(dtype=int)
        cases[f"n_{kind}"] = cases["case_id"].map(col).fillna(0).astype(int)
    cases["n_deviations"] = cases[[f"n_{k}" for k in DEVIATING]].sum(axis=1)
    cases["conforming"] = cases["n_deviations"] == 0
    cases["path"] = [" → ".join(v) for v in traces]
    front = ["case_id", "conforming", "n_deviations", "fitness", "end_reached", "n_events", "start", "end"]
    return cases[front + [c for c in cases.columns if c not in front]]


def _steps_table(sop, traces, aligned, deviations, cases) -> pd.DataFrame:
    # A case "required" a step when its optimal path through the SOP passes the step
    # (a synchronous or model move of it).
    n_case = cases.set_index("case_id")["variant_id"].value_counts()
    required: dict[str, int] = {}
    done: dict[str, int] = {}
    variant_of = dict(zip(cases["variant_id"], traces, strict=False))
    for vid, n in n_case.items():
        moves = aligned[variant_of[vid]].moves
        req = {m.model for m in moves if m.model is not None}
        dn = {m.log for m in moves if m.kind == "sync"}
        for s in req:
            required[s] = required.get(s, 0) + int(n)
        for s in dn:
            done[s] = done.get(s, 0) + int(n)
    per = {k: deviations[deviations["kind"] == k].groupby("step")["case_id"].nunique()
           for k in ("skipped", "out_of_order", "repeated")}
    rows = []
    for s in sop.steps:
        ooo = int(per["out_of_order"].get(s.id, 0))
        rows.append({
            "step": s.id, "step_name": s.name, "roles": ", ".join(s.roles),
            "cases_required": required.get(s.id, 0),
            "cases_in_order": max(done.get(s.id, 0) - ooo, 0),
            "cases_skipped": int(per["skipped"].get(s.id, 0)),
            "cases_out_of_order": ooo,
            "cases_repeated": int(per["repeated"].get(s.id, 0)),
        })
    return pd.DataFrame(rows)


def _metrics(events, cases, deviations, aligned, traces) -> dict:
    n_cases = len(cases)
    sum_cost = sum(aligned[v].cost for v in traces)
    sum_bwc = sum(aligned[v].bwc for v in traces)
    by_kind = {k: int((deviations["kind"] == k).sum()) for k in ALL_KINDS}
    cases_by_kind = {k: int((cases[f"n_{k}"] > 0).sum()) for k in ALL_KINDS}
    return {
        "cases": n_cases,
        "events": int(len(events)),
        "variants": int(cases["variant_id"].nunique()),
        "conforming_cases": int(cases["conforming"].sum()),
        "case_conformance_rate": float(cases["conforming"].mean()) if n_cases else 0.0,
        # Same formula as pm4py's alignment-based log fitness: 1 - sum(cost) / sum(best worst cost).
        "fitness": 1.0 - sum_cost / sum_bwc if sum_bwc > 0 else 0.0,
        "deviations": int(len(deviations)),
        "deviations_by_kind": by_kind,
        "cases_with_kind": cases_by_kind,
        "case_rate_by_kind": {k: (v / n_cases if n_cases else 0.0) for k, v in cases_by_kind.items()},
    }
