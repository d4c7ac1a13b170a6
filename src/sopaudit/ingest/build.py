"""Turn an opened source and a mapping into the canonical event log and its quality report.

Steps, each over whole columns: collect the columns batch by batch (columns.py), read the times
and localise naive ones, reject the rows that cannot be events (each with its first reason),
find exact duplicate rows, pair lifecycle halves, sort by case, time, sequence and file order,
map labels, run the quality checks and build the DataFrame. Every input row ends up either as
(part of) an event or in the rejected list.
"""

from __future__ import annotations

import logging
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from sopaudit.calendar.holiday_tables import warm_holidays
from sopaudit.calendar.workdays import WorkingCalendar
from sopaudit.core.columns import (
    ACTIVITY,
    CASE,
    INFO_KEY,
    LABEL,
    RESOURCE,
    ROW,
    SHEET,
    SHEET_ROW,
    START,
    START_ROW,
    TIME,
    LogInfo,
)
from sopaudit.core.errors import InputFileError
from sopaudit.ingest import lifecycle as lc
from sopaudit.ingest.columns import (
    Codes,
    TextColumn,
    TimeColumn,
    Times,
    TypedColumn,
    as_text,
    is_text,
)
from sopaudit.ingest.mapping import Mapping, Resolved, resolve
from sopaudit.ingest.quality import (
    SCHEMA_VERSION,
    EventArrays,
    event_checks,
    format_counts,
    label_report,
    mapping_warnings,
    rejected_by_reason,
    rows_entry,
)
from sopaudit.ingest.source import Source, sha256_file
from sopaudit.ingest.timestamps import NAT, localise

logger = logging.getLogger(__name__)

# A text attribute with more distinct values than this share of the rows stays plain text in the
# log; below it, it becomes a pandas Categorical (small, fast to group and sort).
CATEGORICAL_SHARE = 0.5
TEXT_ROLES = ("case", "activity", "resource", "lifecycle")
CANONICAL = (CASE, ACTIVITY, TIME, START, RESOURCE, ROW, START_ROW, LABEL)


@dataclass
class Collected:
    n: int
    rows: np.ndarray | None  # source row numbers; None when they are simply 1..n
    text: dict[str, Codes]
    typed: dict[str, pa.Array]
    times: dict[str, Times]

    def row(self, pos: np.ndarray) -> np.ndarray:
        """Source row numbers of positions."""
        return (np.asarray(pos, dtype=np.int64) + 1) if self.rows is None else self.rows[pos]


def collect(source: Source, res: Resolved, keep: list[str]) -> Collected:
    """Read every batch of `source` into compact columns (the roles and the kept attributes)."""
    where = source.where
    time_cols = {c: TimeColumn(c, res.time_format, where) for c in (res.time, res.start) if c}
    text_roles = {getattr(res, r) for r in TEXT_ROLES if getattr(res, r)}
    # the columns that repeat a few values; the case id and times are many distinct values
    source.encode.update(set(keep) - {res.case, res.sequence, *time_cols})
    buffers: dict[str, TextColumn | TypedColumn] = {}
    # Batches (a large CSV, Parquet, SQL) hand their freed buffers back as they go, or the pool
    # keeps them all; one batch (XES) is held by its source, and a release only makes later
    # allocations fault in fresh pages.
    release = pa.default_memory_pool().release_unused
    n = batches = 0
    for batch in source.batches:
        if batches:
            release()
        batches += 1
        for col in keep:
            arr = batch.column(col)
            if col in time_cols:
                time_cols[col].add(arr)
                continue
            buf = buffers.get(col)
            if buf is None:
                buf = buffers[col] = TextColumn() if (is_text(arr.type) or col in text_roles) else TypedColumn()
            if isinstance(buf, TextColumn) and not is_text(arr.type):
                arr = as_text(arr)
            buf.add(arr)
        n += batch.num_rows
        del batch
    streamed = batches > 1
    if streamed:
        release()
    logger.debug("read %d rows", n)
    rows = None if (source.rows is None and not source.invalid) else source.row_numbers(n)
    if rows is not None and len(rows) != n:
        raise InputFileError(f"{where}: internal row count mismatch ({len(rows)} numbers for {n} rows)")
    text, typed = {}, {}
    for col in keep:
        if col in time_cols:
            continue
        buf = buffers.pop(col, None)
        if buf is None:  # no batch at all
            text[col] = Codes(np.empty(0, np.int8), pa.array([], pa.string()))
        elif isinstance(buf, TextColumn):
            text[col] = buf.finish()
        else:
            typed[col] = buf.finish()
        if streamed:
            release()
        logger.debug("encoded column %r", col)
    data = Collected(n, rows, text, typed, {})
    all_rows = data.row(np.arange(n)) if n else np.empty(0, np.int64)
    data.times = {c: t.finish(all_rows) for c, t in time_cols.items()}
    if streamed:
        release()  # the parse buffers, before the next steps
    return data


def build(source: Source, mapping: Mapping, *, strict: bool, calendar: WorkingCalendar | None,
          now: pd.Timestamp | None) -> pd.DataFrame:
    """The canonical log of `source` under `mapping` (see the module docstring)."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        # Beside the main thread: the holiday tables of the quality checks are imported while the
        # file is parsed (a thread parses it), the file's SHA-256 (provenance) is computed after.
        pool.submit(warm_holidays, calendar.country if calendar is not None else "ID")
        frame = _build(source, mapping, strict=strict, calendar=calendar, now=now, pool=pool)
    return frame


def _build(source: Source, mapping: Mapping, *, strict: bool, calendar: WorkingCalendar | None,
           now: pd.Timestamp | None, pool: ThreadPoolExecutor) -> pd.DataFrame:
    where = source.where
    res = resolve(mapping, source.columns, where)
    attrs = _attribute_names(res, source.columns)
    keep = list(dict.fromkeys([*res.roles.values(), *attrs]))
    data = collect(source, res, keep)
    digest = pool.submit(sha256_file, source.hash_path) if source.hash_path else None
    logger.debug("collected %d rows", data.n)
    if data.n == 0 and not source.invalid:
        raise InputFileError(f"{where}: the log has no rows; export the events again or pick another file")
    tz = res.tz

    # ---- times: naive wall-clock times become UTC through the zone
    end_t = data.times[res.time]
    end_far = _out_of_range(end_t.us)
    end_t.us, end_gap = localise(_in_range(end_t.us), end_t.aware, tz)
    start_unread = None
    if res.start:
        st = data.times[res.start]
        st.us, _ = localise(_in_range(st.us), st.aware, tz)
        start_unread = st.us == NAT

    # ---- rejected rows, first reason only
    case_codes = data.text[res.case].codes
    act_codes = data.text[res.activity].codes
    reasons: list[tuple[np.ndarray, str]] = [
        (case_codes < 0, f"no case id in column '{res.case}'"),
        (act_codes < 0, f"no activity in column '{res.activity}'"),
    ]
    if end_t.order:
        other = "month-first" if end_t.order == "dayfirst" else "day-first"
        mine = "day-first" if end_t.order == "dayfirst" else "month-first"
        reasons.append((end_t.conflict, f"time in column '{res.time}' can only be read {other}, but the column is {mine}"))
    if end_gap is not None:
        reasons.append((end_gap, f"time in column '{res.time}' does not exist in {tz} (a daylight-saving change)"))
    reasons.append((end_far, f"time in column '{res.time}' is outside the years {YEARS[0]}-{YEARS[1]} "
                             "(a year such as 0024 or 2300); check the year in the export"))
    reasons.append((end_t.us == NAT, f"missing or unreadable time in column '{res.time}'"))
    kind = None
    if res.lifecycle:
        kind, lc_reasons = _lifecycle_kinds(data.text[res.lifecycle], res)
        reasons.extend(lc_reasons)
    rejected_mask = np.zeros(data.n, bool)
    conv = source.conversion
    rejected: list[tuple[int, str]] = list(source.invalid) + (list(conv.rejected) if conv else [])
    for mask, reason in reasons:
        new = mask & ~rejected_mask
        if new.any():
            rejected.extend((int(r), reason) for r in data.row(np.flatnonzero(new)))
            rejected_mask |= new
    del reasons, end_gap
    accepted = np.flatnonzero(~rejected_mask)
    logger.debug("rejected %d rows", len(rejected))
    bad_codes = np.unique(case_codes[rejected_mask & (case_codes >= 0)])
    rejected_cases = tuple(data.text[res.case].values.take(pa.array(bad_codes.astype(np.int64))).to_pylist())
    rejected_cases += _unsplit_cases(source, res.case, data.text[res.case].values, rejected_cases)
    del rejected_mask
    end_us = end_t.us

    # ---- one event per row (sorted), or lifecycle pairs; exact duplicates among the rows
    quality: dict = {}
    if res.lifecycle:
        dup_pos, dup_first = _duplicates(data, keep, accepted[sort_order(case_codes[accepted], end_us[accepted])],
                                         case_codes, end_us)
        if res.duplicates == "drop" and dup_pos.size:
            accepted = accepted[~np.isin(accepted, dup_pos)]
        pairs = lc.pair(case_codes[accepted], act_codes[accepted], end_us[accepted], kind[accepted])
        end_pos, start_pos = accepted[pairs.end], accepted[pairs.start]
        quality["lifecycle"] = {
            "column": res.lifecycle,
            "pairs": int(np.count_nonzero(end_pos != start_pos)),
            "unmatched_start": rows_entry(data.row(accepted[pairs.unmatched_start])),
            "unmatched_complete": rows_entry(data.row(accepted[pairs.unmatched_complete])),
        }
        seq = _sequence(data, res.sequence, end_pos) if res.sequence else None
        order = sort_order(case_codes[end_pos], end_us[end_pos], seq)
        end_pos, start_pos = end_pos[order], start_pos[order]
    else:
        seq = _sequence(data, res.sequence, accepted) if res.sequence else None
        if accepted.size == data.n:  # nothing rejected: sort the columns themselves, no copies
            end_pos = sort_order(case_codes, end_us, seq)
        else:
            end_pos = accepted[sort_order(case_codes[accepted], end_us[accepted], seq)]
        del accepted, seq
        dup_pos, dup_first = _duplicates(data, keep, end_pos, case_codes, end_us)
        if res.duplicates == "drop" and dup_pos.size:
            end_pos = end_pos[~np.isin(end_pos, dup_pos)]
        start_pos = end_pos
    if res.duplicates == "drop" and dup_pos.size:
        rejected.extend((int(r), "exact duplicate of an earlier row (dropped)") for r in data.row(dup_pos))
    rejected.sort()

    if strict:
        _strict_check(where, rejected, data, dup_pos, dup_first, quality, res, end_pos, source.sheet_refs)

    if res.start:
        s_us, e_us = data.times[res.start].us[start_pos], end_us[end_pos]
        quality["start_missing"] = rows_entry(data.row(end_pos[start_unread[start_pos]]))
        quality["start_after_end"] = rows_entry(data.row(end_pos[(s_us != NAT) & (s_us > e_us)]))
        del s_us, e_us
    conflicts = _case_attribute_conflicts(data, res, end_pos)
    time_formats = Counter(conv.time_formats if conv else end_t.formats)
    mapping_record = _mapping_record(res, end_t)
    if conv:  # the columns the conversion read, not the ones it made
        mapping_record = {**{k: v for k, v in mapping_record.items()
                             if not (isinstance(v, str) and v.startswith("sopaudit:"))}, **conv.mapping}
    timed = conv.timed[end_pos] if conv is not None and conv.timed is not None else None
    trimmed = {c: int(data.text[c].trimmed) for c in data.text if data.text[c].trimmed}
    rows_read = int(conv.rows_read) if conv else int(data.n + len(source.invalid))
    dup_pairs = [[int(a), int(b)] for a, b in zip(data.row(dup_pos[:1000]), data.row(dup_first[:1000]), strict=True)]

    logger.debug("sorted %d events", len(end_pos))
    frame = _frame(data, res, attrs, end_pos, start_pos, tz)
    if source.sheet_refs is not None:
        sheet, sheet_row = source.sheet_refs.at(frame[ROW].to_numpy())
        frame[SHEET] = pd.Categorical.from_codes(sheet, categories=source.sheet_refs.names)
        frame[SHEET_ROW] = sheet_row
    logger.debug("built the frame")
    del data, end_t, end_us, end_pos, start_pos

    # ---- quality, from the finished log (no second copy of the columns)
    case_cat = frame[CASE].array
    ev = EventArrays(np.asarray(case_cat.codes), case_cat.categories, _utc_us(frame[TIME]),
                     frame[ROW].to_numpy(), timed)
    now = now if now is not None else pd.Timestamp.now(tz=tz)
    checks = event_checks(ev, tz, res.plausible_start, now, calendar)
    logger.debug("quality checks done")
    label_cat = frame[LABEL].array
    quality["labels"] = label_report(np.asarray(label_cat.codes), label_cat.categories, res.labels)
    if conflicts:
        quality["case_attribute_conflicts"] = conflicts
    info_details = dict(source.details)
    info_details["path"] = where
    head = {
        "schema_version": SCHEMA_VERSION,
        "source": info_details,
        "mapping": mapping_record,
        "rows_read": rows_read,
        "events": int(len(frame)),
        "cases": int(np.count_nonzero(np.bincount(ev.case[ev.case >= 0], minlength=1))) if len(frame) else 0,
        "rows_rejected": len(rejected),
        "rejected_by_reason": rejected_by_reason(rejected, source.sheet_refs),
        "time_formats": format_counts(time_formats),
        "trimmed_values": trimmed,
        "duplicates": {
            "count": int(dup_pos.size), "policy": res.duplicates, "pairs": dup_pairs,
            **({"pairs_truncated": True} if dup_pos.size > 1000 else {}),
        },
    }
    quality = {**head, **checks, **(conv.quality if conv else {}), **quality}
    if res.unused:
        quality["columns_not_read"] = list(res.unused)
    quality["warnings"] = mapping_warnings(quality)
    if frame.empty:
        reasons_seen = "; ".join(sorted({r for _, r in rejected})) or "no rows"
        raise InputFileError(
            f"{where}: none of the {rows_read} rows could be read as an event "
            f"({reasons_seen}); check the column mapping and the time format"
        )
    frame.attrs[INFO_KEY] = LogInfo(
        path=where, sha256=digest.result() if digest is not None else source.sha256, tz=tz, mapping=mapping_record,
        rows_read=rows_read, rejected=tuple(_refs(rejected, source.sheet_refs)), quality=quality,
        source=info_details, rejected_cases=rejected_cases,
    )
    return frame


def _refs(rejected: list[tuple[int, str]], refs) -> list[tuple]:
    """Rejected rows as 'Maret!R17' when several sheets were read, else as row numbers."""
    return rejected if refs is None else [(refs.ref(r), why) for r, why in rejected]


# Times the audit can compute with: pandas' nanosecond times end in 1677 and 2262 (with a margin
# for time zones). A time outside is rejected with its row, never read as another year.
YEARS = (1678, 2261)
_MIN_US = -9_214_560_000_000_000  # 1678-01-01 00:00 UTC
_MAX_US = 9_214_646_399_999_999  # 2261-12-31 23:59:59.999999 UTC


def _unsplit_cases(source: Source, case_col: str, known: pa.Array, already: tuple) -> tuple:
    """Cases of the log named by rows that could not be split into columns (a broken quote, a
    stray separator): their evidence is incomplete too."""
    if not source.invalid_fields or case_col not in source.columns:
        return ()
    at = source.columns.index(case_col)
    names = {f[at].strip() for f in source.invalid_fields.values() if len(f) > at and f[at].strip()}
    names -= set(already)
    if not names:
        return ()
    candidates = pa.array(sorted(names), pa.string())
    return tuple(candidates.filter(pc.is_in(candidates, value_set=known)).to_pylist())


def _out_of_range(us: np.ndarray) -> np.ndarray:
    """Times read but outside YEARS."""
    return (us != NAT) & ((us < _MIN_US) | (us > _MAX_US))


def _in_range(us: np.ndarray) -> np.ndarray:
    out = us if us.flags.writeable else us.copy()
    out[(out != NAT) & ((out < _MIN_US) | (out > _MAX_US))] = NAT
    return out


def _utc_us(times: pd.Series) -> np.ndarray:
    """int64 UTC microseconds of a tz-aware datetime column (a view when the unit is us)."""
    values = times.array
    if values.unit != "us":
        values = values.as_unit("us")
    return values.asi8


def _attribute_names(res: Resolved, columns: list[str]) -> dict[str, str]:
    """source column -> output column of every attribute, renamed when it would take the name of
    a column the log itself defines."""
    out = {}
    for src, name in res.attribute_columns(columns).items():
        out[src] = f"source:{name}" if name in CANONICAL else name
    return out


def _lifecycle_kinds(codes: Codes, res: Resolved) -> tuple[np.ndarray, list]:
    values = [str(v).strip().lower() for v in codes.value_list()]
    starts = set(res.lifecycle_values["start"])
    completes = set(res.lifecycle_values["complete"])
    table = np.array([lc.START if v in starts else lc.COMPLETE if v in completes else -1 for v in values] + [-2],
                     dtype=np.int64)
    kind = table[codes.codes]  # -1 unknown, -2 missing
    reasons = [(kind == -2, f"no lifecycle value in column '{res.lifecycle}'")]
    original = codes.value_list()
    for i in np.flatnonzero(table[:-1] == -1):
        reasons.append((codes.codes == i, f"lifecycle value {original[i]!r} in column '{res.lifecycle}' is "
                                          "neither a start nor a complete; list it under lifecycle_values"))
    return kind, reasons


def sort_order(case: np.ndarray, time: np.ndarray, seq: np.ndarray | None = None) -> np.ndarray:
    """Stable order by case, time (and sequence); equal keys keep their input (file) order.

    Case codes and times are packed into one int64 key when they fit, sorted with numpy's fast
    unstable sort, and runs of equal keys are put back in input order: much faster than a stable
    multi-key sort on millions of rows.
    """
    n = len(case)
    pos = np.arange(n)
    if n == 0:
        return pos
    if seq is not None:
        return np.lexsort((pos, seq, time, case))
    t0 = int(time.min())
    span = int(time.max()) - t0
    step = 1 << 20  # whole seconds? checked in slices: no full-size temporary
    whole = all(not np.any(time[i:i + step] % 1_000_000) for i in range(0, n, step))
    unit = 1_000_000 if whole else 1
    tbits = max((span // unit).bit_length(), 1)
    cbits = max(int(case.max()).bit_length(), 1)
    if tbits + cbits > 62:
        return np.lexsort((pos, time, case))
    # key = case << tbits | (time - t0) // unit, built in place (these arrays are large)
    key = time - t0
    if unit != 1:
        key //= unit
    high = case.astype(np.int64)
    high <<= tbits
    key |= high
    del high
    if np.all(key[1:] >= key[:-1]):
        return pos
    del pos
    order = np.argsort(key)
    ks = key[order]
    del key
    eq = ks[1:] == ks[:-1]
    del ks
    if eq.any():
        in_run = np.zeros(n, bool)
        in_run[1:] |= eq
        in_run[:-1] |= eq
        run_start = in_run & ~np.concatenate([[False], eq])
        run_id = np.cumsum(run_start)[in_run]
        sub = order[in_run]
        order[in_run] = sub[np.lexsort((sub, run_id))]
    return order


def _duplicates(data: Collected, keep: list[str], pos: np.ndarray, case: np.ndarray,
                time: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Positions of rows identical in every column read to an earlier row, and the position of
    that earlier row. `pos` are row positions sorted by case and time: only rows sharing case and
    time with a neighbour are compared."""
    empty = np.empty(0, np.int64), np.empty(0, np.int64)
    if pos.size < 2:
        return empty
    k_case, k_time = case[pos], time[pos]
    eq = (k_case[1:] == k_case[:-1]) & (k_time[1:] == k_time[:-1])
    del k_case, k_time
    if not eq.any():
        return empty
    cand = np.zeros(pos.size, bool)
    cand[1:] |= eq
    cand[:-1] |= eq
    cpos = np.sort(pos[cand])
    cols: dict[str, object] = {"__case": case[cpos], "__time": time[cpos]}
    for name in keep:
        if name in data.text:
            cols[name] = data.text[name].codes[cpos]
        elif name in data.typed:
            cols[name] = data.typed[name].take(pa.array(cpos)).to_pandas()
        elif name in data.times:
            cols[name] = data.times[name].us[cpos]
    frame = pd.DataFrame(cols, index=cpos)
    dup = frame.duplicated(keep="first")
    if not dup.any():
        return empty
    keys = list(frame.columns)
    firsts = frame[~dup].rename_axis("__first").reset_index()
    later = frame[dup].rename_axis("__pos").reset_index()
    merged = later.merge(firsts, on=keys, how="left").sort_values("__pos", kind="stable")
    return merged["__pos"].to_numpy(np.int64), merged["__first"].to_numpy(np.int64)


def _sequence(data: Collected, col: str, pos: np.ndarray) -> np.ndarray:
    if col in data.text:
        codes = data.text[col]
        vals = pd.to_numeric(pd.Series(codes.value_list(), dtype=object), errors="coerce").to_numpy(float)
        return np.append(vals, np.nan)[codes.codes[pos]]
    arr = data.typed[col]
    return pd.to_numeric(arr.take(pa.array(pos)).to_pandas(), errors="coerce").to_numpy(float)


def _categorical(codes: Codes, pos: np.ndarray, mapped: dict[str, str] | None = None) -> pd.Categorical:
    values = codes.values
    sub = codes.codes[pos]
    if mapped:
        targets = [mapped.get(v, v) for v in codes.value_list()]
        cats = sorted(set(targets))
        index = {c: i for i, c in enumerate(cats)}
        remap = np.array([index[t] for t in targets] + [-1], dtype=np.int64)
        sub, values = remap[sub], pa.array(cats, pa.string())
    used = np.bincount(sub[sub >= 0], minlength=len(values)) > 0
    if not used.all():
        # values only rejected rows had are not categories of the log (no empty groups later)
        remap = np.append(np.cumsum(used) - 1, -1).astype(sub.dtype)
        sub, values = remap[sub], values.filter(pa.array(used))
    dtype = pd.CategoricalDtype(pd.Index(pd.arrays.ArrowStringArray(values.cast(pa.string()))))
    return pd.Categorical.from_codes(sub, dtype=dtype, validate=False)


def _frame(data: Collected, res: Resolved, attrs: dict[str, str], end_pos: np.ndarray,
           start_pos: np.ndarray, tz: str) -> pd.DataFrame:
    """The log's columns at the event positions; each collected column is freed once used."""
    cols: dict[str, object] = {}
    cols[CASE] = _categorical(data.text.pop(res.case), end_pos)
    activity = data.text.pop(res.activity)
    label = _categorical(activity, end_pos)
    cols[ACTIVITY] = _categorical(activity, end_pos, res.labels) if res.labels else label
    del activity
    end_us = data.times[res.time].us
    cols[TIME] = _times(end_us[end_pos], tz)
    if res.start or res.lifecycle:
        if res.start:
            s = data.times[res.start].us[start_pos]
            s = np.where(s == NAT, end_us[end_pos], s)  # no readable start: the event has no length
        else:
            s = end_us[start_pos]
        cols[START] = _times(s, tz)
        del s
    if res.resource:
        cols[RESOURCE] = _categorical(data.text.pop(res.resource), end_pos)
    n = len(end_pos)
    for src, name in attrs.items():
        if src in data.text:
            codes = data.text.pop(src)
            if len(codes.values) <= CATEGORICAL_SHARE * max(n, 1):
                cols[name] = _categorical(codes, end_pos)
            else:
                cols[name] = pd.array(codes.text(end_pos), dtype="string")
        elif src in data.typed:
            arr = data.typed.pop(src).take(pa.array(end_pos))
            cols[name] = arr.to_pandas(types_mapper={pa.string(): pd.StringDtype()}.get)
    cols[ROW] = data.row(end_pos)
    if res.lifecycle:
        start_rows = pd.array(data.row(start_pos), dtype="Int64")
        start_rows[start_pos == end_pos] = pd.NA
        cols[START_ROW] = start_rows
    cols[LABEL] = label
    return pd.DataFrame(cols, copy=False)  # the columns are fresh: no second copy of the log


def _times(us: np.ndarray, tz: str) -> pd.Series:
    idx = pd.DatetimeIndex(us.view("datetime64[us]")).tz_localize("UTC").tz_convert(tz)
    return pd.Series(idx, copy=False)


def _strict_check(where: str, rejected: list, data: Collected, dup_pos: np.ndarray, dup_first: np.ndarray,
                  quality: dict, res: Resolved, end_pos: np.ndarray, refs=None) -> None:
    dropped = "exact duplicate of an earlier row (dropped)"  # reported below with the row it repeats
    problems: list[tuple[int, str]] = [next(((r, why) for r, why in rejected if why != dropped), (0, ""))]
    problems = [p for p in problems if p[0]]
    if dup_pos.size:
        first = int(np.argmin(dup_pos))
        problems.append((int(data.row(dup_pos[first:first + 1])[0]),
                         f"exact duplicate of row {int(data.row(dup_first[first:first + 1])[0])}"))
    lcq = quality.get("lifecycle")
    if lcq:
        if lcq["unmatched_start"]["count"]:
            problems.append((lcq["unmatched_start"]["rows"][0], "a lifecycle start that is never completed"))
        if lcq["unmatched_complete"]["count"]:
            problems.append((lcq["unmatched_complete"]["rows"][0], "a lifecycle complete without a start"))
    if res.labels is not None and end_pos.size:
        codes = data.text[res.activity]
        values = codes.value_list()
        unmapped = np.array([v not in res.labels for v in values] + [False])
        bad = np.sort(end_pos[unmapped[codes.codes[end_pos]]])
        if bad.size:
            label = values[codes.codes[bad[0]]]
            problems.append((int(data.row(bad[:1])[0]), f"the label {label!r} is not in the label table"))
    if problems:
        row, reason = min(problems)
        raise InputFileError(
            f"{where}, row {refs.ref(row) if refs else row}: {reason}. --strict stops at the first problem: fix the export "
            "(or the mapping), or read without --strict to keep going and list every problem."
        )


def _mapping_record(res: Resolved, times: Times) -> dict:
    out = {k: v for k, v in res.roles.items()}
    if res.case_attributes:
        out["case_attributes"] = dict(res.case_attributes)
    if res.event_attributes:
        out["event_attributes"] = dict(res.event_attributes)
    out["time_format"] = res.time_format
    if times.order:
        out["date_order"] = times.order
    out["tz"] = res.tz
    out["duplicates"] = res.duplicates
    if res.labels is not None:
        out["labels"] = dict(res.labels)
    if res.lifecycle:
        out["lifecycle_values"] = {k: list(v) for k, v in res.lifecycle_values.items()}
    out["plausible_start"] = res.plausible_start.isoformat()
    return out


def _case_attribute_conflicts(data: Collected, res: Resolved, pos: np.ndarray) -> list[dict]:
    """Case attributes whose value changes within a case (values are kept as recorded)."""
    out = []
    case_codes = data.text[res.case]
    case = case_codes.codes[pos].astype(np.int64)
    for src, name in res.case_attributes.items():
        if src in data.text:
            vals = data.text[src].codes[pos].astype(np.int64)
        elif src in data.typed:
            vals = pd.factorize(data.typed[src].take(pa.array(pos)).to_pandas())[0].astype(np.int64)
        else:
            continue
        ok = vals >= 0
        pairs = np.unique((case[ok] << 32) | vals[ok])
        per_case = np.bincount(pairs >> 32, minlength=len(case_codes.values))
        bad = np.flatnonzero(per_case > 1)
        if bad.size:
            out.append({"attribute": name, "count": int(bad.size),
                        "cases": case_codes.values.take(pa.array(bad[:100])).to_pylist()})
    return out
