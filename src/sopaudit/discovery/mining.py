"""The tables of the actual workflow of an event log: directly-follows graph, variants,
activity counts and filters. (`models.py` has the pm4py miners and their quality,
`processmap.py` the drawable process map and `discover`.)

The event log is a plain pandas DataFrame with pm4py's column names (``case:concept:name``,
``concept:name``, ``time:timestamp``). Events of a case are ordered by timestamp; events with
the same timestamp keep their order in the DataFrame (a stable sort), which is pm4py's order
for a log read with ``pm4py.read_xes``. Counts equal pm4py's ``discover_dfg`` and
``get_variants`` on the same log; the code is vectorised numpy/pandas so it stays fast on
large logs.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from sopaudit.core.errors import EventLogError
from sopaudit.discovery.grouped import distinct, group_order, group_quantiles

__all__ = [
    "CASE",
    "ACTIVITY",
    "TIMESTAMP",
    "START",
    "END",
    "EventLogError",
    "activity_stats",
    "dfg",
    "discover_tables",
    "filter_log",
    "pm4py_view",
    "sort_log",
    "variants",
]

CASE = "case:concept:name"
ACTIVITY = "concept:name"
TIMESTAMP = "time:timestamp"
START = "▶"
"""Pseudo activity before the first event of every case (source of the start edges)."""
END = "■"
"""Pseudo activity after the last event of every case (target of the end edges)."""
VARIANT_SEP = " → "


# ---------------------------------------------------------------------------------------------
# Ordering


@dataclass(frozen=True)
class LogOrder:
    """The log's columns needed here, as numpy arrays in case/time order."""

    order: np.ndarray  # positions into the original log
    case_codes: np.ndarray  # case number per event (cases numbered by first appearance)
    case_ids: np.ndarray  # case id per case number
    act_codes: np.ndarray  # activity number per event
    activities: np.ndarray  # activity name per activity number (sorted)
    times: np.ndarray  # datetime64 per event
    starts: np.ndarray  # index of the first event of each case (in sorted arrays)
    lengths: np.ndarray  # number of events per case


def _check(log: pd.DataFrame) -> None:
    if not isinstance(log, pd.DataFrame):
        raise EventLogError(f"the event log must be a pandas DataFrame, not {type(log).__name__}")
    missing = [c for c in (CASE, ACTIVITY, TIMESTAMP) if c not in log.columns]
    if missing:
        raise EventLogError(
            f"the event log has no column {', '.join(repr(m) for m in missing)}; "
            f"it has {list(log.columns)[:12]}. Read it with sopaudit's ingest or rename the "
            f"case, activity and timestamp columns to pm4py's names ({CASE}, {ACTIVITY}, "
            f"{TIMESTAMP})."
        )
    if not pd.api.types.is_datetime64_any_dtype(log[TIMESTAMP]):
        raise EventLogError(
            f"column {TIMESTAMP!r} holds {log[TIMESTAMP].dtype}, not date-times; parse it "
            f"first (e.g. pandas.to_datetime(..., utc=True))"
        )
    for col in (CASE, ACTIVITY, TIMESTAMP):
        bad = log[col].isna().to_numpy()
        if bad.any():
            rows = list(log.index[bad][:5])
            raise EventLogError(
                f"column {col!r} is empty in {int(bad.sum())} row(s) (first rows: {rows}); "
                f"fill or drop them explicitly before discovery"
            )


def _time_array(series: pd.Series) -> np.ndarray:
    """Timestamps as a naive datetime64 numpy array in UTC (any unit)."""
    if isinstance(series.dtype, pd.DatetimeTZDtype):
        series = series.dt.tz_convert("UTC").dt.tz_localize(None)
    return series.to_numpy()


def log_order(log: pd.DataFrame) -> LogOrder:
    """The log's case and time order as arrays (checked first), shared by the functions that
    need it; a caller that needs several of them sorts once and passes it on."""
    _check(log)
    case_codes_raw, case_ids = pd.factorize(log[CASE], sort=False)
    act_codes_raw, activities = pd.factorize(log[ACTIVITY], sort=True)
    times_raw = _time_array(log[TIMESTAMP])
    order = _case_time_order(case_codes_raw, times_raw.view("i8"))
    case_codes = case_codes_raw[order]
    n = len(order)
    if n:
        boundary = np.flatnonzero(np.diff(case_codes)) + 1
        starts = np.concatenate(([0], boundary))
    else:
        starts = np.zeros(0, dtype=np.int64)
    lengths = np.diff(np.concatenate((starts, [n])))
    return LogOrder(
        order=order,
        case_codes=case_codes,
        case_ids=np.asarray(case_ids, dtype=object),
        act_codes=act_codes_raw[order],
        activities=np.asarray(activities, dtype=object),
        times=times_raw[order],
        starts=starts,
        lengths=lengths,
    )


def _case_time_order(cases: np.ndarray, times: np.ndarray) -> np.ndarray:
    """The rows by case (codes of first appearance) and time, ties in row order (np.lexsort is
    stable); without the sort when the rows are in that order already, as a log read from a file
    or sorted by the audit usually is (one pass over the codes and times)."""
    if len(cases) > 1:
        same = cases[1:] == cases[:-1]
        if (same | (cases[1:] > cases[:-1])).all() and (times[1:][same] >= times[:-1][same]).all():
            return np.arange(len(cases))
    return np.lexsort((times, cases))


def sort_log(log: pd.DataFrame) -> pd.DataFrame:
    """A copy of the log sorted by case (in order of first appearance) and timestamp, ties kept
    in row order; the order every function here uses."""
    s = log_order(log)
    return log.iloc[s.order]


# ---------------------------------------------------------------------------------------------
# Directly-follows graph


def dfg(log: pd.DataFrame) -> pd.DataFrame:
    """Directly-follows edges of the log, one row per (source, target) pair.

    Columns: ``source``, ``target``, ``count`` (times the pair occurs), ``cases`` (distinct
    cases with it), ``median_wait_s`` and ``p90_wait_s`` (seconds between the two events,
    linear interpolation). Start and end activities are edges from :data:`START` and to
    :data:`END`; their ``count`` equals ``cases`` and they have no wait. Sorted by count
    (descending), then source and target, so the table is the same for the same log.
    """
    return _dfg(log_order(log))


def _dfg(s: LogOrder) -> pd.DataFrame:
    acts = s.activities
    if np.isin([START, END], acts).any():
        raise EventLogError(
            f"an activity is named {START!r} or {END!r}, which the process map uses for the "
            f"start and end of a case; rename that activity"
        )
    n_act = len(acts)
    n = len(s.order)
    nxt = np.flatnonzero(s.case_codes[1:] == s.case_codes[:-1]) if n > 1 else np.zeros(0, int)
    src = s.act_codes[nxt].astype(np.int64)
    tgt = s.act_codes[nxt + 1].astype(np.int64)
    waits = (s.times[nxt + 1] - s.times[nxt]) / np.timedelta64(1, "s")
    keys, edge_idx, counts = distinct(src * n_act + tgt, n_act * n_act)
    n_edges = len(keys)
    # cases with each edge: by edge, the case codes stay in (ascending) log order, so a case
    # that takes an edge twice is two neighbours
    by_edge = group_order(edge_idx, n_edges)
    e, c = edge_idx[by_edge], s.case_codes[nxt][by_edge]
    first_of_case = np.ones(len(e), dtype=bool)
    first_of_case[1:] = (e[1:] != e[:-1]) | (c[1:] != c[:-1])
    n_cases = np.bincount(e[first_of_case], minlength=n_edges)
    med, p90 = group_quantiles(edge_idx, waits.astype(float), n_edges, (0.5, 0.9))
    frame = pd.DataFrame(
        {
            "source": acts[keys // n_act] if n_edges else np.zeros(0, dtype=object),
            "target": acts[keys % n_act] if n_edges else np.zeros(0, dtype=object),
            "count": counts.astype(np.int64),
            "cases": n_cases.astype(np.int64),
            "median_wait_s": med,
            "p90_wait_s": p90,
        }
    )
    first_acts = np.bincount(s.act_codes[s.starts], minlength=n_act) if n else np.zeros(0, int)
    last_idx = s.starts + s.lengths - 1
    last_acts = np.bincount(s.act_codes[last_idx], minlength=n_act) if n else np.zeros(0, int)
    rows = []
    for counts_, is_start in ((first_acts, True), (last_acts, False)):
        nz = np.flatnonzero(counts_)
        rows.append(
            pd.DataFrame(
                {
                    "source": [START] * len(nz) if is_start else acts[nz],
                    "target": acts[nz] if is_start else [END] * len(nz),
                    "count": counts_[nz].astype(np.int64),
                    "cases": counts_[nz].astype(np.int64),
                    "median_wait_s": np.nan,
                    "p90_wait_s": np.nan,
                }
            )
        )
    out = pd.concat([frame, *rows], ignore_index=True)
    out["source"] = out["source"].astype(object)
    out["target"] = out["target"].astype(object)
    out = out.sort_values(
        ["count", "source", "target"], ascending=[False, True, True], kind="stable"
    )
    return out.reset_index(drop=True)


def activity_stats(log: pd.DataFrame) -> pd.DataFrame:
    """Per activity: ``events`` (occurrences), ``cases`` (distinct cases) and ``position``
    (where the activity first happens in its cases, from 0 = first event to 1 = last event,
    averaged: its typical place in the flow). Sorted by events (descending) then name."""
    return _activity_stats(log_order(log))


def _activity_stats(s: LogOrder) -> pd.DataFrame:
    n_act = len(s.activities)
    events = np.bincount(s.act_codes, minlength=n_act)
    key = s.case_codes.astype(np.int64) * max(n_act, 1) + s.act_codes
    # first occurrence of each activity in each case (np.unique gives the first index)
    _, first = np.unique(key, return_index=True)
    first_act = s.act_codes[first]
    cases = np.bincount(first_act, minlength=n_act)
    index_in_case = first - s.starts[s.case_codes[first]]
    span = np.maximum(s.lengths[s.case_codes[first]] - 1, 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        position = np.bincount(first_act, weights=index_in_case / span, minlength=n_act) / cases
    out = pd.DataFrame(
        {
            "activity": s.activities,
            "events": events.astype(np.int64),
            "cases": cases.astype(np.int64),
            "position": position,
        }
    )
    out["activity"] = out["activity"].astype(object)
    out = out.sort_values(["events", "activity"], ascending=[False, True], kind="stable")
    return out.reset_index(drop=True)


# ---------------------------------------------------------------------------------------------
# Variants


def _variant_ids(s: LogOrder) -> np.ndarray:
    """A variant number per case: cases with the same activity sequence get the same number.

    Built like a trie, one position at a time over all cases at once: the node of a case after
    k+1 events is numbered by the pair (its node after k events, its (k+1)-th activity). The
    loop runs over positions (the longest case), never over cases."""
    n_cases = len(s.starts)
    if n_cases == 0:
        return np.zeros(0, dtype=np.int64)
    n_act = max(len(s.activities), 1)
    node = np.zeros(n_cases, dtype=np.int64)
    alive = np.arange(n_cases)
    max_len = int(s.lengths.max())
    for k in range(max_len):
        alive = alive[s.lengths[alive] > k]
        key = node[alive] * n_act + s.act_codes[s.starts[alive] + k]
        _, node[alive] = np.unique(key, return_inverse=True)
    _, vid = np.unique(s.lengths.astype(np.int64) * (n_cases + 1) + node, return_inverse=True)
    return vid.astype(np.int64)


def _variant_table(s: LogOrder) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """The variants table in rank order, the variant number of each case, and the variant
    numbers in rank order."""
    vid = _variant_ids(s)
    n_cases = len(vid)
    n_var = int(vid.max()) + 1 if n_cases else 0
    counts = np.bincount(vid, minlength=n_var)
    # example case: the one that starts first (ties: first in the log)
    case_start = s.times[s.starts].view("i8") if n_cases else np.zeros(0, np.int64)
    pick = np.lexsort((np.arange(n_cases), case_start, vid))
    first_of = np.concatenate(([True], vid[pick][1:] != vid[pick][:-1])) if n_cases else pick
    example = np.empty(n_var, dtype=np.int64)
    example[vid[pick][first_of]] = pick[first_of]
    # all example sequences in one gather, then cut into one tuple per variant
    ex_len = s.lengths[example]
    ex_end = np.cumsum(ex_len)
    idx = np.arange(int(ex_end[-1]) if n_var else 0) - np.repeat(ex_end - ex_len, ex_len)
    idx += np.repeat(s.starts[example], ex_len)
    names = s.activities[s.act_codes[idx]].tolist()
    bounds = np.concatenate(([0], ex_end)).tolist()
    tuples = [tuple(names[a:b]) for a, b in zip(bounds[:-1], bounds[1:], strict=True)]
    texts = [VARIANT_SEP.join(map(str, t)) for t in tuples]
    counts_list = counts.tolist()
    # rank order: count descending, then variant text (a loop over variants, not cases)
    rank = sorted(range(n_var), key=lambda i: (-counts_list[i], texts[i]))
    order = np.asarray(rank, dtype=np.int64)
    total = max(n_cases, 1)
    ranked_counts = counts[order].astype(np.int64)
    table = pd.DataFrame(
        {
            "rank": np.arange(1, n_var + 1, dtype=np.int64),
            "variant": [texts[i] for i in rank],
            "activities": [tuples[i] for i in rank],
            "length": s.lengths[example[order]].astype(np.int64),
            "count": ranked_counts,
            "share": ranked_counts / total,
            "cumulative_share": np.cumsum(ranked_counts) / total,
            "example_case": s.case_ids[example[order]] if n_var else np.zeros(0, dtype=object),
        }
    )
    return table, vid, order


def variants(log: pd.DataFrame) -> pd.DataFrame:
    """Variants (distinct activity sequences) of the log with how many cases follow each.

    Columns: ``rank`` (1 = most frequent), ``variant`` (activities joined by " → "),
    ``activities`` (the tuple), ``length``, ``count``, ``example_case`` (the case of that
    variant that starts first), ``share`` and ``cumulative_share`` of cases. Sorted by count
    (descending) then variant text, so ties are broken the same way every time.
    """
    return _variants(log_order(log))


def _variants(s: LogOrder) -> pd.DataFrame:
    return _variant_table(s)[0]


# ---------------------------------------------------------------------------------------------
# Filters


def _as_log_time(value: Any, log: pd.DataFrame, name: str) -> pd.Timestamp:
    try:
        ts = pd.Timestamp(value)
    except (ValueError, TypeError) as exc:
        raise EventLogError(f"{name}={value!r} is not a date or time: {exc}") from exc
    tz = getattr(log[TIMESTAMP].dtype, "tz", None)
    if ts.tzinfo is None and tz is not None:
        ts = ts.tz_localize(tz)
    elif ts.tzinfo is not None and tz is None:
        raise EventLogError(
            f"{name}={value!r} has a time zone but the log's timestamps have none; "
            f"pass a date without time zone"
        )
    return ts


def filter_log(
    log: pd.DataFrame,
    start: Any = None,
    end: Any = None,
    attribute: str | None = None,
    values: Any = None,
    variant_coverage: float | None = None,
) -> pd.DataFrame:
    """Keep whole cases that pass every given filter; the input is never modified.

    - ``start``/``end``: cases whose first event is at or after ``start`` and before ``end``
      (dates without a time zone are read in the log's time zone);
    - ``attribute``/``values``: cases with at least one event whose ``attribute`` is one of
      ``values`` (a single value or a list); for a case attribute that is simply its value;
    - ``variant_coverage``: after the filters above, only the most frequent variants (in
      :func:`variants` order) that together cover at least this share of the cases.

    Returns the kept rows in their original order, with their original index.
    """
    _check(log)
    keep = np.ones(len(log), dtype=bool)
    case_col = log[CASE]
    if start is not None or end is not None:
        first = log.groupby(CASE, sort=False)[TIMESTAMP].transform("min")
        if start is not None:
            keep &= (first >= _as_log_time(start, log, "start")).to_numpy()
        if end is not None:
            keep &= (first < _as_log_time(end, log, "end")).to_numpy()
    if attribute is not None:
        if attribute not in log.columns:
            raise EventLogError(
                f"filter attribute {attribute!r} is not a column of the log; "
                f"columns are {list(log.columns)}"
            )
        if values is None:
            raise EventLogError(f"filter on {attribute!r} needs values=[...] to keep")
        if isinstance(values, str) or not isinstance(values, Iterable):
            values = [values]
        hit = log[attribute].isin(list(values))
        cases_hit = pd.unique(case_col[hit.to_numpy()])
        keep &= case_col.isin(cases_hit).to_numpy()
    elif values is not None:
        raise EventLogError("values= given without attribute=; name the column to filter on")
    if variant_coverage is not None:
        if not 0 < float(variant_coverage) <= 1:
            raise EventLogError(
                f"variant_coverage={variant_coverage!r} must be a share of cases in (0, 1]"
            )
        sub = log[keep]
        if len(sub):
            s = log_order(sub)
            table, vid, ranked_vids = _variant_table(s)
            # smallest number of top variants whose cumulative share reaches the coverage
            n_top = (
                int(np.searchsorted(table["cumulative_share"].to_numpy(), variant_coverage - 1e-12))
                + 1
            )
            kept_vids = ranked_vids[:n_top]
            case_ok = np.isin(vid, kept_vids)
            event_ok = np.empty(len(sub), dtype=bool)
            event_ok[s.order] = case_ok[s.case_codes]
            keep[np.flatnonzero(keep)] = event_ok
    return log[keep].copy()


def discover_tables(log: pd.DataFrame, s: LogOrder | None = None) -> dict[str, Any]:
    """dfg, variants and activity tables of a log with its case and event counts, from one sort
    (`s`: the log's sort when the caller has made it, :func:`log_order`)."""
    s = s if s is not None else log_order(log)
    return {"dfg": _dfg(s), "variants": _variants(s), "activities": _activity_stats(s),
            "n_cases": int(len(s.starts)), "n_events": int(len(s.order))}


# ---------------------------------------------------------------------------------------------
# The view pm4py needs


def pm4py_view(log: pd.DataFrame) -> pd.DataFrame:
    """The three columns pm4py needs, in our case/time order, with empty attrs; case and
    activity as plain strings (pm4py refuses categorical or other non-string columns)."""
    s = log_order(log)
    view = log.iloc[s.order][[CASE, ACTIVITY, TIMESTAMP]].reset_index(drop=True)
    view.attrs = {}
    for col in (CASE, ACTIVITY):
        view[col] = view[col].astype(str).astype(object)
    return view
