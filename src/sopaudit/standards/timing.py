"""Time standards of an SOP checked on the mapped event log: step times and the service standard.

Two checks, both vectorised over the whole log (numpy and the working-day calendar; no Python
loop per event):

- `check_step_times`: the duration of each step (start to end, when the log has start times) and
  the wait before it (from the previous event of the case), against the step's *mutu baku waktu*;
  `late_step` findings and per-step statistics (median, p90, share within the standard).
- `check_service_standard`: the end-to-end time of each case from one SOP step to another (e.g.
  4 working days from the interview to the passport being ready; 0 = the same working day for the
  accelerated service), per service type, with clock pauses excluded; `late_case` findings and
  one row per case.

How time is counted (docs/time-and-roles.md):

- `working_days`: `WorkingCalendar.working_days_between`, the working days after the start's
  local date up to and including the end's local date (the same day = 0).
- `days`: calendar days between the two local dates.
- `minutes` / `hours`: clock time when both timestamps fall on the same local date (work after
  closing time is still work, and the applicant still waited); across dates, office time on
  working days only (`working_hours_between`), because nights, weekends and holidays when the
  office is closed are not a delay of the step.

The input is the audit's mapped log: step ids in `concept:name`, tz-aware `time:timestamp` (end
time), optional tz-aware `start_timestamp`, `org:resource`, `sopaudit:row`, `sopaudit:pos`,
sorted by case, time and row (re-sorted here when it is not).
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from sopaudit.calendar.measure import DECIMALS, NAT, UNITS, measure, stamps
from sopaudit.calendar.workdays import WorkingCalendar
from sopaudit.core.columns import ROW, TIME
from sopaudit.sop.model import SOP, Duration
from sopaudit.standards.ordered import (
    UNIT_NAMES,
    OrderedLog,
    amounts,
    combine_findings,
    finding_frame,
    ordered_log,
)

logger = logging.getLogger(__name__)

CASE_SERVICE_COLUMNS = [
    "case_id", "standard", "service_days", "service_limit_days", "service_unit",
    "within_service_standard", "service_from_time", "service_to_time", "service_pause_days",
]

STEP_STATS_COLUMNS = [
    "step", "step_name", "measure", "limit", "unit", "inferred", "events", "n", "n_invalid",
    "n_late", "share_within", "median", "p90",
]


# --------------------------------------------------------------------- step time standards


def check_step_times(
    events: pd.DataFrame | OrderedLog, sop: SOP, calendar: WorkingCalendar | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """`late_step` findings and per-step statistics for the SOP's step time standards.

    Duration: start to end of the same event, only where `start_timestamp` is present; an end
    before its start is a data error, counted as `n_invalid` and not measured. Wait: from the
    previous event of the case (its recorded time) to this event's start, or its end when the
    log has no start; overlapping events wait 0. A case's first event has no wait. Returns
    (findings with the audit's deviation columns, step_stats with one row per step and measure
    that has a standard).
    """
    cal = calendar if calendar is not None else WorkingCalendar()
    log = ordered_log(events, sop)
    pieces, stats = [], []
    for measure_name in ("duration", "wait"):
        limit, unit, inferred = _standards(sop, measure_name)  # unit: codes into UNITS
        has_std = np.zeros(log.n, bool)
        sop_rows = np.flatnonzero(log.step >= 0)
        has_std[sop_rows] = ~np.isnan(limit[log.step[sop_rows]])
        rows = np.flatnonzero(has_std)
        if measure_name == "duration":
            rows = rows[log.has_start[rows]]
            start, end = log.start[rows], log.end[rows]
        else:
            # The log is ordered by case and position: the previous event is the row before.
            rows = rows[log.pos[rows] > 0]
            start = log.end[rows - 1]
            end = np.where(log.has_start[rows], log.start[rows], log.end[rows])
        row_unit = unit[log.step[rows]]
        value = np.full(rows.size, np.nan)
        for code, u in enumerate(UNITS):
            of_unit = row_unit == code
            if of_unit.any():
                value[of_unit] = measure(start[of_unit], end[of_unit], u, cal)
        invalid = np.zeros(rows.size, bool)
        if measure_name == "duration":
            invalid = value < 0
            value[invalid] = np.nan
            if invalid.any():
                logger.warning("%d event(s) end before they start; their durations are not measured",
                               int(invalid.sum()))
        else:
            value = np.maximum(value, 0.0)  # started before the previous event ended: no wait
        lim = limit[log.step[rows]]
        late = value > lim
        stats.append(_step_stats(sop, log, measure_name, rows, value, invalid, late, limit, unit, inferred))
        late_rows = rows[late]
        if late_rows.size:
            pieces.append(_late_step_findings(log, measure_name, late_rows, value[late], lim[late],
                                              row_unit[late], late_rows - 1))
    findings = combine_findings(pieces, log)
    step_stats = pd.concat(stats, ignore_index=True) if stats else pd.DataFrame(columns=STEP_STATS_COLUMNS)
    order = {sid: i for i, sid in enumerate(sop.step_ids)}
    step_stats = (
        step_stats.assign(_o=step_stats["step"].map(order), _m=step_stats["measure"].map({"duration": 0, "wait": 1}))
        .sort_values(["_o", "_m"], kind="mergesort").drop(columns=["_o", "_m"]).reset_index(drop=True)
    )
    return findings, step_stats[STEP_STATS_COLUMNS]


def _standards(sop: SOP, measure_name: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per SOP step index: limit value (NaN without a standard), unit code and inferred flag."""
    limit = np.full(len(sop.steps), np.nan)
    unit = np.full(len(sop.steps), -1, dtype=np.int64)
    inferred = np.zeros(len(sop.steps), bool)
    for i, s in enumerate(sop.steps):
        d: Duration | None = getattr(s.time, measure_name)
        if d is not None:
            if d.unit not in UNITS:
                raise ValueError(f"step '{s.id}': unknown time unit {d.unit!r}")
            limit[i], unit[i], inferred[i] = d.value, UNITS.index(d.unit), s.time.inferred
    return limit, unit, inferred


def _step_stats(sop, log, measure_name, rows, value, invalid, late, limit, unit, inferred) -> pd.DataFrame:
    with_std = np.flatnonzero(~np.isnan(limit))
    executions = np.bincount(log.step[log.step >= 0], minlength=len(sop.steps))
    measured = ~np.isnan(value)
    frame = pd.DataFrame({"k": log.step[rows][measured], "v": value[measured]})
    grouped = frame.groupby("k")["v"]
    n = grouped.size()
    med = grouped.median()
    p90 = grouped.quantile(0.9)
    n_invalid = np.bincount(log.step[rows][invalid], minlength=len(sop.steps))
    n_late = np.bincount(log.step[rows][late], minlength=len(sop.steps))
    out = pd.DataFrame({
        "step": [sop.steps[k].id for k in with_std],
        "step_name": [sop.steps[k].name for k in with_std],
        "measure": measure_name,
        "limit": limit[with_std],
        "unit": UNIT_NAMES[unit[with_std]].astype(str),
        "inferred": inferred[with_std],
        "events": executions[with_std].astype(np.int64),
        "n": n.reindex(with_std, fill_value=0).to_numpy(np.int64),
        "n_invalid": n_invalid[with_std].astype(np.int64),
        "n_late": n_late[with_std].astype(np.int64),
        "median": med.reindex(with_std).to_numpy(np.float64),
        "p90": p90.reindex(with_std).to_numpy(np.float64),
    })
    out["share_within"] = np.where(out["n"] > 0, 1 - out["n_late"] / out["n"].clip(lower=1), np.nan)
    return out


def _late_step_findings(log: OrderedLog, measure_name, rows, value, lim, unit, prev) -> pd.DataFrame:
    # Texts built with object-array arithmetic (elementwise str +), numbers formatted once per
    # distinct value: hundreds of thousands of findings cost well under a second.
    took, allowed = amounts(value, unit), amounts(lim, unit)
    if measure_name == "duration":
        detail = "took " + took + " from start to end; the SOP allows " + allowed
        related = evidence = np.full(rows.size, "", dtype=object)
        code = "late_duration"
    else:
        evidence = log.frame[ROW].to_numpy()[prev].astype(str).astype(object)
        related = log.activity.iloc[prev].to_numpy(dtype=object)
        detail = ("waited " + took + " after '" + related + "' (row " + evidence
                  + "); the SOP allows " + allowed)
        code = "late_wait"
    return finding_frame(log, rows, kind="late_step", detail=detail, related=related,
                         detail_code=code, evidence_rows=evidence, measured=value, limit=lim,
                         unit=UNIT_NAMES[unit])


# --------------------------------------------------------------------- the service standard


def check_service_standard(
    events: pd.DataFrame | OrderedLog, sop: SOP, calendar: WorkingCalendar | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """`late_case` findings and the service time of every case for each SOP service standard.

    The clock runs from the first occurrence of `from_step` (its start when `start_at` is
    "start" and the log has start times, else its recorded time) to the last occurrence of
    `to_step`, minus the pause spans (from a pause's `from` step to the next `to` step of the
    same case, clipped to the clock span and merged where they overlap; a pause that never
    closes is not subtracted). The limit comes from `per_value` when the case attribute named by
    `attribute` (first non-empty value of the case) matches, else `limit`. Cases without
    either step, or whose to_step comes before from_step, are not measurable: NA, never late.
    Returns (findings, case_service with one row per case and standard, sorted by case id).
    """
    cal = calendar if calendar is not None else WorkingCalendar()
    log = ordered_log(events, sop)
    pieces, tables = [], []
    for std in sop.service_standards:
        findings, table = _service_one(log, sop, std, cal)
        pieces.append(findings)
        tables.append(table)
    findings = combine_findings(pieces, log)
    if tables:
        case_service = pd.concat(tables, ignore_index=True)
        # By case id, then standard in SOP order; integer keys, no string sort.
        rank = np.tile(log.case_rank(), len(tables))
        which = np.repeat(np.arange(len(tables)), log.n_cases)
        case_service = case_service.take(np.lexsort((which, rank))).reset_index(drop=True)
    else:
        case_service = pd.DataFrame({c: pd.Series(dtype=object) for c in CASE_SERVICE_COLUMNS})
    return findings, case_service[CASE_SERVICE_COLUMNS]


def _occurrence(log: OrderedLog, step_index: int, last: bool) -> np.ndarray:
    """Row of the first (or last) event of the step in each case; -1 where the case lacks it."""
    out = np.full(log.n_cases, -1, dtype=np.int64)
    rows = np.flatnonzero(log.step == step_index)
    if rows.size:
        cases = log.case[rows]
        if last:
            # Rows ascend within a case, so the last write per case wins.
            out[cases] = rows
        else:
            out[cases[::-1]] = rows[::-1]
    return out


def _service_one(log: OrderedLog, sop: SOP, std, cal: WorkingCalendar) -> tuple[pd.DataFrame, pd.DataFrame]:
    index = {sid: i for i, sid in enumerate(log.step_ids)}
    label = f"{std.from_step}->{std.to_step}"
    from_row = _occurrence(log, index[std.from_step], last=False)
    to_row = _occurrence(log, index[std.to_step], last=True)
    both = (from_row >= 0) & (to_row >= 0)
    fr, tr = np.maximum(from_row, 0), np.maximum(to_row, 0)
    use_start = log.has_start[fr] if std.start_at == "start" else np.zeros(log.n_cases, bool)
    t_from = np.where(both, np.where(use_start, log.start[fr], log.end[fr]), NAT)
    t_to = np.where(both, log.end[tr], NAT)
    measurable = both & (t_to >= t_from)

    limit_value, limit_unit, chosen = _case_limits(log, std)
    total = np.full(log.n_cases, np.nan)
    paused = np.zeros(log.n_cases)
    spans = _pause_spans(log, std, index, t_from, t_to, measurable)
    for code, u in enumerate(UNITS):
        sel = measurable & (limit_unit == code)
        if sel.any():
            total[sel] = measure(t_from[sel], t_to[sel], u, cal)
        if spans is not None:
            of_unit = limit_unit[spans[0]] == code
            if of_unit.any():
                c, s, e = spans[0][of_unit], spans[1][of_unit], spans[2][of_unit]
                paused += np.bincount(c, weights=measure(s, e, u, cal), minlength=log.n_cases)
    service = np.round(np.where(measurable, total - paused, np.nan), DECIMALS)
    within = pd.array(np.where(measurable, service <= limit_value, False), dtype="boolean")
    within[~measurable] = pd.NA
    tz = log.frame[TIME].dt.tz
    table = pd.DataFrame({
        "case_id": log.case_ids,
        "standard": label,
        "service_days": service,
        "service_limit_days": limit_value,
        "service_unit": UNIT_NAMES[limit_unit].astype(str),
        "within_service_standard": within,
        "service_from_time": stamps(t_from).tz_convert(tz),
        "service_to_time": stamps(t_to).tz_convert(tz),
        "service_pause_days": np.where(measurable, np.round(paused, DECIMALS), np.nan),
    })
    late = np.flatnonzero(measurable & (service > limit_value))
    findings = _late_case_findings(log, sop, std, late, to_row, from_row, service, limit_value,
                                   limit_unit, chosen, paused)
    n_missing = int((~both).sum())
    if n_missing:
        logger.info("service standard %s: %d of %d case(s) lack %s or %s and are not measured",
                    label, n_missing, log.n_cases, std.from_step, std.to_step)
    return findings, table


def _case_limits(log: OrderedLog, std) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per case: the limit value, its unit code, and the attribute value that chose it."""
    if std.limit.unit not in UNITS:
        raise ValueError(f"service standard {std.from_step}->{std.to_step}: unknown unit {std.limit.unit!r}")
    value = np.full(log.n_cases, float(std.limit.value))
    unit = np.full(log.n_cases, UNITS.index(std.limit.unit), dtype=np.int64)
    chosen = np.full(log.n_cases, "", dtype=object)
    if not std.attribute:
        return value, unit, chosen
    if std.attribute not in log.frame.columns:
        logger.warning("service standard %s->%s: the log has no column %r; every case gets the "
                       "default limit %s", std.from_step, std.to_step, std.attribute, std.limit)
        return value, unit, chosen
    # First recorded value per case, then cleaned: cheaper than cleaning every event's value.
    first = log.frame[std.attribute].groupby(log.case).first().reindex(np.arange(log.n_cases))
    first = first.astype("string").str.strip().replace("", pd.NA)
    per = {str(k).strip(): d for k, d in std.per_value}
    for key, d in per.items():
        if d.unit not in UNITS:
            raise ValueError(f"service standard {std.from_step}->{std.to_step}: unknown unit {d.unit!r}")
        hit = (first == key).fillna(False).to_numpy(bool)
        value[hit], unit[hit] = float(d.value), UNITS.index(d.unit)
    chosen = first.fillna("").astype(str).to_numpy(dtype=object)
    return value, unit, chosen


def _pause_spans(log: OrderedLog, std, index, t_from, t_to, measurable):
    """(case, start_ns, end_ns) of the disjoint pause spans inside each case's clock, or None."""
    cases, starts, ends = [], [], []
    for p_from, p_to in std.pauses:
        if p_from not in index or p_to not in index:
            raise ValueError(
                f"service standard {std.from_step}->{std.to_step}: pause {p_from}->{p_to} names a "
                f"step the SOP does not have"
            )
        is_from = log.step == index[p_from]
        is_to = log.step == index[p_to]
        if not is_from.any() or not is_to.any():
            continue
        rows = np.flatnonzero(is_from | is_to)
        # For every row, the next `to` row strictly after it (rows ascend by case, then position).
        nxt = np.where(is_to[rows], np.arange(rows.size), rows.size)
        nxt = np.minimum.accumulate(nxt[::-1])[::-1]
        after = np.r_[nxt[1:], rows.size]
        src = np.flatnonzero(is_from[rows] & (after < rows.size))
        target = after[src]
        a, b = rows[src], rows[target]
        same = log.case[a] == log.case[b]
        a, b = a[same], b[same]
        cases.append(log.case[a])
        starts.append(log.end[a])
        ends.append(np.where(log.has_start[b], log.start[b], log.end[b]))
    if not cases:
        return None
    c, s, e = np.concatenate(cases), np.concatenate(starts), np.concatenate(ends)
    keep = measurable[c]
    c, s, e = c[keep], np.maximum(s[keep], t_from[c[keep]]), np.minimum(e[keep], t_to[c[keep]])
    keep = e > s
    c, s, e = c[keep], s[keep], e[keep]
    if not c.size:
        return None
    # Merge overlapping spans per case: sort, then cut each start at the running end before it.
    order = np.lexsort((s, c))
    c, s, e = c[order], s[order], e[order]
    run_end = pd.Series(e).groupby(c).cummax().to_numpy()
    before = np.r_[NAT, run_end[:-1]]
    before[np.r_[True, c[1:] != c[:-1]]] = NAT
    s = np.maximum(s, before)
    keep = e > s
    return c[keep], s[keep], e[keep]


def _late_case_findings(log, sop, std, late, to_row, from_row, service, limit_value, limit_unit,
                        chosen, paused) -> pd.DataFrame:
    if not late.size:
        return combine_findings([], log)
    names = log.step_names
    unit = limit_unit[late]
    detail = (amounts(service[late], unit)
              + f" from '{names[std.from_step]}' to '{names[std.to_step]}'; the service standard allows "
              + amounts(limit_value[late], unit))
    if std.attribute:
        value = chosen[late].copy()
        value[value == ""] = "not recorded"
        detail = detail + f" ({std.attribute} = " + value + ")"
    pause = paused[late] > 0
    if pause.any():
        detail[pause] = detail[pause] + "; " + amounts(paused[late][pause], unit[pause]) + " of pauses not counted"
    evidence = log.frame[ROW].to_numpy()[from_row[late]].astype(str).astype(object)
    return finding_frame(log, to_row[late], kind="late_case", detail=detail,
                         related=np.full(late.size, std.from_step, dtype=object), detail_code="late_case",
                         evidence_rows=evidence, measured=service[late], limit=limit_value[late],
                         unit=UNIT_NAMES[unit])
