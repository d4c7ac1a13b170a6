"""The data-quality report of an ingest: what was read, what was not, and what looks odd.

The report is a JSON-ready dict kept in `LogInfo.quality` and written as `quality.json`. Its keys
are described in docs/mapping.md. Facts only: nothing here changes the log. Row lists name source
rows (1-based data rows); rejected rows are always listed in full, the other checks list the first
ROW_LIMIT rows and give the full count.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sopaudit.calendar.workdays import WorkingCalendar

ROW_LIMIT = 1000
BATCH_MIN_EVENTS = 5  # a timestamp shared by at least this many events is a batch entry
SCHEMA_VERSION = "1.0"


def rows_entry(rows: np.ndarray | list, limit: int = ROW_LIMIT) -> dict:
    """{"count": n, "rows": first `limit` rows in order} (+ "rows_truncated": true when cut)."""
    rows = np.sort(np.asarray(rows, dtype=np.int64))
    out = {"count": int(rows.size), "rows": [int(r) for r in rows[:limit]]}
    if rows.size > limit:
        out["rows_truncated"] = True
    return out


def rejected_by_reason(rejected: list[tuple[int, str]], refs=None) -> list[dict]:
    """One entry per reason, most frequent first, with every row number (as 'Maret!R17' with the
    sheet references of a several-sheet workbook)."""
    groups: dict[str, list[int]] = {}
    for row, reason in rejected:
        groups.setdefault(reason, []).append(row)
    items = sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[0]))
    return [{"reason": r, "count": len(rows), "rows": [refs.ref(x) for x in sorted(rows)] if refs else sorted(rows)}
            for r, rows in items]


@dataclass
class EventArrays:
    """The final events in log order (sorted by case, time, sequence, file order)."""

    case: np.ndarray  # int codes
    case_values: pd.Index  # the case ids, by code
    time_utc: np.ndarray  # int64 microseconds
    rows: np.ndarray  # source rows
    timed: np.ndarray | None = None  # False: the time of day is not known (a date only)


def event_checks(ev: EventArrays, tz: str, plausible_start: dt.date, now: pd.Timestamp,
                 calendar: WorkingCalendar | None) -> dict:
    """Cases with one event, events outside office hours, ties within a case, batches of one
    timestamp, and times in the future or before a plausible start."""
    out: dict = {}
    n = len(ev.case)
    counts = np.bincount(ev.case, minlength=len(ev.case_values)) if n else np.zeros(0, np.int64)
    single = np.flatnonzero(counts == 1)
    out["cases_with_one_event"] = {
        "count": int(single.size),
        "cases": [str(c) for c in ev.case_values[single][:ROW_LIMIT]],
        **({"cases_truncated": True} if single.size > ROW_LIMIT else {}),
    }
    cal = calendar if calendar is not None else WorkingCalendar(tz=tz)
    if n:
        outside = _outside_office_hours(ev, tz, cal)
        if ev.timed is not None:  # a date without a time says nothing about the hour
            outside &= ev.timed
        opening, closing = cal.office_hours
        out["outside_office_hours"] = {
            **rows_entry(ev.rows[outside]),
            "office_hours": f"{opening}-{closing} on working days ({cal.country}, {cal.tz})",
        }
    else:
        out["outside_office_hours"] = {"count": 0, "rows": []}
    # ties: events of one case with the same time (the log keeps them in file/sequence order)
    same = np.zeros(n, bool)
    if n > 1:
        eq = (ev.case[1:] == ev.case[:-1]) & (ev.time_utc[1:] == ev.time_utc[:-1])
        if ev.timed is not None:  # a date-only time is no evidence of a tie
            eq &= ev.timed[1:] & ev.timed[:-1]
        same[1:] |= eq
        same[:-1] |= eq
    out["ties"] = {**rows_entry(ev.rows[same]), "groups": _tie_groups(ev, same)}
    out["batches"] = _batches(ev, tz)
    now_us = int(now.tz_convert("UTC").value // 1000)
    start = pd.Timestamp(plausible_start).tz_localize(tz)
    start_us = int(start.tz_convert("UTC").value // 1000)
    out["future"] = {**rows_entry(ev.rows[ev.time_utc > now_us]), "now": now.isoformat(timespec="seconds")}
    out["before_plausible_start"] = {**rows_entry(ev.rows[ev.time_utc < start_us]),
                                     "plausible_start": plausible_start.isoformat()}
    return out


def _tie_groups(ev: EventArrays, same: np.ndarray) -> int:
    if not same.any():
        return 0
    idx = np.flatnonzero(same)
    new = np.ones(idx.size, bool)
    new[1:] = ~((idx[1:] == idx[:-1] + 1) & (ev.case[idx[1:]] == ev.case[idx[:-1]])
                & (ev.time_utc[idx[1:]] == ev.time_utc[idx[:-1]]))
    return int(new.sum())


def _batches(ev: EventArrays, tz: str) -> dict:
    """Timestamps shared by BATCH_MIN_EVENTS or more events (any cases): bulk entries. Events
    with a date only (midnight, or their row's previous time) are no evidence of bulk entry."""
    if ev.timed is not None and not ev.timed.all():
        keep = ev.timed
        ev = EventArrays(ev.case[keep], ev.case_values, ev.time_utc[keep], ev.rows[keep])
    n = len(ev.time_utc)
    entry = {"min_events": BATCH_MIN_EVENTS, "count": 0, "events": 0, "largest": []}
    if n < BATCH_MIN_EVENTS:
        return entry
    t = np.sort(ev.time_utc)
    k = BATCH_MIN_EVENTS - 1
    # in sorted order a value shared by >= k+1 events has t[i] == t[i+k]: no per-value arrays
    stamps = np.unique(t[:-k][t[:-k] == t[k:]])
    if stamps.size == 0:
        return entry
    sizes = np.searchsorted(t, stamps, "right") - np.searchsorted(t, stamps, "left")
    del t
    entry["count"] = int(stamps.size)
    entry["events"] = int(sizes.sum())
    top = np.lexsort((stamps, -sizes))[:10]
    for b in top:
        stamp = stamps[b]
        members = np.flatnonzero(ev.time_utc == stamp)
        entry["largest"].append({
            "time": pd.Timestamp(int(stamp) * 1000, tz="UTC").tz_convert(tz).isoformat(),
            "events": int(sizes[b]),
            "cases": int(np.unique(ev.case[members]).size),
            "first_rows": [int(r) for r in np.sort(ev.rows[members])[:10]],
        })
    return entry


def _outside_office_hours(ev: EventArrays, tz: str, cal: WorkingCalendar) -> np.ndarray:
    """Mask of events outside office hours, in chunks to bound the calendar's temporaries."""
    out = np.ones(len(ev.time_utc), bool)
    # Only years the holiday tables can sensibly cover; times outside 1900-2199 are flagged by
    # the plausibility checks anyway (a garbage Excel number would ask for centuries of holidays).
    lo, hi = pd.Timestamp("1900-01-02", tz="UTC").value // 1000, pd.Timestamp("2199-12-30", tz="UTC").value // 1000
    step = 1 << 20
    for i in range(0, len(out), step):
        part = ev.time_utc[i:i + step]
        sane = (part >= lo) & (part <= hi)
        times = pd.DatetimeIndex(part[sane].view("datetime64[us]")).tz_localize("UTC").tz_convert(tz)
        chunk = out[i:i + step]
        chunk[sane] = ~np.asarray(cal.is_office_hours(times))
    return out


def label_report(recorded: np.ndarray, values: np.ndarray, table: dict[str, str] | None) -> dict:
    """Counts of recorded labels; with a label table, the unmapped labels with their counts."""
    counts = np.bincount(recorded[recorded >= 0], minlength=len(values))
    out: dict = {"distinct": int(np.count_nonzero(counts))}
    if table is not None:
        unmapped = [(str(values[i]), int(counts[i])) for i in np.flatnonzero(counts) if values[i] not in table]
        unmapped.sort(key=lambda lc: (-lc[1], lc[0]))
        out["table_entries"] = len(table)
        out["mapped_rows"] = int(counts.sum() - sum(c for _, c in unmapped))
        out["unmapped"] = [{"label": lab, "count": c} for lab, c in unmapped]
        unused = sorted(set(table) - {str(v) for v in values[np.flatnonzero(counts)]})
        out["table_labels_not_seen"] = unused
    return out


# A mapping that reads at least this many events as at most FEW_CASES cases, or that leaves more
# than NO_TIME_SHARE of the rows without a time, is probably wrong: a warning, never a quiet result.
FEW_CASES, FEW_CASES_MIN_EVENTS, NO_TIME_SHARE = 2, 10, 0.5
_TIME_REASONS = ("missing or unreadable time", "unreadable date", "unreadable time", "time in column",
                 "date in column", "time of milestone")


def mapping_warnings(q: dict) -> list[dict]:
    """Warnings about the mapping itself, from a finished quality report: each with its `kind`,
    the numbers behind it and an English `message` (the report translates the kind)."""
    out = []
    mapping = q.get("mapping", {})
    if q["events"] >= FEW_CASES_MIN_EVENTS and q["cases"] <= FEW_CASES:
        col = mapping.get("case", "")
        out.append({"kind": "few_cases", "events": q["events"], "cases": q["cases"], "column": col,
                    "message": f"{q['events']:,} events were read as only {q['cases']} case(s): the case "
                               f"column '{col}' is probably not the application number; check the mapping"})
    no_time = sum(item["count"] for item in q["rejected_by_reason"] if item["reason"].startswith(_TIME_REASONS))
    no_time += q.get("wide", {}).get("rows_without_milestones", {}).get("count", 0)
    rows = q["rows_read"]
    if rows and no_time > NO_TIME_SHARE * rows:
        out.append({"kind": "rows_without_time", "rows": no_time, "rows_read": rows,
                    "message": f"{no_time:,} of {rows:,} rows have no readable time (or date): the time "
                               "column(s) of the mapping or the time format are probably wrong"})
    return out


def summary_lines(q: dict) -> list[str]:
    """A short plain-text summary of a quality report, for the terminal."""
    src = q.get("source", {})
    lines = [f"read       {q['rows_read']:,} rows from {src.get('path', '')} ({_source_desc(src)})"]
    lines.append(f"events     {q['events']:,} in {q['cases']:,} cases"
                 + (f"   times: {', '.join(f'{k} {v:,}' for k, v in q.get('time_formats', {}).items())}" if q.get("time_formats") else ""))
    if q["rows_rejected"]:
        lines.append(f"rejected   {q['rows_rejected']:,} rows")
        for item in q["rejected_by_reason"]:
            shown = ", ".join(map(str, item["rows"][:8])) + (" ..." if item["count"] > 8 else "")
            lines.append(f"           {item['count']:,} {item['reason']} (rows {shown})")
    else:
        lines.append("rejected   none")
    d = q["duplicates"]
    if d["count"]:
        pairs = ", ".join(f"{r} = {f}" for r, f in d["pairs"][:5]) + (" ..." if d["count"] > 5 else "")
        lines.append(f"duplicates {d['count']:,} exact duplicate rows ({d['policy']}: "
                     f"{'kept as events' if d['policy'] == 'keep' else 'dropped, listed as rejected'}): rows {pairs}")
    lab = q.get("labels", {})
    if lab.get("unmapped"):
        shown = ", ".join(f"{u['label']} ({u['count']:,})" for u in lab["unmapped"][:8])
        lines.append(f"labels     {len(lab['unmapped'])} label(s) not in the label table, kept as recorded: {shown}")
    lc = q.get("lifecycle")
    if lc:
        lines.append(f"lifecycle  {lc['pairs']:,} start/complete pairs; unmatched: {lc['unmatched_start']['count']:,} "
                     f"start(s), {lc['unmatched_complete']['count']:,} complete(s)")
    checks = [("cases with one event", q["cases_with_one_event"]["count"]),
              ("events outside office hours", q["outside_office_hours"]["count"]),
              ("events tied in time within their case", q["ties"]["count"]),
              (f"batches of >= {q['batches']['min_events']} events with one timestamp", q["batches"]["count"]),
              ("times in the future", q["future"]["count"]),
              (f"times before {q['before_plausible_start']['plausible_start']}", q["before_plausible_start"]["count"])]
    if "start_after_end" in q:
        checks.append(("events whose start is after their end", q["start_after_end"]["count"]))
    if "start_missing" in q:
        checks.append(("events without a readable start time", q["start_missing"]["count"]))
    for attr in q.get("case_attribute_conflicts", []):
        checks.append((f"cases with several values of case attribute {attr['attribute']}", attr["count"]))
    flagged = [f"{n:,} {what}" for what, n in checks if n]
    if flagged:
        lines.append("flags      " + "; ".join(flagged))
    wide = q.get("wide")
    if wide:
        blank = ", ".join(f"{m['step']} {m['blank']:,}" for m in wide["milestones"] if m["blank"])
        lines.append(f"wide       {wide['rows']:,} rows, one per application; blank milestones (no event): "
                     f"{blank or 'none'}; {wide['date_only']:,} events with a date only, "
                     f"{wide['ordered_by_column']['events']:,} put in column order on a shared day")
    for sheet, title in src.get("title", {}).items():
        lines.append(f"title      {sheet}: {' / '.join(title)}")
    for note in src.get("notes", []):
        lines.append(f"note       {note}")
    for w in q.get("warnings", []):
        lines.append(f"WARNING    {w['message']}")
    return lines


def _source_desc(src: dict) -> str:
    parts = [src.get("format", "")]
    if src.get("encoding"):
        parts.append(src["encoding"])
    if src.get("delimiter"):
        parts.append("separator " + ("tab" if src["delimiter"] == "\t" else repr(src["delimiter"])))
    if src.get("sheet"):
        parts.append(f"sheet {src['sheet']!r}")
    return ", ".join(p for p in parts if p)


def format_counts(counts: Counter) -> dict:
    return {k: int(v) for k, v in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))}
