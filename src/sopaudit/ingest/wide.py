"""Turn a rekap export (one row per application, a date column per step) into one row per event.

Each filled milestone of a row becomes one event of the row's case: the step's label, its date
(joined with the time column beside it, daytime.py), the officer column that belongs to the step
and the case attributes. A blank milestone is no event (counted per step). Milestones of one row
that fall on the same day without a time of day are put in the order of the columns (the SOP
order the report was designed with): such an event takes the time of the latest earlier milestone
of its row that day, or midnight, so that the log keeps the column order; the quality report
counts and lists them. The long layout with `time: [Tanggal, Jam]` goes through the same date and
time reading here. Every milestone that cannot be read is listed as rejected with its row.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pyarrow as pa

from sopaudit.core.errors import MappingError
from sopaudit.ingest.columns import as_text
from sopaudit.ingest.daytime import join, read_dates, read_time_of_day, settled_order
from sopaudit.ingest.mapping import Mapping, Milestone
from sopaudit.ingest.quality import rows_entry
from sopaudit.ingest.source import Conversion, Source
from sopaudit.ingest.timestamps import NAT, US_PER_DAY, check_tz, localise

STEP = "sopaudit:step"
TIME = "sopaudit:time"
OFFICER = "sopaudit:officer"


def needs_conversion(mapping: Mapping) -> bool:
    return mapping.wide or isinstance(mapping.time, tuple)


def convert(source: Source, mapping: Mapping) -> tuple[Source, Mapping]:
    """The source as one row per event, and the mapping that reads it (see the module docstring)."""
    where = source.where
    table = _read_all(source)
    rows = source.row_numbers(table.num_rows) if table.num_rows else np.empty(0, np.int64)
    if mapping.wide:
        return _wide(source, mapping, table, rows)
    return _long(source, mapping, table, rows, where)


def _read_all(source: Source) -> pa.Table:
    batches = list(source.batches)
    if not batches:
        return pa.table({c: pa.array([], pa.string()) for c in source.columns})
    return pa.Table.from_batches(batches)


def _missing(where: str, what: str, col: str, columns: list[str], mapping: Mapping) -> MappingError:
    return MappingError(
        f"{where}: the {what} column '{col}' does not exist. The file has the columns: {', '.join(columns)}"
        + (f". Fix it in {mapping.source}" if mapping.source else "") + "."
    )


def _check_columns(where: str, mapping: Mapping, columns: list[str], named: list[tuple[str, str]]) -> None:
    for what, col in named:
        if col not in columns:
            raise _missing(where, what, col, columns, mapping)


def _times(where: str, mapping: Mapping, table: pa.Table, rows: np.ndarray,
           pairs: list[tuple[str, str | None]]) -> tuple[dict, str, dict]:
    """Per (date column, time column): wall-clock us, timed, unread masks and reasons."""
    spec = settled_order({d: table.column(d) for d, _ in pairs}, mapping.time_format or "auto", where)
    out = {}
    formats: dict[str, int] = {}
    order = None
    for date_col, time_col in pairs:
        dates = read_dates(table.column(date_col), date_col, spec, where, rows)
        order = order or dates.order
        for k, v in dates.formats.items():
            formats[k] = formats.get(k, 0) + int(v)
        tod = read_time_of_day(table.column(time_col)) if time_col else None
        us, timed = join(dates, tod)
        date_present = _present(table.column(date_col))
        reasons: list[tuple[np.ndarray, str]] = []
        if dates.order:
            other = "month-first" if dates.order == "dayfirst" else "day-first"
            mine = "day-first" if dates.order == "dayfirst" else "month-first"
            reasons.append((date_present & dates.conflict, f"date in column '{date_col}' can only be read {other}, but the export is {mine}"))
        reasons.append((date_present & (dates.us == NAT), f"unreadable date in column '{date_col}'"))
        if tod is not None:
            reasons.append((date_present & tod.present & ~tod.ok, f"unreadable time in column '{time_col}'"))
            reasons.append((~date_present & tod.present, f"time in column '{time_col}' without a date in column '{date_col}'"))
        out[(date_col, time_col)] = {"us": us, "aware": dates.aware, "timed": timed, "present": date_present,
                                     "reasons": reasons}
    return out, order, formats


def _present(arr) -> np.ndarray:
    arr = arr.combine_chunks() if isinstance(arr, pa.ChunkedArray) else arr
    ok = arr.is_valid().to_numpy(zero_copy_only=False)
    if pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type):
        import pyarrow.compute as pc

        ok &= pc.fill_null(pc.not_equal(pc.utf8_trim_whitespace(arr), ""), False).to_numpy(zero_copy_only=False)
    return ok


def _reject(reasons: list[tuple[np.ndarray, str]], rows: np.ndarray, rejected: list) -> np.ndarray:
    """Mask of values rejected (first reason only), their (row, reason) added to `rejected`."""
    bad = np.zeros(len(rows), bool)
    for mask, reason in reasons:
        new = mask & ~bad
        rejected.extend((int(r), reason) for r in rows[new])
        bad |= new
    return bad


def _utc(where: str, tz: str, us: np.ndarray, aware: np.ndarray, rows: np.ndarray, ok: np.ndarray,
         rejected: list, col: str) -> tuple[np.ndarray, np.ndarray]:
    """UTC times of the wall-clock times, and the mask of those that do not exist in the zone."""
    out, gap = localise(us.copy(), aware, tz)
    gap = np.zeros(len(us), bool) if gap is None else gap & ok
    rejected.extend((int(r), f"time in column '{col}' does not exist in {tz} (a daylight-saving change)") for r in rows[gap])
    return out, gap


def _long(source: Source, mapping: Mapping, table: pa.Table, rows: np.ndarray, where: str) -> tuple[Source, Mapping]:
    date_col, time_col = mapping.time
    _check_columns(where, mapping, table.column_names, [("date", date_col), ("time", time_col)])
    tz = check_tz(mapping.tz)
    times, order, formats = _times(where, mapping, table, rows, [(date_col, time_col)])
    t = times[(date_col, time_col)]
    rejected = list(source.invalid)
    bad = _reject([(~t["present"], f"missing or unreadable time in column '{date_col}'"), *t["reasons"]], rows, rejected)
    utc, gap = _utc(where, tz, t["us"], t["aware"], rows, ~bad, rejected, date_col)
    keep = np.flatnonzero(~bad & ~gap)
    others = [c for c in table.column_names if c not in (date_col, time_col)]
    out = table.select(others).take(pa.array(keep)).append_column(TIME, pa.array(utc[keep], pa.timestamp("us", tz="UTC")))
    date_only = ~t["timed"][keep]
    conv = Conversion(
        rows_read=int(len(rows) + len(source.invalid)), rejected=rejected,
        quality={"date_and_time": {"date": date_col, "time": time_col, "date_only": rows_entry(rows[keep][date_only])}},
        time_formats=formats, mapping={"time": [date_col, time_col], **({"date_order": order} if order else {})},
        timed=t["timed"][keep])
    new = Source(source.where, source.kind, out.column_names, iter(out.to_batches()), source.sha256,
                 source.details, rows=list(rows[keep]), hash_path=source.hash_path,
                 sheet_refs=source.sheet_refs, conversion=conv)
    return new, replace(mapping, time=TIME)


def _wide(source: Source, mapping: Mapping, table: pa.Table, rows: np.ndarray) -> tuple[Source, Mapping]:
    where = source.where
    cols = table.column_names
    ms: tuple[Milestone, ...] = mapping.milestones or ()
    if not ms:
        raise MappingError(f"{where}: layout: wide needs milestones: one entry per step with its date column "
                           "(`sopaudit ingest FILE --suggest` proposes them)")
    if mapping.case is None:
        raise MappingError(f"{where}: layout: wide needs case: the column with the application number")
    bad_keys = [k for k in ("activity", "time", "start", "lifecycle", "sequence") if getattr(mapping, k)]
    if bad_keys:
        raise MappingError(f"{where}: with layout: wide the steps and times come from milestones; remove {', '.join(bad_keys)}")
    if mapping.event_attributes:
        raise MappingError(f"{where}: with layout: wide every other column is a case attribute; name an officer "
                           "column under its milestone (resource:) instead of event_attributes")
    named = [("case", mapping.case)] + [(f"milestone '{m.step}' {what}", c) for m in ms
                                         for what, c in (("date", m.date), ("time", m.time), ("resource", m.resource)) if c]
    _check_columns(where, mapping, cols, named)
    used = [c for _, c in named]
    dup = sorted({c for c in used if used.count(c) > 1})
    if dup:
        raise MappingError(f"{where}: the column '{dup[0]}' is named twice in the mapping; each milestone needs its own columns")
    if mapping.case_attributes is not None:
        _check_columns(where, mapping, cols, [("case_attributes", c) for c in mapping.case_attributes])
        attrs = dict(mapping.case_attributes)
    else:
        attrs = {c: c for c in cols if c not in used}
    tz = check_tz(mapping.tz)
    times, order, formats = _times(where, mapping, table, rows, [(m.date, m.time) for m in ms])
    n = table.num_rows
    rejected = list(source.invalid)
    last = np.full(n, NAT, np.int64)  # wall clock of the latest milestone of the row so far
    parts = []  # (milestone index, positions, wall-clock us, timed, clamped)
    per_step = []
    for k, m in enumerate(ms):
        t = times[(m.date, m.time)]
        bad = _reject(t["reasons"], rows, rejected)
        ok = t["present"] & ~bad
        us = t["us"]
        # a date-only milestone on the day of an earlier one of its row follows it (column order)
        same_day = ok & ~t["timed"] & (last != NAT) & (last // US_PER_DAY == us // US_PER_DAY) & (last > us)
        us = np.where(same_day, last, us)
        last = np.where(ok & ((last == NAT) | (us > last)), us, last)
        pos = np.flatnonzero(ok)
        parts.append((k, pos, us[pos], t["timed"][pos], t["aware"][pos]))
        per_step.append({"step": m.step, "date": m.date, **({"time": m.time} if m.time else {}),
                         **({"resource": m.resource} if m.resource else {}),
                         "events": int(pos.size), "blank": int(np.count_nonzero(~t["present"] & ~bad)),
                         "rejected": int(np.count_nonzero(bad)),
                         "date_only": int(np.count_nonzero(~t["timed"][pos]))})
    # events row by row, each row's milestones in column order (the file order the build keeps)
    pos = np.concatenate([p[1] for p in parts]) if parts else np.empty(0, np.int64)
    step_k = np.concatenate([np.full(p[1].size, p[0], np.int64) for p in parts]) if parts else np.empty(0, np.int64)
    wall = np.concatenate([p[2] for p in parts]) if parts else np.empty(0, np.int64)
    timed = np.concatenate([p[3] for p in parts]) if parts else np.empty(0, bool)
    aware = np.concatenate([p[4] for p in parts]) if parts else np.empty(0, bool)
    order_ev = np.lexsort((step_k, pos))
    pos, step_k, wall, timed, aware = pos[order_ev], step_k[order_ev], wall[order_ev], timed[order_ev], aware[order_ev]
    utc, gap = localise(wall.copy(), aware, tz)
    if gap is not None:
        rejected.extend((int(r), f"time of milestone '{ms[int(s)].step}' does not exist in {tz} (a daylight-saving change)")
                        for r, s in zip(rows[pos[gap]], step_k[gap], strict=True))
        keep = ~gap
        pos, step_k, utc, timed, wall = pos[keep], step_k[keep], utc[keep], timed[keep], wall[keep]
    by_column = _ordered_by_column(pos, wall, timed)
    columns = {mapping.case: table.column(mapping.case).take(pa.array(pos)),
               STEP: pa.array(np.array([m.step for m in ms], dtype=object)[step_k], pa.string()),
               TIME: pa.array(utc, pa.timestamp("us", tz="UTC"))}
    officers = [m.resource for m in ms]
    if any(officers):
        columns[OFFICER] = _officers(table, ms, pos, step_k)
    for c in attrs:
        columns[c] = table.column(c).take(pa.array(pos))
    out = pa.table(columns)
    filled = np.zeros(n, bool)
    for t in times.values():
        filled |= t["present"]
    record = {"layout": "wide", "case": mapping.case,
              "milestones": [{k: v for k, v in (("step", m.step), ("date", m.date), ("time", m.time),
                                                ("resource", m.resource)) if v} for m in ms],
              **({"date_order": order} if order else {})}
    quality = {"wide": {
        "rows": int(n), "milestones": per_step,
        "blank_milestones": int(sum(s["blank"] for s in per_step)),
        "date_only": int(sum(s["date_only"] for s in per_step)),
        "ordered_by_column": rows_entry(rows[pos[by_column]]) | {"events": int(np.count_nonzero(by_column))},
        "rows_without_milestones": rows_entry(rows[~filled]),
    }}
    conv = Conversion(rows_read=int(n + len(source.invalid)), rejected=rejected, quality=quality,
                      time_formats=formats, mapping=record, timed=timed)
    new = Source(source.where, source.kind, out.column_names, iter(out.to_batches()), source.sha256,
                 source.details, rows=list(rows[pos]), hash_path=source.hash_path,
                 sheet_refs=source.sheet_refs, conversion=conv)
    long = Mapping(case=mapping.case, activity=STEP, time=TIME, resource=OFFICER if any(officers) else None,
                   case_attributes=attrs, event_attributes={}, time_format="auto", tz=tz, labels=mapping.labels,
                   duplicates=mapping.duplicates, plausible_start=mapping.plausible_start, source=mapping.source)
    return new, long


def _officers(table: pa.Table, ms: tuple[Milestone, ...], pos: np.ndarray, step_k: np.ndarray) -> pa.Array:
    """The officer of each event: the resource column of its milestone (text), None without one."""
    values = np.full(len(pos), None, object)
    for k, m in enumerate(ms):
        if not m.resource:
            continue
        sel = np.flatnonzero(step_k == k)
        if sel.size:
            arr = table.column(m.resource).take(pa.array(pos[sel]))
            arr = arr.combine_chunks() if isinstance(arr, pa.ChunkedArray) else arr
            text = arr if pa.types.is_string(arr.type) else as_text(arr)
            values[sel] = text.to_numpy(zero_copy_only=False)
    return pa.array(values, pa.string())


def _ordered_by_column(pos: np.ndarray, wall: np.ndarray, timed: np.ndarray) -> np.ndarray:
    """Events without a time of day that share their (local) day with another milestone of their
    row: their order among those comes from the columns."""
    if pos.size == 0:
        return np.zeros(0, bool)
    day = wall // US_PER_DAY
    # one int64 key per (row, day): rows are few million at most, days span a few thousand
    key = pos.astype(np.int64) << 24 | (day - day.min())
    _, inverse, counts = np.unique(key, return_inverse=True, return_counts=True)
    return (~timed) & (counts[inverse] > 1)
