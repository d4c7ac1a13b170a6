"""`audit(log, sop)`: align every variant once, classify, check rules, and build the tables."""

from __future__ import annotations

import datetime as dt
import logging
import os
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from sopaudit import __version__
from sopaudit.auditing.result import AuditResult
from sopaudit.calendar.workdays import WorkingCalendar
from sopaudit.conform.accept import AllowEntry, apply_allow_list, load_allow_list
from sopaudit.conform.align import VariantAlignment, align_variants
from sopaudit.conform.branches import decisions, wrong_branch_findings
from sopaudit.conform.classify import classify, end_reached
from sopaudit.conform.labels import label_warnings, map_activities
from sopaudit.conform.limits import AlignLimits
from sopaudit.conform.open_cases import OpenCases, decide
from sopaudit.conform.rules import check_rules
from sopaudit.core.columns import ACTIVITY, CASE, POS, RESOURCE, ROW, TIME, log_info
from sopaudit.core.errors import InputFileError
from sopaudit.core.kinds import ALL_KINDS, DEVIATING
from sopaudit.ingest.source import sha256_file
from sopaudit.sop.compile import compile_sop
from sopaudit.sop.model import SOP
from sopaudit.standards.ordered import OrderedLog
from sopaudit.standards.roles import check_roles, check_separation_of_duties, role_coverage
from sopaudit.standards.timing import check_service_standard, check_step_times

logger = logging.getLogger(__name__)

DEVIATION_COLUMNS = [
    "case_id", "kind", "step", "step_name", "detail", "related", "expected_after",
    "event_row", "event_time", "resource", "event_pos", "variant_id", "detail_code",
    # rows of the other events that prove the finding (neighbours of a skip, the first execution
    # of a repeated step, the steps an out-of-order step jumped over), separated by "; "
    "evidence_rows",
    # time findings: the measured value, the limit and their unit
    "measured", "limit", "unit",
    # accepted deviations (allow-list): listed, but they do not lower the conformance rate
    "accepted", "accepted_reason",
]



def _check_log(log: pd.DataFrame) -> None:
    missing = [c for c in (CASE, ACTIVITY, TIME) if c not in log.columns]
    if missing:
        raise InputFileError(
            f"the event log lacks the column(s) {', '.join(missing)}; it has {', '.join(map(str, log.columns))}. "
            "Read it with sopaudit.read_log or rename the columns to pm4py's names."
        )
    if log.empty:
        raise InputFileError("the event log is empty; there is nothing to audit")
    missing_case = log[CASE].isna().to_numpy()
    if missing_case.any():
        rows = log.index[missing_case]
        raise InputFileError(
            f"{len(rows)} event(s) of the log have no case id (row labels {', '.join(map(str, rows[:10]))}"
            f"{', ...' if len(rows) > 10 else ''}); drop or fill them first (sopaudit.read_log lists such rows "
            "as rejected instead)")


def _by_case_and_time(events: pd.DataFrame) -> pd.DataFrame:
    """The events sorted by case, time and row (stable: ties keep their order). A log read in
    that order, as most are, is checked in one pass instead of sorted (its order is the result)."""
    case, times = events[CASE], events[TIME]
    plain = (isinstance(case.dtype, pd.CategoricalDtype) and pd.api.types.is_datetime64_any_dtype(times.dtype)
             and pd.api.types.is_integer_dtype(events[ROW].dtype))
    if plain and not case.isna().any() and not times.isna().any():
        # sort_values orders a categorical by its category codes, times by their instant
        keys = [case.cat.codes.to_numpy(), times.array.asi8, events[ROW].to_numpy()]
        d_case, d_time, d_row = (np.diff(k) for k in keys)
        if ((d_case > 0) | ((d_case == 0) & ((d_time > 0) | ((d_time == 0) & (d_row >= 0))))).all():
            return events.reset_index(drop=True)
    return events.sort_values([CASE, TIME, ROW], kind="mergesort").reset_index(drop=True)


def audit(
    log: pd.DataFrame,
    sop: SOP,
    *,
    calendar: WorkingCalendar | None = None,
    roles: str | Path | pd.DataFrame | None = None,
    accepted: str | Path | list[AllowEntry] | None = None,
    open_days: float | None = None,
    precision: bool = False,
    processes: int | None = None,
    log_end: pd.Timestamp | None = None,
    align_limits: AlignLimits | None = None,
) -> AuditResult:
    """Check every case of `log` against `sop` and return the findings as tables.

    `calendar` is the office's working-day calendar for time standards (default: Indonesian
    holidays, cuti bersama off, 08:00-16:00 in the log's time zone). `roles` maps officers to
    roles (a file or a table, see docs/time-and-roles.md); without it roles are not checked, but
    separation of duties still is. `accepted` is an allow-list file (or loaded entries) of justified deviations. A case that has
    not reached an SOP end is still open (`incomplete` rather than deviating) when the time since
    its last event is within the 95th percentile of the observed waits for the step the SOP
    expects next, or the SOP's stated wait for it (docs/deviations.md); `open_days` overrides
    this: open when the last event is within that many days of the log's last event. `processes` sets the worker processes for the alignments
    (default: the machine's cores). `precision` adds pm4py's alignment-based precision (how
    much behaviour the SOP allows that the cases never show) to the metrics; it is slow on large
    logs. `log_end` is the end of the log for the open-case rule (default: its last event); a
    batch auditing a large log's cases in partitions passes the whole log's end.
    `align_limits` bounds each variant's alignment search (states and seconds); a variant
    over them is not judged: its cases get status `unaligned` and metrics["unaligned_variants"]
    lists them with the reason. The input DataFrame is never modified.
    """
    _check_log(log)
    started = time.time()
    info = log_info(log)
    allow = load_allow_list(accepted) if isinstance(accepted, str | Path) else list(accepted or [])
    warnings = label_warnings(log, sop)
    for w in warnings:
        logger.warning("%s", w["message"])
    events = map_activities(log, sop)
    events[CASE] = _one_case_per_text(events[CASE])
    events = _by_case_and_time(events)
    first = _case_starts(events[CASE])
    events[CASE] = _as_text(events[CASE])
    case_ids = pd.Index(events[CASE].array.take(first), name="case_id")
    # each case's rows, by the case's number in case order: what the per-case tables group by
    # (an integer, where the case id text would be hashed again for every group-by)
    case_no = np.repeat(np.arange(len(first)), np.diff(np.r_[first, len(events)]))
    events[POS] = np.arange(len(events)) - first[case_no]
    net = compile_sop(sop)

    variant_list, case_vid = _variants(events, first, case_no)
    variant_ids = {v: i + 1 for i, v in enumerate(variant_list)}
    procs = processes if processes is not None else (os.cpu_count() or 1)
    failed: dict[tuple[str, ...], str] = {}
    aligned = align_variants(variant_list, net, processes=procs, limits=align_limits, failed=failed)
    for v in failed:  # not judged: no control-flow findings, no share in the fitness
        aligned[v] = VariantAlignment(v, (), 0, 0, float("nan"))
    by_id = [None] + [aligned[v] for v in variant_list]  # variant id -> alignment

    unaligned_ids = [variant_ids[v] for v in sorted(failed)]
    cal = calendar or WorkingCalendar(tz=info.tz or str(events[TIME].dt.tz))
    still_open = decide(events, sop, net, case_ids, case_vid, variant_list, aligned, cal, open_days, log_end=log_end,
                        align_limits=align_limits, unaligned=unaligned_ids)
    unfinished = still_open.prefixes
    flow, use_prefix = _control_flow_findings(variant_list, variant_ids, aligned, net, case_ids, case_vid,
                                              still_open)
    by_case = events.groupby(case_no, sort=False)  # grouped once for the case attributes, start and table
    case_attrs = _first_values(events, first, by_case)
    case_attrs.index = case_ids
    # Decisions come from the alignment each case is judged on: the prefix one for open cases.
    judged = [(variant_ids[v], False, aligned[v]) for v in variant_list]
    judged += [(vid, True, p) for vid, p in sorted(unfinished.items())]
    branch = wrong_branch_findings(
        pd.DataFrame([(vid, pre, k, answer, pos) for vid, pre, a in judged for k, answer, pos in decisions(a, net)],
                     columns=["variant_id", "prefix", "choice", "answer", "event_pos"]),
        pd.DataFrame({"case_id": case_ids, "variant_id": case_vid, "prefix": use_prefix}), case_attrs, net)
    rules = check_rules(events, sop)
    open_cases = set(case_ids[use_prefix])
    rules = rules[~(rules.pop("pending") & rules["case_id"].isin(open_cases))]
    rules = rules.assign(kind="rule", related=rules.pop("rule"), expected_after="", detail_code="rule",
                         evidence_pos=[()] * len(rules))
    parts = [p for p in (flow, branch, rules) if len(p)]
    deviations = _with_evidence(pd.concat(parts, ignore_index=True) if parts else flow, events, sop,
                                _event_at(case_ids, first, len(events)))
    ordered = OrderedLog(events, sop)  # once for the time and role checks
    late_steps, timing = check_step_times(ordered, sop, cal)
    late_cases, service = check_service_standard(ordered, sop, cal)
    duties = check_separation_of_duties(ordered, sop)
    role_findings = check_roles(ordered, sop, roles) if roles is not None else duties.iloc[:0]
    coverage = role_coverage(ordered, sop, roles) if roles is not None else pd.DataFrame()
    deviations = sort_findings(pd.concat([d for d in (deviations, late_steps, late_cases, role_findings, duties)
                                          if len(d)] or [deviations], ignore_index=True))
    case_start = pd.Series(by_case[TIME].min().array, index=case_ids)
    deviations, accepted_table = apply_allow_list(deviations, case_attrs, case_start, allow)
    # rows of these cases could not be read: a finding may come from the export, not the service
    deviations["evidence_incomplete"] = deviations["case_id"].isin(set(map(str, info.rejected_cases)))

    paths = [" → ".join(v) for v in variant_list]
    cases = _cases_table(case_ids, by_case, case_start, case_vid, by_id, paths, deviations, service)
    unjudged = np.isin(case_vid, unaligned_ids)
    cases.loc[unjudged, ["status", "conforming"]] = ["unaligned", False]
    steps = _steps_table(sop, case_vid, by_id, deviations, use_prefix, unfinished)
    variants = pd.DataFrame({
        "variant_id": np.arange(1, len(variant_list) + 1),
        "variant": paths,
        "cases": np.bincount(case_vid, minlength=len(variant_list) + 1)[1:],
        "fitness": [aligned[v].fitness for v in variant_list],
    }).sort_values(["cases", "variant_id"], ascending=[False, True], kind="mergesort").reset_index(drop=True)

    cost = np.array([0] + [a.cost for a in by_id[1:]], dtype=np.int64)
    bwc = np.array([0] + [a.bwc for a in by_id[1:]], dtype=np.int64)
    metrics = case_metrics(len(events), cases, deviations, len(variant_list), int(cost[case_vid].sum()),
                           int(bwc[case_vid].sum()))
    metrics["unaligned_variants"] = [{"variant_id": variant_ids[v], "variant": " → ".join(v),
                                      "cases": int((case_vid == variant_ids[v]).sum()), "reason": failed[v]}
                                     for v in sorted(failed, key=variant_ids.get)]
    metrics["unaligned_cases"] = int(unjudged.sum())
    metrics["precision"] = _precision(events, net) if precision else None
    provenance = {
        "tool": "sopaudit",
        "tool_version": __version__,
        "run_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "seconds": round(time.time() - started, 3),
        "inputs": [
            {"role": "log", "path": info.path, "sha256": info.sha256},
            {"role": "sop", "path": sop.source, "sha256": sop.sha256},
        ] + ([{"role": "accepted", "path": str(accepted), "sha256": sha256_file(accepted)}]
             if isinstance(accepted, str | Path) else [])
          + ([{"role": "roles", "path": str(roles), "sha256": sha256_file(roles)}] if isinstance(roles, str | Path) else []),
        "sop": {"code": sop.header.code, "title": sop.header.title, "version": sop.header.version},
        "parameters": {"costs": "log move 1, visible model move 1, synchronous and silent moves 0",
                       "timezone": info.tz, "open_days": open_days, "precision": precision,
                       "open_cases": still_open.method(),
                       "calendar": {"country": cal.country, "tz": cal.tz, "office_hours": list(cal.office_hours),
                                    "cuti_bersama_working": cal.cuti_bersama_working,
                                    "closures": len(cal.closures)},
                       "roles_checked": roles is not None},
        "log_rows_read": info.rows_read,
        "log_rows_rejected": len(info.rejected),
    }
    logger.info("audited %d cases (%d variants) in %.1f s", len(cases), len(variant_list), time.time() - started)
    if len(accepted_table) and (accepted_table["findings_matched"] == 0).any():
        unused = accepted_table.loc[accepted_table["findings_matched"] == 0, "line"].tolist()
        logger.warning("accepted-deviation entries on line(s) %s matched no finding", unused)
    return AuditResult(cases=cases, deviations=deviations, steps=steps, variants=variants,
                       metrics=metrics, provenance=provenance, log=events.drop(columns=[POS]),
                       sop=sop, rejected=list(info.rejected), quality=dict(info.quality),
                       accepted=accepted_table, timing=timing, service=service, role_coverage=coverage,
                       warnings=warnings, variant_paths=dict(enumerate(variant_list, start=1)))


def _precision(events: pd.DataFrame, net) -> float:
    """pm4py's alignment-based precision (ETConformance), without its progress bar."""
    import warnings

    from pm4py.algo.evaluation.precision import algorithm as precision_algorithm

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return float(precision_algorithm.apply(
            events[[CASE, ACTIVITY, TIME]], *net.to_pm4py(),
            variant=precision_algorithm.Variants.ALIGN_ETCONFORMANCE, parameters={"show_progress_bar": False}))


def _one_case_per_text(case: pd.Series) -> pd.Series:
    """Case ids that read alike (1 and "1" in a notebook's mixed column) are one case, as every
    report shows them: such a column becomes text. Text ids and numbers are kept as they are."""
    if isinstance(case.dtype, pd.CategoricalDtype):
        kind = case.cat.categories.dtype
        if isinstance(kind, pd.StringDtype) or pd.api.types.is_integer_dtype(kind):
            return case  # distinct text, or distinct integers, read differently
        return case if case.cat.categories.astype("string").is_unique else case.astype("string")
    return case.astype("string") if case.dtype == object else case


def _case_starts(case: pd.Series) -> np.ndarray:
    """The first row of each case, for events in case order: where the case id changes (a
    categorical's codes, else the ids' own)."""
    codes = case.cat.codes.to_numpy() if isinstance(case.dtype, pd.CategoricalDtype) else pd.factorize(case)[0]
    return np.flatnonzero(np.r_[True, codes[1:] != codes[:-1]]) if len(codes) else np.zeros(0, dtype=np.int64)


def _as_text(case: pd.Series) -> pd.Series:
    """The case ids as text (pandas' "string"). A categorical's are its categories' text taken by
    code (one string per case, not a Python string per event)."""
    if not isinstance(case.dtype, pd.CategoricalDtype):
        return case.astype("string")
    names = pa.array(case.cat.categories.astype("string").array)
    codes = case.cat.codes.to_numpy()
    taken = names.take(pa.array(codes, mask=codes < 0))
    return pd.Series(pd.array(taken, dtype="string"), index=case.index, name=case.name)


_HASH_BASE = np.uint64(0x9E3779B97F4A7C15)  # odd: its powers never vanish mod 2**64


def _first_values(events: pd.DataFrame, first: np.ndarray, by_case) -> pd.DataFrame:
    """Each case's first value of every column that has one (a group-by's `first`): read from
    the case's first row, and grouped only for the columns where some first row has none."""
    columns = [c for c in events.columns if c != CASE]
    out = events[columns].iloc[first].reset_index(drop=True)
    gaps = [c for c in columns if out[c].isna().any()]
    if gaps:
        out[gaps] = by_case[gaps].first().reset_index(drop=True)
    return out


def _variants(events: pd.DataFrame, first: np.ndarray, case_no: np.ndarray
              ) -> tuple[list[tuple[str, ...]], np.ndarray]:
    """The distinct traces (tuples of activities) in sorted order, and each case's variant id
    (1-based, into them), for a log sorted by case (`first`: each case's first row, `case_no`:
    each event's case number; POS set).

    Every case's activity codes are hashed at once (a polynomial mod 2**64 summed per case), the
    cases grouped by hash and length, and every event then compared with the same position of
    its group's first case: no loop over the cases. Should two traces ever share a hash, the
    cases are grouped by the bytes of their codes instead."""
    codes, names = pd.factorize(events[ACTIVITY], sort=False)
    names = np.asarray(names, dtype=object)
    n, pos = len(codes), events[POS].to_numpy(dtype=np.int64)
    if n == 0:
        return [], np.zeros(0, dtype=np.int64)
    lengths = np.diff(np.r_[first, n])
    powers = np.cumprod(np.full(int(lengths.max()), _HASH_BASE, dtype=np.uint64))  # wraps mod 2**64
    hashed = np.add.reduceat((codes.astype(np.uint64) + np.uint64(1)) * powers[pos], first)
    group, _ = pd.factorize(hashed ^ lengths.astype(np.uint64), sort=False)
    _, example = np.unique(group, return_index=True)  # each group's first case
    same = (lengths == lengths[example[group]]).all() and np.array_equal(
        codes, codes[first[example[group]][case_no] + pos])
    if not same:
        group, example = _groups_by_bytes(codes, first)
    traces = [tuple(names[codes[a:a + k]].tolist()) for a, k in zip(first[example].tolist(),
                                                                   lengths[example].tolist(), strict=True)]
    order = sorted(range(len(traces)), key=traces.__getitem__)
    rank = np.empty(len(traces), dtype=np.int64)
    rank[order] = np.arange(1, len(traces) + 1)
    return [traces[i] for i in order], rank[group]


def _groups_by_bytes(codes: np.ndarray, first: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A group number per case, equal for equal code sequences, and each group's first case:
    the cases' codes compared as bytes (one dict lookup per case)."""
    buf = codes.astype(np.int32).tobytes()
    bounds = np.r_[first, len(codes)] * 4
    seen: dict[bytes, int] = {}
    group = np.fromiter((seen.setdefault(buf[lo:hi], len(seen)) for lo, hi in
                         zip(bounds[:-1].tolist(), bounds[1:].tolist(), strict=True)), dtype=np.int64, count=len(first))
    _, example = np.unique(group, return_index=True)
    return group, example


def _control_flow_findings(variant_list, variant_ids, aligned, net, case_ids, case_vid, still_open: OpenCases):
    """Variant findings expanded to the cases of each variant (a merge, not a loop over cases);
    also returns which cases are judged on their prefix alignment.

    A case still open (conform/open_cases.py) is judged on its prefix alignment plus one
    `incomplete` finding naming the steps the SOP expects next, instead of skips it may still do."""
    columns = ["variant_id", "kind", "step", "event_pos", "detail", "related", "expected_after",
               "detail_code", "evidence_pos"]

    def rows_of(alignment_moves, v):
        va = VariantAlignment(v, alignment_moves, 0, 0, 0.0)
        return [(variant_ids[v], f.kind, f.step, f.pos, f.detail, "; ".join(f.related), f.expected_after, f.code,
                 f.evidence) for f in classify(va, net.labels)]

    full = pd.DataFrame([r for v in variant_list for r in rows_of(aligned[v].moves, v)], columns=columns)
    pre_rows = []
    for vid, p in sorted(still_open.prefixes.items()):
        v = variant_list[vid - 1]
        pre_rows.extend(rows_of(p.moves, v))
        pre_rows.append((vid, "incomplete", p.next_steps[0], None,
                         "not finished when the log ends; next SOP step(s): "
                         + ", ".join(f"'{s}'" for s in p.next_steps),
                         "; ".join(p.next_steps[1:]), v[-1] if v else "", "incomplete", ()))
    prefix = pd.DataFrame(pre_rows, columns=columns)
    cv = pd.DataFrame({"case_id": case_ids, "variant_id": case_vid, "use_prefix": still_open.open})
    dev = pd.concat([cv[~cv["use_prefix"]].merge(full, on="variant_id", how="inner"),
                     cv[cv["use_prefix"]].merge(prefix, on="variant_id", how="inner")], ignore_index=True)
    dev["event_pos"] = dev["event_pos"].astype("Int64")
    return dev.drop(columns=["use_prefix"]), cv["use_prefix"].to_numpy()


def _with_evidence(dev: pd.DataFrame, events: pd.DataFrame, sop: SOP, at) -> pd.DataFrame:
    """Attach the source row, time and officer of each finding's event and its evidence rows
    (`at`: `_event_at` of the events)."""
    out = dev.assign(case_id=dev["case_id"].astype("string"), event_pos=dev["event_pos"].astype("Int64"))
    out = out.reset_index(drop=True)
    rows = at(out["case_id"], out["event_pos"])
    source_rows = events[ROW].astype("Int64")
    out["event_row"] = _taken(source_rows, rows)
    out["event_time"] = _taken(events[TIME], rows)
    out["resource"] = _taken(events[RESOURCE], rows) if RESOURCE in events else pd.NA
    # Evidence positions -> source rows (the positions were only the way to the rows: an auditor
    # reads rows, and a tuple in a CSV).
    ev = out[["case_id", "evidence_pos"]].reset_index().explode("evidence_pos").dropna(subset=["evidence_pos"])
    ev["event_row"] = _taken(source_rows, at(ev["case_id"], ev["evidence_pos"].astype("Int64")))
    out["evidence_rows"] = _joined_rows(ev, len(out))
    out = out.drop(columns=["evidence_pos"])
    names = {s.id: s.name for s in sop.steps}
    out["step_name"] = out["step"].map(lambda s: names.get(s, s))
    out = out.assign(measured=np.nan, limit=np.nan, unit="", accepted=False, accepted_reason="")
    if "variant_id" not in out:
        out["variant_id"] = pd.NA
    out["variant_id"] = out["variant_id"].astype("Int64")
    return sort_findings(out)


def _event_at(case_ids: pd.Index, first: np.ndarray, n_events: int):
    """(case ids, positions in the case) -> rows of the events (-1 where there is no such event),
    for events in case order (`case_ids` and their `first` rows): an event's row is its case's
    first row plus its position, one lookup among the distinct case ids instead of a merge on
    every event's."""
    length = np.diff(np.r_[first, n_events])

    def at(case_id: pd.Series, pos: pd.Series) -> np.ndarray:
        c = case_ids.get_indexer(case_id)
        p = pos.to_numpy(dtype=np.int64, na_value=-1)
        known = (c >= 0) & (p >= 0)
        known[known] &= p[known] < length[c[known]]
        return np.where(known, first[np.maximum(c, 0)] + p, -1)

    return at


def _taken(column: pd.Series, rows: np.ndarray) -> pd.array:
    """The column's values at `rows`, missing where a row is -1, in the column's own type."""
    return column.array.take(rows, allow_fill=True)


def _joined_rows(ev: pd.DataFrame, n: int) -> pd.array:
    """The evidence rows of each of `n` findings (`ev`: finding index and event row), ascending
    and "; "-separated, "" without any: one sort and one Arrow join, nothing per finding."""
    ev = ev.dropna(subset=["event_row"]).sort_values(["index", "event_row"], kind="mergesort")
    text = pc.cast(pa.array(ev["event_row"].to_numpy(dtype=np.int64)), pa.string())
    bounds = np.searchsorted(ev["index"].to_numpy(), np.arange(n + 1))  # each finding's slice
    return pd.array(pc.binary_join(pa.ListArray.from_arrays(pa.array(bounds, pa.int32()), text), "; "),
                    dtype="string")


def sort_findings(dev: pd.DataFrame) -> pd.DataFrame:
    """Findings in a stable order: by case, event, kind (taxonomy order), step."""
    order = dev["kind"].map({k: i for i, k in enumerate(ALL_KINDS)})
    dev = dev.assign(_kind=order).sort_values(["case_id", "event_pos", "_kind", "step"], kind="mergesort",
                                              na_position="last")
    extra = [c for c in dev.columns if c not in DEVIATION_COLUMNS and c != "_kind"]  # e.g. evidence_incomplete
    return dev[DEVIATION_COLUMNS + extra].reset_index(drop=True)


def _cases_table(case_ids, by_case, case_start, case_vid, by_id, paths, deviations, service) -> pd.DataFrame:
    """One row per case (`case_ids`, in case order; `by_case`: the events grouped in that order,
    `case_start` their first times)."""
    fitness = np.array([0.0] + [a.fitness for a in by_id[1:]])
    ends = np.array([""] + [end_reached(a) for a in by_id[1:]], dtype=object)
    cases = pd.DataFrame({
        "case_id": case_ids.array,
        "variant_id": case_vid,
        "n_events": by_case.size().to_numpy(),
        # .array keeps the zone: .to_numpy() of zoned times makes one Timestamp object per case
        "start": case_start.array,
        "end": by_case[TIME].max().array,
        "fitness": fitness[case_vid],
        "end_reached": ends[case_vid],
    })
    # Findings counted per case and kind: each finding's case row looked up once in case_ids
    # (whose hash table the evidence lookup built; the service rows share it too), then one
    # bincount per kind.
    row = case_ids.get_indexer(deviations["case_id"])
    kind = deviations["kind"].to_numpy(dtype=object)
    accepted = deviations["accepted"].to_numpy(dtype=bool)
    for k in ALL_KINDS:
        cases[f"n_{k}"] = np.bincount(row[(kind == k) & ~accepted & (row >= 0)], minlength=len(case_ids))
    cases["n_accepted"] = np.bincount(row[accepted & (row >= 0)], minlength=len(case_ids))
    cases["n_deviations"] = cases[[f"n_{k}" for k in DEVIATING]].sum(axis=1)
    cases["incomplete"] = cases["n_incomplete"] > 0
    cases["end_reached"] = cases["end_reached"].where(~cases["incomplete"], "")
    cases["conforming"] = (cases["n_deviations"] == 0) & ~cases["incomplete"]
    status = np.where(cases["incomplete"], 0, np.where(cases["conforming"], 1, 2))
    cases["status"] = pd.array(pa.array(["incomplete", "conforming", "deviating"]).take(status), dtype="str")
    cases["path"] = pd.Series(pd.array(pa.array([""] + paths, pa.large_string()).take(case_vid), dtype="str"),
                              index=cases.index)
    # The first service standard of the SOP gives the case's service columns (all are in
    # AuditResult.service).
    first = service.drop_duplicates("case_id", keep="first").set_index("case_id") if len(service) else None
    at = None
    if first is not None:  # each case's service row, -1 without one
        pos = case_ids.get_indexer(first.index)
        at = np.full(len(case_ids), -1, dtype=np.int64)
        at[pos[pos >= 0]] = np.flatnonzero(pos >= 0)
    for col, dtype in (("service_days", "float64"), ("service_limit_days", "float64"),
                       ("within_service_standard", "boolean")):
        if first is None:  # the SOP has no service standard
            cases[col] = pd.Series(pd.NA if dtype == "boolean" else np.nan, index=cases.index, dtype=dtype)
        else:
            cases[col] = pd.Series(_taken(first[col], at), index=cases.index).astype(dtype)
    front = ["case_id", "status", "conforming", "n_deviations", "fitness", "end_reached", "n_events",
             "start", "end"]
    return cases[front + [c for c in cases.columns if c not in front]]


def _steps_table(sop, case_vid, by_id, deviations, use_prefix, prefixes) -> pd.DataFrame:
    """Per SOP step: the cases whose path through the SOP required it, and what they did."""
    # A case "required" a step when the path it is judged on passes the step (a synchronous or
    # model move of it): its optimal run, or for a case still open the prefix it did so far (so
    # it counts only what it did). Counted per variant, weighted by its cases.
    n_full = np.bincount(case_vid[~use_prefix], minlength=len(by_id))
    n_open = np.bincount(case_vid[use_prefix], minlength=len(by_id))
    required: dict[str, int] = {}
    for vid in range(1, len(by_id)):
        for n, moves in ((n_full[vid], by_id[vid].moves), (n_open[vid], prefixes[vid].moves if n_open[vid] else ())):
            for s in {m.model for m in moves if m.model is not None}:
                required[s] = required.get(s, 0) + int(n)
    open_dev = deviations[~deviations["accepted"]]
    per = {k: open_dev[open_dev["kind"] == k].groupby("step")["case_id"].nunique()
           for k in ("skipped", "out_of_order", "repeated", "incomplete")}
    # In order: required, and neither skipped nor out of order (a step an open case still awaits
    # is not required of it: cases_waiting counts those).
    not_in_order = open_dev[open_dev["kind"].isin(["skipped", "out_of_order"])]
    not_in_order = not_in_order.groupby("step")["case_id"].nunique()
    rows = []
    for s in sop.steps:
        rows.append({
            "step": s.id, "step_name": s.name, "roles": ", ".join(s.roles),
            "cases_required": required.get(s.id, 0),
            "cases_in_order": max(required.get(s.id, 0) - int(not_in_order.get(s.id, 0)), 0),
            "cases_skipped": int(per["skipped"].get(s.id, 0)),
            "cases_out_of_order": int(per["out_of_order"].get(s.id, 0)),
            "cases_repeated": int(per["repeated"].get(s.id, 0)),
            "cases_waiting": int(per["incomplete"].get(s.id, 0)),
        })
    return pd.DataFrame(rows)


def case_metrics(n_events: int, cases: pd.DataFrame, deviations: pd.DataFrame, n_variants: int, sum_cost: int,
                 sum_bwc: int) -> dict:
    """The audit's metrics from its cases and findings tables and the summed alignment costs
    (kept in the metrics, so the audits of a log's partitions add up to the whole log's)."""
    n_cases = len(cases)
    finished = int((~cases["incomplete"] & (cases["status"] != "unaligned")).sum())
    open_dev = deviations[~deviations["accepted"]]
    counted = open_dev["kind"].value_counts()
    by_kind = {k: int(counted.get(k, 0)) for k in ALL_KINDS}
    cases_by_kind = {k: int((cases[f"n_{k}"] > 0).sum()) for k in ALL_KINDS}
    measurable = cases["within_service_standard"].notna()
    return {
        "cases": n_cases,
        "events": int(n_events),
        "variants": int(n_variants),
        "finished_cases": finished,
        "incomplete_cases": n_cases - finished,
        "conforming_cases": int(cases["conforming"].sum()),
        # Over finished cases: an open case is neither conforming nor deviating yet.
        "case_conformance_rate": float(cases["conforming"].sum() / finished) if finished else 0.0,
        # Same formula as pm4py's alignment-based log fitness: 1 - sum(cost) / sum(best worst cost).
        "fitness": 1.0 - sum_cost / sum_bwc if sum_bwc > 0 else 0.0,
        # Findings: every finding of a deviating kind not accepted (report/figures.definitions).
        "deviations": int(open_dev["kind"].isin(DEVIATING).sum()),
        "cases_with_findings": int((cases["n_deviations"] > 0).sum()),
        "accepted_deviations": int(deviations["accepted"].sum()),
        "deviations_by_kind": by_kind,
        "cases_with_kind": cases_by_kind,
        "case_rate_by_kind": {k: (v / n_cases if n_cases else 0.0) for k, v in cases_by_kind.items()},
        "cases_with_service_standard": int(measurable.sum()),
        "service_standard_rate": (float(cases.loc[measurable, "within_service_standard"].astype(bool).mean())
                                  if measurable.any() else None),
        "alignment_cost": sum_cost,
        "alignment_bwc": sum_bwc,
    }
